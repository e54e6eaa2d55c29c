"""The webhook receiver: token check, status codes, and the outcome as JSON."""
import pytest
import requests
from simple_salesforce.exceptions import SalesforceMalformedRequest

from simulator.core import RetryPolicy, Settings, SettingsError
from simulator.core.receiver import DEFAULT_PATH, create_receiver
from simulator.aircall import call_webhook

TOKEN = "s3cret-token"


class FailingSF:
    """A client whose every query fails with ``error``."""

    def __init__(self, error):
        self.error = error
        self.calls = 0

    def query(self, soql):
        self.calls += 1
        raise self.error


def client_for(sf, settings=None):
    app = create_receiver(lambda: sf, settings or Settings(), TOKEN,
                          retry=RetryPolicy(attempts=2, base_delay=0))
    return app.test_client()


def test_wrong_or_missing_token_is_401_and_touches_nothing():
    sf = FailingSF(AssertionError("must not be called"))
    client = client_for(sf)
    for token in ("nope", None, 5):
        response = client.post(DEFAULT_PATH, json=call_webhook(token=token))
        assert response.status_code == 401
        assert response.get_json()["error"] == "invalid_token"
    assert sf.calls == 0


def test_malformed_delivery_is_400_with_the_message():
    client = client_for(FailingSF(AssertionError("must not be called")))
    hook = call_webhook(token=TOKEN)
    hook["data"]["direction"] = "sideways"
    response = client.post(DEFAULT_PATH, json=hook)
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "invalid_event",
        "message": "call.ended: data.direction: expected 'inbound' or 'outbound', got 'sideways'"}
    response = client.post(DEFAULT_PATH, data="not json", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("event", ["call.created", "call.ringing_on_agent", "call.transferred",
                                   "call.assigned", "message.status_updated", "contact.created",
                                   "user.opened", "number.closed"])
def test_events_that_change_nothing_are_200_and_ignored(event):
    client = client_for(FailingSF(AssertionError("must not be called")))
    response = client.post(DEFAULT_PATH, json={**call_webhook(token=TOKEN), "event": event,
                                               "resource": event.split(".")[0]})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["event"], body["logged"], body["task_action"]) == (event, False, "ignored")
    assert "ignored" in body["reason"]


def test_salesforce_unavailable_is_503_so_aircall_retries():
    client = client_for(FailingSF(requests.ConnectionError("down")))
    response = client.post(DEFAULT_PATH, json=call_webhook(token=TOKEN))
    assert response.status_code == 503
    assert response.get_json()["error_code"] == "CONNECTION_ERROR"


def test_salesforce_refusal_is_502_with_the_error_code():
    error = SalesforceMalformedRequest("u", 400, "query", [{"errorCode": "INVALID_FIELD",
                                                           "message": "No such column 'CallObject'"}])
    response = client_for(FailingSF(error)).post(DEFAULT_PATH, json=call_webhook(token=TOKEN))
    assert response.status_code == 502
    body = response.get_json()
    assert body["error_code"] == "INVALID_FIELD" and "No such column" in body["message"]


def test_health():
    assert client_for(FailingSF(None)).get("/healthz").get_json() == {"status": "ok"}


def test_an_empty_token_is_refused_at_start():
    with pytest.raises(SettingsError, match="webhook token"):
        create_receiver(lambda: None, Settings(), "")


def test_a_delivery_is_logged_and_answered_with_the_outcome(fake_org, sf):
    fake_org.control.seed("Contact", [{"LastName": "Martin", "FirstName": "Jean", "Phone": "+33612345678"}])
    client = client_for(sf)
    response = client.post(DEFAULT_PATH, json=call_webhook(token=TOKEN))
    assert response.status_code == 200
    body = response.get_json()
    assert body["logged"] is True and body["task_action"] == "created"
    assert body["record"]["kind"] == "Contact" and body["call_type"] == "inbound_answered"
    again = client.post(DEFAULT_PATH, json=call_webhook(token=TOKEN)).get_json()
    assert again["task_action"] == "unchanged" and again["task_id"] == body["task_id"]


def test_every_delivery_is_logged_in_one_line(fake_org, sf, caplog):
    fake_org.control.seed("Contact", [{"LastName": "Martin", "Phone": "+33612345678"}])
    client = client_for(sf)
    caplog.set_level("INFO", logger="callsim.webhooks")
    client.post(DEFAULT_PATH, json=call_webhook(token=TOKEN, call_id=42))
    client.post(DEFAULT_PATH, json=call_webhook(token="nope", call_id=43))
    client.post(DEFAULT_PATH, json=call_webhook(token=TOKEN, call_id=44, external="+1 202 555 0100"))
    client.post(DEFAULT_PATH, data="not json", content_type="application/json")
    lines = [r.getMessage() for r in caplog.records if r.name == "callsim.webhooks"]
    assert len(lines) == 4, lines
    logged, refused, unknown, garbage = lines
    assert logged.startswith("call.ended call 42: 200 logged: Task 00T")
    assert " created on Contact 003" in logged and logged.endswith(" ms)")
    assert refused.startswith("call.ended call 43: 401 invalid_token: ")
    assert unknown.startswith("call.ended call 44: 200 not logged (R3.5: ")
    assert garbage.startswith("(not JSON) -: 400 invalid_event: ")
    assert TOKEN not in "".join(lines)
