"""Parity mode (`callsim run --org real`), proved without a real org: against
`fake-salesforce serve --no-control --tls`, logged into through plain simple-salesforce (sflogin,
no fake-specific transport). The whole scenario library passes; nothing reaches `/_fake/`
(the server's access log says so, and the server answers 404 there, which would fail the run);
every record a run creates is deleted, also when a scenario fails or the run is interrupted."""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from sflogin import login
from simulator.cli import main
from simulator.parity import skip_reason
from simulator.recording import compare, load_recording
from simulator.runner import Runner
from simulator.scenario import load_scenarios

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
RECENCY = SCENARIOS / "matching" / "same_type_contacts_recent_wins.yaml"
CLEANED = ("Account", "Contact", "Lead", "Case", "Opportunity", "OpportunityContactRole", "Task", "Event")
ENV = {k: v for k, v in os.environ.items() if not k.startswith("SF_")}


class Served:
    """`fake-salesforce serve --no-control --tls` in a subprocess, its access log in a file."""

    def __init__(self, folder: Path):
        self.log = folder / "access.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fake_salesforce.cli", "serve", "--no-control", "--tls", "--port", "0",
             "--cert-dir", str(folder)],
            stdout=subprocess.PIPE, stderr=self.log.open("w"), text=True, env=ENV)
        first = self.process.stdout.readline()
        match = re.search(r"listening on (https://\S+)", first)
        assert match, first
        self.url = match[1]
        self.cert = str(folder / "fake-salesforce.crt")
        self.credentials = ["--domain", self.url, "--username", "admin@example.com",
                            "--password", "password", "--verify", self.cert]

    def sf(self):
        return login(domain=self.url, username="admin@example.com", password="password",
                     verify=self.cert, env={})

    def mark(self) -> int:
        """Where the access log ends now."""
        return len(self.log.read_text().splitlines())

    def control_requests(self, since: int = 0) -> list[str]:
        return [line for line in self.log.read_text().splitlines()[since:] if "/_fake" in line]

    def records(self) -> dict[str, int]:
        sf = self.sf()
        counts = {name: sf.query(f"SELECT COUNT() FROM {name}")["totalSize"] for name in CLEANED}
        return {name: n for name, n in counts.items() if n}

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=20)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    server = Served(tmp_path_factory.mktemp("no-control"))
    yield server
    server.stop()


def callsim(*args, env=ENV, **options):
    return subprocess.run([sys.executable, "-m", "simulator.cli", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=ROOT, **options)


@pytest.fixture(scope="module")
def library_run(served, tmp_path_factory):
    """The whole library in parity mode, recorded; and the same on the in-process fake."""
    folder = tmp_path_factory.mktemp("recordings")
    parity = callsim("run", "scenarios", "--org", "real", *served.credentials, "--write-gap", "0.005",
                     "--record", folder / "parity", timeout=900)
    fake = callsim("run", "scenarios", "--record", folder / "fake", timeout=900)
    return parity, fake, folder


def library_skips() -> dict[str, str]:
    """The library's scenarios that need the control API, and why."""
    return {sc.name: reason for sc in load_scenarios([SCENARIOS]) if (reason := skip_reason(sc))}


def test_the_whole_library_passes_in_parity_mode_but_what_needs_the_control_api(library_run):
    parity, _, _ = library_run
    count = len(list(SCENARIOS.rglob("*.yaml")))
    skips = library_skips()
    assert 0 < len(skips) < 10
    assert parity.returncode == 0, parity.stdout[-3000:] + parity.stderr[-3000:]
    assert f"{count - len(skips)} passed, 0 failed" in parity.stdout
    listed = re.findall(r"^skipped: (.*) \(scenarios/.*\): (.*)$", parity.stderr, re.M)
    assert dict(listed) == skips


def test_parity_mode_never_touches_the_control_api(served, library_run):
    assert library_run[0].returncode == 0
    log = served.log.read_text()
    assert "POST /services/data/v59.0/sobjects/Contact/ 201" in log   # the log records every request
    assert served.control_requests() == []


def test_a_runner_that_uses_the_control_api_fails_against_that_server(served):
    """The detector works: the fake's own runner needs /_fake/, which answers 404 there."""
    result = Runner(served.url, verify=served.cert).run(load_scenarios([RECENCY])[0])
    assert not result.passed
    assert "cannot reset the org" in result.error and "404" in result.error
    assert any(line.startswith("POST /_fake/reset 404") for line in served.control_requests())


def test_parity_run_leaves_no_record_and_deactivates_its_users(served, library_run):
    parity = library_run[0]
    assert parity.returncode == 0
    assert served.records() == {}
    match = re.search(r"deleted (\d+) records the run created", parity.stderr)
    assert match and int(match[1]) > 100
    users = served.sf().query("SELECT Username, IsActive FROM User WHERE IsActive = true")["records"]
    assert [u["Username"] for u in users] == ["admin@example.com"]


def test_parity_run_prints_the_orgs_api_usage(library_run):
    match = re.search(r"(\d+) API requests made by this run; the org's API usage is (\d+)/(\d+) in "
                      r"the last 24 hours \(was (\d+) before the run\)", library_run[0].stderr)
    assert match, library_run[0].stderr[-2000:]
    made, used, limit, before = map(int, match.groups())
    # The org counts the run's requests but its login (and the first answer reports "before").
    assert limit == 100000 and made > 1000 and abs((used - before) - made) <= 2


def test_parity_recording_equals_the_fake_recording(library_run):
    parity, fake, folder = library_run
    assert fake.returncode == 0
    a, b = sorted((folder / "fake").glob("*.json")), sorted((folder / "parity").glob("*.json"))
    assert [p.name for p in a] == [p.name for p in b] and a
    fake_rec, parity_rec = load_recording(folder / "fake"), load_recording(folder / "parity")
    skips = library_skips()
    assert all(parity_rec[name]["skipped"].endswith(reason) for name, reason in skips.items())
    # Everything that ran recorded exactly what the in-process fake recorded.
    assert compare({k: v for k, v in fake_rec.items() if k not in skips},
                   {k: v for k, v in parity_rec.items() if k not in skips}) == []
    assert {row[0] for row in compare(fake_rec, parity_rec)} == set(skips)
    result = callsim("diff", folder / "fake", folder / "parity")
    assert result.returncode == 1
    assert f"in {len(skips)} scenarios (of {len(a)})" in result.stdout


def test_a_failing_scenario_is_cleaned_up_too(served, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(RECENCY.read_text().replace("newer: {past_activities: [before_edit]",
                                               "newer: {past_activities: [after_edit]"))
    result = callsim("run", bad, "--org", "real", *served.credentials, "--write-gap", "0.005")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL" in result.stdout
    assert served.records() == {}


def test_ctrl_c_deletes_what_the_run_created_then_exits_130(served):
    start = served.mark()
    # The writes are 30 s apart, so the run is still going when the signal comes, however slowly
    # a loaded machine lets this test see the first one (with 3 s it could finish first).
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator.cli", "run", str(RECENCY), "--org", "real", *served.credentials,
         "--write-gap", "30"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)
    sf = served.sf()
    deadline = time.monotonic() + 90   # a loaded machine starts Python slowly
    while not sf.query("SELECT COUNT() FROM Contact WHERE Department LIKE 'callsim-%'")["totalSize"]:
        assert time.monotonic() < deadline, "the run created no tagged Contact"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, out + err
    assert "interrupted after 0 scenarios" in err
    assert served.control_requests(since=start) == []
    assert re.search(r"deleted [1-9]\d* records? the run created", err)
    assert served.records() == {}


def test_a_scenario_that_needs_faults_is_skipped_with_its_reason(served, tmp_path):
    faulty = tmp_path / "faulty.yaml"
    text = re.sub(r"^name: .*$", "name: Lost answers", RECENCY.read_text(), count=1, flags=re.M)
    start = served.mark()
    faulty.write_text(text + "faults:\n  - {path: /services/data/*/sobjects/Task, "
                      "method: POST, kind: lose_answer}\n")
    result = callsim("run", faulty, RECENCY, "--org", "real", *served.credentials, "--write-gap", "0.005",
                     "--record", tmp_path / "rec")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (f"skipped: Lost answers ({faulty}): needs injected faults (faults:), which only the "
            "fake's control API can arm") in result.stderr
    assert "1 passed, 0 failed" in result.stdout
    recorded = [json.loads(p.read_text()) for p in (tmp_path / "rec").glob("*.json")]
    assert sum("skipped" in r for r in recorded) == 1
    assert served.control_requests(since=start) == []


def test_cleanup_deletes_records_tagged_by_an_earlier_run(served):
    sf = served.sf()
    contact = sf.Contact.create({"LastName": "Left behind", "Department": "callsim-0badf00d"})["id"]
    mine = sf.Contact.create({"LastName": "Not ours", "Department": "Sales"})["id"]
    result = CliRunner().invoke(main, ["cleanup", *served.credentials])
    assert result.exit_code == 0, result.output
    assert "found 1 Contact; deleted 1 record" in result.output
    left = {r["Id"] for r in sf.query("SELECT Id FROM Contact")["records"]}
    assert contact not in left and mine in left
    sf.Contact.delete(mine)


@pytest.mark.parametrize("args, hint", [
    (["--org", "real", "--server", "http://127.0.0.1:9"], "--server"),
    (["--org", "real", "-n", "2"], "-n/--workers"),
    (["--username", "someone@example.com"], "--username"),
])
def test_options_that_do_not_go_together_are_refused(args, hint):
    result = CliRunner().invoke(main, ["run", str(RECENCY), *args], env={k: None for k in os.environ if k.startswith("SF_")})
    assert result.exit_code == 2, result.output
    assert hint in result.output


def test_readme_parity_commands_run(served, tmp_path):
    """The README's parity-mode block, run in order as written, with the SF_* variables set for
    the no-control fake (REQUESTS_CA_BUNDLE trusting its certificate)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("### Parity mode", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "workflow").symlink_to(SCENARIOS / "workflow", target_is_directory=True)
    env = {**ENV, "SF_DOMAIN": served.url, "SF_USERNAME": "admin@example.com", "SF_PASSWORD": "password",
           "REQUESTS_CA_BUNDLE": served.cert, "CALLSIM_WRITE_GAP": "0.005"}
    start = served.mark()
    outputs = []
    for line in block.strip().splitlines():
        words = line.split()
        assert words[0] == "callsim", line
        done = subprocess.run([sys.executable, "-m", "simulator.cli", *words[1:]], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, (line, done.stdout[-2000:], done.stderr[-2000:])
        outputs.append(done.stdout + done.stderr)
    assert len(outputs) == 4
    assert "no differences (" in outputs[2]
    assert "found nothing; deleted 0 records" in outputs[3]
    assert served.control_requests(since=start) == [] and served.records() == {}


def test_an_org_that_does_not_answer_exits_3_and_a_refused_login_1(served):
    no_sf = {k: None for k in os.environ if k.startswith("SF_")}
    result = CliRunner().invoke(main, ["run", str(RECENCY), "--org", "real", "--domain", "https://127.0.0.1:9",
                                       "--username", "a@example.com", "--password", "x"], env=no_sf)
    assert result.exit_code == 3, result.output
    args = ["run", str(RECENCY), "--org", "real", *served.credentials]
    args[args.index("password", args.index("--password"))] = "wrong"
    result = CliRunner().invoke(main, args, env=no_sf)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output


def test_users_are_reused_by_later_runs_as_the_scenario_left_them_deactivated(served):
    owners = SCENARIOS / "task_fields" / "owner_mapping.yaml"
    changed = SCENARIOS / "task_fields" / "owner_user_changed_between_calls.yaml"
    users = "SELECT Id, Username, IsActive FROM User WHERE Username LIKE '%.callsim-%'"
    seen = []
    for _ in range(2):
        result = callsim("run", owners, changed, "--org", "real", *served.credentials, "--write-gap", "0.005")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        rows = served.sf().query(users)["records"]
        assert rows and not any(r["IsActive"] for r in rows)
        seen.append(sorted(r["Id"] for r in rows))
    assert seen[0] == seen[1]
