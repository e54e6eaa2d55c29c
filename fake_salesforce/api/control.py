"""The control API under ``/_fake/``: reset, clock, seed, sessions, request log.

Not part of Salesforce: tests and tools use it to arrange an org. It takes no login, so it is
guarded instead (see ``_guard``): without a control token, only loopback clients naming a loopback
host, so a web page can neither reach it through DNS rebinding nor post to it cross-origin.
"""
from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, current_app, request

from .. import errors, urls
from ..clock import parse_datetime
from ..faults import FAULTS, parse_rules
from ..store import collector_paused
from . import org
from .http import json_body, json_response, raw_body

bp = Blueprint("control", __name__, url_prefix=urls.CONTROL)

CONTROL_TOKEN = "fake_salesforce.control_token"      # app.config key: the --control-token
LOOPBACK_ONLY = "fake_salesforce.listens_on_loopback"  # app.config key: served on loopback only
TOKEN_HEADER = "X-Fake-Control-Token"
MARK_HEADER = "X-Fake-Control"  # any value: a header a cross-origin simple request cannot carry
_LOOPBACK_NAMES = {"localhost", "fake-org.my.salesforce.com"}


def _is_loopback_address(text: str) -> bool:
    try:
        return ipaddress.ip_address(text.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(host: str) -> str:
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_loopback_host(host: str) -> bool:
    name = _host_name(host).lower().rstrip(".")
    return name in _LOOPBACK_NAMES or name.endswith(".localhost") or _is_loopback_address(name)


@bp.before_request
def _guard():
    """With a control token (``--control-token``), any client presenting it in
    X-Fake-Control-Token; without one, loopback clients with a loopback ``Host`` only. Requests
    that change anything need an X-Fake-Control header or a JSON body type, which a cross-origin
    simple request cannot send."""
    token = current_app.config.get(CONTROL_TOKEN)
    if token:
        given = request.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(given.encode("utf-8", "replace"), token.encode()):
            raise errors.ControlForbidden(f"The control API needs the control token in {TOKEN_HEADER}")
    else:
        if not _is_loopback_address(request.remote_addr or ""):
            raise errors.ControlForbidden("The control API answers loopback clients only "
                                          "(start the server with --control-token to open it)")
        if not _is_loopback_host(request.host or ""):
            raise errors.ControlForbidden(f"The control API answers only a loopback Host header, "
                                          f"not {request.host!r}")
    if request.method not in ("GET", "HEAD", "OPTIONS") and MARK_HEADER not in request.headers \
            and request.mimetype != "application/json":
        raise errors.ControlForbidden(f"Control requests that change the org need a JSON body or "
                                      f"the {MARK_HEADER} header")


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


def _one_process_only(feature: str) -> None:
    """FAKE_NOT_IMPLEMENTED for what each server process keeps to itself (``serve --workers``)."""
    if org().config.shared:
        raise errors.NotImplementedByFake(f"{feature}: kept by one server process, not shared "
                                          "across --workers")


@bp.get("/")
def info():
    return json_response(org().info())


@bp.post("/reset")
def reset():
    body = _body()
    now = _when(body["now"], "now") if body.get("now") else None
    o = org()
    o.reset(seed=body.get("seed"), now=now, default_country=body.get("default_country"),
            order=body.get("order"))
    return json_response({"reset": True, "clock": o.clock_state()})


@bp.post("/settings")
def settings():
    """``{"default_country": "FR"}``: the country whose dialling rules read phone numbers typed
    without ``+`` (every stored number is indexed again); the org's settings after."""
    body = _body()
    if not body or not set(body) <= {"default_country"}:
        raise errors.InvalidParameterValue("Give 'default_country' (an ISO 3166 alpha-2 code)")
    o = org()
    o.set_default_country(body["default_country"])
    return json_response({"default_country": o.config.default_country, "order": o.config.order})


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
    with collector_paused():   # a large seed is a great many new objects at once (see store.py)
        ids = org().seed(_body().get("records"))
        return json_response({"ids": ids}, 201)


@bp.post("/oauth/jwt-certificates")
def register_jwt_certificate():
    """``{"client_id": consumer key, "certificate": PEM}``: accept JWT bearer logins it signs."""
    _one_process_only("JWT certificates registered through the control API (give --jwt-cert)")
    if not current_app.config.get(LOOPBACK_ONLY, True) and not current_app.config.get(CONTROL_TOKEN):
        raise errors.ControlForbidden("Registering a JWT certificate on a server that listens beyond "
                                      "loopback needs --control-token")
    body = _body()
    org().register_jwt_certificate(body.get("client_id"), body.get("certificate"))
    return json_response({"client_id": body["client_id"]})


@bp.post("/bulk/complete")
def bulk_complete():
    """Work every Bulk API 2.0 job that is waiting, now."""
    _one_process_only("Bulk API 2.0 jobs")
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


@bp.get("/faults")
def faults_get():
    return json_response({"faults": current_app.config[FAULTS].state()})


@bp.post("/faults")
def faults_set():
    """``{"faults": [rule, ...], "replace": true}``: arm fault rules (see ``faults.py``); without
    ``replace`` they are added to the armed ones."""
    _one_process_only("fault rules")
    body = _body()
    rules = parse_rules(body.get("faults"))
    faults = current_app.config[FAULTS]
    faults.set(rules) if body.get("replace") else faults.add(rules)
    return json_response({"faults": faults.state()})


@bp.delete("/faults")
def faults_clear():
    _one_process_only("fault rules")
    current_app.config[FAULTS].clear()
    return json_response({"faults": []})
