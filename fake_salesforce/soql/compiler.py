"""SOQL syntax tree -> parameterized SQLite SQL, plus the plan that shapes rows into records.

Identifiers come only from the schema (quoted with ``store.q``) or are aliases the compiler
makes up (``t0``, ``t1``...); every value from the query text is a bound parameter.

Where the fake differs from Salesforce:
- Text comparisons (=, !=, <, IN, LIKE, ORDER BY) ignore case for ASCII letters only (SQLite's
  NOCASE); Salesforce also folds other scripts.
- A polymorphic parent (``Who.Name``) may be read one level deep only, as without TYPEOF in
  Salesforce; its fields are those of whichever object the id points to (``Name`` reads a
  Case's CaseNumber, as Salesforce's Name object does).
- Ties left by ORDER BY are broken by the org's default order, so paging is stable.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timezone
from functools import partial
from typing import Callable

from .. import errors, fieldtypes, urls
from ..clock import format_datetime, parse_datetime
from ..ids import to18
from ..schema import FieldDef, SObjectDef
from ..store import TRIGRAMS, index_name, q, trigram_table
from ..values import to_wire
from . import ast, dates, scopes
from .unsupported import refuse
from .parser import caret

TEXT_TYPES, ID_TYPES, NUMBER_TYPES = fieldtypes.TEXT_TYPES, fieldtypes.ID_TYPES, fieldtypes.NUMBER_TYPES
AGGREGATES = {"COUNT", "COUNT_DISTINCT", "MIN", "MAX", "SUM", "AVG"}
# Date functions: SQLite over the stored text (datetimes in UTC), as integers; DAY_ONLY a date.
_MONTH = "CAST(strftime('%m', {x}) AS INTEGER)"
DATE_FUNCTIONS = {
    "CALENDAR_YEAR": "CAST(strftime('%Y', {x}) AS INTEGER)",
    "CALENDAR_MONTH": _MONTH,
    "CALENDAR_QUARTER": f"(({_MONTH} + 2) / 3)",
    "DAY_IN_MONTH": "CAST(strftime('%d', {x}) AS INTEGER)",
    "DAY_IN_WEEK": "(CAST(strftime('%w', {x}) AS INTEGER) + 1)",
    "DAY_IN_YEAR": "CAST(strftime('%j', {x}) AS INTEGER)",
    "WEEK_IN_MONTH": "((CAST(strftime('%d', {x}) AS INTEGER) - 1) / 7 + 1)",
    "WEEK_IN_YEAR": "((CAST(strftime('%j', {x}) AS INTEGER) - 1) / 7 + 1)",
    "HOUR_IN_DAY": "CAST(strftime('%H', {x}) AS INTEGER)",
    "DAY_ONLY": "date({x})",
    "FISCAL_MONTH": "((" + _MONTH + " - {start} + 12) % 12 + 1)",
    "FISCAL_QUARTER": "((" + _MONTH + " - {start} + 12) % 12 / 3 + 1)",
    "FISCAL_YEAR": "(CAST(strftime('%Y', {x}) AS INTEGER) - (" + _MONTH + " < {start}))",
}
DATETIME_ONLY = {"HOUR_IN_DAY", "DAY_ONLY"}
# Functions whose value is the field's own in the fake: picklist labels are their values (no
# translations), and the org has one currency (convertCurrency changes nothing).
SAME_VALUE_FUNCTIONS = {"TOLABEL", "CONVERTCURRENCY"}
FIELDS_LIMIT = 200
# The fields of Salesforce's Name object (a polymorphic relationship's record).
NAME_FIELDS = {n.lower(): (n, t) for n, t in [
    ("Alias", "string"), ("Email", "email"), ("FirstName", "string"), ("LastName", "string"),
    ("Phone", "phone"), ("Title", "string"), ("Username", "string"), ("IsActive", "boolean"),
    ("UserRoleId", "reference"), ("ProfileId", "reference"), ("RecordTypeId", "reference")]}
MAX_OFFSET = 2000
MAX_INT = 2**63 - 1
NO_COLUMN = ("If you are attempting to use a custom field, be sure to append the '__c' after the "
             "custom field name. Please reference your WSDL or the describe call for the "
             "appropriate names.")
NO_RELATIONSHIP = ("If you are attempting to use a custom relationship, be sure to append the "
                   "'__r' after the custom relationship name. Please reference your WSDL or the "
                   "describe call for the appropriate names.")
NO_OBJECT = ("If you are attempting to use a custom object, be sure to append the '__c' after the "
             "entity name. Please reference your WSDL or the describe call for the appropriate names.")
_STRING_ESCAPES = {"n": "\n", "N": "\n", "r": "\r", "R": "\r", "t": "\t", "T": "\t", "b": "\b",
                   "B": "\b", "f": "\f", "F": "\f", '"': '"', "'": "'", "\\": "\\"}


# == plans ========================================================================================
@dataclass
class Shape:
    """How to build one record (or one parent) out of a result row."""
    type_name: str | None          # None: from the id's key prefix (a polymorphic parent)
    id_index: int
    polymorphic: bool = False
    aggregate: bool = False
    entries: list = field(default_factory=list)      # (key, kind, payload)
    typed: bool = False                              # polymorphic, typed by its record (TYPEOF)
    _rels: dict = field(default_factory=dict)
    expressions: int = 0                             # exprN keys handed out


@dataclass
class ChildPlan:
    """A child subquery: ``(SELECT Id FROM Tasks)``, run once per page for the page's parents."""
    key: str                       # the relationship's canonical name
    sql: str                       # selects the parent id first, then the shape's columns
    params: list                   # after the first parameter: the JSON list of parent ids
    shape: Shape
    limit: int | None
    offset: int
    children: list["ChildPlan"] = field(default_factory=list)   # subqueries nested in this one


@dataclass
class Compiled:
    kind: str                      # records, aggregate or count
    sql: str
    params: list
    count_sql: str
    count_params: list
    limit: int | None
    offset: int
    shape: Shape | None
    children: list[ChildPlan]
    # (object, field, text, ordered) of the FROM object's fields that filters could find through
    # an index (ordered: one that also holds the default order, see Store.ensure_index)
    indexes: tuple = ()
    # (object, field) of the fields whose trigram index a LIKE '%x%' reads (Store.ensure_trigrams)
    trigrams: tuple = ()
    # (object, include_deleted) when the count is that of every row of the object: the store
    # keeps it (Store.row_count) and count_sql need not run
    whole: tuple | None = None


# == context and scopes ===========================================================================
@dataclass(frozen=True)
class Ordering:
    """The order of rows when ORDER BY leaves it open: ``recent`` (last modified first, as
    Salesforce tends to answer), ``insertion`` or ``shuffle`` (stable for one ``seed``)."""
    mode: str = "recent"
    seed: int | str = 0


class Context:
    """What one statement's compilation depends on: the schema, the clock's ``now`` (date
    literals), the default ``order``, and the text (for carets). Nothing else: compiling is a
    pure function of these and the syntax tree."""

    def __init__(self, schema, text: str, *, now: datetime, order: Ordering = Ordering(),
                 include_deleted: bool = False, error_class=errors.MalformedQuery,
                 user_id: str | None = None, fiscal_start_month: int = 1,
                 api_version: str | None = None):
        self.schema = schema
        self.text = text
        self.now = now
        self.order = order
        self.include_deleted = include_deleted
        self.user_id = user_id                    # USING SCOPE mine
        self.bounded = error_class is errors.MalformedQuery   # FIELDS(ALL) needs LIMIT 200
        self.filtered: set[tuple[str, str, bool, bool]] = set()     # see Compiled.indexes
        self.trigrams: set[tuple[str, str]] = set()                  # see Compiled.trigrams
        self.fiscal_start_month = fiscal_start_month
        # the request's API version as a number (nested child subqueries need v58.0)
        self.api_version = float((api_version or urls.API_VERSION).lstrip("v"))
        self.error_class = error_class
        self._aliases = 0

    def alias(self) -> str:
        name = f"t{self._aliases}"
        self._aliases += 1
        return name

    def error(self, cls, node, message: str) -> errors.SalesforceError:
        line = getattr(node, "line", 1)
        column = getattr(node, "column", 1)
        return cls(caret(self.text, line, column, message))

    def malformed(self, node, message: str) -> errors.SalesforceError:
        return self.error(self.error_class, node, message)


@dataclass
class Node:
    """An object reached from the FROM object through parent relationships."""
    rel_name: str | None
    obj: SObjectDef | None             # None when polymorphic
    alias: str | None
    id_sql: str
    targets: list[tuple[SObjectDef, str]] = field(default_factory=list)   # polymorphic
    children: dict = field(default_factory=dict)

    @property
    def polymorphic(self) -> bool:
        return self.obj is None


@dataclass
class Column:
    sql: str
    field: FieldDef | None
    name: str                          # canonical name of the last segment
    chain: list[Node]                  # relationship nodes from the FROM object down
    kind: str = "field"                # field, type (``Who.Type``), geo, or func (a function)
    path: ast.Path | None = None
    formatted: bool = False            # inside FORMAT(): the value is shown as text


class Scope:
    """One FROM object with the LEFT JOINs its parent paths need."""

    def __init__(self, ctx: Context, source: ast.ObjectRef, obj: SObjectDef | None = None):
        self.ctx = ctx
        self.obj = obj or resolve_object(ctx, source)
        alias = ctx.alias()
        self.alias = alias
        self.root = Node(None, self.obj, alias, f'{alias}."Id"')
        self.object_alias = source.alias.lower() if source.alias else None
        self.joins: list[str] = []
        self.path_aliases: dict[str, tuple[str, ...]] = {}

    def add_alias(self, path: ast.Path, alias: str | None) -> None:
        """``FROM Contact c, c.Account a``: ``a.Name`` reads ``Account.Name``."""
        parts = self._relative(path.parts)
        if alias is None or len(parts) < 1:
            raise self.ctx.malformed(path, f"unexpected token: '{path.text}'")
        self.resolve(ast.Path(parts + ("Id",), path.line, path.column))   # a real relationship
        self.path_aliases[alias.lower()] = parts

    def _relative(self, parts: tuple[str, ...]) -> tuple[str, ...]:
        """Drop a leading object alias or object name (``SELECT Contact.Name FROM Contact``)."""
        if len(parts) > 1:
            head = parts[0].lower()
            if head in self.path_aliases:
                return self.path_aliases[head] + parts[1:]
            if head == self.object_alias or (head == self.obj.name.lower()
                                             and self.obj.relationship(parts[0]) is None):
                return parts[1:]
        return parts

    def table_sql(self, driver: str | None = None) -> str:
        """FROM's body; with ``driver`` (SQL selecting ``id``), those ids are read first."""
        if driver is None:
            return f"{q(self.obj.name)} {self.alias}" + "".join(self.joins)
        return (f"({driver}) AS k CROSS JOIN {q(self.obj.name)} {self.alias} "
                f'ON {self.alias}."Id" = k.id' + "".join(self.joins))

    def deleted_filter(self) -> str | None:
        return None if self.ctx.include_deleted else f'+{self.alias}."IsDeleted" = 0'

    def column(self, name: str) -> str:
        return f"{self.alias}.{q(name)}"

    def _join(self, node: Node, ref: FieldDef) -> Node:
        targets = [self.ctx.schema.get(t) for t in ref.reference_to]
        source = f"{node.alias}.{q(ref.name)}"
        if len(targets) == 1:
            alias = self.ctx.alias()
            self.joins.append(f' LEFT JOIN {q(targets[0].name)} {alias} ON {alias}."Id" = {source}')
            return Node(ref.relationship_name, targets[0], alias, f'{alias}."Id"')
        pairs = []
        for target in targets:
            alias = self.ctx.alias()
            self.joins.append(f' LEFT JOIN {q(target.name)} {alias} ON {alias}."Id" = {source}')
            pairs.append((target, alias))
        id_sql = "COALESCE(" + ", ".join(f'{a}."Id"' for _, a in pairs) + ")"
        return Node(ref.relationship_name, None, None, id_sql, targets=pairs)

    def relationship_node(self, path: ast.Path) -> Node:
        """The node a relationship path (``What``, ``Account.Owner``) reaches."""
        parts = self._relative(path.parts)
        return self.resolve(ast.Path(parts + ("Id",), path.line, path.column)).chain[-1]

    def resolve(self, path: ast.Path, start: Node | None = None) -> Column:
        """The column of a field path, from the FROM object or from ``start``."""
        parts = list(self._relative(path.parts) if start is None else path.parts)
        node = start or self.root
        chain: list[Node] = []
        for seg in parts[:-1]:
            ref = None if node.polymorphic else node.obj.relationship(seg)
            if ref is None:
                raise self.ctx.error(errors.InvalidField, path,
                                     f"Didn't understand relationship '{seg}' in field path. "
                                     + NO_RELATIONSHIP)
            child = node.children.get(ref.name)
            if child is None:
                child = node.children[ref.name] = self._join(node, ref)
            node = child
            chain.append(node)
        last = parts[-1]
        if not node.polymorphic:
            f = node.obj.field(last)
            if f is None and last.lower().endswith("__c"):
                geo = _geolocation(node, last)
                if geo is not None:
                    return Column(geo[0], None, geo[1], chain, kind="geo", path=path)
            if f is None and chain and last.lower() == "type":
                # Salesforce reads a relationship's ``Type`` from its Name record: the object
                # the id points at (``Owner.Type`` is User or Group).
                return Column(node.id_sql, None, "Type", chain, kind="type", path=path)
            if f is None:
                raise self.ctx.error(errors.InvalidField, path,
                                     f"No such column '{last}' on entity '{node.obj.name}'. " + NO_COLUMN)
            return Column(f"{node.alias}.{q(f.name)}", f, f.name, chain, path=path)
        if last.lower() == "type":
            return Column(node.id_sql, None, "Type", chain, kind="type", path=path)
        found = []
        for target, alias in node.targets:
            f = target.field(last)
            if f is None and last.lower() == "name" and target.name_field:
                f = target.field(target.name_field)
            if f is not None:
                found.append((f, alias))
        if not found and last.lower() in NAME_FIELDS:
            # A field of Salesforce's Name object that none of the targets has: always null.
            name, kind = NAME_FIELDS[last.lower()]
            return Column("NULL", FieldDef(name=name, type=kind), name, chain, path=path)
        if not found:
            raise self.ctx.error(errors.InvalidField, path,
                                 f"No such column '{last}' on entity 'Name'. " + NO_COLUMN)
        sql = found[0][1] + "." + q(found[0][0].name) if len(found) == 1 else \
            "COALESCE(" + ", ".join(f"{a}.{q(f.name)}" for f, a in found) + ")"
        canonical = "Name" if last.lower() == "name" else found[0][0].name
        return Column(sql, found[0][0], canonical, chain, path=path)


def _geolocation(node: Node, name: str) -> tuple[str, str] | None:
    """A geolocation compound field (``Location__c``) stored as its ``__latitude__s`` and
    ``__longitude__s`` parts: (SQL of the pair, canonical name)."""
    base = name[:-3]
    lat = node.obj.field(f"{base}__latitude__s")
    lon = node.obj.field(f"{base}__longitude__s")
    if lat is None or lon is None:
        return None
    canonical = lat.name[:-len("__latitude__s")] + "__c"
    return f"{node.alias}.{q(lat.name)}, {node.alias}.{q(lon.name)}", canonical


def resolve_object(ctx: Context, source: ast.ObjectRef) -> SObjectDef:
    """The FROM object. An undeclared ``X__kav`` (a Knowledge article type) is refused with 501:
    the fake has no Knowledge, though a schema file may declare the object."""
    obj = ctx.schema.get(source.name)
    if obj is None and source.name.lower().endswith("__kav"):
        raise refuse("Knowledge article types (__kav objects)",
                     f"The Knowledge article type {source.name}")
    if obj is None:
        raise ctx.error(errors.InvalidType, source,
                        f"sObject type '{source.name}' is not supported. " + NO_OBJECT)
    return obj


# == literals =====================================================================================
def unescape(ctx: Context, value: ast.Value) -> str:
    """The value of a string literal (``\\'`` -> ``'``, ``\\n`` -> newline, ...)."""
    if "\\" not in value.text:
        return value.text
    return _decode(ctx, value, like=False)


def like_pattern(ctx: Context, value: ast.Value) -> str:
    """A SOQL LIKE literal as an SQLite LIKE pattern with ``\\`` as its escape character."""
    return _decode(ctx, value, like=True)


def _decode(ctx: Context, value: ast.Value, *, like: bool) -> str:
    """Resolve a literal's escapes. ``\\%`` and ``\\_`` stay escaped (they only mean something
    to LIKE); in a LIKE pattern every other decoded character is escaped too."""
    text = value.text
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in "%_":
                out.append("\\" + nxt)
            elif nxt in _STRING_ESCAPES:
                out.append(escape_like(_STRING_ESCAPES[nxt]) if like else _STRING_ESCAPES[nxt])
            else:
                raise ctx.malformed(value, f"Invalid string literal '{text}'. Illegal character "
                                           f"sequence '\\{nxt}' in string literal.")
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def trigrams(pattern: str) -> list[str]:
    """The distinct three-character pieces of a LIKE pattern's literal runs (the text between
    its ``%`` and ``_`` wildcards, ``\\`` escapes resolved), in order. Every value the pattern
    matches holds each of them (ignoring case), so a trigram index finds a superset of the
    matches. Empty when no run is three characters long."""
    runs, run, i = [], [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            run.append(pattern[i + 1])
            i += 2
            continue
        if ch in "%_":
            runs.append("".join(run))
            run = []
        else:
            run.append(ch)
        i += 1
    runs.append("".join(run))
    pieces = (r[j:j + 3] for r in runs for j in range(len(r) - 2))
    return list(dict.fromkeys(pieces))


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def integer(ctx: Context, value: ast.Value | None) -> int | None:
    """A LIMIT or OFFSET value."""
    if value is None:
        return None
    if value.kind != "number" or not value.text.lstrip("+").isdigit():
        raise ctx.malformed(value, f"unexpected token: '{value.source}'")
    return min(int(value.text), MAX_INT)


def _number(text: str):
    if "." not in text:
        n = int(text)
        return n if -MAX_INT <= n <= MAX_INT else float(n)
    return float(text)


def _type_error(ctx: Context, col: Column, expected: str, quoted: bool) -> errors.SalesforceError:
    how = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
    return ctx.error(errors.InvalidField, col.path,
                     f"value of filter criterion for field '{col.name}' must be of type {expected} "
                     f"and {how}")


def _is_null(value: ast.Value) -> bool:
    return value.kind == "word" and value.text.lower() == "null"


def _range(ctx: Context, col: Column, value: ast.Value) -> tuple[str, str]:
    """A date literal as the storage-form bounds ``[lo, hi)`` of ``col``'s type."""
    name = value.text
    if value.kind == "word_n":
        if not dates.takes_n(name):
            raise ctx.malformed(value, f"unexpected token: '{value.source}'")
        if not value.n.isdigit():
            raise ctx.malformed(value, f"unexpected token: '{value.source}'")
        n = int(value.n)
        if n > 100_000:
            raise ctx.malformed(value, f"Invalid date literal: {value.source}")
    else:
        if dates.takes_n(name):
            raise ctx.malformed(value, f"unexpected token: '{value.source}'")
        n = None
    try:
        lo, hi = dates.date_range(name, n, ctx.now, ctx.fiscal_start_month)
    except (ValueError, OverflowError):
        raise ctx.malformed(value, f"Invalid date literal: {value.source}") from None
    if col.field.type == "date":
        return lo.isoformat(), hi.isoformat()
    return (format_datetime(datetime.combine(lo, time(), timezone.utc)),
            format_datetime(datetime.combine(hi, time(), timezone.utc)))


def coerce(ctx: Context, col: Column, value: ast.Value):
    """The storage form of ``value`` compared with ``col``; a tuple ``(lo, hi)`` for a date
    literal; None for null. Raises Salesforce's type errors."""
    if _is_null(value):
        return None
    if col.kind == "type":
        if value.kind != "string":
            raise _type_error(ctx, col, "string", True)
        return unescape(ctx, value)
    f = col.field
    t = f.type
    if t in TEXT_TYPES:
        if value.kind != "string":
            raise _type_error(ctx, col, "string", True)
        text = unescape(ctx, value)
        if t == "multipicklist":
            text = ";".join(p.strip() for p in text.split(";") if p.strip())
        return text or None
    if t in ID_TYPES:
        if value.kind != "string":
            raise _type_error(ctx, col, "id", True)
        text = unescape(ctx, value)
        if text == "":
            return None
        full = to18(text)
        if full is None:
            raise ctx.error(errors.InvalidQueryFilterOperator, value, f"invalid ID field: {text}")
        return full
    if t == "boolean":
        if value.kind != "word" or value.text.lower() not in ("true", "false"):
            raise _type_error(ctx, col, "boolean", False)
        return int(value.text.lower() == "true")
    if t in NUMBER_TYPES:
        if value.kind != "number":
            raise _type_error(ctx, col, fieldtypes.TYPES[t].literal, False)
        return _number(value.text)
    if t in ("date", "datetime"):
        if value.kind in ("word", "word_n") and dates.is_date_literal(value.text):
            return _range(ctx, col, value)
        if value.kind == "word":
            raise ctx.malformed(value, f"unexpected token: '{value.source}'")
        if t == "date" and value.kind == "date":
            try:
                return date.fromisoformat(value.text).isoformat()
            except ValueError:
                raise ctx.malformed(value, f"line {value.line}:{value.column - 1} "
                                           f"invalid date: {value.text}") from None
        if t == "datetime" and value.kind == "datetime":
            try:
                return format_datetime(parse_datetime(value.text))
            except ValueError:
                raise ctx.malformed(value, f"line {value.line}:{value.column - 1} "
                                           f"invalid dateTime: {value.text}") from None
        raise _type_error(ctx, col, fieldtypes.TYPES[t].literal, False)
    raise _type_error(ctx, col, t, value.kind == "string")


# == statements ===================================================================================
class Statement:
    """Compiles one SELECT (the main query, a child subquery or a semi-join)."""

    def __init__(self, ctx: Context, select: ast.Select, scope: Scope | None = None,
                 *, child_of: Scope | None = None):
        self.ctx = ctx
        self.select = select
        self.scope = scope
        self.child_of = child_of
        self.columns: list[str] = []
        self._column_index: dict[str, int] = {}
        self.group_sql: set[str] = set()       # GROUP BY expressions, in an aggregate query
        self.filtered = ctx.filtered           # shared by every statement of the query

    # -- output columns --
    def out(self, sql: str) -> int:
        index = self._column_index.get(sql)
        if index is None:
            index = self._column_index[sql] = len(self.columns)
            self.columns.append(sql)
        return index

    # -- expressions --
    def expr(self, node, *, aggregate_ok: bool) -> tuple[str, Column | None, str | None]:
        """SQL for a path or function; returns (sql, column, aggregate function name)."""
        if isinstance(node, ast.Path):
            col = self.scope.resolve(node)
            return col.sql, col, None
        if not isinstance(node, ast.Func):   # a literal where a field or function belongs
            raise self.ctx.malformed(node, f"unexpected token: '{node.text}'")
        name = node.name.upper()
        if name in DATE_FUNCTIONS:
            col = self.date_function(node, name)
            return col.sql, col, None
        if name == "DISTANCE":
            col = self.distance(node)
            return col.sql, col, None
        if name == "FORMAT":
            if len(node.args) != 1 or isinstance(node.args[0], ast.Value):
                raise self.ctx.malformed(node, f"unexpected token: '{node.text}'")
            sql, col, agg = self.expr(node.args[0], aggregate_ok=aggregate_ok)
            if col is None or col.kind not in ("field", "func"):
                raise self.ctx.malformed(node, f"FORMAT cannot be applied to {node.args[0].text}")
            return sql, replace(col, formatted=True), agg
        if name in SAME_VALUE_FUNCTIONS:
            col = self._one_field(node)
            if name == "CONVERTCURRENCY" and col.field.type != "currency":
                raise self.ctx.error(errors.InvalidField, node, f"convertCurrency can only be "
                                                                f"used with currency fields: {col.name}")
            return col.sql, col, None
        if name not in AGGREGATES:
            raise self.ctx.malformed(node, f"Unknown function: {node.name}")
        if not aggregate_ok:
            raise self.ctx.malformed(node, "Aggregated expressions are not allowed here: "
                                           f"{node.text}")
        if name == "COUNT" and not node.args:
            return "COUNT(*)", None, "COUNT()"
        if len(node.args) != 1 or not isinstance(node.args[0], ast.Path):
            raise self.ctx.malformed(node, f"unexpected token: '{node.text}'")
        col = self.scope.resolve(node.args[0])
        t = col.field.type if col.field else "string"
        if name in ("SUM", "AVG") and t not in NUMBER_TYPES:
            raise self.ctx.error(errors.MalformedQuery, node,
                                 f"field {col.name} does not support aggregate operator {name}")
        if name == "COUNT_DISTINCT":
            return f"COUNT(DISTINCT {col.sql})", col, name
        return f"{name}({col.sql})", col, name

    def _one_field(self, node: ast.Func) -> Column:
        if len(node.args) != 1 or not isinstance(node.args[0], ast.Path):
            raise self.ctx.malformed(node, f"unexpected token: '{node.text}'")
        col = self.scope.resolve(node.args[0])
        if col.kind != "field":
            raise self.ctx.malformed(node, f"unexpected token: '{node.text}'")
        return col

    def distance(self, node: ast.Func) -> Column:
        """``DISTANCE(Location__c, GEOLOCATION(lat, lon), 'mi' | 'km')``: great-circle distance.
        GEOLOCATION's numbers are checked as numbers and written into the SQL."""
        args = node.args
        point = args[1] if len(args) == 3 else None
        if not (isinstance(args[0], ast.Path) and isinstance(point, ast.Func)
                and point.name.upper() == "GEOLOCATION" and len(point.args) == 2
                and all(isinstance(a, ast.Value) and a.kind == "number" for a in point.args)
                and isinstance(args[2], ast.Value) and args[2].kind == "string"):
            raise self.ctx.malformed(node, f"unexpected token: '{node.text}'")
        unit = args[2].text.lower()
        if unit not in ("mi", "km"):
            raise self.ctx.malformed(args[2], f"DISTANCE unit must be 'mi' or 'km', not '{args[2].text}'")
        col = self.scope.resolve(args[0])
        if col.kind != "geo":
            raise self.ctx.error(errors.InvalidField, args[0], f"DISTANCE needs a geolocation field, "
                                                               f"not '{col.name}'")
        lat, lon = (float(a.text) for a in point.args)
        sql = f"geo_distance({col.sql}, {lat!r}, {lon!r}, '{unit}')"
        return Column(sql, FieldDef(name="DISTANCE", type="double"), "DISTANCE", [], kind="func",
                      path=args[0])

    def date_function(self, node: ast.Func, name: str) -> Column:
        """``CALENDAR_YEAR(CreatedDate)``; ``convertTimezone()`` inside changes nothing (the fake
        reads every date in UTC)."""
        arg = node.args[0] if len(node.args) == 1 else None
        if isinstance(arg, ast.Func) and arg.name.upper() == "CONVERTTIMEZONE":
            arg = arg.args[0] if len(arg.args) == 1 else None
        if not isinstance(arg, ast.Path):
            raise self.ctx.malformed(node, f"unexpected token: '{node.text}'")
        col = self.scope.resolve(arg)
        t = col.field.type if col.kind == "field" else None
        if t not in ("date", "datetime") or (t == "date" and name in DATETIME_ONLY):
            raise self.ctx.error(errors.MalformedQuery, node,
                                 f"{name} can not be applied to field '{col.name}' of type {t}")
        base = f"substr({col.sql}, 1, 19)" if t == "datetime" else col.sql
        sql = DATE_FUNCTIONS[name].format(x=base, start=int(self.ctx.fiscal_start_month))
        f = FieldDef(name=name, type="date" if name == "DAY_ONLY" else "int")
        return Column(sql, f, name, [], kind="func", path=arg)

    # -- conditions --
    def condition(self, cond, *, having: bool = False) -> tuple[str, list]:
        if isinstance(cond, ast.And) or isinstance(cond, ast.Or):
            parts = [self.condition(c, having=having) for c in cond.items]
            joiner = " AND " if isinstance(cond, ast.And) else " OR "
            return "(" + joiner.join(s for s, _ in parts) + ")", [p for _, ps in parts for p in ps]
        if isinstance(cond, ast.Not):
            sql, params = self.condition(cond.item, having=having)
            return f"NOT COALESCE({sql}, 0)", params
        left_sql, col, agg = self.expr(cond.left, aggregate_ok=having)
        if having and agg is None and col is not None and left_sql not in self.group_sql:
            raise self.ctx.malformed(cond.left, f"Field must be grouped or aggregated: {col.path.text}")
        if agg is not None:
            col = self._aggregate_column(agg, col, left_sql)
        elif not having:
            self._note_filter(col, cond)
        if isinstance(cond, ast.Compare):
            return self.compare(col, cond.op, cond.value)
        if isinstance(cond, ast.Like):
            return self.like(col, cond.value)
        if isinstance(cond, ast.In):
            return self.in_(col, cond)
        return self.includes(col, cond)

    def _own_field(self, col: Column) -> bool:
        """A field of this statement's FROM object itself (not of a parent), other than Id."""
        return col.kind == "field" and not col.chain and col.field.name != "Id" \
            and col.sql == self.scope.column(col.field.name)

    def _note_filter(self, col: Column, cond) -> None:
        """Remember a field of the FROM object that an index could serve for this test:
        equality, IN, a range, or LIKE with a fixed start."""
        if not self._own_field(col):
            return
        if isinstance(cond, ast.Compare) and cond.op == "!=" or isinstance(cond, ast.In) and cond.negated \
                or isinstance(cond, ast.Like) and cond.value.text[:1] in ("%", "_", ""):
            return
        if isinstance(cond, (ast.Compare, ast.Like, ast.In)):
            self.filtered.add((self.scope.obj.name, col.field.name, self._text(col), True))

    def _aggregate_column(self, agg: str, col: Column | None, sql: str) -> Column:
        if agg in ("COUNT()", "COUNT", "COUNT_DISTINCT"):
            f = FieldDef(name=agg, type="int")
        elif agg in ("SUM", "AVG"):
            f = FieldDef(name=agg, type="double")
        else:
            f = col.field
        return Column(sql, f, col.name if col else "COUNT", [], path=col.path if col else None)

    def _text(self, col: Column) -> bool:
        return col.kind == "field" and col.field.type in TEXT_TYPES

    def compare(self, col: Column, op: str, value: ast.Value) -> tuple[str, list]:
        v = coerce(self.ctx, col, value)
        if col.kind == "type":
            return self._compare_type(col, op, v, value)
        if v is None:
            if op not in ("=", "!="):
                raise self.ctx.malformed(value, f"unexpected token: '{value.source}'")
            return f"{col.sql} IS {'NOT ' if op == '!=' else ''}NULL", []
        if isinstance(v, tuple):
            lo, hi = v
            if op == "=":
                return f"({col.sql} >= ? AND {col.sql} < ?)", [lo, hi]
            if op == "!=":
                return f"({col.sql} IS NULL OR {col.sql} < ? OR {col.sql} >= ?)", [lo, hi]
            bound = {"<": ("<", lo), "<=": ("<", hi), ">": (">=", hi), ">=": (">=", lo)}[op]
            return f"{col.sql} {bound[0]} ?", [bound[1]]
        collate = " COLLATE NOCASE" if self._text(col) else ""
        if op == "!=":
            return f"{col.sql} IS NOT ?{collate}", [v]
        return f"{col.sql} {op} ?{collate}", [v]

    def _compare_type(self, col: Column, op: str, v, value: ast.Value) -> tuple[str, list]:
        if op not in ("=", "!="):
            raise self.ctx.malformed(value, f"unexpected token: '{op}'")
        if v is None:
            return f"{col.sql} IS {'NOT ' if op == '!=' else ''}NULL", []
        obj = self.ctx.schema.get(v) if v else None
        prefix = obj.key_prefix if obj else ""
        if op == "=":
            return f"substr({col.sql}, 1, 3) = ?", [prefix]
        return f"({col.sql} IS NULL OR substr({col.sql}, 1, 3) != ?)", [prefix]

    def like(self, col: Column, value: ast.Value) -> tuple[str, list]:
        if col.kind != "field" or col.field.type not in TEXT_TYPES | ID_TYPES:
            raise self.ctx.error(errors.InvalidQueryFilterOperator, col.path,
                                 f"invalid operator on {col.field.type if col.field else 'Type'} "
                                 f"field: {col.name}")
        if value.kind != "string":
            raise _type_error(self.ctx, col, "string", True)
        pattern = like_pattern(self.ctx, value)
        test = f"{col.sql} LIKE ? ESCAPE '\\'"
        if pattern[:1] in ("%", "_") and self._own_field(col):
            obj = self.scope.obj.name
            pieces = trigrams(pattern) if TRIGRAMS else []
            if pieces:
                # The rows whose value holds every three-character piece of the pattern, from
                # the field's trigram index; LIKE itself then decides among those few.
                self.ctx.trigrams.add((obj, col.field.name))
                table = q(trigram_table(obj, col.field.name))
                match = " AND ".join('"' + p.replace('"', '""') + '"' for p in pieces)
                return (f"({self.scope.alias}.rowid IN (SELECT rowid FROM {table} WHERE {table} "
                        f"MATCH ?) AND {test})", [match, pattern])
            # Under three characters between wildcards: scanning the field's index reads far
            # less than scanning the table's rows.
            self.filtered.add((obj, col.field.name, True, False))
            index = q(index_name(obj, col.field.name, nocase=True))
            return (f"{self.scope.alias}.rowid IN (SELECT rowid FROM {q(obj)} INDEXED BY {index} "
                    f"WHERE {q(col.field.name)} LIKE ? ESCAPE '\\')", [pattern])
        return test, [pattern]

    def in_(self, col: Column, cond: ast.In) -> tuple[str, list]:
        if isinstance(cond.values, ast.Select):
            if col.kind != "field" or col.field.type not in ID_TYPES:
                raise self.ctx.error(errors.InvalidField, col.path,
                                     f"Invalid semi join: the left side must be an Id or a "
                                     f"reference field, not '{col.name}'")
            sub_sql, sub_params = semi_join(self.ctx, cond.values)
            if cond.negated:
                return f"({col.sql} IS NULL OR {col.sql} NOT IN ({sub_sql}))", sub_params
            return f"{col.sql} IN ({sub_sql})", sub_params
        if col.kind == "type":
            prefixes = []
            for value in cond.values:
                name = coerce(self.ctx, col, value)
                obj = self.ctx.schema.get(name) if name else None
                prefixes.append(obj.key_prefix if obj else "")
            test = f"substr({col.sql}, 1, 3) IN ({', '.join('?' * len(prefixes))})"
            if cond.negated:
                return f"({col.sql} IS NULL OR NOT {test})", prefixes
            return test, prefixes
        plain, ranges, has_null = [], [], False
        for value in cond.values:
            v = coerce(self.ctx, col, value)
            if v is None:
                has_null = True
            elif isinstance(v, tuple):
                ranges.append(v)
            else:
                plain.append(v)
        collate = " COLLATE NOCASE" if self._text(col) else ""
        tests, params = [], []
        if plain:
            tests.append(f"{col.sql}{collate} IN ({', '.join('?' * len(plain))})")
            params.extend(plain)
        for lo, hi in ranges:
            tests.append(f"({col.sql} >= ? AND {col.sql} < ?)")
            params.extend([lo, hi])
        if has_null:
            tests.append(f"{col.sql} IS NULL")
        positive = "(" + " OR ".join(tests) + ")" if len(tests) > 1 else tests[0]
        if not cond.negated:
            return positive, params
        if has_null:
            return f"NOT COALESCE({positive}, 0)", params
        return f"({col.sql} IS NULL OR NOT {positive})", params

    def includes(self, col: Column, cond: ast.Includes) -> tuple[str, list]:
        if col.kind != "field" or col.field.type != "multipicklist":
            word = "EXCLUDES" if cond.negated else "INCLUDES"
            raise self.ctx.error(errors.InvalidQueryFilterOperator, col.path,
                                 f"{word} operator is only valid on multi-select picklist fields")
        alternatives, params = [], []
        for value in cond.values:
            text = coerce(self.ctx, col, value)
            parts = [p for p in (text or "").split(";") if p]
            if not parts:
                continue
            alternatives.append("(" + " AND ".join(
                f"(';' || {col.sql} || ';') LIKE ? ESCAPE '\\'" for _ in parts) + ")")
            params.extend(f"%;{escape_like(p)};%" for p in parts)
        positive = "(" + " OR ".join(alternatives) + ")" if alternatives else "0"
        if cond.negated:
            return f"({col.sql} IS NULL OR NOT {positive})", params
        return positive, params

    # -- ORDER BY --
    def order_sql(self, items, *, aggregate: bool) -> list[str]:
        out = []
        for item in items:
            sql, col, agg = self.expr(item.expr, aggregate_ok=aggregate)
            if aggregate and agg is None and sql not in self.group_sql:
                raise self.ctx.malformed(item.expr, f"Ordered field must be grouped or aggregated: "
                                                    f"{item.expr.text}")
            if agg is None and col.kind == "field" and not fieldtypes.TYPES[col.field.type].sortable:
                raise self.ctx.error(errors.InvalidField, item.expr,
                                     f"field '{col.name}' can not be sorted in a query call")
            if agg is None and self._text(col):
                sql += " COLLATE NOCASE"
            sql += " DESC" if item.descending else ""
            if item.nulls:
                sql += f" NULLS {item.nulls.upper()}"
            out.append(sql)
        return out

    def default_order(self, scope: Scope) -> list[str]:
        order = self.ctx.order
        if order.mode == "insertion":
            return [scope.column("Id")]
        if order.mode == "shuffle":
            seed = zlib.crc32(str(order.seed).encode())
            return [f"shuffle_key({scope.column('Id')}, {int(seed)})", scope.column("Id")]
        return [scope.column("LastModifiedDate") + " DESC", scope.column("Id") + " DESC"]


# == records ======================================================================================
def add_column(stmt: Statement, shape: Shape, col: Column, seen: set, node) -> None:
    """Place a selected column into the record shape, nesting it under its parents."""
    target = shape
    for n in col.chain:
        rel = target._rels.get(n.rel_name)
        if rel is None:
            rel = Shape(None if n.polymorphic else n.obj.name, stmt.out(n.id_sql), n.polymorphic)
            target._rels[n.rel_name] = rel
            target.entries.append((n.rel_name, "rel", rel))
        target = rel
    key = (id(target), col.name.lower())
    if key in seen:
        raise stmt.ctx.malformed(node, f"duplicate field selected: {col.path.text}")
    seen.add(key)
    if col.kind == "type":
        target.entries.append((col.name, "type", stmt.out(col.sql)))
    elif col.kind == "geo":
        lat, lon = col.sql.split(", ")
        target.entries.append((col.name, "geo", (stmt.out(lat), stmt.out(lon))))
    else:
        target.entries.append((col.name, "field", (stmt.out(col.sql), converter(col))))


def select_item(stmt: Statement, shape: Shape, item, seen: set, limit: int | None) -> None:
    """One item of a non-aggregate SELECT list: a field path, ``FIELDS(...)``, a date function,
    ``toLabel()`` or ``convertCurrency()``."""
    ctx = stmt.ctx
    if isinstance(item, ast.TypeOf):
        typeof_item(stmt, shape, item, seen)
        return
    expr = item.expr
    if isinstance(expr, ast.Path):
        if item.alias is not None:
            raise ctx.malformed(ast.Value("word", item.alias, item.alias_line, item.alias_column),
                                f"unexpected token: '{item.alias}'")
        add_column(stmt, shape, stmt.scope.resolve(expr), seen, expr)
        return
    name = expr.name.upper()
    if name == "FIELDS":
        for path in fields_function(stmt, expr, limit):
            add_column(stmt, shape, stmt.scope.resolve(path), seen, path)
        return
    sql, col, _ = stmt.expr(expr, aggregate_ok=False)
    if col.kind == "func" or item.alias is not None:
        key = item.alias or f"expr{shape.expressions}"
        shape.expressions += item.alias is None
        if (id(shape), key.lower()) in seen:
            raise ctx.malformed(expr, f"duplicate alias: {key}")
        seen.add((id(shape), key.lower()))
        shape.entries.append((key, "field", (stmt.out(sql), converter(col))))
        return
    add_column(stmt, shape, col, seen, expr)


def typeof_item(stmt: Statement, shape: Shape, item: ast.TypeOf, seen: set) -> None:
    """``TYPEOF What WHEN Account THEN Phone ... ELSE Name END``: the relationship's record with
    the fields of the WHEN for its type, else those of ELSE (read as the Name object's), else
    only its attributes."""
    ctx, scope = stmt.ctx, stmt.scope
    node = scope.relationship_node(item.path)
    targets = {t.name.lower(): (t, a) for t, a in (node.targets if node.polymorphic
                                                   else [(node.obj, node.alias)])}
    whens: dict[str, Shape] = {}
    for type_name, paths in item.whens:
        obj = ctx.schema.get(type_name)
        if obj is None:
            raise ctx.error(errors.InvalidType, item.path,
                            f"sObject type '{type_name}' is not supported. " + NO_OBJECT)
        if obj.name.lower() not in targets or obj.name.lower() in whens:
            raise ctx.malformed(item.path, f"TYPEOF {node.rel_name}: unexpected WHEN {type_name}")
        target, alias = targets[obj.name.lower()]
        start = Node(None, target, alias, f'{alias}."Id"')
        sub = Shape(target.name, stmt.out(start.id_sql))
        sub_seen: set = set()
        for path in paths:
            add_column(stmt, sub, scope.resolve(path, start), sub_seen, path)
        whens[target.name.lower()] = sub
    otherwise = None
    if item.otherwise:
        otherwise = Shape(None, stmt.out(node.id_sql), polymorphic=True, typed=True)
        else_seen: set = set()
        for path in item.otherwise:
            add_column(stmt, otherwise, scope.resolve(path, node), else_seen, path)
    key = node.rel_name
    if (id(shape), key.lower()) in seen:
        raise ctx.malformed(item.path, f"duplicate field selected: {key}")
    seen.add((id(shape), key.lower()))
    shape.entries.append((key, "typeof", (stmt.out(node.id_sql), whens, otherwise)))


def fields_function(stmt: Statement, node: ast.Func, limit: int | None) -> list[ast.Path]:
    """``FIELDS(ALL | STANDARD | CUSTOM)`` as the paths of the object's fields, in schema order.
    ALL and CUSTOM need a LIMIT of at most 200, as in Salesforce."""
    arg = node.args[0] if len(node.args) == 1 else None
    which = arg.text.upper() if isinstance(arg, ast.Path) and len(arg.parts) == 1 else None
    if which not in ("ALL", "STANDARD", "CUSTOM"):
        raise stmt.ctx.malformed(node, f"unexpected token: '{node.text}'")
    if which != "STANDARD" and (limit is None or limit > FIELDS_LIMIT) and stmt.ctx.bounded:
        raise stmt.ctx.malformed(node, f"The SOQL FIELDS function must have a LIMIT of at most "
                                       f"{FIELDS_LIMIT}")
    names = [f.name for f in stmt.scope.obj.fields.values()
             if which == "ALL" or (which == "CUSTOM") == f.name.endswith("__c")]
    return [ast.Path((n,), node.line, node.column) for n in names]


_RECORD_VISIBILITY = {"MAXDESCRIPTORPERRECORD": "number", "SUPPORTSDOMAINS": "word",
                      "SUPPORTSDELEGATES": "word"}


def _lookup_test(ctx: Context, scope: Scope, clause: ast.Clause) -> None:
    """``USING LOOKUP Obj.Field [BIND Field = value, ...]``: the records the lookup field's filter
    lets a user pick, given the BIND values of the record being edited. Checked: the object,
    a reference field of it that points at the FROM object, and BIND fields of that object.
    Where the fake differs from Salesforce: its schema has no lookup filters, so every record
    of the FROM object passes, whatever the BIND values (the exact answer for a lookup field
    without a filter)."""
    path = ast.Path(clause.words, clause.line, clause.column)
    if len(clause.words) != 2:
        raise ctx.malformed(path, f"unexpected token: '{path.text}'")
    holder = resolve_object(ctx, ast.ObjectRef(clause.words[0], None, clause.line, clause.column))
    ref = holder.field(clause.words[1])
    if ref is None:
        raise ctx.error(errors.InvalidField, path, f"No such column '{clause.words[1]}' on entity "
                                                   f"'{holder.name}'. " + NO_COLUMN)
    if ref.type != "reference" or scope.obj.name not in ref.reference_to:
        raise ctx.malformed(path, f"USING LOOKUP: {holder.name}.{ref.name} is not a lookup to "
                                  f"{scope.obj.name}")
    for name, _value, line, column in clause.args:
        if holder.field(name) is None:
            raise ctx.error(errors.InvalidField, ast.Path((name,), line, column),
                            f"No such column '{name}' on entity '{holder.name}'. " + NO_COLUMN)


def _with_test(ctx: Context, scope: Scope, clause: ast.Clause, node) -> bool:
    """``WITH RecordVisibilityContext (...)`` and ``WITH UserId = '...'``: True when handled.

    RecordVisibilityContext only shapes what ``RecordVisibility`` answers (a pilot object the
    fake does not have, so selecting it is an unknown field); its parameters are checked, at
    least one is needed, and the rows are unchanged. ``WITH UserId`` reads UserProfileFeed,
    which the fake does not have: a 501 once the FROM object is known."""
    word = clause.words[0]
    if word == "RECORDVISIBILITYCONTEXT":
        if not clause.args:
            raise ctx.malformed(node, "unexpected token: 'RecordVisibilityContext'")
        for name, value, line, column in clause.args:
            kind = _RECORD_VISIBILITY.get(name.upper())
            if kind is None or value.kind != kind or kind == "word" \
                    and value.text.lower() not in ("true", "false"):
                raise ctx.malformed(ast.Path((name,), line, column), f"unexpected token: '{name}'")
        return True
    if word == "USERID" and clause.value is not None:
        raise refuse("SOQL WITH USERID", "SOQL WITH USERID (UserProfileFeed)")
    return False


# the words each keyword clause takes after its keyword (WITH's others are handled above)
_CLAUSE_WORDS = {"WITH": {"SECURITY_ENFORCED", "USER_MODE", "SYSTEM_MODE"},
                 "FOR": {"VIEW", "REFERENCE", "UPDATE"},
                 "UPDATE": {"TRACKING", "VIEWSTAT"}}


def clause_tests(stmt: Statement, scope: Scope) -> list[tuple[str, list]]:
    """USING SCOPE, USING LOOKUP, WITH, FOR and UPDATE: their tests on the rows (a scope's).

    Where the fake differs from Salesforce: it has no field-level security or sharing, so
    ``WITH SECURITY_ENFORCED``, ``USER_MODE`` and ``SYSTEM_MODE`` change nothing; ``FOR VIEW``
    and ``FOR REFERENCE`` do not record views; ``FOR UPDATE`` locks nothing beyond the org's own
    lock; ``UPDATE TRACKING`` / ``VIEWSTAT`` keep no article statistics."""
    ctx, select = stmt.ctx, stmt.select
    tests: list[tuple[str, list]] = []
    for clause in select.clauses:
        node = ast.Value("word", clause.words[0], clause.line, clause.column)
        words = set(clause.words)
        if clause.kind == "USING SCOPE":
            name = clause.words[0]
            test = scopes.scope_test(name, scope.obj, scope.column, ctx.user_id)
            if test is None:
                raise refuse(scopes.REFUSED, f"SOQL USING SCOPE {name.lower()}"
                             + (f" on {scope.obj.name}" if scopes.known(name) else ""))
            if test[0]:
                tests.append(test)
            continue
        if clause.kind == "USING LOOKUP":
            _lookup_test(ctx, scope, clause)
            continue
        if clause.kind == "WITH" and (clause.args or clause.value is not None):
            if _with_test(ctx, scope, clause, node):
                continue
            raise ctx.malformed(node, f"unexpected token: '{clause.words[0]}'")
        allowed = _CLAUSE_WORDS.get(clause.kind, set())
        if not words <= allowed:   # the first word this clause does not take, as Salesforce names it
            bad = next(w for w in clause.words if w not in allowed)
            raise ctx.malformed(node, f"unexpected token: '{bad}'")
        if clause.kind == "FOR" and "UPDATE" in words and select.order_by:
            raise ctx.malformed(select.order_by[0].expr, "FOR UPDATE cannot be used with ORDER BY")
    return tests


def _where(stmt: Statement, scope: Scope, extra: list[tuple[str, list]]) -> tuple[str, list]:
    tests, params = [], []
    deleted = scope.deleted_filter()
    if deleted:
        tests.append(deleted)
    for sql, ps in extra:
        tests.append(sql)
        params.extend(ps)
    if stmt.select.where is not None:
        sql, ps = stmt.condition(stmt.select.where)
        tests.append(sql)
        params.extend(ps)
    return (" WHERE " + " AND ".join(tests)) if tests else "", params


def _first_rows_of_each(stmt: Statement, scope: Scope, limit: int | None,
                        offset: int) -> tuple[str, list] | None:
    """For ``WHERE field IN (a, b, ...) LIMIT n`` in the default order (most recent first): the
    rows among the first ``n + OFFSET`` of each value, each value's read in order from the
    field's ordered index (see Store.ensure_index), so that SQLite sorts those few rows rather
    than every match. The first rows of the whole answer are all among them; when a value has
    fewer matches, all of them are, so counts stay exact. None when the query is of another form."""
    ctx, cond = stmt.ctx, stmt.select.where
    if (limit is None or stmt.select.order_by or ctx.order.mode != "recent"
            or not isinstance(cond, ast.In) or cond.negated or not isinstance(cond.values, tuple)
            or len(cond.values) < 2 or not isinstance(cond.left, ast.Path)):
        return None
    col = scope.resolve(cond.left)
    if not stmt._own_field(col):
        return None
    values = [coerce(ctx, col, v) for v in cond.values]
    if any(v is None or isinstance(v, tuple) for v in values):
        return None
    collate = " COLLATE NOCASE" if stmt._text(col) else ""
    deleted = "" if ctx.include_deleted else ' AND +"IsDeleted" = 0'
    branch = (f"SELECT * FROM (SELECT rowid FROM {q(scope.obj.name)} WHERE {q(col.field.name)} = ?"
              f"{collate}{deleted} ORDER BY \"LastModifiedDate\" DESC, \"Id\" DESC "
              f"LIMIT {min(limit + offset, MAX_INT)})")
    return f"{scope.alias}.rowid IN ({' UNION ALL '.join([branch] * len(values))})", values


def _whole(stmt: Statement, scope: Scope, extra: list, driver) -> tuple | None:
    """``(object, include_deleted)`` when a statement's rows are every (live) row of its object:
    no WHERE, no USING SCOPE or other test, no driver. Parent joins never add or drop a row."""
    if stmt.select.where is not None or extra or driver:
        return None
    return scope.obj.name, scope.ctx.include_deleted


def _is_aggregate(select: ast.Select) -> bool:
    return bool(select.group_by) or any(
        isinstance(i, ast.SelectField) and _aggregated(i.expr) for i in select.items)


def _aggregated(expr) -> bool:
    """An aggregate function, or one inside FORMAT()."""
    if not isinstance(expr, ast.Func):
        return False
    name = expr.name.upper()
    return name in AGGREGATES or name == "FORMAT" and any(_aggregated(a) for a in expr.args)


def compile_query(ctx: Context, select: ast.Select, *, driver: tuple[str, list] | None = None,
                  extra_where: tuple[str, list] | None = None) -> Compiled:
    """The main statement. ``driver`` (SQL selecting ``id``, with its parameters) restricts the
    rows to those ids, read first (SOSL's phone-key lookup); ``extra_where`` is one more test
    on the FROM object, in terms of its alias ``t0`` (SOSL's term match)."""
    scope = Scope(ctx, select.source)
    for path, alias in select.joins:
        scope.add_alias(path, alias)
    stmt = Statement(ctx, select, scope)
    limit = integer(ctx, select.limit)
    offset = integer(ctx, select.offset) or 0
    if offset > MAX_OFFSET:
        raise errors.NumberOutsideValidRange(f"Maximum SOQL offset allowed is {MAX_OFFSET}")
    if _is_aggregate(select):
        compiled = _compile_aggregate(ctx, stmt, scope, limit, offset)
        compiled.indexes = tuple(sorted(ctx.filtered))
        compiled.trigrams = tuple(sorted(ctx.trigrams))
        return compiled
    shape = Shape(scope.obj.name, stmt.out(scope.column("Id")))
    seen: set = set()
    children = _select_items(ctx, stmt, scope, shape, seen, limit, 0)
    extra = clause_tests(stmt, scope) + ([extra_where] if extra_where else [])
    where_sql, where_params = _where(stmt, scope, extra)
    first = None if extra or driver else _first_rows_of_each(stmt, scope, limit, offset)
    if first is not None:
        # the IN itself holds for every one of those rows: leaving it out makes SQLite start from them
        deleted = scope.deleted_filter()
        where_sql = " WHERE " + " AND ".join(([deleted] if deleted else []) + [first[0]])
        where_params = first[1]
    order = stmt.order_sql(select.order_by, aggregate=False) + stmt.default_order(scope)
    from_sql = scope.table_sql(driver[0] if driver else None)
    driver_params = list(driver[1]) if driver else []
    sql = (f"SELECT {', '.join(stmt.columns)} FROM {from_sql}{where_sql} ORDER BY {', '.join(order)}")
    count_sql = f"SELECT COUNT(*) FROM {from_sql}{where_sql}"
    params = driver_params + where_params
    return Compiled("records", sql, params, count_sql, params, limit, offset, shape, children,
                    tuple(sorted(ctx.filtered)), tuple(sorted(ctx.trigrams)),
                    _whole(stmt, scope, extra, driver))


def _compile_aggregate(ctx: Context, stmt: Statement, scope: Scope, limit, offset) -> Compiled:
    select = stmt.select
    subtotals, group_by = _grouping_sets(ctx, select.group_by)
    group = [stmt.expr(g, aggregate_ok=False) for g in group_by]
    stmt.group_sql = {sql for sql, _, _ in group}
    if any(isinstance(i, ast.TypeOf) for i in select.items):
        raise ctx.malformed(select.source, "TYPEOF cannot be used in an aggregate query")
    items = [i for i in select.items if not isinstance(i, ast.SelectSubquery)]
    if len(items) != len(select.items):
        raise ctx.malformed(select.source, "Nested queries are not supported in aggregate queries")
    tests = clause_tests(stmt, scope)
    only_count = [i for i in items if isinstance(i.expr, ast.Func) and i.expr.name.upper() == "COUNT"
                  and not i.expr.args]
    if only_count:
        if len(items) != 1 or select.group_by:
            raise ctx.malformed(only_count[0].expr, "COUNT() must be the only element in the SELECT "
                                                    "list")
        where_sql, where_params = _where(stmt, scope, tests)
        count_sql = f"SELECT COUNT(*) FROM {scope.table_sql()}{where_sql}"
        return Compiled("count", count_sql, where_params, count_sql, where_params, limit, offset,
                        None, [], whole=_whole(stmt, scope, tests, None))
    if limit is not None and not select.group_by:
        # One row at most: Salesforce wants GROUP BY before it takes a LIMIT here.
        raise ctx.malformed(select.limit, "An aggregate query without GROUP BY cannot have a LIMIT "
                                          "clause")
    shape = Shape("AggregateResult", -1, aggregate=True)
    keys: set = set()
    n = 0
    flags: dict[int, str] = {}          # GROUPING() column -> its group expression's SQL
    for item in items:
        if isinstance(item.expr, ast.Func) and item.expr.name.upper() == "GROUPING":
            key, n = (item.alias, n) if item.alias else (f"expr{n}", n + 1)
            if key.lower() in keys:
                raise ctx.malformed(item.expr, f"duplicate alias: {key}")
            keys.add(key.lower())
            column = stmt.out(f"/* GROUPING() {len(flags)} */ 0")
            flags[column] = _grouping_of(stmt, item.expr, subtotals)
            shape.entries.append((key, "field", (column, lambda v: int(v or 0))))
            continue
        sql, col, agg = stmt.expr(item.expr, aggregate_ok=True)
        if agg is None:
            if sql not in stmt.group_sql:
                raise ctx.malformed(item.expr, f"Field must be grouped or aggregated: {item.expr.text}")
            key = item.alias or (col.name if col.kind != "func" else None)
            if key is None:
                key = f"expr{n}"
                n += 1
            convert = converter(col)
        else:
            key = item.alias
            if key is None:
                key = f"expr{n}"
                n += 1
            convert = _aggregate_converter(agg, col)
            if col is not None and col.formatted:
                kind = "int" if agg in ("COUNT", "COUNT_DISTINCT") else col.field.type
                convert = partial(_formatted, kind, convert)
        if key.lower() in keys:
            raise ctx.malformed(item.expr, f"duplicate alias: {key}")
        keys.add(key.lower())
        shape.entries.append((key, "field", (stmt.out(sql), convert)))
    where_sql, where_params = _where(stmt, scope, tests)
    having_sql, having_params = "", []
    if select.having is not None:
        having_sql, having_params = stmt.condition(select.having, having=True)
        having_sql = f" HAVING {having_sql}"
    if subtotals:
        return _compile_subtotals(stmt, scope, subtotals, group, flags, where_sql + having_sql,
                                  where_params + having_params, shape, limit, offset)
    sql = f"SELECT {', '.join(stmt.columns)} FROM {scope.table_sql()}{where_sql}"
    params = list(where_params)
    if group:
        sql += " GROUP BY " + ", ".join(g for g, _, _ in group)
    sql += having_sql
    params += having_params
    order = stmt.order_sql(select.order_by, aggregate=True)
    if order:
        sql += " ORDER BY " + ", ".join(order)
    count_sql = f"SELECT COUNT(*) FROM ({sql})"
    return Compiled("aggregate", sql, params, count_sql, params, limit, offset, shape, [])


def _grouping_sets(ctx: Context, group_by: tuple) -> tuple[str | None, tuple]:
    """``GROUP BY ROLLUP(a, b)`` / ``CUBE(a, b)``: ("ROLLUP" or "CUBE", (a, b)); else (None, group_by)."""
    kinds = [g for g in group_by if isinstance(g, ast.Func) and g.name.upper() in ("ROLLUP", "CUBE")]
    if not kinds:
        return None, group_by
    if len(group_by) != 1 or not kinds[0].args or len(kinds[0].args) > 3:
        raise ctx.malformed(kinds[0], f"ROLLUP and CUBE take one to three fields and stand alone "
                                      f"in GROUP BY: {kinds[0].text}")
    return kinds[0].name.upper(), kinds[0].args


def _grouping_of(stmt: Statement, node: ast.Func, subtotals: str | None) -> str:
    """The group expression GROUPING(x) asks about."""
    if subtotals is None:
        raise stmt.ctx.malformed(node, "GROUPING() needs GROUP BY ROLLUP or CUBE")
    if len(node.args) != 1:
        raise stmt.ctx.malformed(node, f"unexpected token: '{node.text}'")
    sql, _, _ = stmt.expr(node.args[0], aggregate_ok=False)
    if sql not in stmt.group_sql:
        raise stmt.ctx.malformed(node, f"GROUPING() of a field that is not grouped: {node.text}")
    return sql


def _compile_subtotals(stmt: Statement, scope: Scope, kind: str, group: list, flags: dict,
                       tail: str, tail_params: list, shape: Shape, limit, offset) -> Compiled:
    """ROLLUP and CUBE as one GROUP BY per grouping set, their rows in one UNION ALL: in each,
    the columns of the fields left out are null and their GROUPING() is 1. Rows come grouped,
    each group's subtotal after it and the grand total last, after any ORDER BY."""
    exprs = [g for g, _, _ in group]
    n = len(exprs)
    # One more GROUPING() per field, not shown, to put subtotals after their group's rows.
    hidden = [(stmt.out(f"/* GROUPING {i} */ 0"), sql) for i, sql in enumerate(exprs)]
    flags = {**flags, **dict(hidden)}
    if kind == "ROLLUP":
        sets = [tuple(range(k)) for k in range(n, -1, -1)]
    else:
        sets = sorted((tuple(i for i in range(n) if mask >> (n - 1 - i) & 1)
                       for mask in range(2 ** n - 1, -1, -1)), key=len, reverse=True)
    parts, params = [], []
    for kept in sets:
        dropped = {exprs[i] for i in range(n) if i not in kept}
        columns = []
        for index, sql in enumerate(stmt.columns):
            if index in flags:
                sql = "1" if flags[index] in dropped else "0"
            elif sql in dropped:
                sql = "NULL"
            columns.append(f"{sql} AS c{index}")
        grouping = (" GROUP BY " + ", ".join(exprs[i] for i in kept)) if kept else ""
        where, _, having = tail.partition(" HAVING ")
        parts.append(f"SELECT * FROM (SELECT {', '.join(columns)} FROM {scope.table_sql()}{where}"
                     f"{grouping}{' HAVING ' + having if having else ''})")
        params += tail_params
    position = {sql: i for i, sql in enumerate(stmt.columns)}
    order = []
    for item in stmt.select.order_by:
        if isinstance(item.expr, ast.Func) and item.expr.name.upper() == "GROUPING":
            grouped = _grouping_of(stmt, item.expr, kind)
            sql = stmt.columns[next(k for k, e in flags.items() if e == grouped)]
        else:
            sql, _, _ = stmt.expr(item.expr, aggregate_ok=True)
        if sql not in position:
            raise stmt.ctx.malformed(item.expr, "Ordered field must be selected in a ROLLUP or CUBE "
                                                f"query: {item.expr.text}")
        order.append(f"c{position[sql]}" + (" DESC" if item.descending else "")
                     + (f" NULLS {item.nulls.upper()}" if item.nulls else ""))
    for index, sql in hidden:          # then subtotals after their group's rows (and ties broken)
        order += [f"c{index}"] + ([f"c{position[sql]}"] if sql in position else [])
    sql = " UNION ALL ".join(parts)
    sql = f"SELECT * FROM ({sql})" + (" ORDER BY " + ", ".join(order) if order else "")
    return Compiled("aggregate", sql, params, f"SELECT COUNT(*) FROM ({sql})", params, limit,
                    offset, shape, [])


def converter(col: Column) -> Callable:
    """Stored value -> JSON value of a selected column (as text under FORMAT())."""
    wire = partial(to_wire, col.field)
    return partial(_formatted, col.field.type, wire) if col.formatted else wire


def _formatted(kind: str, wire: Callable, stored):
    """FORMAT(): the value as the en_US locale shows it, datetimes in UTC.

    Where the fake differs from Salesforce: every user reads en_US and UTC, whatever their
    locale and time zone; the currency is the org's one currency, in dollars."""
    value = wire(stored)
    if value is None:
        return None
    if kind == "currency":
        return ("-" if value < 0 else "") + f"${abs(value):,.2f}"
    if kind == "int":
        return f"{value:,}"
    if fieldtypes.TYPES[kind].sql is float:
        return f"{value:,.2f}" + ("%" if kind == "percent" else "")
    if kind == "date":
        d = date.fromisoformat(value)
        return f"{d.month}/{d.day}/{d.year}"
    if kind == "datetime":
        t = parse_datetime(value)
        hour = t.hour % 12 or 12
        return f"{t.month}/{t.day}/{t.year}, {hour}:{t.minute:02d} {'AM' if t.hour < 12 else 'PM'}"
    return value


def _aggregate_converter(agg: str, col: Column | None) -> Callable:
    if agg in ("COUNT", "COUNT_DISTINCT", "COUNT()"):
        return lambda v: int(v or 0)
    if agg == "AVG" or fieldtypes.TYPES[col.field.type].sql is float:
        return lambda v: None if v is None else float(v)
    return partial(to_wire, col.field)


MAX_CHILD_DEPTH = 4      # a root and four levels of child subqueries below it (API v58.0+)
NESTED_CHILDREN_SINCE = 58.0


def _select_items(ctx: Context, stmt: Statement, scope: Scope, shape: Shape, seen: set,
                  limit: int | None, depth: int) -> list[ChildPlan]:
    """Compile the SELECT list of a query ``depth`` levels below the root (0: the root) into
    ``shape``; its child subqueries' plans, each nested one level further."""
    children: list[ChildPlan] = []
    for item in stmt.select.items:
        if not isinstance(item, ast.SelectSubquery):
            select_item(stmt, shape, item, seen, limit)
            continue
        levels = MAX_CHILD_DEPTH if ctx.api_version >= NESTED_CHILDREN_SINCE else 1
        if depth >= levels:
            raise ctx.malformed(item.select.source, "SOQL statements cannot query aggregate "
                                f"relationships more than {levels} level"
                                f"{'s' if levels > 1 else ''} away from the root entity object.")
        plan = compile_child(ctx, scope, item.select, depth + 1)
        if plan.key.lower() in seen:
            raise ctx.malformed(item.select.source, f"duplicate field selected: {plan.key}")
        seen.add(plan.key.lower())
        children.append(plan)
        shape.entries.append((plan.key, "child", plan))
    return children


def compile_child(ctx: Context, parent: Scope, select: ast.Select, depth: int = 1) -> ChildPlan:
    """A child subquery: rows of the child object whose reference points at the page's parents.
    It may hold child subqueries of its own, down to five levels counting the root, as the REST
    API allows since v58.0 (before, one level: a request naming an older version gets that
    version's error)."""
    rel = parent.obj.child(select.source.name)
    owner = select.source.path[:-1]
    if owner and (len(owner) > 1 or owner[0].lower() not in (parent.obj.name.lower(),
                                                              parent.object_alias)):
        rel = None
    if rel is None:
        raise ctx.error(errors.InvalidType, select.source,
                        f"Didn't understand relationship '{select.source.name}' in FROM part of "
                        "query call. " + NO_RELATIONSHIP)
    if _is_aggregate(select):
        raise ctx.malformed(select.source, "Aggregate queries are not supported in a nested query")
    child = ctx.schema.get(rel.child)
    scope = Scope(ctx, select.source, child)
    stmt = Statement(ctx, select, scope)
    stmt.out(scope.column(rel.field))          # column 0: the parent's id
    shape = Shape(child.name, stmt.out(scope.column("Id")))
    seen: set = set()
    limit = integer(ctx, select.limit)
    offset = integer(ctx, select.offset) or 0
    children = _select_items(ctx, stmt, scope, shape, seen, limit, depth)
    # The parents' ids are the statement's first parameter, a JSON list filled in per page.
    parents = (f"{scope.column(rel.field)} IN (SELECT value FROM json_each(?))", [None])
    where_sql, where_params = _where(stmt, scope, [parents, *clause_tests(stmt, scope)])
    order = stmt.order_sql(select.order_by, aggregate=False) + stmt.default_order(scope)
    sql = (f"SELECT {', '.join(stmt.columns)} FROM {scope.table_sql()}{where_sql} "
           f"ORDER BY {', '.join(order)}")
    return ChildPlan(rel.name, sql, where_params[1:], shape, limit, offset, children)


def _semi_join_column(ctx: Context, col: Column, path: ast.Path) -> str:
    if col.kind != "field" or col.field.type not in ID_TYPES:
        raise ctx.error(errors.InvalidField, path,
                        f"Invalid semi join: '{col.name}' is not an Id or a reference field")
    return col.sql


def _semi_join_typeof(ctx: Context, scope: Scope, item: ast.TypeOf) -> str:
    node = scope.relationship_node(item.path)
    targets = {t.name.lower(): (t, a) for t, a in (node.targets if node.polymorphic
                                                   else [(node.obj, node.alias)])}
    branches = []
    for type_name, paths in item.whens:
        obj = ctx.schema.get(type_name)
        if obj is None:
            raise ctx.error(errors.InvalidType, item.path,
                            f"sObject type '{type_name}' is not supported. " + NO_OBJECT)
        if obj.name.lower() not in targets or len(paths) != 1:
            raise ctx.malformed(item.path, f"TYPEOF {node.rel_name}: unexpected WHEN {type_name}")
        target, alias = targets[obj.name.lower()]
        start = Node(None, target, alias, f'{alias}."Id"')
        sql = _semi_join_column(ctx, scope.resolve(paths[0], start), paths[0])
        branches.append(f'WHEN {alias}."Id" IS NOT NULL THEN {sql}')
    otherwise = "NULL"
    if item.otherwise:
        if len(item.otherwise) != 1:
            raise ctx.malformed(item.path, "Semi join sub-selects must select exactly one Id or "
                                           "reference field")
        otherwise = _semi_join_column(ctx, scope.resolve(item.otherwise[0], node), item.otherwise[0])
    return f"(CASE {' '.join(branches)} ELSE {otherwise} END)"


def semi_join(ctx: Context, select: ast.Select) -> tuple[str, list]:
    """``Id IN (SELECT ContactId FROM Case ...)``: the inner statement as SQL. Its one item may
    be a TYPEOF whose WHEN (and ELSE) each name one id or reference field of the related record:
    the id selected for a row is the one of the branch for the type that record has."""
    scope = Scope(ctx, select.source)
    stmt = Statement(ctx, select, scope)
    items = select.items
    if len(items) == 1 and isinstance(items[0], ast.TypeOf):
        col_sql = _semi_join_typeof(ctx, scope, items[0])
    else:
        if len(items) != 1 or not isinstance(items[0], ast.SelectField) \
                or not isinstance(items[0].expr, ast.Path) or items[0].alias:
            raise ctx.malformed(select.source, "Semi join sub-selects must select exactly one Id or "
                                               "reference field")
        col_sql = _semi_join_column(ctx, scope.resolve(items[0].expr), items[0].expr)
    if select.group_by or select.having:
        raise ctx.malformed(select.source, "Semi join sub-selects cannot be aggregate queries")
    where_sql, where_params = _where(stmt, scope, [(f"{col_sql} IS NOT NULL", []),
                                                   *clause_tests(stmt, scope)])
    sql = f"SELECT {col_sql} FROM {scope.table_sql()}{where_sql}"
    params = list(where_params)
    order = stmt.order_sql(select.order_by, aggregate=False)
    if order:
        sql += " ORDER BY " + ", ".join(order)
    limit = integer(ctx, select.limit)
    offset = integer(ctx, select.offset)
    if limit is not None or offset:
        sql += " LIMIT ? OFFSET ?"
        params += [MAX_INT if limit is None else limit, offset or 0]
    return sql, params
