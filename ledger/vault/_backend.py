"""The SQL implementation of the vault's store protocol, and the SQLite backend.

:class:`SQLVaultTxn` implements :class:`~ledger.vault._store.VaultTxn` with
one statement set per dialect and schema (:func:`statements`, written once
when a backend opens): SQLite here, PostgreSQL in
:mod:`ledger.vault.postgres`. A backend gives a serialised write
transaction, a consistent read, :meth:`~ledger.vault._store.VaultBackend.join`
(the same operations inside the log store's append transaction, through
:func:`writer_txn`, so writes that go with a log entry commit with it) and
``compact``, run after every erasure so that no erased byte remains in the
database files.

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
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import quote

from ledger.errors import LedgerStoreError
from ledger.store._base import StoreWriter
from ledger.store.sqlite import switch_to_wal
from ledger.vault._store import (
    CompactReport,
    ErasedRow,
    EventRow,
    RecordRow,
    SubjectRow,
    row_from_values,
)
from ledger.vault.errors import NotAVaultError, VaultStoreError

__all__ = [
    "VAULT_SCHEMA_VERSION",
    "CompactReport",
    "SQLVaultTxn",
    "SQLiteVaultBackend",
    "Txn",
    "statements",
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
    """One open SQL transaction: run a statement, get its rows."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run ``sql`` written with ``?`` placeholders and ``{p}`` table prefixes."""
        ...

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run ``sql`` already written in the connection's own dialect."""
        ...


class _Statements:
    """The vault's statements in one dialect and schema, written once per backend."""

    def __init__(self, prefix: str, mark: str) -> None:
        def sql(text: str) -> str:
            return text.replace("{p}", prefix).replace("?", mark)

        self.mark = mark
        self.meta = sql("SELECT key, value FROM {p}vault_meta")
        self.set_meta = sql(
            "INSERT INTO {p}vault_meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )
        self.subjects = sql("SELECT tag, wrapped_key, sealed_id, created_ms FROM {p}vault_subjects")
        self.subject_key = sql("SELECT wrapped_key FROM {p}vault_subjects WHERE tag = ?")
        self.add_subject = sql(
            "INSERT INTO {p}vault_subjects (tag, wrapped_key, sealed_id, created_ms) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
        )
        self.drop_subject = sql(
            "DELETE FROM {p}vault_subjects WHERE tag = ? AND NOT EXISTS "
            "(SELECT 1 FROM {p}vault_records WHERE tag = ?)"
        )
        self.records = sql(
            "SELECT ref, tag, record_id, version, nonce, ciphertext, commitment, log_index, "
            "created_ms, minor, restricted, superseded FROM {p}vault_records WHERE 1 = 1"
        )
        self.add_record = sql(
            "INSERT INTO {p}vault_records (ref, tag, record_id, version, nonce, ciphertext, "
            "commitment, log_index, created_ms, minor, restricted, superseded) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
        )
        self.supersede = sql(
            "UPDATE {p}vault_records SET superseded = 1 WHERE ref = ? AND superseded = 0 "
            "RETURNING ref"
        )
        self.restrict = sql(
            "UPDATE {p}vault_records SET restricted = ? WHERE tag = ? RETURNING ref"
        )
        self.restrict_one = sql(
            "UPDATE {p}vault_records SET restricted = ? WHERE tag = ? AND record_id = ? "
            "RETURNING ref"
        )
        self.erase = sql(
            "INSERT INTO {p}vault_erased (ref, tag, record_id, version, commit_index, "
            "tombstone_index, erased_ms) SELECT ref, tag, record_id, version, log_index, ?, ? "
            "FROM {p}vault_records WHERE ref = ? ON CONFLICT DO NOTHING"
        )
        self.delete_record = sql("DELETE FROM {p}vault_records WHERE ref = ? RETURNING ref")
        self.erased = sql(
            "SELECT ref, tag, record_id, version, commit_index, tombstone_index, erased_ms "
            "FROM {p}vault_erased WHERE 1 = 1"
        )
        self.max_erased = sql("SELECT MAX(version) FROM {p}vault_erased WHERE record_id = ?")
        self.add_erased = sql(
            "INSERT INTO {p}vault_erased (ref, tag, record_id, version, commit_index, "
            "tombstone_index, erased_ms) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
        )
        self.events = sql(
            "SELECT ref, tag, log_index, commitment_key, event FROM {p}vault_events WHERE 1 = 1"
        )
        self.add_event = sql(
            "INSERT INTO {p}vault_events (ref, tag, log_index, commitment_key, event) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
        )


@lru_cache(maxsize=32)
def statements(prefix: str, postgres: bool) -> _Statements:
    """The vault's statements for the table ``prefix`` in SQLite or PostgreSQL."""
    return _Statements(prefix, "%s" if postgres else "?")


class SQLVaultTxn:
    """:class:`~ledger.vault._store.VaultTxn` over one SQL transaction (SQLite or PostgreSQL).

    ``execute`` runs ad hoc SQL in the vault's portable dialect (tools, tests).
    """

    __slots__ = ("_raw", "_sql")

    def __init__(self, raw: Txn, sql: _Statements) -> None:
        self._raw = raw
        self._sql = sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run ``sql`` (``?`` placeholders, ``{p}`` table prefix); return all rows."""
        return self._raw.execute(sql, params)

    def _filtered(self, base: str, filters: Sequence[tuple[str, Any]], order: str) -> list[Any]:
        m = self._sql.mark
        sql = base + "".join(f" AND {column} = {m}" for column, _ in filters)
        return self._raw.run(f"{sql} ORDER BY {order}", [value for _, value in filters])

    def meta(self) -> dict[str, bytes]:
        return {str(k): bytes(v) for k, v in self._raw.run(self._sql.meta)}

    def set_meta(self, key: str, value: bytes) -> None:
        self._raw.run(self._sql.set_meta, (key, value))

    def subjects(self) -> list[SubjectRow]:
        return [row_from_values(SubjectRow, r) for r in self._raw.run(self._sql.subjects)]

    def subject_key(self, tag: bytes) -> bytes | None:
        rows = self._raw.run(self._sql.subject_key, (tag,))
        return bytes(rows[0][0]) if rows else None

    def add_subject(self, row: SubjectRow) -> None:
        self._raw.run(self._sql.add_subject, tuple(row))

    def drop_subject_if_empty(self, tag: bytes) -> None:
        self._raw.run(self._sql.drop_subject, (tag, tag))

    def records(
        self,
        tag: bytes | None = None,
        *,
        record_id: str | None = None,
        version: int | None = None,
        current_only: bool = False,
    ) -> list[RecordRow]:
        filters: list[tuple[str, Any]] = []
        for column, value in (("tag", tag), ("record_id", record_id), ("version", version)):
            if value is not None:
                filters.append((column, value))
        if current_only:
            filters.append(("superseded", 0))
        rows = self._filtered(self._sql.records, filters, "record_id, version")
        return [row_from_values(RecordRow, r) for r in rows]

    def record(self, ref: bytes) -> RecordRow | None:
        rows = self._filtered(self._sql.records, [("ref", ref)], "ref")
        return row_from_values(RecordRow, rows[0]) if rows else None

    def add_record(self, row: RecordRow) -> None:
        values = (*row[:9], int(row.minor), int(row.restricted), int(row.superseded))
        self._raw.run(self._sql.add_record, values)

    def supersede(self, ref: bytes) -> bool:
        return bool(self._raw.run(self._sql.supersede, (ref,)))

    def set_restricted(self, tag: bytes, record_id: str | None, restricted: bool) -> int:
        if record_id is None:
            return len(self._raw.run(self._sql.restrict, (int(restricted), tag)))
        return len(self._raw.run(self._sql.restrict_one, (int(restricted), tag, record_id)))

    def erase_record(self, ref: bytes, tombstone_index: int, erased_ms: int) -> bool:
        self._raw.run(self._sql.erase, (tombstone_index, erased_ms, ref))
        return bool(self._raw.run(self._sql.delete_record, (ref,)))

    def erased(self, tag: bytes | None = None, *, record_id: str | None = None) -> list[ErasedRow]:
        filters = [(c, v) for c, v in (("tag", tag), ("record_id", record_id)) if v is not None]
        rows = self._filtered(self._sql.erased, filters, "tombstone_index, ref")
        return [row_from_values(ErasedRow, r) for r in rows]

    def max_erased_version(self, record_id: str) -> int:
        rows = self._raw.run(self._sql.max_erased, (record_id,))
        return int(rows[0][0] or 0) if rows else 0

    def add_erased(self, row: ErasedRow) -> None:
        self._raw.run(self._sql.add_erased, tuple(row))

    def events(self, tag: bytes | None = None) -> list[EventRow]:
        filters = [("tag", tag)] if tag is not None else []
        rows = self._filtered(self._sql.events, filters, "log_index")
        return [row_from_values(EventRow, r) for r in rows]

    def add_event(self, row: EventRow) -> None:
        self._raw.run(self._sql.add_event, tuple(row))


class _WriterTxn:
    """SQL over a log store's write transaction."""

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
            self.run(
                "SELECT pg_advisory_xact_lock(hashtext(%s))",
                (f"vault:{self._prefix.removesuffix('.')}",),
            )

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        sql = sql.replace("{p}", self._prefix)
        return self.run(sql.replace("?", "%s") if self._format else sql, params)

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._writer.execute(sql, params)
        except LedgerStoreError as exc:
            raise VaultStoreError(f"vault write failed and was rolled back: {exc}") from exc


def writer_txn(writer: StoreWriter) -> SQLVaultTxn:
    """The vault's data (:class:`SQLVaultTxn`) inside a log store's write transaction.

    Statements run through :meth:`~ledger.store.StoreWriter.execute`, so they
    commit or roll back with the log entries of that transaction. Raises
    :class:`VaultStoreError` for a store without SQL tables (the memory store)
    and, from its operations, when a statement fails.
    """
    raw = _WriterTxn(writer)
    return SQLVaultTxn(raw, statements(raw._prefix, raw._format))


class _SQLiteTxn:
    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.run(sql.replace("{p}", ""), params)

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._conn.execute(sql, tuple(params)).fetchall())


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
        self._sql = statements("", False)
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
    def transaction(self) -> Iterator[SQLVaultTxn]:
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
                yield SQLVaultTxn(_SQLiteTxn(conn), self._sql)
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
    def read(self) -> Iterator[SQLVaultTxn]:
        """A deferred transaction: one WAL snapshot for all its reads."""
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN")
                try:
                    yield SQLVaultTxn(_SQLiteTxn(conn), self._sql)
                finally:
                    conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise VaultStoreError(f"vault read failed: {exc}") from exc

    @contextmanager
    def join(self, writer: StoreWriter) -> Iterator[SQLVaultTxn]:
        """The vault's tables inside the log store's write transaction (:func:`writer_txn`);
        they commit or roll back with it."""
        yield writer_txn(writer)

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


def _check_schema_version(txn: SQLVaultTxn, *, read_only: bool = False) -> None:
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
