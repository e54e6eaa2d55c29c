"""SOQL through simple-salesforce: record shape, paging and query locators, queryAll, the
default orders, multi-select picklists, and values that never reach SQL as text.
(Operators, literals and error messages are tabled in tests/data/soql/.)"""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

import fake_salesforce
from fake_salesforce import errors
from fake_salesforce.soql import parse_query

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc)
SCHEMA = Path(__file__).resolve().parents[1] / "data" / "soql" / "schema" / "multipicklist.yaml"


def seed_contacts(org, n: int, **fields) -> list[str]:
    org.clock.set(NOW)
    return org.seed([{"sobject": "Contact", "fields": {"LastName": f"C{i:05d}", **fields}}
                     for i in range(n)])


def test_records_carry_attributes_and_fields_in_select_order(fake_org, sf):
    account = sf.Account.create({"Name": "Acme"})["id"]
    contact = sf.Contact.create({"LastName": "Martin", "AccountId": account})["id"]
    answer = sf.query("SELECT Name, Id, Account.Name, AccountId FROM Contact")
    assert answer == {"totalSize": 1, "done": True, "records": [{
        "attributes": {"type": "Contact", "url": f"/services/data/v59.0/sobjects/Contact/{contact}"},
        "Name": "Martin", "Id": contact,
        "Account": {"attributes": {"type": "Account",
                                   "url": f"/services/data/v59.0/sobjects/Account/{account}"},
                    "Name": "Acme"},
        "AccountId": account}]}
    assert list(answer["records"][0]) == ["attributes", "Name", "Id", "Account", "AccountId"]


def test_polymorphic_parent_is_a_name_record_with_the_real_url(fake_org, sf):
    lead = sf.Lead.create({"LastName": "Lee", "Company": "Initech"})["id"]
    sf.Task.create({"Subject": "Call", "WhoId": lead})
    (record,) = sf.query("SELECT Who.Name FROM Task")["records"]
    assert record["Who"] == {"attributes": {"type": "Name",
                                            "url": f"/services/data/v59.0/sobjects/Lead/{lead}"},
                             "Name": "Lee"}


def test_aggregate_records_have_no_url(fake_org, sf):
    sf.Contact.create({"LastName": "Martin"})
    assert sf.query("SELECT COUNT(Id) total FROM Contact")["records"] == [
        {"attributes": {"type": "AggregateResult"}, "total": 1}]


def test_pages_of_2000_with_a_locator(fake_org, sf):
    seed_contacts(fake_org.org, 2500)
    first = sf.query("SELECT LastName FROM Contact ORDER BY LastName")
    assert first["totalSize"] == 2500 and first["done"] is False
    assert len(first["records"]) == 2000
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-2000")
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert second["done"] is True and "nextRecordsUrl" not in second
    names = [r["LastName"] for r in first["records"] + second["records"]]
    assert names == [f"C{i:05d}" for i in range(2500)]


def test_batch_size_header_and_query_all_follows_every_page(fake_org, sf):
    seed_contacts(fake_org.org, 450)
    headers = {"Sforce-Query-Options": "batchSize=200"}
    first = sf.query("SELECT Id FROM Contact", headers=headers)
    assert len(first["records"]) == 200 and first["totalSize"] == 450
    everything = sf.query_all("SELECT Id FROM Contact", headers=headers)
    assert everything["totalSize"] == 450 and len(everything["records"]) == 450
    assert len({r["Id"] for r in everything["records"]}) == 450


def test_limit_caps_total_size_across_pages(fake_org, sf):
    seed_contacts(fake_org.org, 300)
    answer = sf.query_all("SELECT Id FROM Contact LIMIT 250", headers={"Sforce-Query-Options": "batchSize=200"})
    assert answer["totalSize"] == 250 and len(answer["records"]) == 250


def test_child_subqueries_are_filled_on_later_pages_too(fake_org, sf):
    org = fake_org.org
    ids = seed_contacts(org, 205)
    org.seed([{"sobject": "Task", "fields": {"Subject": f"T{i}", "WhoId": i_d}} for i, i_d in enumerate(ids)])
    answer = sf.query_all("SELECT Id, (SELECT Subject FROM Tasks) FROM Contact",
                          headers={"Sforce-Query-Options": "batchSize=200"})
    assert all(r["Tasks"]["totalSize"] == 1 for r in answer["records"])


def test_locators_restart_with_a_reset_and_old_ones_are_gone(fake_org):
    org = fake_org.org

    def first_locator():
        seed_contacts(org, 201)
        return fake_org.client().query("SELECT Id FROM Contact",
                        headers={"Sforce-Query-Options": "batchSize=200"})["nextRecordsUrl"]

    before = first_locator()
    org.reset()
    after = first_locator()
    assert after == before
    org.reset()
    with pytest.raises(SalesforceMalformedRequest) as info:
        fake_org.client().query_more(before, identifier_is_url=True)
    assert info.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_compiling_needs_only_the_schema_the_time_and_the_order(fake_org):
    from fake_salesforce.soql.compiler import Context, Ordering, compile_query

    schema = fake_org.org.schema
    text = "SELECT Id FROM Contact WHERE CreatedDate = TODAY"
    compiled = [compile_query(Context(schema, text, now=NOW, order=Ordering("shuffle", seed)),
                              parse_query(text)) for seed in (1, 1, 2)]
    assert compiled[0].sql == compiled[1].sql and compiled[0].params == compiled[1].params
    assert compiled[0].sql != compiled[2].sql          # the seed is part of the shuffle key
    assert compiled[0].params[:2] == ["2026-11-02T00:00:00.000+0000", "2026-11-03T00:00:00.000+0000"]


def test_unknown_locator(fake_org, sf):
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.query_more("01gXXXXXXXXXXXXXXX-2000")
    assert info.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_query_all_includes_deleted_records(fake_org, sf):
    keep, gone = seed_contacts(fake_org.org, 2)
    sf.Contact.delete(gone)
    assert [r["Id"] for r in sf.query("SELECT Id FROM Contact")["records"]] == [keep]
    deleted = sf.query_all("SELECT Id, IsDeleted FROM Contact WHERE IsDeleted = true", include_deleted=True)
    assert deleted["records"][0]["Id"] == gone and deleted["records"][0]["IsDeleted"] is True


def test_default_order_is_most_recently_updated_first(fake_org, sf):
    org = fake_org.org
    first, second = seed_contacts(org, 2)
    org.clock.advance(60)
    sf.Contact.update(first, {"Title": "touched"})
    assert [r["Id"] for r in sf.query("SELECT Id FROM Contact")["records"]] == [first, second]


@pytest.mark.fake_sf_options(order="insertion")
def test_insertion_order_option(fake_org, sf):
    org = fake_org.org
    ids = seed_contacts(org, 3)
    org.clock.advance(60)
    sf.Contact.update(ids[1], {"Title": "touched"})
    assert [r["Id"] for r in sf.query("SELECT Id FROM Contact")["records"]] == ids


@pytest.mark.fake_sf_options(order="shuffle")
def test_shuffle_order_is_seeded_and_stable(fake_org, sf):
    ids = seed_contacts(fake_org.org, 30)
    once = [r["Id"] for r in sf.query("SELECT Id FROM Contact")["records"]]
    again = [r["Id"] for r in sf.query("SELECT Id FROM Contact")["records"]]
    assert once == again and sorted(once) == sorted(ids)
    assert once != ids and once != ids[::-1]


@pytest.mark.parametrize("hostile", [
    "' OR 1=1 --", "x'); DROP TABLE \"Contact\"; --", "\\' OR \\'1\\'=\\'1", "%' OR '%'='",
])
def test_values_are_parameters_never_sql(fake_org, sf, hostile):
    seed_contacts(fake_org.org, 2)
    escaped = hostile.replace("\\", "\\\\").replace("'", "\\'")
    assert sf.query(f"SELECT Id FROM Contact WHERE LastName = '{escaped}'")["totalSize"] == 0
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 2


def test_unicode_and_newlines_in_values(fake_org, sf):
    sf.Contact.create({"LastName": "Zoë\nO'Neil"})
    answer = sf.query("SELECT LastName FROM Contact WHERE LastName = 'Zoë\\nO\\'Neil'")
    assert answer["records"][0]["LastName"] == "Zoë\nO'Neil"


def test_parsing_is_cached_by_shape_and_the_tree_is_immutable():
    from fake_salesforce.soql import parser

    parse_query("SELECT Id FROM Contact WHERE LastName = 'shape-1' AND Email != 'a@b.c' LIMIT 3")
    before = parser._parse_planned.cache_info()
    text = "SELECT Id FROM Contact WHERE LastName = 'other-2' AND Email != 'it\\'s' LIMIT 3"
    tree = parse_query(text)
    after = parser._parse_planned.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)   # not parsed again
    assert tree == parser._PARSER.parse(text, start="query")                 # the same tree
    with pytest.raises(AttributeError):
        tree.limit = None
    # a string over two lines keeps the positions of what follows it
    text = "SELECT Id FROM Contact WHERE LastName = 'two\nlines' AND Email != 'x'\nLIMIT 3"
    assert parse_query(text) == parser._PARSER.parse(text, start="query")


def test_search_parsing_is_cached_by_shape():
    from fake_salesforce.soql import parser

    parser.parse_search("FIND {+33 6 12 34 56 78} IN PHONE FIELDS RETURNING Contact(Id WHERE Name != 'a')")
    before = parser._parse_planned.cache_info()
    text = "FIND {+33 6 98 76 54 32} IN PHONE FIELDS RETURNING Contact(Id WHERE Name != 'b')"
    tree = parser.parse_search(text)
    after = parser._parse_planned.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)
    assert tree == parser._PARSER.parse(text, start="search")
    assert tree.term == "+33 6 98 76 54 32"


def test_the_from_objects_name_as_a_qualifier_is_dropped_from_the_tree():
    tree = parse_query("SELECT Contact.LastName, Contact.Account.Name, (SELECT Contact.LastName "
                       "FROM Account.Contacts) FROM Contact WHERE Contact.Email != null "
                       "ORDER BY contact.LastName")
    assert [i.expr.parts for i in tree.items[:2]] == [("LastName",), ("Account", "Name")]
    assert tree.where.left.parts == ("Email",)
    assert tree.order_by[0].expr.parts == ("LastName",)
    # a subquery's FROM names a relationship: its own prefix is left to the compiler
    assert tree.items[2].select.items[0].expr.parts == ("Contact", "LastName")
    # TYPEOF's WHEN fields belong to the related record, and a single name is a field
    tree = parse_query("SELECT TYPEOF What WHEN Task THEN Task.Subject END, Task FROM Task")
    assert tree.items[0].whens[0][1][0].parts == ("Task", "Subject")
    assert tree.items[1].expr.parts == ("Task",)


def test_date_literals_follow_the_org_clock(fake_org, sf):
    org = fake_org.org
    org.clock.set(NOW)
    sf.Contact.create({"LastName": "Today"})
    assert sf.query("SELECT COUNT() FROM Contact WHERE CreatedDate = TODAY")["totalSize"] == 1
    org.clock.set(NOW + timedelta(days=1))
    assert sf.query("SELECT COUNT() FROM Contact WHERE CreatedDate = TODAY")["totalSize"] == 0
    assert sf.query("SELECT COUNT() FROM Contact WHERE CreatedDate = YESTERDAY")["totalSize"] == 1
    assert sf.query("SELECT COUNT() FROM Contact WHERE CreatedDate = THIS_WEEK")["totalSize"] == 1
    assert sf.query("SELECT COUNT() FROM Contact WHERE CreatedDate = N_DAYS_AGO:1")["totalSize"] == 1


@pytest.fixture
def picklist_org():
    org = fake_salesforce.Org(schema_files=(str(SCHEMA),))
    return org, fake_salesforce.connect(fake_salesforce.create_app(org))


def test_includes_and_excludes(picklist_org):
    org, sf = picklist_org
    org.create("Contact", {"LastName": "A", "Languages__c": "English;French"})
    org.create("Contact", {"LastName": "B", "Languages__c": "Spanish"})
    org.create("Contact", {"LastName": "C"})

    def names(where):
        return [r["LastName"] for r in sf.query(f"SELECT LastName FROM Contact WHERE {where} "
                                                "ORDER BY LastName")["records"]]

    assert names("Languages__c INCLUDES ('french')") == ["A"]
    assert names("Languages__c INCLUDES ('English;French', 'Spanish')") == ["A", "B"]
    assert names("Languages__c INCLUDES ('English;Spanish')") == []
    assert names("Languages__c EXCLUDES ('Spanish')") == ["A", "C"]


def test_backend_errors_are_salesforce_errors():
    org = fake_salesforce.Org()
    with pytest.raises(errors.MalformedQuery):
        org.query("SELECT Id FROM Contact WHERE (LastName = 'a'")
    with pytest.raises(errors.InvalidQueryLocator):
        org.query_more("nonsense")


def test_typeof_records_carry_the_type_they_point_at(fake_org, sf):
    account = sf.Account.create({"Name": "Acme"})["id"]
    lead = sf.Lead.create({"LastName": "Lee", "Company": "Initech"})["id"]
    sf.Task.create({"Subject": "a", "WhatId": account})
    sf.Task.create({"Subject": "b", "WhoId": lead})
    first, second = sf.query("SELECT TYPEOF What WHEN Account THEN Name END, TYPEOF Who WHEN "
                             "Contact THEN Name ELSE Name END FROM Task ORDER BY Subject")["records"]
    assert first["What"]["attributes"] == {
        "type": "Account", "url": f"/services/data/v59.0/sobjects/Account/{account}"}
    assert second["Who"]["attributes"] == {
        "type": "Lead", "url": f"/services/data/v59.0/sobjects/Lead/{lead}"}


def test_a_filtered_field_gets_an_index_on_first_use(fake_org, sf):
    from fake_salesforce.soql.compiler import Context, compile_query

    org = fake_org.org
    seed_contacts(org, 3, Title="CEO")
    text = "SELECT Id FROM Contact WHERE Title = 'ceo' AND Department LIKE 'Sal%'"
    compiled = compile_query(Context(org.schema, text, now=NOW), parse_query(text))
    assert compiled.indexes == (("Contact", "Department", True, True), ("Contact", "Title", True, True))
    assert sf.query(text)["totalSize"] == 0
    assert sf.query("SELECT Id FROM Contact WHERE Title = 'ceo'")["totalSize"] == 3
    plan = " ".join(row[-1] for row in org.store.execute("EXPLAIN QUERY PLAN " + compiled.sql,
                                                           compiled.params))
    assert "USING INDEX" in plan and "SCAN t0" not in plan


def test_an_indexed_filter_reads_its_first_rows_in_the_default_order_without_a_sort(fake_org, sf):
    from datetime import timedelta

    from fake_salesforce.soql.compiler import Context, compile_query

    org = fake_org.org
    ids = []
    for i in range(6):
        org.clock.set(NOW + timedelta(minutes=i))
        ids.append(sf.Contact.create({"LastName": f"C{i}", "Title": "CEO" if i % 2 else "CTO"})["id"])
    text = "SELECT Id FROM Contact WHERE Title = 'ceo' LIMIT 2"
    assert [r["Id"] for r in sf.query(text)["records"]] == [ids[5], ids[3]]
    assert sf.query("SELECT COUNT() FROM Contact WHERE Title = 'CEO'")["totalSize"] == 3
    plans = []
    for query in (text, "SELECT Id, Name, Account.Name FROM Contact LIMIT 2000"):
        compiled = compile_query(Context(org.schema, query, now=NOW), parse_query(query))
        plans.append(" ".join(row[-1] for row in org.store.execute("EXPLAIN QUERY PLAN " + compiled.sql,
                                                                     compiled.params)))
    filtered, page = plans
    assert "COVERING INDEX idx_Contact_Title_nocase_recent" in filtered and "TEMP B-TREE" not in filtered
    assert "SCAN t0 USING INDEX" in page and "TEMP B-TREE" not in page


def test_filters_no_index_serves_make_none():
    from fake_salesforce.schema import load_schema
    from fake_salesforce.soql.compiler import Context, compile_query

    text = "SELECT Id FROM Contact WHERE Title != 'x' AND Department NOT IN ('a') AND Account.Name = 'x'"
    compiled = compile_query(Context(load_schema(), text, now=NOW), parse_query(text))
    assert compiled.indexes == ()


def test_like_anywhere_reads_the_fields_trigrams_or_its_index_not_the_table(fake_org, sf):
    from fake_salesforce.soql.compiler import Context, compile_query
    from fake_salesforce.store import TRIGRAMS

    org = fake_org.org
    seed_contacts(org, 4)
    sf.Contact.create({"LastName": "Zed", "Email": "Some.One@Example.com"})
    text = "SELECT LastName FROM Contact WHERE Email LIKE '%one@example%' OR LastName LIKE '%0002'"
    short = "SELECT LastName FROM Contact WHERE Email LIKE '%ne%'"
    assert sorted(r["LastName"] for r in sf.query(text)["records"]) == ["C00002", "Zed"]
    assert [r["LastName"] for r in sf.query(short)["records"]] == ["Zed"]
    assert sf.query("SELECT COUNT() FROM Contact WHERE NOT (Email LIKE '%one@%')")["totalSize"] == 4

    def plan(query):
        compiled = compile_query(Context(org.schema, query, now=NOW), parse_query(query))
        return " ".join(row[-1] for row in org.store.execute("EXPLAIN QUERY PLAN " + compiled.sql,
                                                               compiled.params))
    trigrams, scan = plan(text), plan(short)
    if not TRIGRAMS:
        pytest.skip("this SQLite has no FTS5 trigram tokenizer")
    assert "_trigram_Contact_Email VIRTUAL TABLE" in trigrams and "SCAN t0 " not in trigrams + " "
    assert "COVERING INDEX idx_Contact_Email_nocase" in scan and "SCAN t0 " not in scan + " "
