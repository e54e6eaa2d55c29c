"""Validation with pydantic, and the one adapter that turns its errors into ``key.path: message``.

Models derive from :class:`Strict`: unknown keys are refused with a did-you-mean hint, and a
missing key of a model that also takes free-form fields (``extra="allow"``) names a close
misspelling found among them. Value types are the ``Annotated`` helpers below, whose messages
say what was expected and show what was given in YAML spelling (``true``, ``null``, ``'text'``).
"""
from __future__ import annotations

import difflib
import math
from datetime import date, datetime, timezone
from typing import Annotated, Any, Iterable

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError


def huge_int(value: Any) -> str | None:
    """How messages show an integer too long for ``str()`` and ``repr()`` (past 4,300 digits)."""
    if isinstance(value, int) and value.bit_length() > 10_000:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    return None


def show(value: Any) -> str:
    """A value as messages show it: strings quoted, YAML spelling for the rest."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if (huge := huge_int(value)) is not None:
        return huge
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    if isinstance(value, dict):
        return "a mapping" if value else "{}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def fail(kind: str, message: str) -> PydanticCustomError:
    """An error whose message is final (no placeholders are filled in)."""
    return PydanticCustomError(kind, "{message}", {"message": message})


def _error(loc: tuple, value: Any, kind: str, message: str) -> InitErrorDetails:
    return InitErrorDetails(type=fail(kind, message), loc=loc, input=value)


def raise_at(key: str, value: Any, message: str):
    """Raise from a model validator an error located at one of the model's keys."""
    raise ValidationError.from_exception_data("check", [_error((key,), value, "value", message)])


class Strict(BaseModel):
    """A model that refuses unknown keys, naming the key meant when one is close."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="wrap")
    @classmethod
    def _explain(cls, data: Any, handler):
        try:
            return handler(data)
        except ValidationError as exc:
            keys = [f.alias or name for name, f in cls.model_fields.items()]
            free_form = cls.model_config.get("extra") == "allow"
            rewritten = []
            for err in exc.errors(include_url=False):
                loc, message = err["loc"], message_of(err)
                if len(loc) == 1 and err["type"] == "extra_forbidden":
                    message = unknown_key(str(loc[0]), keys)
                elif err["type"] == "invalid_key":  # a YAML key read as a number, true, a date ...
                    loc, key = loc[:-1], show(err.get("input"))
                    message = f"key {key} is not a string: quote it ('{key}')"
                elif len(loc) == 1 and err["type"] == "missing" and free_form and isinstance(data, dict):
                    others = [str(k) for k in data if k not in keys]
                    close = difflib.get_close_matches(str(loc[0]), others, n=1, cutoff=0.6)
                    if close:
                        message = f"required key missing (found {close[0]!r}; a misspelling?)"
                rewritten.append(_error(loc, err.get("input"), "checked", message))
            raise ValidationError.from_exception_data(exc.title, rewritten) from None


def unknown_key(key: str, keys: Iterable[str]) -> str:
    keys = list(keys)
    close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    return f"unknown key; expected one of {', '.join(keys)}"


# --- the adapter ---------------------------------------------------------------------------------


def key_path(loc: Iterable[Any], base: str = "") -> str:
    """``("events", 0, "call", "ref")`` as ``events[0].call.ref``."""
    path = base
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


class Wording:
    """How messages name things: YAML files say "key" and "mapping", JSON payloads "field" and
    "object"; ``show`` spells the value given."""

    def __init__(self, key: str = "key", mapping: str = "a mapping", missing: str = "required key missing",
                 show=show):
        self.key, self.mapping, self.missing, self.show = key, mapping, missing, show


YAML = Wording()


def problems(exc: ValidationError, base: str = "", wording: Wording = YAML) -> list[tuple[str, str]]:
    """Each error of ``exc`` as ``(key path, message)``; ``base`` prefixes the paths."""
    return [(key_path(err["loc"], base), message_of(err, wording)) for err in exc.errors(include_url=False)]


def message_of(err, wording: Wording = YAML) -> str:
    """The message of one pydantic error (an item of ``ValidationError.errors()``)."""
    kind, value = err["type"], err.get("input")
    if kind == "missing":
        return wording.missing
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected {wording.mapping}, got {wording.show(value)}"
    if kind in ("list_type", "tuple_type"):
        return f"expected a list, got {wording.show(value)}"
    if kind == "extra_forbidden":
        return f"unknown {wording.key}"
    return err["msg"]


# --- value types -----------------------------------------------------------------------------------


def _checked(check):
    return BeforeValidator(check)


def text_value(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise fail("text", f"expected a non-empty string, got {show(value)}")
    return value


def _count(value: Any) -> int:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise fail("count", f"expected an integer >= 0, got {show(value)}")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise fail("flag", f"expected true or false, got {show(value)}")
    return value


def moment_value(value: Any) -> datetime:
    parsed = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
    try:
        if parsed is None or parsed.tzinfo is None:
            raise ValueError(value)
        return parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # OverflowError: past year 9999 or before year 1 in UTC
        raise fail("moment", "expected an ISO 8601 date-time with a time zone "
                             f"(e.g. 2026-11-02T09:00:00Z), got {show(value)}") from None


def one_of(values: Iterable[Any]):
    """A validator accepting exactly these strings (enum members accepted by value)."""
    allowed = [getattr(v, "value", v) for v in values]

    def check(value: Any):
        if not isinstance(value, str) or value not in allowed:
            raise fail("choice", f"{show(value)} is not one of {', '.join(allowed)}")
        return value
    return BeforeValidator(check)


def list_of(what: str):
    """A validator for lists whose type error says what the list holds."""
    def check(value: Any):
        if not isinstance(value, list):
            raise fail("list", f"expected {what}, got {show(value)}")
        return value
    return BeforeValidator(check)


Text = Annotated[str, _checked(text_value)]
Count = Annotated[int, _checked(_count)]
Flag = Annotated[bool, _checked(_flag)]
Moment = Annotated[datetime, _checked(moment_value)]
