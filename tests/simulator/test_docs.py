"""`callsim docs`: behaviour tables built by running the logging core, and the --check gate."""
import textwrap

import pytest
from click.testing import CliRunner

from simulator import docs
from simulator.cli import main
from simulator.rules import RulesError, read_rules
from simulator.core import matching
from simulator.runner import Runner

RULES = textwrap.dedent("""\
    # Call-logging rules

    ## R1 Call types
    - R1.3 `completed` logs a Task with Status `Completed`;
      it shows under **Past Activities**.
    - R1.4 `in_progress` logs a Task with Status `In Progress`.

    Not a rule line.
    - R4.2 Priority: Contact, then Lead.
    """)
SCENARIO = textwrap.dedent("""\
    name: Completed call in Past Activities
    covers: [R1.3]
    org:
      records:
        - {ref: alice, sobject: Contact, LastName: Martin, Phone: "+33612345678"}
    events:
      - call: {ref: c1, type: inbound_answered, external: "+33 6 12 34 56 78"}
    expect:
      timelines:
        alice: {past_activities: [c1]}
    """)


@pytest.fixture(scope="module")
def runner():
    return Runner()


@pytest.fixture
def library(tmp_path):
    """A one-scenario library and a small rules file: table 8 stays quick and stable."""
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "completed.yaml").write_text(SCENARIO)
    rules = tmp_path / "logging-rules.md"
    rules.write_text(RULES)
    return scenarios, rules


def _winner(table: docs.Table, *owners: str) -> str:
    wanted = ["yes" if kind in owners else "" for kind in docs.KINDS]
    return next(row[-1] for row in table.rows if row[:-1] == wanted)


def test_table_2_is_read_from_the_core_not_from_the_rules(runner, monkeypatch):
    before = docs.record_priority(docs.Lab(runner))
    assert len(before.rows) == 15
    assert _winner(before, "Contact", "Lead") == "Contact Alice Martin"
    assert _winner(before, "Account", "PersonAccount") == "Account Acme Corp"

    monkeypatch.setattr(matching, "PRIORITY", ("Lead", "Contact", "Account", "PersonAccount"))
    after = docs.record_priority(docs.Lab(runner))
    assert _winner(after, "Contact", "Lead") == "Lead Bob Stone"
    assert _winner(after, "Contact", "Lead", "Account", "PersonAccount") == "Lead Bob Stone"
    assert _winner(after, "Contact", "Account") == "Contact Alice Martin"


def test_table_1_as_markdown_for_the_readme(runner):
    text = docs.call_workflow_markdown(runner)
    assert text.startswith("Rules: R1.1 to R1.5.")
    assert "| `missed` | Past Activities, Status Completed | Next Steps, Status In Progress " \
           "| not logged (R1.5) |" in text
    assert text.count("\n| `") == 5


def test_docs_writes_then_check_passes_and_fails_when_stale(library, tmp_path):
    scenarios, rules = library
    out = tmp_path / "reports"
    options = ["--out", str(out), "--scenarios", str(scenarios), "--rules", str(rules)]
    cli = CliRunner()

    written = cli.invoke(main, ["docs", *options])
    assert written.exit_code == 0, written.output
    report = out / "behaviour.md"
    assert "table 8/8: rule coverage" in written.stderr
    assert f"wrote {report}" in written.stderr

    fresh = cli.invoke(main, ["docs", "--check", *options])
    assert fresh.exit_code == 0, fresh.output
    assert "up to date" in fresh.stderr

    text = report.read_text()
    row = "| yes |  |  |  | Contact Alice Martin |"
    assert row in text
    report.write_text(text.replace(row, "| yes |  |  |  | Lead Bob Stone |"))
    stale = cli.invoke(main, ["docs", "--check", *options])
    assert stale.exit_code == 1
    assert f"{report} is stale" in stale.stderr
    assert "-| yes |  |  |  | Lead Bob Stone |" in stale.stdout
    assert "+| yes |  |  |  | Contact Alice Martin |" in stale.stdout
    assert report.read_text() != text  # --check never writes

    report.unlink()
    missing = cli.invoke(main, ["docs", "--check", *options])
    assert missing.exit_code == 1
    assert "does not exist" in missing.output


def test_generation_is_deterministic(library, runner):
    scenarios, rules = library
    first = docs.generate(runner, scenarios_dir=scenarios, rules_file=rules)
    second = docs.generate(Runner(), scenarios_dir=scenarios, rules_file=rules)
    assert first == second
    assert str(scenarios.parent) not in first  # no machine-specific paths


def test_rule_coverage_cites_scenarios_and_their_result(library, runner, tmp_path):
    scenarios, rules = library
    failing = SCENARIO.replace("Completed call", "Broken expectation").replace(
        "past_activities: [c1]", "next_steps: [c1]")
    (scenarios / "failing.yaml").write_text(failing)
    (scenarios / "invalid.yaml").write_text("name: x\nevents: 3\n")
    table = docs.rule_coverage(docs.Lab(runner), scenarios, rules)
    rows = {row[0]: row for row in table.rows}
    assert list(rows) == ["R1.3", "R1.4", "R4.2"]
    assert rows["R1.3"][1] == ("`completed` logs a Task with Status `Completed`; "
                               "it shows under **Past Activities**.")
    assert rows["R1.3"][2] == "`scenarios/completed.yaml`, `scenarios/failing.yaml`"
    assert rows["R1.3"][3] == "**FAIL**: 1 of 2 fail"
    assert rows["R1.4"][2:] == ["", "no scenario"]
    body = table.body()
    assert "`scenarios/failing.yaml`: alice Past Activities" in body
    assert "`scenarios/invalid.yaml`" in body


def test_a_rule_id_cited_but_not_in_the_rules_is_an_error_not_a_placeholder(library, runner):
    scenarios, rules = library
    # R8.4 is a rule of docs/rules.md (so the scenario is valid) but not of this rules file
    (scenarios / "completed.yaml").write_text(SCENARIO.replace("[R1.3]", "[R1.3, R8.4]"))
    with pytest.raises(docs.DocsError, match=r"not in the rules file: R8\.4 \(scenarios/completed.yaml\)"):
        docs.rule_coverage(docs.Lab(runner), scenarios, rules)


def test_a_missing_rules_file_is_an_error(library, runner, tmp_path):
    scenarios, _ = library
    with pytest.raises(docs.DocsError, match="cannot read the rules file .*nowhere.md"):
        docs.rule_coverage(docs.Lab(runner), scenarios, tmp_path / "nowhere.md")


def test_callsim_docs_exits_2_when_its_rules_cannot_be_read(library, tmp_path):
    scenarios, _ = library
    result = CliRunner().invoke(main, ["docs", "--out", str(tmp_path / "out"), "--scenarios", str(scenarios),
                                       "--rules", str(tmp_path / "nowhere.md")])
    assert result.exit_code == 2, result.output
    assert "cannot read the rules file" in result.stderr and "nowhere.md" in result.stderr
    assert not (tmp_path / "out").exists()


def test_table_8_reads_the_packaged_rules_by_default(library, runner, tmp_path, monkeypatch):
    """No rules file given: the rules come from inside the package, wherever the command runs."""
    scenarios, _ = library
    monkeypatch.chdir(tmp_path)
    table = docs.rule_coverage(docs.Lab(runner), scenarios)
    assert [row[:2] for row in table.rows] == [[rule.id, rule.text] for rule in read_rules()]
    assert len(table.rows) == 52


def test_read_rules_rejects_a_file_without_rules(tmp_path):
    empty = tmp_path / "rules.md"
    empty.write_text("# nothing here\n")
    with pytest.raises(RulesError, match="no rule bullets"):
        read_rules(empty)


def test_cells_are_one_line_and_escape_pipes():
    table = docs.markdown_table(["a", "b"], [["x | y", "one\ntwo"], [None, ""]])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| x \\| y | one<br>two |", "| (none) |  |"]


def test_callsim_docs_exits_2_naming_an_out_folder_it_cannot_create(library, tmp_path):
    scenarios, rules = library
    (tmp_path / "file").write_text("")
    result = CliRunner().invoke(main, ["docs", "--out", str(tmp_path / "file" / "out"), "--scenarios", str(scenarios),
                                       "--rules", str(rules)])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert f"Invalid value for --out: cannot create {tmp_path / 'file' / 'out'}: Not a directory" in result.output


def test_callsim_docs_refuses_a_scenarios_folder_that_does_not_exist(tmp_path):
    result = CliRunner().invoke(main, ["docs", "--check", "--scenarios", str(tmp_path / "nowhere")])
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--scenarios'" in result.output and "does not exist" in result.output
