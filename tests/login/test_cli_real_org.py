"""`callsim log` and `callsim webhooks` against a real org (the fake over HTTPS, reached by
plain simple-salesforce), and against a fake chosen with --fake."""
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from sflogin import login
from simulator.cli import main

USERNAME, PASSWORD, SECURITY_TOKEN, CLIENT_ID = "ops@acme.example", "s3cret", "TOKEN42", "acme-app"  # conftest's org
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOT_SET = {name: None for name in ("SF_USERNAME", "SF_PASSWORD", "SF_SECURITY_TOKEN", "SF_DOMAIN",
                                   "SF_ACCESS_TOKEN", "SF_INSTANCE_URL", "SF_CLIENT_ID", "SF_JWT_KEY_FILE")}


@pytest.fixture
def contact(tls_org):
    """The contact the example call's number matches."""
    sf = login(username=USERNAME, password=PASSWORD, security_token=SECURITY_TOKEN, domain=tls_org.url,
               verify=tls_org.certfile, env={})
    return sf.Contact.create({"LastName": "Martin", "Phone": "+33612345678"})["id"]


@pytest.fixture
def event(tmp_path):
    path = tmp_path / "call.json"
    shutil.copy(EXAMPLES / "call.ended.json", path)
    return path


def invoke(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env={**NOT_SET, **(env or {})})


def logged_task(result, org_url, ca):
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output.splitlines()[0])
    sf = login(username=USERNAME, password=PASSWORD, security_token=SECURITY_TOKEN, domain=org_url,
               verify=ca, env={})
    return sf.query(f"SELECT WhoId, CallObject FROM Task WHERE Id = '{outcome['task_id']}'")["records"][0]


def test_log_into_a_real_org_from_the_environment(tls_org, event, contact):
    env = {"SF_USERNAME": USERNAME, "SF_PASSWORD": PASSWORD, "SF_SECURITY_TOKEN": SECURITY_TOKEN,
           "SF_DOMAIN": tls_org.url}
    task = logged_task(invoke("log", event, "--verify", tls_org.certfile, env=env), tls_org.url, tls_org.certfile)
    assert task["WhoId"] == contact and task["CallObject"]


def test_log_with_an_access_token_and_with_jwt_options(tls_org, event, jwt_key, contact):
    token = login(username=USERNAME, password=PASSWORD, security_token=SECURITY_TOKEN,
                  domain=tls_org.url, verify=tls_org.certfile, env={}).session_id
    result = invoke("log", event, "--access-token", token, "--instance-url", tls_org.url,
                    "--verify", tls_org.certfile)
    assert logged_task(result, tls_org.url, tls_org.certfile)["WhoId"] == contact
    result = invoke("log", event, "--client-id", CLIENT_ID, "--jwt-key-file", jwt_key[0], "--username",
                    USERNAME, "--domain", tls_org.url, "--verify", tls_org.certfile)
    assert logged_task(result, tls_org.url, tls_org.certfile)["WhoId"] == contact


@pytest.mark.parametrize("command", [["log", "{event}"], ["webhooks", "--token", "t"]])
def test_missing_and_contradicting_credentials_exit_2(command, event):
    args = [a.format(event=event) for a in command]
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.output.startswith("Error: no credentials for the org: give a password")
    result = invoke(*args, env={"SF_USERNAME": "u", "SF_PASSWORD": "p", "SF_INSTANCE_URL": "https://x"})
    assert result.exit_code == 2
    assert result.output == ("Error: SF_INSTANCE_URL does not go with a password login (SF_PASSWORD): "
                             "this login finds the instance itself; say where to log in with --domain\n")
    result = invoke(*args, "--access-token", "t", env={"SF_DOMAIN": "test", "SF_PASSWORD": "p"})
    assert result.exit_code == 2
    assert result.output == ("Error: access token login (--access-token) needs --instance-url "
                             "(or SF_INSTANCE_URL)\n")


def test_a_refused_login_exits_1_and_an_unreachable_org_3(tls_org, event):
    result = invoke("log", event, "--username", USERNAME, "--password", "wrong", "--domain", tls_org.url,
                    "--verify", tls_org.certfile)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {tls_org.url}: login refused: INVALID_LOGIN")
    result = invoke("webhooks", "--token", "t", "--access-token", "t", "--instance-url", "https://localhost:1")
    assert result.exit_code == 3
    assert result.output == "Error: cannot reach https://localhost:1: Connection refused\n"


def test_fake_ignores_the_real_orgs_variables_and_refuses_real_org_options(event, tls_org):
    env = {"SF_USERNAME": "someone@real.example", "SF_PASSWORD": "x", "SF_DOMAIN": "test"}
    settings = EXAMPLES / "settings.yaml"  # creates a contact for an unknown number
    result = invoke("log", event, "--settings", settings, "--fake", env=env)  # bare: a new in-process org
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[0])["task_id"]
    result = invoke("log", event, "--domain", "test", "--fake")
    assert result.exit_code == 2
    assert "Invalid value for --domain: is for a real org; a fake is logged into with --username" in result.output
