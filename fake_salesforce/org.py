"""The fake org: records, derived fields, users and sessions, on the clock. Never imports Flask.

Everything an HTTP handler needs is a method here; handlers only parse and serialize.
Where the fake differs from Salesforce, the method's docstring says so.
"""
from __future__ import annotations

import json
import math
import secrets
import string
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import compress, repeat
from operator import contains, eq, itemgetter, ne, or_
from typing import Iterable

from . import errors, phones, urls
from .behaviours import BEHAVIOURS, Behaviour
from .bulk import BulkJobs
from .clock import Clock, format_datetime, parse_datetime
from .ids import IdGenerator, to18
from .schema import FieldDef, Schema, SObjectDef, load_schema
from .soql import Cursors, Ordering, query_more, run_query
from .soql.scopes import supported_scopes
from .sosl import run_search
from .store import PHONE_PENDING_TABLE, PHONE_TABLE, Store, collector_paused, q
from .tls import public_key
from .values import storage_column, storage_converter, to_storage, to_wire

DEFAULT_USERNAME = "admin@example.com"
DEFAULT_PASSWORD = "password"
AUDIT_FIELDS = ("CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById")
ORDERS = ("recent", "insertion", "shuffle")
SEED_ITEM_KEYS = ("sobject", "fields", "password", "security_token")
_SEED_ITEM_KEYS = frozenset(SEED_ITEM_KEYS)
# rows a seed buffers before writing them: a large seed into a small table is written in one go,
# which lets the store build the table's indexes after the rows (see Store._flush)
SEED_FLUSH_ROWS = 250_000
# consecutive items of one object giving the same fields that are seeded a column at a time
SEED_COLUMN_RUN = 16
_SEED_COLUMN_ITEM_KEYS = frozenset({"sobject", "fields"})
_NO_FIELDS: dict = {}   # an item without "fields" (never written to)
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


BATCH_OPS = ("create", "update", "delete")
HOOKS = ("check", "required", "derive", "referenced", "after_write", "before_delete")  # see behaviours/


@dataclass(slots=True)
class BatchResult:
    """One item's outcome in ``Org.apply_batch``: its Id, or the error that refused it."""
    id: str | None
    error: errors.SalesforceError | None = None

    @property
    def success(self) -> bool:
        return self.error is None


class Row(dict):
    """A record's stored values by field name; a field left out is null (``row[name]`` is None)."""
    __slots__ = ()

    def __missing__(self, key):
        return None


class _Counter:
    """The API request count of an org served by one process."""

    def __init__(self):
        self.value = 0
        self._lock = threading.Lock()

    def add(self) -> int:
        with self._lock:
            self.value += 1
            return self.value

    def set(self, value: int) -> None:
        self.value = value


class _RolledBack(Exception):
    """Raised inside an all-or-none batch's transaction to undo it."""


@dataclass
class Session:
    token: str
    user_id: str
    expires: float


@dataclass(slots=True)
class RequestLogEntry:
    method: str
    path: str
    status: int
    user_id: str | None
    at: float            # unix time
    duration_ms: float
    error_code: str | None = None

    def to_dict(self) -> dict:
        return {"method": self.method, "path": self.path, "status": self.status,
                "user_id": self.user_id,
                "at": datetime.fromtimestamp(self.at, timezone.utc).isoformat(timespec="milliseconds"),
                "duration_ms": round(self.duration_ms, 3), "error_code": self.error_code}


@dataclass
class OrgConfig:
    schema_files: tuple = ()
    db_path: str | None = None
    seed: int | str = 0
    now: datetime | None = None
    username: str = DEFAULT_USERNAME
    password: str = DEFAULT_PASSWORD
    security_token: str = ""
    default_country: str = phones.DEFAULT_COUNTRY   # reads phone numbers typed without +
    order: str = "recent"
    fiscal_year_start_month: int = 1     # a standard fiscal year starting on the 1st of this month
    session_lifetime: float = 7200.0
    api_limit: int = 100_000
    enforce_api_limit: bool = False      # past api_limit requests, answer REQUEST_LIMIT_EXCEEDED
    oauth_clients: dict = field(default_factory=lambda: {"fake-salesforce": "fake-salesforce-secret"})
    # consumer key -> PEM certificate (or public key) that signs its JWT bearer assertions
    jwt_certificates: dict = field(default_factory=dict)
    request_log_size: int = 10_000
    # Bulk API 2.0: how many polls a closed job answers InProgress before it is worked
    bulk_polls: int = 0
    # served by several processes on db_path: sessions, the clock and query locators live in the
    # database file, the id counter and the API count in <db_path>-board, the request log in
    # <db_path>-requests (see shared.py)
    shared: bool = False


class Org:
    """A small Salesforce org held in SQLite.

    >>> org = Org()
    >>> org.create("Contact", {"LastName": "Martin"})[:3]
    '003'
    """

    def __init__(self, config: OrgConfig | None = None, **overrides):
        self.config = config or OrgConfig()
        for key, value in overrides.items():
            if not hasattr(self.config, key):
                raise TypeError(f"unknown Org option {key!r}")
            setattr(self.config, key, value)
        if self.config.order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}, not {self.config.order!r}")
        self.config.default_country = phones.check_country(self.config.default_country)
        self.schema: Schema = load_schema(*self.config.schema_files)
        if self.config.shared and not self.config.db_path:
            raise ValueError("an org shared by several processes needs a database file (db_path)")
        self.store = Store(self.schema, self.config.db_path, shared=self.config.shared)
        self.lock = self.store.lock
        saved_seed = self.store.meta("seed")
        if saved_seed is not None:
            self.config.seed = saved_seed   # a saved org keeps the id seed it was made with
        if self.config.shared:
            self._share()
        else:
            self.board = None   # shared: the numbers every process reads (shared.Board)
            self.clock = Clock(self.config.now)
            self.ids = IdGenerator(self.config.seed)
            self.sessions: dict[str, Session] = {}
            self.passwords: dict[str, str] = {}
            self.requests: deque[RequestLogEntry] = deque(maxlen=self.config.request_log_size)
            self._api = _Counter()
            self.cursors = Cursors(self.ids.instance)
        self.org_id = to18("00D" + self.ids.instance + "000000001")
        self.bulk = BulkJobs(self)
        self._default_rows: dict[str, dict] = {}
        self._write_rules: dict[tuple, dict] = {}   # see _coerce
        self._references: dict[str, frozenset] = {}  # each object's reference fields
        # each object's behaviours (behaviours/), in their fixed order
        self._hooks = {(o.name, hook): [b for b in BEHAVIOURS if o.name in b.objects
                                        and getattr(type(b), hook) is not getattr(Behaviour, hook)]
                       for o in self.schema for hook in HOOKS}
        for o in self.schema:   # the checks a create runs
            self._hooks[o.name, "check_create"] = [b for b in self._hooks[o.name, "check"] if b.checks_creates]
        self.admin_id: str = ""
        self.person_record_type_id: str = ""
        if self.store.meta("initialised") is None:
            if self.config.shared:
                self.clock.reset(self.config.now)
                self._api.set(0)   # a board file left by an earlier org of that name
                self.ids.reset(self.config.seed)
            self._bootstrap()
        else:
            self._reload()
        self._generation = self.store.meta("generation", "0")

    def _share(self) -> None:
        from . import shared

        store = self.store
        shared.create_tables(store)
        self.board = board = shared.Board(self.config.db_path)
        self._board_generation = board.get(board.GENERATION)
        store.write_queue = shared.WriteQueue(board)
        self.clock = shared.SharedClock(store, board)
        self.ids = shared.SharedIds(store, board, self.config.seed)
        self.sessions = shared.SharedSessions(store, Session, board)
        self.passwords = shared.SharedPasswords(store, _decode_passwords, _encode_passwords)
        self.requests = shared.SharedRequestLog(self.config.db_path + "-requests", self.config.request_log_size,
                                                RequestLogEntry, board)
        self._api = shared.SharedCounter(store, board)
        self.cursors = shared.SharedCursors(store, self.ids.instance)

    def sync(self) -> None:
        """In an org shared by several processes, catch up with a reset made by another one."""
        if not self.config.shared:
            return
        moved = self.board.get(self.board.GENERATION)
        if moved == self._board_generation:
            return   # no reset since the last look: no statement
        self._board_generation = moved   # before reading: a reset after this moves it again
        generation = self.store.meta("generation", "0")
        if generation != self._generation:
            with self.lock:
                self._generation = generation
                self.store.forget_kept()
                self.config.seed = self.store.meta("seed")
                self.ids.adopt(self.config.seed)
                self.cursors.instance = self.ids.instance
                self.org_id = to18("00D" + self.ids.instance + "000000001")
                self.admin_id = self.store.meta("admin_id")
                self.person_record_type_id = self.store.meta("person_record_type_id")
                self.config.default_country = self.store.meta("default_country", self.config.default_country)
                self.config.order = self.store.meta("order", self.config.order)

    @property
    def api_count(self) -> int:
        """API requests counted since the org was made or reset."""
        return self._api.value

    # == lifecycle =================================================================================
    def reset(self, seed: int | str | None = None, now: datetime | None = None, *,
              default_country: str | None = None, order: str | None = None) -> None:
        """Wipe every record and start again with the default admin and record types;
        ``default_country`` and ``order`` change those settings of the org (else they stay)."""
        country = None if default_country is None else _checked_country(default_country)
        if order is not None and order not in ORDERS:
            raise errors.InvalidParameterValue(
                f"'order' must be one of {', '.join(ORDERS)}, not {order!r}", ["order"])
        if now is not None:
            _check_instant(now, "now")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, str))):
            raise errors.InvalidParameterValue(f"'seed' must be an integer or a string, not {seed!r}", ["seed"])
        with self.lock, self.store.transaction():
            if seed is not None:
                self.config.seed = seed
            if country is not None:
                self.config.default_country = country
            if order is not None:
                self.config.order = order
            self.store.wipe()
            self.ids.reset(self.config.seed)
            if self.config.shared:
                self.clock.reset(now or self.config.now)
                self._generation = str(int(self._generation) + 1)
                self.store.set_meta("generation", self._generation)
                self.board.moved(self.store, self.board.GENERATION)
                self.store.set_meta("order", self.config.order)
            else:
                self.clock = Clock(now or self.config.now)
            self.sessions.clear()
            self.passwords.clear()
            self.requests.clear()
            self._api.set(0)
            self.cursors.reset(self.ids.instance)
            self.bulk.reset()
            self._bootstrap()

    def _bootstrap(self) -> None:
        with self.store.transaction():
            self.store.set_meta("seed", self.config.seed)
            self.store.set_meta("default_country", self.config.default_country)
            self.admin_id = self.ids.next("005")
            self._insert_raw("User", {
                "Id": self.admin_id, "Username": self.config.username, "FirstName": "Admin",
                "LastName": "User", "Email": self.config.username, "Alias": "admin",
                "IsActive": 1, "TimeZoneSidKey": "America/Los_Angeles", "LocaleSidKey": "en_US",
                "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US",
            })
            self.passwords[self.config.username.lower()] = self.config.password + self.config.security_token
            self._insert_raw("Organization", {
                "Id": self.org_id, "Name": "Fake Salesforce Org", "OrganizationType": "Developer Edition",
                "IsSandbox": 0, "InstanceName": "FAKE1", "Country": "US",
                "DefaultLocaleSidKey": "en_US", "LanguageLocaleKey": "en_US",
                "TimeZoneSidKey": "America/Los_Angeles",
            })
            self.person_record_type_id = ""
            for obj in self.schema:
                for record_type in obj.record_types:
                    record_type_id = self.ids.next("012")
                    self._insert_raw("RecordType", {
                        "Id": record_type_id, "Name": record_type.name,
                        "DeveloperName": record_type.developer_name, "SobjectType": obj.name,
                        "IsActive": 1, "IsPersonType": int(record_type.person)})
                    if record_type.person and not self.person_record_type_id:
                        self.person_record_type_id = record_type_id
            self.store.set_meta("admin_id", self.admin_id)
            self.store.set_meta("person_record_type_id", self.person_record_type_id)
            self.store.set_meta("passwords", _encode_passwords(self.passwords))
            self.store.set_meta("initialised", "1")

    def _reload(self) -> None:
        """Pick up a file database written by an earlier run (or, shared, by another process)."""
        self.admin_id = self.store.meta("admin_id")
        self.person_record_type_id = self.store.meta("person_record_type_id")
        if not self.config.shared:
            self.passwords = _decode_passwords(self.store.meta("passwords", ""))
        for obj in self.schema:
            row = self.store.execute(f"SELECT max(Id) FROM {q(obj.name)}").fetchone()
            if row[0]:
                self.ids.resume(self.ids.counter_of(row[0]))
        if self.store.meta("default_country", phones.DEFAULT_COUNTRY) != self.config.default_country:
            self.set_default_country(self.config.default_country, force=True)

    def _insert_raw(self, sobject: str, values: dict) -> None:
        obj = self.schema.get(sobject)
        now = format_datetime(self.clock.now())
        row = Row(self.default_row(obj))
        row.update(CreatedDate=now, LastModifiedDate=now, SystemModstamp=now, IsDeleted=0,
                   CreatedById=self.admin_id, LastModifiedById=self.admin_id)
        row.update(values)
        self._derive_declared(obj, row, None)
        self.store.insert(obj, row)

    # == auth ======================================================================================
    def set_password(self, username: str, password: str, security_token: str = "") -> None:
        with self.lock:
            self.passwords[username.lower()] = password + security_token
            self.store.set_meta("passwords", _encode_passwords(self.passwords))

    def authenticate(self, username: str, password_and_token: str) -> str:
        """The active user's Id for these credentials; None when they are wrong."""
        with self.lock:
            expected = self.passwords.get((username or "").lower())
            if expected is None or not secrets.compare_digest(expected, password_and_token or ""):
                return None
            row = self.store.execute(
                'SELECT Id, IsActive FROM "User" WHERE lower(Username) = ? AND IsDeleted = 0',
                [username.lower()]).fetchone()
            if row is None or not row[1]:
                return None
            return row[0]

    def user_by_username(self, username: str) -> str | None:
        row = self.store.execute(
            'SELECT Id FROM "User" WHERE lower(Username) = ? AND IsDeleted = 0 AND IsActive = 1',
            [(username or "").lower()]).fetchone()
        return row[0] if row else None

    def open_session(self, user_id: str) -> str:
        token = self.org_id[:15] + "!" + secrets.token_urlsafe(48)
        self.sessions[token] = Session(token, user_id, time.monotonic() + self.config.session_lifetime)
        return token

    def session_user(self, token: str | None) -> str:
        """The user behind a bearer token; INVALID_SESSION_ID when missing, unknown or expired."""
        session = self.sessions.get(token or "")
        if session is None or session.expires < time.monotonic():
            if session is not None:
                self.sessions.pop(token, None)
            raise errors.InvalidSessionError()
        return session.user_id

    def expire_sessions(self) -> int:
        """Expire every session (clients must log in again); returns how many there were."""
        n = len(self.sessions)
        self.sessions.clear()
        return n

    def revoke_session(self, token: str | None) -> None:
        """End one session; an unknown token is no error (as OAuth revoke)."""
        self.sessions.pop(token or "", None)

    def oauth_client_secret(self, client_id: str | None) -> str | None:
        """The consumer secret of a registered connected app; None for an unknown one."""
        return self.config.oauth_clients.get(client_id) if client_id else None

    def jwt_certificate(self, client_id: str | None) -> str | None:
        """The PEM that signs the JWT bearer assertions of a connected app, if registered."""
        return self.config.jwt_certificates.get(client_id) if client_id else None

    def register_jwt_certificate(self, client_id: str, certificate_pem: str) -> None:
        """Accept JWT bearer logins for ``client_id`` signed by this certificate (or public key)."""
        if not isinstance(client_id, str) or not client_id or not isinstance(certificate_pem, str) \
                or "-----BEGIN" not in certificate_pem:
            raise errors.InvalidParameterValue("Give 'client_id' and 'certificate' (PEM text)")
        try:
            public_key(certificate_pem)
        except ValueError:
            raise errors.InvalidParameterValue("'certificate' is not a PEM certificate or public key") from None
        self.config.jwt_certificates[client_id] = certificate_pem

    # == requests and limits =======================================================================
    def count_request(self) -> int:
        return self._api.add()

    def log_request(self, entry: RequestLogEntry) -> None:
        self.requests.append(entry)

    def request_log(self, limit: int | None = None) -> list[RequestLogEntry]:
        """The logged requests, oldest first; the newest ``limit`` when given."""
        entries = list(self.requests)
        return entries[-limit:] if limit else entries

    def clear_requests(self) -> None:
        self.requests.clear()

    def limits(self) -> dict:
        remaining = max(self.config.api_limit - self.api_count, 0)
        return {
            "DailyApiRequests": {"Max": self.config.api_limit, "Remaining": remaining},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DataStorageMB": {"Max": 1024, "Remaining": 1024},
            "FileStorageMB": {"Max": 1024, "Remaining": 1024},
            "HourlyTimeBasedWorkflow": {"Max": 1000, "Remaining": 1000},
        }

    # == schema ====================================================================================
    def sobject(self, name: str) -> SObjectDef:
        obj = self.schema.get(name)
        if obj is None:
            raise errors.NotFound("The requested resource does not exist")
        return obj

    def object_for_id(self, record_id: str) -> SObjectDef | None:
        return self.schema.by_prefix(record_id[:3]) if record_id else None

    # == reads =====================================================================================
    def get(self, sobject: str, record_id: str, fields: Iterable[str] | None = None) -> dict:
        obj = self.sobject(sobject)
        with self.lock:
            row = self._existing(obj, record_id, reading=True)
        return self.to_record(obj, row, self._field_list(obj, fields))

    def get_many(self, sobject: str, record_ids: list[str], fields: Iterable[str] | None = None) -> list:
        """Each record in order, None for an id that is missing or deleted (collections' GET)."""
        out = []
        for record_id in record_ids:
            try:
                out.append(self.get(sobject, record_id, fields))
            except (errors.NotFound, errors.EntityIsDeleted):
                out.append(None)
        return out

    def _field_list(self, obj: SObjectDef, fields: Iterable[str] | None) -> list[FieldDef]:
        if fields is None:
            return list(obj.fields.values())
        out = []
        for name in fields:
            name = name.strip()
            if not name:
                continue
            f = obj.field(name)
            if f is None:
                raise errors.InvalidField(f"No such column '{name}' on entity '{obj.name}'. "
                                          "If you are attempting to use a custom field, be sure to "
                                          "append the '__c' after the custom field name. Please "
                                          "reference your WSDL or the describe call for the "
                                          "appropriate names.")
            out.append(f)
        return out

    def to_record(self, obj: SObjectDef, row: dict, fields: list[FieldDef]) -> dict:
        record = {"attributes": {"type": obj.name, "url": self.record_url(obj.name, row["Id"])}}
        for f in fields:
            record[f.name] = to_wire(f, row.get(f.name))
        return record

    @staticmethod
    def record_url(sobject: str, record_id: str) -> str:
        return urls.record_url(sobject, record_id)

    # == writes ====================================================================================
    def create(self, sobject: str, values: dict, user_id: str | None = None, *,
               allow_audit: bool = True) -> str:
        """Insert a record and return its Id.

        Audit fields (CreatedDate, LastModifiedDate, CreatedById, LastModifiedById) may be set on
        create, as with Salesforce's "Set Audit Fields upon Record Creation" permission.
        """
        obj = self.sobject(sobject)
        with self.store.transaction():
            return self._create(obj, values, user_id or self.admin_id, allow_audit)

    def _create(self, obj: SObjectDef, values: dict, user_id: str, allow_audit: bool,
                now: str | None = None, seeding: bool = False) -> str:
        """``now``: the instant to stamp the record with (the clock's now by default);
        ``seeding``: a seed's record, which may be of an object the API only reads. The store
        marks an inserted record with a phone for phone indexing (see ``index_phones``)."""
        if not obj.createable and not seeding:
            raise errors.CannotInsertUpdate(f"entity type cannot be inserted: {obj.label}")
        for hook in self._hooks[obj.name, "check_create"]:
            hook.check(self, obj, values, None)
        given = self._coerce(obj, values, creating=True, allow_audit=allow_audit)
        if now is None:
            now = format_datetime(self.clock.now())
        row = self._new_row(obj, Row(self.default_row(obj)), given, user_id, now)
        self._check_required(obj, row)
        self._check_references(obj, given)
        self._derive(obj, row, given, None)
        if obj.unique_fields:
            self._check_unique(obj, row, None)
        row["Id"] = self.ids.next(obj.key_prefix)
        self.store.insert(obj, row)
        for hook in self._hooks[obj.name, "after_write"]:
            hook.after_write(self, obj, row, given, None, user_id)
        return row["Id"]

    @staticmethod
    def _new_row(obj: SObjectDef, row: dict, given: dict, user_id: str, now: str) -> dict:
        """``row`` (the object's defaults) with the owner, the audit fields and the ``given``
        values of a new record. Each value may be one record's, or a column seed's list."""
        if obj.owned:
            row["OwnerId"] = user_id
        row["CreatedDate"] = row["LastModifiedDate"] = row["SystemModstamp"] = now
        row["CreatedById"] = row["LastModifiedById"] = user_id
        row.update(given)
        if "CreatedDate" in given and "LastModifiedDate" not in given:
            row["LastModifiedDate"] = row["CreatedDate"]
        if "LastModifiedDate" in given:
            row["SystemModstamp"] = row["LastModifiedDate"]
        return row

    def default_row(self, obj: SObjectDef) -> dict:
        """The fields of ``obj`` that have a default, at it (storage form); every other field
        starts null. Shared, so copy it."""
        cached = self._default_rows.get(obj.name)
        if cached is None:
            cached = self._default_rows[obj.name] = {
                f.name: value for f in obj.fields.values() if (value := _default_storage(f)) is not None}
        return cached

    def update(self, sobject: str, record_id: str, values: dict, user_id: str | None = None) -> None:
        obj = self.sobject(sobject)
        with self.store.transaction():
            self._update(obj, self._existing(obj, record_id), values, user_id or self.admin_id)

    def _existing(self, obj: SObjectDef, record_id: str, *, reading: bool = False) -> dict:
        """The live row behind an id in a record URL.

        As Salesforce does, a GET (``reading``) takes a value that is no id for an external id
        (404), and an id of another object as missing; a write refuses the first (MALFORMED_ID).
        """
        full = to18(record_id or "")
        if full is None:
            if reading:
                raise errors.NotFound("Provided external ID field does not exist or is not "
                                      f"accessible: {record_id}")
            raise errors.MalformedId(f"{obj.label} ID: id value of incorrect type: {record_id}")
        if full[:3] != obj.key_prefix:
            raise errors.NotFound("The requested resource does not exist" if reading else
                                  "Provided external ID field does not exist or is not accessible: "
                                  f"{record_id}")
        row = self.store.get(obj, full)
        if row is None:
            raise errors.NotFound("The requested resource does not exist")
        if row["IsDeleted"]:
            raise errors.EntityIsDeleted("entity is deleted")
        return row

    def _update(self, obj: SObjectDef, row: dict, values: dict, user_id: str) -> None:
        for hook in self._hooks[obj.name, "check"]:
            hook.check(self, obj, values, row)
        given = self._coerce(obj, values, creating=False, allow_audit=False)
        new = dict(row)
        new.update(given)
        now = format_datetime(self.clock.now())
        new.update(LastModifiedDate=max(now, row["LastModifiedDate"] or now), SystemModstamp=now,
                   LastModifiedById=user_id)
        self._check_required(obj, new)
        self._check_references(obj, given)
        self._derive(obj, new, given, row)
        self._check_unique(obj, new, row["Id"])
        changes = {k: v for k, v in new.items() if row.get(k) != v}
        self.store.update(obj, row["Id"], changes)
        if any(p.name in changes for p in obj.phone_fields):
            self.index_phones(obj, new)
        for hook in self._hooks[obj.name, "after_write"]:
            hook.after_write(self, obj, new, given, row, user_id)

    def delete(self, sobject: str, record_id: str, user_id: str | None = None) -> None:
        """Soft-delete (to the recycle bin) with Salesforce's cascades.

        Cascades follow the schema's ``cascade_delete`` references (an Account takes its
        Contacts, Opportunities and Cases; any record its Tasks, Events and contact roles);
        other lookups to the record are cleared.
        """
        obj = self.sobject(sobject)
        with self.store.transaction():
            self._remove(obj, record_id, user_id or self.admin_id)

    def _remove(self, obj: SObjectDef, record_id: str, user_id: str) -> str:
        """Delete one live record through every guard; its full Id."""
        row = self._existing(obj, record_id)
        if not obj.createable:
            raise errors.DeleteFailed(f"entity type cannot be deleted: {obj.label}")
        for hook in self._hooks[obj.name, "before_delete"]:
            hook.before_delete(self, obj, row)
        self._delete(obj, row["Id"], format_datetime(self.clock.now()), user_id)
        return row["Id"]

    def transaction(self):
        """All or nothing around several calls (composite requests): an exception inside undoes
        every write made in it."""
        return self.store.transaction()

    # == batches ===================================================================================
    def apply_batch(self, op: str, items: list, all_or_none: bool = False,
                    user_id: str | None = None) -> list[BatchResult]:
        """Create, update or delete many records; one ``BatchResult`` per item, in order.

        ``op`` is one of ``BATCH_OPS``. Items of ``create`` and ``update`` are records as the
        REST API takes them (``attributes.type`` names the sObject; ``update`` items carry
        ``Id``); items of ``delete`` are record ids. Each item goes through the same checks as
        its single-record call. Without ``all_or_none`` each item succeeds or fails alone; with
        it, one failure rolls every item back and the others report
        ALL_OR_NONE_OPERATION_ROLLED_BACK.
        """
        if op not in BATCH_OPS:
            raise errors.InvalidOperation(f"batch operation must be one of {', '.join(BATCH_OPS)}, not {op!r}")
        apply = getattr(self, f"_batch_{op}")
        user = user_id or self.admin_id
        results: list[BatchResult] = []
        store = self.store
        with self.lock, collector_paused():
            try:
                # One transaction for the batch; each item in a savepoint of its own, which costs
                # nothing unless the item runs a statement (see store.py: rows are buffered).
                with store.transaction():
                    for item in items:
                        try:
                            with store.transaction():
                                results.append(BatchResult(apply(item, user)))
                        except errors.SalesforceError as e:
                            results.append(BatchResult(None, e))
                        except Exception as e:  # a bug in the fake: this item is undone, the others stand
                            results.append(BatchResult(None, errors.UnknownException(
                                f"An unexpected error occurred in the fake org: {type(e).__name__}")))
                        store.flush_if_large()
                    if all_or_none and any(r.error for r in results):
                        raise _RolledBack()
            except _RolledBack:
                results = [r if r.error else BatchResult(None, errors.AllOrNoneRolledBack())
                           for r in results]
        return results

    def _batch_sobject(self, record) -> SObjectDef:
        if not isinstance(record, dict):
            raise errors.JsonParserError("Each record must be a JSON object")
        attributes = record.get("attributes")
        sobject = attributes.get("type") if isinstance(attributes, dict) else None
        if not sobject or not isinstance(sobject, str):
            raise errors.InvalidType("Each record needs attributes.type (its sObject name)")
        return self.sobject(sobject)

    def _batch_create(self, record, user_id: str) -> str:
        obj = self._batch_sobject(record)
        if record.get("Id") or record.get("id"):
            raise errors.InvalidFieldForInsertUpdate("Records in a create request cannot have an Id", ["Id"])
        return self._create(obj, record, user_id, True)

    def _batch_update(self, record, user_id: str) -> str:
        obj = self._batch_sobject(record)
        record_id = record.get("Id") or record.get("id")
        if not record_id:
            raise errors.MalformedId("Each record of an update needs its Id", ["Id"])
        row = self._existing(obj, record_id)
        self._update(obj, row, {k: v for k, v in record.items() if k.lower() != "id"}, user_id)
        return row["Id"]

    def _batch_delete(self, record_id, user_id: str) -> str:
        obj = self.object_for_id(record_id) if isinstance(record_id, str) else None
        if obj is None:
            raise errors.MalformedId(f"invalid record id: {record_id}")
        return self._remove(obj, record_id, user_id)

    def _delete(self, obj: SObjectDef, record_id: str, now: str, user_id: str) -> None:
        self.store.update(obj, record_id, {"IsDeleted": 1, "_DeletedDate": now,
                                           "LastModifiedById": user_id, "SystemModstamp": now})
        self.store.execute("DELETE FROM _phone WHERE id = ?", [record_id])
        for other in self.schema:
            for f in other.fields.values():
                if f.type != "reference" or f.system or obj.name not in f.reference_to:
                    continue
                ids = [r[0] for r in self.store.execute(
                    f"SELECT Id FROM {q(other.name)} WHERE {q(f.name)} = ? AND IsDeleted = 0",
                    [record_id])]
                if not ids:
                    continue
                for child_id in ids:
                    if f.cascade_delete:
                        self._delete(other, child_id, now, user_id)
                    elif not f.derived:
                        self.store.update(other, child_id, {f.name: None})

    # -- validation -------------------------------------------------------------------------------
    def _coerce(self, obj: SObjectDef, values: dict, *, creating: bool, allow_audit: bool) -> dict:
        """The storage form of a written record's values, by field name, each checked as its
        field's type says; the first bad value raises its error."""
        if not isinstance(values, dict):
            raise errors.JsonParserError("Expected a JSON object of field values")
        rules = self._write_rules.get((obj.name, creating, allow_audit))
        if rules is None:
            rules = self._write_rules[(obj.name, creating, allow_audit)] = {}
        out = {}
        for key, value in values.items():
            rule = rules.get(key)
            if rule is None:
                if key == "attributes":
                    continue
                rule = self._write_rule(obj, key, creating, allow_audit)
                if rule[0].name == key:   # cached under the exact spelling only: a bounded cache
                    rules[key] = rule
            f, convert = rule
            if convert is None:
                if f.name == "Id" and not creating and to18(str(value)) is not None:
                    continue
                raise errors.InvalidFieldForInsertUpdate(
                    f"Unable to create/update fields: {f.name}. Please check the security settings "
                    "of this field and verify that it is read/write for your profile or permission set.",
                    [f.name])
            stored = convert(value)
            if stored is None and f.required:
                raise errors.RequiredFieldMissing(f"Required fields are missing: [{f.name}]", [f.name])
            out[f.name] = stored
        return out

    @staticmethod
    def _write_rule(obj: SObjectDef, key, creating: bool, allow_audit: bool) -> tuple:
        """The field a key of a written record names, and the function that makes a value of it
        its storage form (None when this write may not set the field)."""
        f = obj.field(key) if isinstance(key, str) else None
        if f is None:
            raise errors.InvalidField(f"No such column '{key}' on sobject of type {obj.name}", [key])
        allowed = f.createable if creating else f.updateable
        if creating and allow_audit and f.name in AUDIT_FIELDS:
            allowed = True
        return f, storage_converter(f) if allowed else None

    def _check_required(self, obj: SObjectDef, row: dict) -> None:
        missing = [name for name in obj.required_fields if row.get(name) in (None, "")]
        for hook in self._hooks[obj.name, "required"]:
            missing += hook.required(self, obj, row)
        if missing:
            raise errors.RequiredFieldMissing(f"Required fields are missing: [{', '.join(missing)}]",
                                              missing)

    def _reference_names(self, obj: SObjectDef) -> frozenset:
        """The names of ``obj``'s reference fields (worked out once per object)."""
        references = self._references.get(obj.name)
        if references is None:
            references = self._references[obj.name] = frozenset(
                f.name for f in obj.fields.values() if f.type == "reference")
        return references

    def _check_references(self, obj: SObjectDef, given: dict) -> None:
        references = self._reference_names(obj)
        if references.isdisjoint(given):
            return
        for name, value in given.items():
            if value is None or name not in references:
                continue
            f = obj.fields[name]
            target = self.object_for_id(value)
            if target is None or target.name not in f.reference_to:
                raise errors.FieldIntegrityException(
                    f"field integrity exception: {f.name} (id value of incorrect type: {value})",
                    [f.name])
            row = self.store.get(target, value)
            if row is None or row["IsDeleted"]:
                raise errors.InvalidCrossReferenceKey("invalid cross reference id", [f.name])
            for hook in self._hooks[target.name, "referenced"]:
                hook.referenced(self, target, row, f)

    def _check_unique(self, obj: SObjectDef, row: dict, own_id: str | None) -> None:
        for f in obj.unique_fields:
            if row.get(f.name) is None:
                continue
            clash = [i for i in self.store.find(obj, f.name, row[f.name]) if i != own_id]
            if clash:
                raise errors.DuplicateValue(
                    f"duplicate value found: {f.name} duplicates value on record with id: {clash[0]}",
                    [f.name])

    # -- derived fields ---------------------------------------------------------------------------
    def _derive(self, obj: SObjectDef, row: dict, given: dict, old: dict | None) -> None:
        self._derive_declared(obj, row, old)
        for hook in self._hooks[obj.name, "derive"]:
            hook.derive(self, obj, row, given, old)

    @staticmethod
    def _derive_declared(obj: SObjectDef, row: dict, old: dict | None) -> None:
        """The fields the schema derives: composed names, closed-state flags and their stamps."""
        for f in obj.derived_by_schema:
            if f.compose:
                row[f.name] = " ".join(filter(None, map(row.get, f.compose))) or None
            elif f.true_when:
                row[f.name] = int(all(row.get(k) in values for k, values in f.true_when.items()))
            elif row.get(f.stamped_when):
                if not (old or {}).get(f.stamped_when):
                    row[f.name] = row["LastModifiedDate"]
            else:
                row[f.name] = None

    def row_of(self, record_id: str | None) -> tuple[SObjectDef, dict] | None:
        """The object and stored row (live or deleted) behind any id; None when there is none."""
        if not record_id:
            return None
        obj = self.object_for_id(record_id)
        if obj is None:
            return None
        row = self.store.get(obj, record_id)
        return (obj, row) if row is not None else None

    def index_phones(self, obj: SObjectDef, row: dict, fresh: bool = False) -> None:
        """Mark the record's phone keys for (re)computing before the next phone search
        (``fresh``: a new record, with no keys yet, and none when it has no phone). A record
        inserted with a phone is marked by the store itself, except in a seed (see
        ``Store.phone_marks_paused``)."""
        for f in obj.phone_fields:
            if not fresh or row.get(f.name):
                self.store.phones_changed(obj, row["Id"])
                return

    def _index_pending_phones(self) -> None:
        """Work out the digit keys of every record whose phones changed since the last phone
        search: parsing numbers costs more than storing a record, so creates and updates leave
        it to the first search that needs it (a record deleted meanwhile gets none)."""
        if not self.store.pending_phones():
            return
        region = self.config.default_country
        keys = []
        with self.store.transaction():
            for obj in self.schema:
                if not obj.phone_fields:
                    continue
                names = [f.name for f in obj.phone_fields]
                rows = self.store.execute(
                    f"SELECT Id, {', '.join(map(q, names))} FROM {q(obj.name)} WHERE IsDeleted = 0 "
                    f"AND Id IN (SELECT id FROM {PHONE_PENDING_TABLE} WHERE sobject = ?)", [obj.name])
                keys += [(k, obj.name, row[0], name) for row in rows
                         for name, value in zip(names, row[1:]) if value
                         for k in sorted(phones.stored_keys(value, region))]
            self.store.replace_phone_keys(keys)

    def set_default_country(self, country: str, force: bool = False) -> None:
        """Read phone numbers typed without ``+`` in ``country`` from now on: every stored
        number is indexed again (INVALID_PARAMETER_VALUE for a code that is no country)."""
        country = _checked_country(country)
        with self.lock:
            if country == self.config.default_country and not force:
                return
            self.config.default_country = country
            with self.store.transaction():
                self.store.execute(f"DELETE FROM {PHONE_TABLE}")
                for obj in self.schema:
                    if obj.phone_fields:
                        self.store.all_phones_changed(obj)
                self.store.set_meta("default_country", country)

    # == bulk seeding ==============================================================================
    def seed(self, records: list[dict], user_id: str | None = None) -> list[str]:
        """Create many records at once, all or nothing; each item is ``{"sobject", "fields"}``.

        Items may name earlier items of the same batch with ``"@N"`` (N = its index) in a
        reference field. A User item may carry ``password`` (and ``security_token``) so it can
        log in. Audit fields may be set, as on create; those not set are the instant the seed
        began, the same for every record of it (creation order is still the order of their ids).
        Each record is checked as a create checks it; an error names the record. Unlike create,
        seed also makes records of the objects the API only reads (Dashboard, RecordType,
        ProcessInstance and its workitems), which a real org gets from its setup and its
        processes.
        """
        if not isinstance(records, list):
            raise errors.JsonParserError("'records' must be a list of {sobject, fields} objects")
        user = user_id or self.admin_id
        ids: list[str] = []
        kinds: dict[str, tuple[SObjectDef, bool]] = {}   # sobject as written -> (object, person account)
        created: dict[str, list[str]] = {}   # object -> the first and last Id this seed gave it
        passwords: dict[str, str] = {}       # kept once the whole seed is written
        with self.store.transaction(), collector_paused(), self.store.phone_marks_paused():
            now = format_datetime(self.clock.now())
            for start, end, fields in _seed_runs(records):
                if fields is not None:
                    sobject = records[start]["sobject"]
                    obj = self.schema.get(sobject) if sobject != "PersonAccount" else None
                    new_ids = self._seed_columns(obj, fields, start, ids, user, now) if obj else None
                    if new_ids is not None:
                        ids += new_ids
                        created.setdefault(obj.name, [new_ids[0], None])[1] = new_ids[-1]
                        continue
                for i in range(start, end):
                    self._seed_one(i, records[i], kinds, ids, created, passwords, user, now)
            for name, (first, last) in created.items():
                # ids of one object grow as text too: the seed's records are those between its first and last
                self.store.phones_changed_between(self.schema.get(name), first, last)
            for username, password in passwords.items():
                self.passwords[username] = password
            self.store.set_meta("passwords", _encode_passwords(self.passwords))
        return ids

    def _seed_one(self, i: int, item, kinds: dict, ids: list[str], created: dict, passwords: dict,
                  user: str, now: str) -> None:
        """Seed item ``i`` of a batch on its own, as a create."""
        if not isinstance(item, dict) or not isinstance(fields := item.get("fields", {}), dict):
            raise errors.JsonParserError(f"records[{i}]: expected {{sobject, fields}}")
        sobject = item.get("sobject")
        kind = kinds.get(sobject) if isinstance(sobject, str) else None
        if kind is None:
            kind = kinds[sobject] = self._seed_kind(i, sobject)
        if not item.keys() <= _SEED_ITEM_KEYS:
            unknown = [k for k in item if k not in SEED_ITEM_KEYS]
            raise errors.JsonParserError(
                f"records[{i}] ({sobject}): unknown key {unknown[0]!r}; a record has "
                f"{', '.join(SEED_ITEM_KEYS)} (field values go under 'fields:')")
        obj, person = kind
        if item.get("password") is not None and "Username" not in obj.fields:
            raise errors.JsonParserError(f"records[{i}] ({sobject}): only a User has a 'password'")
        values = fields
        for value in fields.values():
            if value.__class__ is str and value[:1] == "@":
                values = self._seed_references(i, sobject, obj, fields, ids)
                break
        if person:
            sobject = "Account"
            values = {**values, "RecordTypeId": self.person_record_type_id}
        try:
            new_id = self._create(obj, values, user, True, now, seeding=True)
        except errors.SalesforceError as e:
            e.message = f"records[{i}] ({sobject}): {e.message}"
            raise
        ids.append(new_id)
        created.setdefault(obj.name, [new_id, None])[1] = new_id
        self.store.flush_if_large(SEED_FLUSH_ROWS)
        if item.get("password") is not None:  # a User (others were refused above)
            username = self.store.get(obj, new_id)["Username"]
            passwords[username.lower()] = str(item["password"]) + str(item.get("security_token", ""))

    def _seed_columns(self, obj: SObjectDef, fields: list[dict], start: int, ids: list[str], user: str,
                      now: str) -> list[str] | None:
        """Seed items ``start``, ``start + 1``, ... of a batch, records of ``obj`` that give the
        same fields (``fields``), a column at a time: each field's values checked at once
        (``storage_column``), the references as a set, the rows built column by column and
        written in one statement. Their ids; None, with nothing written and no id taken, when
        a value fails its check or the records need what only a create one by one does
        (behaviours that derive or write, unique fields): the caller then seeds them one by
        one, which names the exact record and field as it always has."""
        hooks = self._hooks
        if any(hooks[obj.name, hook] for hook in ("required", "derive", "after_write")):
            return None
        n = len(fields)
        new_ids = self.ids.upcoming(obj.key_prefix, n)
        rules = self._write_rules.setdefault((obj.name, True, True), {})
        given: dict[str, list] = {}
        resolved: dict[str, list] = {}   # by field: the values with the "@N" of earlier items replaced
        try:
            for key in fields[0]:
                rule = rules.get(key)
                if rule is None:
                    if key == "attributes":
                        continue
                    rule = self._write_rule(obj, key, True, True)
                    if rule[0].name == key:
                        rules[key] = rule
                f, convert = rule
                if convert is None or f.name in given:
                    return None
                values = list(map(itemgetter(key), fields))
                if _marked(values):
                    if f.type != "reference":
                        return None
                    values = resolved[key] = _seed_earlier(values, start, ids, new_ids)
                    if values is None:
                        return None
                stored = given[f.name] = storage_column(f, convert, values)
                if f.required and None in stored:
                    return None
            if not self._seed_references_exist(obj, given, new_ids) or not self._seed_unique(obj, given):
                return None
            checks = hooks[obj.name, "check_create"]
            if checks:
                items = fields if not resolved else [
                    {**item, **dict(zip(resolved, values))} for item, values in zip(fields, zip(*resolved.values()))]
                for hook in checks:
                    for item in items:
                        hook.check(self, obj, item, None)
        except errors.SalesforceError:
            return None
        cols = self._new_row(obj, dict(self.default_row(obj)), given, user, now)
        for name in obj.required_fields:
            value = cols.get(name)
            if (None in value or "" in value) if type(value) is list else value in (None, ""):
                return None
        for f in obj.derived_by_schema:
            cols[f.name] = _derived_column(f, cols)
        cols["Id"] = new_ids
        names = tuple(name for name, value in cols.items() if type(value) is list)
        same = {name: value for name, value in cols.items() if type(value) is not list and value is not None}
        rows = list(zip(*map(cols.get, names)))
        self.ids.take(n)
        self.store.insert_rows(obj, names, rows, same)
        return new_ids

    def _seed_references_exist(self, obj: SObjectDef, given: dict[str, list], new_ids: list[str]) -> bool:
        """Whether every reference of a column seed names a live record of an object its field
        points to, and no behaviour of that object refuses it (``new_ids``: the seed's own
        records, whose rows are still to be written)."""
        references = self._reference_names(obj)
        own = None
        for name in references.intersection(given):
            f = obj.fields[name]
            targets: dict[str, list[str]] = {}
            for value in set(given[name]):
                if value is None:
                    continue
                target = self.object_for_id(value)
                if target is None or target.name not in f.reference_to:
                    return False
                targets.setdefault(target.name, []).append(value)
            for target_name, values in targets.items():
                target = self.schema.get(target_name)
                if target is obj:   # records of the run itself: each may name one before it
                    own = {v: i for i, v in enumerate(new_ids)} if own is None else own
                    values = [v for v in values if v not in own]
                    if len(values) < len(targets[target_name]) and (
                            self._hooks[obj.name, "referenced"]
                            or any(own.get(v, -1) >= i for i, v in enumerate(given[name]))):
                        return False
                if self._hooks[target.name, "referenced"]:
                    for value in values:
                        row = self.store.get(target, value)
                        if row is None or row["IsDeleted"]:
                            return False
                        for hook in self._hooks[target.name, "referenced"]:
                            hook.referenced(self, target, row, f)
                elif values and len(self.store.live_ids(target, values)) < len(values):
                    return False
        return True

    def _seed_unique(self, obj: SObjectDef, given: dict[str, list]) -> bool:
        """Whether the values of each unique field of a column seed differ from each other and
        from those of the live records (text compared case-insensitively, as SQLite's NOCASE
        compares it: ASCII letters only)."""
        for f in obj.unique_fields:
            if f.name not in given:
                if self.default_row(obj).get(f.name) is not None:
                    return False   # every record would have the same value
                continue
            values = [value for value in given[f.name] if value is not None]
            if not values:
                continue
            kinds = set(map(type, values))
            if kinds == {str}:
                distinct = set(map(str.translate, values, repeat(_ASCII_LOWER)))
            elif str not in kinds:
                distinct = set(values)
            else:
                return False
            if len(distinct) < len(values) or self.store.any_live(obj, f.name, values):
                return False
        return True

    def _seed_kind(self, i: int, sobject) -> tuple[SObjectDef, bool]:
        """The object a seed item names, and whether it is a person account."""
        if not isinstance(sobject, str) or self.schema.get(sobject) is None and sobject != "PersonAccount":
            raise errors.InvalidType(f"records[{i}]: sObject type '{sobject}' is not supported.")
        if sobject == "PersonAccount":
            return self.schema.get("Account"), True
        return self.schema.get(sobject), False

    @staticmethod
    def _seed_references(i: int, sobject: str, obj: SObjectDef, fields: dict, ids: list[str]) -> dict:
        """A seed item's values with each ``"@N"`` replaced by the Id of item N of the batch."""
        values = {}
        for k, v in fields.items():
            if isinstance(v, str) and v[:1] == "@" and v[1:].isdigit():
                if int(v[1:]) < len(ids):
                    v = ids[int(v[1:])]
                elif getattr(obj.field(str(k)), "type", None) == "reference":
                    raise errors.MalformedId(f"records[{i}] ({sobject}): {k}: {v!r} must name "
                                             "an earlier record of the batch", [k])
            values[k] = v
        return values

    # == external ids ==============================================================================
    def _external_field(self, obj: SObjectDef, field_name: str) -> FieldDef:
        f = obj.field(field_name)
        if f is None or not (f.external_id or f.name == "Id" or f.unique):
            raise errors.NotFound(f"Provided external ID field does not exist or is not accessible: "
                                  f"{field_name}")
        return f

    def find_by_external(self, sobject: str, field_name: str, value: str) -> list[str]:
        obj = self.sobject(sobject)
        f = self._external_field(obj, field_name)
        with self.lock:
            if f.name == "Id":
                full = to18(value)
                return [full] if full and self.store.get(obj, full) else []
            return self.store.find(obj, f.name, to_storage(f, value))

    def one_by_external_id(self, sobject: str, field_name: str, value: str) -> str:
        """The one record whose external id ``field_name`` is ``value``: NOT_FOUND when there is
        none, a 300 with their URLs when there are several."""
        ids = self.find_by_external(sobject, field_name, value)
        if not ids:
            raise errors.NotFound("The requested resource does not exist")
        if len(ids) > 1:
            raise errors.MoreThanOneRecord([self.record_url(self.sobject(sobject).name, i) for i in ids])
        return ids[0]

    def upsert(self, sobject: str, field_name: str, value: str, values: dict,
               user_id: str | None = None) -> tuple[str, bool]:
        """Create or update by external id; returns (id, created). By ``Id``, the record must
        exist: a malformed id is MALFORMED_ID, an unknown one NOT_FOUND (a new record cannot take
        the id given; ``POST sobjects/{type}/Id`` creates one)."""
        obj = self.sobject(sobject)
        f = self._external_field(obj, field_name)
        with self.store.transaction():
            matches = self.find_by_external(sobject, field_name, value)
            if f.name == "Id" and not matches:
                if to18(value) is None:
                    raise errors.MalformedId(f"{obj.name} ID: id value of incorrect type: {value}", ["Id"])
                raise errors.NotFound("The requested resource does not exist")
            if len(matches) > 1:
                raise errors.MoreThanOneRecord([self.record_url(obj.name, i) for i in matches])
            if matches:
                body = {k: v for k, v in values.items() if k.lower() != f.name.lower()}
                self._update(obj, self._existing(obj, matches[0]), body, user_id or self.admin_id)
                return matches[0], False
            body = dict(values)
            if f.name != "Id":
                body[f.name] = value
            return self._create(obj, body, user_id or self.admin_id, False), True

    # == describe ==================================================================================
    def describe_global(self) -> dict:
        return {
            "encoding": "UTF-8",
            "maxBatchSize": 200,
            "sobjects": [self._sobject_summary(o) for o in self.schema],
        }

    def _sobject_summary(self, obj: SObjectDef) -> dict:
        return {
            "name": obj.name, "label": obj.label, "labelPlural": obj.label_plural,
            "keyPrefix": obj.key_prefix, "custom": obj.name.endswith("__c"),
            "createable": obj.createable, "updateable": obj.createable, "deletable": obj.createable,
            "queryable": True, "searchable": obj.searchable,
            "retrieveable": True, "layoutable": True,
            "urls": urls.sobject_urls(obj.name),
        }

    def describe(self, sobject: str) -> dict:
        obj = self.sobject(sobject)
        out = self._sobject_summary(obj)
        fields = []
        for f in obj.fields.values():
            d = f.describe()
            d["nameField"] = f.name == obj.name_field
            fields.append(d)
        out["fields"] = fields
        out["childRelationships"] = [
            {"childSObject": c.child, "field": c.field, "relationshipName": c.name,
             "cascadeDelete": self.schema.get(c.child).fields[c.field].cascade_delete}
            for c in obj.children.values()
        ]
        out["recordTypeInfos"] = self._record_types(obj.name)
        out["supportedScopes"] = supported_scopes(obj)
        return out

    def _record_types(self, sobject: str) -> list[dict]:
        """The object's record types. Where Salesforce lists a Master record type too, the fake
        does not."""
        defaults = {r.developer_name for r in self.sobject(sobject).record_types if r.default}
        rows = self.store.execute(
            'SELECT Id, Name, DeveloperName FROM "RecordType" WHERE SobjectType = ? AND IsDeleted = 0',
            [sobject]).fetchall()
        return [{"recordTypeId": r[0], "name": r[1], "developerName": r[2], "active": True,
                 "available": True, "defaultRecordTypeMapping": r[2] in defaults,
                 "master": False} for r in rows]

    def metadata(self, sobject: str) -> dict:
        obj = self.sobject(sobject)
        with self.lock:
            rows = self.store.execute(
                f"SELECT Id, {q(obj.name_field) if obj.name_field else 'Id'} FROM {q(obj.name)} "
                "WHERE IsDeleted = 0 ORDER BY LastModifiedDate DESC, Id DESC LIMIT 10").fetchall()
        recent = [{"attributes": {"type": obj.name, "url": self.record_url(obj.name, r[0])},
                   "Id": r[0], **({obj.name_field: r[1]} if obj.name_field else {})} for r in rows]
        return {"objectDescribe": self._sobject_summary(obj), "recentItems": recent}

    # == replication ===============================================================================
    def _window(self, start: str, end: str) -> tuple[str, str]:
        try:
            s, e = parse_datetime(start), parse_datetime(end)
        except (TypeError, ValueError):
            raise errors.InvalidReplicationDate("start and end must be ISO-8601 datetimes") from None
        if e <= s:   # Salesforce: startDate must precede endDate, not equal it
            raise errors.InvalidReplicationDate("start must be before end")
        if e - s > timedelta(days=30):
            raise errors.InvalidReplicationDate("the replication window cannot exceed 30 days")
        return format_datetime(s), format_datetime(e)

    def updated(self, sobject: str, start: str, end: str) -> dict:
        obj = self.sobject(sobject)
        s, e = self._window(start, end)
        with self.lock:
            ids = [r[0] for r in self.store.execute(
                f"SELECT Id FROM {q(obj.name)} WHERE IsDeleted = 0 AND SystemModstamp >= ? "
                "AND SystemModstamp <= ? ORDER BY SystemModstamp, Id", [s, e])]
        return {"ids": ids, "latestDateCovered": e}

    def deleted(self, sobject: str, start: str, end: str) -> dict:
        obj = self.sobject(sobject)
        s, e = self._window(start, end)
        with self.lock:
            rows = self.store.execute(
                f"SELECT Id, _DeletedDate FROM {q(obj.name)} WHERE IsDeleted = 1 AND _DeletedDate >= ? "
                "AND _DeletedDate <= ? ORDER BY _DeletedDate, Id", [s, e]).fetchall()
        return {"deletedRecords": [{"id": r[0], "deletedDate": r[1]} for r in rows],
                "earliestDateAvailable": s, "latestDateCovered": e}

    # == query and search =========================================================================
    @property
    def ordering(self) -> Ordering:
        """The order of rows a query without ORDER BY gets (``OrgConfig.order``)."""
        return Ordering(self.config.order, self.config.seed)

    def query(self, text: str, include_deleted: bool = False, batch_size: int = 2000,
              user_id: str | None = None, api_version: str | None = None) -> dict:
        """Run SOQL as ``user_id`` (the admin by default), at ``api_version`` (``v52.0``; the
        fake's own by default); the first page of the answer (see ``soql/``)."""
        with self.lock:
            return run_query(self.store, self.schema, self.cursors, text, now=self.clock.now(),
                             order=self.ordering, include_deleted=include_deleted,
                             batch_size=batch_size, user_id=user_id or self.admin_id,
                             fiscal_start_month=self.config.fiscal_year_start_month,
                             api_version=api_version)

    def query_columns(self, text: str) -> dict:
        """The column metadata of a query (``query?columns=true``); the query is checked by
        running it once, so a bad query fails as it would when run."""
        from .soql.columns import column_metadata

        self.query(text, batch_size=200)
        return column_metadata(self, text)

    def recent(self, limit: int = 200) -> list[dict]:
        """``GET /recent``: the fake has no "viewed" log, so the most recently modified records
        across objects stand in for the most recently viewed."""
        rows = []
        with self.lock:
            for obj in self.schema:
                if not obj.createable:  # setup objects (Organization, RecordType) are never "recent"
                    continue
                name = q(obj.name_field) if obj.name_field else "NULL"
                rows += [(r[2], obj, r[0], r[1]) for r in self.store.execute(
                    f"SELECT Id, {name}, LastModifiedDate FROM {q(obj.name)} WHERE IsDeleted = 0 "
                    "ORDER BY LastModifiedDate DESC, Id DESC LIMIT ?", [limit])]
        rows.sort(key=lambda r: (r[0], r[2]), reverse=True)
        return [{"attributes": {"type": obj.name, "url": self.record_url(obj.name, record_id)},
                 "Id": record_id, "Name": name} for _, obj, record_id, name in rows[:limit]]

    def query_more(self, locator: str) -> dict:
        """A later page of a query, by the locator in its ``nextRecordsUrl``."""
        with self.lock:
            return query_more(self.store, self.schema, self.cursors, locator)

    def search(self, text: str) -> dict:
        """Run SOSL (see ``sosl/``)."""
        with self.lock:
            self._index_pending_phones()
            return run_search(self.store, self.schema, text, now=self.clock.now(),
                              order=self.ordering, region=self.config.default_country,
                              fiscal_start_month=self.config.fiscal_year_start_month)

    # == the control API (the fake's own, not Salesforce's) ========================================
    def counts(self) -> dict:
        with self.lock:
            return {o.name: self.store.count(o) for o in self.schema}

    def info(self) -> dict:
        return {"org_id": self.org_id, "admin_id": self.admin_id,
                "person_account_record_type_id": self.person_record_type_id,
                "username": self.config.username, "order": self.config.order,
                "default_country": self.config.default_country,
                "api_requests": self.api_count, "clock": self.clock_state(), "counts": self.counts()}

    def clock_state(self) -> dict:
        return {"now": format_datetime(self.clock.now()), "frozen": self.clock.frozen}

    def set_clock(self, now: datetime | None = None, advance: float | None = None,
                  frozen: bool | None = None) -> dict:
        """Freeze the clock at ``now``, move it on by ``advance`` seconds, and/or return to
        wall-clock time (``frozen=False``); the clock's state after."""
        if advance is not None and (isinstance(advance, bool) or not isinstance(advance, (int, float))
                                    or not 0 <= advance < math.inf):
            raise errors.InvalidParameterValue("'advance' must be a non-negative number of seconds",
                                               ["advance"])
        if now is not None or advance is not None:   # refused before anything moves
            start = now if now is not None else self.clock.now()
            try:
                _check_instant(start + timedelta(seconds=advance or 0), "advance" if advance else "now")
            except OverflowError:
                _check_instant(None, "advance")
        if now is not None:
            self.clock.set(now)
        if advance is not None:
            self.clock.advance(advance)
        if frozen is False:
            self.clock.unfreeze()
        return self.clock_state()


FIRST_INSTANT = datetime(1700, 1, 1, tzinfo=timezone.utc)   # Salesforce's range of datetimes
LAST_INSTANT = datetime(4000, 12, 31, tzinfo=timezone.utc)


def _check_instant(when: datetime | None, key: str) -> None:
    """INVALID_PARAMETER_VALUE for a clock instant outside the datetimes Salesforce holds
    (``None``: one past any datetime Python holds)."""
    if when is None or not FIRST_INSTANT <= when <= LAST_INSTANT:
        raise errors.InvalidParameterValue(
            f"'{key}' would put the clock outside Salesforce's datetimes (1700-01-01 to 4000-12-31)", [key])


def _default_storage(f: FieldDef):
    if f.default is None:
        return None
    return to_storage(f, f.default)


def _encode_passwords(passwords: dict[str, str]) -> str:
    return json.dumps(dict(passwords))


def _decode_passwords(text: str) -> dict[str, str]:
    return json.loads(text) if text else {}


def _checked_country(value) -> str:
    try:
        return phones.check_country(value)
    except ValueError as e:
        raise errors.InvalidParameterValue(f"'default_country': {e}", ["default_country"]) from None


# == seeding a column at a time (see Org.seed) =====================================================
def _seed_runs(records: list) -> list[tuple[int, int, list[dict] | None]]:
    """A seed batch cut into runs of consecutive items: (start, end, the items' field values)
    for a run that may be seeded a column at a time (at least SEED_COLUMN_RUN items naming the
    same sObject, giving the same fields and nothing else), (start, end, None) for one to seed
    item by item (any batch with an item that is no {sobject, fields} object is one such run)."""
    n = len(records)
    if n < SEED_COLUMN_RUN or set(map(type, records)) != {dict}:
        return [(0, n, None)]
    fields = list(map(dict.get, records, repeat("fields"), repeat(_NO_FIELDS)))
    if set(map(type, fields)) != {dict}:
        return [(0, n, None)]
    sobject = records[0].get("sobject")
    if all(map(_SEED_COLUMN_ITEM_KEYS.issuperset, records)) and all(map(fields[0].keys().__eq__, map(dict.keys, fields))) \
            and all(map(eq, map(dict.get, records, repeat("sobject")), repeat(sobject))):   # one run
        return [(0, n, fields if isinstance(sobject, str) else None)]
    sobjects = list(map(dict.get, records, repeat("sobject")))
    plain = list(map(_SEED_COLUMN_ITEM_KEYS.issuperset, records))
    keys = list(map(dict.keys, fields))
    changed = map(or_, map(ne, sobjects[1:], sobjects[:-1]),
                  map(or_, map(ne, keys[1:], keys[:-1]), map(ne, plain[1:], plain[:-1])))
    cuts = [0, *compress(range(1, n), changed), n]
    return [(a, b, fields[a:b] if b - a >= SEED_COLUMN_RUN and plain[a] and isinstance(sobjects[a], str)
             else None) for a, b in zip(cuts, cuts[1:])]


def _marked(values: list) -> bool:
    """Whether a column has a string starting with "@" (an item of the batch, or a mistake)."""
    try:
        return any(map(str.startswith, values, repeat("@")))
    except TypeError:   # not all strings
        return any(value.__class__ is str and value[:1] == "@" for value in values)


def _seed_earlier(values: list, start: int, ids: list[str], new_ids: list[str]) -> list | None:
    """A reference column of the items from ``start`` with each "@N" replaced by the Id of item N
    (``ids``: of the items before ``start``; ``new_ids``: from ``start``); None when one names
    an item at or after its own (an error the item-by-item seed names)."""
    out = []
    for i, value in enumerate(values, start):
        if value.__class__ is str and value[:1] == "@" and value[1:].isdigit():
            try:
                n = int(value[1:])
            except ValueError:
                return None
            if n >= i:
                return None
            value = ids[n] if n < start else new_ids[n - start]
        out.append(value)
    return out


def _column(value):
    """A column seed's values of one field: the list, or its one value for every row."""
    return value if type(value) is list else repeat(value)


def _derived_column(f: FieldDef, cols: dict):
    """A field the schema derives (as Org._derive_declared sets it on a new record) for the rows
    of a column seed: a list, or one value for every row."""
    if f.compose:
        parts = [part for part in map(cols.get, f.compose) if type(part) is list or part]
        if all(part.__class__ is str or type(part) is list and all(part) and set(map(type, part)) == {str}
               for part in parts):   # every name part a non-empty text: no part to leave out
            if not any(type(part) is list for part in parts):
                return " ".join(parts) or None
            return list(map(" ".join, zip(*map(_column, parts))))
    if f.compose or f.true_when:
        parts = [cols.get(name) for name in (f.compose or f.true_when)]
        if f.compose:
            def derive(values):
                return " ".join(filter(None, values)) or None
        else:
            allowed = list(f.true_when.values())

            def derive(values):
                return int(all(map(contains, allowed, values)))
        if not any(type(part) is list for part in parts):
            return derive(parts)
        return list(map(derive, zip(*map(_column, parts))))
    flag, stamp = cols.get(f.stamped_when), cols["LastModifiedDate"]
    if type(flag) is not list:
        return stamp if flag else None
    return [s if on else None for on, s in zip(flag, _column(stamp))]
