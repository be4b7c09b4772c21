"""What the vault persists, as typed operations inside one transaction.

The :class:`~ledger.vault.Vault` is domain logic (keys, sealing, the log,
the GDPR rights); it reaches its data only through a :class:`VaultTxn`,
given by a backend's :meth:`VaultBackend.transaction` (serialised writes),
:meth:`VaultBackend.read` (one consistent snapshot) or
:meth:`VaultBackend.join` (inside the log store's append transaction, so a
vault write commits with its log entries or not at all).

The vault persists five things: its meta values (key ids, the wrapped index
key, the replay position, its id), subject keys (one wrapped data key and
the sealed subject id per subject tag), record versions (ciphertext,
commitment, flags), erasure markers (tombstones applied), and the access log
(events with their commitment keys). The SQL backends live in
:mod:`ledger.vault._backend` (SQLite) and :mod:`ledger.vault.postgres`.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, TypeVar, get_type_hints

from did_methods._wire.renamed import warn_renamed
from ledger.store._base import StoreWriter

__all__ = [
    "CompactReport",
    "ErasedRow",
    "EventRow",
    "RecordRow",
    "SubjectRow",
    "VaultBackend",
    "VaultTxn",
    "row_from_values",
]


class SubjectRow(NamedTuple):
    """A subject's data key (wrapped by the master key) and its sealed id."""

    tag: bytes
    wrapped_key: bytes
    sealed_id: bytes
    created_ms: int


class RecordRow(NamedTuple):
    """One sealed record version and the place of its commitment on the log."""

    ref: bytes
    tag: bytes
    record_id: str
    version: int
    nonce: bytes
    ciphertext: bytes
    commitment: bytes
    log_index: int
    created_ms: int
    minor: bool
    restricted: bool
    superseded: bool


class ErasedRow(NamedTuple):
    """An erased record version: ids and the tombstone's place on the log, nothing else."""

    ref: bytes
    tag: bytes
    record_id: str
    version: int
    commit_index: int
    tombstone_index: int
    erased_ms: int


class EventRow(NamedTuple):
    """A logged release, refusal or access (the canonical event and its commitment key)."""

    ref: bytes
    tag: bytes
    log_index: int
    commitment_key: bytes
    event: bytes


Row = TypeVar("Row", SubjectRow, RecordRow, ErasedRow, EventRow)

_BYTES = (bytes, bytearray, memoryview)


def row_from_values(kind: type[Row], values: Sequence[Any]) -> Row:
    """A typed row from its column values in table order (as stored or backed up).

    Raises ``ValueError`` when the count or a value's type is wrong (no coercion:
    a number is never read as bytes, nor bytes as text).
    """
    columns = _columns(kind)
    if len(values) != len(columns):
        raise ValueError(f"a {kind.__name__} has {len(columns)} columns, not {len(values)}")
    out: list[Any] = []
    for (name, want), value in zip(columns, values, strict=True):
        if want is bytes and isinstance(value, _BYTES):
            out.append(bytes(value))
        elif want is str and isinstance(value, str):
            out.append(value)
        elif want in (int, bool) and isinstance(value, int):
            out.append(want(value))
        else:
            raise ValueError(
                f"{kind.__name__}.{name} must be {want.__name__}, not {type(value).__name__}"
            )
    return kind(*out)


_COLUMNS: dict[str, tuple[tuple[str, type], ...]] = {}


def _columns(kind: type[tuple[Any, ...]]) -> tuple[tuple[str, type], ...]:
    found = _COLUMNS.get(kind.__name__)
    if found is None:
        found = _COLUMNS[kind.__name__] = tuple(get_type_hints(kind).items())
    return found


@dataclass(frozen=True, slots=True)
class CompactReport:
    """What :meth:`VaultBackend.compact` achieved.

    ``ok`` is true when the erased bytes are gone from every database
    file the backend controls (SQLite: main file and WAL; PostgreSQL: the
    vault tables' files); ``detail`` says what was run, or what blocked it
    (e.g. another process holding a read transaction on the WAL).
    """

    ok: bool
    detail: str

    @property
    def complete(self) -> bool:
        """Deprecated spelling of :attr:`ok` (warns; goes in the next release)."""
        warn_renamed("CompactReport.complete", "CompactReport.ok")
        return self.ok


class VaultTxn(Protocol):
    """The vault's data inside one transaction. Every failure raises ``VaultStoreError``.

    Lists come in a stable order: records by ``(record_id, version)``,
    erasures by tombstone index, events by log index.
    """

    def meta(self) -> dict[str, bytes]:
        """Every meta value by name."""
        ...

    def set_meta(self, key: str, value: bytes) -> None:
        """Insert or replace one meta value."""
        ...

    def subjects(self) -> list[SubjectRow]:
        """Every subject key."""
        ...

    def subject_key(self, tag: bytes) -> bytes | None:
        """The wrapped data key of the subject ``tag``, or None."""
        ...

    def add_subject(self, row: SubjectRow) -> None:
        """Add a subject key, unless one with that tag exists."""
        ...

    def drop_subject_if_empty(self, tag: bytes) -> None:
        """Delete the subject key ``tag`` when no record of it remains (crypto-shredding)."""
        ...

    def records(
        self,
        tag: bytes | None = None,
        *,
        record_id: str | None = None,
        version: int | None = None,
        current_only: bool = False,
    ) -> list[RecordRow]:
        """The record versions matching every filter given."""
        ...

    def record(self, ref: bytes) -> RecordRow | None:
        """The record version ``ref``, or None."""
        ...

    def add_record(self, row: RecordRow) -> None:
        """Add a record version, unless its ref or its (record id, version) exists."""
        ...

    def supersede(self, ref: bytes) -> bool:
        """Flag the current version ``ref`` superseded; false when it is not current."""
        ...

    def set_restricted(self, tag: bytes, record_id: str | None, restricted: bool) -> int:
        """Set the restriction of the subject's records (or one record); return how many."""
        ...

    def erase_record(self, ref: bytes, tombstone_index: int, erased_ms: int) -> bool:
        """Replace the record version ``ref`` by its erasure marker; false when absent."""
        ...

    def erased(self, tag: bytes | None = None, *, record_id: str | None = None) -> list[ErasedRow]:
        """The erasure markers matching every filter given."""
        ...

    def max_erased_version(self, record_id: str) -> int:
        """The highest erased version of ``record_id`` (0 when none)."""
        ...

    def add_erased(self, row: ErasedRow) -> None:
        """Add an erasure marker, unless one with that ref exists."""
        ...

    def events(self, tag: bytes | None = None) -> list[EventRow]:
        """The access log (of one subject, when ``tag`` is given)."""
        ...

    def add_event(self, row: EventRow) -> None:
        """Add an access-log event, unless one with that ref exists."""
        ...


class VaultBackend(Protocol):
    """Where the vault's data lives. Every failure raises ``VaultStoreError``."""

    @property
    def read_only(self) -> bool:
        """Whether it was opened read-only (then ``transaction`` raises)."""
        ...

    def transaction(self) -> AbstractContextManager[VaultTxn]:
        """A serialised write transaction: committed on normal exit, rolled back on error."""
        ...

    def read(self) -> AbstractContextManager[VaultTxn]:
        """A read transaction seeing one consistent snapshot."""
        ...

    def join(self, writer: StoreWriter) -> AbstractContextManager[VaultTxn]:
        """The vault's data inside the log store's write transaction ``writer``: what the
        block writes commits with that transaction's log entries, and none of it when the
        block raises.

        Raises ``VaultStoreError`` when the log's store cannot hold this vault.
        """
        ...

    def compact(self) -> CompactReport:
        """Remove the bytes of deleted rows from the storage (after an erasure)."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...
