"""Without PATHS, `callsim run` and `callsim validate` use ./scenarios, or say what to pass."""
import pytest
from click.testing import CliRunner

from simulator.cli import main


@pytest.mark.parametrize("command", ["run", "validate"])
def test_no_paths_and_no_scenarios_directory_exits_2_saying_what_to_pass(command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [command])
    assert result.exit_code == 2
    assert "no ./scenarios directory" in result.stderr
    assert "pass scenario files or directories" in result.stderr


def test_no_paths_uses_the_scenarios_directory_here(tmp_path, monkeypatch):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "one.yaml").write_text(
        "name: One call\nevents:\n  - call: {ref: c1, type: missed}\nexpect:\n  task_count: 1\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 scenario")
