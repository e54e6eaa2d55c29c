"""The Composite API: ``/composite`` (subrequests with ``@{ref.field}`` references and
allOrNone), ``/composite/graph`` (each graph all or none), ``/composite/batch``,
``/composite/tree/{type}`` and multi-record upsert ``PATCH /composite/sobjects/{type}/{externalIdField}``.

``/composite`` and ``/composite/batch`` replay each subrequest through this same app, with
the caller's session, so a subrequest behaves exactly as the REST call it names. Where the
fake differs: subrequests are not limited to the resources Salesforce allows in them, and
a composite request counts one API call per subrequest.
"""
from __future__ import annotations

import json
import re

from flask import Blueprint, current_app, g, request

from .. import composite, errors, urls
from . import org
from .data import authenticate, json_body
from .http import flag, json_response

bp = Blueprint("composite", __name__, url_prefix=urls.DATA_PREFIX)
bp.before_request(authenticate)
_REFERENCE = re.compile(r"@\{([^}]+)\}")
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_SUBREQUEST_MAX = 25
_COMPOSITE_METHODS = ("DELETE", "GET", "PATCH", "POST")   # case-sensitive, as Salesforce documents
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")   # an HTTP token (RFC 9110)
_NOT_SETTABLE = {"accept", "authorization", "content-type", "content-length", "transfer-encoding",
                 "host", "connection"}
HALTED = "The transaction was rolled back since another operation in the same transaction failed."


class _Halt(Exception):
    pass


def _object_body() -> dict:
    body = json_body()
    if not isinstance(body, dict):
        raise errors.JsonParserError("Expected a JSON object")
    return body


def _subrequest(method: str, url: str, body, version: str, http_headers: dict | None = None
                ) -> tuple[int, object]:
    """Run one REST call through this app with the caller's session and ``http_headers``
    (checked by ``_check_headers``): (status, JSON body)."""
    if not isinstance(method, str) or not method:
        raise errors.JsonParserError("Each subrequest needs a 'method'")
    if not isinstance(url, str) or not url:
        raise errors.JsonParserError("Each subrequest needs a 'url'")
    if not url.startswith("/"):
        url = f"{urls.DATA_PREFIX}/{url}"
    elif not url.startswith(urls.DATA_PREFIX + "/"):
        raise errors.InvalidParameterValue(f"A subrequest must call the REST API under {urls.DATA_PREFIX}: {url}")
    headers = {**(http_headers or {}), "Authorization": request.headers.get("Authorization", "")}
    client = current_app.test_client()
    answer = client.open(url, method=method.upper(), headers=headers,
                         data=None if body is None else json.dumps(body),
                         content_type="application/json", base_url=request.host_url)
    data = answer.get_data()
    return answer.status_code, (json.loads(data) if data else None)


def _check_headers(subrequests: list) -> None:
    """The ``httpHeaders`` of every subrequest, before any runs: an object of header names and
    text values, without the three a subrequest inherits from the composite request (Accept,
    Authorization, Content-Type: Salesforce fails the whole request) nor, the fake's own rule,
    those that frame the HTTP message (Content-Length, Transfer-Encoding, Host, Connection)."""
    for sub in subrequests:
        headers = sub.get("httpHeaders") if isinstance(sub, dict) else None
        if headers is None:
            continue
        if not isinstance(headers, dict) or not all(
                _HEADER_NAME.fullmatch(k) and isinstance(v, str) and "\r" not in v and "\n" not in v
                for k, v in headers.items()):
            raise errors.JsonParserError("A subrequest's 'httpHeaders' must map header names to "
                                         "one-line text values")
        refused = sorted(k for k in headers if k.lower() in _NOT_SETTABLE)
        if refused:
            raise errors.InvalidParameterValue(f"A subrequest cannot set the header {refused[0]}: "
                                               "it comes from the composite request")


def _resolve(value, results: dict):
    """Replace ``@{refId.path}`` with the value at that path of an earlier subrequest's body."""
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)
        if whole:
            return _lookup(whole.group(1), results)
        return _REFERENCE.sub(lambda m: str(_lookup(m.group(1), results)), value)
    if isinstance(value, dict):
        return {k: _resolve(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, results) for v in value]
    return value


def _lookup(path: str, results: dict):
    steps = [m.group(1) if m.group(1) is not None else int(m.group(2)) for m in _STEP.finditer(path)]
    if not steps or steps[0] not in results:
        raise errors.InvalidParameterValue(f"Invalid reference specified. No value for {path} found")
    value = results[steps[0]]
    for step in steps[1:]:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            raise errors.InvalidParameterValue(
                f"Invalid reference specified. No value for {path} found") from None
    return value


@bp.post("/<version>/composite")
def composite_request(version: str):
    body = _object_body()
    out = _run_composite(body.get("compositeRequest"), flag(body, "allOrNone"), version)
    return json_response({"compositeResponse": out})


@bp.post("/<version>/composite/graph")
def graph_request(version: str):
    """Each graph is a composite request that succeeds or fails as a whole."""
    graphs = _object_body().get("graphs")
    if not isinstance(graphs, list) or not graphs or not all(isinstance(g_, dict) for g_ in graphs):
        raise errors.JsonParserError("'graphs' must be a non-empty list of {graphId, compositeRequest}")
    out = []
    for graph in graphs:
        responses = _run_composite(graph.get("compositeRequest"), True, version)
        out.append({"graphId": graph.get("graphId"), "graphResponse": {"compositeResponse": responses},
                    "isSuccessful": all(r["httpStatusCode"] < 400 for r in responses)})
    return json_response({"graphs": out})


def _run_composite(subrequests, all_or_none: bool, version: str) -> list[dict]:
    if not isinstance(subrequests, list) or not subrequests:
        raise errors.JsonParserError("'compositeRequest' must be a non-empty list of subrequests")
    if len(subrequests) > _SUBREQUEST_MAX:
        raise errors.ExceededIdLimit(f"Too many subrequests: at most {_SUBREQUEST_MAX}")
    _check_headers(subrequests)
    out: list[dict] = []
    bodies: dict = {}
    try:
        with org().transaction():
            for sub in subrequests:
                if not isinstance(sub, dict) or not isinstance(sub.get("referenceId"), str):
                    raise errors.JsonParserError("Each subrequest needs 'method', 'url' and 'referenceId'")
                reference = sub["referenceId"]
                try:
                    if sub.get("method") not in _COMPOSITE_METHODS:
                        raise errors.JsonParserError(f"A subrequest's method must be one of "
                                                     f"{', '.join(_COMPOSITE_METHODS)} (in capitals), "
                                                     f"not {sub.get('method')!r}")
                    status, answer = _subrequest(sub.get("method"), _resolve(sub.get("url"), bodies),
                                                 _resolve(sub.get("body"), bodies), version,
                                                 sub.get("httpHeaders"))
                except errors.SalesforceError as e:
                    status, answer = e.status, e.to_wire()
                out.append({"body": answer, "httpHeaders": {}, "httpStatusCode": status,
                            "referenceId": reference})
                if status < 400:
                    bodies[reference] = answer
                elif all_or_none:
                    raise _Halt()
    except _Halt:
        halted = [{"errorCode": "PROCESSING_HALTED", "message": HALTED}]
        out = [r if r["httpStatusCode"] >= 400 else {**r, "body": halted, "httpStatusCode": 400}
               for r in out]
        for sub in subrequests[len(out):]:
            out.append({"body": halted, "httpHeaders": {}, "httpStatusCode": 400,
                        "referenceId": sub.get("referenceId") if isinstance(sub, dict) else None})
    return out


@bp.post("/<version>/composite/batch")
def batch_request(version: str):
    body = _object_body()
    requests = body.get("batchRequests")
    if not isinstance(requests, list) or not requests or not all(isinstance(r, dict) for r in requests):
        raise errors.JsonParserError("'batchRequests' must be a non-empty list of subrequests")
    if len(requests) > _SUBREQUEST_MAX:
        raise errors.ExceededIdLimit(f"Too many subrequests: at most {_SUBREQUEST_MAX}")
    halt = flag(body, "haltOnError")
    results, failed = [], False
    for sub in requests:
        if failed and halt:
            results.append({"statusCode": 412, "result": [{"errorCode": "BATCH_PROCESSING_HALTED",
                            "message": "Batch processing halted per request"}]})
            continue
        try:
            status, answer = _subrequest(sub.get("method"), sub.get("url"), sub.get("richInput"), version)
        except errors.SalesforceError as e:
            status, answer = e.status, e.to_wire()
        failed = failed or status >= 400
        results.append({"statusCode": status, "result": answer})
    return json_response({"hasErrors": failed, "results": results})


@bp.post("/<version>/composite/tree/<sobject>")
def tree(version: str, sobject: str):
    has_errors, results = composite.create_tree(org(), sobject, _object_body().get("records"), g.user_id)
    return json_response({"hasErrors": has_errors, "results": results}, 400 if has_errors else 201)


@bp.patch("/<version>/composite/sobjects/<sobject>/<field>")
def collection_upsert(version: str, sobject: str, field: str):
    body = _object_body()
    records = body.get("records")
    if not isinstance(records, list) or not records:
        raise errors.JsonParserError("'records' must be a non-empty list of record objects")
    if len(records) > 200:
        raise errors.ExceededIdLimit("Too many records: at most 200 per request")
    return json_response(composite.upsert_many(org(), sobject, field, records,
                                               flag(body, "allOrNone"), g.user_id))
