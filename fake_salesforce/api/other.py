"""Salesforce endpoints outside the REST data API that the fake refuses explicitly."""
from __future__ import annotations

from flask import Blueprint, request

from .. import errors

bp = Blueprint("other", __name__)

_AREAS = {
    "async": "the Bulk API 1.0 (services/async)",
    "apexrest": "Apex REST services (services/apexrest)",
}


@bp.route("/services/async/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/services/apexrest/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_implemented(rest: str):
    area = next(label for prefix, label in _AREAS.items() if request.path.startswith(f"/services/{prefix}/"))
    raise errors.NotImplementedByFake(f"The fake org does not implement {area}: {request.method} {request.path}")
