"""SOQL cases read from the fixture files in tests/data/soql/ (see its README): each query with
its expected records, or its expected errorCode and message."""
from datetime import datetime
from pathlib import Path

import pytest

from conftest import check_error, fixture_cases, with_ids

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "soql"


def _strip(value):
    """Records without their ``attributes`` (checked in test_soql.py)."""
    if isinstance(value, list):
        return [_strip(v) for v in value]
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k != "attributes"}
    return value


@pytest.mark.parametrize("table,case", list(fixture_cases(FIXTURES)))
def test_fixture(fake_org, sf, table, case):
    org = fake_org.org
    org.clock.set(datetime.fromisoformat(table["now"].replace("Z", "+00:00")))
    fiscal = org.config.fiscal_year_start_month
    org.config.fiscal_year_start_month = table.get("fiscal_year_start_month", 1)
    try:
        _check(org, sf, table, case)
    finally:
        org.config.fiscal_year_start_month = fiscal


def _running_user(value, me: str):
    """``"@me"`` -> the running user's id (the user ``sf`` logs in as)."""
    if isinstance(value, list):
        return [_running_user(v, me) for v in value]
    if isinstance(value, dict):
        return {k: _running_user(v, me) for k, v in value.items()}
    return me if value == "@me" else value


def _check(org, sf, table, case):
    me = org.admin_id
    ids = org.seed(_running_user(table.get("seed") or [], me))
    query = case["query"].replace("{@me}", me)
    for i, record_id in enumerate(ids):
        query = query.replace("{@%d}" % i, record_id)
    if "error" in case:
        check_error(lambda: sf.query(query), case["error"])
        return
    answer = sf.query(query)
    assert _strip(answer["records"]) == with_ids(_running_user(case["records"], me), ids)
    assert answer["done"] is True
    assert answer["totalSize"] == case.get("totalSize", len(case["records"]))
