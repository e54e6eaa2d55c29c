"""The logging rules: docs/rules.md, its copy shipped in the package, and how they are parsed."""
import textwrap
from pathlib import Path

import pytest

from simulator.rules import RulesError, packaged_rules, parse_rules, read_rules, rule_ids

ROOT = Path(__file__).resolve().parents[2]


def test_the_packaged_copy_is_docs_rules_md():
    docs_copy = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert packaged_rules().read_text(encoding="utf-8") == docs_copy, (
        "simulator/rules.md differs from docs/rules.md: edit docs/rules.md, then "
        "cp docs/rules.md simulator/rules.md")


def test_the_packaged_copy_is_package_data():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"rules.md"' in pyproject.split("[tool.setuptools.package-data]")[1].split("\n[")[0]


def test_every_rule_from_R1_1_to_R8_4_once():
    ids = rule_ids()
    assert ids[0] == "R1.1" and ids[-1] == "R8.6" and len(ids) == 52
    assert len(set(ids)) == len(ids)
    sections = {rule_id.split(".")[0] for rule_id in ids}
    assert sections == {f"R{n}" for n in range(1, 9)}


def test_every_rule_names_its_source_or_why():
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    blocks = text.split("\n- R")[1:]
    assert len(blocks) == 52
    bare = [b.split()[0] for b in blocks if "  - Source:" not in b and "  - Why:" not in b]
    assert bare == []


def test_source_passages_are_not_part_of_the_rule_text():
    rules = parse_rules(textwrap.dedent("""\
        # Rules
        - R1.1 First line
          second line.
          - Source: "una frase"
            that goes on.
        - R1.2 Another.

        Prose.
        """))
    assert [(r.id, r.text) for r in rules] == [("R1.1", "First line second line."), ("R1.2", "Another.")]


def test_a_rule_id_listed_twice_is_an_error():
    with pytest.raises(RulesError, match="listed twice: R1.1"):
        parse_rules("- R1.1 a\n- R1.1 b\n")


def test_an_unreadable_rules_file_names_the_file(tmp_path):
    with pytest.raises(RulesError, match=r"cannot read the rules file .*missing\.md"):
        read_rules(tmp_path / "missing.md")
