"""What every blueprint and the app share: the JSON response, the JSON request body, and the
keys kept in the WSGI environ."""
from __future__ import annotations

import json
import re
import zlib

from flask import Response, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.http import parse_accept_header

from .. import errors

JSON_TYPE = "application/json;charset=UTF-8"

# Keys the app keeps in the WSGI environ of a request, read back by the request log.
USER_ID = "fake_salesforce.user_id"
API_CALL = "fake_salesforce.api_call"
ERROR_CODE = "fake_salesforce.error_code"

VERSION = re.compile(r"^v\d{2,3}\.\d$")  # the version segment of a REST path

# Limits on a request body. Salesforce documents none for JSON depth or string length; the fake
# refuses bodies past these with JSON_PARSER_ERROR (or 413 for the size) instead of exhausting memory.
MAX_BODY_BYTES = 50 * 1024 * 1024
MAX_JSON_DEPTH = 100
MAX_STRING_LENGTH = 10 * 1024 * 1024


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def json_bytes(body) -> bytes:
    """``body`` as compact UTF-8 JSON, as every answer of the fake is encoded."""
    data = _ENCODER.encode(body)
    try:
        return data.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate echoed back (a field name in a message): escape it
        return json.dumps(body, separators=(",", ":")).encode("ascii")


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json_bytes(body), status=status, headers=headers, content_type=JSON_TYPE)


def begin_api_call(environ: dict, org, version: str | None) -> str:
    """Every REST call: find the session's user (401 without one), count the call (refused past
    an enforced API limit), check the version segment (404). The user's Id, also kept in the
    environ for the request log."""
    environ[API_CALL] = True
    scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    user_id = environ[USER_ID] = org.session_user(
        token.strip() if scheme.lower() in ("bearer", "oauth") else None)
    if org.count_request() > org.config.api_limit and org.config.enforce_api_limit:
        raise errors.RequestLimitExceeded("TotalRequests Limit exceeded.")
    if version is not None and not VERSION.match(version):
        raise errors.NotFound("The requested resource does not exist")
    for header in ("HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH", "HTTP_IF_UNMODIFIED_SINCE"):
        if header in environ:   # a precondition ignored would let a write through that should stop
            name = header[5:].title().replace("_", "-")
            raise errors.NotImplementedByFake(f"The fake org does not implement conditional requests ({name}); "
                                              "If-Modified-Since is ignored, the answer is always current")
    accept = environ.get("HTTP_ACCEPT")
    if accept and "xml" in accept and parse_accept_header(accept, MIMEAccept).best_match(
            ("application/json", "application/xml", "text/xml")) != "application/json":
        raise errors.NotImplementedByFake(f"The fake org answers JSON only; XML answers (Accept: {accept}) "
                                          "are not implemented")
    return user_id


def is_xml(content_type: str | None) -> bool:
    """Whether a Content-Type declares XML (application/xml, text/xml, ...), in any case."""
    return bool(content_type) and "xml" in content_type.lower()


def refuse_xml_body(content_type: str | None) -> None:
    """Salesforce reads XML request bodies as well as JSON; the fake reads JSON only."""
    if is_xml(content_type):
        raise errors.NotImplementedByFake(f"The fake org reads JSON request bodies only; XML bodies "
                                          f"(Content-Type: {content_type}) are not implemented")


def raw_body(error: type[errors.SalesforceError] = errors.JsonParserError) -> bytes:
    """The request body, decompressed when its Content-Encoding is gzip or deflate (as
    Salesforce takes them; any other coding is 415 UNSUPPORTED_MEDIA_TYPE); a body the server
    cannot read (a malformed chunked encoding, a client gone mid-body, a broken compressed
    stream) is the client's mistake: ``error`` (JSON_PARSER_ERROR by default), never a 500. A
    body past the request's size limit, before or after decompression, is werkzeug's 413,
    answered as REQUEST_ENTITY_TOO_LARGE."""
    try:
        data = request.get_data(cache=True)
        limit = request.max_content_length
        if request.content_length is None and limit is not None and len(data) >= limit:
            # werkzeug stops a chunked body at the limit without a word: is there more?
            if request.environ["wsgi.input"].read(1):
                raise RequestEntityTooLarge()
        return _decoded(data, request.headers.get("Content-Encoding"), limit, error)
    except BadRequest as e:  # werkzeug's word for a body it could not read: ClientDisconnected
        raise error(f"The request body could not be read: {e.description}") from None
    except (ValueError, OSError) as e:
        raise error(f"The request body could not be read: {e}") from None


_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def _decoded(data: bytes, coding: str | None, limit: int | None, error) -> bytes:
    coding = (coding or "identity").strip().lower()
    if coding == "identity":
        return data
    if coding not in _WBITS:
        raise errors.UnsupportedMediaType(f"Content-Encoding {coding} is not supported: use gzip or deflate")
    stream = zlib.decompressobj(_WBITS[coding])
    try:
        out = stream.decompress(data, limit or 0)
    except zlib.error as e:
        raise error(f"The request body is not valid {coding} data: {e}") from None
    if stream.unconsumed_tail:
        raise RequestEntityTooLarge()
    if not stream.eof or stream.unused_data:
        raise error(f"The request body is not valid {coding} data: "
                    + ("it ends early" if not stream.eof else "more follows the compressed data"))
    return out


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


class _OutOfRange(Exception):
    pass


def _double(text: str) -> float:
    number = float(text)
    if number in (_INFINITY, -_INFINITY):
        raise _OutOfRange()
    return number


_INFINITY = float("inf")
# A lone surrogate comes from a \ud800-\udfff escape or from the UTF-8 form of one (json reads
# bytes with "surrogatepass"): a UTF-8 body with neither has none, and its strings need no look.
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_UTF8_SURROGATE = re.compile(rb"\xed[\xa0-\xbf]")
_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_double)


def parse_json(data: bytes | str):
    """``data`` as JSON, strictly: JSON_PARSER_ERROR for invalid JSON, ``NaN``/``Infinity``
    (Python's json accepts them, Salesforce does not), numbers too big for a double, nesting deeper
    than MAX_JSON_DEPTH, strings longer than MAX_STRING_LENGTH, and lone UTF-16 surrogates
    (``"\\ud800"``: the fake refuses them where Salesforce may store them)."""
    encoding = None if isinstance(data, str) else json.detect_encoding(data)
    try:
        value = _DECODER.decode(_json_text(data, encoding))
    except RecursionError:
        raise errors.JsonParserError(f"The request body nests deeper than {MAX_JSON_DEPTH} levels") from None
    except _OutOfRange:
        raise errors.JsonParserError("Number out of range for a double in the request body") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise errors.JsonParserError(f"The request body is not valid JSON: {e}") from None
    _check(value, _strings_to_check(data, encoding))
    return value


def _json_text(data: bytes | str, encoding: str | None) -> str:
    """The text ``json.loads`` would parse (the same errors): bytes decoded as it decodes them
    (``encoding``: UTF-8, -16 or -32 as ``json.detect_encoding`` finds it, surrogates passed
    through), a text with a byte-order mark refused."""
    if isinstance(data, str):
        if data.startswith("\ufeff"):
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", data, 0)
        return data
    return data.decode(encoding, "surrogatepass")


def _strings_to_check(data: bytes | str, encoding: str | None) -> bool:
    """Whether the body (bytes in ``encoding``) may hold a string that is too long or a lone
    surrogate."""
    if len(data) > MAX_STRING_LENGTH:
        return True
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    elif encoding not in ("utf-8", "utf-8-sig"):
        return True
    return (b"\\u" in data and _ESCAPED_SURROGATE.search(data) is not None
            or b"\xed" in data and _UTF8_SURROGATE.search(data) is not None)


def _check(value, strings: bool) -> None:
    """Nesting depth, level by level, and (``strings``) every key and string value."""
    if value.__class__ is str:
        _check_text(value)
    level, depth = [value], 1
    while level:
        containers = []
        for item in level:
            if item.__class__ is dict:
                if strings:
                    for key in item:
                        _check_text(key)
                item = item.values()
            elif item.__class__ is not list:
                continue
            for child in item:
                kind = child.__class__
                if kind is dict or kind is list:
                    containers.append(child)
                elif strings and kind is str:
                    _check_text(child)
        if containers and depth >= MAX_JSON_DEPTH:
            raise errors.JsonParserError(f"The request body nests deeper than {MAX_JSON_DEPTH} levels")
        level, depth = containers, depth + 1


def _check_text(text: str) -> None:
    if len(text) > MAX_STRING_LENGTH:
        raise errors.JsonParserError(f"A string in the request body is longer than {MAX_STRING_LENGTH} characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise errors.JsonParserError("The request body holds a lone UTF-16 surrogate "
                                     f"({text.encode('utf-8', 'backslashreplace')[:40].decode('utf-8', 'ignore')}...): "
                                     "not valid Unicode") from None


def json_body():
    """The request body parsed by ``parse_json``; an empty body is JSON_PARSER_ERROR, an XML
    body 501 FAKE_NOT_IMPLEMENTED."""
    refuse_xml_body(request.content_type)
    return body_json(raw_body())


def body_json(data: bytes):
    """A request body's bytes parsed by ``parse_json``; empty is JSON_PARSER_ERROR."""
    if not data:
        raise errors.JsonParserError("The request body is empty; a JSON body is required")
    return parse_json(data)


def flag(body: dict, key: str) -> bool:
    """A boolean option of a request body (``allOrNone``, ``haltOnError``): false when absent
    or null, true or false, or their text as Salesforce's JSON reader takes it; anything else
    is JSON_PARSER_ERROR (Python's truth would make "false" true)."""
    value = body.get(key)
    if value is None:
        return False
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise errors.JsonParserError(f"Cannot deserialize value of type boolean from {value!r}: '{key}' "
                                     "must be true or false")
    return value


def record_values(body) -> dict:
    """A parsed body that must be a JSON object (a record's field values)."""
    if not isinstance(body, dict):
        raise errors.JsonParserError("Expected a JSON object (a record's field values)")
    return body
