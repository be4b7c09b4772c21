"""The SQLite store: the default, one file, safe against crashes and concurrent processes.

Guarantees, and the setting that gives each:

* an acknowledged append survives ``kill -9`` and power loss: WAL journal with
  ``synchronous=FULL`` (the WAL is fsynced at every commit);
* appenders in several processes keep one total order with no gap and no
  duplicate index: each batch is one ``BEGIN IMMEDIATE`` transaction, which
  takes SQLite's single write lock *before* the tail is read; waiting writers
  retry for ``timeout`` seconds (``busy_timeout``);
* a failed batch leaves the file as it was: the transaction is rolled back;
* deleted rows are overwritten with zeros (``secure_delete=ON``), which the
  vault sharing this file relies on for erasure; foreign keys are enforced
  (``foreign_keys=ON``) for the tables that join a write transaction through
  :meth:`~ledger.store.StoreWriter.execute` (``?`` placeholders).

The tables are prefixed ``ledger_`` so the vault and registries can share the
file; ``ledger_meta.schema_version`` versions the layout.

Opening takes no write lock when it can avoid one: the schema version and
the origin are read first, and a write transaction is started only to create
the tables of a new file or to record the origin the first time. A store
opened with ``read_only=True`` (a ``mode=ro`` connection) never writes: it
checks the schema version and the origin by reading, and refuses
:meth:`SQLiteStore.write`. That is the cheap way for a process that only
proves, reads or audits (a verifier, an auditor, a proof server) to open a
log that another process appends to.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from typing import Any
from urllib.parse import quote

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

__all__ = ["SQLITE_SCHEMA", "SQLiteStore", "switch_to_wal"]

#: The connection's page cache (``PRAGMA cache_size``; negative: KiB): 8 MiB, taken
#: only as pages are read. SQLite's default, 2 MiB (about 500 pages), is less than
#: the lower B-tree pages that proofs of a few dozen leaves of a million-entry log
#: read (about ten leaf pages each), so a warm log read them from the file again.
_PAGE_CACHE = -8192

#: Node ids read per statement by :meth:`SQLiteStore.read_nodes` (two bound
#: parameters each, far below SQLite's limit; a proof needs at most ~130).
_NODES_PER_QUERY = 250


@functools.lru_cache(maxsize=_NODES_PER_QUERY)
def _nodes_query(count: int) -> str:
    # The wanted ids as a VALUES list joined to the node table's primary key.
    wanted = ", ".join(["(?, ?)"] * count)
    return (
        f"WITH w(level, idx) AS (VALUES {wanted}) "  # noqa: S608 (placeholders only)
        "SELECT n.level, n.idx, n.hash FROM w "
        "JOIN ledger_nodes n ON n.level = w.level AND n.idx = w.idx"
    )


#: The table layout (schema version :data:`~ledger.store.SCHEMA_VERSION`).
SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ledger_entries (
    idx INTEGER PRIMARY KEY CHECK (idx >= 0),
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ledger_tail (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    size INTEGER NOT NULL,
    last_hash BLOB NOT NULL,
    border BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_checkpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    size INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_identities (
    hash BLOB PRIMARY KEY,
    idx INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ledger_kinds (
    idx INTEGER PRIMARY KEY CHECK (idx >= 0),
    kind TEXT NOT NULL,
    ts INTEGER NOT NULL
);
"""

#: The table that schema version 2 added (created and filled by the upgrade from 1).
_IDENTITIES_TABLE = """
CREATE TABLE IF NOT EXISTS ledger_identities (
    hash BLOB PRIMARY KEY,
    idx INTEGER NOT NULL
) WITHOUT ROWID
"""
#: The table that schema version 3 added (created and filled by the upgrade).
_KINDS_TABLE = """
CREATE TABLE IF NOT EXISTS ledger_kinds (
    idx INTEGER PRIMARY KEY CHECK (idx >= 0),
    kind TEXT NOT NULL,
    ts INTEGER NOT NULL
)
"""
# The entries of some kinds in a range, each with the newest timestamp before it in
# the range (a running maximum over the kind index: no other entry is read).
_KINDS_QUERY = (
    "WITH r AS (SELECT idx, kind, MAX(ts) OVER (ORDER BY idx ROWS BETWEEN UNBOUNDED "
    "PRECEDING AND 1 PRECEDING) AS before FROM ledger_kinds WHERE idx >= ? AND idx < ?) "
    "SELECT r.idx, e.data, r.before FROM r JOIN ledger_entries e ON e.idx = r.idx "
    "WHERE r.kind IN ({marks}) ORDER BY r.idx"
)
# Identities asked for per statement (one bound parameter each).
_IDENTITIES_PER_QUERY = 500


class _SQLiteDialect:
    """The SQL the store and its writer speak: ``?`` placeholders, unprefixed tables."""

    __slots__ = ()

    @property
    def dialect(self) -> str:
        """``"sqlite"``: the SQL of ``execute`` and :meth:`SQLiteStore.read_sql`."""
        return "sqlite"

    @property
    def table_prefix(self) -> str:
        """What goes before a table name: nothing for SQLite."""
        return ""


class _SQLiteWriter(_SQLiteDialect):
    """The operations of one open ``BEGIN IMMEDIATE`` transaction."""

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def tail(self) -> Tail:
        return _read_tail(self._conn)

    def put_entries(self, first_index: int, encoded: Sequence[bytes]) -> None:
        self._conn.executemany(
            "INSERT INTO ledger_entries (idx, data) VALUES (?, ?)",
            zip(range(first_index, first_index + len(encoded)), encoded, strict=True),
        )

    def put_nodes(self, nodes: Sequence[NodeRow]) -> None:
        self._conn.executemany(
            "INSERT INTO ledger_nodes (level, idx, hash) VALUES (?, ?, ?)", nodes
        )

    def set_tail(self, tail: Tail) -> None:
        self._conn.execute(
            "UPDATE ledger_tail SET size = ?, last_hash = ?, border = ? WHERE id = 0",
            (tail.size, tail.last_hash, tail.border_blob()),
        )

    def existing_identities(self, identities: Sequence[bytes]) -> set[bytes]:
        found: set[bytes] = set()
        for start in range(0, len(identities), _IDENTITIES_PER_QUERY):
            chunk = list(identities[start : start + _IDENTITIES_PER_QUERY])
            marks = ", ".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT hash FROM ledger_identities WHERE hash IN ({marks})",  # noqa: S608
                chunk,
            ).fetchall()
            found.update(bytes(r[0]) for r in rows)
        return found

    def put_identities(self, rows: Sequence[tuple[bytes, int]]) -> None:
        self._conn.executemany("INSERT INTO ledger_identities (hash, idx) VALUES (?, ?)", rows)

    def put_kinds(self, rows: Sequence[KindRow]) -> None:
        self._conn.executemany("INSERT INTO ledger_kinds (idx, kind, ts) VALUES (?, ?, ?)", rows)

    def put_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        if checkpoint.size > _read_tail(self._conn).size:
            raise LedgerStoreError("a checkpoint cannot be larger than the log")
        self._conn.execute(
            "INSERT INTO ledger_checkpoints (size, created_ms, note) VALUES (?, ?, ?)",
            (checkpoint.size, checkpoint.created_ms, checkpoint.note),
        )

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return _run_text(self._conn, sql, params, "statement failed")

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            self._conn.executemany(sql, (tuple(r) for r in rows))
        except sqlite3.Error as exc:
            raise LedgerStoreError(f"statement failed: {exc}") from exc


def _run_text(
    conn: sqlite3.Connection, sql: str, params: Sequence[Any], failure: str
) -> list[tuple[Any, ...]]:
    # The store reads its own rows with text_factory=bytes (see SQLiteStore); callers
    # of execute and read_sql get TEXT as str, as from any sqlite3 connection.
    conn.text_factory = str
    try:
        return [tuple(row) for row in conn.execute(sql, tuple(params)).fetchall()]
    except sqlite3.Error as exc:
        raise LedgerStoreError(f"{failure}: {exc}") from exc
    finally:
        conn.text_factory = bytes


def _read_tail(conn: sqlite3.Connection, last: Tail | None = None) -> Tail:
    """The tail row as a :class:`Tail`; ``last``, unchanged, when the row still says it."""
    row = conn.execute("SELECT size, last_hash, border FROM ledger_tail WHERE id = 0").fetchone()
    if row is None:
        raise LedgerStoreError("the ledger_tail row is missing")
    if (
        last is not None
        and row[0] == last.size
        and row[1] == last.last_hash
        and row[2] == last.border_blob()
    ):
        return last
    try:
        return Tail.from_row(int(row[0]), bytes(row[1]), bytes(row[2]))
    except (TypeError, ValueError) as exc:
        raise LedgerStoreError(f"the ledger_tail row is corrupt: {exc}") from exc


def switch_to_wal(conn: sqlite3.Connection, timeout: float) -> str:
    """Set WAL mode, retrying while another connection holds the file.

    Switching a new file's journal mode needs an exclusive lock, and SQLite
    answers "database is locked" at once, without calling the busy handler,
    when several connections open a new file together; retry until ``timeout``.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            mode: str = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            return mode
        except sqlite3.OperationalError as exc:
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


class SQLiteStore(_SQLiteDialect):
    """A :class:`~ledger.store.Store` in one SQLite file (see the module docstring).

    ``timeout`` bounds, in seconds, how long a writer waits for another
    process's transaction. With ``read_only=True`` the file is opened
    read-only (it must already hold a ledger): nothing is created or
    written, :meth:`write` raises :class:`LedgerStoreError`, and
    :meth:`bind_origin` only checks the recorded origin. With
    ``create=False`` the file must already hold a ledger (nothing is created).
    Read-only or not creating, a missing file, an empty one or one holding only
    other tables raises :class:`~ledger.errors.NotALedgerError`, as does, in
    every mode, a file that is not SQLite at all; nothing is written to it.
    (A new ledger may share a file with other tables when it is created.)
    A file of layout version 1 is upgraded to version 2 when opened for
    writing (one transaction) and read as it is when opened read-only.
    Raises :class:`LedgerStoreError` when the file cannot be opened, holds a
    layout version we do not know, or the file system refuses WAL. One
    instance may be shared by threads.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 30.0,
        read_only: bool = False,
        create: bool = True,
    ) -> None:
        """Open (creating if needed, unless ``read_only`` or not ``create``) the ledger tables
        in the file at ``path``."""
        self._lock = threading.RLock()
        self._last_tail: Tail | None = None
        self._path = os.fspath(path)
        self._read_only = bool(read_only)
        self._version = SCHEMA_VERSION
        memory = self._path == ":memory:" or not self._path
        if (self._read_only or not create) and memory:
            raise NotALedgerError("opening an existing ledger needs the path of a file", self._path)
        if (self._read_only or not create) and not os.path.isfile(self._path):
            raise NotALedgerError(f"{self._path!r} does not exist: it holds no ledger", self._path)
        try:
            if memory:
                conn = sqlite3.connect(
                    self._path, timeout=timeout, isolation_level=None, check_same_thread=False
                )
            else:
                # mode=ro: SQLite opens the file without write access and never creates
                # it; mode=rw: an existing file only; mode=rwc: created when missing.
                mode = "ro" if self._read_only else ("rwc" if create else "rw")
                uri = "file:" + quote(os.path.abspath(self._path)) + "?mode=" + mode
                conn = sqlite3.connect(
                    uri, timeout=timeout, isolation_level=None, check_same_thread=False, uri=True
                )
        except sqlite3.Error as exc:
            raise LedgerStoreError(f"cannot open {self._path!r}: {exc}") from exc
        self._conn = conn
        try:
            # What the file holds is read before any setting is changed, so a file of
            # another kind is refused exactly as it was found.
            # A new ledger may share a file with other tables (the design's one-file
            # deployment); an existing one must be there to be opened as one.
            kind = self._classify()
            if kind != "ledger" and (self._read_only or not create):
                what = "tables of another kind" if kind == "other" else "no table at all"
                raise NotALedgerError(
                    f"{self._path!r} is not a ledger: it holds {what}", self._path
                )
            if not self._read_only:
                conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
                mode = switch_to_wal(conn, timeout)
                if mode != "wal" and self._path != ":memory:":
                    raise LedgerStoreError(f"{self._path!r} cannot use WAL (journal_mode={mode})")
                conn.execute("PRAGMA synchronous = FULL")
                conn.execute("PRAGMA secure_delete = ON")
                conn.execute("PRAGMA foreign_keys = ON")
            # A reader changes no setting stored in the file (the journal mode) and
            # needs none of the writer's; a file in WAL mode is read through its WAL,
            # so a reader sees every committed append.
            # TEXT values come back as bytes, so a row whose type was changed behind
            # our back (e.g. an entry stored as TEXT) is still read, and audited,
            # instead of failing inside sqlite3's UTF-8 decoding.
            conn.text_factory = bytes
            conn.execute(f"PRAGMA cache_size = {_PAGE_CACHE}")
            if self._read_only:
                self._version = self._check_version()
                return
            # The tables, once created, are never dropped: when they are there at our
            # version (the common case) opening needs no write lock.
            if not self._schema_ready():
                self._create_schema()
        except sqlite3.DatabaseError as exc:
            conn.close()
            if isinstance(exc, sqlite3.OperationalError):
                raise LedgerStoreError(f"cannot prepare {self._path!r}: {exc}") from exc
            raise NotALedgerError(f"{self._path!r} is not a ledger: {exc}", self._path) from exc
        except sqlite3.Error as exc:
            conn.close()
            raise LedgerStoreError(f"cannot prepare {self._path!r}: {exc}") from exc
        except LedgerStoreError:
            conn.close()
            raise

    def _classify(self) -> str:
        # "ledger" (ledger_meta is there), "empty" (no table at all) or "other".
        # Raises sqlite3.DatabaseError for a file that is not SQLite.
        names = {
            row[0]
            for row in self._conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            ).fetchall()
        }
        if "ledger_meta" in names:
            return "ledger"
        return "other" if names else "empty"

    def _schema_ready(self) -> bool:
        # True when the tables exist at our schema version, False when there are
        # none or they need the upgrade; raises for a ledger of an unknown version.
        conn = self._conn
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ledger_meta'"
        ).fetchone()
        if not exists:
            return False
        return self._check_version() == SCHEMA_VERSION

    def _check_version(self) -> int:
        # The layout version ledger_meta records; raises unless this code reads it
        # (sqlite3.Error when the table is missing).
        row = self._conn.execute(
            "SELECT value FROM ledger_meta WHERE key = 'schema_version'"
        ).fetchone()
        value = None if row is None else bytes(row[0])
        for version in READABLE_VERSIONS:
            if value == str(version).encode():
                return version
        raise LedgerStoreError(
            f"{self._path!r} has ledger schema version {value!r}; "
            f"this code reads versions {sorted(READABLE_VERSIONS)}"
        )

    def _create_schema(self) -> None:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Checked again under the write lock: another process may have created
            # or upgraded the tables since we looked.
            if not self._schema_ready():
                if conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ledger_meta'"
                ).fetchone():
                    self._upgrade()
                else:
                    for statement in SQLITE_SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute(
                        "INSERT INTO ledger_meta (key, value) VALUES ('schema_version', ?)",
                        (str(SCHEMA_VERSION),),
                    )
                    empty = Tail.empty()
                    conn.execute(
                        "INSERT INTO ledger_tail (id, size, last_hash, border) VALUES (0, 0, ?, ?)",
                        (empty.last_hash, b""),
                    )
                conn.execute(
                    "INSERT OR IGNORE INTO ledger_meta (key, value) VALUES (?, ?)",
                    (META_LEDGER_ID, os.urandom(16).hex()),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _upgrade(self) -> None:
        # Inside _create_schema's transaction. Version 1 -> 2: the identity table,
        # filled from the entries already stored (first occurrence of each).
        # Version 2 -> 3: the kind table, filled from the entries already stored.
        conn = self._conn
        if self._check_version() < 2:
            conn.execute(_IDENTITIES_TABLE)
            rows = conn.execute("SELECT idx, data FROM ledger_entries ORDER BY idx")
            conn.executemany(
                "INSERT OR IGNORE INTO ledger_identities (hash, idx) VALUES (?, ?)",
                identity_rows(rows),
            )
        conn.execute(_KINDS_TABLE)
        conn.execute("DELETE FROM ledger_kinds")  # refilled whole from the entries
        rows = conn.execute("SELECT idx, data FROM ledger_entries ORDER BY idx")
        conn.executemany(
            "INSERT OR IGNORE INTO ledger_kinds (idx, kind, ts) VALUES (?, ?, ?)", kind_rows(rows)
        )
        conn.execute(
            "UPDATE ledger_meta SET value = ? WHERE key = 'schema_version'",
            (str(SCHEMA_VERSION),),
        )

    @property
    def read_only(self) -> bool:
        """Whether this store was opened read-only (see the class docstring)."""
        return self._read_only

    @property
    def path(self) -> str:
        """The database file."""
        return self._path

    @contextmanager
    def write(self) -> Iterator[_SQLiteWriter]:
        """One ``BEGIN IMMEDIATE`` transaction; committed if the block succeeds, else rolled back.

        Raises :class:`LedgerStoreError` for any database failure (after rollback),
        and at once on a store opened read-only.
        """
        if self._read_only:
            raise LedgerStoreError(f"{self._path!r} is opened read-only: it cannot be written")
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise LedgerStoreError(f"cannot start a write transaction: {exc}") from exc
            try:
                yield _SQLiteWriter(conn)
                conn.execute("COMMIT")
            except BaseException as exc:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # no transaction left to roll back (SQLite already did)
                if isinstance(exc, sqlite3.Error):
                    raise LedgerStoreError(f"write failed and was rolled back: {exc}") from exc
                raise

    def _query(self, sql: str, params: Sequence[Any]) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise LedgerStoreError(f"read failed: {exc}") from exc

    def read_sql(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read statement (``?`` placeholders) outside any write transaction.

        For components that keep their own tables in the ledger's file (the
        registries' persisted position); TEXT comes back as ``str``. Raises
        :class:`LedgerStoreError` when the statement fails.
        """
        with self._lock:
            return _run_text(self._conn, sql, params, "read failed")

    def tail(self) -> Tail:
        """The committed tail."""
        with self._lock:
            try:
                # Readers ask for it before every proof; while it has not moved, the
                # Tail already decoded (an immutable value) is handed out again.
                self._last_tail = _read_tail(self._conn, self._last_tail)
                return self._last_tail
            except sqlite3.Error as exc:
                raise LedgerStoreError(f"read failed: {exc}") from exc

    def read_entries(self, start: int, limit: int) -> list[tuple[int, bytes]]:
        """Up to ``limit`` stored rows with ``index >= start``, ascending."""
        return self._query(
            "SELECT idx, data FROM ledger_entries WHERE idx >= ? ORDER BY idx LIMIT ?",
            (start, limit),
        )

    def read_nodes(self, ids: Sequence[NodeID]) -> list[bytes | None]:
        """The hash of each node id, or ``None``.

        One statement per :data:`_NODES_PER_QUERY` ids (a proof of any tree
        size fits in one): the wanted ids are a ``VALUES`` list joined to the
        node table's primary key, so a proof costs one query, not one per node.
        """
        found: dict[NodeID, bytes] = {}
        for start in range(0, len(ids), _NODES_PER_QUERY):
            chunk = ids[start : start + _NODES_PER_QUERY]
            rows = self._query(_nodes_query(len(chunk)), list(chain.from_iterable(chunk)))
            found.update({(level, index): h for level, index, h in rows})
        return [found.get((level, index)) for level, index in ids]

    def read_kinds(self, start: int, stop: int, kinds: Sequence[str]) -> KindRows | None:
        """The rows of ``kinds`` in ``start <= index < stop`` with the newest timestamp before
        each (see :meth:`~ledger.store.Store.read_kinds`); ``None`` on a layout older than
        version 3 (opened read-only). Two statements on the kind table's primary key;
        no entry of another kind is read."""
        if self._version < 3:
            return None
        count, newest = self._query(
            "SELECT COUNT(*), MAX(ts) FROM ledger_kinds WHERE idx >= ? AND idx < ?", (start, stop)
        )[0]
        rows: list[tuple[int, bytes, int | None]] = []
        if kinds and count:
            marks = ", ".join("?" * len(kinds))
            query = _KINDS_QUERY.format(marks=marks)
            rows = self._query(query, (start, stop, *kinds))
        return KindRows(int(count), newest, rows)

    def read_kind_rows(self, start: int, limit: int) -> list[StoredKindRow] | None:
        """Up to ``limit`` rows of the kind table with ``index >= start``, ascending, as
        stored (see :data:`~ledger.store._base.StoredKindRow`: what the audit compares
        with the entries); ``None`` on a layout older than version 3 (opened read-only).
        SQLite keeps what it is given: a kind that is not text or a timestamp that is
        not an integer reads as ``None``, which differs from every entry's."""
        if self._version < 3:
            return None
        rows: list[StoredKindRow] = self._query(
            "SELECT idx, CASE WHEN typeof(kind) = 'text' THEN kind END, "
            "CASE WHEN typeof(ts) = 'integer' THEN ts END "
            "FROM ledger_kinds WHERE idx >= ? ORDER BY idx LIMIT ?",
            (start, limit),
        )
        return rows

    def checkpoints(self, *, limit: int = 100) -> list[StoredCheckpoint]:
        """The most recent checkpoints, newest first."""
        rows = self._query(
            "SELECT size, note, created_ms FROM ledger_checkpoints ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        try:
            return [StoredCheckpoint(int(s), bytes(n).decode(), int(c)) for s, n, c in rows]
        except (TypeError, ValueError) as exc:
            raise LedgerStoreError(f"a stored checkpoint row is corrupt: {exc}") from exc

    def bind_origin(self, origin: str) -> None:
        """Record ``origin`` on first use; raise :class:`LedgerStoreError` for another log.

        On a read-only store, check only: the file must already record ``origin``.
        """
        # The origin, once recorded, never changes: a read settles the common case
        # without taking the write lock.
        recorded = self._query("SELECT value FROM ledger_meta WHERE key = 'origin'", ())
        if recorded:
            if recorded[0][0] != origin.encode():
                raise LedgerStoreError(
                    f"{self._path!r} holds the log {recorded[0][0]!r}, not {origin!r}"
                )
            return
        if self._read_only:
            raise LedgerStoreError(
                f"{self._path!r} records no log origin yet, and a read-only store cannot bind one"
            )
        with self.write():
            rows = self._query("SELECT value FROM ledger_meta WHERE key = 'origin'", ())
            if not rows:
                self._conn.execute(
                    "INSERT INTO ledger_meta (key, value) VALUES ('origin', ?)", (origin,)
                )
            elif rows[0][0] != origin.encode():
                raise LedgerStoreError(
                    f"{self._path!r} holds the log {rows[0][0]!r}, not {origin!r}"
                )

    def origin(self) -> str | None:
        """The origin recorded by :meth:`bind_origin`, or ``None``.

        Raises :class:`LedgerStoreError` when the stored value is not UTF-8 text.
        """
        rows = self._query("SELECT value FROM ledger_meta WHERE key = 'origin'", ())
        if not rows:
            return None
        try:
            return bytes(rows[0][0]).decode("utf-8")
        except (TypeError, UnicodeDecodeError) as exc:
            raise LedgerStoreError(f"the stored origin is corrupt: {exc}") from exc

    def meta(self, name: str) -> str | None:
        """A value recorded about the log (see :meth:`~ledger.store.Store.meta`), or ``None``."""
        rows = self._query("SELECT value FROM ledger_meta WHERE key = ?", (name,))
        if not rows:
            return None
        try:
            return bytes(rows[0][0]).decode("utf-8")
        except (TypeError, UnicodeDecodeError) as exc:
            raise LedgerStoreError(f"the stored {name} is corrupt: {exc}") from exc

    def bind_meta(self, name: str, value: str) -> str:
        """Record ``value`` under ``name`` unless one is recorded; return the recorded one.

        On a read-only store nothing is recorded.
        """
        recorded = self.meta(name)
        if recorded is not None or self._read_only:
            return value if recorded is None else recorded
        with self.write():
            self._conn.execute(
                "INSERT OR IGNORE INTO ledger_meta (key, value) VALUES (?, ?)", (name, value)
            )
        recorded = self.meta(name)
        return value if recorded is None else recorded

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
