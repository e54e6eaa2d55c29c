"""The README's client commands (its ``shell`` blocks) run as written, against the two servers
its "Other clients" section starts: ``fake-salesforce serve --port 8080`` and ``... --port 8443
--tls --cert-dir certs`` (each on a free port instead). The Node.js blocks run a second time over
HTTPS, changed as their closing ``# HTTPS:`` comment says."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```shell\n(.*?)```", README, flags=re.S)
HTTP, HTTPS = "http://127.0.0.1:8080", "https://localhost:8443"
CA = "certs/fake-salesforce.crt"


def _serve(args: list[str], cwd: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-c", "from fake_salesforce.cli import main; main()", "serve",
                             "--port", "0", "--quiet", *args], cwd=cwd, stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:
        found = re.search(r"https?://[\w.:]+", line)
        if found:
            return proc, found.group(0)
    raise AssertionError(f"fake-salesforce serve {' '.join(args)} printed no URL")


@pytest.fixture(scope="module")
def readme_servers(tmp_path_factory):
    """The README's two servers, started in a user's directory (where ``certs/`` is written)."""
    home = tmp_path_factory.mktemp("readme-clients")
    servers = [_serve([], home), _serve(["--tls", "--cert-dir", "certs"], home)]
    try:
        yield home, servers[0][1], servers[1][1]
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=15)


def _run(block: str, home: Path, tools, env: dict) -> subprocess.CompletedProcess:
    sf_home = home / "sf-home"
    sf_home.mkdir(exist_ok=True)
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("SF_", "SFDX_", "NODE_", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"))}
    base.update(PATH=os.pathsep.join([str(Path(sys.executable).parent), str(tools.node.parent),
                                      str(tools.modules / ".bin"), base.get("PATH", "")]),
                NODE_PATH=str(tools.modules), HOME=str(sf_home), SF_USE_GENERIC_UNIX_KEYCHAIN="true",
                SF_SKIP_NEW_VERSION_CHECK="true", SF_DISABLE_TELEMETRY="true", SF_CONTAINER_MODE="true",
                NO_COLOR="1", **env)
    return subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=home, env=base,
                          capture_output=True, text=True, timeout=600)


def _point(block: str, http_url: str, https_url: str) -> str:
    return (block.replace(HTTP, http_url).replace(HTTPS, https_url)
            .replace(HTTPS.split("://")[1], https_url.split("://")[1]))


# What each block shows when it works (besides exiting with status 0).
EXPECTED = {"simple-salesforce": ["Fake Salesforce Org"] * 2, "salesforce_api": ["Fake Salesforce Org"] * 2,
            "jsforce": [], "sf org login": ["Successfully authorized admin@example.com", "Instance Url",
                                            "Successful records: 1"]}


def _kind(block: str) -> str:
    return next((k for k in ("salesforce_api", "jsforce", "sf org login") if k in block), "simple-salesforce")


def test_every_shell_block_is_known():
    assert sorted(_kind(b) for b in BLOCKS) == sorted(EXPECTED)


@pytest.mark.parametrize("block", BLOCKS, ids=_kind)
def test_readme_client_block_runs(block, readme_servers, node_tools):
    home, http_url, https_url = readme_servers
    done = _run(_point(block, http_url, https_url), home, node_tools, {})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    output = done.stdout
    for expected in EXPECTED[_kind(block)]:
        assert expected in output, output[-3000:]
        output = output.split(expected, 1)[1]
    if _kind(block) == "jsforce":
        assert done.stdout.strip().isdigit(), done.stdout
    if _kind(block) == "sf org login":
        assert http_url in done.stdout


@pytest.mark.parametrize("block", [b for b in BLOCKS if "# HTTPS:" in b], ids=_kind)
def test_readme_node_block_runs_over_https_as_its_comment_says(block, readme_servers, node_tools):
    home, _, https_url = readme_servers
    assert "NODE_EXTRA_CA_CERTS=certs/fake-salesforce.crt" in block
    changed = _point(block, https_url, https_url).replace("curl -s ", f"curl -s --cacert {CA} ")
    done = _run(changed, home, node_tools, {"NODE_EXTRA_CA_CERTS": str(home / CA)})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    if _kind(block) == "sf org login":
        assert https_url in done.stdout and "Successful records: 1" in done.stdout
    else:
        assert done.stdout.strip().isdigit(), done.stdout
