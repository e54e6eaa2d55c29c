"""The org clock: wall time by default, or frozen at a chosen instant and moved by hand."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone


def utc(dt: datetime) -> datetime:
    """An aware UTC datetime truncated to milliseconds (Salesforce's precision)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    dt = dt.astimezone(timezone.utc)
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def format_datetime(dt: datetime) -> str:
    """Salesforce's wire form: ``2026-11-02T10:00:00.000+0000``."""
    global _last_formatted
    last = _last_formatted        # a batch of writes stamps the same instant many times
    if dt == last[0]:
        return last[1]
    text = _format(dt)
    _last_formatted = (dt, text)
    return text


def _format(dt: datetime) -> str:
    if dt.tzinfo is timezone.utc and dt.year >= 1000:  # the clock's own: isoformat is faster
        return dt.isoformat(timespec="milliseconds")[:-6] + "+0000"
    dt = utc(dt)
    return f"{dt.year:04d}" + dt.strftime("-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000"


_last_formatted: tuple = (None, "")


def parse_datetime(text: str) -> datetime:
    """Parse an ISO-8601 datetime as clients send it (``Z``, ``+0000``, ``+00:00``, no zone = UTC)."""
    if not isinstance(text, str):
        raise ValueError(f"not a datetime: {text!r}")
    s = text.strip()
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    elif len(s) >= 5 and s[-5] in "+-" and s[-4:].isdigit() and s[-3] != ":":
        s = s[:-2] + ":" + s[-2:]
    dt = datetime.fromisoformat(s)
    if "T" not in text.upper():
        raise ValueError(f"not a datetime: {text!r}")
    try:
        return utc(dt)
    except OverflowError:   # 0001-01-01T00:00:00+05:00 is before the first instant Python holds
        raise ValueError(f"not a datetime Python can hold: {text!r}") from None


def parse_date(text: str) -> date:
    if not isinstance(text, str) or len(text.strip()) != 10:
        raise ValueError(f"not a date: {text!r}")
    return date.fromisoformat(text.strip())


class Clock:
    """Wall-clock time unless frozen; ``set`` freezes, ``advance`` moves a frozen clock forward."""

    def __init__(self, now: datetime | None = None):
        self._lock = threading.Lock()
        self._frozen: datetime | None = utc(now) if now else None

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def now(self) -> datetime:
        frozen = self._frozen
        if frozen is not None:
            return frozen
        now = datetime.now(timezone.utc)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    def set(self, when: datetime) -> None:
        with self._lock:
            self._frozen = utc(when)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._frozen = utc((self._frozen or self.now()) + timedelta(seconds=seconds))

    def unfreeze(self) -> None:
        with self._lock:
            self._frozen = None
