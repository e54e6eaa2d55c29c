"""Aircall webhook deliveries parsed into typed, validated events.

A delivery is ``{resource, event, timestamp, token, data}``. Call events (``call.ended``,
``call.commented``, ``call.tagged``, ``call.comm_assets_generated``) carry Aircall's Call
object; message events (``message.sent``, ``message.received``) its Message object. Anything
else, or a field of the wrong shape, raises :class:`InvalidEvent` naming the event and the
field path. Parsing never touches Salesforce.

The payloads are validated by pydantic models of Aircall's objects, one per kind of event
(a union discriminated by ``event``). Keys the core does not read are ignored, as Aircall adds
keys over time; the keys it reads are checked for type.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Annotated, Any, Literal, Mapping, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Tag, TypeAdapter, ValidationError
from pydantic import model_validator

from . import phones
from .errors import InvalidEvent
from .settings import CallType
from .validation import Wording, fail, huge_int, key_path, message_of, raise_at

# The call events that carry Aircall's Call object and may change the call's Task. The Task is
# created by the first of them to arrive (call.answered for an answered call, call.hungup or
# call.ended for an unanswered one) and completed by the others, in any delivery order.
CALL_EVENTS = ("call.ended", "call.commented", "call.tagged", "call.comm_assets_generated",
               "call.answered", "call.hungup", "call.voicemail_left", "call.untagged")
MESSAGE_EVENTS = ("message.sent", "message.received")
SUPPORTED_EVENTS = CALL_EVENTS + MESSAGE_EVENTS
# Every other Aircall event (call.created, call.ringing_on_agent, call.transferred,
# message.status_updated, contact.*, user.*, number.* ...) changes nothing in Salesforce: it is
# accepted and ignored, so that a webhook subscribed to every event never fails (Aircall
# disables a webhook after repeated failures).
_EVENT_NAME = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")

ANONYMOUS = "anonymous"
OUT_OF_HOURS = "out_of_opening_hours"


def _show(value: Any) -> str:
    if (huge := huge_int(value)) is not None:
        return huge
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."



# --- the wire format ---------------------------------------------------------------------------

# The last moment every time zone can still turn into a date: 9999-12-30T23:59:59Z.
_MAX_SECONDS = 253402214399
_LATEST = datetime.fromtimestamp(_MAX_SECONDS, timezone.utc)
_EPOCH = datetime.fromtimestamp(0, timezone.utc)
# Task.CallObject, the idempotency key, holds 255 characters; a message's key is "sms:<id>".
ID_MAX = 255 - len("sms:")
# Task.CallDurationInSeconds is a 32-bit integer field.
DURATION_MAX = 2**31 - 1
JSON = Wording(key="field", mapping="an object", missing="required field is missing", show=_show)


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise fail("string", f"expected a string, got {_show(value)}")
    return value


def _integer(value: Any) -> int:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail("integer", f"expected an integer, got {_show(value)}")
    return value


def _count(value: Any) -> int:
    value = _integer(value)
    if value < 0:
        raise fail("integer", f"expected an integer >= 0, got {value}")
    return value


def _duration(value: Any) -> int:
    value = _count(value)
    if value > DURATION_MAX:
        raise fail("integer", f"expected at most {DURATION_MAX} seconds, got {_show(value)}")
    return value


def _seconds(value: Any) -> datetime:
    value = _count(value)
    if value > _MAX_SECONDS:
        raise fail("seconds", f"expected unix seconds before 9999-12-31, got {_show(value)}")
    return datetime.fromtimestamp(value, timezone.utc)


def _millis(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            parsed = parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
        except (ValueError, OverflowError):
            raise fail("millis", "expected milliseconds since 1970 or an ISO 8601 date-time, "
                                 f"got {_show(value)}") from None
        if not _EPOCH <= parsed <= _LATEST:
            raise fail("millis", f"expected a date-time from 1970 to 9999-12-30, got {_show(value)}")
        return parsed
    value = _count(value)
    if value > _MAX_SECONDS * 1000:
        raise fail("millis", f"expected milliseconds before 9999-12-31, got {_show(value)}")
    return datetime.fromtimestamp(value / 1000, timezone.utc)


def _identifier(value: Any) -> str:
    """An Aircall id: a non-negative integer or a non-empty string, returned as text."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) \
            or (isinstance(value, str) and not value.strip()) or (isinstance(value, int) and value < 0):
        raise fail("id", f"expected an id (integer or string), got {_show(value)}")
    huge = isinstance(value, int) and value.bit_length() > 4 * ID_MAX  # str() may refuse it
    text = "" if huge else str(value).strip()
    if huge or len(text) > ID_MAX:
        raise fail("id", f"expected an id of at most {ID_MAX} characters, got {_show(value)}")
    return text


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise fail("flag", f"expected true or false, got {_show(value)}")
    return value


def _country(value: Any) -> str:
    value = _string(value)
    if len(value) != 2 or not value.isalpha():
        raise fail("country", f"expected a two-letter country code, got {_show(value)}")
    return value.upper()


def _zone(value: Any) -> str:
    value = _string(value)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        raise fail("zone", f"unknown time zone {_show(value)}") from None
    return value


def _direction(value: Any) -> str:
    if value not in ("inbound", "outbound"):
        raise fail("direction", f"expected 'inbound' or 'outbound', got {_show(value)}")
    return value


def _none_is_empty(value: Any) -> Any:
    return [] if value is None else value


def _number_data(value: Any) -> Any:
    if value is None:
        raise fail("null", "must not be null")
    return value


Str = Annotated[str, BeforeValidator(_string)]
Seconds = Annotated[datetime, BeforeValidator(_seconds)]
Millis = Annotated[datetime, BeforeValidator(_millis)]
Id = Annotated[str, BeforeValidator(_identifier)]


class _Wire(BaseModel):
    """An Aircall object: keys the core does not read are ignored."""

    model_config = ConfigDict(extra="ignore")


class NumberData(_Wire):
    id: Any = None
    name: Str | None = None
    digits: Str | None = None
    e164_digits: Str | None = None
    country: Annotated[str | None, BeforeValidator(lambda v: v if v is None else _country(v))] = None
    time_zone: Annotated[str | None, BeforeValidator(lambda v: v if v is None else _zone(v))] = None
    open: Annotated[bool | None, BeforeValidator(lambda v: v if v is None else _flag(v))] = None


class UserData(_Wire):
    id: Any = None
    name: Str | None = None
    email: Str | None = None


class _Value(_Wire):
    value: Str | None = None


class ContactData(_Wire):
    first_name: Str | None = None
    last_name: Str | None = None
    company_name: Str | None = None
    emails: Annotated[list[_Value], BeforeValidator(_none_is_empty)] = []


class CommentData(_Wire):
    id: Any = None
    content: Str


class TagData(_Wire):
    id: Any = None
    name: Str


class _Party(_Wire):
    id: Id
    number: Annotated[NumberData, BeforeValidator(_number_data)]
    user: UserData | None = None
    contact: ContactData | None = None


class CallData(_Party):
    direction: Annotated[str, BeforeValidator(_direction)]
    started_at: Seconds
    answered_at: Seconds | None = None
    ended_at: Seconds | None = None
    duration: Annotated[int | None, BeforeValidator(lambda v: v if v is None else _duration(v))] = None
    raw_digits: Str
    missed_call_reason: Str | None = None
    voicemail: Str | None = None
    voicemail_short_url: Str | None = None
    recording: Str | None = None
    recording_short_url: Str | None = None
    asset: Str | None = None
    comments: Annotated[list[CommentData], BeforeValidator(_none_is_empty)] = []
    tags: Annotated[list[TagData], BeforeValidator(_none_is_empty)] = []

    @model_validator(mode="after")
    def _after_start(self):
        for key in ("answered_at", "ended_at"):
            moment = getattr(self, key)
            if moment is not None and moment < self.started_at:
                raise_at(key, int(moment.timestamp()), f"is before data.started_at "
                         f"({moment.isoformat()} < {self.started_at.isoformat()})")
        if self.duration is None and self.ended_at is not None \
                and (self.ended_at - self.started_at).total_seconds() > DURATION_MAX:
            raise_at("ended_at", int(self.ended_at.timestamp()), f"is more than {DURATION_MAX} seconds "
                     "after data.started_at, longer than Task.CallDurationInSeconds can hold")
        return self


class MessageData(_Party):
    direction: Str | None = None
    body: Str | None = None
    external_number: Str
    sent_at: Millis | None = None
    created_at: Millis | None = None
    channel: Str | None = None


class _Delivery(_Wire):
    event: str
    resource: Any = None
    token: Str | None = None
    timestamp: Annotated[int | None, BeforeValidator(lambda v: v if v is None else _timestamp(v))] = None

    @model_validator(mode="after")
    def _resource_matches(self):
        expected = self.event.split(".", 1)[0]
        if self.resource is not None and self.resource != expected:
            raise_at("resource", self.resource, f"expected {expected!r}, got {_show(self.resource)}")
        return self


def _timestamp(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or (isinstance(value, float) and not math.isfinite(value)):
        raise fail("number", f"expected a number, got {_show(value)}")
    if not 0 <= value <= _MAX_SECONDS:
        raise fail("number", f"expected unix seconds from 1970 to 9999-12-30, got {_show(value)}")
    return int(value)


class CallDelivery(_Delivery):
    event: Literal[CALL_EVENTS]  # type: ignore[valid-type]
    data: CallData


class MessageDelivery(_Delivery):
    event: Literal[MESSAGE_EVENTS]  # type: ignore[valid-type]
    data: MessageData

    @model_validator(mode="after")
    def _direction_of_event(self):
        expected = "outbound" if self.event == "message.sent" else "inbound"
        if self.data.direction is not None and self.data.direction != expected:
            raise ValidationError.from_exception_data("message", [dict(
                type=fail("direction", f"expected {expected!r} for {self.event}, "
                                       f"got {_show(self.data.direction)}"),
                loc=("data", "direction"), input=self.data.direction)])
        if self.data.sent_at is None and self.data.created_at is None:
            raise ValidationError.from_exception_data("message", [dict(
                type=fail("absent", "required field is missing (neither sent_at nor created_at given)"),
                loc=("data", "sent_at"), input=None)])
        return self


_DELIVERY = TypeAdapter(Annotated[
    Union[Annotated[CallDelivery, Tag("call")], Annotated[MessageDelivery, Tag("message")]],
    Discriminator(lambda payload: "call" if payload.get("event") in CALL_EVENTS else "message"),
])


# --- the core's events ---------------------------------------------------------------------------

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
    comment_ids: tuple[str, ...] = ()
    tag_ids: tuple[str, ...] = ()
    tags_known: bool = True  # False when the payload had no ``tags`` (unknown, not none)

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
    channel: str = "sms"  # "whatsapp" for WhatsApp messages

    kind = "message"

    @property
    def whatsapp(self) -> bool:
        return self.channel == "whatsapp"

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


@dataclass(frozen=True)
class IgnoredEvent:
    """An Aircall event that changes nothing in Salesforce; only its name is read."""

    event: str
    id: str | None = None

    kind = "ignored"

    @property
    def key(self) -> str:
        return f"{self.event}:{self.id}" if self.id else self.event


Event = CallEvent | MessageEvent | IgnoredEvent



def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


def _number(num: NumberData, default_country: str | None) -> AircallNumber:
    digits = num.e164_digits or num.digits
    e164 = phones.to_e164(digits, num.country or default_country) if digits else None
    return AircallNumber(id=None if num.id is None else str(num.id), name=num.name or digits or "Aircall",
                         e164=e164, country=num.country or phones.region_of(e164) or default_country,
                         time_zone=num.time_zone or phones.zone_of(e164), open=num.open)


def _user(user: UserData | None) -> AircallUser | None:
    if user is None:
        return None
    email = user.email.strip() if user.email and user.email.strip() else None
    return AircallUser(id=None if user.id is None else str(user.id), name=user.name, email=email)


def _contact(contact: ContactData | None) -> AircallContact | None:
    if contact is None:
        return None
    emails = [e.value.strip() for e in contact.emails if e.value and e.value.strip()]
    return AircallContact(first_name=_clean(contact.first_name), last_name=_clean(contact.last_name),
                          company=_clean(contact.company_name), email=emails[0] if emails else None)


def _external(event: str, key: str, raw: str, number: AircallNumber) -> str | None:
    if raw.strip().lower() == ANONYMOUS:
        return None
    e164 = phones.to_e164(raw, number.country)
    if e164 is None:
        raise InvalidEvent(f"{event}: data.{key}: {_show(raw)} is not a phone number",
                           event=event, path=f"data.{key}")
    return e164


def _items(items, attribute: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(ids, texts) of comments or tags: identified by their Aircall id (by their text when they
    have none), so that two comments with the same text stay two."""
    ids, texts = [], []
    for item in items:
        text = _clean(getattr(item, attribute))
        key = str(item.id) if item.id is not None else f"text:{text}"
        if text and key not in ids:
            ids.append(key)
            texts.append(text)
    return tuple(ids), tuple(texts)


def _call(hook: CallDelivery, default_country: str | None) -> CallEvent:
    data, event = hook.data, hook.event
    number = _number(data.number, default_country)
    external = _external(event, "raw_digits", data.raw_digits, number)
    duration = data.duration
    if duration is None:
        duration = int((data.ended_at - data.started_at).total_seconds()) if data.ended_at else 0
    # Aircall's raw recording and voicemail URLs expire within minutes, the short URLs last
    # longer, and the asset page does not expire: the most lasting link is logged.
    voicemail = data.voicemail_short_url or data.voicemail
    recording = data.recording_short_url or data.recording
    if voicemail and data.asset:
        voicemail = data.asset
    elif recording and data.asset:
        recording = data.asset
    comments, tags = _items(data.comments, "content"), _items(data.tags, "name")
    return CallEvent(
        event=event, id=data.id, direction=data.direction, started_at=data.started_at,
        answered_at=data.answered_at, ended_at=data.ended_at, duration=duration,
        raw_digits=data.raw_digits, external=external, missed_call_reason=data.missed_call_reason,
        voicemail_url=voicemail or None, recording_url=recording or None, number=number,
        user=_user(data.user), contact=_contact(data.contact),
        comments=comments[1], tags=tags[1], comment_ids=comments[0], tag_ids=tags[0],
        tags_known="tags" in data.model_fields_set,
        token=hook.token, timestamp=hook.timestamp)


def _message(hook: MessageDelivery, default_country: str | None) -> MessageEvent:
    data, event = hook.data, hook.event
    number = _number(data.number, default_country)
    external = _external(event, "external_number", data.external_number, number)
    direction = "outbound" if event == "message.sent" else "inbound"
    return MessageEvent(event=event, id=data.id, direction=direction, body=data.body or "",
                        raw_digits=data.external_number, external=external,
                        sent_at=data.sent_at or data.created_at, number=number, user=_user(data.user),
                        contact=_contact(data.contact), token=hook.token, timestamp=hook.timestamp,
                        channel=(data.channel or "sms").strip().lower())


def _lone_surrogate(payload: Mapping) -> str | None:
    """The path of a text of the delivery that is not valid Unicode (a lone surrogate,
    which Python's JSON reader lets through and Salesforce refuses), else ``None``."""
    stack: list[tuple[Any, tuple]] = [(payload, ())]
    while stack:
        item, loc = stack.pop()
        if isinstance(item, Mapping):
            stack.extend((v, loc + (k,)) for k, v in item.items())
            stack.extend((k, loc) for k in item if isinstance(k, str))
        elif isinstance(item, (list, tuple)):
            stack.extend((v, loc + (i,)) for i, v in enumerate(item))
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return key_path(loc) or "webhook"
    return None


def parse_webhook(payload: Any, default_country: str | None = None) -> Event:
    """Validate one webhook delivery and return its typed event; raise InvalidEvent if malformed.

    Numbers without ``+`` are read in the Aircall number's ``country``, else in
    ``default_country`` (the ``default_country`` setting)."""
    if not isinstance(payload, Mapping):
        raise InvalidEvent(f"webhook: expected a JSON object, got {_show(payload)}", path="")
    event = payload.get("event")
    if not isinstance(event, str) or not event:
        raise InvalidEvent(f"webhook: event: required field is missing or not a string "
                           f"(got {_show(event)})", path="event")
    if event not in SUPPORTED_EVENTS:
        if not _EVENT_NAME.match(event):
            raise InvalidEvent(f"{event}: event: not an Aircall event name (such as call.ended)",
                               event=event, path="event")
        data = payload.get("data")
        raw_id = data.get("id") if isinstance(data, Mapping) else None
        return IgnoredEvent(event, None if raw_id is None else str(raw_id))
    where = _lone_surrogate(payload)
    if where is not None:
        raise InvalidEvent(f"{event}: {where}: a string holds a lone UTF-16 surrogate (not valid Unicode)",
                           event=event, path=where)
    try:
        hook = _DELIVERY.validate_python(dict(payload))
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        path = key_path(err["loc"][1:])  # without the union's tag that leads the location
        raise InvalidEvent(f"{event}: {path}: {message_of(err, JSON)}", event=event, path=path) from None
    if isinstance(hook, CallDelivery):
        return _call(hook, default_country)
    return _message(hook, default_country)
