"""examples/: every payload is a delivery the core accepts, and settings.yaml logs them."""
import json
from pathlib import Path

import pytest

from simulator.core import CallLogger, Settings, parse_webhook
from simulator.core.events import SUPPORTED_EVENTS

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PAYLOADS = sorted(EXAMPLES.glob("*.json"))


def test_the_examples_cover_calls_and_both_message_directions():
    events = {json.loads(p.read_text())["event"] for p in PAYLOADS}
    assert {"call.ended", "call.commented", "call.tagged", "message.received", "message.sent"} <= events
    assert events <= set(SUPPORTED_EVENTS)


def test_every_example_is_listed_in_the_examples_readme():
    readme = (EXAMPLES / "README.md").read_text()
    assert [p.name for p in PAYLOADS if f"`{p.name}`" not in readme] == []


@pytest.mark.parametrize("path", PAYLOADS, ids=lambda p: p.name)
def test_example_parses(path):
    event = parse_webhook(json.loads(path.read_text()))
    assert event.event == json.loads(path.read_text())["event"]


def test_settings_yaml_loads_and_logs_every_example_on_one_contact(sf):
    settings = Settings.from_yaml(EXAMPLES / "settings.yaml")
    assert settings.unknown_number.value == "create_contact"
    logger = CallLogger(sf, settings)
    ordered = ["call.ended.json", "call.commented.json", "call.tagged.json",
               "call.ended.voicemail.json", "call.ended.outbound_unanswered.json",
               "message.received.json", "message.sent.json"]
    assert sorted(ordered) == [p.name for p in PAYLOADS]
    outcomes = [logger.handle(json.loads((EXAMPLES / name).read_text())) for name in ordered]
    assert all(o.logged for o in outcomes), [o.reason for o in outcomes]
    assert [o.task_action for o in outcomes[:3]] == ["created", "updated", "updated"]
    contacts = sf.query("SELECT Id, Name, Email FROM Contact")["records"]
    assert [(c["Name"], c["Email"]) for c in contacts] == [("Jean Martin", "jean.martin@acme.example")]
    tasks = sf.query("SELECT Subject, Description FROM Task WHERE WhoId = '%s'" % contacts[0]["Id"])
    assert tasks["totalSize"] == 5
    first = next(t for t in tasks["records"] if "Inbound answered" in t["Subject"])
    assert "Invoice 42 resent by email" in first["Description"] and "follow-up" in first["Description"]
