"""SOQL: ``grammar.lark`` -> ``parser`` (syntax tree in ``ast``) -> ``compiler`` (parameterized
SQLite SQL and a record shape) -> ``engine`` (pages, query locators, records)."""
from .compiler import Ordering
from .cursors import Cursors
from .engine import query_more, run_query
from .parser import parse_query, parse_search

__all__ = ["Cursors", "Ordering", "parse_query", "parse_search", "query_more", "run_query"]
