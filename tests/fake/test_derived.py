"""Fields Salesforce derives, person accounts, opportunity contact roles, cascades."""
from datetime import datetime, timezone

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

import fake_salesforce


def test_names_are_derived(sf):
    contact = sf.Contact.create({"FirstName": "Ada", "LastName": "Lovelace"})["id"]
    lead = sf.Lead.create({"LastName": "Solo", "Company": "X"})["id"]
    assert sf.Contact.get(contact)["Name"] == "Ada Lovelace"
    assert sf.Lead.get(lead)["Name"] == "Solo"
    sf.Contact.update(contact, {"FirstName": "Augusta"})
    assert sf.Contact.get(contact)["Name"] == "Augusta Lovelace"


def test_audit_fields_and_owner(fake_org, sf):
    fake_org.control.set_clock("2026-11-02T09:00:00Z")
    record_id = sf.Contact.create({"LastName": "Audit"})["id"]
    fake_org.control.advance(30)
    sf.Contact.update(record_id, {"Title": "Dr"})
    record = sf.Contact.get(record_id)
    admin = fake_org.control.info()["admin_id"]
    assert record["CreatedDate"] == "2026-11-02T09:00:00.000+0000"
    assert record["LastModifiedDate"] == "2026-11-02T09:00:30.000+0000"
    assert record["SystemModstamp"] == "2026-11-02T09:00:30.000+0000"
    assert record["CreatedById"] == record["LastModifiedById"] == record["OwnerId"] == admin


def test_task_is_closed_follows_status(sf):
    task = sf.Task.create({"Subject": "Call", "Status": "In Progress"})["id"]
    record = sf.Task.get(task)
    assert record["IsClosed"] is False and record["CompletedDateTime"] is None
    assert record["Priority"] == "Normal" and record["TaskSubtype"] == "Task"
    sf.Task.update(task, {"Status": "Completed"})
    record = sf.Task.get(task)
    assert record["IsClosed"] is True and record["CompletedDateTime"] is not None


def test_task_account_rolls_up_from_who_and_what(sf):
    acme = sf.Account.create({"Name": "Acme"})["id"]
    other = sf.Account.create({"Name": "Other"})["id"]
    contact = sf.Contact.create({"LastName": "Martin", "AccountId": acme})["id"]
    case = sf.Case.create({"ContactId": contact, "AccountId": other})["id"]
    on_who = sf.Task.create({"Subject": "a", "WhoId": contact})["id"]
    on_case = sf.Task.create({"Subject": "b", "WhoId": contact, "WhatId": case})["id"]
    on_account = sf.Task.create({"Subject": "c", "WhatId": other})["id"]
    assert sf.Task.get(on_who)["AccountId"] == acme
    assert sf.Task.get(on_case)["AccountId"] == other   # the What's account wins
    assert sf.Task.get(on_account)["AccountId"] == other


def test_lead_task_cannot_have_a_what(sf):
    lead = sf.Lead.create({"LastName": "L", "Company": "C"})["id"]
    account = sf.Account.create({"Name": "A"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Task.create({"Subject": "x", "WhoId": lead, "WhatId": account})
    assert info.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_case_is_closed_and_takes_the_contacts_account(sf):
    acme = sf.Account.create({"Name": "Acme"})["id"]
    contact = sf.Contact.create({"LastName": "Martin", "AccountId": acme})["id"]
    case = sf.Case.create({"ContactId": contact, "Subject": "Broken"})["id"]
    record = sf.Case.get(case)
    assert record["Status"] == "New" and record["IsClosed"] is False and record["ClosedDate"] is None
    assert record["AccountId"] == acme
    assert record["CaseNumber"] == "00001001"
    sf.Case.update(case, {"Status": "Closed"})
    record = sf.Case.get(case)
    assert record["IsClosed"] is True and record["ClosedDate"] is not None
    assert sf.Case.get(sf.Case.create({"Subject": "Next"})["id"])["CaseNumber"] == "00001002"


@pytest.mark.parametrize("stage, closed, won", [("Prospecting", False, False), ("Closed Won", True, True),
                                                ("Closed Lost", True, False)])
def test_opportunity_closed_and_won(sf, stage, closed, won):
    opp = sf.Opportunity.create({"Name": "Deal", "StageName": stage, "CloseDate": "2026-12-31"})["id"]
    record = sf.Opportunity.get(opp)
    assert (record["IsClosed"], record["IsWon"]) == (closed, won)


def test_opportunity_with_contact_gets_a_primary_contact_role(sf):
    contact = sf.Contact.create({"LastName": "Buyer"})["id"]
    opp = sf.Opportunity.create({"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-12-31",
                                 "ContactId": contact})["id"]
    roles = sf.query(f"SELECT ContactId, IsPrimary FROM OpportunityContactRole WHERE OpportunityId = '{opp}'")
    assert [(r["ContactId"], r["IsPrimary"]) for r in roles["records"]] == [(contact, True)]


def test_only_one_primary_contact_role(sf):
    first = sf.Contact.create({"LastName": "First"})["id"]
    second = sf.Contact.create({"LastName": "Second"})["id"]
    opp = sf.Opportunity.create({"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-12-31",
                                 "ContactId": first})["id"]
    sf.OpportunityContactRole.create({"OpportunityId": opp, "ContactId": second, "IsPrimary": True})
    roles = sf.query("SELECT ContactId FROM OpportunityContactRole WHERE IsPrimary = true")
    assert [r["ContactId"] for r in roles["records"]] == [second]
    assert sf.Opportunity.get(opp)["ContactId"] == second


def _person_record_type(sf):
    rows = sf.query("SELECT Id FROM RecordType WHERE SobjectType = 'Account' AND IsPersonType = true")
    return rows["records"][0]["Id"]


def test_person_account_has_a_person_contact(sf):
    account = sf.Account.create({"RecordTypeId": _person_record_type(sf), "FirstName": "Jane",
                                 "LastName": "Doe", "PersonMobilePhone": "+44 7700 900123",
                                 "PersonEmail": "jane@example.com"})["id"]
    record = sf.Account.get(account)
    assert record["IsPersonAccount"] is True and record["Name"] == "Jane Doe"
    contact = sf.Contact.get(record["PersonContactId"])
    assert contact["IsPersonAccount"] is True
    assert contact["AccountId"] == account
    assert (contact["Name"], contact["MobilePhone"], contact["Email"]) == \
           ("Jane Doe", "+44 7700 900123", "jane@example.com")


def test_person_account_updates_reach_the_contact(sf):
    account = sf.Account.create({"RecordTypeId": _person_record_type(sf), "LastName": "Doe"})["id"]
    sf.Account.update(account, {"FirstName": "Janet", "PersonHomePhone": "+1 212 555 0100"})
    contact = sf.Contact.get(sf.Account.get(account)["PersonContactId"])
    assert contact["Name"] == "Janet Doe" and contact["HomePhone"] == "+1 212 555 0100"


def test_person_contact_is_changed_through_its_account_only(sf):
    account = sf.Account.create({"RecordTypeId": _person_record_type(sf), "LastName": "Doe"})["id"]
    contact = sf.Account.get(account)["PersonContactId"]
    with pytest.raises(SalesforceMalformedRequest):
        sf.Contact.update(contact, {"LastName": "Other"})
    with pytest.raises(SalesforceMalformedRequest):
        sf.Contact.delete(contact)


def test_person_contact_is_not_deleted_or_updated_through_a_collection(sf):
    account = sf.Account.create({"RecordTypeId": _person_record_type(sf), "LastName": "Doe"})["id"]
    contact = sf.Account.get(account)["PersonContactId"]
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": contact})
    assert deleted[0]["success"] is False
    assert deleted[0]["errors"][0]["statusCode"] == "DELETE_FAILED"
    updated = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Contact"}, "Id": contact, "LastName": "Other"}]})
    assert updated[0]["errors"][0]["statusCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert sf.Account.get(account)["PersonContactId"] == contact
    assert sf.Contact.get(contact)["LastName"] == "Doe"


def test_person_account_needs_last_name_and_refuses_name(sf):
    rt = _person_record_type(sf)
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Account.create({"RecordTypeId": rt, "FirstName": "Only"})
    assert info.value.content[0]["fields"] == ["LastName"]
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Account.create({"RecordTypeId": rt, "LastName": "Doe", "Name": "Jane Doe"})
    assert info.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_business_account_refuses_person_fields(sf):
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Account.create({"Name": "Acme", "PersonMobilePhone": "+1 212 555 0100"})
    assert info.value.content[0]["fields"] == ["PersonMobilePhone"]


def test_business_account_needs_a_name(sf):
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Account.create({"Phone": "+1 212 555 0100"})
    assert info.value.content[0]["fields"] == ["Name"]


def test_deleting_an_account_cascades(sf):
    account = sf.Account.create({"Name": "Acme"})["id"]
    contact = sf.Contact.create({"LastName": "C", "AccountId": account})["id"]
    task = sf.Task.create({"Subject": "t", "WhoId": contact})["id"]
    opp = sf.Opportunity.create({"Name": "O", "StageName": "Prospecting", "CloseDate": "2026-12-31",
                                 "AccountId": account})["id"]
    sf.Account.delete(account)
    for sobject, record_id in (("Contact", contact), ("Task", task), ("Opportunity", opp)):
        with pytest.raises(SalesforceResourceNotFound) as info:
            getattr(sf, sobject).get(record_id)
        assert info.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_deleting_a_contact_clears_lookups(sf):
    contact = sf.Contact.create({"LastName": "C"})["id"]
    case = sf.Case.create({"ContactId": contact})["id"]
    sf.Contact.delete(contact)
    assert sf.Case.get(case)["ContactId"] is None


def test_converted_lead_cannot_be_updated(sf):
    lead = sf.Lead.create({"LastName": "Conv", "Company": "C", "IsConverted": True,
                           "Status": "Closed - Converted"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Lead.update(lead, {"Title": "x"})
    assert info.value.content[0]["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"


# -- behaviour declared in the schema ----------------------------------------------------------------
def test_describe_tells_which_children_are_deleted_with_their_parent(sf):
    account = sf.Account.describe()
    cascades = {r["relationshipName"]: r["cascadeDelete"] for r in account["childRelationships"]}
    assert cascades["Contacts"] and cascades["Opportunities"] and cascades["Cases"] and cascades["Tasks"]
    assert cascades["ChildAccounts"] is False
    fields = {f["name"]: f for f in sf.Task.describe()["fields"]}
    assert fields["WhatId"]["cascadeDelete"] is True
    assert {f["name"]: f for f in sf.Case.describe()["fields"]}["ContactId"]["cascadeDelete"] is False


def test_describe_and_search_agree_on_what_is_searchable(sf):
    summary = {o["name"]: o["searchable"] for o in sf.describe()["sobjects"]}
    assert summary["Contact"] is True
    assert summary["RecordType"] is False and summary["OpportunityContactRole"] is False
    with pytest.raises(SalesforceMalformedRequest):
        sf.search("FIND {x} RETURNING OpportunityContactRole(Id)")


def test_a_custom_object_gets_the_behaviour_its_schema_declares(tmp_path):
    schema = tmp_path / "schema.yaml"
    schema.write_text("""
objects:
  Ticket__c:
    key_prefix: a09
    name_field: Name
    searchable: false
    fields:
      First__c: {type: string, length: 40}
      Last__c: {type: string, length: 40}
      Name: {type: string, length: 81, derived: true, compose: [First__c, Last__c]}
      Stage__c: {type: picklist, picklist: [Open, Done]}
      Done__c: {type: boolean, derived: true, default: false, true_when: {Stage__c: [Done]}}
      DoneAt__c: {type: datetime, derived: true, stamped_when: Done__c}
      Account__c: {type: reference, reference_to: [Account], relationship_name: Account__r, child_relationship: Tickets__r, cascade_delete: true}
""")
    org = fake_salesforce.Org(schema_files=(str(schema),), now=datetime(2024, 5, 1, tzinfo=timezone.utc))
    sf = fake_salesforce.connect(org)
    account = sf.Account.create({"Name": "Acme"})["id"]
    ticket = sf.Ticket__c.create({"First__c": "Ada", "Last__c": "Lovelace", "Stage__c": "Open",
                                  "Account__c": account})["id"]
    got = sf.Ticket__c.get(ticket)
    assert (got["Name"], got["Done__c"], got["DoneAt__c"]) == ("Ada Lovelace", False, None)
    sf.Ticket__c.update(ticket, {"Stage__c": "Done"})
    got = sf.Ticket__c.get(ticket)
    assert got["Done__c"] is True and got["DoneAt__c"].startswith("2024-05-01T")
    assert sf.Ticket__c.describe()["searchable"] is False
    sf.Account.delete(account)
    assert sf.query_all(f"SELECT IsDeleted FROM Ticket__c WHERE Id = '{ticket}'", include_deleted=True)["records"][0]["IsDeleted"]
