"""create_app(org): the Flask app, its blueprints and the one error handler."""
from __future__ import annotations

import json
import time

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from . import errors
from .org import Org, RequestLogEntry

JSON_TYPE = "application/json;charset=UTF-8"


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(data, status=status, headers=headers, content_type=JSON_TYPE)


def create_app(org: Org | None = None, **org_options) -> Flask:
    """The fake org's WSGI app; the same app serves sockets and the in-process transport."""
    from . import soql, sosl  # noqa: F401  (build the query grammar now, not at the first query)
    from .api import auth, control, data, other

    org = org or Org(**org_options)
    app = Flask("fake_salesforce")
    app.config["ORG"] = org
    app.json.sort_keys = False
    app.url_map.strict_slashes = False
    app.register_blueprint(auth.bp)
    app.register_blueprint(data.bp)
    app.register_blueprint(control.bp)
    app.register_blueprint(other.bp)

    @app.before_request
    def _start():
        g.started = time.perf_counter()

    @app.errorhandler(errors.SalesforceError)
    def _salesforce_error(e: errors.SalesforceError):
        g.error_code = e.error_code
        return json_response(e.to_wire(), e.status)

    @app.errorhandler(HTTPException)
    def _http_error(e: HTTPException):
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 415: "UNSUPPORTED_MEDIA_TYPE"}.get(
            e.code, "INVALID_REQUEST")
        message = {404: "The requested resource does not exist",
                   405: f"HTTP Method '{request.method}' not allowed. Allowed are "
                        + ",".join(sorted(getattr(e, "valid_methods", None) or []))}.get(
            e.code, e.description or e.name)
        g.error_code = code
        return json_response([{"errorCode": code, "message": message}], e.code or 400)

    @app.errorhandler(Exception)
    def _unexpected(e: Exception):
        # A bug in the fake, never the client's fault: still Salesforce-shaped, no traceback.
        app.logger.exception("unexpected error in the fake org")
        g.error_code = "UNKNOWN_EXCEPTION"
        return json_response([{"errorCode": "UNKNOWN_EXCEPTION",
                               "message": f"An unexpected error occurred in the fake org: "
                                          f"{type(e).__name__}"}], 500)

    @app.after_request
    def _finish(response: Response):
        if getattr(g, "api_call", False):
            response.headers["Sforce-Limit-Info"] = f"api-usage={org.api_count}/{org.config.api_limit}"
        path = request.path
        if not path.startswith("/_fake/"):
            query = request.query_string
            started = g.get("started")
            org.log_request(RequestLogEntry(
                request.method, path + "?" + query.decode("latin-1") if query else path,
                response.status_code, g.get("user_id"), time.time(),
                (time.perf_counter() - started) * 1000 if started else 0.0, g.get("error_code")))
        return response

    return app
