"""Converting field values between JSON (the wire) and SQLite storage; each type's rules are
its ``FieldType`` (fieldtypes.py)."""
from __future__ import annotations

from .fieldtypes import TYPES
from .schema import FieldDef


def to_storage(field: FieldDef, value):
    """Validate a client value for ``field`` and return its storage form (None stays None)."""
    if value is None or (value == "" and field.type != "boolean"):
        return None
    return TYPES[field.type].store(field, value)


def to_wire(field: FieldDef, stored):
    """The JSON value of a stored value."""
    return None if stored is None else TYPES[field.type].wire(stored)
