"""The state an org keeps beside its records, held in its SQLite file so that several server
processes (``fake-salesforce serve --workers N``) serve one org.

A single process keeps ids, sessions, the clock, the API count, the request log and the query
locators in memory. Each class here is a drop-in for one of those, reading and writing tables of
the org's database instead, inside the same transactions as the records: ids are handed out in
commit order by whichever process creates the record, a session opened by one process is valid
in every other, the clock set through one is the clock of all.

Not shared (refused with FAKE_NOT_IMPLEMENTED when there are several processes): Bulk API 2.0
jobs, fault rules, and JWT certificates registered through the control API.
"""
from __future__ import annotations

import json
import pickle
import threading
from collections.abc import MutableMapping
from datetime import datetime

from .clock import Clock, format_datetime, parse_datetime, utc
from .ids import IdGenerator, checksum
from .soql.cursors import LOCATOR_PREFIX, MAX_CURSORS, Cursor, Cursors

TABLES = (
    "CREATE TABLE IF NOT EXISTS _session (token TEXT PRIMARY KEY, user_id TEXT, expires REAL)",
    "CREATE TABLE IF NOT EXISTS _request (seq INTEGER PRIMARY KEY, entry TEXT)",
    "CREATE TABLE IF NOT EXISTS _cursor (seq INTEGER PRIMARY KEY, key TEXT UNIQUE, cursor BLOB)",
)


def create_tables(store) -> None:
    for sql in TABLES:
        store.execute(sql)
    for key in ("id_counter", "api_count"):
        store.execute("INSERT OR IGNORE INTO _meta (key, value) VALUES (?, 0)", [key])


class _Meta:
    """A number or text kept in the ``_meta`` table."""

    def __init__(self, store, key: str):
        self.store, self.key = store, key

    def get(self, default=None):
        return self.store.meta(self.key, default)

    def set(self, value) -> None:
        self.store.set_meta(self.key, value)

    def add(self, n: int = 1) -> int:
        """Add ``n`` atomically (one statement); the new value. The row exists (create_tables)."""
        return int(self.store.execute("UPDATE _meta SET value = CAST(value AS INTEGER) + ? WHERE key = ? "
                                      "RETURNING value", [n, self.key]).fetchone()[0])


class SharedIds(IdGenerator):
    """Ids whose counter is in the database: unique across processes, in creation order."""

    def __init__(self, store, seed: int | str = 0):
        self._counter_meta = _Meta(store, "id_counter")
        IdGenerator.reset(self, seed)   # joins the org: the counter stays where it is

    def reset(self, seed: int | str = 0) -> None:
        super().reset(seed)
        self._counter_meta.set(0)

    def adopt(self, seed: int | str) -> None:
        """Take the instance of ``seed`` (an org reset by another process) without touching the counter."""
        IdGenerator.reset(self, seed)

    def resume(self, counter: int) -> None:
        with self._counter_meta.store.transaction():
            if counter > int(self._counter_meta.get(0)):
                self._counter_meta.set(counter)

    def next(self, prefix: str) -> str:
        id15 = prefix + self._instance + _base62(self._counter_meta.add(1))
        return id15 + checksum(id15)


def _base62(n: int) -> str:
    from .ids import _base62 as encode

    return encode(n, 9)


class SharedSessions(MutableMapping):
    """Sessions by token, in the ``_session`` table. Expiry times are ``time.monotonic()``
    values, which every process of the machine reads from the same clock."""

    def __init__(self, store, session_class):
        self.store, self.session_class = store, session_class

    def __getitem__(self, token):
        row = self.store.execute("SELECT user_id, expires FROM _session WHERE token = ?", [token]).fetchone()
        if row is None:
            raise KeyError(token)
        return self.session_class(token, row[0], row[1])

    def __setitem__(self, token, session):
        self.store.execute("INSERT OR REPLACE INTO _session VALUES (?, ?, ?)",
                           [token, session.user_id, session.expires])

    def __delitem__(self, token):
        if not self.store.execute("DELETE FROM _session WHERE token = ?", [token]).rowcount:
            raise KeyError(token)

    def __iter__(self):
        return iter([r[0] for r in self.store.execute("SELECT token FROM _session")])

    def __len__(self):
        return self.store.execute("SELECT COUNT(*) FROM _session").fetchone()[0]

    def clear(self):
        self.store.execute("DELETE FROM _session")


class SharedPasswords(MutableMapping):
    """The login passwords, read from the ``_meta`` table on each use."""

    def __init__(self, store, decode, encode):
        self.store, self.decode, self.encode = store, decode, encode

    def _all(self) -> dict:
        return self.decode(self.store.meta("passwords", ""))

    def __getitem__(self, username):
        return self._all()[username]

    def __setitem__(self, username, password):
        with self.store.transaction():
            values = self._all()
            values[username] = password
            self.store.set_meta("passwords", self.encode(values))

    def __delitem__(self, username):
        with self.store.transaction():
            values = self._all()
            del values[username]
            self.store.set_meta("passwords", self.encode(values))

    def __iter__(self):
        return iter(self._all())

    def __len__(self):
        return len(self._all())

    def clear(self):
        self.store.set_meta("passwords", self.encode({}))


class SharedRequestLog:
    """The request log (``append``, ``clear``, iteration oldest first), in the ``_request`` table,
    keeping the newest ``size`` entries."""

    def __init__(self, store, size: int, entry_class):
        self.store, self.size, self.entry_class = store, size, entry_class
        self._appended = 0

    def append(self, entry) -> None:
        values = [entry.method, entry.path, entry.status, entry.user_id, entry.at, entry.duration_ms,
                  entry.error_code]
        seq = self.store.execute("INSERT INTO _request (entry) VALUES (?)", [json.dumps(values)]).lastrowid
        self._appended += 1
        if self._appended % 100 == 0:
            self.store.execute("DELETE FROM _request WHERE seq <= ?", [seq - self.size])

    def __iter__(self):
        rows = self.store.execute("SELECT entry FROM _request ORDER BY seq DESC LIMIT ?", [self.size]).fetchall()
        return iter([self.entry_class(*json.loads(r[0])) for r in reversed(rows)])

    def __len__(self):
        return min(self.store.execute("SELECT COUNT(*) FROM _request").fetchone()[0], self.size)

    def clear(self) -> None:
        self.store.execute("DELETE FROM _request")


class SharedCounter:
    """The API request count, in the ``_meta`` table."""

    def __init__(self, store):
        self._meta = _Meta(store, "api_count")

    def add(self) -> int:
        return self._meta.add(1)

    @property
    def value(self) -> int:
        return int(self._meta.get(0))

    def set(self, value: int) -> None:
        self._meta.set(value)


class SharedClock(Clock):
    """The org clock, frozen or not, in the ``_meta`` table (joining processes keep it as it is)."""

    def __init__(self, store):
        self._lock = threading.Lock()
        self._state = _Meta(store, "clock_frozen")

    def reset(self, now: datetime | None) -> None:
        self._frozen = utc(now) if now else None

    @property
    def _frozen(self):
        text = self._state.get("")
        return parse_datetime(text) if text else None

    @_frozen.setter
    def _frozen(self, value):
        self._state.set(format_datetime(value) if value is not None else "")


class SharedCursors(Cursors):
    """Query locators in the ``_cursor`` table: a page asked of any process is served. A cursor
    is kept pickled: the database file is the org's own, as trusted as the server's code."""

    def __init__(self, store, instance: str, limit: int = MAX_CURSORS):
        self.store, self.instance, self.limit = store, instance, limit

    def reset(self, instance: str) -> None:
        self.instance = instance
        self.store.execute("DELETE FROM _cursor")

    def open(self, cursor: Cursor) -> str:
        with self.store.transaction():
            seq = self.store.execute("INSERT INTO _cursor (key, cursor) VALUES ('', ?)",
                                     [pickle.dumps(cursor)]).lastrowid
            body = f"{LOCATOR_PREFIX}{self.instance}{seq:09d}"
            key = body + checksum(body)
            self.store.execute("UPDATE _cursor SET key = ? WHERE seq = ?", [key, seq])
            self.store.execute("DELETE FROM _cursor WHERE seq <= ?", [seq - self.limit])
        return key

    def get(self, key: str) -> Cursor | None:
        row = self.store.execute("SELECT cursor FROM _cursor WHERE key = ?", [key]).fetchone()
        return pickle.loads(row[0]) if row else None

    def __len__(self) -> int:
        return self.store.execute("SELECT COUNT(*) FROM _cursor").fetchone()[0]
