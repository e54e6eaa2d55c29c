"""Hostile deliveries to the webhook receiver: always a JSON answer; 4xx for a delivery that can
never succeed (so that Aircall stops delivering it), 5xx only for what may succeed later."""
import io
import json

import pytest

from simulator.aircall import call_webhook
from simulator.core import RetryPolicy, Settings
from simulator.core.receiver import DEFAULT_PATH, create_receiver

TOKEN = "s3cret-token"


@pytest.fixture
def client(fake_org, sf):
    fake_org.control.seed("Contact", [{"LastName": "Martin", "Phone": "+33612345678"}])
    app = create_receiver(lambda: sf, Settings(), TOKEN, retry=RetryPolicy(attempts=2, base_delay=0))
    return app.test_client()


def post(client, data: bytes | str):
    response = client.post(DEFAULT_PATH, data=data, content_type="application/json")
    assert response.is_json, response.data[:200]
    return response


def hook_with(**data) -> dict:
    hook = call_webhook(token=TOKEN)
    hook["data"].update(data)
    return hook


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"a":' * 100_000, b'{"token": NaN}', b"\xff\xfe",
                                  json.dumps(hook_with(comments=[{"content": "\ud800"}])).encode(),
                                  b'{"token": "\\udc00"}'],
                         ids=["deep-list", "deep-object", "nan", "not-utf8", "surrogate-comment", "surrogate"])
def test_bodies_that_can_never_be_events_are_400(client, body):
    response = post(client, body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"] == "invalid_event"


@pytest.mark.parametrize("data", [{"duration": 1e20}, {"id": "9" * 1000}, {"id": "x" * 1000}],
                         ids=["huge-duration", "long-numeric-id", "long-id"])
def test_values_salesforce_can_never_store_are_4xx(client, fake_org, data):
    response = post(client, json.dumps(hook_with(**data)))
    assert 400 <= response.status_code < 500, (response.status_code, response.get_json())
    assert response.get_json()["error"] in ("invalid_event", "salesforce_error")


@pytest.mark.parametrize("data, field", [
    ({"id": "x" * 100_000}, "data.id"),                      # was a 502 (the Task lookup's SOQL too long)
    ({"number": {"digits": "+33 1 76 36 06 95", "time_zone": "x" * 300}}, "data.number.time_zone"),  # was a 500
    ({"missed_call_reason": None, "duration": 2**31}, "data.duration"),    # was a 422 from Salesforce
], ids=["id-past-soql-length", "time-zone-past-file-name-length", "duration-past-int-field"])
def test_values_no_task_can_hold_are_400_naming_the_field(client, sf, data, field):
    response = post(client, json.dumps(hook_with(**data)))
    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_event"), response.get_json()
    assert response.get_json()["message"].startswith(f"call.ended: {field}: ")
    assert sf.query("SELECT COUNT() FROM Task")["totalSize"] == 0


def test_a_body_too_large_is_413_json(client):
    response = post(client, b'{"pad": "' + b"x" * (2 * 1024 * 1024) + b'"}')
    assert response.status_code == 413


def test_a_streamed_body_too_large_is_413_json_not_a_cut_body(client):
    """A chunked body has no Content-Length: werkzeug stops reading at the limit without saying
    so, and the cut body used to be refused as "not valid JSON" (400)."""
    body = json.dumps({**hook_with(), "pad": "x" * (2 * 1024 * 1024)}).encode()
    response = client.post(DEFAULT_PATH, input_stream=io.BytesIO(body), content_type="application/json",
                           headers={"Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    assert (response.status_code, response.is_json) == (413, True), response.data[:200]


def test_request_limit_in_the_lost_answer_lookup_is_a_json_503(fake_org, sf):
    """The create's answer is lost, and the lookup that would tell whether it happened meets
    the API limit: 503 (Aircall delivers again), never an HTML 500 nor a second Task."""
    from simple_salesforce.exceptions import SalesforceGeneralError

    fake_org.control.seed("Contact", [{"LastName": "Martin", "Phone": "+33612345678"}])

    class LosingSF:
        def __init__(self, real):
            self.real = real
            self.task_creates = 0

        def __getattr__(self, name):
            return getattr(self.real, name)

        @property
        def Task(self):
            outer = self

            class Tasks:
                def create(self, fields):
                    outer.task_creates += 1
                    outer.real.Task.create(fields)
                    raise SalesforceGeneralError("u", 503, "Task", b"answer lost")

                def __getattr__(self, name):
                    return getattr(outer.real.Task, name)
            return Tasks()

        def query(self, soql, **kw):
            if "FROM Task" in soql and self.task_creates:
                raise SalesforceGeneralError("u", 403, "query", [
                    {"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}])
            return self.real.query(soql, **kw)

    losing = LosingSF(sf)
    app = create_receiver(lambda: losing, Settings(), TOKEN, retry=RetryPolicy(attempts=2, base_delay=0))
    response = app.test_client().post(DEFAULT_PATH, json=call_webhook(token=TOKEN))
    assert response.is_json and response.status_code == 503, response.data[:300]
    assert response.get_json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert losing.task_creates == 1
    assert sf.query("SELECT COUNT() FROM Task")["totalSize"] == 1
