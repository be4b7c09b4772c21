"""The follower's position and kind index, persisted in the ledger's own database.

A :class:`~ledger.registry.LogFollower` opened with ``persist=True`` on a
SQLite or PostgreSQL store keeps two tables beside the log's:

``ledger_follower`` (one row)
    ``layout`` (:data:`FOLLOWER_LAYOUT`), ``position`` (entries read), ``root``
    (the log's tree root at ``position``), ``newest`` (the greatest entry
    timestamp before ``position``) and ``kinds`` (the registry entry kinds
    indexed, sorted, comma-separated);
``ledger_follower_entries``
    one row per entry of those kinds before ``position``: ``idx``, ``kind`` and
    ``newest_before`` (the greatest timestamp of the entries before it, which
    the ``backdated`` rule compares with).

A fresh process then hands its registries exactly the entries a full replay
would (the registry entries, in log order, each with the timestamp bound of
its position) without reading the others, and reads only what was appended
after ``position``. The state is never taken on trust: it is used only when
its layout is this one, it indexes every kind the follower needs, its
``position`` is within the log and the log's root at ``position`` is
``root``, and every indexed entry is read from the log and has the recorded
kind. Anything else (a state from another log, a truncated or rewritten log,
an older layout) is ignored, the log is replayed from the start, and a
writable store gets the rebuilt state. A read-only store is never written:
its follower keeps what it builds in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ledger.errors import LedgerError, LedgerStoreError
from ledger.log import Log
from ledger.store._base import StoreWriter

__all__ = ["FOLLOWER_LAYOUT", "KindRow", "PersistedPosition", "load_position", "save_position"]

#: Version of the follower's table layout (``ledger_follower.layout``).
FOLLOWER_LAYOUT = 1

KindRow = tuple[int, str, int]
"""``(idx, kind, newest_before)``: one indexed registry entry."""

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS {p}ledger_follower (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    layout INTEGER NOT NULL,
    position INTEGER NOT NULL CHECK (position >= 0),
    root BLOB NOT NULL,
    newest INTEGER NOT NULL,
    kinds TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS {p}ledger_follower_entries (
    idx INTEGER PRIMARY KEY CHECK (idx >= 0),
    kind TEXT NOT NULL,
    newest_before INTEGER NOT NULL
)""",
)
_READ_STATE = "SELECT layout, position, root, newest, kinds FROM {p}ledger_follower WHERE id = 0"
_READ_ROWS = (
    "SELECT idx, kind, newest_before FROM {p}ledger_follower_entries WHERE idx < ? ORDER BY idx"
)
_INSERT_ROW = (
    "INSERT INTO {p}ledger_follower_entries (idx, kind, newest_before) VALUES (?, ?, ?) "
    "ON CONFLICT (idx) DO NOTHING"
)
_UPSERT_STATE = (
    "INSERT INTO {p}ledger_follower (id, layout, position, root, newest, kinds) "
    "VALUES (0, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET layout = excluded.layout, "
    "position = excluded.position, root = excluded.root, newest = excluded.newest, "
    "kinds = excluded.kinds"
)


class _SQLStore(Protocol):
    # What the SQL stores offer beyond the Store protocol (SQLiteStore, PostgresStore).
    @property
    def dialect(self) -> str: ...

    @property
    def table_prefix(self) -> str: ...

    @property
    def read_only(self) -> bool: ...

    def read_sql(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


def _sql(template: str, dialect: str, prefix: str) -> str:
    sql = template.replace("{p}", prefix)
    if dialect == "postgresql":
        sql = sql.replace("BLOB", "BYTEA").replace("INTEGER", "BIGINT").replace("?", "%s")
    return sql


def sql_store(log: Log) -> _SQLStore | None:
    """The log's store when it can keep the follower's tables (SQLite, PostgreSQL), else None."""
    store: Any = log.store
    if getattr(store, "dialect", None) not in ("sqlite", "postgresql"):
        return None
    if not callable(getattr(store, "read_sql", None)):
        return None
    return store  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class PersistedPosition:
    """A checked persisted state: ``position``, ``newest`` and the indexed ``rows``."""

    position: int
    newest: int
    rows: tuple[KindRow, ...]


def _kinds_text(kinds: frozenset[str]) -> str:
    return ",".join(sorted(kinds))


def _matches_log(log: Log, position: object, root: object) -> bool:
    # The persisted position must lie within this log and the log's tree at that size
    # must have the persisted root: another log, or a truncated or rewritten one, fails.
    if type(position) is not int or not isinstance(root, bytes | bytearray | memoryview):
        return False
    try:
        return 0 <= position <= log.size and log.root(position) == bytes(root)
    except LedgerError:
        return False


def load_position(log: Log, kinds: frozenset[str]) -> PersistedPosition | None:
    """The persisted state of ``log`` for a follower of ``kinds``, or ``None`` when there is
    none or it does not match the log (see the module docstring). Reads no entry."""
    store = sql_store(log)
    if store is None:
        return None
    dialect, prefix = store.dialect, store.table_prefix
    try:
        found = store.read_sql(_sql(_READ_STATE, dialect, prefix))
    except LedgerStoreError:
        return None  # no table yet (or unreadable): replay
    if len(found) != 1:
        return None
    layout, position, root, newest, stored_kinds = found[0]
    if layout != FOLLOWER_LAYOUT or type(newest) is not int or not isinstance(stored_kinds, str):
        return None
    if not kinds <= frozenset(stored_kinds.split(",")):
        return None
    if not _matches_log(log, position, root):
        return None
    try:
        rows = store.read_sql(_sql(_READ_ROWS, dialect, prefix), (position,))
    except LedgerStoreError:
        return None
    out: list[KindRow] = []
    for idx, kind, before in rows:
        if type(idx) is not int or not isinstance(kind, str) or type(before) is not int:
            return None
        if kind in kinds:
            out.append((idx, kind, before))
    return PersistedPosition(position, newest, tuple(out))


def save_position(
    log: Log, kinds: frozenset[str], position: int, newest: int, rows: Sequence[KindRow]
) -> int | None:
    """Persist the follower's state at ``position`` (``rows``: every indexed entry before it,
    in log order); return the position the database now holds, or ``None`` when this
    store cannot keep it (no SQL, read-only).

    Adds only the rows after a persisted position that matches the log;
    replaces a state that does not; leaves alone a matching one that is further
    ahead (another process's). Raises :class:`~ledger.errors.LedgerStoreError`
    when the write fails (nothing is written then).
    """
    store = sql_store(log)
    if store is None or store.read_only:
        return None
    dialect, prefix = store.dialect, store.table_prefix
    text = _kinds_text(kinds)
    with log.store.write() as writer:
        run = _runner(writer, dialect, prefix)
        for statement in _SCHEMA:
            run(statement, ())
        found = run(_READ_STATE, ())
        base = 0
        if found:
            layout, held, root, _, stored_kinds = found[0]
            if layout == FOLLOWER_LAYOUT and stored_kinds == text and _matches_log(log, held, root):
                if held >= position:
                    return int(held)
                base = int(held)
        if base == 0:
            run("DELETE FROM {p}ledger_follower_entries", ())
        fresh = [row for row in rows if base <= row[0] < position]
        if fresh:
            writer.executemany(_sql(_INSERT_ROW, dialect, prefix), fresh)
        run(_UPSERT_STATE, (FOLLOWER_LAYOUT, position, log.root(position), newest, text))
    return position


def _runner(
    writer: StoreWriter, dialect: str, prefix: str
) -> Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]:
    def run(template: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return writer.execute(_sql(template, dialect, prefix), params)

    return run
