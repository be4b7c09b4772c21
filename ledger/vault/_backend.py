"""The vault's tables behind one small interface, and the SQLite adapter.

The vault logic speaks a tiny SQL dialect: ``?`` placeholders and ``{p}``
before every table name (the PostgreSQL adapter rewrites both). A backend
gives two context managers, a serialised write transaction and a consistent
read, plus :meth:`VaultBackend.compact`, run after every erasure so that no
erased byte remains in the database files.

Writes that go with a log entry (a record and its keys, an erasure, a logged
release) do not use the backend's transaction: they run inside the log's own
append transaction, through :func:`writer_txn`, which speaks the same dialect
over the store's :class:`~ledger.store.StoreWriter`.

SQLite (the default) shares the ledger's file: the vault's tables are
prefixed ``vault_``. The vault opens its own connection with
``secure_delete=ON`` (deleted content is overwritten with zeros, freed pages
included), ``synchronous=FULL`` and ``foreign_keys=ON``; after an erasure it
runs ``PRAGMA wal_checkpoint(TRUNCATE)``, which copies the zeroed pages into
the main file and empties the WAL.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from ledger.errors import LedgerStoreError
from ledger.store._base import StoreWriter
from ledger.store.sqlite import switch_to_wal
from ledger.vault.errors import NotAVaultError, VaultStoreError

__all__ = [
    "VAULT_SCHEMA_VERSION",
    "CompactReport",
    "SQLiteVaultBackend",
    "Txn",
    "VaultBackend",
    "writer_txn",
]

#: Version of the vault's table layout (``vault_meta.schema_version``).
VAULT_SCHEMA_VERSION = 1

# Column types are written as BLOB/INTEGER; the PostgreSQL adapter maps them.
VAULT_SCHEMA = """
CREATE TABLE IF NOT EXISTS {p}vault_meta (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS {p}vault_subjects (
    tag BLOB PRIMARY KEY,
    wrapped_key BLOB NOT NULL,
    sealed_id BLOB NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS {p}vault_records (
    ref BLOB PRIMARY KEY,
    tag BLOB NOT NULL REFERENCES {p}vault_subjects (tag),
    record_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    commitment BLOB NOT NULL,
    log_index INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    minor INTEGER NOT NULL,
    restricted INTEGER NOT NULL,
    superseded INTEGER NOT NULL,
    UNIQUE (record_id, version)
);
CREATE INDEX IF NOT EXISTS vault_records_tag ON {p}vault_records (tag);
CREATE TABLE IF NOT EXISTS {p}vault_erased (
    ref BLOB PRIMARY KEY,
    tag BLOB NOT NULL,
    record_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    commit_index INTEGER NOT NULL,
    tombstone_index INTEGER NOT NULL,
    erased_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS vault_erased_tag ON {p}vault_erased (tag);
CREATE TABLE IF NOT EXISTS {p}vault_events (
    ref BLOB PRIMARY KEY,
    tag BLOB NOT NULL,
    log_index INTEGER NOT NULL,
    commitment_key BLOB NOT NULL,
    event BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS vault_events_tag ON {p}vault_events (tag)
"""

#: The vault's tables, in the order a restore fills them.
VAULT_TABLES = ("vault_meta", "vault_subjects", "vault_records", "vault_erased", "vault_events")


class Txn(Protocol):
    """One open transaction: run a statement of the vault's dialect, get its rows."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run ``sql`` (``?`` placeholders, ``{p}`` table prefix); return all rows."""
        ...


@dataclass(frozen=True, slots=True)
class CompactReport:
    """What :meth:`VaultBackend.compact` achieved.

    ``complete`` is true when the erased bytes are gone from every database
    file the backend controls (SQLite: main file and WAL; PostgreSQL: the
    vault tables' files); ``detail`` says what was run, or what blocked it
    (e.g. another process holding a read transaction on the WAL).
    """

    complete: bool
    detail: str


class VaultBackend(Protocol):
    """Where the vault's tables live. Every failure raises ``VaultStoreError``."""

    def transaction(self) -> AbstractContextManager[Txn]:
        """A serialised write transaction: committed on normal exit, rolled back on error."""
        ...

    def read(self) -> AbstractContextManager[Txn]:
        """A read transaction seeing one consistent snapshot."""
        ...

    def compact(self) -> CompactReport:
        """Remove the bytes of deleted rows from the database files (after an erasure)."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


class _WriterTxn:
    """The vault's dialect over a log store's write transaction."""

    __slots__ = ("_format", "_prefix", "_writer")

    def __init__(self, writer: StoreWriter) -> None:
        dialect = writer.dialect
        if dialect not in ("sqlite", "postgresql"):
            raise VaultStoreError(
                f"the vault needs a SQL store (SQLite or PostgreSQL), not a {dialect!r} store"
            )
        self._writer = writer
        self._prefix = writer.table_prefix
        self._format = dialect == "postgresql"
        if self._format:
            # The lock PostgresVaultBackend.transaction takes: vault writes in the
            # log's transactions and in the vault's own stay serialised. Taken after
            # the log's tail lock; no vault transaction waits for that lock, so the
            # order cannot deadlock.
            self.execute(
                "SELECT pg_advisory_xact_lock(hashtext(?))",
                (f"vault:{self._prefix.removesuffix('.')}",),
            )

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        sql = sql.replace("{p}", self._prefix)
        if self._format:
            sql = sql.replace("?", "%s")
        try:
            return self._writer.execute(sql, params)
        except LedgerStoreError as exc:
            raise VaultStoreError(f"vault write failed and was rolled back: {exc}") from exc


def writer_txn(writer: StoreWriter) -> Txn:
    """The vault's SQL dialect (:class:`Txn`) inside a log store's write transaction.

    Statements run through :meth:`~ledger.store.StoreWriter.execute`, so they
    commit or roll back with the log entries of that transaction. Raises
    :class:`VaultStoreError` for a store without SQL tables (the memory store)
    and, from ``execute``, when a statement fails.
    """
    return _WriterTxn(writer)


class _SQLiteTxn:
    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._conn.execute(sql.replace("{p}", ""), tuple(params)).fetchall())


class SQLiteVaultBackend:
    """The vault's tables in a SQLite file (by default the ledger's own file).

    ``timeout`` (seconds) bounds waiting for another writer; the vault and the
    ledger share SQLite's one write lock. Raises :class:`VaultStoreError`
    when the file cannot be opened, holds a vault of another schema version,
    or cannot use WAL, and :class:`~ledger.vault.errors.NotAVaultError` when
    it holds no vault and ``create=False``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 30.0,
        create: bool = True,
        read_only: bool = False,
    ) -> None:
        """Open (creating if needed, unless ``create=False`` or ``read_only``) the vault tables
        in the SQLite file at ``path``; without them and not creating, raise
        :class:`NotAVaultError` having changed nothing. ``read_only=True`` opens a
        ``mode=ro`` connection: :meth:`transaction` then raises, :meth:`compact` does
        nothing, and the file is never changed."""
        self._path = os.fspath(path)
        self._lock = threading.RLock()
        self._read_only = bool(read_only)
        try:
            if self._read_only:
                uri = "file:" + quote(os.path.abspath(self._path)) + "?mode=ro"
                conn = sqlite3.connect(
                    uri, timeout=timeout, isolation_level=None, check_same_thread=False, uri=True
                )
            else:
                conn = sqlite3.connect(
                    self._path, timeout=timeout, isolation_level=None, check_same_thread=False
                )
        except sqlite3.Error as exc:
            raise VaultStoreError(f"cannot open {self._path!r}: {exc}") from exc
        self._conn = conn
        try:
            if (not create or self._read_only) and not conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'vault_meta'"
            ).fetchone():
                raise NotAVaultError(f"{self._path!r} holds no vault: create it with 'vault init'")
            if self._read_only:
                with self.read() as txn:
                    _check_schema_version(txn, read_only=True)
                return
            conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            mode = switch_to_wal(conn, timeout)
            if mode != "wal":
                raise VaultStoreError(f"{self._path!r} cannot use WAL (journal_mode={mode})")
            conn.execute("PRAGMA synchronous = FULL")
            # Overwrite deleted content with zeros: erasure depends on it.
            conn.execute("PRAGMA secure_delete = ON")
            if conn.execute("PRAGMA secure_delete").fetchone()[0] != 1:
                raise VaultStoreError("this SQLite build cannot turn secure_delete on")
            conn.execute("PRAGMA foreign_keys = ON")
            with self.transaction() as txn:
                for statement in VAULT_SCHEMA.split(";"):
                    if statement.strip():
                        txn.execute(statement)
                _check_schema_version(txn)
        except sqlite3.Error as exc:
            conn.close()
            raise VaultStoreError(f"cannot prepare the vault in {self._path!r}: {exc}") from exc
        except VaultStoreError:
            conn.close()
            raise

    @property
    def path(self) -> str:
        """The database file."""
        return self._path

    @property
    def read_only(self) -> bool:
        """Whether the backend was opened read-only."""
        return self._read_only

    @contextmanager
    def transaction(self) -> Iterator[Txn]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back on any exception."""
        if self._read_only:
            raise VaultStoreError(f"{self._path!r} is opened read-only: it cannot be written")
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise VaultStoreError(f"cannot start a vault transaction: {exc}") from exc
            try:
                yield _SQLiteTxn(conn)
                conn.execute("COMMIT")
            except BaseException as exc:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # SQLite already rolled back
                if isinstance(exc, sqlite3.Error):
                    raise VaultStoreError(f"vault write failed and was rolled back: {exc}") from exc
                raise

    @contextmanager
    def read(self) -> Iterator[Txn]:
        """A deferred transaction: one WAL snapshot for all its reads."""
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN")
                try:
                    yield _SQLiteTxn(conn)
                finally:
                    conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise VaultStoreError(f"vault read failed: {exc}") from exc

    def compact(self, *, attempts: int = 50, pause: float = 0.02) -> CompactReport:
        """``PRAGMA wal_checkpoint(TRUNCATE)``, retried while readers hold the WAL.

        On success the main file holds the zeroed pages and the WAL is empty.
        """
        if self._read_only:
            return CompactReport(False, "opened read-only: nothing to compact")
        last: tuple[Any, ...] = ()
        with self._lock:
            for _ in range(max(1, attempts)):
                try:
                    last = tuple(self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone())
                except sqlite3.Error as exc:
                    raise VaultStoreError(f"WAL checkpoint failed: {exc}") from exc
                if last and last[0] == 0:
                    return CompactReport(True, "wal_checkpoint(TRUNCATE): WAL emptied")
                time.sleep(pause)
        return CompactReport(
            False,
            f"wal_checkpoint(TRUNCATE) stayed busy {last}: another connection holds a read "
            "transaction; run Vault.compact() again",
        )

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


def _check_schema_version(txn: Txn, *, read_only: bool = False) -> None:
    rows = txn.execute("SELECT value FROM {p}vault_meta WHERE key = 'schema_version'")
    if not rows and read_only:
        raise NotAVaultError("the vault tables record no schema version")
    if not rows:
        txn.execute(
            "INSERT INTO {p}vault_meta (key, value) VALUES ('schema_version', ?)",
            (str(VAULT_SCHEMA_VERSION).encode(),),
        )
    elif bytes(rows[0][0]) != str(VAULT_SCHEMA_VERSION).encode():
        raise VaultStoreError(
            f"the vault tables have schema version {bytes(rows[0][0])!r}; "
            f"this code reads version {VAULT_SCHEMA_VERSION}"
        )
