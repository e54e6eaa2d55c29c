"""CallLogger mechanics: caches, thread safety, entry points, and the outcome's shape."""
import json
import threading

from simulator.core import CallLogger, RetryPolicy, Settings, log_event, parse_webhook
from simulator.aircall import call_webhook

PHONE = "+33 6 12 34 56 78"


def seed_contact(fake_org):
    return fake_org.control.seed("Contact", [{"LastName": "Martin", "Phone": PHONE}])[0]


def seed_user(fake_org, email):
    return fake_org.control.seed("User", [{
        "Username": email, "LastName": "Agent", "Email": email, "Alias": "agent",
        "TimeZoneSidKey": "GMT", "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8",
        "LanguageLocaleKey": "en_US"}])[0]


def test_users_and_describe_are_loaded_once(fake_org, sf):
    seed_contact(fake_org)
    logger = CallLogger(sf, Settings())
    first = logger.handle(call_webhook(call_id=1))
    second = logger.handle(call_webhook(call_id=2))
    assert first.requests == 5    # describe Account + users, then search, Task lookup, Task create
    assert second.requests == 3


def test_a_user_added_later_is_seen_after_refresh_or_expiry(fake_org, sf):
    seed_contact(fake_org)
    now = [0.0]
    logger = CallLogger(sf, Settings(), cache_ttl=60, clock=lambda: now[0])
    agent = {"id": 1, "name": "Sam", "email": "sam@example.com"}
    logger.warm_up()
    sam = seed_user(fake_org, "sam@example.com")
    stale = logger.handle(call_webhook(call_id=1, user=agent))
    assert sf.Task.get(stale.task_id)["OwnerId"] != sam
    now[0] = 61.0
    fresh = logger.handle(call_webhook(call_id=2, user=agent))
    assert sf.Task.get(fresh.task_id)["OwnerId"] == sam
    other = seed_user(fake_org, "kim@example.com")
    logger.refresh()
    kim = logger.handle(call_webhook(call_id=3, user={"id": 2, "name": "Kim", "email": "kim@example.com"}))
    assert sf.Task.get(kim.task_id)["OwnerId"] == other


def test_concurrent_deliveries_of_one_call_make_one_task(fake_org, sf):
    seed_contact(fake_org)
    logger = CallLogger(sf, Settings(), retry=RetryPolicy(base_delay=0))
    logger.warm_up()
    hook = call_webhook()
    outcomes, errors = [], []

    def deliver():
        try:
            outcomes.append(logger.handle(hook))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(o.task_action for o in outcomes) == ["created"] + ["unchanged"] * 5
    assert len(sf.query_all("SELECT Id FROM Task")["records"]) == 1


def test_log_event_takes_a_webhook_or_a_parsed_event(fake_org, sf):
    seed_contact(fake_org)
    assert log_event(sf, Settings(), call_webhook(call_id=1)).task_action == "created"
    assert log_event(sf, None, parse_webhook(call_webhook(call_id=1))).task_action == "unchanged"


def test_outcome_is_json_ready(fake_org, sf):
    contact_id = seed_contact(fake_org)
    outcome = CallLogger(sf, Settings()).handle(call_webhook())
    data = json.loads(json.dumps(outcome.to_dict()))
    assert data["record"] == {"sobject": "Contact", "id": contact_id, "name": "Martin", "created": False,
                              "person_account": False, "person_contact_id": None, "kind": "Contact"}
    assert data["logged"] is True and data["rule"] is None and data["related_id"] is None
    assert data["case_created"] is False and data["requests"] == 5
