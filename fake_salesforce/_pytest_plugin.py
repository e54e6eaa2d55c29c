"""pytest fixtures for a fake org: one server per session, a clean org for every test.

Fixtures: ``fake_org`` (a handle: ``.client()``, ``.control``, ``.url``, ``.org``), ``sf`` (a
logged-in simple-salesforce client on a clean org). Choose the transport with
``--fake-sf-transport=inprocess|http`` or the ``FAKE_SF_TRANSPORT`` environment variable;
override the ``fake_sf_options`` fixture to configure the Org, or mark one test with
``@pytest.mark.fake_sf_options(default_country="FR", order="insertion")``.

``fake_org.url`` is always the address of a running server for the same org, so that tools
outside Python (jsforce, the Salesforce CLI, curl) reach it too: under the in-process transport
the first use of ``.url`` starts one, on a free loopback port, for the rest of the session.
"""
from __future__ import annotations

import os
from typing import Callable

import pytest

TRANSPORTS = ("inprocess", "http")


def pytest_addoption(parser):
    group = parser.getgroup("fake-salesforce")
    group.addoption("--fake-sf-transport", choices=TRANSPORTS, default=None,
                    help="how tests reach the fake org: in-process (default) or over HTTP")


def pytest_configure(config):
    config.addinivalue_line("markers", "fake_sf_options(**options): Org options for this test's org")


class FakeOrgHandle:
    """What a test gets: the org's address and a way to log in and to arrange it."""

    def __init__(self, org, target, transport: str, server_url: Callable[[], str]):
        from .control import ControlClient

        self.org = org
        self.target = target
        self.transport = transport
        self.control = ControlClient(target)
        self._server_url = server_url

    @property
    def url(self) -> str:
        """The base URL of a server for this org (``http://127.0.0.1:PORT``).

        Under the HTTP transport it is the session's server. In-process, the first use starts
        a server on a free loopback port that serves this same org (same records, clock and
        sessions) until the session ends; tests that never read ``.url`` open no socket.
        """
        return self._server_url()

    def client(self, username: str | None = None, password: str | None = None, security_token: str = ""):
        from .client import connect
        from .org import DEFAULT_PASSWORD

        return connect(self.target, username or self.org.config.username,
                       DEFAULT_PASSWORD if password is None else password, security_token)


class _SessionOrg:
    """The session's org, how tests reach it, and the server behind ``url`` once one is needed."""

    def __init__(self, org, transport: str):
        from .app import create_app
        from .server import FakeServer

        self.org = org
        self.transport = transport
        self.server = FakeServer(org).start() if transport == "http" else None
        self.target = self.server.url if self.server else create_app(org)

    def url(self) -> str:
        if self.server is None:
            from .server import FakeServer

            self.server = FakeServer(self.org).start()
        return self.server.url

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()


def _transport(config) -> str:
    value = config.getoption("--fake-sf-transport") or os.environ.get("FAKE_SF_TRANSPORT") or "inprocess"
    if value not in TRANSPORTS:
        raise pytest.UsageError(f"FAKE_SF_TRANSPORT must be one of {', '.join(TRANSPORTS)}, not {value!r}")
    return value


@pytest.fixture(scope="session")
def fake_sf_options() -> dict:
    """Options for the session's Org (override in a conftest.py)."""
    return {}


@pytest.fixture(scope="session")
def _fake_sf_session(request, fake_sf_options):
    from .org import Org

    session = _SessionOrg(Org(**fake_sf_options), _transport(request.config))
    yield session
    session.close()


@pytest.fixture
def fake_org(_fake_sf_session, request) -> FakeOrgHandle:
    org = _fake_sf_session.org
    marker = request.node.get_closest_marker("fake_sf_options")
    # settings a test may change through the control API come back for the next test
    saved = {key: getattr(org.config, key) for key in ("default_country", "order")}
    if marker:
        for key, value in marker.kwargs.items():
            saved.setdefault(key, getattr(org.config, key))
            setattr(org.config, key, value)
    org.reset()
    yield FakeOrgHandle(org, _fake_sf_session.target, _fake_sf_session.transport, _fake_sf_session.url)
    for key, value in saved.items():
        setattr(org.config, key, value)


@pytest.fixture
def sf(fake_org):
    """A simple-salesforce client logged in as the default admin of a clean org."""
    return fake_org.client()
