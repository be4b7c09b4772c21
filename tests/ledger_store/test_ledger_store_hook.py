"""Other tables join the log's write transaction (StoreWriter.execute, before_commit),
and Store.origin() names the log a store holds."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from ledger_store_support import ORIGIN, Submitter

from ledger.entry import Entry
from ledger.errors import LedgerStoreError
from ledger.log import Log
from ledger.store import MemoryStore, Store, StoreWriter


def _mark(writer: StoreWriter) -> str:
    return "%s" if writer.dialect == "postgresql" else "?"


def _create_side(store: Store) -> None:
    with store.write() as writer:
        blob = "BYTEA" if writer.dialect == "postgresql" else "BLOB"
        writer.execute(
            f"CREATE TABLE {writer.table_prefix}side (idx BIGINT PRIMARY KEY, note TEXT, "
            f"body {blob} NOT NULL)"
        )


def _side(store: Store) -> list[tuple[object, ...]]:
    with store.write() as writer:
        return writer.execute(f"SELECT idx, note, body FROM {writer.table_prefix}side ORDER BY idx")


def _sql_store(store: Store) -> Store:
    if isinstance(store, MemoryStore):
        pytest.skip("the memory store has no SQL tables (tested separately)")
    return store


def test_before_commit_rows_commit_with_the_entries(store: Store, alice: Submitter) -> None:
    store = _sql_store(store)
    _create_side(store)
    log = Log(store, origin=ORIGIN)

    def hook(writer: StoreWriter, entries: Sequence[Entry]) -> None:
        m = _mark(writer)
        writer.executemany(
            f"INSERT INTO {writer.table_prefix}side (idx, note, body) VALUES ({m}, {m}, {m})",
            [(e.index, f"n{e.index}", e.payload) for e in entries],
        )
        # Reads inside the transaction see its own uncommitted rows, as str and bytes.
        got = writer.execute(
            f"SELECT note, body FROM {writer.table_prefix}side WHERE idx = {m}",
            (entries[-1].index,),
        )
        assert got == [(f"n{entries[-1].index}", entries[-1].payload)]

    entries = log.append_batch(alice.drafts(3), before_commit=hook)
    assert [e.index for e in entries] == [0, 1, 2]
    assert _side(store) == [(e.index, f"n{e.index}", e.payload) for e in entries]


def test_a_failing_hook_rolls_back_entries_and_rows(store: Store, alice: Submitter) -> None:
    store = _sql_store(store)
    _create_side(store)
    log = Log(store, origin=ORIGIN)
    log.append_batch(alice.drafts(2, tag="a"))

    def hook(writer: StoreWriter, entries: Sequence[Entry]) -> None:
        m = _mark(writer)
        writer.execute(
            f"INSERT INTO {writer.table_prefix}side (idx, note, body) VALUES ({m}, {m}, {m})",
            (entries[0].index, "x", b"x"),
        )
        raise RuntimeError("the caller changed its mind")

    with pytest.raises(RuntimeError):
        log.append_batch(alice.drafts(2, tag="b"), before_commit=hook)
    assert log.size == 2 and _side(store) == []

    def bad_sql(writer: StoreWriter, entries: Sequence[Entry]) -> None:
        writer.execute(f"INSERT INTO {writer.table_prefix}no_such_table VALUES (1)")

    with pytest.raises(LedgerStoreError):
        log.append_batch(alice.drafts(1, tag="c"), before_commit=bad_sql)
    assert log.size == 2
    # The store is usable afterwards and the tree is intact.
    log.append_batch(alice.drafts(1, tag="d"))
    assert log.size == 3 and [e.payload for e in log.range()] == [b"a0", b"a1", b"d0"]


def test_memory_store_refuses_statements(alice: Submitter) -> None:
    store = MemoryStore()
    log = Log(store, origin=ORIGIN)

    def hook(writer: StoreWriter, entries: Sequence[Entry]) -> None:
        assert writer.dialect == "memory"
        writer.execute("SELECT 1")

    with pytest.raises(LedgerStoreError, match="no SQL tables"):
        log.append_batch(alice.drafts(1), before_commit=hook)
    with pytest.raises(LedgerStoreError), store.write() as writer:
        writer.executemany("SELECT 1", [()])
    assert log.size == 0


def test_origin_is_none_until_a_log_binds_it(store_factory: Callable[[], Store]) -> None:
    store = store_factory()
    assert store.origin() is None
    Log(store, origin=ORIGIN)
    assert store.origin() == ORIGIN
    again = store_factory()  # another handle on the same log
    assert again.origin() == ORIGIN
    with pytest.raises(LedgerStoreError):
        Log(again, origin="another.example/log")
    assert again.origin() == ORIGIN
