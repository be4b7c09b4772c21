"""The registry follower's persisted position (ledger.registry._position): a fresh process
answers from it without reading the log, catches up on new entries only, rebuilds a state
that does not match its log, never writes a read-only store, and answers exactly as a full
replay does over random logs (accreditations, delegations, revocations, key rotations,
back-dated entries)."""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
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
from did_methods.keys import KeyType, PrivateKey
from ledger.facade import Ledger
from ledger.registry import KIND_ACCREDIT, KIND_REVOKE, Signer
from ledger.registry._position import FOLLOWER_LAYOUT
from ledger.store import SQLiteStore

MINUTE_MS = 60_000
TYPES = ("Visa", "WorkPermit")
PLACES = ("EU", "LT", "DE")


@contextmanager
def counted(path: Path, *, read_only: bool = False) -> Iterator[tuple[Ledger, CountingStore]]:
    store = CountingStore(path, read_only=read_only)
    ledger = Ledger(store, origin=ORIGIN)
    try:
        yield ledger, store
    finally:
        ledger.close()


def accredit_payload(subject: str, types: Sequence[str], place: str, start: int) -> dict[str, Any]:
    return {
        "v": 1,
        "subject": subject,
        "types": sorted(set(types)),
        "jurisdiction": place,
        "validFrom": start,
        "validUntil": None,
        "delegate": True,
    }


def follower_position(path: Path) -> int | None:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        try:
            row = conn.execute("SELECT position FROM ledger_follower WHERE id = 0").fetchone()
        except sqlite3.Error:
            row = None
    conn.close()
    return None if row is None else int(row[0])


# -- a large log: the first decision reads no more than the registry entries ----------


def _big_log(path: Path, size: int, clock: FakeClock) -> tuple[PrivateKey, str]:
    """``size`` filler entries, then a root that accredits an issuer (as a bulk import)."""
    root = seeded_key(1)
    issuer = Signer.for_did_key(seeded_key(2))
    store = SQLiteStore(path)
    log = raw_log(store)
    author = Signer.for_did_key(seeded_key(3))
    for first in range(0, size, 10_000):
        count = min(10_000, size - first)
        log.append_batch([filler(first + i, author, clock.ms + first + i) for i in range(count)])
    clock.ms += size
    store.close()
    # The fillers were imported with no operator key: the root's key becomes the
    # operator only by adopting the log explicitly (without adopt: operator_unknown).
    with Ledger.open(path, key=root, origin=ORIGIN, clock=clock, adopt=True) as led:
        led.accredit(issuer.did, types=["WorkPermit"], jurisdiction="LT", by=root)
    return root, issuer.did


@pytest.mark.parametrize("size", [20_000, pytest.param(200_000, marks=pytest.mark.slow)])
def test_first_decision_reads_only_registry_rows(tmp_path: Path, size: int) -> None:
    clock = FakeClock()
    path = tmp_path / "big.db"
    root, issuer = _big_log(path, size, clock)
    at = datetime.fromtimestamp((clock.ms + MINUTE_MS) / 1000, tz=UTC)
    # The accrediting process persisted its position after the whole log.
    assert follower_position(path) == size + 1

    with counted(path, read_only=True) as (ledger, store):
        answer = ledger.issuers.was_accredited(issuer, "WorkPermit", at, evidence=False)
        assert answer.ok
        assert store.rows_read <= 2  # the accreditation (and nothing of the fillers)

    # New entries: the next fresh process reads them and the registry rows, no more.
    author = Signer.for_did_key(seeded_key(3))
    bulk = SQLiteStore(path)
    raw_log(bulk).append_batch([filler(size + i, author, clock.ms + i) for i in range(50)])
    bulk.close()
    clock.ms += 100
    writer = CountingStore(path)
    with Ledger(writer, key=root, origin=ORIGIN, clock=clock) as led:
        later = Signer.for_did_key(seeded_key(4))
        led.accredit(later.did, types=["Visa"], jurisdiction="DE", by=root)
    # The accrediting process read the registry row, the 50 new rows and a few around its
    # own append, not the log.
    assert writer.rows_read <= 1 + 50 + 3
    with counted(path) as (ledger, store):
        at = datetime.fromtimestamp((clock.ms + MINUTE_MS) / 1000, tz=UTC)
        assert ledger.issuers.was_accredited(later.did, "Visa", at, evidence=False).ok
        assert ledger.issuers.was_accredited(issuer, "WorkPermit", at, evidence=False).ok
        assert store.rows_read <= 3


def test_restart_reads_only_new_rows(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "log.db"
    _, issuer = _big_log(path, 3_000, clock)
    author = Signer.for_did_key(seeded_key(3))
    store = SQLiteStore(path)
    raw_log(store).append_batch([filler(10_000 + i, author, clock.ms + i) for i in range(200)])
    store.close()
    at = datetime.fromtimestamp((clock.ms + MINUTE_MS) / 1000, tz=UTC)
    with counted(path) as (ledger, store):
        assert ledger.issuers.was_accredited(issuer, "WorkPermit", at).ok
        # 1 registry row, the 200 new rows, and the entry its evidence proves.
        assert store.rows_read <= 1 + 200 + 1
    # Fewer than SAVE_EVERY new rows of other kinds: the read-only restart reads them again,
    # and a read-only process never writes the position.
    before = follower_position(path)
    with counted(path, read_only=True) as (ledger, store):
        assert ledger.issuers.was_accredited(issuer, "WorkPermit", at, evidence=False).ok
        assert store.rows_read <= 1 + 200
    assert follower_position(path) == before


# -- tampering: a state that does not match the log is rebuilt ------------------------


def _small_ledger(path: Path, clock: FakeClock) -> tuple[PrivateKey, str]:
    root = seeded_key(11)
    issuer = seeded_key(12)
    with Ledger.open(path, key=root, origin=ORIGIN, clock=clock) as led:
        led.accredit(
            Signer.for_did_key(issuer).did, types=["WorkPermit"], jurisdiction="LT", by=root
        )
        for i in range(5):
            led.append("vault.commitment", b"x%d" % i)
        clock.ms += 1000
    return root, Signer.for_did_key(issuer).did


def test_state_from_another_log_is_rebuilt(tmp_path: Path) -> None:
    clock = FakeClock()
    ours, theirs = tmp_path / "ours.db", tmp_path / "theirs.db"
    _, issuer = _small_ledger(ours, clock)
    # The other log: another root accredits another DID, with more entries.
    other_root, other_issuer = seeded_key(21), Signer.for_did_key(seeded_key(22)).did
    with Ledger.open(theirs, key=other_root, origin=ORIGIN, clock=clock) as led:
        for i in range(9):
            led.append("vault.commitment", b"y%d" % i)
        led.accredit(other_issuer, types=["WorkPermit"], jurisdiction="LT", by=other_root)
    # Copy their follower tables into our file (position beyond and root of another log).
    with sqlite3.connect(ours) as conn:
        conn.execute("ATTACH DATABASE ? AS other", (str(theirs),))
        conn.execute("DELETE FROM ledger_follower_entries")
        conn.execute(
            "INSERT INTO ledger_follower_entries SELECT * FROM other.ledger_follower_entries"
        )
        conn.execute("DELETE FROM ledger_follower")
        conn.execute("INSERT INTO ledger_follower SELECT * FROM other.ledger_follower")
    conn.close()
    at = clock.now
    size = 6  # the accreditation and five commitments
    for read_only in (True, False):
        with counted(ours, read_only=read_only) as (ledger, store):
            assert ledger.log.size == size
            assert ledger.issuers.was_accredited(issuer, "WorkPermit", at).ok
            assert not ledger.issuers.was_accredited(other_issuer, "WorkPermit", at).ok
            assert store.scans[0] == (0, size)  # replayed whole (its registry rows)
    assert follower_position(ours) == size  # the writable opening rebuilt it


def test_state_of_a_longer_or_rewritten_log_is_rebuilt(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "log.db"
    _, issuer = _small_ledger(path, clock)
    at = clock.now
    # A position beyond the log (the log was truncated): rebuilt.
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE ledger_follower SET position = 50")
    conn.close()
    with counted(path) as (ledger, store):
        assert ledger.issuers.was_accredited(issuer, "WorkPermit", at).ok
        assert store.scans[0] == (0, 6)  # replayed whole
    assert follower_position(path) == 6
    # The right size but another root; an index row that names another kind; an old layout.
    tampering = (
        "UPDATE ledger_follower SET root = zeroblob(32)",
        "UPDATE ledger_follower_entries SET kind = 'trust.revoke'",
        f"UPDATE ledger_follower SET layout = {FOLLOWER_LAYOUT + 1}",
    )
    for statement in tampering:
        with sqlite3.connect(path) as conn:
            conn.execute(statement)
        conn.close()
        with counted(path) as (ledger, store):
            assert ledger.issuers.was_accredited(issuer, "WorkPermit", at).ok, statement
            assert store.scans[0] == (0, 6), statement


def test_read_only_opening_writes_nothing(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "log.db"
    _, issuer = _small_ledger(path, clock)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE ledger_follower")
        conn.execute("DROP TABLE ledger_follower_entries")
    conn.close()
    before = path.read_bytes()
    with counted(path, read_only=True) as (ledger, _):
        assert ledger.issuers.was_accredited(issuer, "WorkPermit", clock.now).ok
    assert path.read_bytes() == before
    assert follower_position(path) is None


# -- persisted-then-caught-up answers exactly as a full replay ------------------------


class World:
    """A random log: a root, did:key actors and a did:ledger actor whose key rotates."""

    def __init__(self, rng: random.Random, led: Ledger, root: PrivateKey, clock: FakeClock):
        self.rng = rng
        self.led = led
        self.clock = clock
        self.root = Signer.for_did_key(root)
        self.keys = [Signer.for_did_key(seeded_key(100 + i)) for i in range(3)]
        first = seeded_key(200)
        version = led.dids.create(first)
        self.ledger_did = version.did
        self.ledger_signers = [Signer(first, f"{version.did}#key-1")]
        self.accredits: list[int] = []
        self.raw = raw_log(led.log.store)

    @property
    def subjects(self) -> list[str]:
        return [s.did for s in self.keys] + [self.ledger_did, "did:example:nobody"]

    def step(self) -> None:
        rng, clock = self.rng, self.clock
        clock.ms += rng.choice((1, 500, MINUTE_MS, 30 * MINUTE_MS))
        what = rng.random()
        actors = [self.root, *self.keys, *self.ledger_signers]
        if what < 0.45:
            by = self.root if rng.random() < 0.4 else rng.choice(actors)
            subject = rng.choice(self.subjects)
            types = rng.sample(TYPES, rng.choice((1, 2)))
            payload = accredit_payload(
                subject, types, rng.choice(PLACES), clock.ms + rng.choice((-MINUTE_MS, 0, 5000))
            )
            payload["delegate"] = rng.random() < 0.7
            if rng.random() < 0.3:
                payload["validUntil"] = clock.ms + rng.choice((MINUTE_MS, 90 * MINUTE_MS))
            stamp = clock.ms - rng.choice((0, 0, 0, 2 * MINUTE_MS, 30 * MINUTE_MS))
            entry = self.raw.append(
                by.sign(KIND_ACCREDIT, payload, now=lambda: from_unix_ms(stamp))
            )
            self.accredits.append(entry.index)
        elif what < 0.65 and self.accredits:
            target = rng.choice(self.accredits)
            by = rng.choice(actors)
            ms = clock.ms
            self.raw.append(
                by.sign(
                    KIND_REVOKE, {"v": 1, "accreditation": target}, now=lambda: from_unix_ms(ms)
                )
            )
        elif what < 0.72:
            current = self.ledger_signers[-1]
            fresh = PrivateKey.generate(KeyType.ED25519, randbytes=rng.randbytes)
            version = self.led.dids.rotate_key(self.ledger_did, current, fresh.public_key)
            fragment = version.template["verificationMethod"][0]["id"]
            self.ledger_signers.append(Signer(fresh, f"{self.ledger_did}{fragment}"))
        else:
            ms = clock.ms - rng.choice((0, 40 * MINUTE_MS))
            self.raw.append(filler(rng.randrange(10**9), self.keys[0], ms))


def answers(led: Ledger, subjects: list[str], instants: list[datetime]) -> list[Any]:
    out: list[Any] = []
    for did in subjects:
        for ctype in TYPES:
            for at in instants:
                for place in (None, "LT", "DE"):
                    a = led.issuers.was_accredited(did, ctype, at, jurisdiction=place)
                    out.append((a.ok, a.code, tuple(x.id for x in a.chain), a.jurisdiction))
    for index in range(led.log.size):
        problem = led.issuers.rejection(index) or led.dids.rejection(index)
        out.append(getattr(problem, "code", None))
    return out


def _full_replay_copy(path: Path, into: Path) -> Path:
    shutil.copyfile(path, into)
    with sqlite3.connect(into) as conn:
        conn.execute("DROP TABLE IF EXISTS ledger_follower")
        conn.execute("DROP TABLE IF EXISTS ledger_follower_entries")
    conn.close()
    return into


@pytest.mark.parametrize("seed", range(6))
def test_persisted_answers_equal_full_replay(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    clock = FakeClock()
    root = seeded_key(99)
    path = tmp_path / "random.db"
    steps = rng.randrange(25, 45)
    split = rng.randrange(5, steps)
    with Ledger.open(path, key=root, origin=ORIGIN, clock=clock) as led:
        world = World(rng, led, root, clock)
        for _ in range(split):
            world.step()
    # A process answers once (persisting its position), then more is appended.
    with Ledger.open(path, origin=ORIGIN, clock=clock) as led:
        led.issuers.was_accredited(world.subjects[0], "Visa", clock.now)
    persisted = follower_position(path)
    assert persisted is not None and persisted > 0
    with Ledger.open(path, key=root, origin=ORIGIN, clock=clock) as led:
        world.led, world.raw = led, raw_log(led.log.store)
        for _ in range(steps - split):
            world.step()
    start = 1_772_323_200_000
    moments = [start + rng.randrange(0, clock.ms - start + 1) for _ in range(6)]
    instants = [datetime.fromtimestamp(ms / 1000, tz=UTC) for ms in sorted(moments)]
    instants.append(clock.now)
    reference = _full_replay_copy(path, tmp_path / "reference.db")
    with Ledger.open(reference, origin=ORIGIN, read_only=True) as led:
        expected = answers(led, world.subjects, instants)
        size = led.log.size
    held = follower_position(path)
    assert held is not None
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        (indexed,) = conn.execute(
            "SELECT COUNT(*) FROM ledger_follower_entries WHERE idx < ?", (held,)
        ).fetchone()
        (kinds,) = conn.execute("SELECT kinds FROM ledger_follower").fetchone()
        (fresh,) = conn.execute(
            "SELECT COUNT(*) FROM ledger_kinds WHERE idx >= ? AND kind IN (SELECT value "
            "FROM json_each(?))",
            (held, json.dumps(kinds.split(","))),
        ).fetchone()
    conn.close()
    for read_only in (True, False):
        with counted(path, read_only=read_only) as (led, store):
            led.issuers.rejection(0)  # the first catch-up: the index, then the new rows
            # of its kinds (no other new entry is read)
            assert store.rows_read == indexed + fresh
            assert store.scans == ([(held, size)] if size > held else [])
            assert answers(led, world.subjects, instants) == expected
    # The random log holds accepted and refused registry entries alike.
    verdicts = expected[-size:]
    assert any(v is not None for v in verdicts)
    assert any(a[0] for a in expected if isinstance(a, tuple))


# -- PostgreSQL ----------------------------------------------------------------------

_DSN = os.environ.get("SSI_WALLET_TEST_POSTGRES_DSN")


@pytest.mark.skipif(_DSN is None, reason="needs SSI_WALLET_TEST_POSTGRES_DSN")
def test_postgres_persists_and_rebuilds() -> None:
    import psycopg

    from ledger.store.postgres import PostgresStore

    assert _DSN is not None
    schema = "flw_" + uuid.uuid4().hex[:10]
    clock = FakeClock()
    root = seeded_key(31)
    issuer = Signer.for_did_key(seeded_key(32)).did

    class CountingPG(Counting, PostgresStore):
        pass

    try:
        with Ledger.open(_DSN, key=root, origin=ORIGIN, clock=clock, schema=schema) as led:
            for i in range(300):
                led.append("vault.commitment", b"p%d" % i)
            led.accredit(issuer, types=["WorkPermit"], jurisdiction="LT", by=root)
        clock.ms += 1000
        for read_only in (True, False):
            store = CountingPG(_DSN, schema=schema, read_only=read_only)
            with Ledger(store, origin=ORIGIN) as led:
                assert led.issuers.was_accredited(issuer, "WorkPermit", clock.now).ok
                assert store.rows_read <= 2
        # A state that does not match the log (another root) is rebuilt.
        with psycopg.connect(_DSN, autocommit=True) as conn:
            conn.execute(f"UPDATE {schema}.ledger_follower SET root = %s", (bytes(32),))
        store = CountingPG(_DSN, schema=schema)
        with Ledger(store, origin=ORIGIN) as led:
            assert led.issuers.was_accredited(issuer, "WorkPermit", clock.now).ok
            assert store.scans[0] == (0, 301)  # replayed whole (its registry rows)
        store = CountingPG(_DSN, schema=schema, read_only=True)
        with Ledger(store, origin=ORIGIN) as led:
            assert led.issuers.was_accredited(issuer, "WorkPermit", clock.now).ok
            assert store.rows_read <= 2
    finally:
        with psycopg.connect(_DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_two_writable_processes_keep_one_state(tmp_path: Path) -> None:
    # Two ledgers on one file accredit, append and answer in turn; each persists what
    # it read, and a third process answers from the state as a full replay does.
    clock = FakeClock()
    path = tmp_path / "shared.db"
    root = seeded_key(41)
    subjects = [Signer.for_did_key(seeded_key(50 + i)).did for i in range(6)]
    with (
        Ledger.open(path, key=root, origin=ORIGIN, clock=clock) as first,
        Ledger.open(path, key=root, origin=ORIGIN, clock=clock) as second,
    ):
        for i, subject in enumerate(subjects):
            led = (first, second)[i % 2]
            clock.ms += 1000
            led.accredit(subject, types=["WorkPermit"], jurisdiction="LT", by=root)
            for j in range(3):
                led.append("vault.commitment", b"c%d-%d" % (i, j))
            assert (
                (second, first)[i % 2].issuers.was_accredited(subject, "WorkPermit", clock.now).ok
            )
        first.issuers.revoke(first.issuers.accreditations(subjects[1])[0], by=root)
        clock.ms += 1000
        assert second.issuers.was_accredited(subjects[2], "WorkPermit", clock.now).ok
    reference = _full_replay_copy(path, tmp_path / "reference.db")
    with Ledger.open(reference, origin=ORIGIN, read_only=True) as led:
        expected = answers(led, subjects, [clock.now])
    with counted(path, read_only=True) as (led, store):
        led.issuers.rejection(0)
        assert store.rows_read <= len(subjects) + 1 + 3  # the registry rows, a few new
        assert answers(led, subjects, [clock.now]) == expected
        held = [led.issuers.was_accredited(s, "WorkPermit", clock.now).ok for s in subjects]
        assert held == [True, False, True, True, True, True]
