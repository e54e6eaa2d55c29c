"""The in-process transport (``make_session`` on an app): its responses are whole
``requests.Response`` objects, and the WSGI environ it builds says what a socket would."""
from __future__ import annotations

import pickle

import requests

import fake_salesforce
from fake_salesforce.client import INPROCESS_HOST


def echo_app(environ, start_response):
    """A WSGI app answering with the environ keys the transport sets."""
    keys = ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "SERVER_NAME", "SERVER_PORT",
            "HTTP_HOST", "wsgi.url_scheme", "CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_X_CUSTOM")
    body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"] or 0))
    shown = {k: environ.get(k) for k in keys} | {"body": body.decode()}
    out = repr(shown).encode()
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Set-Cookie", "a=b")])
    return [out]


def test_the_environ_says_what_a_socket_would():
    session = fake_salesforce.make_session(echo_app)
    shown = eval(session.post("https://login.salesforce.com/a%20b/c?x=1", data="hi",
                              headers={"X-Custom": "yes", "Content-Type": "text/plain"}).text)
    assert shown == {"REQUEST_METHOD": "POST", "PATH_INFO": "/a b/c", "QUERY_STRING": "x=1",
                     "SERVER_NAME": INPROCESS_HOST, "SERVER_PORT": "443", "HTTP_HOST": INPROCESS_HOST,
                     "wsgi.url_scheme": "https", "CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": "2",
                     "HTTP_X_CUSTOM": "yes", "body": "hi"}
    shown = eval(session.get("http://127.0.0.1:8080/x").text)
    assert (shown["SERVER_NAME"], shown["SERVER_PORT"], shown["HTTP_HOST"], shown["wsgi.url_scheme"]) == \
        ("127.0.0.1", "8080", "127.0.0.1:8080", "http")


def test_parameters_given_with_a_call_or_set_on_the_session_are_sent():
    """The in-process session starts with no default parameters or proxies (None, which
    requests merges at no cost); parameters set on it later are still sent."""
    session = fake_salesforce.make_session(echo_app)
    assert session.params is None and session.proxies is None
    shown = eval(session.get(f"https://{INPROCESS_HOST}/p", params={"q": "a b"}).text)
    assert shown["QUERY_STRING"] == "q=a+b"
    session.params = {"x": "1"}
    session.proxies = {"https": "http://127.0.0.1:9"}   # nothing to carry in-process: unused
    shown = eval(session.get(f"https://{INPROCESS_HOST}/p", params={"q": "c"}).text)
    assert shown["QUERY_STRING"] == "x=1&q=c"


def test_a_response_is_a_whole_requests_response():
    session = fake_salesforce.make_session(echo_app)
    first = session.get(f"https://{INPROCESS_HOST}/one")
    second = session.get(f"https://{INPROCESS_HOST}/two")
    assert isinstance(first, requests.Response)
    assert (first.status_code, first.reason, first.ok) == (200, "OK", True)
    assert first.encoding == "utf-8" and first.headers["content-type"].startswith("text/plain")
    assert first.url == f"https://{INPROCESS_HOST}/one" and first.request.method == "GET"
    assert first.raw.read() == first.content and first.elapsed.total_seconds() >= 0
    assert first.history == [] and first.history is not second.history
    # cookies: none are taken from an in-process answer (as before), but the jar is a real one
    assert isinstance(first.cookies, requests.cookies.RequestsCookieJar) and len(first.cookies) == 0
    assert first.cookies is first.cookies and first.cookies is not second.cookies
    first.cookies = requests.cookies.cookiejar_from_dict({"k": "v"})
    assert first.cookies.get("k") == "v"
    copy = pickle.loads(pickle.dumps(first))
    assert (copy.status_code, copy.content, copy.cookies.get("k")) == (200, first.content, "v")


def test_a_fake_org_answers_json_with_its_encoding(sf):
    response = sf.session.get(f"{sf.base_url}sobjects/Contact/describe",
                              headers={"Authorization": f"Bearer {sf.session_id}"})
    assert response.status_code == 200 and response.encoding == "UTF-8"
    assert response.json()["name"] == "Contact"
