"""Shorthand events expanded into Aircall webhooks: shapes, call-type semantics, determinism."""
from __future__ import annotations

import copy
import json
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

from simulator.aircall import DEFAULT_AGENT, ScenarioWebhooks, WebhookFactory
from simulator.scenario import CALL_TYPES, parse_scenario

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "aircall_examples"
CALL_EXAMPLE = json.loads((EXAMPLES / "call.ended.json").read_text())
MESSAGE_EXAMPLE = json.loads((EXAMPLES / "message.received.json").read_text())
NOW = datetime(2026, 11, 2, 10, 0, 0, tzinfo=timezone.utc)
NOW_S = int(NOW.timestamp())

SCENARIO = parse_scenario(textwrap.dedent("""
    name: Webhook shapes
    org:
      users:
        - {ref: sam, FirstName: Sam, LastName: Agent, Email: sam@example.com}
      numbers:
        - {ref: support, name: Paris Support, digits: "+33 1 76 36 06 95", time_zone: Europe/Paris}
    events:
      - call:
          ref: full
          type: inbound_answered
          external: "+33 6 12 34 56 78"
          agent: sam
          duration: 95
          wait: 12
          comments: ["Wants a callback"]
          tags: [billing, vip]
          contact: {first_name: Jean, last_name: Martin, email: jean@acme.example, company: Acme SAS}
      - sms: {ref: text, direction: inbound, external: "+33 6 12 34 56 78", body: Call me back,
              contact: {first_name: Jean, last_name: Martin}}
"""), "shapes.yaml")


def call(text: str):
    """A call event from its shorthand mapping, in a scenario with the default number."""
    return parse_scenario(f"name: T\nevents:\n  - call: {text}\n", "t.yaml").events[0]


def sms(text: str):
    return parse_scenario(f"name: T\nevents:\n  - sms: {text}\n", "t.yaml").events[0]


@pytest.fixture
def factory():
    return WebhookFactory("Webhook shapes", "tok")


def expand(factory, event, agent=None, number=None):
    number = number or parse_scenario("name: T\nevents: []\n").org.numbers[0]
    return factory.call_ended(event, number, agent, NOW)


def keys_and_types(value):
    """A nested description of keys and value types, lists described by their first item."""
    if isinstance(value, dict):
        return {k: keys_and_types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [keys_and_types(value[0])] if value else []
    return type(value).__name__


def type_compatible(example, actual, path=""):
    """Differences where ``actual`` lacks a key of ``example`` or has another non-null type."""
    problems = []
    if isinstance(example, dict):
        if not isinstance(actual, dict):
            return [f"{path}: {type(actual).__name__} instead of a mapping"]
        for key, value in example.items():
            if key not in actual:
                problems.append(f"{path}.{key}: missing")
            else:
                problems += type_compatible(value, actual[key], f"{path}.{key}")
    elif isinstance(example, list):
        if example and actual:
            problems += type_compatible(example[0], actual[0], f"{path}[0]")
    elif example is not None and actual is not None and type(example) is not type(actual):
        problems.append(f"{path}: {type(actual).__name__} instead of {type(example).__name__}")
    return problems


# --- shapes ---------------------------------------------------------------------------------


def test_call_ended_has_exactly_the_example_keys():
    hook = ScenarioWebhooks(SCENARIO, "tok").webhook_for(SCENARIO.event("full"), NOW)
    assert set(hook) == set(CALL_EXAMPLE)
    assert set(hook["data"]) == set(CALL_EXAMPLE["data"])
    for nested in ("user", "contact", "number"):
        assert set(hook["data"][nested]) == set(CALL_EXAMPLE["data"][nested]), nested
    for listed in ("comments", "tags", "teams"):
        assert set(hook["data"][listed][0]) == set(CALL_EXAMPLE["data"][listed][0]), listed
    assert set(hook["data"]["comments"][0]["posted_by"]) == {"id", "name"}
    assert keys_and_types(hook["data"]["contact"]) == keys_and_types(CALL_EXAMPLE["data"]["contact"])


def test_call_ended_value_types_match_the_example():
    hook = ScenarioWebhooks(SCENARIO, "tok").webhook_for(SCENARIO.event("full"), NOW)
    assert type_compatible(CALL_EXAMPLE, hook) == []


def test_message_has_every_example_key_with_matching_types():
    hook = ScenarioWebhooks(SCENARIO, "tok").webhook_for(SCENARIO.event("text"), NOW)
    assert type_compatible(MESSAGE_EXAMPLE, hook) == []
    assert set(hook["data"]) - set(MESSAGE_EXAMPLE["data"]) == {"user"}
    # messages carry the full number and contact objects of calls
    assert set(hook["data"]["number"]) == set(CALL_EXAMPLE["data"]["number"])
    assert set(hook["data"]["contact"]) == set(CALL_EXAMPLE["data"]["contact"])


def test_call_ended_values_of_the_full_example():
    hook = ScenarioWebhooks(SCENARIO, "tok").webhook_for(SCENARIO.event("full"), NOW)
    data = hook["data"]
    assert (hook["resource"], hook["event"], hook["token"], hook["timestamp"]) == (
        "call", "call.ended", "tok", NOW_S)
    assert (data["direction"], data["status"], data["raw_digits"]) == ("inbound", "done", "+33 6 12 34 56 78")
    assert data["direct_link"] == f"https://api.aircall.io/v1/calls/{data['id']}"
    assert data["call_uuid"].startswith("CA") and len(data["call_uuid"]) == 34
    assert (data["user"]["name"], data["user"]["email"]) == ("Sam Agent", "sam@example.com")
    assert data["number"] | {"id": 0, "direct_link": ""} == {
        "id": 0, "direct_link": "", "name": "Paris Support", "digits": "+33 1 76 36 06 95",
        "e164_digits": "+33176360695", "country": "FR", "time_zone": "Europe/Paris", "open": True,
        "availability_status": "open", "is_ivr": False, "live_recording_activated": True,
        "priority": None,
    }
    assert [c["content"] for c in data["comments"]] == ["Wants a callback"]
    assert data["comments"][0]["posted_by"] == {"id": data["user"]["id"], "name": "Sam Agent"}
    assert [t["name"] for t in data["tags"]] == ["billing", "vip"]
    contact = data["contact"]
    assert (contact["first_name"], contact["last_name"], contact["company_name"]) == ("Jean", "Martin", "Acme SAS")
    assert [p["value"] for p in contact["phone_numbers"]] == ["+33612345678"]
    assert [e["value"] for e in contact["emails"]] == ["jean@acme.example"]


# --- call types (R1.1) ------------------------------------------------------------------------


def call_type_of(data: dict) -> str:
    """R1.1, as the logging core reads a call."""
    if data["direction"] == "outbound":
        return "outbound_answered" if data["answered_at"] else "outbound_unanswered"
    if data["answered_at"]:
        return "inbound_answered"
    return "voicemail" if data["voicemail"] else "missed"


SEMANTICS = [
    # type, direction, answered, voicemail link, missed_call_reason
    ("outbound_answered", "outbound", True, False, None),
    ("outbound_unanswered", "outbound", False, False, None),
    ("inbound_answered", "inbound", True, False, None),
    ("missed", "inbound", False, False, "agents_did_not_answer"),
    ("voicemail", "inbound", False, True, "agents_did_not_answer"),
]


@pytest.mark.parametrize("call_type, direction, answered, has_voicemail, reason", SEMANTICS)
def test_call_type_semantics(factory, call_type, direction, answered, has_voicemail, reason):
    data = expand(factory, call(f"{{ref: c1, type: {call_type}}}"))["data"]
    assert data["direction"] == direction
    assert (data["answered_at"] is not None) is answered
    assert (data["voicemail"] is not None) is has_voicemail
    assert data["missed_call_reason"] == reason
    assert call_type_of(data) == call_type


def test_every_call_type_is_covered():
    assert sorted(row[0] for row in SEMANTICS) == sorted(CALL_TYPES)


@pytest.mark.parametrize("call_type, reason", [
    ("missed", "out_of_opening_hours"),
    ("voicemail", "out_of_opening_hours"),
    ("inbound_answered", None),
    ("outbound_unanswered", None),
])
def test_closed_line(factory, call_type, reason):
    data = expand(factory, call(f"{{ref: c1, type: {call_type}, number_open: false}}"))["data"]
    assert (data["number"]["open"], data["number"]["availability_status"]) == (False, "closed")
    assert data["missed_call_reason"] == reason
    assert call_type_of(data) == call_type


TIMING = [
    # shorthand, started_at, answered_at, duration, wait time (R6.7)
    ("{ref: c1, type: inbound_answered, duration: 95, wait: 12}", NOW_S - 95, NOW_S - 83, 95, 12),
    ("{ref: c1, type: outbound_answered}", NOW_S - 60, NOW_S - 55, 60, 5),
    ("{ref: c1, type: missed, wait: 20}", NOW_S - 20, None, 0, 20),
    ("{ref: c1, type: voicemail, duration: 30, wait: 25}", NOW_S - 25, None, 30, 25),
    ("{ref: c1, type: outbound_unanswered}", NOW_S - 5, None, 0, 5),
]


@pytest.mark.parametrize("shorthand, started, answered, duration, wait", TIMING)
def test_timing(factory, shorthand, started, answered, duration, wait):
    data = expand(factory, call(shorthand))["data"]
    assert (data["started_at"], data["answered_at"], data["ended_at"]) == (started, answered, NOW_S)
    assert data["duration"] == duration
    waited = (data["answered_at"] or data["ended_at"]) - data["started_at"]
    assert waited == wait


# --- recordings, parties, agents ------------------------------------------------------------------


@pytest.mark.parametrize("shorthand, kind", [
    ("{ref: c1, type: inbound_answered}", "generated"),
    ("{ref: c1, type: inbound_answered, recording: true}", "generated"),
    ("{ref: c1, type: outbound_answered, recording: 'https://rec.example/c1.mp3'}", "given"),
    ("{ref: c1, type: inbound_answered, recording: false}", None),
    ("{ref: c1, type: missed}", None),
    ("{ref: c1, type: voicemail}", None),
])
def test_recording(factory, shorthand, kind):
    data = expand(factory, call(shorthand))["data"]
    if kind is None:
        assert (data["recording"], data["recording_short_url"]) == (None, None)
        assert data["asset"] is None or "/voicemail/" in data["asset"]
    elif kind == "given":
        assert data["recording"] == "https://rec.example/c1.mp3"
        assert data["asset"] is None
    else:
        assert data["recording"].startswith("https://aircall-recordings.s3.amazonaws.com/")
        assert data["asset"] == f"https://assets.aircall.io/recording/{data['id']}"
        assert data["recording_short_url"].startswith("https://short-urls.aircall.io/v1/")


def test_voicemail_link_and_asset(factory):
    data = expand(factory, call("{ref: c1, type: voicemail}"))["data"]
    assert data["voicemail"].startswith("https://aircall-voicemails.s3.amazonaws.com/")
    assert data["asset"] == f"https://assets.aircall.io/voicemail/{data['id']}"


def test_anonymous_caller(factory):
    data = expand(factory, call("{ref: c1, type: missed, external: anonymous, contact: {last_name: X}}"))["data"]
    assert data["raw_digits"] == "anonymous"
    assert data["contact"]["phone_numbers"] == []


def test_no_contact_block_means_no_contact(factory):
    assert expand(factory, call("{ref: c1, type: missed}"))["data"]["contact"] is None


def test_contact_with_its_own_phone_and_no_email(factory):
    data = expand(factory, call("{ref: c1, type: missed, external: '+1 212 555 0100', "
                                "contact: {last_name: Stone, phone: '+1 212 555 0199'}}"))["data"]
    contact = data["contact"]
    assert (contact["first_name"], contact["last_name"], contact["company_name"]) == (None, "Stone", None)
    assert [p["value"] for p in contact["phone_numbers"]] == ["+1 212 555 0199"]
    assert contact["emails"] == []


def test_a_missing_external_is_generated_in_a_fictional_range(factory):
    first = expand(factory, call("{ref: c1, type: missed}"))["data"]["raw_digits"]
    again = expand(WebhookFactory("Webhook shapes", "tok"), call("{ref: c1, type: missed}"))["data"]["raw_digits"]
    assert first == again
    assert first.startswith("+44 7700 900") and len(first) == len("+44 7700 900123")


@pytest.mark.parametrize("call_type, default_agent", [
    ("outbound_answered", True), ("outbound_unanswered", True), ("inbound_answered", True),
    ("missed", False), ("voicemail", False),
])
def test_calls_without_an_agent(factory, call_type, default_agent):
    user = expand(factory, call(f"{{ref: c1, type: {call_type}}}"))["data"]["user"]
    if default_agent:
        assert (user["name"], user["email"]) == ("Default Agent", DEFAULT_AGENT.email)
    else:
        assert user is None


def test_agent_given_by_email_only(factory):
    scenario = parse_scenario("name: T\nevents:\n  - call: {ref: c1, type: inbound_answered, "
                              "agent: jean.martin@agency.example}\n")
    event = scenario.events[0]
    user = factory.call_ended(event, scenario.number("main"), scenario.agent_user(event), NOW)["data"]["user"]
    assert (user["name"], user["email"]) == ("Jean Martin", "jean.martin@agency.example")
    assert user["time_zone"] == "America/New_York"


def test_agent_as_plain_fields(factory):
    user = expand(factory, call("{ref: c1, type: inbound_answered}"),
                  agent={"FirstName": "Ana", "LastName": "Ruiz", "Email": "ana@example.com"})["data"]["user"]
    assert (user["name"], user["email"]) == ("Ana Ruiz", "ana@example.com")


# --- messages ------------------------------------------------------------------------------


@pytest.mark.parametrize("direction, event, status, default_agent", [
    ("inbound", "message.received", "received", False),
    ("outbound", "message.sent", "sent", True),
])
def test_message_direction(factory, direction, event, status, default_agent):
    number = SCENARIO.number("support")
    hook = factory.message(sms(f"{{ref: s1, direction: {direction}, external: '+33612345678', body: Hi}}"),
                           number, None, NOW)
    data = hook["data"]
    assert (hook["resource"], hook["event"], hook["timestamp"]) == ("message", event, NOW_S)
    assert (data["direction"], data["status"], data["body"], data["external_number"]) == (
        direction, status, "Hi", "+33612345678")
    assert data["created_at"] == data["sent_at"] == data["updated_at"] == NOW_S * 1000
    assert data["direct_link"] == f"https://api.aircall.io/v1/numbers/{data['number']['id']}/messages/{data['id']}"
    assert (data["user"] is not None) is default_agent


def test_message_body_is_generated_when_absent(factory):
    number = SCENARIO.number("support")
    first = factory.message(sms("{ref: s1, direction: inbound}"), number, None, NOW)["data"]["body"]
    again = WebhookFactory("Webhook shapes", "x").message(sms("{ref: s1, direction: inbound}"), number, None, NOW)
    assert first and first == again["data"]["body"]


def test_message_on_a_closed_line(factory):
    data = factory.message(sms("{ref: s1, direction: inbound, number_open: false}"),
                           SCENARIO.number("support"), None, NOW)["data"]
    assert data["number"]["open"] is False


# --- later events of a call -------------------------------------------------------------------


def test_commented_appends_one_comment(factory):
    original = ScenarioWebhooks(SCENARIO, "tok").webhook_for(SCENARIO.event("full"), NOW)
    kept = copy.deepcopy(original)
    later = datetime(2026, 11, 2, 11, tzinfo=timezone.utc)
    hook = factory.commented(original, "Called back, solved", later)
    assert original == kept
    assert (hook["event"], hook["timestamp"]) == ("call.commented", int(later.timestamp()))
    assert [c["content"] for c in hook["data"]["comments"]] == ["Wants a callback", "Called back, solved"]
    new = hook["data"]["comments"][-1]
    assert new["posted_at"] == int(later.timestamp())
    assert new["posted_by"]["name"] == "Sam Agent"
    assert new["id"] != hook["data"]["comments"][0]["id"]
    rest = {k: v for k, v in hook["data"].items() if k != "comments"}
    assert rest == {k: v for k, v in original["data"].items() if k != "comments"}


def test_tagged_adds_new_tags_once(factory):
    original = ScenarioWebhooks(SCENARIO, "tok").webhook_for(SCENARIO.event("full"), NOW)
    hook = factory.tagged(original, ["vip", "callback"], NOW)
    assert hook["event"] == "call.tagged"
    assert [t["name"] for t in hook["data"]["tags"]] == ["billing", "vip", "callback"]


REPLAY = parse_scenario(textwrap.dedent("""
    name: Replay
    events:
      - at: "2026-11-02T10:00:00Z"
        call: {ref: c1, type: inbound_answered, external: "+1 212 555 0100"}
      - update: {ref: bob, fields: {Title: CEO}}
      - redeliver: c1
      - comment: {call: c1, content: First}
      - comment: {call: c1, content: Second}
      - webhook: {ref: w1, resource: call, event: call.ended, token: raw, timestamp: 1, data: {id: 5}}
      - redeliver: w1
    org:
      records: [{ref: bob, sobject: Lead, LastName: Stone, Company: Acme}]
"""), "replay.yaml")


def test_scenario_webhooks_replay_in_order():
    pairs = ScenarioWebhooks(REPLAY, "tok").expand_all()
    hooks = [hook for _, hook in pairs]
    assert hooks[1] is None
    assert hooks[2] == hooks[0]
    assert [h["event"] for h in hooks[3:5]] == ["call.commented", "call.commented"]
    assert [c["content"] for c in hooks[4]["data"]["comments"]] == ["First", "Second"]
    assert hooks[3]["timestamp"] == NOW_S + 3
    assert hooks[5] == {"resource": "call", "event": "call.ended", "token": "raw", "timestamp": 1, "data": {"id": 5}}
    assert hooks[6] == hooks[5]


def test_scenario_webhooks_hand_out_copies():
    stream = ScenarioWebhooks(REPLAY, "tok")
    first = stream.webhook_for(REPLAY.events[0], NOW)
    first["data"]["duration"] = -1
    assert stream.webhook_for(REPLAY.events[2], NOW)["data"]["duration"] == 60


# --- determinism -------------------------------------------------------------------------------


def test_reruns_are_identical():
    assert ScenarioWebhooks(SCENARIO, "tok").expand_all() == ScenarioWebhooks(SCENARIO, "tok").expand_all()


def test_the_seed_changes_generated_values():
    event = SCENARIO.event("full")
    number, agent = SCENARIO.number("support"), SCENARIO.user("sam")
    one = WebhookFactory("one", "t").call_ended(event, number, agent, NOW)["data"]
    two = WebhookFactory("two", "t").call_ended(event, number, agent, NOW)["data"]
    for key in ("id", "call_uuid", "recording"):
        assert one[key] != two[key], key
    assert one["started_at"] == two["started_at"]


def test_ids_are_stable_within_a_scenario(factory):
    number = SCENARIO.number("support")
    agent = SCENARIO.user("sam")
    first = factory.call_ended(call("{ref: c1, type: inbound_answered, tags: [vip]}"), number, agent, NOW)["data"]
    second = factory.call_ended(call("{ref: c2, type: inbound_answered, tags: [vip]}"), number, agent, NOW)["data"]
    assert first["id"] != second["id"] and first["call_uuid"] != second["call_uuid"]
    assert first["number"]["id"] == second["number"]["id"]
    assert first["user"]["id"] == second["user"]["id"]
    assert first["tags"] == second["tags"]
    assert 1_000_000_000 <= first["id"] <= 9_999_999_999


DELIVERIES = parse_scenario(textwrap.dedent("""
    name: Deliveries
    org:
      numbers:
        - {ref: support, name: Paris Support, digits: "+33 1 76 36 06 95", time_zone: Europe/Paris}
    events:
      - call:
          ref: c1
          type: inbound_answered
          external: "+33 6 12 34 56 78"
          duration: 95
          wait: 12
          comments: [Hello]
          tags: [vip]
          deliver: [call.created, call.answered, call.hungup, call.ended, call.tagged]
      - call: {ref: c2, type: voicemail, external: "+33 6 12 34 56 78", national: true,
               deliver: [call.hungup, call.voicemail_left]}
      - sms: {ref: s1, direction: inbound, external: "+33 6 12 34 56 78", national: true}
"""))


def test_deliver_sends_a_snapshot_of_the_call_per_aircall_event_in_the_order_given():
    hooks = ScenarioWebhooks(DELIVERIES, "tok").webhooks_for(DELIVERIES.event("c1"), NOW)
    assert [h["event"] for h in hooks] == ["call.created", "call.answered", "call.hungup",
                                           "call.ended", "call.tagged"]
    created, answered, hungup, ended, tagged = (h["data"] for h in hooks)
    assert {h["data"]["id"] for h in hooks} == {ended["id"]}
    assert created["answered_at"] is None and answered["answered_at"] == ended["answered_at"]
    for early in (created, answered):
        assert (early["ended_at"], early["duration"], early["comments"], early["tags"],
                early["recording"]) == (None, 0, [], [], None)
    assert hungup["recording"] is None and hungup["duration"] == ended["duration"] == 95
    assert ended["recording"] and ended["comments"][0]["content"] == "Hello"
    assert [h["timestamp"] for h in hooks] == [ended["started_at"], ended["answered_at"],
                                               NOW_S, NOW_S, NOW_S + 60]
    assert tagged == ended


def test_a_voicemail_left_late_and_national_numbers():
    hooks = ScenarioWebhooks(DELIVERIES, "tok").webhooks_for(DELIVERIES.event("c2"), NOW)
    hungup, left = (h["data"] for h in hooks)
    assert hungup["voicemail"] is None and left["voicemail"].startswith("https://")
    assert left["raw_digits"] == "06 12 34 56 78"
    assert (left["number"]["digits"], left["number"]["e164_digits"], left["number"]["country"]) == \
        ("01 76 36 06 95", None, "FR")
    sms = ScenarioWebhooks(DELIVERIES, "tok").webhook_for(DELIVERIES.event("s1"), NOW)
    assert sms["data"]["external_number"] == "06 12 34 56 78"
