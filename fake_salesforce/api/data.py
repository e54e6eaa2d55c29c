"""The REST data API: ``/services/data/vNN.N/...``."""
from __future__ import annotations

import re

from flask import Blueprint, Response, g, request

from .. import errors, identity, urls
from ..ids import to18
from . import base_url, org
from .http import begin_api_call, flag, json_body, json_response, record_values

bp = Blueprint("data", __name__, url_prefix=urls.DATA_PREFIX)
_BATCH = re.compile(r"batchSize\s*=\s*(\d+)", re.I)
_COMPOSITE_MAX = 200


@bp.before_request
def authenticate():
    """Every REST call: count it, and find the session's user (401 without one)."""
    g.user_id = begin_api_call(request.environ, org(), (request.view_args or {}).get("version"))


@bp.get("/")
def versions():
    return json_response([{"label": urls.API_LABEL, "url": urls.DATA, "version": urls.API_VERSION}])


@bp.get("/<version>")
def resources(version: str):
    base = f"{urls.DATA_PREFIX}/{version}"
    out = {k: f"{base}/{k}" for k in ("sobjects", "query", "queryAll", "search", "limits",
                                      "composite", "recent", "tooling", "actions", "analytics",
                                      "connect", "process", "parameterizedSearch")}
    out["identity"] = identity.identity_url(org(), g.user_id, base_url())
    return json_response(out)


def _object_body() -> dict:
    return record_values(json_body())


def _fields_param() -> list[str] | None:
    raw = request.args.get("fields")
    return raw.split(",") if raw else None


# -- sObjects ------------------------------------------------------------------------------------
@bp.get("/<version>/sobjects")
def describe_global(version: str):
    return json_response(org().describe_global())


@bp.get("/<version>/sobjects/<sobject>")
def sobject_metadata(version: str, sobject: str):
    return json_response(org().metadata(sobject))


@bp.post("/<version>/sobjects/<sobject>")
def create(version: str, sobject: str):
    new_id = org().create(sobject, _object_body(), g.user_id, allow_audit=True)
    return json_response({"id": new_id, "success": True, "errors": []}, 201)


@bp.post("/<version>/sobjects/<sobject>/Id")
def create_by_id(version: str, sobject: str):
    """Upsert by Id with no value: a create (API version 37.0 and later)."""
    return create(version, sobject)


@bp.get("/<version>/sobjects/<sobject>/describe")
def describe(version: str, sobject: str):
    return json_response(org().describe(sobject))


@bp.get("/<version>/sobjects/<sobject>/updated")
def updated(version: str, sobject: str):
    return json_response(org().updated(sobject, request.args.get("start", ""), request.args.get("end", "")))


@bp.get("/<version>/sobjects/<sobject>/deleted")
def deleted(version: str, sobject: str):
    return json_response(org().deleted(sobject, request.args.get("start", ""), request.args.get("end", "")))


@bp.get("/<version>/sobjects/<sobject>/<record_id>")
def get_record(version: str, sobject: str, record_id: str):
    return json_response(org().get(sobject, record_id, _fields_param()))


@bp.patch("/<version>/sobjects/<sobject>/<record_id>")
def update_record(version: str, sobject: str, record_id: str):
    org().update(sobject, record_id, _object_body(), g.user_id)
    return Response(status=204)


@bp.delete("/<version>/sobjects/<sobject>/<record_id>")
def delete_record(version: str, sobject: str, record_id: str):
    org().delete(sobject, record_id, g.user_id)
    return Response(status=204)


def _refuse_traversal(sobject: str, record_id: str, name: str) -> None:
    """``/sobjects/{type}/{id}/{relationship}`` (a record's parent or children): 501 naming it."""
    obj = org().sobject(sobject)
    full = to18(record_id)
    if full is not None and full.startswith(obj.key_prefix) and (
            obj.relationship(name) is not None or obj.child(name) is not None):
        raise errors.NotImplementedByFake("The fake org does not implement sObject relationship traversal "
                                          f"(sobjects/{obj.name}/{{id}}/{name}); query the records instead")


@bp.get("/<version>/sobjects/<sobject>/<field>/<path:value>")
def get_by_external_id(version: str, sobject: str, field: str, value: str):
    _refuse_traversal(sobject, field, value)
    o = org()
    return json_response(o.get(sobject, o.one_by_external_id(sobject, field, value), _fields_param()))


@bp.route("/<version>/sobjects/<sobject>/<field>/<path:value>", methods=["PATCH", "POST"])
def upsert(version: str, sobject: str, field: str, value: str):
    _refuse_traversal(sobject, field, value)
    new_id, created = org().upsert(sobject, field, value, _object_body(), g.user_id)
    body = {"id": new_id, "success": True, "errors": [], "created": created}
    return json_response(body, 201 if created else 200)


@bp.delete("/<version>/sobjects/<sobject>/<field>/<path:value>")
def delete_by_external_id(version: str, sobject: str, field: str, value: str):
    _refuse_traversal(sobject, field, value)
    o = org()
    o.delete(sobject, o.one_by_external_id(sobject, field, value), g.user_id)
    return Response(status=204)


# -- query and search ----------------------------------------------------------------------------
def batch_size(options: str) -> int:
    """The page size a ``Sforce-Query-Options: batchSize=N`` header asks for (200 to 2,000)."""
    match = _BATCH.search(options)
    if not match:
        return 2000
    return min(max(int(match.group(1)), 200), 2000)


def _batch_size() -> int:
    return batch_size(request.headers.get("Sforce-Query-Options", ""))


def _q() -> str:
    if "explain" in request.args:
        raise errors.NotImplementedByFake("The fake org does not implement query plans (explain)")
    text = request.args.get("q")
    if text is None or not text.strip():
        raise errors.MalformedQuery("The 'q' parameter is required and must hold the query text")
    return text


@bp.get("/<version>/query")
def query(version: str):
    if request.args.get("columns", "").lower() == "true":
        return json_response(org().query_columns(_q()))
    return json_response(org().query(_q(), include_deleted=False, batch_size=_batch_size(),
                                     user_id=g.user_id, api_version=version))


@bp.get("/<version>/queryAll")
def query_all(version: str):
    return json_response(org().query(_q(), include_deleted=True, batch_size=_batch_size(),
                                     user_id=g.user_id, api_version=version))


@bp.get("/<version>/query/<locator>")
@bp.get("/<version>/queryAll/<locator>")
def query_more(version: str, locator: str):
    return json_response(org().query_more(locator))


@bp.get("/<version>/search")
def search(version: str):
    text = request.args.get("q")
    if text is None or not text.strip():
        raise errors.MalformedSearch("The 'q' parameter is required and must hold the search text")
    return json_response(org().search(text))


@bp.get("/<version>/recent")
def recent(version: str):
    limit = request.args.get("limit", "200")
    if not limit.isdigit() or not 0 < int(limit) <= 200:
        raise errors.InvalidParameterValue("limit must be a whole number from 1 to 200")
    return json_response(org().recent(int(limit)))


@bp.get("/<version>/limits")
def limits(version: str):
    return json_response(org().limits())


# -- composite sObject collections ---------------------------------------------------------------
def _records_body() -> tuple[list[dict], bool]:
    body = _object_body()
    records = body.get("records")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise errors.JsonParserError("'records' must be a list of record objects")
    if len(records) > _COMPOSITE_MAX:
        raise errors.ExceededIdLimit(f"Too many records: at most {_COMPOSITE_MAX} per request")
    return records, flag(body, "allOrNone")


def _batch_response(results) -> Response:
    return json_response([
        {"id": r.id, "success": True, "errors": []} if r.success else
        {"id": None, "success": False, "errors": [{"statusCode": r.error.error_code,
                                                  "message": r.error.message, "fields": r.error.fields}]}
        for r in results])


@bp.post("/<version>/composite/sobjects")
def collection_create(version: str):
    records, all_or_none = _records_body()
    return _batch_response(org().apply_batch("create", records, all_or_none, g.user_id))


@bp.patch("/<version>/composite/sobjects")
def collection_update(version: str):
    records, all_or_none = _records_body()
    return _batch_response(org().apply_batch("update", records, all_or_none, g.user_id))


@bp.delete("/<version>/composite/sobjects")
def collection_delete(version: str):
    ids = [i for i in request.args.get("ids", "").split(",") if i]
    if not ids:
        raise errors.MalformedId("The 'ids' parameter is required")
    if len(ids) > _COMPOSITE_MAX:
        raise errors.ExceededIdLimit(f"Too many ids: at most {_COMPOSITE_MAX}")
    all_or_none = request.args.get("allOrNone", "false").lower()
    if all_or_none not in ("true", "false"):
        raise errors.InvalidParameterValue("allOrNone must be true or false")
    all_or_none = all_or_none == "true"
    return _batch_response(org().apply_batch("delete", ids, all_or_none, g.user_id))


@bp.get("/<version>/composite/sobjects/<sobject>")
def collection_get(version: str, sobject: str):
    ids = [i for i in request.args.get("ids", "").split(",") if i]
    return _retrieve(sobject, ids, _fields_param())


@bp.post("/<version>/composite/sobjects/<sobject>")
def collection_retrieve(version: str, sobject: str):
    """The POST form of a multi-record retrieve: ``{"ids": [...], "fields": [...]}``."""
    body = _object_body()
    ids, fields = body.get("ids"), body.get("fields")
    if not isinstance(ids, list) or not isinstance(fields, list) or not all(
            isinstance(v, str) for v in ids + fields):
        raise errors.InvalidParameterValue("'ids' and 'fields' must be lists of strings")
    return _retrieve(sobject, ids, fields)


def _retrieve(sobject: str, ids: list[str], fields: list[str] | None) -> Response:
    if not ids or not fields:
        raise errors.InvalidParameterValue("The 'ids' and 'fields' parameters are required")
    if len(ids) > 2000:
        raise errors.ExceededIdLimit("Too many ids: at most 2000")
    return json_response(org().get_many(sobject, ids, fields))


# -- Salesforce APIs the fake does not implement: refused by name, never a misleading 404 ------------
_UNIMPLEMENTED = {
    "tooling": "the Tooling API",
    "actions": "invocable actions",
    "analytics": "the Reports and Dashboards API",
    "chatter": "Chatter REST",
    "connect": "Connect REST",
    "ui-api": "the User Interface API",
    "process": "the Process and Approval APIs",
    "parameterizedSearch": "parameterized search (use search/ with SOSL)",
    "appMenu": "the App Menu resource",
    "compactLayouts": "compact layouts",
    "consent": "the Consent API",
    "recentlyViewed": "recently viewed items (use recent/)",
    "quickActions": "quick actions",
    "theme": "themes",
    "support": "the Support and Knowledge resources",
    "knowledgeManagement": "Knowledge management",
    "localizedvalue": "localized values",
    "scheduling": "Lightning Scheduler",
    "async-queries": "Async SOQL",
    "eclair": "the Maps resources",
}
# Resources under ones the fake implements.
_UNIMPLEMENTED_BELOW = {
    "limits/recordCount": "record counts (limits/recordCount)",
    "search/scopeOrder": "the search scope order",
    "search/layout": "search result layouts",
    "search/suggestions": "search suggestions",
    "search/suggestTitleMatches": "search title suggestions",
    "sobjects/<sobject>/listviews": "list views",
    "sobjects/<sobject>/quickActions": "quick actions",
    "sobjects/<sobject>/eventSchema": "platform event schemas",
    "sobjects/<sobject>/describe/layouts": "page layouts",
    "sobjects/<sobject>/describe/compactLayouts": "compact layouts",
    "sobjects/<sobject>/describe/approvalLayouts": "approval layouts",
}


@bp.route("/<version>/<any(" + ", ".join(f'"{k}"' for k in _UNIMPLEMENTED) + "):area>",
          methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
@bp.route("/<version>/<any(" + ", ".join(f'"{k}"' for k in _UNIMPLEMENTED) + "):area>/<path:rest>",
          methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
def not_implemented(version: str, area: str = "", rest: str = "", sobject: str = "", label: str = ""):
    raise errors.NotImplementedByFake(f"The fake org does not implement {label or _UNIMPLEMENTED[area]}: "
                                      f"{request.method} {request.path}")


for _path, _label in _UNIMPLEMENTED_BELOW.items():
    for _rule in (f"/<version>/{_path}", f"/<version>/{_path}/<path:rest>"):
        bp.add_url_rule(_rule, "not_implemented", not_implemented, defaults={"label": _label},
                        methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
