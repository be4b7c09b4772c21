"""Attacks on the verifier's nonces: every request is answered once, and only requests it made.

Each test names the attack and asserts the exact refusal code: ``replayed``
(a second answer to one request), ``nonce_unknown`` (a request the verifier
never made, however far its expiry), ``request_altered`` (an issued request
edited: expiry pushed back, purpose or query changed), ``request_expired``.
The stores are tested in memory, in the ledger's SQLite file (across a
restart), in a state file of their own, in PostgreSQL
(``SSI_WALLET_TEST_POSTGRES_DSN``), and through the command line across
separate invocations.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pg_support import pg_drop_schema, pg_dsn

from did_methods import PrivateKey
from did_methods.errors import ParseError, StoreError
from ledger.facade import Ledger
from ssi_wallet import Holder, PresentationRequest, policies
from ssi_wallet.replay import (
    LedgerReplayStore,
    MemoryReplayStore,
    ReplayError,
    ReplayStore,
    SQLiteReplayStore,
    record_request,
    request_digest,
)

AUDIENCE = "did:web:clinic.example"
START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    """The DSN and a fresh schema name, dropped afterwards."""
    dsn, schema = pg_dsn(), f"t_{uuid.uuid4().hex[:16]}"
    yield dsn, schema
    pg_drop_schema(dsn, schema)


# -- the stores ---------------------------------------------------------------------


def exercise(store: ReplayStore, now: int = 1_000) -> None:
    """The four refusals, then one success and a replay, on any store."""
    digest = b"\x01" * 32
    store.record("a" * 22, digest, now + 60, now=now)
    refusals = [
        ("b" * 22, digest, now),  # never recorded
        ("a" * 22, b"\x02" * 32, now),  # another request under that nonce
        ("a" * 22, digest, now + 61),  # after its expiry
    ]
    codes = []
    for nonce, asked, at in refusals:
        with pytest.raises(ReplayError) as caught:
            store.consume(nonce, asked, now=at)
        codes.append(caught.value.code)
    assert codes == ["nonce_unknown", "request_altered", "request_expired"]
    store.consume("a" * 22, digest, now=now + 1)
    with pytest.raises(ReplayError) as replayed:
        store.consume("a" * 22, digest, now=now + 2)
    assert replayed.value.code == "replayed"
    with pytest.raises(StoreError):
        store.record("a" * 22, digest, now + 60, now=now)  # a nonce is issued once


def test_memory_store_refuses_like_the_others() -> None:
    exercise(MemoryReplayStore())


def test_memory_store_is_bounded_and_forgets_the_oldest_first() -> None:
    store = MemoryReplayStore(max_entries=3)
    for i in range(5):
        store.record(f"nonce-{i:016d}", b"d", 2_000, now=1_000)
    assert len(store) == 3
    for i in (0, 1):  # forgotten: refused, never accepted
        with pytest.raises(ReplayError) as caught:
            store.consume(f"nonce-{i:016d}", b"d", now=1_001)
        assert caught.value.code == "nonce_unknown"
    store.consume("nonce-0000000000000004", b"d", now=1_001)


def test_memory_store_forgets_long_expired_requests() -> None:
    store = MemoryReplayStore()
    store.record("old-" + "x" * 18, b"d", 1_060, now=1_000)
    store.record("new-" + "x" * 18, b"d", 100_060, now=100_000)
    assert len(store) == 1


def test_ledger_store_in_a_sqlite_file_refuses_like_the_others(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "registry.db", key=PrivateKey.generate()) as ledger:
        exercise(LedgerReplayStore(ledger))


def test_state_file_refuses_like_the_others(tmp_path: Path) -> None:
    store = SQLiteReplayStore(tmp_path / "state.db")
    try:
        exercise(store)
    finally:
        store.close()


@pytest.mark.postgres
def test_postgres_backed_store_refuses_like_the_others(pg_schema: tuple[str, str]) -> None:
    dsn, schema = pg_schema
    with Ledger.open(dsn, key=PrivateKey.generate(), schema=schema) as ledger:
        exercise(LedgerReplayStore(ledger))


@pytest.mark.postgres
def race(stores: list[ReplayStore], threads: int = 8) -> list[str]:
    """One recorded nonce, consumed by ``threads`` threads at once over the stores."""
    stores[0].record("r" * 22, b"d", 2_000, now=1_000)
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def attempt(store: ReplayStore) -> None:
        barrier.wait()
        try:
            store.consume("r" * 22, b"d", now=1_001)
            result = "accepted"
        except ReplayError as exc:
            result = exc.code
        with lock:
            outcomes.append(result)

    workers = [
        threading.Thread(target=attempt, args=(stores[i % len(stores)],)) for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return sorted(outcomes)


def test_racing_replays_on_one_state_file_are_accepted_once(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    stores = [SQLiteReplayStore(path) for _ in range(4)]  # four connections, as four processes
    try:
        outcomes = race(list(stores))
    finally:
        for store in stores:
            store.close()
    assert outcomes == ["accepted"] + ["replayed"] * 7


@pytest.mark.postgres
def test_racing_replays_on_postgres_are_accepted_once(pg_schema: tuple[str, str]) -> None:
    dsn, schema = pg_schema
    ledgers = [Ledger.open(dsn, schema=schema) for _ in range(4)]
    try:
        outcomes = race([LedgerReplayStore(led) for led in ledgers])
    finally:
        for led in ledgers:
            led.close()
    assert outcomes == ["accepted"] + ["replayed"] * 7


def test_state_file_refuses_a_file_of_another_kind_and_leaves_it_alone(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_bytes(b"not a database, but long enough to be read as a header" * 4)
    wallet = tmp_path / "amina.wallet"
    Holder.create(wallet, passphrase="pw").close()
    for path in (text, wallet):
        before = path.read_bytes()
        with pytest.raises(StoreError):
            SQLiteReplayStore(path)
        assert path.read_bytes() == before


def test_a_ledger_opened_read_only_cannot_keep_nonces(tmp_path: Path) -> None:
    path = tmp_path / "registry.db"
    Ledger.open(path, key=PrivateKey.generate()).close()
    with Ledger.open(path, read_only=True) as ledger, pytest.raises(StoreError):
        LedgerReplayStore(ledger)


def test_a_request_without_expiry_cannot_be_recorded() -> None:
    request = PresentationRequest.for_policy(policies.right_to_work(), audience=AUDIENCE)
    with pytest.raises(ParseError):
        record_request(MemoryReplayStore(), replace(request, expires_at=None), now=0)


def test_the_digest_survives_json_and_changes_with_any_member() -> None:
    policy = policies.right_to_work(sector="Q86")
    request = PresentationRequest.for_policy(policy, audience=AUDIENCE)
    kept = PresentationRequest.from_json(json.dumps(request.to_json()))
    assert request_digest(kept) == request_digest(request)
    body = request.to_json()
    changed = {
        "dcql_query": policies.right_to_study().query().to_json(),
        "policy_args": {"sector": "F41"},
    }
    for name, value in body.items():
        if name not in changed:
            changed[name] = value + 1 if isinstance(value, int) else value + "x"
    assert set(changed) == set(body)
    for name, value in changed.items():
        edited = PresentationRequest.from_json({**body, name: value})
        assert request_digest(edited) != request_digest(request), name


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["record", "consume"]),
            st.integers(0, 3),  # which nonce
            st.booleans(),  # the right digest?
            st.integers(0, 200),  # seconds on from the start
        ),
        max_size=30,
    )
)
def test_any_sequence_accepts_each_nonce_at_most_once_and_only_as_issued(
    steps: list[tuple[str, int, bool, int]],
) -> None:
    store = MemoryReplayStore()
    issued: dict[int, int] = {}  # nonce -> expiry
    accepted: list[int] = []
    for action, which, right, at in steps:
        nonce, digest = f"nonce-{which:016d}", b"good" if right else b"evil"
        if action == "record":
            if which in issued or not right:
                continue
            store.record(nonce, digest, 1_000 + at + 60, now=1_000 + at)
            issued[which] = 1_000 + at + 60
            continue
        try:
            store.consume(nonce, digest, now=1_000 + at)
        except ReplayError as exc:
            assert exc.code in ("nonce_unknown", "request_altered", "replayed", "request_expired")
            continue
        assert right and which in issued and 1_000 + at <= issued[which]
        accepted.append(which)
    assert len(accepted) == len(set(accepted))
