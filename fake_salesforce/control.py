"""A small client for the fake org's control API (``/_fake/``), over HTTP or in-process."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import requests

from . import urls
from .clock import format_datetime
from .client import INPROCESS_HOST, make_session


class ControlError(RuntimeError):
    """The control API refused a request; the message carries its errorCode and message."""


class ControlClient:
    """``token``: the server's ``--control-token``, when it was started with one."""

    def __init__(self, target, session: requests.Session | None = None, *, verify: Any = True,
                 token: str | None = None):
        self.session = session or make_session(target, verify=verify)
        self.base = (target.rstrip("/") if isinstance(target, str) else f"https://{INPROCESS_HOST}") + urls.CONTROL
        self.headers = {"X-Fake-Control": "1"}
        if token:
            self.headers["X-Fake-Control-Token"] = token

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        response = self.session.request(method, self.base + path, json=body, headers=self.headers)
        if response.status_code >= 400:
            try:
                detail = "; ".join(f"{e.get('errorCode')}: {e.get('message')}" for e in response.json())
            except (ValueError, AttributeError, TypeError):
                detail = response.text
            raise ControlError(f"{method} /_fake{path} failed ({response.status_code}): {detail}")
        return response.json()

    def info(self) -> dict:
        return self._call("GET", "/")

    def reset(self, seed: int | str | None = None, now: datetime | str | None = None, *,
              default_country: str | None = None, order: str | None = None) -> dict:
        """Wipe the org; ``default_country`` (``FR``) and ``order`` (``recent``, ``insertion``,
        ``shuffle``) change those settings, which otherwise stay."""
        body: dict[str, Any] = {}
        if seed is not None:
            body["seed"] = seed
        if now is not None:
            body["now"] = _iso(now)
        if default_country is not None:
            body["default_country"] = default_country
        if order is not None:
            body["order"] = order
        return self._call("POST", "/reset", body)

    def set_default_country(self, country: str) -> dict:
        """Read phone numbers typed without ``+`` in ``country`` (the org keeps its records)."""
        return self._call("POST", "/settings", {"default_country": country})

    def clock(self) -> dict:
        return self._call("GET", "/clock")

    def set_clock(self, now: datetime | str) -> dict:
        return self._call("POST", "/clock", {"now": _iso(now)})

    def advance(self, seconds: float) -> dict:
        return self._call("POST", "/clock", {"advance": seconds})

    def unfreeze(self) -> dict:
        return self._call("POST", "/clock", {"frozen": False})

    def seed(self, sobject_or_records, records: list[dict] | None = None) -> list[str]:
        """``seed("Contact", [{...}, ...])`` or ``seed([{"sobject": ..., "fields": {...}}, ...])``."""
        if isinstance(sobject_or_records, str):
            items = [{"sobject": sobject_or_records, "fields": r} for r in (records or [])]
        else:
            items = list(sobject_or_records)
        return self._call("POST", "/seed", {"records": items})["ids"]

    def register_jwt_certificate(self, client_id: str, certificate_pem: str) -> None:
        self._call("POST", "/oauth/jwt-certificates", {"client_id": client_id, "certificate": certificate_pem})

    def complete_bulk_jobs(self) -> int:
        """Work every waiting Bulk API 2.0 job now; how many there were."""
        return self._call("POST", "/bulk/complete")["completed"]

    def expire_sessions(self) -> int:
        return self._call("POST", "/sessions/expire")["expired"]

    def requests(self, limit: int | None = None) -> list[dict]:
        suffix = f"?limit={limit}" if limit else ""
        return self._call("GET", "/requests" + suffix)["requests"]

    def faults(self) -> list[dict]:
        """The armed fault rules, with what is left of each and how often it hit."""
        return self._call("GET", "/faults")["faults"]

    def set_faults(self, rules: list[dict], *, replace: bool = True) -> list[dict]:
        """Arm fault rules (see ``fake_salesforce.faults``); ``replace=False`` adds to the armed ones."""
        return self._call("POST", "/faults", {"faults": rules, "replace": replace})["faults"]

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")


def _iso(value: datetime | str) -> str:
    return format_datetime(value) if isinstance(value, datetime) else value
