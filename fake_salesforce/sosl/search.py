"""SOSL: ``FIND {term} [IN ... FIELDS] [RETURNING Obj(fields [WHERE] [ORDER BY] [LIMIT])] [LIMIT n]``.

The statement is parsed by the SOQL grammar (its RETURNING options are SOQL), each object's part
is compiled by the SOQL compiler with one more test: the term match.

Where the fake differs from Salesforce's search index:
- PHONE FIELDS matches whole numbers on their digits (``4155550100``, ``+1 (415) 555-0100`` and
  ``+14155550100`` are one number) through the indexed phone-key table; a partial number such as
  ``5550100`` does not match. ``{a OR b}`` finds either number. A number typed without ``+`` is
  read in the org's default country (``OrgConfig.default_country``), where Salesforce compares
  digits without any country setting (see ``phones``).
- NAME, EMAIL and ALL FIELDS match words case-insensitively: a term word must equal a whole word
  of a field (``*`` any run of letters or digits, ``?`` one), with no stemming, synonyms or
  relevance ranking. Words are implicitly ANDed; ``OR`` and ``AND NOT`` are understood,
  parentheses are not. These scopes read every row of the object (no search index).
- Within each object, records come most recently updated first (or in the ORDER BY given);
  search is immediate (Salesforce indexes new records after a delay).
- Converted Leads and deleted records are never returned.
"""
from __future__ import annotations

import re
from datetime import datetime
from functools import partial

from .. import errors, phones
from ..fieldtypes import TEXT_TYPES
from ..store import PHONE_TABLE, q
from ..soql import ast
from ..soql.compiler import Context, Ordering, compile_query, integer
from ..soql.engine import guard, shape_rows
from ..soql.parser import caret, parse_search
from ..soql.unsupported import NOT_IMPLEMENTED, refuse

DEFAULT_LIMIT = 2000
SCOPES = {"ALL", "NAME", "EMAIL", "PHONE", "SIDEBAR"}
# Functions a RETURNING field list takes (the date and aggregate functions it does not).
RETURNING_FUNCTIONS = {"FIELDS", "TOLABEL", "CONVERTCURRENCY", "FORMAT"}
_NO_BRACES = re.compile(r"\s*FIND\s+[^\s{']", re.IGNORECASE)
_WORD = re.compile(r'"[^"]*"|\S+')
_OR_WORD = re.compile(r"\s+OR\s+", re.IGNORECASE)


def run_search(store, schema, text: str, *, now: datetime, order: Ordering, region: str,
               fiscal_start_month: int = 1) -> dict:
    """Run SOSL: ``{"searchRecords": [...]}``, records grouped in RETURNING order. ``region``: the
    country whose dialling rules read a phone term without a country code."""
    if _NO_BRACES.match(text or ""):
        raise errors.MalformedSearch("No search term found. The search term must be enclosed in braces.")
    search = parse_search(text)
    scope = (search.scope or "ALL").upper()
    if scope not in SCOPES:
        raise errors.MalformedSearch(caret(text, search.scope_line, search.scope_column,
                                           f"unexpected token: '{search.scope}'"))
    if scope == "SIDEBAR":
        raise refuse("SOSL IN SIDEBAR FIELDS")
    term = _Term.parse(search)
    ctx = Context(schema, text, now=now, order=order, error_class=errors.MalformedSearch,
                  fiscal_start_month=fiscal_start_month)
    _clauses(text, search)
    total_limit = integer(ctx, search.limit)
    remaining = DEFAULT_LIMIT if total_limit is None else min(total_limit, DEFAULT_LIMIT)
    returning = search.returning or tuple(
        ast.Returning(ast.ObjectRef(o.name, None, search.line, search.column))
        for o in schema if o.name_field and o.searchable)
    plan = partial(_plan, schema, text, now=now, order=order, scope=scope, term=term, region=region,
                   fiscal_start_month=fiscal_start_month)
    plans = guard(lambda: [plan(item) for item in returning], errors.MalformedSearch)
    for compiled, _ in plans:
        for sobject, field, text, ordered in compiled.indexes if compiled is not None else ():
            store.ensure_index(sobject, field, nocase=text, ordered=ordered)
    records: list[dict] = []
    for compiled, driver_empty in plans:
        if remaining <= 0:
            break
        if compiled is None or driver_empty:
            continue
        limit = remaining if compiled.limit is None else min(compiled.limit, remaining)
        rows = guard(lambda: store.execute(
            compiled.sql + " LIMIT ? OFFSET ?",
            [*compiled.params, limit, compiled.offset]).fetchall(), errors.MalformedSearch)
        records.extend(shape_rows(store, schema, compiled, rows))
        remaining -= len(rows)
    return {"searchRecords": records}


def _clauses(text: str, search: ast.Search) -> None:
    """SOSL's WITH and UPDATE clauses: ``WITH SPELL_CORRECTION`` is accepted (the fake matches
    words exactly either way) and ``UPDATE TRACKING`` / ``VIEWSTAT`` keep no statistics; the
    other WITH clauses are refused by name."""
    for clause in search.clauses:
        word = clause.words[0]
        if clause.kind == "UPDATE" and set(clause.words) <= {"TRACKING", "VIEWSTAT"}:
            continue
        if clause.kind == "WITH" and word == "SPELL_CORRECTION" and clause.value is not None \
                and clause.value.text.lower() in ("true", "false"):
            continue
        if clause.kind == "WITH" and f"SOSL WITH {word}" in NOT_IMPLEMENTED:
            raise refuse(f"SOSL WITH {word}")
        raise errors.MalformedSearch(caret(text, clause.line, clause.column,
                                           f"unexpected token: '{word}'"))


def _plan(schema, text: str, item: ast.Returning, *, now: datetime, order: Ordering, scope: str,
          term: "_Term", region: str, fiscal_start_month: int = 1):
    """The compiled statement of one RETURNING object (None when it cannot match)."""
    ctx = Context(schema, text, now=now, order=order, error_class=errors.MalformedSearch,
                  fiscal_start_month=fiscal_start_month)
    items = item.items or (ast.SelectField(ast.Path(("Id",), item.source.line, item.source.column), None),)
    select = ast.Select(items=items, source=item.source, where=item.where, order_by=item.order_by,
                        limit=item.limit, offset=item.offset)
    obj = schema.get(item.source.name)
    if obj is not None and not obj.searchable:
        raise errors.InvalidType(caret(text, item.source.line, item.source.column,
                                       f"entity type {obj.name} does not support search"))
    if any(isinstance(i, (ast.SelectSubquery, ast.TypeOf)) or isinstance(i.expr, ast.Func)
           and i.expr.name.upper() not in RETURNING_FUNCTIONS for i in items):
        raise errors.MalformedSearch(caret(text, item.source.line, item.source.column,
                                           "RETURNING field lists take fields, not subqueries or "
                                           "functions"))
    driver = None
    tests: list[str] = []
    params: list = []
    if obj is not None:
        if obj.name == "Lead":
            tests.append('t0."IsConverted" = 0')
        if scope == "PHONE":
            keys = sorted(term.phone_keys(region)) if obj.phone_fields else []
            if not keys:
                compile_query(ctx, select)          # still report bad fields
                return None, True
            driver = (f"SELECT DISTINCT id FROM {PHONE_TABLE} WHERE sobject = ? "
                      f"AND key IN ({', '.join('?' * len(keys))})", [obj.name, *keys])
        else:
            fields = _fields(obj, scope)
            match_sql, match_params = term.sql(fields)
            if scope == "ALL" and obj.phone_fields:
                keys = sorted(term.phone_keys(region))
                if keys:
                    match_sql = (f'({match_sql} OR t0."Id" IN (SELECT id FROM {PHONE_TABLE} '
                                 f"WHERE sobject = ? AND key IN ({', '.join('?' * len(keys))})))")
                    match_params = [*match_params, obj.name, *keys]
            tests.append(match_sql)
            params.extend(match_params)
    extra = (" AND ".join(tests), params) if tests else None
    return compile_query(ctx, select, driver=driver, extra_where=extra), False


def _fields(obj, scope: str) -> list[str]:
    if scope == "NAME":
        names = [obj.name_field] if obj.name_field else []
    elif scope == "EMAIL":
        names = [f.name for f in obj.fields.values() if f.type == "email"]
    else:
        names = [f.name for f in obj.fields.values() if f.type in TEXT_TYPES]
    return names


class _Term:
    """The search term: OR-groups of words (each word maybe negated), and its raw text."""

    def __init__(self, raw: str, groups: list[list[tuple[str, bool]]], grouped: bool):
        self.raw = raw
        self.groups = groups
        self.grouped = grouped      # unescaped parentheses: only a phone search ignores them

    @classmethod
    def parse(cls, search: ast.Search) -> "_Term":
        raw = search.term
        # Escaped reserved characters are literal; mark them so * and ? stay literal too.
        chars: list[tuple[str, bool]] = []
        i = 0
        while i < len(raw):
            if raw[i] == "\\" and i + 1 < len(raw):
                chars.append((raw[i + 1], True))
                i += 2
            else:
                chars.append((raw[i], False))
                i += 1
        plain = "".join(c for c, escaped in chars if escaped or c not in "*?")
        if len(plain.strip()) < 2:
            raise errors.MalformedSearch("search term must be longer than one character")
        groups: list[list[tuple[str, bool]]] = [[]]
        negate_next = grouped = False
        words = _split(chars)
        k = 0
        while k < len(words):
            word = words[k]
            bare = "".join(c for c, _ in word)
            upper = bare.upper() if not any(e for _, e in word) else ""
            if upper == "OR":
                groups.append([])
            elif upper == "AND" and k + 1 < len(words) and _bare(words[k + 1]).upper() == "NOT":
                negate_next = True
                k += 1
            elif upper in ("AND", "NOT"):
                negate_next = negate_next or upper == "NOT"
            else:
                grouped = grouped or any(c in "()" and not e for c, e in word)
                groups[-1].append((_pattern(word), negate_next))
                negate_next = False
            k += 1
        groups = [g for g in groups if any(not neg for _, neg in g)]
        return cls(raw, groups, grouped)

    def phone_keys(self, region: str) -> set[str]:
        """The phone keys of the term; ``a OR b`` is either number."""
        keys: set[str] = set()
        for part in _OR_WORD.split(self.raw):
            digits = "".join(ch for ch in part if ch.isdigit() or ch == "+")
            keys |= phones.search_keys(digits, region) if digits else set()
        return keys

    def sql(self, fields: list[str]) -> tuple[str, list]:
        """A test on ``t0`` true when the term matches the record's ``fields``."""
        if self.grouped:
            raise refuse("SOSL grouping with parentheses in the search term")
        if not fields or not self.groups:
            return "0", []
        group_sql, params = [], []
        for group in self.groups:
            tests = []
            for (regex, like), negated in group:
                any_field = " OR ".join(
                    f"(t0.{q(f)} LIKE ? ESCAPE '\\' AND regex_match(t0.{q(f)}, ?))" for f in fields)
                for _ in fields:
                    params.extend([like, regex])
                tests.append(f"NOT COALESCE(({any_field}), 0)" if negated else f"({any_field})")
            group_sql.append("(" + " AND ".join(tests) + ")")
        return "(" + " OR ".join(group_sql) + ")", params


def _bare(word) -> str:
    return "".join(c for c, _ in word)


def _split(chars: list[tuple[str, bool]]) -> list[list[tuple[str, bool]]]:
    """Words, with an unescaped ``"..."`` phrase kept as one word."""
    words, current, in_phrase = [], [], False
    for ch, escaped in chars:
        if ch == '"' and not escaped:
            if in_phrase:
                words.append(current)
                current = []
            in_phrase = not in_phrase
            continue
        if ch.isspace() and not in_phrase:
            if current:
                words.append(current)
                current = []
            continue
        current.append((ch, escaped))
    if current:
        words.append(current)
    return [w for w in words if w]


def _pattern(word: list[tuple[str, bool]]) -> tuple[str, str]:
    """(regex matching whole words, LIKE pattern selecting candidates) of one term word."""
    regex, like = [], []
    for ch, escaped in word:
        if not escaped and ch == "*":
            regex.append(r"\w*")
            like.append("%")
        elif not escaped and ch == "?":
            regex.append(r"\w")
            like.append("_")
        elif ch.isspace():
            regex.append(r"\W+")
            like.append("%")
        else:
            regex.append(re.escape(ch))
            like.append(ch.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
    return r"(?<!\w)" + "".join(regex) + r"(?!\w)", "%" + "".join(like) + "%"
