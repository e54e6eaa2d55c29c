"""Every rule id of docs/rules.md has a test against the fake org in test_core_rules.py.

A test covers a rule when its name carries the id: ``test_R4_2_...`` covers R4.2.
"""
import ast
import re
from pathlib import Path

from simulator.rules import rule_ids

RULE_TESTS = Path(__file__).with_name("test_core_rules.py")


def ids_with_tests() -> set[str]:
    tree = ast.parse(RULE_TESTS.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            found.update(f"R{a}.{b}" for a, b in re.findall(r"R(\d+)_(\d+)", node.name))
    return found


def test_the_rules_file_lists_the_expected_rules():
    ids = rule_ids()
    assert len(ids) == len(set(ids)), "a rule id is listed twice"
    assert {"R1.1", "R4.3", "R8.4"} <= set(ids) and len(ids) >= 40


def test_every_rule_has_a_test():
    missing = [rule for rule in rule_ids() if rule not in ids_with_tests()]
    assert not missing, f"rules with no test in {RULE_TESTS.name}: {', '.join(missing)}"


def test_no_test_names_a_rule_that_does_not_exist():
    unknown = sorted(ids_with_tests() - set(rule_ids()))
    assert not unknown, f"tests name unknown rule ids: {', '.join(unknown)}"
