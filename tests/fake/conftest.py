"""Helpers for the web pages' tests: a browser-like session on the fixture's fake org."""
from __future__ import annotations

import pytest
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
