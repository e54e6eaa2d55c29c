"""A small Aircall webhook receiver: a Flask app that logs each delivery through the core.

Answers, always JSON: 200 with the outcome; 400 for a malformed delivery (not JSON, NaN or
Infinity, nested deeper than MAX_JSON_DEPTH, a lone UTF-16 surrogate, or the InvalidEvent
message); 401 when the delivery's ``token`` is not the configured one; 413 for a body over
MAX_BODY_BYTES; 422 when Salesforce refused the delivery's own data (a number out of range, a
text too long: delivering it again can never succeed); 500 for a settings problem or a bug;
502 when Salesforce refused a write for another reason (the org may be fixed); 503 when
Salesforce stayed unavailable or could not say whether a write happened, so that Aircall
delivers the event again later.

Each delivery is logged on the ``callsim.webhooks`` logger (INFO): event, call or message id,
status and outcome, and the time it took.
"""
from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from typing import Callable

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException
from simple_salesforce import Salesforce

from .api import RetryPolicy
from .errors import InvalidEvent, SalesforceUnavailable, SalesforceWriteError, SettingsError
from .logger import CallLogger
from .outcome import Outcome
from .settings import Settings

DEFAULT_PATH = "/webhooks/aircall"
log = logging.getLogger("callsim.webhooks")

MAX_BODY_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32
# Salesforce errorCodes that blame the values written (from the delivery): the same delivery
# can never succeed, so it is answered 4xx and Aircall stops delivering it.
DATA_ERROR_CODES = frozenset({"NUMBER_OUTSIDE_VALID_RANGE", "STRING_TOO_LONG", "JSON_PARSER_ERROR",
                              "INVALID_TYPE_ON_FIELD_IN_RECORD", "INVALID_EMAIL_ADDRESS",
                              "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"})


class BadBody(ValueError):
    """The delivery's body is not JSON the receiver takes."""


def parse_body(data: bytes):
    """The delivery as JSON, strictly (``NaN``, ``Infinity``, deep nesting and lone surrogates
    refused: they can never make a valid event)."""
    def constant(name):
        raise BadBody(f"{name} is not a JSON value")

    try:
        value = json.loads(data, parse_constant=constant)
    except RecursionError:
        raise BadBody(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    except BadBody:
        raise
    except ValueError as e:  # UnicodeDecodeError included
        raise BadBody(f"not valid JSON ({e})") from None
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BadBody(f"nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((k, depth) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise BadBody("a string holds a lone UTF-16 surrogate") from None
        elif isinstance(item, float) and item in (float("inf"), float("-inf")):
            raise BadBody("a number is too large")
    return value


def create_receiver(sf_factory: Callable[[], Salesforce], settings: Settings, token: str, *,
                    path: str = DEFAULT_PATH, retry: RetryPolicy | None = None) -> Flask:
    """The webhook app. ``sf_factory`` is called once, at the first delivery, for the client;
    ``token`` is the Aircall webhook token every delivery must carry."""
    if not isinstance(token, str) or not token:
        raise SettingsError("webhook token: expected a non-empty string", path="token")
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
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
            status = 422 if exc.error_code in DATA_ERROR_CODES else 502
            return error(status, "salesforce_error", str(exc), error_code=exc.error_code)
        return outcome.to_dict(), 200, _summary(outcome)

    @app.post(path)
    def receive():
        started = time.perf_counter()
        data = request.get_data()
        if request.content_length is None and len(data) >= MAX_BODY_BYTES:
            # A streamed (chunked) body is cut at the limit without a word: reading on past it
            # raises werkzeug's 413, instead of the cut body being refused as "not valid JSON".
            request.stream.read(1)
        try:
            payload = parse_body(data)
        except BadBody as exc:
            payload = None
            body, status, summary = error(400, "invalid_event", f"webhook: the body is {exc}"
                                          if str(exc).startswith("not") else f"webhook: {exc}")
        else:
            body, status, summary = deliver(payload)
        log.info("%s %s: %d %s (%.0f ms)", *_subject(payload), status, summary,
                 (time.perf_counter() - started) * 1000)
        return jsonify(body), status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return jsonify({"error": "http_error", "message": exc.description or exc.name}), exc.code or 400

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unexpected error in the webhook receiver")
        return jsonify({"error": "internal_error", "message": type(exc).__name__}), 500

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
