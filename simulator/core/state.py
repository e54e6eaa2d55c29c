"""What is known of a call so far, merged from every event delivered for it, in any order.

Each Aircall call event carries the whole Call object as it was when the event was sent. A
comment posted during the call arrives before ``call.ended`` and knows no duration; a
redelivery may arrive long after newer events. :func:`merge` combines two snapshots of the
same call into what is known from both:

- timing only grows: the earliest start and answer, the latest end, the longest duration;
- links (recording, voicemail) and the missed-call reason are kept once known;
- comments are added, identified by their Aircall id;
- tags, number, agent and contact are those of the newer snapshot (by the delivery's
  ``timestamp``; the later delivery on a tie), so ``call.untagged`` removes a tag and a stale
  redelivery changes nothing; a payload without ``tags`` leaves them as they were.

The merged call is kept with the Task, as the last line of its Description (``Call data:``
and compact JSON), so that the next event is merged into it rather than into text read back.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

from pydantic import TypeAdapter

from .events import DURATION_MAX, CallEvent

STATE_PREFIX = "Call data: "


WITHHELD = "withheld"


def withheld(call: CallEvent) -> CallEvent:
    """The call without its recording and voicemail links (``include_recording: false``): only
    whether it had them is kept, which is what its call type needs."""
    return replace(call, recording_url=call.recording_url and WITHHELD,
                   voicemail_url=call.voicemail_url and WITHHELD)


def _newer(first: CallEvent, second: CallEvent) -> tuple[CallEvent, CallEvent]:
    """(older, newer) by delivery timestamp; on a tie, ``second`` (delivered later) is newer."""
    if (second.timestamp or 0) >= (first.timestamp or 0):
        return first, second
    return second, first


def _earliest(*moments):
    known = [m for m in moments if m is not None]
    return min(known) if known else None


def _latest(*moments):
    known = [m for m in moments if m is not None]
    return max(known) if known else None


def merge(known: CallEvent | None, event: CallEvent) -> CallEvent:
    """The call as known from ``known`` (the merged earlier events) and ``event``."""
    if known is None:
        return event
    older, newer = _newer(known, event)
    tagged = newer if newer.tags_known or not older.tags_known else older
    ids, texts = list(older.comment_ids), list(older.comments)
    for key, text in zip(newer.comment_ids, newer.comments):
        if key not in ids:
            ids.append(key)
            texts.append(text)
    return replace(
        newer,
        started_at=min(older.started_at, newer.started_at),
        answered_at=_earliest(older.answered_at, newer.answered_at),
        ended_at=_latest(older.ended_at, newer.ended_at),
        duration=max(older.duration, newer.duration),
        missed_call_reason=newer.missed_call_reason or older.missed_call_reason,
        voicemail_url=newer.voicemail_url or older.voicemail_url,
        recording_url=newer.recording_url or older.recording_url,
        user=newer.user or older.user,
        contact=newer.contact or older.contact,
        comments=tuple(texts), comment_ids=tuple(ids),
        tags=tagged.tags, tag_ids=tagged.tag_ids, tags_known=tagged.tags_known,
        timestamp=_latest(older.timestamp, newer.timestamp),
    )


@dataclass(frozen=True)
class Logged:
    """What the core wrote for a call: the merged call, the record's name in the Subject, and
    the Status it set (a different Status on the Task means someone changed it)."""

    call: CallEvent
    record: str
    status: str | None

    def line(self) -> str:
        data = asdict(self.call)
        data.pop("token", None)
        for key in ("started_at", "answered_at", "ended_at"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        state = {"record": self.record, "status": self.status, "call": data}
        return STATE_PREFIX + json.dumps(state, separators=(",", ":"), ensure_ascii=False)


_CALL = TypeAdapter(CallEvent)


def load(line: str) -> Logged | None:
    """What a state line records; None when the line is not one, or was damaged (edited by
    hand into something this code never writes: a value of the wrong type, a time without a
    time zone, an unknown time zone, a duration no Task holds, JSON nested past Python's
    recursion limit)."""
    if not line.startswith(STATE_PREFIX):
        return None
    try:
        state = json.loads(line[len(STATE_PREFIX):])
        call = _CALL.validate_python(state["call"])  # the dataclasses' types: ISO times, lists as tuples
        record, status = str(state["record"]), state["status"]
        call.number.zone()  # a time zone that exists
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError, OSError):
        return None  # pydantic's ValidationError is a ValueError; an unknown zone a KeyError or OSError
    moments = (call.started_at, call.answered_at, call.ended_at)
    if any(m is not None and m.tzinfo is None for m in moments) or not 0 <= call.duration <= DURATION_MAX \
            or (status is not None and not isinstance(status, str)):
        return None
    return Logged(call, record, status)


def split(description: str | None) -> tuple[str, Logged | None]:
    """A Description's visible text and what its state line records (if it has one)."""
    text = description or ""
    head, _, last = text.rpartition("\n")
    known = load(last)
    if known is None:
        return text, None
    return head.rstrip("\n"), known
