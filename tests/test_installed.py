"""A plain, non-editable `pip install .` works: the rules ship inside the package, and the
commands need nothing from the checkout.

The package is built from a copy of the sources (so the checkout gets no build/ or egg-info)
and installed with `pip install --no-deps --target` into a temporary directory, which is put
first on PYTHONPATH; the dependencies come from the running environment. Commands then run in
an empty directory.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.rules import packaged_rules, read_rules

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "fake_salesforce", "simulator")


def test_the_rules_are_looked_up_inside_the_package():
    path = Path(str(packaged_rules()))
    assert path.parent == ROOT / "simulator" and path.name == "rules.md"
    ids = [r.id for r in read_rules()]
    assert ids[0] == "R1.1" and "R8.4" in ids


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("install")
    src = base / "src"
    src.mkdir()
    for name in SOURCES:
        item = ROOT / name
        if item.is_dir():
            shutil.copytree(item, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(item, src / name)
    target = base / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--target", str(target), str(src)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    empty = base / "empty"
    empty.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    return target, empty, env


def _callsim(installed, *args):
    target, empty, env = installed
    code = "import sys; from simulator.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=empty, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_installed_package_holds_its_rules_and_types(installed):
    target, empty, env = installed
    for name in ("simulator/rules.md", "simulator/py.typed", "fake_salesforce/py.typed"):
        assert (target / name).is_file(), name
    where = subprocess.run([sys.executable, "-c", "import simulator, fake_salesforce; "
                            "print(simulator.__file__); print(simulator.__version__)"],
                           cwd=empty, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert Path(where[0]).parent == target / "simulator"
    assert where[1] != "0+unknown"


def test_installed_callsim_run_without_scenarios_says_what_to_pass(installed):
    done = _callsim(installed, "run")
    assert done.returncode == 2
    assert "no ./scenarios directory" in done.stderr and "pass scenario files or directories" in done.stderr


def test_installed_callsim_docs_finds_its_rules(installed):
    target, empty, _ = installed
    done = _callsim(installed, "docs", "--out", "out")
    assert done.returncode == 0, done.stderr[-2000:]
    text = (empty / "out" / "behaviour.md").read_text()
    last = read_rules()[-1]
    assert f"| {last.id} | {last.text} |" in text
