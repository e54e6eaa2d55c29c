"""The logging rules (R1.1, R1.2, ...), read from the copy of ``docs/rules.md`` inside the package.

``simulator/rules.md`` is shipped as package data, so the rules are found the same way from a
checkout, an editable install and a plain ``pip install .``; tests/simulator/test_rules.py
fails when it differs from ``docs/rules.md``, the copy people edit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

RULES_RESOURCE = "rules.md"
_RULE_LINE = re.compile(r"^- (R\d+\.\d+)\s+(.*)$")


class RulesError(RuntimeError):
    """The rules file cannot be read or holds no rules."""


@dataclass(frozen=True)
class Rule:
    id: str
    text: str


def packaged_rules():
    """The rules file inside the installed package (a Traversable; a Path for a plain install)."""
    return resources.files(__package__).joinpath(RULES_RESOURCE)


def parse_rules(text: str, source: str = RULES_RESOURCE) -> list[Rule]:
    """Rules from their markdown: ``- R<n>.<m> text`` bullets, continued on indented lines.

    Indented sub-bullets (``- Source: ...``) end a rule's text: they hold its source passage.
    """
    found: list[tuple[str, list[str]]] = []
    current: list[str] | None = None          # the text lines of the rule being read
    for line in text.splitlines():
        match = _RULE_LINE.match(line)
        stripped = line.strip()
        if match:
            current = [match.group(2).strip()]
            found.append((match.group(1), current))
        elif current is not None and line.startswith(" ") and stripped and not stripped.startswith("- "):
            current.append(stripped)
        else:
            current = None
    if not found:
        raise RulesError(f"{source}: no rule bullets like '- R1.1 text' found")
    rules = [Rule(rule_id, " ".join(lines)) for rule_id, lines in found]
    ids = [r.id for r in rules]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise RulesError(f"{source}: rule ids listed twice: {', '.join(twice)}")
    return rules


def read_rules(path: Path | str | None = None) -> list[Rule]:
    """The rules of ``path``, or of the packaged rules file; :class:`RulesError` if unreadable."""
    source = packaged_rules() if path is None else path
    shown = f"the packaged {RULES_RESOURCE} (simulator/{RULES_RESOURCE})" if path is None else str(path)
    try:
        text = (source if hasattr(source, "read_text") else Path(source)).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = getattr(e, "strerror", None) or e
        raise RulesError(f"cannot read the rules file {shown}: {reason}") from None
    return parse_rules(text, shown)


def rule_ids(path: Path | str | None = None) -> list[str]:
    """Every rule id, in document order."""
    return [rule.id for rule in read_rules(path)]
