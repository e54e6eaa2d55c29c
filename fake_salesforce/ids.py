"""Salesforce record ids: key prefixes, the 18-character checksum, and a deterministic generator."""
from __future__ import annotations

import hashlib
import re
import threading
from functools import lru_cache

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

    def _take(self, n: int = 1) -> int:
        """Take ``n`` counter values; the last of them."""
        with self._lock:
            self._counter += n
            return self._counter

    def _last(self) -> int:
        """The counter value taken last."""
        return self._counter

    def next(self, prefix: str) -> str:
        n = self._take()
        high, low = divmod(n, len(_PAIRS))
        _, id13, check2, bits = self._head(prefix, high)
        return id13 + _PAIRS[low] + check2 + _CHECKSUM_ALPHABET[bits | _PAIR_BITS[low]]

    def upcoming(self, prefix: str, count: int) -> list[str]:
        """The ids the next ``count`` calls of ``next(prefix)`` will give, none of them taken:
        a writer of many records works them out before its checks, and takes them with
        ``take(count)`` once it writes (in the same transaction: no one else takes one meanwhile)."""
        out: list[str] = []
        n = self._last() + 1
        end = n + count
        while n < end:
            high, low = divmod(n, len(_PAIRS))
            stop = min(len(_PAIRS), low + end - n)
            _, id13, check2, bits = self._head(prefix, high)
            out += [id13 + pair + check2 + last
                    for pair, last in zip(_PAIRS[low:stop], _last_characters(bits)[low:stop])]
            n += stop - low
        return out

    def take(self, count: int) -> None:
        """Take the ``count`` ids ``upcoming`` gave."""
        self._take(count)

    def _head(self, prefix: str, high: int) -> tuple:
        """What the ids of ``prefix`` share for 3,844 counter values: the first 13 characters,
        the first two of the checksum and the bits of the last."""
        head = self._heads.get(prefix)
        if head is None or head[0] != high:
            id13 = prefix + self._instance + _base62(high, 7)
            partial = checksum(id13 + "00")
            head = self._heads[prefix] = (high, id13, partial[:2], _CHECKSUM_ALPHABET.index(partial[2]))
        return head


@lru_cache(maxsize=8)
def _last_characters(bits: int) -> list[str]:
    """The last checksum character of each counter pair, given the bits the id's 11th to 13th
    characters give it."""
    return [_CHECKSUM_ALPHABET[bits | pair_bits] for pair_bits in _PAIR_BITS]
