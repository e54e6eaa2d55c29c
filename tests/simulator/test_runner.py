"""The scenario runner, the reporter and `callsim run` / `callsim validate`, as users run them."""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from fake_salesforce.server import FakeServer
from simulator.cli import main
from simulator.report import render, scenario_report
from simulator.runner import Runner
from simulator.scenario import parse_scenario

PASSING = textwrap.dedent("""\
    name: Contact beats Lead
    description: A number shared by a Lead and a Contact is logged on the Contact.
    covers: [R4.2]
    org:
      users:
        - {ref: sam, FirstName: Sam, LastName: Agent, Email: sam@example.com}
      records:
        - {ref: bob, sobject: Lead, LastName: Stone, Company: Acme, Phone: "+33 6 12 34 56 78"}
        - {ref: alice, sobject: Contact, LastName: Martin, Phone: "+33612345678"}
    events:
      - call: {ref: c1, type: inbound_answered, external: "+33 6 12 34 56 78", agent: sam, duration: 95, wait: 12}
      - call: {ref: c2, type: missed, external: "+33 6 12 34 56 78"}
      - redeliver: c1
    expect:
      timelines:
        alice: {past_activities: [c1], next_steps: [c2]}
        bob: {past_activities: [], next_steps: []}
      tasks:
        c1:
          fields: {Status: Completed, WhoId: "@alice", OwnerId: "@sam", CallType: Inbound, CallDurationInSeconds: 95}
          description_contains: ["Wait time: 12 s"]
      task_count: 2
    """)
BROKEN = PASSING.replace("alice: {past_activities: [c1], next_steps: [c2]}",
                         "alice: {past_activities: [c1, c2], next_steps: []}")


@pytest.fixture(scope="module")
def runner():
    return Runner()


def test_a_scenario_passes_in_process(runner):
    result = runner.run(parse_scenario(PASSING, "passing.yaml"))
    assert result.passed, scenario_report(result)
    assert len(result.checks) == 11  # 4 timeline sections, 6 task checks, the count
    assert result.requests > 0


def test_a_broken_expectation_shows_expected_and_actual_side_by_side(runner):
    result = runner.run(parse_scenario(BROKEN, "broken.yaml"))
    assert not result.passed
    failed = {(c.subject, c.item): (c.expected, c.actual) for c in result.failures}
    assert failed == {("alice", "Past Activities"): (["c1", "c2"], ["c1"]),
                      ("alice", "Next Steps"): ([], ["c2"])}
    table = scenario_report(result)
    lines = [line for line in table.splitlines() if "alice" in line]
    assert any("Past Activities" in l and "c1, c2" in l and "FAIL" in l for l in lines), table
    assert any("Next Steps" in l and "(none)" in l and "c2" in l and "FAIL" in l for l in lines), table


def test_failed_field_checks_show_both_values(runner):
    text = PASSING.replace("CallDurationInSeconds: 95}", "CallDurationInSeconds: 96}")
    result = runner.run(parse_scenario(text, "field.yaml"))
    (failure,) = result.failures
    assert (failure.kind, failure.subject, failure.item, failure.expected, failure.actual) == \
           ("task", "c1", "CallDurationInSeconds", 96, 95)
    assert "Failed checks:" in scenario_report(result)


def test_same_results_over_http():
    with FakeServer() as server:
        http_runner = Runner(server.url)
        assert http_runner.run(parse_scenario(PASSING, "passing.yaml")).passed
        assert not http_runner.run(parse_scenario(BROKEN, "broken.yaml")).passed


def test_reruns_are_identical(runner):
    first = runner.run(parse_scenario(PASSING, "passing.yaml"))
    second = runner.run(parse_scenario(PASSING, "passing.yaml"))
    describe = lambda r: [(c.subject, c.item, c.actual) for c in r.checks]
    assert describe(first) == describe(second)
    assert [e.outcome.task_id for e in first.events] == [e.outcome.task_id for e in second.events]


def test_markdown_and_json_reports(runner):
    results = [runner.run(parse_scenario(PASSING, "a.yaml")), runner.run(parse_scenario(BROKEN, "b.yaml"))]
    md = render(results, "markdown")
    assert "| alice    | Past Activities | c1, c2" in md and "**FAIL**" in md
    data = json.loads(render(results, "json"))
    assert (data["passed"], data["failed"]) == (1, 1)
    assert data["scenarios"][1]["checks"][0]["kind"] == "timeline"


# -- the CLI ------------------------------------------------------------------------------------------
def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_run_exit_codes(tmp_path):
    good = _write(tmp_path, "good.yaml", PASSING)
    _write(tmp_path, "bad.yaml", BROKEN.replace("Contact beats Lead", "Broken copy"))
    cli = CliRunner()
    result = cli.invoke(main, ["run", str(good)])
    assert result.exit_code == 0, result.output
    assert "1 passed, 0 failed" in result.output
    result = cli.invoke(main, ["run", str(tmp_path)])
    assert result.exit_code == 1
    assert "FAIL  Broken copy" in result.output and "1 passed, 1 failed" in result.output


def test_run_invalid_file_exits_2_naming_the_key(tmp_path):
    _write(tmp_path, "typo.yaml", PASSING.replace("type: missed", "type: inbound"))
    result = CliRunner().invoke(main, ["run", str(tmp_path)])
    assert result.exit_code == 2
    assert "typo.yaml: events[1].call.type: 'inbound' is not one of outbound_answered" in result.output


def test_run_k_filter_and_report_dir(tmp_path):
    _write(tmp_path, "good.yaml", PASSING)
    _write(tmp_path, "bad.yaml", BROKEN.replace("Contact beats Lead", "Broken copy"))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(tmp_path), "-k", "beats", "--report", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "report.json").read_text())["passed"] == 1
    assert "Contact beats Lead" in (out / "report.md").read_text()


def test_run_json_format(tmp_path):
    good = _write(tmp_path, "good.yaml", PASSING)
    result = CliRunner().invoke(main, ["run", str(good), "--format", "json"])
    assert json.loads(result.output)["scenarios"][0]["passed"] is True


def test_run_with_server(tmp_path):
    good = _write(tmp_path, "good.yaml", PASSING)
    with FakeServer() as server:
        result = CliRunner().invoke(main, ["run", str(good), "--server", server.url])
    assert result.exit_code == 0, result.output


def test_run_with_unreachable_server(tmp_path):
    good = _write(tmp_path, "good.yaml", PASSING)
    result = CliRunner().invoke(main, ["run", str(good), "--server", "http://127.0.0.1:9"])
    assert result.exit_code == 3
    assert "cannot reach the fake org at http://127.0.0.1:9" in result.output


def test_validate_an_empty_folder_exits_2_as_run_does(tmp_path):
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 2
    assert f"no scenario files (*.yaml, *.yml) in {tmp_path}" in result.stderr


def test_validate(tmp_path):
    _write(tmp_path, "good.yaml", PASSING)
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 0 and "1 scenario file is valid" in result.output
    _write(tmp_path, "bad.yaml", "name: x\nevents: []\nextrenal: 1\n")
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 2
    assert "bad.yaml: extrenal: unknown key" in result.output


def test_pytest_collects_scenarios_and_shows_the_table(tmp_path):
    (tmp_path / "scenarios").mkdir()
    _write(tmp_path / "scenarios", "good.yaml", PASSING)
    _write(tmp_path / "scenarios", "bad.yaml", BROKEN.replace("Contact beats Lead", "Broken copy"))
    _write(tmp_path, "elsewhere.yaml", "not: a scenario\n")
    _write(tmp_path, "pytest.ini", "[pytest]\ncallsim_scenarios = scenarios\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert "1 failed, 1 passed" in result.stdout, result.stdout + result.stderr
    assert "Past Activities" in result.stdout and "c1, c2" in result.stdout


def test_datetimes_compare_as_instants(runner):
    text = PASSING.replace("CallDurationInSeconds: 95}", "CallDurationInSeconds: 95, CreatedDate: \"2026-11-02T09:00:00Z\"}")
    result = runner.run(parse_scenario(text, "dates.yaml"))
    assert result.passed, scenario_report(result)
    wrong = text.replace('CreatedDate: "2026-11-02T09:00:00Z"', 'CreatedDate: "2026-11-02T09:00:01Z"')
    (failure,) = runner.run(parse_scenario(wrong, "dates.yaml")).failures
    assert (failure.item, failure.actual) == ("CreatedDate", "2026-11-02T09:00:00.000+0000")


def test_a_broken_copy_of_a_library_scenario_fails_with_both_values(tmp_path):
    library = Path(__file__).resolve().parents[2] / "scenarios" / "matching" / "owners" / "owners_c_l.yaml"
    text = library.read_text()
    wrong = "lead: {past_activities: [c1], next_steps: []}"
    broken = text.replace("lead: {past_activities: [], next_steps: []}", wrong)
    assert broken != text
    copy = _write(tmp_path, "owners_c_l_broken.yaml", broken)
    result = CliRunner().invoke(main, ["run", str(copy)])
    assert result.exit_code == 1
    row = next(line for line in result.output.splitlines() if "│ lead" in line and "Past Activities" in line)
    cells = [c.strip() for c in row.strip("│").split("│")]
    assert cells == ["lead", "Past Activities", "c1", "(none)", "FAIL"]


@pytest.mark.parametrize("rule", [
    '{path: "/services/data/*/sobjects/Task", method: POST, error_code: UNABLE_TO_LOCK_ROW, times: 2}',
    '{path: "/services/data/*/sobjects/Task", method: POST, kind: lose_answer}',
    '{path: "/services/data/*/query", kind: error, error_code: SERVER_UNAVAILABLE, times: 1}'])
def test_scenario_faults_are_injected_and_the_scenario_still_passes(runner, rule):
    scenario = parse_scenario(PASSING.replace("\nexpect:\n", f"\nfaults:\n  - {rule}\nexpect:\n"),
                              "faults.yaml")
    assert len(scenario.faults) == 1
    result = runner.run(scenario)
    assert result.passed, scenario_report(result)
    log = runner.control.requests()
    task_posts = [e for e in log if e["method"] == "POST" and "/sobjects/Task" in e["path"]]
    if "UNABLE_TO_LOCK_ROW" in rule:
        assert [e.get("error_code") for e in task_posts][:2] == ["UNABLE_TO_LOCK_ROW"] * 2
    elif "lose_answer" in rule:
        assert len(task_posts) == 2  # the lost one (committed) and c2's; no second create for c1
    else:
        assert any(e.get("error_code") == "SERVER_UNAVAILABLE" for e in log)
    assert runner.control.faults() == []  # cleared after the events


def test_a_bad_fault_rule_is_a_scenario_error():
    with pytest.raises(Exception, match="faults"):
        parse_scenario(PASSING.replace("\nexpect:\n", "\nfaults:\n  - {kind: explode}\nexpect:\n"), "bad.yaml")
