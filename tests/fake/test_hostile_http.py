"""Hostile input to a served fake org: generated values, field names, ids, queries, searches, raw
bodies and JSON shapes. Every answer is a 2xx or a Salesforce-shaped 4xx (or the fake's 501
FAKE_NOT_IMPLEMENTED), never a 500, and a refused request writes nothing (counted through the API)."""
import json
import socket
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import fake_salesforce
from fake_salesforce.server import FakeServer

# Any text, lone surrogates included (json.dumps writes them as \\udXXX escapes).
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=30)
FIELD_NAMES = st.one_of(st.sampled_from(["LastName", "FirstName", "Phone", "Email", "Birthdate",
                                         "AccountId", "Id", "attributes", "OwnerId", "DoNotCall",
                                         "LastName\ud800", "Description"]), ANY_TEXT)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                    ANY_TEXT, st.sampled_from(["1e20", "2026-01-01", "003000000000000AAA", "x" * 300]))
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(ANY_TEXT, inner, max_size=3)),
                    max_leaves=8)
RECORDS = st.dictionaries(FIELD_NAMES, JSON, max_size=5)
RAW_NUMBERS = st.sampled_from(["1e20", "-1e20", "1e400", "NaN", "Infinity", "-Infinity", "1" * 400, "0.1e-400"])

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def served():
    with FakeServer(fake_salesforce.Org()) as server:
        sf = fake_salesforce.connect(server.url)
        sf.Contact.create({"LastName": "Kept"})
        yield server, sf


class Client:
    def __init__(self, server, sf):
        self.server, self.sf = server, sf
        self.headers = {"Authorization": f"Bearer {sf.session_id}", "Content-Type": "application/json"}

    def send(self, method: str, path: str, body: bytes | str | None = None):
        return self.sf.session.request(method, f"{self.server.url}/services/data/v62.0/{path}",
                                       data=body, headers=self.headers, timeout=30)

    def count(self) -> int:
        return self.sf.query("SELECT COUNT() FROM Contact")["totalSize"]


@pytest.fixture(scope="module")
def client(served) -> Client:
    return Client(*served)


def assert_salesforce_shaped(response):
    assert response.status_code < 500 or (response.status_code == 501), (response.status_code, response.text[:300])
    if response.status_code == 204:  # no content, no type
        return
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.text[:300]
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body, list) and body, body
        assert all({"errorCode", "message"} <= set(e) for e in body), body
        if response.status_code == 501:
            assert body[0]["errorCode"] == "FAKE_NOT_IMPLEMENTED"


def write_and_check(client: Client, method: str, path: str, body, created_on_success: int):
    before = client.count()
    response = client.send(method, path, body)
    assert_salesforce_shaped(response)
    after = client.count()
    if response.status_code >= 400:
        assert after == before, (response.status_code, response.text[:300])
    else:
        assert after == before + created_on_success
    return response


@SETTINGS
@given(record=RECORDS)
def test_generated_records_never_500_and_refusals_write_nothing(client, record):
    write_and_check(client, "POST", "sobjects/Contact", json.dumps(record), 1)


@SETTINGS
@given(field=FIELD_NAMES, number=RAW_NUMBERS)
def test_numbers_out_of_range_are_refused_as_salesforce_does(client, field, number):
    body = '{"LastName": "N", %s: %s}' % (json.dumps(field), number)
    response = write_and_check(client, "POST", "sobjects/Contact", body, 1)
    opportunity = (f'{{"Name": "O", "StageName": "Prospecting", "CloseDate": "2026-01-01", '
                   f'"Amount": {number}}}')
    response = client.send("POST", "sobjects/Opportunity", opportunity)
    assert_salesforce_shaped(response)
    if number in ("NaN", "Infinity", "-Infinity", "1e400"):
        assert response.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    elif number in ("1e20", "-1e20", "1" * 400):
        assert response.json()[0]["errorCode"] == "NUMBER_OUTSIDE_VALID_RANGE"


@SETTINGS
@given(records=st.lists(st.one_of(RECORDS, JSON,
                                  RECORDS.map(lambda r: {**r, "attributes": {"type": "Contact"}}),
                                  st.builds(lambda a, r: {**r, "attributes": a}, JSON, RECORDS)), max_size=4),
       all_or_none=st.booleans())
def test_collections_are_all_or_nothing_per_record(client, records, all_or_none):
    before = client.count()
    response = client.send("POST", "composite/sobjects",
                           json.dumps({"allOrNone": all_or_none, "records": records}))
    assert_salesforce_shaped(response)
    succeeded = sum(1 for r in response.json() if r.get("success")) if response.status_code == 200 else 0
    assert client.count() == before + succeeded
    if all_or_none:
        assert succeeded in (0, len(records))


@SETTINGS
@given(record_id=ANY_TEXT, method=st.sampled_from(["GET", "PATCH", "DELETE"]), record=RECORDS)
def test_generated_ids(client, record_id, method, record):
    path = "sobjects/Contact/" + quote(record_id.encode("utf-8", "surrogatepass"), safe="")
    write_and_check(client, method, path, json.dumps(record) if method == "PATCH" else None, 0)


@SETTINGS
@given(text=ANY_TEXT, kind=st.sampled_from(["query", "queryAll", "search"]))
def test_generated_queries_with_any_bytes(client, text, kind):
    prefix = "FIND {" if kind == "search" else "SELECT Id FROM Contact WHERE LastName = '"
    q = quote((prefix + text).encode("utf-8", "surrogatepass"), safe="")
    assert_salesforce_shaped(client.send("GET", f"{kind}?q={q}"))


KEPT_FIELDS = "Id, FirstName, LastName, Phone, Email, Birthdate, AccountId, OwnerId, Description, Title"


@SETTINGS
@given(record=RECORDS)
def test_a_refused_update_changes_nothing(client, record):
    """A PATCH of an existing record: refused, the record reads back exactly as before."""
    kept = client.sf.query("SELECT Id FROM Contact WHERE LastName = 'Kept' LIMIT 1")["records"][0]["Id"]
    soql = f"SELECT {KEPT_FIELDS} FROM Contact WHERE Id = '{kept}'"
    before = client.sf.query(soql)["records"]
    response = client.send("PATCH", f"sobjects/Contact/{kept}", json.dumps(record))
    assert_salesforce_shaped(response)
    if response.status_code >= 400:
        assert client.sf.query(soql)["records"] == before, response.text[:300]
    else:  # keep the record findable for the next example
        client.sf.Contact.update(kept, {"LastName": "Kept"})


SOQL_FIELDS = st.sampled_from(["Id", "LastName", "Account.Name", "COUNT()", "COUNT(Id)", "MAX(CreatedDate)",
                               "FORMAT(LastName)", "toLabel(LeadSource)", "(SELECT Id FROM Cases)", "Nope__c",
                               "TYPEOF What WHEN Account THEN Name END", "DISTANCE(x, GEOLOCATION(1,2), 'mi')"])
SOQL_OBJECTS = st.sampled_from(["Contact", "Account", "Task", "Nope", "Contact c", "User", ""])
SOQL_WHERE = st.one_of(st.just(""), st.builds(lambda f, op, v: f" WHERE {f} {op} {v}",
                                              st.sampled_from(["LastName", "CreatedDate", "Id", "Amount", "x"]),
                                              st.sampled_from(["=", "!=", "LIKE", "IN", "<", "INCLUDES", "=="]),
                                              st.one_of(st.sampled_from(["'a'", "null", "TODAY", "LAST_N_DAYS:3",
                                                                         "2026-01-01", "1e400", "('a','b')",
                                                                         ":bind", "'\\'", "'unterminated"]),
                                                        ANY_TEXT)))
SOQL_TAIL = st.sampled_from(["", " ORDER BY LastName DESC NULLS LAST", " LIMIT 5", " LIMIT -1", " OFFSET 99999",
                             " GROUP BY LastName", " FOR UPDATE", " WITH SECURITY_ENFORCED", " LIMIT 1e9",
                             " ORDER BY", " HAVING COUNT(Id) > 1", " ALL ROWS"])


@SETTINGS
@given(fields=st.lists(SOQL_FIELDS, min_size=1, max_size=3), sobject=SOQL_OBJECTS, where=SOQL_WHERE,
       tail=SOQL_TAIL, kind=st.sampled_from(["query", "queryAll"]))
def test_generated_soql_statements(client, fields, sobject, where, tail, kind):
    soql = f"SELECT {', '.join(fields)} FROM {sobject}{where}{tail}"
    q = quote(soql.encode("utf-8", "surrogatepass"), safe="")
    assert_salesforce_shaped(client.send("GET", f"{kind}?q={q}"))


@SETTINGS
@given(term=ANY_TEXT, scope=st.sampled_from(["", " IN ALL FIELDS", " IN PHONE FIELDS", " IN NOPE FIELDS"]),
       returning=st.sampled_from(["", " RETURNING Contact", " RETURNING Contact(Id, LastName WHERE LastName = 'x')",
                                  " RETURNING Nope(Id)", " RETURNING Contact(Id LIMIT -1)", " RETURNING"]),
       tail=st.sampled_from(["", " LIMIT 5", " LIMIT x", " WITH SNIPPET", " UPDATE TRACKING"]))
def test_generated_sosl_statements(client, term, scope, returning, tail):
    sosl = "FIND {" + term.replace("}", "") + "}" + scope + returning + tail
    q = quote(sosl.encode("utf-8", "surrogatepass"), safe="")
    assert_salesforce_shaped(client.send("GET", f"search?q={q}"))


@SETTINGS
@given(records=st.lists(st.one_of(RECORDS, JSON), max_size=3), all_or_none=st.booleans(),
       api=st.sampled_from(["composite", "tree"]))
@example(records=[{"attributes": True}], all_or_none=False, api="tree")              # was a 500
@example(records=[{"LastName": "P", "Cases": {"records": 5}}], all_or_none=False, api="tree")
def test_composite_requests_write_all_or_nothing(client, records, all_or_none, api):
    before = client.count()
    if api == "tree":
        items = [{"attributes": {"type": "Contact", "referenceId": f"r{i}"}, **(r if isinstance(r, dict) else {})}
                 for i, r in enumerate(records)]
        response = client.send("POST", "composite/tree/Contact", json.dumps({"records": items}))
        if response.status_code == 400 and isinstance(response.json(), dict):  # a tree's own error shape
            assert response.json()["hasErrors"] is True and response.json()["results"]
        else:
            assert_salesforce_shaped(response)
        created = len(records) if response.status_code < 300 else 0   # a tree is all or none
    else:
        subrequests = [{"method": "POST", "url": "/services/data/v62.0/sobjects/Contact", "referenceId": f"r{i}",
                        "body": r} for i, r in enumerate(records)]
        response = client.send("POST", "composite", json.dumps({"allOrNone": all_or_none,
                                                                "compositeRequest": subrequests}))
        assert_salesforce_shaped(response)
        answers = response.json().get("compositeResponse", []) if response.status_code < 300 else []
        created = sum(1 for a in answers if a.get("httpStatusCode") == 201)
        if all_or_none and created:
            assert created == len(records)
    assert client.count() == before + created, response.text[:300]


@SETTINGS
@given(body=st.binary(max_size=200), path=st.sampled_from(["sobjects/Contact", "composite/sobjects",
                                                           "sobjects/Contact/003000000000000AAA"]),
       method=st.sampled_from(["POST", "PATCH"]))
def test_raw_bodies(client, body, path, method):
    write_and_check(client, method, path, body, 1)


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"a":' * 100_000, b'"' + b"x" * 11_000_000 + b'"'],
                         ids=["deep-list", "deep-object", "long-string"])
def test_limits(client, body):
    response = write_and_check(client, "POST", "sobjects/Contact", body, 1)
    assert response.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


def raw_exchange(server, request: bytes) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("chunks", [b"zz\r\n{}\r\n0\r\n\r\n", b"5\r\n{}\r\n0\r\n\r\n", b"2\r\n{}"])
def test_malformed_chunked_body(client, chunks):
    before = client.count()
    answer = raw_exchange(client.server, b"POST /services/data/v62.0/sobjects/Contact HTTP/1.1\r\n"
                          b"Host: 127.0.0.1\r\nAuthorization: Bearer " + client.sf.session_id.encode()
                          + b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                          b"Connection: close\r\n\r\n" + chunks)
    status = int(answer.split(b" ", 2)[1]) if answer else 0
    assert 400 <= status < 500, answer[:300]
    assert client.count() == before


def _ingest_job(client) -> str:
    response = client.sf.session.post(client.sf.base_url + "jobs/ingest", headers=client.sf.headers,
                                      json={"object": "Contact", "operation": "insert"})
    return response.json()["id"]


def _upload(client, job_id: str, head: bytes, body: bytes) -> tuple[int, bytes]:
    answer = raw_exchange(client.server, f"PUT /services/data/v62.0/jobs/ingest/{job_id}/batches HTTP/1.1\r\n"
                          f"Host: 127.0.0.1\r\nAuthorization: Bearer {client.sf.session_id}\r\n"
                          "Content-Type: text/csv\r\nConnection: close\r\n".encode() + head + b"\r\n" + body)
    head_part, _, payload = answer.partition(b"\r\n\r\n")
    return (int(answer.split(b" ", 2)[1]) if answer else 0), payload


def _rows_after_close(client, job_id: str) -> int:
    """Close the job and let the fake work it: the rows it took from the uploads."""
    url = client.sf.base_url + f"jobs/ingest/{job_id}"
    client.sf.session.patch(url, headers=client.sf.headers, json={"state": "UploadComplete"})
    return client.sf.session.get(url, headers=client.sf.headers).json()["numberRecordsProcessed"]


@pytest.mark.parametrize("chunks", [b"zz\r\nLastName\n\r\n0\r\n\r\n", b"40\r\nLastName\nA\n\r\n0\r\n\r\n",
                                    b"9\r\nLastName\n"], ids=["bad-size", "short-chunk", "cut-off"])
def test_bulk_upload_malformed_chunked_body_is_a_salesforce_4xx(client, chunks):
    job_id = _ingest_job(client)
    status, payload = _upload(client, job_id, b"Transfer-Encoding: chunked\r\n", chunks)
    assert 400 <= status < 500, payload[:300]
    assert {"errorCode", "message"} <= set(json.loads(payload)[0]), payload[:300]
    assert _rows_after_close(client, job_id) == 0


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_bulk_upload_past_the_size_limit_is_413(client, monkeypatch, chunked):
    from fake_salesforce.api import bulk
    monkeypatch.setattr(bulk, "MAX_UPLOAD_BYTES", 1000)
    job_id = _ingest_job(client)
    csv_data = b"LastName\n" + b"Name\n" * 400
    if chunked:
        head, body = b"Transfer-Encoding: chunked\r\n", b"%x\r\n%s\r\n0\r\n\r\n" % (len(csv_data), csv_data)
    else:
        head, body = b"Content-Length: %d\r\n" % len(csv_data), csv_data
    status, payload = _upload(client, job_id, head, body)
    assert status == 413, payload[:300]
    assert json.loads(payload)[0]["errorCode"] == "REQUEST_ENTITY_TOO_LARGE"
    assert _rows_after_close(client, job_id) == 0


def test_bulk_upload_with_a_field_past_the_limit_keeps_no_row(client):
    job_id = _ingest_job(client)
    csv_data = b"LastName\nKept\n" + b"x" * 200_000 + b"\n"
    status, payload = _upload(client, job_id, b"Content-Length: %d\r\n" % len(csv_data), csv_data)
    assert status == 400 and json.loads(payload)[0]["errorCode"] == "INVALIDBATCH", payload[:300]
    assert _rows_after_close(client, job_id) == 0


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_soap_login_past_the_size_limit_is_a_413_fault(client, monkeypatch, chunked):
    from fake_salesforce.api import soap
    monkeypatch.setattr(soap, "MAX_MESSAGE_BYTES", 1000)
    envelope = (b'<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv='
                b'"http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><login>'
                b"<username>" + b"u" * 2000 + b"</username><password>p</password>"
                b"</login></soapenv:Body></soapenv:Envelope>")
    if chunked:
        head, body = b"Transfer-Encoding: chunked\r\n", b"%x\r\n%s\r\n0\r\n\r\n" % (len(envelope), envelope)
    else:
        head, body = b"Content-Length: %d\r\n" % len(envelope), envelope
    answer = raw_exchange(client.server, b"POST /services/Soap/u/62.0 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Content-Type: text/xml\r\nSOAPAction: login\r\nConnection: close\r\n"
                          + head + b"\r\n" + body)
    status, payload = int(answer.split(b" ", 2)[1]), answer.partition(b"\r\n\r\n")[2]
    assert status == 413, payload[:300]
    assert b"<faultcode>sf:REQUEST_ENTITY_TOO_LARGE</faultcode>" in payload
