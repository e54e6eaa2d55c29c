"""Bulk API 2.0 through simple-salesforce's bulk2 client: ingest and query jobs, per-row results."""
import csv
import gzip
import io

import pytest


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_insert_job_reports_each_row(sf):
    records = [{"LastName": f"Bulk {i}", "Email": f"b{i}@example.com"} for i in range(5)]
    records.append({"LastName": "", "Email": "nameless@example.com"})
    (result,) = sf.bulk2.Contact.insert(records=records, wait=0.01)
    assert (result["numberRecordsProcessed"], result["numberRecordsFailed"]) == (6, 1)
    ok = _rows(sf.bulk2.Contact.get_successful_records(result["job_id"]))
    assert [r["LastName"] for r in ok] == [f"Bulk {i}" for i in range(5)]
    assert all(r["sf__Created"] == "true" and r["sf__Id"].startswith("003") for r in ok)
    (failed,) = _rows(sf.bulk2.Contact.get_failed_records(result["job_id"]))
    assert failed["sf__Error"].startswith("REQUIRED_FIELD_MISSING:") and failed["Email"] == "nameless@example.com"
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 5


def test_update_upsert_and_delete_jobs(sf):
    first = sf.Contact.create({"LastName": "Before", "External_Id__c": "X-1"})["id"]
    sf.bulk2.Contact.update(records=[{"Id": first, "LastName": "After"}], wait=0.01)
    assert sf.Contact.get(first)["LastName"] == "After"
    (up,) = sf.bulk2.Contact.upsert(records=[{"External_Id__c": "X-1", "Title": "CEO"},
                                            {"External_Id__c": "X-2", "LastName": "New"}],
                                   external_id_field="External_Id__c", wait=0.01)
    rows = _rows(sf.bulk2.Contact.get_successful_records(up["job_id"]))
    assert [(r["sf__Created"], r["External_Id__c"]) for r in rows] == [("false", "X-1"), ("true", "X-2")]
    assert sf.Contact.get(first)["Title"] == "CEO"
    sf.bulk2.Contact.delete(records=[{"Id": first}], wait=0.01)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 1


def test_query_job_pages_with_locator_and_flattens_parents(sf):
    account = sf.Account.create({"Name": "Acme"})["id"]
    for i in range(7):
        sf.Contact.create({"LastName": f"Q{i}", "AccountId": account})
    pages = list(sf.bulk2.Contact.query("SELECT LastName, Account.Name FROM Contact ORDER BY LastName",
                                        max_records=3, wait=0.01))
    assert len(pages) == 3
    rows = [r for page in pages for r in _rows(page)]
    assert [r["LastName"] for r in rows] == [f"Q{i}" for i in range(7)]
    assert {r["Account.Name"] for r in rows} == {"Acme"}


def test_job_lifecycle_errors_and_deterministic_progress(fake_org, sf):
    fake_org.org.config.bulk_polls = 2
    try:
        base, headers = sf.base_url, sf.headers
        job = sf.session.post(base + "jobs/ingest", headers=headers,
                              json={"object": "Contact", "operation": "insert"}).json()
        url = base + f"jobs/ingest/{job['id']}"
        upload = sf.session.put(url + "/batches", data="LastName\nOne\nTwo\n",
                                headers={**headers, "Content-Type": "text/csv"})
        assert upload.status_code == 201
        assert sf.session.patch(url, json={"state": "UploadComplete"}, headers=headers).json()["state"] == "UploadComplete"
        again = sf.session.put(url + "/batches", data="LastName\nX\n", headers={**headers, "Content-Type": "text/csv"})
        assert again.status_code == 409 and again.json()[0]["errorCode"] == "INVALIDJOBSTATE"
        states = [sf.session.get(url, headers=headers).json()["state"] for _ in range(3)]
        assert states == ["InProgress", "InProgress", "JobComplete"]
        assert sf.session.get(base + "jobs/ingest", headers=headers).json()["records"][0]["id"] == job["id"]
        assert sf.session.delete(url, headers=headers).status_code == 204
        assert sf.session.get(url, headers=headers).status_code == 404
        waiting = sf.session.post(base + "jobs/query", headers=headers,
                                  json={"operation": "query", "query": "SELECT Id FROM Contact"}).json()
        assert fake_org.control.complete_bulk_jobs() == 1
        done = sf.session.get(base + f"jobs/query/{waiting['id']}", headers=headers).json()
        assert (done["state"], done["numberRecordsProcessed"]) == ("JobComplete", 2)
    finally:
        fake_org.org.config.bulk_polls = 0


@pytest.mark.parametrize("body, code", [
    ({"object": "Nope", "operation": "insert"}, "NOT_FOUND"),
    ({"object": "Contact", "operation": "merge"}, "INVALIDJOB"),
    ({"object": "Contact", "operation": "upsert"}, "INVALIDJOB"),
    ({"object": "Contact", "operation": "upsert", "externalIdFieldName": "LastName"}, "INVALIDJOB"),
    ({"object": "Contact", "operation": "insert", "columnDelimiter": ["COMMA"]}, "INVALIDJOB"),
    ({"object": "Contact", "operation": "insert", "lineEnding": {"LF": True}}, "INVALIDJOB"),
    ({"object": "Contact", "operation": ["insert"]}, "INVALIDJOB"),
])
def test_bad_ingest_jobs_are_refused(sf, body, code):
    response = sf.session.post(sf.base_url + "jobs/ingest", headers=sf.headers, json=body)
    assert response.status_code in (400, 404) and response.json()[0]["errorCode"] == code


def test_an_assignment_rule_is_refused_by_name_and_no_job_is_made(sf):
    response = sf.session.post(sf.base_url + "jobs/ingest", headers=sf.headers,
                               json={"object": "Lead", "operation": "insert",
                                     "assignmentRuleId": "01Q000000000001AAA"})
    assert response.status_code == 501
    assert response.json()[0]["errorCode"] == "FAKE_NOT_IMPLEMENTED"
    assert "assignmentRuleId" in response.json()[0]["message"]
    assert sf.session.get(sf.base_url + "jobs/ingest", headers=sf.headers).json()["records"] == []


def test_bad_query_job_is_refused_at_creation(sf):
    response = sf.session.post(sf.base_url + "jobs/query", headers=sf.headers,
                               json={"operation": "query", "query": "SELECT Nope FROM Contact"})
    assert response.status_code == 400 and response.json()[0]["errorCode"] == "INVALID_FIELD"


@pytest.mark.parametrize("query", [
    "SELECT LastName, COUNT(Id) FROM Contact GROUP BY LastName",
    "SELECT COUNT() FROM Contact",
    "SELECT Id FROM Contact LIMIT 5 OFFSET 1",
    "SELECT Id, TYPEOF What WHEN Account THEN Name END FROM Task",
    "SELECT FIELDS(ALL) FROM Contact LIMIT 200",
    "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
])
def test_query_job_refuses_what_bulk_queries_cannot_do_at_creation(sf, query):
    response = sf.session.post(sf.base_url + "jobs/query", headers=sf.headers,
                               json={"operation": "query", "query": query})
    assert response.status_code == 400 and response.json()[0]["errorCode"] == "INVALIDJOB"
    assert sf.session.get(sf.base_url + "jobs/query", headers=sf.headers).json()["records"] == []


@pytest.mark.parametrize("locator", ["-1", "4", "1e0", "x"])
def test_query_results_refuse_a_locator_outside_the_results(sf, locator):
    for i in range(3):
        sf.Contact.create({"LastName": f"L{i}"})
    job = sf.session.post(sf.base_url + "jobs/query", headers=sf.headers,
                          json={"operation": "query", "query": "SELECT Id FROM Contact"}).json()
    assert sf.session.get(sf.base_url + f"jobs/query/{job['id']}", headers=sf.headers).json()["state"] == "JobComplete"
    url = sf.base_url + f"jobs/query/{job['id']}/results"
    assert sf.session.get(url, headers=sf.headers, params={"locator": "3"}).text.splitlines() == ["Id"]
    response = sf.session.get(url, headers=sf.headers, params={"locator": locator})
    assert response.status_code == 400 and response.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_abort_hard_delete_and_unprocessed_records(sf):
    base, headers = sf.base_url, sf.headers
    job = sf.session.post(base + "jobs/ingest", headers=headers,
                          json={"object": "Contact", "operation": "insert"}).json()
    url = base + f"jobs/ingest/{job['id']}"
    sf.session.put(url + "/batches", data="LastName\nNever\n", headers={**headers, "Content-Type": "text/csv"})
    assert sf.session.patch(url, json={"state": "Aborted"}, headers=headers).json()["state"] == "Aborted"
    unprocessed = sf.session.get(url + "/unprocessedrecords", headers=headers).text
    assert unprocessed.splitlines() == ["LastName", "Never"]
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    doomed = sf.Contact.create({"LastName": "Doomed"})["id"]
    (result,) = sf.bulk2.Contact.hard_delete(records=[{"Id": doomed}], wait=0.01)
    assert (result["numberRecordsProcessed"], result["numberRecordsFailed"]) == (1, 0)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0


def test_large_insert_job_rows_stand_or_fall_alone(sf):
    """More rows than the store buffers between writes, every 1,000th one refused: a refused row
    leaves nothing behind, the others are all stored with their audit fields, in order, and
    found by phone."""
    n = 12_000
    bad = set(range(999, n, 1000))
    records = [{"LastName": f"Row {i}", "Email": "not-an-address" if i in bad else f"r{i}@example.com",
                "Phone": f"+1 646 {i // 10000:03d} {i % 10000:04d}"} for i in range(n)]
    (result,) = sf.bulk2.Contact.insert(records=records, wait=0.01)
    assert (result["numberRecordsProcessed"], result["numberRecordsFailed"]) == (n, len(bad))
    ok = _rows(sf.bulk2.Contact.get_successful_records(result["job_id"]))
    assert [r["LastName"] for r in ok] == [f"Row {i}" for i in range(n) if i not in bad]
    failed = _rows(sf.bulk2.Contact.get_failed_records(result["job_id"]))
    assert [r["LastName"] for r in failed] == [f"Row {i}" for i in sorted(bad)]
    assert all(r["sf__Error"].startswith("INVALID_EMAIL_ADDRESS:") for r in failed)
    assert [r["sf__Id"] for r in ok] == sorted(r["sf__Id"] for r in ok)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == n - len(bad)
    assert sf.query("SELECT COUNT() FROM Contact WHERE Email = 'not-an-address'")["totalSize"] == 0
    newest = sf.query("SELECT Id, LastName, CreatedById, CreatedDate FROM Contact LIMIT 2")["records"]
    assert [r["Id"] for r in newest] == [ok[-1]["sf__Id"], ok[-2]["sf__Id"]]
    admin = sf.query("SELECT Id FROM User WHERE Username = 'admin@example.com'")["records"][0]["Id"]
    assert all(r["CreatedById"] == admin and r["CreatedDate"] for r in newest)

    def phone(number):
        return [r["Id"] for r in sf.search(f"FIND {{{number}}} IN PHONE FIELDS RETURNING Contact(Id)")["searchRecords"]]
    assert phone("6460001234") == [ok[1234 - 1]["sf__Id"]]       # rows 0..998 are ok: index = row
    assert phone("(646) 000-0999") == [] and phone("+1 646 001 1999") == []


def test_gzip_upload_is_decompressed_within_the_size_limit(sf, monkeypatch):
    from fake_salesforce.api import bulk
    monkeypatch.setattr(bulk, "MAX_UPLOAD_BYTES", 1000)
    headers = {**sf.headers, "Content-Type": "text/csv", "Content-Encoding": "gzip"}

    def upload(csv_data: bytes):
        job = sf.session.post(sf.base_url + "jobs/ingest", headers=sf.headers,
                              json={"object": "Contact", "operation": "insert"}).json()
        url = sf.base_url + f"jobs/ingest/{job['id']}"
        return url, sf.session.put(url + "/batches", data=gzip.compress(csv_data), headers=headers)

    url, small = upload(b"LastName\nSmall\n")
    assert small.status_code == 201
    sf.session.patch(url, json={"state": "UploadComplete"}, headers=sf.headers)
    assert sf.session.get(url, headers=sf.headers).json()["numberRecordsProcessed"] == 1
    url, bomb = upload(b"LastName\n" + b"Name\n" * 400)   # 2 kB once decompressed
    assert bomb.status_code == 413 and bomb.json()[0]["errorCode"] == "REQUEST_ENTITY_TOO_LARGE"
    assert [r["LastName"] for r in sf.query("SELECT LastName FROM Contact")["records"]] == ["Small"]


@pytest.mark.parametrize("header", ["LastName,LastName", "LastName,lastname"])
def test_ingest_job_with_a_field_twice_in_the_header_fails(sf, header):
    base, headers = sf.base_url, sf.headers
    job = sf.session.post(base + "jobs/ingest", headers=headers, json={"object": "Contact", "operation": "insert"}).json()
    url = base + f"jobs/ingest/{job['id']}"
    sf.session.put(url + "/batches", data=f"{header}\nFirst,Second\n", headers={**headers, "Content-Type": "text/csv"})
    sf.session.patch(url, json={"state": "UploadComplete"}, headers=headers)
    done = sf.session.get(url, headers=headers).json()
    assert done["state"] == "Failed" and "Duplicate field name" in done["errorMessage"]
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0


@pytest.mark.parametrize("line_ending, data", [("LF", "LastName\r\nWindows\r\n"), ("CRLF", "LastName\nUnix\n")])
def test_ingest_job_fails_when_the_data_has_other_line_endings(sf, line_ending, data):
    base, headers = sf.base_url, sf.headers
    job = sf.session.post(base + "jobs/ingest", headers=headers,
                          json={"object": "Contact", "operation": "insert", "lineEnding": line_ending}).json()
    url = base + f"jobs/ingest/{job['id']}"
    assert sf.session.put(url + "/batches", data=data, headers={**headers, "Content-Type": "text/csv"}).status_code == 201
    sf.session.patch(url, json={"state": "UploadComplete"}, headers=headers)
    done = sf.session.get(url, headers=headers).json()
    assert done["state"] == "Failed"
    assert done["errorMessage"] == ("ClientInputError : LineEnding is invalid on user data. "
                                    f"Current LineEnding setting is {line_ending}")
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0


def test_crlf_job_with_crlf_data_runs(sf):
    (result,) = sf.bulk2.Contact.insert(records=[{"LastName": "One"}, {"LastName": "Two"}],
                                        line_ending="CRLF", wait=0.01)
    assert (result["numberRecordsProcessed"], result["numberRecordsFailed"]) == (2, 0)
