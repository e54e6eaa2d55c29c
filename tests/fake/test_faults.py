"""Fault injection through the control API and `serve --faults`, and the enforced API limit."""
import pytest
import requests
from click.testing import CliRunner
from simple_salesforce.exceptions import SalesforceError

import fake_salesforce
from fake_salesforce.cli import main
from fake_salesforce.control import ControlClient, ControlError
from fake_salesforce.server import FakeServer


@pytest.fixture(scope="module")
def served():
    with FakeServer(fake_salesforce.Org()) as server:
        yield server, fake_salesforce.connect(server.url), ControlClient(server.url)


@pytest.fixture
def org(served):
    server, sf, control = served
    control.clear_faults()
    yield sf, control
    control.clear_faults()


def count(sf, sobject="Contact"):
    return sf.query(f"SELECT COUNT() FROM {sobject}")["totalSize"]


@pytest.mark.parametrize("code,status", [("SERVER_UNAVAILABLE", 503), ("UNABLE_TO_LOCK_ROW", 400),
                                         ("REQUEST_LIMIT_EXCEEDED", 403), ("INVALID_SESSION_ID", 401)])
def test_an_error_fault_answers_salesforce_s_error_and_writes_nothing(org, code, status):
    sf, control = org
    before = count(sf)
    control.set_faults([{"path": "/services/data/*/sobjects/Contact", "method": "POST", "error_code": code}])
    # Sent raw: simple-salesforce logs in again by itself after INVALID_SESSION_ID.
    response = sf.session.post(f"{sf.base_url}sobjects/Contact/", json={"LastName": "F"},
                               headers={"Authorization": f"Bearer {sf.session_id}"})
    assert response.status_code == status and response.json()[0]["errorCode"] == code
    assert count(sf) == before
    sf.Contact.create({"LastName": "F"})  # times defaults to 1: the next one passes
    assert count(sf) == before + 1
    assert control.faults()[0]["hits"] == 1


def test_lose_answer_commits_and_closes_the_connection(org):
    sf, control = org
    before = count(sf)
    control.set_faults([{"path": "*/sobjects/Contact", "method": "POST", "kind": "lose_answer"}])
    with pytest.raises(requests.ConnectionError):
        sf.Contact.create({"LastName": "Lost"})
    assert count(sf) == before + 1


def test_drop_closes_without_running(org):
    sf, control = org
    before = count(sf)
    control.set_faults([{"path": "*/sobjects/Contact", "method": "POST", "kind": "drop", "times": 2}])
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            sf.Contact.create({"LastName": "Dropped"})
    assert count(sf) == before


def test_latency_and_hang(org):
    sf, control = org
    control.set_faults([{"path": "*/query", "kind": "latency", "seconds": 0.3},
                        {"path": "*/query", "kind": "hang", "seconds": 5}])
    response = sf.session.get(f"{sf.base_url}query", params={"q": "SELECT Id FROM User"},
                              headers={"Authorization": f"Bearer {sf.session_id}"}, timeout=5)
    assert response.status_code == 200 and response.elapsed.total_seconds() >= 0.3
    with pytest.raises(requests.Timeout):
        sf.session.get(f"{sf.base_url}query", params={"q": "SELECT Id FROM User"},
                       headers={"Authorization": f"Bearer {sf.session_id}"}, timeout=0.5)


def test_a_seeded_probability_is_reproducible(org):
    sf, control = org

    def run():
        control.set_faults([{"path": "*/query", "probability": 0.5, "seed": 7}])
        outcomes = []
        for _ in range(20):
            try:
                count(sf)
                outcomes.append(True)
            except SalesforceError:
                outcomes.append(False)
        return outcomes
    first = run()
    assert first == run()
    assert 3 < first.count(False) < 17


def test_bad_rules_are_refused_by_name(org):
    _, control = org
    with pytest.raises(ControlError, match=r"faults\[0\]\.kind"):
        control.set_faults([{"kind": "explode"}])
    with pytest.raises(ControlError, match=r"faults\[0\]\.probability"):
        control.set_faults([{"probability": 2}])


def test_the_api_limit_is_enforced_when_asked():
    org = fake_salesforce.Org(api_limit=5, enforce_api_limit=True)
    sf = fake_salesforce.connect(fake_salesforce.create_app(org))
    with pytest.raises(SalesforceError) as raised:
        for _ in range(10):
            count(sf)
    assert raised.value.status == 403 and raised.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


def test_serve_refuses_a_bad_faults_file(tmp_path):
    path = tmp_path / "faults.yaml"
    path.write_text("faults:\n  - kind: explode\n")
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--faults", str(path)])
    assert result.exit_code == 2 and "faults[0].kind" in result.output
