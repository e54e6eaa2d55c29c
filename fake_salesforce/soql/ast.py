"""The syntax tree of SOQL (and of SOSL's FIND): plain frozen dataclasses.

Nodes that an error message may point at carry the 1-based ``line`` and ``column`` of their
first token, for Salesforce's caret block.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union


@dataclass(frozen=True)
class Path:
    """A field, or a path through parent relationships: ``Account.Owner.Name``."""
    parts: tuple[str, ...]
    line: int
    column: int

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Func:
    """A function call: an aggregate (``COUNT(Id)``), a date function, ``FIELDS(ALL)``..."""
    name: str
    args: tuple[Union["Expr", "Value"], ...]
    line: int
    column: int

    @property
    def text(self) -> str:
        return f"{self.name}({', '.join(getattr(a, 'source', a.text) for a in self.args)})"


Expr = Union[Path, Func]


@dataclass(frozen=True)
class Value:
    """A literal. kind: string, number, date, datetime, word (true, TODAY, ...), word_n
    (LAST_N_DAYS:5) or bind (``:name``). ``text`` is the source text (strings unquoted but
    still escaped); ``n`` is the number of a word_n."""
    kind: str
    text: str
    line: int
    column: int
    n: Optional[str] = None

    @property
    def source(self) -> str:
        if self.kind == "string":
            return f"'{self.text}'"
        if self.kind == "word_n":
            return f"{self.text}:{self.n}"
        if self.kind == "bind":
            return f":{self.text}"
        return self.text


@dataclass(frozen=True)
class SelectField:
    expr: Expr
    alias: Optional[str]
    alias_line: int = 0
    alias_column: int = 0


@dataclass(frozen=True)
class SelectSubquery:
    select: "Select"


@dataclass(frozen=True)
class TypeOf:
    """``TYPEOF What WHEN Account THEN Phone ... ELSE Name END``: fields chosen by the type of
    the record a polymorphic relationship points at."""
    path: Path
    whens: tuple[tuple[str, tuple[Path, ...]], ...]
    otherwise: tuple[Path, ...]


@dataclass(frozen=True)
class ObjectRef:
    """The FROM object; ``path`` holds more than one name for ``Account.Contacts`` (a child
    subquery naming its parent)."""
    name: str
    alias: Optional[str]
    line: int
    column: int
    path: tuple[str, ...] = ()


@dataclass(frozen=True)
class Clause:
    """A clause word and its arguments: ``USING SCOPE mine``, ``USING LOOKUP Obj__c.Field__c
    BIND Name = 'x'``, ``WITH SECURITY_ENFORCED``, ``WITH UserId = '005...'``, ``WITH
    RecordVisibilityContext (maxDescriptorPerRecord=100)``, ``FOR VIEW``, ``UPDATE TRACKING``,
    SOSL's ``WITH SPELL_CORRECTION = false``."""
    kind: str               # USING SCOPE, USING LOOKUP, WITH, FOR, UPDATE; SOSL's USING (ListView)
    words: tuple[str, ...]  # USING LOOKUP: the lookup field's path, as written
    line: int
    column: int
    value: Optional["Value"] = None
    values: tuple["Value", ...] = ()   # SOSL's WITH NETWORK IN ('a', 'b')
    args: tuple = ()        # (name, Value, line, column): USING LOOKUP's BIND, WITH name (...)


@dataclass(frozen=True)
class Compare:
    left: Expr
    op: str                 # = != < <= > >= (<> is folded into !=)
    value: Value


@dataclass(frozen=True)
class Like:
    left: Expr
    value: Value


@dataclass(frozen=True)
class In:
    left: Expr
    values: Union[tuple[Value, ...], "Select"]
    negated: bool


@dataclass(frozen=True)
class Includes:
    left: Expr
    values: tuple[Value, ...]
    negated: bool           # EXCLUDES


@dataclass(frozen=True)
class And:
    items: tuple["Condition", ...]


@dataclass(frozen=True)
class Or:
    items: tuple["Condition", ...]


@dataclass(frozen=True)
class Not:
    item: "Condition"


Condition = Union[Compare, Like, In, Includes, And, Or, Not]


@dataclass(frozen=True)
class OrderItem:
    expr: Expr
    descending: bool
    nulls: Optional[str]    # "first", "last" or None (Salesforce's default)


@dataclass(frozen=True)
class Select:
    items: tuple[Union[SelectField, SelectSubquery, TypeOf], ...]
    source: ObjectRef
    where: Optional[Condition] = None
    group_by: tuple[Expr, ...] = ()
    having: Optional[Condition] = None
    order_by: tuple[OrderItem, ...] = ()
    limit: Optional[Value] = None
    offset: Optional[Value] = None
    joins: tuple[tuple[Path, Optional[str]], ...] = ()    # FROM Contact c, c.Account a
    clauses: tuple[Clause, ...] = ()                      # USING SCOPE, WITH, FOR, UPDATE


@dataclass(frozen=True)
class Returning:
    """One object of SOSL's RETURNING clause, with its optional SOQL-like options."""
    source: ObjectRef
    items: tuple[Union[SelectField, SelectSubquery], ...] = ()
    where: Optional[Condition] = None
    order_by: tuple[OrderItem, ...] = ()
    limit: Optional[Value] = None
    offset: Optional[Value] = None
    list_view: Optional[Clause] = None     # USING ListView = name


@dataclass(frozen=True)
class Search:
    term: str               # the raw text between the braces or quotes, still escaped
    line: int
    column: int
    scope: Optional[str]    # ALL, NAME, EMAIL, PHONE, ... as written
    returning: tuple[Returning, ...]
    limit: Optional[Value]
    scope_line: int = 0
    scope_column: int = 0
    clauses: tuple[Clause, ...] = ()                      # WITH ..., UPDATE TRACKING
