"""Loading and validating scenario files.

The format is a public interface, specified in ``docs/scenario-format.md``. The file's shape and
values are validated by pydantic models (:class:`Scenario` and the models it holds); the
``@ref`` names and the org clock are checked by a pass of their own over the parsed file
(:class:`_References`). Every mistake is reported as ``FILE: key.path: what was expected``;
all mistakes of a file are collected and raised together as one :class:`ScenarioError`.

Choices where the format is silent:

- List positions in key paths count from 0 (``events[0]`` is the first event).
- The ref ``admin`` always names the org's default admin user (:data:`DEFAULT_ADMIN`); it cannot
  be redefined.
- Without ``org.numbers`` the org has one open line, :data:`DEFAULT_NUMBER` (ref ``main``).
  A number's ``time_zone`` defaults to its region's zone when the region has only one, else UTC
  (:mod:`simulator.core.phones`).
- The ``settings:`` block is the logging core's :class:`~simulator.core.Settings`;
  ``integration_owner`` names a user of the scenario by its ref.
- A call without ``external`` comes from a generated number that matches nothing; ``recording``
  defaults to true for answered calls and false otherwise; an answered call's ``duration``
  includes its ``wait`` (as Aircall counts it), so ``wait`` may not exceed it.
- ``sms`` also accepts ``contact`` and ``number_open``, as ``call`` does, and ``body`` defaults
  to generated text. A ``webhook`` may carry a ``ref`` (removed from the payload) so that
  expectations and ``redeliver`` can name it.
- A timeline given with only one of ``past_activities`` / ``next_steps`` expects the other
  to be empty: timelines are compared exactly.
- Any string value starting with ``@`` is a ref to a record or user.
"""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any, Union
from zoneinfo import ZoneInfo

import yaml
from pydantic import (
    BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError, create_model, model_validator,
)

from fake_salesforce import yaml_keys
from fake_salesforce.faults import FaultRule
from fake_salesforce.schema.registry import load_schema
from simulator.core import phones
from simulator.core.settings import CallType, Settings, _country
from simulator.core.validation import (
    Count, Flag, Strict, Text, fail, key_path, list_of, message_of, moment_value, one_of, problems,
    raise_at, show, text_value,
)

CALL_TYPES = tuple(t.value for t in CallType)
ANSWERED_CALL_TYPES = frozenset({CallType.OUTBOUND_ANSWERED, CallType.INBOUND_ANSWERED})
OUTBOUND_CALL_TYPES = frozenset({CallType.OUTBOUND_ANSWERED, CallType.OUTBOUND_UNANSWERED})
SMS_DIRECTIONS = ("inbound", "outbound")
SOBJECTS = (
    "Account", "Contact", "Lead", "Case", "Opportunity", "OpportunityContactRole",
    "Task", "Event", "PersonAccount",
)
TIMELINE_SOBJECTS = frozenset({"Account", "Contact", "Lead", "Case", "Opportunity", "PersonAccount"})
AUDIT_FIELDS = ("CreatedDate", "LastModifiedDate")
ANONYMOUS = "anonymous"
REF_PREFIX = "@"
ADMIN_REF = "admin"
DEFAULT_NOW = datetime(2026, 11, 2, 9, 0, 0, tzinfo=timezone.utc)
CLOCK_STEP = timedelta(seconds=1)
# The org clock's range: Aircall webhooks carry its times as unix seconds, and a call's end
# and the steps after it must still be dates the core accepts.
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9999, 1, 1, tzinfo=timezone.utc)
DEFAULT_DURATION = 60
DEFAULT_WAIT = 5
EVENT_KINDS = ("call", "sms", "update", "create", "webhook", "redeliver", "comment", "settings")
ORDERS = ("most_recent", "insertion", "shuffle")
PERSON_CONTACT = ".PersonContactId"
# The Aircall events a ``call`` can be delivered as (``deliver:``), each a snapshot of the call
# at the time Aircall sends it.
CALL_EVENTS = ("call.created", "call.ringing_on_agent", "call.answered", "call.hungup", "call.ended",
               "call.commented", "call.tagged", "call.untagged", "call.voicemail_left",
               "call.comm_assets_generated")

_REF_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_RULE_RE = re.compile(r"^R\d+\.\d+$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL_RE = re.compile(r"^https?://\S+$")
_PHONE_EXAMPLE = '"+33 6 12 34 56 78"'


class ScenarioError(ValueError):
    """All the mistakes found in one or more scenario files."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


def is_ref(value: Any) -> bool:
    """Whether a field value is an ``"@ref"``."""
    return isinstance(value, str) and value.startswith(REF_PREFIX)


# --- value types ---------------------------------------------------------------------------------


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ref_name(value: Any) -> str:
    if not isinstance(value, str) or not _REF_RE.match(value):
        raise fail("ref", "expected a ref: a name of letters, digits, '_', '-' or '.', "
                          f"starting with a letter, got {show(value)}")
    return value


def ref_to(wanted: str):
    """A use of a ref; whether it names ``wanted`` is checked by the reference pass."""
    def check(value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise fail("ref", f"expected a ref naming {wanted}, got {show(value)}")
        return value
    return BeforeValidator(check)


def clock_value(value: Any) -> datetime:
    """A time of the org clock (``org.now``, an event's ``at``): a date-time from 1970 to 9998."""
    moment = moment_value(value)
    if not EARLIEST <= moment < LATEST:
        raise fail("moment", f"expected a date-time from 1970 to 9998 (webhooks carry it as unix "
                             f"seconds), got {show(value)}")
    return moment


Clock = Annotated[datetime, BeforeValidator(clock_value)]


def _email(value: Any) -> str:
    if not isinstance(value, str) or not _EMAIL_RE.match(value):
        raise fail("email", f"expected an email address, got {show(value)}")
    return value


def _phone(anonymous_ok: bool):
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise fail("phone", "expected a phone number as a quoted string such as "
                                f"{_PHONE_EXAMPLE}, got {show(value)}")
        if anonymous_ok and value.strip().lower() == ANONYMOUS:
            return ANONYMOUS
        if not value.strip().startswith("+") or phones.parse(value) is None:
            alt = f" or {ANONYMOUS!r}" if anonymous_ok else ""
            raise fail("phone", f"{show(value)} is not a phone number in international format "
                                f"(+ and country code, e.g. {_PHONE_EXAMPLE}){alt}")
        return value
    return BeforeValidator(check)


def _time_zone(value: Any) -> str:
    try:
        if not isinstance(value, str) or "/" not in value and value != "UTC":
            raise ValueError(value)
        ZoneInfo(value)
    except (ValueError, KeyError, OSError):
        raise fail("zone", f"{show(value)} is not an IANA time zone such as Europe/Paris") from None
    return value


def _agent(value: Any) -> str:
    if isinstance(value, str) and "@" in value:
        return _email(value)
    if not isinstance(value, str) or not value:
        raise fail("ref", f"expected a ref naming a user (or give an email), got {show(value)}")
    return value


def _recording(value: Any) -> bool | str:
    if isinstance(value, bool) or (isinstance(value, str) and _URL_RE.match(value)):
        return value
    raise fail("recording", f"expected true, false or an http(s) URL, got {show(value)}")


def _field_value(value: Any) -> Any:
    """A scalar field value; dates become ISO strings."""
    if isinstance(value, (dict, list)):
        raise fail("scalar", "expected a scalar value (string, number, true/false or null), "
                             f"got {show(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise fail("scalar", f"expected a finite number, got {show(value)}")
    if isinstance(value, datetime):
        return _utc_text(value) if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _rule_id(value: Any) -> str:
    text = text_value(value)
    if not _RULE_RE.match(text):
        raise fail("rule", f"{show(text)} is not a rule id like R4.2")
    return text


def _description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise fail("text", f"expected a string, got {show(value)}")
    return value


def _field_map(required: bool):
    def check(value: Any) -> dict:
        if value is None and not required:
            return {}
        if not isinstance(value, dict) or (required and not value):
            raise fail("fields", f"expected a mapping with at least one field, got {show(value)}")
        return value
    return BeforeValidator(check)


RefName = Annotated[str, BeforeValidator(_ref_name)]
Email = Annotated[str, BeforeValidator(_email)]
FieldValue = Annotated[Any, BeforeValidator(_field_value)]
Fields = Annotated[dict[str, FieldValue], _field_map(required=False)]
RequiredFields = Annotated[dict[str, FieldValue], _field_map(required=True)]
Strings = Annotated[list[Text], list_of("a list of strings")]


class _Record(Strict):
    """A mapping of Salesforce fields beside a few keys of the format (``ref``, ``sobject``)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, FieldValue]

    @model_validator(mode="after")
    def _audit_fields_are_moments(self):
        for key in AUDIT_FIELDS:
            if key in self.__pydantic_extra__:
                value = self.__pydantic_extra__[key]
                try:
                    moment = moment_value(value)
                except Exception as exc:  # the moment's own message
                    raise_at(key, value, str(exc))
                self.__pydantic_extra__[key] = _utc_text(moment)
        return self

    @property
    def fields(self) -> dict[str, Any]:
        return dict(self.__pydantic_extra__)


# --- the model -------------------------------------------------------------------------------


class UserSpec(_Record):
    """A Salesforce user; ``fields`` are User fields (FirstName, LastName, Email ...)."""

    ref: RefName | None
    LastName: FieldValue
    Email: Email

    @property
    def fields(self) -> dict[str, Any]:
        return {"LastName": self.LastName, "Email": self.Email, **self.__pydantic_extra__}

    @property
    def email(self) -> str:
        return self.Email or ""

    @property
    def name(self) -> str:
        parts = [self.__pydantic_extra__.get("FirstName"), self.LastName]
        return " ".join(str(p) for p in parts if p)


class NumberSpec(Strict):
    """An Aircall number (line)."""

    ref: RefName
    name: Text
    digits: Annotated[str, _phone(anonymous_ok=False)]
    time_zone: Annotated[str | None, BeforeValidator(lambda v: v if v is None else _time_zone(v))] = None

    @model_validator(mode="after")
    def _zone_of_digits(self):
        if self.time_zone is None:
            self.time_zone = phones.zone_of(self.digits)
        return self


class RecordSpec(_Record):
    """A record to create; string values ``"@ref"`` stand for another record's or user's Id."""

    ref: RefName
    sobject: Annotated[str, one_of(SOBJECTS)]


class OrgSpec(Strict):
    now: Clock = DEFAULT_NOW
    order: Annotated[str, one_of(ORDERS)] = "most_recent"
    default_country: Annotated[str | None, BeforeValidator(_country)] = None
    users: Annotated[list[UserSpec], list_of("a list")] = []
    numbers: Annotated[list[NumberSpec], list_of("a list")] = None  # type: ignore[assignment]
    records: Annotated[list[RecordSpec], list_of("a list")] = []

    @model_validator(mode="after")
    def _default_line(self):
        if self.numbers is None:
            self.numbers = [DEFAULT_NUMBER]
        elif not self.numbers:
            raise_at("numbers", [], "expected at least one number (leave the key out for the "
                                    "default line)")
        return self


class ContactSpec(Strict):
    """The Aircall contact attached to a call or message."""

    first_name: Text | None = None
    last_name: Text | None = None
    email: Email | None = None
    company: Text | None = None
    phone: Annotated[str | None, _phone(anonymous_ok=False)] = None


class _Step(Strict):
    """One step of a scenario; ``index`` and ``at`` are its place in ``events``."""

    _index: int = PrivateAttr(0)
    _at: datetime | None = PrivateAttr(None)

    @property
    def index(self) -> int:
        return self._index

    @property
    def at(self) -> datetime | None:
        return self._at


class _Party(_Step):
    ref: RefName
    external: Annotated[str | None, _phone(anonymous_ok=True)] = None
    number: Annotated[str | None, ref_to("a number")] = None
    agent: Annotated[str | None, BeforeValidator(_agent)] = None
    contact: ContactSpec | None = None
    number_open: Flag = True


class CallStep(_Party):
    """A call, expanded to a ``call.ended`` webhook. ``external`` None: a generated number."""

    type: Annotated[CallType, one_of(CallType)]
    duration: Count | None = None
    wait: Count = DEFAULT_WAIT
    recording: Annotated[bool | str | None, BeforeValidator(_recording)] = None
    comments: Strings = []
    tags: Strings = []
    deliver: Annotated[list[Annotated[str, one_of(CALL_EVENTS)]],
                       list_of("a list of Aircall call events")] = ["call.ended"]
    national: Flag = False

    @model_validator(mode="after")
    def _defaults(self):
        if self.duration is None:
            self.duration = DEFAULT_DURATION if self.answered else 0
        if self.recording is None:
            self.recording = self.answered
        if not self.deliver:
            raise_at("deliver", [], "expected at least one Aircall call event (call.ended by default)")
        if "call.answered" in self.deliver and not self.answered:
            raise_at("deliver", self.deliver, f"call.answered: a {self.type.value} call is never answered")
        if "call.voicemail_left" in self.deliver and self.type is not CallType.VOICEMAIL:
            raise_at("deliver", self.deliver, f"call.voicemail_left: a {self.type.value} call has no "
                                              "voicemail (use type: voicemail)")
        if self.answered and self.wait > self.duration:
            raise_at("wait", self.wait, f"{self.wait} s is longer than the call's duration "
                                        f"({self.duration} s); an answered call's duration "
                                        "includes its wait")
        return self

    @property
    def direction(self) -> str:
        return "outbound" if self.type in OUTBOUND_CALL_TYPES else "inbound"

    @property
    def answered(self) -> bool:
        return self.type in ANSWERED_CALL_TYPES


class SmsStep(_Party):
    """A text message, expanded to ``message.received`` (inbound) or ``message.sent``."""

    direction: Annotated[str, one_of(SMS_DIRECTIONS)]
    body: Text | None = None
    national: Flag = False


class UpdateStep(_Step):
    """A change made in Salesforce between calls: to a record, a user, or the Task logged for
    an event (its ref names the event)."""

    ref: Annotated[str, ref_to("a record, user or logged event")]
    fields: RequiredFields


class CreateStep(RecordSpec, _Step):
    """A record created in Salesforce between calls."""

    model_config = ConfigDict(extra="allow")

    @property
    def record(self) -> RecordSpec:
        return self


class WebhookStep(_Step):
    """A raw Aircall webhook, delivered as written (its ``ref`` taken out)."""

    ref: RefName | None = None
    payload: dict[str, Any]

    @model_validator(mode="before")
    @classmethod
    def _split_ref(cls, value: Any):
        if not isinstance(value, dict):
            raise fail("webhook", f"expected a mapping (an Aircall webhook), got {show(value)}")
        payload = dict(value)
        return {"ref": payload.pop("ref", None), "payload": payload}


class RedeliverStep(_Step):
    """The webhook of an earlier event delivered again."""

    target: str

    @model_validator(mode="before")
    @classmethod
    def _target(cls, value: Any):
        if not isinstance(value, str) or not value:
            raise fail("ref", f"expected a ref naming a call, SMS, webhook or comment event, got {show(value)}")
        return {"target": value}


class CommentStep(_Step):
    """A later ``call.commented`` webhook for an earlier call; a ``ref`` lets ``redeliver`` name it."""

    ref: RefName | None = None
    call: Annotated[str, ref_to("a call event")]
    content: Text


def _settings_step_fields() -> dict:
    """Every key of the settings, optional: a ``settings`` event gives those that change."""
    fields = {}
    for name, field in Settings.model_fields.items():
        annotation = Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
        fields[name] = (annotation, None)
    return fields


class _SettingsChange(_Step):
    _in_force: Any = PrivateAttr(None)

    @property
    def in_force(self) -> Settings:
        """The settings in force from this event on."""
        return self._in_force

    @model_validator(mode="before")
    @classmethod
    def _some(cls, value: Any):
        if not isinstance(value, dict) or not value:
            raise fail("settings", f"expected a mapping of the settings that change, got {show(value)}")
        return value


SettingsStep = create_model("SettingsStep", __base__=_SettingsChange, **_settings_step_fields())
SettingsStep.__doc__ = """The integration's settings changed between events: the keys given replace
those in force (``call_workflow`` entries merge into the mapping in force)."""


def _changed(settings: Settings, step) -> dict:
    """The settings in force after ``step``, as a mapping for :meth:`Settings.model_validate`."""
    merged = settings.to_dict()
    for key in step.model_fields_set:
        value = getattr(step, key)
        if key == "call_workflow":
            merged[key] = {**merged[key], **{t: getattr(value, t).value for t in value.model_fields_set}}
        else:
            merged[key] = getattr(value, "value", value)
    return merged


Step = Union[CallStep, SmsStep, UpdateStep, CreateStep, WebhookStep, RedeliverStep, CommentStep,
             SettingsStep]


class _EventItem(Strict):
    """One entry of ``events``: exactly one step, keyed by its kind, and an optional ``at``."""

    at: Clock | None = None
    call: CallStep | None = None
    sms: SmsStep | None = None
    update: UpdateStep | None = None
    create: CreateStep | None = None
    webhook: WebhookStep | None = None
    redeliver: RedeliverStep | None = None
    comment: CommentStep | None = None
    settings: SettingsStep | None = None

    @model_validator(mode="before")
    @classmethod
    def _a_mapping(cls, value: Any):
        if not isinstance(value, dict):
            raise fail("event", f"expected a mapping with one of {', '.join(EVENT_KINDS)}, "
                                f"got {show(value)}")
        return value

    @model_validator(mode="after")
    def _exactly_one(self):
        kinds = [k for k in EVENT_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            found = f", found {' and '.join(kinds)}" if kinds else ""
            raise ValidationError.from_exception_data("event", [dict(
                type=fail("event", f"expected exactly one of {', '.join(EVENT_KINDS)}{found}"),
                loc=(), input=None)])
        step = getattr(self, kinds[0])
        step._at = self.at
        return self

    @property
    def step(self) -> Step:
        return next(getattr(self, k) for k in EVENT_KINDS if getattr(self, k) is not None)


class ExpectedTimeline(Strict):
    past_activities: Strings = []
    next_steps: Strings = []


class ExpectedRecord(Strict):
    """A record the integration must have created, found by ``where``."""

    ref: RefName
    sobject: Annotated[str, one_of(SOBJECTS)]
    where: RequiredFields
    fields: Fields = {}


class AbsentRecord(Strict):
    """A record that must not exist: no ``sobject`` record has the ``where`` fields."""

    sobject: Annotated[str, one_of(SOBJECTS)]
    where: RequiredFields


class ExpectedTask(Strict):
    fields: Fields = {}
    description_contains: Strings = []


class Expectations(Strict):
    timelines: dict[str, ExpectedTimeline] = {}
    records: Annotated[list[ExpectedRecord], list_of("a list")] = []
    absent: Annotated[list[AbsentRecord], list_of("a list")] = []
    task_counts: dict[str, Count] = {}
    not_logged: Strings = []
    rejected: Strings = []
    tasks: dict[str, ExpectedTask] = {}
    task_count: Count | None = None


def _number_in(low: float, high: float, what: str, integer: bool = False, low_open: bool = False):
    """A number in [low, high] (``(low, high]`` when ``low_open``), an integer when asked."""
    def check(value: Any):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if ok and integer:
            ok = float(value).is_integer()
            value = int(value) if ok else value
        if not ok or value > high or value < low or (low_open and value == low):
            bounds = f"above {low:g} and at most {high:g}" if low_open else f"from {low:g} to {high:g}"
            raise fail("number", f"expected {what}: {'an integer' if integer else 'a number'} "
                                 f"{bounds}, got {show(value)}")
        return value
    return BeforeValidator(check)


Probability = Annotated[float, _number_in(0, 1, "a probability")]


class DeliveryPolicy(Strict):
    """How webhooks reach the integration: at least once, in any order, retried as Aircall does.

    Every draw comes from a generator seeded with ``seed``: the same file delivers the same way.
    """

    seed: Annotated[int, _number_in(0, 2**63, "a seed", integer=True)] = 0
    duplicates: Probability = 0.0
    concurrent: Probability = 0.0
    reorder: Probability = 0.0
    window: Annotated[int, _number_in(1, 50, "a number of places", integer=True)] = 3
    lifecycle: Flag = True
    ended_after: Annotated[int, _number_in(0, 3600, "seconds", integer=True)] = 30
    timeout: Annotated[float, _number_in(0, 60, "seconds", low_open=True)] = 5.0
    retries: Annotated[int, _number_in(0, 20, "a number of retries", integer=True)] = 5


DEFAULT_ADMIN = UserSpec(ref=ADMIN_REF, FirstName="Admin", LastName="User", Email="admin@example.com")
DEFAULT_NUMBER = NumberSpec(ref="main", name="Main line", digits="+1 212 555 0000",
                            time_zone="America/New_York")


def _none_is(default):
    return BeforeValidator(lambda v: default() if v is None else v)


class Scenario(Strict):
    """One validated scenario file, defaults applied."""

    name: Text
    description: Annotated[str, BeforeValidator(_description)] = ""
    covers: Annotated[list[Annotated[str, BeforeValidator(_rule_id)]],
                      _none_is(list), list_of("a list of strings")] = []
    settings: Annotated[Settings, _none_is(dict)] = Settings()
    org: Annotated[OrgSpec, _none_is(dict)] = OrgSpec()
    event_items: Annotated[list[_EventItem], list_of("a list of events")] = Field(alias="events")
    faults: Annotated[list[FaultRule], _none_is(list), list_of("a list of fault rules")] = []
    delivery: Annotated[DeliveryPolicy | None, _none_is(dict)] = None
    expect: Annotated[Expectations, _none_is(dict)] = Expectations()

    _path: str = PrivateAttr("<string>")
    _raw: Any = PrivateAttr(None)

    @model_validator(mode="after")
    def _place_steps(self):
        settings, found = self.settings, []
        for i, item in enumerate(self.event_items):
            step = item.step
            step._index = i
            if isinstance(step, _Party) and step.number is None:
                step.number = self.org.numbers[0].ref
            if isinstance(step, SettingsStep):
                try:
                    settings = Settings.model_validate(_changed(settings, step))
                except ValidationError as exc:
                    found += [dict(type=fail("settings", message_of(err)),
                                   loc=("events", i, "settings", *err["loc"]), input=err.get("input"))
                              for err in exc.errors(include_url=False)]
                    continue
                step._in_force = settings
        if found:
            raise ValidationError.from_exception_data("settings", found)
        return self

    @property
    def org_default_country(self) -> str:
        """The country the fake org reads numbers without ``+`` in: ``org.default_country``,
        else the setting's, else US."""
        return self.org.default_country or self.settings.default_country or "US"

    @property
    def events(self) -> list[Step]:
        return [item.step for item in self.event_items]

    @property
    def path(self) -> str:
        return self._path

    @property
    def raw(self) -> Any:
        return self._raw

    @property
    def seed(self) -> str:
        """What generated webhook values are seeded from."""
        return self.name

    def user(self, ref: str) -> UserSpec:
        if ref == ADMIN_REF:
            return DEFAULT_ADMIN
        return _find(self.org.users, ref, "user")

    def number(self, ref: str) -> NumberSpec:
        return _find(self.org.numbers, ref, "number")

    def record(self, ref: str) -> RecordSpec:
        """A seeded record or one made by a ``create`` event."""
        created = [e.record for e in self.events if isinstance(e, CreateStep)]
        return _find(self.org.records + created, ref, "record")

    def event(self, ref: str) -> Step:
        return _find([e for e in self.events if getattr(e, "ref", None)], ref, "event")

    def agent_user(self, event: CallStep | SmsStep) -> UserSpec | None:
        """The user behind an event's ``agent``; an email of no defined user gives a bare spec."""
        if event.agent is None:
            return None
        if "@" not in event.agent:
            return self.user(event.agent)
        for user in [DEFAULT_ADMIN, *self.org.users]:
            if user.email.lower() == event.agent.lower():
                return user
        return UserSpec(ref=None, LastName=None, Email=event.agent)

    def event_times(self) -> list[datetime]:
        """The org clock at each event: moved by ``at``, then one second after every event."""
        clock, times = self.org.now, []
        for ev in self.events:
            if ev.at is not None and ev.at > clock:
                clock = ev.at
            times.append(clock)
            clock += CLOCK_STEP
        return times


def _find(items: list, ref: str, kind: str):
    for item in items:
        if item.ref == ref:
            return item
    raise KeyError(f"no {kind} with ref {ref!r}")


# --- public API ------------------------------------------------------------------------------


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate one file; raises :class:`ScenarioError` listing every mistake."""
    label = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([f"{label}: cannot read file: {exc}"]) from None
    return parse_scenario(text, label)


def parse_scenario(text: str, path: str = "<string>") -> Scenario:
    """Validate scenario YAML given as text; ``path`` is used in messages."""
    try:
        data, duplicates = yaml_keys.load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context and exc.context_mark:
            problem += f" ({exc.context} started at line {exc.context_mark.line + 1})"
        raise ScenarioError([f"{path}: {where}YAML syntax error: {problem}"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([f"{path}: YAML syntax error: {exc}"]) from None
    errors = [f"{path}: line {line}: duplicate key {key!r}" for line, key in duplicates]
    if data is None:
        raise ScenarioError(errors + [f"{path}: the file is empty; expected a mapping with at least "
                                      "name and events"])
    expansion = _alias_problem(data)
    if expansion:
        raise ScenarioError(errors + [f"{path}: {expansion}"])
    scenario, found = None, []
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        found = problems(exc)
    if isinstance(data, dict):
        found += _References(data).problems
    order = _path_order(data)
    found.sort(key=lambda p: _rank(p[0], order))
    errors += [f"{path}: {p}: {m}" if p else f"{path}: {m}" for p, m in found]
    if errors:
        raise ScenarioError(errors)
    scenario._path, scenario._raw = path, data
    return scenario


def scenario_files(paths) -> list[Path]:
    """Files named by ``paths``; directories are walked for ``*.yaml`` / ``*.yml``, sorted."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.suffix in (".yaml", ".yml") and f.is_file())
        else:
            files.append(p)
    return files


def load_scenarios(paths) -> list[Scenario]:
    """Load every scenario under ``paths``; raises one :class:`ScenarioError` for all files."""
    scenarios, errors = _load_all(paths)
    if errors:
        raise ScenarioError(errors)
    return scenarios


def validate_paths(paths) -> list[str]:
    """Every mistake in the files under ``paths``; empty when all are valid."""
    return _load_all(paths)[1]


def _load_all(paths) -> tuple[list[Scenario], list[str]]:
    scenarios: list[Scenario] = []
    errors: list[str] = []
    seen: dict[str, str] = {}
    files = scenario_files(paths)
    for f in files:
        if not f.exists():
            errors.append(f"{f}: no such file or directory")
            continue
        try:
            scenario = load_scenario(f)
        except ScenarioError as exc:
            errors += exc.errors
            continue
        if scenario.name in seen:
            errors.append(f"{f}: name: {scenario.name!r} is already used by {seen[scenario.name]}")
            continue
        seen[scenario.name] = str(f)
        scenarios.append(scenario)
    return scenarios, errors


# --- YAML ------------------------------------------------------------------------------------


MAX_VALUES = 100_000


def _alias_problem(data: Any) -> str | None:
    """What is wrong with the file's YAML aliases, if anything: an alias inside the node it names
    (a value containing itself), or aliases repeating nodes past ``MAX_VALUES`` values in all."""
    count, inside, stack = 0, set(), [(data, "", False)]
    while stack:
        node, path, leaving = stack.pop()
        if leaving:
            inside.discard(id(node))
            continue
        count += 1
        if count > MAX_VALUES:
            return f"more than {MAX_VALUES:,} values once its YAML aliases are expanded"
        if isinstance(node, (dict, list)):
            if id(node) in inside:
                return f"{path}: a YAML alias inside the node it names (a value that contains itself)"
            inside.add(id(node))
            stack.append((node, path, True))
            items = node.items() if isinstance(node, dict) else enumerate(node)
            stack.extend((value, key_path([key], path), False) for key, value in items)
    return None


def _path_order(data: Any) -> dict[str, int]:
    """Key paths of the parsed file, numbered in the order they appear."""
    order: dict[str, int] = {}

    def walk(node: Any, path: str) -> None:
        order.setdefault(path, len(order))
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(data, "")
    return order


def _rank(path: str, order: dict[str, int]) -> int:
    """The position of ``path``, or of its nearest ancestor present in the file."""
    while path not in order:
        cut = max(path.rfind("."), path.rfind("["))
        if cut < 0:
            return 0
        path = path[:cut]
    return order[path]


# --- the reference pass ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _known_rules() -> tuple[str, ...]:
    """The rule ids of docs/rules.md (as packaged); none when it cannot be read."""
    from simulator.rules import RulesError, rule_ids
    try:
        return tuple(rule_ids())
    except RulesError:
        return ()


@lru_cache(maxsize=None)
def _fields_of(sobject: str) -> tuple[str, ...]:
    """The fields of an sObject in the org's standard schema (a person account's are Account's)."""
    definition = load_schema().get("Account" if sobject == "PersonAccount" else sobject)
    return tuple(definition.fields) if definition else ()


_KIND_NAMES = {
    "user": "a user", "number": "a number", "record": "a record",
    "expected_record": "an expected record", "call": "a call event", "sms": "an SMS event",
    "webhook": "a webhook event", "comment": "a comment event",
}
_LOGGED = (("call", "sms", "webhook"), "a call, SMS or webhook event")
_DELIVERED = (("call", "sms", "webhook", "comment"), "a call, SMS, webhook or comment event")


@dataclass
class _Definition:
    kind: str
    path: str
    position: tuple[int, int]
    sobject: str | None = None


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


class _References:
    """Checks what every ref names, and the org clock, over the parsed file.

    It reads the file as parsed (not the validated model), so that a ref is checked even where
    other keys of the same file are wrong; values of the wrong type are left to the models.
    Positions order definitions: ``(part, index)`` with users and numbers in part 0, seeded
    records 1, events 2, expected records 3; a use with ``before`` must follow its definition.
    """

    def __init__(self, data: dict):
        self.problems: list[tuple[str, str]] = []
        self.defs: dict[str, _Definition] = {}
        self.uses: list[tuple[str, str, tuple, str, Any, str, Any]] = []
        self.run(data)

    def error(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def define(self, ref: Any, kind: str, path: str, position, sobject=None) -> None:
        if not isinstance(ref, str) or not _REF_RE.match(ref):
            return
        if ref in self.defs:
            self.error(path, f"{ref!r} is already used by {self.defs[ref].path}")
            return
        self.defs[ref] = _Definition(kind, path, position, sobject if isinstance(sobject, str) else None)

    def use(self, path: str, ref: Any, kinds: tuple, wanted: str, before=None, sobjects=None,
            shown: str | None = None) -> None:
        if isinstance(ref, str) and ref:
            self.uses.append((path, ref, kinds, wanted, before, shown or ref, sobjects))

    def values(self, fields: Any, path: str, before=None, skip=(), sobject: Any = None) -> None:
        """Field names must be fields of ``sobject`` (when known); ``"@ref"`` values must name
        a record or user (defined before ``before``)."""
        known = _fields_of(sobject) if sobject in SOBJECTS or sobject == "User" else ()
        for key, value in _mapping(fields).items():
            if known and key not in skip and key not in known:
                close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                self.error(f"{path}.{key}", f"{sobject} has no field {str(key)!r}{hint}")
            elif key not in skip and value == REF_PREFIX:
                self.error(f"{path}.{key}", "'@' alone names nothing: expected '@' and a ref, such as '@alice'")
            elif key not in skip and is_ref(value):
                self.use(f"{path}.{key}", value[1:], ("record", "user", "expected_record"),
                         "a record or user", before, shown=value)

    def run(self, data: dict) -> None:
        self.covers(data.get("covers"))
        org = _mapping(data.get("org"))
        self.define(ADMIN_REF, "user", "the default admin user", (0, -1))
        for i, user in enumerate(_list(org.get("users"))):
            path = f"org.users[{i}]"
            if _mapping(user).get("ref") == ADMIN_REF:
                self.error(f"{path}.ref", f"{ADMIN_REF!r} is reserved for the default admin user")
            else:
                self.define(_mapping(user).get("ref"), "user", f"{path}.ref", (0, i))
            self.values(user, path, (0, i), skip=("ref",), sobject="User")
        if "numbers" not in org:
            self.define(DEFAULT_NUMBER.ref, "number", "the default number", (0, -1))
        for i, number in enumerate(_list(org.get("numbers"))):
            self.define(_mapping(number).get("ref"), "number", f"org.numbers[{i}].ref", (0, i))
        for i, record in enumerate(_list(org.get("records"))):
            self.record(record, f"org.records[{i}]", (1, i))
        owner = _mapping(data.get("settings")).get("integration_owner")
        self.use("settings.integration_owner", owner, ("user",), "a user")
        self.events(data, org)
        self.expectations(_mapping(data.get("expect")))
        self.resolve()

    def covers(self, covers: Any) -> None:
        """Rule ids must be rules of docs/rules.md."""
        known = _known_rules()
        for i, rule in enumerate(_list(covers)):
            if known and isinstance(rule, str) and _RULE_RE.match(rule) and rule not in known:
                self.error(f"covers[{i}]", f"{rule!r} is not a logging rule; the rules are "
                                           f"{known[0]} to {known[-1]} (docs/rules.md)")

    def record(self, record: Any, path: str, position) -> None:
        record = _mapping(record)
        self.define(record.get("ref"), "record", f"{path}.ref", position, record.get("sobject"))
        self.values(record, path, position, skip=("ref", "sobject"), sobject=record.get("sobject"))

    def events(self, data: dict, org: dict) -> None:
        try:
            clock = clock_value(org["now"]) if "now" in org else DEFAULT_NOW
        except Exception:
            clock = DEFAULT_NOW
        for i, item in enumerate(_list(data.get("events"))):
            item, path, here = _mapping(item), f"events[{i}]", (2, i)
            if "at" in item:
                try:
                    at = clock_value(item["at"])
                except Exception:
                    at = None
                if at is not None and at < clock:
                    self.error(f"{path}.at", f"{_utc_text(at)} is before the org clock "
                                             f"({_utc_text(clock)}); the clock only moves forward, "
                                             "one second after every event")
                elif at is not None:
                    clock = at
            clock += CLOCK_STEP
            for kind in EVENT_KINDS:
                if kind in item:
                    self.step(kind, item[kind], f"{path}.{kind}", here)

    def step(self, kind: str, body: Any, path: str, here) -> None:
        if kind == "redeliver":
            self.use(path, body, *_DELIVERED, before=here)
            return
        if kind == "create":
            self.record(body, path, here)
            return
        body = _mapping(body)
        if kind in ("call", "sms", "webhook"):
            self.define(body.get("ref"), kind, f"{path}.ref", here)
        if kind in ("call", "sms"):
            self.use(f"{path}.number", body.get("number"), ("number",), "a number")
            agent = body.get("agent")
            if isinstance(agent, str) and "@" not in agent:
                self.use(f"{path}.agent", agent, ("user",), "a user (or give an email)")
        elif kind == "update":
            self.use(f"{path}.ref", body.get("ref"), ("record", "user", *_LOGGED[0], "comment"),
                     "a record, user or logged event", before=here)
            target = self.defs.get(body.get("ref")) if isinstance(body.get("ref"), str) else None
            sobject = None if target is None else "User" if target.kind == "user" else \
                "Task" if target.kind in (*_LOGGED[0], "comment") else target.sobject
            self.values(body.get("fields"), f"{path}.fields", here, sobject=sobject)
        elif kind == "settings":
            self.use(f"{path}.integration_owner", body.get("integration_owner"), ("user",), "a user")
        elif kind == "comment":
            self.define(body.get("ref"), kind, f"{path}.ref", here)
            self.use(f"{path}.call", body.get("call"), ("call",), "a call event", before=here)

    def expectations(self, expect: dict) -> None:
        for i, record in enumerate(_list(expect.get("records"))):
            record, path = _mapping(record), f"expect.records[{i}]"
            self.define(record.get("ref"), "expected_record", f"{path}.ref", (3, i), record.get("sobject"))
            self.values(record.get("where"), f"{path}.where", sobject=record.get("sobject"))
            self.values(record.get("fields"), f"{path}.fields", sobject=record.get("sobject"))
        for i, record in enumerate(_list(expect.get("absent"))):
            record = _mapping(record)
            self.values(record.get("where"), f"expect.absent[{i}].where", sobject=record.get("sobject"))
        for key in _mapping(expect.get("task_counts")):
            self.use(f"expect.task_counts.{key}", key, ("record", "expected_record"), "a record",
                     sobjects=TIMELINE_SOBJECTS)
        timelines = _mapping(expect.get("timelines"))
        for key, timeline in timelines.items():
            path = f"expect.timelines.{key}"
            self.use(path, key, ("record", "expected_record"), "a record", sobjects=TIMELINE_SOBJECTS)
            for section in ("past_activities", "next_steps"):
                for j, ref in enumerate(_list(_mapping(timeline).get(section))):
                    self.use(f"{path}.{section}[{j}]", ref, *_LOGGED)
        not_logged = _list(expect.get("not_logged"))
        for j, ref in enumerate(not_logged):
            self.use(f"expect.not_logged[{j}]", ref, *_LOGGED)
        for j, ref in enumerate(_list(expect.get("rejected"))):
            self.use(f"expect.rejected[{j}]", ref, *_LOGGED)
        tasks = _mapping(expect.get("tasks"))
        for key, task in tasks.items():
            self.use(f"expect.tasks.{key}", key, *_LOGGED)
            self.values(_mapping(task).get("fields"), f"expect.tasks.{key}.fields", sobject="Task")
        for j, ref in enumerate(not_logged):
            if not isinstance(ref, str):
                continue
            if ref in tasks:
                self.error(f"expect.not_logged[{j}]", f"{ref!r} also has a Task expected in expect.tasks")
            for key, timeline in timelines.items():
                sections = [_list(_mapping(timeline).get(s)) for s in ("past_activities", "next_steps")]
                if any(ref in s for s in sections):
                    self.error(f"expect.not_logged[{j}]",
                               f"{ref!r} is also expected on the timeline of {key!r}")

    def resolve(self) -> None:
        for path, ref, kinds, wanted, before, shown, sobjects in self.uses:
            d = self.defs.get(ref)
            base = ref[:-len(PERSON_CONTACT)] if ref.endswith(PERSON_CONTACT) else None
            if d is None and base in self.defs and "record" in kinds:
                d = self.defs[base]   # "@jane.PersonContactId": the person account's Contact
                if d.kind == "record" and d.sobject != "PersonAccount":
                    self.error(path, f"{shown!r}: {base!r} is a {d.sobject}; only a PersonAccount "
                                     "has a person Contact")
                    continue
            if d is None:
                candidates = [r for r, x in self.defs.items() if x.kind in kinds]
                close = difflib.get_close_matches(ref, candidates, n=1, cutoff=0.6)
                if close:
                    hint = f" (did you mean {close[0]!r}?)"
                elif 0 < len(candidates) <= 12:
                    hint = f"; defined: {', '.join(candidates)}"
                else:
                    hint = ""
                self.error(path, f"{shown!r} does not name {wanted}{hint}")
            elif d.kind not in kinds:
                self.error(path, f"{shown!r} names {_KIND_NAMES[d.kind]} ({d.path}), expected {wanted}")
            elif before is not None and d.position >= before:
                self.error(path, f"{shown!r} is not defined before this point (it is defined at {d.path})")
            elif sobjects is not None and d.sobject not in sobjects:
                self.error(path, f"{shown!r} is a {d.sobject}, which has no Activity timeline; "
                                 f"expected one of {', '.join(sorted(sobjects))}")
