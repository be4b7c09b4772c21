"""The vault's data in memory, beside a log in a :class:`~ledger.store.MemoryStore`.

For tests and demos: every vault rule holds (the same domain logic runs over
it), nothing is written to a file, and everything is lost when the process
ends. A transaction works on a copy of the data and replaces it only when
the block succeeds, so a failed write leaves the vault as it was. Writes
that go with log entries (:meth:`MemoryVaultBackend.join`) are applied when
the vault's part of the log's transaction succeeds, just before the memory
store commits the entries.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

from ledger.store._base import StoreWriter
from ledger.vault._store import CompactReport, ErasedRow, EventRow, RecordRow, SubjectRow
from ledger.vault.errors import VaultStoreError

__all__ = ["MemoryVaultBackend"]


@dataclass(slots=True)
class _Data:
    meta: dict[str, bytes] = field(default_factory=dict)
    subjects: dict[bytes, SubjectRow] = field(default_factory=dict)
    records: dict[bytes, RecordRow] = field(default_factory=dict)
    erased: dict[bytes, ErasedRow] = field(default_factory=dict)
    events: dict[bytes, EventRow] = field(default_factory=dict)

    def copy(self) -> _Data:
        # Rows are immutable tuples: copying the dicts isolates a transaction.
        return _Data(
            dict(self.meta),
            dict(self.subjects),
            dict(self.records),
            dict(self.erased),
            dict(self.events),
        )


class _MemoryTxn:
    """:class:`~ledger.vault._store.VaultTxn` over one copy of the data."""

    __slots__ = ("_d",)

    def __init__(self, data: _Data) -> None:
        self._d = data

    def meta(self) -> dict[str, bytes]:
        return dict(self._d.meta)

    def set_meta(self, key: str, value: bytes) -> None:
        self._d.meta[key] = bytes(value)

    def subjects(self) -> list[SubjectRow]:
        return list(self._d.subjects.values())

    def subject_key(self, tag: bytes) -> bytes | None:
        row = self._d.subjects.get(tag)
        return None if row is None else row.wrapped_key

    def add_subject(self, row: SubjectRow) -> None:
        self._d.subjects.setdefault(row.tag, row)

    def drop_subject_if_empty(self, tag: bytes) -> None:
        if not any(r.tag == tag for r in self._d.records.values()):
            self._d.subjects.pop(tag, None)

    def records(
        self,
        tag: bytes | None = None,
        *,
        record_id: str | None = None,
        version: int | None = None,
        current_only: bool = False,
    ) -> list[RecordRow]:
        rows = [
            r
            for r in self._d.records.values()
            if (tag is None or r.tag == tag)
            and (record_id is None or r.record_id == record_id)
            and (version is None or r.version == version)
            and not (current_only and r.superseded)
        ]
        return sorted(rows, key=lambda r: (r.record_id, r.version))

    def record(self, ref: bytes) -> RecordRow | None:
        return self._d.records.get(ref)

    def add_record(self, row: RecordRow) -> None:
        if row.tag not in self._d.subjects:
            raise VaultStoreError("a record needs its subject's key (foreign key)")
        taken = any(
            (r.record_id, r.version) == (row.record_id, row.version)
            for r in self._d.records.values()
        )
        if row.ref not in self._d.records and not taken:
            self._d.records[row.ref] = row

    def supersede(self, ref: bytes) -> bool:
        row = self._d.records.get(ref)
        if row is None or row.superseded:
            return False
        self._d.records[ref] = row._replace(superseded=True)
        return True

    def set_restricted(self, tag: bytes, record_id: str | None, restricted: bool) -> int:
        chosen = self.records(tag, record_id=record_id)
        for row in chosen:
            self._d.records[row.ref] = row._replace(restricted=restricted)
        return len(chosen)

    def erase_record(self, ref: bytes, tombstone_index: int, erased_ms: int) -> bool:
        row = self._d.records.pop(ref, None)
        if row is None:
            return False
        self.add_erased(
            ErasedRow(
                ref, row.tag, row.record_id, row.version, row.log_index, tombstone_index, erased_ms
            )
        )
        return True

    def erased(self, tag: bytes | None = None, *, record_id: str | None = None) -> list[ErasedRow]:
        rows = [
            r
            for r in self._d.erased.values()
            if (tag is None or r.tag == tag) and (record_id is None or r.record_id == record_id)
        ]
        return sorted(rows, key=lambda r: (r.tombstone_index, r.ref))

    def max_erased_version(self, record_id: str) -> int:
        return max(
            (r.version for r in self._d.erased.values() if r.record_id == record_id), default=0
        )

    def add_erased(self, row: ErasedRow) -> None:
        self._d.erased.setdefault(row.ref, row)

    def events(self, tag: bytes | None = None) -> list[EventRow]:
        rows = [r for r in self._d.events.values() if tag is None or r.tag == tag]
        return sorted(rows, key=lambda r: r.log_index)

    def add_event(self, row: EventRow) -> None:
        self._d.events.setdefault(row.ref, row)


class MemoryVaultBackend:
    """The vault's data in Python dicts, for a :class:`~ledger.vault.Vault` whose log is in a
    :class:`~ledger.store.MemoryStore` (``Vault(Log(MemoryStore(), ...), MemoryVaultBackend(),
    ...)``). Thread-safe: one lock serialises its transactions."""

    def __init__(self) -> None:
        """An empty vault."""
        self._lock = threading.RLock()
        self._data = _Data()

    @contextmanager
    def _staged(self) -> Iterator[_MemoryTxn]:
        with self._lock:
            staged = self._data.copy()
            yield _MemoryTxn(staged)
            self._data = staged

    def transaction(self) -> AbstractContextManager[_MemoryTxn]:
        """A serialised transaction over a copy, which replaces the data on success."""
        return self._staged()

    @contextmanager
    def read(self) -> Iterator[_MemoryTxn]:
        """The data as it stands (the lock held, so one consistent view)."""
        with self._lock:
            yield _MemoryTxn(self._data)

    def join(self, writer: StoreWriter) -> AbstractContextManager[_MemoryTxn]:
        """A transaction applied just before the memory store commits ``writer``'s entries.

        Raises :class:`VaultStoreError` for a log in another kind of store.
        """
        if writer.dialect != "memory":
            raise VaultStoreError(
                f"a memory vault needs its log in a memory store, not a {writer.dialect!r} store"
            )
        return self._staged()

    @property
    def read_only(self) -> bool:
        """Never: a memory vault is always writable."""
        return False

    def compact(self) -> CompactReport:
        """Nothing to do: deleted rows are dropped from the dicts and no file holds them."""
        return CompactReport(True, "memory: deleted rows dropped; no file holds them")

    def close(self) -> None:
        """Nothing to release."""
