"""The Salesforce layer: error classification, retries with back-off, request counting."""
import pytest
import requests
from simple_salesforce.exceptions import (SalesforceGeneralError, SalesforceMalformedRequest,
                                          SalesforceResourceNotFound)

from simulator.core import RetryPolicy, SalesforceUnavailable, SalesforceWriteError, sosl_escape
from simulator.core.api import SalesforceApi, classify


def lock_error():
    return SalesforceMalformedRequest("u", 400, "Task",
                                      [{"errorCode": "UNABLE_TO_LOCK_ROW", "message": "locked"}])


def server_error():
    return SalesforceGeneralError("u", 503, "query", b"Service Unavailable")


def validation_error():
    return SalesforceMalformedRequest("u", 400, "Task", [{"errorCode": "REQUIRED_FIELD_MISSING",
                                                          "message": "Required fields are missing: [Status]",
                                                          "fields": ["Status"]}])


class Script:
    """Answers calls from a script: exceptions are raised, other values returned."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


class StubType:
    def __init__(self):
        self.create = Script()
        self.update = Script()
        self.delete = Script()
        self.describe = Script()


class StubSF:
    def __init__(self):
        self.query = Script()
        self.query_more = Script()
        self.search = Script()
        self.types = {}

    def __getattr__(self, name):
        return self.types.setdefault(name, StubType())


def make(attempts=4):
    sleeps = []
    sf = StubSF()
    return sf, SalesforceApi(sf, RetryPolicy(attempts=attempts, base_delay=0.25, max_delay=1.0),
                             sleep=sleeps.append), sleeps


@pytest.mark.parametrize("exc, transient, code", [
    (server_error(), True, "HTTP_503"),
    (lock_error(), True, "UNABLE_TO_LOCK_ROW"),
    (requests.ConnectionError("reset"), True, "CONNECTION_ERROR"),
    (requests.Timeout("slow"), True, "TIMEOUT"),
    (validation_error(), False, "REQUIRED_FIELD_MISSING"),
    (SalesforceResourceNotFound("u", 404, "Task", [{"errorCode": "NOT_FOUND", "message": "gone"}]),
     False, "NOT_FOUND"),
    (SalesforceGeneralError("u", 500, "x", '[{"errorCode": "UNKNOWN_EXCEPTION", "message": "boom"}]'),
     True, "UNKNOWN_EXCEPTION"),
])
def test_classify(exc, transient, code):
    assert classify(exc)[:2] == (transient, code)


def test_transient_failures_are_retried_with_exponential_back_off():
    sf, api, sleeps = make()
    sf.query.answers = [server_error(), lock_error(), requests.ConnectionError(), {"records": [{"Id": "1"}]}]
    assert api.query("SELECT Id FROM Task") == [{"Id": "1"}]
    assert sleeps == [0.25, 0.5, 1.0]
    assert api.requests == 4


def test_back_off_is_capped():
    assert [RetryPolicy(base_delay=1, max_delay=3).delay(n) for n in range(4)] == [1, 2, 3, 3]


def test_gives_up_after_the_configured_attempts():
    sf, api, sleeps = make(attempts=3)
    sf.search.answers = [server_error()] * 3
    with pytest.raises(SalesforceUnavailable) as info:
        api.search("FIND {x}")
    assert info.value.transient and info.value.error_code == "HTTP_503"
    assert "gave up after 3 attempts" in str(info.value)
    assert isinstance(info.value, SalesforceWriteError)
    assert api.requests == 3 and len(sleeps) == 2


def test_permanent_failures_are_not_retried_and_carry_the_error_code():
    sf, api, sleeps = make()
    sf.Task.create.answers = [validation_error()]
    with pytest.raises(SalesforceWriteError) as info:
        api.create("Task", {"Subject": "x"})
    err = info.value
    assert not err.transient
    assert err.error_code == "REQUIRED_FIELD_MISSING"
    assert err.sf_message == "Required fields are missing: [Status]"
    assert err.fields == ["Status"] and err.status == 400
    assert str(err) == ("create Task: REQUIRED_FIELD_MISSING: Required fields are missing: [Status] "
                        "(fields: Status)")
    assert sleeps == [] and api.requests == 1


def test_a_create_whose_answer_was_lost_is_not_repeated():
    sf, api, _ = make()
    sf.Task.create.answers = [requests.ConnectionError("reset after commit")]
    assert api.create("Task", {}, recheck=lambda: "00T000000000001AAA") == "00T000000000001AAA"
    assert sf.Task.create.calls == 1


def test_a_create_that_did_not_happen_is_retried():
    sf, api, _ = make()
    sf.Task.create.answers = [requests.ConnectionError(), {"id": "00T2", "success": True, "errors": []}]
    assert api.create("Task", {}, recheck=lambda: None) == "00T2"
    assert sf.Task.create.calls == 2


def test_a_recheck_that_keeps_failing_gives_up_rather_than_create_twice():
    sf, api, _ = make()
    sf.Task.create.answers = [server_error(), {"id": "00T3", "success": True, "errors": []}]
    checks = []

    def recheck():
        checks.append(1)
        raise requests.ConnectionError("still down")
    with pytest.raises(SalesforceUnavailable, match="could not tell whether an earlier attempt"):
        api.create("Task", {}, recheck=recheck)
    assert len(checks) == api.retry.attempts
    assert len(sf.Task.create.answers) == 1  # the second create was never sent


def test_a_recheck_retries_until_it_has_a_definite_answer():
    sf, api, _ = make()
    sf.Task.create.answers = [server_error(), {"id": "00T3", "success": True, "errors": []}]
    answers = [requests.ConnectionError("down"), SalesforceGeneralError("u", 403, "query", [
        {"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}]), None]

    def recheck():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer
    assert api.create("Task", {}, recheck=recheck) == "00T3"
    assert answers == []


def test_request_limit_in_a_recheck_gives_a_5xx_error_not_a_raw_exception():
    sf, api, _ = make()
    sf.Task.create.answers = [server_error(), {"id": "00T3", "success": True, "errors": []}]

    def recheck():
        raise SalesforceGeneralError("u", 403, "query", [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "limit"}])
    with pytest.raises(SalesforceUnavailable) as raised:
        api.create("Task", {}, recheck=recheck)
    assert raised.value.error_code == "REQUEST_LIMIT_EXCEEDED"


def test_delete_of_a_record_already_gone_is_fine():
    sf, api, _ = make()
    sf.Case.delete.answers = [SalesforceResourceNotFound("u", 404, "Case", [
        {"errorCode": "ENTITY_IS_DELETED", "message": "entity is deleted"}])]
    api.delete("Case", "500A")


def test_query_all_follows_next_records_url():
    sf, api, _ = make()
    sf.query.answers = [{"records": [{"Id": "1"}], "done": False, "nextRecordsUrl": "/next"}]
    sf.query_more.answers = [{"records": [{"Id": "2"}], "done": True}]
    assert api.query_all("SELECT Id FROM User") == [{"Id": "1"}, {"Id": "2"}]
    assert api.requests == 2


def test_search_accepts_both_answer_shapes():
    sf, api, _ = make()
    sf.search.answers = [{"searchRecords": [{"Id": "1"}]}, [{"Id": "2"}], None]
    assert api.search("FIND {a}") == [{"Id": "1"}]
    assert api.search("FIND {a}") == [{"Id": "2"}]
    assert api.search("FIND {a}") == []


def test_sosl_escape():
    assert sosl_escape("+33612345678") == r"\+33612345678"
    assert sosl_escape("O'Brien & {x}") == r"O\'Brien \& \{x\}"
    assert sosl_escape("a-b*c?\\") == r"a\-b\*c\?\\"


def test_retry_policy_validation():
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(base_delay=-1)
