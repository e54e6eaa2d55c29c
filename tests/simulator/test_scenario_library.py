"""The scenario library covers every rule of docs/rules.md, and cites only real rules."""
from pathlib import Path

from simulator.rules import read_rules
from simulator.scenario import load_scenarios

LIBRARY = Path(__file__).resolve().parents[2] / "scenarios"


def _covers() -> dict[str, list[str]]:
    cited: dict[str, list[str]] = {}
    for scenario in load_scenarios([LIBRARY]):
        for rule in scenario.covers:
            cited.setdefault(rule, []).append(scenario.name)
    return cited


def test_every_rule_has_a_scenario():
    rules = [r.id for r in read_rules()]
    assert len(rules) >= 40
    missing = [r for r in rules if r not in _covers()]
    assert missing == [], f"rules without a scenario citing them in covers: {missing}"


def test_scenarios_cite_only_existing_rules():
    rules = {r.id for r in read_rules()}
    unknown = sorted(set(_covers()) - rules)
    assert unknown == []


def test_every_scenario_cites_its_rules():
    uncited = [s.name for s in load_scenarios([LIBRARY]) if not s.covers]
    assert uncited == []
