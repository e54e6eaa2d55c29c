"""Every rule of docs/rules.md, through simple-salesforce against the fake org.

Each test's name carries the rule ids it checks (``test_R4_2_...``);
``test_core_rules_index.py`` fails when a rule id has no test here.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import requests

from simulator.core import (CallLogger, InvalidEvent, RetryPolicy, SalesforceUnavailable,
                            SalesforceWriteError, Settings, log_event)
from simulator.aircall import aircall_contact, call_webhook, message_webhook
from simulator.core import parse_webhook, state

PHONE = "+33 6 12 34 56 78"
E164 = "+33612345678"
TASK_FIELDS = ("Id, Subject, Status, IsClosed, WhoId, WhatId, OwnerId, CallType, ActivityDate, "
               "CallDurationInSeconds, Description, Type, TaskSubtype, Priority, CallObject")
NOW = "2026-11-02T09:00:00Z"
USER = {"id": 456, "name": "Madelaine Dupont", "email": "madelaine.dupont@example.com"}


# -- helpers ---------------------------------------------------------------------------------

@pytest.fixture
def org(fake_org):
    fake_org.control.set_clock(NOW)
    return fake_org


def logger(sf, **settings) -> CallLogger:
    return CallLogger(sf, Settings.from_dict(settings), retry=RetryPolicy(attempts=3, base_delay=0))


def seed(org, sobject, **fields) -> str:
    return org.control.seed(sobject, [fields])[0]


def seed_user(org, email, first="Sam", last="Agent", active=True) -> str:
    alias = email.split("@")[0][:8]
    return seed(org, "User", Username=f"{alias}.{last.lower()}@users.example", FirstName=first,
                LastName=last, Email=email, Alias=alias, IsActive=active,
                TimeZoneSidKey="Europe/Paris", LocaleSidKey="fr_FR", EmailEncodingKey="UTF-8",
                LanguageLocaleKey="fr")


def tasks(sf) -> list[dict]:
    return sf.query_all(f"SELECT {TASK_FIELDS} FROM Task")["records"]


def only_task(sf) -> dict:
    found = tasks(sf)
    assert len(found) == 1, found
    return found[0]


def ids(sf, sobject, where="") -> list[str]:
    return [r["Id"] for r in sf.query_all(f"SELECT Id FROM {sobject} {where}")["records"]]


def writes(org) -> list[dict]:
    """Requests that could have changed the org (the login is made before clear_requests)."""
    return [r for r in org.control.requests()
            if r["method"] in ("POST", "PATCH", "PUT", "DELETE") and "/services/data/" in r["path"]]


def visible(description: str) -> str:
    """A call Task's Description without its last line, the core's record of the call."""
    text, logged = state.split(description)
    assert logged is not None, description
    return text


def api_requests(org) -> list[dict]:
    return [r for r in org.control.requests() if "/services/data/" in r["path"]]


def contact(org, **fields) -> str:
    return seed(org, "Contact", **{"LastName": "Martin", "FirstName": "Jean", "Phone": PHONE, **fields})


class Faults:
    """Makes chosen HTTP requests of one simple-salesforce client fail, as a flaky network or
    a busy org would."""

    def __init__(self, sf):
        self.plan: list[tuple[str, str, str]] = []
        self.hits = 0
        self.original = sf.session.request
        sf.session.request = self._request

    def add(self, method: str, path_part: str, kind: str, times: int = 1) -> "Faults":
        self.plan.extend([(method, path_part, kind)] * times)
        return self

    def _request(self, method, url, **kwargs):
        for index, (m, part, kind) in enumerate(self.plan):
            if m == method and part in url:
                del self.plan[index]
                self.hits += 1
                return self._fail(kind, method, url, **kwargs)
        return self.original(method, url, **kwargs)

    def _fail(self, kind, method, url, **kwargs):
        if kind == "drop":           # connection lost before the request reached the org
            raise requests.ConnectionError("connection reset by peer")
        if kind == "lost":           # the org did the work; its answer was lost
            self.original(method, url, **kwargs)
            raise requests.ConnectionError("connection reset after sending")
        status, body = {
            "503": (503, [{"errorCode": "SERVER_UNAVAILABLE", "message": "try later"}]),
            "lock": (400, [{"errorCode": "UNABLE_TO_LOCK_ROW",
                            "message": "unable to obtain exclusive access to this record"}]),
            "reject": (400, [{"errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                              "message": "Tasks need a reason", "fields": []}]),
        }[kind]
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = url
        return response


# -- R1 call types and workflow --------------------------------------------------------------

@pytest.mark.parametrize("kwargs, call_type, subject", [
    ({"direction": "outbound"}, "outbound_answered",
     "Outbound answered call to Jean Martin via Paris Support made by Madelaine Dupont"),
    ({"direction": "outbound", "answered": False}, "outbound_unanswered",
     "Outbound unanswered call via Paris Support made by Madelaine Dupont to Jean Martin"),
    ({}, "inbound_answered",
     "Inbound answered call from Jean Martin on Paris Support answered by Madelaine Dupont"),
    ({"answered": False}, "missed", "Missed call from Jean Martin on Paris Support"),
    ({"answered": False, "voicemail": "https://vm.example/1"}, "voicemail",
     "Voicemail from Jean Martin on Paris Support"),
])
def test_R1_1_R6_4_each_call_type_gets_its_subject(org, sf, kwargs, call_type, subject):
    contact(org)
    outcome = logger(sf).handle(call_webhook(**kwargs))
    assert outcome.logged and outcome.call_type == call_type
    assert only_task(sf)["Subject"] == subject


def test_R1_2_each_call_type_follows_its_own_action(org, sf):
    contact(org)
    log = logger(sf, call_workflow={"outbound_answered": "in_progress", "missed": "completed",
                                    "voicemail": "do_nothing", "inbound_answered": "completed",
                                    "outbound_unanswered": "in_progress"})
    log.handle(call_webhook(call_id=1, direction="outbound"))
    log.handle(call_webhook(call_id=2, answered=False))
    log.handle(call_webhook(call_id=3, answered=False, voicemail="https://vm"))
    log.handle(call_webhook(call_id=4))
    log.handle(call_webhook(call_id=5, direction="outbound", answered=False))
    status = {t["CallObject"]: t["Status"] for t in tasks(sf)}
    assert status == {"1": "In Progress", "2": "Completed", "4": "Completed", "5": "In Progress"}


def test_R1_3_completed_is_a_past_activity(org, sf):
    contact(org)
    logger(sf, call_workflow={"missed": "completed"}).handle(call_webhook(answered=False))
    task = only_task(sf)
    assert task["Status"] == "Completed" and task["IsClosed"] is True


def test_R1_4_in_progress_is_a_next_step(org, sf):
    contact(org)
    outcome = logger(sf).handle(call_webhook(answered=False))  # missed: in_progress by default
    task = only_task(sf)
    assert task["Status"] == "In Progress" and task["IsClosed"] is False
    assert outcome.status == "In Progress"


def test_R1_5_do_nothing_writes_nothing_at_all(org, sf):
    org.control.clear_requests()
    outcome = logger(sf, unknown_number="create_contact",
                     call_workflow={"inbound_answered": "do_nothing"}).handle(call_webhook())
    # one read: whether an earlier event of the call already logged a Task to complete (R8.6)
    assert (outcome.logged, outcome.rule, outcome.requests) == (False, "R1.5", 1)
    assert [r["method"] for r in api_requests(org)] == ["GET"]
    assert ids(sf, "Task") == [] and ids(sf, "Contact") == []


# -- R2 business hours -----------------------------------------------------------------------

def test_R2_1_log_when_closed_chooses_whether_closed_calls_are_logged(org, sf):
    contact(org)
    only_open = logger(sf, log_when_closed=False)
    assert only_open.handle(call_webhook(call_id=1, number_open=False)).logged is False
    assert only_open.handle(call_webhook(call_id=2, number_open=True)).logged is True
    assert logger(sf, log_when_closed=True).handle(call_webhook(call_id=3, number_open=False)).logged
    assert sorted(t["CallObject"] for t in tasks(sf)) == ["2", "3"]


def test_R2_2_a_closed_call_creates_no_record_either(org, sf):
    org.control.clear_requests()
    outcome = logger(sf, log_when_closed=False, unknown_number="create_lead").handle(
        call_webhook(number_open=False))
    assert (outcome.logged, outcome.rule) == (False, "R2.2")
    assert writes(org) == [] and ids(sf, "Lead") == [] and ids(sf, "Task") == []


def test_R2_3_R7_2_messages_are_logged_whatever_the_hours(org, sf):
    contact(org)
    closed_number = {"id": 1, "name": "Paris Support", "digits": "+33 1 76 36 06 95",
                     "country": "FR", "time_zone": "Europe/Paris", "open": False}
    outcome = logger(sf, log_when_closed=False).handle(message_webhook(number=closed_number))
    assert outcome.logged and only_task(sf)["Subject"] == "SMS received from Jean Martin to Paris Support"


@pytest.mark.parametrize("kwargs", [
    {"number_open": False},
    {"answered": False, "missed_call_reason": "out_of_opening_hours", "number_open": True},
])
def test_R2_4_closed_means_number_closed_or_out_of_hours(org, sf, kwargs):
    contact(org)
    log = logger(sf, log_when_closed=False)
    assert log.handle(call_webhook(call_id=1, **kwargs)).rule == "R2.2"
    assert log.handle(call_webhook(call_id=2, answered=False,
                                   missed_call_reason="agents_did_not_answer")).logged
    assert [t["CallObject"] for t in tasks(sf)] == ["2"]


# -- R3 unknown numbers ----------------------------------------------------------------------

@pytest.mark.parametrize("setting, sobject", [
    ("create_contact", "Contact"), ("create_lead", "Lead"), ("create_account", "Account"),
])
def test_R3_1_unknown_number_creates_the_chosen_record(org, sf, setting, sobject):
    outcome = logger(sf, unknown_number=setting).handle(call_webhook())
    assert outcome.logged and outcome.record.sobject == sobject and outcome.record.created
    assert ids(sf, sobject) == [outcome.record.id]
    others = {"Contact", "Lead", "Account"} - {sobject}
    assert all(ids(sf, o) == [] for o in others)


def test_R3_2_created_record_carries_the_aircall_contact_details(org, sf):
    hook = call_webhook(contact=aircall_contact("Jean", "Martin", "Acme SAS", "jean@acme.example"))
    outcome = logger(sf, unknown_number="create_lead").handle(hook)
    lead = sf.Lead.get(outcome.record.id)
    assert (lead["FirstName"], lead["LastName"], lead["Email"], lead["Phone"], lead["Company"]) == (
        "Jean", "Martin", "jean@acme.example", E164, "Acme SAS")
    outcome = logger(sf, unknown_number="create_contact").handle(call_webhook(
        call_id=2, external="+33 7 00 00 00 01", contact=aircall_contact("Ann", "Lee", email="ann@x.example")))
    created = sf.Contact.get(outcome.record.id)
    assert (created["FirstName"], created["LastName"], created["Email"], created["Phone"]) == (
        "Ann", "Lee", "ann@x.example", "+33700000001")


@pytest.mark.parametrize("setting, sobject, expected", [
    ("create_contact", "Contact", {"LastName": E164, "FirstName": None, "Phone": E164}),
    ("create_lead", "Lead", {"LastName": E164, "Company": "[not provided]", "Phone": E164}),
    ("create_account", "Account", {"Name": E164, "Phone": E164}),
])
def test_R3_3_missing_details_fall_back_to_the_number(org, sf, setting, sobject, expected):
    # The caller's number arrives in national form: Phone is still stored in E.164.
    outcome = logger(sf, unknown_number=setting).handle(call_webhook(external="06 12 34 56 78", contact=None))
    record = getattr(sf, sobject).get(outcome.record.id)
    assert {k: record[k] for k in expected} == expected


def test_R3_4_the_call_is_logged_on_the_created_record(org, sf):
    hook = call_webhook(contact=aircall_contact("Jean", "Martin"))
    outcome = logger(sf, unknown_number="create_contact").handle(hook)
    task = only_task(sf)
    assert task["WhoId"] == outcome.record.id
    assert task["Subject"] == "Inbound answered call from Jean Martin on Paris Support answered by Madelaine Dupont"
    account = logger(sf, unknown_number="create_account").handle(call_webhook(
        call_id=2, external="+33 7 00 00 00 02", contact=aircall_contact(company="Lee Ltd")))
    assert sf.Task.get(account.task_id)["WhatId"] == account.record.id


def test_R3_5_unknown_number_with_do_nothing_is_not_logged(org, sf):
    org.control.clear_requests()
    outcome = logger(sf, unknown_number="do_nothing").handle(call_webhook())
    assert (outcome.logged, outcome.rule) == (False, "R3.5")
    assert writes(org) == [] and ids(sf, "Task") == []


def test_R3_6_anonymous_callers_never_match_nor_create(org, sf):
    contact(org)
    org.control.clear_requests()
    outcome = logger(sf, unknown_number="create_contact").handle(call_webhook(external="anonymous"))
    assert (outcome.logged, outcome.rule, outcome.requests) == (False, "R3.6", 0)
    assert api_requests(org) == []
    assert len(ids(sf, "Contact")) == 1 and ids(sf, "Task") == []


# -- R4 existing numbers ---------------------------------------------------------------------

@pytest.mark.parametrize("sobject, fields, who, what", [
    ("Contact", {"LastName": "Martin", "Phone": PHONE}, "self", None),
    ("Lead", {"LastName": "Stone", "Company": "Acme", "MobilePhone": PHONE}, "self", None),
    ("Account", {"Name": "Acme", "Phone": PHONE}, None, "self"),
    ("PersonAccount", {"FirstName": "Jane", "LastName": "Doe", "PersonMobilePhone": PHONE}, "person", "self"),
])
def test_R4_1_R6_1_logged_on_the_record_owning_the_number(org, sf, sobject, fields, who, what):
    record_id = seed(org, sobject, **fields)
    outcome = logger(sf).handle(call_webhook())
    assert outcome.record.id == record_id and outcome.record.kind == sobject
    task = only_task(sf)
    person_contact = (sf.Account.get(record_id)["PersonContactId"] if sobject == "PersonAccount" else None)
    assert task["WhoId"] == {"self": record_id, "person": person_contact, None: None}[who]
    assert task["WhatId"] == {"self": record_id, None: None}[what]


ALL_FOUR = ("Contact", "Lead", "Account", "PersonAccount")


@pytest.mark.parametrize("present, winner", [
    (ALL_FOUR, "Contact"),
    (("Lead", "Account", "PersonAccount"), "Lead"),
    (("Account", "PersonAccount"), "Account"),
    (("PersonAccount",), "PersonAccount"),
    (("PersonAccount", "Lead"), "Lead"),
])
def test_R4_2_priority_contact_lead_account_person_account(org, sf, present, winner):
    made = {}
    # Created in priority order: the winner is the least recently updated, so recency alone
    # cannot make it win.
    for kind in ALL_FOUR:
        if kind not in present:
            continue
        fields = {"Contact": {"LastName": "C", "Phone": PHONE},
                  "Lead": {"LastName": "L", "Company": "X", "Phone": PHONE},
                  "Account": {"Name": "A", "Phone": PHONE},
                  "PersonAccount": {"LastName": "P", "PersonHomePhone": PHONE}}[kind]
        made[kind] = seed(org, kind, LastModifiedDate=f"2026-0{len(made) + 1}-01T00:00:00Z", **fields)
    outcome = logger(sf).handle(call_webhook())
    assert (outcome.record.kind, outcome.record.id) == (winner, made[winner])


def test_R4_2_a_person_accounts_hidden_contact_is_not_a_contact(org, sf):
    person = seed(org, "PersonAccount", LastName="Doe", PersonMobilePhone=PHONE,
                  LastModifiedDate="2026-10-01T00:00:00Z")
    seed(org, "Account", Name="Acme", Phone=PHONE, LastModifiedDate="2026-01-01T00:00:00Z")
    outcome = logger(sf).handle(call_webhook())
    assert outcome.record.kind == "Account" and outcome.record.id != person


def test_R4_3_same_type_first_returned_wins_most_recently_updated(org, sf):
    old = contact(org, LastName="Old", LastModifiedDate="2026-01-01T00:00:00Z")
    new = contact(org, LastName="New", LastModifiedDate="2026-06-01T00:00:00Z")
    log = logger(sf)
    assert log.handle(call_webhook(call_id=1)).record.id == new
    org.control.advance(60)
    sf.Contact.update(old, {"Title": "CEO"})  # now the most recently updated
    assert log.handle(call_webhook(call_id=2)).record.id == old


@pytest.mark.parametrize("sobject, field", [
    ("Contact", "Phone"), ("Contact", "MobilePhone"), ("Contact", "HomePhone"),
    ("Contact", "OtherPhone"), ("Contact", "AssistantPhone"),
    ("Lead", "Phone"), ("Lead", "MobilePhone"), ("Account", "Phone"),
    ("PersonAccount", "PersonMobilePhone"), ("PersonAccount", "PersonHomePhone"),
    ("PersonAccount", "PersonOtherPhone"), ("PersonAccount", "PersonAssistantPhone"),
])
@pytest.mark.parametrize("stored", ["+33612345678", "+33 6 12 34 56 78", "+33 (0)6-12-34-56-78"])
def test_R4_4_standard_phone_fields_match_on_e164_digits(org, sf, sobject, field, stored):
    base = {"Contact": {"LastName": "M"}, "Lead": {"LastName": "M", "Company": "X"},
            "Account": {"Name": "M"}, "PersonAccount": {"LastName": "M"}}[sobject]
    record_id = seed(org, sobject, **base, **{field: stored})
    # The caller's number arrives as the French national form "06 12 34 56 78".
    outcome = logger(sf).handle(call_webhook(external="06 12 34 56 78"))
    assert outcome.logged and outcome.record.id == record_id


def test_R4_4_a_record_matching_only_by_fax_is_not_a_match(org, sf):
    fax_only = contact(org, Phone=None, Fax=PHONE)
    assert logger(sf).handle(call_webhook()).rule == "R3.5"
    lead = seed(org, "Lead", LastName="Stone", Company="X", MobilePhone=PHONE)
    outcome = logger(sf).handle(call_webhook(call_id=2))
    assert outcome.record.id == lead and outcome.record.id != fax_only


def test_R4_4_a_different_number_does_not_match(org, sf):
    contact(org, Phone="+33 6 12 34 56 79")
    assert logger(sf).handle(call_webhook()).rule == "R3.5"


def _searches(sf) -> list[str]:
    """The SOSL statements the client sends from now on."""
    searches, original = [], sf.session.request

    def record(method, url, **kwargs):
        if "/search/" in url:
            searches.append(kwargs["params"]["q"])
        return original(method, url, **kwargs)

    sf.session.request = record
    return searches


def test_R4_6_national_numbers_are_read_in_the_default_country(org, sf):
    # The fake org's own search reads numbers without + as US ones: only the integration's
    # search for both forms of the number finds the record.
    assert org.control.info()["default_country"] == "US"
    national = contact(org, Phone="06 12 34 56 78")
    searches = _searches(sf)
    assert logger(sf).handle(call_webhook(call_id=1)).rule == "R3.5"
    outcome = logger(sf, default_country="FR").handle(call_webhook(call_id=2))
    assert outcome.logged and outcome.record.id == national
    assert "FIND {\\+33612345678 OR 0612345678} IN PHONE FIELDS" in searches[-1]
    assert "OR" not in searches[0]


def test_R4_6_a_national_number_is_not_read_in_another_country(org, sf):
    contact(org, Phone="06 12 34 56 78")
    # In a US org, a French caller's national form is not searched, and "06 12 34 56 78"
    # found by its digits is not read as French.
    searches = _searches(sf)
    assert logger(sf, default_country="US").handle(call_webhook(call_id=1)).rule == "R3.5"
    assert " OR " not in searches[-1]
    org.control.set_default_country("FR")
    assert logger(sf, default_country="US").handle(call_webhook(call_id=2)).rule == "R3.5"


def test_R4_6_webhook_numbers_without_plus_are_read_in_the_line_then_default_country(org, sf):
    person = contact(org)
    line = {"id": 1, "name": "Paris", "digits": "01 76 36 06 95", "time_zone": "Europe/Paris", "open": True}
    hook = call_webhook(external="06 12 34 56 78", number=line)
    with pytest.raises(InvalidEvent, match="data.raw_digits: '06 12 34 56 78' is not a phone number"):
        logger(sf).handle(hook)
    assert logger(sf, default_country="FR").handle(hook).record.id == person
    in_belgium = call_webhook(call_id=2, external="0470 12 34 56", number={**line, "country": "BE"})
    assert parse_webhook(in_belgium, "FR").external == "+32470123456"
    assert parse_webhook(hook, "FR").external == "+33612345678"


def test_R4_5_converted_leads_are_not_candidates(org, sf):
    seed(org, "Lead", LastName="Gone", Company="X", Phone=PHONE, IsConverted=True)
    searches = []
    original = sf.session.request

    def record(method, url, **kwargs):
        if "/search/" in url:
            searches.append(kwargs["params"]["q"])
        return original(method, url, **kwargs)

    sf.session.request = record
    assert logger(sf).handle(call_webhook(call_id=1)).rule == "R3.5"
    account = seed(org, "Account", Name="Acme", Phone=PHONE)
    assert logger(sf).handle(call_webhook(call_id=2)).record.id == account
    # The search itself excludes them, whatever the org's search index keeps.
    assert searches and all("Lead(Id, Name, Phone, MobilePhone WHERE IsConverted = false)" in q for q in searches)


# -- R5 Case and Opportunity -----------------------------------------------------------------

def test_R5_1_R6_2_related_case_or_opportunity_becomes_the_what(org, sf):
    person = contact(org)
    case = seed(org, "Case", ContactId=person, Subject="Broken handset")
    deal = seed(org, "Opportunity", Name="Renewal", StageName="Prospecting", CloseDate="2026-12-31",
                ContactId=person)
    by_setting = {}
    for n, setting in enumerate(("none", "case", "opportunity")):
        outcome = logger(sf, log_on_related=setting).handle(call_webhook(call_id=n + 1))
        by_setting[setting] = sf.Task.get(outcome.task_id)
        assert by_setting[setting]["WhoId"] == person
    assert by_setting["none"]["WhatId"] is None
    assert by_setting["case"]["WhatId"] == case
    assert by_setting["opportunity"]["WhatId"] == deal


@pytest.mark.parametrize("kind", ["Lead", "Account", "PersonAccount"])
def test_R5_2_only_contacts_cases_and_opportunities_qualify(org, sf, kind):
    if kind == "Lead":
        record = seed(org, "Lead", LastName="L", Company="X", Phone=PHONE)
        other = contact(org, Phone="+1 212 555 0100")
        seed(org, "Case", ContactId=other, Subject="Someone else's")
    elif kind == "Account":
        record = seed(org, "Account", Name="Acme", Phone=PHONE)
        other = contact(org, Phone="+1 212 555 0100", AccountId=record)
        seed(org, "Case", AccountId=record, ContactId=other, Subject="Account case")
        seed(org, "Opportunity", Name="Deal", StageName="Prospecting", CloseDate="2026-12-31",
             AccountId=record, ContactId=other)
    else:
        record = seed(org, "PersonAccount", LastName="Doe", PersonMobilePhone=PHONE)
        person_contact = sf.Account.get(record)["PersonContactId"]
        seed(org, "Case", ContactId=person_contact, AccountId=record, Subject="Person case")
    for n, setting in enumerate(("case", "opportunity")):
        outcome = logger(sf, log_on_related=setting).handle(call_webhook(call_id=n + 1))
        task = sf.Task.get(outcome.task_id)
        assert outcome.related is None
        assert task["WhatId"] == (None if kind == "Lead" else record)
    assert logger(sf, log_on_related="case", create_case=True).handle(
        call_webhook(call_id=9)).case_created is False
    assert len(ids(sf, "Case")) == 1


def test_R5_3_closed_cases_and_opportunities_do_not_qualify(org, sf):
    person = contact(org)
    seed(org, "Case", ContactId=person, Subject="Done", Status="Closed")
    seed(org, "Opportunity", Name="Lost", StageName="Closed Lost", CloseDate="2026-01-31", ContactId=person)
    assert logger(sf, log_on_related="case").handle(call_webhook(call_id=1)).related is None
    assert logger(sf, log_on_related="opportunity").handle(call_webhook(call_id=2)).related is None
    open_case = seed(org, "Case", ContactId=person, Subject="Open", LastModifiedDate="2020-01-01T00:00:00Z")
    assert logger(sf, log_on_related="case").handle(call_webhook(call_id=3)).related_id == open_case


def test_R5_4_several_open_the_first_returned_wins(org, sf):
    person = contact(org)
    older = seed(org, "Case", ContactId=person, Subject="Older", LastModifiedDate="2026-01-01T00:00:00Z")
    newer = seed(org, "Case", ContactId=person, Subject="Newer", LastModifiedDate="2026-05-01T00:00:00Z")
    log = logger(sf, log_on_related="case")
    assert log.handle(call_webhook(call_id=1)).related_id == newer
    org.control.advance(60)
    sf.Case.update(older, {"Priority": "High"})
    assert log.handle(call_webhook(call_id=2)).related_id == older


def test_R5_4_several_open_opportunities_first_returned_wins(org, sf):
    person = contact(org)
    deals = [seed(org, "Opportunity", Name=f"Deal {n}", StageName="Prospecting", CloseDate="2026-12-31",
                  ContactId=person, LastModifiedDate=f"2026-0{n}-01T00:00:00Z") for n in (1, 2)]
    log = logger(sf, log_on_related="opportunity")
    assert log.handle(call_webhook(call_id=1)).related_id == deals[1]
    # Updating the older Opportunity makes it the most recently updated: it wins now.
    org.control.advance(60)
    sf.Opportunity.update(deals[0], {"NextStep": "Call back"})
    assert log.handle(call_webhook(call_id=2)).related_id == deals[0]


def test_R5_5_create_case_when_the_contact_has_none_open(org, sf):
    person = contact(org)
    seed(org, "Case", ContactId=person, Subject="Old", Status="Closed")
    log = logger(sf, log_on_related="case", create_case=True)
    first = log.handle(call_webhook(call_id=1))
    assert first.case_created
    case = sf.Case.get(first.related_id)
    assert case["ContactId"] == person and case["IsClosed"] is False and case["Origin"] == "Phone"
    assert sf.Task.get(first.task_id)["WhatId"] == case["Id"]
    second = log.handle(call_webhook(call_id=2))
    assert (second.related_id, second.case_created) == (case["Id"], False)
    assert len(ids(sf, "Case")) == 2


def test_R5_6_cases_only_for_a_found_or_created_contact(org, sf):
    seed(org, "Lead", LastName="L", Company="X", Phone=PHONE)
    lead_call = logger(sf, log_on_related="case", create_case=True).handle(call_webhook(call_id=1))
    assert lead_call.logged and not lead_call.case_created and ids(sf, "Case") == []
    created = logger(sf, log_on_related="case", create_case=True, unknown_number="create_contact").handle(
        call_webhook(call_id=2, external="+33 7 00 00 00 03"))
    assert created.record.created and created.case_created
    assert sf.Case.get(created.related_id)["ContactId"] == created.record.id
    lead_made = logger(sf, log_on_related="case", create_case=True, unknown_number="create_lead").handle(
        call_webhook(call_id=3, external="+33 7 00 00 00 04"))
    assert lead_made.record.created and not lead_made.case_created
    assert len(ids(sf, "Case")) == 1


def test_R5_7_opportunities_are_never_created(org, sf):
    contact(org)
    outcome = logger(sf, log_on_related="opportunity", unknown_number="create_contact").handle(call_webhook())
    assert outcome.logged and outcome.related is None
    outcome = logger(sf, log_on_related="opportunity", unknown_number="create_contact").handle(
        call_webhook(call_id=2, external="+33 7 00 00 00 05"))
    assert outcome.record.created and outcome.related is None
    assert ids(sf, "Opportunity") == []


def test_R5_8_opportunities_through_contact_roles_primary_first(org, sf):
    person = contact(org)
    account = seed(org, "Account", Name="Acme")
    sf.Contact.update(person, {"AccountId": account})
    # Same account, no role for the Contact: not the Contact's Opportunity.
    seed(org, "Opportunity", Name="Account only", StageName="Prospecting", CloseDate="2026-12-31",
         AccountId=account, LastModifiedDate="2026-09-01T00:00:00Z")
    assert logger(sf, log_on_related="opportunity").handle(call_webhook(call_id=1)).related is None
    primary_deal = seed(org, "Opportunity", Name="Primary", StageName="Prospecting", CloseDate="2026-12-31",
                        LastModifiedDate="2026-02-01T00:00:00Z")
    seed(org, "OpportunityContactRole", OpportunityId=primary_deal, ContactId=person, IsPrimary=True,
         LastModifiedDate="2026-02-01T00:00:00Z")
    other_deal = seed(org, "Opportunity", Name="Influencer", StageName="Prospecting", CloseDate="2026-12-31",
                      LastModifiedDate="2026-08-01T00:00:00Z")
    seed(org, "OpportunityContactRole", OpportunityId=other_deal, ContactId=person, IsPrimary=False,
         Role="Influencer", LastModifiedDate="2026-08-01T00:00:00Z")
    assert logger(sf, log_on_related="opportunity").handle(call_webhook(call_id=2)).related_id == primary_deal
    sf.Opportunity.update(primary_deal, {"StageName": "Closed Won"})
    assert logger(sf, log_on_related="opportunity").handle(call_webhook(call_id=3)).related_id == other_deal


# -- R6 what is logged -----------------------------------------------------------------------

def test_R6_3_call_type_direction(org, sf):
    contact(org)
    log = logger(sf)
    log.handle(call_webhook(call_id=1, direction="inbound"))
    log.handle(call_webhook(call_id=2, direction="outbound"))
    log.handle(call_webhook(call_id=3, direction="outbound", answered=False))
    assert {t["CallObject"]: t["CallType"] for t in tasks(sf)} == {"1": "Inbound", "2": "Outbound",
                                                                   "3": "Outbound"}


def test_R6_4_subject_uses_record_number_and_agent_names(org, sf):
    seed(org, "Lead", FirstName="Bob", LastName="Stone", Company="X", Phone=PHONE)
    number = {"id": 9, "name": "Sales FR", "digits": "+33 1 00 00 00 00", "country": "FR",
              "time_zone": "Europe/Paris", "open": True}
    logger(sf).handle(call_webhook(direction="outbound", number=number,
                                   user={"id": 1, "name": "Sam Agent", "email": "sam@example.com"}))
    assert only_task(sf)["Subject"] == "Outbound answered call to Bob Stone via Sales FR made by Sam Agent"


def test_R6_5_activity_date_is_the_call_date_in_the_number_time_zone(org, sf):
    contact(org)
    late = int(datetime(2026, 3, 1, 23, 30, tzinfo=timezone.utc).timestamp())
    ny = {"id": 2, "name": "NY", "digits": "+1 212 555 0000", "country": "US",
          "time_zone": "America/New_York", "open": True}
    log = logger(sf)
    log.handle(call_webhook(call_id=1, started_at=late))            # Paris: already 2 March
    log.handle(call_webhook(call_id=2, started_at=late, number=ny))  # New York: still 1 March
    assert {t["CallObject"]: t["ActivityDate"] for t in tasks(sf)} == {"1": "2026-03-02", "2": "2026-03-01"}


def test_R6_6_duration(org, sf):
    contact(org)
    logger(sf).handle(call_webhook(duration=321))
    assert only_task(sf)["CallDurationInSeconds"] == 321


def test_R6_7_wait_time_in_the_description(org, sf):
    contact(org)
    log = logger(sf)
    log.handle(call_webhook(call_id=1, wait=12))
    log.handle(call_webhook(call_id=2, answered=False, wait=40, duration=0))
    desc = {t["CallObject"]: t["Description"] for t in tasks(sf)}
    assert desc["1"].split("\n")[0] == "Wait time: 12 s"
    assert desc["2"].split("\n")[0] == "Wait time: 40 s"


def test_R6_8_recording_and_voicemail_links(org, sf):
    contact(org)
    log = logger(sf)
    log.handle(call_webhook(call_id=1, recording="https://rec.example/1"))
    log.handle(call_webhook(call_id=2, answered=False, voicemail="https://vm.example/2"))
    logger(sf, include_recording=False).handle(call_webhook(call_id=3, recording="https://rec.example/3"))
    desc = {t["CallObject"]: t["Description"] for t in tasks(sf)}
    assert "Recording: https://rec.example/1" in desc["1"].split("\n")
    assert "Voicemail: https://vm.example/2" in desc["2"].split("\n")
    assert "Recording" not in desc["3"] and "rec.example" not in desc["3"]


def test_R6_9_comments_and_tags(org, sf):
    contact(org)
    logger(sf).handle(call_webhook(comments=["Wants a callback", "VIP"], tags=["billing", "urgent"]))
    assert visible(only_task(sf)["Description"]) == ("Wait time: 14 s\nComments:\nWants a callback\nVIP\n"
                                                     "Tags: billing, urgent")


def test_R6_10_owner_is_the_active_user_with_the_agents_email(org, sf):
    contact(org)
    sam = seed_user(org, "sam@example.com")
    seed_user(org, "gone@example.com", last="Gone", active=False)
    fallback = seed_user(org, "owner@example.com", first="Ian", last="Owner")
    log = logger(sf, integration_owner="owner@example.com")
    log.handle(call_webhook(call_id=1, user={"id": 1, "name": "Sam", "email": "SAM@example.com"}))
    log.handle(call_webhook(call_id=2, user={"id": 2, "name": "Gone", "email": "gone@example.com"}))
    log.handle(call_webhook(call_id=3, user={"id": 3, "name": "Nobody", "email": "nobody@example.com"}))
    log.handle(call_webhook(call_id=4, user=None))
    logger(sf, integration_owner=fallback).handle(call_webhook(call_id=5, user=USER))
    logger(sf).handle(call_webhook(call_id=6, user=USER))
    admin = sf.query("SELECT Id FROM User WHERE Username = 'admin@example.com'")["records"][0]["Id"]
    owners = {t["CallObject"]: t["OwnerId"] for t in tasks(sf)}
    assert owners == {"1": sam, "2": fallback, "3": fallback, "4": fallback, "5": fallback, "6": admin}


def test_R6_10_unknown_integration_owner_is_a_settings_error_before_any_write(org, sf):
    contact(org)
    from simulator.core import SettingsError
    org.control.clear_requests()
    with pytest.raises(SettingsError, match="settings.integration_owner: no active Salesforce User"):
        logger(sf, integration_owner="ghost@example.com").handle(call_webhook())
    assert writes(org) == []


def test_R6_11_type_subtype_priority_and_call_object(org, sf):
    contact(org)
    logger(sf).handle(call_webhook(call_id=987654321))
    task = only_task(sf)
    assert (task["Type"], task["TaskSubtype"], task["Priority"], task["CallObject"]) == (
        "Call", "Call", "Normal", "987654321")


def test_R6_12_long_text_is_cut_not_rejected(org, sf):
    contact(org)
    number = {"id": 9, "name": "N" * 300, "digits": "+33 1 00 00 00 00", "country": "FR",
              "time_zone": "Europe/Paris"}
    comments = [f"{n:05d} " + "x" * 990 for n in range(40)]
    outcome = logger(sf).handle(call_webhook(number=number, comments=comments))
    task = sf.Task.get(outcome.task_id)
    assert len(task["Subject"]) == 255 and task["Subject"].startswith("Inbound answered call from Jean Martin")
    assert len(task["Description"]) == 32000 and "00031 " in task["Description"]


def test_R6_12_a_long_missed_call_reason_is_cut_in_the_call_result(org, sf):
    contact(org)
    outcome = logger(sf).handle(call_webhook(answered=False, missed_call_reason="r" * 300))
    assert sf.Task.get(outcome.task_id)["CallDisposition"] == ("Unanswered: " + "r" * 300)[:255]


# -- R7 SMS ----------------------------------------------------------------------------------

def test_R7_1_messages_are_logged_as_completed_tasks(org, sf):
    person = contact(org)
    case = seed(org, "Case", ContactId=person, Subject="Open")
    sam = seed_user(org, "sam@example.com")
    log = logger(sf, log_on_related="case")
    received = log.handle(message_webhook(message_id="m1", body="Call me back"))
    sent = log.handle(message_webhook(message_id="m2", direction="outbound", body="Sure, at 3pm",
                                      user={"id": 1, "name": "Sam Agent", "email": "sam@example.com"}))
    r, s = sf.Task.get(received.task_id), sf.Task.get(sent.task_id)
    assert (r["Subject"], r["Status"], r["Description"], r["WhoId"], r["WhatId"], r["CallObject"]) == (
        "SMS received from Jean Martin to Paris Support", "Completed", "Call me back", person, case, "sms:m1")
    assert (s["Subject"], s["Status"], s["Description"], s["OwnerId"]) == (
        "SMS sent from Sam Agent via Paris Support to Jean Martin", "Completed", "Sure, at 3pm", sam)
    assert r["ActivityDate"] == "2024-11-26"


def test_R7_2_messages_from_unknown_numbers_follow_R3(org, sf):
    assert logger(sf).handle(message_webhook(message_id="m1")).rule == "R3.5"
    outcome = logger(sf, unknown_number="create_lead").handle(
        message_webhook(message_id="m2", contact=aircall_contact("Ann", "Lee")))
    lead = sf.Lead.get(outcome.record.id)
    assert (lead["LastName"], lead["Phone"], lead["Company"]) == ("Lee", E164, "[not provided]")
    assert sf.Task.get(outcome.task_id)["WhoId"] == lead["Id"]
    assert logger(sf).handle(message_webhook(message_id="m3", external="anonymous")).rule == "R3.6"


# -- R8 delivery -----------------------------------------------------------------------------

def test_R8_1_redelivery_changes_nothing(org, sf):
    log = logger(sf, unknown_number="create_contact", log_on_related="case", create_case=True)
    hook = call_webhook(comments=["hello"])
    first = log.handle(hook)
    org.control.advance(5)
    org.control.clear_requests()
    again = log.handle(json.loads(json.dumps(hook)))
    assert again.task_action == "unchanged" and again.task_id == first.task_id
    assert writes(org) == [] and again.requests == 1
    assert len(ids(sf, "Task")) == 1 and len(ids(sf, "Contact")) == 1 and len(ids(sf, "Case")) == 1
    # A fresh logger (another process) sees the same Task.
    assert logger(sf, unknown_number="create_contact").handle(hook).task_action == "unchanged"
    sms = message_webhook(message_id="m1")
    assert log.handle(sms).task_action == "created"
    assert log.handle(sms).task_action == "unchanged"
    assert len(ids(sf, "Task")) == 2


def at(hook: dict, timestamp: int) -> dict:
    """``hook`` as sent at ``timestamp`` (Aircall's delivery time, in unix seconds)."""
    return {**hook, "timestamp": timestamp}


def test_R8_2_later_events_update_the_same_task(org, sf):
    contact(org)
    log = logger(sf)
    ended = log.handle(at(call_webhook(comments=["first"]), 100))
    commented = log.handle(at(call_webhook(event="call.commented", comments=["first", "second"]), 101))
    tagged = log.handle(at(call_webhook(event="call.tagged", comments=["first", "second"], tags=["vip"]), 102))
    assets = log.handle(at(call_webhook(event="call.comm_assets_generated", recording="https://rec/1",
                                        comments=["first", "second"], tags=["vip"]), 103))
    assert [o.task_action for o in (ended, commented, tagged, assets)] == ["created", "updated",
                                                                          "updated", "updated"]
    assert {ended.task_id} == {commented.task_id, tagged.task_id, assets.task_id}
    task = only_task(sf)
    assert visible(task["Description"]) == ("Wait time: 14 s\nRecording: https://rec/1\nComments:\nfirst\n"
                                            "second\nTags: vip")
    # A late redelivery of the original call.ended takes nothing away.
    assert log.handle(at(call_webhook(comments=["first"]), 100)).task_action == "unchanged"
    assert only_task(sf)["Description"] == task["Description"]


def test_R7_3_whatsapp_messages_are_named_so(org, sf):
    contact(org)
    log = logger(sf)
    log.handle(message_webhook(message_id="m1", channel="whatsapp"))
    log.handle(message_webhook(message_id="m2"))
    subjects = {t["CallObject"]: t["Subject"] for t in
                sf.query_all("SELECT CallObject, Subject FROM Task")["records"]}
    assert subjects == {"sms:m1": "WhatsApp message received from Jean Martin to Paris Support",
                        "sms:m2": "SMS received from Jean Martin to Paris Support"}


def test_R6_13_call_result(org, sf):
    contact(org)
    log = logger(sf)
    log.handle(call_webhook(call_id=1))
    log.handle(call_webhook(call_id=2, answered=False, missed_call_reason="out_of_opening_hours"))
    log.handle(call_webhook(call_id=3, answered=False, voicemail="https://v.example/3"))
    log.handle(call_webhook(call_id=4, answered=False, direction="outbound"))
    results = {t["CallObject"]: t["CallDisposition"] for t in
               sf.query_all("SELECT CallObject, CallDisposition FROM Task")["records"]}
    assert results == {"1": "Answered", "2": "Unanswered: out_of_opening_hours", "3": "Voicemail",
                       "4": "Unanswered"}


def test_R6_14_comments_and_tags_by_their_aircall_id(org, sf):
    contact(org)
    log = logger(sf)
    twice = [{"id": 1, "content": "Call back"}, {"id": 2, "content": "Call back"}]
    comma = [{"id": 7, "name": "Follow up, urgent"}, {"id": 8, "name": "vip"}]
    log.handle(at(call_webhook(event="call.tagged", comments=twice, tags=comma), 100))
    log.handle(at(call_webhook(event="call.commented", comments=twice, tags=comma), 101))
    assert visible(only_task(sf)["Description"]) == ("Wait time: 14 s\nComments:\nCall back\nCall back\n"
                                                     "Tags: Follow up, urgent, vip")
    log.handle(at(call_webhook(event="call.untagged", comments=twice, tags=comma[:1]), 102))
    assert visible(only_task(sf)["Description"]).endswith("\nTags: Follow up, urgent")


def test_R8_6_workflow_and_hours_are_judged_when_the_task_is_created(org, sf):
    contact(org)
    log = logger(sf, log_when_closed=False, call_workflow={"missed": "completed", "voicemail": "do_nothing"})
    missed = dict(answered=False, wait=30, duration=30, user=None)
    hungup = log.handle(at(call_webhook(event="call.hungup", **missed), 100))
    assert (hungup.task_action, hungup.status) == ("created", "Completed")
    # the voicemail arrives late, and call.ended after the number closed: the Task is completed
    voicemail = log.handle(at(call_webhook(event="call.voicemail_left", voicemail="https://v.example/1",
                                           **missed), 150))
    ended = log.handle(at(call_webhook(event="call.ended", voicemail="https://v.example/1",
                                       number_open=False, **missed), 160))
    assert (voicemail.task_action, ended.task_action) == ("updated", "updated")
    task = only_task(sf)
    assert task["Subject"].startswith("Voicemail from Jean Martin")
    assert task["Status"] == "Completed"  # the voicemail action is do_nothing: the Status stays
    # a call first seen on a closed line is not logged, whatever comes after
    closed = log.handle(at(call_webhook(call_id=2, event="call.hungup", number_open=False, **missed), 100))
    assert (closed.logged, closed.rule) == (False, "R2.2")


@pytest.mark.parametrize("kind", ["503", "lock", "drop"])
def test_R8_3_transient_failures_are_retried(org, sf, kind):
    contact(org)
    sleeps = []
    faults = Faults(sf).add("POST", "/sobjects/Task", kind, times=2).add("GET", "/search", kind)
    log = CallLogger(sf, Settings(), retry=RetryPolicy(attempts=3, base_delay=0.5), sleep=sleeps.append)
    outcome = log.handle(call_webhook())
    assert outcome.logged and faults.hits == 3
    assert len(ids(sf, "Task")) == 1
    assert sleeps == [0.5, 0.5, 1.0]


def test_R8_3_a_lost_answer_does_not_duplicate(org, sf):
    Faults(sf).add("POST", "/sobjects/Contact", "lost").add("POST", "/sobjects/Task", "lost")
    outcome = logger(sf, unknown_number="create_contact").handle(call_webhook())
    assert outcome.logged
    assert len(ids(sf, "Contact")) == 1 and len(ids(sf, "Task")) == 1
    assert sf.Task.get(outcome.task_id)["WhoId"] == outcome.record.id


def test_R8_3_permanent_failure_reports_the_code_and_leaves_nothing_behind(org, sf):
    Faults(sf).add("POST", "/sobjects/Task", "reject")
    log = logger(sf, unknown_number="create_contact", log_on_related="case", create_case=True)
    with pytest.raises(SalesforceWriteError) as info:
        log.handle(call_webhook())
    assert info.value.error_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert "Tasks need a reason" in str(info.value) and not info.value.transient
    assert ids(sf, "Contact") == [] and ids(sf, "Case") == [] and ids(sf, "Task") == []
    # Once the org accepts Tasks again, the redelivery logs the call as if nothing happened.
    outcome = log.handle(call_webhook())
    assert outcome.logged and outcome.record.created and outcome.case_created


def test_R8_3_permanent_error_from_salesforce_itself(org, sf):
    contact(org)
    with pytest.raises(SalesforceWriteError) as info:
        logger(sf, integration_owner="005000000000000AAA").handle(call_webhook())
    assert info.value.error_code and info.value.error_code != "HTTP_400"
    assert ids(sf, "Task") == []


def test_R8_3_failing_midway_then_redelivery_finishes_without_duplicates(org, sf):
    Faults(sf).add("POST", "/sobjects/Task", "503", times=3)
    log = logger(sf, unknown_number="create_lead")
    with pytest.raises(SalesforceUnavailable) as info:
        log.handle(call_webhook())
    assert info.value.transient and len(ids(sf, "Lead")) == 1 and ids(sf, "Task") == []
    outcome = log.handle(call_webhook())
    assert outcome.logged and not outcome.record.created
    assert len(ids(sf, "Lead")) == 1 and len(ids(sf, "Task")) == 1


def test_R8_1_a_lagging_search_index_does_not_duplicate_created_records(org, sf):
    # Salesforce indexes new records for SOSL after a delay: hide created ones from search.
    created_ids = set()
    original = sf.session.request

    def lagging(method, url, **kwargs):
        response = original(method, url, **kwargs)
        if method == "POST" and "/sobjects/Lead" in url and response.status_code == 201:
            created_ids.add(response.json()["id"])
        if "/search/" in url:
            body = response.json()
            body["searchRecords"] = [r for r in body["searchRecords"] if r["Id"] not in created_ids]
            response._content = json.dumps(body).encode()
        return response

    sf.session.request = lagging
    Faults(sf).add("POST", "/sobjects/Task", "503", times=3)
    log = logger(sf, unknown_number="create_lead")
    with pytest.raises(SalesforceUnavailable):
        log.handle(call_webhook())
    outcome = log.handle(call_webhook())
    assert outcome.logged and not outcome.record.created
    assert len(ids(sf, "Lead")) == 1 and len(ids(sf, "Task")) == 1


def test_R8_4_malformed_events_are_rejected_before_any_request(org, sf):
    org.control.clear_requests()
    hook = call_webhook()
    hook["data"]["direction"] = "sideways"
    with pytest.raises(InvalidEvent) as info:
        log_event(sf, Settings(unknown_number="create_contact"), hook)
    assert str(info.value) == "call.ended: data.direction: expected 'inbound' or 'outbound', got 'sideways'"
    with pytest.raises(InvalidEvent, match=r"^call\.ENDED: event: not an Aircall event name"):
        log_event(sf, Settings(), {**call_webhook(), "event": "call.ENDED"})
    assert api_requests(org) == []


def test_R8_5_events_that_change_nothing_are_ignored_without_a_request(org, sf):
    org.control.clear_requests()
    outcome = log_event(sf, Settings(), {**call_webhook(), "event": "call.ringing_on_agent"})
    assert (outcome.logged, outcome.task_action) == (False, "ignored")
    assert outcome.reason == "ignored: call.ringing_on_agent changes nothing in Salesforce"
    assert api_requests(org) == []


# -- request budget and query safety ---------------------------------------------------------

def test_a_contact_call_costs_three_requests_once_users_are_cached(org, sf):
    contact(org)
    log = logger(sf)
    log.warm_up()
    org.control.clear_requests()
    outcome = log.handle(call_webhook())
    assert outcome.logged and outcome.requests == 3
    assert len(api_requests(org)) == 3


def test_hostile_text_never_breaks_or_widens_a_query(org, sf):
    seed(org, "Task", Subject="Someone else's", CallObject="abc", Status="Completed")
    log = logger(sf, unknown_number="create_contact")
    for n, call_id in enumerate(["%", "' OR CallObject != '", "%_\\", "abc' OR Id != '"]):
        outcome = log.handle(call_webhook(call_id=call_id, external=f"+33 7 00 00 00 1{n}",
                                          contact=aircall_contact("Miles", "O'Brien %_\\")))
        assert outcome.task_action == "created", call_id
        assert sf.Task.get(outcome.task_id)["CallObject"] == call_id
        assert log.handle(call_webhook(call_id=call_id, external=f"+33 7 00 00 00 1{n}")
                          ).task_action == "unchanged"
    assert len(ids(sf, "Task")) == 5
    assert {sf.Contact.get(i)["LastName"] for i in ids(sf, "Contact")} == {"O'Brien %_\\"}
