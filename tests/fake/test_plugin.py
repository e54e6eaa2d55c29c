"""The pytest plugin's handle: ``fake_org.url`` is a real address of the same org, whichever
transport the tests use."""
import requests

import fake_salesforce


def test_url_is_a_server_for_the_same_org(fake_org, sf):
    contact_id = sf.Contact.create({"LastName": "Shared"})["id"]
    assert fake_org.url.startswith("http://127.0.0.1:")
    with requests.Session() as plain:  # no adapter of ours: a real socket
        plain.trust_env = False
        answer = plain.get(f"{fake_org.url}/services/data/v59.0/sobjects/Contact/{contact_id}",
                           headers={"Authorization": f"Bearer {sf.session_id}"}, timeout=10)
    assert answer.status_code == 200
    assert answer.json()["LastName"] == "Shared"


def test_a_client_on_the_url_sees_what_the_test_arranged(fake_org, sf):
    fake_org.control.set_clock("2026-11-02T09:00:00Z")
    other = fake_salesforce.connect(fake_org.url)
    record_id = other.Lead.create({"LastName": "Stone", "Company": "Acme"})["id"]
    assert sf.Lead.get(record_id)["CreatedDate"] == "2026-11-02T09:00:00.000+0000"
