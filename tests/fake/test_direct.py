"""The direct routes (api/direct.py) answer create, get, update and query exactly as the Flask
routes do: the same requests sent to two identical orgs, one served whole, one through Flask's
routes only, get the same status, headers and bytes, and leave the same request log."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import partial

import pytest
from flask import Flask, request_started

import fake_salesforce
from fake_salesforce.app import _Instrumented

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc)
BASE = "https://fake-org.my.salesforce.com/services/data/v59.0"


class Side:
    """One org, reached through ``wsgi`` (the whole app, or Flask's routes only)."""

    def __init__(self, flask_only: bool):
        self.org = fake_salesforce.Org(now=NOW, seed=7)
        self.app = fake_salesforce.create_app(self.org)
        self.flask_requests = 0
        request_started.connect(self._count, self.app, weak=False)
        target = _Instrumented(partial(Flask.wsgi_app, self.app), self.org) if flask_only else self.app
        self.sf = fake_salesforce.connect(target)
        self.session = self.sf.session
        self.headers = {"Authorization": f"Bearer {self.sf.session_id}", "Content-Type": "application/json"}

    def _count(self, sender, **extra):
        self.flask_requests += 1

    def send(self, method: str, path: str, body=None, headers: dict | None = None):
        data = body if body is None or isinstance(body, (str, bytes)) else json.dumps(body)
        return self.session.request(method, BASE + path, data=data,
                                    headers={**self.headers, **(headers or {})})


def _seen(response) -> tuple:
    headers = {k: v for k, v in response.headers.items() if k != "Sforce-Limit-Info"}
    return response.status_code, response.reason, headers, response.content


@pytest.fixture
def sides():
    return Side(flask_only=False), Side(flask_only=True)


def _both(sides, method, path, body=None, headers=None):
    direct, flask = sides
    a = direct.send(method, path, body, headers)
    b = flask.send(method, path, body, headers)
    assert _seen(a) == _seen(b), (method, path, body)
    return a


def test_every_answer_is_the_flask_routes_answer(sides):
    created = _both(sides, "POST", "/sobjects/Contact/", {"LastName": "Martin", "Phone": "+1 415 555 0100"})
    assert created.status_code == 201
    record_id = created.json()["id"]
    _both(sides, "POST", "/sobjects/Contact", {"LastName": "NoSlash", "Email": "a@example.com"})
    _both(sides, "POST", "/sobjects/Account/", {"Name": "Acme"})
    for bad in ({"Nope__c": 1}, {"Id": "003000000000001"}, {}, [1], "", "{", '{"LastName": NaN}',
                {"LastName": "x" * 100}, {"LastName": "L", "AccountId": "001000000000000AAA"}):
        _both(sides, "POST", "/sobjects/Contact/", bad)
    _both(sides, "POST", "/sobjects/Nothing__c/", {"Name": "x"})
    _both(sides, "POST", "/sobjects/Contact/", {"LastName": "Q"}, {"Content-Type": "text/plain"})

    for path in (f"/sobjects/Contact/{record_id}", f"/sobjects/Contact/{record_id[:15]}",
                 f"/sobjects/Contact/{record_id}/", f"/sobjects/Contact/{record_id.lower()}",
                 "/sobjects/Contact/003000000000999AAA", "/sobjects/Account/" + record_id,
                 "/sobjects/Contact/describe", f"/sobjects/Nothing__c/{record_id}",
                 f"/sobjects/Contact/{record_id}?fields=LastName,Phone"):
        _both(sides, "GET", path)

    _both(sides, "PATCH", f"/sobjects/Contact/{record_id}", {"Title": "CTO", "Phone": "+1 415 555 0199"})
    _both(sides, "GET", f"/sobjects/Contact/{record_id}")
    for bad in ({"CreatedDate": "2020-01-01T00:00:00Z"}, {"Nope__c": 1}, {"LastName": None}, [], "", "nul"):
        _both(sides, "PATCH", f"/sobjects/Contact/{record_id}", bad)
    _both(sides, "PATCH", "/sobjects/Contact/003000000000999AAA", {"Title": "x"})
    _both(sides, "PATCH", "/sobjects/Contact/not-an-id", {"Title": "x"})
    _both(sides, "DELETE", f"/sobjects/Contact/{record_id}")
    _both(sides, "GET", f"/sobjects/Contact/{record_id}")
    _both(sides, "PATCH", f"/sobjects/Contact/{record_id}", {"Title": "gone"})

    for i in range(250):
        _both(sides, "POST", "/sobjects/Contact/", {"LastName": f"Row{i}"})
    queries = ["SELECT Id, Name, Phone FROM Contact WHERE LastName = 'Row7'",
               "SELECT Id FROM Contact ORDER BY LastName", "SELECT COUNT() FROM Contact",
               "SELECT Id FROM Contact WHERE Name = 'l\\'apostrophe'", "SELEKT Id FROM Contact",
               "SELECT Nope FROM Contact", "   ", "SELECT Id, Account.Name FROM Contact LIMIT 3"]
    for text in queries:
        _both(sides, "GET", "/query/?" + _q(text))
        _both(sides, "GET", "/query?" + _q(text))
    page = _both(sides, "GET", "/query/?" + _q("SELECT Id FROM Contact"), headers={"Sforce-Query-Options": "batchSize=200"})
    assert page.json()["nextRecordsUrl"]
    _both(sides, "GET", page.json()["nextRecordsUrl"].split("/v59.0", 1)[1])
    _both(sides, "GET", "/query/?" + _q("SELECT Id FROM Contact") + "&columns=true")
    _both(sides, "GET", "/query/")

    direct, flask = sides
    assert direct.org.api_count == flask.org.api_count
    assert [_entry(e) for e in direct.org.request_log()] == [_entry(e) for e in flask.org.request_log()]
    # most calls never reached Flask on the direct side: the comparison compared something
    assert direct.flask_requests < flask.flask_requests / 4


def test_sessions_limits_and_versions(sides):
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
        _both(sides, "GET", "/query/?" + _q("SELECT Id FROM Contact"), headers=headers)
        _both(sides, "POST", "/sobjects/Contact/", {"LastName": "x"}, headers)
    for side in sides:
        side.org.config.api_limit = side.org.api_count + 1
        side.org.config.enforce_api_limit = True
    _both(sides, "POST", "/sobjects/Contact/", {"LastName": "within"})
    _both(sides, "POST", "/sobjects/Contact/", {"LastName": "past the limit"})
    for side in sides:
        side.org.config.enforce_api_limit = False
    for version in ("v1", "v59", "x59.0", "v590.0"):
        a, b = (side.session.post(BASE.replace("v59.0", version) + "/sobjects/Contact/",
                                  data='{"LastName": "v"}', headers=side.headers) for side in sides)
        assert _seen(a) == _seen(b)


def _entry(e):
    return e.method, e.path, e.status, e.user_id, e.error_code


def _q(text: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"q": text})
