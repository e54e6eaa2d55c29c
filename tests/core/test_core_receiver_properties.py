"""Generated hostile deliveries to the served webhook receiver, logging into a served fake org that
never fails: hostile values at every key of a call, JSON bodies of any shape, raw HTTP. Every
answer is JSON and below 500 (the org is healthy: nothing could succeed later, so a 5xx would make
Aircall deliver it again forever); a delivery refused with a 4xx writes nothing."""
import json
import socket
import threading

import pytest
from cheroot import wsgi
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import fake_salesforce
from fake_salesforce.server import FakeServer
from simulator.aircall import call_webhook, message_webhook
from simulator.core import RetryPolicy, Settings
from simulator.core.api import with_timeout
from simulator.core.receiver import DEFAULT_PATH, create_receiver

TOKEN = "hostile-token"
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))

ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=20)   # lone surrogates included
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**15, max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False), ANY_TEXT,
    st.sampled_from(["", "9" * 1000, "x" * 5000, "+33 6 12 34 56 78", "anonymous", "1e20", "\ud800",
                     "call.ended", "2026-13-45T99:99:99Z", "javascript:alert(1)", "0" * 40]))
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(ANY_TEXT, inner, max_size=3)),
                    max_leaves=6)
CALL_KEYS = ["id", "direction", "status", "started_at", "answered_at", "ended_at", "duration", "raw_digits",
             "voicemail", "recording", "asset", "user", "contact", "number", "comments", "tags",
             "missed_call_reason", "teams", "call_uuid"]
NESTED = [("number", "digits"), ("number", "time_zone"), ("number", "open"), ("user", "email"),
          ("user", "id"), ("comments", 0, "content"), ("comments", 0, "id"), ("tags", 0, "name")]
TOP_KEYS = ["event", "resource", "timestamp", "data"]


@pytest.fixture(scope="module")
def served():
    with FakeServer(fake_salesforce.Org()) as fake:
        sf = with_timeout(fake_salesforce.connect(fake.url), (5.0, 10.0))
        sf.Contact.create({"LastName": "Martin", "Phone": "+33612345678"})
        app = create_receiver(lambda: sf, Settings(unknown_number="create_lead"), TOKEN,
                              retry=RetryPolicy(attempts=1, base_delay=0))
        server = wsgi.Server(("127.0.0.1", 0), app, numthreads=4, server_name="receiver")
        server.prepare()
        threading.Thread(target=server.serve, daemon=True).start()
        try:
            yield Receiver(server, sf)
        finally:
            server.stop()


class Receiver:
    def __init__(self, server, sf):
        self.host, self.port = server.bind_addr[:2]
        self.url = f"http://{self.host}:{self.port}{DEFAULT_PATH}"
        self.sf = sf
        self.session = sf.session.__class__()

    def written(self) -> tuple:
        """Everything a delivery may write: the Tasks and the records it may create."""
        tasks = self.sf.query_all("SELECT Id, Subject, Status, CallDurationInSeconds, WhoId, Description "
                                  "FROM Task ORDER BY Id")["records"]
        counts = [self.sf.query(f"SELECT COUNT() FROM {name}")["totalSize"] for name in ("Lead", "Contact")]
        return tuple(tuple(sorted((k, v) for k, v in t.items() if k != "attributes")) for t in tasks), tuple(counts)

    def post(self, body: bytes, content_type: str = "application/json"):
        return self.session.post(self.url, data=body, headers={"Content-Type": content_type}, timeout=30)


def dumps(value) -> bytes:
    return json.dumps(value).encode()   # lone surrogates written as \\udXXX escapes


def check(receiver: Receiver, body: bytes, content_type: str = "application/json"):
    before = receiver.written()
    response = receiver.post(body, content_type)
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.text[:300]
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code >= 400:
        assert receiver.written() == before, (response.status_code, response.text[:300])
        assert isinstance(response.json().get("error"), str) and response.json().get("message")
    return response


def set_at(hook: dict, path: tuple, value) -> dict:
    node = hook["data"]
    for key in path[:-1]:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and len(node) > key:
            node = node[key]
        else:
            return hook
    if isinstance(node, dict) or (isinstance(node, list) and len(node) > path[-1]):
        node[path[-1]] = value
    return hook


@SETTINGS
@given(key=st.sampled_from(CALL_KEYS), value=JSON, call_id=st.integers(1, 50), event=st.sampled_from(
    ["call.ended", "call.hungup", "call.answered", "call.commented", "call.tagged"]))
@example(key="duration", value=10**20, call_id=1, event="call.ended")        # past Salesforce's range
@example(key="id", value="9" * 1000, call_id=1, event="call.ended")          # past CallObject's length
@example(key="started_at", value=10**20, call_id=1, event="call.hungup")
def test_a_hostile_value_at_any_key_of_a_call(served, key, value, call_id, event):
    hook = call_webhook(token=TOKEN, event=event, call_id=call_id, comments=["Hi"], tags=["vip"])
    hook["data"][key] = value
    check(served, dumps(hook))


@SETTINGS
@given(path=st.sampled_from(NESTED), value=JSON, call_id=st.integers(51, 100))
@example(path=("comments", 0, "content"), value="\ud800", call_id=51)      # a lone surrogate
@example(path=("user", "email"), value="x" * 5000, call_id=52)
def test_a_hostile_value_inside_a_call(served, path, value, call_id):
    hook = set_at(call_webhook(token=TOKEN, call_id=call_id, comments=["Hi"], tags=["vip"],
                               user={"id": 1, "name": "A", "email": "a@example.com"}), path, value)
    check(served, dumps(hook))


@SETTINGS
@given(key=st.sampled_from(["id", "body", "external_number", "direction", "created_at", "channel", "number"]),
       value=JSON)
def test_a_hostile_value_in_a_message(served, key, value):
    hook = message_webhook(token=TOKEN)
    hook["data"][key] = value
    check(served, dumps(hook))


@SETTINGS
@given(key=st.sampled_from(TOP_KEYS), value=JSON)
def test_a_hostile_envelope(served, key, value):
    hook = call_webhook(token=TOKEN, call_id=7)
    hook[key] = value
    check(served, dumps(hook))


@SETTINGS
@given(body=JSON, with_token=st.booleans())
def test_json_of_any_shape(served, body, with_token):
    if with_token and isinstance(body, dict):
        body = {**body, "token": TOKEN}
    response = check(served, dumps(body))
    if not (with_token and isinstance(body, dict)):
        assert 400 <= response.status_code < 500      # never an event: refused for good


@SETTINGS
@given(body=st.binary(max_size=300), content_type=st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""]))
def test_raw_bytes(served, body, content_type):
    response = check(served, body, content_type)
    assert response.status_code != 200 or json.loads(body)   # only a real event is taken


def raw_exchange(receiver: Receiver, request: bytes) -> bytes:
    with socket.create_connection((receiver.host, receiver.port), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@SETTINGS
@given(chunks=st.sampled_from([b"zz\r\n{}\r\n0\r\n\r\n", b"5\r\n{}\r\n0\r\n\r\n", b"2\r\n{}",
                               b"-1\r\n{}\r\n0\r\n\r\n", b"2;x=y\r\n{}\r\n0\r\n\r\n"]) | st.binary(max_size=60),
       method=st.sampled_from(["POST", "PUT", "GET"]))
def test_raw_http_with_a_malformed_chunked_body(served, chunks, method):
    before = served.written()
    answer = raw_exchange(served, f"{method} {DEFAULT_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
                          + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                          b"Connection: close\r\n\r\n" + chunks)
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    assert 400 <= status < 500, answer[:300]
    assert served.written() == before


@pytest.mark.parametrize("head", [b"Content-Length: -5\r\n", b"Content-Length: abc\r\n",
                                  b"Content-Length: 2\r\nContent-Length: 3\r\n",
                                  b"Content-Type: application/json; charset=\xff\r\nContent-Length: 2\r\n"],
                         ids=["negative-length", "text-length", "two-lengths", "bad-charset"])
def test_raw_http_with_bad_headers(served, head):
    answer = raw_exchange(served, f"POST {DEFAULT_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode() + head
                          + b"Connection: close\r\n\r\n{}")
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    assert 400 <= status < 500, answer[:300]
