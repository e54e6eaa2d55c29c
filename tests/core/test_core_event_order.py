"""The events of one call, delivered in any order and any number of times, give one Task: the
same as when each is delivered once, in the order Aircall sent them (R8.1, R8.2)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.aircall import call_webhook
from simulator.core import CallLogger, RetryPolicy, Settings, state

START = 1793613500
COMMENTS = [{"id": 11, "content": "Asked for a quote"}, {"id": 12, "content": "Asked for a quote"}]
TAGS = [{"id": 1, "name": "vip"}, {"id": 2, "name": "Follow up, urgent"}]
FIELDS = ("Subject", "Status", "CallType", "CallDurationInSeconds", "CallDisposition", "ActivityDate",
          "WhoId", "Description")


def hook(event: str, timestamp: int, **call) -> dict:
    delivery = call_webhook(event=event, call_id=4400000001, started_at=START, **call)
    return {**delivery, "timestamp": timestamp}


def answered_call() -> list[dict]:
    """An answered call's events as Aircall sends them, each with the Call object of its time."""
    during = dict(wait=9, duration=0, ended_at=None)
    done = dict(wait=9, duration=100, ended_at=START + 100)
    return [
        hook("call.answered", START + 9, **during),
        hook("call.commented", START + 50, comments=COMMENTS[:1], **during),
        hook("call.ended", START + 130, comments=COMMENTS[:1], **done),
        hook("call.tagged", START + 140, comments=COMMENTS[:1], tags=TAGS, **done),
        hook("call.commented", START + 150, comments=COMMENTS, tags=TAGS, **done),
        hook("call.untagged", START + 160, comments=COMMENTS, tags=TAGS[1:], **done),
        hook("call.comm_assets_generated", START + 170, comments=COMMENTS, tags=TAGS[1:],
             recording="https://recordings.example/4400000001.mp3", **done),
    ]


def missed_call() -> list[dict]:
    """An unanswered call whose voicemail link arrives after the hang-up."""
    common = dict(answered=False, wait=30, duration=30, missed_call_reason="agents_did_not_answer",
                  user=None)
    return [
        hook("call.hungup", START + 30, **common),
        hook("call.voicemail_left", START + 80, voicemail="https://voicemails.example/1.mp3", **common),
        hook("call.ended", START + 90, voicemail="https://voicemails.example/1.mp3", **common),
    ]


CALLS = {"answered": answered_call(), "missed": missed_call()}


@pytest.fixture
def org(fake_org):
    fake_org.control.set_clock(datetime(2026, 11, 2, 9, tzinfo=timezone.utc))
    fake_org.control.seed("Contact", [{"FirstName": "Jean", "LastName": "Martin",
                                       "Phone": "+33 6 12 34 56 78"}])
    return fake_org


def final_task(org, sf, deliveries: list[dict]) -> dict:
    """The one Task left after ``deliveries``, as a person reads it; the org is emptied after."""
    log = CallLogger(sf, Settings(), retry=RetryPolicy(attempts=1, base_delay=0))
    for delivery in deliveries:
        log.handle(delivery)
    found = sf.query_all(f"SELECT {', '.join(FIELDS)} FROM Task")["records"]
    for task in sf.query_all("SELECT Id FROM Task")["records"]:
        sf.Task.delete(task["Id"])
    assert len(found) == 1, found
    task = {k: found[0][k] for k in FIELDS}
    task["Description"], logged = state.split(task["Description"])
    assert logged is not None
    return task


def test_in_order_delivery_gives_the_final_values(org, sf):
    task = final_task(org, sf, CALLS["answered"])
    assert task["CallDurationInSeconds"] == 100
    assert task["CallDisposition"] == "Answered"
    assert task["Description"] == ("Wait time: 9 s\nRecording: https://recordings.example/4400000001.mp3\n"
                                   "Comments:\nAsked for a quote\nAsked for a quote\n"
                                   "Tags: Follow up, urgent")
    missed = final_task(org, sf, CALLS["missed"])
    assert missed["Subject"] == "Voicemail from Jean Martin on Paris Support"
    assert missed["CallDisposition"] == "Voicemail"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), which=st.sampled_from(sorted(CALLS)))
def test_any_order_and_any_repetition_gives_the_same_task(org, sf, data, which):
    events = CALLS[which]
    expected = final_task(org, sf, events)
    repeated = data.draw(st.lists(st.sampled_from(range(len(events))), max_size=4), label="redelivered")
    order = data.draw(st.permutations(list(range(len(events))) + repeated), label="order")
    assert final_task(org, sf, [events[i] for i in order]) == expected


@pytest.mark.parametrize("damage", [
    lambda call: call.update(started_at="2024-11-26T12:08:15"),          # no time zone
    lambda call: call.update(duration="ninety"),
    lambda call: call.update(duration=10**20),                          # more than a Task holds
    lambda call: call.update(comments=[{"content": "hi"}]),
    lambda call: call.update(voicemail_url=5),
    lambda call: call.update(timestamp="late"),
    lambda call: call["number"].update(time_zone="Nowhere/Zone"),
    "[" * 5000 + "]" * 5000,                                            # past the recursion limit
], ids=["naive-time", "duration-text", "duration-huge", "comment-object", "url-number", "timestamp-text",
        "unknown-zone", "deep-json"])
def test_a_state_line_damaged_by_hand_is_set_aside_and_the_next_event_still_logs(org, sf, damage):
    """A damaged ``Call data:`` line is taken as no line at all, as a line that is not JSON is:
    the next event still updates the Task (it used to fail with a TypeError or RecursionError)."""
    log = CallLogger(sf, Settings(), retry=RetryPolicy(attempts=1, base_delay=0))
    first = log.handle(hook("call.ended", START + 130, duration=100, ended_at=START + 100))
    text, logged = state.split(sf.Task.get(first.task_id)["Description"])
    if isinstance(damage, str):
        line = state.STATE_PREFIX + damage
    else:
        data = json.loads(logged.line()[len(state.STATE_PREFIX):])
        damage(data["call"])
        line = state.STATE_PREFIX + json.dumps(data)
    assert state.load(line) is None
    sf.Task.update(first.task_id, {"Description": f"{text}\n{line}"})
    later = log.handle(hook("call.commented", START + 150, duration=100, ended_at=START + 100, comments=COMMENTS[:1]))
    assert (later.task_id, later.task_action) == (first.task_id, "updated")
    assert "Asked for a quote" in sf.Task.get(first.task_id)["Description"]
