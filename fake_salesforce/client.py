"""connect(): a logged-in simple-salesforce client for a fake org, over HTTP or in-process.

simple-salesforce builds every URL as ``https://...`` and logs in at
``https://login.salesforce.com``. The session returned here carries a transport adapter that
sends those requests to the fake instead: to a server URL (rewriting ``https`` to ``http`` for
a plain-http fake), or straight into the WSGI app with no socket at all.
"""
from __future__ import annotations

import io
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.cookies import cookiejar_from_dict
from requests.structures import CaseInsensitiveDict
from simple_salesforce import Salesforce

from .org import DEFAULT_PASSWORD, DEFAULT_USERNAME, Org
from .urls import API_VERSION

INPROCESS_HOST = "fake-org.my.salesforce.com"


def _is_salesforce_login_host(host: str) -> bool:
    return host == "salesforce.com" or host.endswith(".salesforce.com")


class RedirectAdapter(HTTPAdapter):
    """Sends ``https://*.salesforce.com`` and ``https://HOST:PORT`` of the fake to the fake."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        parts = urlsplit(base_url)
        self.scheme = parts.scheme
        self.netloc = parts.netloc

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        if parts.netloc == self.netloc or _is_salesforce_login_host(parts.hostname or ""):
            request.url = parts._replace(scheme=self.scheme, netloc=self.netloc).geturl()
        return super().send(request, **kwargs)


class InProcessResponse(requests.Response):
    """A ``requests.Response`` of the in-process transport, made without ``Response.__init__``.

    Its cookie jar is made when first read: nothing fills it in-process (requests takes cookies
    from a socket's response only), and making an empty jar for every answer costs more than
    the rest of the response object.
    """

    @property
    def cookies(self):
        jar = self.__dict__.get("_cookie_jar")
        if jar is None:
            jar = self.__dict__["_cookie_jar"] = cookiejar_from_dict({})
        return jar

    @cookies.setter
    def cookies(self, jar) -> None:
        self.__dict__["_cookie_jar"] = jar


# The attributes ``Response.__init__`` sets, at their defaults; each response starts from them.
_RESPONSE_DEFAULTS = {k: v for k, v in requests.Response().__dict__.items()
                      if k not in ("cookies", "headers", "history")}


class WSGIAdapter(BaseAdapter):
    """A requests transport that calls a WSGI app directly: no socket, same app, same state."""

    # The parts of the WSGI environ that are the same for every request.
    _BASE_ENVIRON = {
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }

    def __init__(self, app):
        super().__init__()
        self.app = app
        self._header_keys: dict[str, str | None] = {}   # header name -> environ key (None: skipped)
        self._hosts: dict[tuple[str, str], tuple] = {}   # (scheme, netloc) -> the environ's server keys
        self._encodings: dict[str, str | None] = {}     # Content-Type -> the response's encoding

    def _environ_key(self, name: str) -> str | None:
        key = self._header_keys.get(name)
        if key is None and name not in self._header_keys:
            upper = name.upper().replace("-", "_")
            key = "CONTENT_TYPE" if upper == "CONTENT_TYPE" else \
                None if upper in ("CONTENT_LENGTH", "HOST") else "HTTP_" + upper
            if len(self._header_keys) < 1000:
                self._header_keys[name] = key
        return key

    def _server(self, scheme: str, netloc: str) -> tuple[str, str, str, str]:
        """SERVER_NAME, SERVER_PORT, wsgi.url_scheme and HTTP_HOST of a URL's scheme and netloc
        (a Salesforce login host stands for the in-process org's)."""
        key = (scheme, netloc)
        server = self._hosts.get(key)
        if server is None:
            parts = urlsplit(f"{scheme}://{netloc}")
            hostname = parts.hostname or ""
            if _is_salesforce_login_host(hostname) and hostname != INPROCESS_HOST:
                parts = parts._replace(netloc=INPROCESS_HOST)
                hostname = INPROCESS_HOST
            server = (hostname or "localhost", str(parts.port or (443 if parts.scheme == "https" else 80)),
                      parts.scheme or "https", parts.netloc)
            if len(self._hosts) < 100:
                self._hosts[key] = server
        return server

    def _encoding(self, headers: CaseInsensitiveDict) -> str | None:
        content_type = headers.get("content-type")
        if content_type in self._encodings:
            return self._encodings[content_type]
        encoding = requests.utils.get_encoding_from_headers(headers)
        if len(self._encodings) < 100:
            self._encodings[content_type] = encoding
        return encoding

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        parts = urlsplit(request.url)
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif not isinstance(body, (bytes, bytearray)):
            body = b"".join(body)
        server_name, server_port, url_scheme, host = self._server(parts.scheme, parts.netloc)
        environ = {
            **self._BASE_ENVIRON,
            "REQUEST_METHOD": request.method,
            "PATH_INFO": unquote(parts.path or "/", encoding="latin-1"),  # WSGI: latin-1 text of the bytes
            "QUERY_STRING": parts.query,
            "SERVER_NAME": server_name,
            "SERVER_PORT": server_port,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.url_scheme": url_scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
            "HTTP_HOST": host,
        }
        headers = request.headers
        keys = self._header_keys
        for name, value in (headers.lower_items() if isinstance(headers, CaseInsensitiveDict) else headers.items()):
            key = keys[name] if name in keys else self._environ_key(name)
            if key is not None:
                environ[key] = value
        captured: list = []

        def start_response(status, headers, exc_info=None):
            captured[:] = (status, headers)

        try:
            chunks = self.app(environ, start_response)
            try:
                content = b"".join(chunks)
            finally:
                close = getattr(chunks, "close", None)
                if close:
                    close()
        except ConnectionResetError as e:  # the app closes the connection (an injected fault)
            raise requests.ConnectionError(e, request=request) from None
        status, headers = captured
        response = InProcessResponse.__new__(InProcessResponse)
        response.__dict__.update(_RESPONSE_DEFAULTS)
        response.history = []
        response.status_code = int(status[:3])
        response.reason = status[4:]
        response.headers = CaseInsensitiveDict(headers)
        response._content = content
        response.raw = io.BytesIO(content)
        response.url = request.url
        response.request = request
        response.encoding = self._encoding(response.headers)
        return response

    def close(self):
        pass


def make_session(target, *, verify: Any = True) -> requests.Session:
    """A requests session whose every request reaches the fake org ``target``.

    ``target`` is a server URL (``http://127.0.0.1:8080`` or ``https://...``), a Flask app, or
    an :class:`Org` (an app is made around it).

    In-process, the session has no default query parameters or proxies: its ``params`` and
    ``proxies`` are None instead of empty dicts (requests then skips merging each with the
    request's own, which costs some 9 us a call apiece in requests 2.34, whose merge checks its
    values against runtime-checkable protocols). Give parameters with each call; a proxy has
    nothing to carry in-process.
    """
    session = requests.Session()
    session.trust_env = False  # loopback only; and REQUESTS_CA_BUNDLE must not override verify
    if isinstance(target, str):
        base = target.rstrip("/")
        if urlsplit(base).scheme not in ("http", "https") or not urlsplit(base).netloc:
            raise ValueError(f"not a server URL: {target!r} (expected http://HOST:PORT)")
        adapter = RedirectAdapter(base)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.verify = verify
        return session
    app = _app_of(target)
    adapter = WSGIAdapter(app)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.params = session.proxies = None
    return session


def _app_of(target):
    from .app import create_app

    if isinstance(target, Org):
        return create_app(target)
    if hasattr(target, "wsgi_app") or callable(target):
        return target
    raise TypeError(f"connect() takes a server URL, a Flask app or an Org, not {type(target).__name__}")


def connect(target, username: str = DEFAULT_USERNAME, password: str = DEFAULT_PASSWORD,
            security_token: str = "", *, verify: Any = True, version: str = API_VERSION,
            session: requests.Session | None = None) -> Salesforce:
    """A simple-salesforce client logged in to the fake org through its SOAP login endpoint.

    Wrong credentials raise simple-salesforce's own ``SalesforceAuthenticationFailed``. The
    client's ``session`` keeps reaching the fake, so further clients can be built on it.
    """
    session = session or make_session(target, verify=verify)
    return Salesforce(username=username, password=password, security_token=security_token,
                      session=session, version=version)
