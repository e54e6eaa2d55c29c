"""The call-logging integration: one webhook delivery in, Salesforce records and a Task out.

``CallLogger(sf, settings).handle(webhook)`` applies the rules of ``docs/rules.md`` in
order: the call workflow (R1), business hours (R2), anonymous callers (R3.6), the Task
already logged for the call (R8.1, R8.2), the record owning the number (R4) or the one
created for it (R3), the Contact's Case or Opportunity (R5), then the Task itself (R6, R7).

Logging a call that matches a Contact, with no related record, costs three requests once
the org's users and Account description are cached: the SOSL search, the Task lookup by
CallObject and the Task create. A redelivered call costs one (the lookup).
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from simple_salesforce import Salesforce, format_soql

from . import matching, related as related_records, state, task as tasks
from .api import RetryPolicy, SalesforceApi
from .errors import SalesforceWriteError, SettingsError
from .events import CallEvent, Event, IgnoredEvent, MessageEvent, parse_webhook
from .outcome import Outcome, RecordRef, sobject_of
from .settings import Action, LogOnRelated, Settings, UnknownNumber
from .text import merge_description

_USER_ID = re.compile(r"^005[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$")
_LOCK_STRIPES = 64


@dataclass
class _OrgCache:
    person_accounts: bool
    users_by_email: dict[str, str]
    users_by_username: dict[str, str]
    loaded_at: float


@dataclass
class _Written:
    """Records created during one delivery, deleted again if a later step fails for good."""

    records: list[RecordRef] = field(default_factory=list)


class CallLogger:
    """Logs Aircall webhook deliveries into the org behind ``sf``.

    One logger caches the org's active users (for Task owners, R6.10) and whether it has
    person accounts, for ``cache_ttl`` seconds (``None``: until :meth:`refresh`). It is safe
    to share between threads; deliveries of the same call are handled one at a time.
    """

    def __init__(self, sf: Salesforce, settings: Settings | None = None, *,
                 retry: RetryPolicy | None = None, cache_ttl: float | None = 900.0,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self.sf = sf
        self.settings = settings or Settings()
        self.retry = retry or RetryPolicy()
        self.cache_ttl = cache_ttl
        self._sleep = sleep
        self._clock = clock
        self._cache: _OrgCache | None = None
        self._cache_lock = threading.Lock()
        self._locks = [threading.Lock() for _ in range(_LOCK_STRIPES)]

    # Caches --------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Forget the cached users and org description; the next delivery reloads them."""
        with self._cache_lock:
            self._cache = None

    def warm_up(self) -> int:
        """Load the caches now; returns the number of requests it took."""
        api = self._api()
        self._org(api)
        return api.requests

    def _org(self, api: SalesforceApi) -> _OrgCache:
        with self._cache_lock:
            cache = self._cache
            if cache is not None and (self.cache_ttl is None
                                      or self._clock() - cache.loaded_at < self.cache_ttl):
                return cache
            described = api.describe("Account")
            names = {f.get("name") for f in described.get("fields") or []}
            by_email: dict[str, str] = {}
            by_username: dict[str, str] = {}
            for user in api.query_all("SELECT Id, Email, Username FROM User WHERE IsActive = true"):
                if user.get("Email"):
                    by_email.setdefault(user["Email"].strip().lower(), user["Id"])
                if user.get("Username"):
                    by_username.setdefault(user["Username"].strip().lower(), user["Id"])
            self._cache = _OrgCache(person_accounts="IsPersonAccount" in names,
                                    users_by_email=by_email, users_by_username=by_username,
                                    loaded_at=self._clock())
            return self._cache

    def _owner(self, api: SalesforceApi, event: Event) -> str | None:
        """The Task owner (R6.10): the active User with the agent's email, else the
        integration owner, else None (Salesforce then assigns the API user)."""
        org = self._org(api)
        email = event.user.email if event.user else None
        if email and email.lower() in org.users_by_email:
            return org.users_by_email[email.lower()]
        owner = self.settings.integration_owner
        if owner is None:
            return None
        if _USER_ID.match(owner):
            return owner
        found = org.users_by_email.get(owner.lower()) or org.users_by_username.get(owner.lower())
        if found is None:
            raise SettingsError(f"settings.integration_owner: no active Salesforce User has the "
                                f"email or username {owner!r}", path="settings.integration_owner")
        return found

    # Entry points --------------------------------------------------------------------------

    def _api(self) -> SalesforceApi:
        return SalesforceApi(self.sf, self.retry, self._sleep)

    def handle(self, webhook: Mapping[str, Any]) -> Outcome:
        """Validate and log one webhook delivery (raises InvalidEvent before any request)."""
        return self.log(parse_webhook(webhook, self.settings.default_country))

    def log(self, event: Event) -> Outcome:
        """Log one parsed event."""
        api = self._api()
        outcome = Outcome(event=event.event, key=event.key, logged=False,
                          call_type=event.call_type if isinstance(event, CallEvent) else None)
        if isinstance(event, IgnoredEvent):
            outcome.task_action = "ignored"
            outcome.reason = f"ignored: {event.event} changes nothing in Salesforce"
            return outcome
        try:
            return self._log(api, event, outcome)
        finally:
            outcome.requests = api.requests

    def _log(self, api: SalesforceApi, event: Event, outcome: Outcome) -> Outcome:
        if event.anonymous:
            return _skip(outcome, "R3.6", "anonymous caller: no record can own the number")
        with self._locks[hash(event.key) % _LOCK_STRIPES]:
            existing = tasks.find_task(api, event.key)
            if existing is not None:
                return self._update(api, event, existing, outcome)
            action = None
            if isinstance(event, CallEvent):
                # The workflow and business hours are judged when the Task is created; later
                # events of the call complete it whatever they say (docs/rules.md, R8.6).
                action = self.settings.action_for(event.call_type)
                if action is Action.DO_NOTHING:
                    return _skip(outcome, "R1.5", f"{event.call_type.value} calls are set to do_nothing")
                if event.closed and not self.settings.log_when_closed:
                    return _skip(outcome, "R2.2", f"the number {event.number.name!r} was closed and "
                                                  f"log_when_closed is false")
            return self._create(api, event, action, outcome)

    # A Task exists: later event or redelivery ----------------------------------------------

    def _update(self, api: SalesforceApi, event: Event, existing: tasks.ExistingTask,
                outcome: Outcome) -> Outcome:
        if isinstance(event, CallEvent):
            wanted = self._call_update(api, event, existing)
        else:
            wanted = {"Description": tasks.message_description(event)}
        outcome.logged = True
        outcome.task_id = existing.id
        outcome.record, outcome.related = _refs_of(existing)
        changed = {k: v for k, v in wanted.items() if not _same(v, existing.fields.get(k))}
        outcome.status = changed.get("Status", existing.status)
        if not changed:
            outcome.task_action = "unchanged"
            outcome.reason = "already logged (redelivery): nothing to change"
            return outcome
        api.update("Task", existing.id, changed)
        outcome.task_action = "updated"
        outcome.reason = f"Task brought up to date by a later event ({', '.join(sorted(changed))})"
        return outcome

    def _call_update(self, api: SalesforceApi, event: CallEvent, existing: tasks.ExistingTask) -> dict:
        """The Task's call fields for everything known so far: the merged call (R8.2)."""
        include = self.settings.include_recording
        visible, logged = state.split(existing.description)
        merged = state.merge(logged.call if logged else None, event)
        if logged is not None and visible == tasks.call_description(logged.call, include).render():
            text = tasks.call_description(merged, include).render()
        else:  # written by hand or by an older version: keep it, add what it lacks
            text = merge_description(visible or None, tasks.call_description(merged, include)) or ""
        status = existing.status
        action = self.settings.action_for(merged.call_type)
        if logged is not None and existing.status == logged.status and action is not Action.DO_NOTHING:
            status = tasks.STATUS[action]  # follows the call type unless changed in Salesforce
        label = logged.record if logged else _record_name(api, existing, event)
        return tasks.call_fields(merged, label, status, text, include)

    # No Task yet ---------------------------------------------------------------------------

    def _create(self, api: SalesforceApi, event: Event, action: Action | None,
                outcome: Outcome) -> Outcome:
        org = self._org(api)
        owner = self._owner(api, event)
        written = _Written()
        try:
            record = matching.find_record(api, event.external, org.person_accounts,
                                          self.settings.default_country)
            if record is None:
                record = self._unknown(api, event, org, written)
                if record is None:
                    return _skip(outcome, "R3.5", f"no record owns {event.external} and "
                                                  f"unknown_number is do_nothing")
            outcome.record = record
            related = self._related(api, event, record, written)
            outcome.related = related
            fields = tasks.task_fields(event, record, related, owner, action,
                                       self.settings.include_recording)
            outcome.task_id = api.create("Task", fields, recheck=lambda: _task_id(api, event.key))
        except SalesforceWriteError as exc:
            if not exc.transient:
                self._undo(api, written, exc)
            raise
        outcome.logged = True
        outcome.task_action = "created"
        outcome.status = fields["Status"]
        outcome.reason = f"logged on {record.kind} {record.id}"
        return outcome

    def _unknown(self, api: SalesforceApi, event: Event, org: _OrgCache,
                 written: _Written) -> RecordRef | None:
        """The record for a number nobody owns (R3): reuse one made by an earlier attempt at
        this delivery, else create it as the settings say."""
        setting = self.settings.unknown_number
        if setting is UnknownNumber.DO_NOTHING:
            return None
        sobject = matching.CREATES[setting]
        found = matching.find_created(api, sobject, event.external, org.person_accounts)
        if found is not None:
            return found
        record = matching.create_record(api, sobject, event.external, event.contact,
                                        org.person_accounts)
        written.records.append(record)
        return record

    def _related(self, api: SalesforceApi, event: Event, record: RecordRef,
                 written: _Written) -> RecordRef | None:
        """The Contact's open Case or Opportunity (R5); a new Case if settings ask (R5.5)."""
        setting = self.settings.log_on_related
        if setting is LogOnRelated.NONE or record.sobject != "Contact" or record.person_account:
            return None
        if setting is LogOnRelated.OPPORTUNITY:
            return related_records.find_open_opportunity(api, record.id)
        case = related_records.find_open_case(api, record.id)
        if case is None and self.settings.create_case:
            label = tasks.record_label(record, event)
            case = related_records.create_case(api, record.id, tasks.subject(event, label))
            written.records.append(case)
        return case

    def _undo(self, api: SalesforceApi, written: _Written, error: SalesforceWriteError) -> None:
        """Delete what this delivery created before a permanent failure (R8.3)."""
        for record in reversed(written.records):
            try:
                api.delete(record.sobject, record.id)
            except SalesforceWriteError as exc:
                error.add_note(f"could not delete the {record.sobject} {record.id} created "
                               f"before the failure: {exc}")


def _task_id(api: SalesforceApi, key: str) -> str | None:
    found = tasks.find_task(api, key, retried=False)
    return found.id if found else None


def _refs_of(existing: tasks.ExistingTask) -> tuple[RecordRef | None, RecordRef | None]:
    who, what = existing.who_id, existing.what_id
    who_type, what_type = sobject_of(who), sobject_of(what)
    if what and what_type == "Account":
        return RecordRef("Account", what, person_account=bool(who),
                         person_contact_id=who if who else None), None
    record = RecordRef(who_type or "Contact", who) if who else None
    related = RecordRef(what_type or "Case", what) if what else None
    return record, related


def _same(wanted: Any, found: Any) -> bool:
    if isinstance(wanted, (int, float)) and isinstance(found, (int, float)):
        return float(wanted) == float(found)
    return (wanted or None) == (found or None)


def _record_name(api: SalesforceApi, existing: tasks.ExistingTask, event: CallEvent) -> str:
    """The name of the Task's record, read again when the Task has no state line (its
    Description was replaced in Salesforce); the caller's number when it has none."""
    record_id = existing.what_id if sobject_of(existing.what_id) == "Account" else existing.who_id
    sobject = sobject_of(record_id)
    if sobject in ("Account", "Contact", "Lead"):
        found = api.first(format_soql(f"SELECT Name FROM {sobject} WHERE Id = {{}}", record_id))
        if found and found.get("Name"):
            return found["Name"]
    return event.external or event.raw_digits


def _skip(outcome: Outcome, rule: str, reason: str) -> Outcome:
    outcome.logged = False
    outcome.rule = rule
    outcome.reason = reason
    return outcome


def log_event(sf: Salesforce, settings: Settings | None, event: Mapping[str, Any] | Event,
              **options: Any) -> Outcome:
    """Log one webhook delivery (a dict) or parsed event with a one-off :class:`CallLogger`.

    ``options`` go to CallLogger (``retry``, ``sleep`` ...). Prefer one long-lived
    CallLogger for many events: it caches the org's users.
    """
    logger = CallLogger(sf, settings, **options)
    if isinstance(event, (CallEvent, MessageEvent, IgnoredEvent)):
        return logger.log(event)
    return logger.handle(event)
