"""An in-memory store: the whole log in Python lists and dicts, for tests and demos.

It keeps every guarantee of the protocol except durability: writes are
staged in the transaction and applied only at commit, and a lock serialises
writers, so a failed batch leaves the store as it was. It has no SQL tables,
so its writer refuses :meth:`~ledger.store.StoreWriter.execute`: the vault,
whose tables join the log's transactions, cannot live in a memory store.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ledger.errors import LedgerStoreError
from ledger.store._base import (
    META_LEDGER_ID,
    KindRow,
    KindRows,
    NodeID,
    NodeRow,
    StoredCheckpoint,
    StoredKindRow,
    Tail,
)

__all__ = ["MemoryStore"]


class _MemoryWriter:
    """Staged writes of one transaction; applied by :class:`MemoryStore` at commit."""

    __slots__ = (
        "_checkpoints",
        "_entries",
        "_first",
        "_identities",
        "_kinds",
        "_nodes",
        "_store",
        "_tail",
    )

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._tail = store._tail
        self._first = store._tail.size
        self._entries: list[bytes] = []
        self._nodes: dict[NodeID, bytes] = {}
        self._checkpoints: list[StoredCheckpoint] = []
        self._identities: dict[bytes, int] = {}
        self._kinds: dict[int, tuple[str, int]] = {}

    def tail(self) -> Tail:
        return self._tail

    def put_kinds(self, rows: Sequence[KindRow]) -> None:
        for index, kind, timestamp in rows:
            self._kinds[int(index)] = (str(kind), int(timestamp))

    def existing_identities(self, identities: Sequence[bytes]) -> set[bytes]:
        known = self._store._identities
        return {i for i in identities if i in known or i in self._identities}

    def put_identities(self, rows: Sequence[tuple[bytes, int]]) -> None:
        for identity, index in rows:
            key = bytes(identity)
            if key in self._identities or key in self._store._identities:
                raise LedgerStoreError("an entry with this identity is already stored")
            self._identities[key] = index

    def put_entries(self, first_index: int, encoded: Sequence[bytes]) -> None:
        if first_index != self._first + len(self._entries):
            raise LedgerStoreError(f"entries must be appended in order, not at {first_index}")
        self._entries.extend(bytes(e) for e in encoded)

    def put_nodes(self, nodes: Sequence[NodeRow]) -> None:
        for level, index, value in nodes:
            key = (level, index)
            if key in self._nodes or key in self._store._nodes:
                raise LedgerStoreError(f"Merkle node {key} already exists")
            self._nodes[key] = bytes(value)

    def set_tail(self, tail: Tail) -> None:
        self._tail = tail

    def put_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        if checkpoint.size > self._tail.size:
            raise LedgerStoreError("a checkpoint cannot be larger than the log")
        self._checkpoints.append(checkpoint)

    @property
    def dialect(self) -> str:
        return "memory"

    @property
    def table_prefix(self) -> str:
        return ""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise LedgerStoreError("the memory store has no SQL tables")

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        raise LedgerStoreError("the memory store has no SQL tables")


class MemoryStore:
    """A :class:`~ledger.store.Store` held in memory (lost when the process ends).

    Thread-safe: one lock serialises writers and readers.
    """

    def __init__(self) -> None:
        """Create an empty store."""
        self._lock = threading.RLock()
        self._entries: list[bytes] = []
        self._nodes: dict[NodeID, bytes] = {}
        self._tail = Tail.empty()
        self._checkpoints: list[StoredCheckpoint] = []
        self._origin: str | None = None
        self._identities: dict[bytes, int] = {}
        self._kinds: dict[int, tuple[str, int]] = {}
        self._meta: dict[str, str] = {META_LEDGER_ID: os.urandom(16).hex()}

    @contextmanager
    def write(self) -> Iterator[_MemoryWriter]:
        """One serialised transaction: staged writes are applied only if the block succeeds."""
        with self._lock:
            writer = _MemoryWriter(self)
            yield writer
            if writer._first + len(writer._entries) != writer._tail.size:
                raise LedgerStoreError("the new tail does not match the entries written")
            # Commit: nothing below can fail.
            self._entries.extend(writer._entries)
            self._nodes.update(writer._nodes)
            self._tail = writer._tail
            self._checkpoints.extend(writer._checkpoints)
            self._identities.update(writer._identities)
            self._kinds.update(writer._kinds)

    def tail(self) -> Tail:
        """The committed tail."""
        return self._tail

    def read_entries(self, start: int, limit: int) -> list[tuple[int, bytes]]:
        """Up to ``limit`` rows from index ``start`` on."""
        with self._lock:
            start = max(start, 0)
            return list(enumerate(self._entries[start : start + max(limit, 0)], start))

    def read_kinds(self, start: int, stop: int, kinds: Sequence[str]) -> KindRows:
        """The entries of ``kinds`` in ``start <= index < stop``, each with the newest
        timestamp before it in the range (see :meth:`~ledger.store.Store.read_kinds`)."""
        wanted = frozenset(kinds)
        rows: list[tuple[int, bytes, int | None]] = []
        newest: int | None = None
        count = 0
        with self._lock:
            for index in range(max(start, 0), min(stop, len(self._entries))):
                found = self._kinds.get(index)
                if found is None:
                    continue
                count += 1
                if found[0] in wanted:
                    rows.append((index, self._entries[index], newest))
                newest = found[1] if newest is None else max(newest, found[1])
        return KindRows(count, newest, rows)

    def read_kind_rows(self, start: int, limit: int) -> list[StoredKindRow]:
        """Up to ``limit`` recorded ``(index, kind, timestamp)`` rows from index ``start``
        on, ascending (see :meth:`ledger.store.SQLiteStore.read_kind_rows`)."""
        limit = max(limit, 0)
        with self._lock:
            kinds = self._kinds
            found = [i for i in range(start, start + limit) if i in kinds]
            if len(found) < limit:  # a gap: the rows further on, in order
                found = sorted(i for i in kinds if i >= start)[:limit]
            return [(i, kinds[i][0].encode(), kinds[i][1]) for i in found]

    def read_nodes(self, ids: Sequence[NodeID]) -> list[bytes | None]:
        """The hash of each node id, or ``None``."""
        with self._lock:
            return [self._nodes.get(node) for node in ids]

    def checkpoints(self, *, limit: int = 100) -> list[StoredCheckpoint]:
        """The most recent checkpoints, newest first."""
        with self._lock:
            return self._checkpoints[::-1][: max(limit, 0)]

    def bind_origin(self, origin: str) -> None:
        """Record ``origin``; raise :class:`LedgerStoreError` if another one is recorded."""
        with self._lock:
            if self._origin is None:
                self._origin = origin
            elif self._origin != origin:
                raise LedgerStoreError(f"this store holds the log {self._origin!r}, not {origin!r}")

    def origin(self) -> str | None:
        """The origin recorded by :meth:`bind_origin`, or ``None``."""
        return self._origin

    def meta(self, name: str) -> str | None:
        """A recorded value (see :meth:`~ledger.store.Store.meta`), or ``None``."""
        return self._meta.get(name)

    def bind_meta(self, name: str, value: str) -> str:
        """Record ``value`` under ``name`` unless one is recorded; return the recorded one."""
        with self._lock:
            return self._meta.setdefault(name, value)

    def close(self) -> None:
        """Nothing to release."""
