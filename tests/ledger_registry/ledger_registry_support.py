"""Helpers of the registry tests: a settable clock shared by the log and the signers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from did_methods._wire.dates import from_unix_ms
from did_methods.keys import KeyType, PrivateKey
from ledger.entry import EntryDraft, SignedDraft
from ledger.log import Log
from ledger.registry import Signer
from ledger.store import SQLiteStore, Store
from ledger.store._base import KindRows

#: The origin of the logs of the persisted-follower tests.
ORIGIN = "persisted.example/ledger"

#: 2026-03-01T00:00:00Z in Unix ms: the start of every test clock.
START_MS = 1_772_323_200_000


class FakeClock:
    """A clock that only moves when told to; it keeps Unix ms (``ms``), the unit of
    an entry's timestamp, and returns the instant as an aware datetime."""

    def __init__(self, ms: int = START_MS) -> None:
        self.ms = ms

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.ms += int(timedelta(**delta).total_seconds() * 1000)
        return self.now

    @property
    def now(self) -> datetime:
        return from_unix_ms(self.ms)


def seeded_key(seed: int) -> PrivateKey:
    secret = seed.to_bytes(32, "big")
    return PrivateKey.generate(KeyType.ED25519, randbytes=lambda n: secret[:n])


class Counting:
    """Counts the entry rows a store hands out (mixed into a store class), by
    :meth:`read_entries` and by :meth:`read_kinds` (``scans``: the ranges it was asked)."""

    rows_read = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scans: list[tuple[int, int]] = []

    def read_entries(self, start: int, limit: int) -> list[tuple[int, bytes]]:
        rows: list[tuple[int, bytes]] = super().read_entries(start, limit)  # type: ignore[misc]
        self.rows_read += len(rows)
        return rows

    def read_kinds(self, start: int, stop: int, kinds: Sequence[str]) -> KindRows | None:
        self.scans.append((start, stop))
        found: KindRows | None = super().read_kinds(start, stop, kinds)  # type: ignore[misc]
        if found is not None:
            self.rows_read += len(found.rows)
        return found


class CountingStore(Counting, SQLiteStore):
    """A SQLite store that counts the entry rows it hands out."""


def raw_log(store: Store) -> Log:
    """The log without its append checks (a bulk import, or an operator writing by hand)."""
    return Log(store, origin=ORIGIN, verify_signatures=False, max_clock_skew_ms=None)


def filler(i: int, signer: Signer, at_ms: int) -> SignedDraft:
    return EntryDraft("vault.commitment", b"rec-%08d" % i).sign(
        signer.key, signer.submitter, now=lambda: from_unix_ms(at_ms)
    )
