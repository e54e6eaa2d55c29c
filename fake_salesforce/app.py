"""create_app(org): the Flask app, its blueprints and the one error handler."""
from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlencode

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from . import errors, urls
from .api import auth, bulk, composite, control, data, identity, other, soap
from .api.direct import DirectRoutes
from .api.http import API_CALL, ERROR_CODE, MAX_BODY_BYTES, USER_ID, json_response
from .faults import FAULTS, Faults, parse_rules
from .org import Org, RequestLogEntry


def create_app(org: Org | None = None, *, pages_open: bool = False, control_token: str | None = None,
               loopback_only: bool = True, fault_rules=None, control_api: bool = True,
               **org_options) -> Flask:
    """The fake org's WSGI app; the same app serves sockets and the in-process transport.

    ``pages_open``: the web pages (``/``, ``/lightning/...``) need no login. ``control_token``:
    the control API (``/_fake/``) answers any client presenting it, instead of loopback clients
    only. ``loopback_only``: the server listens on loopback only (else JWT certificates cannot be
    registered through the control API without a token). ``fault_rules``: faults to inject
    (see ``faults.py``), as mappings. ``control_api=False``: no ``/_fake/`` at all; its paths
    answer 404 NOT_FOUND, as a real org's do.
    """
    from . import pages, soql, sosl  # noqa: F401  (build the query grammar now, not at the first query)
    from .pages.render import install

    org = org or Org(**org_options)
    app = Flask("fake_salesforce")
    app.config["ORG"] = org
    app.config[pages.PAGES_OPEN] = pages_open
    app.config[control.CONTROL_TOKEN] = control_token
    app.config[control.LOOPBACK_ONLY] = loopback_only
    install(app.jinja_env)
    app.json.sort_keys = False
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.url_map.strict_slashes = False
    app.register_blueprint(auth.bp)
    app.register_blueprint(data.bp)
    app.register_blueprint(bulk.bp)
    app.register_blueprint(composite.bp)
    app.register_blueprint(identity.bp)
    app.register_blueprint(soap.bp)
    if control_api:
        app.register_blueprint(control.bp)
    app.register_blueprint(other.bp)
    app.register_blueprint(pages.bp)

    @app.errorhandler(errors.SalesforceError)
    def _salesforce_error(e: errors.SalesforceError):
        request.environ[ERROR_CODE] = e.error_code
        return json_response(e.to_wire(), e.status)

    @app.errorhandler(HTTPException)
    def _http_error(e: HTTPException):
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "REQUEST_ENTITY_TOO_LARGE",
                415: "UNSUPPORTED_MEDIA_TYPE"}.get(
            e.code, "INVALID_REQUEST")
        message = {404: "The requested resource does not exist",
                   405: f"HTTP Method '{request.method}' not allowed. Allowed are "
                        + ",".join(sorted(getattr(e, "valid_methods", None) or []))}.get(
            e.code, e.description or e.name)
        request.environ[ERROR_CODE] = code
        return json_response([{"errorCode": code, "message": message}], e.code or 400)

    @app.errorhandler(Exception)
    def _unexpected(e: Exception):
        # A bug in the fake, never the client's fault: still Salesforce-shaped, no traceback.
        app.logger.exception("unexpected error in the fake org")
        request.environ[ERROR_CODE] = "UNKNOWN_EXCEPTION"
        return json_response([{"errorCode": "UNKNOWN_EXCEPTION",
                               "message": f"An unexpected error occurred in the fake org: "
                                          f"{type(e).__name__}"}], 500)

    app.config[FAULTS] = faults = Faults()
    faults.set(parse_rules(list(fault_rules or [])))
    direct = DirectRoutes(app.wsgi_app, org, _static_segments(app, urls.DATA_PREFIX + "/<version>/sobjects/"),
                          app.logger)
    app.wsgi_app = _Instrumented(faults.wrap(_MethodOverride(direct)), org)
    return app


class _MethodOverride:
    """``POST /services/data/...?_HttpMethod=PATCH`` is a PATCH (or whichever method it names):
    Salesforce's way for HTTP libraries that cannot send PATCH or DELETE. The parameter is taken
    out of the query string before anything else reads it."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        query = environ.get("QUERY_STRING", "")
        if ("_HttpMethod=" in query and environ.get("REQUEST_METHOD") == "POST"
                and environ.get("PATH_INFO", "").startswith(urls.DATA_PREFIX + "/")):
            params = parse_qsl(query, keep_blank_values=True)
            methods = [value for key, value in params if key == "_HttpMethod"]
            if methods:
                environ["REQUEST_METHOD"] = methods[-1].upper()
                environ["QUERY_STRING"] = urlencode([(k, v) for k, v in params if k != "_HttpMethod"])
        return self.wsgi_app(environ, start_response)


def _static_segments(app: Flask, prefix: str) -> set[str]:
    """The fixed path segments Flask's rules have right below ``prefix`` and one level further
    (``describe`` in ``.../sobjects/<sobject>/describe``): where the direct routes would read an
    sObject name or a record id, these belong to Flask."""
    out = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(prefix):
            out.update(part for part in rule.rule[len(prefix):].split("/")[:2] if part and "<" not in part)
    return out


_CONTROL_PATHS = urls.CONTROL + "/"   # not in the request log


class _Instrumented:
    """Around the Flask app: the ``Sforce-Limit-Info`` header of API calls, and the request log.

    Done at the WSGI level, where it costs a dict lookup or two, rather than in Flask hooks.
    """

    def __init__(self, wsgi_app, org: Org):
        self.wsgi_app = wsgi_app
        self.org = org

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        org = self.org
        if org.config.shared:
            org.sync()

        def instrumented_start_response(status, headers, exc_info=None):
            if environ.get(API_CALL):
                headers.append(("Sforce-Limit-Info", f"api-usage={org.api_count}/{org.config.api_limit}"))
            path = environ.get("PATH_INFO", "")
            if not path.startswith(_CONTROL_PATHS):
                query = environ.get("QUERY_STRING")
                org.log_request(RequestLogEntry(
                    environ.get("REQUEST_METHOD", ""), f"{path}?{query}" if query else path,
                    int(status[:3]), environ.get(USER_ID), time.time(),
                    (time.perf_counter() - started) * 1000, environ.get(ERROR_CODE)))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, instrumented_start_response)
