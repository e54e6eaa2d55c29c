"""The pytest plugin collects scenarios only where a project asks for them."""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "tests" / "data" / "scenarios" / "valid" / "minimal.yaml"
NOT_A_SCENARIO = "users: 10\nspawn_rate: 2\nhost: https://example.com\n"
QUICK = ("-q", "-p", "no:hypothesispytest")  # that plugin's start-up is the slowest part here


def _project(pytester, ini: str = "") -> None:
    pytester.makefile(".ini", pytest=f"[pytest]\n{ini}\n")
    pytester.makepyfile(test_mine="def test_mine():\n    assert True\n")
    pytester.mkdir("scenarios")
    (pytester.path / "scenarios" / "load.yaml").write_text(NOT_A_SCENARIO)


def test_yaml_files_of_a_project_are_not_collected_without_asking(pytester):
    _project(pytester)
    result = pytester.runpytest(*QUICK)
    result.assert_outcomes(passed=1)


def test_folders_named_in_callsim_scenarios_are_collected(pytester):
    _project(pytester, "callsim_scenarios = calls")
    (pytester.path / "calls").mkdir()
    shutil.copy(SCENARIO, pytester.path / "calls" / "minimal.yaml")
    result = pytester.runpytest(*QUICK)
    result.assert_outcomes(passed=2)


def test_a_file_in_an_opted_in_folder_must_be_a_scenario(pytester):
    _project(pytester, "callsim_scenarios = scenarios")
    result = pytester.runpytest(*QUICK)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*scenarios/load.yaml*"])


def test_the_plugin_can_be_turned_off(pytester):
    _project(pytester, "callsim_scenarios = scenarios")
    result = pytester.runpytest(*QUICK, "-p", "no:callsim")
    result.assert_outcomes(passed=1)


def test_this_repository_collects_its_scenario_library():
    library = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "scenarios").rglob("*.yaml"))
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", *QUICK, "scenarios"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    collected = {line.split("::", 1)[0] for line in result.stdout.splitlines() if "::" in line}
    assert sorted(collected) == library
