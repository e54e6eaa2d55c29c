"""HTTP only: each blueprint parses a request, calls the Org, and serializes the answer."""
from flask import current_app, request

from ..org import Org


def org() -> Org:
    return current_app.config["ORG"]


def base_url() -> str:
    """``scheme://host[:port]`` as the request came in: every URL the fake hands out uses it,
    so a plain-HTTP server never sends its clients to ``https://``."""
    return f"{request.scheme}://{request.host}"
