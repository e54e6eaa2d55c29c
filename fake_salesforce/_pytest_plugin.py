"""pytest fixtures for a fake org: one server per session, a clean org for every test.

Fixtures: ``fake_org`` (a handle: ``.client()``, ``.control``, ``.url``, ``.org``), ``sf`` (a
logged-in simple-salesforce client on a clean org). Choose the transport with
``--fake-sf-transport=inprocess|http`` or the ``FAKE_SF_TRANSPORT`` environment variable;
override the ``fake_sf_options`` fixture to configure the Org.
"""
from __future__ import annotations

import os

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

    def __init__(self, org, target, transport: str):
        from .control import ControlClient

        self.org = org
        self.target = target
        self.transport = transport
        self.control = ControlClient(target)

    @property
    def url(self) -> str | None:
        return self.target if isinstance(self.target, str) else None

    def client(self, username: str | None = None, password: str | None = None, security_token: str = ""):
        from .client import connect
        from .org import DEFAULT_PASSWORD

        return connect(self.target, username or self.org.config.username,
                       DEFAULT_PASSWORD if password is None else password, security_token)


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
    from .app import create_app
    from .org import Org
    from .server import FakeServer

    org = Org(**fake_sf_options)
    transport = _transport(request.config)
    if transport == "http":
        server = FakeServer(org).start()
        yield org, server.url, transport
        server.stop()
    else:
        yield org, create_app(org), transport


@pytest.fixture
def fake_org(_fake_sf_session, request) -> FakeOrgHandle:
    org, target, transport = _fake_sf_session
    marker = request.node.get_closest_marker("fake_sf_options")
    saved = {}
    if marker:
        for key, value in marker.kwargs.items():
            saved[key] = getattr(org.config, key)
            setattr(org.config, key, value)
    org.reset()
    yield FakeOrgHandle(org, target, transport)
    for key, value in saved.items():
        setattr(org.config, key, value)


@pytest.fixture
def sf(fake_org):
    """A simple-salesforce client logged in as the default admin of a clean org."""
    return fake_org.client()
