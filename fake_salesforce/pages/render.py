"""Drawing an Activity timeline outside the server (reports), with the record page's template."""
from __future__ import annotations

from importlib import resources
from typing import Callable

import jinja2

from .activity import Timeline
from .records import format_date_text


def install(env: jinja2.Environment) -> None:
    """The filters the page templates use, on a Jinja environment (the app's or a report's)."""
    env.filters["sfdate"] = format_date_text


def environment(*loaders: jinja2.BaseLoader) -> jinja2.Environment:
    """An autoescaping environment that finds the pages' templates, after ``loaders``."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([*loaders, jinja2.PackageLoader("fake_salesforce.pages", "templates")]),
        autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    install(env)
    return env


def timeline_html(timeline: Timeline, link: Callable[[str], str | None] | None = None,
                  env: jinja2.Environment | None = None) -> str:
    """The Activity panel of ``timeline`` as the record page draws it (HTML, escaped)."""
    env = env or environment()
    macro = env.get_template("pages/_timeline.html").module.timeline
    return str(macro(timeline, link))


def stylesheet() -> str:
    """The pages' CSS, to inline where there is no server (a report file)."""
    return resources.files("fake_salesforce.pages").joinpath("static/pages.css").read_text(encoding="utf-8")
