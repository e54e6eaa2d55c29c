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
  relevance ranking. Words are implicitly ANDed; ``OR``, ``AND NOT`` and parentheses are
  understood (AND binds tighter than OR). These scopes read every row of the object (no search
  index).
- SIDEBAR FIELDS (the fields of Salesforce Classic's sidebar search, set per object by
  Salesforce) is modelled as the object's standard short text, email and phone fields: no custom
  fields and no long text.
- ``USING ListView=Recent`` stands for the object's 200 most recently modified records (as SOQL's
  ``USING SCOPE mru``); the fake has no other list views.
- ``WITH HIGHLIGHT``, ``WITH SNIPPET`` and ``WITH METADATA='LABELS'`` are answered (see
  ``_mark`` and ``_labels``); ``WITH PricebookId`` filters Product2 by PricebookEntry when the
  schema declares them; ``WITH NETWORK`` filters nothing but is refused on User and FeedItem for a
  site other than the internal org; ``WITH DIVISION`` filters by the Division field where the
  schema declares a Division object, and is refused where it does not.
- Within each object, records come most recently updated first (or in the ORDER BY given);
  search is immediate (Salesforce indexes new records after a delay).
- Converted Leads and deleted records are never returned.
"""
from __future__ import annotations

import re
from datetime import datetime
from functools import partial

from .. import errors, ids, phones
from ..fieldtypes import TEXT_TYPES
from ..store import PHONE_TABLE, q
from ..soql import ast
from ..soql.compiler import Context, Ordering, compile_query, integer
from ..soql.engine import guard, prepare, shape_rows
from ..soql.parser import caret, parse_search
from ..soql.unsupported import refuse

DEFAULT_LIMIT = 2000
SCOPES = {"ALL", "NAME", "EMAIL", "PHONE", "SIDEBAR"}
SIDEBAR_TYPES = {"string", "email", "phone"}
# WITH HIGHLIGHT marks these objects' records (and custom objects'), at most 25 per object, in
# their text, long text and email fields; WITH SNIPPET adds an excerpt to these objects' records.
HIGHLIGHTED = {"Account", "Campaign", "Contact", "Lead", "Opportunity", "Quote", "User"}
HIGHLIGHTED_PER_OBJECT = 25
HIGHLIGHT_TYPES = {"string", "textarea", "email"}
SNIPPETED = {"KnowledgeArticleVersion", "Case", "FeedItem", "Idea"}
DEFAULT_SNIPPET = 300
# Functions a RETURNING field list takes (the date and aggregate functions it does not).
RETURNING_FUNCTIONS = {"FIELDS", "TOLABEL", "CONVERTCURRENCY", "FORMAT"}
_NO_BRACES = re.compile(r"\s*FIND\s+[^\s{']", re.IGNORECASE)
_OR_WORD = re.compile(r"\s+OR\s+", re.IGNORECASE)


def run_search(store, schema, text: str, *, now: datetime, order: Ordering, region: str,
               fiscal_start_month: int = 1) -> dict:
    """Run SOSL: ``{"searchRecords": [...]}``, records grouped in RETURNING order (and
    ``"metadata"`` with ``WITH METADATA='LABELS'``). ``region``: the country whose dialling rules
    read a phone term without a country code."""
    if _NO_BRACES.match(text or ""):
        raise errors.MalformedSearch("No search term found. The search term must be enclosed in braces.")
    search = parse_search(text)
    scope = (search.scope or "ALL").upper()
    if scope not in SCOPES:
        raise errors.MalformedSearch(caret(text, search.scope_line, search.scope_column,
                                           f"unexpected token: '{search.scope}'"))
    term = _Term.parse(search)
    ctx = Context(schema, text, now=now, order=order, error_class=errors.MalformedSearch,
                  fiscal_start_month=fiscal_start_month)
    options = _Options.read(text, search)
    total_limit = integer(ctx, search.limit)
    remaining = DEFAULT_LIMIT if total_limit is None else min(total_limit, DEFAULT_LIMIT)
    returning = search.returning or tuple(
        ast.Returning(ast.ObjectRef(o.name, None, search.line, search.column))
        for o in schema if o.name_field and o.searchable)
    options.check_network(returning)
    options.find_division(store, schema, text)
    plan = partial(_plan, schema, text, now=now, order=order, scope=scope, term=term, region=region,
                   fiscal_start_month=fiscal_start_month, options=options)
    plans = guard(lambda: [plan(item) for item in returning], errors.MalformedSearch)
    for compiled, _ in plans:
        if compiled is not None:
            prepare(store, compiled)
    records: list[dict] = []
    for item, (compiled, driver_empty) in zip(returning, plans):
        if remaining <= 0:
            break
        if compiled is None or driver_empty:
            continue
        limit = remaining if compiled.limit is None else min(compiled.limit, remaining)
        rows = guard(lambda: store.execute(
            compiled.sql + " LIMIT ? OFFSET ?",
            [*compiled.params, limit, compiled.offset]).fetchall(), errors.MalformedSearch)
        found = shape_rows(store, schema, compiled, rows)
        _mark(store, schema.get(item.source.name), found, term, options)
        records.extend(found)
        remaining -= len(rows)
    answer: dict = {"searchRecords": records}
    if options.metadata:
        answer["metadata"] = _labels(schema, search.returning or tuple(
            ast.Returning(ast.ObjectRef(name, None, 0, 0))
            for name in dict.fromkeys(r["attributes"]["type"] for r in records)))
    return answer


class _Options:
    """SOSL's WITH and UPDATE clauses, read and checked.

    Where the fake differs from Salesforce: ``WITH SPELL_CORRECTION`` changes nothing (the fake
    matches words exactly either way); ``UPDATE TRACKING`` / ``VIEWSTAT`` keep no statistics;
    ``WITH DIVISION`` filters the objects that have a Division field only where the schema declares
    a Division object (refused otherwise: the org has no divisions); ``WITH NETWORK`` naming an
    Experience Cloud site is refused where it would filter (User, FeedItem)."""

    def __init__(self):
        self.highlight = False
        self.snippet: int | None = None         # target length, with WITH SNIPPET
        self.metadata = False
        self.networks: tuple[str, ...] = ()
        self.pricebook: str | None = None
        self.division: tuple[str, ast.Clause] | None = None    # as written, and its clause
        self.divisions: list[str] = []          # its id and the global division's

    @classmethod
    def read(cls, text: str, search: ast.Search) -> "_Options":
        options, seen = cls(), {}
        for clause in search.clauses:
            word = clause.words[0]
            if clause.kind == "UPDATE":
                if not set(clause.words) <= {"TRACKING", "VIEWSTAT"}:
                    bad = next(w for w in clause.words if w not in ("TRACKING", "VIEWSTAT"))
                    raise errors.MalformedSearch(caret(text, clause.line, clause.column,
                                                       f"unexpected token: '{bad}'"))
                continue
            key = (clause.words, clause.value.text if clause.value else None,
                   tuple(v.text for v in clause.values))
            if seen.setdefault(word, key) != key:
                raise errors.MalformedSearch(caret(text, clause.line, clause.column,
                                                   f"WITH {word} is given twice with different values"))
            options._take(text, clause)
        return options

    def _take(self, text: str, clause: ast.Clause) -> None:
        word, value, extra = clause.words[0], clause.value, clause.words[1:]

        def bad(message: str):
            return errors.MalformedSearch(caret(text, clause.line, clause.column, message))

        def string() -> str:
            if extra or value is None or value.kind != "string":
                raise bad(f"WITH {word} takes a quoted value: WITH {word} = '...'")
            return value.text

        if word == "SPELL_CORRECTION":
            if extra or value is None or value.text.lower() not in ("true", "false"):
                raise bad("WITH SPELL_CORRECTION takes true or false")
        elif word == "HIGHLIGHT":
            if extra or value is not None:
                raise bad("unexpected token: '='")
            self.highlight = True
        elif word == "SNIPPET":
            if not extra and value is None:
                self.snippet = DEFAULT_SNIPPET
            elif extra == ("TARGET_LENGTH",) and value.kind == "number" and value.text.isdigit() \
                    and int(value.text) > 0:
                self.snippet = int(value.text)
            else:
                raise bad("WITH SNIPPET takes (target_length=n), n a whole number of characters")
        elif word == "METADATA":
            if string().upper() != "LABELS":
                raise bad(f"invalid value for WITH METADATA: '{value.text}' (LABELS is the one value)")
            self.metadata = True
        elif word == "NETWORK":
            if extra == ("IN",) and clause.values and all(v.kind == "string" for v in clause.values):
                self.networks = tuple(v.text for v in clause.values)
            else:
                self.networks = (string(),)
        elif word == "DIVISION":
            self.division = (string(), clause)
        elif word == "PRICEBOOKID":
            self.pricebook = ids.to18(string()) or string()
        else:
            raise bad(f"unexpected token: '{word}'")

    def find_division(self, store, schema, text: str) -> None:
        """``WITH DIVISION = 'name or id'``: the division and the global division, whose records
        every division search includes (as in Salesforce). An org whose schema declares no
        Division object has no divisions: refused by name."""
        if self.division is None:
            return
        division = schema.get("Division")
        if division is None:
            raise refuse("SOSL WITH DIVISION (no Division object in the schema)",
                         "SOSL WITH DIVISION (the org has no divisions)")
        wanted, clause = self.division
        found = [row[0] for row in store.execute(
            f'SELECT "Id" FROM {q(division.name)} WHERE "IsDeleted" = 0 '
            f'AND ("Id" = ? OR lower("Name") = lower(?))', [ids.to18(wanted) or wanted, wanted])]
        if not found:
            raise errors.MalformedSearch(caret(text, clause.line, clause.column,
                                               f"No such division: '{wanted}'"))
        global_ = [row[0] for row in store.execute(
            f'SELECT "Id" FROM {q(division.name)} WHERE "IsDeleted" = 0 '
            f'AND "IsGlobalDivision" = 1')] if division.field("IsGlobalDivision") else []
        self.divisions = list(dict.fromkeys(found + global_))

    def check_network(self, returning) -> None:
        """Only users and feeds are filtered by site (as in Salesforce); the fake's org has no
        site but the internal one (the all-zero id), whose users and feeds are all of them."""
        if any(n.strip("0") for n in self.networks) and any(
                item.source.name.lower() in ("user", "feeditem") for item in returning):
            raise refuse("SOSL WITH NETWORK (an Experience Cloud site, on User or FeedItem)",
                         "SOSL WITH NETWORK naming an Experience Cloud site (on User or FeedItem)")

    def tests(self, schema, obj, item: ast.Returning, text: str) -> list[tuple[str, list]]:
        """The tests these options and the item's ``USING ListView`` add on ``obj``'s rows."""
        tests = []
        view = item.list_view
        if view is not None:
            if view.words[0] != "LISTVIEW":
                raise errors.MalformedSearch(caret(text, view.line, view.column,
                                                   f"unexpected token: '{view.words[0]}'"))
            if view.words[1].lower() != "recent":
                raise refuse("SOSL USING ListView (other than Recent)",
                             f"SOSL USING ListView={view.words[1]}")
            tests.append((f't0."Id" IN (SELECT "Id" FROM {q(obj.name)} WHERE "IsDeleted" = 0 '
                          f'ORDER BY "LastModifiedDate" DESC, "Id" DESC LIMIT 200)', []))
        if self.pricebook is not None and obj.name == "Product2":
            entry = schema.get("PricebookEntry")
            if entry is None or not entry.field("Pricebook2Id") or not entry.field("Product2Id"):
                raise refuse("SOSL WITH PRICEBOOKID (without PricebookEntry.Pricebook2Id and "
                             "Product2Id in the schema)")
            tests.append((f't0."Id" IN (SELECT "Product2Id" FROM {q(entry.name)} '
                          f'WHERE "Pricebook2Id" = ? AND "IsDeleted" = 0)', [self.pricebook]))
        field = obj.field("Division")
        if self.divisions and field is not None and "Division" in field.reference_to:
            tests.append((f't0."{field.name}" IN ({", ".join("?" * len(self.divisions))})',
                          list(self.divisions)))
        return tests


def _plan(schema, text: str, item: ast.Returning, *, now: datetime, order: Ordering, scope: str,
          term: "_Term", region: str, fiscal_start_month: int = 1, options: _Options | None = None):
    """The compiled statement of one RETURNING object (None when it cannot match)."""
    options = options or _Options()
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
        for sql, values in options.tests(schema, obj, item, text):
            tests.append(sql)
            params.extend(values)
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
            if scope in ("ALL", "SIDEBAR") and obj.phone_fields:
                keys = sorted(term.phone_keys(region))
                if keys:
                    match_sql = (f'({match_sql} OR t0."Id" IN (SELECT id FROM {PHONE_TABLE} '
                                 f"WHERE sobject = ? AND key IN ({', '.join('?' * len(keys))})))")
                    match_params = [*match_params, obj.name, *keys]
            tests.append(match_sql)
            params.extend(match_params)
    extra = (" AND ".join(tests), params) if tests else None
    return compile_query(ctx, select, driver=driver, extra_where=extra), False


def _mark(store, obj, records: list[dict], term: _Term, options: _Options) -> None:
    """WITH HIGHLIGHT and WITH SNIPPET: ``highlight.Field`` (the field's text with each term
    word in ``<mark>``) for the returned fields that hold a term word, and ``snippet.text`` (an
    excerpt of about the target length around the first term word in the record's text fields).

    Where the fake differs from Salesforce: no stemming or synonyms are marked, only the term's
    words as written (words with a wildcard are not marked, as in Salesforce); the excerpt is cut
    on word boundaries around the first match."""
    if obj is None or not records or not (options.highlight or options.snippet):
        return
    pattern = _marker(term.marked_words())
    if pattern is None:
        return
    snippets = options.snippet is not None and obj.name in SNIPPETED
    highlights = snippets or options.highlight and (
        obj.name in HIGHLIGHTED or obj.name.endswith("__c"))
    if highlights:
        marked = records[:HIGHLIGHTED_PER_OBJECT]
        people = set()
        if obj.name == "Account" and obj.field("IsPersonAccount") is not None:
            wanted = [_record_id(r) for r in marked]
            people = {row[0] for row in store.execute(
                f'SELECT "Id" FROM "Account" WHERE "IsPersonAccount" = 1 '
                f'AND "Id" IN ({", ".join("?" * len(wanted))})', wanted)}
        for record in marked:
            if _record_id(record) in people:        # business accounts only
                continue
            for key, value in list(record.items()):
                field = obj.field(key) if isinstance(value, str) else None
                if field is not None and field.type in HIGHLIGHT_TYPES and not field.compose \
                        and pattern.search(value):
                    record[f"highlight.{key}"] = pattern.sub(r"<mark>\1</mark>", value)
    if snippets:
        fields = sorted((f for f in obj.fields.values() if f.type in HIGHLIGHT_TYPES),
                        key=lambda f: f.type != "textarea")
        if not fields:
            return
        wanted = [_record_id(r) for r in records]
        texts = {row[0]: row[1:] for row in store.execute(
            f'SELECT "Id", {", ".join(q(f.name) for f in fields)} FROM {q(obj.name)} '
            f'WHERE "Id" IN ({", ".join("?" * len(wanted))})', wanted).fetchall()} if wanted else {}
        for record in records:
            for value in texts.get(_record_id(record), ()):
                found = pattern.search(value) if isinstance(value, str) else None
                if found:
                    record["snippet.text"] = pattern.sub(
                        r"<mark>\1</mark>", _excerpt(value, found.start(), options.snippet))
                    break


def _record_id(record: dict) -> str:
    return record["attributes"]["url"].rsplit("/", 1)[-1]


def _marker(words: list[str]):
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    return re.compile(rf"(?<!\w)({alternatives})(?!\w)", re.IGNORECASE)


def _excerpt(text: str, at: int, length: int) -> str:
    """About ``length`` characters of ``text`` around position ``at``, cut between words."""
    if len(text) <= length:
        return text
    start = max(0, min(at - length // 3, len(text) - length))
    end = start + length
    if start > 0:
        space = text.find(" ", start, at)
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", at, end)
        end = space if space > at else end
    return ("..." if start > 0 else "") + text[start:end] + ("..." if end < len(text) else "")


def _labels(schema, returning) -> dict:
    """WITH METADATA='LABELS': the label of each returned field, object by object, as
    ``{"entityMetadata": [{"entityName", "fieldMetadata": [{"name", "label"}]}]}``."""
    entities = []
    for item in returning:
        obj = schema.get(item.source.name)
        if obj is None:
            continue
        fields = []
        for entry in item.items or (ast.SelectField(ast.Path(("Id",), 0, 0), None),):
            expr = entry.expr
            while isinstance(expr, ast.Func) and expr.args and expr.name.upper() != "FIELDS":
                expr = expr.args[0]
            if isinstance(expr, ast.Func):          # FIELDS(ALL | STANDARD | CUSTOM)
                fields.extend({"name": f.name, "label": f.label} for f in obj.fields.values())
                continue
            if not isinstance(expr, ast.Path):
                continue
            target, field = obj, None
            for part in expr.parts:
                field = target.field(part) if target is not None else None
                if field is None and target is not None:
                    relation = target.relationship(part)
                    target = schema.get(relation.reference_to[0]) if relation else None
            if field is not None:
                name = entry.alias or ".".join(expr.parts[:-1] + (field.name,))
                fields.append({"name": name, "label": field.label})
        entities.append({"entityName": obj.name, "fieldMetadata": fields})
    return {"entityMetadata": entities}


def _fields(obj, scope: str) -> list[str]:
    if scope == "NAME":
        names = [obj.name_field] if obj.name_field else []
    elif scope == "EMAIL":
        names = [f.name for f in obj.fields.values() if f.type == "email"]
    elif scope == "SIDEBAR":
        names = [f.name for f in obj.fields.values()
                 if f.type in SIDEBAR_TYPES and not f.name.endswith("__c")]
    else:
        names = [f.name for f in obj.fields.values() if f.type in TEXT_TYPES]
    return names


class _Term:
    """The search term: a tree of words (``("word", regex, like, words, wildcard)``) under
    ``and``, ``or`` and ``not``, and its raw text.

    AND binds tighter than OR, words side by side are ANDed, parentheses group; a part with no
    word that must be present (``NOT a`` alone) matches nothing."""

    def __init__(self, raw: str, tree, problem: str | None):
        self.raw = raw
        self.tree = tree
        self.problem = problem      # unbalanced parentheses: only a phone search ignores them

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
        try:
            return cls(raw, _Grouping(_tokens(chars)).parse(), None)
        except _Unbalanced as e:
            return cls(raw, None, str(e))

    def phone_keys(self, region: str) -> set[str]:
        """The phone keys of the term; ``a OR b`` is either number."""
        keys: set[str] = set()
        for part in _OR_WORD.split(self.raw):
            digits = "".join(ch for ch in part if ch.isdigit() or ch == "+")
            keys |= phones.search_keys(digits, region) if digits else set()
        return keys

    def sql(self, fields: list[str]) -> tuple[str, list]:
        """A test on ``t0`` true when the term matches the record's ``fields``."""
        if self.problem:
            raise errors.MalformedSearch(self.problem)
        if not fields or self.tree is None:
            return "0", []
        params: list = []

        def test(node) -> str:
            kind = node[0]
            if kind == "word":
                for _ in fields:
                    params.extend([node[2], node[1]])
                return "(" + " OR ".join(
                    f"(t0.{q(f)} LIKE ? ESCAPE '\\' AND regex_match(t0.{q(f)}, ?))"
                    for f in fields) + ")"
            if kind == "not":
                return f"NOT COALESCE({test(node[1])}, 0)"
            parts = node[1]
            if kind == "or" or any(p[0] != "not" for p in parts):
                joined = f" {kind.upper()} ".join(test(p) if kind == "and" or p[0] != "not" else "0"
                                                  for p in parts)
                return f"({joined})"
            return "0"

        if self.tree[0] == "not":
            return "0", []
        return test(self.tree), params

    def marked_words(self) -> list[str]:
        """The words the term requires (not under NOT, without wildcards), for highlighting."""
        out: list[str] = []

        def walk(node) -> None:
            if node is None or node[0] == "not":
                return
            if node[0] == "word":
                if not node[4]:
                    out.extend(node[3])
                return
            for part in node[1]:
                walk(part)

        walk(self.tree)
        return out


class _Unbalanced(Exception):
    pass


def _tokens(chars: list[tuple[str, bool]]) -> list:
    """``(`` and ``)`` (unescaped, outside phrases), and words (a ``"..."`` phrase is one word)
    as ``(chars, phrase)``."""
    tokens, current, in_phrase = [], [], False

    def flush(phrase=False):
        nonlocal current
        if current:
            tokens.append((current, phrase))
        current = []

    for ch, escaped in chars:
        if ch == '"' and not escaped:
            flush(in_phrase)
            in_phrase = not in_phrase
        elif in_phrase:
            current.append((ch, escaped))
        elif ch in "()" and not escaped:
            flush()
            tokens.append(ch)
        elif ch.isspace():
            flush()
        else:
            current.append((ch, escaped))
    flush(in_phrase)
    return tokens


class _Grouping:
    """The term's tokens -> its tree (recursive descent over a short list)."""

    def __init__(self, tokens: list):
        self.tokens = tokens
        self.at = 0

    def parse(self):
        tree = self._or()
        if self.at < len(self.tokens):
            raise _Unbalanced("Unbalanced parentheses in the search term: a ')' closes nothing")
        return tree

    def _operator(self, token) -> str:
        if isinstance(token, tuple) and not token[1] and not any(e for _, e in token[0]):
            word = "".join(c for c, _ in token[0]).upper()
            if word in ("AND", "OR", "NOT"):
                return word
        return ""

    def _or(self):
        parts = [self._and()]
        while self.at < len(self.tokens) and self._operator(self.tokens[self.at]) == "OR":
            self.at += 1
            parts.append(self._and())
        parts = [p for p in parts if p is not None]
        return None if not parts else parts[0] if len(parts) == 1 else ("or", parts)

    def _and(self):
        parts, negate = [], False
        while self.at < len(self.tokens):
            token = self.tokens[self.at]
            operator = self._operator(token)
            if token == ")" or operator == "OR":
                break
            self.at += 1
            if operator == "AND":
                continue
            if operator == "NOT":
                negate = True
                continue
            if token == "(":
                node = self._or()
                if self.at >= len(self.tokens) or self.tokens[self.at] != ")":
                    raise _Unbalanced("Unbalanced parentheses in the search term: a '(' is not closed")
                self.at += 1
            else:
                chars = token[0]
                regex, like = _pattern(chars)
                words = "".join(c for c, _ in chars).split()
                wildcard = any(c in "*?" and not e for c, e in chars)
                node = ("word", regex, like, words, wildcard)
            if node is not None:
                parts.append(("not", node) if negate else node)
            negate = False
        return None if not parts else parts[0] if len(parts) == 1 else ("and", parts)


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
