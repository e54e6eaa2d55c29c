"""The Activity timeline of a record: Next Steps and Past Activities, as Lightning draws them.

Pure functions over Task rows in their wire shape (what SOQL answers, in-process or through a
client), so the record page and anything else that draws a timeline use the same code.

Where the fake differs from Salesforce:
- Only Tasks are shown (Events, emails and shared activities through TaskRelation are not).
- Next Steps holds every open Task, soonest due date first, undated ones last; a Task due
  before the org clock's date is marked overdue. Past Activities holds closed Tasks, latest
  due date first, grouped by the month of that date (a Task without one by the month it was
  completed, else created).
- Dates are shown in UTC, not in the viewing user's time zone.
- A Task is drawn as a call when it says so (TaskSubtype ``Call``, a CallType or a call
  duration), as Salesforce does; nothing here knows which telephony system logged it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Iterable

from ..clock import parse_date, parse_datetime

TASK_FIELDS = ("Id", "Subject", "Status", "IsClosed", "ActivityDate", "CreatedDate",
               "CompletedDateTime", "TaskSubtype", "Type", "CallType", "CallDurationInSeconds",
               "CallDisposition", "CallObject", "Description", "WhoId", "Who.Name", "WhatId",
               "What.Name")
NEXT, PAST = "next", "past"
TITLES = {NEXT: "Next Steps", PAST: "Past Activities"}


@dataclass
class Entry:
    """One Task on a timeline."""

    id: str
    subject: str
    is_call: bool
    closed: bool
    status: str | None
    due: date | None
    when: date | None            # the date the entry is sorted and grouped by
    overdue: bool
    call_type: str | None
    duration: int | None
    result: str | None           # CallDisposition, Salesforce's "Call Result"
    description: str | None
    who: tuple[str, str | None] | None     # (Id, Name)
    what: tuple[str, str | None] | None
    completed_at: str | None = None
    created_at: str | None = None
    note: str | None = None      # a caller's extra label for the entry (a report's event name)

    @property
    def kind(self) -> str:
        return "Call" if self.is_call else "Task"

    @property
    def duration_text(self) -> str | None:
        return format_duration(self.duration)


@dataclass
class Section:
    key: str
    entries: list[Entry]
    total: int
    groups: list[tuple[str | None, list[Entry]]] = field(default_factory=list)

    @property
    def title(self) -> str:
        return TITLES[self.key]

    @property
    def more(self) -> int:
        """How many entries are not shown yet."""
        return max(self.total - len(self.entries), 0)


@dataclass
class Timeline:
    next: Section
    past: Section
    today: date

    @property
    def sections(self) -> list[Section]:
        return [self.next, self.past]


def format_duration(seconds: int | None) -> str | None:
    """``95`` -> ``1 min 35 s``; None stays None."""
    if seconds is None:
        return None
    seconds = int(seconds)
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min {rest} s"
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def _date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return parse_datetime(value).date() if "T" in value else parse_date(value)
    except (TypeError, ValueError):
        return None


def _ref(row: dict, id_field: str, rel: str) -> tuple[str, str | None] | None:
    record_id = row.get(id_field)
    if not record_id:
        return None
    related = row.get(rel) or {}
    return record_id, related.get("Name")


def entry(row: dict, today: date, note: str | None = None) -> Entry:
    """An :class:`Entry` from a Task row (wire shape: ``Who``/``What`` as nested records)."""
    due = _date(row.get("ActivityDate"))
    closed = bool(row.get("IsClosed"))
    when = due or _date(row.get("CompletedDateTime") if closed else None) or _date(row.get("CreatedDate"))
    is_call = (row.get("TaskSubtype") == "Call" or bool(row.get("CallType"))
               or row.get("CallDurationInSeconds") is not None)
    return Entry(
        id=row["Id"], subject=row.get("Subject") or "(no subject)", is_call=is_call, closed=closed,
        status=row.get("Status"), due=due, when=when,
        overdue=not closed and due is not None and due < today,
        call_type=row.get("CallType"), duration=row.get("CallDurationInSeconds"),
        result=row.get("CallDisposition"), description=row.get("Description"),
        who=_ref(row, "WhoId", "Who"), what=_ref(row, "WhatId", "What"),
        completed_at=row.get("CompletedDateTime"), created_at=row.get("CreatedDate"), note=note)


def _next_key(e: Entry):
    return (e.due is None, e.due or date.max, e.id)


def _past_key(e: Entry):
    # The order of record_timeline's query: due date (undated last), completion, creation, Id.
    return (e.due is not None, e.due or date.min, e.completed_at or "", e.created_at or "", e.id)


def month_groups(entries: Iterable[Entry]) -> list[tuple[str | None, list[Entry]]]:
    """Consecutive entries by month: ``[("November 2026", [...]), ...]``."""
    groups: list[tuple[str | None, list[Entry]]] = []
    for e in entries:
        label = e.when.strftime("%B %Y") if e.when else None
        if groups and groups[-1][0] == label:
            groups[-1][1].append(e)
        else:
            groups.append((label, [e]))
    return groups


def build(rows: Iterable[dict], today: date, *, totals: dict[str, int] | None = None,
          notes: Callable[[dict], str | None] | None = None) -> Timeline:
    """The timeline of these Task rows, ordered and grouped.

    ``totals`` gives each section's full size when ``rows`` holds one page of it (see
    :func:`record_timeline`); by default every row is shown.
    """
    entries = [entry(r, today, notes(r) if notes else None) for r in rows]
    upcoming = sorted((e for e in entries if not e.closed), key=_next_key)
    past = sorted((e for e in entries if e.closed), key=_past_key, reverse=True)
    totals = totals or {}
    return Timeline(
        next=Section(NEXT, upcoming, totals.get(NEXT, len(upcoming)), [(None, upcoming)]),
        past=Section(PAST, past, totals.get(PAST, len(past)), month_groups(past)),
        today=today)


# -- reading a record's timeline from an org ----------------------------------------------------


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def timeline_filter(org, sobject: str, record: dict) -> str:
    """The SOQL condition on Task of the activities a record's timeline shows.

    A Contact or Lead shows the Tasks naming it (WhoId), an Account the Tasks rolled up to it
    (AccountId, which Salesforce derives from WhatId and from the Contact), a person account also
    the Tasks naming its person Contact; any other record the Tasks related to it (WhatId).
    """
    record_id = _quote(record["Id"])
    if sobject in ("Contact", "Lead"):
        return f"WhoId = {record_id}"
    if sobject == "Account":
        cond = f"WhatId = {record_id} OR AccountId = {record_id}"
        if record.get("PersonContactId"):
            cond += f" OR WhoId = {_quote(record['PersonContactId'])}"
        return cond
    return f"WhatId = {record_id}"


def record_timeline(org, sobject: str, record: dict, today: date, *, next_limit: int = 10,
                    past_limit: int = 10) -> Timeline:
    """A page of a record's timeline read through the org's query engine: the first
    ``next_limit`` open and ``past_limit`` closed Tasks, with the size of each section."""
    where = timeline_filter(org, sobject, record)
    fields = ", ".join(TASK_FIELDS)
    upcoming = org.query(f"SELECT {fields} FROM Task WHERE IsClosed = false AND ({where}) "
                         f"ORDER BY ActivityDate ASC NULLS LAST, Id ASC LIMIT {int(next_limit)}")
    past = org.query(f"SELECT {fields} FROM Task WHERE IsClosed = true AND ({where}) "
                     "ORDER BY ActivityDate DESC NULLS LAST, CompletedDateTime DESC NULLS LAST, "
                     f"CreatedDate DESC, Id DESC LIMIT {int(past_limit)}")
    totals = {NEXT: _count(org, upcoming, next_limit, f"IsClosed = false AND ({where})"),
              PAST: _count(org, past, past_limit, f"IsClosed = true AND ({where})")}
    return build([*upcoming["records"], *past["records"]], today, totals=totals)


def _count(org, page: dict, limit: int, where: str) -> int:
    if len(page["records"]) < limit:
        return len(page["records"])
    return org.query(f"SELECT COUNT() FROM Task WHERE {where}")["totalSize"]
