"""`callsim run --record DIR` and `callsim diff A B`: recordings that diff cleanly, and the
differences of two as a table (exit 1), none (exit 0), or bad input (exit 2)."""
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import main

ROOT = Path(__file__).resolve().parents[2]
MATCHING = ROOT / "scenarios" / "matching" / "owners"
UNKNOWN = ROOT / "scenarios" / "unknown_numbers"
SALESFORCE_ID = re.compile(r"\b(00Q|003|001|00T|500|005)[A-Za-z0-9]{12}([A-Za-z0-9]{3})?\b")


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    out = tmp_path_factory.mktemp("rec") / "a"
    result = invoke("run", UNKNOWN, "--record", out)
    assert result.exit_code == 0, result.output
    return out


def test_record_writes_one_sorted_json_file_per_scenario(recording):
    files = sorted(recording.glob("*.json"))
    assert len(files) == len(list(UNKNOWN.rglob("*.yaml")))
    for path in files:
        text = path.read_text()
        data = json.loads(text)
        assert data["format"] == "callsim-recording/1"
        assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_a_recording_names_records_by_ref_and_holds_no_org_ids(recording):
    texts = [p.read_text() for p in recording.glob("*.json")]
    # No Salesforce Id (a Lead, Contact, Account, Task, Case or User key prefix) appears.
    assert not any(SALESFORCE_ID.search(t) for t in texts)
    created = [json.loads(t)["created"] for t in texts if json.loads(t)["created"]]
    assert created, "the unknown-number scenarios create records"
    names = {name for c in created for name in c}
    assert any(name.startswith("@") for name in names)  # found by expect.records: its ref
    tasks = [task for t in texts for tasks in json.loads(t)["tasks"].values() for task in tasks]
    assert tasks and all("Id" not in task and "CreatedDate" not in task for task in tasks)
    assert all(task["WhoId"] is None or task["WhoId"].startswith(("@", "new ")) for task in tasks)


def test_two_recordings_of_the_same_run_have_no_differences(recording, tmp_path):
    again = tmp_path / "b"
    assert invoke("run", UNKNOWN, "--record", again).exit_code == 0
    result = invoke("diff", recording, again)
    assert result.exit_code == 0, result.output
    assert "no differences" in result.output


def test_diff_prints_each_difference_as_a_row_and_exits_1(recording, tmp_path):
    changed = tmp_path / "changed"
    changed.mkdir()
    for path in recording.glob("*.json"):
        (changed / path.name).write_text(path.read_text())
    victim = sorted(changed.glob("*.json"))[0]
    data = json.loads(victim.read_text())
    event, tasks = next(iter(data["tasks"].items()))
    tasks[0]["Status"] = "Not Started"
    victim.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    sorted(changed.glob("*.json"))[1].unlink()

    result = invoke("diff", recording, changed)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    row = next(line for line in lines if f"tasks.{event}[0].Status" in line)
    assert '"Completed"' in row and '"Not Started"' in row
    assert data["scenario"][:20] in row
    assert any("(scenario)" in line and "recorded" in line and "(absent)" in line for line in lines)
    assert "2 differences in 2 scenarios" in result.output


@pytest.mark.parametrize("make, message", [
    (lambda d: None, "not a directory"),
    (lambda d: d.mkdir(), "no recording in it"),
    (lambda d: (d.mkdir(), (d / "x.json").write_text("{nope")), "not valid JSON"),
    (lambda d: (d.mkdir(), (d / "x.json").write_text('{"a": 1}')), "not a callsim recording"),
])
def test_diff_refuses_what_is_not_a_recording_with_exit_2(recording, tmp_path, make, message):
    bad = tmp_path / "bad"
    make(bad)
    for args in ((recording, bad), (bad, recording)):
        result = invoke("diff", *args)
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert "Traceback" not in result.output


def test_record_is_refused_with_parallel_workers(tmp_path):
    result = invoke("run", MATCHING, "--record", tmp_path / "r", "-n", "2")
    assert result.exit_code == 2
    assert "--record" in result.output
