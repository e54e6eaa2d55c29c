"""The Salesforce CLI (``sf``), unmodified, against the fake org over HTTP and HTTPS.

The CLI takes one to three seconds to start, so each test groups several commands.
"""
import csv
import json

import pytest

from fake_salesforce.client import make_session


def _token(served) -> str:
    session = make_session(served.url, verify=served.ca or True)
    answer = session.post(served.url + "/services/oauth2/token", data={
        "grant_type": "password", "client_id": "fake-salesforce", "client_secret": "fake-salesforce-secret",
        "username": "admin@example.com", "password": "password"})
    return answer.json()["access_token"]


@pytest.fixture
def logged_in(sf_cli, served):
    """``org login access-token`` with the token in SF_ACCESS_TOKEN; the alias ``fake``."""
    code, answer = sf_cli("org", "login", "access-token", "--instance-url", served.url,
                          "--alias", "fake", "--no-prompt", env={"SF_ACCESS_TOKEN": _token(served)})
    assert code == 0, answer
    return answer["result"]


def test_login_display_query_and_limits(sf_cli, served, org, logged_in):
    assert logged_in["orgId"] == org.org_id and logged_in["username"] == "admin@example.com"
    code, display = sf_cli("org", "display", "--target-org", "fake")
    assert code == 0 and display["result"]["connectedStatus"] == "Connected"
    assert display["result"]["instanceUrl"].rstrip("/") == served.url
    org.seed([{"sobject": "Account", "fields": {"Name": "Acme"}},
              {"sobject": "Contact", "fields": {"LastName": "Martin", "AccountId": "@0"}}])
    code, query = sf_cli("data", "query", "--target-org", "fake",
                         "--query", "SELECT LastName, Account.Name FROM Contact")
    assert code == 0, query
    (record,) = query["result"]["records"]
    assert (record["LastName"], record["Account"]["Name"]) == ("Martin", "Acme")
    code, limits = sf_cli("org", "list", "limits", "--target-org", "fake")
    assert code == 0 and "DailyApiRequests" in {row["name"] for row in limits["result"]}
    code, bad = sf_cli("data", "query", "--target-org", "fake", "--query", "SELECT Nope FROM Contact")
    assert code != 0 and "INVALID_FIELD" in json.dumps(bad)


def test_record_commands_and_describe(sf_cli, org, logged_in):
    code, created = sf_cli("data", "create", "record", "--target-org", "fake", "--sobject", "Contact",
                           "--values", "LastName=Durand Email=durand@example.com")
    assert code == 0, created
    record_id = created["result"]["id"]
    code, got = sf_cli("data", "get", "record", "--target-org", "fake", "--sobject", "Contact",
                       "--record-id", record_id)
    assert code == 0 and got["result"]["Email"] == "durand@example.com"
    code, _ = sf_cli("data", "update", "record", "--target-org", "fake", "--sobject", "Contact",
                     "--record-id", record_id, "--values", "Title=Buyer")
    assert code == 0
    assert org.get("Contact", record_id, ["Title"])["Title"] == "Buyer"
    code, described = sf_cli("sobject", "describe", "--target-org", "fake", "--sobject", "Contact")
    assert code == 0 and described["result"]["name"] == "Contact"
    code, _ = sf_cli("data", "delete", "record", "--target-org", "fake", "--sobject", "Contact",
                     "--record-id", record_id)
    assert code == 0
    assert org.query("SELECT COUNT() FROM Contact")["totalSize"] == 0


def test_tree_export_and_import(sf_cli, org, logged_in, tmp_path):
    org.seed([{"sobject": "Account", "fields": {"Name": "Tree Co"}},
              {"sobject": "Contact", "fields": {"LastName": "Leaf", "AccountId": "@0"}}])
    code, exported = sf_cli("data", "export", "tree", "--target-org", "fake", "--output-dir", str(tmp_path),
                            "--query", "SELECT Name, (SELECT LastName FROM Contacts) FROM Account")
    assert code == 0, exported
    (tree_file,) = tmp_path.glob("*.json")
    tree = json.loads(tree_file.read_text())
    assert tree["records"][0]["Contacts"]["records"][0]["LastName"] == "Leaf"
    code, imported = sf_cli("data", "import", "tree", "--target-org", "fake", "--files", str(tree_file))
    assert code == 0, imported
    assert len(imported["result"]) == 2
    rows = org.query("SELECT LastName, Account.Name FROM Contact ORDER BY CreatedDate, Id")["records"]
    assert [(r["LastName"], r["Account"]["Name"]) for r in rows] == [("Leaf", "Tree Co")] * 2


def test_bulk_import_and_export(sf_cli, org, logged_in, tmp_path):
    source = tmp_path / "contacts.csv"
    source.write_text("LastName,Email\n" + "".join(f"Bulk {i},bulk{i}@example.com\n" for i in range(200)))
    code, imported = sf_cli("data", "import", "bulk", "--target-org", "fake", "--sobject", "Contact",
                            "--file", str(source), "--wait", "5")
    assert code == 0, imported
    assert imported["result"]["processedRecords"] == 200 and imported["result"]["failedRecords"] == 0
    out = tmp_path / "out.csv"
    code, exported = sf_cli("data", "export", "bulk", "--target-org", "fake", "--output-file", str(out),
                            "--query", "SELECT LastName, Email FROM Contact", "--wait", "5")
    assert code == 0, exported
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 200 and {r["Email"] for r in rows} == {f"bulk{i}@example.com" for i in range(200)}


def test_jwt_login(sf_cli, served, org, tmp_path):
    from datetime import datetime, timedelta, timezone

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sf-cli-jwt")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .sign(key, hashes.SHA256()))
    org.config.jwt_certificates["sf-cli-app"] = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_file = tmp_path / "server.key"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    code, answer = sf_cli("org", "login", "jwt", "--client-id", "sf-cli-app", "--jwt-key-file", str(key_file),
                          "--username", "admin@example.com", "--instance-url", served.url, "--alias", "jwt")
    assert code == 0, answer
    assert answer["result"]["orgId"] == org.org_id
    code, query = sf_cli("data", "query", "--target-org", "jwt", "--query", "SELECT Name FROM Organization")
    assert code == 0 and query["result"]["records"][0]["Name"] == "Fake Salesforce Org"


def test_schema_import_reads_what_sobject_describe_prints(sf_cli, org, logged_in, tmp_path):
    from fake_salesforce.schema.importer import import_describes, read_describes

    files = []
    for name in ("Account", "Contact", "Task"):
        code, described = sf_cli("sobject", "describe", "--target-org", "fake", "--sobject", name)
        assert code == 0, described
        files.append(tmp_path / f"{name}.json")
        files[-1].write_text(json.dumps(described))  # as `sf sobject describe --json > FILE` writes it
    imported = import_describes(read_describes(files))
    assert imported.notes == []
    # Of the fake's own objects only what differs is written: here, the custom fields alone.
    written = {(o, f) for o, spec in imported.schema["objects"].items() for f in spec.get("fields", {})}
    assert all(f.endswith("__c") for _, f in written)
    assert {f for o, f in written if o == "Contact"} == {f["name"] for f in org.describe("Contact")["fields"]
                                                         if f["name"].endswith("__c")}
