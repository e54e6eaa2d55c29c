"""sObject definitions as data, and the registry that reads them."""
from .registry import ChildRelationship, FieldDef, Schema, SObjectDef, load_schema
from .spec import SchemaError

__all__ = ["ChildRelationship", "FieldDef", "Schema", "SchemaError", "SObjectDef", "load_schema"]
