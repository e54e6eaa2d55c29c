"""Every URL the fake hands out uses the scheme and host the request came in on."""
import re

import pytest
import requests

from fake_salesforce import Org
from fake_salesforce.server import FakeServer
from fake_salesforce.tls import make_self_signed

SOAP_LOGIN = (
    '<?xml version="1.0" encoding="utf-8"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">'
    '<env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com"><n1:username>admin@example.com</n1:username>'
    "<n1:password>password</n1:password></n1:login></env:Body></env:Envelope>")


@pytest.fixture(scope="module", params=["http", "https"])
def served(request, tmp_path_factory):
    options = {}
    if request.param == "https":
        crt, key = make_self_signed(tmp_path_factory.mktemp("tls"))
        options = {"certfile": crt, "keyfile": key}
    server = FakeServer(Org(), **options).start()
    session = requests.Session()
    session.trust_env = False
    session.verify = str(options["certfile"]) if options else True
    yield server, session
    server.stop()


def test_oauth_token_urls_use_the_request_scheme_and_host(served):
    server, session = served
    answer = session.post(server.url + "/services/oauth2/token", data={
        "grant_type": "password", "client_id": "fake-salesforce", "client_secret": "fake-salesforce-secret",
        "username": "admin@example.com", "password": "password"}).json()
    assert answer["instance_url"] == server.url
    assert answer["id"].startswith(server.url + "/id/00D")


def test_soap_login_server_url_uses_the_request_scheme_and_host(served):
    server, session = served
    text = session.post(server.url + "/services/Soap/u/59.0", data=SOAP_LOGIN,
                        headers={"Content-Type": "text/xml", "SOAPAction": "login"}).text
    urls = re.findall(r"<(?:serverUrl|metadataServerUrl)>([^<]+)<", text)
    assert len(urls) == 2
    assert all(u.startswith(server.url + "/services/Soap/") for u in urls)
