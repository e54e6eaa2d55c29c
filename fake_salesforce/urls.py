"""The API version the fake speaks and the shape of every URL it hands out.

Paths are relative to the instance (``/services/...``); handlers that answer with absolute
URLs put the request's own ``scheme://host`` in front.
"""
from __future__ import annotations

API_VERSION = "59.0"
API_LABEL = "Winter '24"

DATA = "/services/data"          # REST: /services/data/vNN.N/...
SOAP_PARTNER = "/services/Soap/u"  # SOAP partner API (login): /services/Soap/u/NN.N
SOAP_METADATA = "/services/Soap/m"
OAUTH = "/services/oauth2"        # token, revoke
CONTROL = "/_fake"                # the fake's own control API (not Salesforce)


def data(version: str = API_VERSION) -> str:
    """``/services/data/vNN.N``; ``version`` without its ``v``."""
    return f"{DATA}/v{version}"


def sobject(name: str) -> str:
    return f"{data()}/sobjects/{name}"


def record(name: str, record_id: str) -> str:
    return f"{sobject(name)}/{record_id}"


def sobject_urls(name: str) -> dict:
    """The ``urls`` of an sObject in describe answers."""
    base = sobject(name)
    return {"sobject": base, "describe": base + "/describe", "rowTemplate": base + "/{ID}"}


def query_page(locator: str) -> str:
    """A ``nextRecordsUrl``: ``locator`` is the cursor's id and the next row, ``01g...-2000``."""
    return f"{data()}/query/{locator}"


def soap_partner(version: str, org_id: str) -> str:
    return f"{SOAP_PARTNER}/{version}/{org_id}"


def soap_metadata(version: str, org_id: str) -> str:
    return f"{SOAP_METADATA}/{version}/{org_id}"


def identity(org_id: str, user_id: str) -> str:
    """The OAuth identity URL of a user."""
    return f"/id/{org_id}/{user_id}"
