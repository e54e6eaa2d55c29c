"""The four REST calls clients make most (create, get and update a record, run a query),
answered straight from the WSGI environ, ahead of Flask's routing.

A logging integration spends its time in these calls, and Flask's request machinery (URL
matching, request and response objects, contexts) costs about as much as the work itself. A
request is answered here only when it has the plain form clients send; anything else (another
method, extra parameters, a path with other segments, a body without a length, a version
segment that is no version) goes on to the Flask routes, which answer every form. The answers
are the routes' own, byte for byte: the same ``Org`` calls, the same JSON encoding, the same
status lines, headers and errors (``tests/fake/test_direct.py`` compares both on each call).
"""
from __future__ import annotations

import io
import logging
import re
from urllib.parse import parse_qsl

from werkzeug.http import HTTP_STATUS_CODES

from .. import errors
from .data import batch_size
from .http import (ERROR_CODE, JSON_TYPE, MAX_BODY_BYTES, begin_api_call, body_json, is_xml, json_bytes,
                   record_values)

_DATA = r"/services/data/(v\d{2,3}\.\d)"
_SOBJECT = re.compile(_DATA + r"/sobjects/([A-Za-z][A-Za-z0-9_]*)/?")
_RECORD = re.compile(_DATA + r"/sobjects/([A-Za-z][A-Za-z0-9_]*)/([A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?)/?")
_QUERY = re.compile(_DATA + r"/query/?")
_STATUS = {code: f"{code} {name.upper()}" for code, name in HTTP_STATUS_CODES.items()}
_EMPTY_HEADERS = [("Content-Type", "text/html; charset=utf-8")]  # as werkzeug's empty Response
_log = logging.getLogger("fake_salesforce")


class DirectRoutes:
    """WSGI middleware in front of the Flask app ``wsgi_app`` of ``org``.

    ``reserved``: segments that Flask routes own where a record id would stand
    (``/sobjects/Contact/describe``): requests naming them go on to Flask.
    """

    def __init__(self, wsgi_app, org, reserved: set[str] = frozenset(), logger=None):
        self.wsgi_app = wsgi_app
        self.org = org
        self.reserved = set(reserved)
        self.logger = logger or _log

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        path = environ.get("PATH_INFO", "")
        answer = None
        if method == "GET":
            if path.endswith(("/query", "/query/")):
                answer = self.query(environ, path)
            else:
                answer = self.get_record(environ, path)
        elif method == "POST":
            answer = self.create(environ, path)
        elif method == "PATCH":
            answer = self.update(environ, path)
        if answer is None:
            return self.wsgi_app(environ, start_response)
        status, body = answer
        if body is None:
            start_response(_STATUS[status], list(_EMPTY_HEADERS))
            return [b""]
        start_response(_STATUS[status], [("Content-Type", JSON_TYPE), ("Content-Length", str(len(body)))])
        return [body]

    # -- the calls: None when the request is not of the plain form --------------------------------
    def get_record(self, environ, path):
        match = _RECORD.fullmatch(path)
        if match is None or match[3] in self.reserved or environ.get("QUERY_STRING"):
            return None
        version, sobject, record_id = match.groups()
        return self.answer(environ, version, lambda user_id: (200, self.org.get(sobject, record_id)))

    def query(self, environ, path):
        match = _QUERY.fullmatch(path)
        if match is None:
            return None
        params = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if len(params) != 1 or params[0][0] != "q":
            return None
        text = params[0][1]

        def run(user_id):
            if not text.strip():
                raise errors.MalformedQuery("The 'q' parameter is required and must hold the query text")
            return 200, self.org.query(text, include_deleted=False, user_id=user_id,
                                       batch_size=batch_size(environ.get("HTTP_SFORCE_QUERY_OPTIONS", "")),
                                       api_version=match[1])
        return self.answer(environ, match[1], run)

    def create(self, environ, path):
        match = _SOBJECT.fullmatch(path)
        if match is None or match[2] in self.reserved:
            return None
        data = self.read_body(environ)
        if data is None:
            return None
        version, sobject = match.groups()

        def run(user_id):
            new_id = self.org.create(sobject, record_values(body_json(data)), user_id, allow_audit=True)
            return 201, {"id": new_id, "success": True, "errors": []}
        return self.answer(environ, version, run)

    def update(self, environ, path):
        match = _RECORD.fullmatch(path)
        if match is None or match[3] in self.reserved:
            return None
        data = self.read_body(environ)
        if data is None:
            return None
        version, sobject, record_id = match.groups()

        def run(user_id):
            self.org.update(sobject, record_id, record_values(body_json(data)), user_id)
            return 204, None
        return self.answer(environ, version, run)

    @staticmethod
    def read_body(environ) -> bytes | None:
        """The body of a request that declares its length (within the limit), no query string,
        no content coding, no XML content type; None for any other request (Flask reads those). A body shorter than
        declared is put back for Flask to refuse."""
        length = environ.get("CONTENT_LENGTH") or ""
        if (not length.isdigit() or int(length) > MAX_BODY_BYTES or environ.get("QUERY_STRING")
                or environ.get("HTTP_TRANSFER_ENCODING") or environ.get("HTTP_CONTENT_ENCODING")
                or is_xml(environ.get("CONTENT_TYPE"))):
            return None
        n = int(length)
        data = environ["wsgi.input"].read(n) if n else b""
        if len(data) != n:
            environ["wsgi.input"] = io.BytesIO(data)
            return None
        return data

    def answer(self, environ, version, run) -> tuple[int, bytes | None]:
        try:
            status, body = run(begin_api_call(environ, self.org, version))
        except errors.SalesforceError as e:
            environ[ERROR_CODE] = e.error_code
            return e.status, json_bytes(e.to_wire())
        except Exception as e:  # noqa: BLE001  (a bug in the fake: Salesforce-shaped, as app.py's handler)
            self.logger.exception("unexpected error in the fake org")
            environ[ERROR_CODE] = "UNKNOWN_EXCEPTION"
            return 500, json_bytes([{"errorCode": "UNKNOWN_EXCEPTION",
                                     "message": f"An unexpected error occurred in the fake org: "
                                                f"{type(e).__name__}"}])
        return status, None if body is None else json_bytes(body)
