"""The control API under ``/_fake/``: reset, clock, seed, sessions, request log.

Not part of Salesforce: tests and tools use it to arrange an org. It takes no login (the fake
is meant for loopback use).
"""
from __future__ import annotations

from flask import Blueprint, request

from .. import errors, urls
from ..clock import format_datetime, parse_datetime
from . import org
from .http import json_response

bp = Blueprint("control", __name__, url_prefix=urls.CONTROL)


def _body() -> dict:
    if not request.get_data():
        return {}
    try:
        body = request.get_json(force=True)
    except Exception:
        raise errors.JsonParserError("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise errors.JsonParserError("Expected a JSON object")
    return body


def _when(value, key: str):
    try:
        return parse_datetime(value)
    except (TypeError, ValueError):
        raise errors.SalesforceError(f"'{key}' must be an ISO-8601 datetime, got {value!r}",
                                     [key], error_code="INVALID_PARAMETER_VALUE") from None


def _clock_state() -> dict:
    o = org()
    return {"now": format_datetime(o.clock.now()), "frozen": o.clock.frozen}


@bp.get("/")
def info():
    o = org()
    return json_response({"org_id": o.org_id, "admin_id": o.admin_id,
                          "person_account_record_type_id": o.person_record_type_id,
                          "username": o.config.username, "order": o.config.order,
                          "api_requests": o.api_count, "clock": _clock_state(), "counts": o.counts()})


@bp.post("/reset")
def reset():
    body = _body()
    now = _when(body["now"], "now") if body.get("now") else None
    org().reset(seed=body.get("seed"), now=now)
    return json_response({"reset": True, "clock": _clock_state()})


@bp.get("/clock")
def clock_get():
    return json_response(_clock_state())


@bp.post("/clock")
def clock_set():
    """``{"now": ISO}`` freezes the clock there; ``{"advance": seconds}`` moves it on;
    ``{"frozen": false}`` returns to wall-clock time."""
    body = _body()
    o = org()
    if not body or not set(body) <= {"now", "advance", "frozen"}:
        raise errors.SalesforceError("Give 'now' (ISO datetime), 'advance' (seconds) or 'frozen': false",
                                     error_code="INVALID_PARAMETER_VALUE")
    if "now" in body:
        o.clock.set(_when(body["now"], "now"))
    if "advance" in body:
        step = body["advance"]
        if isinstance(step, bool) or not isinstance(step, (int, float)) or step < 0:
            raise errors.SalesforceError("'advance' must be a non-negative number of seconds",
                                         ["advance"], error_code="INVALID_PARAMETER_VALUE")
        o.clock.advance(step)
    if body.get("frozen") is False:
        o.clock.unfreeze()
    return json_response(_clock_state())


@bp.post("/seed")
def seed():
    """``{"records": [{"sobject": "Contact", "fields": {...}}, ...]}``: all or nothing."""
    body = _body()
    ids = org().seed(body.get("records"))
    return json_response({"ids": ids}, 201)


@bp.post("/oauth/jwt-certificates")
def register_jwt_certificate():
    """``{"client_id": consumer key, "certificate": PEM}``: accept JWT bearer logins it signs."""
    body = _body()
    client_id, pem = body.get("client_id"), body.get("certificate")
    if not isinstance(client_id, str) or not client_id or not isinstance(pem, str) or "-----BEGIN" not in pem:
        raise errors.SalesforceError("Give 'client_id' and 'certificate' (PEM text)",
                                     error_code="INVALID_PARAMETER_VALUE")
    org().config.jwt_certificates[client_id] = pem
    return json_response({"client_id": client_id})


@bp.post("/sessions/expire")
def expire_sessions():
    return json_response({"expired": org().expire_sessions()})


@bp.get("/requests")
def requests_log():
    entries = list(org().requests)
    limit = request.args.get("limit", type=int)
    if limit:
        entries = entries[-limit:]
    return json_response({"requests": [e.to_dict() for e in entries], "api_requests": org().api_count})


@bp.delete("/requests")
def clear_requests():
    org().requests.clear()
    return json_response({"cleared": True})
