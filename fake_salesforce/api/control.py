"""The control API under ``/_fake/``: reset, clock, seed, sessions, request log.

Not part of Salesforce: tests and tools use it to arrange an org. It takes no login (the fake
is meant for loopback use).
"""
from __future__ import annotations

from flask import Blueprint, request

from .. import errors, urls
from ..clock import parse_datetime
from . import org
from .http import json_body, json_response, raw_body

bp = Blueprint("control", __name__, url_prefix=urls.CONTROL)


def _body() -> dict:
    if not raw_body():
        return {}
    body = json_body()
    if not isinstance(body, dict):
        raise errors.JsonParserError("Expected a JSON object")
    return body


def _when(value, key: str):
    try:
        return parse_datetime(value)
    except (TypeError, ValueError):
        raise errors.InvalidParameterValue(f"'{key}' must be an ISO-8601 datetime, got {value!r}",
                                           [key]) from None


@bp.get("/")
def info():
    return json_response(org().info())


@bp.post("/reset")
def reset():
    body = _body()
    now = _when(body["now"], "now") if body.get("now") else None
    o = org()
    o.reset(seed=body.get("seed"), now=now)
    return json_response({"reset": True, "clock": o.clock_state()})


@bp.get("/clock")
def clock_get():
    return json_response(org().clock_state())


@bp.post("/clock")
def clock_set():
    """``{"now": ISO}`` freezes the clock there; ``{"advance": seconds}`` moves it on;
    ``{"frozen": false}`` returns to wall-clock time."""
    body = _body()
    if not body or not set(body) <= {"now", "advance", "frozen"}:
        raise errors.InvalidParameterValue("Give 'now' (ISO datetime), 'advance' (seconds) or 'frozen': false")
    now = _when(body["now"], "now") if "now" in body else None
    return json_response(org().set_clock(now=now, advance=body.get("advance"), frozen=body.get("frozen")))


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
    org().register_jwt_certificate(body.get("client_id"), body.get("certificate"))
    return json_response({"client_id": body["client_id"]})


@bp.post("/bulk/complete")
def bulk_complete():
    """Work every Bulk API 2.0 job that is waiting, now."""
    return json_response({"completed": org().bulk.complete_all()})


@bp.post("/sessions/expire")
def expire_sessions():
    return json_response({"expired": org().expire_sessions()})


@bp.get("/requests")
def requests_log():
    o = org()
    entries = o.request_log(request.args.get("limit", type=int))
    return json_response({"requests": [e.to_dict() for e in entries], "api_requests": o.api_count})


@bp.delete("/requests")
def clear_requests():
    org().clear_requests()
    return json_response({"cleared": True})
