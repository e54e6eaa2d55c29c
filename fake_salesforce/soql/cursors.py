"""Query locators: the server-side cursors behind ``nextRecordsUrl``.

Where the fake differs from Salesforce: a cursor re-reads its statement for each page
(``LIMIT``/``OFFSET`` over the same ordering) instead of holding a snapshot, so records changed
between pages can move; the newest 1,000 cursors are kept until the org is reset, and their ids
restart with the reset (the same run gives the same locators).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from ..ids import checksum
from .compiler import Compiled

MAX_CURSORS = 1000
LOCATOR_PREFIX = "01g"


@dataclass
class Cursor:
    compiled: Compiled
    total: int
    batch_size: int


class Cursors:
    """The open query locators of one org."""

    def __init__(self, instance: str, limit: int = MAX_CURSORS):
        self.limit = limit
        self.reset(instance)

    def reset(self, instance: str) -> None:
        """Forget every cursor and number new ones from 1 again (``instance``: the org's id part)."""
        self.instance = instance
        self._open: dict[str, Cursor] = {}
        self._seq = itertools.count(1)

    def open(self, cursor: Cursor) -> str:
        """Keep ``cursor``; returns its locator (an 18-character id with prefix 01g)."""
        body = f"{LOCATOR_PREFIX}{self.instance}{next(self._seq):09d}"
        key = body + checksum(body)
        self._open[key] = cursor
        while len(self._open) > self.limit:
            self._open.pop(next(iter(self._open)))
        return key

    def get(self, key: str) -> Cursor | None:
        return self._open.get(key)

    def __len__(self) -> int:
        return len(self._open)
