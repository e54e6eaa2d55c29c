"""Fault injection: make the fake org misbehave as a real one does, on purpose.

A fault rule names the requests it hits (a path pattern and a method) and what happens to them:

- ``error``: answer ``status`` with Salesforce's error body for ``error_code`` (503
  SERVER_UNAVAILABLE, 400 UNABLE_TO_LOCK_ROW, 403 REQUEST_LIMIT_EXCEEDED, 401 INVALID_SESSION_ID ...),
  without running the request;
- ``lose_answer``: run the request (a write commits) and close the connection without answering;
- ``latency``: wait ``seconds`` then answer normally;
- ``hang``: wait ``seconds`` (default 30) then close the connection without answering;
- ``drop``: close the connection without running the request.

It hits the next ``times`` matching requests, or each one with ``probability`` drawn from a
generator seeded with ``seed`` (reproducible for one sequence of requests). Rules come from
``fake-salesforce serve --faults FILE`` (YAML or JSON: ``faults: [...]``), the control API
(``GET|POST|DELETE /_fake/faults``) or a scenario's ``faults:`` key. The control API itself is
never faulted.

Closing the connection: under the served fake the socket is closed with no answer (the client
sees a reset); through the in-process transport the client gets ``requests.ConnectionError``.
"""
from __future__ import annotations

import errno
import fnmatch
import random
import threading
import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from . import errors, urls
from .api.http import ERROR_CODE, json_response

FAULTS = "fake_salesforce.faults"  # app.config key: the app's Faults
KINDS = ("error", "lose_answer", "latency", "hang", "drop")
_DEFAULT_STATUS = {"SERVER_UNAVAILABLE": 503, "UNABLE_TO_LOCK_ROW": 400, "REQUEST_LIMIT_EXCEEDED": 403,
                   "INVALID_SESSION_ID": 401}


class FaultRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field("*", description="glob pattern on the request path, e.g. /services/data/*/sobjects/Task*")
    method: str = "*"
    kind: Literal["error", "lose_answer", "latency", "hang", "drop"] = "error"
    status: int | None = Field(None, ge=400, le=599)
    error_code: str = "SERVER_UNAVAILABLE"
    message: str | None = None
    seconds: float = Field(0.0, ge=0, le=600)
    times: int | None = Field(None, ge=1)
    probability: float | None = Field(None, gt=0, le=1)
    seed: int | str = 0

    @model_validator(mode="after")
    def _defaults(self):
        if self.status is None:
            self.status = _DEFAULT_STATUS.get(self.error_code, 503)
        if self.kind == "hang" and not self.seconds:
            self.seconds = 30.0
        if self.times is None and self.probability is None:
            self.times = 1
        return self


class ConnectionDropped(ConnectionResetError):
    """Raised to close the client's connection without an answer."""

    def __init__(self):
        super().__init__(errno.ECONNRESET, "connection dropped by an injected fault")


def parse_rules(items) -> list[FaultRule]:
    """Rules from a list of mappings; a bad rule is INVALID_PARAMETER_VALUE naming what is wrong."""
    if not isinstance(items, list):
        raise errors.InvalidParameterValue("faults: expected a list of fault rules")
    rules = []
    for i, item in enumerate(items):
        try:
            rules.append(FaultRule.model_validate(item))
        except ValidationError as e:
            problem = e.errors()[0]
            where = ".".join(str(p) for p in problem["loc"])
            raise errors.InvalidParameterValue(f"faults[{i}]{'.' + where if where else ''}: {problem['msg']}") from None
    return rules


class _Armed:
    def __init__(self, rule: FaultRule):
        self.rule = rule
        self.left = rule.times
        self.random = random.Random(str(rule.seed))
        self.hits = 0

    def matches(self, method: str, path: str) -> bool:
        rule = self.rule
        return (rule.method in ("*", method.upper()) or rule.method.upper() == method.upper()) \
            and fnmatch.fnmatchcase(path.rstrip("/") or "/", rule.path)

    def fire(self) -> bool:
        """Whether this matching request is hit (counts it down)."""
        if self.rule.probability is not None:
            if self.random.random() >= self.rule.probability:
                return False
            if self.left is None:
                self.hits += 1
                return True
        if self.left is not None:
            if self.left <= 0:
                return False
            self.left -= 1
        self.hits += 1
        return True


class Faults:
    """The armed rules of one app, and the WSGI middleware that applies them."""

    def __init__(self, sleep=time.sleep):
        self._rules: list[_Armed] = []
        self._lock = threading.Lock()
        self.sleep = sleep

    def set(self, rules: list[FaultRule]) -> None:
        with self._lock:
            self._rules = [_Armed(r) for r in rules]

    def add(self, rules: list[FaultRule]) -> None:
        with self._lock:
            self._rules.extend(_Armed(r) for r in rules)

    def clear(self) -> None:
        self.set([])

    def state(self) -> list[dict]:
        with self._lock:
            return [{**a.rule.model_dump(), "left": a.left, "hits": a.hits} for a in self._rules]

    def pick(self, method: str, path: str) -> FaultRule | None:
        if path.startswith(urls.CONTROL + "/") or path == urls.CONTROL:
            return None
        with self._lock:
            for armed in self._rules:
                if armed.matches(method, path) and armed.fire():
                    return armed.rule
        return None

    def wrap(self, wsgi_app):
        def faulted(environ, start_response):
            rule = self._rules and self.pick(environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""))
            if not rule:
                return wsgi_app(environ, start_response)
            if rule.kind == "latency":
                self.sleep(rule.seconds)
                return wsgi_app(environ, start_response)
            if rule.kind == "hang":
                self.sleep(rule.seconds)
                raise ConnectionDropped()
            if rule.kind == "drop":
                raise ConnectionDropped()
            if rule.kind == "lose_answer":
                body = wsgi_app(environ, start_response)  # recorded (request log), never sent
                try:
                    for _ in body:
                        pass
                finally:
                    close = getattr(body, "close", None)
                    if close:
                        close()
                raise ConnectionDropped()
            environ[ERROR_CODE] = rule.error_code
            message = rule.message or f"Injected fault: {rule.error_code}"
            response = json_response([{"message": message, "errorCode": rule.error_code}], rule.status)
            return response(environ, start_response)
        return faulted
