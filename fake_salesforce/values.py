"""Converting field values between JSON (the wire) and SQLite storage; each type's rules are
its ``FieldType`` (fieldtypes.py)."""
from __future__ import annotations

from typing import Any, Callable

from .fieldtypes import TYPES, is_email
from .schema import FieldDef


def to_storage(field: FieldDef, value):
    """Validate a client value for ``field`` and return its storage form (None stays None)."""
    if value is None or (value == "" and field.type != "boolean"):
        return None
    return TYPES[field.type].store(field, value)


def storage_converter(field: FieldDef) -> Callable[[Any], Any]:
    """``to_storage`` for one field, made once per field: the commonest values (a short string
    for a text field, true or false for a boolean) take a quick path with no look-ups, anything
    else goes through ``to_storage``, so every error is the same."""
    def general(value):
        return to_storage(field, value)

    if field.type == "boolean":
        def boolean(value):
            if value is True or value is False:
                return int(value)
            return general(value)
        return boolean
    if TYPES[field.type].family != "text" or field.type == "multipicklist" \
            or (field.restricted and field.picklist):
        return general
    limit = field.length or float("inf")
    if field.type == "email":
        def email(value):
            if value.__class__ is str and 0 < len(value) <= limit and is_email(value):
                return value
            return general(value)
        return email

    def text(value):
        if value.__class__ is str and 0 < len(value) <= limit:
            return value
        return general(value)
    return text


def to_wire(field: FieldDef, stored):
    """The JSON value of a stored value."""
    return None if stored is None else TYPES[field.type].wire(stored)
