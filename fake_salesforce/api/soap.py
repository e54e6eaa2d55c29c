"""The SOAP endpoints: ``/services/Soap/u/NN`` (partner) and ``/services/Soap/c/NN``
(enterprise) implement ``login``, ``logout`` and ``getUserInfo``; every other call, and the
Metadata and Tooling SOAP APIs, answer a SOAP fault naming what the fake does not implement
(HTTP 501), never JSON.
"""
from __future__ import annotations

from xml.etree import ElementTree
from xml.sax.saxutils import escape

from flask import Blueprint, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from .. import errors, urls
from .http import USER_ID, raw_body
from . import base_url, org

bp = Blueprint("soap", __name__)

INVALID_LOGIN = "Invalid username, password, security token; or user locked out."
_ENVELOPE = "http://schemas.xmlsoap.org/soap/envelope/"
_NAMESPACES = {"u": "urn:partner.soap.sforce.com", "c": "urn:enterprise.soap.sforce.com"}
_APIS = {"u": "the partner SOAP API", "c": "the enterprise SOAP API", "m": "the Metadata API",
         "T": "the Tooling SOAP API", "s": "the Apex SOAP API"}
_XML = "text/xml;charset=UTF-8"
# A SOAP message may be up to 50 MB; past that the fake answers a 413 fault, chunked or not.
MAX_MESSAGE_BYTES = 50 * 1024 * 1024


def fault(code: str, message: str, status: int = 500, detail: str = "UnexpectedErrorFault") -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{_ENVELOPE}" xmlns:sf="urn:fault.partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>sf:{escape(code)}</faultcode><faultstring>{escape(code)}: {escape(message)}</faultstring>"
        f'<detail><sf:{detail} xsi:type="sf:{detail}">'
        f"<sf:exceptionCode>{escape(code)}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
        f"</sf:{detail}></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>")
    return Response(body, status=status, content_type=_XML)


def _answer(kind: str, inner: str) -> Response:
    body = ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<soapenv:Envelope xmlns:soapenv="{_ENVELOPE}" xmlns="{_NAMESPACES[kind]}" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
            f"{inner}</soapenv:Body></soapenv:Envelope>")
    return Response(body, status=200, content_type=_XML)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return escape(str(value))


@bp.route(f"{urls.SOAP_PREFIX}/<kind>/<version>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route(f"{urls.SOAP_PREFIX}/<kind>/<version>/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def soap(kind: str, version: str, rest: str = ""):
    if kind not in _NAMESPACES:
        api = _APIS.get(kind, f"the SOAP API services/Soap/{kind}")
        return fault("FAKE_NOT_IMPLEMENTED", f"The fake org does not implement {api}: "
                     f"{request.method} {request.path}", 501)
    if request.method != "POST":
        return fault("INVALID_REQUEST", f"SOAP calls are POSTed, not sent with {request.method}")
    request.max_content_length = MAX_MESSAGE_BYTES
    try:
        root = ElementTree.fromstring(raw_body())
    except RequestEntityTooLarge:
        return fault("REQUEST_ENTITY_TOO_LARGE", "The SOAP message is larger than "
                     f"{MAX_MESSAGE_BYTES // (1024 * 1024)} MB", 413)
    except errors.SalesforceError as e:
        return fault("INVALID_REQUEST", e.message)
    except ElementTree.ParseError as e:
        return fault("INVALID_REQUEST", f"The SOAP body is not well-formed XML: {e}")
    body = next((el for el in root.iter() if _local(el.tag) == "Body"), None)
    call = next(iter(body), None) if body is not None else None
    name = _local(call.tag) if call is not None else "(none)"
    ver = version if version[:1].isdigit() else urls.API_VERSION
    if name == "login":
        return _login(kind, ver, {_local(el.tag): (el.text or "") for el in call})
    if name not in ("logout", "getUserInfo"):
        return fault("FAKE_NOT_IMPLEMENTED", f"The fake org does not implement the SOAP call "
                     f"'{name}' of {_APIS[kind]} (only login, logout and getUserInfo)", 501)
    token = next((el.text or "" for el in root.iter() if _local(el.tag) == "sessionId"), "")
    o = org()
    try:
        user_id = o.session_user(token.strip() or None)
    except errors.InvalidSessionId:
        return fault("INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: "
                     "Illegal Session. Session not found, missing session hash")
    request.environ[USER_ID] = user_id
    if name == "logout":
        o.revoke_session(token.strip())
        return _answer(kind, "<logoutResponse/>")
    return _answer(kind, f"<getUserInfoResponse><result>{_user_info(user_id)}</result></getUserInfoResponse>")


def _login(kind: str, version: str, values: dict) -> Response:
    o = org()
    username, password = values.get("username", ""), values.get("password", "")
    user_id = o.authenticate(username, password)
    if user_id is None:
        return fault("INVALID_LOGIN", INVALID_LOGIN, detail="LoginFault")
    request.environ[USER_ID] = user_id
    token = o.open_session(user_id)
    base = base_url()
    return _answer(kind, (
        "<loginResponse><result>"
        f"<metadataServerUrl>{base}{urls.soap_url('m', version, o.org_id)}</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
        f"<serverUrl>{base}{urls.soap_url(kind, version, o.org_id)}</serverUrl>"
        f"<sessionId>{escape(token)}</sessionId><userId>{user_id}</userId>"
        f"<userInfo>{_user_info(user_id)}</userInfo>"
        "</result></loginResponse>"))


def _user_info(user_id: str) -> str:
    o = org()
    user = o.get("User", user_id, ["Username", "Name", "Email", "TimeZoneSidKey", "LocaleSidKey",
                                   "LanguageLocaleKey"])
    organization = o.get("Organization", o.org_id, ["Name"])
    values = {
        "accessibilityMode": False, "currencySymbol": "$", "orgAttachmentFileSizeLimit": 5242880,
        "orgDefaultCurrencyIsoCode": "USD", "orgDisallowHtmlAttachments": False,
        "orgHasPersonAccounts": True, "organizationId": o.org_id,
        "organizationMultiCurrency": False, "organizationName": organization["Name"],
        "profileId": None, "roleId": None, "sessionSecondsValid": int(o.config.session_lifetime),
        "userDefaultCurrencyIsoCode": None, "userEmail": user["Email"],
        "userFullName": user["Name"], "userId": user_id, "userLanguage": user["LanguageLocaleKey"],
        "userLocale": user["LocaleSidKey"], "userName": user["Username"],
        "userTimeZone": user["TimeZoneSidKey"], "userType": "Standard", "userUiSkin": "Theme3",
    }
    return "".join(f'<{k} xsi:nil="true"/>' if v is None else f"<{k}>{_xml(v)}</{k}>"
                   for k, v in values.items())
