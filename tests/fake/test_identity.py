"""Identity, the Organization record, /recent, query column metadata, and the SOAP calls
besides login."""
import pytest

from fake_salesforce.client import INPROCESS_HOST, make_session

SOAP = ('<?xml version="1.0"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">'
        '<env:Header><SessionHeader xmlns="urn:partner.soap.sforce.com"><sessionId>{token}</sessionId>'
        '</SessionHeader></env:Header><env:Body><{call} xmlns="urn:partner.soap.sforce.com"/></env:Body>'
        '</env:Envelope>')


def _base(fake_org):
    """The base URL the test's clients reach: the server, or the host the in-process adapter answers."""
    return fake_org.url if fake_org.transport == "http" else f"https://{INPROCESS_HOST}"


def test_identity_url_and_userinfo_describe_the_session_user(fake_org, sf):
    identity_url = sf.restful("")["identity"]
    headers = {"Authorization": f"Bearer {sf.session_id}"}
    me = sf.session.get(identity_url, headers=headers).json()
    assert me["user_id"] == fake_org.org.admin_id and me["organization_id"] == fake_org.org.org_id
    assert me["username"] == "admin@example.com"
    assert me["urls"]["rest"].startswith(_base(fake_org) + "/services/data/v")
    info = sf.session.get(_base(fake_org) + "/services/oauth2/userinfo", headers=headers).json()
    assert info["preferred_username"] == "admin@example.com" and info["sub"] == identity_url
    bad = sf.session.get(identity_url, headers={"Authorization": "Bearer nope"})
    assert (bad.status_code, bad.text) == (403, "Bad_OAuth_Token")


def test_organization_is_queryable_and_read_only(sf, fake_org):
    org = sf.query("SELECT Id, Name, IsSandbox, InstanceName, OrganizationType FROM Organization")
    assert org["totalSize"] == 1
    assert org["records"][0]["Id"] == fake_org.org.org_id and org["records"][0]["IsSandbox"] is False
    with pytest.raises(Exception) as info:
        sf.Organization.create({"Name": "Another"})
    assert "CANNOT_INSERT_UPDATE" in str(info.value)


def test_recent_lists_the_latest_records(sf):
    first = sf.Contact.create({"LastName": "Older"})["id"]
    second = sf.Account.create({"Name": "Newer"})["id"]
    recent = sf.restful("recent", params={"limit": 2})
    assert {r["Id"] for r in recent} == {first, second}
    assert all(set(r) == {"attributes", "Id", "Name"} for r in recent)


def test_query_columns_describe_the_select_list(sf):
    answer = sf.restful("query", params={"q": "SELECT LastName, Account.Name, COUNT(Id) FROM Contact "
                                                   "GROUP BY LastName, Account.Name", "columns": "true"})
    names = [c["columnName"] for c in answer["columnMetadata"]]
    assert names == ["LastName", "Account", "expr0"]
    assert answer["columnMetadata"][1]["joinColumns"][0]["columnName"] == "Name"
    assert answer["entityName"] == "Contact" and answer["idSelected"] is False and answer["groupBy"]


def test_query_columns_of_a_typeof_are_refused_by_name(sf):
    response = sf.session.get(sf.base_url + "query", headers=sf.headers, params={
        "q": "SELECT Id, TYPEOF What WHEN Account THEN Name END FROM Task", "columns": "true"})
    assert response.status_code == 501
    (error,) = response.json()
    assert error["errorCode"] == "FAKE_NOT_IMPLEMENTED" and "TYPEOF" in error["message"]


def test_soap_get_user_info_and_logout(fake_org, sf):
    session = make_session(fake_org.target)
    url = _base(fake_org) + "/services/Soap/u/59.0/" + fake_org.org.org_id

    def call(name):
        return session.post(url, data=SOAP.format(token=sf.session_id, call=name),
                            headers={"Content-Type": "text/xml", "SOAPAction": name})

    info = call("getUserInfo")
    assert info.status_code == 200 and "<userName>admin@example.com</userName>" in info.text
    assert call("logout").status_code == 200
    after = call("getUserInfo")
    assert after.status_code == 500 and "<faultcode>sf:INVALID_SESSION_ID</faultcode>" in after.text


def test_enterprise_soap_login_and_metadata_api_fault(fake_org):
    session = make_session(fake_org.target)
    body = ('<?xml version="1.0"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">'
            '<env:Body><login xmlns="urn:enterprise.soap.sforce.com"><username>admin@example.com</username>'
            '<password>password</password></login></env:Body></env:Envelope>')
    answer = session.post(_base(fake_org) + "/services/Soap/c/59.0", data=body,
                          headers={"Content-Type": "text/xml", "SOAPAction": "login"})
    assert answer.status_code == 200 and "/services/Soap/c/59.0/" in answer.text
    metadata = session.post(_base(fake_org) + "/services/Soap/m/59.0", data=body,
                            headers={"Content-Type": "text/xml", "SOAPAction": "login"})
    assert metadata.status_code == 501 and metadata.headers["Content-Type"].startswith("text/xml")
    assert "the Metadata API" in metadata.text
