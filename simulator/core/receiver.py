"""A small Aircall webhook receiver: a Flask app that logs each delivery through the core.

Answers: 200 with the outcome as JSON; 400 for a malformed delivery (the InvalidEvent
message); 401 when the delivery's ``token`` is not the configured one; 500 for a settings
problem; 502 when Salesforce refused a write for good; 503 when Salesforce stayed
unavailable, so that Aircall delivers the event again later.

Each delivery is logged on the ``callsim.webhooks`` logger (INFO): event, call or message id,
status and outcome, and the time it took.
"""
from __future__ import annotations

import hmac
import logging
import threading
import time
from typing import Callable

from flask import Flask, jsonify, request
from simple_salesforce import Salesforce

from .api import RetryPolicy
from .errors import InvalidEvent, SalesforceUnavailable, SalesforceWriteError, SettingsError
from .logger import CallLogger
from .outcome import Outcome
from .settings import Settings

DEFAULT_PATH = "/webhooks/aircall"
log = logging.getLogger("callsim.webhooks")


def create_receiver(sf_factory: Callable[[], Salesforce], settings: Settings, token: str, *,
                    path: str = DEFAULT_PATH, retry: RetryPolicy | None = None) -> Flask:
    """The webhook app. ``sf_factory`` is called once, at the first delivery, for the client;
    ``token`` is the Aircall webhook token every delivery must carry."""
    if not isinstance(token, str) or not token:
        raise SettingsError("webhook token: expected a non-empty string", path="token")
    app = Flask(__name__)
    state: dict[str, CallLogger] = {}
    lock = threading.Lock()

    def call_logger() -> CallLogger:
        with lock:
            if "logger" not in state:
                state["logger"] = CallLogger(sf_factory(), settings, retry=retry)
            return state["logger"]

    def error(status: int, kind: str, message: str, **extra):
        body = {"error": kind, "message": message, **extra}
        return body, status, f"{kind}: {message}"

    @app.get("/healthz")
    def health():
        return jsonify({"status": "ok"})

    def deliver(payload) -> tuple[dict, int, str]:
        """The response body, its status and a one-line summary for the log."""
        if not isinstance(payload, dict):
            return error(400, "invalid_event", "webhook: expected a JSON object body")
        given = payload.get("token")
        if not isinstance(given, str) or not hmac.compare_digest(given.encode(), token.encode()):
            return error(401, "invalid_token", "the delivery's token does not match the "
                                               "configured Aircall webhook token")
        try:
            outcome = call_logger().handle(payload)
        except InvalidEvent as exc:
            return error(400, "invalid_event", exc.message)
        except SettingsError as exc:
            return error(500, "settings_error", exc.message)
        except SalesforceUnavailable as exc:
            return error(503, "salesforce_unavailable", str(exc), error_code=exc.error_code)
        except SalesforceWriteError as exc:
            return error(502, "salesforce_error", str(exc), error_code=exc.error_code)
        return outcome.to_dict(), 200, _summary(outcome)

    @app.post(path)
    def receive():
        started = time.perf_counter()
        payload = request.get_json(silent=True)
        body, status, summary = deliver(payload)
        log.info("%s %s: %d %s (%.0f ms)", *_subject(payload), status, summary,
                 (time.perf_counter() - started) * 1000)
        return jsonify(body), status

    return app


def _subject(payload) -> tuple[str, str]:
    """``("call.ended", "call 812345")``, as far as the delivery says."""
    if not isinstance(payload, dict):
        return "(not JSON)", "-"
    data = payload.get("data")
    ident = data.get("id") if isinstance(data, dict) else None
    resource = payload.get("resource", "call")
    return str(payload.get("event", "(no event)")), f"{resource} {'-' if ident is None else ident}"


def _summary(outcome: Outcome) -> str:
    if not outcome.logged:
        return f"not logged ({outcome.rule}: {outcome.reason})" if outcome.rule else "not logged"
    where = f" on {outcome.record.kind} {outcome.record.id}" if outcome.record else ""
    return f"logged: Task {outcome.task_id} {outcome.task_action}{where}"
