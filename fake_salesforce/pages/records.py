"""What the pages show of records: field values by type, names of referenced records, list
columns, related lists. Everything is read through the org's query engine (SOQL and SOSL), the
same path the API takes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..clock import parse_date, parse_datetime
from ..schema import FieldDef, SObjectDef

HIDDEN_FIELDS = {"IsDeleted", "SystemModstamp"}
SYSTEM_FIELDS = ("OwnerId", "CreatedById", "CreatedDate", "LastModifiedById", "LastModifiedDate")
# Person-account fields, and the fields only a business account shows.
PERSON_ONLY = {"Salutation", "FirstName", "LastName", "PersonEmail", "PersonTitle",
               "PersonMobilePhone", "PersonHomePhone", "PersonOtherPhone", "PersonAssistantPhone",
               "PersonBirthdate"}
BUSINESS_ONLY = {"ParentId", "AccountNumber", "NumberOfEmployees", "Fax"}
# Columns worth showing in a list, in order of preference, after the record's name.
LIST_PREFERENCE = ("Subject", "Company", "AccountId", "ContactId", "OpportunityId", "Role",
                   "IsPrimary", "Title", "StageName", "Status", "CallType", "ActivityDate",
                   "CloseDate", "Amount", "Phone", "PersonMobilePhone", "MobilePhone", "Email",
                   "PersonEmail", "Type", "Industry")
LIST_COLUMNS = 5
_SOSL_RESERVED = re.compile(r'([?&|!{}\[\]()^~:\\"\'+\-])')
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):(?!\d)", re.I)   # a port is no scheme
_PHONE_LIKE = re.compile(r"^[\d\s()+./-]+$")


@dataclass
class Column:
    name: str            # the SOQL path selected: Name, Account.Name
    label: str
    field: FieldDef | None


@dataclass
class Value:
    """A field value ready to draw: ``text``, and a ``href`` when it links somewhere."""

    text: str
    href: str | None = None
    kind: str = "text"   # text | multiline | boolean | reference | empty


def record_path(sobject: str, record_id: str) -> str:
    return f"/lightning/r/{sobject}/{record_id}/view"


def list_path(sobject: str) -> str:
    return f"/lightning/o/{sobject}/list"


def quote(value: str) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def sosl_term(text: str) -> tuple[str, str]:
    """A search box's text as a SOSL term and scope: a number searches PHONE FIELDS on its
    digits, anything else NAME FIELDS (``*`` stays a wildcard, other reserved characters are
    escaped)."""
    text = " ".join(text.split())
    if _PHONE_LIKE.match(text) and sum(c.isdigit() for c in text) >= 3:
        return _SOSL_RESERVED.sub(r"\\\1", text), "PHONE"
    return _SOSL_RESERVED.sub(r"\\\1", text), "NAME"


def format_value(org, f: FieldDef, value: Any, names: dict[str, tuple[str, str]]) -> Value:
    """A wire value as drawn on a page. ``names`` maps referenced ids to (sobject, name)."""
    if value is None or value == "":
        return Value("", kind="empty") if f.type != "boolean" else Value("No", kind="boolean")
    t = f.type
    if t == "boolean":
        return Value("Yes" if value else "No", kind="boolean")
    if t == "reference":
        sobject, name = names.get(value, (None, None))
        if sobject is None:
            obj = org.object_for_id(value)
            sobject = obj.name if obj else None
        return Value(name or value, record_path(sobject, value) if sobject else None, "reference")
    if t == "datetime":
        return Value(format_datetime_text(value))
    if t == "date":
        return Value(format_date_text(value))
    if t == "currency":
        return Value(f"${float(value):,.2f}")
    if t == "percent":
        return Value(f"{float(value):g}%")
    if t == "phone":
        return Value(str(value), "tel:" + re.sub(r"[^\d+]", "", str(value)))
    if t == "email":
        return Value(str(value), "mailto:" + str(value))
    if t == "url":
        return Value(str(value), safe_url(str(value)))
    if t == "textarea":
        return Value(str(value), kind="multiline")
    return Value(str(value))


def safe_url(text: str) -> str | None:
    """A link target for a URL field: only http(s), never ``javascript:`` and the like."""
    text = text.strip()
    scheme = _SCHEME.match(text)
    if scheme is None:
        return "http://" + text       # www.example.com, as Salesforce links it
    return text if scheme.group(1).lower() in ("http", "https") else None


def format_date_text(value: str | date | None) -> str:
    if not value:
        return ""
    try:
        d = value if isinstance(value, date) else parse_date(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{d.strftime('%b')} {d.day}, {d.year}"


def format_datetime_text(value: str) -> str:
    try:
        dt = parse_datetime(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{dt.strftime('%b')} {dt.day}, {dt.year} {dt.strftime('%H:%M')} UTC"


def names_of(org, ids) -> dict[str, tuple[str, str]]:
    """(sobject, display name) of each record id, read with one SOQL query per object."""
    by_object: dict[str, list[str]] = {}
    for record_id in {i for i in ids if i}:
        obj = org.object_for_id(record_id)
        if obj is not None:
            by_object.setdefault(obj.name, []).append(record_id)
    out: dict[str, tuple[str, str]] = {}
    for sobject, record_ids in by_object.items():
        obj = org.schema.get(sobject)
        name_field = obj.name_field or "Id"
        rows = org.query(f"SELECT Id, {name_field} FROM {sobject} WHERE Id IN "
                         f"({', '.join(quote(i) for i in sorted(record_ids))})")["records"]
        for row in rows:
            out[row["Id"]] = (sobject, row.get(name_field) or row["Id"])
    return out


def display_name(obj: SObjectDef, record: dict) -> str:
    return str(record.get(obj.name_field) or record["Id"]) if obj.name_field else record["Id"]


def shown_fields(obj: SObjectDef, record: dict) -> tuple[list[FieldDef], list[FieldDef]]:
    """The detail fields and the system-information fields of a record page."""
    skip = set(HIDDEN_FIELDS) | {"Id"}
    if obj.name == "Account":
        skip |= BUSINESS_ONLY if record.get("IsPersonAccount") else PERSON_ONLY
        skip |= {"IsPersonAccount", "PersonContactId"}
    detail = [f for f in obj.fields.values() if f.name not in skip and f.name not in SYSTEM_FIELDS]
    system = [obj.fields[n] for n in SYSTEM_FIELDS if n in obj.fields]
    return detail, system


def list_columns(org, obj: SObjectDef, *, exclude: str | None = None) -> list[Column]:
    """The name column, then up to LIST_COLUMNS - 1 preferred fields, then Last Modified."""
    columns = []
    if obj.name_field:
        columns.append(Column(obj.name_field, obj.fields[obj.name_field].label, obj.fields[obj.name_field]))
    for name in LIST_PREFERENCE:
        if len(columns) >= LIST_COLUMNS:
            break
        f = obj.fields.get(name)
        if f is None or name == exclude or name == obj.name_field:
            continue
        if f.type == "reference":
            target = org.schema.get(f.reference_to[0]) if len(f.reference_to) == 1 else None
            if target is None or not target.name_field or not f.relationship_name:
                continue
            columns.append(Column(f"{f.relationship_name}.{target.name_field}",
                                  f.label.removesuffix(" ID"), f))
        else:
            columns.append(Column(name, f.label, f))
    if "LastModifiedDate" in obj.fields:
        columns.append(Column("LastModifiedDate", obj.fields["LastModifiedDate"].label,
                              obj.fields["LastModifiedDate"]))
    return columns


def cell(org, column: Column, row: dict) -> Value:
    """A list cell: the row's value at the column's path, linked when it names a record."""
    if "." in column.name:
        rel, name = column.name.split(".", 1)
        related = row.get(rel) or {}
        record_id = row.get(column.field.name)
        if not record_id:
            return Value("", kind="empty")
        obj = org.object_for_id(record_id)
        return Value(str(related.get(name) or record_id),
                     record_path(obj.name, record_id) if obj else None, "reference")
    if column.field is None:
        return Value(str(row.get(column.name, "")))
    return format_value(org, column.field, row.get(column.name), {})
