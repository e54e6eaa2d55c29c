"""Running compiled SOQL: pages, query locators (``cursors``) and shaping rows into records.

The engine is handed what it reads (the store, the schema, the cursors, the clock's ``now`` and
the default order); the org owns them and holds its lock around each call.
"""
from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from .. import errors, urls
from .compiler import MAX_INT, Compiled, Context, Ordering, Shape, compile_query
from .cursors import Cursor, Cursors
from .parser import parse_query


def run_query(store, schema, cursors: Cursors, text: str, *, now: datetime, order: Ordering,
              include_deleted: bool, batch_size: int = 2000, user_id: str | None = None,
              fiscal_start_month: int = 1, api_version: str | None = None) -> dict:
    """The first page of a SOQL query: ``{"totalSize", "done", "records"[, "nextRecordsUrl"]}``.
    ``user_id``: the running user (``USING SCOPE mine``); ``api_version``: the request's
    (``v52.0``), the fake's own when None."""
    select = parse_query(text)
    ctx = Context(schema, text, now=now, order=order, include_deleted=include_deleted,
                  user_id=user_id, fiscal_start_month=fiscal_start_month,
                  api_version=api_version)
    compiled = guard(lambda: compile_query(ctx, select))
    prepare(store, compiled)
    return guard(lambda: _first_page(store, schema, cursors, compiled, batch_size))


def prepare(store, compiled: Compiled) -> None:
    """Create the indexes the statement's filters read, the first time any statement needs them."""
    for sobject, field, text, ordered in compiled.indexes:
        store.ensure_index(sobject, field, nocase=text, ordered=ordered)
    for sobject, field in compiled.trigrams:
        store.ensure_trigrams(sobject, field)


def _count(store, compiled: Compiled) -> int:
    if compiled.whole is not None:
        return store.row_count(*compiled.whole)
    return store.execute(compiled.count_sql, compiled.count_params).fetchone()[0]


def query_more(store, schema, cursors: Cursors, locator: str) -> dict:
    """A later page: ``locator`` is the last segment of ``nextRecordsUrl`` (``01g...-2000``)."""
    key, _, start = (locator or "").rpartition("-")
    cursor = cursors.get(key)
    if cursor is None or not start.isdigit() or int(start) >= max(cursor.total, 1):
        raise errors.InvalidQueryLocator("invalid query locator")
    return guard(lambda: _page(store, schema, key, cursor, int(start)))


def guard(run, error_class=errors.MalformedQuery):
    """A statement too deep to compile, or that SQLite refuses (too many terms), is the query's
    fault: a 400, as Salesforce's limits on query complexity are."""
    try:
        return run()
    except (sqlite3.OperationalError, OverflowError, RecursionError) as e:
        message = "Query is too complicated" if "too" in str(e) or isinstance(e, RecursionError) \
            else f"The query could not be run: {e}"
        raise error_class(message) from None


def _first_page(store, schema, cursors: Cursors, compiled: Compiled, batch_size: int) -> dict:
    if compiled.kind == "count":
        total = _window(_count(store, compiled), compiled)
        return {"totalSize": total, "done": True, "records": []}
    limit = compiled.limit if compiled.limit is not None else MAX_INT
    want = min(batch_size, limit)
    # One row more than the page tells whether another page follows (and a count is needed).
    rows = _rows(store, compiled, 0, want + 1 if want < limit else want)
    if len(rows) <= want:
        return {"totalSize": len(rows), "done": True,
                "records": shape_rows(store, schema, compiled, rows)}
    rows = rows[:want]
    total = _window(_count(store, compiled), compiled)
    cursor = Cursor(compiled, total, batch_size)
    key = cursors.open(cursor)
    return _answer(store, schema, key, cursor, 0, rows)


def _window(count: int, compiled: Compiled) -> int:
    total = max(count - compiled.offset, 0)
    return total if compiled.limit is None else min(total, compiled.limit)


def _page(store, schema, key: str, cursor: Cursor, start: int) -> dict:
    n = min(cursor.batch_size, cursor.total - start)
    rows = _rows(store, cursor.compiled, start, n)
    return _answer(store, schema, key, cursor, start, rows)


def _answer(store, schema, key: str, cursor: Cursor, start: int, rows: list) -> dict:
    end = start + len(rows)
    answer = {"totalSize": cursor.total, "done": end >= cursor.total or not rows,
              "records": shape_rows(store, schema, cursor.compiled, rows)}
    if not answer["done"]:
        answer["nextRecordsUrl"] = urls.query_page_url(key, end)
    return answer


def _rows(store, compiled: Compiled, start: int, n: int) -> list:
    sql = compiled.sql + " LIMIT ? OFFSET ?"
    return store.execute(sql, [*compiled.params, n, compiled.offset + start]).fetchall()


# == shaping ======================================================================================
def shape_rows(store, schema, compiled: Compiled, rows: list) -> list[dict]:
    shape = compiled.shape
    children = {}
    if compiled.children and rows:
        ids = [row[shape.id_index] for row in rows]
        children = {plan.key: _run_child(store, schema, plan, ids) for plan in compiled.children}
    return [build(schema, shape, row, children) for row in rows]


def build(schema, shape: Shape, row, children: dict) -> dict | None:
    if shape.aggregate:
        record = {"attributes": {"type": "AggregateResult"}}
    else:
        record_id = row[shape.id_index]
        if record_id is None:
            return None
        if shape.polymorphic:
            actual = schema.by_prefix(record_id[:3])
            url = urls.record_url(actual.name if actual else "Name", record_id)
            shown = actual.name if shape.typed and actual else "Name"
            record = {"attributes": {"type": shown, "url": url}}
        else:
            record = {"attributes": {"type": shape.type_name,
                                     "url": urls.record_url(shape.type_name, record_id)}}
    for key, kind, payload in shape.entries:
        if kind == "field":
            index, convert = payload
            record[key] = convert(row[index])
        elif kind == "rel":
            record[key] = build(schema, payload, row, children)
        elif kind == "type":
            value = row[payload]
            obj = schema.by_prefix(value[:3]) if value else None
            record[key] = obj.name if obj else None
        elif kind == "geo":
            lat, lon = row[payload[0]], row[payload[1]]
            record[key] = None if lat is None and lon is None else {"latitude": lat, "longitude": lon}
        elif kind == "typeof":
            index, whens, otherwise = payload
            value = row[index]
            obj = schema.by_prefix(value[:3]) if value else None
            if obj is None:
                record[key] = None
                continue
            sub = whens.get(obj.name.lower(), otherwise)
            record[key] = build(schema, sub, row, children) if sub is not None else {
                "attributes": {"type": obj.name, "url": urls.record_url(obj.name, value)}}
        else:
            record[key] = children.get(key, {}).get(row[shape.id_index])
    return record


def _run_child(store, schema, plan, parent_ids: list) -> dict:
    """Each parent's nested result, ``{"totalSize", "done": true, "records"}``; absent when empty."""
    rows = store.execute(plan.sql, [json.dumps(parent_ids), *plan.params]).fetchall()
    grouped: dict = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    kept = {}
    for parent, items in grouped.items():
        items = items[plan.offset:]
        if plan.limit is not None:
            items = items[:plan.limit]
        if items:
            kept[parent] = items
    nested = {}
    if plan.children and kept:
        ids = [r[plan.shape.id_index] for items in kept.values() for r in items]
        nested = {sub.key: _run_child(store, schema, sub, ids) for sub in plan.children}
    out = {}
    for parent, items in kept.items():
        records = [build(schema, plan.shape, r, nested) for r in items]
        out[parent] = {"totalSize": len(records), "done": True, "records": records}
    return out
