"""Bulk API 2.0: ingest and query jobs, owned by the org and wiped with it.

Jobs move on deterministically, never on a timer: a closed ingest job (or a new query job)
is worked the first time a client polls it, or when the control API says so
(``POST /_fake/bulk/complete``). With ``Org(bulk_polls=N)`` a job first answers
``InProgress`` to N polls, so clients' waiting loops can be exercised.

Where the fake differs from Salesforce: all rows of a job are worked in one go (no 10,000-row
internal batches, no retries); ``hardDelete`` deletes as ``delete`` does (the fake's recycle
bin is not emptied); query results are taken when the job is worked, not streamed.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from . import errors, urls
from .clock import format_datetime
from .soql import parse_query
from .soql.ast import Func, SelectSubquery, TypeOf
from .soql.compiler import AGGREGATES
from .soql.columns import column_metadata
from .store import collector_paused

OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
QUERY_OPERATIONS = ("query", "queryAll")
DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
NULL = "#N/A"   # Bulk 2.0's way to set a field to null (an empty value leaves it unchanged)
MAX_RECORDS = 100_000_000


@dataclass
class Job:
    id: str
    kind: str                 # "ingest" or "query"
    operation: str
    object: str
    user_id: str
    created: str
    delimiter: str = "COMMA"
    line_ending: str = "LF"
    external_id: str | None = None
    query: str | None = None
    state: str = "Open"
    modstamp: str = ""
    polls_left: int = 0
    error: str | None = None
    header: list[str] | None = None
    rows: list[list[str]] = field(default_factory=list)
    results: list[tuple] = field(default_factory=list)     # ingest: (row, id, created, error)
    columns: list[str] = field(default_factory=list)        # query: result columns
    records: list[list[str]] = field(default_factory=list)  # query: result rows
    processed: int = 0
    failed: int = 0
    line_ending_mismatch: bool = False   # an upload's lines end otherwise than lineEnding says

    def info(self) -> dict:
        out = {"id": self.id, "operation": self.operation, "object": self.object,
               "createdById": self.user_id, "createdDate": self.created,
               "systemModstamp": self.modstamp or self.created, "state": self.state,
               "concurrencyMode": "Parallel", "contentType": "CSV",
               "apiVersion": float(urls.API_VERSION), "lineEnding": self.line_ending,
               "columnDelimiter": self.delimiter}
        if self.kind == "ingest":
            out.update(externalIdFieldName=self.external_id, jobType="V2Ingest",
                       contentUrl=f"services/data/v{urls.API_VERSION}/jobs/ingest/{self.id}/batches",
                       numberRecordsProcessed=self.processed, numberRecordsFailed=self.failed)
        else:
            out.update(jobType="V2Query", query=self.query, numberRecordsProcessed=self.processed)
        out.update(retries=0, totalProcessingTime=0, apiActiveProcessingTime=0, apexProcessingTime=0)
        if self.error:
            out["errorMessage"] = self.error
        return out


def _choice(body: dict, key: str, allowed, default: str) -> str:
    value = body.get(key, default)
    if not isinstance(value, str) or value not in allowed:
        raise errors.InvalidJob(f"Invalid {key} '{value}': expected one of {', '.join(allowed)}")
    return value


def _job_state_error(job: Job, wanted: str) -> errors.SalesforceError:
    return errors.InvalidJobState(f"Job {job.id} is in state {job.state}; {wanted}")


class BulkJobs:
    """The Bulk API 2.0 jobs of one org."""

    def __init__(self, org):
        self.org = org
        self.jobs: dict[str, Job] = {}

    def reset(self) -> None:
        self.jobs.clear()

    def _now(self) -> str:
        return format_datetime(self.org.clock.now())

    def _new(self, kind: str, body: dict, user_id: str, **fields) -> Job:
        job = Job(self.org.ids.next("750"), kind, user_id=user_id, created=self._now(),
                  delimiter=_choice(body, "columnDelimiter", DELIMITERS, "COMMA"),
                  line_ending=_choice(body, "lineEnding", LINE_ENDINGS, "LF"),
                  polls_left=self.org.config.bulk_polls, **fields)
        if body.get("contentType", "CSV") != "CSV":
            raise errors.InvalidJob("contentType must be CSV")
        self.jobs[job.id] = job
        return job

    def get(self, kind: str, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None or job.kind != kind:
            raise errors.NotFound("The requested resource does not exist")
        return job

    def list(self, kind: str) -> dict:
        return {"done": True, "nextRecordsUrl": None,
                "records": [j.info() for j in self.jobs.values() if j.kind == kind]}

    # == ingest =====================================================================================
    def create_ingest(self, body: dict, user_id: str) -> Job:
        if body.get("assignmentRuleId") is not None:   # the fake has no assignment rules to run
            raise errors.NotImplementedByFake("Bulk API 2.0 assignmentRuleId (assignment rules) is "
                                              "not implemented by the fake org")
        operation = _choice(body, "operation", OPERATIONS, "")
        obj = self.org.sobject(str(body.get("object") or ""))
        external = body.get("externalIdFieldName")
        if operation == "upsert":
            if not external:
                raise errors.InvalidJob("externalIdFieldName is required for upsert")
            f = obj.field(str(external))
            if f is None or not (f.external_id or f.unique or f.name == "Id"):
                raise errors.InvalidJob(f"The external id field {external} does not exist or is "
                                        f"not an external id of {obj.name}")
            external = f.name
        return self._new("ingest", body, user_id, operation=operation, object=obj.name,
                         external_id=external if operation == "upsert" else None)

    def upload(self, job_id: str, data: bytes) -> None:
        job = self.get("ingest", job_id)
        if job.state != "Open":
            raise _job_state_error(job, "data can only be uploaded to an Open job")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise errors.InvalidBatch("The CSV data is not UTF-8") from None
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITERS[job.delimiter])
        try:  # read it all before keeping any of it: a refused upload adds no row
            header = next(reader, None)
            with collector_paused():   # one new list per row
                rows = [r for r in reader if r]
        except csv.Error as e:  # a field past csv's limit, 131,072 characters as Salesforce's
            raise errors.InvalidBatch(f"The CSV data cannot be read at line {reader.line_num}: {e}") from None
        if not header or not any(h.strip() for h in header):
            raise errors.InvalidBatch("The CSV data has no header row")
        header = [h.strip() for h in header]
        if job.header is not None and header != job.header:
            raise errors.InvalidBatch("Every upload of a job must have the same header row")
        job.header = header
        job.rows.extend(rows)
        crlf = text.count("\r\n")
        if crlf if job.line_ending == "LF" else crlf != text.count("\n"):
            job.line_ending_mismatch = True

    def set_state(self, kind: str, job_id: str, state: str) -> Job:
        job = self.get(kind, job_id)
        if state == "Aborted":
            if job.state in ("JobComplete", "Failed", "Aborted"):
                raise _job_state_error(job, "only a job that is not finished can be aborted")
            job.state = "Aborted"
        elif state == "UploadComplete" and kind == "ingest":
            if job.state != "Open":
                raise _job_state_error(job, "only an Open job can be closed")
            job.state = "UploadComplete"
        else:
            raise errors.InvalidJobState(f"Cannot set the state of a {kind} job to '{state}'")
        job.modstamp = self._now()
        return job

    def delete(self, kind: str, job_id: str) -> None:
        job = self.get(kind, job_id)
        if job.state in ("Open", "UploadComplete", "InProgress"):
            raise _job_state_error(job, "only a finished or aborted job can be deleted")
        del self.jobs[job_id]

    def poll(self, kind: str, job_id: str) -> Job:
        """A client asks how the job is doing: this is what moves it on."""
        job = self.get(kind, job_id)
        if job.state in ("UploadComplete", "InProgress"):
            if job.polls_left > 0:
                job.polls_left -= 1
                job.state = "InProgress"
            else:
                self._work(job)
        return job

    def complete_all(self) -> int:
        """Work every job that is waiting; how many were worked."""
        waiting = [j for j in self.jobs.values() if j.state in ("UploadComplete", "InProgress")]
        for job in waiting:
            self._work(job)
        return len(waiting)

    def _work(self, job: Job) -> None:
        with collector_paused():
            self._work_job(job)

    def _work_job(self, job: Job) -> None:
        try:
            if job.kind == "query":
                self._run_query(job)
            elif not job.header:
                job.state, job.error = "Failed", "InvalidBatch : No data was uploaded to the job"
            elif job.line_ending_mismatch:
                job.state, job.error = "Failed", ("ClientInputError : LineEnding is invalid on user data. "
                                                  f"Current LineEnding setting is {job.line_ending}")
            else:
                self._ingest(job)
        except errors.SalesforceError as e:
            job.state, job.error = "Failed", f"{e.error_code} : {e.message}"
        job.modstamp = self._now()

    def _ingest(self, job: Job) -> None:
        org = self.org
        obj = org.sobject(job.object)
        header = job.header
        columns = [(name, *self._column(obj, name)) for name in header]
        bad = [name for name, f, _ in columns if f is None]
        if bad:
            job.state = "Failed"
            job.error = f"InvalidBatch : Field name not found : {bad[0]}"
            return
        seen: set = set()
        for name, f, lookup in columns:   # two columns for one field: which value would win?
            if (f.name, lookup) in seen:
                job.state = "Failed"
                job.error = f"InvalidBatch : Duplicate field name : {name}"
                return
            seen.add((f.name, lookup))
        results: list[tuple] = []
        items, positions = [], []
        for row in job.rows:
            try:
                values = self._values(job, columns, row)
            except errors.SalesforceError as e:
                results.append((row, None, False, e))
                continue
            positions.append(len(results))
            results.append(None)
            items.append((row, values))
        if job.operation in ("insert", "update"):
            op = "create" if job.operation == "insert" else "update"
            batch = org.apply_batch(op, [{"attributes": {"type": obj.name}, **v} for _, v in items],
                                    user_id=job.user_id)
            for pos, (row, _), r in zip(positions, items, batch):
                results[pos] = (row, r.id, job.operation == "insert" and r.error is None, r.error)
        elif job.operation in ("delete", "hardDelete"):
            ids = [v.get("Id") or "" for _, v in items]
            batch = org.apply_batch("delete", ids, user_id=job.user_id)
            for pos, (row, _), r in zip(positions, items, batch):
                results[pos] = (row, r.id, False, r.error)
        else:
            with org.lock, org.transaction():   # one transaction; each row's upsert in a savepoint
                for pos, (row, values) in zip(positions, items):
                    key = values.pop(job.external_id, None)
                    try:
                        if key is None:
                            raise errors.RequiredFieldMissing(
                                f"Required fields are missing: [{job.external_id}]", [job.external_id])
                        record_id, created = org.upsert(obj.name, job.external_id, key, values, job.user_id)
                        results[pos] = (row, record_id, created, None)
                    except errors.SalesforceError as e:
                        results[pos] = (row, None, False, e)
        job.results = results
        job.processed = len(results)
        job.failed = sum(1 for r in results if r[3] is not None)
        job.state = "JobComplete"

    def _column(self, obj, name: str):
        """(field, related lookup field) for a header: ``Email`` or ``Account.ExternalId__c``."""
        if "." in name:
            relationship, _, target_field = name.partition(".")
            ref = obj.relationship(relationship)
            return (ref, target_field) if ref is not None else (None, None)
        return obj.field(name), None

    def _values(self, job: Job, columns, row: list[str]) -> dict:
        if len(row) != len(columns):
            raise errors.InvalidField(f"The row has {len(row)} values for {len(columns)} columns")
        values = {}
        for (name, f, lookup), raw in zip(columns, row):
            if raw == "":
                continue
            if raw == NULL:
                values[f.name] = None
            elif lookup:
                target = f.reference_to[0]
                ids = self.org.find_by_external(target, lookup, raw)
                if len(ids) != 1:
                    raise errors.InvalidFieldForInsertUpdate(
                        f"Foreign key external ID: {raw} not found for field {lookup} in entity {target}"
                        if not ids else f"More than 1 record found for external id field: {lookup}",
                        [f.name])
                values[f.name] = ids[0]
            else:
                values[f.name] = raw
        return values

    def ingest_results(self, job_id: str, which: str) -> tuple[list[str], list[list]]:
        """(header, rows) of ``successfulResults``, ``failedResults`` or ``unprocessedrecords``."""
        job = self.get("ingest", job_id)
        header = job.header or []
        if which == "unprocessedrecords":
            done = len(job.results) if job.state == "JobComplete" else 0
            return header, job.rows[done:]
        if job.state != "JobComplete":
            return (["sf__Id", "sf__Created" if which == "successfulResults" else "sf__Error", *header], [])
        with collector_paused():   # one new list per row
            if which == "successfulResults":
                return (["sf__Id", "sf__Created", *header],
                        [[rid, "true" if created else "false", *row]
                         for row, rid, created, error in job.results if error is None])
            return (["sf__Id", "sf__Error", *header],
                    [["", _error_text(error), *row] for row, rid, created, error in job.results
                     if error is not None])

    # == query ======================================================================================
    def create_query(self, body: dict, user_id: str) -> Job:
        operation = _choice(body, "operation", QUERY_OPERATIONS, "query")
        text = body.get("query")
        if not isinstance(text, str) or not text.strip():
            raise errors.InvalidJob("query is required")
        self.org.query(text, include_deleted=operation == "queryAll", batch_size=200)  # fails as Salesforce does at create
        select = parse_query(text)
        _check_bulk_query(select)
        job = self._new("query", body, user_id, operation=operation, object=select.source.name, query=text)
        job.state = "UploadComplete"
        return job

    def _run_query(self, job: Job) -> None:
        org = self.org
        page = org.query(job.query, include_deleted=job.operation == "queryAll", batch_size=2000)
        columns = _column_names(column_metadata(org, job.query)["columnMetadata"])
        flat_records = []
        while True:
            flat_records.extend(_flatten(record) for record in page["records"])
            if page.get("done", True):
                break
            page = org.query_more(page["nextRecordsUrl"].rsplit("/", 1)[1])
        job.columns = columns
        job.records = [[r.get(c, "") for c in columns] for r in flat_records]
        job.processed = len(job.records)
        job.state = "JobComplete"

    def query_results(self, job_id: str, locator: str | None, max_records: int | None
                      ) -> tuple[list[str], list[list], str | None]:
        """(header, rows, next locator) of one page of a finished query job's results."""
        job = self.get("query", job_id)
        if job.state != "JobComplete":
            raise _job_state_error(job, "results are available once the job is JobComplete")
        if locator in (None, "", "null"):
            start = 0
        elif locator.isascii() and locator.isdigit() and int(locator) <= len(job.records):
            start = int(locator)
        else:
            raise errors.InvalidQueryLocator(f"invalid locator: {locator}")
        size = max_records or len(job.records) or 1
        rows = job.records[start:start + size]
        following = start + size
        return job.columns, rows, str(following) if following < len(job.records) else None


def _check_bulk_query(select) -> None:
    """Refuse at creation what Bulk API 2.0 does not run: GROUP BY, OFFSET, TYPEOF, aggregate
    functions, FIELDS() and child-relationship subqueries (Salesforce's documented limits; the
    fake's errorCode for them is INVALIDJOB)."""
    if select.group_by or select.having:
        raise errors.InvalidJob("Bulk API 2.0 query jobs do not support GROUP BY")
    if select.offset is not None:
        raise errors.InvalidJob("Bulk API 2.0 query jobs do not support OFFSET")
    for item in select.items:
        if isinstance(item, TypeOf):
            raise errors.InvalidJob("Bulk API 2.0 query jobs do not support TYPEOF")
        if isinstance(item, SelectSubquery):
            raise errors.InvalidJob("Bulk API 2.0 query jobs do not support subqueries of child relationships")
        if isinstance(item.expr, Func) and item.expr.name.upper() in AGGREGATES | {"FIELDS"}:
            raise errors.InvalidJob(f"Bulk API 2.0 query jobs do not support {item.expr.name.upper()}()")


def _column_names(metadata: list[dict], prefix: str = "") -> list[str]:
    """CSV columns of a query: parent fields as ``Account.Name``."""
    names = []
    for column in metadata:
        if column["joinColumns"]:
            names += _column_names(column["joinColumns"], f"{prefix}{column['columnName']}.")
        else:
            names.append(prefix + column["columnName"])
    return names


def _flatten(record: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        elif value is None:
            out[prefix + key] = ""
        elif isinstance(value, bool):
            out[prefix + key] = "true" if value else "false"
        else:
            out[prefix + key] = str(value)
    return out


def _error_text(error: errors.SalesforceError) -> str:
    return f"{error.error_code}:{error.message}:{','.join(error.fields)} --"


def to_csv(header: list[str], rows: list[list], delimiter: str = "COMMA", line_ending: str = "LF") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=DELIMITERS[delimiter], lineterminator=LINE_ENDINGS[line_ending],
                        quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
