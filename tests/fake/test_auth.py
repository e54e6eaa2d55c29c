"""Logging in: SOAP, OAuth grants, bearer tokens, expiry and the client's own re-login."""

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceExpiredSession

from fake_salesforce import make_session
from fake_salesforce.client import INPROCESS_HOST


def test_soap_login_gives_a_working_client(fake_org):
    sf = fake_org.client()
    assert sf.session_id
    users = sf.query("SELECT Id, Username FROM User")
    assert [r["Username"] for r in users["records"]] == ["admin@example.com"]


def test_wrong_password_raises_the_clients_own_error(fake_org):
    with pytest.raises(SalesforceAuthenticationFailed) as info:
        fake_org.client(password="wrong")
    assert info.value.code == "INVALID_LOGIN"
    assert "Invalid username, password, security token; or user locked out." in str(info.value)


def test_unknown_user_is_invalid_login(fake_org):
    with pytest.raises(SalesforceAuthenticationFailed) as info:
        fake_org.client(username="nobody@example.com")
    assert info.value.code == "INVALID_LOGIN"


def test_security_token_is_part_of_the_password(fake_org):
    fake_org.control.seed([{"sobject": "User", "password": "pw", "security_token": "TOK", "fields": {
        "Username": "sam@example.com", "LastName": "Agent", "Email": "sam@example.com", "Alias": "sam",
        "TimeZoneSidKey": "Europe/Paris", "LocaleSidKey": "fr_FR", "EmailEncodingKey": "UTF-8",
        "LanguageLocaleKey": "fr"}}])
    sf = fake_org.client("sam@example.com", "pw", "TOK")
    me = sf.query("SELECT Name FROM User WHERE Username = 'sam@example.com'")
    assert me["records"][0]["Name"] == "Agent"
    with pytest.raises(SalesforceAuthenticationFailed):
        fake_org.client("sam@example.com", "pw", "")


def test_inactive_user_cannot_log_in(fake_org, sf):
    fake_org.control.seed([{"sobject": "User", "password": "pw", "fields": {
        "Username": "gone@example.com", "LastName": "Gone", "Email": "gone@example.com", "Alias": "gone",
        "IsActive": False, "TimeZoneSidKey": "GMT", "LocaleSidKey": "en_US",
        "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US"}}])
    with pytest.raises(SalesforceAuthenticationFailed):
        fake_org.client("gone@example.com", "pw")


def test_oauth_password_grant(fake_org):
    sf = Salesforce(username="admin@example.com", password="password", consumer_key="fake-salesforce",
                    consumer_secret="fake-salesforce-secret", session=make_session(fake_org.target))
    assert sf.Contact.create({"LastName": "Via OAuth"})["success"] is True


def test_oauth_password_grant_wrong_password(fake_org):
    with pytest.raises(SalesforceAuthenticationFailed) as info:
        Salesforce(username="admin@example.com", password="nope", consumer_key="fake-salesforce",
                   consumer_secret="fake-salesforce-secret", session=make_session(fake_org.target))
    assert info.value.code == "invalid_grant"
    assert "authentication failure" in str(info.value)


def test_oauth_unknown_client(fake_org):
    with pytest.raises(SalesforceAuthenticationFailed) as info:
        Salesforce(username="admin@example.com", password="password", consumer_key="other",
                   consumer_secret="x", session=make_session(fake_org.target))
    assert info.value.code == "invalid_client_id"


def test_oauth_client_credentials_grant(fake_org):
    sf = Salesforce(consumer_key="fake-salesforce", consumer_secret="fake-salesforce-secret", domain="acme.my",
                    session=make_session(fake_org.target))
    record = sf.Contact.create({"LastName": "Client credentials"})
    owner = sf.Contact.get(record["id"])["OwnerId"]
    admin = sf.query("SELECT Id FROM User WHERE Username = 'admin@example.com'")["records"][0]["Id"]
    assert owner == admin


def test_oauth_client_credentials_bad_secret(fake_org):
    with pytest.raises(SalesforceAuthenticationFailed) as info:
        Salesforce(consumer_key="fake-salesforce", consumer_secret="wrong", domain="acme.my",
                   session=make_session(fake_org.target))
    assert info.value.code == "invalid_client"


def _raw(fake_org, headers):
    session = make_session(fake_org.target)
    base = fake_org.url if fake_org.transport == "http" else f"https://{INPROCESS_HOST}"
    return session.get(base + "/services/data/v59.0/sobjects/Contact/describe", headers=headers)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"},
                                     {"Authorization": "Basic abc"}])
def test_missing_or_unknown_token_is_401_invalid_session(fake_org, headers):
    response = _raw(fake_org, headers)
    assert response.status_code == 401
    assert response.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    assert response.headers["Content-Type"].startswith("application/json")


def test_expired_session_is_renewed_by_the_client(fake_org, sf):
    before = sf.session_id
    assert fake_org.control.expire_sessions() >= 1
    assert sf.Contact.create({"LastName": "After expiry"})["success"] is True
    assert sf.session_id != before


def test_direct_session_client_sees_expiry(fake_org, sf):
    direct = Salesforce(session_id=sf.session_id, instance=sf.sf_instance, session=sf.session)
    assert direct.query("SELECT Id FROM User")["totalSize"] == 1
    fake_org.control.expire_sessions()
    with pytest.raises(SalesforceExpiredSession) as info:
        direct.query("SELECT Id FROM User")
    assert info.value.content[0]["errorCode"] == "INVALID_SESSION_ID"


def test_session_of_a_client_serves_further_clients(fake_org, sf):
    other = Salesforce(session_id=sf.session_id, instance=sf.sf_instance, session=sf.session)
    created = other.Lead.create({"LastName": "Shared", "Company": "Acme"})
    assert sf.Lead.get(created["id"])["Company"] == "Acme"


def test_soap_fault_for_other_calls(fake_org):
    session = make_session(fake_org.target)
    body = ('<?xml version="1.0"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">'
            '<env:Body><n1:describeTabs xmlns:n1="urn:partner.soap.sforce.com"/></env:Body></env:Envelope>')
    response = session.post("https://login.salesforce.com/services/Soap/u/59.0", data=body,
                            headers={"SOAPAction": "describeTabs", "Content-Type": "text/xml"})
    assert response.status_code == 501
    assert b"<faultcode>sf:FAKE_NOT_IMPLEMENTED</faultcode>" in response.content
    assert b"describeTabs" in response.content


def test_malformed_soap_body(fake_org):
    session = make_session(fake_org.target)
    response = session.post("https://login.salesforce.com/services/Soap/u/59.0", data=b"<not xml",
                            headers={"SOAPAction": "login", "Content-Type": "text/xml"})
    assert response.status_code == 500
    assert b"INVALID_REQUEST" in response.content


@pytest.fixture(scope="module")
def jwt_keys():
    from datetime import datetime, timedelta, timezone

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jwt-app")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .sign(key, hashes.SHA256()))
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return private, cert.public_bytes(serialization.Encoding.PEM).decode()


def test_jwt_bearer_login(fake_org, jwt_keys):
    private, certificate = jwt_keys
    fake_org.control.register_jwt_certificate("jwt-app", certificate)
    sf = Salesforce(username="admin@example.com", consumer_key="jwt-app", privatekey=private,
                    session=make_session(fake_org.target))
    assert sf.Contact.create({"LastName": "Via JWT"})["success"] is True


def test_jwt_bearer_unknown_app_and_wrong_key(fake_org, jwt_keys):
    private, certificate = jwt_keys
    with pytest.raises(SalesforceAuthenticationFailed) as info:
        Salesforce(username="admin@example.com", consumer_key="unregistered", privatekey=private,
                   session=make_session(fake_org.target))
    assert info.value.code == "invalid_client_id"
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    fake_org.control.register_jwt_certificate("jwt-app", certificate)
    with pytest.raises(SalesforceAuthenticationFailed) as info:
        Salesforce(username="admin@example.com", consumer_key="jwt-app", privatekey=other,
                   session=make_session(fake_org.target))
    assert info.value.code == "invalid_grant"


def test_jwt_bearer_unknown_user(fake_org, jwt_keys):
    private, certificate = jwt_keys
    fake_org.control.register_jwt_certificate("jwt-app", certificate)
    # Salesforce's answer for an unknown user makes simple-salesforce warn about approval.
    with pytest.raises(SalesforceAuthenticationFailed) as info, pytest.warns(UserWarning, match="authorize"):
        Salesforce(username="ghost@example.com", consumer_key="jwt-app", privatekey=private,
                   session=make_session(fake_org.target))
    assert info.value.code == "invalid_grant"
