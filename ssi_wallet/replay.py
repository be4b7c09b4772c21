"""Single-use nonces: a verifier accepts an answer only to a request it made, and only once.

:meth:`~ssi_wallet.verifier.Verifier.request` records each request it makes
in a :class:`ReplayStore`: its nonce, the digest of the whole request
(:func:`request_digest`) and its expiry. :meth:`~ssi_wallet.verifier.Verifier.check`
then *consumes* the nonce, in one transaction, or refuses with a
:class:`ReplayError` whose ``code`` is one of:

``nonce_unknown``
    this verifier never issued the nonce (or has forgotten it: a request
    long expired, or pushed out of a full :class:`MemoryReplayStore`). A
    forgotten nonce is refused, never accepted.
``request_altered``
    the request differs from the one issued with that nonce (its expiry
    pushed back, its query or audience edited, ...). The nonce stays
    unused: the holder's genuine answer can still be checked.
``replayed``
    the nonce was consumed before: a presentation is accepted once.
``request_expired``
    the expiry recorded when the request was made has passed.

The stores:

* :class:`MemoryReplayStore`: one process, bounded, expiring (the default);
* :class:`LedgerReplayStore`: the table ``verifier_nonces`` in the ledger's
  own database (a SQLite file or a PostgreSQL schema), written through the
  ledger store's write transaction: it survives restarts and is shared by
  every process that opens that ledger (the :class:`~ssi_wallet.Verifier`
  default when its trust registry is a writable SQL ledger);
* :class:`SQLiteReplayStore`: the same table in a file of the verifier's
  own (laid out as a ledger store whose log stays empty, so it may also be
  the ledger's file), for a verifier that opens the ledger read-only (the
  command line's ``--state``);
* :class:`UnsafeStatelessRequests`: records nothing and accepts any nonce;
  only the request's own expiry and the presentation's binding to it are
  checked. An explicit opt-out, for tests and for callers that keep nonces
  themselves.

Times are Unix seconds, passed in by the caller (the verifier's clock).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable
from urllib.parse import quote

from credentials.jcs import canonicalize
from did_methods.errors import ParseError, StoreError, VerificationError

if TYPE_CHECKING:
    from ledger.facade import Ledger
    from ledger.store import Store
    from ssi_wallet.request import PresentationRequest

__all__ = [
    "REPLAY_CODES",
    "LedgerReplayStore",
    "MemoryReplayStore",
    "ReplayError",
    "ReplayStore",
    "SQLiteReplayStore",
    "UnsafeStatelessRequests",
    "consume_request",
    "default_replay_store",
    "record_request",
    "request_digest",
]

#: The codes a :class:`ReplayError` carries.
REPLAY_CODES: Final = ("nonce_unknown", "request_altered", "replayed", "request_expired")
#: How long (seconds) a nonce is remembered after its request expired: a late
#: answer is told ``request_expired`` (or ``replayed``) rather than ``nonce_unknown``.
RETENTION: Final = 3600

_TABLE = "verifier_nonces"
# Column types as SQLite writes them; the PostgreSQL dialect maps them.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS {p}verifier_nonces (
    nonce TEXT PRIMARY KEY,
    digest BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX IF NOT EXISTS {i}verifier_nonces_expiry ON {p}verifier_nonces (expires_at)
"""


class ReplayError(VerificationError):
    """A request's nonce was refused; ``code`` is one of :data:`REPLAY_CODES`."""


def request_digest(request: PresentationRequest) -> bytes:
    """SHA-256 of the request's JSON form in RFC 8785 canonical form: any edit of the
    request (query, audience, purpose, expiry, extra members) changes it."""
    return hashlib.sha256(canonicalize(request.to_json())).digest()


def record_request(store: ReplayStore, request: PresentationRequest, *, now: int) -> None:
    """Record a request just made in ``store``: its nonce, digest and expiry.

    Raises :class:`~did_methods.errors.ParseError` for a request without an
    expiry (it could be answered for ever), and the store's errors.
    """
    if request.expires_at is None:
        raise ParseError("a request without an expiry cannot be recorded")
    store.record(request.nonce, request_digest(request), request.expires_at, now=now)


def consume_request(store: ReplayStore, request: PresentationRequest, *, now: int) -> None:
    """Consume the nonce of ``request`` (as the verifier holds it now), or raise
    :class:`ReplayError`."""
    store.consume(request.nonce, request_digest(request), now=now)


@runtime_checkable
class ReplayStore(Protocol):
    """Where a verifier keeps the nonces of the requests it made."""

    def record(self, nonce: str, digest: bytes, expires_at: int, *, now: int) -> None:
        """Remember a request just made: ``nonce``, the :func:`request_digest`, its expiry.

        Raises :class:`~did_methods.errors.StoreError` when it cannot be kept
        (or the nonce is already recorded).
        """
        ...

    def consume(self, nonce: str, digest: bytes, *, now: int) -> None:
        """Mark ``nonce`` used, atomically, or raise :class:`ReplayError` (see the module
        docstring for the codes; a refused nonce is left as it was)."""
        ...


def _judge(row: tuple[bytes, int, int | None] | None, digest: bytes, now: int) -> None:
    """Raise the :class:`ReplayError` for a stored ``(digest, expires_at, used_at)`` row."""
    if row is None:
        raise ReplayError("nonce_unknown", "this verifier did not issue the request's nonce")
    stored, expires_at, used_at = row
    if bytes(stored) != digest:
        raise ReplayError("request_altered", "the request differs from the one issued")
    if used_at is not None:
        raise ReplayError("replayed", "this request was answered already")
    if now > expires_at:
        raise ReplayError("request_expired", "the request has expired")


class UnsafeStatelessRequests:
    """Records nothing and accepts every nonce: a verifier that uses it accepts the same
    presentation any number of times, and requests it never made. Tests only, or a
    caller that enforces single use itself."""

    def record(self, nonce: str, digest: bytes, expires_at: int, *, now: int) -> None:
        """Nothing is kept."""

    def consume(self, nonce: str, digest: bytes, *, now: int) -> None:
        """Never refuses."""


@dataclass(slots=True)
class _Issued:
    digest: bytes
    expires_at: int
    used_at: int | None = None


class MemoryReplayStore:
    """Nonces in this process's memory: lost when it exits, not shared with other processes.

    At most ``max_entries`` are kept; when full, the oldest are forgotten first
    (their requests are then refused as ``nonce_unknown``, never accepted).
    A nonce is forgotten :data:`RETENTION` seconds after its request expired.
    Safe to share between threads.
    """

    def __init__(self, *, max_entries: int = 65_536) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max = max_entries
        self._issued: OrderedDict[str, _Issued] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._issued)

    def record(self, nonce: str, digest: bytes, expires_at: int, *, now: int) -> None:
        """Remember a request; forget expired and, when full, the oldest ones."""
        with self._lock:
            if nonce in self._issued:
                raise StoreError("this nonce was issued already")
            # Requests are recorded in time order and their lifetimes are alike,
            # so the expired ones gather at the front.
            while self._issued:
                first = next(iter(self._issued.values()))
                if first.expires_at + RETENTION >= now and len(self._issued) < self._max:
                    break
                self._issued.popitem(last=False)
            self._issued[nonce] = _Issued(bytes(digest), int(expires_at))

    def consume(self, nonce: str, digest: bytes, *, now: int) -> None:
        """Mark the nonce used, or raise :class:`ReplayError`."""
        with self._lock:
            issued = self._issued.get(nonce)
            row = None if issued is None else (issued.digest, issued.expires_at, issued.used_at)
            _judge(row, digest, now)
            assert issued is not None
            issued.used_at = now


Execute = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]


class _NonceTable:
    """The statements on ``verifier_nonces``, in SQLite's or PostgreSQL's dialect."""

    __slots__ = ("_pg", "_prefix")

    def __init__(self, dialect: str, prefix: str) -> None:
        if dialect not in ("sqlite", "postgresql"):
            raise StoreError(f"nonces need a SQL store (SQLite or PostgreSQL), not {dialect!r}")
        self._pg = dialect == "postgresql"
        self._prefix = prefix

    def sql(self, text: str) -> str:
        # {p}: the schema before a table name; {i}: before an index name (PostgreSQL
        # index names must be unique in the schema, and several schemas may share it).
        text = text.replace("{p}", self._prefix)
        if not self._pg:
            return text.replace("{i}", "")
        index = self._prefix.removesuffix(".") + "_"
        text = text.replace("{i}", index).replace("BLOB", "BYTEA").replace("INTEGER", "BIGINT")
        return text.replace("?", "%s")

    def create(self, execute: Execute) -> None:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                execute(self.sql(statement), ())

    def record(
        self, execute: Execute, nonce: str, digest: bytes, expires_at: int, now: int
    ) -> None:
        execute(self.sql("DELETE FROM {p}verifier_nonces WHERE expires_at < ?"), (now - RETENTION,))
        execute(
            self.sql("INSERT INTO {p}verifier_nonces (nonce, digest, expires_at) VALUES (?, ?, ?)"),
            (nonce, bytes(digest), int(expires_at)),
        )

    def consume(self, execute: Execute, nonce: str, digest: bytes, now: int) -> None:
        lock = " FOR UPDATE" if self._pg else ""  # SQLite's write transaction locks the file
        rows = execute(
            self.sql("SELECT digest, expires_at, used_at FROM {p}verifier_nonces WHERE nonce = ?")
            + lock,
            (nonce,),
        )
        row = (bytes(rows[0][0]), int(rows[0][1]), rows[0][2]) if rows else None
        _judge(row, digest, now)
        execute(self.sql("UPDATE {p}verifier_nonces SET used_at = ? WHERE nonce = ?"), (now, nonce))


class LedgerReplayStore:
    """Nonces in the ledger's own database (the table ``verifier_nonces``).

    ``ledger`` is a :class:`~ledger.facade.Ledger` or its
    :class:`~ledger.store.Store`: a SQLite file or PostgreSQL store opened
    for writing. Each call is one write transaction of that store, so a
    nonce is consumed once across every process and connection, and what
    was recorded survives a restart. Raises
    :class:`~did_methods.errors.StoreError` for the memory store, a
    read-only store, or a database failure.
    """

    def __init__(self, ledger: Ledger | Store) -> None:
        from ledger.facade import Ledger  # here: the verifier need not load the ledger

        store = ledger.log.store if isinstance(ledger, Ledger) else ledger
        self._store = store
        if getattr(store, "read_only", False):
            raise StoreError("the ledger is opened read-only: it cannot keep nonces")
        with store.write() as writer:
            self._table = _NonceTable(writer.dialect, writer.table_prefix)
            self._table.create(writer.execute)

    def record(self, nonce: str, digest: bytes, expires_at: int, *, now: int) -> None:
        """Remember a request (and forget those long expired)."""
        with self._store.write() as writer:
            self._table.record(writer.execute, nonce, digest, expires_at, now)

    def consume(self, nonce: str, digest: bytes, *, now: int) -> None:
        """Mark the nonce used in one transaction, or raise :class:`ReplayError`."""
        with self._store.write() as writer:
            self._table.consume(writer.execute, nonce, digest, now)


class SQLiteReplayStore(LedgerReplayStore):
    """Nonces in a SQLite file of the verifier's own (created when missing).

    The file is laid out as a ledger store (:class:`~ledger.store.SQLiteStore`:
    WAL, ``synchronous=FULL``, one write transaction at a time across
    processes) whose log stays empty, beside ``verifier_nonces``; so it may
    also be the ledger's own file, whose log is left alone. A file of another
    kind (not SQLite, or a SQLite database holding neither a ledger nor
    nonces) raises :class:`~did_methods.errors.StoreError` and is not changed.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        from ledger.store import SQLiteStore

        self._path = os.fspath(path)
        _refuse_other_kinds(self._path)
        store = SQLiteStore(self._path, timeout=timeout)
        try:
            super().__init__(store)
        except BaseException:
            store.close()
            raise

    @property
    def path(self) -> str:
        """The file."""
        return self._path

    def close(self) -> None:
        """Close the file."""
        self._store.close()


def _refuse_other_kinds(path: str) -> None:
    """Raise :class:`StoreError` unless ``path`` is missing, empty, or a SQLite file
    holding a ledger or nonces; reads through a read-only connection, which never
    creates or changes the file."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return
    uri = "file:" + quote(os.path.abspath(path)) + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            names = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"{path!r} is not a SQLite file: {exc}") from exc
    if names and not names & {_TABLE, "ledger_meta"}:
        raise StoreError(f"{path!r} holds neither a ledger nor a verifier's nonces")


def default_replay_store(trust: object) -> ReplayStore:
    """The store a :class:`~ssi_wallet.Verifier` uses unless told: the ledger's database
    when ``trust`` is a ledger on a writable SQL store, else a :class:`MemoryReplayStore`."""
    from ledger.store import MemoryStore

    store = getattr(getattr(trust, "log", None), "store", None)
    if store is None or isinstance(store, MemoryStore) or getattr(store, "read_only", False):
        return MemoryReplayStore()
    return LedgerReplayStore(store)
