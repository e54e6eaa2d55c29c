"""Converting field values between JSON (the wire) and SQLite storage; each type's rules are
its ``FieldType`` (fieldtypes.py)."""
from __future__ import annotations

import math
from typing import Any, Callable

from .fieldtypes import INT_MAX, TYPES, all_emails, is_email, number_limit
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


def storage_column(field: FieldDef, convert: Callable[[Any], Any], values: list) -> list:
    """The storage forms of a column of client values for ``field``: what ``convert`` (the
    field's ``storage_converter``) gives each, worked out a column at a time where the values
    allow it (strings within the field's length, true and false, numbers in range, ids and
    dates converted once per distinct value). Any other column goes through ``convert`` value by
    value, which raises the first bad value's error."""
    kinds = set(map(type, values))
    family = TYPES[field.type].family
    if kinds == {str}:
        if family == "text" and field.type != "multipicklist":
            if min(map(len, values), default=1) > 0 and max(map(len, values), default=0) <= (
                    field.length or math.inf) and (field.type != "email" or all_emails(values)) \
                    and not (field.restricted and field.picklist and not set(field.picklist).issuperset(values)):
                return values
        elif family in ("id", "date", "datetime"):   # the storage form depends on the text alone
            stored = {value: convert(value) for value in dict.fromkeys(values)}
            return list(map(stored.__getitem__, values))
    elif field.type == "boolean" and kinds == {bool}:
        return list(map(int, values))
    elif field.type == "int" and kinds == {int}:
        if max(map(abs, values), default=0) <= INT_MAX:
            return values
    elif family == "number" and field.type != "int" and kinds and kinds <= {int, float} \
            and max(map(abs, values), default=0) < number_limit(field):
        numbers = list(map(float, values))
        if all(map(math.isfinite, numbers)):
            return numbers
    return list(map(convert, values))


def to_wire(field: FieldDef, stored):
    """The JSON value of a stored value."""
    return None if stored is None else TYPES[field.type].wire(stored)
