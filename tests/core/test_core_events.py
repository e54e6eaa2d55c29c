"""Parsing Aircall webhooks: the example payloads, call types, E.164, and malformed events."""
import copy
import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from simulator.core import CallEvent, CallType, InvalidEvent, MessageEvent, parse_webhook
from simulator.core.events import SUPPORTED_EVENTS
from simulator.aircall import aircall_contact, call_webhook, message_webhook

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(name):
    return json.loads((EXAMPLES / name).read_text())


def test_example_call_ended():
    event = parse_webhook(example("call.ended.json"))
    assert isinstance(event, CallEvent)
    assert event.event == "call.ended"
    assert event.id == event.key == "1834567890"
    assert event.direction == "inbound"
    assert event.call_type is CallType.INBOUND_ANSWERED
    assert event.external == "+33612345678"
    assert event.raw_digits == "+33 6 12 34 56 78"
    assert event.duration == 95
    assert event.wait_seconds == 14
    assert event.started_at == datetime.fromtimestamp(1732622895, timezone.utc)
    assert event.number.name == "Paris Support"
    assert event.number.e164 == "+33176360695"
    assert event.number.country == "FR"
    assert event.number.time_zone == "Europe/Paris"
    assert event.number.open is True
    assert not event.closed
    assert event.user.email == "madelaine.dupont@example.com"
    assert event.user.name == "Madelaine Dupont"
    assert event.contact.first_name == "Jean"
    assert event.contact.last_name == "Martin"
    assert event.contact.company == "Acme SAS"
    assert event.contact.email == "jean.martin@acme.example"
    assert event.comments == ("Wants a callback re: invoice 42",)
    assert event.tags == ("billing", "vip")
    assert event.token == "45XXYYZZa08"
    # The asset page is preferred: the signed recording URL expires within minutes.
    assert event.recording_url == "https://assets.aircall.io/recording/1834567890"
    assert event.voicemail_url is None


def test_example_message_received():
    event = parse_webhook(example("message.received.json"))
    assert isinstance(event, MessageEvent)
    assert event.key == "sms:b7c1e0d2-6a3f-4f0e-9c1a-0f2d3e4a5b6c"
    assert event.direction == "inbound"
    assert event.body == "Hi, can you call me back about my invoice?"
    assert event.external == "+33612345678"
    assert event.sent_at == datetime.fromtimestamp(1732623999, timezone.utc)
    assert event.number.time_zone == "Europe/Paris"   # from the number's country, none given
    assert event.activity_date == date(2024, 11, 26)


def test_builder_has_the_example_shape():
    built = call_webhook()
    sample = example("call.ended.json")
    assert set(built) == set(sample)
    assert set(built["data"]) <= set(sample["data"])
    msg = message_webhook()
    # messages also carry the agent (``user``), as calls do, so that R7.1's subject names them
    assert set(msg["data"]) <= set(example("message.received.json")["data"]) | {"user"}


@pytest.mark.parametrize("kwargs, expected", [
    ({"direction": "outbound", "answered": True}, CallType.OUTBOUND_ANSWERED),
    ({"direction": "outbound", "answered": False}, CallType.OUTBOUND_UNANSWERED),
    ({"direction": "outbound", "answered": False, "voicemail": "https://v"}, CallType.OUTBOUND_UNANSWERED),
    ({"direction": "inbound", "answered": True}, CallType.INBOUND_ANSWERED),
    ({"direction": "inbound", "answered": True, "voicemail": "https://v"}, CallType.INBOUND_ANSWERED),
    ({"direction": "inbound", "answered": False, "voicemail": "https://v"}, CallType.VOICEMAIL),
    ({"direction": "inbound", "answered": False}, CallType.MISSED),
])
def test_call_type_classification(kwargs, expected):
    assert parse_webhook(call_webhook(**kwargs)).call_type is expected


def test_voicemail_short_url_alone_makes_a_voicemail():
    hook = call_webhook(answered=False, voicemail_short_url="https://short/v")
    assert parse_webhook(hook).call_type is CallType.VOICEMAIL


@pytest.mark.parametrize("kwargs, closed", [
    ({}, False),
    ({"number_open": False}, True),
    ({"number_open": None}, False),
    ({"answered": False, "missed_call_reason": "out_of_opening_hours"}, True),
    ({"answered": False, "missed_call_reason": "agents_did_not_answer"}, False),
])
def test_closed_detection(kwargs, closed):
    assert parse_webhook(call_webhook(**kwargs)).closed is closed


def test_wait_time_for_unanswered_calls_is_the_ring_time():
    event = parse_webhook(call_webhook(answered=False, wait=31, duration=0))
    assert event.wait_seconds == 31


@pytest.mark.parametrize("raw, country, e164", [
    ("+33 6 12 34 56 78", "FR", "+33612345678"),
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("(415) 555-0100", "US", "+14155550100"),
    ("+1 415-555-0100", "FR", "+14155550100"),
    ("07700 900123", "GB", "+447700900123"),
])
def test_external_number_is_normalised_in_the_number_country(raw, country, e164):
    number = {"id": 1, "name": "L", "digits": "+1 212 555 0000", "country": country,
              "time_zone": "UTC", "open": True}
    assert parse_webhook(call_webhook(external=raw, number=number)).external == e164


def test_country_is_derived_from_the_number_when_missing():
    number = {"id": 1, "name": "London", "digits": "+44 20 7946 0000", "time_zone": "Europe/London"}
    event = parse_webhook(call_webhook(external="07700 900123", number=number))
    assert event.number.country == "GB"
    assert event.external == "+447700900123"


@pytest.mark.parametrize("raw", ["anonymous", "Anonymous", " ANONYMOUS "])
def test_anonymous_caller_has_no_number(raw):
    event = parse_webhook(call_webhook(external=raw))
    assert event.anonymous and event.external is None


def test_activity_date_is_in_the_number_time_zone():
    # 23:30 UTC on 1 March is already 2 March in Paris, still 1 March in Los Angeles.
    started = int(datetime(2026, 3, 1, 23, 30, tzinfo=timezone.utc).timestamp())
    paris = parse_webhook(call_webhook(started_at=started))
    assert paris.activity_date == date(2026, 3, 2)
    la_number = {"id": 2, "name": "SF", "digits": "+1 415 555 0000", "country": "US",
                 "time_zone": "America/Los_Angeles"}
    assert parse_webhook(call_webhook(started_at=started, number=la_number)).activity_date == date(2026, 3, 1)


def test_comments_and_tags_are_single_lines_identified_by_their_aircall_id():
    event = parse_webhook(call_webhook(comments=["line one\nline two", "  ", "again", "again"],
                                       tags=["a", "b"]))
    assert event.comments == ("line one line two", "again", "again")  # two comments, same text
    assert event.comment_ids == ("1", "3", "4")
    assert event.tags == ("a", "b")
    twice = call_webhook(comments=[{"id": 7, "content": "once"}, {"id": 7, "content": "once"}])
    assert parse_webhook(twice).comments == ("once",)


def test_sent_message_and_iso_dates():
    hook = message_webhook(direction="outbound", user={"id": 1, "name": "Sam", "email": "s@x.io"},
                           sent_at="2026-11-02T10:00:00Z", created_at=None)
    event = parse_webhook(hook)
    assert event.event == "message.sent"
    assert event.sent_at == datetime(2026, 11, 2, 10, tzinfo=timezone.utc)
    assert event.user.name == "Sam"


def test_all_call_events_parse():
    for name in SUPPORTED_EVENTS[:4]:
        assert parse_webhook(call_webhook(event=name)).event == name


def _broken(mutate, base=None):
    hook = copy.deepcopy(base or call_webhook())
    mutate(hook)
    return hook


def _set(path, value):
    def mutate(hook):
        target = hook
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


def _drop(path):
    def mutate(hook):
        target = hook
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return mutate


@pytest.mark.parametrize("mutate, message", [
    (_set(("data", "direction"), "sideways"),
     "call.ended: data.direction: expected 'inbound' or 'outbound', got 'sideways'"),
    (_drop(("data", "direction")),
     "call.ended: data.direction: required field is missing"),
    (_drop(("data", "started_at")), "call.ended: data.started_at: required field is missing"),
    (_set(("data", "started_at"), "yesterday"),
     "call.ended: data.started_at: expected an integer, got 'yesterday'"),
    (_set(("data", "answered_at"), 1), "call.ended: data.answered_at: is before data.started_at "
                                       "(1970-01-01T00:00:01+00:00 < 2024-11-26T12:08:15+00:00)"),
    (_set(("data", "started_at"), 2**40),
     "call.ended: data.started_at: expected unix seconds before 9999-12-31, got 1099511627776"),
    (_set(("data", "started_at"), 1e300),
     "call.ended: data.started_at: expected unix seconds before 9999-12-31, got "
     "100000000000000005250476025520442024870446858110815915491..."),
    (_set(("data", "duration"), -3), "call.ended: data.duration: expected an integer >= 0, got -3"),
    (_set(("data", "duration"), True), "call.ended: data.duration: expected an integer, got True"),
    (_drop(("data", "id")), "call.ended: data.id: required field is missing"),
    (_set(("data", "id"), {"x": 1}), "call.ended: data.id: expected an id (integer or string), got {'x': 1}"),
    (_drop(("data", "raw_digits")), "call.ended: data.raw_digits: required field is missing"),
    (_set(("data", "raw_digits"), "12ab"), "call.ended: data.raw_digits: '12ab' is not a phone number"),
    (_set(("data", "raw_digits"), 33612345678),
     "call.ended: data.raw_digits: expected a string, got 33612345678"),
    (_drop(("data", "number")), "call.ended: data.number: required field is missing"),
    (_set(("data", "number"), "Paris"), "call.ended: data.number: expected an object, got 'Paris'"),
    (_set(("data", "number", "time_zone"), "Mars/Olympus"),
     "call.ended: data.number.time_zone: unknown time zone 'Mars/Olympus'"),
    (_set(("data", "number", "country"), "France"),
     "call.ended: data.number.country: expected a two-letter country code, got 'France'"),
    (_set(("data", "number", "open"), "yes"), "call.ended: data.number.open: expected true or false, got 'yes'"),
    (_set(("data", "user"), []), "call.ended: data.user: expected an object, got []"),
    (_set(("data", "user", "email"), 7), "call.ended: data.user.email: expected a string, got 7"),
    (_set(("data", "comments"), "hello"), "call.ended: data.comments: expected a list, got 'hello'"),
    (_set(("data", "comments"), [{"id": 1}]), "call.ended: data.comments[0].content: required field is missing"),
    (_set(("data", "tags"), [{"name": 3}]), "call.ended: data.tags[0].name: expected a string, got 3"),
    (_set(("data", "contact"), {"emails": [{"value": 1}]}),
     "call.ended: data.contact.emails[0].value: expected a string, got 1"),
    (_set(("data", "recording"), 1), "call.ended: data.recording: expected a string, got 1"),
    (_drop(("data",)), "call.ended: data: required field is missing"),
    (_set(("data",), []), "call.ended: data: expected an object, got []"),
    (_set(("resource",), "message"), "call.ended: resource: expected 'call', got 'message'"),
    (_set(("token",), 5), "call.ended: token: expected a string, got 5"),
    (_set(("timestamp",), "now"), "call.ended: timestamp: expected a number, got 'now'"),
    (_set(("event",), "Call Ended"), "Call Ended: event: not an Aircall event name (such as call.ended)"),
    (_drop(("event",)), "webhook: event: required field is missing or not a string (got None)"),
    # found by mutating the example payloads: each was a traceback or a Salesforce error before
    (_set(("data", "number", "time_zone"), "x" * 300),
     "call.ended: data.number.time_zone: unknown time zone '" + "x" * 56 + "..."),
    (_set(("data", "id"), "\ud800"),
     "call.ended: data.id: a string holds a lone UTF-16 surrogate (not valid Unicode)"),
    (_set(("data", "comments"), [{"id": "\udc00", "content": "hi"}]),
     "call.ended: data.comments[0].id: a string holds a lone UTF-16 surrogate (not valid Unicode)"),
    (_set(("data", "id"), "9" * 252), "call.ended: data.id: expected an id of at most 251 characters, got "
                                      "'" + "9" * 56 + "..."),
    (_set(("data", "id"), 10**5000),
     "call.ended: data.id: expected an id of at most 251 characters, got an integer of about 5001 digits"),
    (_set(("data", "duration"), 2**31), "call.ended: data.duration: expected at most 2147483647 seconds, "
                                        "got 2147483648"),
    (lambda h: (h["data"].pop("duration"), h["data"].update(ended_at=253402214399)), "call.ended: data.ended_at: is more than 2147483647 seconds "
                                               "after data.started_at, longer than Task.CallDurationInSeconds "
                                               "can hold"),
    (_set(("data", "started_at"), 253402300799),
     "call.ended: data.started_at: expected unix seconds before 9999-12-31, got 253402300799"),
    (_set(("timestamp",), 10**400), "call.ended: timestamp: expected unix seconds from 1970 to 9999-12-30, "
                                    "got 1" + "0" * 56 + "..."),
    (_set(("timestamp",), -1), "call.ended: timestamp: expected unix seconds from 1970 to 9999-12-30, got -1"),
])
def test_malformed_call_events_name_event_and_field(mutate, message):
    with pytest.raises(InvalidEvent) as info:
        parse_webhook(_broken(mutate))
    assert str(info.value) == message


@pytest.mark.parametrize("mutate, message", [
    (_drop(("data", "external_number")), "message.received: data.external_number: required field is missing"),
    (_set(("data", "direction"), "outbound"),
     "message.received: data.direction: expected 'inbound' for message.received, got 'outbound'"),
    (_set(("data", "body"), ["hi"]), "message.received: data.body: expected a string, got ['hi']"),
    (_set(("data", "sent_at"), "soon"),
     "message.received: data.sent_at: expected milliseconds since 1970 or an ISO 8601 date-time, got 'soon'"),
    (lambda h: (h["data"].pop("sent_at"), h["data"].pop("created_at")),
     "message.received: data.sent_at: required field is missing (neither sent_at nor created_at given)"),
    (_set(("data", "sent_at"), "9999-12-31T23:59:59Z"),
     "message.received: data.sent_at: expected a date-time from 1970 to 9999-12-30, got '9999-12-31T23:59:59Z'"),
    (_set(("data", "sent_at"), "0001-01-01T00:00:00+14:00"), "message.received: data.sent_at: expected "
     "milliseconds since 1970 or an ISO 8601 date-time, got '0001-01-01T00:00:00+14:00'"),
])
def test_malformed_message_events(mutate, message):
    with pytest.raises(InvalidEvent) as info:
        parse_webhook(_broken(mutate, message_webhook()))
    assert str(info.value) == message


@pytest.mark.parametrize("payload", [None, [], "call.ended", 3])
def test_non_object_deliveries(payload):
    with pytest.raises(InvalidEvent, match=r"^webhook: expected a JSON object"):
        parse_webhook(payload)


def test_invalid_event_carries_event_and_path():
    with pytest.raises(InvalidEvent) as info:
        parse_webhook(_broken(_set(("data", "direction"), "up")))
    assert info.value.event == "call.ended"
    assert info.value.path == "data.direction"


def test_contact_helper_builds_aircall_contact():
    hook = call_webhook(contact=aircall_contact("Ann", "Lee", "Lee Ltd", "ann@lee.example", "+33612345678"))
    contact = parse_webhook(hook).contact
    assert (contact.first_name, contact.last_name, contact.company, contact.email) == (
        "Ann", "Lee", "Lee Ltd", "ann@lee.example")


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
                    | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(sorted(call_webhook()["data"])), value=JSON,
       event=st.sampled_from(SUPPORTED_EVENTS[:4]))
def test_any_wrong_call_field_is_an_invalid_event_or_accepted(key, value, event):
    hook = call_webhook(event=event)
    hook["data"][key] = value
    try:
        parse_webhook(hook)
    except InvalidEvent as exc:
        assert str(exc).startswith(f"{event}: ")


@settings(max_examples=200, deadline=None)
@given(key=st.sampled_from(sorted(message_webhook()["data"])), value=JSON)
def test_any_wrong_message_field_is_an_invalid_event_or_accepted(key, value):
    hook = message_webhook()
    hook["data"][key] = value
    try:
        parse_webhook(hook)
    except InvalidEvent as exc:
        assert str(exc).startswith("message.received: ")


@pytest.mark.parametrize("fields, expected", [
    ({"recording": "https://s3.example/r.mp3?sig", "recording_short_url": "https://short.example/r",
      "asset": "https://assets.example/r"}, "https://assets.example/r"),
    ({"recording": "https://s3.example/r.mp3?sig", "recording_short_url": "https://short.example/r"},
     "https://short.example/r"),
    ({"recording": "https://s3.example/r.mp3?sig"}, "https://s3.example/r.mp3?sig"),
])
def test_the_most_lasting_recording_link_is_kept(fields, expected):
    hook = call_webhook(**{"recording": None, "asset": None})
    hook["data"].update(fields)
    assert parse_webhook(hook).recording_url == expected
