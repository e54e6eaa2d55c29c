"""A seed's runs of records of one object giving the same fields are checked and written a column
at a time: the same records, ids, derived fields and errors as seeding them one by one (the
path every run took before, forced here by making no run long enough)."""
import pytest

import fake_salesforce
from fake_salesforce import org as org_module
from fake_salesforce.control import ControlClient, ControlError

NOW = "2026-11-02T09:00:00Z"


@pytest.fixture
def column_runs(monkeypatch) -> list:
    """(object, records) of each run seeded a column at a time, so that a test knows the path
    it means to test was taken."""
    runs = []
    seed_columns = org_module.Org._seed_columns

    def recorded(org, obj, fields, *args):
        ids = seed_columns(org, obj, fields, *args)
        if ids is not None:
            runs.append((obj.name, len(ids)))
        return ids
    monkeypatch.setattr(org_module.Org, "_seed_columns", recorded)
    return runs


@pytest.fixture(params=["columns", "one by one"])
def path(request, monkeypatch):
    if request.param == "one by one":
        one_by_one(monkeypatch)
    return request.param


def one_by_one(monkeypatch):
    monkeypatch.setattr(org_module, "SEED_COLUMN_RUN", 10**9)


def fresh(fake_org):
    fake_org.control.reset(seed=7)
    fake_org.control.set_clock(NOW)


def contact(i: int, **extra) -> dict:
    return {"FirstName": "Seed", "LastName": f"Contact{i}", "Email": f"seed{i}@Example.com",
            "Phone": f"+1 212 555 {i:04d}", "Birthdate": f"1990-01-{i % 28 + 1:02d}", **extra}


def mixed_batch(admin_id: str) -> list[dict]:
    """Accounts (one by one: they have behaviours), Contacts naming them and each other, Leads
    with a restricted picklist and booleans, Assets with numbers and a tree of parents, Cases
    (one by one), and values a create converts (numbers in text fields, "" as null, 15-character ids)."""
    items = [{"sobject": "Account", "fields": {"Name": f"Account {i}"}} for i in range(20)]
    first_contact = len(items)
    for i in range(300):
        fields = contact(i, AccountId=f"@{i % 20}", Title=i if i % 7 == 0 else f"Title {i % 5}",
                         Department="" if i % 11 == 0 else "Sales", OwnerId=admin_id[:15])
        if i:
            fields["ReportsToId"] = f"@{first_contact + i // 2}"
        items.append({"sobject": "Contact", "fields": fields})
    items += [{"sobject": "Contact", "fields": {"LastName": f"Short{i}", "Email": None}} for i in range(30)]
    items += [{"sobject": "Lead", "fields": {"LastName": f"Lead{i}", "Company": "Acme", "Status": "Working - Contacted",
                                             "IsConverted": False, "LeadSource": "Web"}} for i in range(40)]
    first_asset = len(items)
    items += [{"sobject": "Asset", "fields": {"Name": f"Asset{i}", "AssetLevel": i % 3, "Quantity": i / 4 if i % 2 else i,
                                              "ParentId": f"@{first_asset + i // 3}" if i else None}} for i in range(60)]
    items += [{"sobject": "Case", "fields": {"Subject": f"Case{i}", "Status": "Closed" if i % 2 else "New",
                                             "ContactId": f"@{first_contact + i}"}} for i in range(20)]
    return items


def stored(sf, ids: list[str]) -> list[dict]:
    out = []
    for record_id in ids:
        sobject = {"001": "Account", "003": "Contact", "00Q": "Lead", "02i": "Asset", "500": "Case"}[record_id[:3]]
        out.append(getattr(sf, sobject).get(record_id))
    return out


def test_a_mixed_seed_stores_what_seeding_one_by_one_stores(fake_org, sf, monkeypatch, column_runs):
    fresh(fake_org)
    admin_id = sf.query("SELECT Id FROM User")["records"][0]["Id"]
    items = mixed_batch(admin_id)
    ids = fake_org.control.seed(items)
    assert column_runs == [("Contact", 299), ("Contact", 30), ("Lead", 40), ("Asset", 60)]
    got = stored(sf, ids)
    next_id = sf.Contact.create({"LastName": "After"})["id"]

    one_by_one(monkeypatch)
    fresh(fake_org)
    assert fake_org.control.seed(items) == ids
    assert stored(sf, ids) == got
    assert sf.Contact.create({"LastName": "After"})["id"] == next_id
    contacts = [r for r in got if r["attributes"]["type"] == "Contact"]
    assert contacts[7]["Title"] == "7" and contacts[11]["Department"] is None
    assert contacts[3]["ReportsToId"] == ids[21] and contacts[3]["AccountId"] == ids[3]
    assert contacts[0]["Name"] == "Seed Contact0" and contacts[0]["OwnerId"] == admin_id


@pytest.mark.fake_sf_options(order="insertion")
def test_a_large_seed_keeps_the_order_of_its_records(fake_org, sf, path, column_runs):
    fresh(fake_org)
    ids = fake_org.control.seed("Contact", [contact(i) for i in range(3000)])
    assert column_runs == ([("Contact", 3000)] if path == "columns" else [])
    assert ids == sorted(ids) and len(set(ids)) == 3000
    assert [r["Id"] for r in sf.query_all("SELECT Id FROM Contact")["records"]] == ids
    assert sf.search("FIND {(212) 555-2999} IN PHONE FIELDS RETURNING Contact(Id)")["searchRecords"][0]["Id"] == ids[2999]


BAD = [
    ("Email", "seed@", "Email: invalid email address: seed@"),
    ("Email", "x" * 90 + "@example.com", "Email: data value too large"),
    ("LastName", None, "Required fields are missing: [LastName]"),
    ("LastName", "", "Required fields are missing: [LastName]"),
    ("LastName", {"a": 1}, "Cannot deserialize instance of string from dict value"),
    ("Birthdate", "1990-02-30", "Cannot deserialize instance of date"),
    ("AccountId", "@5000", "AccountId: '@5000' must name an earlier record of the batch"),
    ("AccountId", "@7000", "AccountId: '@7000' must name an earlier record of the batch"),
    ("AccountId", "@4999", "field integrity exception: AccountId (id value of incorrect type"),
    ("AccountId", "001000000000000AAA", "invalid cross reference id"),
    ("AccountId", "not an id", "Account ID: id value of incorrect type: not an id"),
    ("ReportsToId", "@0", "field integrity exception: ReportsToId"),   # the Account's id
]


@pytest.mark.parametrize("field, value, message", BAD, ids=[f"{f}={v!r}"[:40] for f, v, _ in BAD])
def test_a_bad_value_deep_in_a_run_is_named_as_before_and_nothing_is_written(
        fake_org, sf, monkeypatch, column_runs, field, value, message):
    """Record 5,000 of 7,000 Contacts (all giving the same fields, so one run) has the bad value."""
    fresh(fake_org)
    items = [{"sobject": "Account", "fields": {"Name": "Acme"}}, {"sobject": "Contact", "fields": {"LastName": "Boss"}}]
    items += [{"sobject": "Contact", "fields": contact(i, AccountId="@0", ReportsToId="@1")} for i in range(2, 7000)]
    assert len(fake_org.control.seed(items)) == 7000 and column_runs == [("Contact", 6998)]

    def seed_bad():
        fresh(fake_org)
        items = [{"sobject": "Account", "fields": {"Name": "Acme"}}, {"sobject": "Contact", "fields": {"LastName": "Boss"}}]
        items += [{"sobject": "Contact", "fields": contact(i, AccountId="@0", ReportsToId="@1")} for i in range(2, 7000)]
        items[5000]["fields"][field] = value
        with pytest.raises(ControlError) as info:
            fake_org.control.seed(items)
        assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
        assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
        assert sf.search("FIND {(212) 555-0017} IN PHONE FIELDS RETURNING Contact(Id)")["searchRecords"] == []
        return str(info.value), sf.Contact.create({"LastName": "After"})["id"]

    error, next_id = seed_bad()
    assert "records[5000] (Contact): " in error and message in error
    one_by_one(monkeypatch)
    assert seed_bad() == (error, next_id)


def test_a_reference_to_a_deleted_record_is_refused(fake_org, sf, path, column_runs):
    fresh(fake_org)
    account = sf.Account.create({"Name": "Gone"})["id"]
    live = sf.Account.create({"Name": "Here"})["id"]
    sf.Account.delete(account)
    items = [{"sobject": "Contact", "fields": {"LastName": f"C{i}", "AccountId": account if i == 40 else live}}
             for i in range(100)]
    with pytest.raises(ControlError) as info:
        fake_org.control.seed(items)
    assert "records[40] (Contact): invalid cross reference id" in str(info.value)
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    items[40]["fields"]["AccountId"] = live[:15]
    assert len(fake_org.control.seed(items)) == 100
    assert column_runs == ([("Contact", 100)] if path == "columns" else [])
    assert sf.query(f"SELECT COUNT() FROM Contact WHERE AccountId = '{live}'")["totalSize"] == 100


def test_a_reference_to_a_converted_lead_is_refused(fake_org, sf, path, column_runs):
    """Lead's behaviour refuses it: the run checks each Lead it names with it."""
    fresh(fake_org)
    leads = fake_org.control.seed([{"sobject": "Lead", "fields": {"LastName": "L", "Company": "C", "IsConverted": converted}}
                                   for converted in (False, True)])
    items = [{"sobject": "ProcessInstance", "fields": {"TargetObjectId": leads[i == 30]}} for i in range(50)]
    with pytest.raises(ControlError) as info:
        fake_org.control.seed(items)
    assert "records[30] (ProcessInstance): cannot reference converted lead" in str(info.value)
    assert len(fake_org.control.seed(items[:30])) == 30
    assert column_runs == ([("ProcessInstance", 30)] if path == "columns" else [])


def test_seeding_into_a_shared_org_takes_ids_every_process_sees(tmp_path):
    """Two orgs on one file stand for two worker processes: a column seed's ids come from the
    shared counter, and the other process's next record comes after them."""
    from fake_salesforce.org import Org

    db = str(tmp_path / "org.db")
    orgs = [Org(shared=True, db_path=db) for _ in range(2)]
    first = fake_salesforce.connect(orgs[0]).Contact.create({"LastName": "First"})["id"]
    ids = ControlClient(fake_salesforce.create_app(orgs[1])).seed(
        "Contact", [{"LastName": f"S{i}"} for i in range(200)])
    last = fake_salesforce.connect(orgs[0]).Contact.create({"LastName": "Last"})["id"]
    assert [first, *ids, last] == sorted({first, *ids, last})
    assert fake_salesforce.connect(orgs[0]).query("SELECT COUNT() FROM Contact")["totalSize"] == 202


def test_a_record_naming_a_later_record_of_its_run_by_id_is_refused(fake_org, sf, path, column_runs):
    """Ids are known in advance (the same seed gives the same ids): naming the next record
    by its id is naming a record that does not exist yet."""
    fresh(fake_org)
    ids = fake_org.control.seed("Contact", [{"LastName": f"C{i}"} for i in range(40)])
    fresh(fake_org)
    items = [{"LastName": f"C{i}", "ReportsToId": ids[i - 1] if i else None} for i in range(40)]
    assert fake_org.control.seed("Contact", items) == ids
    assert column_runs == ([("Contact", 40)] * 2 if path == "columns" else [])
    fresh(fake_org)
    items[20]["ReportsToId"] = ids[21]
    with pytest.raises(ControlError) as info:
        fake_org.control.seed("Contact", items)
    assert "records[20] (Contact): invalid cross reference id" in str(info.value)


@pytest.mark.parametrize("clash, message", [
    (lambda items, sf: items[30].update(External_Id__c="x-3"), "records[30] (Contact): duplicate value found: "
                                                                 "External_Id__c duplicates value on record with id: "),
    (lambda items, sf: sf.Contact.create({"LastName": "Old", "External_Id__c": "X-25"}),
     "records[25] (Contact): duplicate value found: External_Id__c duplicates value on record with id: "),
    (lambda items, sf: sf.Contact.delete(sf.Contact.create({"LastName": "Old", "External_Id__c": "X-25"})["id"]), None),
    (lambda items, sf: items[30].update(External_Id__c="\u00c9-1") or items[31].update(External_Id__c="\u00e9-1"), None),
], ids=["in the batch", "a live record", "a deleted record", "non-ASCII letters"])
def test_unique_values_are_checked_against_each_other_and_the_live_records(fake_org, sf, path, column_runs,
                                                                           clash, message):
    """Text compared as a create compares it: case-insensitively for ASCII letters (SQLite's NOCASE)."""
    fresh(fake_org)
    items = [{"LastName": f"C{i}", "External_Id__c": f"X-{i}"} for i in range(50)]
    clash(items, sf)
    if message is None:
        assert len(fake_org.control.seed("Contact", items)) == 50
        assert column_runs == ([("Contact", 50)] if path == "columns" else [])
        return
    with pytest.raises(ControlError) as info:
        fake_org.control.seed("Contact", items)
    assert message in str(info.value)
    assert sf.query("SELECT COUNT() FROM Contact WHERE LastName LIKE 'C%'")["totalSize"] == 0
