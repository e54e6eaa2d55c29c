"""SOSL through simple-salesforce: phone numbers matched on digits, words in name and email
fields, RETURNING options, and Salesforce's errors."""
import pytest
from simple_salesforce.exceptions import SalesforceError


@pytest.fixture
def people(fake_org, sf):
    org = fake_org.org
    account = org.create("Account", {"Name": "Acme Widgets", "Phone": "(415) 555-0199"})
    jean = org.create("Contact", {"FirstName": "Jean", "LastName": "Martin", "AccountId": account,
                                  "Email": "jean@acme.com", "Phone": "+1 (415) 555-0100"})
    org.clock.advance(60)
    joan = org.create("Contact", {"FirstName": "Joan", "LastName": "Zed", "MobilePhone": "4155550100"})
    lead = org.create("Lead", {"LastName": "Lee", "Company": "Initech", "Phone": "14155550100"})
    converted = org.create("Lead", {"LastName": "Old", "Company": "Initech", "Phone": "4155550100"})
    org.store.execute('UPDATE "Lead" SET IsConverted = 1 WHERE Id = ?', [converted])
    return {"account": account, "jean": jean, "joan": joan, "lead": lead, "converted": converted}


def found(sf, text):
    return [(r["attributes"]["type"], r["Id"]) for r in sf.search(text)["searchRecords"]]


@pytest.mark.parametrize("number", ["4155550100", "+1 (415) 555-0100", "+14155550100", "415.555.0100"])
def test_phone_fields_match_on_digits(sf, people, number):
    assert found(sf, f"FIND {{{number}}} IN PHONE FIELDS RETURNING Contact(Id), Lead(Id)") == [
        ("Contact", people["joan"]), ("Contact", people["jean"]), ("Lead", people["lead"])]


def test_response_shape(sf, people):
    answer = sf.search("FIND {4155550199} IN PHONE FIELDS RETURNING Account(Name, Phone)")
    assert answer == {"searchRecords": [{
        "attributes": {"type": "Account",
                       "url": f"/services/data/v59.0/sobjects/Account/{people['account']}"},
        "Name": "Acme Widgets", "Phone": "(415) 555-0199"}]}


def test_phone_search_is_an_index_lookup(fake_org, people):
    from fake_salesforce.sosl.search import _plan, _Term
    from fake_salesforce.soql.parser import parse_search

    text = "FIND {4155550100} IN PHONE FIELDS RETURNING Contact(Id, Name)"
    search = parse_search(text)
    org = fake_org.org
    compiled, _ = _plan(org.schema, text, search.returning[0], now=org.clock.now(), order=org.ordering,
                        scope="PHONE", term=_Term.parse(search), region="US")
    plan = " ".join(row[-1] for row in fake_org.org.store.execute(
        "EXPLAIN QUERY PLAN " + compiled.sql, compiled.params))
    assert "USING INDEX" in plan and "SCAN t0" not in plan and "SCAN \"Contact\"" not in plan


def test_deleted_records_are_not_found(sf, people):
    sf.Contact.delete(people["joan"])
    assert found(sf, "FIND {4155550100} IN PHONE FIELDS RETURNING Contact(Id)") == [
        ("Contact", people["jean"])]


def test_returning_where_order_by_and_limits(sf, people):
    text = ("FIND {4155550100} IN PHONE FIELDS RETURNING Contact(LastName WHERE FirstName LIKE 'J%' "
            "ORDER BY LastName LIMIT 1), Lead(LastName)")
    records = sf.search(text)["searchRecords"]
    assert [(r["attributes"]["type"], r["LastName"]) for r in records] == [("Contact", "Martin"), ("Lead", "Lee")]
    limited = sf.search("FIND {4155550100} IN PHONE FIELDS RETURNING Contact(Id), Lead(Id) LIMIT 2")
    assert len(limited["searchRecords"]) == 2


def test_name_fields_match_whole_words_ignoring_case(sf, people):
    assert found(sf, "FIND {MARTIN} IN NAME FIELDS RETURNING Contact") == [("Contact", people["jean"])]
    assert found(sf, "FIND {mart} IN NAME FIELDS RETURNING Contact") == []
    assert found(sf, "FIND {jo*} IN NAME FIELDS RETURNING Contact") == [("Contact", people["joan"])]
    assert found(sf, "FIND {j??n} IN NAME FIELDS RETURNING Contact") == [
        ("Contact", people["joan"]), ("Contact", people["jean"])]
    assert found(sf, "FIND {\"jean martin\"} IN NAME FIELDS RETURNING Contact") == [("Contact", people["jean"])]
    assert found(sf, "FIND {jean OR zed} IN NAME FIELDS RETURNING Contact") == [
        ("Contact", people["joan"]), ("Contact", people["jean"])]
    assert found(sf, "FIND {j* AND NOT zed} IN NAME FIELDS RETURNING Contact") == [("Contact", people["jean"])]


def test_email_and_all_fields(sf, people):
    assert found(sf, "FIND {jean@acme.com} IN EMAIL FIELDS RETURNING Contact") == [("Contact", people["jean"])]
    assert found(sf, "FIND {initech} RETURNING Lead") == [("Lead", people["lead"])]
    assert found(sf, "FIND {acme} IN ALL FIELDS RETURNING Account, Contact") == [
        ("Account", people["account"]), ("Contact", people["jean"])]


def test_without_returning_every_searchable_object_answers_with_ids(sf, people):
    assert sorted(found(sf, "FIND {initech}")) == [("Lead", people["lead"])]


def test_nothing_found(sf, people):
    assert sf.search("FIND {nobody} RETURNING Contact(Id)") == {"searchRecords": []}


def test_escaped_reserved_characters_are_literal(sf, fake_org):
    fake_org.org.create("Contact", {"LastName": "Smith-Jones"})
    assert len(sf.search("FIND {smith\\-jones} IN NAME FIELDS RETURNING Contact")["searchRecords"]) == 1


@pytest.mark.parametrize("text,code,message", [
    ("FIND {x} RETURNING Contact", "MALFORMED_SEARCH", "search term must be longer than one character"),
    ("FIND jean RETURNING Contact", "MALFORMED_SEARCH",
     "No search term found. The search term must be enclosed in braces."),
    ("FIND {jean} RETURNIN Contact", "MALFORMED_SEARCH",
     "\nFIND {jean} RETURNIN Contact\n            ^\nERROR at Row:1:Column:13\nunexpected token: 'RETURNIN'"),
    ("FIND {jean} IN NOPE FIELDS", "MALFORMED_SEARCH",
     "\nFIND {jean} IN NOPE FIELDS\n               ^\nERROR at Row:1:Column:16\nunexpected token: 'NOPE'"),
    ("FIND {jean} RETURNING Widget", "INVALID_TYPE",
     "\nFIND {jean} RETURNING Widget\n                      ^\nERROR at Row:1:Column:23\nsObject type "
     "'Widget' is not supported. If you are attempting to use a custom object, be sure to append the "
     "'__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."),
    ("FIND {jean} RETURNING Contact(Nope)", "INVALID_FIELD", None),
    ("FIND {jean} WITH DIVISION = 'West'", "FAKE_NOT_IMPLEMENTED",
     "SOSL WITH DIVISION (the org has no divisions) is not implemented by the fake org"),
    ("FIND {jean} RETURNING FAQ__kav(Title WHERE PublishStatus = 'Online')", "FAKE_NOT_IMPLEMENTED",
     "The Knowledge article type FAQ__kav is not implemented by the fake org"),
    ("FIND {(ab OR cd AND ef} RETURNING Contact", "MALFORMED_SEARCH",
     "Unbalanced parentheses in the search term: a '(' is not closed"),
])
def test_errors(sf, people, text, code, message):
    with pytest.raises(SalesforceError) as info:
        sf.search(text)
    (body,) = info.value.content
    assert body["errorCode"] == code
    if message is not None:
        assert body["message"] == message


def test_phone_search_follows_updates_rollbacks_and_deletes(sf):
    """Phone keys are worked out at the first search after a write: they follow each change."""
    def ids(number):
        return [i for _, i in found(sf, f"FIND {{{number}}} IN PHONE FIELDS RETURNING Contact(Id)")]

    first = sf.Contact.create({"LastName": "Moving", "Phone": "(212) 555-0101"})["id"]
    assert ids("+12125550101") == [first]
    sf.Contact.update(first, {"Phone": "212-555-0102"})
    sf.Contact.update(first, {"Title": "Buyer"})               # no phone change
    assert ids("2125550101") == [] and ids("+1 212 555 0102") == [first]
    answer = sf.restful("composite", method="POST", json={"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "ok",
         "body": {"LastName": "Undone", "Phone": "212 555 0103"}},
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "bad",
         "body": {"Phone": "212 555 0104"}}]})
    assert [r["httpStatusCode"] for r in answer["compositeResponse"]] == [400, 400]
    assert ids("2125550103") == [] and ids("2125550104") == []
    sf.Contact.delete(first)
    assert ids("2125550102") == []


def test_highlight_marks_business_accounts_not_person_accounts(sf):
    person_type = sf.query("SELECT Id FROM RecordType WHERE SobjectType = 'Account' "
                           "AND IsPersonType = true")["records"][0]["Id"]
    sf.Account.create({"RecordTypeId": person_type, "FirstName": "Kit", "LastName": "Quill",
                       "PersonTitle": "Quill maker"})
    sf.Account.create({"Name": "Quill Supplies"})
    records = sf.search("FIND {quill} RETURNING Account(Name, PersonTitle ORDER BY Name) "
                        "WITH HIGHLIGHT")["searchRecords"]
    assert [{k: v for k, v in r.items() if k != "attributes"} for r in records] == [
        {"Name": "Kit Quill", "PersonTitle": "Quill maker"},
        {"Name": "Quill Supplies", "PersonTitle": None, "highlight.Name": "<mark>Quill</mark> Supplies"}]
