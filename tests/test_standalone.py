"""The repository stands alone: nothing in it refers to, or reads, a path outside it."""
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {".git", ".venv", "venv", "build", "dist", "__pycache__", ".pytest_cache", ".hypothesis",
             "node_modules", "results"}
TEXT_SUFFIXES = {".py", ".md", ".toml", ".yaml", ".yml", ".json", ".txt", ".cfg", ".ini", ".lark", ""}
# Spelled in pieces so that this file does not match itself.
OUTSIDE = [".." + "/shared", "shared" + "/reference", "shared" + "/seed", "/work" + "/"]


def project_files():
    for path in sorted(ROOT.rglob("*")):
        rel = path.relative_to(ROOT)
        if any(part in SKIP_DIRS or part.endswith(".egg-info") for part in rel.parts):
            continue
        if path.is_file() and (path.suffix in TEXT_SUFFIXES or path.parent.name == ".ci"):
            yield path, rel


def test_no_file_names_a_path_outside_the_repo():
    found = []
    for path, rel in project_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [f"{rel}: {needle}" for needle in OUTSIDE if needle in text]
    assert found == []


_UP = re.compile(r"__file__\)?\.resolve\(\)((?:\.parent)*)(?:\.parents\[(\d+)\])?((?:\.parent)*)")


def test_no_code_climbs_above_the_repo_from_its_own_file():
    found = []
    for path, rel in project_files():
        if path.suffix != ".py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for before, index, after in _UP.findall(line):
                ups = before.count(".parent") + (int(index) + 1 if index else 0) + after.count(".parent")
                # from ROOT/a/b.py, two steps up (to a/, then to ROOT) reach the root
                if ups > len(rel.parts):
                    found.append(f"{rel}:{n}: {line.strip()}")
    assert found == []


_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_markdown_links_stay_inside_the_repo_and_exist():
    found = []
    for path, rel in project_files():
        if path.suffix != ".md":
            continue
        for target in _LINK.findall(path.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target):
                continue
            resolved = (path.parent / target).resolve()
            if ROOT not in resolved.parents and resolved != ROOT:
                found.append(f"{rel}: {target} is outside the repository")
            elif not resolved.exists():
                found.append(f"{rel}: {target} does not exist")
    assert found == []


AUDIT = textwrap.dedent("""\
    import os, site, sys, sysconfig, tempfile
    root = os.path.realpath(sys.argv[1])
    # What a Python program may read besides its own files: the interpreter, its libraries,
    # system files (time zones, certificates) and temporary files.
    allowed = {root, sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
               tempfile.gettempdir(), "/usr", "/etc", "/dev", "/proc", "/sys", "/lib", "/lib64",
               *site.getsitepackages(), site.getusersitepackages(), *sysconfig.get_paths().values()}
    allowed = tuple(os.path.realpath(p) + os.sep for p in allowed if p)
    outside = []

    def hook(event, args):
        if event in ("open", "os.listdir", "os.scandir") and args and isinstance(args[0], (str, bytes, os.PathLike)):
            full = os.path.abspath(os.fsdecode(args[0])) + os.sep
            if not full.startswith(allowed):
                outside.append(f"{event} {full[:-1]}")

    sys.addaudithook(hook)
    os.chdir(root)
    from click.testing import CliRunner
    from simulator.cli import main

    codes = []
    for args in (["validate", "scenarios"], ["run", "scenarios/matching"], ["docs", "--check"]):
        codes.append(CliRunner().invoke(main, args).exit_code)
    print("CODES", codes)
    print("OUTSIDE", sorted(set(outside)))
    """)


@pytest.mark.skipif(ROOT.parent == Path(ROOT.anchor), reason="the repository sits at the file-system root")
def test_key_commands_read_nothing_beside_the_repo():
    """callsim validate, run and docs --check under an audit hook that records every file opened."""
    done = subprocess.run([sys.executable, "-c", AUDIT, str(ROOT)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "FAKE_SF_TRANSPORT": "inprocess"})
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if line.startswith(("CODES", "OUTSIDE")))
    assert "CODES" in lines, done.stdout[-2000:] + done.stderr[-2000:]
    assert lines["CODES"] == "[0, 0, 0]", done.stdout[-3000:]
    assert lines["OUTSIDE"] == "[]"
