"""Recordings: what an org showed for each scenario, as JSON files that diff cleanly.

``callsim run --record DIR`` writes one file per scenario; ``callsim diff A B`` compares two
recordings, say one made against a real org in parity mode and one against the fake.

A recording holds no value that differs between two orgs doing the same thing: record Ids
become the scenario's refs (``@alice``), a record the integration created becomes its type and
name (``new Lead +16465550142``), a Task its event (``Task c1``); creation and completion
times are left out. Keys are sorted and lists put in a fixed order.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from simulator.core.outcome import sobject_of
from simulator.readback import NEXT, PAST, visible_description

FORMAT = "callsim-recording/1"
#: Task fields left out: they differ between any two runs.
VOLATILE = ("Id", "CreatedDate", "CompletedDateTime", "Who", "What", "attributes")
SKIPPED = "skipped"


class RecordingError(Exception):
    """A directory that is not a recording, or a file in it that is not one."""


def scenario_record(result) -> dict:
    """The JSON of one scenario's result (a ``ScenarioResult``)."""
    sc = result.scenario
    recorded = result.recorded or {}
    names = _names(recorded)
    out: dict[str, Any] = {
        "format": FORMAT,
        "scenario": sc.name,
        "passed": result.passed,
        "error": result.error,
        "events": [{"index": e.index, "kind": e.kind, "ref": e.ref, "refused": e.error is not None}
                   for e in result.events],
        "timelines": {},
        "tasks": _grouped((_label(recorded.get("labels", {}).get(t["Id"])), _task(t))
                          for t in recorded.get("tasks", [])),
        "created": _grouped((names[r["Id"]], _plain(r)) for r in recorded.get("created", [])),
        "failed_checks": [f"{c.kind} {c.subject}: {c.item}" for c in result.failures],
    }
    for timeline in result.timelines:
        sections = {PAST: [], NEXT: []}
        for task in timeline.tasks:
            sections[PAST if task["IsClosed"] else NEXT].append(_label(timeline.labels.get(task["Id"])))
        out["timelines"][timeline.ref] = {"sobject": timeline.sobject,
                                          **{k: sorted(v) for k, v in sections.items()}}
    return _rename(out, names)


def _names(recorded: dict) -> dict[str, str]:
    """Record Id -> a name that is the same in every org."""
    names = {}
    for row in recorded.get("created", []):
        kind = row.get("attributes", {}).get("type") or sobject_of(row["Id"]) or "record"
        names[row["Id"]] = f"new {kind} {row.get('Name') or row.get('Subject') or ''}".rstrip()
    for task in recorded.get("tasks", []):
        names[task["Id"]] = f"Task {_label(recorded.get('labels', {}).get(task['Id']))}"
    for ref, record_id in recorded.get("ids", {}).items():
        names[record_id] = f"@{ref}"
    both = {}
    for record_id, name in names.items():
        both[record_id] = name
        if len(record_id) == 18:
            both[record_id[:15]] = name
    return both


def _label(label: str | None) -> str:
    """A Task's event ref; a Task no event explains loses its Id: ``(no event) Subject``."""
    if not label:
        return "(no event)"
    match = re.match(r"Task \w+ \((.*)\)$", label)
    return f"(no event) {match[1]}" if match else label


def _task(row: dict) -> dict:
    task = {k: v for k, v in _plain(row).items() if k not in VOLATILE}
    task["Description"] = visible_description(task.get("Description"))
    return task


def _grouped(pairs) -> dict[str, list[dict]]:
    """Items by name (a Task's event, a created record's name), each list in a fixed order."""
    out: dict[str, list[dict]] = {}
    for name, item in pairs:
        out.setdefault(name, []).append(item)
    return {name: sorted(items, key=_sort_key) for name, items in sorted(out.items())}


def _plain(row: dict) -> dict:
    """A record without its attributes (nested relationship records too)."""
    out = {}
    for key, value in row.items():
        if key == "attributes":
            continue
        out[key] = _plain(value) if isinstance(value, dict) else value
    return out


def _sort_key(item: dict) -> str:
    return json.dumps(item, sort_keys=True, default=str)


def _rename(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _rename(v, names) for k, v in value.items() if k != "Id"}
    if isinstance(value, list):
        return [_rename(v, names) for v in value]
    if isinstance(value, str):
        if value in names:
            return names[value]
        if len(value) >= 15:   # an Id inside a message
            for record_id, name in names.items():
                if record_id in value:
                    value = value.replace(record_id, name)
    return value


def file_name(name: str, taken: set[str]) -> str:
    """A file name from a scenario's name: lower case, words joined by '-'."""
    stem = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:80] or "scenario"
    candidate, n = stem, 2
    while candidate in taken:
        candidate, n = f"{stem}-{n}", n + 1
    taken.add(candidate)
    return candidate + ".json"


def dumps(data: dict) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


def write_recording(results, directory: Path, skipped=()) -> list[Path]:
    """One JSON file per scenario into ``directory`` (skipped scenarios say why)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    paths = []
    items = [(r.scenario.name, scenario_record(r)) for r in results]
    items += [(sc.name, {"format": FORMAT, "scenario": sc.name, SKIPPED: reason})
              for sc, reason in skipped]
    for name, data in sorted(items, key=lambda item: item[0]):
        path = directory / file_name(name, taken)
        path.write_text(dumps(data), encoding="utf-8")
        paths.append(path)
    return paths


# -- comparing --------------------------------------------------------------------------------
def load_recording(directory: Path) -> dict[str, dict]:
    """Scenario name -> its recorded JSON; RecordingError for anything that is not a recording."""
    directory = Path(directory)
    if not directory.is_dir():
        raise RecordingError(f"{directory}: not a directory")
    files = sorted(directory.glob("*.json"))
    if not files:
        raise RecordingError(f"{directory}: no recording in it (no .json files; write one with "
                             "`callsim run --record DIR`)")
    out = {}
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            raise RecordingError(f"{path}: not valid JSON: {e}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("scenario"), str):
            raise RecordingError(f"{path}: not a callsim recording (expected \"format\": \"{FORMAT}\" "
                                 "and a \"scenario\" name)")
        if data["scenario"] in out:
            raise RecordingError(f"{path}: scenario {data['scenario']!r} is recorded twice")
        out[data["scenario"]] = data
    return out


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """``{"a": {"b": [{"c": 1}]}}`` -> ``{"a.b[0].c": 1}``. A list of plain values (a timeline
    section) stays one value, and so do empty lists and mappings."""
    if isinstance(value, dict) and value:
        out = {}
        for key in sorted(value):
            out.update(flatten(value[key], f"{path}.{key}" if path else str(key)))
        return out
    if isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        out = {}
        for i, item in enumerate(value):
            out.update(flatten(item, f"{path}[{i}]"))
        return out
    return {path: value}


MISSING = "(absent)"


def compare(a: dict[str, dict], b: dict[str, dict]) -> list[tuple[str, str, str, str]]:
    """(scenario, path, value in A, value in B) for every difference, in a stable order."""
    rows = []
    for name in sorted(set(a) | set(b)):
        if name not in b:
            rows.append((name, "(scenario)", "recorded", MISSING))
            continue
        if name not in a:
            rows.append((name, "(scenario)", MISSING, "recorded"))
            continue
        left, right = flatten(a[name]), flatten(b[name])
        for path in sorted(set(left) | set(right)):
            x, y = left.get(path, MISSING), right.get(path, MISSING)
            if x != y:
                rows.append((name, path, _show(x), _show(y)))
    return rows


def _show(value: Any) -> str:
    if value is MISSING or value == MISSING:
        return MISSING
    return json.dumps(value, ensure_ascii=False, default=str)
