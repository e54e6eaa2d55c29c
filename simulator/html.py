"""HTML reports: ``index.html`` of a run and ``behaviour.html``, readable without a server.

Each record's Activity timeline is drawn by the fake org's own record-page template
(``fake_salesforce.pages``), so a report shows what the record page shows.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import jinja2
from markdown_it import MarkdownIt

from fake_salesforce.pages import activity
from fake_salesforce.pages.render import environment, stylesheet

from .runner import ScenarioResult, Timeline

INDEX_NAME = "index.html"
_ENV: jinja2.Environment | None = None
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True})


def env() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        _ENV = environment(jinja2.PackageLoader("simulator", "templates"))
        _ENV.filters["value"] = value_text
        _ENV.filters["inline_md"] = inline_markdown
        _ENV.globals["stylesheet"] = stylesheet
    return _ENV


def value_text(value: Any) -> str:
    """An expected or actual value as one cell's text."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "(none)"
    if value is None:
        return "null"
    if isinstance(value, (dict, bool)):
        return json.dumps(value)
    return str(value)


def inline_markdown(text: Any) -> jinja2.runtime.Markup:
    """A markdown table cell (``code``, **bold**, line breaks) as HTML; any HTML in it is escaped."""
    html = _MARKDOWN.renderInline(str(text).replace("<br>", "\n"))
    return jinja2.runtime.Markup(html)


def record_link(server: str | None) -> Callable[[str], str | None] | None:
    """Links to the record pages of the fake org at ``server`` (none without a server)."""
    if not server:
        return None
    base = server.rstrip("/")
    return lambda record_id: f"{base}/lightning/r/{record_id}/view" if record_id else None


def drawn(timeline: Timeline) -> activity.Timeline:
    """A read-back timeline, ordered and grouped as the record page draws it, every entry shown,
    each labelled with the scenario event that logged it."""
    return activity.build(timeline.tasks, timeline.today, notes=lambda row: timeline.labels.get(row["Id"]))


def render_index(results: list[ScenarioResult], server: str | None = None) -> str:
    """The whole run: the summary first, then each scenario's checks and timelines."""
    passed = sum(r.passed for r in results)
    return env().get_template("report.html").render(
        results=results, passed=passed, failed=len(results) - passed, server=server,
        link=record_link(server), drawn=drawn, seconds=sum(r.seconds for r in results))


def write_index(results: list[ScenarioResult], directory: str | Path, server: str | None = None) -> Path:
    path = Path(directory) / INDEX_NAME
    path.write_text(render_index(results, server), encoding="utf-8")
    return path


def markdown_block(text: str) -> jinja2.runtime.Markup:
    """Markdown prose of the behaviour document as HTML (any HTML in it is escaped)."""
    return jinja2.runtime.Markup(_MARKDOWN.render(text))


def cell_text(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_behaviour(tables, intro: str) -> str:
    """``behaviour.html``: the tables of ``behaviour.md``, and the headline cases' timelines
    drawn as the record page draws them."""
    e = env()
    e.filters.setdefault("markdown", markdown_block)
    e.filters.setdefault("cell", lambda v: inline_markdown(cell_text(v)))
    return e.get_template("behaviour.html").render(tables=tables, intro=intro, drawn=drawn)
