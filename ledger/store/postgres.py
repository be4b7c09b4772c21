"""The PostgreSQL store: the same log as SQLite, for a log that outgrew one machine.

psycopg 3 is imported when a :class:`PostgresStore` is built, never before.
The tables are those of the SQLite store, in a schema of their own (default
``ssi_ledger``), so several logs can share a database. Guarantees:

* every append batch is ONE transaction that first locks the single
  ``ledger_tail`` row (``SELECT ... FOR UPDATE``): appenders on any number of
  connections and processes queue on that lock and see each other's
  committed tail, so indices form one total order with no gap or duplicate;
* entries and nodes are written with ``COPY`` inside that transaction, and
  any failure rolls all of it back;
* durability is PostgreSQL's (``synchronous_commit`` as configured);
* other tables of the schema join that transaction through
  :meth:`~ledger.store.StoreWriter.execute` (``%s`` placeholders, table
  names prefixed with the schema: :attr:`~ledger.store.StoreWriter.table_prefix`).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ledger.errors import LedgerStoreError, NotALedgerError
from ledger.store._base import (
    META_LEDGER_ID,
    READABLE_VERSIONS,
    SCHEMA_VERSION,
    KindRow,
    KindRows,
    NodeID,
    NodeRow,
    StoredCheckpoint,
    StoredKindRow,
    Tail,
    identity_rows,
    kind_rows,
)

__all__ = ["POSTGRES_SCHEMA", "PostgresStore"]

_SCHEMA_NAME_RE = re.compile(r"[a-z_][a-z0-9_]{0,62}")

#: The table layout; ``{schema}`` is replaced by the (validated) schema name.
POSTGRES_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE IF NOT EXISTS {schema}.ledger_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS {schema}.ledger_entries (
    idx BIGINT PRIMARY KEY CHECK (idx >= 0),
    data BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS {schema}.ledger_nodes (
    level SMALLINT NOT NULL,
    idx BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);
CREATE TABLE IF NOT EXISTS {schema}.ledger_tail (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    size BIGINT NOT NULL,
    last_hash BYTEA NOT NULL,
    border BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS {schema}.ledger_checkpoints (
    id BIGSERIAL PRIMARY KEY,
    size BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS {schema}.ledger_identities (
    hash BYTEA PRIMARY KEY,
    idx BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS {schema}.ledger_kinds (
    idx BIGINT PRIMARY KEY CHECK (idx >= 0),
    kind TEXT NOT NULL,
    ts BIGINT NOT NULL
)
"""


class _PostgresDialect:
    """The SQL the store and its writer speak: ``%s`` placeholders, schema-qualified tables."""

    __slots__ = ()
    _s: str

    @property
    def dialect(self) -> str:
        """``"postgresql"``: the SQL of ``execute`` and :meth:`PostgresStore.read_sql`."""
        return "postgresql"

    @property
    def table_prefix(self) -> str:
        """What goes before a table name: the schema and a dot."""
        return self._s + "."


class _PostgresWriter(_PostgresDialect):
    """The operations of one open transaction holding the tail row lock."""

    __slots__ = ("_cur", "_psycopg", "_s")

    def __init__(self, cur: Any, schema: str, psycopg: Any) -> None:
        self._cur = cur
        self._s = schema
        self._psycopg = psycopg

    def tail(self) -> Tail:
        self._cur.execute(
            f"SELECT size, last_hash, border FROM {self._s}.ledger_tail WHERE id = 0 FOR UPDATE"  # noqa: S608  (validated identifier)
        )
        return _tail_from(self._cur.fetchone())

    def put_entries(self, first_index: int, encoded: Sequence[bytes]) -> None:
        with self._cur.copy(f"COPY {self._s}.ledger_entries (idx, data) FROM STDIN") as copy:
            for i, data in enumerate(encoded, first_index):
                copy.write_row((i, data))

    def put_nodes(self, nodes: Sequence[NodeRow]) -> None:
        with self._cur.copy(f"COPY {self._s}.ledger_nodes (level, idx, hash) FROM STDIN") as copy:
            for row in nodes:
                copy.write_row(row)

    def set_tail(self, tail: Tail) -> None:
        self._cur.execute(
            f"UPDATE {self._s}.ledger_tail SET size = %s, last_hash = %s, border = %s WHERE id = 0",  # noqa: S608
            (tail.size, tail.last_hash, tail.border_blob()),
        )

    def existing_identities(self, identities: Sequence[bytes]) -> set[bytes]:
        if not identities:
            return set()
        self._cur.execute(
            f"SELECT hash FROM {self._s}.ledger_identities WHERE hash = ANY(%s)",  # noqa: S608
            (list(identities),),
        )
        return {bytes(row[0]) for row in self._cur.fetchall()}

    def put_identities(self, rows: Sequence[tuple[bytes, int]]) -> None:
        with self._cur.copy(f"COPY {self._s}.ledger_identities (hash, idx) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def put_kinds(self, rows: Sequence[KindRow]) -> None:
        with self._cur.copy(f"COPY {self._s}.ledger_kinds (idx, kind, ts) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def put_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        self._cur.execute(f"SELECT size FROM {self._s}.ledger_tail WHERE id = 0")  # noqa: S608
        if checkpoint.size > int(self._cur.fetchone()[0]):
            raise LedgerStoreError("a checkpoint cannot be larger than the log")
        self._cur.execute(
            f"INSERT INTO {self._s}.ledger_checkpoints (size, created_ms, note) "  # noqa: S608
            "VALUES (%s, %s, %s)",
            (checkpoint.size, checkpoint.created_ms, checkpoint.note),
        )

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self._cur
        try:
            cur.execute(sql, tuple(params))
            if cur.description is None:
                return []
            return [
                tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                for row in cur.fetchall()
            ]
        except self._psycopg.Error as exc:
            raise LedgerStoreError(f"statement failed: {exc}") from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            self._cur.executemany(sql, [tuple(r) for r in rows])
        except self._psycopg.Error as exc:
            raise LedgerStoreError(f"statement failed: {exc}") from exc


def _tail_from(row: Any) -> Tail:
    if row is None:
        raise LedgerStoreError("the ledger_tail row is missing")
    try:
        return Tail.from_row(int(row[0]), bytes(row[1]), bytes(row[2]))
    except (TypeError, ValueError) as exc:
        raise LedgerStoreError(f"the ledger_tail row is corrupt: {exc}") from exc


class PostgresStore(_PostgresDialect):
    """A :class:`~ledger.store.Store` in PostgreSQL (see the module docstring).

    ``dsn`` is a libpq connection string or URL; ``schema`` names the
    PostgreSQL schema holding the tables (lower-case identifier, created if
    missing unless ``create=False`` or ``read_only=True``). ``connect_timeout``
    bounds connecting, ``lock_timeout`` (s) bounds waiting for another
    appender. ``read_only=True`` opens a session whose transactions are all
    read-only (``default_transaction_read_only``): nothing is created or
    upgraded and :meth:`write` raises. A schema without the ledger's tables
    (when they are not to be created), or holding other tables only, raises
    :class:`~ledger.errors.NotALedgerError`; a layout of version 1 is upgraded
    when opened for writing. Raises :class:`LedgerStoreError` when psycopg is
    missing, the server cannot be reached, or the schema holds a layout of
    another version. One instance may be shared by threads (one connection,
    used under a lock).
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "ssi_ledger",
        connect_timeout: float = 10.0,
        lock_timeout: float = 30.0,
        read_only: bool = False,
        create: bool = True,
    ) -> None:
        """Connect and create the tables if needed (see the class docstring)."""
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise LedgerStoreError(
                "PostgresStore needs psycopg 3: pip install 'ssi-wallet[postgres]'"
            ) from exc
        if _SCHEMA_NAME_RE.fullmatch(schema) is None:
            raise LedgerStoreError(f"schema must be a lower-case SQL identifier, not {schema!r}")
        self._psycopg: Any = psycopg
        self._s = schema
        self._lock = threading.RLock()
        self._read_only = bool(read_only)
        self._create = bool(create) and not self._read_only
        self._layout = SCHEMA_VERSION
        try:
            self._conn: Any = psycopg.connect(
                dsn, autocommit=True, connect_timeout=max(1, int(connect_timeout))
            )
        except psycopg.Error as exc:
            raise LedgerStoreError(f"cannot open the PostgreSQL store: {exc}") from exc
        try:
            self._conn.execute(f"SET lock_timeout = {int(lock_timeout * 1000)}")
            if self._read_only:
                self._conn.execute("SET default_transaction_read_only = on")
            self._create_schema()
        except psycopg.Error as exc:
            self._conn.close()
            raise LedgerStoreError(f"cannot open the PostgreSQL store: {exc}") from exc
        except LedgerStoreError:
            self._conn.close()
            raise

    @property
    def read_only(self) -> bool:
        """Whether this store was opened read-only (see the class docstring)."""
        return self._read_only

    @property
    def schema(self) -> str:
        """The PostgreSQL schema that holds the tables."""
        return self._s

    def _tables(self) -> set[str]:
        rows = self._conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (self._s,),
        ).fetchall()
        return {str(r[0]) for r in rows}

    def _version(self) -> int:
        row = self._conn.execute(
            f"SELECT value FROM {self._s}.ledger_meta WHERE key = 'schema_version'"  # noqa: S608
        ).fetchone()
        for version in READABLE_VERSIONS:
            if row is not None and row[0] == str(version):
                return version
        raise LedgerStoreError(
            f"schema {self._s!r} has ledger schema version {row and row[0]!r}; "
            f"this code reads versions {sorted(READABLE_VERSIONS)}"
        )

    def _create_schema(self) -> None:
        s = self._s
        if self._read_only or not self._create:
            tables = self._tables()
            if "ledger_meta" not in tables:
                raise NotALedgerError(f"schema {s!r} holds no ledger", s)
            if self._read_only:
                self._layout = self._version()
                return
        with self._conn.transaction():
            # Serialise concurrent first openings: CREATE ... IF NOT EXISTS races.
            self._conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"ledger:{s}",))
            tables = self._tables()
            if "ledger_meta" in tables:
                if self._version() == SCHEMA_VERSION:
                    return
                self._upgrade()
            elif tables:
                raise NotALedgerError(
                    f"schema {s!r} is not a ledger: it holds tables of another kind", s
                )
            else:
                for statement in POSTGRES_SCHEMA.format(schema=s).split(";"):
                    self._conn.execute(statement)
                self._conn.execute(
                    f"INSERT INTO {s}.ledger_meta (key, value) VALUES ('schema_version', %s)",  # noqa: S608
                    (str(SCHEMA_VERSION),),
                )
                self._conn.execute(
                    f"INSERT INTO {s}.ledger_tail (id, size, last_hash, border) "  # noqa: S608
                    "VALUES (0, 0, %s, %s)",
                    (Tail.empty().last_hash, b""),
                )
            self._conn.execute(
                f"INSERT INTO {s}.ledger_meta (key, value) VALUES (%s, %s) "  # noqa: S608
                "ON CONFLICT (key) DO NOTHING",
                (META_LEDGER_ID, os.urandom(16).hex()),
            )

    def _upgrade(self) -> None:
        # Inside _create_schema's transaction. Version 1 -> 2: the identity table,
        # filled from the entries already stored (first occurrence of each).
        # Version 2 -> 3: the kind table, filled from the entries already stored.
        s = self._s
        if self._version() < 2:
            self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS {s}.ledger_identities "
                "(hash BYTEA PRIMARY KEY, idx BIGINT NOT NULL)"
            )
            self._fill("ledger_identities (hash, idx)", identity_rows)
        self._conn.execute(
            f"CREATE TABLE IF NOT EXISTS {s}.ledger_kinds "
            "(idx BIGINT PRIMARY KEY CHECK (idx >= 0), kind TEXT NOT NULL, ts BIGINT NOT NULL)"
        )
        self._conn.execute(f"DELETE FROM {s}.ledger_kinds")  # noqa: S608 (refilled whole)
        self._fill("ledger_kinds (idx, kind, ts)", kind_rows)
        self._conn.execute(
            f"UPDATE {s}.ledger_meta SET value = %s WHERE key = 'schema_version'",  # noqa: S608
            (str(SCHEMA_VERSION),),
        )

    def _fill(
        self,
        target: str,
        make_rows: Callable[[Iterable[tuple[int, bytes]]], Sequence[Sequence[Any]]],
    ) -> None:
        # Copy into ``target`` (a table and its columns) the rows made from the stored
        # entries (inside _upgrade's transaction).
        s = self._s
        with self._conn.cursor() as cur:
            cur.execute(f"SELECT idx, data FROM {s}.ledger_entries ORDER BY idx")  # noqa: S608
            rows = make_rows((int(i), bytes(d)) for i, d in cur)
        with self._conn.cursor() as cur, cur.copy(f"COPY {s}.{target} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    @contextmanager
    def write(self) -> Iterator[_PostgresWriter]:
        """One transaction holding the tail row lock; committed if the block succeeds.

        Raises :class:`LedgerStoreError` for any database failure (after rollback).
        """
        psycopg = self._psycopg
        if self._read_only:
            raise LedgerStoreError(f"schema {self._s!r} is opened read-only: it cannot be written")
        with self._lock:
            try:
                with self._conn.transaction(), self._conn.cursor() as cur:
                    yield _PostgresWriter(cur, self._s, psycopg)
            except psycopg.Error as exc:
                raise LedgerStoreError(f"write failed and was rolled back: {exc}") from exc

    def _query(self, sql: str, params: Sequence[Any]) -> list[Any]:
        with self._lock:
            try:
                return list(self._conn.execute(sql, params).fetchall())
            except self._psycopg.Error as exc:
                raise LedgerStoreError(f"read failed: {exc}") from exc

    def read_sql(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read statement (``%s`` placeholders) outside any write transaction.

        For components that keep their own tables in the ledger's schema (the
        registries' persisted position). Raises :class:`LedgerStoreError`
        when the statement fails.
        """
        return [tuple(row) for row in self._query(sql, tuple(params))]

    def tail(self) -> Tail:
        """The committed tail."""
        rows = self._query(
            f"SELECT size, last_hash, border FROM {self._s}.ledger_tail WHERE id = 0",  # noqa: S608
            (),
        )
        return _tail_from(rows[0] if rows else None)

    def read_entries(self, start: int, limit: int) -> list[tuple[int, bytes]]:
        """Up to ``limit`` stored rows with ``index >= start``, ascending."""
        rows = self._query(
            f"SELECT idx, data FROM {self._s}.ledger_entries WHERE idx >= %s ORDER BY idx LIMIT %s",  # noqa: S608
            (start, limit),
        )
        return [(int(i), bytes(d)) for i, d in rows]

    def read_nodes(self, ids: Sequence[NodeID]) -> list[bytes | None]:
        """The hash of each node id, or ``None`` (one round trip for all of them)."""
        if not ids:
            return []
        levels = [level for level, _ in ids]
        indices = [index for _, index in ids]
        rows = self._query(
            f"SELECT n.level, n.idx, n.hash FROM {self._s}.ledger_nodes n "  # noqa: S608
            "JOIN unnest(%s::smallint[], %s::bigint[]) AS w(level, idx) "
            "ON n.level = w.level AND n.idx = w.idx",
            (levels, indices),
        )
        found = {(int(level), int(index)): bytes(h) for level, index, h in rows}
        return [found.get((level, index)) for level, index in ids]

    def read_kinds(self, start: int, stop: int, kinds: Sequence[str]) -> KindRows | None:
        """As :meth:`ledger.store.SQLiteStore.read_kinds`: two statements (a count and
        maximum, then the rows with a running ``MAX`` window), ``None`` below layout 3."""
        if self._layout < 3:
            return None
        s = self._s
        count, newest = self._query(
            f"SELECT COUNT(*), MAX(ts) FROM {s}.ledger_kinds WHERE idx >= %s AND idx < %s",  # noqa: S608
            (start, stop),
        )[0]
        rows: list[tuple[int, bytes, int | None]] = []
        if kinds and count:
            found = self._query(
                f"WITH r AS (SELECT idx, kind, MAX(ts) OVER (ORDER BY idx ROWS BETWEEN "  # noqa: S608
                "UNBOUNDED PRECEDING AND 1 PRECEDING) AS before "
                f"FROM {s}.ledger_kinds WHERE idx >= %s AND idx < %s) "
                f"SELECT r.idx, e.data, r.before FROM r JOIN {s}.ledger_entries e "
                "ON e.idx = r.idx WHERE r.kind = ANY(%s) ORDER BY r.idx",
                (start, stop, list(kinds)),
            )
            rows = [(int(i), bytes(d), None if b is None else int(b)) for i, d, b in found]
        return KindRows(int(count), None if newest is None else int(newest), rows)

    def read_kind_rows(self, start: int, limit: int) -> list[StoredKindRow] | None:
        """As :meth:`ledger.store.SQLiteStore.read_kind_rows`: the kind table's rows from
        ``start`` on, ascending, as stored (kinds as UTF-8 bytes); ``None`` below layout 3."""
        if self._layout < 3:
            return None
        rows: list[StoredKindRow] = self._query(
            f"SELECT idx, convert_to(kind, 'UTF8'), ts FROM {self._s}.ledger_kinds "  # noqa: S608
            "WHERE idx >= %s ORDER BY idx LIMIT %s",
            (start, limit),
        )
        return rows

    def checkpoints(self, *, limit: int = 100) -> list[StoredCheckpoint]:
        """The most recent checkpoints, newest first."""
        rows = self._query(
            f"SELECT size, note, created_ms FROM {self._s}.ledger_checkpoints "  # noqa: S608
            "ORDER BY id DESC LIMIT %s",
            (limit,),
        )
        return [StoredCheckpoint(int(s), str(n), int(c)) for s, n, c in rows]

    def bind_origin(self, origin: str) -> None:
        """Record ``origin`` on first use; raise :class:`LedgerStoreError` for another log.

        On a read-only store, check only: the schema must already record ``origin``.
        """
        recorded = self.origin()
        if recorded is not None or self._read_only:
            if recorded != origin:
                raise LedgerStoreError(
                    f"schema {self._s!r} holds the log {recorded!r}, not {origin!r}"
                )
            return
        with self.write() as txn:
            txn.tail()  # take the lock so two first users cannot both insert
            cur = txn._cur
            cur.execute(f"SELECT value FROM {self._s}.ledger_meta WHERE key = 'origin'")  # noqa: S608
            row = cur.fetchone()
            if row is None:
                cur.execute(
                    f"INSERT INTO {self._s}.ledger_meta (key, value) VALUES ('origin', %s)",  # noqa: S608
                    (origin,),
                )
            elif row[0] != origin:
                raise LedgerStoreError(
                    f"schema {self._s!r} holds the log {row[0]!r}, not {origin!r}"
                )

    def origin(self) -> str | None:
        """The origin recorded by :meth:`bind_origin`, or ``None``."""
        rows = self._query(
            f"SELECT value FROM {self._s}.ledger_meta WHERE key = 'origin'",  # noqa: S608
            (),
        )
        return str(rows[0][0]) if rows else None

    def meta(self, name: str) -> str | None:
        """A value recorded about the log (see :meth:`~ledger.store.Store.meta`), or ``None``."""
        rows = self._query(
            f"SELECT value FROM {self._s}.ledger_meta WHERE key = %s",  # noqa: S608
            (name,),
        )
        return str(rows[0][0]) if rows else None

    def bind_meta(self, name: str, value: str) -> str:
        """Record ``value`` under ``name`` unless one is recorded; return the recorded one.

        On a read-only store nothing is recorded.
        """
        recorded = self.meta(name)
        if recorded is not None or self._read_only:
            return value if recorded is None else recorded
        with self.write() as txn:
            txn.execute(
                f"INSERT INTO {self._s}.ledger_meta (key, value) VALUES (%s, %s) "  # noqa: S608
                "ON CONFLICT (key) DO NOTHING",
                (name, value),
            )
        recorded = self.meta(name)
        return value if recorded is None else recorded

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
