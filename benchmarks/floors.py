"""Floors for the per-request benchmark: apps that answer the REST calls simple-salesforce makes
with fixed, Salesforce-shaped JSON and do nothing else.

- ``flask_app()``: a bare Flask app (routing, request and response objects, JSON encoding);
- ``wsgi_app``: a bare WSGI function (no framework at all).

They answer with a record of the fake's own shape (``use_record``), so the same bytes cross the
wire, and go through the same in-process adapter and the same HTTP server (cheroot, as
``fake-salesforce serve``) as the fake, so what the fake costs above them is its own work.

    python benchmarks/floors.py flask|wsgi [RECORD.json]   # serve one on a free port; prints
                                                            # "listening on URL"
"""
from __future__ import annotations

import json
import sys

RECORD = {"attributes": {"type": "Contact", "url": "/services/data/v59.0/sobjects/Contact/003000000000001AAA"},
          "Id": "003000000000001AAA", "LastName": "Floor", "Phone": "+1 415 555 0100"}
CREATED = {"id": "003000000000001AAA", "success": True, "errors": []}
QUERY = {"totalSize": 1, "done": True, "records": [RECORD]}


def use_record(record: dict) -> None:
    """Answer gets and queries with ``record`` (a Contact as the fake returns it)."""
    global RECORD, QUERY
    RECORD = record
    QUERY = {"totalSize": 1, "done": True, "records": [record]}


def _answer(method: str, path: str) -> tuple[str, bytes | None]:
    if "/query" in path:
        return "200 OK", json.dumps(QUERY).encode()
    if method == "POST":
        return "201 Created", json.dumps(CREATED).encode()
    if method == "PATCH":
        return "204 No Content", None
    return "200 OK", json.dumps(RECORD).encode()


def wsgi_app(environ, start_response):
    status, body = _answer(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""))
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    if body is None:
        start_response(status, [])
        return [b""]
    start_response(status, [("Content-Type", "application/json;charset=UTF-8"),
                            ("Content-Length", str(len(body)))])
    return [body]


def flask_app():
    from flask import Flask, Response, jsonify, request

    app = Flask("floor")

    @app.route("/services/data/<version>/<path:rest>", methods=["GET", "POST", "PATCH"])
    def any_call(version, rest):
        request.get_data()
        if "query" in rest:
            return jsonify(QUERY)  # the globals, so use_record() applies
        if request.method == "POST":
            request.get_json()
            return jsonify(CREATED), 201
        if request.method == "PATCH":
            request.get_json()
            return Response(status=204)
        return jsonify(RECORD)

    return app


def serve(kind: str) -> None:
    from cheroot import wsgi

    app = flask_app() if kind == "flask" else wsgi_app
    server = wsgi.Server(("127.0.0.1", 0), app, numthreads=16, server_name="floor")
    server.prepare()
    print(f"listening on http://127.0.0.1:{server.bind_addr[1]}", flush=True)
    server.serve()


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or sys.argv[1] not in ("flask", "wsgi"):
        sys.exit("usage: python benchmarks/floors.py flask|wsgi [RECORD.json]")
    if len(sys.argv) == 3:
        with open(sys.argv[2], encoding="utf-8") as f:
            use_record(json.load(f))
    serve(sys.argv[1])
