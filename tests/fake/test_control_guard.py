"""The control API's guard: loopback clients and Host names only, no cross-origin simple
requests, and a control token that opens it to other clients."""
import pytest
import requests

import fake_salesforce
from fake_salesforce.control import ControlClient, ControlError
from fake_salesforce.server import FakeServer


@pytest.fixture(scope="module")
def server():
    with FakeServer(fake_salesforce.Org()) as s:
        yield s


def raw(server, method, path="/_fake/", **kwargs):
    return requests.request(method, f"http://127.0.0.1:{server.port}{path}", timeout=10, **kwargs)


def test_the_client_works_on_loopback(server):
    control = ControlClient(server.url)
    assert control.reset()["reset"] is True
    assert control.seed("Contact", [{"LastName": "A"}])


@pytest.mark.parametrize("host", ["evil.example.com", "evil.example.com:8080", "10.0.0.1", "127.0.0.1.nip.io"])
def test_a_host_header_that_is_not_loopback_is_refused(server, host):
    """DNS rebinding: a page at evil.example.com whose name now points at 127.0.0.1."""
    response = raw(server, "GET", headers={"Host": host})
    assert response.status_code == 403
    assert response.json()[0]["errorCode"] == "INSUFFICIENT_ACCESS"


@pytest.mark.parametrize("host", ["localhost", "localhost:8080", "127.0.0.1:9", "[::1]:80", "app.localhost"])
def test_loopback_host_names_are_accepted(server, host):
    assert raw(server, "GET", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("kwargs", [{"data": "{}", "headers": {"Content-Type": "text/plain"}},
                                    {"data": {"seed": "1"}}, {}])
def test_cross_origin_simple_posts_are_refused(server, kwargs):
    response = raw(server, "POST", "/_fake/reset", **kwargs)
    assert response.status_code == 403
    assert "X-Fake-Control" in response.json()[0]["message"]


def test_a_json_post_or_the_header_passes(server):
    assert raw(server, "POST", "/_fake/reset", json={}).status_code == 200
    assert raw(server, "POST", "/_fake/sessions/expire", headers={"X-Fake-Control": "1"}).status_code == 200


def test_a_control_token_is_required_when_set():
    with FakeServer(fake_salesforce.Org(), control_token="t0ken") as s:
        with pytest.raises(ControlError, match="403"):
            ControlClient(s.url).info()
        with pytest.raises(ControlError, match="403"):
            ControlClient(s.url, token="wrong").info()
        assert ControlClient(s.url, token="t0ken").info()
        # With the token, the Host check no longer applies (the token is what a page cannot know).
        assert raw(s, "GET", headers={"Host": "fake.example", "X-Fake-Control-Token": "t0ken"}).status_code == 200


def test_jwt_registration_needs_a_token_beyond_loopback():
    app = fake_salesforce.create_app(fake_salesforce.Org(), loopback_only=False)
    with pytest.raises(ControlError, match="needs --control-token"):
        ControlClient(app).register_jwt_certificate("key", "-----BEGIN CERTIFICATE-----")
