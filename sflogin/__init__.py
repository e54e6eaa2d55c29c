"""Log in to a Salesforce org with the usual credentials; get a ``simple_salesforce.Salesforce``.

Shared by ``callsim`` (the core's commands) and ``fake-salesforce schema import --from-org``;
imports neither the fake nor the simulator. Three ways to log in, as the Salesforce CLI and
common tooling offer them, each from a command-line option or its environment variable:

==================  ======================  ==============================================
way                 options                 environment variables
==================  ======================  ==============================================
password            --username --password   SF_USERNAME SF_PASSWORD
                    [--security-token]      [SF_SECURITY_TOKEN]
                    [--domain]              [SF_DOMAIN]
access token        --access-token          SF_ACCESS_TOKEN
                    --instance-url          SF_INSTANCE_URL
JWT bearer          --client-id             SF_CLIENT_ID (the connected app's consumer key)
                    --jwt-key-file          SF_JWT_KEY_FILE (its private key, PEM)
                    --username [--domain]   SF_USERNAME [SF_DOMAIN]
==================  ======================  ==============================================

An option wins over its environment variable; an option that picks a way (--password,
--access-token, --jwt-key-file) sets aside the variables of the other ways. ``--domain`` says where to log in: ``login``
(production, the default), ``test`` (a sandbox), a My Domain name (``acme`` or ``acme.my``, as
simple-salesforce takes it) or a full ``https://host[:port]`` URL.

>>> sf = login()                                   # from the SF_* environment variables
>>> sf = login(access_token=token, instance_url="https://acme.my.salesforce.com")
"""
from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceError
from simple_salesforce.login import SalesforceLogin, token_login

__all__ = ["ENV_VARS", "Credentials", "CredentialsError", "LoginError", "LoginFailed",
           "OrgUnreachable", "login", "login_url"]

API_VERSION = "59.0"
# Seconds to connect to the org and to wait for each answer, unless a request says otherwise.
DEFAULT_TIMEOUT = (10.0, 60.0)

# Option (its Python name) -> environment variable.
ENV_VARS = {
    "username": "SF_USERNAME", "password": "SF_PASSWORD", "security_token": "SF_SECURITY_TOKEN",
    "domain": "SF_DOMAIN", "access_token": "SF_ACCESS_TOKEN", "instance_url": "SF_INSTANCE_URL",
    "client_id": "SF_CLIENT_ID", "jwt_key_file": "SF_JWT_KEY_FILE",
}
# The secret that picks the way of logging in, and what else that way needs and refuses.
_WAYS = {
    "password": {"needs": ("username",), "refuses": ("instance_url", "client_id")},
    "access_token": {"needs": ("instance_url",),
                     "refuses": ("username", "security_token", "domain", "client_id")},
    "jwt_key_file": {"needs": ("client_id", "username"), "refuses": ("security_token", "instance_url")},
}
_WAY_NAMES = {"password": "password", "access_token": "access token", "jwt_key_file": "JWT bearer"}


class LoginError(Exception):
    """Logging in did not work; ``exit_code`` is what a command exits with."""

    exit_code = 1


class CredentialsError(LoginError):
    """Credentials missing, contradicting each other, or malformed: exit 2."""

    exit_code = 2


class LoginFailed(LoginError):
    """The org answered and refused the credentials: exit 1."""

    exit_code = 1


class OrgUnreachable(LoginError):
    """The org does not answer (refused, unknown host, TLS failure, timeout): exit 3."""

    exit_code = 3


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


@dataclass(frozen=True)
class Credentials:
    """The credentials of one way of logging in, checked to be complete and consistent."""

    way: str                      # "password", "access_token" or "jwt_key_file"
    values: dict[str, str]
    sources: dict[str, str]       # name -> "--password" or "SF_PASSWORD", for messages

    @classmethod
    def resolve(cls, given: Mapping[str, Any] | None = None,
                env: Mapping[str, str] | None = None) -> "Credentials":
        """Options (``given``, None meaning not given) over environment variables (``env``,
        ``os.environ`` by default). CredentialsError names what is missing or contradicting."""
        env = os.environ if env is None else env
        given = dict(given or {})
        unknown = set(given) - set(ENV_VARS)
        if unknown:
            raise TypeError(f"unknown credential {sorted(unknown)[0]!r}")
        flagged = {n: str(v) for n, v in given.items() if v is not None}
        from_env = {n: env[var] for n, var in ENV_VARS.items() if env.get(var)}
        ways = [w for w in _WAYS if w in flagged] or [w for w in _WAYS if w in from_env]
        if ways and ways[0] in flagged and len(ways) == 1:
            # An option picks the way: variables of other ways, or refused by it, stand aside.
            drop = set(_WAYS) | set(_WAYS[ways[0]]["refuses"])
            from_env = {n: v for n, v in from_env.items() if n not in drop}
        values = {**from_env, **flagged}
        sources = {n: ENV_VARS[n] for n in from_env} | {n: _flag(n) for n in flagged}
        if not ways:
            raise CredentialsError(
                "no credentials for the org: give a password (--username and --password, or "
                "SF_USERNAME and SF_PASSWORD), an access token (--access-token and --instance-url, "
                "or SF_ACCESS_TOKEN and SF_INSTANCE_URL) or a JWT key (--client-id, --jwt-key-file "
                "and --username, or SF_CLIENT_ID, SF_JWT_KEY_FILE and SF_USERNAME)")
        if len(ways) > 1:
            listed = " and ".join(f"{_WAY_NAMES[w]} ({sources[w]})" for w in ways)
            raise CredentialsError(f"credentials for more than one way of logging in: {listed}; "
                                   "give one")
        way = ways[0]
        for name in _WAYS[way]["needs"]:
            if name not in values:
                raise CredentialsError(f"{_WAY_NAMES[way]} login ({sources[way]}) needs "
                                       f"{_flag(name)} (or {ENV_VARS[name]})")
        for name in _WAYS[way]["refuses"]:
            if name in values:
                raise CredentialsError(f"{sources[name]} does not go with a {_WAY_NAMES[way]} "
                                       f"login ({sources[way]}): {_REFUSED_WHY[name]}")
        creds = cls(way, values, sources)
        if way == "access_token":
            _instance(values["instance_url"], sources["instance_url"])
        else:
            login_url(values.get("domain"), sources.get("domain", "--domain"))
        if way == "jwt_key_file" and not Path(values["jwt_key_file"]).is_file():
            raise CredentialsError(f"{sources['jwt_key_file']}: no such file: {values['jwt_key_file']}")
        return creds

    def login(self, *, verify: Any = True, session: requests.Session | None = None,
              version: str = API_VERSION, timeout=DEFAULT_TIMEOUT) -> Salesforce:
        """A logged-in client. LoginFailed when the org refuses, OrgUnreachable when it does not
        answer (within ``timeout``: seconds, or (connect, read) seconds, for each request made
        without a timeout of its own)."""
        session = session or _Session(timeout)
        if verify is not True:
            session.verify = verify
        v = self.values
        try:
            if self.way == "password":
                token, instance = SalesforceLogin(
                    username=v["username"], password=v["password"],
                    security_token=v.get("security_token", ""), sf_version=version, session=session,
                    scratch_url=login_url(v.get("domain")))
                return Salesforce(session_id=token, instance=instance, session=session, version=version)
            if self.way == "jwt_key_file":
                token, instance = self._jwt(session)
                return Salesforce(session_id=token, instance=instance, session=session, version=version)
            sf = Salesforce(session_id=v["access_token"], instance_url=v["instance_url"],
                            session=session, version=version)
            sf.limits()  # an access token is only known to work once the org accepts it
            return sf
        except SalesforceAuthenticationFailed as e:
            raise LoginFailed(f"{self.where}: login refused: {e.code}: {e.message}") from None
        except SalesforceError as e:
            raise LoginFailed(f"{self.where}: the access token was refused ({e.status}): "
                              f"{_first_message(e.content)}") from None
        except requests.exceptions.SSLError as e:
            raise OrgUnreachable(f"cannot reach {self.where}: TLS failed: {_reason(e)} (for a "
                                 "self-signed certificate, pass --verify CERT)") from None
        except requests.exceptions.RequestException as e:
            raise OrgUnreachable(f"cannot reach {self.where}: {_reason(e)}") from None

    @property
    def where(self) -> str:
        """The URL logged in at, for messages."""
        if self.way == "access_token":
            return self.values["instance_url"]
        return login_url(self.values.get("domain"))

    def _jwt(self, session: requests.Session) -> tuple[str, str]:
        """The OAuth 2.0 JWT bearer flow: an RS256 assertion signed by the key file, posted to
        the login URL's token endpoint."""
        import jwt

        v = self.values
        url = login_url(v.get("domain"))
        try:
            key = Path(v["jwt_key_file"]).read_bytes()
        except OSError as e:
            raise CredentialsError(f"{self.sources['jwt_key_file']}: cannot read "
                                   f"{v['jwt_key_file']}: {e.strerror}") from None
        expires = datetime.now(timezone.utc) + timedelta(minutes=3)
        claims = {"iss": v["client_id"], "sub": v["username"], "aud": _audience(url),
                  "exp": int(expires.timestamp())}
        try:
            assertion = jwt.encode(claims, key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as e:
            raise CredentialsError(f"{self.sources['jwt_key_file']}: {v['jwt_key_file']} is not an "
                                   f"RSA private key in PEM ({e})") from None
        with warnings.catch_warnings():  # its advice names a URL of the domain it was not told
            warnings.simplefilter("ignore", UserWarning)
            return token_login(f"{url}/services/oauth2/token",
                               {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                "assertion": assertion},
                               url, v["client_id"], None, None, session)


class _Session(requests.Session):
    """A session whose own ``verify`` (a --verify CA file) is not overridden by REQUESTS_CA_BUNDLE
    or CURL_CA_BUNDLE, as a plain session's is (proxies still come from the environment), and
    whose requests time out (simple-salesforce's login sets no timeout of its own)."""

    def __init__(self, timeout=DEFAULT_TIMEOUT):
        super().__init__()
        self.timeout = timeout

    def request(self, *args, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().request(*args, **kwargs)

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if verify is None and self.verify is not True:
            settings["verify"] = self.verify
        return settings


_REFUSED_WHY = {
    "username": "an access token already belongs to a user",
    "security_token": "only a password login takes a security token",
    "domain": "an access token is used at its --instance-url, not at a login domain",
    "instance_url": "this login finds the instance itself; say where to log in with --domain",
    "client_id": "a consumer key goes with a JWT key file (--jwt-key-file)",
}
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")


def login_url(domain: str | None, source: str = "--domain") -> str:
    """Where to log in: ``https://login.salesforce.com`` for ``login`` (or None),
    ``https://test.salesforce.com`` for ``test``, ``https://acme.my.salesforce.com`` for ``acme``
    or ``acme.my``, and a full ``https://host[:port]`` URL as it is."""
    domain = (domain or "login").strip()
    if "://" in domain:
        parts = _split(domain)
        if not parts or parts.scheme != "https" or not parts.hostname or parts.path.strip("/") or parts.query:
            raise CredentialsError(f"{source}: expected https://HOST[:PORT], got {domain!r}")
        return f"https://{parts.netloc}"
    if not _HOST.match(domain):
        raise CredentialsError(f"{source}: {domain!r} is not login, test, a My Domain name or an "
                               "https:// URL")
    if domain.endswith(".salesforce.com"):
        return f"https://{domain}"
    return f"https://{domain if '.' in domain or domain in ('login', 'test') else domain + '.my'}.salesforce.com"


def _split(url: str):
    """``url`` split, or ``None`` when it cannot be (an unclosed ``[``, a port out of range)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return None
    return parts


def _instance(url: str, source: str) -> str:
    parts = _split(url)
    if not parts or parts.scheme != "https" or not parts.hostname:
        raise CredentialsError(f"{source}: expected https://HOST[:PORT] (the org's instance URL), "
                               f"got {url!r}")
    return url


def _audience(url: str) -> str:
    """A JWT's audience: Salesforce wants its login server (test for sandboxes), whichever host
    the token is asked of; a host outside salesforce.com (a local org) is its own audience."""
    host = urlsplit(url).hostname or ""
    if host == "test.salesforce.com" or ".sandbox." in host:
        return "https://test.salesforce.com"
    if host == "salesforce.com" or host.endswith(".salesforce.com"):
        return "https://login.salesforce.com"
    return url


def _first_message(content) -> str:
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return f"{content[0].get('errorCode')}: {content[0].get('message')}"
    return str(content)[:300]


def _reason(error: BaseException) -> str:
    """The innermost cause of a connection error, e.g. "Connection refused"."""
    seen = set()
    while id(error) not in seen:
        seen.add(id(error))
        inner = error.__context__ or (error.args[0] if error.args and isinstance(error.args[0], BaseException)
                                      else None)
        inner = inner or getattr(error, "reason", None)
        if not isinstance(inner, BaseException):
            break
        error = inner
    return str(getattr(error, "strerror", None) or error)


def login(*, verify: Any = True, env: Mapping[str, str] | None = None,
          session: requests.Session | None = None, version: str = API_VERSION,
          timeout=DEFAULT_TIMEOUT, **credentials: str | None) -> Salesforce:
    """A logged-in ``simple_salesforce.Salesforce``: the keyword arguments (username, password,
    security_token, domain, access_token, instance_url, client_id, jwt_key_file) over the SF_*
    environment variables. ``verify``: a CA bundle for the org's certificate (requests' meaning).

    Raises CredentialsError (missing or contradicting), LoginFailed (refused) or OrgUnreachable.
    """
    return Credentials.resolve(credentials, env).login(verify=verify, session=session, version=version,
                                                       timeout=timeout)
