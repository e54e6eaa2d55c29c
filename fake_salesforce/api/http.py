"""What every blueprint and the app share: the JSON response and the keys kept in the WSGI environ."""
from __future__ import annotations

import json

from flask import Response

JSON_TYPE = "application/json;charset=UTF-8"

# Keys the app keeps in the WSGI environ of a request, read back by the request log.
USER_ID = "fake_salesforce.user_id"
API_CALL = "fake_salesforce.api_call"
ERROR_CODE = "fake_salesforce.error_code"


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(data, status=status, headers=headers, content_type=JSON_TYPE)
