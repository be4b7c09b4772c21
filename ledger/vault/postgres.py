"""The vault's tables in PostgreSQL, beside the ledger's (psycopg 3, imported lazily).

The tables live in the ledger store's schema (default ``ssi_ledger``), with
the SQLite layout (``BYTEA`` for blobs, ``BIGINT`` for integers). Write
transactions are serialised by a transaction-level advisory lock.

Erasure: the rows are deleted, then :meth:`PostgresVaultBackend.compact`
runs ``VACUUM (FULL)`` on the vault tables, which rewrites each table, its
TOAST table and its indexes into new files and unlinks the old ones, so no
erased byte remains in any of the tables' files. What it cannot reach is
said in ``docs/gdpr.md``: the write-ahead log segments (``pg_wal``) until
they are recycled, WAL archives, replicas' and base backups' copies, and the
blocks of unlinked files on the disk itself.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ledger.store._base import StoreWriter
from ledger.vault._backend import (
    VAULT_SCHEMA,
    VAULT_TABLES,
    SQLVaultTxn,
    _check_schema_version,
    statements,
    writer_txn,
)
from ledger.vault._store import CompactReport
from ledger.vault.errors import NotAVaultError, VaultStoreError

__all__ = ["PostgresVaultBackend"]

_SCHEMA_NAME_RE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class _PgTxn:
    __slots__ = ("_conn", "_p")

    def __init__(self, conn: Any, prefix: str) -> None:
        self._conn = conn
        self._p = prefix

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.run(sql.replace("{p}", self._p).replace("?", "%s"), params)

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self._conn.execute(sql, tuple(params))
        if cur.description is None:
            return []
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in cur]


def _pg_schema(schema: str) -> str:
    sql = VAULT_SCHEMA.replace("BLOB", "BYTEA").replace("INTEGER", "BIGINT")
    return sql.replace(
        "CREATE INDEX IF NOT EXISTS vault_", f"CREATE INDEX IF NOT EXISTS {schema}_vault_"
    )


class PostgresVaultBackend:
    """The vault's tables in the PostgreSQL ``schema`` of the ledger store.

    Raises :class:`VaultStoreError` when psycopg is missing, the server cannot
    be reached, or the tables have another schema version.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "ssi_ledger",
        connect_timeout: float = 10.0,
        lock_timeout: float = 30.0,
        create: bool = True,
        read_only: bool = False,
    ) -> None:
        """Connect and create the vault tables if needed (unless ``create=False``: then a
        schema without them raises :class:`NotAVaultError`)."""
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise VaultStoreError("the PostgreSQL vault needs psycopg 3") from exc
        if _SCHEMA_NAME_RE.fullmatch(schema) is None:
            raise VaultStoreError(f"schema must be a lower-case SQL identifier, not {schema!r}")
        self._psycopg: Any = psycopg
        self._schema = schema
        self._p = schema + "."
        self._sql = statements(self._p, True)
        self._lock = threading.RLock()
        try:
            self._conn: Any = psycopg.connect(
                dsn, autocommit=True, connect_timeout=max(1, int(connect_timeout))
            )
            self._conn.execute(f"SET lock_timeout = {int(lock_timeout * 1000)}")
            self._read_only = bool(read_only)
            if self._read_only:
                self._conn.execute("SET default_transaction_read_only = on")
            if (
                not (create and not self._read_only)
                and not self._conn.execute(
                    "SELECT 1 FROM information_schema.tables "
                    "WHERE table_schema = %s AND table_name = 'vault_meta'",
                    (schema,),
                ).fetchone()
            ):
                self._conn.close()
                raise NotAVaultError(
                    f"schema {schema!r} holds no vault: create it with 'vault init'"
                )
            if self._read_only:
                with self.read() as txn:
                    _check_schema_version(txn, read_only=True)
                return
            with self.transaction() as txn:
                txn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                for statement in _pg_schema(schema).split(";"):
                    if statement.strip():
                        txn.execute(statement)
                _check_schema_version(txn)
        except psycopg.Error as exc:
            raise VaultStoreError(f"cannot open the PostgreSQL vault: {exc}") from exc

    @property
    def schema(self) -> str:
        """The PostgreSQL schema holding the tables."""
        return self._schema

    @property
    def read_only(self) -> bool:
        """Whether the backend was opened in a read-only session."""
        return self._read_only

    @contextmanager
    def transaction(self) -> Iterator[SQLVaultTxn]:
        """One transaction holding the vault's advisory lock; rolled back on error."""
        if self._read_only:
            raise VaultStoreError(f"schema {self._schema!r} is opened read-only")
        psycopg = self._psycopg
        with self._lock:
            try:
                with self._conn.transaction():
                    self._conn.execute(
                        "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"vault:{self._schema}",)
                    )
                    yield SQLVaultTxn(_PgTxn(self._conn, self._p), self._sql)
            except psycopg.Error as exc:
                raise VaultStoreError(f"vault write failed and was rolled back: {exc}") from exc

    @contextmanager
    def read(self) -> Iterator[SQLVaultTxn]:
        """A REPEATABLE READ transaction: one snapshot for all its reads."""
        psycopg = self._psycopg
        with self._lock:
            try:
                with self._conn.transaction():
                    self._conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    yield SQLVaultTxn(_PgTxn(self._conn, self._p), self._sql)
            except psycopg.Error as exc:
                raise VaultStoreError(f"vault read failed: {exc}") from exc

    @contextmanager
    def join(self, writer: StoreWriter) -> Iterator[SQLVaultTxn]:
        """The vault's tables inside the log store's write transaction (:func:`writer_txn`);
        they commit or roll back with it."""
        yield writer_txn(writer)

    def compact(self) -> CompactReport:
        """``VACUUM (FULL)`` the vault tables (outside any transaction)."""
        if self._read_only:
            return CompactReport(False, "opened read-only: nothing to compact")
        with self._lock:
            try:
                for table in VAULT_TABLES:
                    self._conn.execute(f"VACUUM (FULL) {self._p}{table}")
            except self._psycopg.Error as exc:
                return CompactReport(False, f"VACUUM (FULL) failed: {exc}")
        return CompactReport(True, "rows deleted; VACUUM (FULL) rewrote the vault tables")

    def relation_files(self) -> list[str]:
        """Paths (relative to ``data_directory``) of the vault tables' files, their TOAST
        tables and indexes: what a byte scan after erasure reads."""
        rows: list[tuple[Any, ...]] = []
        with self.read() as txn:
            for table in VAULT_TABLES:
                rows += txn.execute(
                    "SELECT pg_relation_filepath(c.oid) FROM pg_class c "
                    "WHERE c.oid = ?::regclass OR c.oid = (SELECT reltoastrelid FROM pg_class "
                    "WHERE oid = ?::regclass) OR c.oid IN (SELECT indexrelid FROM pg_index "
                    "WHERE indrelid = ?::regclass OR indrelid = (SELECT reltoastrelid FROM "
                    "pg_class WHERE oid = ?::regclass))",
                    (f"{self._p}{table}",) * 4,
                )
        return sorted({str(r[0]) for r in rows if r[0]})

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
