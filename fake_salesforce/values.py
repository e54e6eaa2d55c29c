"""Converting field values between JSON (the wire), Python and SQLite storage."""
from __future__ import annotations

import math

from . import errors
from .clock import format_datetime, parse_date, parse_datetime
from .ids import to18
from .schema import FieldDef


def _bad(field: FieldDef, value, kind: str) -> errors.SalesforceError:
    return errors.JsonParserError(
        f"Cannot deserialize instance of {kind} from {type(value).__name__} value {value!r} "
        f"or request may be missing a required field", [field.name])


def to_storage(field: FieldDef, value):
    """Validate a client value for ``field`` and return its storage form (None stays None)."""
    if value is None or (value == "" and field.type not in ("boolean",)):
        return None
    t = field.type
    if t == "boolean":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return int(value.lower() == "true")
        raise _bad(field, value, "boolean")
    if t == "int":
        if isinstance(value, bool):
            raise _bad(field, value, "int")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise _bad(field, value, "int")
    if t in ("double", "currency", "percent"):
        if isinstance(value, bool):
            raise _bad(field, value, "double")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise _bad(field, value, "double") from None
        if math.isnan(number) or math.isinf(number):
            raise _bad(field, value, "double")
        return number
    if t == "date":
        try:
            return parse_date(value).isoformat()
        except (TypeError, ValueError):
            raise _bad(field, value, "date") from None
    if t == "datetime":
        try:
            return format_datetime(parse_datetime(value))
        except (TypeError, ValueError):
            raise _bad(field, value, "datetime") from None
    if isinstance(value, (dict, list)) or isinstance(value, bool):
        raise _bad(field, value, "string")
    text = value if isinstance(value, str) else str(value)
    if t in ("reference", "id"):
        full = to18(text)
        if full is None:
            raise errors.MalformedId(f"{field.label} ID: id value of incorrect type: {text}",
                                     [field.name])
        return full
    if t == "multipicklist":
        parts = [p.strip() for p in text.split(";") if p.strip()]
        text = ";".join(parts)
    if field.length and len(text) > field.length:
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise errors.StringTooLong(
            f"{field.label}: data value too large: {shown} (max length={field.length})", [field.name])
    if field.restricted and field.picklist:
        values = text.split(";") if t == "multipicklist" else [text]
        for v in values:
            if v not in field.picklist:
                raise errors.InvalidRestrictedPicklist(
                    f"{field.label}: bad value for restricted picklist field: {v}", [field.name])
    return text


def to_wire(field: FieldDef, stored):
    """The JSON value of a stored value."""
    if stored is None:
        return None
    t = field.type
    if t == "boolean":
        return bool(stored)
    if t == "int":
        return int(stored)
    if t in ("double", "currency", "percent"):
        return float(stored)
    return stored
