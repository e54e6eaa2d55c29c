"""Describe answers -> a schema file (``fake-salesforce schema import``).

Reads what an org says about its objects: the JSON ``sf sobject describe --json`` prints
(``{"status": 0, "result": {...}}``), REST describe answers (``GET .../sobjects/X/describe``),
a JSON list of either, or a client to ask (simple-salesforce's ``Salesforce``). Writes the
shape of ``standard.yaml`` (see ``spec.py``) to serve with ``--schema FILE``: every custom
object and field, and of the objects the fake already has, what differs from them (its own
fields keep the behaviour the standard schema gives them: composed names, closed states).

What the fake cannot model is listed as notes, never dropped silently: a field type it does
not know, a reference to an object left out, a formula, dependent picklists, and every describe
key (of those the fake answers) whose value the fake, serving the file, would answer otherwise.
The notes are found by doing it: an org is built on the written schema and described.
"""
from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from ..fieldtypes import TYPES
from .registry import SYSTEM_FIELDS, default_label, field_def, load_schema
from .spec import FieldSpec, SchemaError

# Describe keys with a meaning the fake does not model, when they hold these values.
_UNMODELLED = {
    "calculatedFormula": "a formula (the fake computes nothing: the field stays empty)",
    "autoNumber": "an auto-number (the fake numbers nothing: the field stays empty)",
    "controllerName": "a dependent picklist (the fake does not check dependencies)",
    "defaultValueFormula": "a default formula (the fake does not apply it)",
    "encrypted": "encrypted (the fake stores it in clear)",
}
_OBJECT_KEYS = ("label", "labelPlural", "keyPrefix", "custom", "createable", "updateable",
                "deletable", "queryable", "searchable", "retrieveable", "layoutable")


class DescribeError(SchemaError):
    """Describe input that cannot be read; the message names the file or object."""


@dataclass
class Imported:
    """The schema file (as data) and the notes on what the fake cannot model."""
    schema: dict
    notes: list[str] = field(default_factory=list)

    def to_yaml(self) -> str:
        head = "# Imported from describe answers by `fake-salesforce schema import`.\n"
        if self.notes:
            head += "# Not modelled by the fake:\n" + "".join(f"#   {n}\n" for n in self.notes)
        return head + yaml.safe_dump(self.schema, sort_keys=False, allow_unicode=True, width=100)


# -- reading ------------------------------------------------------------------------------------
def read_describes(paths: Iterable[str | Path]) -> list[dict]:
    """The describe answers in files, or in the ``*.json`` files of directories."""
    found = []
    for path in map(Path, paths):
        files = sorted(path.glob("*.json")) if path.is_dir() else [path]
        if path.is_dir() and not files:
            raise DescribeError(f"{path}: no *.json describe files in this directory")
        for file in files:
            try:
                data = json.loads(file.read_text(encoding="utf-8"))
            except OSError as e:
                raise DescribeError(f"{file}: cannot read: {e.strerror}") from None
            except (UnicodeDecodeError, ValueError) as e:
                raise DescribeError(f"{file}: not JSON: {e}") from None
            found += [_describe_of(item, file) for item in (data if isinstance(data, list) else [data])]
    return found


def _describe_of(data: Any, file: Path) -> dict:
    if isinstance(data, dict) and "status" in data and "fields" not in data:  # sf ... --json
        if data.get("status") != 0:
            raise DescribeError(f"{file}: the sf command failed: {data.get('message') or data.get('name')}")
        data = data.get("result")
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) \
            or not isinstance(data.get("fields"), list):
        raise DescribeError(f"{file}: not a describe answer (expected an object with 'name' and 'fields')")
    return data


def fetch_describes(sf, names: Iterable[str] = ()) -> list[dict]:
    """Describe ``names`` (every object of the org when empty) through a simple-salesforce client."""
    names = list(names) or [o["name"] for o in sf.describe()["sobjects"]]
    return [getattr(sf, name).describe() for name in names]


# -- mapping ------------------------------------------------------------------------------------
def import_describes(describes: list[dict]) -> Imported:
    standard = load_schema()
    by_name = {d["name"]: d for d in describes}
    if len(by_name) != len(describes):
        raise DescribeError("the same object is described twice")
    notes: list[str] = []
    children = {}  # (child object, field) -> relationship name on the parent
    for d in describes:
        for c in d.get("childRelationships") or []:
            if c.get("relationshipName") and c.get("childSObject") in by_name:
                children.setdefault((c["childSObject"], c["field"]), c["relationshipName"])
    left_out = {n for n, d in by_name.items() if standard.get(n) is None and not d.get("keyPrefix")}
    notes += [f"{n}: no key prefix (not a record object): left out" for n in sorted(left_out)]
    known = (set(by_name) - left_out) | {o.name for o in standard}
    objects = {}
    for d in describes:
        name = d["name"]
        base = standard.get(name)
        if name in left_out:
            continue
        fields = {}
        for f in d["fields"]:
            if f["name"] in SYSTEM_FIELDS:
                continue
            field_notes: list[str] = []
            spec = _field_spec(name, f, children.get((name, f["name"])), known, set(by_name), field_notes)
            own = base.field(f["name"]) if base is not None else None
            if spec is not None and own is not None:
                if _same(field_def(f["name"], _checked(FieldSpec, spec, f"{name}.{f['name']}")), own):
                    continue  # the fake has it as it is
                spec = _keep_behaviour(spec, own)
            notes += field_notes
            if spec is not None:
                fields[f["name"]] = spec
        obj = _object_spec(d, base)
        record_types = _record_types(d, base, notes)
        if record_types:
            obj["record_types"] = record_types
        if fields:
            obj["fields"] = fields
        if base is None or len(obj) > 0:
            objects[name] = obj
    imported = Imported({"objects": objects}, notes)
    imported.notes += _differences(imported, describes)
    return imported


def _field_spec(obj: str, d: dict, child: str | None, known: set[str], described: set[str],
                notes: list[str]) -> dict | None:
    where = f"{obj}.{d['name']}"
    kind = d.get("type")
    if kind not in TYPES:
        notes.append(f"{where}: type {kind!r} is not one the fake knows: left out")
        return None
    t = TYPES[kind]
    spec: dict[str, Any] = {"type": kind}
    for key, meaning in _UNMODELLED.items():
        if d.get(key):
            notes.append(f"{where}: {meaning}")
    if t.is_text and d.get("length") and d["length"] != t.length:
        spec["length"] = d["length"]
    if not d.get("nillable", True) and t.nillable and not d.get("calculated") and not d.get("autoNumber"):
        spec["required"] = True
    if d.get("calculated"):
        spec["derived"] = True
    else:
        if not d.get("createable", True):
            spec["createable"] = False
        if not d.get("updateable", True):
            spec["updateable"] = False
    values = d.get("picklistValues") or []
    if values:
        active = [v for v in values if v.get("active", True)]
        if len(active) < len(values):
            notes.append(f"{where}: inactive picklist values left out: "
                         + ", ".join(str(v.get("value")) for v in values if not v.get("active", True)))
        relabelled = [v for v in active if v.get("label") not in (None, v.get("value"))]
        if relabelled:
            notes.append(f"{where}: picklist labels differ from their values (the fake labels each "
                         f"value with itself): {', '.join(str(v['value']) for v in relabelled[:5])}")
        spec["picklist"] = [v["value"] for v in active]
        defaults = [v["value"] for v in active if v.get("defaultValue")]
        if defaults:
            spec["default"] = defaults[0]
    if d.get("restrictedPicklist"):
        spec["restricted"] = True
    if kind == "boolean" and d.get("defaultValue") is not None:
        spec["default"] = bool(d["defaultValue"])
    targets, kept = list(d.get("referenceTo") or []), []
    if targets or kind == "reference":
        kept = [x for x in targets if x in known]
        if len(kept) < len(targets):
            notes.append(f"{where}: references {', '.join(x for x in targets if x not in known)}, "
                         "not imported: " + ("left out" if not kept else "that target left out"))
        if not kept:
            return None
        spec["reference_to"] = kept
    if d.get("relationshipName"):
        spec["relationship_name"] = d["relationshipName"]
    if child:
        spec["child_relationship"] = child
    elif kept and not set(kept) <= described:
        notes.append(f"{where}: its relationship name on {', '.join(x for x in kept if x not in described)} "
                     "is not known (not described): none given")
    if d.get("cascadeDelete"):
        spec["cascade_delete"] = True
    if d.get("externalId"):
        spec["external_id"] = True
    if d.get("unique"):
        spec["unique"] = True
    if d.get("label") and d["label"] != default_label(d["name"]):
        spec["label"] = d["label"]
    for key in ("precision", "scale"):
        if d.get(key) and d[key] != getattr(t, key):
            spec[key] = d[key]
    return spec


def _checked(model, data: dict, where: str):
    try:
        return model(**data)
    except ValueError as e:  # pydantic's ValidationError: a describe value out of shape
        raise DescribeError(f"{where}: cannot be imported: {e}") from None


def _same(imported, own) -> bool:
    return imported.describe() == own.describe()


def _keep_behaviour(spec: dict, own) -> dict:
    """A field the fake has, changed by the org: it keeps what the fake does with it."""
    for key in ("compose", "true_when", "stamped_when"):
        value = getattr(own, key)
        if value:
            spec[key] = value
            spec["derived"] = True
            spec.pop("createable", None)
            spec.pop("updateable", None)
    if own.child_relationship and "child_relationship" not in spec:
        spec["child_relationship"] = own.child_relationship
    if own.phone and spec["type"] != "phone":
        spec["phone"] = True
    return spec


def _object_spec(d: dict, base) -> dict:
    name_field = next((f["name"] for f in d["fields"] if f.get("nameField")), None)
    owned = any(f["name"] == "OwnerId" for f in d["fields"])
    wanted = {"key_prefix": d.get("keyPrefix"), "label": d.get("label"),
              "label_plural": d.get("labelPlural"), "name_field": name_field, "owned": owned,
              "createable": d.get("createable", True), "searchable": d.get("searchable", True)}
    if base is None:
        return {k: v for k, v in wanted.items()
                if v is not None and not (k in ("createable", "searchable") and v is True)
                and not (k == "owned" and v is False)}
    have = {"key_prefix": base.key_prefix, "label": base.label, "label_plural": base.label_plural,
            "name_field": base.name_field, "owned": base.owned, "createable": base.createable,
            "searchable": base.searchable}
    return {k: v for k, v in wanted.items() if v is not None and v != have[k] and k != "key_prefix"}


def _record_types(d: dict, base, notes: list[str]) -> list[dict]:
    infos = d.get("recordTypeInfos") or []
    if any(r.get("master") for r in infos):
        notes.append(f"{d['name']}: the Master record type is implicit in the fake: left out")
    infos = [r for r in infos if not r.get("master")]
    out = []
    for r in infos:
        if not r.get("active", True):
            notes.append(f"{d['name']}: inactive record type {r.get('developerName')} left out")
            continue
        item = {"name": r.get("name"), "developer_name": r.get("developerName")}
        if r.get("defaultRecordTypeMapping"):
            item["default"] = True
        out.append(item)
    have = [{"name": r.name, "developer_name": r.developer_name, **({"default": True} if r.default else {})}
            for r in (base.record_types if base else [])]
    return [] if out == have else out


# -- checking: what the fake, serving the file, would answer otherwise -------------------------
def _differences(imported: Imported, describes: list[dict]) -> list[str]:
    from ..org import Org

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "imported.yaml"
        path.write_text(imported.to_yaml(), encoding="utf-8")
        try:
            org = Org(schema_files=(str(path),))
        except SchemaError as e:  # the describe answers contradict each other (two key prefixes...)
            raise DescribeError(f"the imported schema does not load: {e}".replace(str(path), "schema")) from None
    try:
        notes = []
        for d in describes:
            if org.schema.get(d["name"]) is None:
                continue
            notes += compare(d, org.describe(d["name"]))
        return notes
    finally:
        org.store.close()


def compare(org_said: dict, fake_says: dict) -> list[str]:
    """One line per describe key the fake answers that it answers otherwise than the org did."""
    name = org_said["name"]
    notes = [f"{name}: {key}: the org says {org_said.get(key)!r}, the fake {fake_says[key]!r}"
             for key in _OBJECT_KEYS if key in org_said and org_said[key] != fake_says[key]]
    def record_types(answer):
        return sorted((r["developerName"], r["name"], bool(r["defaultRecordTypeMapping"]))
                      for r in answer.get("recordTypeInfos") or [] if not r.get("master") and r.get("active", True))

    if "recordTypeInfos" in org_said and record_types(org_said) != record_types(fake_says):
        notes.append(f"{name}: recordTypeInfos: the org says {record_types(org_said)!r}, the fake "
                     f"{record_types(fake_says)!r}")
    theirs = {f["name"]: f for f in fake_says["fields"]}
    for f in org_said["fields"]:
        mine = theirs.get(f["name"])
        if mine is None:
            continue  # left out, and noted so
        for key, value in mine.items():
            if key not in f:
                continue
            said = f[key]
            if key == "picklistValues":
                said = [(v.get("value"), True, bool(v.get("defaultValue"))) for v in said if v.get("active", True)]
                value = [(v["value"], v["active"], v["defaultValue"]) for v in value]
            if said != value:
                notes.append(f"{name}.{f['name']}: {key}: the org says {said!r}, the fake {value!r}")
    return notes
