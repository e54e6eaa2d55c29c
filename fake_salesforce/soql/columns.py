"""``query?columns=true``: the column metadata of a query, without running it.

Salesforce answers this for the Developer Console and the CLI's ``data query``. The fake
runs the query once first (so a bad query fails exactly as a run would), then describes
its select list from the schema. Where the fake differs: a TYPEOF in the select list is
501 FAKE_NOT_IMPLEMENTED.
"""
from __future__ import annotations

from .. import errors
from ..fieldtypes import TYPES
from . import ast
from .parser import parse_query



def _column(name: str, display: str, apex: str | None, *, aggregate=False, custom=False,
            insertable=False, updatable=False, joins=None, foreign_key=None) -> dict:
    return {"aggregate": aggregate, "apexType": apex, "booleanType": apex == "Boolean",
            "columnName": name, "custom": custom, "displayName": display,
            "foreignKeyName": foreign_key, "insertable": insertable, "joinColumns": joins or [],
            "numberType": apex in ("Integer", "Double", "Decimal"),
            "textType": apex in ("String", "Id"), "updatable": updatable}


def _path_column(schema, obj, path: ast.Path, alias: str | None) -> dict:
    parts = list(path.parts)
    if len(parts) > 1 and parts[0].lower() == obj.name.lower():
        parts = parts[1:]
    for rel in parts[:-1]:
        f = obj.relationship(rel)
        obj = schema.get(f.reference_to[0]) if f is not None else obj
    f = obj.field(parts[-1])
    if f is None:
        return _column(alias or parts[-1], alias or parts[-1], None)
    column = _column(f.name, alias or f.name, TYPES[f.type].apex,
                     custom=f.name.endswith("__c"), insertable=f.createable and not f.derived,
                     updatable=f.updateable and not f.derived)
    if len(parts) == 1:
        return column
    # Salesforce nests a parent field under its relationship's column.
    out = column
    for rel in reversed(path.parts[len(path.parts) - len(parts):-1]):
        out = _column(rel, rel, None, joins=[out], foreign_key=None)
    return out


def column_metadata(org, text: str) -> dict:
    select = parse_query(text)
    obj = org.sobject(select.source.name)
    columns = []
    expr_count = 0
    for item in select.items:
        if isinstance(item, ast.SelectSubquery):
            child = obj.child(item.select.source.name)
            child_obj = org.schema.get(child.child) if child else None
            joins = [_path_column(org.schema, child_obj, i.expr, i.alias) for i in item.select.items
                     if child_obj is not None and isinstance(i, ast.SelectField)
                     and isinstance(i.expr, ast.Path)]
            columns.append(_column(item.select.source.name, item.select.source.name, None, joins=joins))
        elif isinstance(item, ast.TypeOf):
            raise errors.NotImplementedByFake("The fake org does not describe the columns of a TYPEOF "
                                              "(query?columns=true); run the query instead")
        elif isinstance(item.expr, ast.Func):
            name = item.alias or f"expr{expr_count}"
            expr_count += item.alias is None
            columns.append(_column(name, item.alias or item.expr.text, None, aggregate=True))
        else:
            columns.append(_path_column(org.schema, obj, item.expr, item.alias))
    id_selected = any(isinstance(i, ast.SelectField) and isinstance(i.expr, ast.Path)
                      and i.expr.parts[-1].lower() == "id" and len(i.expr.parts) == 1
                      for i in select.items)
    return {"columnMetadata": columns, "entityName": obj.name, "groupBy": bool(select.group_by),
            "idSelected": id_selected, "keyPrefix": obj.key_prefix}
