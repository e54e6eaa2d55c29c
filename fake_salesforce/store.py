"""SQLite storage through sqlite-utils: one table per sObject, plus an indexed phone-key table.

Column names are field API names and always come from the schema, quoted; values are always
bound parameters. Storage forms: booleans 0/1, datetimes as Salesforce's wire text (UTC, so
text order is time order), dates ``YYYY-MM-DD``, multi-select picklists ``a;b``.
One connection serves every thread, behind a re-entrant lock, so concurrent requests never
interleave inside a write.

Writes in bulk: inside a transaction, inserted rows wait in a buffer and go to SQLite together
(one ``executemany`` per table and column set) just before the next statement of any kind or at
commit, so every read sees them. A nested transaction (a savepoint) costs nothing until a
statement runs inside it: one that only buffers rows and fails before any statement drops its
rows from the buffer. So a batch of creates that read nothing is a few statements, not several
per row, and each row still stands or falls alone. The outermost level likewise begins in
SQLite with its first statement; one that only buffered a single row writes it with one
statement, which SQLite commits on its own: a single create is one statement, not four
(``BEGIN``, the row, its phone mark, ``COMMIT``), as a record inserted with a phone is
marked for phone indexing by a trigger, in the insert's own statement (see ``_mark_phones``).
"""
from __future__ import annotations

import gc
import json
import math
import os
import re
import sqlite3
import threading
import zlib
from contextlib import closing, contextmanager
from functools import lru_cache
from itertools import groupby, repeat
from operator import itemgetter
from pathlib import Path

import sqlite_utils

from .fieldtypes import TYPES
from .schema import Schema, SObjectDef

PHONE_TABLE = "_phone"
PHONE_PENDING_TABLE = "_phone_pending"   # records whose phone keys are still to be worked out
PHONE_MARK_PREFIX = "_phone_mark_"       # per object: the trigger marking inserted phones
FLUSH_ROWS = 5000                         # buffered rows that make ``flush_if_large`` write them
BULK_ROWS = 2000                          # rows of one insert that may have indexes built after them
_READS = ("SELECT", "EXPLAIN", "WITH", "PRAGMA")
NOCASE_INDEXED = ("Email", "CallObject")  # besides name fields, unique fields and external ids
META_TABLE = "_meta"
ROWS_TABLE = "_rows"            # per object: live rows and all rows, kept by triggers (see row_count)
TRIGRAM_PREFIX = "_trigram_"    # trigram (FTS5) indexes of one field each (see ensure_trigrams)


def sql_literal(value) -> str | None:
    """``value`` as an SQL literal, for whole numbers and text; None for any other value."""
    if value.__class__ is int:
        return str(value)
    if value.__class__ is str and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None


def q(name: str) -> str:
    """Quote an identifier taken from the schema."""
    return '"' + name.replace('"', '""') + '"'


# == SQL functions the query engine uses, registered on every connection =========================
def shuffle_key(record_id: str, seed: int) -> int:
    """``shuffle_key(Id, seed)``: a stable pseudo-random sort key (the org's ``shuffle`` order)."""
    return zlib.crc32(f"{seed}:{record_id}".encode())


@lru_cache(maxsize=256)
def _regex(pattern: str):
    return re.compile(pattern, re.IGNORECASE)


def regex_match(value, pattern) -> int:
    """``regex_match(value, pattern)``: 1 when the case-insensitive regex finds a match (SOSL's
    whole-word term test)."""
    if value is None or pattern is None:
        return 0
    return int(_regex(pattern).search(str(value)) is not None)


EARTH_RADIUS = {"km": 6371.0088, "mi": 3958.7613}


def geo_distance(lat1, lon1, lat2, lon2, unit) -> float | None:
    """``geo_distance(lat, lon, lat, lon, 'mi' | 'km')``: great-circle (haversine) distance."""
    if None in (lat1, lon1, lat2, lon2):
        return None
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS[unit] * math.asin(min(1.0, math.sqrt(h)))


SQL_FUNCTIONS = {"shuffle_key": (2, shuffle_key), "regex_match": (2, regex_match),
                 "geo_distance": (5, geo_distance)}


@contextmanager
def collector_paused():
    """A batch makes a great many short-lived dicts and tuples, none of them cyclic garbage:
    with Python's cycle collector running it would sweep every live object again and again
    (a fifth of a large batch's time). Paused for the batch, on again after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class StoreError(ValueError):
    """A database file cannot hold a fake org; the message names the file and says why."""


def holds_org(path: str | Path) -> bool:
    """Whether the SQLite file ``path`` already holds a fake org (False: it would be a new one).

    Raises :class:`StoreError` for a file that cannot become one: in a missing or read-only
    folder, not a SQLite database, or a database of another application (left untouched).
    """
    path = Path(path)
    folder = path.parent
    if not path.exists():
        if not folder.is_dir():
            raise StoreError(f"cannot create {path}: the folder {folder} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise StoreError(f"cannot create {path}: the folder {folder} is not writable")
        return False
    if not os.access(path, os.R_OK | os.W_OK):
        raise StoreError(f"cannot open {path}: permission denied")
    if path.stat().st_size == 0:
        return False
    try:
        with closing(sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=0.5)) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as e:
        raise StoreError(_in_use(path) if _busy(e) else f"{path} is not a SQLite database") from None
    if tables and META_TABLE not in tables:
        raise StoreError(f"{path} holds tables of another application, not a fake org: "
                         "give a new file name")
    return bool(tables)


def _busy(error: sqlite3.Error) -> bool:
    return getattr(error, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))


def _in_use(path) -> str:
    return f"{path} is in use by another fake org: one org per file at a time (stop the other one)"


# The columns of the default order ("most recently modified first"), as indexes hold them.
RECENT_FIRST = '"LastModifiedDate" DESC, "Id" DESC'


def _has_trigrams() -> bool:
    """Whether this Python's SQLite has FTS5 with its trigram tokenizer (SQLite 3.34 and later,
    built with FTS5, as most are); without it ``LIKE '%x%'`` scans the field's index instead."""
    try:
        with closing(sqlite3.connect(":memory:")) as conn:
            conn.execute("CREATE VIRTUAL TABLE t USING fts5(v, tokenize='trigram', detail='none', content='')")
        return True
    except sqlite3.Error:
        return False


TRIGRAMS = _has_trigrams()


def trigram_table(sobject: str, field: str) -> str:
    """The FTS5 table holding the trigrams of one field's values (see ``Store.ensure_trigrams``)."""
    return f"{TRIGRAM_PREFIX}{sobject}_{field}"


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def index_name(sobject: str, field: str, *, nocase: bool, ordered: bool = False) -> str:
    """The name of the index on one field (``_nocase``: compared case-insensitively;
    ``_recent``: followed by the default order's columns, see ``Store.ensure_index``)."""
    return f"idx_{sobject}_{field}" + ("_nocase" if nocase else "") + ("_recent" if ordered else "")


class _Frame:
    """One level of ``Store.transaction``: where its buffered rows start, and whether its
    savepoint has been opened in SQLite yet."""
    __slots__ = ("mark", "opened", "name")

    def __init__(self, mark: int, opened: bool, name: str):
        self.mark, self.opened, self.name = mark, opened, name


class Store:
    """``shared``: several processes use the file at once (``serve --workers``): no exclusive
    lock, and every transaction takes the write lock when it begins (waiting for it up to
    ``SHARED_BUSY_TIMEOUT`` seconds), so that reads and writes inside it are never interleaved
    with another process's."""

    SHARED_BUSY_TIMEOUT = 30.0

    def __init__(self, schema: Schema, path: str | Path | None = None, *, shared: bool = False):
        self.schema = schema
        self.path = str(path) if path else None
        self.shared = shared
        if self.path:
            holds_org(self.path)
        conn = None
        try:
            conn = sqlite3.connect(self.path or ":memory:", check_same_thread=False,
                                   isolation_level=None,
                                   timeout=self.SHARED_BUSY_TIMEOUT if shared else 0.5)
            if self.path and shared:
                conn.execute("PRAGMA journal_mode=WAL")
            elif self.path:
                # One org per file: this connection keeps the file locked until it is closed,
                # so a second org on the same file cannot hand out the same ids.
                conn.execute("PRAGMA locking_mode=EXCLUSIVE")
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("BEGIN EXCLUSIVE")
                conn.execute("COMMIT")
            else:
                conn.execute("PRAGMA journal_mode=MEMORY")
        except sqlite3.Error as e:
            if conn is not None:
                conn.close()
            raise StoreError(_in_use(self.path) if _busy(e) else f"cannot open {self.path}: {e}") from None
        self._configure(conn)
        self._connections = [conn]
        if shared:
            # One connection per thread: SQLite then keeps each thread's reads and writes apart,
            # as it keeps the processes' apart (a read in one thread never holds the snapshot
            # another thread's write transaction starts from).
            self._local = threading.local()
            self._local.conn = conn
            self._connections_lock = threading.Lock()
        else:
            self._conn = conn
        self.db = sqlite_utils.Database(conn)
        self.lock = threading.RLock()
        self._frames: list[_Frame] = []
        # buffered inserts: (table, columns, values); _flushed counts those already written
        self._pending: list[tuple[str, tuple[str, ...], tuple]] = []
        self._flushed = 0
        self._owner: int | None = None   # the thread inside the outermost transaction
        self._after: list = []           # see after_commit
        self._undo: list = []            # see after_rollback
        self._insert_sql: dict[tuple[str, tuple[str, ...]], str] = {}
        self._indexed: set[tuple[str, str, bool]] = set()
        self._kept: set[tuple[str, ...]] = set()      # trigram indexes and row counts known to exist
        # shared: taken before a transaction begins (shared.WriteQueue); without one, a
        # transaction begins in SQLite at once, its write lock keeping other processes out
        self.write_queue = None
        self._begin = "BEGIN IMMEDIATE" if shared else "BEGIN"
        self.ensure_tables()

    @staticmethod
    def _configure(conn) -> None:
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA case_sensitive_like=OFF")
        for name, (n_args, function) in SQL_FUNCTIONS.items():
            conn.create_function(name, n_args, function, deterministic=True)

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection (shared: this thread's own)."""
        if not self.shared:
            return self._conn
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                   timeout=self.SHARED_BUSY_TIMEOUT)
            self._configure(conn)
            self._mark_phones(conn)
            with self._connections_lock:
                self._connections.append(conn)
            self._local.conn = conn
        return conn

    # -- schema -------------------------------------------------------------------------------
    def ensure_tables(self) -> None:
        """Create missing tables, columns and indexes (a file database may predate a field)."""
        with self.lock:
            for obj in self.schema:
                table = self.db[obj.name]
                columns = {f.name: TYPES[f.type].sql for f in obj.fields.values()}
                columns["_DeletedDate"] = str
                if not table.exists():
                    table.create(columns, pk="Id")
                else:
                    have = {c.name for c in table.columns}
                    for name, ctype in columns.items():
                        if name not in have:
                            table.add_column(name, ctype)
                wanted = [["LastModifiedDate", "Id"], ["IsDeleted"]]
                for f in obj.fields.values():
                    if f.type == "reference" and not f.system:
                        wanted.append([f.name])
                    elif f.unique or f.external_id or f.name in (obj.name_field, *NOCASE_INDEXED):
                        # Text equality is case-insensitive in Salesforce: these are searched
                        # with COLLATE NOCASE, which only a NOCASE index serves.
                        self.conn.execute(
                            f"CREATE INDEX IF NOT EXISTS {q(f'idx_{obj.name}_{f.name}_nocase')} "
                            f"ON {q(obj.name)} ({q(f.name)} COLLATE NOCASE)")
                existing = {tuple(ix.columns) for ix in table.indexes}
                for cols in wanted:
                    if tuple(cols) not in existing:
                        table.create_index(cols, find_unique_name=True)
            self._insert_sql.clear()
            phone = self.db[PHONE_TABLE]
            if not phone.exists():
                phone.create({"key": str, "sobject": str, "id": str, "field": str})
                phone.create_index(["key", "sobject"])
                phone.create_index(["id"])
            if not self.db[PHONE_PENDING_TABLE].exists():
                self.db[PHONE_PENDING_TABLE].create({"sobject": str, "id": str})
            meta = self.db[META_TABLE]
            if not meta.exists():
                meta.create({"key": str, "value": str}, pk="key")
            if not self.db[ROWS_TABLE].exists():
                self.db[ROWS_TABLE].create({"sobject": str, "live": int, "total": int}, pk="sobject")
            self._mark_phones(self.conn)

    def _mark_phones(self, conn: sqlite3.Connection) -> None:
        """On this connection, a trigger per object with phone fields marks each inserted record
        that has a phone for phone indexing (a row of ``_phone_pending``), in the insert's own
        statement. Temporary triggers: the connection's own, not the file's, so that a seed can
        turn them off for its rows (``phone_marks_paused``)."""
        for obj in self.schema:
            if obj.phone_fields:
                any_phone = " OR ".join(f"NEW.{q(f.name)} IS NOT NULL" for f in obj.phone_fields)
                conn.execute(f"CREATE TEMP TRIGGER IF NOT EXISTS {q(PHONE_MARK_PREFIX + obj.name)} "
                             f"AFTER INSERT ON main.{q(obj.name)} WHEN {any_phone} BEGIN "
                             f"INSERT INTO {PHONE_PENDING_TABLE} (sobject, id) VALUES ({sql_literal(obj.name)}, NEW.Id); END")

    @contextmanager
    def phone_marks_paused(self):
        """Inside a transaction: rows inserted within are not marked for phone indexing one by
        one (a trigger run per row costs a seed 1.5 us a record); the caller marks them after
        (``phones_changed_between``). The triggers come back at the end, or with a rollback."""
        for obj in self.schema:
            if obj.phone_fields:
                self.execute(f"DROP TRIGGER IF EXISTS temp.{q(PHONE_MARK_PREFIX + obj.name)}")
        try:
            yield
        finally:
            self._mark_phones(self.conn)

    # -- transactions -------------------------------------------------------------------------
    def transaction(self) -> _Transaction:
        """All-or-nothing: a failure anywhere inside leaves the database as it was (a context
        manager; nested, a savepoint)."""
        return _Transaction(self)

    def _undo_writes(self) -> None:
        """After a ROLLBACK of the outermost transaction: the actions registered to undo what it
        changed outside the database, newest first."""
        undo, self._undo = self._undo, []
        for action in reversed(undo):
            action()

    def writing(self) -> bool:
        """Whether this thread is inside a transaction (shared: holding the database's write lock)."""
        return bool(self._frames) and self._owner == threading.get_ident()

    def after_rollback(self, action) -> None:
        """Call ``action()`` if the current outermost transaction is rolled back (nothing outside one)."""
        with self.lock:
            if self._frames:
                self._undo.append(action)

    def after_commit(self, action) -> None:
        """Call ``action()`` once what is written now is visible to other connections: at the
        end of the current transaction (committed or not), or at once outside one."""
        with self.lock:
            if self._frames:
                self._after.append(action)
                return
        action()

    def _sync(self, write: bool = True) -> None:
        """Before a statement: begin the transaction in SQLite if it has not begun, and write
        the buffered rows the statement must see, opening first the savepoints they belong to (a
        write opens every savepoint, as it must be undone with them)."""
        frames = self._frames
        if not self._pending and (not frames or frames[0].opened and (not write or frames[-1].opened)):
            return
        if self._owner != threading.get_ident():
            return  # another thread's transaction (it holds the lock): its rows are not ours to see
        end = self._flushed + len(self._pending)
        for frame in frames:
            if frame.opened:
                continue
            if not write and frame.mark >= end and frame is not frames[0]:
                break
            self._flush(frame.mark)
            self.conn.execute(self._begin if frame is frames[0] else f"SAVEPOINT {frame.name}")
            frame.opened = True
        self._flush(end)

    def _flush(self, upto: int) -> None:
        """Write the buffered rows before position ``upto``, table by table in the order they
        came: a run of rows of one table with the same columns is one ``executemany``."""
        count = upto - self._flushed
        if count <= 0:
            return
        rows, self._pending = self._pending[:count], self._pending[count:]
        self._flushed = upto
        if count == 1:
            table, cols, values = rows[0]
            self.conn.execute(self._insert_statement(table, cols), values)
            return
        tables: dict[str, list] = {}
        for row in rows:
            tables.setdefault(row[0], []).append(row)
        for table, table_rows in tables.items():
            for cols, run in groupby(table_rows, key=itemgetter(1)):
                self._insert_many(table, self._insert_statement(table, cols), [r[2] for r in run])

    def _insert_many(self, table: str, sql: str, rows: list[tuple]) -> None:
        """``executemany``; when the rows are many and at least twice what the table holds, the
        table's indexes are dropped first and built again after, in the same transaction:
        SQLite builds an index from all its rows at once (a sort) faster than it inserts them one
        by one. No statement runs between the drop and the rebuild, so every read sees them."""
        conn = self.conn
        if len(rows) < BULK_ROWS or 2 * (conn.execute(
                f"SELECT max(rowid) FROM {q(table)}").fetchone()[0] or 0) > len(rows):
            conn.executemany(sql, rows)
            return
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'", [table]).fetchall()
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {q(name)}")
        try:
            conn.executemany(sql, rows)
        finally:
            for _, create in indexes:
                conn.execute(create)

    def flush_if_large(self, rows: int = FLUSH_ROWS) -> None:
        """Write the buffered rows once there are ``rows`` (between the rows of a batch)."""
        if len(self._pending) >= rows:
            self._sync()

    # -- rows ---------------------------------------------------------------------------------
    def _insert_statement(self, table: str, cols: tuple[str, ...]) -> str:
        sql = self._insert_sql.get((table, cols))
        if sql is None:
            if len(self._insert_sql) >= 4096:   # one per set of columns clients have filled in
                self._insert_sql.clear()
            sql = self._insert_sql[(table, cols)] = (
                f"INSERT INTO {q(table)} ({', '.join(map(q, cols))}) VALUES ({', '.join('?' * len(cols))})")
        return sql

    def insert(self, obj: SObjectDef, row: dict) -> None:
        """Insert a row, whose keys are column names (those left out or None are NULL); inside
        a transaction it is buffered. Give only the columns that may hold a value (the org's
        rows leave out fields with no default): binding a few dozen NULLs per row would cost
        more than the rest of the insert."""
        self._add(obj.name, tuple(row), tuple(row.values()))

    def _add(self, table: str, cols: tuple[str, ...], values: tuple) -> None:
        if self._owner == threading.get_ident():   # in this thread's transaction: the lock is held
            self._pending.append((table, cols, values))
            return
        with self.lock:
            if self._frames:
                self._pending.append((table, cols, values))
            else:
                self.conn.execute(self._insert_statement(table, cols), values)

    def insert_rows(self, obj: SObjectDef, cols: tuple[str, ...], rows: list[tuple],
                    same: dict | None = None) -> None:
        """Insert many rows with the same columns in one statement, after the buffered rows
        (inside a transaction, in which it is undone with them). ``same``: columns that hold
        the same value in every row; those that are whole numbers or text go into the statement
        itself (SQLite then binds nothing for them: a tenth of a wide row's insert), the others
        are bound with each row."""
        same = same or {}
        inline = {k: v for k, v in same.items() if sql_literal(v) is not None}
        if len(inline) < len(same):
            bound = [k for k in same if k not in inline]
            cols += tuple(bound)
            rows = list(map(tuple.__add__, rows, repeat(tuple(same[k] for k in bound))))
        names = ", ".join(map(q, (*cols, *inline)))
        values = ", ".join(["?"] * len(cols) + list(map(sql_literal, inline.values())))
        with self.lock:
            self._sync()
            self._insert_many(obj.name, f"INSERT INTO {q(obj.name)} ({names}) VALUES ({values})", rows)

    def any_live(self, obj: SObjectDef, field: str, values: list) -> bool:
        """Whether a live record of ``obj`` has one of ``values`` (all text, or none) in
        ``field``; text compared case-insensitively, as ``find`` compares it. (``+IsDeleted``:
        the rows are found through the field's index, never through the deleted flag's.)"""
        collate = " COLLATE NOCASE" if values and isinstance(values[0], str) and field != "Id" else ""
        return self._live_in(obj, q(field) + collate, values, "1").fetchone() is not None

    def live_ids(self, obj: SObjectDef, record_ids) -> set[str]:
        """Those of ``record_ids`` that are live records of ``obj`` (found by Id, as in ``any_live``)."""
        return {r[0] for r in self._live_in(obj, "Id", list(record_ids), "Id")}

    def _live_in(self, obj: SObjectDef, column: str, values: list, what: str) -> sqlite3.Cursor:
        """``SELECT what`` of the live rows of ``obj`` whose ``column`` (SQL) is one of ``values``."""
        self._sync(write=False)
        return self.conn.execute(f"SELECT {what} FROM {q(obj.name)} WHERE {column} IN "
                                 "(SELECT value FROM json_each(?)) AND +IsDeleted = 0", [json.dumps(values)])

    def update(self, obj: SObjectDef, record_id: str, changes: dict) -> None:
        if not changes:
            return
        self._sync()
        sets = ", ".join(f"{q(k)} = ?" for k in changes)
        self.conn.execute(f"UPDATE {q(obj.name)} SET {sets} WHERE Id = ?",
                          [*changes.values(), record_id])

    def get(self, obj: SObjectDef, record_id: str) -> dict | None:
        self._sync(write=False)
        cur = self.conn.execute(f"SELECT * FROM {q(obj.name)} WHERE Id = ?", [record_id])
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip((d[0] for d in cur.description), row))

    def find(self, obj: SObjectDef, field: str, value, include_deleted: bool = False) -> list[str]:
        """Ids of records whose ``field`` equals ``value`` (text compared case-insensitively)."""
        collate = " COLLATE NOCASE" if isinstance(value, str) and field != "Id" else ""
        sql = f"SELECT Id FROM {q(obj.name)} WHERE {q(field)} = ?{collate}"
        if not include_deleted:
            sql += " AND IsDeleted = 0"
        sql += " ORDER BY LastModifiedDate DESC, Id DESC"
        self._sync(write=False)
        return [r[0] for r in self.conn.execute(sql, [value])]

    def ensure_index(self, sobject: str, field: str, *, nocase: bool, ordered: bool = False) -> None:
        """Index ``field`` (case-insensitively for text) the first time a query filters on it,
        so that any filter stays fast however many rows there are. Indexes stay until the
        database is dropped; each costs some memory and slows writes a little.

        ``ordered``: the index goes on with the default order's columns (``LastModifiedDate``
        and ``Id``, descending) and ``IsDeleted``, so that an equality filter reads its first
        rows already in the default order (no sort of every match before ``LIMIT``) and a
        ``COUNT()`` is answered from the index alone."""
        key = (sobject, field, nocase, ordered)
        if key in self._indexed:
            return
        with self.lock:
            self._sync()
            name = index_name(sobject, field, nocase=nocase, ordered=ordered)
            columns = f"{q(field)}{' COLLATE NOCASE' if nocase else ''}"
            if ordered:
                columns += f", {RECENT_FIRST}, \"IsDeleted\""
            self.conn.execute(f"CREATE INDEX IF NOT EXISTS {q(name)} ON {q(sobject)} ({columns})")
            self._indexed.add(key)

    def ensure_trigrams(self, sobject: str, field: str) -> None:
        """Keep a trigram index of ``field`` from now on (built the first time a query looks for
        ``LIKE '%x%'`` in it): an FTS5 table without content of its own (``detail=none``, the
        smallest form), whose rowids are the object's, kept in step by triggers on every insert,
        update of the field and delete. Queries use it to find the few rows whose value holds
        each three-character piece of the pattern, then test those rows with LIKE itself, so
        the answer is exactly LIKE's (see ``soql.compiler.Statement.like``)."""
        key = ("trigrams", sobject, field)
        if key in self._kept:
            return
        name, table, column = q(trigram_table(sobject, field)), q(sobject), q(field)
        with self.lock, self.transaction():
            if not self._exists(trigram_table(sobject, field)):
                self.execute(f"CREATE VIRTUAL TABLE {name} USING fts5(v, tokenize='trigram', "
                             "detail='none', content='')")
                self.execute(f"INSERT INTO {name} (rowid, v) SELECT rowid, {column} FROM {table} "
                             f"WHERE {column} IS NOT NULL")
                add = f"INSERT INTO {name} (rowid, v) SELECT NEW.rowid, NEW.{column} WHERE NEW.{column} IS NOT NULL;"
                drop = (f"INSERT INTO {name} ({name}, rowid, v) SELECT 'delete', OLD.rowid, OLD.{column} "
                        f"WHERE OLD.{column} IS NOT NULL;")
                trigger = trigram_table(sobject, field)
                self.execute(f"CREATE TRIGGER {q(trigger + '_insert')} AFTER INSERT ON {table} "
                             f"BEGIN {add} END")
                self.execute(f"CREATE TRIGGER {q(trigger + '_delete')} AFTER DELETE ON {table} "
                             f"BEGIN {drop} END")
                self.execute(f"CREATE TRIGGER {q(trigger + '_update')} AFTER UPDATE OF {column} "
                             f"ON {table} BEGIN {drop} {add} END")
        if not self._frames:   # committed (inside a transaction it could yet be rolled back)
            self._kept.add(key)

    def row_count(self, sobject: str, include_deleted: bool = False) -> int:
        """How many rows ``sobject`` has (live ones, or all with ``include_deleted``), read from
        ``_rows``, where triggers on the object's table keep both figures exact through every
        insert, delete and change of ``IsDeleted`` (rolled back with the rest of a failed
        transaction). Kept from the first ``COUNT()`` of the whole object on, so that counting a
        million rows takes no longer than counting a thousand."""
        key = ("rows", sobject)
        with self.lock:
            if key not in self._kept:
                self._keep_row_count(sobject)
                if not self._frames:
                    self._kept.add(key)
            row = self.execute(f"SELECT live, total FROM {ROWS_TABLE} WHERE sobject = ?", [sobject]).fetchone()
        return row[1] if include_deleted else row[0]

    def _keep_row_count(self, sobject: str) -> None:
        table, me = q(sobject), sql_literal(sobject)
        with self.transaction():
            if self.execute(f"SELECT 1 FROM {ROWS_TABLE} WHERE sobject = ?", [sobject]).fetchone():
                return
            self.execute(f"INSERT INTO {ROWS_TABLE} (sobject, live, total) "
                         f"SELECT ?, COALESCE(SUM(IsDeleted IS 0), 0), COUNT(*) FROM {table}", [sobject])
            name = f"{ROWS_TABLE}_{sobject}"
            change = f"UPDATE {ROWS_TABLE} SET live = live + {{live}}, total = total + {{total}} WHERE sobject = {me};"
            self.execute(f"CREATE TRIGGER {q(name + '_insert')} AFTER INSERT ON {table} BEGIN "
                         + change.format(live="(NEW.IsDeleted IS 0)", total=1) + " END")
            self.execute(f"CREATE TRIGGER {q(name + '_delete')} AFTER DELETE ON {table} BEGIN "
                         + change.format(live="-(OLD.IsDeleted IS 0)", total=-1) + " END")
            self.execute(f"CREATE TRIGGER {q(name + '_update')} AFTER UPDATE OF IsDeleted ON {table} "
                         "WHEN (OLD.IsDeleted IS 0) != (NEW.IsDeleted IS 0) BEGIN "
                         + change.format(live="(NEW.IsDeleted IS 0) - (OLD.IsDeleted IS 0)", total=0) + " END")

    def _exists(self, name: str) -> bool:
        return self.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [name]).fetchone() is not None

    def execute(self, sql: str, params=()):
        self._sync(write=not sql.lstrip()[:8].upper().startswith(_READS))
        return self.conn.execute(sql, params)

    # -- phone keys ---------------------------------------------------------------------------
    def phones_changed(self, obj: SObjectDef, record_id: str) -> None:
        """The record's phone keys are to be (re)worked out before the next phone search."""
        self._add(PHONE_PENDING_TABLE, ("sobject", "id"), (obj.name, record_id))

    def phones_changed_between(self, obj: SObjectDef, first_id: str, last_id: str) -> None:
        """The records of ``obj`` with an Id from ``first_id`` to ``last_id`` and a phone are to
        have their phone keys worked out (one statement for the records a seed created)."""
        if not obj.phone_fields:
            return
        have_phone = " OR ".join(f"{q(f.name)} IS NOT NULL" for f in obj.phone_fields)
        self.execute(f"INSERT INTO {PHONE_PENDING_TABLE} (sobject, id) SELECT ?, Id FROM {q(obj.name)} "
                     f"WHERE Id BETWEEN ? AND ? AND ({have_phone})", [obj.name, first_id, last_id])

    def all_phones_changed(self, obj: SObjectDef) -> None:
        """Every live record of ``obj`` is to have its phone keys worked out again."""
        self.execute(f"INSERT INTO {PHONE_PENDING_TABLE} (sobject, id) "
                     f"SELECT ?, Id FROM {q(obj.name)} WHERE IsDeleted = 0", [obj.name])

    def pending_phones(self) -> bool:
        return self.execute(f"SELECT 1 FROM {PHONE_PENDING_TABLE} LIMIT 1").fetchone() is not None

    def replace_phone_keys(self, rows: list[tuple[str, str, str, str]]) -> None:
        """The pending records' keys become ``rows`` (key, sobject, id, field); none is pending after."""
        self.execute(f"DELETE FROM {PHONE_TABLE} WHERE id IN (SELECT id FROM {PHONE_PENDING_TABLE})")
        self.conn.executemany(
            f"INSERT INTO {PHONE_TABLE} (key, sobject, id, field) VALUES (?, ?, ?, ?)", rows)
        self.conn.execute(f"DELETE FROM {PHONE_PENDING_TABLE}")

    # -- meta ---------------------------------------------------------------------------------
    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.execute(f"SELECT value FROM {META_TABLE} WHERE key = ?", [key]).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value) -> None:
        self.execute(f"INSERT OR REPLACE INTO {META_TABLE} (key, value) VALUES (?, ?)",
                          [key, str(value)])

    # -- reset --------------------------------------------------------------------------------
    def wipe(self) -> None:
        """Delete every row of every table, keeping tables and indexes. Trigram indexes and row
        counts go (with their triggers, so that the rows go at once rather than one by one, and
        writes to the new org pay for no trigger until a query needs one again)."""
        with self.lock, self.transaction():
            self._sync()
            for (name,) in self.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND "
                                        "(name LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\')",
                                        [_like_prefix(TRIGRAM_PREFIX), _like_prefix(ROWS_TABLE + "_")]).fetchall():
                self.execute(f"DROP TRIGGER {q(name)}")
            for (name,) in self.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                        "name LIKE ? ESCAPE '\\' AND sql LIKE 'CREATE VIRTUAL%'",
                                        [_like_prefix(TRIGRAM_PREFIX)]).fetchall():
                self.execute(f"DROP TABLE {q(name)}")
            self.execute(f"DELETE FROM {ROWS_TABLE}")
            self.forget_kept()
            for obj in self.schema:
                self.execute(f"DELETE FROM {q(obj.name)}")
            self.execute(f"DELETE FROM {PHONE_TABLE}")
            self.execute(f"DELETE FROM {PHONE_PENDING_TABLE}")
            self.execute(f"DELETE FROM {META_TABLE}")

    def forget_kept(self) -> None:
        """Check again, at their next use, whether trigram indexes and row counts exist (another
        process sharing the file may have reset the org, which drops them)."""
        self._kept.clear()

    def count(self, obj: SObjectDef, include_deleted: bool = False) -> int:
        sql = f"SELECT COUNT(*) FROM {q(obj.name)}" + ("" if include_deleted else " WHERE IsDeleted = 0")
        return self.execute(sql).fetchone()[0]

    def close(self) -> None:
        for conn in self._connections:
            conn.close()


class _Transaction:
    """``Store.transaction()``: the store's lock held from entry to exit; the outermost level is
    BEGIN .. COMMIT once a statement runs inside it (its buffered rows written just before the
    COMMIT; a single one with no BEGIN), an inner one a frame that becomes a savepoint once a
    statement runs inside it. An exception undoes the level's writes
    (the outermost's: also the actions given to ``after_rollback``) and goes on; the end of the
    outermost level runs the actions given to ``after_commit``. (A class rather than a
    generator: every single write goes through it.)"""
    __slots__ = ("store", "frame", "outer", "queued")

    def __init__(self, store: Store):
        self.store = store

    def __enter__(self) -> None:
        store = self.store
        store.lock.acquire()
        try:
            self.outer = outer = not store._frames
            mark = store._flushed + len(store._pending)
            begun = False
            if outer:
                queue = store.write_queue
                self.queued = queue is not None and queue.acquire()
                if store.shared and queue is None:
                    try:
                        store.conn.execute(store._begin)
                    except BaseException:
                        if self.queued:
                            queue.release()
                        raise
                    begun = True
                store._owner = threading.get_ident()
            self.frame = _Frame(mark, begun, f"sp{len(store._frames)}")
            store._frames.append(self.frame)
        except BaseException:
            store.lock.release()
            raise

    def _roll_back(self) -> None:
        """Undo the outermost level: in SQLite if it began there, then outside it."""
        if self.frame.opened:
            self.store.conn.execute("ROLLBACK")
        self.store._undo_writes()

    def __exit__(self, exc_type, exc, tb) -> bool:
        store, frame, outer = self.store, self.frame, self.outer
        try:
            store._frames.pop()
            if exc_type is not None:
                del store._pending[max(frame.mark - store._flushed, 0):]
                if outer:
                    self._roll_back()
                elif frame.opened:
                    store.conn.execute(f"ROLLBACK TO {frame.name}")
                    store.conn.execute(f"RELEASE {frame.name}")
                return False
            if outer:
                try:
                    if not frame.opened and len(store._pending) > 1:
                        store.conn.execute(store._begin)
                        frame.opened = True
                    store._flush(store._flushed + len(store._pending))   # a single row: on its own
                except BaseException:
                    store._pending.clear()
                    self._roll_back()
                    raise
                if frame.opened:
                    store.conn.execute("COMMIT")
                store._undo = []
            elif frame.opened:
                store.conn.execute(f"RELEASE {frame.name}")
            return False
        finally:
            if outer:
                store._owner = None
                if self.queued:
                    store.write_queue.release()
                after, store._after = store._after, []
                try:
                    for action in after:
                        action()
                finally:
                    store.lock.release()
            else:
                store.lock.release()
