"""`fake-salesforce serve --no-control`: no control API at all. Its paths answer 404 NOT_FOUND
as a real org's unknown paths do, whoever asks and however; the Salesforce APIs are unchanged."""
import re
import subprocess
import sys

import pytest
import requests
from click.testing import CliRunner

import fake_salesforce
from fake_salesforce.cli import main
from fake_salesforce.control import ControlClient, ControlError
from fake_salesforce.server import FakeServer

NOT_FOUND = [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
CONTROL_CALLS = [("GET", "/_fake/"), ("GET", "/_fake"), ("POST", "/_fake/reset"), ("GET", "/_fake/requests"),
                 ("POST", "/_fake/seed"), ("POST", "/_fake/clock"), ("POST", "/_fake/oauth/jwt-certificates"),
                 ("DELETE", "/_fake/faults"), ("POST", "/_fake/sessions/expire")]


@pytest.fixture
def server():
    with FakeServer(control_api=False) as s:
        yield s


@pytest.mark.parametrize("method, path", CONTROL_CALLS)
def test_every_control_path_is_not_found(server, method, path):
    response = requests.request(method, server.url + path, json={},
                                headers={"X-Fake-Control": "1", "X-Fake-Control-Token": "anything"})
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    # the same answer as a path Salesforce does not have
    assert requests.get(server.url + "/no/such/path").json() == NOT_FOUND


def test_the_org_is_untouched_and_the_api_still_works(server):
    sf = fake_salesforce.connect(server.url)
    sf.Contact.create({"LastName": "Kept"})
    requests.post(server.url + "/_fake/reset", json={}, headers={"X-Fake-Control": "1"})
    assert sf.query("SELECT LastName FROM Contact")["records"][0]["LastName"] == "Kept"
    with pytest.raises(ControlError, match=r"GET /_fake/ failed \(404\): NOT_FOUND"):
        ControlClient(server.url).info()


def test_with_the_control_api_the_same_call_answers(tmp_path):
    with FakeServer() as s:  # the check above cannot pass by the control API being unreachable here
        assert requests.get(s.url + "/_fake/").status_code == 200


def test_serve_no_control_over_tls(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "fake_salesforce.cli", "serve", "--no-control", "--tls",
                             "--port", "0", "--quiet", "--cert-dir", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        text = "".join(lines)
        assert "control API (/_fake/): off" in text
        url = re.search(r"https://localhost:\d+", text).group(0)
        response = requests.get(url + "/_fake/", verify=str(tmp_path / "fake-salesforce.crt"))
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_no_control_with_a_control_token_is_refused():
    result = CliRunner().invoke(main, ["serve", "--no-control", "--control-token", "t", "--port", "0"])
    assert result.exit_code == 2
    assert "Invalid value for --control-token: opens the control API that --no-control switches off" \
        in result.output
