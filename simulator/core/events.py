"""Aircall webhook deliveries parsed into typed, validated events.

A delivery is ``{resource, event, timestamp, token, data}``. Call events (``call.ended``,
``call.commented``, ``call.tagged``, ``call.comm_assets_generated``) carry Aircall's Call
object; message events (``message.sent``, ``message.received``) its Message object. Anything
else, or a field of the wrong shape, raises :class:`InvalidEvent` naming the event and the
field path. Parsing never touches Salesforce.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import phones
from .errors import InvalidEvent
from .settings import CallType

CALL_EVENTS = ("call.ended", "call.commented", "call.tagged", "call.comm_assets_generated")
MESSAGE_EVENTS = ("message.sent", "message.received")
SUPPORTED_EVENTS = CALL_EVENTS + MESSAGE_EVENTS

ANONYMOUS = "anonymous"
OUT_OF_HOURS = "out_of_opening_hours"
_MISSING = object()


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Fields:
    """Reads typed fields out of one mapping, raising InvalidEvent with the full path."""

    def __init__(self, event: str, data: Any, path: str):
        self.event = event
        self.path = path
        if not isinstance(data, Mapping):
            self.fail(path, f"expected an object, got {_show(data)}")
        self.data = data

    def fail(self, path: str, what: str):
        raise InvalidEvent(f"{self.event}: {path}: {what}", event=self.event, path=path)

    def _get(self, key: str, required: bool):
        value = self.data.get(key, _MISSING)
        if value is _MISSING or (value is None and required):
            if required:
                self.fail(f"{self.path}.{key}", "required field is missing" if value is _MISSING
                          else "must not be null")
            return None
        return value

    def text(self, key: str, required: bool = False, empty_ok: bool = True) -> str | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(f"{self.path}.{key}", f"expected a string, got {_show(value)}")
        if not empty_ok and not value.strip():
            self.fail(f"{self.path}.{key}", "must not be empty")
        return value

    def integer(self, key: str, required: bool = False, minimum: int | None = 0) -> int | None:
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{self.path}.{key}", f"expected an integer, got {_show(value)}")
        if minimum is not None and value < minimum:
            self.fail(f"{self.path}.{key}", f"expected an integer >= {minimum}, got {value}")
        return value

    def boolean(self, key: str) -> bool | None:
        value = self._get(key, False)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.fail(f"{self.path}.{key}", f"expected true or false, got {_show(value)}")
        return value

    def identifier(self, key: str) -> str:
        """An Aircall id: a non-negative integer or a non-empty string, returned as text."""
        value = self._get(key, True)
        if isinstance(value, bool) or not isinstance(value, (int, str)) \
                or (isinstance(value, str) and not value.strip()) \
                or (isinstance(value, int) and value < 0):
            self.fail(f"{self.path}.{key}", f"expected an id (integer or string), got {_show(value)}")
        return str(value).strip()

    def choice(self, key: str, options: tuple[str, ...]) -> str:
        value = self._get(key, True)
        if value not in options:
            expected = " or ".join(repr(o) for o in options)
            self.fail(f"{self.path}.{key}", f"expected {expected}, got {_show(value)}")
        return value

    def child(self, key: str, required: bool = False) -> "_Fields | None":
        value = self._get(key, required)
        if value is None:
            return None
        return _Fields(self.event, value, f"{self.path}.{key}")

    def items(self, key: str) -> list["_Fields"]:
        value = self._get(key, False)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(f"{self.path}.{key}", f"expected a list, got {_show(value)}")
        return [_Fields(self.event, item, f"{self.path}.{key}[{i}]") for i, item in enumerate(value)]


@dataclass(frozen=True)
class AircallNumber:
    """The Aircall line the call or message went through."""

    id: str | None
    name: str
    e164: str | None
    country: str | None
    time_zone: str
    open: bool | None

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


@dataclass(frozen=True)
class AircallUser:
    """The Aircall agent on the call or message."""

    id: str | None
    name: str | None
    email: str | None


@dataclass(frozen=True)
class AircallContact:
    """The Aircall contact attached to the call or message (R3.2)."""

    first_name: str | None
    last_name: str | None
    company: str | None
    email: str | None


@dataclass(frozen=True)
class CallEvent:
    """One call webhook. ``external`` is the other party in E.164, ``None`` when anonymous."""

    event: str
    id: str
    direction: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration: int
    raw_digits: str
    external: str | None
    missed_call_reason: str | None
    voicemail_url: str | None
    recording_url: str | None
    number: AircallNumber
    user: AircallUser | None
    contact: AircallContact | None
    comments: tuple[str, ...]
    tags: tuple[str, ...]
    token: str | None = None
    timestamp: int | None = None

    kind = "call"

    @property
    def key(self) -> str:
        """The idempotency key, stored in Task.CallObject: the Aircall call id (R6.11)."""
        return self.id

    @property
    def anonymous(self) -> bool:
        return self.external is None

    @property
    def call_type(self) -> CallType:
        """The call's type (R1.1)."""
        if self.direction == "outbound":
            return CallType.OUTBOUND_ANSWERED if self.answered_at else CallType.OUTBOUND_UNANSWERED
        if self.answered_at:
            return CallType.INBOUND_ANSWERED
        return CallType.VOICEMAIL if self.voicemail_url else CallType.MISSED

    @property
    def closed(self) -> bool:
        """The number was closed at call time (R2.4)."""
        return self.number.open is False or self.missed_call_reason == OUT_OF_HOURS

    @property
    def wait_seconds(self) -> int:
        """Time before answer for answered calls, else the whole ring time (R6.7)."""
        end = self.answered_at or self.ended_at or self.started_at
        return max(0, int((end - self.started_at).total_seconds()))

    @property
    def activity_date(self) -> date:
        """The call's date in the Aircall number's time zone (R6.5)."""
        return self.started_at.astimezone(self.number.zone()).date()


@dataclass(frozen=True)
class MessageEvent:
    """One SMS webhook. ``id`` is Aircall's message id; ``external`` the other party."""

    event: str
    id: str
    direction: str
    body: str
    raw_digits: str
    external: str | None
    sent_at: datetime
    number: AircallNumber
    user: AircallUser | None
    contact: AircallContact | None
    token: str | None = None
    timestamp: int | None = None

    kind = "message"

    @property
    def key(self) -> str:
        """The idempotency key stored in Task.CallObject: ``sms:<message id>``."""
        return f"sms:{self.id}"

    @property
    def anonymous(self) -> bool:
        return self.external is None

    @property
    def activity_date(self) -> date:
        return self.sent_at.astimezone(self.number.zone()).date()


Event = CallEvent | MessageEvent


_MAX_SECONDS = 253402300799  # 9999-12-31T23:59:59Z


def _from_seconds(fields: _Fields, key: str, required: bool) -> datetime | None:
    value = fields.integer(key, required=required)
    if value is None:
        return None
    if value > _MAX_SECONDS:
        fields.fail(f"{fields.path}.{key}", f"expected unix seconds before year 10000, got {_show(value)}")
    return datetime.fromtimestamp(value, timezone.utc)


def _from_millis(fields: _Fields, key: str, required: bool) -> datetime | None:
    value = fields.data.get(key)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            fields.fail(f"{fields.path}.{key}", f"expected milliseconds since 1970 or an ISO 8601 "
                                                f"date-time, got {_show(value)}")
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    millis = fields.integer(key, required=required)
    if millis is None:
        return None
    if millis > _MAX_SECONDS * 1000:
        fields.fail(f"{fields.path}.{key}", f"expected milliseconds before year 10000, got "
                                            f"{_show(millis)}")
    return datetime.fromtimestamp(millis / 1000, timezone.utc)


def _number(fields: _Fields) -> AircallNumber:
    num = fields.child("number", required=True)
    digits = num.text("e164_digits") or num.text("digits")
    e164 = phones.to_e164(digits) if digits else None
    country = num.text("country")
    if country is not None:
        if len(country) != 2 or not country.isalpha():
            num.fail(f"{num.path}.country", f"expected a two-letter country code, got {_show(country)}")
        country = country.upper()
    zone = num.text("time_zone")
    if zone is None:
        zone = phones.zone_of(e164)
    else:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            num.fail(f"{num.path}.time_zone", f"unknown time zone {_show(zone)}")
    raw_id = num.data.get("id")
    name = num.text("name") or digits or "Aircall"
    return AircallNumber(id=None if raw_id is None else str(raw_id), name=name, e164=e164,
                         country=country or phones.region_of(e164), time_zone=zone, open=num.boolean("open"))


def _user(fields: _Fields) -> AircallUser | None:
    user = fields.child("user")
    if user is None:
        return None
    raw_id = user.data.get("id")
    email = user.text("email")
    return AircallUser(id=None if raw_id is None else str(raw_id), name=user.text("name"),
                       email=email.strip() if email and email.strip() else None)


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


def _contact(fields: _Fields) -> AircallContact | None:
    contact = fields.child("contact")
    if contact is None:
        return None
    emails = []
    for item in contact.items("emails"):
        value = item.text("value")
        if value and value.strip():
            emails.append(value.strip())
    return AircallContact(first_name=_clean(contact.text("first_name")),
                          last_name=_clean(contact.text("last_name")),
                          company=_clean(contact.text("company_name")),
                          email=emails[0] if emails else None)


def _external(fields: _Fields, key: str, number: AircallNumber) -> tuple[str, str | None]:
    raw = fields.text(key, required=True)
    if raw.strip().lower() == ANONYMOUS:
        return raw, None
    e164 = phones.to_e164(raw, number.country)
    if e164 is None:
        fields.fail(f"{fields.path}.{key}", f"{_show(raw)} is not a phone number")
    return raw, e164


def _envelope(payload: Any) -> tuple[str, _Fields, str | None, int | None]:
    if not isinstance(payload, Mapping):
        raise InvalidEvent(f"webhook: expected a JSON object, got {_show(payload)}", path="")
    event = payload.get("event")
    if not isinstance(event, str) or not event:
        raise InvalidEvent(f"webhook: event: required field is missing or not a string "
                           f"(got {_show(event)})", path="event")
    if event not in SUPPORTED_EVENTS:
        raise InvalidEvent(f"{event}: event: unsupported event; expected one of "
                           f"{', '.join(SUPPORTED_EVENTS)}", event=event, path="event")
    resource = payload.get("resource")
    expected = event.split(".", 1)[0]
    if resource is not None and resource != expected:
        raise InvalidEvent(f"{event}: resource: expected {expected!r}, got {_show(resource)}",
                           event=event, path="resource")
    token = payload.get("token")
    if token is not None and not isinstance(token, str):
        raise InvalidEvent(f"{event}: token: expected a string, got {_show(token)}",
                           event=event, path="token")
    timestamp = payload.get("timestamp")
    if timestamp is not None and (isinstance(timestamp, bool) or not isinstance(timestamp, (int, float))
                                  or not math.isfinite(timestamp)):
        raise InvalidEvent(f"{event}: timestamp: expected a number, got {_show(timestamp)}",
                           event=event, path="timestamp")
    if "data" not in payload:
        raise InvalidEvent(f"{event}: data: required field is missing", event=event, path="data")
    data = _Fields(event, payload["data"], "data")
    return event, data, token, None if timestamp is None else int(timestamp)


def _lines(items: list[_Fields], key: str) -> tuple[str, ...]:
    out = []
    for item in items:
        value = _clean(item.text(key, required=True))
        if value and value not in out:
            out.append(value)
    return tuple(out)


def _call(event: str, data: _Fields, token: str | None, timestamp: int | None) -> CallEvent:
    call_id = data.identifier("id")
    direction = data.choice("direction", ("inbound", "outbound"))
    started = _from_seconds(data, "started_at", True)
    answered = _from_seconds(data, "answered_at", False)
    ended = _from_seconds(data, "ended_at", False)
    for key, moment in (("answered_at", answered), ("ended_at", ended)):
        if moment is not None and moment < started:
            data.fail(f"data.{key}", f"is before data.started_at "
                                     f"({moment.isoformat()} < {started.isoformat()})")
    duration = data.integer("duration")
    if duration is None:
        duration = int((ended - started).total_seconds()) if ended else 0
    number = _number(data)
    raw, external = _external(data, "raw_digits", number)
    # Aircall's raw recording and voicemail URLs expire within minutes, the short URLs last
    # longer, and the asset page does not expire: the most lasting link is logged.
    voicemail = data.text("voicemail_short_url") or data.text("voicemail")
    recording = data.text("recording_short_url") or data.text("recording")
    asset = data.text("asset")
    if voicemail and asset:
        voicemail = asset
    elif recording and asset:
        recording = asset
    return CallEvent(
        event=event, id=call_id, direction=direction, started_at=started, answered_at=answered,
        ended_at=ended, duration=duration, raw_digits=raw, external=external,
        missed_call_reason=data.text("missed_call_reason"), voicemail_url=voicemail or None,
        recording_url=recording or None, number=number, user=_user(data), contact=_contact(data),
        comments=_lines(data.items("comments"), "content"), tags=_lines(data.items("tags"), "name"),
        token=token, timestamp=timestamp)


def _message(event: str, data: _Fields, token: str | None, timestamp: int | None) -> MessageEvent:
    message_id = data.identifier("id")
    expected = "outbound" if event == "message.sent" else "inbound"
    direction = data.data.get("direction", expected)
    if direction != expected:
        data.fail("data.direction", f"expected {expected!r} for {event}, got {_show(direction)}")
    sent = (_from_millis(data, "sent_at", False) or _from_millis(data, "created_at", False))
    if sent is None:
        data.fail("data.sent_at", "required field is missing (neither sent_at nor created_at given)")
    body = data.text("body")
    number = _number(data)
    raw, external = _external(data, "external_number", number)
    return MessageEvent(event=event, id=message_id, direction=direction, body=body or "",
                        raw_digits=raw, external=external, sent_at=sent, number=number,
                        user=_user(data), contact=_contact(data), token=token, timestamp=timestamp)


def parse_webhook(payload: Any) -> Event:
    """Validate one webhook delivery and return its typed event; raise InvalidEvent if malformed."""
    event, data, token, timestamp = _envelope(payload)
    if event in CALL_EVENTS:
        return _call(event, data, token, timestamp)
    return _message(event, data, token, timestamp)
