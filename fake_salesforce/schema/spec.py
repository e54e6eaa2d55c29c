"""What a schema file may say: pydantic models of its YAML, and their errors as readable lines.

Every key is known (``extra="forbid"``): a misspelt key is an error that names the file, the
key path and the nearest known key, never a setting silently ignored.
"""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from .. import yaml_keys
from ..fieldtypes import TYPES


class SchemaError(ValueError):
    """A schema file is malformed; the message names the file and the key."""


def _scalar_text(value):
    # YAML reads 500, 1.5 or Yes as numbers and booleans; in a schema they are names.
    return str(value) if isinstance(value, (bool, int, float)) else value


Text = Annotated[str, BeforeValidator(_scalar_text)]
TypeName = Literal[tuple(TYPES)]
class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Spec):
    type: TypeName
    length: int | None = Field(None, gt=0)
    required: bool = False
    createable: bool = True
    updateable: bool = True
    derived: bool = False            # maintained by the org: neither createable nor updateable
    picklist: list[Text] = []
    restricted: bool = False
    default: Any = None
    reference_to: list[Text] = Field([], validate_default=True)
    relationship_name: str | None = None
    child_relationship: str | None = None
    external_id: bool = False
    unique: bool = False
    phone: bool | None = None        # indexed for SOSL PHONE FIELDS; implied by type phone
    label: str | None = None
    precision: int | None = Field(None, ge=0)
    scale: int | None = Field(None, ge=0)
    compose: list[Text] = []
    true_when: dict[str, list[Text]] = {}
    stamped_when: str | None = None
    cascade_delete: bool = False

    @field_validator("reference_to")
    @classmethod
    def _reference_needs_targets(cls, value, info):
        if info.data.get("type") == "reference" and not value:
            raise ValueError("a reference field needs the objects it points to")
        return value


class RecordTypeSpec(_Spec):
    name: str
    developer_name: str
    default: bool = False            # the record type a new record gets (defaultRecordTypeMapping)
    person: bool = False             # a person-account record type (IsPersonType)


class ObjectSpec(_Spec):
    key_prefix: Text | None = None
    label: str | None = None
    label_plural: str | None = None
    name_field: str | None = None
    owned: bool = False
    queues: bool = False             # owned by a user or a queue (a Group): OwnerId -> Group, User
    createable: bool = True
    searchable: bool = True
    record_types: list[RecordTypeSpec] = []
    fields: dict[str, FieldSpec] = {}

    @field_validator("record_types")
    @classmethod
    def _one_of_each(cls, value):
        names = [r.developer_name for r in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"developer_name {twice[0]!r} is given to more than one record type")
        if sum(r.default for r in value) > 1:
            raise ValueError("only one record type can be the default")
        return value

    @field_validator("key_prefix")
    @classmethod
    def _three_characters(cls, value):
        if value is not None and not (len(value) == 3 and value.isascii() and value.isalnum()):
            raise ValueError(f"a key prefix is 3 letters or digits (the start of the object's ids), not {value!r}")
        return value


class SchemaFile(_Spec):
    objects: dict[str, ObjectSpec]


def read_schema_file(path: str | Path) -> SchemaFile:
    try:
        data, duplicates = yaml_keys.load(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise SchemaError(f"{path}: cannot read schema file: {e.strerror}") from None
    except UnicodeDecodeError:
        raise SchemaError(f"{path}: cannot read schema file: not UTF-8 text") from None
    except yaml.YAMLError as e:
        raise SchemaError(f"{path}: not valid YAML: {e}") from None
    if duplicates:
        line, key = duplicates[0]
        raise SchemaError(f"{path}: not valid YAML: duplicate key {key!r} on line {line}")
    try:
        return SchemaFile.model_validate(data)
    except ValidationError as e:
        raise SchemaError("\n".join(_lines(path, e))) from None


_MODEL_AT_DEPTH = {0: SchemaFile, 2: ObjectSpec, 4: FieldSpec}  # objects.X.fields.Y.key


def _model_at(loc: list[str]):
    if len(loc) == 5 and loc[2] == "record_types":  # objects.X.record_types.N.key
        return RecordTypeSpec
    return _MODEL_AT_DEPTH.get(len(loc) - 1, _Spec)


def _lines(path, error: ValidationError) -> list[str]:
    """``FILE: key.path: message``, one line per problem, with a did-you-mean for unknown keys."""
    lines = []
    for e in error.errors():
        loc = [str(p) for p in e["loc"]]
        where = ".".join(loc) or "(top)"
        if e["type"] == "extra_forbidden":
            known = sorted(_model_at(loc).model_fields)
            close = difflib.get_close_matches(loc[-1], known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"expected one of {', '.join(known)}"
            message = f"unknown key; {hint}"
        elif e["type"] == "literal_error":
            message = f"{e['input']!r} is not one of {', '.join(sorted(TYPES))}"
        elif e["type"] == "missing" and loc == ["objects"]:
            message = "a schema file needs a top-level 'objects:' mapping"
        elif e["type"] == "model_type" and not loc:
            message = "expected a mapping with a top-level 'objects:' key"
        else:
            message = e["msg"].removeprefix("Value error, ")
        lines.append(f"{path}: {where}: {message}")
    return lines
