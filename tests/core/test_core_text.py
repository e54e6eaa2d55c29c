"""Task text: Subject templates, the Description format and its merge, field-length cuts."""
import pytest
from hypothesis import given, strategies as st

from dataclasses import replace

from simulator.core import Action, parse_webhook
from simulator.core import state, task as tasks
from simulator.core.outcome import RecordRef
from simulator.core.text import CallDescription, merge_description, truncate
from simulator.aircall import call_webhook, message_webhook

CONTACT = RecordRef("Contact", "003000000000001AAA", "Jean Martin")


def test_truncate_counts_utf16_units_and_keeps_pairs_whole():
    assert truncate("abc", 2) == "ab"
    assert truncate("abc", 3) == "abc"
    assert truncate("a\U0001F600b", 2) == "a"      # the emoji takes two units
    assert truncate("a\U0001F600b", 3) == "a\U0001F600"
    assert truncate("é" * 10, 5) == "é" * 5


@given(st.text(), st.integers(min_value=0, max_value=50))
def test_truncate_never_exceeds_the_limit(text, limit):
    cut = truncate(text, limit)
    assert len(cut.encode("utf-16-le")) // 2 <= limit
    assert text.startswith(cut)


def test_description_render_order():
    d = CallDescription(wait_seconds=12, recording="https://r", voicemail="https://v",
                        comments=("one", "two"), tags=("billing", "vip"))
    assert d.render() == ("Wait time: 12 s\nRecording: https://r\nVoicemail: https://v\n"
                          "Comments:\none\ntwo\nTags: billing, vip")
    assert CallDescription(wait_seconds=0).render() == "Wait time: 0 s"
    assert CallDescription().render() == ""


@given(wait=st.none() | st.integers(min_value=0, max_value=10**6),
       recording=st.none() | st.from_regex(r"https://[a-z]{1,8}/[a-z0-9]{0,8}", fullmatch=True),
       comments=st.lists(st.text(alphabet="abc ,:", min_size=1, max_size=8).map(str.strip)
                         .filter(lambda s: s and not s.startswith("Tags:")), max_size=4, unique=True),
       tags=st.lists(st.from_regex(r"[a-z]{1,6}", fullmatch=True), max_size=3, unique=True))
def test_description_parses_back(wait, recording, comments, tags):
    d = CallDescription(wait_seconds=wait, recording=recording, comments=tuple(comments), tags=tuple(tags))
    parsed = CallDescription.parse(d.render())
    assert parsed is not None and parsed.render() == d.render()


def test_merge_adds_comments_tags_and_late_recording():
    first = CallDescription(wait_seconds=5, comments=("a",), tags=("x",)).render()
    later = CallDescription(wait_seconds=5, recording="https://rec", comments=("a", "b"), tags=("y",))
    assert merge_description(first, later) == ("Wait time: 5 s\nRecording: https://rec\nComments:\n"
                                                "a\nb\nTags: x, y")


def test_merge_of_an_older_event_changes_nothing():
    newer = CallDescription(wait_seconds=5, comments=("a", "b"), tags=("x",)).render()
    older = CallDescription(wait_seconds=5, comments=("a",))
    assert merge_description(newer, older) == newer


def test_merge_keeps_a_hand_edited_description_and_appends_what_is_new():
    edited = "Customer is angry\nWait time: 5 s"
    result = merge_description(edited, CallDescription(wait_seconds=5, comments=("call back",)))
    assert result == "Customer is angry\nWait time: 5 s\nComments:\ncall back"
    assert merge_description(result, CallDescription(wait_seconds=5, comments=("call back",))) == result


def test_subject_templates():
    def subject(**kw):
        return tasks.subject(parse_webhook(call_webhook(**kw)), "Jean Martin")
    assert subject(direction="outbound") == \
        "Outbound answered call to Jean Martin via Paris Support made by Madelaine Dupont"
    assert subject(direction="outbound", answered=False) == \
        "Outbound unanswered call via Paris Support made by Madelaine Dupont to Jean Martin"
    assert subject() == "Inbound answered call from Jean Martin on Paris Support answered by Madelaine Dupont"
    assert subject(answered=False) == "Missed call from Jean Martin on Paris Support"
    assert subject(answered=False, voicemail="https://v") == "Voicemail from Jean Martin on Paris Support"
    assert subject(user=None) == "Inbound answered call from Jean Martin on Paris Support answered by unknown agent"


def test_sms_subjects():
    received = parse_webhook(message_webhook())
    sent = parse_webhook(message_webhook(direction="outbound", user={"name": "Sam", "email": "s@x.io"}))
    assert tasks.subject(received, "Jean Martin") == "SMS received from Jean Martin to Paris Support"
    assert tasks.subject(sent, "Jean Martin") == "SMS sent from Sam via Paris Support to Jean Martin"


def test_long_subject_is_cut_to_255():
    event = parse_webhook(call_webhook())
    assert len(tasks.subject(event, "N" * 400)) == 255


def test_call_task_fields():
    event = parse_webhook(call_webhook(comments=["hello"], tags=["t"], recording="https://rec"))
    fields = tasks.task_fields(event, CONTACT, None, "005000000000001AAA", Action.IN_PROGRESS, True)
    text, logged = state.split(fields.pop("Description"))
    assert text == "Wait time: 14 s\nRecording: https://rec\nComments:\nhello\nTags: t"
    assert (logged.call, logged.record, logged.status) == (replace(event, token=None), "Jean Martin",
                                                           "In Progress")
    assert fields == {
        "Subject": "Inbound answered call from Jean Martin on Paris Support answered by Madelaine Dupont",
        "ActivityDate": "2024-11-26", "Priority": "Normal", "CallObject": "1834567890",
        "WhoId": CONTACT.id, "Status": "In Progress", "Type": "Call", "TaskSubtype": "Call",
        "CallType": "Inbound", "CallDurationInSeconds": 95, "CallDisposition": "Answered",
        "OwnerId": "005000000000001AAA",
    }


def test_recording_left_out_when_disabled():
    event = parse_webhook(call_webhook(recording="https://rec"))
    fields = tasks.task_fields(event, CONTACT, None, None, Action.COMPLETED, False)
    text, logged = state.split(fields["Description"])
    assert text == "Wait time: 14 s" and "https://rec" not in fields["Description"]
    assert logged.call.recording_url == "withheld"
    assert "OwnerId" not in fields


@pytest.mark.parametrize("record, related, expected", [
    (CONTACT, RecordRef("Case", "500A"), {"WhoId": CONTACT.id, "WhatId": "500A"}),
    (RecordRef("Lead", "00QA"), RecordRef("Case", "500A"), {"WhoId": "00QA"}),
    (RecordRef("Account", "001A"), None, {"WhatId": "001A"}),
    (RecordRef("Account", "001A", person_account=True, person_contact_id="003P"), None,
     {"WhatId": "001A", "WhoId": "003P"}),
])
def test_who_and_what(record, related, expected):
    assert tasks.who_what(record, related) == expected


def test_sms_task_fields():
    event = parse_webhook(message_webhook(body="x" * 40000))
    fields = tasks.task_fields(event, CONTACT, None, None, None, True)
    assert fields["Status"] == "Completed"
    assert fields["CallObject"] == "sms:b7c1e0d2-6a3f-4f0e-9c1a-0f2d3e4a5b6c"
    assert len(fields["Description"]) == 32000
    assert "CallType" not in fields and "CallDurationInSeconds" not in fields
