"""The fake org's web pages: login, record pages and their Activity timeline, lists, calls.

Records are made through simple-salesforce (the ``sf`` fixture); pages are fetched as a browser
would, in-process or over HTTP. Browser-driven tests are in tests/simulator/test_pages_browser.py.
"""
from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

import fake_salesforce
from fake_salesforce.client import INPROCESS_HOST

from conftest import Pages, timeline_of

NOW = "2026-11-02T09:00:00Z"


@pytest.fixture
def alice(sf, fake_org):
    fake_org.control.set_clock(NOW)
    acme = sf.Account.create({"Name": "Acme Corp"})["id"]
    contact = sf.Contact.create({"FirstName": "Alice", "LastName": "Martin", "AccountId": acme,
                                 "Phone": "+33 6 12 34 56 78"})["id"]
    case = sf.Case.create({"Subject": "Broken handset", "ContactId": contact, "AccountId": acme})["id"]
    return {"account": acme, "contact": contact, "case": case}


def call(sf, subject, due, *, closed=True, who=None, what=None, **extra):
    fields = {"Subject": subject, "ActivityDate": due, "Status": "Completed" if closed else "In Progress",
              "TaskSubtype": "Call", "Type": "Call", "CallType": "Inbound", "CallDurationInSeconds": 95,
              "CallObject": f"call-{subject}", **extra}
    if who:
        fields["WhoId"] = who
    if what:
        fields["WhatId"] = what
    return sf.Task.create(fields)["id"]


# -- login -------------------------------------------------------------------------------------


def test_pages_need_a_login(fake_org, alice):
    p = Pages(fake_org)
    response = p.get(f"/lightning/r/Contact/{alice['contact']}/view")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/lightning/r/Contact/")


def test_wrong_password_is_refused_and_right_one_goes_where_asked(fake_org, alice):
    p = Pages(fake_org)
    refused = p.login(password="wrong")
    assert refused.status_code == 401 and "check your username and password" in refused.text
    assert p.cookie is None
    target = f"/lightning/r/Contact/{alice['contact']}/view"
    accepted = p.login(target=target)
    assert accepted.status_code == 302 and accepted.headers["Location"] == target
    assert "HttpOnly" in accepted.headers["Set-Cookie"]
    assert p.soup(target).select_one("h1.record-name").get_text() == "Alice Martin"


def test_login_never_sends_you_to_another_site(fake_org):
    response = Pages(fake_org).login(target="//evil.example/")
    assert response.headers["Location"] == "/"


def test_any_user_of_the_org_can_log_in(fake_org, sf):
    fake_org.control.seed([{"sobject": "User", "password": "s3cret", "fields": {
        "Username": "sam@example.com", "LastName": "Agent", "Email": "sam@example.com", "Alias": "sam",
        "TimeZoneSidKey": "GMT", "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8",
        "LanguageLocaleKey": "en_US"}}])
    p = Pages(fake_org)
    assert p.login("sam@example.com", "s3cret").status_code == 302
    assert p.get("/").status_code == 200


def test_a_reset_ends_the_page_session(fake_org, pages, alice):
    assert pages.get("/").status_code == 200
    fake_org.control.reset()
    assert pages.get("/").status_code == 302


def test_an_api_session_opens_the_pages_through_the_front_door(fake_org, sf):
    p = Pages(fake_org)
    response = p.get(f"/secur/frontdoor.jsp?sid={sf.session_id}&retURL=/lightning/calls")
    assert response.status_code == 302 and response.headers["Location"] == "/lightning/calls"
    assert p.get("/secur/frontdoor.jsp?sid=nonsense").status_code == 401


def test_pages_are_never_cached(pages, alice):
    response = pages.get(f"/lightning/r/Contact/{alice['contact']}/view")
    assert response.headers["Cache-Control"] == "no-store"
    assert "script-src" not in response.headers["Content-Security-Policy"]  # no script at all
    assert "<script" not in response.text


def test_open_pages_take_no_login():
    org = fake_salesforce.Org()
    session = fake_salesforce.make_session(fake_salesforce.create_app(org, pages_open=True))
    response = session.get(f"https://{INPROCESS_HOST}/lightning/o/Contact/list", allow_redirects=False)
    assert response.status_code == 200 and "Contacts" in response.text


# -- record page -------------------------------------------------------------------------------


def test_record_page_shows_fields_from_describe_with_links(pages, alice):
    soup = pages.soup(f"/lightning/r/Contact/{alice['contact']}/view")
    account = soup.select_one('[data-field="AccountId"]')
    assert account.dt.get_text() == "Account"
    assert account.a["href"] == f"/lightning/r/Account/{alice['account']}/view"
    assert account.a.get_text() == "Acme Corp"
    phone = soup.select_one('[data-field="Phone"] a')
    assert phone["href"] == "tel:+33612345678" and phone.get_text() == "+33 6 12 34 56 78"
    assert soup.select_one('[data-field="OwnerId"] a').get_text() == "Admin User"


def test_record_page_lists_related_records(pages, alice):
    soup = pages.soup(f"/lightning/r/Account/{alice['account']}/view")
    contacts = soup.select_one('[data-related="Contacts"]')
    assert contacts.h2.get_text() == "Contacts (1)"
    assert contacts.select_one("tbody a")["href"] == f"/lightning/r/Contact/{alice['contact']}/view"
    assert soup.select_one('[data-related="Cases"] h2').get_text() == "Cases (1)"


def test_timeline_sections_order_and_overdue(sf, pages, alice):
    who = alice["contact"]
    call(sf, "October call", "2026-10-15", who=who)
    call(sf, "Latest call", "2026-11-02", who=who)
    call(sf, "Earlier November call", "2026-11-01", who=who)
    call(sf, "Call back later", "2026-11-05", closed=False, who=who)
    call(sf, "Call back, overdue", "2026-10-30", closed=False, who=who)
    soup = pages.soup(f"/lightning/r/Contact/{who}/view")
    assert timeline_of(soup) == {
        "next": ["Call back, overdue", "Call back later"],
        "past": ["Latest call", "Earlier November call", "October call"],
    }
    assert [h.get_text() for h in soup.select("#past h4.month")] == ["November 2026", "October 2026"]
    overdue = soup.select("#next li.entry.overdue")
    assert [li.select_one(".subject").get_text() for li in overdue] == ["Call back, overdue"]
    first = soup.select_one("#past li.entry")
    assert "call" in first["class"] and first.select_one(".kind").get_text() == "Call"
    assert first.select_one(".call-type").get_text() == "Inbound"
    assert first.select_one(".duration").get_text() == "1 min 35 s"


def test_entry_expands_to_its_description(sf, pages, alice):
    call(sf, "With notes", "2026-11-02", who=alice["contact"],
         Description="Waiting time: 12 s\nRecording: https://example.com/r/1\nComments: call back")
    soup = pages.soup(f"/lightning/r/Contact/{alice['contact']}/view")
    details = soup.select_one("li.entry details")
    assert details.summary is not None  # collapsed until clicked, no script needed
    assert details.select_one(".description").get_text() == (
        "Waiting time: 12 s\nRecording: https://example.com/r/1\nComments: call back")


def test_a_plain_task_is_not_drawn_as_a_call(sf, pages, alice):
    sf.Task.create({"Subject": "Send the quote", "WhoId": alice["contact"], "Status": "Completed",
                    "ActivityDate": "2026-11-01"})
    entry = pages.soup(f"/lightning/r/Contact/{alice['contact']}/view").select_one("li.entry")
    assert "task" in entry["class"] and entry.select_one(".kind").get_text() == "Task"


def test_a_case_task_shows_on_the_case_the_contact_and_the_account(sf, pages, alice):
    call(sf, "About the handset", "2026-11-02", who=alice["contact"], what=alice["case"])
    for sobject, key in (("Case", "case"), ("Contact", "contact"), ("Account", "account")):
        soup = pages.soup(f"/lightning/r/{sobject}/{alice[key]}/view")
        assert timeline_of(soup)["past"] == ["About the handset"], sobject


def test_timeline_is_paged(sf, pages, alice):
    for day in range(1, 16):
        call(sf, f"Call {day:02d}", f"2026-10-{day:02d}", who=alice["contact"])
    path = f"/lightning/r/Contact/{alice['contact']}/view"
    soup = pages.soup(path)
    assert len(timeline_of(soup)["past"]) == 10
    assert soup.select_one("#past h3 .count").get_text() == "(15)"
    more = soup.select_one("#past a.more")
    assert "5 not shown" in more.get_text()
    assert timeline_of(pages.soup(more["href"].split("#")[0]))["past"] == [
        f"Call {d:02d}" for d in range(15, 0, -1)]


def test_person_account_shows_as_one_record(sf, pages, fake_org):
    info = fake_org.control.info()
    account = sf.Account.create({"FirstName": "Jane", "LastName": "Doe", "PersonMobilePhone": "+1 415 555 0100",
                                 "RecordTypeId": info["person_account_record_type_id"]})["id"]
    person_contact = sf.Account.get(account)["PersonContactId"]
    call(sf, "Person call", "2026-11-02", who=person_contact, what=account)
    redirect = pages.get(f"/lightning/r/Contact/{person_contact}/view")
    assert redirect.status_code == 302 and redirect.headers["Location"] == f"/lightning/r/Account/{account}/view"
    soup = pages.soup(f"/lightning/r/Account/{account}/view")
    assert soup.select_one(".object-label").get_text() == "Person Account"
    assert soup.select_one('[data-field="PersonMobilePhone"] dd').get_text() == "+1 415 555 0100"
    assert soup.select_one('[data-field="AccountNumber"]') is None   # business-only field
    assert soup.select_one('[data-related="Contacts"]') is None
    assert timeline_of(soup)["past"] == ["Person call"]


def test_unknown_records_and_objects_are_html_errors(pages):
    response = pages.get("/lightning/r/Contact/003000000000000AAA/view")
    assert response.status_code == 404 and response.headers["Content-Type"].startswith("text/html")
    response = pages.get("/lightning/o/Spaceship/list")
    assert response.status_code == 404 and "No object named" in response.text
    # the API keeps answering JSON
    assert pages.get("/services/data/v59.0/nope").headers["Content-Type"].startswith("application/json")


def test_query_parameters_named_like_the_path_are_harmless(pages, alice):
    response = pages.get(f"/lightning/r/contact/{alice['contact']}/view?sobject=x&record_id=y")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/lightning/r/Contact/{alice['contact']}/view")
    assert pages.get("/lightning/o/contact/list?sobject=Lead").status_code == 302


def test_short_record_url_redirects_to_the_full_one(pages, alice):
    response = pages.get(f"/lightning/r/{alice['case']}/view")
    assert response.headers["Location"] == f"/lightning/r/Case/{alice['case']}/view"


# -- escaping ----------------------------------------------------------------------------------


def test_markup_in_data_renders_as_text(sf, pages):
    evil = "<script>alert(1)</script>"
    account = sf.Account.create({"Name": evil, "Website": "javascript:alert(1)", "Description": evil})["id"]
    contact = sf.Contact.create({"LastName": evil, "AccountId": account})["id"]
    call(sf, evil, "2026-11-02", who=contact, Description=f"</details>{evil}")
    for path in (f"/lightning/r/Account/{account}/view", f"/lightning/r/Contact/{contact}/view",
                 "/lightning/o/Contact/list", "/lightning/o/Account/list?q=script", "/lightning/calls", "/"):
        response = pages.get(path)
        assert response.status_code == 200, path
        assert "<script" not in response.text, path
        assert "&lt;script&gt;" in response.text, path
    soup = pages.soup(f"/lightning/r/Account/{account}/view")
    assert soup.select_one("h1.record-name").get_text() == evil
    assert soup.select_one('[data-field="Website"] a') is None    # not a link: not http(s)


# -- lists and search --------------------------------------------------------------------------


def test_search_finds_a_contact_by_a_differently_formatted_number(pages, alice):
    soup = pages.soup("/lightning/o/Contact/list?q=%2B33612345678")
    assert [a.get_text() for a in soup.select("tbody tr td:first-child a")] == ["Alice Martin"]
    assert "phone fields" in soup.select_one("p.hint").get_text()


def test_search_by_name_and_its_errors(pages, alice):
    soup = pages.soup("/lightning/o/Contact/list?q=alice")
    assert [a.get_text() for a in soup.select("tbody tr td:first-child a")] == ["Alice Martin"]
    assert pages.soup("/lightning/o/Contact/list?q=nobody").select("tbody tr") == []
    response = pages.get("/lightning/o/Contact/list?q=a")
    assert response.status_code == 400 and "longer than one character" in response.text


def test_list_sorts_and_pages(sf, pages):
    for n in range(30):
        sf.Lead.create({"LastName": f"Lead {n:02d}", "Company": "Stone Ltd"})
    first = pages.soup("/lightning/o/Lead/list?sort=Name&dir=asc")
    names = [a.get_text() for a in first.select("tbody tr td:first-child a")]
    assert names == [f"Lead {n:02d}" for n in range(25)]
    second = pages.soup(first.select_one('a[rel="next"]')["href"].replace("?", "/lightning/o/Lead/list?", 1))
    assert [a.get_text() for a in second.select("tbody tr td:first-child a")] == [f"Lead {n:02d}" for n in range(25, 30)]
    descending = pages.soup("/lightning/o/Lead/list?sort=Name&dir=desc")
    assert descending.select_one("tbody tr td:first-child a").get_text() == "Lead 29"
    response = pages.get("/lightning/o/Lead/list?sort=Password")
    assert response.status_code == 400 and "cannot sort by" in response.text


# -- calls and home ----------------------------------------------------------------------------


def test_calls_page_filters_by_call_type_and_result(sf, pages, alice):
    call(sf, "Incoming", "2026-11-01", who=alice["contact"], CallDisposition="Answered")
    call(sf, "Outgoing", "2026-11-02", who=alice["contact"], CallType="Outbound", CallDisposition="No answer")
    sf.Task.create({"Subject": "Not a call", "WhoId": alice["contact"], "Status": "Completed"})
    subjects = lambda soup: [a.get_text() for a in soup.select("tbody tr td:first-child a")]  # noqa: E731
    assert subjects(pages.soup("/lightning/calls")) == ["Outgoing", "Incoming"]
    assert subjects(pages.soup("/lightning/calls?type=Inbound")) == ["Incoming"]
    assert subjects(pages.soup("/lightning/calls?result=No+answer")) == ["Outgoing"]
    soup = pages.soup("/lightning/calls")
    assert [o.get_text() for o in soup.select('select[name="result"] option')] == ["All", "Answered", "No answer"]
    row = soup.select_one("tbody tr")
    assert row.select("td a")[1]["href"] == f"/lightning/r/Contact/{alice['contact']}/view"
    response = pages.get("/lightning/calls?type=Carrier+pigeon")
    assert response.status_code == 400 and "type must be one of" in response.text


def test_home_counts_records_and_shows_latest_tasks(sf, pages, alice):
    call(sf, "Hello", "2026-11-02", who=alice["contact"])
    soup = BeautifulSoup(pages.get("/").text, "html.parser")
    counts = {tr.td.get_text(): tr.select_one(".num").get_text() for tr in soup.select("tbody tr")}
    assert counts["Contacts"] == "1" and counts["Tasks"] == "1"
    assert [a.get_text() for a in soup.select("ol.latest a")] == ["Hello"]
