"""Parity mode: the scenario library replayed against an org reached with ordinary credentials.

``callsim run --org real`` hands each scenario to :class:`ParityRunner`, which needs nothing but
a logged-in ``simple_salesforce.Salesforce``. It never calls the fake's control API
(``/_fake/``), so the org may be a real one or a fake started with ``--no-control``:

- set-up goes through the standard REST API: users and records are created one by one with
  ``POST /sobjects/{type}`` (a person account with the org's person-account record type; users
  with the running user's profile, reused across runs and deactivated afterwards, since
  Salesforce never deletes a User);
- "most recently updated" is arranged by the order of writes: audit fields
  (``LastModifiedDate``, ``CreatedDate``) cannot be set, so when a scenario gives them the
  records are saved again, oldest first, ``write_gap`` seconds apart (Salesforce keeps these
  dates to the second); ``update`` and ``create`` events keep the same gap from earlier writes;
- the org's clock is not moved: ``org.now`` and ``at:`` still date the webhooks (so a Task's
  ActivityDate and call times are those of the scenario), while audit fields carry the org's
  own time;
- after creating records the runner waits until search (SOSL) finds them, as a real org
  indexes new records a few seconds late;
- every record the runner creates carries the run's tag (:data:`TAG_FIELDS`, value
  ``callsim-XXXXXXXX``), and after each scenario, even a failing or interrupted one, every
  record created during it by the running user (tagged or written by the integration) is
  deleted; :meth:`ParityRunner.sweep_tagged` finds what an earlier run left behind;
- the API requests are counted from the ``Sforce-Limit-Info`` header of every answer.

Scenarios that need the fake's control API are skipped with the reason (:func:`skip_reason`):
those with ``faults:`` (Salesforce failing on purpose cannot be arranged on a real org), with
an ``org.order`` other than ``most_recent``, and with an org default country other than US (a
real org's own locale decides how it reads national numbers; the fake's default is US).
"""
from __future__ import annotations

import re
import secrets
import signal
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import SalesforceError

from simulator.core import phones
from simulator.core.api import sosl_escape
from simulator.core.matching import PHONE_FIELDS
from simulator.integrations import Builtin, Integration
from simulator.runner import ADMIN_REF, RunError, Runner, ScenarioResult, _Replay, _sf_message
from simulator.scenario import Scenario

#: The field of each sObject that carries the run's tag: standard, filterable, and read by
#: neither the logging core nor the scenario checks. A scenario that sets it itself keeps its value.
TAG_FIELDS = {"Account": "AccountNumber", "Contact": "Department", "Lead": "PostalCode",
              "Case": "SuppliedName", "Opportunity": "NextStep", "Event": "Location",
              "User": "Department"}
TAG_PREFIX = "callsim-"
#: Deleted in this order: children before the records they point to.
CLEANUP_ORDER = ("Task", "Event", "OpportunityContactRole", "Opportunity", "Case", "Contact", "Lead",
                 "Account")
AUDIT_FIELDS = ("CreatedDate", "LastModifiedDate", "CreatedById", "LastModifiedById", "SystemModstamp")
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")


def skip_reason(scenario: Scenario) -> str | None:
    """Why the scenario cannot run in parity mode, or None."""
    if scenario.faults:
        return "needs injected faults (faults:), which only the fake's control API can arm"
    if scenario.org.order != "most_recent":
        return (f"needs the org to answer in {scenario.org.order} order (org.order), which only "
                "the fake's control API sets")
    if scenario.org_default_country != "US":
        return (f"needs the org to read national numbers in {scenario.org_default_country} "
                "(org.default_country), which only the fake's control API sets; a real org has its own")
    return None


class ApiUsage:
    """The org's API usage as its answers report it (``Sforce-Limit-Info: api-usage=N/M``),
    the requests this client made, and the org's time (the ``Date`` header)."""

    def __init__(self):
        self.first: tuple[int, int] | None = None
        self.last: tuple[int, int] | None = None
        self.requests = 0
        self.server_time: datetime | None = None
        self._lock = threading.Lock()

    def hook(self, response, *args, **kwargs):
        with self._lock:
            self.requests += 1
            match = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
            if match:
                self.last = (int(match[1]), int(match[2]))
                self.first = self.first or self.last
            stamp = response.headers.get("Date")
            if stamp:
                try:
                    self.server_time = parsedate_to_datetime(stamp).astimezone(timezone.utc)
                except (TypeError, ValueError):
                    pass
        return response

    def summary(self) -> str:
        made = f"{self.requests} API request{'s' * (self.requests != 1)} made by this run"
        if self.last is None:
            return f"{made}; the org reported no API usage (no Sforce-Limit-Info header)"
        used, limit = self.last
        start = f" (was {self.first[0]} before the run)" if self.first else ""
        return f"{made}; the org's API usage is {used}/{limit} in the last 24 hours{start}"


class ParityRunner:
    """Runs scenarios against the org ``sf`` is logged into, through standard REST only.

    ``write_gap``: seconds between writes whose order must show in LastModifiedDate;
    ``index_timeout``: how long to wait for search to find a new record.
    """

    def __init__(self, sf: Salesforce, *, integration: Integration | None = None,
                 write_gap: float = 1.0, index_timeout: float = 60.0, run_id: str | None = None):
        self.sf = sf
        self.integration = integration or Builtin()
        if self.integration.needs_server:
            raise ValueError("parity mode runs integrations given a client (builtin or "
                             "module:function), not a web service")
        self.write_gap = write_gap
        self.index_timeout = index_timeout
        self.tag = TAG_PREFIX + (run_id or secrets.token_hex(4))
        self.usage = ApiUsage()
        sf.session.hooks.setdefault("response", []).append(self.usage.hook)
        self.control = None   # parity mode has no control API, by design
        self.recording = False
        self._fields: dict[str, set[str]] = {}
        self._user_id: str | None = None
        self._person_type: str | None = None
        self.deleted = 0
        self.leftovers: list[str] = []    # "Contact 003...: why it could not be deleted"

    # -- what the org is ------------------------------------------------------------------------
    def fields_of(self, sobject: str) -> set[str]:
        if sobject not in self._fields:
            try:
                described = getattr(self.sf, sobject).describe()
            except SalesforceError:
                described = {"fields": []}
            self._fields[sobject] = {f["name"] for f in described["fields"]}
        return self._fields[sobject]

    @property
    def user_id(self) -> str:
        """The Id of the user the run logged in as (``/services/oauth2/userinfo``)."""
        if self._user_id is None:
            url = f"https://{self.sf.sf_instance}/services/oauth2/userinfo"
            answer = self.sf.session.get(url, headers=self.sf.headers)
            if answer.status_code != 200:
                raise RunError(f"cannot tell who is logged in: GET {url} answered {answer.status_code}")
            self._user_id = answer.json()["user_id"]
        return self._user_id

    def person_record_type(self) -> str:
        if self._person_type is None:
            if "IsPersonType" not in self.fields_of("RecordType"):
                raise RunError("the org has no person accounts (RecordType.IsPersonType is unknown)")
            rows = self.sf.query("SELECT Id FROM RecordType WHERE SobjectType = 'Account' "
                                 "AND IsPersonType = true AND IsActive = true LIMIT 1")["records"]
            if not rows:
                raise RunError("the org has no active person-account record type")
            self._person_type = rows[0]["Id"]
        return self._person_type

    def server_now(self) -> datetime:
        """The org's time, to the second (from the last answer's ``Date``)."""
        if self.usage.server_time is None:
            self.sf.restful("limits/")
        return self.usage.server_time or datetime.now(timezone.utc)

    # -- running --------------------------------------------------------------------------------
    def run(self, scenario: Scenario) -> ScenarioResult:
        result = ScenarioResult(scenario)
        started = time.perf_counter()
        replay = _ParityReplay(self, scenario, result)
        try:
            replay.run()
        except RunError as e:
            result.error = str(e)
        except SalesforceError as e:
            result.error = f"the org refused a request: {_sf_message(e)}"
        finally:
            with _deferred_interrupt():
                replay.clean_up()
        result.seconds = time.perf_counter() - started
        return result

    run_all = Runner.run_all   # the same loop over ``run`` as on the fake

    def close(self) -> None:
        pass

    # -- deleting ---------------------------------------------------------------------------------
    def delete(self, ids_by_sobject: dict[str, set[str]]) -> None:
        """Delete records, children first, 200 at a time; what cannot be deleted is listed in
        ``leftovers`` (already deleted records, say by a cascade, count as deleted)."""
        for sobject in [*CLEANUP_ORDER, *sorted(set(ids_by_sobject) - set(CLEANUP_ORDER))]:
            ids = sorted(ids_by_sobject.get(sobject, ()))
            for start in range(0, len(ids), 200):
                chunk = ids[start:start + 200]
                try:
                    answers = self.sf.restful("composite/sobjects", method="DELETE",
                                              params={"ids": ",".join(chunk), "allOrNone": "false"})
                except SalesforceError as e:
                    self.leftovers += [f"{sobject} {i}: {_sf_message(e)}" for i in chunk]
                    continue
                for record_id, answer in zip(chunk, answers):
                    codes = {e.get("statusCode") for e in answer.get("errors") or []}
                    if answer.get("success") or codes <= {"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY"} and codes:
                        self.deleted += bool(answer.get("success"))
                    else:
                        messages = "; ".join(f"{e.get('statusCode')}: {e.get('message')}"
                                             for e in answer.get("errors") or [])
                        self.leftovers.append(f"{sobject} {record_id}: {messages}")

    def deactivate_users(self, ids) -> None:
        for user_id in sorted(ids):
            try:
                self.sf.User.update(user_id, {"IsActive": False})
            except SalesforceError as e:
                self.leftovers.append(f"User {user_id}: not deactivated: {_sf_message(e)}")

    def sweep_tagged(self, tag_prefix: str = TAG_PREFIX) -> dict[str, set[str]]:
        """Records carrying a tag of any callsim run (``callsim-...``): what an interrupted run
        left. Users are not included (they are deactivated, not deleted)."""
        found: dict[str, set[str]] = {}
        for sobject, field in TAG_FIELDS.items():
            if sobject == "User" or field not in self.fields_of(sobject):
                continue
            soql = format_soql(f"SELECT Id FROM {sobject} WHERE {field} LIKE {{}}", tag_prefix + "%")
            ids = {r["Id"] for r in self.sf.query_all(soql)["records"]}
            if ids:
                found[sobject] = ids
        return found


@contextmanager
def _deferred_interrupt():
    """Ctrl-C while cleaning up waits until the clean-up is done (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending = []

    def note(signum, frame):
        pending.append(signum)

    previous = signal.signal(signal.SIGINT, note)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if pending:
            raise KeyboardInterrupt


class _ParityReplay(_Replay):
    """One scenario's replay on an org without a control API."""

    runner: ParityRunner

    def __init__(self, runner: ParityRunner, scenario: Scenario, result: ScenarioResult):
        super().__init__(runner, scenario, result)
        self.created: dict[str, set[str]] = defaultdict(set)    # by the runner, per API sObject
        self.users: set[str] = set()
        self.started: datetime | None = None
        self.last_write = 0.0
        # (target LastModifiedDate, creation order, API sObject, Id, whether the scenario dated it)
        self.recency: list[tuple[str, int, str, str, bool]] = []

    # -- set-up ---------------------------------------------------------------------------------
    def run(self) -> None:
        reason = skip_reason(self.sc)
        if reason:
            raise RunError(f"skipped in parity mode: {reason}")
        super().run()

    def _begin(self) -> None:
        self.sf = self.runner.sf
        self.ids[ADMIN_REF] = self.runner.user_id
        self.sobjects[ADMIN_REF] = "User"
        # Records created from here on by the running user belong to this scenario.
        self.started = self.runner.server_now().replace(microsecond=0) - timedelta(seconds=1)

    def _move_clock(self, when) -> None:
        """The org's clock cannot be moved: the webhooks carry the scenario's times anyway."""

    def _requests_made(self) -> int:
        return self.runner.usage.requests

    def _org_today(self) -> date:
        return self.runner.server_now().date()

    def _created_scope(self) -> str:
        stamp = self.started.strftime("%Y-%m-%dT%H:%M:%SZ")
        return format_soql(" WHERE CreatedById = {}", self.runner.user_id) + f" AND CreatedDate >= {stamp}"

    def _seed_records(self, records, where: str = "org.records") -> None:
        super()._seed_records(records, where)
        if where == "org.records":
            self._arrange_recency()
        self._await_search(records)

    def _seed(self, items: list[dict], where: str) -> list[str]:
        ids: list[str] = []
        for i, item in enumerate(items):
            sobject, fields = item["sobject"], dict(item["fields"])
            for key, value in fields.items():
                if isinstance(value, str) and value[:1] == "@" and value[1:].isdigit():
                    fields[key] = ids[int(value[1:])]
            audit = {k: fields.pop(k) for k in AUDIT_FIELDS if k in fields}
            api_name = "Account" if sobject == "PersonAccount" else sobject
            if sobject == "PersonAccount":
                fields["RecordTypeId"] = self.runner.person_record_type()
            tag = TAG_FIELDS.get(api_name)
            if tag and tag not in fields and tag in self.runner.fields_of(api_name):
                fields[tag] = self.runner.tag
            try:
                if api_name == "User":
                    new_id = self._user(fields)
                else:
                    self._pace()
                    new_id = getattr(self.sf, api_name).create(fields)["id"]
                    self.created[api_name].add(new_id)
            except SalesforceError as e:
                raise RunError(f"{self.sc.path}: {where}: the org refused {sobject} #{i}: "
                               f"{_sf_message(e)}") from None
            ids.append(new_id)
            target = audit.get("LastModifiedDate") or audit.get("CreatedDate")
            self.recency.append((_instant(target) if target else _instant(self.sc.org.now), len(self.recency),
                                 api_name, new_id, bool(target)))
        return ids

    def _user(self, fields: dict) -> str:
        """A user for the scenario: one this tool made before for the same Email, or a new one
        whose Username is the Email and the run's tag (usernames are unique across every org)."""
        fields.pop("Username", None)
        if "ProfileId" in self.runner.fields_of("User") and "ProfileId" not in fields:
            me = self.sf.query(format_soql("SELECT ProfileId FROM User WHERE Id = {}", self.runner.user_id))
            fields["ProfileId"] = me["records"][0]["ProfileId"]
        # The Username keeps the Email the user was made with, whatever a scenario changed since.
        rows = self.sf.query(format_soql("SELECT Id FROM User WHERE Username LIKE {} ORDER BY Username",
                                         f"{fields.get('Email')}.{TAG_PREFIX}%"))["records"]
        if rows:
            user_id = rows[0]["Id"]
            self.sf.User.update(user_id, {"IsActive": True, **fields})
        else:
            fields["Username"] = f"{fields.get('Email')}.{self.runner.tag}"
            user_id = self.sf.User.create(fields)["id"]
        self.users.add(user_id)
        return user_id

    def _arrange_recency(self) -> None:
        """Save the records again, oldest first, when the scenario dates any of them: the most
        recently updated one is then the one the scenario means."""
        if not any(explicit for *_, explicit in self.recency):
            return
        for _, _, api_name, record_id, _ in sorted(self.recency):
            if api_name == "User":
                continue
            self._pace()
            getattr(self.sf, api_name).update(record_id, {})

    def _pace(self) -> None:
        """Keep ``write_gap`` seconds between ordered writes."""
        wait = self.last_write + self.runner.write_gap - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.last_write = time.monotonic()

    def _await_search(self, records) -> None:
        for record in records:
            if record.fields.get("IsConverted"):   # search leaves converted Leads out
                continue
            self._await_indexed(record.sobject, record.fields, self.ids[record.ref])

    def _await_indexed(self, kind: str, fields: dict, record_id: str) -> None:
        """Wait until search finds a new or changed record by its phone numbers, as the core looks."""
        api_name = "Account" if kind == "PersonAccount" else kind
        names = PHONE_FIELDS.get(kind, ()) + (("Phone",) if kind == "PersonAccount" else ())
        numbers = {phones.to_e164(str(fields[f])) for f in names if fields.get(f)}
        for number in sorted(n for n in numbers if n):
            self._await_found(number, api_name, record_id)

    def _await_found(self, number: str, api_name: str, record_id: str) -> None:
        sosl = f"FIND {{{sosl_escape(number)}}} IN PHONE FIELDS RETURNING {api_name}(Id)"
        deadline = time.monotonic() + self.runner.index_timeout
        while True:
            found = self.sf.search(sosl).get("searchRecords", [])
            if any(r["Id"] == record_id for r in found):
                return
            if time.monotonic() > deadline:
                raise RunError(f"{self.sc.path}: search did not find {api_name} {record_id} by "
                               f"{number} within {self.runner.index_timeout:g} s")
            time.sleep(1.0)

    def _update(self, event, out) -> None:
        self._pace()
        super()._update(event, out)
        if event.ref in self.sobjects and not out.error:
            self._await_indexed(self.sobjects[event.ref], event.fields, self.ids[event.ref])

    # -- cleaning up ------------------------------------------------------------------------------
    def clean_up(self) -> None:
        """Delete what the runner created and what the running user created since the scenario
        began (the integration's records); deactivate the scenario's users."""
        if self.started is None:
            return
        doomed: dict[str, set[str]] = defaultdict(set)
        for sobject, ids in self.created.items():
            doomed[sobject] |= ids
        for sobject in CLEANUP_ORDER:
            if "CreatedById" not in self.runner.fields_of(sobject):
                continue
            where = self._created_scope()
            if sobject == "Contact" and "IsPersonAccount" in self.runner.fields_of("Contact"):
                where += " AND IsPersonAccount = false"   # deleted with its person account
            try:
                rows = self.sf.query_all(f"SELECT Id FROM {sobject}{where}")["records"]
            except SalesforceError as e:
                self.runner.leftovers.append(f"{sobject}: could not look for records: {_sf_message(e)}")
                continue
            doomed[sobject] |= {r["Id"] for r in rows}
        self.runner.delete(doomed)
        self.runner.deactivate_users(self.users)


def _instant(value: Any) -> str:
    """A sortable UTC text for a datetime given as a datetime or ISO 8601 text."""
    if not isinstance(value, datetime):
        text = str(value).strip()
        value = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
