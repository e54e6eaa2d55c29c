"""Helpers for the web pages' tests: a browser-like session on the fixture's fake org."""
from __future__ import annotations

import pytest
import yaml
from simple_salesforce.exceptions import SalesforceError
from bs4 import BeautifulSoup

import fake_salesforce
from fake_salesforce.client import INPROCESS_HOST
from fake_salesforce.pages import SESSION_COOKIE


class Pages:
    """GETs pages of the org as a browser would, holding the session cookie by hand (so the same
    code runs in-process and over HTTP)."""

    def __init__(self, fake_org):
        self.session = fake_salesforce.make_session(fake_org.target)
        self.base = fake_org.url or f"https://{INPROCESS_HOST}"
        self.cookie: str | None = None

    def request(self, method: str, path: str, **kwargs):
        headers = kwargs.pop("headers", {})
        if self.cookie:
            headers["Cookie"] = f"{SESSION_COOKIE}={self.cookie}"
        return self.session.request(method, self.base + path, headers=headers,
                                    allow_redirects=False, **kwargs)

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def login(self, username="admin@example.com", password="password", target="/"):
        response = self.request("POST", "/login", data={"username": username, "password": password,
                                                        "next": target})
        cookie = response.headers.get("Set-Cookie", "")
        if cookie.startswith(SESSION_COOKIE + "="):
            self.cookie = cookie.split(";", 1)[0].split("=", 1)[1]
        return response

    def soup(self, path: str, status: int = 200) -> BeautifulSoup:
        response = self.get(path)
        assert response.status_code == status, (path, response.status_code, response.text[:500])
        return BeautifulSoup(response.text, "html.parser")


@pytest.fixture
def pages(fake_org) -> Pages:
    """A logged-in page session on a clean org."""
    p = Pages(fake_org)
    assert p.login().status_code == 302
    return p


def timeline_of(soup: BeautifulSoup) -> dict[str, list[str]]:
    """Subjects shown in each Activity section, in page order."""
    return {section["data-section"]: [li.select_one(".subject").get_text() for li in section.select("li.entry")]
            for section in soup.select(".timeline-section")}


# -- the query fixture tables (tests/data/soql, tests/data/sosl) ----------------------------------

def fixture_cases(folder):
    """Each case of each table in ``folder``, as a pytest param (table, case) named after both."""
    for path in sorted(folder.glob("*.yaml")):
        table = yaml.safe_load(path.read_text())
        for case in table["cases"]:
            yield pytest.param(table, case, id=f"{path.stem}: {case['name']}")


def with_ids(value, ids: list[str]):
    """``value`` with each ``"@N"`` replaced by the id of the table's N-th seeded record."""
    if isinstance(value, list):
        return [with_ids(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: with_ids(v, ids) for k, v in value.items()}
    if isinstance(value, str) and value[:1] == "@" and value[1:].isdigit():
        return ids[int(value[1:])]
    return value


def check_error(call, expected: dict) -> None:
    """``call()`` is refused with one error: the case's errorCode, and its exact ``message``
    or a ``message_contains`` part of it."""
    with pytest.raises(SalesforceError) as info:
        call()
    (body,) = info.value.content
    assert body["errorCode"] == expected["errorCode"]
    if "message" in expected:
        assert body["message"] == expected["message"]
    else:
        assert expected["message_contains"] in body["message"]
