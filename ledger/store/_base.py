"""The storage protocol of the log: what a backend must do, and nothing more.

The log tells a store what to read and write; the store knows nothing of
CBOR, signatures or Merkle arithmetic. A backend implements :class:`Store`,
whose :meth:`Store.write` opens ONE transaction that serialises appenders
across threads, connections and processes:

1. read the tail (:class:`Tail`: size, chain hash of the last entry, the
   compact-range border) *under the write lock*, so no other appender can
   take the same index;
2. write the new entries, the Merkle nodes they complete and the new tail;
3. commit on normal exit of the ``with`` block, roll back on any exception,
   so a failed write leaves the store exactly as it was.

Reads (entries by index range, nodes by id, checkpoints) run outside write
transactions and see only committed data.

Other tables in the same database (the vault's) can join the log's write
transaction through :meth:`StoreWriter.execute` and
:meth:`StoreWriter.executemany`, in the SQL of the writer's
:attr:`~StoreWriter.dialect`: their rows then commit with the entries or not
at all. :meth:`~ledger.log.Log.append_batch` hands the writer to a
``before_commit`` hook for exactly this. The :class:`~ledger.store.MemoryStore`
has no SQL tables: its writer refuses statements. A statement can reach any
table, the log's own included: it is for trusted components sharing the
database, and anything that rewrites the log's tables is what the audit finds.

Entry identities: the log hands the store the identity of each new entry
(:func:`~ledger.entry.entry_identity`) in the same transaction, and asks
which identities it holds already, so a replayed entry is refused
(``duplicate_entry``) whichever process appends it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ledger.entry import GENESIS_PREV_HASH, HASH_SIZE

__all__ = [
    "META_CHECKPOINT_KEY",
    "META_LEDGER_ID",
    "META_TRUST_ROOT",
    "READABLE_VERSIONS",
    "SCHEMA_VERSION",
    "KindRows",
    "NodeID",
    "NodeRow",
    "Store",
    "StoreWriter",
    "StoredCheckpoint",
    "Tail",
]

#: Version of the table layout written by the SQL stores (``meta.schema_version``).
#: Version 2 added ``ledger_identities`` (one row per entry identity) and the
#: ``ledger_id`` meta value; a writable opening upgrades a version 1 store in
#: one transaction, a read-only opening reads version 1 as it is.
#: Version 3 added ``ledger_kinds`` (each entry's kind and timestamp, so a registry
#: follower reads only the entries of its kinds); a writable opening upgrades an
#: older store (filling the table from the stored entries), a read-only opening reads
#: it as it is and answers :meth:`Store.read_kinds` with ``None``.
SCHEMA_VERSION = 3
#: The layout versions a store can still read (older ones are upgraded when written).
READABLE_VERSIONS = frozenset((1, 2, 3))

#: Names of the values :meth:`Store.meta` keeps beside the origin.
META_LEDGER_ID = "ledger_id"
META_CHECKPOINT_KEY = "checkpoint_key"
META_TRUST_ROOT = "trust_root"

NodeID = tuple[int, int]
"""``(level, index)`` of a perfect Merkle subtree (see :mod:`ledger._merkle`)."""

NodeRow = tuple[int, int, bytes]
"""``(level, index, hash)``: one Merkle node to persist."""

KindRow = tuple[int, str, int]
"""``(index, kind, timestamp)``: the kind and timestamp of one stored entry."""

StoredKindRow = tuple[int, bytes | None, int | None]
"""``(index, kind, timestamp)`` as the kind index holds them (what the audit compares
with the entries): the kind as its UTF-8 bytes, ``None`` for a stored kind that is
not text or a stored timestamp that is not an integer."""


@dataclass(frozen=True, slots=True)
class KindRows:
    """What :meth:`Store.read_kinds` answers for the entries ``start <= index < stop``.

    ``count`` entries of the range have a recorded kind (all of them when it is
    ``stop - start``); ``newest`` is the greatest timestamp of the range
    (``None`` for an empty one); ``rows`` holds ``(index, encoding, newest_before)``
    of each entry of the asked kinds, ascending, where ``newest_before`` is the
    greatest timestamp of the range's entries before it (``None`` for the first).
    """

    count: int
    newest: int | None
    rows: list[tuple[int, bytes, int | None]]


@dataclass(frozen=True, slots=True)
class Tail:
    """The end of the log as the store records it.

    ``size`` entries are stored at indices ``0 .. size - 1``; ``last_hash`` is
    the chain hash of entry ``size - 1`` (32 zero bytes when empty);
    ``border`` holds the compact-range hashes of the tree of ``size`` leaves,
    largest subtree first (one per set bit of ``size``).
    """

    size: int
    last_hash: bytes
    border: tuple[bytes, ...]

    @classmethod
    def empty(cls) -> Tail:
        """The tail of an empty log."""
        return cls(0, GENESIS_PREV_HASH, ())

    def border_blob(self) -> bytes:
        """The border hashes concatenated, as the SQL stores keep them."""
        return b"".join(self.border)

    @classmethod
    def from_row(cls, size: int, last_hash: bytes, border: bytes) -> Tail:
        """Rebuild a tail read from a table; raise ``ValueError`` if its shape is wrong."""
        if size < 0 or len(last_hash) != HASH_SIZE or len(border) != HASH_SIZE * size.bit_count():
            raise ValueError(f"stored tail of size {size} has the wrong shape")
        hashes = tuple(bytes(border[i : i + HASH_SIZE]) for i in range(0, len(border), HASH_SIZE))
        return cls(size, bytes(last_hash), hashes)


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A signed checkpoint the log produced: tree ``size``, the signed ``note``,
    and when it was made (``created_ms``, Unix milliseconds)."""

    size: int
    note: str
    created_ms: int


class StoreWriter(Protocol):
    """The operations available inside one write transaction."""

    def tail(self) -> Tail:
        """The tail as of this transaction (read under the write lock)."""
        ...

    def put_entries(self, first_index: int, encoded: Sequence[bytes]) -> None:
        """Store ``encoded[i]`` at index ``first_index + i``; an existing index is an error."""
        ...

    def put_nodes(self, nodes: Sequence[NodeRow]) -> None:
        """Store Merkle nodes ``(level, index, hash)``; an existing node id is an error."""
        ...

    def set_tail(self, tail: Tail) -> None:
        """Record the new tail; it becomes visible at commit."""
        ...

    def existing_identities(self, identities: Sequence[bytes]) -> set[bytes]:
        """Which of these entry identities (:func:`~ledger.entry.entry_identity`) the log
        already holds (read under the write lock)."""
        ...

    def put_identities(self, rows: Sequence[tuple[bytes, int]]) -> None:
        """Record ``(identity, index)`` of new entries; an identity already stored is an error."""
        ...

    def put_kinds(self, rows: Sequence[KindRow]) -> None:
        """Record ``(index, kind, timestamp)`` of new entries (what :meth:`Store.read_kinds`
        answers from)."""
        ...

    def put_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Record a signed checkpoint (its size must not exceed the tail's)."""
        ...

    @property
    def dialect(self) -> str:
        """The SQL that :meth:`execute` speaks: ``"sqlite"`` (``?`` placeholders),
        ``"postgresql"`` (``%s`` placeholders) or ``"memory"`` (none: no SQL)."""
        ...

    @property
    def table_prefix(self) -> str:
        """What goes before a table name in :meth:`execute`: ``""`` for SQLite, the
        schema and a dot (``"ssi_ledger."``) for PostgreSQL."""
        ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement of :attr:`dialect` inside this transaction; return its rows
        (``[]`` for a statement without a result; TEXT as ``str``, blobs as ``bytes``).

        The statement commits or rolls back with the log's entries. Raises
        :class:`~ledger.errors.LedgerStoreError` when it fails; let that end
        the ``with`` block, which rolls the whole transaction back. The memory
        store raises it for every statement.
        """
        ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement of :attr:`dialect` once per parameter row, in this transaction.

        Raises as :meth:`execute`.
        """
        ...


@runtime_checkable
class Store(Protocol):
    """A log's persistent state. Every failure raises ``LedgerStoreError``.

    Implementations: :class:`~ledger.store.MemoryStore`,
    :class:`~ledger.store.SQLiteStore`, :class:`~ledger.store.PostgresStore`.
    """

    def write(self) -> AbstractContextManager[StoreWriter]:
        """Open the one serialised write transaction; commit on exit, roll back on error."""
        ...

    def tail(self) -> Tail:
        """The committed tail."""
        ...

    def read_entries(self, start: int, limit: int) -> list[tuple[int, bytes]]:
        """Up to ``limit`` stored ``(index, encoding)`` rows with ``index >= start``, ascending.

        The rows are returned as stored, gaps included: callers that need
        index ``start + i`` at position ``i`` check it (the audit does).
        """
        ...

    def read_nodes(self, ids: Sequence[NodeID]) -> list[bytes | None]:
        """The hash of each node id, or ``None`` where the store has no such node."""
        ...

    def read_kinds(self, start: int, stop: int, kinds: Sequence[str]) -> KindRows | None:
        """The stored rows of ``kinds`` among ``start <= index < stop``, each with the newest
        timestamp before it in the range (see :class:`KindRows`), without reading the
        other entries; ``None`` when the store records no kinds (an older layout opened
        read-only)."""
        ...

    def checkpoints(self, *, limit: int = 100) -> list[StoredCheckpoint]:
        """The most recent stored checkpoints, newest first (at most ``limit``)."""
        ...

    def bind_origin(self, origin: str) -> None:
        """Record the log's origin on first use; raise if the store holds another log."""
        ...

    def origin(self) -> str | None:
        """The origin bound by :meth:`bind_origin` (the first :class:`~ledger.log.Log`
        opened on this store), or ``None`` for a store no log has used yet."""
        ...

    def meta(self, name: str) -> str | None:
        """A value the store records about its log (``ledger_id``, ``checkpoint_key``,
        ``trust_root``), or ``None`` when it records none."""
        ...

    def bind_meta(self, name: str, value: str) -> str:
        """Record ``value`` under ``name`` unless a value is recorded; return the recorded one.

        The first caller wins, under the write lock: a caller compares the
        result with its own value. A read-only store records nothing and
        returns ``value`` when nothing is recorded.
        """
        ...

    def close(self) -> None:
        """Release connections and files; the store must not be used afterwards."""
        ...


def identity_rows(encoded: Iterable[tuple[int, bytes]]) -> list[tuple[bytes, int]]:
    """``(identity, index)`` of stored entry rows: the fill of ``ledger_identities`` when a
    version 1 store is upgraded. A row that is not an entry, or a second row
    with an identity already seen, gets no identity (the audit reports the
    first; the registries ignore the second)."""
    from ledger.entry import entry_identity
    from ledger.errors import EntryError

    seen: set[bytes] = set()
    out: list[tuple[bytes, int]] = []
    for index, data in encoded:
        try:
            identity = entry_identity(bytes(data))
        except EntryError:
            continue
        if identity not in seen:
            seen.add(identity)
            out.append((identity, int(index)))
    return out


def kind_rows(encoded: Iterable[tuple[int, bytes]]) -> list[KindRow]:
    """``(index, kind, timestamp)`` of stored entry rows: the fill of ``ledger_kinds`` when an
    older store is upgraded. A row that is not an entry gets none (a reader of its range
    then finds a row missing and reads the entries themselves, which reports it)."""
    from did_methods.errors import SSIWalletError
    from ledger.entry import ABSOLUTE_MAX_PAYLOAD, Entry

    out: list[KindRow] = []
    for index, data in encoded:
        try:
            entry = Entry.decode(bytes(data), max_payload=ABSOLUTE_MAX_PAYLOAD)
        except SSIWalletError:
            continue
        if entry.index == int(index):
            out.append((int(index), entry.kind, entry.timestamp))
    return out
