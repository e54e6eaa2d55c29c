"""The state an org keeps beside its records, held in its SQLite file so that several server
processes (``fake-salesforce serve --workers N``) serve one org.

A single process keeps ids, sessions, the clock, the API count, the request log and the query
locators in memory. Each class here is a drop-in for one of those, reading and writing tables of
the org's database instead, inside the same transactions as the records: ids are handed out in
commit order by whichever process creates the record, a session opened by one process is valid
in every other, the clock set through one is the clock of all.

What every request reads is not read from SQLite every time (each statement there is a
transaction, several system calls): a small file mapped into every process's memory beside the
database (``Board``, ``<db>-board``) holds the API count and version numbers. A process keeps
the sessions it has seen, the clock and the org's settings, and reads them again from the
database only when their version has moved; a process that changes one moves its version once
the change is committed.

Not shared (refused with FAKE_NOT_IMPLEMENTED when there are several processes): Bulk API 2.0
jobs, fault rules, and JWT certificates registered through the control API.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import mmap
import os
import pickle
import threading
from collections.abc import MutableMapping
from datetime import datetime

from .clock import Clock, format_datetime, parse_datetime, utc
from .ids import IdGenerator, checksum
from .soql.cursors import LOCATOR_PREFIX, MAX_CURSORS, Cursor, Cursors

TABLES = (
    "CREATE TABLE IF NOT EXISTS _session (token TEXT PRIMARY KEY, user_id TEXT, expires REAL)",
    "CREATE TABLE IF NOT EXISTS _cursor (seq INTEGER PRIMARY KEY, key TEXT UNIQUE, cursor BLOB)",
)


def create_tables(store) -> None:
    for sql in TABLES:
        store.execute(sql)


_BOARD_LOCKS: dict[str, tuple[threading.RLock, threading.Lock, dict]] = {}
_BOARD_LOCKS_LOCK = threading.Lock()


class Board:
    """Numbers every process of the org reads at memory speed: 64-bit slots of a file mapped
    into each process (``<db>-board``, next to the database, as SQLite keeps its ``-shm``).
    A slot is read without a lock; ``add`` and ``set`` take a lock on the slot's bytes of the
    file, so no change of another process is lost, and, first, the lock of this process's threads,
    one for every slot: the system owns byte-range locks by process, so one thread holding a slot
    while another waits for a slot that a second process holds, as that process waits for the
    first slot, would read as a deadlock (EDEADLK), though each lock is let go a moment later."""

    API_COUNT, GENERATION, SESSIONS, CLOCK, LOG_FILE, LOG_COUNT, ID_COUNTER, WRITER = range(8)
    CONNECTIONS = 16   # and the slots after it: each worker's open connections (server._Balance)
    SIZE = 4096

    def __init__(self, db_path: str):
        self.path = db_path + "-board"
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(self._fd).st_size < self.SIZE:
            os.ftruncate(self._fd, self.SIZE)   # zeros; the same size again changes nothing
        self._map = mmap.mmap(self._fd, self.SIZE)
        self._slots = memoryview(self._map).cast("q")
        # A lock on a file's bytes keeps other processes out, not other threads of this one: the
        # threads' locks are the same for every board of the file in this process.
        with _BOARD_LOCKS_LOCK:
            key = os.path.realpath(self.path)
            if key not in _BOARD_LOCKS:
                _BOARD_LOCKS[key] = (threading.RLock(), threading.Lock(), {})
            self._lock, self.writer_lock, self._owner = _BOARD_LOCKS[key]

    def get(self, slot: int) -> int:
        return self._slots[slot]

    @contextlib.contextmanager
    def locked(self, slot: int):
        """The slot to this thread alone; ``put`` writes it inside (re-entrant: ``add`` and
        ``set`` may be called inside too)."""
        if self._owner.get(slot) == threading.get_ident():
            yield
            return
        with self._lock:
            fcntl.lockf(self._fd, fcntl.LOCK_EX, 8, slot * 8)
            self._owner[slot] = threading.get_ident()
            try:
                yield
            finally:
                self._owner[slot] = None
                fcntl.lockf(self._fd, fcntl.LOCK_UN, 8, slot * 8)

    def put(self, slot: int, value: int) -> None:
        """Write the slot without a lock (inside ``locked(slot)``, or where a lost write is harmless)."""
        self._slots[slot] = value

    def add(self, slot: int, n: int = 1) -> int:
        """Add ``n`` to the slot; its new value."""
        with self.locked(slot):
            value = self._slots[slot] = self._slots[slot] + n
        return value

    def set(self, slot: int, value: int) -> None:
        with self.locked(slot):
            self._slots[slot] = value

    def moved(self, store, slot: int) -> None:
        """Move the slot's version once the change being written is committed: another process
        that saw the new version before the commit would read the old state again and keep it."""
        store.after_commit(lambda: self.add(slot))


class WriteQueue:
    """Who writes next, across processes: a lock on the whole board file (``flock``), taken
    before a transaction begins (``Store.write_queue``). SQLite's own write lock stays the
    guarantee; this only makes the wait short. Without it, a process finding the database's
    write lock taken sleeps 1, 2, 5, 10 ms ... before trying again (SQLite's busy handler),
    while a write holds it for a fraction of a millisecond, and this process's other threads
    wait behind the sleeper; the kernel wakes a process waiting on a file lock as soon as it is
    released. (A ``flock`` of the whole file, not a byte-range lock as the slots take: the
    kernel reads a process waiting on byte-range locks in two threads as a deadlock.)"""

    def __init__(self, board: Board):
        self.board = board
        self._lock = board.writer_lock   # this process's threads, every board of the file

    def acquire(self) -> bool:
        """Wait for the turn; False when this thread has it already (then no ``release``)."""
        owner = self.board._owner
        if owner.get(Board.WRITER) == threading.get_ident():
            return False
        self._lock.acquire()
        try:
            fcntl.flock(self.board._fd, fcntl.LOCK_EX)
        except BaseException:
            self._lock.release()
            raise
        owner[Board.WRITER] = threading.get_ident()
        return True

    def release(self) -> None:
        self.board._owner[Board.WRITER] = None
        try:
            fcntl.flock(self.board._fd, fcntl.LOCK_UN)
        finally:
            self._lock.release()


class _Meta:
    """A number or text kept in the ``_meta`` table."""

    def __init__(self, store, key: str):
        self.store, self.key = store, key

    def get(self, default=None):
        return self.store.meta(self.key, default)

    def set(self, value) -> None:
        self.store.set_meta(self.key, value)


class SharedIds(IdGenerator):
    """Ids whose counter is a slot of the board: unique across processes, in creation order.

    A record takes its id inside its write transaction, which in a shared org begins with the
    database's write lock (``BEGIN IMMEDIATE``): one process at a time, so the counter there
    needs no lock of its own, and ids grow in commit order. As in one process, an id taken by
    a write that is then rolled back is not handed out again."""

    def __init__(self, store, board: Board, seed: int | str = 0):
        self.store, self.board = store, board
        IdGenerator.reset(self, seed)   # joins the org: the counter stays where it is

    def reset(self, seed: int | str = 0) -> None:
        super().reset(seed)
        before = self.board.get(Board.ID_COUNTER)
        self.board.set(Board.ID_COUNTER, 0)
        # the reset undone: the records are back, so is the counter
        self.store.after_rollback(lambda: self.board.set(Board.ID_COUNTER,
                                                         max(before, self.board.get(Board.ID_COUNTER))))

    def adopt(self, seed: int | str) -> None:
        """Take the instance of ``seed`` (an org reset by another process) without touching the counter."""
        IdGenerator.reset(self, seed)

    def resume(self, counter: int) -> None:
        with self.board.locked(Board.ID_COUNTER):
            if counter > self.board.get(Board.ID_COUNTER):
                self.board.put(Board.ID_COUNTER, counter)

    def _take(self, n: int = 1) -> int:
        if self.store.writing():
            last = self.board.get(Board.ID_COUNTER) + n
            self.board.put(Board.ID_COUNTER, last)
            return last
        return self.board.add(Board.ID_COUNTER, n)

    def _last(self) -> int:
        return self.board.get(Board.ID_COUNTER)


class SharedSessions(MutableMapping):
    """Sessions by token, in the ``_session`` table. Expiry times are ``time.monotonic()``
    values, which every process of the machine reads from the same clock.

    Each process keeps the sessions it has read, until the board's session version moves (a
    session ended anywhere, or all of them): a known token then costs no statement."""

    MAX_KEPT = 10_000

    def __init__(self, store, session_class, board: Board):
        self.store, self.session_class, self.board = store, session_class, board
        self._kept: tuple[int, dict] = (-1, {})   # (the version they were read at, token -> session)

    def _kept_now(self) -> dict:
        version = self.board.get(Board.SESSIONS)
        kept_at, kept = self._kept
        if kept_at != version or len(kept) > self.MAX_KEPT:
            # a new dict: a reader still holding the old one (read before the version moved) adds
            # to that one, never to this
            kept = {}
            self._kept = (version, kept)
        return kept

    def __getitem__(self, token):
        kept = self._kept_now()
        session = kept.get(token)
        if session is None:
            row = self.store.execute("SELECT user_id, expires FROM _session WHERE token = ?", [token]).fetchone()
            if row is None:
                raise KeyError(token)
            session = kept[token] = self.session_class(token, row[0], row[1])
        return session

    def __setitem__(self, token, session):
        # a new token (random): no process keeps it yet, so the version stays
        self.store.execute("INSERT OR REPLACE INTO _session VALUES (?, ?, ?)",
                           [token, session.user_id, session.expires])

    def __delitem__(self, token):
        if not self.store.execute("DELETE FROM _session WHERE token = ?", [token]).rowcount:
            raise KeyError(token)
        self.board.moved(self.store, Board.SESSIONS)

    def __iter__(self):
        return iter([r[0] for r in self.store.execute("SELECT token FROM _session")])

    def __len__(self):
        return self.store.execute("SELECT COUNT(*) FROM _session").fetchone()[0]

    def clear(self):
        self.store.execute("DELETE FROM _session")
        self.board.moved(self.store, Board.SESSIONS)


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
    """The request log (``append``, ``clear``, iteration oldest first), keeping at least the
    newest ``size`` entries: one JSON line per entry appended to a file next to the database
    (``<db>-requests``), a single ``write`` that no other process's interleaves with. When
    ``size`` entries have been appended to it, the file becomes ``<db>-requests.1`` (replacing
    the one before) and a new one starts; a process appending to the old file switches to the
    new one when the board's log version moves, and readers read both."""

    def __init__(self, path: str, size: int, entry_class, board: Board):
        self.path, self.size, self.entry_class, self.board = path, size, entry_class, board
        self._lock = threading.Lock()
        self._fd, self._fd_version = None, None

    def _write(self, line: bytes) -> None:
        """Append ``line`` to the current file. The write is made under the lock that a switch to
        a new file takes too, so no thread closes the file another thread is writing to."""
        version = self.board.get(Board.LOG_FILE)
        with self._lock:
            if version != self._fd_version:
                if self._fd is not None:
                    os.close(self._fd)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                self._fd_version = version
            os.write(self._fd, line)

    def append(self, entry) -> None:
        if self.size <= 0:
            return
        values = [entry.method, entry.path, entry.status, entry.user_id, entry.at, entry.duration_ms,
                  entry.error_code]
        self._write((json.dumps(values) + "\n").encode())
        # The count is a hint, added to without a lock: an addition lost to another process's
        # makes it low, never high. The file is only replaced once it holds ``size`` entries.
        count = self.board.get(Board.LOG_COUNT) + 1
        self.board.put(Board.LOG_COUNT, count)
        if count >= self.size:
            with self.board.locked(Board.LOG_COUNT):
                with open(self.path, "ab+") as f:   # created, should it be missing
                    f.seek(0)
                    count = f.read().count(b"\n")
                if count >= self.size:
                    os.replace(self.path, self.path + ".1")
                    os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
                    self.board.add(Board.LOG_FILE)
                    count = 0
                self.board.put(Board.LOG_COUNT, count)

    def _lines(self) -> list[bytes]:
        lines = []
        for path in (self.path + ".1", self.path):
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                continue
            lines += data.split(b"\n")[:-1]   # the last piece: empty, or an entry still being written
        return lines[-self.size:] if self.size > 0 else []

    def __iter__(self):
        return iter([self.entry_class(*json.loads(line)) for line in self._lines()])

    def __len__(self):
        return len(self._lines())

    def clear(self) -> None:
        with self.board.locked(Board.LOG_COUNT):
            for path in (self.path, self.path + ".1"):
                if os.path.exists(path):
                    os.truncate(path, 0)   # a process appending to it goes on at the new end
            self.board.put(Board.LOG_COUNT, 0)


class SharedCounter:
    """The API request count, in a slot of the board: counting a request is no statement."""

    def __init__(self, store, board: Board):
        self.store, self.board = store, board

    def add(self) -> int:
        return self.board.add(Board.API_COUNT)

    @property
    def value(self) -> int:
        return self.board.get(Board.API_COUNT)

    def set(self, value: int) -> None:
        self.store.after_commit(lambda: self.board.set(Board.API_COUNT, value))


class SharedClock(Clock):
    """The org clock, frozen or not, in the ``_meta`` table (joining processes keep it as it is);
    each process keeps what it read until the board's clock version moves."""

    def __init__(self, store, board: Board):
        self._lock = threading.Lock()
        self._state = _Meta(store, "clock_frozen")
        self._board = board
        self._kept: tuple[int, datetime | None] = (-1, None)   # (the version it was read at, the value)

    def reset(self, now: datetime | None) -> None:
        self._frozen = utc(now) if now else None

    @property
    def _frozen(self):
        version = self._board.get(Board.CLOCK)
        kept_at, value = self._kept
        if kept_at != version:
            text = self._state.get("")
            value = parse_datetime(text) if text else None
            self._kept = (version, value)   # with the version read before it: a newer one reads again
        return value

    @_frozen.setter
    def _frozen(self, value):
        self._state.set(format_datetime(value) if value is not None else "")
        self._board.moved(self._state.store, Board.CLOCK)


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
