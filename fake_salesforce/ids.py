"""Salesforce record ids: key prefixes, the 18-character checksum, and a deterministic generator."""
from __future__ import annotations

import hashlib
import re
import threading

_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
# ASCII order, so that ids of one object sort in creation order as text.
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_RE = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$")


def checksum(id15: str) -> str:
    """The three-character suffix that makes a 15-character id case-insensitively unique."""
    out = []
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        out.append(_CHECKSUM_ALPHABET[bits])
    return "".join(out)


def to18(value: str) -> str | None:
    """Normalise a 15- or 18-character id to 18 characters; None when it is not an id."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        return None
    id15 = value[:15]
    full = id15 + checksum(id15)
    if len(value) == 18 and value[15:].upper() != full[15:]:
        return None
    return full


# The last two counter characters, and their bits in the last checksum character (positions
# 13 and 14 of the id are bits 3 and 4 of its third 5-character chunk).
_PAIRS = [a + b for a in _BASE62 for b in _BASE62]
_PAIR_BITS = [("A" <= p[0] <= "Z") << 3 | ("A" <= p[1] <= "Z") << 4 for p in _PAIRS]


def _base62(n: int, width: int) -> str:
    chars = []
    for _ in range(width):
        n, r = divmod(n, 62)
        chars.append(_BASE62[r])
    return "".join(reversed(chars))


class IdGenerator:
    """Hands out ids in creation order; the same seed gives the same ids every run.

    Layout: key prefix (3) + instance (3, from the seed) + counter (9, base62) + checksum (3).
    """

    def __init__(self, seed: int | str = 0):
        self.reset(seed)

    def reset(self, seed: int | str = 0) -> None:
        digest = hashlib.sha256(str(seed).encode()).digest()
        self._instance = _base62(int.from_bytes(digest[:4], "big") % (62**3), 3)
        self._counter = 0
        self._lock = threading.Lock()
        self._heads: dict[str, tuple] = {}

    @property
    def instance(self) -> str:
        return self._instance

    def counter_of(self, record_id: str) -> int:
        """The counter part of an id this generator made (0 for ids of another instance)."""
        if record_id[3:6] != self._instance:
            return 0
        n = 0
        for ch in record_id[6:15]:
            n = n * 62 + _BASE62.index(ch)
        return n

    def resume(self, counter: int) -> None:
        """Continue after ``counter`` (ids already handed out by an earlier run)."""
        with self._lock:
            self._counter = max(self._counter, counter)

    def _take(self) -> int:
        """The next counter value."""
        with self._lock:
            self._counter += 1
            return self._counter

    def next(self, prefix: str) -> str:
        n = self._take()
        high, low = divmod(n, len(_PAIRS))
        head = self._heads.get(prefix)
        if head is None or head[0] != high:
            # the first 13 characters and what they give the checksum change every 3,844 ids
            id13 = prefix + self._instance + _base62(high, 7)
            partial = checksum(id13 + "00")
            head = self._heads[prefix] = (high, id13, partial[:2], _CHECKSUM_ALPHABET.index(partial[2]))
        return head[1] + _PAIRS[low] + head[2] + _CHECKSUM_ALPHABET[head[3] | _PAIR_BITS[low]]
