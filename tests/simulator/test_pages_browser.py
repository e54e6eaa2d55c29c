"""End to end in a real headless browser: a scenario replayed over HTTP, then its record pages.

Debian's ``chromium`` driven by Playwright for Python (the system browser: Playwright downloads
none). Screenshots of a record page and of the HTML report are saved in ``test-artifacts/``.
Without chromium these tests are skipped, except in CI (``CI`` set), where they must run.
"""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

import fake_salesforce
from fake_salesforce.server import FakeServer
from simulator.report import write_reports
from simulator.runner import Runner
from simulator.scenario import parse_scenario

CHROMIUM = Path(os.environ.get("CALLSIM_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCENARIO = textwrap.dedent("""\
    name: Browser - calls on a Contact with an open Case
    description: Four calls from Alice over two months; each is related to her open Case.
    settings:
      log_on_related: case
    org:
      now: "2026-10-20T08:00:00Z"
      records:
        - {ref: acme, sobject: Account, Name: Acme Corp}
        - {ref: alice, sobject: Contact, FirstName: Alice, LastName: Martin, Phone: "+33 6 12 34 56 78",
           AccountId: "@acme"}
        - {ref: case1, sobject: Case, ContactId: "@alice", AccountId: "@acme", Status: New,
           Subject: Broken handset}
    events:
      - at: "2026-10-20T09:00:00Z"
        call: {ref: october, type: inbound_answered, external: "+33612345678", duration: 95, wait: 12,
               comments: [Wants a callback]}
      - at: "2026-11-02T09:00:00Z"
        call: {ref: missed, type: missed, external: "+33612345678"}
      - call: {ref: answered, type: inbound_answered, external: "+33612345678", duration: 30}
      - call: {ref: voicemail, type: voicemail, external: "+33612345678"}
    expect:
      timelines:
        alice: {past_activities: [october, answered], next_steps: [missed, voicemail]}
        case1: {past_activities: [october, answered], next_steps: [missed, voicemail]}
        acme: {past_activities: [october, answered], next_steps: [missed, voicemail]}
      task_count: 4
    """)


def _need_browser():
    reason = None
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "Playwright for Python is not installed (pip install -e '.[dev]')"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(f"no headless browser: {reason}")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM),
            headless=True, args=LAUNCH_ARGS, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        yield context
        context.close()


@pytest.fixture(scope="module")
def replayed():
    """The scenario replayed through the core against a server, over HTTP; the org as it left it."""
    with FakeServer() as server:
        result = Runner(server.url).run(parse_scenario(SCENARIO, "browser.yaml"))
        assert result.passed, [c for c in result.failures]
        yield server, result


@pytest.fixture
def page(browser, replayed):
    """A tab logged in to the org through its login form."""
    server, _ = replayed
    browser.clear_cookies()
    tab = browser.new_page()
    dialogs = []
    tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    tab.goto(f"{server.url}/lightning/o/Contact/list")
    assert "/login" in tab.url
    tab.fill('input[name="username"]', "admin@example.com")
    tab.fill('input[name="password"]', "password")
    tab.click('button[type="submit"]')
    tab.wait_for_url("**/lightning/o/Contact/list")
    yield tab
    assert dialogs == []    # no script ever ran
    tab.close()


def expected_timeline(server, result) -> dict[str, list[str]]:
    """Each logged call's section, order and subject, read back over the REST API: Next Steps
    soonest due first, Past Activities newest first (by due date, then the order they happened)."""
    sf = fake_salesforce.connect(server.url)
    order = {e.outcome.task_id: n for n, e in enumerate(result.events) if e.outcome and e.outcome.task_id}
    tasks = sf.query_all("SELECT Id, Subject, IsClosed, ActivityDate FROM Task")["records"]
    assert {t["Id"] for t in tasks} == set(order)
    key = lambda t: (t["ActivityDate"], order[t["Id"]])  # noqa: E731
    return {"next": [t["Subject"] for t in sorted((t for t in tasks if not t["IsClosed"]), key=key)],
            "past": [t["Subject"] for t in sorted((t for t in tasks if t["IsClosed"]), key=key, reverse=True)]}


def shown_timeline(tab) -> dict[str, list[str]]:
    return {section: tab.locator(f"#{section} li.entry .subject").all_text_contents()
            for section in ("next", "past")}


def record_id(sf, soql: str) -> str:
    return sf.query(soql)["records"][0]["Id"]


def test_each_call_is_in_its_section_in_order_with_its_subject(page, replayed):
    server, result = replayed
    sf = fake_salesforce.connect(server.url)
    expected = expected_timeline(server, result)
    assert len(expected["past"]) == 2 and len(expected["next"]) == 2
    alice = record_id(sf, "SELECT Id FROM Contact WHERE LastName = 'Martin'")
    page.goto(f"{server.url}/lightning/r/Contact/{alice}/view")
    assert page.locator("h1.record-name").inner_text() == "Alice Martin"
    assert shown_timeline(page) == expected
    assert page.locator("#past h4.month").all_text_contents() == ["November 2026", "October 2026"]
    assert page.locator("#past li.entry .kind").all_text_contents() == ["Call", "Call"]
    october = page.locator("#past li.entry").nth(1)
    assert not october.locator(".description").is_visible()
    october.locator("summary").click()
    assert "Wants a callback" in october.locator(".description").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "record-page.png"), full_page=True)


def test_a_case_task_shows_on_the_case_and_the_contact(page, replayed):
    server, result = replayed
    sf = fake_salesforce.connect(server.url)
    expected = expected_timeline(server, result)
    case = record_id(sf, "SELECT Id FROM Case WHERE Subject = 'Broken handset'")
    page.goto(f"{server.url}/lightning/r/Case/{case}/view")
    assert shown_timeline(page) == expected
    # from the Case, the Task's Name link leads to the Contact, which shows it too
    first = page.locator("#past li.entry").first
    first.locator("summary").click()
    first.get_by_role("link", name="Alice Martin").click()
    page.wait_for_url("**/lightning/r/Contact/*/view")
    assert shown_timeline(page) == expected
    acme = record_id(sf, "SELECT Id FROM Account WHERE Name = 'Acme Corp'")
    page.goto(f"{server.url}/lightning/r/Account/{acme}/view")
    assert shown_timeline(page) == expected


def test_search_finds_the_contact_by_a_differently_formatted_number(page, replayed):
    server, _ = replayed
    page.goto(f"{server.url}/lightning/o/Contact/list")
    page.fill('input[name="q"]', "+33.6.12.34.56.78")
    page.press('input[name="q"]', "Enter")
    page.wait_for_url("**q=*")
    rows = page.locator("tbody tr td:first-child a")
    assert rows.all_text_contents() == ["Alice Martin"]
    rows.first.click()
    page.wait_for_url("**/lightning/r/Contact/*/view")
    assert page.locator("h1.record-name").inner_text() == "Alice Martin"


def test_markup_in_a_record_renders_as_text(page, replayed):
    server, _ = replayed
    sf = fake_salesforce.connect(server.url)
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    contact = sf.Contact.create({"LastName": evil})["id"]
    try:
        page.goto(f"{server.url}/lightning/r/Contact/{contact}/view")
        assert page.locator("h1.record-name").inner_text() == evil
        assert page.locator("main img").count() == 0
    finally:
        sf.Contact.delete(contact)


def test_the_html_report_reads_without_a_server_and_links_records(browser, replayed, tmp_path):
    server, result = replayed
    index = [p for p in write_reports([result], tmp_path, server.url) if p.suffix == ".html"][0]
    tab = browser.new_page()
    tab.goto(index.as_uri())
    assert tab.locator("#summary").inner_text().count("1 passed, 0 failed") == 1
    snippet = tab.locator('.timeline-snippet[data-record="alice"]')
    assert snippet.locator("#past li.entry").evaluate_all("els => els.map(e => e.dataset.note)") == [
        "answered", "october"]
    assert snippet.locator("#next li.entry").evaluate_all("els => els.map(e => e.dataset.note)") == [
        "missed", "voicemail"]
    href = snippet.locator("h3 a").get_attribute("href")
    assert href.startswith(f"{server.url}/lightning/r/")
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    tab.close()
