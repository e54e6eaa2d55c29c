"""Loading and validating scenario files.

The format is a public interface, specified in ``scenario-format.md``. Every mistake in a file is
reported as ``FILE: key.path: what was expected``; all mistakes of a file are collected and
raised together as one :class:`ScenarioError`.

Choices where the format is silent:

- List positions in key paths count from 0 (``events[0]`` is the first event).
- The ref ``admin`` always names the org's default admin user (:data:`DEFAULT_ADMIN`); it cannot
  be redefined.
- Without ``org.numbers`` the org has one open line, :data:`DEFAULT_NUMBER` (ref ``main``).
  A number's ``time_zone`` defaults to the zone of its digits' region.
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

import copy
import difflib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Union
from zoneinfo import ZoneInfo

import phonenumbers
import yaml
from phonenumbers import timezone as phone_timezone

CALL_TYPES = ("outbound_answered", "outbound_unanswered", "inbound_answered", "missed", "voicemail")
ANSWERED_CALL_TYPES = frozenset({"outbound_answered", "inbound_answered"})
OUTBOUND_CALL_TYPES = frozenset({"outbound_answered", "outbound_unanswered"})
WORKFLOW_ACTIONS = ("completed", "in_progress", "do_nothing")
UNKNOWN_NUMBER_ACTIONS = ("create_contact", "create_lead", "create_account", "do_nothing")
RELATED_OBJECTS = ("none", "case", "opportunity")
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
DEFAULT_DURATION = 60
DEFAULT_WAIT = 5

DEFAULT_SETTINGS: dict[str, Any] = {
    "call_workflow": {
        "outbound_answered": "completed",
        "outbound_unanswered": "completed",
        "inbound_answered": "completed",
        "missed": "in_progress",
        "voicemail": "in_progress",
    },
    "log_when_closed": True,
    "unknown_number": "do_nothing",
    "log_on_related": "none",
    "create_case": False,
    "include_recording": True,
    "integration_owner": ADMIN_REF,
}

EVENT_KINDS = ("call", "sms", "update", "create", "webhook", "redeliver", "comment")
_TOP_KEYS = ("name", "description", "covers", "settings", "org", "events", "expect")
_ORG_KEYS = ("now", "users", "numbers", "records")
_NUMBER_KEYS = ("ref", "name", "digits", "time_zone")
_CALL_KEYS = ("ref", "type", "external", "number", "agent", "duration", "wait", "recording",
              "comments", "tags", "contact", "number_open")
_SMS_KEYS = ("ref", "direction", "external", "number", "agent", "body", "contact", "number_open")
_CONTACT_KEYS = ("first_name", "last_name", "email", "company", "phone")
_UPDATE_KEYS = ("ref", "fields")
_COMMENT_KEYS = ("call", "content")
_EXPECT_KEYS = ("timelines", "records", "not_logged", "tasks", "task_count")
_TIMELINE_KEYS = ("past_activities", "next_steps")
_EXPECTED_RECORD_KEYS = ("ref", "sobject", "where", "fields")
_TASK_KEYS = ("fields", "description_contains")

_REF_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_RULE_RE = re.compile(r"^R\d+\.\d+$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL_RE = re.compile(r"^https?://\S+$")


class ScenarioError(ValueError):
    """All the mistakes found in one or more scenario files."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


# --- the model -------------------------------------------------------------------------------


@dataclass(kw_only=True)
class UserSpec:
    """A Salesforce user; ``fields`` are User fields (FirstName, LastName, Email ...)."""

    ref: str | None
    fields: dict[str, Any]

    @property
    def email(self) -> str:
        return self.fields.get("Email") or ""

    @property
    def name(self) -> str:
        parts = [self.fields.get("FirstName"), self.fields.get("LastName")]
        return " ".join(str(p) for p in parts if p)


@dataclass(kw_only=True)
class NumberSpec:
    """An Aircall number (line)."""

    ref: str
    name: str
    digits: str
    time_zone: str


@dataclass(kw_only=True)
class RecordSpec:
    """A record to create; string values ``"@ref"`` stand for another record's or user's Id."""

    ref: str
    sobject: str
    fields: dict[str, Any]


@dataclass(kw_only=True)
class OrgSpec:
    now: datetime
    users: list[UserSpec]
    numbers: list[NumberSpec]
    records: list[RecordSpec]


@dataclass(kw_only=True)
class ContactSpec:
    """The Aircall contact attached to a call or message."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    company: str | None = None
    phone: str | None = None


@dataclass(kw_only=True)
class CallEvent:
    """A call, expanded to a ``call.ended`` webhook. ``external`` None: a generated number."""

    index: int
    at: datetime | None
    ref: str
    type: str
    external: str | None
    number: str
    agent: str | None
    duration: int
    wait: int
    recording: bool | str
    comments: list[str]
    tags: list[str]
    contact: ContactSpec | None
    number_open: bool

    @property
    def direction(self) -> str:
        return "outbound" if self.type in OUTBOUND_CALL_TYPES else "inbound"

    @property
    def answered(self) -> bool:
        return self.type in ANSWERED_CALL_TYPES


@dataclass(kw_only=True)
class SmsEvent:
    """A text message, expanded to ``message.received`` (inbound) or ``message.sent``."""

    index: int
    at: datetime | None
    ref: str
    direction: str
    external: str | None
    number: str
    agent: str | None
    body: str | None
    contact: ContactSpec | None
    number_open: bool


@dataclass(kw_only=True)
class UpdateEvent:
    """A change made in Salesforce between calls."""

    index: int
    at: datetime | None
    ref: str
    fields: dict[str, Any]


@dataclass(kw_only=True)
class CreateEvent:
    """A record created in Salesforce between calls."""

    index: int
    at: datetime | None
    record: RecordSpec

    @property
    def ref(self) -> str:
        return self.record.ref


@dataclass(kw_only=True)
class WebhookEvent:
    """A raw Aircall webhook, delivered as written."""

    index: int
    at: datetime | None
    ref: str | None
    payload: dict[str, Any]


@dataclass(kw_only=True)
class RedeliverEvent:
    """The webhook of an earlier event delivered again."""

    index: int
    at: datetime | None
    target: str


@dataclass(kw_only=True)
class CommentEvent:
    """A later ``call.commented`` webhook for an earlier call."""

    index: int
    at: datetime | None
    call: str
    content: str


Event = Union[CallEvent, SmsEvent, UpdateEvent, CreateEvent, WebhookEvent, RedeliverEvent, CommentEvent]


@dataclass(kw_only=True)
class ExpectedTimeline:
    past_activities: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class ExpectedRecord:
    """A record the integration must have created, found by ``where``."""

    ref: str
    sobject: str
    where: dict[str, Any]
    fields: dict[str, Any]


@dataclass(kw_only=True)
class ExpectedTask:
    fields: dict[str, Any] = field(default_factory=dict)
    description_contains: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class Expectations:
    timelines: dict[str, ExpectedTimeline] = field(default_factory=dict)
    records: list[ExpectedRecord] = field(default_factory=list)
    not_logged: list[str] = field(default_factory=list)
    tasks: dict[str, ExpectedTask] = field(default_factory=dict)
    task_count: int | None = None


DEFAULT_ADMIN = UserSpec(
    ref=ADMIN_REF,
    fields={"FirstName": "Admin", "LastName": "User", "Email": "admin@example.com"},
)
DEFAULT_NUMBER = NumberSpec(
    ref="main", name="Main line", digits="+1 212 555 0000", time_zone="America/New_York",
)


@dataclass(kw_only=True)
class Scenario:
    """One validated scenario file, defaults applied."""

    name: str
    description: str
    covers: list[str]
    settings: dict[str, Any]
    org: OrgSpec
    events: list[Event]
    expect: Expectations
    path: str
    raw: dict[str, Any]

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
        created = [e.record for e in self.events if isinstance(e, CreateEvent)]
        return _find(self.org.records + created, ref, "record")

    def event(self, ref: str) -> Event:
        return _find([e for e in self.events if getattr(e, "ref", None)], ref, "event")

    def agent_user(self, event: CallEvent | SmsEvent) -> UserSpec | None:
        """The user behind an event's ``agent``; an email of no defined user gives a bare spec."""
        if event.agent is None:
            return None
        if "@" not in event.agent:
            return self.user(event.agent)
        for user in [DEFAULT_ADMIN, *self.org.users]:
            if user.email.lower() == event.agent.lower():
                return user
        return UserSpec(ref=None, fields={"Email": event.agent})

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


def is_ref(value: Any) -> bool:
    """Whether a field value is an ``"@ref"``."""
    return isinstance(value, str) and value.startswith(REF_PREFIX)


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
    loader = _DuplicateCheckingLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context and exc.context_mark:
            problem += f" ({exc.context} started at line {exc.context_mark.line + 1})"
        raise ScenarioError([f"{path}: {where}YAML syntax error: {problem}"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([f"{path}: YAML syntax error: {exc}"]) from None
    finally:
        loader.dispose()
    errors = [f"{path}: line {line}: duplicate key {key!r}" for line, key in loader.duplicates]
    builder = _Builder(path)
    scenario = builder.build(data)
    errors += builder.messages(data)
    if errors:
        raise ScenarioError(errors)
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


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DuplicateCheckingLoader(_BaseLoader):
    """A safe loader that records duplicate mapping keys instead of silently keeping the last."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[int, Any]] = []

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            try:
                key = self.construct_object(key_node, deep=True)
                hash(key)
            except (TypeError, yaml.constructor.ConstructorError):
                continue
            if key in seen:
                self.duplicates.append((key_node.start_mark.line + 1, key))
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# --- validation ------------------------------------------------------------------------------


_KIND_NAMES = {
    "user": "a user", "number": "a number", "record": "a record",
    "expected_record": "an expected record", "call": "a call event", "sms": "an SMS event",
    "webhook": "a webhook event",
}


@dataclass
class _Definition:
    kind: str
    path: str
    position: tuple[int, int]
    sobject: str | None = None


@dataclass
class _Use:
    path: str
    ref: str
    kinds: tuple[str, ...]
    wanted: str
    before: tuple[int, int] | None = None
    shown: str = ""
    sobjects: frozenset | None = None


def _show(value: Any) -> str:
    """A value as the message shows it: strings quoted, YAML spelling for the rest."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping" if value else "{}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _one_of(values) -> str:
    return ", ".join(values)


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Builder:
    """Builds a :class:`Scenario` from parsed YAML, collecting every mistake on the way."""

    def __init__(self, label: str):
        self.label = label
        self.problems: list[tuple[str, str]] = []
        self.defs: dict[str, _Definition] = {}
        self.uses: list[_Use] = []

    # errors and small checks

    def error(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def messages(self, data: Any) -> list[str]:
        """The problems as ``FILE: key.path: message``, in the order of the file."""
        order = _path_order(data)
        ranked = sorted(self.problems, key=lambda p: _rank(p[0], order))
        return [f"{self.label}: {p}: {m}" if p else f"{self.label}: {m}" for p, m in ranked]

    def mapping(self, value: Any, path: str, keys: tuple[str, ...], required=()) -> dict | None:
        """Check that ``value`` is a mapping with only ``keys`` and all of ``required``."""
        if not isinstance(value, dict):
            self.error(path, f"expected a mapping, got {_show(value)}")
            return None
        unknown = [k for k in value if k not in keys]
        for key in unknown:
            self.unknown_key(_join(path, key), key, keys)
        for key in required:
            if key not in value:
                self.error(_join(path, key), "required key missing")
        return value

    def take(self, given: dict, path: str, key: str, check, default=None):
        """``check(value, path)`` of an optional key, or ``default`` when it is absent."""
        return check(given[key], _join(path, key)) if key in given else default

    def unknown_key(self, path: str, key: Any, keys) -> None:
        close = difflib.get_close_matches(str(key), keys, n=1, cutoff=0.6)
        if close:
            self.error(path, f"unknown key; did you mean {close[0]!r}?")
        else:
            self.error(path, f"unknown key; expected one of {_one_of(keys)}")

    def required_keys(self, value: dict, path: str, required) -> None:
        """Report missing keys of a mapping whose other keys are free-form fields."""
        for key in required:
            if key in value:
                continue
            others = [str(k) for k in value if k not in required]
            close = difflib.get_close_matches(key, others, n=1, cutoff=0.6)
            hint = f" (found {close[0]!r}; a misspelling?)" if close else ""
            self.error(_join(path, key), f"required key missing{hint}")

    def string(self, value: Any, path: str) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.error(path, f"expected a non-empty string, got {_show(value)}")
            return None
        return value

    def integer(self, value: Any, path: str, minimum: int = 0) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.error(path, f"expected an integer >= {minimum}, got {_show(value)}")
            return None
        return value

    def boolean(self, value: Any, path: str) -> bool | None:
        if not isinstance(value, bool):
            self.error(path, f"expected true or false, got {_show(value)}")
            return None
        return value

    def choice(self, value: Any, path: str, choices) -> str | None:
        if value not in choices or not isinstance(value, str):
            self.error(path, f"{_show(value)} is not one of {_one_of(choices)}")
            return None
        return value

    def string_list(self, value: Any, path: str) -> list[str]:
        if not isinstance(value, list):
            self.error(path, f"expected a list of strings, got {_show(value)}")
            return []
        out = []
        for i, item in enumerate(value):
            text = self.string(item, f"{path}[{i}]")
            if text is not None:
                out.append(text)
        return out

    def moment(self, value: Any, path: str) -> datetime | None:
        """An ISO 8601 date-time with a time zone, returned in UTC."""
        parsed = None
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                parsed = None
        if parsed is None or parsed.tzinfo is None:
            self.error(path, "expected an ISO 8601 date-time with a time zone "
                             f"(e.g. 2026-11-02T09:00:00Z), got {_show(value)}")
            return None
        return parsed.astimezone(timezone.utc)

    def ref_name(self, value: Any, path: str) -> str | None:
        if not isinstance(value, str) or not _REF_RE.match(value):
            self.error(path, "expected a ref: a name of letters, digits, '_', '-' or '.', "
                             f"starting with a letter, got {_show(value)}")
            return None
        return value

    def phone(self, value: Any, path: str, anonymous_ok: bool) -> str | None:
        example = '"+33 6 12 34 56 78"'
        if not isinstance(value, str):
            self.error(path, f"expected a phone number as a quoted string such as {example}, "
                             f"got {_show(value)}")
            return None
        if anonymous_ok and value.strip().lower() == ANONYMOUS:
            return ANONYMOUS
        try:
            ok = phonenumbers.is_possible_number(phonenumbers.parse(value, None))
        except phonenumbers.NumberParseException:
            ok = False
        if not ok:
            alt = f" or {ANONYMOUS!r}" if anonymous_ok else ""
            self.error(path, f"{_show(value)} is not a phone number in international format "
                             f"(+ and country code, e.g. {example}){alt}")
            return None
        return value

    def email(self, value: Any, path: str) -> str | None:
        if not isinstance(value, str) or not _EMAIL_RE.match(value):
            self.error(path, f"expected an email address, got {_show(value)}")
            return None
        return value

    # refs

    def define(self, ref: str | None, kind: str, path: str, position, sobject=None) -> None:
        if ref is None:
            return
        if ref in self.defs:
            self.error(path, f"{ref!r} is already used by {self.defs[ref].path}")
            return
        self.defs[ref] = _Definition(kind, path, position, sobject)

    def use(self, path: str, ref: Any, kinds: tuple[str, ...], wanted: str, before=None,
            sobjects=None) -> None:
        if not isinstance(ref, str) or not ref:
            self.error(path, f"expected a ref naming {wanted}, got {_show(ref)}")
            return
        self.uses.append(_Use(path, ref, kinds, wanted, before, ref, sobjects))

    def value_ref(self, path: str, value: Any, before=None) -> None:
        """A field value ``"@ref"`` must name a record or user (defined before ``before``)."""
        ref = value[len(REF_PREFIX):]
        use = _Use(path, ref, ("record", "user", "expected_record"), "a record or user",
                   before, value)
        self.uses.append(use)

    def resolve_uses(self) -> None:
        for use in self.uses:
            d = self.defs.get(use.ref)
            if d is None:
                candidates = [r for r, x in self.defs.items() if x.kind in use.kinds]
                close = difflib.get_close_matches(use.ref, candidates, n=1, cutoff=0.6)
                if close:
                    hint = f" (did you mean {close[0]!r}?)"
                elif 0 < len(candidates) <= 12:
                    hint = f"; defined: {_one_of(candidates)}"
                else:
                    hint = ""
                self.error(use.path, f"{use.shown!r} does not name {use.wanted}{hint}")
            elif d.kind not in use.kinds:
                self.error(use.path, f"{use.shown!r} names {_KIND_NAMES[d.kind]} ({d.path}), "
                                     f"expected {use.wanted}")
            elif use.before is not None and d.position >= use.before:
                self.error(use.path, f"{use.shown!r} is not defined before this point "
                                     f"(it is defined at {d.path})")
            elif use.sobjects is not None and d.sobject not in use.sobjects:
                self.error(use.path, f"{use.shown!r} is a {d.sobject}, which has no Activity "
                                     f"timeline; expected one of {_one_of(sorted(use.sobjects))}")

    # field mappings

    def field_value(self, value: Any, path: str, key: str, before=None) -> Any:
        """A scalar field value; dates become ISO strings, ``"@ref"`` is checked."""
        if key in AUDIT_FIELDS:
            moment = self.moment(value, path)
            return _utc_text(moment) if moment else None
        if isinstance(value, (dict, list)):
            self.error(path, f"expected a scalar value (string, number, true/false or null), "
                             f"got {_show(value)}")
            return None
        if isinstance(value, datetime):
            return _utc_text(value) if value.tzinfo else value.isoformat()
        if isinstance(value, date):
            return value.isoformat()
        if is_ref(value):
            self.value_ref(path, value, before)
        return value

    def fields(self, value: Any, path: str, before=None, skip=()) -> dict[str, Any]:
        out = {}
        for key, item in value.items():
            if key in skip:
                continue
            if not isinstance(key, str) or not key:
                self.error(_join(path, key), "expected a field name")
                continue
            out[key] = self.field_value(item, _join(path, key), key, before)
        return out

    def record(self, value: Any, path: str, position, before) -> RecordSpec | None:
        if not isinstance(value, dict):
            self.error(path, f"expected a mapping, got {_show(value)}")
            return None
        self.required_keys(value, path, ("ref", "sobject"))
        ref = self.take(value, path, "ref", self.ref_name)
        sobject = None
        if "sobject" in value:
            sobject = self.choice(value["sobject"], _join(path, "sobject"), SOBJECTS)
        self.define(ref, "record", _join(path, "ref"), position, sobject)
        fields = self.fields(value, path, before, skip=("ref", "sobject"))
        if ref is None or sobject is None:
            return None
        return RecordSpec(ref=ref, sobject=sobject, fields=fields)

    # sections

    def build(self, data: Any) -> Scenario | None:
        if data is None:
            self.error("", "the file is empty; expected a mapping with at least name and events")
            return None
        top = self.mapping(data, "", _TOP_KEYS, required=("name", "events"))
        if top is None:
            return None
        name = self.string(top["name"], "name") if "name" in top else None
        description = top.get("description", "")
        if description is None:
            description = ""
        elif not isinstance(description, str):
            self.error("description", f"expected a string, got {_show(description)}")
        covers = self.covers(top.get("covers", []))
        org = self.org(top.get("org", {}))
        settings = self.settings(top.get("settings", {}))
        events = self.events(top["events"], org) if "events" in top else []
        expect = self.expectations(top.get("expect", {}))
        self.resolve_uses()
        if self.problems or name is None:
            return None
        return Scenario(
            name=name, description=description, covers=covers, settings=settings, org=org,
            events=events, expect=expect, path=self.label, raw=data,
        )

    def covers(self, value: Any) -> list[str]:
        if value is None:
            return []
        out = []
        for i, item in enumerate(self.string_list(value, "covers")):
            if _RULE_RE.match(item):
                out.append(item)
            else:
                self.error(f"covers[{i}]", f"{_show(item)} is not a rule id like R4.2")
        return out

    def settings(self, value: Any) -> dict[str, Any]:
        settings = copy.deepcopy(DEFAULT_SETTINGS)
        if value is None:
            return settings
        given = self.mapping(value, "settings", tuple(DEFAULT_SETTINGS))
        if given is None:
            return settings
        if "call_workflow" in given:
            workflow = self.mapping(given["call_workflow"], "settings.call_workflow", CALL_TYPES)
            for call_type in CALL_TYPES:
                if workflow is not None and call_type in workflow:
                    action = self.choice(workflow[call_type],
                                         f"settings.call_workflow.{call_type}", WORKFLOW_ACTIONS)
                    if action:
                        settings["call_workflow"][call_type] = action
        checks = {
            "log_when_closed": self.boolean,
            "create_case": self.boolean,
            "include_recording": self.boolean,
            "unknown_number": lambda v, p: self.choice(v, p, UNKNOWN_NUMBER_ACTIONS),
            "log_on_related": lambda v, p: self.choice(v, p, RELATED_OBJECTS),
        }
        for key, check in checks.items():
            if key in given:
                checked = check(given[key], f"settings.{key}")
                if checked is not None:
                    settings[key] = checked
        if "integration_owner" in given:
            owner = given["integration_owner"]
            self.use("settings.integration_owner", owner, ("user",), "a user")
            if isinstance(owner, str):
                settings["integration_owner"] = owner
        if settings["create_case"] and settings["log_on_related"] != "case":
            self.error("settings.create_case", "true requires log_on_related: case")
        return settings

    def org(self, value: Any) -> OrgSpec:
        org = OrgSpec(now=DEFAULT_NOW, users=[], numbers=[], records=[])
        self.define(ADMIN_REF, "user", "the default admin user", (0, -1))
        if value is None:
            value = {}
        given = self.mapping(value, "org", _ORG_KEYS) or {}
        if "now" in given:
            org.now = self.moment(given["now"], "org.now") or DEFAULT_NOW
        for i, item in enumerate(self.items(given, "users", "org")):
            user = self.user(item, f"org.users[{i}]", i)
            if user:
                org.users.append(user)
        numbers = self.items(given, "numbers", "org")
        if "numbers" not in given:
            org.numbers.append(DEFAULT_NUMBER)
            self.define(DEFAULT_NUMBER.ref, "number", "the default number", (0, -1))
        elif not numbers:
            self.error("org.numbers",
                       "expected at least one number (leave the key out for the default line)")
        for i, item in enumerate(numbers):
            number = self.number(item, f"org.numbers[{i}]", i)
            if number:
                org.numbers.append(number)
        for i, item in enumerate(self.items(given, "records", "org")):
            record = self.record(item, f"org.records[{i}]", (1, i), before=(1, i))
            if record:
                org.records.append(record)
        return org

    def items(self, given: dict, key: str, parent: str) -> list:
        value = given.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(_join(parent, key), f"expected a list, got {_show(value)}")
            return []
        return value

    def user(self, value: Any, path: str, i: int) -> UserSpec | None:
        if not isinstance(value, dict):
            self.error(path, f"expected a mapping, got {_show(value)}")
            return None
        self.required_keys(value, path, ("ref", "LastName", "Email"))
        ref = self.take(value, path, "ref", self.ref_name)
        if ref == ADMIN_REF:
            self.error(_join(path, "ref"), f"{ADMIN_REF!r} is reserved for the default admin user")
            ref = None
        self.define(ref, "user", _join(path, "ref"), (0, i))
        if "Email" in value:
            self.email(value["Email"], _join(path, "Email"))
        fields = self.fields(value, path, before=(0, i), skip=("ref",))
        return UserSpec(ref=ref, fields=fields) if ref else None

    def number(self, value: Any, path: str, i: int) -> NumberSpec | None:
        given = self.mapping(value, path, _NUMBER_KEYS, required=("ref", "name", "digits"))
        if given is None:
            return None
        ref = self.take(given, path, "ref", self.ref_name)
        self.define(ref, "number", _join(path, "ref"), (0, i))
        name = self.take(given, path, "name", self.string)
        digits = self.phone(given["digits"], _join(path, "digits"), False) if "digits" in given else None
        tz = None
        if "time_zone" in given:
            tz = self.time_zone(given["time_zone"], _join(path, "time_zone"))
        elif digits:
            tz = _zone_of(digits)
        if not (ref and name and digits and tz):
            return None
        return NumberSpec(ref=ref, name=name, digits=digits, time_zone=tz)

    def time_zone(self, value: Any, path: str) -> str | None:
        try:
            if not isinstance(value, str) or "/" not in value and value != "UTC":
                raise ValueError(value)
            ZoneInfo(value)
        except (ValueError, KeyError, OSError):
            self.error(path, f"{_show(value)} is not an IANA time zone such as Europe/Paris")
            return None
        return value

    def events(self, value: Any, org: OrgSpec) -> list[Event]:
        if not isinstance(value, list):
            self.error("events", f"expected a list of events, got {_show(value)}")
            return []
        events: list[Event] = []
        clock = org.now
        for i, item in enumerate(value):
            path = f"events[{i}]"
            if not isinstance(item, dict):
                self.error(path, f"expected a mapping with one of {_one_of(EVENT_KINDS)}, "
                                 f"got {_show(item)}")
                continue
            kinds = [k for k in item if k in EVENT_KINDS]
            for key in item:
                if key not in EVENT_KINDS and key != "at":
                    self.unknown_key(_join(path, key), key, ("at", *EVENT_KINDS))
            at = None
            if "at" in item:
                at = self.moment(item["at"], f"{path}.at")
                if at is not None and at < clock:
                    self.error(f"{path}.at", f"{_utc_text(at)} is before the org clock "
                                             f"({_utc_text(clock)}); the clock only moves forward, "
                                             "one second after every event")
                elif at is not None:
                    clock = at
            clock += CLOCK_STEP
            if len(kinds) != 1:
                found = f", found {' and '.join(kinds)}" if kinds else ""
                if kinds or all(k == "at" for k in item):
                    self.error(path, f"expected exactly one of {_one_of(EVENT_KINDS)}{found}")
                continue
            kind = kinds[0]
            body, kpath = item[kind], f"{path}.{kind}"
            builder = getattr(self, f"event_{kind}")
            event = builder(body, kpath, i, at, org)
            if event is not None:
                events.append(event)
        return events

    def _number_ref(self, given: dict, path: str, org: OrgSpec) -> str | None:
        if "number" in given:
            self.use(_join(path, "number"), given["number"], ("number",), "a number")
            return given["number"] if isinstance(given["number"], str) else None
        return org.numbers[0].ref if org.numbers else None

    def _agent(self, given: dict, path: str) -> str | None:
        if "agent" not in given:
            return None
        agent = given["agent"]
        if isinstance(agent, str) and "@" in agent:
            return self.email(agent, _join(path, "agent"))
        self.use(_join(path, "agent"), agent, ("user",), "a user (or give an email)")
        return agent if isinstance(agent, str) else None

    def contact(self, value: Any, path: str) -> ContactSpec | None:
        given = self.mapping(value, path, _CONTACT_KEYS)
        if given is None:
            return None
        out = {}
        for key in _CONTACT_KEYS:
            if key not in given:
                continue
            sub = _join(path, key)
            if key == "email":
                out[key] = self.email(given[key], sub)
            elif key == "phone":
                out[key] = self.phone(given[key], sub, False)
            else:
                out[key] = self.string(given[key], sub)
        return ContactSpec(**out)

    def _external(self, given: dict, path: str) -> str | None:
        if "external" not in given:
            return None
        return self.phone(given["external"], _join(path, "external"), True)

    def event_call(self, value, path, i, at, org) -> CallEvent | None:
        given = self.mapping(value, path, _CALL_KEYS, required=("ref", "type"))
        if given is None:
            return None
        ref = self.take(given, path, "ref", self.ref_name)
        self.define(ref, "call", _join(path, "ref"), (2, i))
        call_type = self.take(given, path, "type", lambda v, p: self.choice(v, p, CALL_TYPES))
        answered = call_type in ANSWERED_CALL_TYPES
        duration = DEFAULT_DURATION if answered else 0
        if "duration" in given:
            duration = self.integer(given["duration"], _join(path, "duration"))
        wait = self.integer(given["wait"], _join(path, "wait")) if "wait" in given else DEFAULT_WAIT
        if answered and duration is not None and wait is not None and wait > duration:
            self.error(_join(path, "wait"), f"{wait} s is longer than the call's duration "
                                            f"({duration} s); an answered call's duration "
                                            "includes its wait")
        recording: bool | str | None = answered
        if "recording" in given:
            recording = given["recording"]
            if not isinstance(recording, bool) and not (isinstance(recording, str)
                                                        and _URL_RE.match(recording)):
                self.error(_join(path, "recording"),
                           f"expected true, false or an http(s) URL, got {_show(recording)}")
        comments = self.take(given, path, "comments", self.string_list, [])
        tags = self.take(given, path, "tags", self.string_list, [])
        contact = self.take(given, path, "contact", self.contact)
        number_open = True
        if "number_open" in given:
            number_open = self.boolean(given["number_open"], _join(path, "number_open"))
        external = self._external(given, path)
        number = self._number_ref(given, path, org)
        agent = self._agent(given, path)
        if None in (ref, call_type, duration, wait, number_open, number):
            return None
        return CallEvent(
            index=i, at=at, ref=ref, type=call_type, external=external, number=number,
            agent=agent, duration=duration, wait=wait, recording=recording, comments=comments,
            tags=tags, contact=contact, number_open=number_open,
        )

    def event_sms(self, value, path, i, at, org) -> SmsEvent | None:
        given = self.mapping(value, path, _SMS_KEYS, required=("ref", "direction"))
        if given is None:
            return None
        ref = self.take(given, path, "ref", self.ref_name)
        self.define(ref, "sms", _join(path, "ref"), (2, i))
        direction = None
        if "direction" in given:
            direction = self.choice(given["direction"], _join(path, "direction"), SMS_DIRECTIONS)
        body = self.take(given, path, "body", self.string)
        contact = self.take(given, path, "contact", self.contact)
        number_open = True
        if "number_open" in given:
            number_open = self.boolean(given["number_open"], _join(path, "number_open"))
        external = self._external(given, path)
        number = self._number_ref(given, path, org)
        agent = self._agent(given, path)
        if None in (ref, direction, number_open, number):
            return None
        return SmsEvent(
            index=i, at=at, ref=ref, direction=direction, external=external, number=number,
            agent=agent, body=body, contact=contact, number_open=number_open,
        )

    def event_update(self, value, path, i, at, org) -> UpdateEvent | None:
        given = self.mapping(value, path, _UPDATE_KEYS, required=("ref", "fields"))
        if given is None:
            return None
        ref = given.get("ref")
        if "ref" in given:
            self.use(_join(path, "ref"), ref, ("record", "user"), "a record or user", before=(2, i))
        fields = {}
        if "fields" in given:
            fpath = _join(path, "fields")
            if not isinstance(given["fields"], dict) or not given["fields"]:
                self.error(fpath, "expected a mapping with at least one field, "
                                  f"got {_show(given['fields'])}")
            else:
                fields = self.fields(given["fields"], fpath, before=(2, i))
        if not isinstance(ref, str) or not fields:
            return None
        return UpdateEvent(index=i, at=at, ref=ref, fields=fields)

    def event_create(self, value, path, i, at, org) -> CreateEvent | None:
        record = self.record(value, path, (2, i), before=(2, i))
        return CreateEvent(index=i, at=at, record=record) if record else None

    def event_webhook(self, value, path, i, at, org) -> WebhookEvent | None:
        if not isinstance(value, dict):
            self.error(path, f"expected a mapping (an Aircall webhook), got {_show(value)}")
            return None
        payload = dict(value)
        ref = None
        if "ref" in payload:
            ref = self.ref_name(payload.pop("ref"), _join(path, "ref"))
            self.define(ref, "webhook", _join(path, "ref"), (2, i))
        return WebhookEvent(index=i, at=at, ref=ref, payload=payload)

    def event_redeliver(self, value, path, i, at, org) -> RedeliverEvent | None:
        self.use(path, value, ("call", "sms", "webhook"), "a call, SMS or webhook event",
                 before=(2, i))
        return RedeliverEvent(index=i, at=at, target=value) if isinstance(value, str) else None

    def event_comment(self, value, path, i, at, org) -> CommentEvent | None:
        given = self.mapping(value, path, _COMMENT_KEYS, required=_COMMENT_KEYS)
        if given is None:
            return None
        call = given.get("call")
        if "call" in given:
            self.use(_join(path, "call"), call, ("call",), "a call event", before=(2, i))
        content = self.take(given, path, "content", self.string)
        if not isinstance(call, str) or content is None:
            return None
        return CommentEvent(index=i, at=at, call=call, content=content)

    # expectations

    def expectations(self, value: Any) -> Expectations:
        expect = Expectations()
        if value is None:
            return expect
        given = self.mapping(value, "expect", _EXPECT_KEYS)
        if given is None:
            return expect
        for i, item in enumerate(self.items(given, "records", "expect")):
            record = self.expected_record(item, f"expect.records[{i}]", i)
            if record:
                expect.records.append(record)
        logged_kinds = ("call", "sms", "webhook")
        logged = "a call, SMS or webhook event"
        if "timelines" in given:
            timelines = given["timelines"]
            if not isinstance(timelines, dict):
                self.error("expect.timelines", f"expected a mapping, got {_show(timelines)}")
                timelines = {}
            for key, tl in timelines.items():
                path = _join("expect.timelines", key)
                self.use(path, key, ("record", "expected_record"), "a record",
                         sobjects=TIMELINE_SOBJECTS)
                tl_given = self.mapping(tl, path, _TIMELINE_KEYS)
                if tl_given is None:
                    continue
                timeline = ExpectedTimeline()
                for section in _TIMELINE_KEYS:
                    if section in tl_given:
                        refs = self.string_list(tl_given[section], _join(path, section))
                        for j, ref in enumerate(refs):
                            self.use(f"{path}.{section}[{j}]", ref, logged_kinds, logged)
                        setattr(timeline, section, refs)
                expect.timelines[str(key)] = timeline
        if "not_logged" in given:
            expect.not_logged = self.string_list(given["not_logged"], "expect.not_logged")
            for j, ref in enumerate(expect.not_logged):
                self.use(f"expect.not_logged[{j}]", ref, logged_kinds, logged)
        if "tasks" in given:
            tasks = given["tasks"]
            if not isinstance(tasks, dict):
                self.error("expect.tasks", f"expected a mapping, got {_show(tasks)}")
                tasks = {}
            for key, spec in tasks.items():
                path = _join("expect.tasks", key)
                self.use(path, key, logged_kinds, logged)
                task = self.expected_task(spec, path)
                if task:
                    expect.tasks[str(key)] = task
        if "task_count" in given:
            expect.task_count = self.integer(given["task_count"], "expect.task_count")
        self.contradictions(expect)
        return expect

    def expected_record(self, value: Any, path: str, i: int) -> ExpectedRecord | None:
        given = self.mapping(value, path, _EXPECTED_RECORD_KEYS, required=("ref", "sobject", "where"))
        if given is None:
            return None
        ref = self.take(given, path, "ref", self.ref_name)
        sobject = self.take(given, path, "sobject", lambda v, p: self.choice(v, p, SOBJECTS))
        self.define(ref, "expected_record", _join(path, "ref"), (3, i), sobject)
        where = self.field_map(given.get("where"), _join(path, "where"), required="where" in given)
        fields = self.field_map(given.get("fields", {}), _join(path, "fields"))
        if not (ref and sobject and where):
            return None
        return ExpectedRecord(ref=ref, sobject=sobject, where=where, fields=fields)

    def field_map(self, value: Any, path: str, required: bool = False) -> dict[str, Any]:
        if value is None and not required:
            return {}
        if not isinstance(value, dict) or (required and not value):
            self.error(path, "expected a mapping with at least one field, "
                             f"got {_show(value)}")
            return {}
        return self.fields(value, path)

    def expected_task(self, value: Any, path: str) -> ExpectedTask | None:
        given = self.mapping(value, path, _TASK_KEYS)
        if given is None:
            return None
        task = ExpectedTask()
        if "fields" in given:
            task.fields = self.field_map(given["fields"], _join(path, "fields"))
        if "description_contains" in given:
            task.description_contains = self.string_list(
                given["description_contains"], _join(path, "description_contains"))
        return task

    def contradictions(self, expect: Expectations) -> None:
        """An event listed in not_logged cannot also be expected on a timeline or as a Task."""
        for j, ref in enumerate(expect.not_logged):
            if ref in expect.tasks:
                self.error(f"expect.not_logged[{j}]",
                           f"{ref!r} also has a Task expected in expect.tasks")
            for key, timeline in expect.timelines.items():
                if ref in timeline.past_activities or ref in timeline.next_steps:
                    self.error(f"expect.not_logged[{j}]",
                               f"{ref!r} is also expected on the timeline of {key!r}")


def _path_order(data: Any) -> dict[str, int]:
    """Key paths of the parsed file, numbered in the order they appear."""
    order: dict[str, int] = {}

    def walk(node: Any, path: str) -> None:
        order.setdefault(path, len(order))
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, _join(path, key))
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


def _zone_of(digits: str) -> str:
    """The first time zone of a number's region, or UTC when it is unknown."""
    zones = phone_timezone.time_zones_for_number(phonenumbers.parse(digits, None))
    usable = [z for z in zones if z != phone_timezone.UNKNOWN_TIMEZONE]
    return usable[0] if usable else "UTC"
