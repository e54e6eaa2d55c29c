"""Identity: ``GET /id/{orgId}/{userId}`` and ``GET /services/oauth2/userinfo``."""
from __future__ import annotations

from flask import Blueprint, Response, request

from .. import errors, identity, urls
from .http import USER_ID, json_response
from . import base_url, org

bp = Blueprint("identity", __name__)


def _session_user() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() not in ("bearer", "oauth"):
        token = request.values.get("oauth_token") or request.values.get("access_token")
    try:
        user_id = org().session_user((token or "").strip() or None)
    except errors.InvalidSessionId:
        return None
    request.environ[USER_ID] = user_id
    return user_id


def _forbidden(reason: str) -> Response:
    return Response(reason, status=403, content_type="text/plain;charset=UTF-8")


@bp.route("/id/<org_id>/<user_id>", methods=["GET", "POST"])
def identity_url(org_id: str, user_id: str):
    """Salesforce answers a bad token with 403 ``Bad_OAuth_Token`` in plain text, and an id
    outside the token's org with 403 ``Bad_Id``; the fake does the same."""
    session_user = _session_user()
    if session_user is None:
        return _forbidden("Bad_OAuth_Token")
    o = org()
    if org_id[:15] != o.org_id[:15] or o.object_for_id(user_id) is not o.schema.get("User"):
        return _forbidden("Bad_Id")
    return json_response(identity.identity(o, o.get("User", user_id)["Id"], base_url()))


@bp.route(f"{urls.OAUTH}/userinfo", methods=["GET", "POST"])
def userinfo():
    session_user = _session_user()
    if session_user is None:
        return _forbidden("Bad_OAuth_Token")
    return json_response(identity.userinfo(org(), session_user, base_url()))
