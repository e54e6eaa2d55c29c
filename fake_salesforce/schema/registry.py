"""Reads sObject definitions from YAML into a case-insensitive registry.

Names are looked up case-insensitively, as Salesforce does, and always answered with their
canonical spelling.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SalesforceError
from ..fieldtypes import TYPES
from .spec import FieldSpec, ObjectSpec, RecordTypeSpec, SchemaError, read_schema_file

STANDARD_SCHEMA = Path(__file__).with_name("standard.yaml")


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
    record_types: list[RecordTypeSpec] = field(default_factory=list)
    children: dict[str, ChildRelationship] = field(default_factory=dict)
    required_fields: list[str] = field(default_factory=list, repr=False)
    unique_fields: list[FieldDef] = field(default_factory=list, repr=False)
    derived_by_schema: list[FieldDef] = field(default_factory=list, repr=False)
    phone_fields: list[FieldDef] = field(default_factory=list, repr=False)
    _by_lower: dict[str, FieldDef] = field(default_factory=dict, repr=False)
    _rel_by_lower: dict[str, FieldDef] = field(default_factory=dict, repr=False)
    _child_by_lower: dict[str, ChildRelationship] = field(default_factory=dict, repr=False)

    def index(self) -> None:
        self.required_fields = [f.name for f in self.fields.values() if f.required]
        self.unique_fields = [f for f in self.fields.values() if f.unique]
        self.phone_fields = [f for f in self.fields.values() if f.phone]
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


SYSTEM_FIELDS = ("Id", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate",
                 "LastModifiedById", "SystemModstamp", "OwnerId")  # every object gets them (OwnerId: owned)


def _system_fields(owned: bool, queues: bool = False) -> dict[str, FieldSpec]:
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
        fields["OwnerId"] = {"type": "reference", "reference_to": ["Group", "User"] if queues else ["User"],
                             "relationship_name": "Owner"}
    return {name: FieldSpec(**spec) for name, spec in fields.items()}


def field_def(name: str, spec: FieldSpec) -> FieldDef:
    """The field a schema file's entry makes (describe it with ``.describe()``)."""
    return _field(name, spec, False)


def _field(name: str, spec: FieldSpec, system: bool) -> FieldDef:
    return FieldDef(
        name=name, type=spec.type, length=spec.length or TYPES[spec.type].length,
        required=spec.required, createable=not spec.derived and spec.createable,
        updateable=not spec.derived and spec.updateable, derived=spec.derived,
        picklist=list(spec.picklist), restricted=spec.restricted, default=spec.default,
        reference_to=list(spec.reference_to), relationship_name=spec.relationship_name,
        child_relationship=spec.child_relationship, external_id=spec.external_id,
        unique=spec.unique, phone=spec.type == "phone" if spec.phone is None else spec.phone,
        label=spec.label or _label(name), precision=spec.precision, scale=spec.scale,
        system=system, compose=list(spec.compose),
        true_when={k: list(v) for k, v in spec.true_when.items()},
        stamped_when=spec.stamped_when, cascade_delete=spec.cascade_delete,
    )


def default_label(name: str) -> str:
    """The label a field or object gets when its entry gives none: ``Account_Type__c`` -> ``Account Type``."""
    return _label(name)


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


def _extend(base: ObjectSpec, spec: ObjectSpec, where: str) -> ObjectSpec:
    """An object extended by a later file: the keys it gives replace the object's; its fields
    and record types (by developer name) are added to or replace the object's."""
    if spec.key_prefix is not None and spec.key_prefix != base.key_prefix:
        raise SchemaError(f"{where}.key_prefix: the object's key prefix is {base.key_prefix!r}; "
                          "an extension cannot change it")
    update = {k: getattr(spec, k) for k in spec.model_fields_set - {"fields", "record_types", "key_prefix"}}
    update["fields"] = {**base.fields, **spec.fields}
    record_types = {r.developer_name: r for r in base.record_types}
    for r in spec.record_types:
        old = record_types.get(r.developer_name)
        keep_person = old is not None and old.person and "person" not in r.model_fields_set
        record_types[r.developer_name] = r.model_copy(update={"person": True}) if keep_person else r
    update["record_types"] = list(record_types.values())
    return base.model_copy(update=update)


def _check_field_names(obj: str, fields: dict[str, FieldDef], origin: dict) -> None:
    """Field names are case-insensitive, and the fields an object's keys name must exist."""
    def fail(field: str, message: str):
        raise SchemaError(f"{origin.get((obj, field), STANDARD_SCHEMA)}: objects.{obj}.fields.{field}"
                          f"{message}")
    spelt: dict[str, str] = {}
    relationships: dict[str, str] = {}   # lower-case relationship name -> its field
    for name, f in fields.items():
        other = spelt.setdefault(name.lower(), name)
        if other != name:
            fail(name, f": the field {other} spelt differently (field names are case-insensitive)")
        if f.relationship_name:
            other = relationships.setdefault(f.relationship_name.lower(), name)
            if other != name:
                fail(name, f".relationship_name: {f.relationship_name} is already the relationship of {other}")
        named = ([("compose", n) for n in f.compose] + [("true_when", n) for n in f.true_when]
                 + ([("stamped_when", f.stamped_when)] if f.stamped_when else []))
        for key, target in named:
            if target not in fields:
                fail(name, f".{key}: {obj} has no field {target!r}")


def load_schema(*extra: str | Path) -> Schema:
    """The standard objects, extended by each extra schema file in turn.

    An extra file may add objects, or add fields to an existing object (listing only the new
    fields). Custom names should end in ``__c`` as in Salesforce, but this is not enforced.
    """
    raw: dict[str, tuple[str, ObjectSpec]] = {}
    origin: dict[tuple[str, str], Path] = {}  # (object, field) -> the file that defines it
    spelt: dict[str, str] = {}  # lower-case name -> the object's name (names are case-insensitive)
    for path in (STANDARD_SCHEMA, *extra):
        for name, spec in read_schema_file(path).objects.items():
            where = f"{path}: objects.{name}"
            other = spelt.setdefault(name.lower(), name)
            if other != name:
                raise SchemaError(f"{where}: the object {other} spelt differently (object names are "
                                  f"case-insensitive); write {other}")
            origin.update({(name, f): path for f in spec.fields})
            if name in raw:  # an extension: its fields are added to (or replace) the object's
                base_where, base = raw[name]
                raw[name] = (base_where, _extend(base, spec, where))
            elif spec.key_prefix is None:
                raise SchemaError(f"{where}.key_prefix: a new object needs a 3-character key prefix")
            else:
                raw[name] = (where, spec)

    objects: dict[str, SObjectDef] = {}
    prefixes: dict[str, str] = {}
    for name, (where, spec) in raw.items():
        if spec.key_prefix in prefixes:
            raise SchemaError(f"{where}.key_prefix: {spec.key_prefix!r} is already used by "
                              f"{prefixes[spec.key_prefix]}")
        prefixes[spec.key_prefix] = name
        fields = {n: _field(n, s, True) for n, s in _system_fields(spec.owned, spec.queues).items()}
        fields.update({n: _field(n, s, False) for n, s in spec.fields.items()})
        _check_field_names(name, fields, origin)
        if spec.name_field is not None and spec.name_field not in fields:
            raise SchemaError(f"{where}.name_field: {name} has no field {spec.name_field!r}")
        label = spec.label or _label(name)
        objects[name] = SObjectDef(
            name=name, key_prefix=spec.key_prefix, label=label,
            label_plural=spec.label_plural or (label + ("es" if label.endswith("s") else "s")),
            fields=fields, name_field=spec.name_field, owned=spec.owned,
            createable=spec.createable, searchable=spec.searchable,
            record_types=list(spec.record_types),
        )

    for obj in objects.values():
        for f in obj.fields.values():
            where = f"{origin.get((obj.name, f.name), STANDARD_SCHEMA)}: objects.{obj.name}.fields.{f.name}"
            if f.default not in (None, ""):
                try:
                    TYPES[f.type].store(f, f.default)
                except SalesforceError as e:
                    raise SchemaError(f"{where}.default: {e.message}") from None
            for target in f.reference_to:
                if target not in objects:
                    raise SchemaError(f"{where}.reference_to: unknown object {target!r}")
                if f.child_relationship:
                    known = objects[target].children.get(f.child_relationship)
                    if known and (known.child, known.field) != (obj.name, f.name):
                        raise SchemaError(f"{where}.child_relationship: {target} already has the child "
                                          f"relationship {f.child_relationship} ({known.child}.{known.field})")
                    objects[target].children[f.child_relationship] = ChildRelationship(
                        f.child_relationship, obj.name, f.name)
    for obj in objects.values():
        obj.index()
    return Schema(objects)
