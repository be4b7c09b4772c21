"""The registry follower's catch-up reads only the entries of its kinds (ledger_kinds, layout
version 3): a fresh process after many entries of another kind decodes only the registry
entries, and judges exactly as a full read does (``backdated`` against the newest earlier
entry of any kind, ``duplicate_entry`` for a replay); an older layout opened read-only is read
whole and written never; a writable opening upgrades it."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from ledger_registry.ledger_registry_support import (
    ORIGIN,
    Counting,
    CountingStore,
    FakeClock,
    filler,
    raw_log,
    seeded_key,
)

from did_methods._wire.dates import from_unix_ms
from ledger.entry import Entry
from ledger.facade import Ledger
from ledger.registry import KIND_ACCREDIT, Signer
from ledger.store import SQLiteStore, Store
from ledger.store._base import SCHEMA_VERSION, KindRows

MINUTE_MS = 60_000
OTHERS = 50_000
_DSN = os.environ.get("SSI_WALLET_TEST_POSTGRES_DSN")


class FullReadStore(SQLiteStore):
    """A SQLite store that records no kinds for its readers: they read every entry."""

    def read_kinds(self, start: int, stop: int, kinds: Sequence[str]) -> KindRows | None:
        return None


# -- the stores under test: (open a store by name, a cleanup) --------------------------

Opener = Callable[..., Any]


@contextmanager
def _sqlite(tmp_path: Path) -> Iterator[Opener]:
    path = tmp_path / "log.db"

    def open_store(*, counting: bool = False, read_only: bool = False) -> Any:
        cls = CountingStore if counting else SQLiteStore
        return cls(path, read_only=read_only)

    yield open_store


@contextmanager
def _postgres(tmp_path: Path) -> Iterator[Opener]:
    if _DSN is None:
        pytest.skip("needs SSI_WALLET_TEST_POSTGRES_DSN")
    import psycopg

    from ledger.store.postgres import PostgresStore

    class CountingPG(Counting, PostgresStore):
        pass

    schema = "cu_" + uuid.uuid4().hex[:10]

    def open_store(*, counting: bool = False, read_only: bool = False) -> Any:
        cls = CountingPG if counting else PostgresStore
        return cls(_DSN, schema=schema, read_only=read_only)

    try:
        yield open_store
    finally:
        with psycopg.connect(_DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


STORES = {"sqlite": _sqlite, "postgres": _postgres}


def _accredit(by: Signer, subject: str, at_ms: int) -> Any:
    payload = {
        "v": 1,
        "subject": subject,
        "types": ["WorkPermit"],
        "jurisdiction": "LT",
        "validFrom": at_ms,
        "validUntil": None,
        "delegate": True,
    }
    return by.sign(KIND_ACCREDIT, payload, now=lambda: from_unix_ms(at_ms))


def _others(store: Store, count: int, clock: FakeClock, *, peak_at: int | None = None) -> None:
    # ``count`` entries of another kind by a raw appender, one ms apart; the one at
    # ``peak_at`` (if any) is timestamped an hour ahead of the rest.
    author = Signer.for_did_key(seeded_key(3))
    log = raw_log(store)
    for first in range(0, count, 10_000):
        batch = []
        for i in range(first, min(count, first + 10_000)):
            ms = clock.ms + i + (60 * MINUTE_MS if i == peak_at else 0)
            batch.append(filler(i, author, ms))
        log.append_batch(batch)
    clock.ms += count


@pytest.mark.parametrize("kind", sorted(STORES))
def test_fresh_process_after_many_other_entries_decodes_only_registry_entries(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    root = Signer.for_did_key(seeded_key(1))
    first, second = (Signer.for_did_key(seeded_key(n)).did for n in (2, 4))
    with STORES[kind](tmp_path) as open_store:
        store = open_store()
        with Ledger(store, key=root.key, origin=ORIGIN, clock=clock) as led:
            led.accredit(first, types=["WorkPermit"], jurisdiction="LT", by=root.key)
            held = led.log.size  # the follower persisted its position here
        store = open_store()
        _others(store, OTHERS, clock)
        raw_log(store).append(_accredit(root, second, clock.ms))
        size = raw_log(store).size
        store.close()
        clock.ms += 1000
        decoded: list[int] = []
        decode = Entry.decode.__func__  # type: ignore[attr-defined]

        def counting_decode(cls: type[Entry], data: bytes, **kwargs: Any) -> Entry:
            entry: Entry = decode(cls, data, **kwargs)
            decoded.append(entry.index)
            return entry

        monkeypatch.setattr(Entry, "decode", classmethod(counting_decode))
        for read_only in (True, False):
            decoded.clear()
            store = open_store(counting=True, read_only=read_only)
            with Ledger(store, origin=ORIGIN, clock=clock) as led:
                assert led.issuers.was_accredited(
                    second, "WorkPermit", clock.now, evidence=False
                ).ok
                assert led.issuers.was_accredited(first, "WorkPermit", clock.now, evidence=False).ok
                # The persisted accreditation, and the new one: none of the 50,000.
                assert store.rows_read == 2
                assert store.scans == [(held, size)]
                assert sorted(set(decoded)) == [held - 1, size - 1]
        monkeypatch.undo()
        # The writable opening persisted the position after the new registry entry.
        store = open_store(counting=True, read_only=True)
        with Ledger(store, origin=ORIGIN, clock=clock) as led:
            assert led.issuers.was_accredited(second, "WorkPermit", clock.now, evidence=False).ok
            assert store.scans == []


def _verdicts(store: Store, root: Signer) -> list[str | None]:
    with Ledger(store, origin=ORIGIN, trust_root=root.did) as led:
        out = []
        for index in range(led.log.size):
            problem = led.issuers.rejection(index)
            out.append(None if problem is None else problem.code)
        return out


def test_backdated_after_many_other_entries_is_still_refused(tmp_path: Path) -> None:
    # The newest earlier entry is an entry of another kind in the middle of the range
    # (neither the last one nor a registry entry): the running maximum must see it.
    clock = FakeClock()
    root = Signer.for_did_key(seeded_key(1))
    issuer, late = (Signer.for_did_key(seeded_key(n)).did for n in (2, 4))
    path = tmp_path / "log.db"
    with Ledger(SQLiteStore(path), key=root.key, origin=ORIGIN, clock=clock) as led:
        led.accredit(issuer, types=["WorkPermit"], jurisdiction="LT", by=root.key)
    store = SQLiteStore(path)
    _others(store, 20_000, clock, peak_at=7_000)
    # Within the window of the last filler, but 40 minutes before the peak one.
    backdated = raw_log(store).append(_accredit(root, late, clock.ms + 20 * MINUTE_MS))
    store.close()
    clock.ms += 30 * MINUTE_MS
    store = CountingStore(path, read_only=True)
    with Ledger(store, origin=ORIGIN, clock=clock) as led:
        problem = led.issuers.rejection(backdated.index)
        assert problem is not None and problem.code == "backdated"
        assert not led.issuers.was_accredited(late, "WorkPermit", clock.now, evidence=False).ok
        assert store.rows_read == 2
    # Exactly what a follower reading every entry decides, at every position.
    assert _verdicts(SQLiteStore(path, read_only=True), root) == _verdicts(
        FullReadStore(path, read_only=True), root
    )


def test_replay_after_many_other_entries_is_still_a_duplicate(tmp_path: Path) -> None:
    clock = FakeClock()
    root = Signer.for_did_key(seeded_key(1))
    subject = Signer.for_did_key(seeded_key(2)).did
    path = tmp_path / "log.db"
    store = SQLiteStore(path)
    draft = _accredit(root, subject, clock.ms)
    original = raw_log(store).append(draft)
    _others(store, 5_000, clock)
    # A compromised operator forgets the identity and appends the same entry again.
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM ledger_identities WHERE idx = ?", (original.index,))
    conn.close()
    store = SQLiteStore(path)
    replay = raw_log(store).append(draft)
    store.close()
    store = CountingStore(path, read_only=True)
    with Ledger(store, origin=ORIGIN, clock=clock, trust_root=root.did) as led:
        problem = led.issuers.rejection(replay.index)
        assert problem is not None and problem.code == "duplicate_entry"
        assert led.issuers.rejection(original.index) is None
        assert store.rows_read == 2
    assert _verdicts(SQLiteStore(path, read_only=True), root) == _verdicts(
        FullReadStore(path, read_only=True), root
    )


# -- an older layout: read whole when read-only, upgraded when writable ---------------


def _downgrade(kind: str, open_store: Opener, tmp_path: Path) -> None:
    # Make the store a version 2 one: no ledger_kinds, schema_version 2.
    if kind == "sqlite":
        with sqlite3.connect(tmp_path / "log.db") as conn:
            conn.execute("DROP TABLE ledger_kinds")
            conn.execute("UPDATE ledger_meta SET value = '2' WHERE key = 'schema_version'")
        conn.close()
        return
    import psycopg

    store = open_store()
    schema = store.schema
    store.close()
    assert _DSN is not None
    with psycopg.connect(_DSN, autocommit=True) as conn:
        conn.execute(f"DROP TABLE {schema}.ledger_kinds")
        conn.execute(f"UPDATE {schema}.ledger_meta SET value = '2' WHERE key = 'schema_version'")


def _layout(kind: str, open_store: Opener, tmp_path: Path) -> tuple[str, list[Any]]:
    # The recorded schema version and the rows of ledger_kinds (empty when none).
    if kind == "sqlite":
        with sqlite3.connect(f"file:{tmp_path / 'log.db'}?mode=ro", uri=True) as conn:
            (version,) = conn.execute(
                "SELECT value FROM ledger_meta WHERE key = 'schema_version'"
            ).fetchone()
            has = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'ledger_kinds'").fetchone()
            rows = (
                conn.execute("SELECT idx, kind, ts FROM ledger_kinds ORDER BY idx") if has else []
            )
            out = [tuple(r) for r in rows]
        conn.close()
        return str(version), out
    store = open_store(read_only=True)
    try:
        (version,) = store.read_sql(
            f"SELECT value FROM {store.schema}.ledger_meta WHERE key = 'schema_version'"
        )[0]
        try:
            rows = store.read_sql(
                f"SELECT idx, kind, ts FROM {store.schema}.ledger_kinds ORDER BY idx"
            )
        except Exception:
            rows = []
        return str(version), [tuple(r) for r in rows]
    finally:
        store.close()


@pytest.mark.parametrize("kind", sorted(STORES))
def test_old_layout_read_only_then_upgraded(tmp_path: Path, kind: str) -> None:
    clock = FakeClock()
    root = Signer.for_did_key(seeded_key(1))
    subject = Signer.for_did_key(seeded_key(2)).did
    with STORES[kind](tmp_path) as open_store:
        store = open_store()
        _others(store, 300, clock)
        log = raw_log(store)
        log.append(_accredit(root, subject, clock.ms))
        _others(store, 300, clock)
        entries: list[Entry] = list(log.range())
        store.close()
        _downgrade(kind, open_store, tmp_path)
        assert _layout(kind, open_store, tmp_path) == ("2", [])
        # Read-only: the follower reads every entry (no kind table) and writes nothing.
        store = open_store(counting=True, read_only=True)
        with Ledger(store, origin=ORIGIN, clock=clock, trust_root=root.did) as led:
            assert led.issuers.was_accredited(subject, "WorkPermit", clock.now, evidence=False).ok
            assert store.rows_read >= len(entries)
        assert _layout(kind, open_store, tmp_path) == ("2", [])
        # Writable: the layout is upgraded and the kinds filled from the stored entries.
        open_store().close()
        expected = [(e.index, e.kind, e.timestamp) for e in entries]
        assert _layout(kind, open_store, tmp_path) == (str(SCHEMA_VERSION), expected)
        store = open_store(counting=True, read_only=True)
        with Ledger(store, origin=ORIGIN, clock=clock, trust_root=root.did) as led:
            assert led.issuers.was_accredited(subject, "WorkPermit", clock.now, evidence=False).ok
            assert store.rows_read == 1
            assert store.scans == [(0, len(entries))]
