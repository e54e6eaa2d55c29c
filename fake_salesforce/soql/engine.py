"""Running compiled SOQL: pages, query locators (cursors) and shaping rows into records.

Where the fake differs from Salesforce: a cursor re-reads its statement for each page
(``LIMIT``/``OFFSET`` over the same ordering) instead of holding a snapshot, so records changed
between pages can move; cursors live until the org is reset (the newest 1,000 are kept).
"""
from __future__ import annotations

import itertools
import json
import sqlite3
from dataclasses import dataclass

from .. import errors, urls
from ..ids import checksum
from .compiler import MAX_INT, Compiled, Context, Shape, compile_query
from .parser import parse_query

MAX_CURSORS = 1000
LOCATOR_PREFIX = "01g"


@dataclass
class Cursor:
    compiled: Compiled
    total: int
    batch_size: int


def run_query(org, text: str, *, include_deleted: bool, batch_size: int = 2000) -> dict:
    """The first page of a SOQL query: ``{"totalSize", "done", "records"[, "nextRecordsUrl"]}``."""
    select = parse_query(text)
    with org.lock:
        ctx = Context(org, text, include_deleted=include_deleted)
        compiled = guard(lambda: compile_query(ctx, select))
        return guard(lambda: _first_page(org, compiled, batch_size))


def query_more(org, locator: str) -> dict:
    """A later page: ``locator`` is the last segment of ``nextRecordsUrl`` (``01g...-2000``)."""
    key, _, start = (locator or "").rpartition("-")
    cursor = org._query_cursors.get(key)
    if cursor is None or not start.isdigit() or int(start) >= max(cursor.total, 1):
        raise errors.InvalidQueryLocator("invalid query locator")
    with org.lock:
        return guard(lambda: _page(org, key, cursor, int(start)))


def guard(run, error_class=errors.MalformedQuery):
    """A statement too deep to compile, or that SQLite refuses (too many terms), is the query's
    fault: a 400, as Salesforce's limits on query complexity are."""
    try:
        return run()
    except (sqlite3.OperationalError, OverflowError, RecursionError) as e:
        message = "Query is too complicated" if "too" in str(e) or isinstance(e, RecursionError) \
            else f"The query could not be run: {e}"
        raise error_class(message) from None


def _first_page(org, compiled: Compiled, batch_size: int) -> dict:
    if compiled.kind == "count":
        count = org.store.execute(compiled.sql, compiled.params).fetchone()[0]
        total = _window(count, compiled)
        return {"totalSize": total, "done": True, "records": []}
    limit = compiled.limit if compiled.limit is not None else MAX_INT
    want = min(batch_size, limit)
    # One row more than the page tells whether another page follows (and a count is needed).
    rows = _rows(org, compiled, 0, want + 1 if want < limit else want)
    if len(rows) <= want:
        return {"totalSize": len(rows), "done": True, "records": shape_rows(org, compiled, rows)}
    rows = rows[:want]
    total = _window(org.store.execute(compiled.count_sql, compiled.count_params).fetchone()[0], compiled)
    cursor = Cursor(compiled, total, batch_size)
    key = _new_locator(org)
    cursors = org._query_cursors
    cursors[key] = cursor
    while len(cursors) > MAX_CURSORS:
        cursors.pop(next(iter(cursors)))
    return _answer(org, key, cursor, 0, rows)


def _window(count: int, compiled: Compiled) -> int:
    total = max(count - compiled.offset, 0)
    return total if compiled.limit is None else min(total, compiled.limit)


def _page(org, key: str, cursor: Cursor, start: int) -> dict:
    n = min(cursor.batch_size, cursor.total - start)
    rows = _rows(org, cursor.compiled, start, n)
    return _answer(org, key, cursor, start, rows)


def _answer(org, key: str, cursor: Cursor, start: int, rows: list) -> dict:
    end = start + len(rows)
    answer = {"totalSize": cursor.total, "done": end >= cursor.total or not rows,
              "records": shape_rows(org, cursor.compiled, rows)}
    if not answer["done"]:
        answer["nextRecordsUrl"] = urls.query_page_url(key, end)
    return answer


def _rows(org, compiled: Compiled, start: int, n: int) -> list:
    sql = compiled.sql + " LIMIT ? OFFSET ?"
    return org.store.execute(sql, [*compiled.params, n, compiled.offset + start]).fetchall()


def _new_locator(org) -> str:
    seq = getattr(org, "_query_locator_seq", None)
    if seq is None:
        seq = org._query_locator_seq = itertools.count(1)
    body = f"{LOCATOR_PREFIX}{org.ids.instance}{next(seq):09d}"
    return body + checksum(body)


# == shaping ======================================================================================
def shape_rows(org, compiled: Compiled, rows: list) -> list[dict]:
    shape = compiled.shape
    children = {}
    if compiled.children and rows:
        ids = [row[shape.id_index] for row in rows]
        children = {plan.key: _run_child(org, plan, ids) for plan in compiled.children}
    return [build(org, shape, row, children) for row in rows]


def build(org, shape: Shape, row, children: dict) -> dict | None:
    if shape.aggregate:
        record = {"attributes": {"type": "AggregateResult"}}
    else:
        record_id = row[shape.id_index]
        if record_id is None:
            return None
        if shape.polymorphic:
            actual = org.schema.by_prefix(record_id[:3])
            url = org.record_url(actual.name if actual else "Name", record_id)
            record = {"attributes": {"type": "Name", "url": url}}
        else:
            record = {"attributes": {"type": shape.type_name,
                                     "url": org.record_url(shape.type_name, record_id)}}
    for key, kind, payload in shape.entries:
        if kind == "field":
            index, convert = payload
            record[key] = convert(row[index])
        elif kind == "rel":
            record[key] = build(org, payload, row, children)
        elif kind == "type":
            value = row[payload]
            obj = org.schema.by_prefix(value[:3]) if value else None
            record[key] = obj.name if obj else None
        else:
            record[key] = children.get(key, {}).get(row[shape.id_index])
    return record


def _run_child(org, plan, parent_ids: list) -> dict:
    """Each parent's nested result, ``{"totalSize", "done": true, "records"}``; absent when empty."""
    rows = org.store.execute(plan.sql, [json.dumps(parent_ids), *plan.params]).fetchall()
    grouped: dict = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    out = {}
    for parent, items in grouped.items():
        items = items[plan.offset:]
        if plan.limit is not None:
            items = items[:plan.limit]
        if items:
            records = [build(org, plan.shape, r, {}) for r in items]
            out[parent] = {"totalSize": len(records), "done": True, "records": records}
    return out
