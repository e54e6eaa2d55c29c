"""What users of a Python package expect: a licence, a changelog, types, a version."""
import tomllib
from pathlib import Path

import fake_salesforce
import simulator

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_version_comes_from_pyproject():
    assert fake_salesforce.__version__ == simulator.__version__ == PYPROJECT["project"]["version"]


def test_licence_matches_pyproject():
    assert PYPROJECT["project"]["license"] == "MIT"            # an SPDX expression (PEP 639)
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def test_changelog_has_the_current_version():
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {PYPROJECT['project']['version']}" in changelog


def test_both_packages_ship_py_typed():
    data = PYPROJECT["tool"]["setuptools"]["package-data"]
    for package in ("fake_salesforce", "simulator"):
        assert (ROOT / package / "py.typed").is_file()
        assert "py.typed" in data[package]


def test_readme_states_the_python_version():
    requires = PYPROJECT["project"]["requires-python"]
    assert requires == ">=3.11"
    assert "Python 3.11 or later" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_report_output_folders_are_ignored_but_behaviour_md_is_not():
    ignore = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "/reports/*" in ignore and "!/reports/behaviour.md" in ignore
