"""The README's examples run, and every command line tool and command is documented there."""
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from fake_salesforce.cli import main as fake_main
from simulator.cli import main as callsim_main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_opens_with_the_two_commands():
    first_block = re.search(r"```bash\n(.*?)```", README, flags=re.S).group(1)
    commands = [line for line in first_block.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2
    assert commands[0].endswith("callsim run")
    assert commands[1].endswith("python -m pytest")


def test_readme_python_example_runs():
    block = next(b for b in _python_blocks() if "fake_salesforce.Org()" in b)
    code = "\n".join(line for line in block.splitlines() if "127.0.0.1" not in line)
    exec(compile(code, "README.md", "exec"), {})


def test_readme_fixture_example_is_a_working_test(sf, fake_org):
    block = next(b for b in _python_blocks() if "def test_my_integration" in b)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    namespace["test_my_integration"](sf, fake_org)


def test_readme_seed_file_seeds_an_org():
    import yaml

    import fake_salesforce

    block = re.search(r"```yaml\n(records:.*?)```", README, flags=re.S).group(1)
    org = fake_salesforce.Org()
    org.seed(yaml.safe_load(block)["records"])
    rows = fake_salesforce.connect(org).query("SELECT Email, Account.Name FROM Contact")["records"]
    assert [(r["Email"], r["Account"]["Name"]) for r in rows] == [("jean@acme.example", "Acme")]


@pytest.mark.parametrize("group, tool", [(fake_main, "fake-salesforce"), (callsim_main, "callsim")])
def test_every_command_has_help_and_is_in_the_readme(group: click.Group, tool: str):
    runner = CliRunner()
    for name, command in group.commands.items():
        assert command.help, f"{tool} {name} has no help text"
        result = runner.invoke(group, [name, "--help"])
        assert result.exit_code == 0, result.output
        assert f"{tool} {name}" in README, f"`{tool} {name}` is not documented in README.md"


def test_readme_shows_table_1_as_generated():
    behaviour = (Path(__file__).resolve().parents[1] / "reports" / "behaviour.md").read_text()
    table = re.search(r"\| call type \| `completed`.*?\n\n", behaviour, flags=re.S).group(0).strip()
    assert table in README
