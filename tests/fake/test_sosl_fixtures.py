"""SOSL cases read from the fixture files in tests/data/sosl/ (see its README): each search
with its expected records (and metadata), or its expected errorCode and message."""
from datetime import datetime
from pathlib import Path

import pytest

import fake_salesforce

from conftest import check_error, fixture_cases, with_ids

DATA = Path(__file__).resolve().parents[1] / "data"
FIXTURES = DATA / "sosl"


def _records(answer: dict) -> list[dict]:
    return [{"sobject": r["attributes"]["type"], **{k: v for k, v in r.items() if k != "attributes"}}
            for r in answer["searchRecords"]]


@pytest.fixture
def connected(fake_org, sf, request):
    """The org and client of a table: the tests' org, or one built with the table's schema."""
    def connect(table):
        if "schema" not in table:
            return fake_org.org, sf
        org = fake_salesforce.Org(schema_files=(str(DATA / "custom_schema.yaml"),
                                                str(FIXTURES / "schema" / table["schema"])))
        return org, fake_salesforce.connect(org)
    return connect


@pytest.mark.parametrize("table,case", list(fixture_cases(FIXTURES)))
def test_fixture(connected, table, case):
    org, sf = connected(table)
    org.clock.set(datetime.fromisoformat(table["now"].replace("Z", "+00:00")))
    ids = org.seed(table.get("seed") or [])
    text = case["search"]
    for i, record_id in enumerate(ids):
        text = text.replace("{@%d}" % i, record_id).replace("{@%d:15}" % i, record_id[:15])
    if "error" in case:
        check_error(lambda: sf.search(text), case["error"])
        return
    answer = sf.search(text)
    assert _records(answer) == with_ids(case["records"], ids)
    if "metadata" in case:
        assert answer["metadata"] == case["metadata"]
    else:
        assert "metadata" not in answer
