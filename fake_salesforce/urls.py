"""The API version the fake speaks and the shape of every URL it hands out.

Paths are relative to the instance (``/services/...``); handlers that answer with absolute
URLs put the request's own ``scheme://host`` in front.
"""
from __future__ import annotations

API_VERSION = "59.0"
API_LABEL = "Winter '24"

DATA_PREFIX = "/services/data"            # REST: /services/data/vNN.N/...
DATA = f"{DATA_PREFIX}/v{API_VERSION}"    # ... at the version the fake hands out
SOAP_PREFIX = "/services/Soap"           # /services/Soap/{u,c,m,T}/NN.N[/orgId]
SOAP_PARTNER = "/services/Soap/u"         # SOAP partner API (login): /services/Soap/u/NN.N
SOAP_METADATA = "/services/Soap/m"
OAUTH = "/services/oauth2"                # token, revoke
CONTROL = "/_fake"                        # the fake's own control API (not Salesforce)


def sobject_url(sobject: str) -> str:
    return f"{DATA}/sobjects/{sobject}"


def record_url(sobject: str, record_id: str) -> str:
    return f"{DATA}/sobjects/{sobject}/{record_id}"


def sobject_urls(sobject: str) -> dict:
    """The ``urls`` of an sObject in describe answers."""
    base = sobject_url(sobject)
    return {"sobject": base, "describe": base + "/describe", "rowTemplate": base + "/{ID}"}


def query_page_url(locator: str, start: int) -> str:
    """``nextRecordsUrl``: the query locator and the position of the next page."""
    return f"{DATA}/query/{locator}-{start}"


def soap_partner_url(version: str, org_id: str) -> str:
    return f"{SOAP_PARTNER}/{version}/{org_id}"


def soap_url(kind: str, version: str, org_id: str) -> str:
    """A SOAP endpoint: ``u`` partner, ``c`` enterprise, ``m`` metadata, ``T`` tooling."""
    return f"{SOAP_PREFIX}/{kind}/{version}/{org_id}"


def soap_metadata_url(version: str, org_id: str) -> str:
    return f"{SOAP_METADATA}/{version}/{org_id}"


def identity_url(org_id: str, user_id: str) -> str:
    """The OAuth identity URL of a user."""
    return f"/id/{org_id}/{user_id}"
