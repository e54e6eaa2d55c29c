"""The Composite API through simple-salesforce: /composite with references and allOrNone,
/composite/batch, /composite/tree, and multi-record upsert by external id."""
import json

import pytest


def _post(sf, path, body, method="POST"):
    response = sf.session.request(method, sf.base_url + path, headers=sf.headers, data=json.dumps(body))
    return response.status_code, response.json()


def test_composite_references_earlier_results(sf):
    status, answer = _post(sf, "composite", {"compositeRequest": [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "acct",
         "body": {"Name": "Composite Co"}},
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "person",
         "body": {"LastName": "Ref", "AccountId": "@{acct.id}"}},
        {"method": "GET", "url": "/services/data/v59.0/sobjects/Contact/@{person.id}?fields=AccountId",
         "referenceId": "read"},
    ]})
    assert status == 200
    results = answer["compositeResponse"]
    assert [r["httpStatusCode"] for r in results] == [201, 201, 200]
    assert results[2]["body"]["AccountId"] == results[0]["body"]["id"]


def test_composite_all_or_none_rolls_back(sf):
    status, answer = _post(sf, "composite", {"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "ok",
         "body": {"Name": "Kept?"}},
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "bad",
         "body": {"FirstName": "No last name"}},
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Lead", "referenceId": "never",
         "body": {"LastName": "L", "Company": "C"}},
    ]})
    codes = [(r["referenceId"], r["httpStatusCode"], r["body"][0]["errorCode"]) for r in answer["compositeResponse"]]
    assert codes == [("ok", 400, "PROCESSING_HALTED"), ("bad", 400, "REQUIRED_FIELD_MISSING"),
                     ("never", 400, "PROCESSING_HALTED")]
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_composite_bad_reference_is_reported(sf):
    status, answer = _post(sf, "composite", {"compositeRequest": [
        {"method": "GET", "url": "/services/data/v59.0/sobjects/Contact/@{missing.id}", "referenceId": "r"}]})
    (result,) = answer["compositeResponse"]
    assert result["httpStatusCode"] == 400 and "missing.id" in result["body"][0]["message"]


def test_composite_subrequest_headers_go_with_the_call(sf):
    sf.bulk2.Contact.insert(records=[{"LastName": f"H{i}"} for i in range(250)], wait=0.01)
    query = {"method": "GET", "url": "/services/data/v59.0/query?q=SELECT+Id+FROM+Contact", "referenceId": "q",
             "httpHeaders": {"Sforce-Query-Options": "batchSize=200"}}
    status, answer = _post(sf, "composite", {"compositeRequest": [query]})
    (result,) = answer["compositeResponse"]
    assert result["httpStatusCode"] == 200
    assert len(result["body"]["records"]) == 200 and result["body"]["done"] is False


@pytest.mark.parametrize("headers, code", [
    ({"Authorization": "Bearer other"}, "INVALID_PARAMETER_VALUE"),
    ({"content-type": "text/plain"}, "INVALID_PARAMETER_VALUE"),
    ({"Transfer-Encoding": "chunked"}, "INVALID_PARAMETER_VALUE"),
    ({"X-Note": "two\nlines"}, "JSON_PARSER_ERROR"),
    ({"X-Count": 5}, "JSON_PARSER_ERROR"),
    (["Sforce-Query-Options"], "JSON_PARSER_ERROR"),
])
def test_composite_refuses_bad_subrequest_headers_before_running_any(sf, headers, code):
    status, answer = _post(sf, "composite", {"compositeRequest": [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "first",
         "body": {"Name": "Not created"}},
        {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": "second", "httpHeaders": headers}]})
    assert status == 400 and answer[0]["errorCode"] == code
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_batch_runs_each_subrequest(sf):
    status, answer = _post(sf, "composite/batch", {"batchRequests": [
        {"method": "POST", "url": "v59.0/sobjects/Account", "richInput": {"Name": "Batch Co"}},
        {"method": "GET", "url": "v59.0/query?q=SELECT+Name+FROM+Account"},
        {"method": "GET", "url": "v59.0/sobjects/Nope/001000000000000AAA"},
    ]})
    assert answer["hasErrors"] is True
    assert [r["statusCode"] for r in answer["results"]] == [201, 200, 404]
    assert answer["results"][1]["result"]["records"][0]["Name"] == "Batch Co"


def test_tree_creates_parents_and_children_or_nothing(sf):
    status, answer = _post(sf, "composite/tree/Account", {"records": [
        {"attributes": {"type": "Account", "referenceId": "a1"}, "Name": "Tree Co",
         "Contacts": {"records": [{"attributes": {"type": "Contact", "referenceId": "c1"}, "LastName": "Leaf"}]}}]})
    assert status == 201 and answer["hasErrors"] is False
    ids = {r["referenceId"]: r["id"] for r in answer["results"]}
    assert sf.Contact.get(ids["c1"])["AccountId"] == ids["a1"]
    status, answer = _post(sf, "composite/tree/Account", {"records": [
        {"attributes": {"type": "Account", "referenceId": "a2"}, "Name": "Half"},
        {"attributes": {"type": "Account", "referenceId": "a3"}, "Nope__c": 1}]})
    assert status == 400 and answer["hasErrors"] is True
    assert [r["referenceId"] for r in answer["results"]] == ["a3"]
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 1


@pytest.mark.parametrize("records, refused", [
    ([{"attributes": {"type": "Account", "referenceId": "a"}, "Name": "One"},
      {"attributes": {"type": "Account", "referenceId": "a"}, "Name": "Two"}], ["a", "a"]),
    ([{"attributes": {"type": "Account", "referenceId": "a"}, "Name": "Parent", "Contacts": {"records": [
        {"attributes": {"type": "Contact", "referenceId": "a"}, "LastName": "Child"}]}}], ["a", "a"]),
    ([{"attributes": {"type": "Account"}, "Name": "No reference"}], [None]),
    ([{"Name": "No attributes"}], [None]),
    ([{"attributes": {"type": "Account", "referenceId": "has space"}, "Name": "Bad reference"}], ["has space"]),
    ([{"attributes": {"type": "Account", "referenceId": 7}, "Name": "Number reference"}], [7]),
    ([{"attributes": {"referenceId": "t"}, "Name": "No type"}], ["t"]),
])
def test_tree_refuses_missing_bad_or_duplicate_reference_ids(sf, records, refused):
    status, answer = _post(sf, "composite/tree/Account", {"records": records})
    assert status == 400 and answer["hasErrors"] is True
    assert [r["referenceId"] for r in answer["results"]] == refused
    assert {r["errors"][0]["statusCode"] for r in answer["results"]} == {"INVALID_INPUT"}
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0


@pytest.mark.parametrize("all_or_none", [False, True])
def test_collection_upsert_by_external_id(sf, all_or_none):
    existing = sf.Contact.create({"LastName": "Old", "External_Id__c": "U-1"})["id"]
    status, answer = _post(sf, "composite/sobjects/Contact/External_Id__c", {"allOrNone": all_or_none, "records": [
        {"attributes": {"type": "Contact"}, "External_Id__c": "U-1", "Title": "Updated"},
        {"attributes": {"type": "Contact"}, "External_Id__c": "U-2", "LastName": "New"},
        {"attributes": {"type": "Contact"}, "External_Id__c": "U-3"},
    ]}, method="PATCH")
    assert status == 200
    if all_or_none:
        assert [r["errors"][0]["statusCode"] for r in answer] == [
            "ALL_OR_NONE_OPERATION_ROLLED_BACK", "ALL_OR_NONE_OPERATION_ROLLED_BACK", "REQUIRED_FIELD_MISSING"]
        assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 1
    else:
        assert [(r["success"], r["created"]) for r in answer] == [(True, False), (True, True), (False, False)]
        assert answer[0]["id"] == existing and sf.Contact.get(existing)["Title"] == "Updated"


def test_collection_upsert_refuses_bad_attributes_and_keys_per_record(sf):
    status, answer = _post(sf, "composite/sobjects/Contact/External_Id__c", {"records": [
        {"attributes": "Contact", "External_Id__c": "K-1", "LastName": "Text attributes"},
        {"External_Id__c": {"value": "K-2"}, "LastName": "Object key"},
        {"External_Id__c": ["K-3"], "LastName": "List key"},
        {"External_Id__c": True, "LastName": "Boolean key"},
        {"External_Id__c": 5, "LastName": "Number key"},
    ]}, method="PATCH")
    assert status == 200
    assert [(r["success"], r["errors"][0]["statusCode"] if r["errors"] else None) for r in answer] == [
        (False, "JSON_PARSER_ERROR"), (False, "JSON_PARSER_ERROR"), (False, "JSON_PARSER_ERROR"),
        (False, "JSON_PARSER_ERROR"), (True, None)]
    assert answer[1]["errors"][0]["fields"] == ["External_Id__c"]
    rows = sf.query("SELECT LastName, External_Id__c FROM Contact")["records"]
    assert [(r["LastName"], r["External_Id__c"]) for r in rows] == [("Number key", "5")]


def test_graph_runs_each_graph_all_or_none(sf):
    status, answer = _post(sf, "composite/graph", {"graphs": [
        {"graphId": "good", "compositeRequest": [
            {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "a",
             "body": {"Name": "Graph Co"}},
            {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "c",
             "body": {"LastName": "Node", "AccountId": "@{a.id}"}}]},
        {"graphId": "bad", "compositeRequest": [
            {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "x",
             "body": {"Name": "Undone"}},
            {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "y",
             "body": {"FirstName": "No last name"}}]},
    ]})
    assert status == 200
    assert [(g["graphId"], g["isSuccessful"]) for g in answer["graphs"]] == [("good", True), ("bad", False)]
    names = [r["Name"] for r in sf.query("SELECT Name FROM Account")["records"]]
    assert names == ["Graph Co"]


@pytest.mark.parametrize("path, key, method, body", [
    ("composite/sobjects", "allOrNone", "POST", {"records": [
        {"attributes": {"type": "Account"}, "Name": "Kept"}, {"attributes": {"type": "Account"}}]}),
    ("composite", "allOrNone", "POST", {"compositeRequest": [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "a", "body": {"Name": "Kept"}},
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "b", "body": {}}]}),
])
def test_boolean_options_given_as_text_mean_what_they_say(sf, path, key, method, body):
    """"false" (text) is false, as Salesforce reads it; Python's truth made it all-or-none."""
    status, _ = _post(sf, path, {**body, key: "false"}, method=method)
    assert status == 200
    assert [r["Name"] for r in sf.query("SELECT Name FROM Account")["records"]] == ["Kept"]
    status, answer = _post(sf, path, {**body, key: "yes"}, method=method)
    assert status == 400 and answer[0]["errorCode"] == "JSON_PARSER_ERROR"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 1


def test_batch_halt_on_error_given_as_text(sf):
    status, answer = _post(sf, "composite/batch", {"haltOnError": "false", "batchRequests": [
        {"method": "GET", "url": "v59.0/sobjects/Nope/001000000000000AAA"}, {"method": "GET", "url": "v59.0/limits"}]})
    assert [r["statusCode"] for r in answer["results"]] == [404, 200]
    status, answer = _post(sf, "composite/batch", {"haltOnError": 1, "batchRequests": [
        {"method": "GET", "url": "v59.0/limits"}]})
    assert status == 400 and answer[0]["errorCode"] == "JSON_PARSER_ERROR"


@pytest.mark.parametrize("method", [None, "get", "PUT", 5])
def test_composite_subrequest_needs_a_documented_method(sf, method):
    subrequest = {"url": "/services/data/v59.0/sobjects/Account", "referenceId": "a", "body": {"Name": "Never"}}
    if method is not None:
        subrequest["method"] = method
    status, answer = _post(sf, "composite", {"compositeRequest": [subrequest]})
    (result,) = answer["compositeResponse"]
    assert result["httpStatusCode"] == 400 and result["body"][0]["errorCode"] == "JSON_PARSER_ERROR"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_batch_subrequest_needs_a_method(sf):
    status, answer = _post(sf, "composite/batch", {"batchRequests": [
        {"url": "v59.0/sobjects/Account", "richInput": {"Name": "Never"}}]})
    assert answer["results"][0]["statusCode"] == 400
    assert answer["results"][0]["result"][0]["errorCode"] == "JSON_PARSER_ERROR"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
