"""Behaviour tables, built by running the real logging core against the fake org.

Every table is a matrix of generated scenarios: each one is replayed by the scenario
:class:`~simulator.runner.Runner` (real Aircall webhooks through ``CallLogger.handle``), then
the org is read back over the REST API (SOQL) and each cell is written from what Salesforce
shows: the Task of the call, its fields, the records created. Nothing in a cell restates a
setting, so a change in the core changes the tables.

The output is deterministic: the runner seeds ids and the clock from each scenario's name,
records are shown by type and name, never by Id, and nothing depends on the time of the run.
"""
from __future__ import annotations

import copy
import difflib
import itertools
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

import yaml
from simple_salesforce import format_soql

import fake_salesforce
from fake_salesforce.clock import parse_datetime
from simulator.aircall import call_webhook
from simulator.core.outcome import sobject_of
from simulator.core import Action, Settings, UnknownNumber
from simulator import readback
from simulator.readback import KIND_NAMES, SECTION_TITLES, OrgView, section_of, visible_description
from simulator.rules import RulesError, read_rules
from simulator.runner import Runner, ScenarioResult, Timeline
from simulator.scenario import (
    CALL_TYPES,
    DEFAULT_NOW,
    Scenario,
    ScenarioError,
    load_scenario,
    parse_scenario,
    scenario_files,
)

WORKFLOW_ACTIONS = tuple(a.value for a in Action)
UNKNOWN_NUMBER_ACTIONS = tuple(u.value for u in UnknownNumber)
REPORT_NAME = "behaviour.md"
HTML_NAME = "behaviour.html"

CALLER = "+33 6 12 34 56 78"
START = DEFAULT_NOW + timedelta(minutes=1)   # the first event; seeded records predate it
AGENT = {"ref": "sam", "FirstName": "Sam", "LastName": "Agent", "Email": "sam@example.com"}
KINDS = ("Contact", "Lead", "Account", "PersonAccount")
OWNERS = {
    "Contact": {"ref": "alice", "sobject": "Contact", "FirstName": "Alice", "LastName": "Martin",
                "Phone": CALLER},
    "Lead": {"ref": "bob", "sobject": "Lead", "FirstName": "Bob", "LastName": "Stone",
             "Company": "Stone Ltd", "Phone": CALLER},
    "Account": {"ref": "acme", "sobject": "Account", "Name": "Acme Corp", "Phone": CALLER},
    "PersonAccount": {"ref": "jane", "sobject": "PersonAccount", "FirstName": "Jane",
                      "LastName": "Doe", "PersonMobilePhone": CALLER},
}
AIRCALL_CONTACT = {"first_name": "Jean", "last_name": "Dupont", "email": "jean@dupont.example",
                   "company": "Dupont SAS"}
SMS_DIRECTIONS = ("inbound", "outbound")
PAST, NEXT = SECTION_TITLES[readback.PAST], SECTION_TITLES[readback.NEXT]
NOT_LOGGED = "not logged"
_TASK_FIELDS = ("Id", "Subject", "Status", "IsClosed", "WhoId", "WhatId", "AccountId", "OwnerId",
                "CallObject", "CallType", "Description", "ActivityDate", "CallDurationInSeconds",
                "Type", "TaskSubtype", "Priority", "CallDisposition")

Progress = Callable[[str], None]


class DocsError(RuntimeError):
    """A table could not be built (a generated scenario was refused, a file is missing)."""


# --- tables ------------------------------------------------------------------------------------


def cell(value: Any) -> str:
    """A value as one markdown table cell: ``(none)`` for nothing, pipes escaped, one line."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    return text.replace("\r", "").replace("|", "\\|").replace("\n", "<br>")


def markdown_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A GitHub pipe table, unpadded so that a changed cell changes one line."""
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


@dataclass
class Table:
    """One behaviour table: what it holds fixed, its rows, and notes read from the runs."""

    key: str
    title: str
    rules: str
    fixed: str
    settings: str
    headers: list[str]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)
    # Headline cases drawn as the record page draws them (behaviour.html only): (caption, timeline)
    snippets: list[tuple[str, Timeline]] = field(default_factory=list)

    def body(self) -> str:
        """The table with its fixed conditions and notes, without a heading."""
        parts = [f"Rules: {self.rules}.", f"Held fixed: {self.fixed}"]
        if self.settings:
            parts.append(self.settings)
        parts.append(markdown_table(self.headers, self.rows))
        parts += self.notes
        return "\n\n".join(parts)

    def markdown(self) -> str:
        return f"## {self.key}. {self.title}\n\n{self.body()}\n"


def _settings_text(*varied: str) -> str:
    """The settings a table does not vary (all at their defaults), as ``key: value`` items."""
    settings = Settings().to_dict()
    items = []
    if "call_workflow" not in varied:
        flow = ", ".join(f"{k} {v}" for k, v in settings["call_workflow"].items())
        items.append(f"`call_workflow` ({flow})")
    for key, value in settings.items():
        if key == "call_workflow" or key in varied:
            continue
        if value is None:
            items.append(f"`{key}` unset (the API user)")
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else value
        items.append(f"`{key}: {text}`")
    return "Settings: " + ", ".join(items) + "."


# --- running generated scenarios ---------------------------------------------------------------


def call(ref: str, call_type: str, external: str | None = CALLER, **extra: Any) -> dict:
    """A ``call`` event by the agent Sam Agent."""
    spec = {"ref": ref, "type": call_type, "agent": "sam", **extra}
    if external is not None:
        spec["external"] = external
    return {"call": spec}


def sms(ref: str, direction: str, external: str = CALLER, **extra: Any) -> dict:
    """An ``sms`` event by the agent Sam Agent."""
    return {"sms": {"ref": ref, "direction": direction, "external": external, "agent": "sam",
                    "body": "Can you call me back?", **extra}}


def scenario_data(name: str, events: list[dict], *, settings: dict | None = None,
                  records: list[dict] | None = None) -> dict:
    """A scenario as data: the agent user, ``records``, then ``events`` from :data:`START`."""
    events = copy.deepcopy(events)
    if events:
        events[0] = {"at": START.strftime("%Y-%m-%dT%H:%M:%SZ"), **events[0]}
    return {"name": name, "settings": settings or {},
            "org": {"users": [AGENT], "records": copy.deepcopy(records or [])}, "events": events}


class Lab:
    """Runs generated scenarios through one :class:`Runner` and reads the org after each.

    A :class:`Run` must be read before the next :meth:`run`: every run resets the org.
    """

    def __init__(self, runner: Runner | None = None):
        self.runner = runner or Runner()
        self.count = 0      # scenarios run so far

    def run(self, data: dict) -> Run:
        """Validate and run a generated scenario (see :func:`scenario_data`)."""
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        try:
            scenario = parse_scenario(text, f"<docs: {data['name']}>")
        except ScenarioError as e:
            raise DocsError(f"a generated scenario is invalid:\n{e}") from None
        run = self.replay(scenario)
        if run.result.error:
            raise DocsError(f"{scenario.path}: {run.result.error}")
        return run

    def replay(self, scenario: Scenario) -> Run:
        """Run a loaded scenario and connect to the org it leaves behind."""
        result = self.runner.run(scenario)
        self.count += 1
        info = self.runner.control.info()
        sf = fake_salesforce.connect(self.runner.target, info["username"], session=self.runner.session)
        return Run(result, sf, parse_datetime(info["clock"]["now"]).date())


class Run(OrgView):
    """The org after one scenario: Tasks by event ref, records shown by type and name."""

    def __init__(self, result: ScenarioResult, sf, today=None):
        super().__init__(lambda soql: sf.query_all(soql)["records"])
        self.result = result
        self.sf = sf
        self.today = today

    def snapshot(self, sobject: str, record_id: str, ref: str) -> Timeline:
        """The record's timeline to draw, each Task labelled with the event that logged it."""
        sections = self.timeline(record_id, sobject, readback.TIMELINE_FIELDS)
        rows = [*sections[readback.PAST], *sections[readback.NEXT]]
        events = {e.outcome.key: e.ref for e in self.result.events if e.outcome and e.outcome.key}
        labels = {r["Id"]: events.get(r.get("CallObject"), r.get("Subject") or r["Id"]) for r in rows}
        return Timeline(ref, sobject, record_id, rows, labels, self.today)

    def event(self, ref: str):
        for event in self.result.events:
            if event.ref == ref:
                return event
        raise DocsError(f"{self.result.scenario.name}: no event {ref!r} was replayed")

    def task(self, ref: str) -> dict | None:
        """The Task logged for the event ``ref``, found by its CallObject; None when none."""
        event = self.event(ref)
        if event.outcome is None:
            return None
        rows = self.tasks_with_key(event.outcome.key, _TASK_FIELDS)
        if len(rows) > 1:
            raise DocsError(f"{self.result.scenario.name}: {len(rows)} Tasks for {ref}")
        return rows[0] if rows else None

    def not_logged(self, ref: str) -> str:
        """Why the event left no Task: the core's error, or the rule it gave."""
        event = self.event(ref)
        if event.error:
            return f"error: {event.error}"
        rule = event.outcome.rule if event.outcome else None
        return f"{NOT_LOGGED} ({rule})" if rule else NOT_LOGGED

    def section(self, ref: str) -> str:
        """``Past Activities``, ``Next Steps``, or why the event was not logged."""
        task = self.task(ref)
        if task is None:
            return self.not_logged(ref)
        return SECTION_TITLES[section_of(task)]

    def created(self, sobject: str, fields: tuple[str, ...]) -> list[dict]:
        """Records of ``sobject`` created while the events ran (after every seeded one)."""
        moment = START.strftime("%Y-%m-%dT%H:%M:%SZ")
        where = f"CreatedDate >= {moment}"
        if sobject in ("Account", "Contact"):
            where += " AND IsPersonAccount = false"
        return self.query(f"SELECT Id, {', '.join(fields)} FROM {sobject} WHERE {where} ORDER BY Id")


# --- 1. call type x workflow action ------------------------------------------------------------


def call_workflow(lab: Lab) -> Table:
    """Table 1: where each call type lands for each workflow action, and the Task Status."""
    results: dict[str, dict[str, str]] = {t: {} for t in CALL_TYPES}
    snippets = []
    for action in WORKFLOW_ACTIONS:
        settings = {"call_workflow": {t: action for t in CALL_TYPES}}
        events = [call(t, t) for t in CALL_TYPES]
        run = lab.run(scenario_data(f"docs 1 workflow {action}", events, settings=settings,
                                    records=[OWNERS["Contact"]]))
        task = run.task(CALL_TYPES[0])
        if task is not None:
            snippets.append((f"The Contact Alice Martin after one call of each type, every call type "
                             f"set to `{action}`", run.snapshot("Contact", task["WhoId"], "alice")))
        for call_type in CALL_TYPES:
            task = run.task(call_type)
            results[call_type][action] = (run.not_logged(call_type) if task is None else
                                          f"{PAST if task['IsClosed'] else NEXT}, Status {task['Status']}")
    rows = [[f"`{t}`", *(results[t][a] for a in WORKFLOW_ACTIONS)] for t in CALL_TYPES]
    return Table("1", "Call type x workflow action", "R1.1 to R1.5",
                 "the caller's number belongs to the Contact Alice Martin, the Aircall number is "
                 "open. Each cell: the section of the Contact's timeline where the call's Task "
                 "appears, and the Task's Status.", _settings_text("call_workflow"),
                 ["call type", *(f"`{a}`" for a in WORKFLOW_ACTIONS)], rows, snippets=snippets)


def call_workflow_markdown(runner: Runner | None = None) -> str:
    """Table 1 as markdown (its fixed conditions, then the table), for the README."""
    return call_workflow(Lab(runner)).body()


# --- 2. which record wins ----------------------------------------------------------------------


def record_priority(lab: Lab) -> Table:
    """Table 2: every non-empty set of record types owning the number, and the winner."""
    rows = []
    for size in range(1, len(KINDS) + 1):
        for kinds in itertools.combinations(KINDS, size):
            name = "docs 2 owners " + " ".join(kinds)
            run = lab.run(scenario_data(name, [call("c1", "inbound_answered")],
                                        records=[OWNERS[k] for k in kinds]))
            task = run.task("c1")
            won = run.logged_on(task) if task else run.not_logged("c1")
            rows.append([*("yes" if k in kinds else "" for k in KINDS), won])
    owners = ", ".join(f"{KIND_NAMES[k]} {_owner_name(k)}" for k in KINDS)
    return Table("2", "Which record wins", "R4.1, R4.2, R6.1",
                 f"one inbound answered call from {CALLER}; the candidates are {owners}, each "
                 "with that number in its standard phone field. \"Logged on\" is the record whose "
                 "timeline shows the Task, read from the Task's WhoId / WhatId.", _settings_text(),
                 [*(KIND_NAMES[k] + " owns the number" for k in KINDS), "logged on"],
                 rows)


def _owner_name(kind: str) -> str:
    spec = OWNERS[kind]
    return spec.get("Name") or f"{spec['FirstName']} {spec['LastName']}"


# --- 3. unknown numbers ------------------------------------------------------------------------

_CREATED_FIELDS = {"Contact": ("FirstName", "LastName", "Phone", "Email"),
                   "Lead": ("FirstName", "LastName", "Company", "Phone", "Email"),
                   "Account": ("Name", "Phone")}


def _created_records(run: Run) -> tuple[str, str]:
    """The records the run created: ``Type Name`` and their fields."""
    kinds, fields = [], []
    for sobject, names in _CREATED_FIELDS.items():
        for row in run.created(sobject, names):
            kinds.append(run.label(row["Id"]))
            fields.append(", ".join(f"{n}: {row[n]}" for n in names if row.get(n) not in (None, "")))
    return ("; ".join(kinds) or "nothing", "; ".join(fields) or "")


def unknown_numbers(lab: Lab) -> Table:
    """Table 3: each ``unknown_number`` choice x event type: the record created, where it shows."""
    events = [(t, f"`{t}` call", call("c1", t, contact=AIRCALL_CONTACT)) for t in CALL_TYPES]
    events += [(f"sms_{d}", f"{d} SMS", sms("c1", d, contact=AIRCALL_CONTACT)) for d in SMS_DIRECTIONS]
    rows = []
    for choice in UNKNOWN_NUMBER_ACTIONS:
        for key, label, event in events:
            run = lab.run(scenario_data(f"docs 3 unknown {choice} {key}", [event],
                                        settings={"unknown_number": choice}))
            created, fields = _created_records(run)
            task = run.task("c1")
            where = f"{run.logged_on(task)}: {run.section('c1')}" if task else run.not_logged("c1")
            rows.append([f"`{choice}`", label, created, fields, where])
    contact = ", ".join(f"{k} {v}" for k, v in AIRCALL_CONTACT.items())
    return Table("3", "Unknown numbers", "R3.1 to R3.5, R7.2",
                 f"no record owns the caller's number {CALLER}; the call or SMS carries an Aircall "
                 f"contact ({contact}). \"Where\" is the record whose timeline shows the Task, and "
                 "its section.", _settings_text("unknown_number"),
                 ["`unknown_number`", "event", "record created", "its fields", "where the event appears"],
                 rows)


def unknown_numbers_missing_details(lab: Lab) -> Table:
    """Table 3b: the records created when the Aircall contact has no details, or is anonymous."""
    cases = [("no Aircall contact", call("c1", "inbound_answered")),
             ("Aircall contact with only a company",
              call("c1", "inbound_answered", contact={"company": "Dupont SAS"})),
             ("anonymous caller", call("c1", "inbound_answered", external="anonymous"))]
    rows = []
    for choice in UNKNOWN_NUMBER_ACTIONS:
        if choice == "do_nothing":
            continue
        for n, (label, event) in enumerate(cases):
            run = lab.run(scenario_data(f"docs 3b unknown {choice} {n}", [event],
                                        settings={"unknown_number": choice}))
            created, fields = _created_records(run)
            task = run.task("c1")
            where = f"{run.logged_on(task)}: {run.section('c1')}" if task else run.not_logged("c1")
            rows.append([f"`{choice}`", label, created, fields, where])
    return Table("3b", "Unknown numbers: missing details", "R3.3, R3.6",
                 f"one inbound answered call from a number no record owns ({CALLER}, or "
                 "anonymous).", _settings_text("unknown_number"),
                 ["`unknown_number`", "caller", "record created", "its fields", "where the call appears"],
                 rows)


# --- 4. related records ------------------------------------------------------------------------

_CASE = {"sobject": "Case", "Subject": "Broken handset", "Status": "New"}
_CLOSED_CASE = {"sobject": "Case", "Subject": "Old invoice", "Status": "Closed"}
_OPPORTUNITY = {"sobject": "Opportunity", "Name": "Renewal", "StageName": "Prospecting",
                "CloseDate": "2026-12-31"}
_CLOSED_OPPORTUNITY = {"sobject": "Opportunity", "Name": "Last year's deal",
                       "StageName": "Closed Won", "CloseDate": "2026-01-31"}
RELATED_SITUATIONS: list[tuple[str, str, list[dict]]] = [
    ("Contact with an open Case", "Contact",
     [{"ref": "case1", **_CASE, "ContactId": "@alice"}]),
    ("Contact with a closed Case", "Contact",
     [{"ref": "case1", **_CLOSED_CASE, "ContactId": "@alice"}]),
    ("Contact with an open Opportunity", "Contact",
     [{"ref": "deal", **_OPPORTUNITY, "ContactId": "@alice"}]),
    ("Contact with a closed Opportunity", "Contact",
     [{"ref": "deal", **_CLOSED_OPPORTUNITY, "ContactId": "@alice"}]),
    ("Contact with nothing", "Contact", []),
    ("Lead with an open Case (SuppliedPhone = its number)", "Lead",
     [{"ref": "case1", **_CASE, "SuppliedName": "Bob Stone", "SuppliedPhone": CALLER}]),
    ("Account with an open Case and an open Opportunity", "Account",
     [{"ref": "case1", **_CASE, "AccountId": "@acme"},
      {"ref": "deal", **_OPPORTUNITY, "AccountId": "@acme"}]),
    ("Person Account with an open Case and an open Opportunity", "PersonAccount",
     [{"ref": "case1", **_CASE, "AccountId": "@jane"},
      {"ref": "deal", **_OPPORTUNITY, "AccountId": "@jane"}]),
]
RELATED_SETTINGS: list[tuple[str, dict]] = [
    ("`none`", {"log_on_related": "none"}),
    ("`case`", {"log_on_related": "case"}),
    ("`case` + `create_case`", {"log_on_related": "case", "create_case": True}),
    ("`opportunity`", {"log_on_related": "opportunity"}),
]


def _what(run: Run, task: dict | None, ref: str) -> str:
    if task is None:
        return run.not_logged(ref)
    what = task.get("WhatId")
    if not what:
        return "no WhatId"
    new_cases = {row["Id"]: row for row in run.created("Case", ("Subject", "Origin", "Status"))}
    if what in new_cases:
        case = new_cases[what]
        subject = ("the call's Subject" if case["Subject"] == task["Subject"]
                   else f"'{case['Subject']}'")
        return f"new Case created (Subject {subject}, Origin {case['Origin']}, Status {case['Status']})"
    return run.label(what)


def related_records(lab: Lab) -> Table:
    """Table 4: the WhatId chosen, or the Case created, per ``log_on_related`` and situation."""
    rows = []
    snippets = []
    for n, (label, kind, extra) in enumerate(RELATED_SITUATIONS):
        row = [label]
        for m, (_, settings) in enumerate(RELATED_SETTINGS):
            run = lab.run(scenario_data(f"docs 4 related {n} {m}", [call("c1", "inbound_answered")],
                                        settings=settings, records=[OWNERS[kind], *extra]))
            task = run.task("c1")
            row.append(_what(run, task, "c1"))
            if not snippets and task and task.get("WhatId") and sobject_of(task["WhatId"]) == "Case":
                caption = f"{label}, `log_on_related`: {RELATED_SETTINGS[m][0]}: the Case and the Contact"
                snippets += [(f"{caption} (Case)", run.snapshot("Case", task["WhatId"], "case1")),
                             (f"{caption} (Contact)", run.snapshot("Contact", task["WhoId"], "alice"))]
        rows.append(row)
    return Table("4", "Related records (Case / Opportunity)", "R5.1 to R5.8, R6.1, R6.2",
                 f"one inbound answered call from {CALLER}, owned by the record of the row. Each "
                 "cell is the Task's WhatId as read from the org. Salesforce Cases have no Lead "
                 "lookup: the Lead's Case carries its name and number in SuppliedName / "
                 "SuppliedPhone.", _settings_text("log_on_related", "create_case"),
                 ["caller's record", *(f"`log_on_related`: {s}" for s, _ in RELATED_SETTINGS)], rows,
                 snippets=snippets)


# --- 5. business hours -------------------------------------------------------------------------


def business_hours(lab: Lab) -> Table:
    """Table 5: ``log_when_closed`` x number open / closed x call / SMS: logged or not."""
    rows = []
    for closed_ok in (True, False):
        events = []
        for state in ("open", "closed"):
            is_open = state == "open"
            events += [call(f"call_{state}", "inbound_answered", number_open=is_open),
                       call(f"missed_{state}", "missed", number_open=is_open),
                       sms(f"sms_{state}", "inbound", number_open=is_open)]
        run = lab.run(scenario_data(f"docs 5 hours {closed_ok}", events, records=[OWNERS["Contact"]],
                                    settings={"log_when_closed": closed_ok}))
        for kind, label in (("call", "inbound answered call"), ("missed", "missed call"),
                            ("sms", "inbound SMS")):
            cells = []
            for state in ("open", "closed"):
                ref = f"{kind}_{state}"
                cells.append(f"logged ({run.section(ref)})" if run.task(ref) else run.not_logged(ref))
            rows.append([f"`{'true' if closed_ok else 'false'}`", label, *cells])
    return Table("5", "Business hours", "R2.1 to R2.4",
                 "the caller's number belongs to the Contact Alice Martin. A closed number is one "
                 "whose webhook says `number.open: false` (a missed call then also carries "
                 "`missed_call_reason: out_of_opening_hours`). Each cell: whether a Task was "
                 "written, and its timeline section.", _settings_text("log_when_closed"),
                 ["`log_when_closed`", "event", "number open", "number closed"], rows)


# --- 6. ties -----------------------------------------------------------------------------------

_TIE_RECORDS: dict[str, tuple[dict, dict]] = {
    "Contact": ({"ref": "a", "sobject": "Contact", "FirstName": "Alice", "LastName": "Martin", "Phone": CALLER},
                {"ref": "b", "sobject": "Contact", "FirstName": "Anna", "LastName": "Martin", "Phone": CALLER}),
    "Lead": ({"ref": "a", "sobject": "Lead", "FirstName": "Bob", "LastName": "Stone", "Company": "Stone Ltd",
              "Phone": CALLER},
             {"ref": "b", "sobject": "Lead", "FirstName": "Ben", "LastName": "Stone", "Company": "Stone Ltd",
              "Phone": CALLER}),
    "Account": ({"ref": "a", "sobject": "Account", "Name": "Acme Corp", "Phone": CALLER},
                {"ref": "b", "sobject": "Account", "Name": "Acme Holdings", "Phone": CALLER}),
    "PersonAccount": ({"ref": "a", "sobject": "PersonAccount", "FirstName": "Jane", "LastName": "Doe",
                       "PersonMobilePhone": CALLER},
                      {"ref": "b", "sobject": "PersonAccount", "FirstName": "John", "LastName": "Doe",
                       "PersonMobilePhone": CALLER}),
    "Case": ({"ref": "a", **_CASE, "ContactId": "@alice"},
             {"ref": "b", **_CASE, "Subject": "Lost password", "ContactId": "@alice"}),
    "Opportunity": ({"ref": "a", **_OPPORTUNITY, "ContactId": "@alice"},
                    {"ref": "b", **_OPPORTUNITY, "Name": "Upsell", "ContactId": "@alice"}),
}


def _tie_name(spec: dict) -> str:
    if spec["sobject"] == "Case":
        return f"'{spec['Subject']}'"
    if spec["sobject"] == "Opportunity":
        return f"'{spec['Name']}'"
    return spec.get("Name") or f"{spec['FirstName']} {spec['LastName']}"


def ties(lab: Lab) -> Table:
    """Table 6: two records of one type, both edited, in both orders: which one wins."""
    rows = []
    for kind, (first, second) in _TIE_RECORDS.items():
        related = kind in ("Case", "Opportunity")
        settings = {"log_on_related": kind.lower()} if related else {}
        records = [OWNERS["Contact"], first, second] if related else [first, second]
        for order in ((first, second), (second, first)):
            events = [{"update": {"ref": r["ref"], "fields": {"Description": "Edited in Salesforce"}}}
                      for r in order]
            events.append(call("c1", "inbound_answered"))
            run = lab.run(scenario_data(f"docs 6 tie {kind} {order[-1]['ref']}", events,
                                        settings=settings, records=records))
            task = run.task("c1")
            if task is None:
                won = run.not_logged("c1")
            elif related:
                won = run.label(task.get("WhatId")) if task.get("WhatId") else "no WhatId"
            else:
                won = run.logged_on(task)
            rows.append([KIND_NAMES[kind], f"{_tie_name(first)}, then {_tie_name(second)}",
                         _tie_name(order[-1]), won])
    return Table("6", "Ties: two records of one type", "R4.3, R5.4",
                 f"two records of the row's type own the caller's number {CALLER} (for Case and "
                 "Opportunity: two open ones on the calling Contact Alice Martin, with "
                 "`log_on_related` set to that type); both are edited in Salesforce before one "
                 "inbound answered call, in the order given. \"Result\" is the record the Task was "
                 "logged on (for Case / Opportunity: its WhatId).",
                 _settings_text("log_on_related"),
                 ["type", "created", "edited last", "result"], rows)


# --- 7. Task fields ----------------------------------------------------------------------------


def task_fields(lab: Lab) -> list[Table]:
    """Tables 7a and 7b: the Task fields written for each call type and for SMS."""
    extra = {"duration": 95, "wait": 12, "comments": ["Wants a callback"], "tags": ["billing"]}
    events: list[tuple[str, str, dict]] = []
    for t in CALL_TYPES:
        options = dict(extra) if t in ("outbound_answered", "inbound_answered") else \
            {k: v for k, v in extra.items() if k in ("comments", "tags")}
        events.append((t, f"`{t}` call", call(t, t, **options)))
    events += [(f"sms_{d}", f"{d} SMS", sms(f"sms_{d}", d)) for d in SMS_DIRECTIONS]
    contact = {**OWNERS["Contact"], "AccountId": "@acme"}
    account = {"ref": "acme", "sobject": "Account", "Name": "Acme Corp"}
    run = lab.run(scenario_data("docs 7 task fields", [e for _, _, e in events],
                                records=[account, contact]))
    short, text = [], []
    for ref, label, _ in events:
        task = run.task(ref)
        if task is None:
            short.append([label, run.not_logged(ref)] + [""] * 11)
            text.append([label, run.not_logged(ref), ""])
            continue
        short.append([label, task["Status"], task["CallType"], task["ActivityDate"],
                      task["CallDurationInSeconds"], task["Type"], task["TaskSubtype"], task["Priority"],
                      task["CallObject"], run.label(task["WhoId"]), run.label(task["WhatId"]),
                      run.label(task["AccountId"]), run.label(task["OwnerId"])])
        text.append([label, task["Subject"], visible_description(task["Description"])])
    fixed = ("one event of each kind from the number of Contact Alice Martin (of Account Acme "
             "Corp), handled by the Aircall user Sam Agent (a Salesforce User with the same email) "
             "on the Aircall number Main line (America/New_York), on 2026-11-02; answered calls "
             "last 95 s with 12 s of wait; every call carries the comment \"Wants a callback\" and "
             "the tag \"billing\"; answered calls have a recording. Values are read from the "
             "Tasks in the org; record Ids are shown as the records they name.")
    alice = run.task(events[0][0])
    snippets = [("The Contact Alice Martin after these events (the default workflow)",
                 run.snapshot("Contact", alice["WhoId"], "alice"))] if alice else []
    return [
        Table("7a", "Task fields for each call type and SMS", "R6.1 to R6.11, R7.1", fixed,
              _settings_text(),
              ["event", "Status", "CallType", "ActivityDate", "CallDurationInSeconds", "Type",
               "TaskSubtype", "Priority", "CallObject", "WhoId", "WhatId", "AccountId", "OwnerId"], short,
              snippets=snippets),
        Table("7b", "Task Subject and Description", "R6.4, R6.7 to R6.9, R7.1",
              "the same run as table 7a.", "", ["event", "Subject", "Description"], text),
    ]


# --- 7c. event order and late voicemails ------------------------------------------------------

_T0 = int(START.timestamp())
_AIRCALL_AGENT = {"id": 7, "name": "Sam Agent", "email": "sam@example.com"}
_LINE = {"id": 42, "name": "Main line", "digits": "+1 212-555-0000", "time_zone": "America/New_York",
         "open": True}


def _aircall(event: str, sent: int, **call: Any) -> dict:
    """One event of the call 5500000001, sent ``sent`` seconds after it started."""
    call = {"user": _AIRCALL_AGENT, **call}
    hook = call_webhook(event=event, call_id=5500000001, external=CALLER, started_at=_T0,
                        number=_LINE, token="docs", **call)
    return {**hook, "timestamp": _T0 + sent}


def _answered_events() -> dict[str, dict]:
    during, done = dict(wait=9, duration=0, ended_at=None), dict(wait=9, duration=100, ended_at=_T0 + 100)
    comment = [{"id": 1, "content": "Asked for a quote"}]
    return {
        "answered": _aircall("call.answered", 9, **during),
        "commented": _aircall("call.commented", 50, comments=comment, **during),
        "ended": _aircall("call.ended", 130, comments=comment, **done),
        "tagged": _aircall("call.tagged", 140, comments=comment, tags=[{"id": 2, "name": "vip"}], **done),
    }


def _unanswered_events() -> dict[str, dict]:
    missed = dict(answered=False, wait=30, duration=30, user=None, missed_call_reason="agents_did_not_answer")
    link = "https://voicemails.example/5500000001.mp3"
    return {
        "hungup": _aircall("call.hungup", 30, **missed),
        "voicemail_left": _aircall("call.voicemail_left", 80, voicemail=link, **missed),
        "ended": _aircall("call.ended", 90, voicemail=link, **missed),
    }


EVENT_ORDERS = [
    ("answered call, in the order sent", _answered_events, ["answered", "commented", "ended", "tagged"], {}),
    ("comment during the call arrives first", _answered_events, ["commented", "answered", "ended", "tagged"], {}),
    ("call.ended arrives last", _answered_events, ["answered", "commented", "tagged", "ended"], {}),
    ("newest first, each delivered twice", _answered_events,
     ["tagged", "ended", "commented", "answered", "tagged", "ended", "commented", "answered"], {}),
    ("unanswered call, voicemail left after the hang-up", _unanswered_events,
     ["hungup", "voicemail_left", "ended"], {}),
    ("late voicemail, `missed: completed`", _unanswered_events, ["hungup", "voicemail_left", "ended"],
     {"call_workflow": {"missed": "completed"}}),
    ("late voicemail, `missed: completed`, `voicemail: do_nothing`", _unanswered_events,
     ["hungup", "voicemail_left", "ended"], {"call_workflow": {"missed": "completed", "voicemail": "do_nothing"}}),
    ("late voicemail, `missed: do_nothing`", _unanswered_events, ["hungup", "voicemail_left", "ended"],
     {"call_workflow": {"missed": "do_nothing"}}),
]


def event_order(lab: Lab) -> Table:
    """Table 7c: one call's events delivered in different orders, and voicemails left late."""
    rows = []
    for n, (case, events_of, order, settings) in enumerate(EVENT_ORDERS):
        hooks = events_of()
        events = [{"webhook": {"ref": f"e{i}", **hooks[name]}} for i, name in enumerate(order)]
        run = lab.run(scenario_data(f"docs 7c event order {n}", events, settings=settings,
                                    records=[OWNERS["Contact"]]))
        found = [run.task(f"e{i}") for i in range(len(order))]
        task = next((t for t in found if t), None)
        delivered = ", ".join(f"`{name}`" for name in order)
        if task is None:
            rows.append([case, delivered, run.not_logged("e0"), "", "", "", ""])
            continue
        rows.append([case, delivered, task["Subject"], task["Status"], task["CallDurationInSeconds"],
                     task["CallDisposition"], visible_description(task["Description"])])
    fixed = ("one call from the number of Contact Alice Martin on the Aircall number Main line, its "
             "events delivered as raw webhooks in the order shown (each with the Call object of "
             "the moment Aircall sent it): an answered call (answered after 9 s, 100 s in all, one "
             "comment posted during the call, tagged vip after it), and an unanswered one whose "
             "voicemail link arrives after the hang-up. Each row is one run; the values are the "
             "one Task's at the end.")
    return Table("7c", "Event order and late voicemails", "R8.1, R8.2, R8.6, R6.13", fixed,
                 _settings_text("call_workflow"),
                 ["case", "delivered", "Subject", "Status", "CallDurationInSeconds", "CallDisposition",
                  "Description"], rows)


# --- 8. rule coverage --------------------------------------------------------------------------


def _rule_key(rule_id: str) -> tuple[int, ...]:
    return tuple(int(p) for p in rule_id[1:].split("."))


def _shown(path: Path, root: Path) -> str:
    """A path as written in the tables: relative, never machine-specific."""
    for base in (root.parent, Path.cwd()):
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            continue
    return path.name


def rule_coverage(lab: Lab, scenarios_dir: Path, rules_file: Path | None = None) -> Table:
    """Table 8: each rule, its text, the scenarios citing it in ``covers:``, and their result."""
    notes = []
    try:
        rules = read_rules(rules_file)
    except RulesError as e:
        raise DocsError(str(e)) from None
    files = scenario_files([scenarios_dir]) if Path(scenarios_dir).is_dir() else []
    citing: dict[str, list[str]] = {}
    outcome: dict[str, bool] = {}
    invalid, failed = [], []
    for path in files:
        shown = _shown(path, Path(scenarios_dir))
        try:
            scenario = load_scenario(path)
        except ScenarioError as e:
            invalid.append(f"`{shown}`: {e.errors[0].split(': ', 1)[-1] if e.errors else e}")
            continue
        result = lab.replay(scenario).result
        outcome[shown] = result.passed
        if not result.passed:
            failed.append(f"`{shown}`: {_first_failure(result)}")
        for rule_id in scenario.covers:
            citing.setdefault(rule_id, []).append(shown)
    known = {r.id for r in rules}
    unknown = sorted((i for i in citing if i not in known), key=_rule_key)
    if unknown:
        raise DocsError("scenarios cite rule ids that are not in the rules file: "
                        + "; ".join(f"{i} ({', '.join(citing[i])})" for i in unknown))
    rows = []
    for rule in rules:
        paths = citing.get(rule.id, [])
        fails = sum(1 for p in paths if not outcome[p])
        if not paths:
            status = "no scenario"
        elif fails:
            status = f"**FAIL**: {fails} of {len(paths)} fail"
        else:
            status = f"pass ({len(paths)})"
        rows.append([rule.id, rule.text, ", ".join(f"`{p}`" for p in paths), status])
    covered = sum(1 for r in rules if citing.get(r.id))
    fixed = (f"the scenario files under `{_shown(Path(scenarios_dir), Path(scenarios_dir))}/` "
             f"({len(outcome)} run, {sum(outcome.values())} pass), replayed as `callsim run` does; "
             f"{covered} of {len(rules)} rules are cited by at least one scenario.")
    if failed:
        notes.append("Failing scenarios:\n\n" + "\n".join(f"- {line}" for line in failed))
    if invalid:
        notes.append("Scenario files not run (invalid):\n\n" + "\n".join(f"- {cell(l)}" for l in invalid))
    return Table("8", "Rule coverage", "all", fixed, "", ["rule", "text", "scenarios", "result"],
                 rows, notes)


def _first_failure(result: ScenarioResult) -> str:
    if result.error:
        return cell(result.error)
    check = result.failures[0]
    return cell(f"{check.subject} {check.item}: expected {check.expected}, got {check.actual}")


# --- the document ------------------------------------------------------------------------------

INTRO = """\
# Behaviour of the call logging

Generated by `callsim docs`; do not edit by hand. Every cell below was read from the fake
Salesforce org after the real logging core (`simulator/core/`) handled generated Aircall
webhooks: a matrix of scenarios per table, replayed by the scenario runner. Each table says
what it holds fixed and which rules of `docs/rules.md` it shows. CI runs
`callsim docs --check`, which fails when this file no longer matches the core.
"""


def build_tables(runner: Runner | None = None, *, scenarios_dir: Path | None = None,
                 rules_file: Path | None = None, progress: Progress | None = None) -> list[Table]:
    """Every table, in order, each from its own executed scenarios."""
    lab = Lab(runner)
    scenarios_dir = Path(scenarios_dir) if scenarios_dir else Path("scenarios")
    steps: list[tuple[str, Callable[[], Table | list[Table]]]] = [
        ("call type x workflow action", lambda: call_workflow(lab)),
        ("which record wins", lambda: record_priority(lab)),
        ("unknown numbers", lambda: [unknown_numbers(lab), unknown_numbers_missing_details(lab)]),
        ("related records", lambda: related_records(lab)),
        ("business hours", lambda: business_hours(lab)),
        ("ties", lambda: ties(lab)),
        ("Task fields", lambda: task_fields(lab) + [event_order(lab)]),
        ("rule coverage", lambda: rule_coverage(lab, scenarios_dir, rules_file)),
    ]
    tables: list[Table] = []
    for n, (title, step) in enumerate(steps, 1):
        before = lab.count
        built = step()
        tables += built if isinstance(built, list) else [built]
        if progress:
            count = lab.count - before
            progress(f"table {n}/{len(steps)}: {title} ({count} scenario{'s' if count != 1 else ''})")
    return tables


def render(tables: list[Table]) -> str:
    """The whole document: the introduction, contents, then every table."""
    contents = "\n".join(f"- [{t.key}. {t.title}](#{_anchor(t)})" for t in tables)
    return "\n".join([INTRO, "## Contents\n", contents, "", *(t.markdown() for t in tables)])


def _anchor(table: Table) -> str:
    text = f"{table.key}. {table.title}".lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def generate(runner: Runner | None = None, **options: Any) -> str:
    """The text of ``behaviour.md``; options as for :func:`build_tables`."""
    return render(build_tables(runner, **options))


def stale_diff(path: Path, text: str, max_lines: int = 60) -> str | None:
    """None when ``path`` holds ``text``; else a short unified diff (file -> generated)."""
    try:
        current = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return f"{path} does not exist"
    if current == text:
        return None
    diff = list(difflib.unified_diff(current.splitlines(), text.splitlines(),
                                     f"{path} (committed)", f"{path} (generated)", lineterm="", n=1))
    if len(diff) > max_lines:
        diff = diff[:max_lines] + [f"... {len(diff) - max_lines} more diff lines"]
    return "\n".join(diff)
