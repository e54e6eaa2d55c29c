"""`callsim run --report` writes index.html, and `callsim docs` writes behaviour.html: tables with
pass/fail marks and each record's Activity timeline drawn by the record page's template."""
import textwrap

import pytest
import requests
from bs4 import BeautifulSoup
from click.testing import CliRunner

from fake_salesforce.server import FakeServer
from simulator.cli import main
from simulator.html import render_index
from simulator.runner import Runner
from simulator.scenario import parse_scenario

SCENARIO = textwrap.dedent("""\
    name: Two calls and a callback
    description: An answered call and a missed one, then an outbound call on the next day.
    covers: [R1.3, R1.4]
    org:
      records:
        - {ref: alice, sobject: Contact, FirstName: Alice, LastName: Martin, Phone: "+33 6 12 34 56 78"}
    events:
      - call: {ref: first, type: inbound_answered, external: "+33612345678", duration: 95}
      - call: {ref: missed, type: missed, external: "+33612345678"}
      - at: "2026-11-03T10:00:00Z"
        call: {ref: callback, type: outbound_answered, external: "+33612345678"}
    expect:
      timelines:
        alice: {past_activities: [first, callback], next_steps: [missed]}
      task_count: 3
    """)


@pytest.fixture(scope="module")
def results():
    runner = Runner()
    good = parse_scenario(SCENARIO, "good.yaml")
    bad = parse_scenario(SCENARIO.replace("Two calls and a callback", "<script>Broken</script>")
                         .replace("next_steps: [missed]", "next_steps: []"), "bad.yaml")
    return [runner.run(good), runner.run(bad)]


def soup_of(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def test_summary_comes_first_then_each_scenario(results):
    soup = soup_of(render_index(results))
    sections = soup.select("main > section")
    assert sections[0]["id"] == "summary"
    assert "1 passed, 1 failed (2 scenarios" in sections[0].get_text()
    marks = [td.get_text() for td in sections[0].select("tbody td:last-child")]
    assert marks == ["pass", "FAIL"]
    assert [s["data-passed"] for s in sections[1:]] == ["true", "false"]


def test_each_check_shows_expected_actual_and_its_mark(results):
    soup = soup_of(render_index(results))
    failed = soup.select("#s2 table.checks tr.failed")
    assert len(failed) == 1
    cells = [td.get_text() for td in failed[0].select("td")]
    assert cells == ["timeline", "alice", "Next Steps", "(none)", "missed", "✗ FAIL"]
    assert soup.select("#s1 table.checks tr.failed") == []


def test_each_record_timeline_is_drawn_as_the_record_page_draws_it(results):
    soup = soup_of(render_index(results))
    snippet = soup.select_one('#s1 .timeline-snippet[data-record="alice"]')
    past = [(li["data-note"], li.select_one(".subject").get_text()) for li in snippet.select("#past li.entry")]
    assert past == [("callback", "Outbound answered call to Alice Martin via Main line made by Default Agent"),
                    ("first", "Inbound answered call from Alice Martin on Main line answered by Default Agent")]
    assert [li["data-note"] for li in snippet.select("#next li.entry")] == ["missed"]
    assert [li.select_one(".duration").get_text() for li in snippet.select("#past li.entry")][1] == "1 min 35 s"
    assert soup.select_one("style").get_text().strip().startswith("/* Fake Salesforce pages")
    assert snippet.select("a") == []    # no server: nothing to link to


def test_scenario_text_is_escaped(results):
    html = render_index(results)
    assert "<script>Broken" not in html and "&lt;script&gt;Broken" in html


def test_run_with_a_server_links_records_to_their_pages(tmp_path):
    (tmp_path / "s.yaml").write_text(SCENARIO)
    out = tmp_path / "out"
    with FakeServer(pages_open=True) as server:
        result = CliRunner().invoke(main, ["run", str(tmp_path / "s.yaml"), "--server", server.url,
                                           "--report", str(out), "--keep-last"])
        assert result.exit_code == 0, result.output
        soup = soup_of((out / "index.html").read_text())
        link = soup.select_one('.timeline-snippet[data-record="alice"] h3 a')
        assert link["href"].startswith(f"{server.url}/lightning/r/003")
        page = requests.get(link["href"])     # the short record URL redirects to the record page
        assert page.status_code == 200 and "Alice Martin" in page.text
    assert f"wrote {out / 'index.html'}" in result.stderr


@pytest.mark.parametrize("flag", ["--keep-last", "--reset-ok"])
def test_server_flags_need_a_server(tmp_path, flag):
    (tmp_path / "s.yaml").write_text(SCENARIO)
    result = CliRunner().invoke(main, ["run", str(tmp_path / "s.yaml"), flag])
    assert result.exit_code == 2 and flag in result.output
    assert "only means something with --server" in result.output


def test_behaviour_html_is_written_and_checked(tmp_path):
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "s.yaml").write_text(SCENARIO)
    rules = tmp_path / "rules.md"
    rules.write_text("- R1.3 completed.\n- R1.4 in progress.\n")
    out = tmp_path / "reports"
    options = ["--out", str(out), "--scenarios", str(scenarios), "--rules", str(rules)]
    cli = CliRunner()
    assert cli.invoke(main, ["docs", *options]).exit_code == 0
    page = out / "behaviour.html"
    soup = soup_of(page.read_text())
    table_1 = soup.select_one("#table-1")
    assert table_1.select_one("tbody td code").get_text() == "outbound_answered"
    snippets = table_1.select(".timeline-snippet")
    assert len(snippets) == 2     # completed and in_progress; do_nothing logs nothing
    assert len(snippets[0].select("#past li.entry")) == 5 and len(snippets[1].select("#next li.entry")) == 5
    case = soup.select("#table-4 .timeline-snippet")
    assert [len(s.select("li.entry")) for s in case] == [1, 1]   # the Case's Task, on the Case and the Contact
    assert cli.invoke(main, ["docs", "--check", *options]).exit_code == 0
    page.write_text(page.read_text().replace("Past Activities", "Past Activity", 1))
    stale = cli.invoke(main, ["docs", "--check", *options])
    assert stale.exit_code == 1 and f"{page} is stale" in stale.stderr
