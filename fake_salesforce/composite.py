"""Composite work that is more than one record call: sObject trees and multi-record upserts.

Both go through the org's own create and upsert, so each record meets the same checks as
its single-record call. (The ``/composite`` and ``/composite/batch`` envelopes, which replay
ordinary REST calls, are in ``api/composite.py``.)
"""
from __future__ import annotations

import re

from . import errors
from .org import Org
from .values import to_storage

TREE_MAX = 200
_REFERENCE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]*")


class _Undo(Exception):
    """Raised inside an org transaction to roll everything in it back."""


def create_tree(org: Org, sobject: str, records: list, user_id: str) -> tuple[bool, list[dict]]:
    """``POST composite/tree/{type}``: records with nested child records, all or nothing.

    Returns (has_errors, results): ``{"referenceId", "id"}`` for every record created, or the
    ``{"referenceId", "errors"}`` of the records that failed (and nothing is kept).
    """
    obj = org.sobject(sobject)
    if not isinstance(records, list) or not records:
        raise errors.JsonParserError("'records' must be a non-empty list of records")
    if _count(records) > TREE_MAX:
        raise errors.ExceededIdLimit(f"Too many records: at most {TREE_MAX} in one tree request")
    refused = _bad_references(records)
    if refused:
        return True, refused
    created: list[dict] = []
    failed: list[dict] = []
    try:
        with org.transaction():
            for record in records:
                _create_node(org, obj, record, {}, user_id, created, failed)
            if failed:
                raise _Undo()
    except _Undo:
        return True, failed
    return False, created


def _count(records) -> int:
    total = 0
    for record in records if isinstance(records, list) else []:
        total += 1
        if isinstance(record, dict):
            for value in record.values():
                if isinstance(value, dict) and isinstance(value.get("records"), list):
                    total += _count(value["records"])
    return total


def _nodes(records):
    """Every record of a tree (roots and nested children) that is a JSON object."""
    for record in records if isinstance(records, list) else []:
        if isinstance(record, dict):
            yield record
            for value in record.values():
                if isinstance(value, dict) and isinstance(value.get("records"), list):
                    yield from _nodes(value["records"])


def _bad_references(records) -> list[dict]:
    """The results refusing a tree whose records lack ``attributes.type`` or a
    ``referenceId`` (letters, digits and underscores, from a letter or digit, unique in the
    request): one per offending record, as Salesforce answers one per duplicate. The
    errorCode, INVALID_INPUT, is the fake's choice."""
    nodes = [a for a in (n.get("attributes") or {} for n in _nodes(records)) if isinstance(a, dict)]
    seen: dict = {}
    for attributes in nodes:
        reference = attributes.get("referenceId")
        if isinstance(reference, str):
            seen[reference] = seen.get(reference, 0) + 1
    out = []
    for attributes in nodes:
        reference = attributes.get("referenceId")
        if reference is None:
            message = "Each record of a tree needs attributes.referenceId"
        elif not isinstance(reference, str) or not _REFERENCE_ID.fullmatch(reference):
            message = f"Invalid referenceId {reference!r}: letters, digits and underscores, from a letter or digit"
        elif seen[reference] > 1:
            message = f"Duplicate ReferenceId provided in the request: {reference}"
        elif not attributes.get("type"):
            message = f"{reference}: attributes.type is required"
        else:
            continue
        out.append({"referenceId": reference, "errors": [
            {"statusCode": "INVALID_INPUT", "message": message, "fields": []}]})
    return out


def _create_node(org: Org, obj, record, parent_link: dict, user_id: str, created: list, failed: list):
    if not isinstance(record, dict):
        raise errors.JsonParserError("Each record of a tree must be a JSON object")
    attributes = record.get("attributes") or {}
    if not isinstance(attributes, dict) or not isinstance(attributes.get("type", ""), (str, type(None))):
        raise errors.JsonParserError("A record's attributes must be a JSON object with a string type")
    reference = attributes.get("referenceId")
    if attributes.get("type") and org.schema.get(attributes["type"]) is not obj:
        raise errors.InvalidType(f"Record type {attributes['type']} does not match {obj.name}")
    fields, children = dict(parent_link), []
    for key, value in record.items():
        if key == "attributes":
            continue
        relationship = obj.child(key) if isinstance(value, dict) else None
        if relationship is not None:
            if not isinstance(value.get("records") or [], list):
                raise errors.JsonParserError(f"{key}: 'records' must be a list of records")
            children.append((relationship, value.get("records") or []))
        else:
            fields[key] = value
    try:
        with org.transaction():
            new_id = org.create(obj.name, fields, user_id, allow_audit=False)
    except errors.SalesforceError as e:
        failed.append({"referenceId": reference, "errors": [
            {"statusCode": e.error_code, "message": e.message, "fields": e.fields}]})
        return
    created.append({"referenceId": reference, "id": new_id})
    for relationship, child_records in children:
        child_obj = org.sobject(relationship.child)
        for child in child_records:
            _create_node(org, child_obj, child, {relationship.field: new_id}, user_id, created, failed)


def upsert_many(org: Org, sobject: str, field: str, records: list, all_or_none: bool,
                user_id: str) -> list[dict]:
    """``PATCH composite/sobjects/{type}/{externalIdField}``: one result per record, in order,
    ``{"id", "success", "errors", "created"}``; with all_or_none one failure undoes them all."""
    obj = org.sobject(sobject)
    results: list[dict] = []
    try:
        with org.transaction():
            for record in records:
                try:
                    if not isinstance(record, dict):
                        raise errors.JsonParserError("Each record must be a JSON object")
                    attributes = record.get("attributes") or {}
                    if not isinstance(attributes, dict):
                        raise errors.JsonParserError("A record's attributes must be a JSON object")
                    kind = attributes.get("type")
                    if kind and org.schema.get(kind) is not obj:
                        raise errors.InvalidType(f"Record type {kind} does not match {obj.name}")
                    key = next((v for k, v in record.items() if k.lower() == field.lower()), None)
                    if key in (None, ""):
                        raise errors.RequiredFieldMissing(f"Required fields are missing: [{field}]", [field])
                    if not isinstance(key, str) and obj.field(field) is not None:
                        # a number is its text; an object, a list or a boolean is refused as a
                        # single-record upsert refuses it
                        to_storage(obj.field(field), key)
                    values = {k: v for k, v in record.items() if k != "attributes"}
                    with org.transaction():
                        record_id, created = org.upsert(obj.name, field, str(key), values, user_id)
                    results.append({"id": record_id, "success": True, "errors": [], "created": created})
                except errors.SalesforceError as e:
                    results.append({"id": None, "success": False, "created": False, "errors": [
                        {"statusCode": e.error_code, "message": e.message, "fields": e.fields}]})
            if all_or_none and any(not r["success"] for r in results):
                raise _Undo()
    except _Undo:
        rolled = errors.AllOrNoneRolledBack()
        results = [r if not r["success"] else
                   {"id": None, "success": False, "created": False, "errors": [
                       {"statusCode": rolled.error_code, "message": rolled.message, "fields": []}]}
                   for r in results]
    return results
