"""docs/fake-org.md: its generated coverage part is current, and what it lists is refused."""
import ast
from pathlib import Path

import pytest
from simple_salesforce.exceptions import SalesforceError

from fake_salesforce import coverage
from fake_salesforce.api import data, other

DOC = Path(__file__).resolve().parents[2] / "docs" / "fake-org.md"


def test_the_committed_coverage_is_current():
    text = DOC.read_text(encoding="utf-8")
    assert coverage.update(text) == text, (
        "docs/fake-org.md is stale: run `python -m fake_salesforce.coverage` and commit it")


def test_check_mode_fails_on_a_stale_file_and_writes_nothing(tmp_path, capsys):
    stale = tmp_path / "fake-org.md"
    stale.write_text(f"# Doc\n\n{coverage.BEGIN}\nold\n{coverage.END}\n")
    before = stale.read_text()
    assert coverage.main([str(stale), "--check"]) == 1
    assert stale.read_text() == before
    assert coverage.main([str(stale)]) == 0
    assert coverage.main([str(stale), "--check"]) == 0
    assert stale.read_text().startswith("# Doc\n\n" + coverage.BEGIN)


def test_a_file_without_markers_is_an_error(tmp_path):
    plain = tmp_path / "plain.md"
    plain.write_text("# nothing to fill\n")
    assert coverage.main([str(plain)]) == 2


def test_a_new_refusal_is_found_without_registering_it():
    source = ("def handler():\n"
              "    raise errors.NotImplementedByFake(f'The fake org does not implement {thing}')\n"
              "def soap():\n"
              "    return fault('FAKE_NOT_IMPLEMENTED', 'no ' + name, 501)\n")
    calls = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)]
    found = [m for m in map(coverage._refusal, calls) if m is not None]
    assert found == ["The fake org does not implement {thing}", "no {name}"]


def test_every_refusal_site_is_listed():
    files = {file for file, _, _ in coverage.refusals()}
    assert {"fake_salesforce/api/data.py", "fake_salesforce/soql/compiler.py", "fake_salesforce/soql/parser.py",
            "fake_salesforce/sosl/search.py", "fake_salesforce/api/soap.py"} <= files


@pytest.mark.parametrize("area", list(data._UNIMPLEMENTED))
def test_each_listed_rest_api_answers_501_fake_not_implemented(sf, area):
    with pytest.raises(SalesforceError) as raised:
        sf.restful(f"{area}/anything", method="GET")
    assert raised.value.status == 501
    assert raised.value.content[0]["errorCode"] == "FAKE_NOT_IMPLEMENTED"
    assert data._UNIMPLEMENTED[area] in raised.value.content[0]["message"]


@pytest.mark.parametrize("path", list(data._UNIMPLEMENTED_BELOW))
def test_each_listed_rest_resource_answers_501_fake_not_implemented(sf, path):
    with pytest.raises(SalesforceError) as raised:
        sf.restful(path.replace("<sobject>", "Account"), method="GET")
    assert raised.value.status == 501
    assert raised.value.content[0]["errorCode"] == "FAKE_NOT_IMPLEMENTED"
    assert data._UNIMPLEMENTED_BELOW[path] in raised.value.content[0]["message"]


@pytest.mark.parametrize("prefix", list(other._AREAS))
def test_each_listed_other_api_answers_501(sf, prefix):
    base = sf.base_url.split("/services/")[0]
    response = sf.session.get(f"{base}/services/{prefix}/x", headers=sf.headers)
    assert response.status_code == 501
    assert response.json()[0]["errorCode"] == "FAKE_NOT_IMPLEMENTED"


def test_a_listed_soql_construct_is_refused_by_name(sf):
    from fake_salesforce.soql.unsupported import NOT_IMPLEMENTED

    construct = "SOQL WITH DATA CATEGORY"
    assert construct in NOT_IMPLEMENTED and construct in DOC.read_text(encoding="utf-8")
    with pytest.raises(SalesforceError) as raised:
        sf.query("SELECT Id FROM Contact WITH DATA CATEGORY Geography__c AT usa__c")
    assert raised.value.status == 501
    assert raised.value.content[0]["errorCode"] == "FAKE_NOT_IMPLEMENTED"
    assert construct in raised.value.content[0]["message"]
