"""The ``salesforce-api`` Python package, unmodified, through its own login paths, over
HTTP and HTTPS (and its SOAP login, which only accepts ``*.salesforce.com`` server URLs,
through the in-process transport)."""
import requests
from salesforce_api import Salesforce as Client
from salesforce_api import login

from fake_salesforce import Org
from fake_salesforce.client import make_session

CLIENT_ID, CLIENT_SECRET = "fake-salesforce", "fake-salesforce-secret"


def _session(served) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = served.ca or True
    return session


def _exercise(client: Client, org) -> None:
    created = client.sobjects.Contact.insert({"LastName": "Api", "Email": "api@example.com"})
    record_id = created["id"]
    client.sobjects.Contact.update(record_id, {"Title": "Buyer"})
    assert client.sobjects.Contact.get(record_id)["Title"] == "Buyer"
    client.sobjects.Contact.upsert("External_Id__c", "API-1", {"LastName": "Upserted"})
    rows = client.sobjects.query("SELECT LastName FROM Contact ORDER BY LastName")
    assert [r["LastName"] for r in rows] == ["Api", "Upserted"]
    assert client.sobjects.Contact.describe()["name"] == "Contact"
    assert "DailyApiRequests" in client.basic.limits()
    results = client.bulk_v2.insert("Contact", [{"LastName": f"Bulk {i}", "Email": ""} for i in range(20)]
                                    + [{"LastName": "", "Email": "x@example.com"}])
    assert sum(1 for r in results if r.__class__.__name__ == "SuccessResultRecord") == 20
    assert sum(1 for r in results if r.__class__.__name__ == "FailResultRecord") == 1
    client.sobjects.Contact.delete(record_id)
    assert org.query("SELECT COUNT() FROM Contact")["totalSize"] == 21


def test_oauth_password_login_and_operations(served, org):
    connection = login.oauth2(served.url, CLIENT_ID, CLIENT_SECRET, "admin@example.com", "password",
                              session=_session(served), api_version="59.0")
    assert connection.instance_url == served.url
    _exercise(Client(connection=connection), org)


def test_client_credentials(served, org):
    if served.scheme == "https":  # the package builds https://{domain}, so HTTPS goes by domain
        client = Client(domain=served.url.split("://", 1)[1], client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                        session=_session(served), api_version="59.0")
    else:
        client = Client(connection=login.oauth2(served.url, CLIENT_ID, CLIENT_SECRET, session=_session(served),
                                                api_version="59.0"))
    assert client.sobjects.query("SELECT Name FROM Organization")[0]["Name"] == "Fake Salesforce Org"


def test_enterprise_soap_login_in_process():
    org = Org()
    client = Client(username="admin@example.com", password_and_security_token="password",
                    session=make_session(org), api_version="59.0")
    assert client.sobjects.query("SELECT Username FROM User")[0]["Username"] == "admin@example.com"
