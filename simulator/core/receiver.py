"""A small Aircall webhook receiver: a Flask app that logs each delivery through the core.

Answers: 200 with the outcome as JSON; 400 for a malformed delivery (the InvalidEvent
message); 401 when the delivery's ``token`` is not the configured one; 500 for a settings
problem; 502 when Salesforce refused a write for good; 503 when Salesforce stayed
unavailable, so that Aircall delivers the event again later.
"""
from __future__ import annotations

import hmac
import threading
from typing import Callable

from flask import Flask, jsonify, request
from simple_salesforce import Salesforce

from .api import RetryPolicy
from .errors import InvalidEvent, SalesforceUnavailable, SalesforceWriteError, SettingsError
from .logger import CallLogger
from .settings import Settings

DEFAULT_PATH = "/webhooks/aircall"


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
        return jsonify({"error": kind, "message": message, **extra}), status

    @app.get("/healthz")
    def health():
        return jsonify({"status": "ok"})

    @app.post(path)
    def receive():
        payload = request.get_json(silent=True)
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
        return jsonify(outcome.to_dict())

    return app
