"""The core's only door to Salesforce: a thin layer over ``simple_salesforce.Salesforce``.

It uses what any org offers (SOSL, SOQL, sObject REST, describe), counts the requests it
makes, retries transient failures with exponential back-off, and turns every other failure
into a typed :class:`SalesforceWriteError` carrying Salesforce's errorCode.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError

from .errors import SalesforceUnavailable, SalesforceWriteError

T = TypeVar("T")

# Worth a retry: a record locked by another transaction, a server briefly down, the org's
# API limit (it resets; meanwhile the delivery is answered 503 so that Aircall delivers it again).
TRANSIENT_CODES = frozenset({"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED"})

# Seconds to wait for Salesforce to connect and to answer, on every request the core makes.
DEFAULT_TIMEOUT = (5.0, 30.0)

SOSL_RESERVED = frozenset('?&|!{}[]()^~*:\\"\'+-')


def sosl_escape(term: str) -> str:
    """Escape the characters SOSL reserves inside ``FIND {...}`` with a backslash."""
    return "".join("\\" + c if c in SOSL_RESERVED else c for c in term)


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures are retried: ``attempts`` tries in all, waiting
    ``base_delay * 2**n`` seconds (at most ``max_delay``) before retry ``n + 1``."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0

    def __post_init__(self):
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts: expected at least 1, got {self.attempts}")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("RetryPolicy delays must not be negative")

    def delay(self, retry: int) -> float:
        return min(self.max_delay, self.base_delay * (2 ** retry))


def _first_error(content: Any) -> dict:
    if isinstance(content, (bytes, bytearray)):
        content = content.decode("utf-8", "replace")
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError:
            return {"message": content.strip()[:500]}
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return content[0]
    if isinstance(content, dict):
        return content
    return {"message": str(content)[:500]}


def classify(exc: BaseException) -> tuple[bool, str, str, int | None, list[str]]:
    """(transient, errorCode, message, HTTP status, fields) of a failed request."""
    if isinstance(exc, requests.Timeout):
        return True, "TIMEOUT", str(exc) or "request timed out", None, []
    if isinstance(exc, requests.ConnectionError):
        return True, "CONNECTION_ERROR", str(exc) or "connection failed", None, []
    if isinstance(exc, SalesforceError):
        error = _first_error(exc.content)
        status = exc.status
        code = str(error.get("errorCode") or error.get("error") or f"HTTP_{status}")
        message = str(error.get("message") or error.get("error_description") or "")
        fields = [str(f) for f in error.get("fields") or []]
        transient = code in TRANSIENT_CODES or (status is not None and status >= 500)
        return transient, code, message, status, fields
    raise exc


def with_timeout(sf: Salesforce, timeout: float | tuple[float, float] | None = None) -> Salesforce:
    """Give every request of ``sf``'s session a timeout unless the request sets one: a hung
    Salesforce must not hold a receiver thread forever (simple-salesforce sets none).
    ``timeout=None`` keeps a timeout given before, else DEFAULT_TIMEOUT."""
    session = getattr(sf, "session", None)
    if not isinstance(session, requests.Session):
        return sf
    if getattr(session, "_callsim_timeout", None) is None:
        send = session.request

        def request(method, url, **kwargs):
            kwargs.setdefault("timeout", session._callsim_timeout)
            return send(method, url, **kwargs)

        session.request = request
        session._callsim_timeout = DEFAULT_TIMEOUT
    if timeout is not None:
        session._callsim_timeout = timeout
    return sf


class SalesforceApi:
    """Requests to one org for one delivery; ``requests`` counts every HTTP request made."""

    def __init__(self, sf: Salesforce, retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 timeout: float | tuple[float, float] | None = None):
        self.sf = sf
        with_timeout(sf, timeout)
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.requests = 0

    def _once(self, fn: Callable[[], T]) -> T:
        self.requests += 1
        return fn()

    def _call(self, operation: str, fn: Callable[[], T],
              before_retry: Callable[[], T | None] | None = None) -> T:
        """Run ``fn``, retrying transient failures. ``before_retry`` may find that a failed
        attempt did take effect (a create whose answer was lost) and return its result."""
        for attempt in range(self.retry.attempts):
            try:
                return self._once(fn)
            except (SalesforceError, requests.ConnectionError, requests.Timeout) as exc:
                transient, code, message, status, fields = classify(exc)
                if not transient:
                    raise SalesforceWriteError(operation, code, message, status=status,
                                               fields=fields) from exc
                if attempt + 1 >= self.retry.attempts:
                    raise SalesforceUnavailable(
                        operation, code, f"{message} (gave up after {self.retry.attempts} attempts)",
                        status=status, fields=fields) from exc
            self.sleep(self.retry.delay(attempt))
            if before_retry is not None:
                found = self._recheck(operation, before_retry)
                if found is not None:
                    return found
        raise AssertionError("unreachable")  # pragma: no cover

    def _recheck(self, operation: str, check: Callable[[], T | None]) -> T | None:
        """``check``'s definite answer: the result of an attempt whose answer was lost, or None
        when it surely did not take effect. A check that keeps failing is no answer: rather than
        guess "not found" (and write twice), give up with SalesforceUnavailable, so that the
        delivery is answered 5xx and comes again."""
        for attempt in range(self.retry.attempts):
            try:
                return check()
            except (SalesforceError, requests.ConnectionError, requests.Timeout) as exc:
                transient, code, message, status, fields = classify(exc)
                if not transient or attempt + 1 >= self.retry.attempts:
                    raise SalesforceUnavailable(
                        operation, code, f"could not tell whether an earlier attempt took effect: "
                                         f"{message}", status=status, fields=fields) from exc
            self.sleep(self.retry.delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    # Reads ---------------------------------------------------------------------------------

    def search(self, sosl: str) -> list[dict]:
        """The records a SOSL search returns, in Salesforce's order."""
        result = self._call("search", lambda: self.sf.search(sosl))
        if result is None:
            return []
        if isinstance(result, dict):
            return list(result.get("searchRecords") or [])
        return list(result)

    def query(self, soql: str) -> list[dict]:
        """The first page of a SOQL query's records (use LIMIT for small answers)."""
        result = self._call("query", lambda: self.sf.query(soql))
        return list(result.get("records") or [])

    def query_all(self, soql: str) -> list[dict]:
        """All records of a SOQL query, following ``nextRecordsUrl``."""
        result = self._call("query", lambda: self.sf.query(soql))
        records = list(result.get("records") or [])
        while not result.get("done", True) and result.get("nextRecordsUrl"):
            url = result["nextRecordsUrl"]
            result = self._call("query", lambda: self.sf.query_more(url, identifier_is_url=True))
            records.extend(result.get("records") or [])
        return records

    def raw_query(self, soql: str) -> list[dict]:
        """One query attempt, counted but not retried (used inside retry checks)."""
        return list(self._once(lambda: self.sf.query(soql)).get("records") or [])

    def first(self, soql: str, *, retried: bool = True) -> dict | None:
        """The first record of a query, or None; ``retried=False`` inside retry checks."""
        records = self.query(soql) if retried else self.raw_query(soql)
        return records[0] if records else None

    def describe(self, sobject: str) -> dict:
        return self._call(f"describe {sobject}", lambda: getattr(self.sf, sobject).describe())

    # Writes --------------------------------------------------------------------------------

    def create(self, sobject: str, fields: dict, recheck: Callable[[], str | None] | None = None) -> str:
        """Create a record and return its Id. ``recheck`` looks for a record an attempt may
        have created before its answer was lost, so that a retry never duplicates it."""
        operation = f"create {sobject}"

        def attempt() -> str:
            result = getattr(self.sf, sobject).create(fields)
            if not isinstance(result, dict) or not result.get("id"):
                raise SalesforceWriteError(operation, "UNEXPECTED_RESPONSE",
                                           f"no record Id in the answer: {result!r}"[:500])
            if result.get("success") is False:
                error = _first_error(result.get("errors"))
                raise SalesforceWriteError(operation, str(error.get("statusCode") or error.get(
                    "errorCode") or "UNKNOWN"), str(error.get("message") or ""))
            return str(result["id"])

        return self._call(operation, attempt, before_retry=recheck)

    def update(self, sobject: str, record_id: str, fields: dict) -> None:
        self._call(f"update {sobject} {record_id}",
                   lambda: getattr(self.sf, sobject).update(record_id, fields))

    def delete(self, sobject: str, record_id: str) -> None:
        """Delete a record; one already gone (a retried delete that had worked) is fine."""
        try:
            self._call(f"delete {sobject} {record_id}",
                       lambda: getattr(self.sf, sobject).delete(record_id))
        except SalesforceWriteError as exc:
            if exc.error_code not in ("ENTITY_IS_DELETED", "NOT_FOUND"):
                raise
