"""Building Aircall webhook deliveries, shaped like Aircall's (call and message objects).

Used to craft events for tests, benchmarks and manual runs; the logging core itself only
reads deliveries (see :mod:`simulator.core.events`).
"""
from __future__ import annotations

from typing import Any, Iterable

DEFAULT_NUMBER = {"id": 123, "name": "Paris Support", "digits": "+33 1 76 36 06 95",
                  "e164_digits": "+33176360695", "country": "FR", "time_zone": "Europe/Paris",
                  "open": True, "availability_status": "open"}
DEFAULT_USER = {"id": 456, "name": "Madelaine Dupont", "email": "madelaine.dupont@example.com"}


def call_webhook(*, call_id: int | str = 1834567890, event: str = "call.ended",
                 direction: str = "inbound", external: str = "+33 6 12 34 56 78",
                 answered: bool = True, started_at: int = 1732622895, wait: int = 14,
                 duration: int = 95, voicemail: str | None = None, recording: str | None = None,
                 asset: str | None = None, number: dict | None = None,
                 user: dict | None = DEFAULT_USER, contact: dict | None = None,
                 comments: Iterable[str] = (), tags: Iterable[str] = (), token: str = "t0k3n",
                 number_open: bool | None = True, missed_call_reason: str | None = None,
                 **data_overrides: Any) -> dict:
    """One call delivery. ``wait`` is seconds before answer (or before hang-up, unanswered)."""
    answered_at = started_at + wait if answered else None
    ended_at = (answered_at + duration) if answered else started_at + wait
    num = dict(number or DEFAULT_NUMBER)
    if number_open is not None:
        num["open"] = number_open
    data = {
        "id": call_id,
        "direct_link": f"https://api.aircall.io/v1/calls/{call_id}",
        "direction": direction,
        "status": "done",
        "missed_call_reason": missed_call_reason,
        "started_at": started_at,
        "answered_at": answered_at,
        "ended_at": ended_at,
        "duration": duration,
        "raw_digits": external,
        "voicemail": voicemail,
        "recording": recording,
        "asset": asset,
        "user": dict(user) if user else None,
        "contact": contact,
        "number": num,
        "comments": [{"id": i + 1, "content": c, "posted_at": ended_at} for i, c in enumerate(comments)],
        "tags": [{"id": i + 1, "name": t} for i, t in enumerate(tags)],
        "participants": [],
    }
    data.update(data_overrides)
    return {"resource": "call", "event": event, "timestamp": ended_at, "token": token, "data": data}


def aircall_contact(first_name: str | None = None, last_name: str | None = None,
                    company: str | None = None, email: str | None = None,
                    phone: str | None = None) -> dict:
    """An Aircall contact object as found on calls and messages."""
    return {
        "id": 789, "first_name": first_name, "last_name": last_name, "company_name": company,
        "phone_numbers": [{"id": 1, "label": "Mobile", "value": phone}] if phone else [],
        "emails": [{"id": 2, "label": "Work", "value": email}] if email else [],
    }


def message_webhook(*, message_id: str = "b7c1e0d2-6a3f-4f0e-9c1a-0f2d3e4a5b6c",
                    direction: str = "inbound", external: str = "+33 6 12 34 56 78",
                    body: str = "Hi, can you call me back?", sent_at_ms: int = 1732623999000,
                    number: dict | None = None, user: dict | None = None,
                    contact: dict | None = None, token: str = "t0k3n",
                    **data_overrides: Any) -> dict:
    """One SMS delivery: ``message.received`` for inbound, ``message.sent`` for outbound."""
    data = {
        "id": message_id,
        "direction": direction,
        "status": "received" if direction == "inbound" else "sent",
        "body": body,
        "external_number": external,
        "created_at": sent_at_ms,
        "sent_at": sent_at_ms,
        "updated_at": sent_at_ms,
        "media_url": [],
        "number": dict(number or DEFAULT_NUMBER),
        "contact": contact,
    }
    if user:
        data["user"] = dict(user)
    data.update(data_overrides)
    event = "message.received" if direction == "inbound" else "message.sent"
    return {"resource": "message", "event": event, "timestamp": sent_at_ms // 1000, "token": token,
            "data": data}
