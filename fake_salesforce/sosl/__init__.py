"""SOSL (``FIND``), answered from the same store as SOQL; see ``search`` for the differences
from Salesforce's search index."""
from .search import run_search

__all__ = ["run_search"]
