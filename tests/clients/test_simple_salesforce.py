"""simple-salesforce's Bulk API 2.0 client and the Composite API against a served fake org,
over HTTP and HTTPS.

Over HTTPS simple-salesforce runs unmodified: a plain requests session that trusts the fake's
certificate, the instance URL and a session id from the fake's OAuth endpoint (simple-salesforce
always speaks https:// to its instance). Over HTTP it needs ``fake_salesforce.connect``, whose
session sends its https:// URLs to the fake's http:// address.
"""
import csv
import io

import pytest
import requests
from simple_salesforce import Salesforce

import fake_salesforce

VERSION = "59.0"


@pytest.fixture
def client(served, org) -> Salesforce:
    if served.scheme == "http":
        return fake_salesforce.connect(served.url)
    session = requests.Session()
    session.trust_env = False
    session.verify = served.ca
    token = session.post(f"{served.url}/services/oauth2/token", data={
        "grant_type": "password", "client_id": "fake-salesforce", "client_secret": "fake-salesforce-secret",
        "username": "admin@example.com", "password": "password"}).json()
    return Salesforce(instance_url=token["instance_url"], session_id=token["access_token"],
                      session=session, version=VERSION)


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_https_client_has_no_adapter(served, client):
    if served.scheme == "https":
        assert client.base_url.startswith(served.url)
        assert {type(a).__name__ for a in client.session.adapters.values()} == {"HTTPAdapter"}


def test_bulk2_ingest_jobs_report_each_row(client):
    records = [{"LastName": f"Bulk {i}", "Phone": f"(212) 555-01{i:02d}", "External_Id__c": f"B-{i}"}
               for i in range(30)]
    records.insert(7, {"LastName": "", "Email": "nameless@example.com"})
    (job,) = client.bulk2.Contact.insert(records=records, wait=0.01)
    assert (job["numberRecordsProcessed"], job["numberRecordsFailed"]) == (31, 1)
    ok = _rows(client.bulk2.Contact.get_successful_records(job["job_id"]))
    assert [r["LastName"] for r in ok] == [f"Bulk {i}" for i in range(30)]
    (failed,) = _rows(client.bulk2.Contact.get_failed_records(job["job_id"]))
    assert failed["sf__Error"].startswith("REQUIRED_FIELD_MISSING:")
    found = client.search("FIND {+1 212 555 0107} IN PHONE FIELDS RETURNING Contact(LastName)")
    assert [r["LastName"] for r in found["searchRecords"]] == ["Bulk 7"]

    (up,) = client.bulk2.Contact.upsert(records=[{"External_Id__c": "B-1", "Title": "CEO"},
                                                 {"External_Id__c": "B-99", "LastName": "New"}],
                                        external_id_field="External_Id__c", wait=0.01)
    assert [r["sf__Created"] for r in _rows(client.bulk2.Contact.get_successful_records(up["job_id"]))] == \
        ["false", "true"]
    client.bulk2.Contact.delete(records=[{"Id": ok[0]["sf__Id"]}], wait=0.01)
    assert client.query("SELECT COUNT() FROM Contact")["totalSize"] == 30


def test_bulk2_query_job_pages_its_results(client):
    client.bulk2.Contact.insert(records=[{"LastName": f"Q{i:03d}"} for i in range(25)], wait=0.01)
    pages = list(client.bulk2.Contact.query("SELECT LastName FROM Contact ORDER BY LastName",
                                            max_records=10, wait=0.01))
    assert len(pages) == 3
    assert [r["LastName"] for page in pages for r in _rows(page)] == [f"Q{i:03d}" for i in range(25)]


def test_composite_references_and_all_or_none(client):
    base = f"/services/data/v{VERSION}"
    answer = client.restful("composite", method="POST", json={"compositeRequest": [
        {"method": "POST", "url": f"{base}/sobjects/Account", "referenceId": "acct", "body": {"Name": "Tls Co"}},
        {"method": "POST", "url": f"{base}/sobjects/Contact", "referenceId": "person",
         "body": {"LastName": "Ref", "AccountId": "@{acct.id}"}},
        {"method": "GET", "url": f"{base}/sobjects/Contact/@{{person.id}}?fields=AccountId", "referenceId": "read"},
    ]})
    results = answer["compositeResponse"]
    assert [r["httpStatusCode"] for r in results] == [201, 201, 200]
    assert results[2]["body"]["AccountId"] == results[0]["body"]["id"]

    undone = client.restful("composite", method="POST", json={"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": f"{base}/sobjects/Account", "referenceId": "kept", "body": {"Name": "Undone"}},
        {"method": "POST", "url": f"{base}/sobjects/Contact", "referenceId": "bad", "body": {"FirstName": "X"}},
    ]})
    assert [r["body"][0]["errorCode"] for r in undone["compositeResponse"]] == \
        ["PROCESSING_HALTED", "REQUIRED_FIELD_MISSING"]
    assert client.query("SELECT Name FROM Account")["records"][0]["Name"] == "Tls Co"
    assert client.query("SELECT COUNT() FROM Account")["totalSize"] == 1


def test_collections_batch_and_tree(client):
    created = client.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": [
        {"attributes": {"type": "Lead"}, "LastName": "One", "Company": "A"},
        {"attributes": {"type": "Lead"}, "LastName": "Two"}]})
    assert [r["success"] for r in created] == [True, False]
    assert created[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    batch = client.restful("composite/batch", method="POST", json={"batchRequests": [
        {"method": "GET", "url": f"v{VERSION}/sobjects/Lead/{created[0]['id']}"},
        {"method": "GET", "url": f"v{VERSION}/sobjects/Lead/00Q000000000000AAA"}]})
    assert [r["statusCode"] for r in batch["results"]] == [200, 404]
    tree = client.restful("composite/tree/Account", method="POST", json={"records": [
        {"attributes": {"type": "Account", "referenceId": "a1"}, "Name": "Tree Co",
         "Contacts": {"records": [{"attributes": {"type": "Contact", "referenceId": "c1"}, "LastName": "Leaf"}]}}]})
    assert tree["hasErrors"] is False and [r["referenceId"] for r in tree["results"]] == ["a1", "c1"]
    rows = client.query("SELECT LastName, Account.Name FROM Contact")["records"]
    assert [(r["LastName"], r["Account"]["Name"]) for r in rows] == [("Leaf", "Tree Co")]
