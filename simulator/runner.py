"""Replays a scenario through the real logging core against a fresh fake org, then checks it.

For each scenario: the org is reset (control API), users, numbers and records are seeded at the
org clock, each event is expanded into a complete Aircall webhook and delivered through
``CallLogger.handle`` exactly as a production delivery would be, and afterwards every
expectation is read back from the org over the REST API (SOQL), never from its tables.
A scenario with a ``delivery:`` policy is delivered as Aircall would (``simulator.delivery``):
call lifecycles, duplicates, late and concurrent deliveries, timeouts and retries.
"""
from __future__ import annotations

import hashlib
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import SalesforceError

import fake_salesforce
from fake_salesforce.clock import parse_datetime
from fake_salesforce.control import ControlClient
from fake_salesforce.server import FakeServer
from fake_salesforce.tls import make_self_signed
from simulator import delivery
from simulator.aircall import ScenarioWebhooks
from simulator.delivery import target_of
from simulator.core import Outcome, Settings
from simulator.integrations import Builtin, Integration, Refused
from simulator.readback import NEXT, PAST, SECTION_TITLES, TIMELINE_FIELDS, OrgView, visible_description
from simulator.scenario import (
    ADMIN_REF,
    CallStep,
    CommentStep,
    CreateStep,
    RecordSpec,
    PERSON_CONTACT,
    RedeliverStep,
    Scenario,
    SettingsStep,
    SmsStep,
    UpdateStep,
    UserSpec,
    WebhookStep,
    is_ref,
)

WEBHOOK_TOKEN = "callsim-scenario-token"
FAKE_ORDERS = {"most_recent": "recent", "insertion": "insertion", "shuffle": "shuffle"}
#: The fields a recording keeps of the records an integration creates.
CREATED_FIELDS = {"Lead": ("Name", "Company", "Phone", "Email", "IsConverted"),
                  "Contact": ("Name", "Phone", "Email", "AccountId"),
                  "Account": ("Name", "Phone"),
                  "Case": ("Subject", "Status", "Origin", "ContactId", "AccountId")}
_USER_DEFAULTS = {"TimeZoneSidKey": "Europe/Paris", "LocaleSidKey": "en_US",
                  "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US"}


class RunError(RuntimeError):
    """The scenario could not be replayed (the org refused its set-up, say)."""


@dataclass
class Check:
    """One expectation and what the org showed."""

    kind: str            # timeline | record | absent | not_logged | task | task_count
    subject: str         # the record, event or count the check is about
    item: str            # section or field name
    expected: Any
    actual: Any
    passed: bool


@dataclass
class Timeline:
    """A record's Activity timeline as read back after the events: its Tasks, each with the
    label of the event that logged it, and the org's date then (what "overdue" is judged by)."""

    ref: str
    sobject: str         # as the scenario names it: Contact, PersonAccount, Case ...
    record_id: str
    tasks: list[dict]
    labels: dict[str, str]   # Task Id -> event ref (or a description of a stray Task)
    today: date


@dataclass
class EventResult:
    index: int
    kind: str
    ref: str | None
    outcome: Outcome | None = None
    error: str | None = None


@dataclass
class ScenarioResult:
    scenario: Scenario
    checks: list[Check] = field(default_factory=list)
    events: list[EventResult] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    requests: int = 0
    timelines: list[Timeline] = field(default_factory=list)
    delivery: dict[str, int] | None = None   # the delivery simulator's figures (simulator.delivery)
    recorded: dict | None = None   # what the org showed, for --record (see simulator.recording)

    @property
    def passed(self) -> bool:
        return self.error is None and all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]


def _event_kind(event) -> str:
    return {CallStep: "call", SmsStep: "sms", UpdateStep: "update", CreateStep: "create",
            WebhookStep: "webhook", RedeliverStep: "redeliver", CommentStep: "comment",
            SettingsStep: "settings"}[type(event)]


def _seed_of(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")


class Runner:
    """Runs scenarios against one fake org: in-process by default, or a server URL.

    The org is reset before every scenario, so each one starts from nothing.
    """

    def __init__(self, server: str | None = None, *, verify: Any = True,
                 integration: Integration | None = None, port: int = 0):
        self.integration = integration or Builtin()
        self.recording = False   # True: each result keeps what the org showed (--record)
        self.served = None
        if not server and self.integration.needs_server:  # the integration reaches the org by URL
            self._certs = tempfile.TemporaryDirectory(prefix="callsim-org-")
            certfile, keyfile = make_self_signed(self._certs.name)
            self.org = fake_salesforce.Org()
            self.served = FakeServer(self.org, port=port, certfile=certfile, keyfile=keyfile).start()
            server = self.served.url
            verify = self.integration.ca_file = str(certfile)
        if server:
            self.target: Any = server.rstrip("/")
        else:
            self.org = fake_salesforce.Org()
            self.target = fake_salesforce.create_app(self.org)
        self.verify = verify
        self.session = fake_salesforce.make_session(self.target, verify=verify)
        self.control = ControlClient(self.target, self.session)

    def close(self) -> None:
        """Stop the server started for an integration that reaches the org by URL."""
        if self.served:
            self.served.stop()
            self._certs.cleanup()

    def records_beyond_fresh(self) -> dict[str, int]:
        """What the org holds beyond a freshly reset org (its admin user and record types),
        per sObject, read from the control API's record counts: what a reset would delete."""
        fresh = fake_salesforce.Org().counts()
        counts = self.control.info()["counts"]
        return {name: n - fresh.get(name, 0) for name, n in counts.items() if n > fresh.get(name, 0)}

    # -- running --------------------------------------------------------------------------------
    def run(self, scenario: Scenario) -> ScenarioResult:
        result = ScenarioResult(scenario)
        started = time.perf_counter()
        try:
            _Replay(self, scenario, result).run()
        except RunError as e:
            result.error = str(e)
        result.seconds = time.perf_counter() - started
        return result

    def run_all(self, scenarios, progress=None) -> list[ScenarioResult]:
        results = []
        for n, scenario in enumerate(scenarios, 1):
            results.append(self.run(scenario))
            if progress:
                progress(n, len(scenarios), results[-1])
        return results


def run_parallel(scenarios, workers: int, progress=None) -> list[ScenarioResult]:
    """Scenarios spread over ``workers`` processes, each replaying on its own in-process org
    (reset before every scenario, as ``Runner.run_all`` does); the results in the given order."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    results: list[ScenarioResult | None] = [None] * len(scenarios)
    with ProcessPoolExecutor(max_workers=workers, initializer=_start_worker) as pool:
        futures = {pool.submit(_run_in_worker, scenario): i for i, scenario in enumerate(scenarios)}
        for n, future in enumerate(as_completed(futures), 1):
            i = futures[future]
            results[i] = future.result()
            if progress:
                progress(n, len(scenarios), results[i])
    return results


_WORKER_RUNNER: Runner | None = None


def _start_worker() -> None:
    global _WORKER_RUNNER
    _WORKER_RUNNER = Runner()


def _run_in_worker(scenario: Scenario) -> ScenarioResult:
    return _WORKER_RUNNER.run(scenario)


class _Replay:
    """The state of one scenario's run: ids of refs, tasks of events."""

    def __init__(self, runner: Runner, scenario: Scenario, result: ScenarioResult):
        self.runner = runner
        self.sc = scenario
        self.result = result
        self.ids: dict[str, str] = {}
        self.sobjects: dict[str, str] = {}      # ref -> PersonAccount / Contact / ...
        self.task_refs: dict[str, str] = {}     # Task Id -> event ref
        self.keys: dict[str, str] = {}          # event ref -> idempotency key (CallObject)
        self.sf: Salesforce | None = None
        self.today: date | None = None

    # -- set-up ---------------------------------------------------------------------------------
    def run(self) -> None:
        self._begin()
        self._seed_users(self.sc.org.users)
        self._seed_records(self.sc.org.records)
        deliver = self.runner.integration.bind(self.sf, self._settings(self.sc.settings))
        start_requests = self._requests_made()
        webhooks = ScenarioWebhooks(self.sc, WEBHOOK_TOKEN)
        clock = self.sc.org.now
        if self.sc.faults:
            self.runner.control.set_faults([rule.model_dump() for rule in self.sc.faults])
        try:
            if self.sc.delivery is not None:
                self._deliver_by_policy(deliver, webhooks)
            else:
                for event, when in zip(self.sc.events, self.sc.event_times()):
                    if when != clock:
                        self._move_clock(when)
                        clock = when
                    if isinstance(event, SettingsStep):  # the integration's settings change here
                        deliver = self.runner.integration.bind(self.sf, self._settings(event.in_force))
                    self.result.events.append(self._deliver(deliver, webhooks, event, when))
        finally:
            if self.sc.faults:
                self.runner.control.clear_faults()
        seeded = set(self.ids.values())
        self._check()
        self.result.requests = self._requests_made() - start_requests
        if getattr(self.runner, "recording", False):
            self._gather(seeded)

    def _begin(self) -> None:
        """A fresh org at the scenario's clock and seed (control API), and a client on it."""
        control = self.runner.control
        try:
            control.reset(seed=_seed_of(self.sc.name), now=self.sc.org.now,
                          default_country=self.sc.org_default_country,
                          order=FAKE_ORDERS[self.sc.org.order])
            info = control.info()
        except Exception as e:  # the control API is unreachable or refused
            raise RunError(f"cannot reset the org: {e}") from None
        self.ids[ADMIN_REF] = info["admin_id"]
        self.sobjects[ADMIN_REF] = "User"
        self.sf = fake_salesforce.connect(self.runner.target, info["username"], session=self.runner.session)

    def _move_clock(self, when) -> None:
        self.runner.control.set_clock(when)

    def _requests_made(self) -> int:
        """The org's API request count so far."""
        return self.runner.control.info()["api_requests"]

    def _org_today(self) -> date:
        return parse_datetime(self.runner.control.info()["clock"]["now"]).date()

    def _settings(self, settings: Settings) -> Settings:
        """Settings of the scenario, their ``integration_owner`` ref resolved to the user's Id."""
        owner = settings.integration_owner
        if owner is None:
            return settings
        return settings.model_copy(update={"integration_owner": self.ids.get(owner, owner)})

    def _seed_users(self, users: list[UserSpec]) -> None:
        if not users:
            return
        items = []
        for user in users:
            fields = {**_USER_DEFAULTS, **user.fields}
            fields.setdefault("Username", user.email)
            fields.setdefault("Alias", (user.ref or "user")[:8])
            items.append({"sobject": "User", "fields": fields})
        for user, new_id in zip(users, self._seed(items, "org.users")):
            self.ids[user.ref] = new_id
            self.sobjects[user.ref] = "User"

    def _seed_records(self, records: list[RecordSpec], where: str = "org.records") -> None:
        if not records:
            return
        for n, record in enumerate(records):  # a person Contact exists once its account is seeded
            wanted = {v[1:-len(PERSON_CONTACT)] for v in record.fields.values()
                      if is_ref(v) and v.endswith(PERSON_CONTACT)}
            if wanted & {r.ref for r in records[:n]}:
                self._seed_records(records[:n], where)
                self._seed_records(records[n:], where)
                return
        batch_index = {}
        items = []
        for n, record in enumerate(records):
            fields = {}
            for key, value in record.fields.items():
                if is_ref(value):
                    ref = value[1:]
                    value = f"@{batch_index[ref]}" if ref in batch_index else self._id(ref)
                fields[key] = value
            items.append({"sobject": record.sobject, "fields": fields})
            batch_index[record.ref] = n
        for record, new_id in zip(records, self._seed(items, where)):
            self.ids[record.ref] = new_id
            self.sobjects[record.ref] = record.sobject

    def _seed(self, items: list[dict], where: str) -> list[str]:
        try:
            return self.runner.control.seed(items)
        except Exception as e:
            raise RunError(f"{self.sc.path}: {where}: the org refused it: {e}") from None

    def _id(self, ref: str) -> str:
        if ref not in self.ids and ref.endswith(PERSON_CONTACT) and ref[:-len(PERSON_CONTACT)] in self.ids:
            account = self.ids[ref[:-len(PERSON_CONTACT)]]
            rows = self._query(format_soql("SELECT PersonContactId FROM Account WHERE Id = {}",
                                           account))["records"]
            if rows and rows[0].get("PersonContactId"):
                self.ids[ref] = rows[0]["PersonContactId"]
        if ref not in self.ids:
            raise RunError(f"{self.sc.path}: '@{ref}' names nothing created so far")
        return self.ids[ref]

    # -- events ---------------------------------------------------------------------------------
    def _deliver(self, deliver, webhooks: ScenarioWebhooks, event, when) -> EventResult:
        out = self._event_result(event)
        if isinstance(event, (UpdateStep, CreateStep)):
            self._change(event, out)
            return out
        for webhook in webhooks.webhooks_for(event, when):
            self._deliver_one(deliver, webhook, target_of(event), out)
        return out

    def _deliver_one(self, deliver, webhook: dict, target: str | None, out: EventResult) -> None:
        before = self._task_ids() if self._foreign else set()
        outcome = None
        try:
            outcome = deliver(webhook)
        except Refused as e:
            out.error = out.error or str(e)
        self._settle(out)
        if not out.error:
            self._attribute(out, target, outcome, before)

    def _deliver_by_policy(self, deliver, webhooks: ScenarioWebhooks) -> None:
        """The events delivered as the scenario's ``delivery:`` policy says (simulator.delivery):
        one result per event, failed when any of its webhooks was refused or never answered."""
        figures: Counter = Counter()
        steps = delivery.plan(self.sc, webhooks, self.sc.delivery, figures)
        sender = delivery.Sender(deliver, self.sc.delivery, figures)
        results = {event.index: self._event_result(event) for event in self.sc.events}
        clock = self.sc.org.now
        for step in steps:
            if step.at != clock:
                self._move_clock(step.at)
                clock = step.at
            out = results[step.event.index]
            if isinstance(step, delivery.Change):
                if isinstance(step.event, SettingsStep):  # the integration's settings change here
                    sender.deliver = self.runner.integration.bind(self.sf, self._settings(step.event.in_force))
                else:
                    self._change(step.event, out)
                continue
            before = self._task_ids() if self._foreign else set()
            outcome, error = sender.send(step.webhook, 2 if step.concurrent else 1)
            attempt = EventResult(out.index, out.kind, out.ref, error=error)
            self._settle(attempt)
            if attempt.error:
                out.error = out.error or attempt.error
                continue
            self._attribute(out, step.target, outcome, before)
        self.result.events = [results[i] for i in sorted(results)]
        self.result.delivery = {name: figures[name] for name in delivery.FIGURES}

    @property
    def _foreign(self) -> bool:
        return not isinstance(self.runner.integration, Builtin)

    def _event_result(self, event) -> EventResult:
        kind = _event_kind(event)
        return EventResult(event.index, kind, None if kind in ("redeliver", "comment") else getattr(event, "ref", None))

    def _change(self, event, out: EventResult) -> None:
        """An ``update`` or ``create`` step (a ``settings`` step changes no record)."""
        if isinstance(event, UpdateStep):
            self._update(event, out)
        elif isinstance(event, CreateStep):
            self._seed_records([event.record], f"events[{event.index}].create")

    def _settle(self, out: EventResult) -> None:
        try:
            self.runner.integration.settle(self._requests_made)
        except Refused as e:
            out.error = out.error or str(e)

    def _attribute(self, out: EventResult, target: str | None, outcome: Outcome | None, before: set) -> None:
        """Name the Tasks a delivery made by the event whose Task it logs."""
        if outcome is None:  # a foreign integration: its Tasks are those that appeared meanwhile
            if target:
                for task_id in sorted(self._task_ids() - before):
                    self.task_refs.setdefault(task_id, target)
            return
        out.outcome = outcome
        if target:
            self.keys.setdefault(target, outcome.key)
            if outcome.task_id:
                self.task_refs.setdefault(outcome.task_id, target)

    def _task_ids(self) -> set[str]:
        return {r["Id"] for r in self._query("SELECT Id FROM Task" + self._created_scope())["records"]}

    def _created_scope(self) -> str:
        """A WHERE clause limiting a query to the records created during the scenario (a fresh
        org holds nothing else)."""
        return ""

    def _update(self, event: UpdateStep, out: EventResult) -> None:
        sobject = self.sobjects.get(event.ref)
        if sobject is None and event.ref in self.keys:   # the Task logged for an event
            tasks = self._tasks_of_event(event.ref)
            if len(tasks) != 1:
                raise RunError(f"{self.sc.path}: events[{event.index}].update: '{event.ref}' "
                               f"logged {len(tasks)} Tasks, expected one to edit")
            self.ids[event.ref], self.sobjects[event.ref] = tasks[0], "Task"
            sobject = "Task"
        if sobject is None:
            out.error = f"'{event.ref}' is not a record of this scenario"
            return
        fields = {k: (self._id(v[1:]) if is_ref(v) else v) for k, v in event.fields.items()}
        api_name = "Account" if sobject == "PersonAccount" else sobject
        try:
            getattr(self.sf, api_name).update(self._id(event.ref), fields)
        except SalesforceError as e:
            raise RunError(f"{self.sc.path}: events[{event.index}].update: the org refused it: "
                           f"{_sf_message(e)}") from None

    def _gather(self, seeded: set[str]) -> None:
        """Every Task, and every record the integration created, as the org shows them."""
        scope = self._created_scope()
        tasks = self._query(f"SELECT {', '.join(TIMELINE_FIELDS)} FROM Task{scope}")["records"]
        people = {self.ids[r] for r, kind in self.sobjects.items() if kind == "PersonAccount"}
        created = []
        for sobject, fields in CREATED_FIELDS.items():
            for row in self._query(f"SELECT Id, {', '.join(fields)} FROM {sobject}{scope}")["records"]:
                if row["Id"] not in seeded and not (sobject == "Contact" and row.get("AccountId") in people):
                    created.append(row)
        ids = dict(self.ids)
        for ref, kind in self.sobjects.items():   # a person account's Contact, named after it
            if kind == "PersonAccount":
                rows = self._query(format_soql("SELECT PersonContactId FROM Account WHERE Id = {}",
                                               self.ids[ref]))["records"]
                if rows and rows[0].get("PersonContactId"):
                    ids[f"{ref}.PersonContact"] = rows[0]["PersonContactId"]
        self.result.recorded = {"tasks": tasks, "created": created, "ids": ids,
                                "labels": {t["Id"]: self._label(t) for t in tasks}}

    # -- checks ---------------------------------------------------------------------------------
    def _check(self) -> None:
        expect = self.sc.expect
        self._check_deliveries(expect.rejected)
        for spec in expect.records:
            self._check_record(spec)
        for ref, timeline in expect.timelines.items():
            if ref not in self.ids:  # an expected record that was never created
                self._add("timeline", ref, "record", "exists", "not found", False)
                continue
            actual = self._timeline(ref)
            for section in (PAST, NEXT):
                want = sorted(getattr(timeline, section))
                got = sorted(actual[section])
                self._add("timeline", ref, SECTION_TITLES[section], want, got,
                          Counter(want) == Counter(got))
        for spec in expect.absent:
            self._check_absent(spec)
        for ref, count in expect.task_counts.items():
            if ref not in self.ids:
                self._add("task_count", ref, "record", "exists", "not found", False)
                continue
            sobject = self.sobjects.get(ref) or self._expected_sobject(ref)
            sections = self.view.timeline(self._id(ref), sobject, TIMELINE_FIELDS)
            tasks = len(sections[PAST]) + len(sections[NEXT])
            self._add("task_count", ref, "Tasks on its timeline", count, tasks, tasks == count)
        for ref in expect.not_logged:
            tasks = self._tasks_of_event(ref)
            self._add("not_logged", ref, "Tasks", [], tasks, not tasks)
        for ref, spec in expect.tasks.items():
            self._check_task(ref, spec)
        if expect.task_count is not None:
            count = self._query("SELECT COUNT() FROM Task" + self._created_scope())["totalSize"]
            self._add("task_count", "org", "Tasks", expect.task_count, count, count == expect.task_count)

    def _check_deliveries(self, rejected: list[str]) -> None:
        """Events in ``rejected`` must be refused by the core; every other one accepted."""
        refused = {}
        for out in self.result.events:
            name = out.ref or f"events[{out.index}]"
            if out.error:
                refused[name] = out.error
                if name not in rejected:
                    self._add("delivery", name, "accepted", "accepted", out.error, False)
        for ref in rejected:
            self._add("delivery", ref, "rejected", "rejected", refused.get(ref, "accepted"), ref in refused)

    def _add(self, kind, subject, item, expected, actual, passed) -> None:
        self.result.checks.append(Check(kind, subject, item, expected, actual, bool(passed)))

    def _query(self, soql: str) -> dict:
        """Every record of the query; ``totalSize`` is the server's (right for COUNT())."""
        try:
            first = self.sf.query(soql)
            if first.get("done", True):
                return first
            return {**first, "records": self.sf.query_all(soql)["records"]}
        except SalesforceError as e:
            raise RunError(f"{self.sc.path}: reading the org failed: {_sf_message(e)} ({soql})") from None

    def _label(self, task: dict) -> str:
        ref = self.task_refs.get(task["Id"])
        if ref is None:
            ref = next((r for r, key in self.keys.items() if key and key == task.get("CallObject")), None)
        return ref or f"Task {task['Id']} ({task.get('Subject')})"

    def _timeline(self, ref: str) -> dict[str, list[str]]:
        """The record's Activity timeline (docs/scenario-format.md), Tasks named by their events."""
        sobject = self.sobjects.get(ref) or self._expected_sobject(ref)
        record_id = self._id(ref)
        sections = self.view.timeline(record_id, sobject, TIMELINE_FIELDS)
        rows = [*sections[PAST], *sections[NEXT]]
        labels = {r["Id"]: self._label(r) for r in rows}
        if self.today is None:
            self.today = self._org_today()
        self.result.timelines.append(Timeline(ref, sobject, record_id, rows, labels, self.today))
        return {section: [labels[t["Id"]] for t in tasks] for section, tasks in sections.items()}

    @property
    def view(self) -> OrgView:
        return OrgView(lambda soql: self._query(soql)["records"])

    def _expected_sobject(self, ref: str) -> str:
        for spec in self.sc.expect.records:
            if spec.ref == ref:
                return spec.sobject
        return "Contact"

    def _tasks_of_event(self, ref: str) -> list[str]:
        key = self.keys.get(ref)
        ids = {tid for tid, r in self.task_refs.items() if r == ref}
        if key:
            rows = self.view.tasks_with_key(key, ("Id",))
            ids |= {r["Id"] for r in rows}
        return sorted(ids)

    def _check_record(self, spec) -> None:
        api_name = "Account" if spec.sobject == "PersonAccount" else spec.sobject
        conditions = [format_soql(f"{name} = {{}}", self._value(value)) for name, value in spec.where.items()]
        if spec.sobject == "PersonAccount":
            conditions.append("IsPersonAccount = true")
        fields = ["Id", *[f for f in spec.fields if f != "Id"]]
        soql = f"SELECT {', '.join(fields)} FROM {api_name}"
        if conditions:
            soql += " WHERE " + " AND ".join(conditions)
        rows = self._query(soql)["records"]
        where_text = ", ".join(f"{k}={v}" for k, v in spec.where.items())
        self._add("record", spec.ref, f"{spec.sobject} where {where_text}", 1, len(rows), len(rows) == 1)
        if len(rows) != 1:
            return
        self.ids[spec.ref] = rows[0]["Id"]
        self.sobjects[spec.ref] = spec.sobject
        for name, value in spec.fields.items():
            want = self._value(value)
            got = rows[0].get(name)
            self._add("record", spec.ref, name, want, got, _same(want, got))

    def _check_absent(self, spec) -> None:
        api_name = "Account" if spec.sobject == "PersonAccount" else spec.sobject
        conditions = [format_soql(f"{name} = {{}}", self._value(value)) for name, value in spec.where.items()]
        if spec.sobject == "PersonAccount":
            conditions.append("IsPersonAccount = true")
        soql = f"SELECT Id FROM {api_name} WHERE {' AND '.join(conditions)}"
        found = [r["Id"] for r in self._query(soql)["records"]]
        where_text = ", ".join(f"{k}={v}" for k, v in spec.where.items())
        self._add("absent", f"{spec.sobject} where {where_text}", "records", [], found, not found)

    def _check_task(self, ref: str, spec) -> None:
        tasks = self._tasks_of_event(ref)
        if len(tasks) != 1:
            self._add("task", ref, "Task", "exactly one", f"{len(tasks)} Task(s)", False)
            return
        fields = ["Id", "Description", *[f for f in spec.fields if f not in ("Id", "Description")]]
        row = self._query(format_soql(f"SELECT {', '.join(fields)} FROM Task WHERE Id = {{}}",
                                      tasks[0]))["records"][0]
        row["Description"] = visible_description(row.get("Description"))
        for name, value in spec.fields.items():
            want = self._value(value)
            self._add("task", ref, name, want, row.get(name), _same(want, row.get(name)))
        description = row.get("Description") or ""
        for text in spec.description_contains:
            self._add("task", ref, "Description contains", text, description, text in description)

    def _value(self, value):
        if is_ref(value):
            return self.ids.get(value[1:], f"(no record {value})")
        return value


def _same(want, got) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return want == got
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        return float(want) == float(got)
    if want is None or got is None:
        return want == got
    if isinstance(want, str) and isinstance(got, str) and "T" in want and "T" in got:
        try:  # datetimes compare as instants: "…T09:00:01Z" equals "…T09:00:01.000+0000"
            return parse_datetime(want) == parse_datetime(got)
        except ValueError:
            pass
    return str(want) == str(got)


def _sf_message(e: SalesforceError) -> str:
    content = getattr(e, "content", None)
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return "; ".join(f"{c.get('errorCode')}: {c.get('message')}" for c in content)
    return str(e)
