"""The issuer's state stores, memory and SQLite, held to the same contract."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ssi_wallet.oid4vci import MemoryStateStore, SQLiteStateStore, StateStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    if request.param == "memory":
        yield MemoryStateStore(max_per_kind=5)
    else:
        opened = SQLiteStateStore(tmp_path / "state.db", max_per_kind=5)
        yield opened
        opened.close()


def test_put_get_take_is_single_use(store: StateStore) -> None:
    store.put("code", "a", {"case": "x", "n": [1, 2]}, expires_at=100)
    assert store.get("code", "a", now=50) == {"case": "x", "n": [1, 2]}
    assert store.get("nonce", "a", now=50) is None  # kinds do not mix
    assert store.take("code", "a", now=50) == {"case": "x", "n": [1, 2]}
    assert store.take("code", "a", now=50) is None
    assert store.get("code", "a", now=50) is None


def test_expired_records_are_never_returned(store: StateStore) -> None:
    store.put("code", "a", {}, expires_at=100)
    assert store.get("code", "a", now=100) is None
    store.put("code", "b", {}, expires_at=100)
    assert store.take("code", "b", now=101) is None


def test_each_kind_is_bounded_oldest_first(store: StateStore) -> None:
    for i in range(8):
        store.put("nonce", str(i), {"i": i}, expires_at=1e12)
    store.put("code", "kept", {}, expires_at=1e12)
    assert [store.get("nonce", str(i), now=0) is not None for i in range(8)] == [
        False,
        False,
        False,
        True,
        True,
        True,
        True,
        True,
    ]
    assert store.get("code", "kept", now=0) == {}


def test_a_racing_take_is_won_once(store: StateStore) -> None:
    store.put("code", "raced", {}, expires_at=1e12)
    wins: list[object] = []
    start = threading.Barrier(8)

    def race() -> None:
        start.wait()
        wins.append(store.take("code", "raced", now=0))

    threads = [threading.Thread(target=race) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(w is not None for w in wins) == 1


def test_sqlite_state_is_private_shared_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = SQLiteStateStore(path)
    first.put("case", "c", {"claims": {"familyName": "Sadeghi"}}, expires_at=1e12)
    second = SQLiteStateStore(path)  # another process would open it the same way
    assert second.take("case", "c", now=0) == {"claims": {"familyName": "Sadeghi"}}
    assert first.get("case", "c", now=0) is None
    first.put("nonce", "old", {}, expires_at=10)
    assert first.purge(now=11) == 1
    first.close()
    second.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
