"""Expected versus actual, as tables (tabulate): terminal, markdown or JSON."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from tabulate import tabulate

from .runner import Check, ScenarioResult

FORMATS = ("terminal", "markdown", "json")
_TABLEFMT = {"terminal": "simple_grid", "markdown": "github"}
_MAX_CELL = 160
TERMINAL_WIDTH = 100  # terminal tables wrap their long cells to fit this many columns


def _cell(value: Any) -> str:
    if isinstance(value, list):
        text = ", ".join(str(v) for v in value) if value else "(none)"
    elif value is None:
        text = "null"
    else:
        text = str(value)
    text = text.replace("\r", "").replace("\n", " / ")
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 3] + "..."


def _mark(passed: bool, fmt: str) -> str:
    if fmt == "markdown":
        return "pass" if passed else "**FAIL**"
    return "pass" if passed else "FAIL"


def timeline_table(result: ScenarioResult, fmt: str = "terminal") -> str:
    """record / section / expected / actual / result, for every timeline checked."""
    rows = [[c.subject, c.item, _cell(c.expected), _cell(c.actual), _mark(c.passed, fmt)]
            for c in result.checks if c.kind == "timeline"]
    if not rows:
        return ""
    return _table(rows, ["record", "section", "expected", "actual", "result"], fmt, wrap=(2, 3))


def failures_table(result: ScenarioResult, fmt: str = "terminal") -> str:
    """Every failed check that is not a timeline section, with both values."""
    rows = [[c.kind, c.subject, c.item, _cell(c.expected), _cell(c.actual)]
            for c in result.failures if c.kind != "timeline"]
    if not rows:
        return ""
    return _table(rows, ["check", "about", "field", "expected", "actual"], fmt, wrap=(3, 4))


def _table(rows: list[list[str]], headers: list[str], fmt: str, wrap: tuple[int, ...]) -> str:
    if fmt == "terminal":
        return _fitted(rows, headers, "simple_grid", wrap)
    return tabulate(rows, headers=headers, tablefmt=_TABLEFMT[fmt], disable_numparse=True)


def scenario_report(result: ScenarioResult, fmt: str = "terminal") -> str:
    sc = result.scenario
    status = "PASS" if result.passed else "FAIL"
    if fmt == "markdown":
        head = [f"### {status}: {sc.name}", "", f"`{sc.path}`" + (f" — covers {', '.join(sc.covers)}" if sc.covers else ""), ""]
    else:
        head = [f"{status}  {sc.name}  ({sc.path})"]
    parts = ["\n".join(head)]
    if result.error:
        parts.append(f"Could not run: {result.error}")
    if result.delivery:
        parts.append("Delivery: " + ", ".join(f"{n} {name.replace('_', ' ')}"
                                               for name, n in result.delivery.items()))
    table = timeline_table(result, fmt)
    if table:
        parts.append(table)
    failed = failures_table(result, fmt)
    if failed:
        parts.append(("Failed checks:\n" if fmt == "terminal" else "Failed checks:\n\n") + failed)
    errors = [f"events[{e.index}] ({e.kind}{' ' + e.ref if e.ref else ''}): {e.error}"
              for e in result.events if e.error]
    if errors and not result.passed:
        parts.append("Event errors:\n" + "\n".join(f"- {line}" for line in errors))
    return "\n\n".join(parts)


def summary_table(results: list[ScenarioResult], fmt: str = "terminal") -> str:
    """One row per scenario, then the totals. The terminal table fits ``TERMINAL_WIDTH``
    columns: no file column (failing scenarios name theirs above it) and long names wrapped."""
    passed = sum(r.passed for r in results)
    total_s = sum(r.seconds for r in results)
    line = (f"{passed} passed, {len(results) - passed} failed "
            f"({len(results)} scenario{'' if len(results) == 1 else 's'}, {total_s:.2f} s)")
    if fmt == "terminal":
        rows = [[r.scenario.name, f"{sum(c.passed for c in r.checks)}/{len(r.checks)}",
                 f"{r.seconds * 1000:.0f}", _mark(r.passed, fmt)] for r in results]
        table = _fitted(rows, ["scenario", "checks", "ms", "result"], "simple", wrap=(0,), indent="  ")
    else:
        rows = [[r.scenario.name, r.scenario.path, sum(c.passed for c in r.checks), len(r.checks),
                 f"{r.seconds * 1000:.0f}", _mark(r.passed, fmt)] for r in results]
        table = tabulate(rows, headers=["scenario", "file", "checks passed", "checks", "ms", "result"],
                         tablefmt=_TABLEFMT[fmt], disable_numparse=True)
    return f"{table}\n\n{line}"


def _fitted(rows: list[list[str]], headers: list[str], tablefmt: str, wrap: tuple[int, ...],
            indent: str = "") -> str:
    """The table, its ``wrap`` columns wrapped (continuation lines indented by ``indent``) as
    little as fits ``TERMINAL_WIDTH``: the widest of them give way first."""
    def table(width: int | None) -> str:
        cells = [[textwrap.fill(cell, width, subsequent_indent=indent)
                  if width and i in wrap and len(cell) > width else cell
                  for i, cell in enumerate(row)] for row in rows]
        return tabulate(cells, headers=headers, tablefmt=tablefmt, disable_numparse=True)

    text = table(None)
    excess = max(map(len, text.splitlines())) - TERMINAL_WIDTH
    if excess <= 0:
        return text
    widths = [max(len(headers[i]), *(len(row[i]) for row in rows)) for i in wrap]
    room, width = sum(widths) - excess, max(widths)
    while width > 12 and sum(min(w, width) for w in widths) > room:
        width -= 1
    return table(width)


def render(results: list[ScenarioResult], fmt: str = "terminal", *, verbose: bool = False) -> str:
    """The whole report. On a terminal: each failing scenario (every one when verbose), then the
    summary, last, where the eye lands. In markdown: the summary first, then the scenarios."""
    if fmt == "json":
        return json.dumps(to_json(results), indent=2, default=str)
    shown = [r for r in results if verbose or not r.passed]
    sections = [scenario_report(r, fmt) for r in shown]
    if fmt == "markdown":
        details = ["## Scenarios", *sections] if sections else []
        return "\n\n".join(["# Scenario report", "## Summary", summary_table(results, fmt), *details])
    return "\n\n".join([*sections, "Summary", summary_table(results, fmt)])


def to_json(results: list[ScenarioResult]) -> dict:
    def check(c: Check) -> dict:
        return {"kind": c.kind, "about": c.subject, "item": c.item, "expected": c.expected,
                "actual": c.actual, "passed": c.passed}

    return {
        "passed": sum(r.passed for r in results),
        "failed": sum(not r.passed for r in results),
        "scenarios": [{
            "name": r.scenario.name, "file": r.scenario.path, "covers": r.scenario.covers,
            "passed": r.passed, "error": r.error, "seconds": round(r.seconds, 4),
            "api_requests": r.requests, "delivery": r.delivery, "checks": [check(c) for c in r.checks],
            "events": [{"index": e.index, "kind": e.kind, "ref": e.ref, "error": e.error,
                        "outcome": e.outcome.to_dict() if e.outcome else None} for e in r.events],
        } for r in results],
    }


def write_reports(results: list[ScenarioResult], directory: str | Path,
                  server: str | None = None) -> list[Path]:
    """Write ``report.md`` (every scenario), ``report.json`` and ``index.html`` into ``directory``;
    with the ``server`` the run used, the HTML report links records to its pages."""
    from .html import write_index

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    md = directory / "report.md"
    md.write_text(render(results, "markdown", verbose=True) + "\n")
    js = directory / "report.json"
    js.write_text(json.dumps(to_json(results), indent=2, default=str) + "\n")
    return [md, js, write_index(results, directory, server)]
