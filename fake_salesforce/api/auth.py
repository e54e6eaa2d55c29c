"""OAuth 2.0 logins (``/services/oauth2/token``, ``/revoke``); SOAP logins are in ``soap.py``."""
from __future__ import annotations

import base64
import hashlib
import hmac
import time

from flask import Blueprint, Response, request

from .. import urls
from ..tls import public_key
from . import base_url, org
from .http import json_response

bp = Blueprint("auth", __name__)
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return json_response({"error": error, "error_description": description}, status)


def _client_credentials() -> tuple[str | None, str | None]:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            return client_id, secret
        except (ValueError, UnicodeDecodeError):
            return None, None
    return request.form.get("client_id"), request.form.get("client_secret")


@bp.post(f"{urls.OAUTH}/token")
def oauth_token():
    """Password, client-credentials and JWT bearer grants."""
    o = org()
    grant = request.form.get("grant_type")
    client_id, secret = _client_credentials()
    if grant == JWT_GRANT:
        client_id, user_id, failure = _jwt_user(o, request.form.get("assertion", ""))
        if failure:
            return failure
        return _token_response(o, user_id, o.oauth_client_secret(client_id) or client_id)
    if grant not in ("password", "client_credentials"):
        return _oauth_error("unsupported_grant_type", "grant type not supported")
    expected = o.oauth_client_secret(client_id)
    if expected is None:
        return _oauth_error("invalid_client_id", "client identifier invalid")
    if not hmac.compare_digest(expected, secret or ""):
        return _oauth_error("invalid_client", "invalid client credentials")
    if grant == "password":
        user_id = o.authenticate(request.form.get("username", ""), request.form.get("password", ""))
        if user_id is None:
            return _oauth_error("invalid_grant", "authentication failure")
    else:
        user_id = o.admin_id
    return _token_response(o, user_id, expected)


def _token_response(o, user_id: str, signing_secret: str) -> Response:
    token = o.open_session(user_id)
    issued = str(int(time.time() * 1000))
    base = base_url()
    identity = base + urls.identity_url(o.org_id, user_id)
    signature = base64.b64encode(hmac.new(signing_secret.encode(), (identity + issued).encode(),
                                          hashlib.sha256).digest()).decode()
    return json_response({"access_token": token, "instance_url": base, "id": identity,
                          "token_type": "Bearer", "issued_at": issued, "signature": signature})


def _jwt_user(o, assertion: str):
    """Check a JWT bearer assertion: RS256-signed by the certificate registered for its
    issuer (the connected app's consumer key), unexpired, for a login audience (a
    ``*.salesforce.com`` URL, or the fake's own URL), about an
    active user. Returns (client_id, user_id, None) or (None, None, error response)."""
    import jwt

    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None, None, _oauth_error("invalid_grant", "invalid assertion")
    client_id = claims.get("iss")
    certificate = o.jwt_certificate(client_id)
    if certificate is None:
        return None, None, _oauth_error("invalid_client_id", "client identifier invalid")
    try:
        claims = jwt.decode(assertion, public_key(certificate), algorithms=["RS256"],
                            options={"verify_aud": False, "require": ["exp", "sub", "aud"]})
    except jwt.ExpiredSignatureError:
        return None, None, _oauth_error("invalid_grant", "expired authorization code")
    except jwt.PyJWTError:
        return None, None, _oauth_error("invalid_grant", "invalid assertion")
    audience = claims["aud"] if isinstance(claims["aud"], str) else ""
    own = audience.rstrip("/") == base_url()  # the fake's own URL, as the CLI sends first
    if not own and (not audience.startswith("https://") or not audience.rstrip("/").endswith(".salesforce.com")):
        return None, None, _oauth_error("invalid_grant", "audience is invalid")
    user_id = o.user_by_username(str(claims["sub"]))
    if user_id is None:
        return None, None, _oauth_error("invalid_grant", "user hasn't approved this consumer")
    return client_id, user_id, None


@bp.post(f"{urls.OAUTH}/revoke")
def oauth_revoke():
    token = request.form.get("token") or request.args.get("token")
    org().revoke_session(token)
    return Response(status=200)
