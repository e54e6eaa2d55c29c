"""sObject REST through simple-salesforce: CRUD, external ids, describe, replication, limits,
collections, and every client mistake answered with Salesforce's status and errorCode."""
import gzip
import json
import zlib
from datetime import datetime, timezone

import pytest
from simple_salesforce.exceptions import (SalesforceMalformedRequest,
                                          SalesforceMoreThanOneRecord, SalesforceResourceNotFound)


def error_of(excinfo):
    (body,) = excinfo.value.content
    return body["errorCode"], body["message"], body.get("fields")


def test_create_get_update_delete(sf):
    created = sf.Contact.create({"FirstName": "Jean", "LastName": "Martin", "Phone": "+33 6 12 34 56 78"})
    assert created["success"] is True and created["errors"] == []
    record_id = created["id"]
    assert len(record_id) == 18 and record_id.startswith("003")
    record = sf.Contact.get(record_id)
    assert record["attributes"] == {"type": "Contact", "url": f"/services/data/v59.0/sobjects/Contact/{record_id}"}
    assert record["Name"] == "Jean Martin"
    assert record["Phone"] == "+33 6 12 34 56 78"  # stored as typed
    assert record["Email"] is None                 # every field, nulls included
    assert record["IsDeleted"] is False
    assert sf.Contact.update(record_id, {"Title": "CEO"}) == 204
    assert sf.Contact.get(record_id)["Title"] == "CEO"
    assert sf.Contact.delete(record_id) == 204
    with pytest.raises(SalesforceResourceNotFound) as info:
        sf.Contact.get(record_id)
    assert error_of(info)[:2] == ("ENTITY_IS_DELETED", "entity is deleted")


def test_get_with_fields(sf):
    record_id = sf.Lead.create({"LastName": "Stone", "Company": "Acme"})["id"]
    record = sf.Lead.get(record_id, params={"fields": "Company,Name,status"})
    assert list(record) == ["attributes", "Company", "Name", "Status"]
    assert record["Status"] == "Open - Not Contacted"  # the picklist's default


def test_fifteen_character_ids_are_accepted(sf):
    record_id = sf.Lead.create({"LastName": "Short", "Company": "Acme"})["id"]
    assert sf.Lead.get(record_id[:15])["Id"] == record_id


def test_get_unknown_field_in_fields_param(sf):
    record_id = sf.Lead.create({"LastName": "Stone", "Company": "Acme"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Lead.get(record_id, params={"fields": "Nope"})
    assert error_of(info)[0] == "INVALID_FIELD"


def test_field_names_are_case_insensitive_on_write(sf):
    record_id = sf.Contact.create({"lastname": "Lower", "FIRSTNAME": "Upper"})["id"]
    assert sf.Contact.get(record_id)["Name"] == "Upper Lower"


# -- errors ----------------------------------------------------------------------------------------
def test_required_field_missing(sf):
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Contact.create({"FirstName": "No last name"})
    assert error_of(info) == ("REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]", ["LastName"])


def test_required_fields_missing_lists_them_all(sf):
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Opportunity.create({"Name": "Deal"})
    code, message, fields = error_of(info)
    assert code == "REQUIRED_FIELD_MISSING"
    assert fields == ["StageName", "CloseDate"]
    assert message == "Required fields are missing: [StageName, CloseDate]"


def test_unknown_field(sf):
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Contact.create({"LastName": "X", "Shoe_Size__c": 42})
    assert error_of(info) == ("INVALID_FIELD", "No such column 'Shoe_Size__c' on sobject of type Contact",
                              ["Shoe_Size__c"])


@pytest.mark.parametrize("field", ["Id", "Name", "IsPersonAccount", "IsDeleted", "SystemModstamp"])
def test_read_only_fields_cannot_be_written(sf, field):
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Contact.create({"LastName": "X", field: "003000000000000AAA" if field.endswith("Id") else "x"})
    code, message, fields = error_of(info)
    assert code == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert message.startswith(f"Unable to create/update fields: {field}.")
    assert fields == [field]


def test_audit_fields_are_settable_on_create_only(sf):
    record_id = sf.Contact.create({"LastName": "Old", "CreatedDate": "2020-01-01T00:00:00Z",
                                   "LastModifiedDate": "2021-06-01T12:30:00.000+0000"})["id"]
    record = sf.Contact.get(record_id)
    assert record["CreatedDate"] == "2020-01-01T00:00:00.000+0000"
    assert record["LastModifiedDate"] == "2021-06-01T12:30:00.000+0000"
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Contact.update(record_id, {"LastModifiedDate": "2022-01-01T00:00:00Z"})
    assert error_of(info)[0] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_string_too_long(sf):
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Task.create({"Subject": "x" * 256})
    code, message, fields = error_of(info)
    assert code == "STRING_TOO_LONG"
    assert message.startswith("Subject: data value too large: ") and message.endswith("(max length=255)")
    assert fields == ["Subject"]


@pytest.mark.parametrize("address", ["notanemail", "jean@", "@acme.example", "jean martin@acme.example",
                                     "jean..martin@acme.example", "jean@acme"])
def test_email_fields_refuse_what_is_not_an_address(sf, address):
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Contact.create({"LastName": "Martin", "Email": address})
    assert error_of(info) == ("INVALID_EMAIL_ADDRESS", f"Email: invalid email address: {address}", ["Email"])
    contact_id = sf.Contact.create({"LastName": "Martin"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Contact.update(contact_id, {"Email": address})
    assert error_of(info)[0] == "INVALID_EMAIL_ADDRESS"


@pytest.mark.parametrize("address", ["jean@acme.example", "Jean.Martin+calls@Example.COM", "j@acme.test",
                                     "o'neil@acme.co.uk"])
def test_email_fields_keep_addresses_as_given(sf, address):
    contact_id = sf.Contact.create({"LastName": "Martin", "Email": address})["id"]
    assert sf.Contact.get(contact_id)["Email"] == address


def test_malformed_id_in_a_reference(sf):
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Contact.create({"LastName": "X", "AccountId": "not-an-id"})
    assert error_of(info) == ("MALFORMED_ID", "Account ID: id value of incorrect type: not-an-id", ["AccountId"])


def test_malformed_id_in_the_path(sf):
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Contact.update("bad", {"LastName": "X"})
    assert error_of(info)[0] == "MALFORMED_ID"


def test_reference_to_a_missing_record(sf):
    account_id = sf.Account.create({"Name": "Gone"})["id"]
    sf.Account.delete(account_id)
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Contact.create({"LastName": "X", "AccountId": account_id})
    assert error_of(info) == ("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", ["AccountId"])


def test_reference_of_the_wrong_type(sf):
    lead_id = sf.Lead.create({"LastName": "L", "Company": "C"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Contact.create({"LastName": "X", "AccountId": lead_id})
    assert error_of(info)[0] == "FIELD_INTEGRITY_EXCEPTION"


def test_restricted_picklist(sf):
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Task.create({"Subject": "Call", "Status": "Done"})
    assert error_of(info) == ("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                              "Status: bad value for restricted picklist field: Done", ["Status"])


def test_unrestricted_picklist_takes_any_value(sf):
    record_id = sf.Account.create({"Name": "A", "Industry": "Space mining"})["id"]
    assert sf.Account.get(record_id)["Industry"] == "Space mining"


def test_wrong_json_type(sf):
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Task.create({"Subject": "Call", "CallDurationInSeconds": "ninety"})
    assert error_of(info)[0] == "JSON_PARSER_ERROR"


def test_not_found(sf):
    with pytest.raises(SalesforceResourceNotFound) as info:
        sf.Contact.get("003000000000000AAA")
    assert error_of(info)[:2] == ("NOT_FOUND", "The requested resource does not exist")


def test_unknown_sobject_is_not_found(sf):
    with pytest.raises(SalesforceResourceNotFound) as info:
        sf.Widget__c.create({"Name": "x"})
    assert error_of(info)[0] == "NOT_FOUND"


def test_update_and_delete_of_deleted_record(sf):
    record_id = sf.Contact.create({"LastName": "X"})["id"]
    sf.Contact.delete(record_id)
    for call in (lambda: sf.Contact.update(record_id, {"LastName": "Y"}), lambda: sf.Contact.delete(record_id)):
        with pytest.raises(SalesforceResourceNotFound) as info:
            call()
        assert error_of(info)[0] == "ENTITY_IS_DELETED"


def test_unique_field_duplicate(sf):
    sf.Contact.create({"LastName": "A", "External_Id__c": "E-1"})
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Contact.create({"LastName": "B", "External_Id__c": "E-1"})
    assert error_of(info)[0] == "DUPLICATE_VALUE"


def test_record_type_cannot_be_created(sf):
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.RecordType.create({"Name": "X", "DeveloperName": "X", "SobjectType": "Account"})
    assert error_of(info)[0] == "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"


def test_empty_and_non_json_bodies(fake_org, sf):
    url = sf.base_url + "sobjects/Contact/"
    for data in (b"", b"{not json", b"[1, 2]"):
        response = sf.session.post(url, data=data, headers=sf.headers)
        assert response.status_code == 400
        assert response.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_unknown_paths_and_methods_are_salesforce_shaped(sf):
    for method, path in [("GET", "nothing/here"), ("GET", "sobjects/Contact/a/b/c/d"),
                         ("PUT", "sobjects/Contact/"), ("GET", "../../nope")]:
        response = sf.session.request(method, sf.base_url + path, headers=sf.headers)
        assert response.status_code in (404, 405), (method, path)
        body = response.json()
        assert isinstance(body, list) and body[0]["errorCode"] in ("NOT_FOUND", "METHOD_NOT_ALLOWED")


def test_unknown_api_version_format(sf):
    response = sf.session.get(sf.base_url.replace("v59.0", "vABC") + "limits/", headers=sf.headers)
    assert response.status_code == 404
    assert response.json()[0]["errorCode"] == "NOT_FOUND"


def test_any_api_version_is_served(sf):
    response = sf.session.get(sf.base_url.replace("v59.0", "v62.0") + "limits/", headers=sf.headers)
    assert response.status_code == 200


# -- external ids ------------------------------------------------------------------------------------
def test_external_id_upsert_creates_then_updates(sf):
    created = sf.Contact.upsert("External_Id__c/EXT-1", {"LastName": "First"})
    assert created == 201
    updated = sf.Contact.upsert("External_Id__c/EXT-1", {"LastName": "Second"})
    assert updated == 200
    record = sf.Contact.get_by_custom_id("External_Id__c", "EXT-1")
    assert record["LastName"] == "Second"
    assert record["External_Id__c"] == "EXT-1"


def test_external_id_upsert_body(sf):
    response = sf.session.patch(sf.base_url + "sobjects/Contact/External_Id__c/EXT-9",
                                json={"LastName": "Body"}, headers=sf.headers)
    assert response.status_code == 201
    assert response.json()["created"] is True and response.json()["success"] is True
    response = sf.session.patch(sf.base_url + "sobjects/Contact/External_Id__c/EXT-9",
                                json={"LastName": "Again"}, headers=sf.headers)
    assert response.status_code == 200 and response.json()["created"] is False


def test_external_id_get_missing(sf):
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.get_by_custom_id("External_Id__c", "nope")


def test_non_external_field_is_refused(sf):
    with pytest.raises(SalesforceResourceNotFound) as info:
        sf.Contact.get_by_custom_id("LastName", "x")
    assert "Provided external ID field does not exist or is not accessible" in error_of(info)[1]


def test_get_by_id_field_path(sf):
    record_id = sf.Contact.create({"LastName": "ById"})["id"]
    assert sf.Contact.get_by_custom_id("Id", record_id)["LastName"] == "ById"


# -- describe ----------------------------------------------------------------------------------------
def test_global_describe(sf):
    names = {o["name"]: o for o in sf.describe()["sobjects"]}
    for name, prefix in [("Account", "001"), ("Contact", "003"), ("User", "005"), ("Opportunity", "006"),
                         ("Lead", "00Q"), ("Task", "00T"), ("Case", "500"), ("Event", "00U"),
                         ("RecordType", "012"), ("OpportunityContactRole", "00k"), ("Invoice__c", "a01")]:
        assert names[name]["keyPrefix"] == prefix
    assert names["Invoice__c"]["custom"] is True


def test_describe_fields(sf):
    d = sf.Task.describe()
    fields = {f["name"]: f for f in d["fields"]}
    status = fields["Status"]
    assert status["type"] == "picklist" and status["restrictedPicklist"] is True
    assert [v["value"] for v in status["picklistValues"]][:3] == ["Not Started", "In Progress", "Completed"]
    who = fields["WhoId"]
    assert who["referenceTo"] == ["Contact", "Lead"] and who["relationshipName"] == "Who"
    assert who["polymorphicForeignKey"] is True
    assert fields["Subject"]["length"] == 255
    assert fields["IsClosed"]["createable"] is False and fields["IsClosed"]["updateable"] is False
    assert fields["TaskSubtype"]["createable"] is True and fields["TaskSubtype"]["updateable"] is False


def test_describe_child_relationships(sf):
    children = {c["relationshipName"]: c for c in sf.Account.describe()["childRelationships"]}
    assert children["Contacts"]["childSObject"] == "Contact" and children["Contacts"]["field"] == "AccountId"
    assert {"Cases", "Opportunities", "Tasks"} <= set(children)
    contact = {c["relationshipName"] for c in sf.Contact.describe()["childRelationships"]}
    assert {"Cases", "Tasks", "OpportunityContactRoles", "Invoices__r"} <= contact


def test_describe_required_and_nillable(sf):
    fields = {f["name"]: f for f in sf.Contact.describe()["fields"]}
    assert fields["LastName"]["nillable"] is False
    assert fields["FirstName"]["nillable"] is True
    assert fields["Name"]["nameField"] is True


def test_metadata_lists_recent_items(sf):
    sf.Lead.create({"LastName": "Recent", "Company": "Acme"})
    meta = sf.Lead.metadata()
    assert meta["objectDescribe"]["name"] == "Lead"
    assert meta["recentItems"][0]["Name"] == "Recent"


def test_custom_object_crud(sf):
    contact_id = sf.Contact.create({"LastName": "Payer"})["id"]
    invoice = sf.Invoice__c.create({"Name": "INV-1", "Contact__c": contact_id, "Amount__c": 12.5})
    assert invoice["id"].startswith("a01")
    record = sf.Invoice__c.get(invoice["id"])
    assert record["Amount__c"] == 12.5 and record["Contact__c"] == contact_id


# -- replication -------------------------------------------------------------------------------------
def test_updated_and_deleted(fake_org, sf):
    fake_org.control.set_clock("2026-11-02T09:00:00Z")
    keep = sf.Contact.create({"LastName": "Keep"})["id"]
    gone = sf.Contact.create({"LastName": "Gone"})["id"]
    fake_org.control.advance(60)
    sf.Contact.delete(gone)
    start = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
    end = datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc)
    updated = sf.Contact.updated(start, end)
    assert keep in updated["ids"] and gone not in updated["ids"]
    deleted = sf.Contact.deleted(start, end)
    assert deleted["deletedRecords"] == [{"id": gone, "deletedDate": "2026-11-02T09:01:00.000+0000"}]


@pytest.mark.parametrize("which", ["updated", "deleted"])
def test_replication_window_must_not_be_empty(sf, which):
    at = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
    with pytest.raises(SalesforceMalformedRequest) as info:
        getattr(sf.Contact, which)(at, at)
    assert error_of(info)[0] == "INVALID_REPLICATION_DATE"


# -- limits ------------------------------------------------------------------------------------------
def test_limits_count_real_requests(sf):
    first = sf.limits()["DailyApiRequests"]
    sf.Contact.create({"LastName": "One"})
    sf.Contact.create({"LastName": "Two"})
    second = sf.limits()["DailyApiRequests"]
    assert first["Remaining"] - second["Remaining"] == 3  # two creates and the second limits call
    assert sf.api_usage["api-usage"].used == second["Max"] - second["Remaining"]


# -- composite collections ---------------------------------------------------------------------------
def test_collection_create_update_get_delete(sf):
    records = [{"attributes": {"type": "Contact"}, "LastName": "A"},
               {"attributes": {"type": "Lead"}, "LastName": "B", "Company": "C"}]
    created = sf.restful("composite/sobjects", method="POST", json={"records": records})
    assert [r["success"] for r in created] == [True, True]
    contact_id, lead_id = created[0]["id"], created[1]["id"]
    updated = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Contact"}, "Id": contact_id, "Title": "CTO"}]})
    assert updated[0]["success"] is True
    got = sf.restful("composite/sobjects/Contact", params={"ids": contact_id, "fields": "Title"})
    assert got[0]["Title"] == "CTO"
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": f"{contact_id},{lead_id}"})
    assert [r["success"] for r in deleted] == [True, True]


def test_collection_partial_success(sf):
    records = [{"attributes": {"type": "Contact"}, "LastName": "Good"},
               {"attributes": {"type": "Contact"}, "FirstName": "Bad"}]
    result = sf.restful("composite/sobjects", method="POST", json={"records": records})
    assert result[0]["success"] is True
    assert result[1]["success"] is False
    assert result[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"


def test_collection_all_or_none_rolls_back(fake_org, sf):
    records = [{"attributes": {"type": "Contact"}, "LastName": "Good"},
               {"attributes": {"type": "Contact"}, "FirstName": "Bad"}]
    result = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": records})
    assert [r["success"] for r in result] == [False, False]
    assert result[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0


def test_collection_limit(sf):
    records = [{"attributes": {"type": "Contact"}, "LastName": str(i)} for i in range(201)]
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.restful("composite/sobjects", method="POST", json={"records": records})
    assert error_of(info)[0] == "EXCEEDED_ID_LIMIT"


def test_external_id_matching_several_records_is_300(sf):
    sf.Contact.create({"LastName": "A", "Legacy_Ref__c": "L-1"})
    sf.Contact.create({"LastName": "B", "Legacy_Ref__c": "L-1"})
    with pytest.raises(SalesforceMoreThanOneRecord) as info:
        sf.Contact.get_by_custom_id("Legacy_Ref__c", "L-1")
    urls = info.value.content
    assert len(urls) == 2 and all(u.startswith("/services/data/v59.0/sobjects/Contact/003") for u in urls)
    with pytest.raises(SalesforceMoreThanOneRecord):
        sf.Contact.upsert("Legacy_Ref__c/L-1", {"LastName": "C"})


def test_delete_by_external_id(sf):
    record_id = sf.Contact.create({"LastName": "A", "External_Id__c": "DEL-1"})["id"]
    response = sf.session.delete(sf.base_url + "sobjects/Contact/External_Id__c/DEL-1", headers=sf.headers)
    assert response.status_code == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.get(record_id)


@pytest.mark.parametrize("method, path", [
    ("GET", "actions/standard"),
    ("GET", "tooling/query"), ("GET", "ui-api/records/x"),
])
def test_unimplemented_salesforce_apis_are_refused_by_name(sf, method, path):
    response = sf.session.request(method, sf.base_url + path, headers=sf.headers, json={})
    assert response.status_code == 501
    (body,) = response.json()
    assert body["errorCode"] == "FAKE_NOT_IMPLEMENTED" and "does not implement" in body["message"]


def test_bulk_and_apex_rest_are_refused_by_name(sf):
    for url in (f"https://{sf.sf_instance}/services/async/59.0/job", sf.apex_url + "MyService"):
        response = sf.session.post(url, headers=sf.headers, json={})
        assert response.status_code == 501
        assert response.json()[0]["errorCode"] == "FAKE_NOT_IMPLEMENTED"


def test_unique_values_compare_case_insensitively(sf):
    sf.Contact.create({"LastName": "A", "External_Id__c": "Ext-7"})
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Contact.create({"LastName": "B", "External_Id__c": "EXT-7"})
    assert error_of(info)[0] == "DUPLICATE_VALUE"
    assert sf.Contact.get_by_custom_id("External_Id__c", "ext-7")["LastName"] == "A"


def test_a_lone_surrogate_after_multibyte_text_is_a_json_error_not_a_500(sf):
    """The error quotes the start of the string: cut inside a multibyte character, it still reads."""
    body = '{"LastName": "' + "a" * 37 + '\\u00e9\\u20ac\\ud800"}'
    answer = sf.session.post(sf.base_url + "sobjects/Contact/", data=body.encode(), headers=sf.headers)
    assert answer.status_code == 400, answer.text
    assert answer.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    assert "lone UTF-16 surrogate (" + "a" * 37 in answer.json()[0]["message"]


def test_http_method_override_parameter(sf):
    """POST with ``?_HttpMethod=PATCH`` (or DELETE) is that method, for HTTP libraries without it."""
    record_id = sf.Contact.create({"LastName": "Override"})["id"]
    url = sf.base_url + f"sobjects/Contact/{record_id}"
    patched = sf.session.post(url, headers=sf.headers, params={"_HttpMethod": "PATCH"}, json={"Title": "CEO"})
    assert patched.status_code == 204 and sf.Contact.get(record_id)["Title"] == "CEO"
    refused = sf.session.post(sf.base_url + "sobjects/Contact", headers=sf.headers,
                              params={"_HttpMethod": "PATCH"}, json={"LastName": "Not created"})
    assert refused.status_code == 405 and refused.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"
    deleted = sf.session.post(url, headers=sf.headers, params={"_HttpMethod": "DELETE"})
    assert deleted.status_code == 204
    assert sf.query("SELECT LastName FROM Contact")["records"] == []


@pytest.mark.parametrize("headers", [{"Content-Type": "application/xml"}, {"Content-Type": "text/xml; charset=UTF-8"},
                                     {"Accept": "application/xml"}, {"Accept": "application/xml, */*;q=0.8"}])
def test_xml_requests_and_answers_are_refused_by_name(sf, headers):
    """Salesforce reads and writes XML too; the fake speaks JSON only and says so."""
    url = sf.base_url + "sobjects/Contact"
    response = sf.session.post(url, headers={**sf.headers, **headers}, data='{"LastName": "As JSON"}')
    assert response.status_code == 501
    (error,) = response.json()
    assert error["errorCode"] == "FAKE_NOT_IMPLEMENTED" and "XML" in error["message"]
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    json_too = sf.session.get(url, headers={**sf.headers, "Accept": "application/json, application/xml;q=0.5"})
    assert json_too.status_code == 200


def test_compressed_request_bodies(sf):
    """Content-Encoding gzip or deflate is decompressed, as Salesforce does; anything else is
    refused rather than read as plain JSON."""
    url = sf.base_url + "sobjects/Contact"
    body = json.dumps({"LastName": "Zipped"}).encode()

    def post(data, coding):
        return sf.session.post(url, data=data, headers={**sf.headers, "Content-Encoding": coding})

    created = post(gzip.compress(body), "gzip")
    assert created.status_code == 201
    record_id = created.json()["id"]
    updated = sf.session.patch(f"{url}/{record_id}", data=zlib.compress(b'{"Title": "Deflated"}'),
                               headers={**sf.headers, "Content-Encoding": "deflate"})
    assert updated.status_code == 204 and sf.Contact.get(record_id)["Title"] == "Deflated"
    assert post(body, "br").status_code == 415
    for broken in (body, gzip.compress(body)[:-4], gzip.compress(body) + b"extra"):
        refused = post(broken, "gzip")
        assert refused.status_code == 400 and refused.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    assert [r["LastName"] for r in sf.query("SELECT LastName FROM Contact")["records"]] == ["Zipped"]


def test_upsert_by_id_updates_an_existing_record_only(sf):
    """PATCH sobjects/T/Id/{id} updates that record; an id of no record is NOT_FOUND and a
    malformed one MALFORMED_ID, where both used to create a record under a new id. POST
    sobjects/T/Id (no value) creates one, as Salesforce does from API version 37.0."""
    record_id = sf.Contact.create({"LastName": "Existing"})["id"]
    assert sf.Contact.upsert(f"Id/{record_id}", {"Title": "Updated"}) == 200
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.upsert("Id/003000000000000AAA", {"LastName": "Unknown id"})
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Contact.upsert("Id/not-an-id", {"LastName": "Malformed id"})
    assert error_of(info)[0] == "MALFORMED_ID"
    created = sf.session.post(sf.base_url + "sobjects/Contact/Id", headers=sf.headers, json={"LastName": "New"})
    assert created.status_code == 201 and created.json()["success"] is True
    rows = sf.query("SELECT LastName, Title FROM Contact ORDER BY LastName")["records"]
    assert [(r["LastName"], r["Title"]) for r in rows] == [("Existing", "Updated"), ("New", None)]


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_relationship_traversal_is_refused_by_name(sf, method):
    """sobjects/{type}/{id}/{relationship} is Salesforce's relationship traversal, not a lookup
    by an external id field named like a record id."""
    account = sf.Account.create({"Name": "Parent"})["id"]
    contact = sf.Contact.create({"LastName": "Child", "AccountId": account})["id"]
    for path in (f"sobjects/Account/{account}/Contacts", f"sobjects/Contact/{contact}/Account"):
        response = sf.session.request(method, sf.base_url + path, headers=sf.headers,
                                      json={"Name": "x"} if method == "PATCH" else None)
        assert response.status_code == 501, response.text
        assert "relationship traversal" in response.json()[0]["message"]
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 1


def test_query_explain_is_refused_by_name(sf):
    response = sf.session.get(sf.base_url + "query", headers=sf.headers, params={"explain": "SELECT Id FROM Account"})
    assert response.status_code == 501 and "explain" in response.json()[0]["message"]


@pytest.mark.parametrize("header", ["If-Match", "If-None-Match", "If-Unmodified-Since"])
def test_conditional_requests_are_refused_by_name(sf, header):
    """A precondition the fake cannot check is refused, not ignored (an update would go through)."""
    record_id = sf.Contact.create({"LastName": "Before"})["id"]
    response = sf.session.patch(sf.base_url + f"sobjects/Contact/{record_id}", json={"LastName": "After"},
                                headers={**sf.headers, header: '"stale-etag"'})
    assert response.status_code == 501 and header in response.json()[0]["message"]
    assert sf.Contact.get(record_id)["LastName"] == "Before"
