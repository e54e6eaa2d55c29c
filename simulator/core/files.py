"""Logging webhook deliveries stored in files (the CLI's ``log`` command calls this)."""
from __future__ import annotations

import json
from pathlib import Path

from simple_salesforce import Salesforce

from .errors import InvalidEvent
from .logger import CallLogger
from .outcome import Outcome
from .settings import Settings


def read_deliveries(path: str | Path) -> list[dict]:
    """The deliveries in a JSON file: one webhook object, or a list of them."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidEvent(f"{path}: cannot read event file: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise InvalidEvent(f"{path}: not valid JSON: {exc}") from None
    deliveries = data if isinstance(data, list) else [data]
    if not deliveries:
        raise InvalidEvent(f"{path}: an empty list: expected a webhook object or a list of them")
    for index, item in enumerate(deliveries):
        if not isinstance(item, dict):
            where = f"[{index}]" if isinstance(data, list) else ""
            raise InvalidEvent(f"{path}{where}: expected a webhook object, got {type(item).__name__}")
    return deliveries


def log_file(sf: Salesforce, settings: Settings | None, path: str | Path,
             logger: CallLogger | None = None) -> list[Outcome]:
    """Log every delivery in ``path`` in order; a malformed one stops before anything is
    written, since all are validated first. Errors name the file and the delivery's index."""
    from .events import parse_webhook

    deliveries = read_deliveries(path)
    logger = logger or CallLogger(sf, settings)
    events = []
    for index, delivery in enumerate(deliveries):
        try:
            events.append(parse_webhook(delivery, logger.settings.default_country))
        except InvalidEvent as exc:
            where = f"{path}[{index}]" if len(deliveries) > 1 else str(path)
            raise InvalidEvent(f"{where}: {exc.message}", event=exc.event, path=exc.path) from None
    return [logger.log(event) for event in events]
