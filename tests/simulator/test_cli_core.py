"""`callsim log` and `callsim webhooks`: the logging core as a command against a running org."""
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

import fake_salesforce
from fake_salesforce.server import FakeServer
from simulator.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def server():
    with FakeServer() as s:
        yield s


@pytest.fixture
def example(tmp_path):
    path = tmp_path / "call.json"
    shutil.copy(EXAMPLES / "call.ended.json", path)
    return path


def test_log_an_event_file(server, example, tmp_path):
    sf = fake_salesforce.connect(server.url)
    contact = sf.Contact.create({"LastName": "Martin", "Phone": "+33612345678"})["id"]
    result = CliRunner().invoke(main, ["log", str(example), "--fake", server.url])
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output.splitlines()[0])
    assert outcome["logged"] is True and outcome["record"]["id"] == contact
    task = sf.query(f"SELECT WhoId, CallObject FROM Task WHERE Id = '{outcome['task_id']}'")["records"][0]
    assert task["WhoId"] == contact and task["CallObject"] == "1834567890"


def test_log_with_settings_file(server, example, tmp_path):
    settings = tmp_path / "settings.yaml"
    settings.write_text("unknown_number: create_lead\n")
    result = CliRunner().invoke(main, ["log", str(example), "--fake", server.url, "--settings", str(settings)])
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)
    assert outcome["record"]["sobject"] == "Lead" and outcome["record"]["created"] is True


def test_log_rejects_bad_settings_and_bad_events(server, example, tmp_path):
    settings = tmp_path / "settings.yaml"
    settings.write_text("unknown_number: create_widget\n")
    result = CliRunner().invoke(main, ["log", str(example), "--fake", server.url, "--settings", str(settings)])
    assert result.exit_code == 1
    assert "unknown_number" in result.output and "create_widget" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"resource": "call", "event": "call ended", "timestamp": 1, "token": "t", "data": {}}))
    result = CliRunner().invoke(main, ["log", str(bad), "--fake", server.url])
    assert result.exit_code == 1 and "call ended" in result.output
    sf = fake_salesforce.connect(server.url)
    assert sf.query("SELECT COUNT() FROM Task")["totalSize"] == 0


def test_a_settings_file_that_is_not_utf8_is_refused_by_name(server, example, tmp_path):
    settings = tmp_path / "settings.yaml"
    settings.write_bytes(b"\xff\xfeunknown_number: create_lead\n")
    result = CliRunner().invoke(main, ["log", str(example), "--fake", server.url, "--settings", str(settings)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"Error: {settings}: cannot read settings file: not UTF-8 text" in result.output
    assert fake_salesforce.connect(server.url).query("SELECT COUNT() FROM Task")["totalSize"] == 0


def test_webhooks_refuses_an_empty_host_as_usage(server):
    result = CliRunner().invoke(main, ["webhooks", "--token", "t", "--fake", server.url, "--host", " "])
    assert result.exit_code == 2, result.output
    assert "Invalid value for --host: must not be empty" in result.output


def test_log_wrong_credentials(server, example):
    result = CliRunner().invoke(main, ["log", str(example), "--fake", server.url, "--password", "nope"])
    assert result.exit_code == 1 and "login to" in result.output and "INVALID_LOGIN" in result.output


def test_webhook_receiver_command(server):
    proc = subprocess.Popen([sys.executable, "-m", "simulator.cli", "webhooks", "--fake", server.url,
                             "--token", "s3cret", "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "Receiving Aircall webhooks on" in line, line
        endpoint = line.split(" on ", 1)[1].split(" ")[0]
        payload = json.loads((EXAMPLES / "call.ended.json").read_text())
        wrong = requests.post(endpoint, json={**payload, "token": "nope"}, timeout=10)
        assert wrong.status_code == 401
        payload["token"] = "s3cret"
        response = requests.post(endpoint, json=payload, timeout=10)
        assert response.status_code == 200, response.text
        assert response.json()["logged"] is False and response.json()["rule"] == "R3.5"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        proc.stdout.close()
