"""SOQL and SOSL text -> syntax tree (``ast``), with Salesforce's syntax errors.

The grammar lives in ``grammar.lark``; the LALR parser is built once and builds the tree while
it parses (no second pass, no recursion, so deeply nested input cannot overflow the stack).
Parsed trees are cached by the query's shape: its text with the characters of every quoted
string replaced (same length, so every position stays), so a query that differs only in its
string values is not parsed again; the values are put back into a copy of the cached tree.
"""
from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from .. import errors
from . import ast
from .unsupported import refuse

MAX_LENGTH = 100_000
# Known constructs the grammar does not take, found before a syntax error: (language, word,
# the word after it, or None for any) -> the entry of ``unsupported.NOT_IMPLEMENTED``.
_FALLBACK = {
    ("SOQL", "WITH", "DATA"): "SOQL WITH DATA CATEGORY",
    ("SOSL", "WITH", "DATA"): "SOSL WITH DATA CATEGORY",
    ("SOSL", "USING", "LOOKUP"): "SOSL USING LOOKUP",
    ("SOSL", "USING", "ADVANCED"): "SOSL USING ADVANCED SEARCH",
    ("SOSL", "USING", "PHRASE"): "SOSL USING PHRASE SEARCH",
}
_LITERALS = re.compile(r"'(?:[^'\\]|\\.)*'|\{(?:[^}\\]|\\.)*\}", re.S)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def caret(text: str, line: int, column: int, message: str) -> str:
    """Salesforce's error block: the offending row, a caret under the column, then the message."""
    rows = text.split("\n")
    row = rows[line - 1] if 0 < line <= len(rows) else ""
    return f"\n{row}\n{' ' * max(column - 1, 0)}^\nERROR at Row:{line}:Column:{column}\n{message}"


def end_position(text: str) -> tuple[int, int]:
    rows = text.split("\n")
    return len(rows), len(rows[-1]) + 1


def _pos(tok: Token) -> tuple[int, int]:
    return tok.line or 1, tok.column or 1


def _unescape_quoted(tok: Token) -> str:
    return str(tok)[1:-1]


@v_args(inline=True)
class _Build(Transformer):
    """Parse-tree callbacks that build ``ast`` nodes as the parser reduces."""

    def query(self, select):
        return _unqualified(select)

    def select(self, items, from_list, using, where, *rest):
        *withs, group, order, limit, offset, for_, update = rest
        source, joins = from_list
        group_by, having = group if group else ((), None)
        clauses = tuple(c for c in (*(using or ()), *withs, for_, update) if c is not None)
        return ast.Select(items=items, source=source, where=where, group_by=group_by, having=having,
                          order_by=order or (), limit=limit, offset=offset, joins=joins,
                          clauses=clauses)

    def from_list(self, source, *rest):
        for alias in rest[1::2]:
            _check_alias(alias)
        joins = tuple((rest[i], str(rest[i + 1]) if rest[i + 1] is not None else None)
                      for i in range(0, len(rest), 2))
        return source, joins

    def typeof(self, path, *rest):
        *whens, otherwise = rest
        return ast.TypeOf(path, tuple(whens), otherwise or ())

    def typeof_when(self, name, *paths):
        return str(name), tuple(paths)

    def typeof_else(self, *paths):
        return tuple(paths)

    def _clause(kind):  # noqa: N805 - a factory for the clause callbacks below
        def build(self, *words):
            line, column = _pos(words[0])
            return ast.Clause(kind, tuple(str(w).upper() for w in words), line, column)
        return build

    using_scope = _clause("USING SCOPE")
    with_clause = _clause("WITH")
    for_clause = _clause("FOR")
    update_clause = _clause("UPDATE")
    del _clause

    def using_clause(self, *items):
        return tuple(items)

    def using_lookup(self, path, binds):
        return ast.Clause("USING LOOKUP", path.parts, path.line, path.column, args=binds or ())

    def lookup_binds(self, *pairs):
        return tuple(pairs)

    def lookup_bind(self, name, value):
        return (str(name), value, *_pos(name))

    with_param = lookup_bind

    def with_value(self, name, value):
        line, column = _pos(name)
        return ast.Clause("WITH", (str(name).upper(),), line, column, value)

    def with_params(self, name, *params):
        line, column = _pos(name)
        return ast.Clause("WITH", (str(name).upper(),), line, column, args=tuple(params))

    def search_with(self, name, value):
        line, column = _pos(name)
        return ast.Clause("WITH", (str(name).upper(),), line, column, value)

    def search_with_in(self, name, values):
        line, column = _pos(name)
        return ast.Clause("WITH", (str(name).upper(), "IN"), line, column, None, tuple(values))

    def search_with_args(self, name, argument, value):
        line, column = _pos(name)
        return ast.Clause("WITH", (str(name).upper(), str(argument).upper()), line, column, value)

    def list_view(self, word, name):
        line, column = _pos(word)
        return ast.Clause("USING", (str(word).upper(), str(name)), line, column)

    def select_list(self, *items):
        return tuple(items)

    def select_field(self, expr, alias):
        if alias is None:
            return ast.SelectField(expr, None)
        _check_alias(alias)
        line, column = _pos(alias)
        return ast.SelectField(expr, str(alias), line, column)

    def select_subquery(self, select):
        return ast.SelectSubquery(select)

    def select_typeof(self, typeof):
        return typeof

    def path(self, *names):
        line, column = _pos(names[0])
        return ast.Path(tuple(str(n) for n in names), line, column)

    def func_call(self, name, *args):
        line, column = _pos(name)
        return ast.Func(str(name), tuple(a for a in args if a is not None), line, column)

    def object_ref(self, path, alias):
        if alias is not None and _RUN_ON_NUMBER.match(alias):
            # ``FROM Account LIMIT1``: a clause word with its number run into it, not an alias.
            raise _Misplaced(alias)
        _check_alias(alias)
        return ast.ObjectRef(path.parts[-1], str(alias) if alias is not None else None, path.line,
                             path.column, path.parts if len(path.parts) > 1 else ())

    def where_clause(self, condition):
        return condition

    def group_clause(self, *items):
        *exprs, having = items
        return tuple(exprs), having

    def having_clause(self, condition):
        return condition

    def order_clause(self, *items):
        return tuple(items)

    def order_item(self, expr, direction, nulls):
        return ast.OrderItem(expr, direction == "desc", nulls)

    def asc(self):
        return "asc"

    def desc(self):
        return "desc"

    def nulls_first(self):
        return "first"

    def nulls_last(self):
        return "last"

    def limit_clause(self, value):
        return value

    def offset_clause(self, value):
        return value

    def and_cond(self, *items):
        return ast.And(tuple(items))

    def or_cond(self, *items):
        return ast.Or(tuple(items))

    def not_cond(self, item):
        return ast.Not(item)

    def compare(self, left, op, value):
        op = str(op)
        return ast.Compare(left, "!=" if op == "<>" else op, value)

    def like(self, left, value):
        return ast.Like(left, value)

    def in_(self, left, values):
        return ast.In(left, values, negated=False)

    def not_in(self, left, values):
        return ast.In(left, values, negated=True)

    def includes(self, left, *values):
        return ast.Includes(left, tuple(values), negated=False)

    def excludes(self, left, *values):
        return ast.Includes(left, tuple(values), negated=True)

    def value_list(self, *values):
        return tuple(values)

    def _value(kind):  # noqa: N805 - a factory for the literal callbacks below
        def build(self, tok):
            line, column = _pos(tok)
            return ast.Value(kind, _unescape_quoted(tok) if kind == "string" else str(tok), line, column)
        return build

    string = _value("string")
    number = _value("number")
    date = _value("date")
    datetime = _value("datetime")
    word = _value("word")
    del _value

    def word_n(self, name, n):
        line, column = _pos(name)
        return ast.Value("word_n", str(name), line, column, n=str(n))

    def bind(self, name):
        line, column = _pos(name)
        raise _Bind(line, column - 1)

    # -- FIND --
    def search(self, term, scope, returning, *rest):
        *withs, limit, update = rest
        text, line, column = term
        scope_line, scope_column = _pos(scope) if scope is not None else (0, 0)
        clauses = tuple(c for c in (*withs, update) if c is not None)
        return ast.Search(text, line, column, str(scope) if scope is not None else None,
                          returning or (), limit, scope_line, scope_column, clauses)

    def search_term(self, tok):
        line, column = _pos(tok)
        return str(tok)[1:-1], line, column

    def search_in(self, name):
        return name

    def returning(self, *items):
        return tuple(items)

    def returning_item(self, name, items, list_view, where, order, limit, offset):
        line, column = _pos(name)
        return ast.Returning(ast.ObjectRef(str(name), None, line, column), items or (), where,
                             order or (), limit, offset, list_view)


def _unqualified(select: ast.Select) -> ast.Select:
    """The query with a leading FROM-object name dropped from its field paths: Salesforce reads
    ``Contact.Account.Name`` in ``SELECT ... FROM Contact`` as ``Account.Name`` (no standard
    object has a relationship named after itself). Subqueries keep theirs (their FROM names a
    relationship; the compiler, which knows its object, drops the prefix there), and so do the
    fields inside TYPEOF's WHEN and ELSE, which belong to the related record."""
    if select.source.path:
        return select
    head = select.source.name.lower()

    def strip(node):
        if isinstance(node, ast.Path):
            if len(node.parts) > 1 and node.parts[0].lower() == head:
                return replace(node, parts=node.parts[1:])
            return node
        if isinstance(node, tuple):
            out = tuple(strip(n) for n in node)
            return node if all(a is b for a, b in zip(out, node)) else out
        if isinstance(node, (ast.Select, ast.Value, ast.ObjectRef, ast.Clause)) \
                or not hasattr(node, "__dataclass_fields__"):
            return node
        if isinstance(node, ast.TypeOf):
            return replace(node, path=strip(node.path))
        changes = {}
        for name in node.__dataclass_fields__:
            value = getattr(node, name)
            new = strip(value)
            if new is not value:
                changes[name] = new
        return replace(node, **changes) if changes else node

    changes = {}
    for name in ("items", "where", "group_by", "having", "order_by", "joins"):
        value = getattr(select, name)
        new = strip(value)
        if new is not value:
            changes[name] = new
    return replace(select, **changes) if changes else select


_RUN_ON_NUMBER = re.compile(r"(?i)(LIMIT|OFFSET)\d")
# SOQL keywords Salesforce refuses as alias names (of an object or a field). The contextual lexer
# would take ``FROM Account SELECT`` as an alias named SELECT; Salesforce answers unexpected token.
ALIAS_RESERVED = frozenset("AND ASC DESC EXCLUDES FIRST FROM GROUP HAVING IN INCLUDES LAST LIKE "
                           "LIMIT NOT NULL NULLS OR SELECT USING WHERE WITH".split())


def _check_alias(alias) -> None:
    if alias is not None and str(alias).upper() in ALIAS_RESERVED:
        raise _Misplaced(alias)


class _Misplaced(Exception):
    """A token the grammar accepted where Salesforce's does not."""

    def __init__(self, token: Token):
        super().__init__(token)
        self.token = token


class _Bind(Exception):
    """An Apex bind variable (``:name``): the API has no values to bind, as Salesforce answers."""

    def __init__(self, line: int, column: int):
        super().__init__(line, column)
        self.line, self.column = line, column


BIND_ONLY_IN_APEX = "Bind variables only allowed in Apex code"


class _RunTogether(Exception):
    """A keyword with a word run into it (``SELECTName``, ``LIMIT1``): Salesforce reads one word."""

    def __init__(self, keyword: Token, following: Token):
        super().__init__(keyword)
        self.keyword = keyword
        self.following = following


class _KeywordBoundary:
    """Lark's lexer takes a keyword that is a prefix of a longer word when only the keyword
    is expected there; Salesforce's lexer reads the whole word. Refuse the run-together form."""
    always_accept = ()

    def __init__(self):
        self.keywords: frozenset[str] = frozenset()

    def process(self, stream):
        previous = None
        for tok in stream:
            if previous is not None and previous.type in self.keywords \
                    and tok.start_pos == previous.end_pos and (tok[:1].isalnum() or tok[:1] == "_"):
                raise _RunTogether(previous, tok)
            previous = tok
            yield tok


_BOUNDARY = _KeywordBoundary()
_PARSER = Lark.open("grammar.lark", rel_to=__file__, parser="lalr", lexer="contextual",
                    start=["query", "search"], transformer=_Build(), maybe_placeholders=True,
                    postlex=_BOUNDARY)
_BOUNDARY.keywords = frozenset(t.name for t in _PARSER.terminals
                               if t.pattern.type == "str" and t.pattern.value.isalpha())


def _token_text(tok: Token) -> str:
    return "<EOF>" if tok.type == "$END" else str(tok)


def _syntax_error(text: str, e: UnexpectedInput, error_class) -> errors.SalesforceError:
    if isinstance(e, UnexpectedToken):
        stack = getattr(e.state, "value_stack", None) or []
        if len(stack) >= 2 and isinstance(stack[-1], Token) and stack[-1].type == "NAME" \
                and isinstance(stack[-2], ast.Path):
            # ``SELECT Id FRM Contact``: Salesforce blames the stray word, not what follows it.
            e = UnexpectedToken(stack[-1], e.expected)
        if e.token.type == "$END":
            line, column = end_position(text)
        else:
            line, column = _pos(e.token)
        shown = _token_text(e.token)
    elif isinstance(e, UnexpectedCharacters):
        line, column = e.line, e.column
        shown = text[e.pos_in_stream] if 0 <= e.pos_in_stream < len(text) else "<EOF>"
    else:
        line, column = end_position(text)
        shown = "<EOF>"
    if shown == ":":          # ``IN :ids``, ``LIMIT :n``: a bind where a list or number goes
        return error_class(caret(text, line, column, BIND_ONLY_IN_APEX))
    _refuse_unsupported(text, line, column, error_class)
    if shown.startswith("'") and len(shown) > 1 and not shown.endswith("'") or shown == "'":
        return error_class(caret(text, line, column, "line {}:{} no viable alternative at character '''"
                                 .format(line, column - 1)))
    return error_class(caret(text, line, column, f"unexpected token: '{shown}'"))


def _refuse_unsupported(text: str, line: int, column: int, error_class) -> None:
    """A known but unimplemented construct at or before the error: say so, loudly."""
    rows = text.split("\n")
    stop = sum(len(r) + 1 for r in rows[:line - 1]) + column - 1
    bare = _LITERALS.sub(lambda m: " " * len(m.group()), text)
    kind = "SOSL" if error_class is errors.MalformedSearch else "SOQL"
    for m in _WORD.finditer(bare):
        if m.start() > stop:
            break
        word = m.group().upper()
        following = _WORD.search(bare, m.end())
        after = following.group().upper() if following else ""
        construct = _FALLBACK.get((kind, word, after)) or _FALLBACK.get((kind, word, None))
        if construct:
            shown = construct if "(" in construct else f"{kind} {word} {after}".strip()
            if construct.endswith("DATA CATEGORY") or construct.startswith(shown):
                shown = construct
            raise refuse(construct, shown)


def _check_text(text: str, error_class) -> None:
    if not isinstance(text, str) or not text.strip():
        raise error_class("The query text is empty")
    if len(text) > MAX_LENGTH:
        raise error_class(f"SOQL statements cannot be longer than {MAX_LENGTH:,} characters.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise error_class("The query text is not valid UTF-8") from None


@lru_cache(maxsize=512)
def _parse(text: str, start: str):
    return _PARSER.parse(text, start=start)


@lru_cache(maxsize=512)
def _parse_planned(key: str, start: str):
    """The tree of a query shape, and the ids of its nodes that hold a literal to fill in (or
    have such a node below them): filling in a query's own literals rebuilds only those."""
    tree = _parse(key, start)
    marked: set[int] = set()

    def mark(node) -> bool:
        if isinstance(node, ast.Value):
            holds = node.kind == "string"
        elif isinstance(node, tuple):
            holds = any([mark(n) for n in node])
        elif hasattr(node, "__dataclass_fields__"):
            holds = isinstance(node, ast.Search)
            holds = any([mark(getattr(node, name)) for name in node.__dataclass_fields__]) or holds
        else:
            return False
        if holds:
            marked.add(id(node))
        return holds

    mark(tree)
    return tree, frozenset(marked)


def _shape(text: str) -> tuple[str, dict[tuple[int, int], str]]:
    """The text with each literal's characters (a quoted string's, a SOSL term's in braces)
    replaced by ``a`` (line breaks kept, so the tree and every position are the same), and the
    literals' contents by (line, column) of their opening quote or brace."""
    strings: dict[tuple[int, int], str] = {}

    def blank(m: re.Match) -> str:
        literal = m.group()
        start = m.start()
        line = text.count("\n", 0, start) + 1
        strings[(line, start - text.rfind("\n", 0, start))] = literal[1:-1]
        inner = literal[1:-1]
        return literal[0] + (_BLANK.sub("a", inner) if "\n" in inner else "a" * len(inner)) + literal[-1]

    return _LITERALS.sub(blank, text), strings


_BLANK = re.compile(r"[^\n]")


def _fill(node, strings: dict, marked: frozenset):
    """A copy of a cached tree with the query's own literals (only ``marked`` nodes rebuilt)."""
    if id(node) not in marked:
        return node
    if isinstance(node, ast.Value):
        text = strings.get((node.line, node.column))
        return node if text is None else replace(node, text=text)
    if isinstance(node, tuple):
        return tuple(_fill(n, strings, marked) for n in node)
    changes = {}
    for name in node.__dataclass_fields__:
        value = getattr(node, name)
        filled = _fill(value, strings, marked)
        if filled is not value:
            changes[name] = filled
    if isinstance(node, ast.Search):
        term = strings.get((node.line, node.column))
        if term is not None:
            changes["term"] = term
    return replace(node, **changes) if changes else node


def _parse_shape(text: str, start: str):
    key, strings = _shape(text)
    if not strings:
        return _parse(text, start)
    try:
        tree, marked = _parse_planned(key, start)
    except Exception:
        return _PARSER.parse(text, start=start)   # the error, as the text itself has it
    return _fill(tree, strings, marked)


def _run(text: str, start: str, error_class):
    _check_text(text, error_class)
    try:
        return _parse_shape(text, start)
    except _Misplaced as e:
        raise error_class(caret(text, *_pos(e.token), f"unexpected token: '{e.token}'")) from None
    except _RunTogether as e:
        word = str(e.keyword) + str(e.following)
        line, column = _pos(e.keyword)
        raise error_class(caret(text, line, column, f"unexpected token: '{word}'")) from None
    except UnexpectedInput as e:
        raise _syntax_error(text, e, error_class) from None
    except _Bind as e:
        raise error_class(caret(text, e.line, e.column, BIND_ONLY_IN_APEX)) from None
    except VisitError as e:
        if isinstance(e.orig_exc, errors.SalesforceError):
            raise e.orig_exc from None
        if isinstance(e.orig_exc, _Bind):
            b = e.orig_exc
            raise error_class(caret(text, b.line, b.column, BIND_ONLY_IN_APEX)) from None
        if isinstance(e.orig_exc, _Misplaced):
            tok = e.orig_exc.token
            raise error_class(caret(text, *_pos(tok), f"unexpected token: '{tok}'")) from None
        raise error_class(caret(text, *end_position(text), "unexpected token: '<EOF>'")) from None
    except (LarkError, RecursionError):
        raise error_class(caret(text, *end_position(text), "unexpected token: '<EOF>'")) from None


def parse_query(text: str) -> ast.Select:
    """Parse SOQL; MALFORMED_QUERY (with the caret block) on bad syntax."""
    return _run(text, "query", errors.MalformedQuery)


def parse_search(text: str) -> ast.Search:
    """Parse SOSL; MALFORMED_SEARCH on bad syntax."""
    return _run(text, "search", errors.MalformedSearch)
