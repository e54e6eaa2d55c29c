"""`callsim` as a new user meets it: exit codes, a server org it must not wipe unasked, help
text, the webhook receiver's log, and reports that read well on a terminal."""
import json
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

import fake_salesforce
from fake_salesforce.server import FakeServer
from simulator.cli import main
from simulator.aircall import call_webhook
from simulator.scenario import load_scenarios

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
LIBRARY_SCENARIO = ROOT / "scenarios" / "matching" / "owners" / "owners_c_l.yaml"


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def single_line_error(result) -> str:
    """The one clear line a user gets instead of a traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.output


# -- callsim run --server: it resets the org, so it asks first -------------------------------------
@pytest.fixture
def server():
    with FakeServer() as s:
        yield s


def test_run_refuses_to_reset_an_org_holding_records_without_reset_ok(server):
    sf = fake_salesforce.connect(server.url)
    sf.Contact.create({"LastName": "Mine", "Phone": "+33612345678"})
    sf.Lead.create({"LastName": "Also mine", "Company": "Acme"})
    result = invoke("run", LIBRARY_SCENARIO, "--server", server.url)
    assert result.exit_code == 2
    assert f"the org at {server.url} holds records (1 Contact, 1 Lead)" in result.output
    assert "--reset-ok" in result.output
    assert sf.query("SELECT Id FROM Contact WHERE LastName = 'Mine'")["totalSize"] == 1


def test_run_with_reset_ok_resets_the_org_and_leaves_it_fresh(server):
    sf = fake_salesforce.connect(server.url)
    sf.Contact.create({"LastName": "Mine"})
    result = invoke("run", LIBRARY_SCENARIO, "--server", server.url, "--reset-ok")
    assert result.exit_code == 0, result.output
    sf = fake_salesforce.connect(server.url)  # the reset ended the old session
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    assert sf.query("SELECT COUNT() FROM Task")["totalSize"] == 0
    # What callsim leaves behind is a fresh org: the next run needs no --reset-ok.
    again = invoke("run", LIBRARY_SCENARIO, "--server", server.url)
    assert again.exit_code == 0, again.output


def test_the_reset_is_said_in_help_and_readme():
    help_text = " ".join(invoke("run", "--help").output.split())
    assert "RESET (every record deleted) before each scenario" in help_text
    assert "--reset-ok" in help_text
    assert "--reset-ok" in README and "resets the org" in README


# -- exit codes ---------------------------------------------------------------------------------
def test_a_server_that_stops_answering_during_the_run_exits_3(server, monkeypatch):
    from simulator.runner import Runner

    run_all = Runner.run_all

    def run_then_stop(self, *args, **kwargs):
        results = run_all(self, *args, **kwargs)
        server.stop()
        return results

    monkeypatch.setattr(Runner, "run_all", run_then_stop)
    result = invoke("run", LIBRARY_SCENARIO, "--server", server.url)
    assert result.exit_code == 3
    assert f"Error: the org at {server.url} stopped answering during the run" in single_line_error(result)


def test_k_matching_nothing_exits_2():
    result = invoke("run", LIBRARY_SCENARIO, "-k", "nomatch")
    assert result.exit_code == 2
    assert "no scenarios to run (nothing matches -k 'nomatch')" in result.output


def test_an_unreachable_server_exits_3_not_1():
    result = invoke("run", LIBRARY_SCENARIO, "--server", "http://127.0.0.1:9")
    assert result.exit_code == 3
    assert single_line_error(result).strip() == (
        "Error: cannot reach the fake org at http://127.0.0.1:9: Connection refused "
        "(is `fake-salesforce serve` running there?)")


@pytest.mark.parametrize("url", ["foo", "ftp://x", "http://127.0.0.1:99999", "http://[::1"])
def test_a_server_that_is_not_a_url_is_a_usage_error(url):
    result = invoke("run", LIBRARY_SCENARIO, "--server", url)
    assert result.exit_code == 2
    assert "Invalid value for --server" in single_line_error(result)


def test_log_and_webhooks_exit_3_when_the_org_cannot_be_reached(tmp_path):
    event = tmp_path / "call.json"
    event.write_text(json.dumps(call_webhook()))
    result = invoke("log", event, "--fake", "http://127.0.0.1:9")
    assert result.exit_code == 3
    assert single_line_error(result).strip() == "Error: cannot reach http://127.0.0.1:9: Connection refused"
    result = invoke("webhooks", "--token", "t", "--fake", "http://127.0.0.1:9")
    assert result.exit_code == 3


def test_exit_codes_are_documented_in_help_and_readme():
    for command in ("run", "log", "webhooks"):
        help_text = invoke(command, "--help").output
        assert "Exit status:" in help_text
        assert re.search(r"^\s+3\s+the org (at --server )?cannot be reached", help_text, re.M), help_text
    run_help = invoke("run", "--help").output
    for code in "0123":
        assert re.search(rf"^\s+{code}\s+\w", run_help, re.M)
    section = README[README.index("## Exit status"):]
    for code in "0123":
        assert f"| {code} |" in section


def test_a_report_dir_that_cannot_be_made_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = invoke("run", LIBRARY_SCENARIO, "--report", blocker / "out")
    assert result.exit_code == 2
    assert "Invalid value for --report: cannot create" in single_line_error(result)


@pytest.mark.parametrize("args, code, message", [
    (["webhooks", "--token", "", "--fake", "{url}"], 2, "Invalid value for --token: must not be empty"),
    (["webhooks", "--token", "t", "--fake", "{url}", "--port", "{port}"], 1,
     "Error: cannot listen on 127.0.0.1:{port}: "),
    (["log", "{empty}", "--fake", "{url}"], 1, "an empty list: expected a webhook object"),
    (["log", "{empty}", "--fake", "{url}", "--verify", "/no/such.pem"], 2,
     "Invalid value for '--verify': Path '/no/such.pem' does not exist."),
], ids=["empty token", "busy port", "empty event list", "missing CA file"])
def test_bad_input_gets_one_clear_line(server, tmp_path, args, code, message):
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    port = str(server.url.rsplit(":", 1)[1])
    fill = {"url": server.url, "port": port, "empty": str(empty)}
    result = invoke(*[a.format(**fill) for a in args])
    assert result.exit_code == code, result.output
    assert message.format(**fill) in single_line_error(result)


# -- help text ----------------------------------------------------------------------------------
def test_callsim_help_lists_every_command_without_cutting_it_off():
    listing = invoke("--help").output.split("Commands:", 1)[1]
    lines = [line for line in listing.splitlines() if line.strip()]
    assert len(lines) == len(main.commands)
    assert not any(line.rstrip().endswith("...") for line in lines), listing


def test_every_option_has_help_and_url_shows_no_default():
    for name, command in main.commands.items():
        for param in command.params:
            if param.param_type_name == "option" and param.name != "help":
                assert param.help, f"callsim {name} {param.opts[0]} has no help text"
    help_text = invoke("log", "--help").output
    fake_help = help_text[help_text.index("--fake"):help_text.index("--username")]
    assert "(http" not in fake_help and "default" not in fake_help


def test_plurals():
    result = invoke("validate", LIBRARY_SCENARIO)
    assert "1 scenario file is valid" in result.output
    result = invoke("run", LIBRARY_SCENARIO)
    assert "(1 scenario, " in result.output


# -- the webhook receiver -----------------------------------------------------------------------
def line_reader(proc: subprocess.Popen):
    """``next_line()``: the process's next line of output, or "(nothing printed)" after 20 s."""
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()

    def next_line() -> str:
        try:
            return lines.get(timeout=20)
        except queue.Empty:
            return "(nothing printed)"

    return next_line


def test_webhooks_prints_one_line_per_delivery_and_stopped(server):
    fake_salesforce.connect(server.url).Contact.create({"LastName": "Martin", "Phone": "+33612345678"})
    proc = subprocess.Popen([sys.executable, "-m", "simulator.cli", "webhooks", "--fake", server.url,
                             "--token", "s3cret", "--port", "0"], stdout=subprocess.PIPE, text=True)
    next_line = line_reader(proc)
    try:
        endpoint = next_line().split(" on ", 1)[1].split(" ")[0]
        assert requests.post(endpoint, json=call_webhook(token="s3cret", call_id=77), timeout=10).ok
        logged = next_line()
        assert re.fullmatch(r"\d\d:\d\d:\d\d call\.ended call 77: 200 logged: Task 00T\w+ created "
                            r"on Contact 003\w+ \(\d+ ms\)\n", logged), logged
        assert requests.post(endpoint, json=call_webhook(token="wrong", call_id=78), timeout=10).status_code == 401
        assert "call.ended call 78: 401 invalid_token" in next_line()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    assert next_line() == "Stopped.\n"
    assert proc.returncode == 0


# -- reports ------------------------------------------------------------------------------------
def test_report_md_starts_with_the_summary(tmp_path):
    out = tmp_path / "out"
    result = invoke("run", LIBRARY_SCENARIO.parent, "--report", out)
    assert result.exit_code == 0, result.output
    lines = (out / "report.md").read_text().splitlines()
    assert lines[:3] == ["# Scenario report", "", "## Summary"]
    summary_end = next(n for n, line in enumerate(lines) if re.match(r"\d+ passed, \d+ failed", line))
    assert summary_end < lines.index("## Scenarios")
    assert "| file " in lines[4]  # the full table, file column included


def test_the_summary_of_the_library_run_fits_100_columns():
    result = invoke("run", ROOT / "scenarios")
    assert result.exit_code == 0, result.output
    widest = max(result.output.splitlines(), key=len)
    assert len(widest) <= 100, widest
    # Nothing is lost but the file column: every scenario's name is in the first column,
    # its continuation lines indented.
    header, _rule, *rows = result.output[result.output.index("\nscenario ") + 1:].splitlines()
    boundary = header.index("checks")
    names: list[str] = []
    for line in rows:
        if not line.strip():
            break
        cell = line[:boundary].rstrip()
        if cell.startswith("  "):
            names[-1] += " " + cell.strip()
        else:
            names.append(cell)
    expected = [" ".join(sc.name.split()) for sc in load_scenarios([ROOT / "scenarios"])]
    assert sorted(names) == sorted(expected)


# -- the README's receiver example, run as written (but on free ports) ------------------------------
def test_readme_webhooks_and_curl_examples_run(server):
    section = README[README.index("## The logging core on its own"):]
    receiver = next(line for line in section.splitlines() if line.startswith("callsim webhooks "))
    curl = next(line for line in section.splitlines() if line.startswith("curl "))
    argv = shlex.split(receiver.replace("http://127.0.0.1:8080", server.url))
    proc = subprocess.Popen([sys.executable, "-m", "simulator.cli", *argv[1:], "--port", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    next_line = line_reader(proc)
    try:
        port = next_line().split("http://127.0.0.1:", 1)[1].split("/")[0]
        sent = subprocess.run(curl.replace(":8090/", f":{port}/"), shell=True, cwd=ROOT,
                              capture_output=True, text=True, timeout=30)
        assert json.loads(sent.stdout)["logged"] is True, sent.stdout + sent.stderr
        assert ": 200 logged: Task 00T" in next_line()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)


def test_a_failing_scenario_with_long_values_fits_100_columns_and_the_report_keeps_them_whole(tmp_path):
    long = ("Inbound answered call from Carl Contact on the Main line, answered by Default Agent, "
            "who was expecting it all along")
    text = LIBRARY_SCENARIO.read_text()
    broken = re.sub(r"Subject: [^}]*}", f'Subject: "{long}"}}', text, count=1)
    assert broken != text
    path = tmp_path / "long.yaml"
    path.write_text(broken)
    result = invoke("run", path, "--report", tmp_path / "out")
    assert result.exit_code == 1, result.output
    tables = [line for line in result.output.splitlines() if not line.startswith(("FAIL  ", "wrote "))]
    assert max(len(line) for line in tables) <= 100, result.output  # the lines that name a path aside
    expected_cell = "".join(line.split("│")[4].strip() + " " for line in result.output.splitlines()
                            if line.startswith("│ ") and line.count("│") == 6)
    assert long in " ".join(expected_cell.split())
    assert f"| {long} |" in (tmp_path / "out" / "report.md").read_text()


# -- callsim run -n: scenarios in parallel processes ------------------------------------------------
def test_run_in_two_processes_gives_the_results_of_one(tmp_path):
    folder = ROOT / "scenarios" / "business_hours"
    one = invoke("run", folder, "--format", "json")
    two = invoke("run", folder, "--format", "json", "-n", "2")
    assert one.exit_code == two.exit_code == 0, two.output

    def verdicts(result):
        return [(s["name"], s["passed"], len(s["checks"])) for s in json.loads(result.output)["scenarios"]]

    assert verdicts(two) == verdicts(one) and len(verdicts(one)) > 1


def test_run_in_parallel_refuses_a_server(server):
    result = invoke("run", LIBRARY_SCENARIO, "-n", "2", "--server", server.url)
    assert result.exit_code == 2
    assert "-n/--workers" in single_line_error(result) and "drop -n or --server" in result.output


@pytest.mark.parametrize("option, value", [("--quiet-period", "nan"), ("--quiet-period", "inf"),
                                           ("--write-gap", "nan"), ("--write-gap", "1e400")])
def test_durations_that_are_not_finite_are_usage_errors(option, value):
    result = invoke("run", LIBRARY_SCENARIO, option, value)
    assert result.exit_code == 2, result.output
    assert f"'{value}' is not a finite number of seconds" in single_line_error(result)


@pytest.mark.parametrize("option, blocked", [("--report", "report.md"),
                                             ("--record", "owners-contact-lead-the-contact-wins.json")])
def test_an_output_file_that_cannot_be_written_is_one_usage_line(tmp_path, option, blocked):
    """A folder where a report or recording file goes used to end the run with a traceback."""
    folder = tmp_path / "out"
    (folder / blocked).mkdir(parents=True)
    result = invoke("run", LIBRARY_SCENARIO, option, folder)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for {option}: cannot write {folder / blocked}: Is a directory" in single_line_error(result)
