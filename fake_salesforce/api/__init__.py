"""HTTP only: each blueprint parses a request, calls the Org, and serializes the answer."""
from flask import current_app

from ..org import Org


def org() -> Org:
    return current_app.config["ORG"]
