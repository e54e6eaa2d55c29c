"""Every Salesforce field type the fake knows, in one place.

A ``FieldType`` says how a type is stored (SQLite column type, storage form), how a client's
value becomes that form and how it goes back on the wire, how describe names it (SOAP and Apex
types, default length and precision), what SOQL literal it compares with, and whether it can be
filtered, sorted and grouped. values.py, store.py, the schema registry and the query compiler
all read it from here.

Storage forms: booleans 0/1, numbers as SQLite numbers, datetimes as Salesforce's wire text
(UTC, so text order is time order), dates ``YYYY-MM-DD``, multi-select picklists ``a;b``, ids
as 18 characters.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from operator import itemgetter
from typing import Any, Callable

from . import errors
from .clock import format_datetime, parse_date, parse_datetime
from .ids import to18


def _bad(field, value, kind: str) -> errors.SalesforceError:
    return errors.JsonParserError(
        f"Cannot deserialize instance of {kind} from {type(value).__name__} value {value!r} "
        f"or request may be missing a required field", [field.name])


def _boolean(field, value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return int(value.lower() == "true")
    raise _bad(field, value, "boolean")


INT_MAX = 2**31 - 1


def _out_of_range(field, value) -> errors.SalesforceError:
    return errors.NumberOutsideValidRange(f"{field.name}: value outside of valid range on numeric field: "
                                          f"{value}", [field.name])


def _int(field, value):
    if isinstance(value, bool):
        raise _bad(field, value, "int")
    number = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            pass
    if number is None:
        raise _bad(field, value, "int")
    if abs(number) > INT_MAX:
        raise _out_of_range(field, value)
    return number


def _double(field, value):
    if isinstance(value, bool):
        raise _bad(field, value, "double")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _bad(field, value, "double") from None
    except OverflowError:
        raise _out_of_range(field, value) from None
    if math.isnan(number) or math.isinf(number):
        raise _bad(field, value, "double")
    if abs(number) >= number_limit(field):
        raise _out_of_range(field, value)
    return number


def number_limit(field) -> float:
    """The size a value of a double, currency or percent field must stay below (its digits
    before the decimal point)."""
    return 10.0 ** ((field.precision or 18) - (2 if field.scale is None else field.scale))


def _date(field, value):
    try:
        return parse_date(value).isoformat()
    except (TypeError, ValueError):
        raise _bad(field, value, "date") from None


def _datetime(field, value):
    try:
        return format_datetime(parse_datetime(value))
    except (TypeError, ValueError):
        raise _bad(field, value, "datetime") from None


def _text_of(field, value) -> str:
    if isinstance(value, (dict, list, bool)):
        raise _bad(field, value, "string")
    return value if isinstance(value, str) else str(value)


def _id(field, value):
    text = _text_of(field, value)
    full = to18(text)
    if full is None:
        raise errors.MalformedId(f"{field.label} ID: id value of incorrect type: {text}", [field.name])
    return full


# A plain ASCII local part (RFC 5322 dot-atom): email-validator accepts every one of them, so
# an address with one is valid exactly when its domain is and it is short enough.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")


def is_email(text: str) -> bool:
    """The form of an address, as an email field checks it (no DNS look-up).

    Where the fake differs: the check is email-validator's, which also refuses the reserved
    domains .local, .localhost, .invalid, .onion and .arpa (``.test`` is allowed). Addresses
    with a plain local part have their domain checked once per domain (seeding a million
    Contacts at one domain checks it once).
    """
    local, at, domain = text.rpartition("@")
    if at and domain.isascii() and len(local) <= 64 and len(text) <= 254 and _PLAIN_LOCAL.match(local):
        return _is_email_full("a@" + domain)
    return _is_email_full(text)


def all_emails(texts: list[str]) -> bool:
    """Whether ``is_email`` holds for every one of ``texts`` (strings), a column at a time:
    when every address has a plain local part, each distinct domain is checked once."""
    if all(map(_PLAIN_ADDRESS.match, texts)) and max(map(len, texts), default=0) <= 254:
        domains = set(map(itemgetter(2), map(str.rpartition, texts, repeat("@"))))
        if all(map(str.isascii, domains)):
            return all(_is_email_full("a@" + domain) for domain in domains)
    return all(map(is_email, texts))


# An address whose local part (before its only "@") is plain and at most 64 characters long.
_PLAIN_ADDRESS = re.compile(r"(?=[^@]{1,64}@[^@]*\Z)" + _PLAIN_LOCAL.pattern[:-2] + "@")


@lru_cache(maxsize=4096)
def _is_email_full(text: str) -> bool:
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(text, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        return False
    return True


def _text(field, value):
    text = _text_of(field, value)
    multi = field.type == "multipicklist"
    if multi:
        text = ";".join(p.strip() for p in text.split(";") if p.strip())
    if field.length and len(text) > field.length:
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise errors.StringTooLong(
            f"{field.label}: data value too large: {shown} (max length={field.length})", [field.name])
    if field.type == "email" and not is_email(text):
        raise errors.InvalidEmailAddress(f"{field.label}: invalid email address: {text}", [field.name])
    if field.restricted and field.picklist:
        for v in (text.split(";") if multi else [text]):
            if v not in field.picklist:
                raise errors.InvalidRestrictedPicklist(
                    f"{field.label}: bad value for restricted picklist field: {v}", [field.name])
    return text


def _same(stored):
    return stored


@dataclass(frozen=True)
class FieldType:
    name: str
    family: str                       # text, id, number, boolean, date, datetime
    sql: type                         # the SQLite column type (sqlite-utils: str, int, float)
    soap: str                         # describe's soapType
    apex: str                         # query columns' apexType
    literal: str                      # the SOQL literal a filter on it takes (its name in errors)
    store: Callable[[Any, Any], Any]  # (field, client value) -> storage form; raises on bad input
    wire: Callable[[Any], Any] = _same  # storage form (never None) -> JSON value
    length: int | None = None         # default length when the schema gives none
    precision: int = 0                # describe's defaults
    scale: int = 0
    digits: int = 0
    filterable: bool = True           # long text areas are not (see FieldDef.describe)
    sortable: bool = True
    groupable: bool = True
    nillable: bool = True             # id and boolean fields never hold null

    @property
    def is_text(self) -> bool:
        """Compared as text in SOQL (quoted literals, LIKE); ids included."""
        return self.family in ("text", "id")

    @property
    def is_number(self) -> bool:
        return self.family == "number"


def _texts(*specs) -> dict[str, FieldType]:
    return {name: FieldType(name, "text", str, "xsd:string", "String", "string", _text, length=length,
                            sortable=sortable, groupable=groupable, filterable=filterable)
            for name, length, sortable, groupable, filterable in specs}


TYPES: dict[str, FieldType] = {
    "id": FieldType("id", "id", str, "tns:ID", "Id", "string", _id, length=18, nillable=False),
    "reference": FieldType("reference", "id", str, "tns:ID", "Id", "string", _id, length=18),
    **_texts(("string", 255, True, True, True), ("textarea", 32768, False, False, False),
             ("phone", 40, True, True, True), ("email", 80, True, True, True),
             ("url", 255, True, True, True), ("picklist", 255, True, True, True),
             ("multipicklist", 4099, False, True, True), ("combobox", 255, True, True, True)),
    "boolean": FieldType("boolean", "boolean", int, "xsd:boolean", "Boolean", "boolean", _boolean,
                         wire=bool, nillable=False),
    "int": FieldType("int", "number", int, "xsd:int", "Integer", "integer", _int, wire=int, digits=9),
    "double": FieldType("double", "number", float, "xsd:double", "Double", "double", _double,
                        wire=float, precision=18, scale=2, groupable=False),
    "currency": FieldType("currency", "number", float, "xsd:double", "Decimal", "double", _double,
                          wire=float, precision=18, scale=2, groupable=False),
    "percent": FieldType("percent", "number", float, "xsd:double", "Decimal", "double", _double,
                         wire=float, precision=18, scale=2, groupable=False),
    "date": FieldType("date", "date", str, "xsd:date", "Date", "date", _date),
    "datetime": FieldType("datetime", "datetime", str, "xsd:dateTime", "Datetime", "dateTime",
                          _datetime, groupable=False),
}

TEXT_TYPES = frozenset(n for n, t in TYPES.items() if t.family == "text")
ID_TYPES = frozenset(n for n, t in TYPES.items() if t.family == "id")
NUMBER_TYPES = frozenset(n for n, t in TYPES.items() if t.is_number)

