"""sflogin: the three ways of logging in to an org, their options and SF_* variables, and
their errors. The org is the fake over HTTPS, reached the way a real org is."""
import socket

import pytest
from requests.adapters import HTTPAdapter

from sflogin import Credentials, CredentialsError, LoginFailed, OrgUnreachable, login, login_url

USERNAME, PASSWORD, SECURITY_TOKEN, CLIENT_ID = "ops@acme.example", "s3cret", "TOKEN42", "acme-app"  # conftest's org

NO_ENV: dict = {}


def plain(sf):
    """The client's requests go out through requests' own adapter: nothing rewrites a URL."""
    assert type(sf.session.get_adapter("https://example.com")) is HTTPAdapter
    return sf


def test_password_login_at_a_login_url(tls_org):
    sf = plain(login(username=USERNAME, password=PASSWORD, security_token=SECURITY_TOKEN,
                     domain=tls_org.url, verify=tls_org.certfile, env=NO_ENV))
    assert sf.sf_instance == tls_org.url.removeprefix("https://")
    created = sf.Contact.create({"LastName": "Real"})["id"]
    assert sf.query(f"SELECT LastName FROM Contact WHERE Id = '{created}'")["records"][0]["LastName"] == "Real"
    assert sf.query("SELECT Username FROM User")["records"][0]["Username"] == USERNAME


def test_access_token_and_instance_url(tls_org):
    token = login(username=USERNAME, password=PASSWORD, security_token=SECURITY_TOKEN,
                  domain=tls_org.url, verify=tls_org.certfile, env=NO_ENV).session_id
    sf = plain(login(access_token=token, instance_url=tls_org.url, verify=tls_org.certfile, env=NO_ENV))
    assert sf.Account.create({"Name": "By token"})["success"] is True


def test_jwt_bearer(tls_org, jwt_key):
    sf = plain(login(client_id=CLIENT_ID, jwt_key_file=str(jwt_key[0]), username=USERNAME,
                     domain=tls_org.url, verify=tls_org.certfile, env=NO_ENV))
    assert sf.query("SELECT Id FROM Organization")["totalSize"] == 1


def test_the_environment_variables(tls_org, jwt_key):
    env = {"SF_USERNAME": USERNAME, "SF_PASSWORD": PASSWORD, "SF_SECURITY_TOKEN": SECURITY_TOKEN,
           "SF_DOMAIN": tls_org.url}
    sf = login(verify=tls_org.certfile, env=env)
    env = {"SF_ACCESS_TOKEN": sf.session_id, "SF_INSTANCE_URL": tls_org.url}
    assert login(verify=tls_org.certfile, env=env).query("SELECT Id FROM User")["totalSize"] == 1
    env = {"SF_CLIENT_ID": CLIENT_ID, "SF_JWT_KEY_FILE": str(jwt_key[0]), "SF_USERNAME": USERNAME,
           "SF_DOMAIN": tls_org.url}
    assert login(verify=tls_org.certfile, env=env).query("SELECT Id FROM User")["totalSize"] == 1


def test_an_option_wins_over_its_variable_and_sets_other_ways_aside():
    env = {"SF_USERNAME": "env@x", "SF_PASSWORD": "p", "SF_ACCESS_TOKEN": "t", "SF_DOMAIN": "test"}
    creds = Credentials.resolve({"access_token": "mine", "instance_url": "https://acme.my.salesforce.com"}, env)
    assert creds.way == "access_token" and creds.values == {
        "access_token": "mine", "instance_url": "https://acme.my.salesforce.com"}
    creds = Credentials.resolve({"username": "flag@x"}, {"SF_USERNAME": "env@x", "SF_PASSWORD": "p"})
    assert creds.values["username"] == "flag@x" and creds.sources == {"username": "--username",
                                                                      "password": "SF_PASSWORD"}


@pytest.mark.parametrize("given, env, message", [
    ({}, {}, "no credentials for the org: give a password (--username and --password"),
    ({"password": "p"}, {}, "password login (--password) needs --username (or SF_USERNAME)"),
    ({}, {"SF_ACCESS_TOKEN": "t"}, "access token login (SF_ACCESS_TOKEN) needs --instance-url"),
    ({"jwt_key_file": "k", "username": "u"}, {}, "JWT bearer login (--jwt-key-file) needs --client-id"),
    ({}, {"SF_PASSWORD": "p", "SF_ACCESS_TOKEN": "t"},
     "credentials for more than one way of logging in: password (SF_PASSWORD) and access token "
     "(SF_ACCESS_TOKEN); give one"),
    ({"password": "p", "access_token": "t"}, {}, "more than one way of logging in"),
    ({"access_token": "t", "instance_url": "https://a.my.salesforce.com", "domain": "test"}, {},
     "--domain does not go with a access token login (--access-token)"),
    ({"username": "u", "password": "p", "instance_url": "https://a.my.salesforce.com"}, {},
     "--instance-url does not go with a password login"),
    ({"username": "u", "password": "p", "client_id": "c"}, {}, "--client-id does not go with"),
    ({"username": "u", "password": "p", "domain": "http://localhost:1"}, {},
     "--domain: expected https://HOST[:PORT], got 'http://localhost:1'"),
    ({"username": "u", "password": "p"}, {"SF_DOMAIN": "no such/domain"},
     "SF_DOMAIN: 'no such/domain' is not login, test, a My Domain name or an https:// URL"),
    ({"access_token": "t", "instance_url": "acme.my.salesforce.com"}, {},
     "--instance-url: expected https://HOST[:PORT] (the org's instance URL), got 'acme.my.salesforce.com'"),
    ({"client_id": "c", "jwt_key_file": "/no/such.key", "username": "u"}, {},
     "--jwt-key-file: no such file: /no/such.key"),
    ({"username": "u", "password": "p", "domain": "https://[x"}, {},
     "--domain: expected https://HOST[:PORT], got 'https://[x'"),
    ({"access_token": "t", "instance_url": "https://a.my.salesforce.com:99999"}, {},
     "--instance-url: expected https://HOST[:PORT] (the org's instance URL), got "
     "'https://a.my.salesforce.com:99999'"),
], ids=["none", "no username", "no instance url", "no client id", "two ways from env",
        "two ways as options", "domain with token", "instance url with password",
        "client id with password", "http domain", "bad domain", "bad instance url", "no key file",
        "unclosed bracket in domain", "instance url port out of range"])
def test_missing_or_contradicting_credentials(given, env, message):
    with pytest.raises(CredentialsError) as e:
        Credentials.resolve(given, env)
    assert message in str(e.value)
    assert e.value.exit_code == 2


def test_a_key_file_that_is_not_a_key(tls_org, tmp_path):
    bad = tmp_path / "bad.key"
    bad.write_text("not a key")
    with pytest.raises(CredentialsError, match="is not an RSA private key in PEM"):
        login(client_id=CLIENT_ID, jwt_key_file=str(bad), username=USERNAME, domain=tls_org.url,
              verify=tls_org.certfile, env=NO_ENV)


def test_refused_logins_exit_1(tls_org, jwt_key):
    cases = [
        dict(username=USERNAME, password="wrong", security_token=SECURITY_TOKEN, domain=tls_org.url),
        dict(username=USERNAME, password=PASSWORD, domain=tls_org.url),  # no security token
        dict(access_token="00Dxx!forged", instance_url=tls_org.url),
        dict(client_id="other-app", jwt_key_file=str(jwt_key[0]), username=USERNAME, domain=tls_org.url),
        dict(client_id=CLIENT_ID, jwt_key_file=str(jwt_key[0]), username="ghost@x", domain=tls_org.url),
    ]
    messages = []
    for case in cases:
        with pytest.raises(LoginFailed) as e:
            login(verify=tls_org.certfile, env=NO_ENV, **case)
        assert e.value.exit_code == 1
        messages.append(str(e.value))
    assert "login refused: INVALID_LOGIN" in messages[0]
    assert "the access token was refused (401): INVALID_SESSION_ID" in messages[2]
    assert "invalid_client_id" in messages[3] and "invalid_grant" in messages[4]


def test_an_org_that_does_not_answer_exits_3():
    with socket.socket() as s:  # a port nobody listens on: one the OS just handed out and took back
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OrgUnreachable) as e:
        login(username="u", password="p", domain=f"https://localhost:{port}", env=NO_ENV)
    assert e.value.exit_code == 3
    assert str(e.value) == f"cannot reach https://localhost:{port}: Connection refused"
    with pytest.raises(OrgUnreachable, match="cannot reach https://localhost:1: Connection refused"):
        login(access_token="t", instance_url="https://localhost:1", env=NO_ENV)


def test_an_org_that_never_answers_times_out():
    with socket.socket() as s:  # accepts connections (the backlog) and never says a word
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        url = f"https://localhost:{s.getsockname()[1]}"
        with pytest.raises(OrgUnreachable, match=f"cannot reach {url}: .*timed out"):
            login(username="u", password="p", domain=url, env=NO_ENV, timeout=(1, 0.5))


def test_the_client_keeps_the_timeout_for_later_requests(tls_org):
    sf = login(access_token=login(username=USERNAME, password=PASSWORD, security_token=SECURITY_TOKEN,
                                  domain=tls_org.url, verify=tls_org.certfile, env=NO_ENV).session_id,
               instance_url=tls_org.url, verify=tls_org.certfile, env=NO_ENV, timeout=7)
    assert sf.session.timeout == 7


def test_an_untrusted_certificate_is_unreachable_with_a_hint(tls_org):
    with pytest.raises(OrgUnreachable, match=r"TLS failed: .*certificate.* \(for a self-signed "
                                             r"certificate, pass --verify CERT\)"):
        login(username=USERNAME, password=PASSWORD, domain=tls_org.url, env=NO_ENV)


@pytest.mark.parametrize("domain, url", [
    (None, "https://login.salesforce.com"), ("login", "https://login.salesforce.com"),
    ("test", "https://test.salesforce.com"), ("acme", "https://acme.my.salesforce.com"),
    ("acme.my", "https://acme.my.salesforce.com"),
    ("acme--uat.sandbox.my", "https://acme--uat.sandbox.my.salesforce.com"),
    ("acme.my.salesforce.com", "https://acme.my.salesforce.com"),
    ("https://localhost:8443/", "https://localhost:8443"),
])
def test_login_urls(domain, url):
    assert login_url(domain) == url
