"""Random and hostile query and search strings: every answer is a Salesforce-shaped 200 or 4xx
(or the fake's explicit 501 FAKE_NOT_IMPLEMENTED), never a 500, and no text reaches SQL."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simple_salesforce.exceptions import SalesforceError

import fake_salesforce

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)
WORDS = ["SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "INCLUDES", "ORDER", "BY",
         "GROUP", "HAVING", "LIMIT", "OFFSET", "ASC", "DESC", "NULLS", "FIRST", "LAST", "COUNT()",
         "COUNT(Id)", "Id", "Name", "Account.Name", "Who.Name", "Contact", "Task", "Lead", "Tasks",
         "Contacts", "(", ")", ",", "=", "!=", "<", ">=", "null", "true", "false", "TODAY",
         "LAST_N_DAYS:3", "2026-01-01", "2026-01-01T00:00:00Z", "'x'", "'%'", "'\\''", "1", "-1.5",
         "99999999999999999999999", "FIND", "{4155550100}", "RETURNING", "PHONE", "FIELDS", ":",
         "'", "\\", "\"", ";", "--", "/*", "\x00", "Contact(Id", "SELECT Id FROM Contact WHERE",
         # clause words and functions the compiler checks itself, not the grammar
         "WITH", "SECURITY_ENFORCED", "USER_MODE", "FOR", "VIEW", "REFERENCE", "UPDATE", "TRACKING",
         "VIEWSTAT", "USING", "SCOPE", "mine", "ROLLUP(Name)", "CUBE(", "GROUPING(", "TYPEOF",
         "WHEN", "THEN", "ELSE", "END", "FORMAT(", "toLabel(", "DAY_ONLY(", "CALENDAR_YEAR(CreatedDate)",
         "FIELDS(ALL)", "convertCurrency("]
SOQLISH = st.lists(st.sampled_from(WORDS), max_size=25).map(" ".join)
VALID_PREFIX = st.tuples(
    st.sampled_from(["SELECT Id FROM Contact WHERE LastName = ", "SELECT Id FROM Contact WHERE ",
                     "SELECT Id, Name FROM Contact ORDER BY ", "SELECT Id FROM Task WHERE Who.Name LIKE ",
                     "FIND {", "FIND {ab} IN PHONE FIELDS RETURNING Contact(Id WHERE ",
                     "SELECT Id, (SELECT Id FROM Tasks WHERE "]),
    st.one_of(TEXT, SOQLISH)).map("".join)
QUERIES = st.one_of(TEXT, SOQLISH, VALID_PREFIX)

_ORG = fake_salesforce.Org()
_SF = fake_salesforce.connect(fake_salesforce.create_app(_ORG))
_ORG.seed([{"sobject": "Contact", "fields": {"LastName": "Martin", "Phone": "4155550100"}}])


def check_answer(call):
    try:
        answer = call()
    except SalesforceError as e:
        assert 400 <= e.status < 500 or (e.status == 501 and e.content[0]["errorCode"] == "FAKE_NOT_IMPLEMENTED"), \
            (e.status, e.content)
        (body,) = e.content
        assert set(body) >= {"errorCode", "message"}
        return
    assert isinstance(answer, dict)
    assert "records" in answer or "searchRecords" in answer


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(QUERIES)
def test_query_never_fails_with_500(text):
    check_answer(lambda: _SF.query(text))
    assert _ORG.counts()["Contact"] == 1


@SETTINGS
@given(QUERIES)
def test_query_all_through_restful_never_fails_with_500(text):
    check_answer(lambda: _SF.restful("queryAll", params={"q": text}))


@SETTINGS
@given(QUERIES)
def test_search_never_fails_with_500(text):
    check_answer(lambda: _SF.search(text))
    check_answer(lambda: _SF.search("FIND {" + text.replace("}", "\\}") + "} RETURNING Contact(Name)"))


@pytest.mark.parametrize("depth", [10, 500, 5000])
def test_deep_nesting_is_a_400(depth):
    text = "SELECT Id FROM Contact WHERE " + "(" * depth + "Name = 'x'" + ")" * depth
    check_answer(lambda: _SF.query(text))
    text = "SELECT Id FROM Contact WHERE " + " OR ".join(f"Name = '{i}'" for i in range(depth))
    check_answer(lambda: _SF.query(text))
    text = "SELECT Id FROM Contact WHERE " + "NOT " * depth + "Name = 'x'"
    check_answer(lambda: _SF.query(text))
