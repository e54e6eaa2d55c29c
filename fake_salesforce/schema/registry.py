"""Reads sObject definitions from YAML into a case-insensitive registry.

Names are looked up case-insensitively, as Salesforce does, and always answered with their
canonical spelling.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..fieldtypes import TYPES

STANDARD_SCHEMA = Path(__file__).with_name("standard.yaml")

FIELD_TYPES = set(TYPES)
_FIELD_KEYS = {"type", "length", "required", "createable", "updateable", "derived", "picklist",
               "restricted", "default", "reference_to", "relationship_name", "child_relationship",
               "external_id", "unique", "phone", "label", "precision", "scale", "compose",
               "true_when", "stamped_when", "cascade_delete"}
_OBJECT_KEYS = {"key_prefix", "label", "name_field", "owned", "createable", "fields", "label_plural",
                "searchable"}


class SchemaError(ValueError):
    """A schema file is malformed; the message names the file and the key."""


@dataclass
class FieldDef:
    name: str
    type: str
    length: int | None = None
    required: bool = False
    createable: bool = True
    updateable: bool = True
    derived: bool = False
    picklist: list[str] = field(default_factory=list)
    restricted: bool = False
    default: Any = None
    reference_to: list[str] = field(default_factory=list)
    relationship_name: str | None = None
    child_relationship: str | None = None
    external_id: bool = False
    unique: bool = False
    phone: bool = False
    label: str = ""
    precision: int | None = None
    scale: int | None = None
    system: bool = False
    # Declared behaviour (see standard.yaml): the org derives or applies these.
    compose: list[str] = field(default_factory=list)
    true_when: dict[str, list[str]] = field(default_factory=dict)
    stamped_when: str | None = None
    cascade_delete: bool = False

    @property
    def nillable(self) -> bool:
        return not self.required and TYPES[self.type].nillable

    @property
    def is_text(self) -> bool:
        return TYPES[self.type].is_text

    @property
    def polymorphic(self) -> bool:
        return len(self.reference_to) > 1

    def describe(self) -> dict:
        """The field entry of a describe answer (the commonly read keys)."""
        t = TYPES[self.type]
        length = self.length or t.length or 0
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "soapType": t.soap,
            "length": length if self.is_text else 0,
            "byteLength": length * 3 if self.is_text else 0,
            "precision": self.precision or t.precision,
            "scale": self.scale or t.scale,
            "digits": t.digits,
            "nillable": self.nillable,
            "createable": self.createable,
            "updateable": self.updateable,
            "defaultedOnCreate": self.default is not None or self.system or self.name == "OwnerId",
            "defaultValue": self.default if self.type in ("boolean",) else None,
            "unique": self.unique,
            "externalId": self.external_id,
            "idLookup": self.type == "id" or self.external_id or self.unique,
            "nameField": False,
            "custom": self.name.endswith("__c"),
            "calculated": self.derived and not self.system,
            "autoNumber": False,
            "filterable": t.filterable or (self.length or 0) <= 255,
            "sortable": t.sortable,
            "groupable": t.groupable,
            "restrictedPicklist": self.restricted,
            "picklistValues": [
                {"active": True, "defaultValue": v == self.default, "label": v, "validFor": None,
                 "value": v}
                for v in self.picklist
            ],
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "polymorphicForeignKey": self.polymorphic,
            "cascadeDelete": self.cascade_delete,
        }


@dataclass
class ChildRelationship:
    name: str            # e.g. "Contacts"
    child: str           # e.g. "Contact"
    field: str           # e.g. "AccountId"


@dataclass
class SObjectDef:
    name: str
    key_prefix: str
    label: str
    label_plural: str
    fields: dict[str, FieldDef]
    name_field: str | None = None
    owned: bool = False
    createable: bool = True
    searchable: bool = True
    children: dict[str, ChildRelationship] = field(default_factory=dict)
    required_fields: list[str] = field(default_factory=list, repr=False)
    unique_fields: list[FieldDef] = field(default_factory=list, repr=False)
    derived_by_schema: list[FieldDef] = field(default_factory=list, repr=False)
    _by_lower: dict[str, FieldDef] = field(default_factory=dict, repr=False)
    _rel_by_lower: dict[str, FieldDef] = field(default_factory=dict, repr=False)
    _child_by_lower: dict[str, ChildRelationship] = field(default_factory=dict, repr=False)

    def index(self) -> None:
        self.required_fields = [f.name for f in self.fields.values() if f.required]
        self.unique_fields = [f for f in self.fields.values() if f.unique]
        # composed names and closed-state flags first, then the stamps that follow the flags
        self.derived_by_schema = ([f for f in self.fields.values() if f.compose or f.true_when]
                                  + [f for f in self.fields.values() if f.stamped_when])
        self._by_lower = {k.lower(): f for k, f in self.fields.items()}
        self._rel_by_lower = {f.relationship_name.lower(): f for f in self.fields.values()
                              if f.relationship_name}
        self._child_by_lower = {k.lower(): c for k, c in self.children.items()}

    def field(self, name: str) -> FieldDef | None:
        return self._by_lower.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field behind a parent relationship name (``Account`` -> AccountId)."""
        return self._rel_by_lower.get(name.lower())

    def child(self, name: str) -> ChildRelationship | None:
        return self._child_by_lower.get(name.lower())

    @property
    def phone_fields(self) -> list[FieldDef]:
        return [f for f in self.fields.values() if f.phone]


class Schema:
    """All sObjects of an org, with case-insensitive lookups by name and key prefix."""

    def __init__(self, objects: dict[str, SObjectDef]):
        self.objects = objects
        self._by_lower = {k.lower(): o for k, o in objects.items()}
        self._by_prefix = {o.key_prefix: o for o in objects.values()}

    def get(self, name: str) -> SObjectDef | None:
        return self._by_lower.get(name.lower()) if isinstance(name, str) else None

    def by_prefix(self, prefix: str) -> SObjectDef | None:
        return self._by_prefix.get(prefix)

    def __iter__(self):
        return iter(self.objects.values())


def _system_fields(owned: bool) -> dict[str, dict]:
    user_ref = {"type": "reference", "reference_to": ["User"], "derived": True}
    fields = {
        "Id": {"type": "id", "derived": True},
        "IsDeleted": {"type": "boolean", "derived": True, "default": False},
        "CreatedDate": {"type": "datetime", "derived": True},
        "CreatedById": {**user_ref, "relationship_name": "CreatedBy"},
        "LastModifiedDate": {"type": "datetime", "derived": True},
        "LastModifiedById": {**user_ref, "relationship_name": "LastModifiedBy"},
        "SystemModstamp": {"type": "datetime", "derived": True},
    }
    if owned:
        fields["OwnerId"] = {"type": "reference", "reference_to": ["User"], "relationship_name": "Owner"}
    return fields


def _check_keys(where: str, spec: Any, allowed: set[str], what: str) -> None:
    if not isinstance(spec, dict):
        raise SchemaError(f"{where}: expected a mapping of {what}")
    unknown = set(spec) - allowed
    if unknown:
        raise SchemaError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
                          f"expected some of {', '.join(sorted(allowed))}")


def _field(where: str, name: str, spec: Any, system: bool) -> FieldDef:
    _check_keys(where, spec, _FIELD_KEYS, "field properties")
    ftype = spec.get("type")
    if ftype not in FIELD_TYPES:
        raise SchemaError(f"{where}.type: {ftype!r} is not one of {', '.join(sorted(FIELD_TYPES))}")
    if ftype == "reference" and not spec.get("reference_to"):
        raise SchemaError(f"{where}.reference_to: a reference field needs the objects it points to")
    derived = bool(spec.get("derived", False))
    return FieldDef(
        name=name,
        type=ftype,
        length=spec.get("length") or TYPES[ftype].length,
        required=bool(spec.get("required", False)),
        createable=not derived and spec.get("createable", True),
        updateable=not derived and spec.get("updateable", True),
        derived=derived,
        picklist=[str(v) for v in spec.get("picklist", [])],
        restricted=bool(spec.get("restricted", False)),
        default=spec.get("default"),
        reference_to=list(spec.get("reference_to", [])),
        relationship_name=spec.get("relationship_name"),
        child_relationship=spec.get("child_relationship"),
        external_id=bool(spec.get("external_id", False)),
        unique=bool(spec.get("unique", False)),
        phone=bool(spec.get("phone", ftype == "phone")),
        label=spec.get("label") or _label(name),
        precision=spec.get("precision"),
        scale=spec.get("scale"),
        system=system,
        compose=[str(n) for n in spec.get("compose", [])],
        true_when={str(k): [str(v) for v in vs] for k, vs in (spec.get("true_when") or {}).items()},
        stamped_when=spec.get("stamped_when"),
        cascade_delete=bool(spec.get("cascade_delete", False)),
    )


def _label(name: str) -> str:
    base = name[:-3] if name.endswith("__c") else name
    if base.endswith("Id") and len(base) > 2:
        base = base[:-2]
    out = []
    for i, ch in enumerate(base):
        if i and ch.isupper() and not base[i - 1].isupper():
            out.append(" ")
        out.append(ch)
    return "".join(out).replace("_", " ")


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as e:
        raise SchemaError(f"{path}: cannot read schema file: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise SchemaError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("objects"), dict):
        raise SchemaError(f"{path}: expected a top-level 'objects:' mapping")
    return data["objects"]


def load_schema(*extra: str | Path) -> Schema:
    """The standard objects, extended by each extra schema file in turn.

    An extra file may add objects, or add fields to an existing object (listing only the new
    fields). Custom names should end in ``__c`` as in Salesforce, but this is not enforced.
    """
    raw: dict[str, tuple[str, dict]] = {}
    for path in (STANDARD_SCHEMA, *extra):
        for name, spec in _read(Path(path)).items():
            where = f"{path}: objects.{name}"
            _check_keys(where, spec, _OBJECT_KEYS, "object properties")
            if name in raw:
                base_where, base = raw[name]
                merged = dict(base)
                merged["fields"] = {**base.get("fields", {}), **(spec.get("fields") or {})}
                raw[name] = (base_where, merged)
            else:
                if not spec.get("key_prefix") or len(str(spec["key_prefix"])) != 3:
                    raise SchemaError(f"{where}.key_prefix: a new object needs a 3-character key prefix")
                raw[name] = (where, spec)

    objects: dict[str, SObjectDef] = {}
    prefixes: dict[str, str] = {}
    for name, (where, spec) in raw.items():
        prefix = str(spec["key_prefix"])
        if prefix in prefixes:
            raise SchemaError(f"{where}.key_prefix: {prefix!r} is already used by {prefixes[prefix]}")
        prefixes[prefix] = name
        fields = {n: _field(f"{where}.fields.{n}", n, s, True)
                  for n, s in _system_fields(bool(spec.get("owned"))).items()}
        for fname, fspec in (spec.get("fields") or {}).items():
            fields[fname] = _field(f"{where}.fields.{fname}", fname, fspec, False)
        label = spec.get("label") or _label(name)
        objects[name] = SObjectDef(
            name=name, key_prefix=prefix, label=label,
            label_plural=spec.get("label_plural") or (label + ("es" if label.endswith("s") else "s")),
            fields=fields, name_field=spec.get("name_field"), owned=bool(spec.get("owned")),
            createable=spec.get("createable", True), searchable=spec.get("searchable", True),
        )

    for obj in objects.values():
        for f in obj.fields.values():
            for target in f.reference_to:
                if target not in objects:
                    raise SchemaError(f"objects.{obj.name}.fields.{f.name}.reference_to: "
                                      f"unknown object {target!r}")
                if f.child_relationship:
                    objects[target].children[f.child_relationship] = ChildRelationship(
                        f.child_relationship, obj.name, f.name)
    for obj in objects.values():
        obj.index()
    return Schema(objects)
