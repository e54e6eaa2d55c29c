"""The integration a scenario run tests: our core, a Python callable, or a running web service.

``callsim run --integration TARGET`` picks one:

- ``builtin``: the logging core (``simulator.core.CallLogger``);
- ``module:function``: a callable ``(sf, webhook) -> None``, or a class whose instances have
  ``handle(sf, webhook)``, imported with the current directory on ``sys.path``; ``sf`` is a
  logged-in simple-salesforce client on the scenario's org;
- ``http://host:port/path``: a service that receives Aircall webhooks. Each event is POSTed as
  JSON, the token in the body as Aircall sends it; a 5xx answer or a timeout is retried, any
  other non-2xx answer is a refusal. The runner then waits until the org settles (no API request
  for ``quiet`` seconds) before the next event and before the checks.

A foreign integration returns no :class:`~simulator.core.Outcome`; the runner names each Task by
the event during which it appeared.
"""
from __future__ import annotations

import importlib
import inspect
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable, Protocol
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from simulator.core import CallLogger, CoreError, Outcome, RetryPolicy, Settings
from simulator.core.errors import InvalidEvent, SalesforceWriteError, SettingsError
from simulator.core.receiver import DATA_ERROR_CODES

#: The environment variable naming the handshake file, for a service to read (the README says so).
HANDSHAKE_VAR = "CALLSIM_HANDSHAKE"


class IntegrationError(Exception):
    """TARGET cannot be used: a module not found, not callable, an unreachable URL."""


class Refused(Exception):
    """The integration refused one delivery (raised an exception, or answered 4xx/5xx).

    ``transient``: the refusal may not be final (a 5xx, no answer, Salesforce unavailable), so
    Aircall would deliver the webhook again; a 4xx or an invalid event is final."""

    def __init__(self, message: str, *, transient: bool = True):
        super().__init__(message)
        self.transient = transient


class Integration(Protocol):
    """What the runner needs: one delivery at a time, then a settled org."""

    name: str
    needs_server: bool     # True: the org must listen on a port the integration can reach

    def bind(self, sf, settings: Settings) -> Callable[..., Outcome | None]:
        """A function delivering one webhook to the integration for this scenario:
        ``deliver(webhook, once=False)``; ``once``: a single attempt, the caller retries."""

    def settle(self, requests_made: Callable[[], int]) -> None:
        """Return once the org has stopped changing after a delivery."""


class Builtin:
    """Our logging core, in-process."""

    name = "builtin"
    needs_server = False

    def bind(self, sf, settings):
        logger = CallLogger(sf, settings, retry=RetryPolicy(attempts=3, base_delay=0.0))

        def deliver(webhook, once=False):
            try:
                return logger.handle(webhook)
            except CoreError as e:
                raise Refused(f"{type(e).__name__}: {e}", transient=_transient(e)) from None
        return deliver

    def settle(self, requests_made):
        return None


class PythonCallable:
    """``module:function`` or ``module:Class`` (instantiated once, its ``handle`` called)."""

    needs_server = False

    def __init__(self, target: str):
        self.name = target
        module_name, _, attr = target.partition(":")
        if not module_name or not attr:
            raise IntegrationError(f"{target!r}: expected module:function")
        if str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            raise IntegrationError(f"{target!r}: module {e.name!r} not found "
                                   f"(looked in {Path.cwd()} and on sys.path)") from None
        except Exception as e:
            raise IntegrationError(f"{target!r}: importing {module_name} failed: "
                                   f"{type(e).__name__}: {e}") from None
        try:
            obj = getattr(module, attr)
        except AttributeError:
            raise IntegrationError(f"{target!r}: {module_name} has no attribute {attr!r}") from None
        if inspect.isclass(obj):
            handle = getattr(obj, "handle", None)
            if not callable(handle):
                raise IntegrationError(f"{target!r}: class {attr} has no handle(sf, webhook) method")
            self._make = lambda: obj().handle
        elif callable(obj):
            self._make = lambda: obj
        else:
            raise IntegrationError(f"{target!r}: {attr} is a {type(obj).__name__}, not callable")

    def bind(self, sf, settings):
        handle = self._make()

        def deliver(webhook, once=False):
            try:
                handle(sf, webhook)
            except Exception as e:  # a web service would answer 500: Aircall delivers it again
                raise Refused(f"{type(e).__name__}: {e}") from None
            return None
        return deliver

    def settle(self, requests_made):
        return None


class WebService:
    """A running service at an http(s) URL, sent each webhook as Aircall sends it."""

    needs_server = True

    def __init__(self, url: str, *, quiet: float = 0.5, timeout: float = 10.0, retries: int = 3,
                 settle_timeout: float = 30.0, handshake: Path = Path("callsim-org.json"),
                 token: str = ""):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise IntegrationError(f"{url!r}: not an http(s) URL")
        self.name = url
        self.url = url
        self.quiet = quiet
        self.timeout = timeout
        self.settle_timeout = settle_timeout
        self.handshake = Path(handshake)
        self.token = token
        self.ca_file: str | None = None   # the org's certificate, set by whoever serves the org
        self.session = requests.Session()
        retry = Retry(total=retries, connect=retries, read=retries, status=retries,
                      backoff_factor=0.1, status_forcelist=(500, 502, 503, 504),
                      allowed_methods=None, raise_on_status=False)
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))

    def check_reachable(self) -> None:
        """A connection refused or a bad host fails here, before any scenario runs."""
        try:
            requests.head(self.url, timeout=self.timeout)
        except requests.exceptions.RequestException as e:
            raise IntegrationError(f"cannot reach the integration at {self.url}: "
                                   f"{_innermost(e)}") from None

    def bind(self, sf, settings):
        """Write the handshake for this scenario (its org was reset: a new session), then deliver."""
        write_handshake(self.handshake, {
            "instance_url": f"https://{sf.sf_instance}", "access_token": sf.session_id,
            "ca_file": self.ca_file, "webhook_token": self.token, "api_version": sf.sf_version})

        def deliver(webhook, once=False):
            """``once``: one POST (the caller retries), else retried on a 5xx or no answer."""
            try:
                post = requests.post if once else self.session.post
                answer = post(self.url, json=webhook, timeout=self.timeout)
            except requests.exceptions.RequestException as e:
                raise Refused(f"no answer from {self.url}: {_innermost(e)}") from None
            if answer.status_code >= 300:
                raise Refused(f"HTTP {answer.status_code}: {answer.text.strip()[:200]}",
                              transient=answer.status_code >= 500)
            return None
        return deliver

    def settle(self, requests_made):
        """Wait until no API request reaches the org for ``quiet`` seconds."""
        deadline = time.monotonic() + self.settle_timeout
        last = requests_made()
        while True:
            time.sleep(self.quiet)
            now = requests_made()
            if now == last:
                return
            if time.monotonic() > deadline:
                raise Refused(f"the org never settled: still receiving requests after "
                              f"{self.settle_timeout:g} s")
            last = now


def _transient(error: CoreError) -> bool:
    """Whether the core's refusal may not be final (the receiver would answer it 5xx)."""
    if isinstance(error, (InvalidEvent, SettingsError)):
        return False
    if isinstance(error, SalesforceWriteError):
        return error.error_code not in DATA_ERROR_CODES
    return True


def load(target: str | None, **http_options) -> Integration:
    """The integration TARGET names (IntegrationError when it cannot be used)."""
    if not target or target == "builtin":
        return Builtin()
    if "://" in target:
        return WebService(target, **http_options)
    return PythonCallable(target)


def write_handshake(path: Path, data: dict) -> None:
    """Replace the handshake file in one step, so a service never reads half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps(data, indent=2) + "\n")
    part.replace(path)


def _innermost(error: BaseException) -> str:
    while error.__context__ is not None or error.args and isinstance(error.args[0], BaseException):
        error = error.__context__ or error.args[0]
    return str(getattr(error, "strerror", None) or getattr(error, "reason", None) or error)


__all__ = ["HANDSHAKE_VAR", "Builtin", "Integration", "IntegrationError", "PythonCallable", "Refused",
           "WebService", "load", "write_handshake"]

