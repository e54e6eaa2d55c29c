"""Seeding many records through POST /_fake/seed: the same answers as records written a few at
a time, errors that name the record, and nothing written when one record is refused."""
import json

import pytest

from fake_salesforce import org as org_module
from fake_salesforce import store as store_module
from fake_salesforce.control import ControlError
from fake_salesforce.soql.compiler import Context, compile_query
from fake_salesforce.soql.parser import parse_query

NOW = "2026-11-02T09:00:00Z"


def contact(i: int) -> dict:
    return {"FirstName": "Seed", "LastName": f"Contact{i}", "Email": f"seed{i}@example.com",
            "Phone": f"+1 212 555 {i:04d}", "Title": "Buyer" if i % 3 else "Owner"}


QUERIES = [
    "SELECT Id, Name, Email, Phone FROM Contact WHERE Email = 'SEED17@example.com'",
    "SELECT COUNT() FROM Contact",
    "SELECT Id, Name FROM Contact ORDER BY Name LIMIT 5",
    "SELECT Id, CreatedDate FROM Contact LIMIT 7",
    "SELECT Id FROM Contact WHERE Name LIKE 'Seed Contact12%'",
    "SELECT Id, Title FROM Contact WHERE Title = 'owner' LIMIT 4",
    "SELECT COUNT() FROM Contact WHERE Title = 'Buyer'",
]
SEARCHES = [
    "FIND {(212) 555-0017} IN PHONE FIELDS RETURNING Contact(Name, Phone)",
    "FIND {seed2024@example.com} IN EMAIL FIELDS RETURNING Contact(Name)",
    "FIND {Contact2400} RETURNING Contact(Id)",
]


def answers(sf) -> list:
    return [sf.query(text) for text in QUERIES] + [sf.search(text) for text in SEARCHES]


def fresh_org(fake_org):
    fake_org.control.reset(seed=7)
    fake_org.control.set_clock(NOW)


def test_one_large_seed_answers_as_many_small_ones(fake_org, sf):
    """2,500 Contacts in one call (the table's indexes are built after the rows) against the
    same records in batches of 100 (each row goes into the indexes as it is written)."""
    records = [contact(i) for i in range(2500)]
    fresh_org(fake_org)
    small = [fake_org.control.seed("Contact", records[i:i + 100]) for i in range(0, 2500, 100)]
    expected = answers(sf)

    fresh_org(fake_org)
    sf.query("SELECT Id FROM Contact WHERE Title = 'x'")   # an index made on first use, before the seed
    ids = fake_org.control.seed("Contact", records)
    assert ids == [i for batch in small for i in batch]
    assert answers(sf) == expected
    assert expected[0]["records"][0]["Id"] == ids[17]
    assert expected[1]["totalSize"] == 2500
    assert [r["attributes"]["url"][-18:] for r in expected[-3]["searchRecords"]] == [ids[17]]


@pytest.mark.parametrize("text, index", [
    ("SELECT Id FROM Contact WHERE Email = 'seed17@example.com'", "idx_Contact_Email_nocase"),
    ("SELECT Id FROM Contact WHERE Title = 'Owner'", "idx_Contact_Title_nocase_recent"),
    ("SELECT Id FROM Contact ORDER BY LastModifiedDate DESC LIMIT 3", "idx_Contact_LastModifiedDate_Id"),
])
def test_indexes_are_there_after_a_large_seed(fake_org, sf, text, index):
    sf.query("SELECT Id FROM Contact WHERE Title = 'x'")
    fake_org.control.seed("Contact", [contact(i) for i in range(2500)])
    org = fake_org.org
    compiled = compile_query(Context(org.schema, text, now=org.clock.now()), parse_query(text))
    plan = " ".join(row[-1] for row in org.store.execute("EXPLAIN QUERY PLAN " + compiled.sql,
                                                           compiled.params))
    assert f"INDEX {index}" in plan, plan


@pytest.mark.parametrize("bad, message", [
    ({"Email": "not an address"}, "records[2999] (Contact): Email: invalid email address: not an address"),
    ({"LastName": None}, "records[2999] (Contact): Required fields are missing: [LastName]"),
    ({"Title": "x" * 129}, "records[2999] (Contact): Title: data value too large"),
    ({"Birthdate": "soon"}, "records[2999] (Contact): Cannot deserialize instance of date"),
    ({"Colour": "red"}, "records[2999] (Contact): No such column 'Colour' on sobject of type Contact"),
])
def test_a_bad_record_late_in_a_large_seed_is_named_and_nothing_is_written(fake_org, sf, monkeypatch,
                                                                           bad, message):
    """Rows already written to the table (with its indexes built after them) are undone too."""
    monkeypatch.setattr(org_module, "SEED_FLUSH_ROWS", 3000)    # rows go to SQLite every 1,500 records
    monkeypatch.setattr(store_module, "BULK_ROWS", 1000)
    records = [contact(i) for i in range(3000)]
    records[2999] = {**records[2999], **bad}
    with pytest.raises(ControlError) as info:
        fake_org.control.seed("Contact", records)
    assert message in str(info.value)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    assert sf.search(SEARCHES[0])["searchRecords"] == []
    ids = fake_org.control.seed("Contact", records[:3])
    assert [r["Id"] for r in sf.query("SELECT Id FROM Contact ORDER BY Name")["records"]] == ids


def test_the_records_of_one_seed_carry_its_instant_and_keep_their_order(fake_org, sf):
    fake_org.control.unfreeze()
    ids = fake_org.control.seed("Contact", [contact(i) for i in range(5)])
    records = sf.query("SELECT Id, CreatedDate, LastModifiedDate FROM Contact")["records"]
    assert [r["Id"] for r in records] == ids[::-1]   # most recently modified first
    assert len({(r["CreatedDate"], r["LastModifiedDate"]) for r in records}) == 1


def post_seed(fake_org, body: bytes):
    control = fake_org.control
    return control.session.post(control.base + "/seed", data=body,
                                headers={**control.headers, "Content-Type": "application/json"})


@pytest.mark.parametrize("body", [
    b'{"records": [{"sobject": "Contact", "fields": {"LastName": "A\\ud800"}}]}',
    '{"records": [{"sobject": "Contact", "fields": {"LastName": "A\ud800"}}]}'.encode("utf-8", "surrogatepass"),
    '{"records": [{"sobject": "Contact", "fields": {"LastName": "A\\ud800"}}]}'.encode("utf-16"),
    b'{"records": [{"sobject": "Contact", "fields": {"LastName": "A"}}], "x\\udc00": 1}',
], ids=["escape", "utf-8-bytes", "utf-16", "key"])
def test_a_seed_body_with_a_lone_surrogate_is_refused(fake_org, body):
    answer = post_seed(fake_org, body)
    assert answer.status_code == 400, answer.text
    assert answer.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    assert "lone UTF-16 surrogate" in answer.json()[0]["message"]
    assert fake_org.control.info()["counts"]["Contact"] == 0


def test_a_seed_body_with_a_number_too_big_for_a_double_is_refused(fake_org):
    answer = post_seed(fake_org, b'{"records": [{"sobject": "Opportunity", "fields": {"Amount": 1e999}}]}')
    assert answer.status_code == 400
    assert answer.json()[0] == {"errorCode": "JSON_PARSER_ERROR", "fields": [],
                                "message": "Number out of range for a double in the request body"}


def test_a_seed_body_with_escaped_and_astral_text_is_kept(fake_org, sf):
    body = json.dumps({"records": [{"sobject": "Contact", "fields": {"LastName": "Ch\u00e9 \U0001F600"}}]})
    assert "\\ud83d" in body     # json.dumps escapes the emoji as a surrogate pair, which is fine
    answer = post_seed(fake_org, body.encode())
    assert answer.status_code == 201, answer.text
    assert sf.Contact.get(answer.json()["ids"][0])["LastName"] == "Ch\u00e9 \U0001F600"


@pytest.mark.parametrize("depth, status", [(100, 201), (101, 400)])
def test_a_seed_body_nested_past_100_levels_is_refused(fake_org, depth, status):
    """The body's object is level 1, the list under its "x" level 2: 99 nested lists reach 100."""
    nested = "[" * (depth - 1) + "]" * (depth - 1)
    answer = post_seed(fake_org, f'{{"records": [], "x": {nested}}}'.encode())
    assert answer.status_code == status, answer.text
    if status == 400:
        assert answer.json()[0]["message"] == "The request body nests deeper than 100 levels"


def phone_hits(sf, number: str) -> list[str]:
    answer = sf.search(f"FIND {{{number}}} IN PHONE FIELDS RETURNING Contact(Id), Lead(Id), Account(Id)")
    return sorted(r["Id"] for r in answer["searchRecords"])


def test_records_written_after_a_seed_are_found_by_phone(fake_org, sf):
    """A seed marks its own records for phone indexing (one statement after the rows); records
    created and changed by the API after it, and after a seed that failed, are marked too."""
    seeded = fake_org.control.seed("Contact", [contact(i) for i in range(3)])
    with pytest.raises(ControlError):
        fake_org.control.seed("Contact", [contact(3), {"LastName": None, "Phone": "+1 212 555 0004"}])
    created = sf.Contact.create({"LastName": "After", "Phone": "+1 212 555 0100"})["id"]
    lead = sf.Lead.create({"LastName": "Lead", "Company": "Acme", "MobilePhone": "+1 212 555 0101"})["id"]
    account = sf.Account.create({"Name": "Acme", "Phone": "+1 212 555 0102"})["id"]
    sf.Contact.update(seeded[1], {"Phone": "+1 212 555 0103"})
    assert phone_hits(sf, "212 555 0000") == [seeded[0]]
    assert phone_hits(sf, "212 555 0003") == []   # in the failed seed
    assert phone_hits(sf, "212 555 0100") == [created]
    assert phone_hits(sf, "212 555 0101") == [lead]
    assert phone_hits(sf, "212 555 0102") == [account]
    assert phone_hits(sf, "212 555 0103") == [seeded[1]]
    assert phone_hits(sf, "212 555 0001") == []   # its old number
    sf.Contact.update(created, {"Phone": None, "MobilePhone": "+1 212 555 0104"})
    assert phone_hits(sf, "212 555 0100") == []
    assert phone_hits(sf, "212 555 0104") == [created]
