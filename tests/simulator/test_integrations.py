"""callsim run --integration: our core, a Python callable, and a running web service."""
import json
import re
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from simulator.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "first_match"
SCENARIOS = ROOT / "scenarios"
PASSES = str(SCENARIOS / "matching" / "contact_phone_fields.yaml")      # any first match is right
PRIORITY = str(SCENARIOS / "matching" / "owners" / "owners_c_l.yaml")   # a Contact and a Lead share it


@pytest.fixture
def in_example(monkeypatch):
    """Run from examples/first_match, as its README says."""
    monkeypatch.chdir(EXAMPLE)
    monkeypatch.syspath_prepend(str(EXAMPLE))


def run(*args):
    return CliRunner().invoke(main, ["run", *args])


def serve(app):
    """``app`` on a free loopback port in a background thread; returns (url, stop)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        thread.join(5)
    return f"http://127.0.0.1:{server.server_port}/aircall", stop


def test_builtin_is_the_default_and_can_be_named():
    assert run(PRIORITY).exit_code == 0
    assert run(PRIORITY, "--integration", "builtin").exit_code == 0


def test_a_python_function_is_called_with_a_client_on_the_scenario_org(in_example):
    result = run(PASSES, "--integration", "first_match:log_call")
    assert result.exit_code == 0, result.output
    assert "11/11" in result.output


def test_a_failure_of_the_example_shows_expected_versus_actual(in_example):
    result = run(PRIORITY, "--integration", "first_match:log_call", "--format", "markdown")
    assert result.exit_code == 1
    rows = {tuple(c.strip() for c in line.strip("|").split("|"))
            for line in result.output.splitlines() if line.startswith("|")}
    assert ("contact", "Past Activities", "c1", "(none)", "**FAIL**") in rows
    assert ("lead", "Past Activities", "(none)", "c1", "**FAIL**") in rows
    who = next(r for r in rows if r[:3] == ("task", "c1", "WhoId"))
    assert who[3].startswith("003") and who[4].startswith("00Q")   # expected the Contact, got the Lead
    assert ("task", "c1", "Subject") in {r[:3] for r in rows}


def test_the_example_readme_shows_the_report_as_generated(in_example):
    result = run(PRIORITY, "--integration", "first_match:log_call", "--format", "markdown")
    readme = (EXAMPLE / "README.md").read_text()
    excerpt = re.search(r"<!-- report -->\n(.*?)<!-- /report -->", readme, re.S).group(1)
    assert excerpt.strip() and excerpt.strip() in result.output


def test_a_class_with_handle(tmp_path, monkeypatch):
    (tmp_path / "class_integration.py").write_text(
        "class Logger:\n"
        "    calls = 0\n"
        "    def handle(self, sf, webhook):\n"
        "        Logger.calls += 1\n"
        "        if webhook['token'] != 'callsim-scenario-token':\n"
        "            raise ValueError('bad token')\n"
        "        if webhook['event'] == 'call.ended':\n"
        "            sf.Task.create({'Subject': 'Call', 'Status': 'Completed'})\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "class_integration", raising=False)
    result = run(PASSES, "--integration", "class_integration:Logger")
    assert result.exit_code == 1
    assert "6/11" in result.output   # five Tasks (task_count passes) on no record: 5 timelines fail
    assert sys.modules["class_integration"].Logger.calls == 5


def test_an_exception_in_the_integration_is_a_refused_delivery(tmp_path, monkeypatch):
    (tmp_path / "boom.py").write_text("def log(sf, webhook):\n    raise RuntimeError('no phone column')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "boom", raising=False)
    result = run(PASSES, "--integration", "boom:log")
    assert result.exit_code == 1
    assert "RuntimeError: no phone column" in result.output


@pytest.mark.parametrize("target, message", [
    ("no_such_module:log", "module 'no_such_module' not found"),
    ("first_match:nothing", "first_match has no attribute 'nothing'"),
    ("first_match:__doc__", "is a str, not callable"),
    ("first_match", "expected module:function"),
    ("http://127.0.0.1:9/aircall", "cannot reach the integration at http://127.0.0.1:9/aircall"),
])
def test_a_bad_target_exits_4_saying_why(in_example, target, message):
    result = run(PASSES, "--integration", target)
    assert result.exit_code == 4, result.output
    assert message in result.output


def test_exit_code_4_is_documented():
    assert "4  the --integration TARGET cannot be used" in run("--help").output


def test_a_web_service_gets_each_webhook_and_the_org_through_the_handshake(in_example, tmp_path, monkeypatch):
    handshake = tmp_path / "org.json"
    monkeypatch.setenv("CALLSIM_HANDSHAKE", str(handshake))
    monkeypatch.delitem(sys.modules, "service", raising=False)
    import service

    url, stop = serve(service.app)
    try:
        passing = run(PASSES, "--integration", url, "--handshake", str(handshake), "--quiet-period", "0.1")
        failing = run(PRIORITY, "--integration", url, "--handshake", str(handshake), "--quiet-period", "0.1",
                      "--format", "markdown")
    finally:
        stop()
    assert passing.exit_code == 0, passing.output
    assert failing.exit_code == 1
    assert re.search(r"\| lead +\| Past Activities \| \(none\) +\| c1 ", failing.output)
    org = json.loads(handshake.read_text())
    assert org["instance_url"].startswith("https://") and org["webhook_token"] == "callsim-scenario-token"
    assert Path(org["ca_file"]).name == "fake-salesforce.crt"


def test_5xx_is_retried_and_4xx_is_a_refusal(in_example, tmp_path, monkeypatch):
    monkeypatch.setenv("CALLSIM_HANDSHAKE", str(tmp_path / "org.json"))
    monkeypatch.delitem(sys.modules, "service", raising=False)
    import service

    import first_match

    seen = []

    @Request.application
    def flaky(request):
        webhook = request.get_json()
        seen.append(webhook["data"]["id"])
        if seen.count(seen[-1]) == 1:      # every webhook fails once
            return Response("busy", status=503)
        first_match.log_call(service.connect()[0], webhook)
        return Response("ok")
    url, stop = serve(flaky)
    try:
        result = run(PASSES, "--integration", url, "--handshake", str(tmp_path / "org.json"),
                     "--quiet-period", "0.1")
    finally:
        stop()
    assert result.exit_code == 0, result.output
    assert len(seen) == 10 and len(set(seen)) == 5

    @Request.application
    def refusing(request):
        return Response("unknown account", status=422)
    url, stop = serve(refusing)
    try:
        result = run(PASSES, "--integration", url, "--handshake", str(tmp_path / "org.json"),
                     "--format", "markdown", "--quiet-period", "0.1")
    finally:
        stop()
    assert result.exit_code == 1
    assert "HTTP 422: unknown account" in result.output


def test_the_runner_waits_until_the_org_settles(in_example, tmp_path, monkeypatch):
    """The service answers at once and logs later: the checks wait for its writes."""
    monkeypatch.setenv("CALLSIM_HANDSHAKE", str(tmp_path / "org.json"))
    monkeypatch.delitem(sys.modules, "service", raising=False)
    import service
    import first_match

    @Request.application
    def later(request):
        webhook = request.get_json()
        sf, _ = service.connect()

        def log():
            time.sleep(0.3)
            first_match.log_call(sf, webhook)
        threading.Thread(target=log).start()
        return Response("queued", status=202)
    url, stop = serve(later)
    try:
        settled = run(PASSES, "--integration", url, "--handshake", str(tmp_path / "org.json"),
                      "--quiet-period", "0.6")
    finally:
        stop()
    assert settled.exit_code == 0, settled.output


README = (ROOT / "README.md").read_text()


def _section_commands(start: str) -> list[list[str]]:
    """The bash blocks of the README's "Test your own integration" section, as argument lists."""
    import shlex

    section = README.split("## Test your own integration", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [[shlex.split(line) for line in block.splitlines()] for block in blocks if start in block]


def test_readme_function_commands_run_as_documented(in_example):
    (cd, passes, fails), = _section_commands("first_match:log_call")
    assert cd == ["cd", "examples/first_match"]
    assert run(*passes[2:]).exit_code == 0
    failing = run(*fails[2:])
    assert failing.exit_code == 1 and "WhoId" in failing.output


def test_readme_service_commands_run_as_documented(in_example, tmp_path, monkeypatch):
    (cd, start, command), = _section_commands("service.py")
    assert start[:2] == ["python", "service.py"] and cd == ["cd", "examples/first_match"]
    monkeypatch.setenv("CALLSIM_HANDSHAKE", str(tmp_path / "callsim-org.json"))
    monkeypatch.delitem(sys.modules, "service", raising=False)
    import service

    url, stop = serve(service.app)   # a free port rather than the README's 8099
    args = [a.replace("http://127.0.0.1:8099/aircall", url) for a in command[2:]]
    try:
        result = run(*args, "-k", "owners_c_l", "--handshake", str(tmp_path / "callsim-org.json"))
    finally:
        stop()
    assert result.exit_code == 1
    assert "Owners Contact + Lead - the Contact wins" in result.output


def test_a_handshake_in_a_folder_that_cannot_be_made_is_a_usage_error_before_any_scenario(tmp_path):
    """It used to be a traceback when the first scenario wrote the handshake."""
    def answer(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    url, stop = serve(answer)
    (tmp_path / "file").write_text("")
    handshake = tmp_path / "file" / "callsim-org.json"
    try:
        result = run(PRIORITY, "--integration", url, "--handshake", str(handshake))
    finally:
        stop()
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    assert f"Invalid value for --handshake: cannot create the folder of {handshake}" in result.output
