"""The README's examples run, and every command line tool and command is documented there."""
import queue
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from fake_salesforce.cli import main as fake_main
from simulator.cli import main as callsim_main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_opens_with_the_two_commands():
    first_block = re.search(r"```bash\n(.*?)```", README, flags=re.S).group(1)
    commands = [line for line in first_block.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2
    assert commands[0].endswith("callsim run")
    assert commands[1].endswith("python -m pytest")


def test_readme_python_example_runs():
    block = next(b for b in _python_blocks() if "fake_salesforce.Org()" in b)
    code = "\n".join(line for line in block.splitlines() if "127.0.0.1" not in line)
    exec(compile(code, "README.md", "exec"), {})


def test_readme_fixture_example_is_a_working_test(sf, fake_org):
    block = next(b for b in _python_blocks() if "def test_my_integration" in b)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    namespace["test_my_integration"](sf, fake_org)


def test_readme_seed_file_seeds_an_org():
    import yaml

    import fake_salesforce

    block = re.search(r"```yaml\n(records:.*?)```", README, flags=re.S).group(1)
    org = fake_salesforce.Org()
    org.seed(yaml.safe_load(block)["records"])
    rows = fake_salesforce.connect(org).query("SELECT Email, Account.Name FROM Contact")["records"]
    assert [(r["Email"], r["Account"]["Name"]) for r in rows] == [("jean@acme.example", "Acme")]


@pytest.mark.parametrize("group, tool", [(fake_main, "fake-salesforce"), (callsim_main, "callsim")])
def test_every_command_has_help_and_is_in_the_readme(group: click.Group, tool: str):
    runner = CliRunner()
    for name, command in group.commands.items():
        assert command.help, f"{tool} {name} has no help text"
        result = runner.invoke(group, [name, "--help"])
        assert result.exit_code == 0, result.output
        assert f"{tool} {name}" in README, f"`{tool} {name}` is not documented in README.md"


def test_readme_shows_table_1_as_generated():
    behaviour = (Path(__file__).resolve().parents[1] / "reports" / "behaviour.md").read_text()
    table = re.search(r"\| call type \| `completed`.*?\n\n", behaviour, flags=re.S).group(0).strip()
    assert table in README


# --- the README's shell examples -----------------------------------------------------------------
# Every command line of the README's bash blocks is one of three kinds, and each is exercised:
#   setup   (python3 -m venv ...): the two opening commands; .ci/run runs them in a fresh clone.
#   server  (fake-salesforce serve, callsim webhooks): started, waited for, stopped with Ctrl-C.
#   command (any other callsim command): run to completion, exit status 0.
#   curl    (a delivery to the webhook receiver): run against a started receiver by
#           tests/simulator/test_cli.py::test_readme_webhooks_and_curl_examples_run.
#   integration (the "Test your own integration" commands, run from examples/first_match):
#           run by tests/simulator/test_integrations.py::test_readme_*_commands_run_as_documented.
#   parity  (callsim run --org real, --record recordings/..., callsim diff, callsim cleanup): run
#           in order against `fake-salesforce serve --no-control --tls` by
#           tests/simulator/test_parity.py::test_readme_parity_commands_run.
#   real-org (an org logged into with credentials: `export SF_...`, callsim log/webhooks without
#           --fake; schema import and serving the org-schema.yaml it writes): run against the fake
#           over HTTPS, its placeholders replaced, by tests/login/test_readme_real_org.py.
# The client examples are ``shell`` blocks (whole scripts for jsforce, the sf CLI, Python clients):
# tests/clients/test_readme_clients.py runs each of them, as written, against served orgs.
# Commands run in a temporary directory holding examples/ and part of scenarios/, as a user
# runs them from a checkout; a URL http://127.0.0.1:8080 is pointed at a fresh fake org on a free
# port (8080 may be taken), and a server started with or without --port gets --port 0.
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "http://127.0.0.1:8080"


def _shell_commands() -> list[list[str]]:
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words:
                commands.append(words)
    return commands


def is_parity(words: list[str]) -> bool:
    """A parity-mode command (--org real, recordings, callsim diff / cleanup)."""
    return ("--org" in words or words[:2] in (["callsim", "diff"], ["callsim", "cleanup"])
            or any(w.startswith("recordings/") for w in words))


def _kind(words: list[str]) -> str | None:
    if is_parity(words):
        return "parity"
    if "--integration" in words or words == ["cd", "examples/first_match"] or words[:2] == ["python", "service.py"]:
        return "integration"
    if words[:3] == ["python3", "-m", "venv"]:
        return "setup"
    if words[0] == "export" or words[:3] == ["fake-salesforce", "schema", "import"] \
            or "org-schema.yaml" in words or (
            words[:2] in (["callsim", "log"], ["callsim", "webhooks"]) and "--fake" not in words):
        return "real-org"
    if words[:2] in (["fake-salesforce", "serve"], ["callsim", "webhooks"]):
        return "server"
    if words[0] == "callsim":
        return "command"
    if words[0] == "curl":
        return "curl"
    return None


SHELL = _shell_commands()
SERVERS = [w for w in SHELL if _kind(w) == "server"]
COMMANDS = [w for w in SHELL if _kind(w) == "command"]


def test_every_readme_shell_command_is_exercised():
    unknown = [" ".join(w) for w in SHELL if _kind(w) is None]
    assert unknown == [], "README commands this test does not know how to run: classify them in _kind"
    assert len(SERVERS) >= 8 and len(COMMANDS) >= 7
    if any(_kind(w) == "integration" for w in SHELL):
        tests = (ROOT / "tests" / "simulator" / "test_integrations.py").read_text()
        assert "def test_readme_function_commands_run_as_documented" in tests
        assert "def test_readme_service_commands_run_as_documented" in tests
    if any(_kind(w) == "parity" for w in SHELL):
        assert "def test_readme_parity_commands_run" in (ROOT / "tests" / "simulator" / "test_parity.py").read_text()
    if any(_kind(w) == "real-org" for w in SHELL):
        assert "def test_readme_real_org_commands_run" in (ROOT / "tests" / "login" / "test_readme_real_org.py").read_text()
    if any(_kind(w) == "curl" for w in SHELL):
        test_cli = (ROOT / "tests" / "simulator" / "test_cli.py").read_text()
        assert "def test_readme_webhooks_and_curl_examples_run" in test_cli
    fences = set(re.findall(r"^```(\w*)$", README, flags=re.M)) - {""}
    assert fences <= {"bash", "shell", "python", "yaml", "toml", "text"}, "a new kind of README block: run it"
    if "shell" in fences:
        clients = (ROOT / "tests" / "clients" / "test_readme_clients.py").read_text()
        assert "def test_readme_client_block_runs" in clients


def test_the_setup_commands_are_what_ci_runs():
    setup = [" ".join(w) for w in SHELL if _kind(w) == "setup"]
    assert setup == ['python3 -m venv .venv && . .venv/bin/activate && pip install -e . && callsim run',
                     'python3 -m venv .venv && . .venv/bin/activate && pip install -e .[dev] && python -m pytest']
    ci = (ROOT / ".ci" / "run").read_text()
    for step in ("git clone", "python3 -m venv .venv", 'pip install --quiet -e ".[dev]"',
                 "python -m pytest -q", "FAKE_SF_TRANSPORT=http python -m pytest -q", "callsim docs --check"):
        assert step in ci


class _Server:
    """A long-running command: started, its first URL read from its output, stopped with Ctrl-C."""

    def __init__(self, words: list[str], cwd: Path):
        proc = subprocess.Popen(words, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._attach(proc, " ".join(words), wait=True)

    @classmethod
    def attach(cls, proc: subprocess.Popen, name: str, wait: bool = True) -> "_Server":
        server = cls.__new__(cls)
        server._attach(proc, name, wait)
        return server

    def _attach(self, proc: subprocess.Popen, name: str, wait: bool):
        self.proc, self.output, self.url = proc, "", None
        if not wait:
            return
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
        deadline = time.monotonic() + 120   # generous: a loaded machine starts Python slowly
        while (found := re.search(r"https?://[\w.:]+", self.output)) is None:
            try:
                self.output += lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                self.stop()
                raise AssertionError(f"{name} printed no URL within 120 s: {self.output!r}") from None
        self.url = found.group(0)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


@pytest.fixture
def workspace(tmp_path):
    """A user's directory: examples/, and a scenarios/ library holding scenarios/workflow and
    every part of the library a README command names (the runs stay short; the whole library
    runs in test_scenario_library and as pytest items)."""
    (tmp_path / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    named = {w.rstrip("/") for words in SHELL for w in words if w.startswith("scenarios/") and w != "scenarios/"}
    for name in sorted(named | {"scenarios/workflow"}):
        source, target = ROOT / name, tmp_path / name
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        elif source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    return tmp_path


def _with_org(words: list[str], url: str) -> list[str]:
    return [w.replace(DEFAULT_URL, url) for w in words]


def test_readme_servers_start_and_stop(workspace):
    """All of them at once (each on a free port), so that their start-up times overlap."""
    orgs, servers = [], []
    try:
        for words in SERVERS:
            command = list(words)
            if DEFAULT_URL in words:
                orgs.append(_Server(["fake-salesforce", "serve", "--port", "0", "--quiet"], workspace))
                command = _with_org(words, orgs[-1].url)
            if "--port" in command:   # a port the README names may be taken here: any free one
                command[command.index("--port") + 1] = "0"
            else:
                command += ["--port", "0"]
            servers.append((" ".join(words), subprocess.Popen(
                command, cwd=workspace, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        for name, proc in servers:
            started = _Server.attach(proc, name)
            assert proc.poll() is None, started.output
        for name, proc in servers:
            assert _Server.attach(proc, name, wait=False).stop() == 0, name
    finally:
        for _, proc in servers:
            if proc.poll() is None:
                proc.kill()
        for org in orgs:
            org.stop()


@pytest.mark.parametrize("words", COMMANDS, ids=lambda w: " ".join(w))
def test_readme_command_runs(words, workspace):
    org = _Server(["fake-salesforce", "serve", "--port", "0", "--quiet"], workspace) \
        if DEFAULT_URL in words else None
    try:
        command = _with_org(words, org.url) if org else words
        done = subprocess.run(command, cwd=workspace, capture_output=True, text=True, timeout=600)
    finally:
        if org:
            org.stop()
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    if words[:2] == ["callsim", "log"]:
        assert '"logged": true' in done.stdout
    if "--report" in words:
        target = workspace / words[words.index("--report") + 1]
        assert (target / "report.md").is_file() and (target / "report.json").is_file()
