"""Who a session belongs to: the identity URL's answer and OpenID Connect UserInfo.

Built from the User and Organization records. Where Salesforce has values the fake does not
model (photos, addresses, profile), they are fixed placeholders or null.
"""
from __future__ import annotations

from . import urls
from .org import Org

_UTC_OFFSETS_MS = {"America/Los_Angeles": -28_800_000, "America/New_York": -18_000_000,
                   "America/Chicago": -21_600_000, "Europe/London": 0, "GMT": 0,
                   "Europe/Paris": 3_600_000, "Europe/Madrid": 3_600_000, "Europe/Berlin": 3_600_000}


def identity_url(org: Org, user_id: str, base: str) -> str:
    return base + urls.identity_url(org.org_id, user_id)


def service_urls(org: Org, user_id: str, base: str) -> dict:
    """The ``urls`` map of an identity answer; ``{version}`` is left for the client to fill."""
    rest = f"{base}{urls.DATA_PREFIX}/v{{version}}/"
    return {
        "enterprise": base + urls.soap_url("c", "{version}", org.org_id),
        "metadata": base + urls.soap_url("m", "{version}", org.org_id),
        "partner": base + urls.soap_url("u", "{version}", org.org_id),
        "rest": rest, "sobjects": rest + "sobjects/", "search": rest + "search/",
        "query": rest + "query/", "recent": rest + "recent/",
        "tooling_soap": base + urls.soap_url("T", "{version}", org.org_id),
        "tooling_rest": rest + "tooling/",
        "profile": f"{base}/{user_id}", "feeds": rest + "chatter/feeds",
        "groups": rest + "chatter/groups", "users": rest + "chatter/users",
        "feed_items": rest + "chatter/feed-items", "custom_domain": base,
    }


def _user(org: Org, user_id: str) -> dict:
    return org.get("User", user_id, ["Id", "Username", "FirstName", "LastName", "Name", "Email",
                                     "Alias", "IsActive", "TimeZoneSidKey", "LocaleSidKey",
                                     "LanguageLocaleKey", "MobilePhone", "LastModifiedDate"])


def identity(org: Org, user_id: str, base: str) -> dict:
    """``GET /id/{orgId}/{userId}``."""
    u = _user(org, user_id)
    return {
        "id": identity_url(org, user_id, base), "asserted_user": True, "user_id": user_id,
        "organization_id": org.org_id, "username": u["Username"], "nick_name": u["Alias"],
        "display_name": u["Name"], "email": u["Email"], "email_verified": True,
        "first_name": u["FirstName"], "last_name": u["LastName"], "timezone": u["TimeZoneSidKey"],
        "photos": {"picture": f"{base}/profilephoto/005/F", "thumbnail": f"{base}/profilephoto/005/T"},
        "addr_street": None, "addr_city": None, "addr_state": None, "addr_country": None,
        "addr_zip": None, "mobile_phone": u["MobilePhone"], "mobile_phone_verified": False,
        "is_lightning_login_user": False, "status": {"created_date": None, "body": None},
        "urls": service_urls(org, user_id, base), "active": u["IsActive"], "user_type": "STANDARD",
        "language": u["LanguageLocaleKey"], "locale": u["LocaleSidKey"],
        "utcOffset": _UTC_OFFSETS_MS.get(u["TimeZoneSidKey"], 0),
        "last_modified_date": u["LastModifiedDate"], "is_app_installed": True,
    }


def userinfo(org: Org, user_id: str, base: str) -> dict:
    """``GET /services/oauth2/userinfo`` (OpenID Connect claims plus Salesforce's own)."""
    full = identity(org, user_id, base)
    return {
        "sub": full["id"], "user_id": user_id, "organization_id": org.org_id,
        "preferred_username": full["username"], "nickname": full["nick_name"],
        "name": full["display_name"], "email": full["email"], "email_verified": True,
        "given_name": full["first_name"], "family_name": full["last_name"],
        "zoneinfo": full["timezone"], "photos": full["photos"], "profile": f"{base}/{user_id}",
        "picture": full["photos"]["picture"], "address": {}, "urls": full["urls"],
        "active": full["active"], "user_type": "STANDARD", "language": full["language"],
        "locale": full["locale"], "utcOffset": full["utcOffset"],
        "updated_at": full["last_modified_date"], "is_app_installed": True,
    }
