"""Bulk API 2.0 over HTTP: ``/services/data/vNN.N/jobs/ingest`` and ``/jobs/query``.

Parses requests and writes CSV answers; the jobs themselves live in ``fake_salesforce.bulk``.
"""
from __future__ import annotations

from flask import Blueprint, Response, g, request

from .. import errors, urls
from ..bulk import to_csv
from . import org
from .data import authenticate, json_body
from .http import json_response, raw_body

bp = Blueprint("bulk", __name__, url_prefix=urls.DATA_PREFIX)
bp.before_request(authenticate)


@bp.before_request
def _one_process_only():
    if org().config.shared:
        raise errors.NotImplementedByFake("Bulk API 2.0 jobs are kept by one server process: "
                                          "serve without --workers to use them")
_CSV = "text/csv;charset=UTF-8"
_KINDS = "<any(ingest, query):kind>"
# Salesforce takes CSV uploads of up to 150 MB; past that the fake answers 413
# REQUEST_ENTITY_TOO_LARGE (Salesforce's own answer for it is not documented).
MAX_UPLOAD_BYTES = 150 * 1024 * 1024


def _object_body() -> dict:
    body = json_body()
    if not isinstance(body, dict):
        raise errors.JsonParserError("Expected a JSON object (the job's properties)")
    return body


def _csv(job, header, rows, headers: dict | None = None) -> Response:
    return Response(to_csv(header, rows, job.delimiter, job.line_ending), status=200,
                    headers=headers, content_type=_CSV)


@bp.post("/<version>/jobs/ingest")
def create_ingest(version: str):
    return json_response(org().bulk.create_ingest(_object_body(), g.user_id).info())


@bp.post("/<version>/jobs/query")
def create_query(version: str):
    return json_response(org().bulk.create_query(_object_body(), g.user_id).info())


@bp.get(f"/<version>/jobs/{_KINDS}")
def list_jobs(version: str, kind: str):
    return json_response(org().bulk.list(kind))


@bp.put("/<version>/jobs/ingest/<job_id>/batches")
def upload(version: str, job_id: str):
    if not (request.content_type or "").startswith("text/csv"):
        raise errors.UnsupportedMediaType("Upload the data as text/csv")
    request.max_content_length = MAX_UPLOAD_BYTES
    org().bulk.upload(job_id, raw_body(errors.InvalidBatch))
    return Response(status=201)


@bp.get(f"/<version>/jobs/{_KINDS}/<job_id>")
def job_info(version: str, kind: str, job_id: str):
    return json_response(org().bulk.poll(kind, job_id).info())


@bp.patch(f"/<version>/jobs/{_KINDS}/<job_id>")
def set_state(version: str, kind: str, job_id: str):
    state = _object_body().get("state")
    return json_response(org().bulk.set_state(kind, job_id, str(state)).info())


@bp.delete(f"/<version>/jobs/{_KINDS}/<job_id>")
def delete_job(version: str, kind: str, job_id: str):
    org().bulk.delete(kind, job_id)
    return Response(status=204)


@bp.get("/<version>/jobs/ingest/<job_id>/<any(successfulResults, failedResults, unprocessedrecords):which>")
def ingest_results(version: str, job_id: str, which: str):
    bulk = org().bulk
    header, rows = bulk.ingest_results(job_id, which)
    return _csv(bulk.get("ingest", job_id), header, rows)


@bp.get("/<version>/jobs/query/<job_id>/results")
def query_results(version: str, job_id: str):
    bulk = org().bulk
    max_records = request.args.get("maxRecords")
    if max_records is not None and (not max_records.isdigit() or int(max_records) < 1):
        raise errors.InvalidParameterValue("maxRecords must be a positive whole number")
    header, rows, locator = bulk.query_results(job_id, request.args.get("locator"),
                                                int(max_records) if max_records else None)
    return _csv(bulk.get("query", job_id), header, rows,
                {"Sforce-Locator": locator or "null", "Sforce-NumberOfRecords": str(len(rows))})
