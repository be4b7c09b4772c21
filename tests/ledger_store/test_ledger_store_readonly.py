"""SQLiteStore(read_only=True), open_store(read_only=...), Ledger.open(read_only=...), and
opening a writable store without taking the write lock when the file is already set up."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import pytest
from ledger_store_support import ORIGIN, Submitter

from did_methods.keys import PrivateKey
from ledger._merkle import hash_leaf
from ledger.errors import LedgerKeyMismatch, LedgerStoreError
from ledger.facade import Ledger
from ledger.log import Log
from ledger.proofs import verify_consistency, verify_inclusion
from ledger.store import SQLiteStore, open_store


def _written(path: Path, alice: Submitter, count: int) -> None:
    store = SQLiteStore(path)
    try:
        Log(store, origin=ORIGIN).append_batch(alice.drafts(count))
    finally:
        store.close()


def _digest(path: Path) -> bytes:
    return hashlib.sha256(path.read_bytes()).digest()


def test_read_only_store_reads_and_proves_what_was_written(
    tmp_path: Path, alice: Submitter
) -> None:
    path = tmp_path / "ledger.db"
    _written(path, alice, 37)
    writer = SQLiteStore(path)
    expected = Log(writer, origin=ORIGIN)
    reader = SQLiteStore(path, read_only=True)
    try:
        assert reader.read_only and not writer.read_only
        log = Log(reader, origin=ORIGIN)
        assert log.size == 37 and reader.origin() == ORIGIN
        assert [e.encode() for e in log.range()] == [e.encode() for e in expected.range()]
        root = log.root()
        assert root == expected.root()
        for index in (0, 17, 36):
            proof = log.prove_inclusion(index)
            assert proof == expected.prove_inclusion(index)
            verify_inclusion(hash_leaf(log.get(index).encode()), proof, root)
        verify_consistency(log.prove_consistency(5), log.root(5), root)
        # Appends committed by the writer after the reader opened are seen.
        expected.append_batch(alice.drafts(3, tag="late"))
        assert log.size == 40 and log.root() == expected.root()
        assert log.prove_inclusion(39) == expected.prove_inclusion(39)
    finally:
        reader.close()
        writer.close()


def test_read_only_store_never_writes(tmp_path: Path, alice: Submitter) -> None:
    path = tmp_path / "ledger.db"
    _written(path, alice, 4)
    before = _digest(path)
    signer_key = PrivateKey.generate(randbytes=lambda n: b"\x05" * n)
    from ledger.checkpoint import NoteSigner

    store = SQLiteStore(path, read_only=True)
    try:
        # The 4 entries were written with no operator: a signer is refused unless it
        # adopts the log (which a read-only store checks and never records).
        with pytest.raises(LedgerKeyMismatch) as refused:
            Log(store, origin=ORIGIN, signer=NoteSigner(ORIGIN, signer_key))
        assert refused.value.code == "operator_unknown"
        log = Log(store, origin=ORIGIN, signer=NoteSigner(ORIGIN, signer_key), adopt=True)
        with pytest.raises(LedgerStoreError, match="read-only"):
            log.append(alice.drafts(1, tag="x")[0])
        with pytest.raises(LedgerStoreError, match="read-only"):
            log.checkpoint()
        with pytest.raises(LedgerStoreError, match="read-only"), store.write():
            pass
        assert log.size == 4
    finally:
        store.close()
    assert _digest(path) == before


def test_read_only_store_checks_origin_and_refuses_to_bind_one(
    tmp_path: Path, alice: Submitter
) -> None:
    path = tmp_path / "ledger.db"
    _written(path, alice, 2)
    store = SQLiteStore(path, read_only=True)
    try:
        with pytest.raises(LedgerStoreError, match="holds the log"):
            Log(store, origin="another.example/log")
    finally:
        store.close()
    # Tables but no origin yet: a reader cannot record one.
    bare = tmp_path / "bare.db"
    SQLiteStore(bare).close()
    store = SQLiteStore(bare, read_only=True)
    try:
        assert store.origin() is None and store.tail().size == 0
        with pytest.raises(LedgerStoreError, match="no log origin"):
            Log(store, origin=ORIGIN)
    finally:
        store.close()


def test_read_only_store_refuses_what_is_not_a_ledger(tmp_path: Path, alice: Submitter) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(LedgerStoreError):
        SQLiteStore(missing, read_only=True)
    assert not missing.exists()  # mode=ro creates nothing
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(LedgerStoreError):
        SQLiteStore(other, read_only=True)
    not_sqlite = tmp_path / "junk.db"
    not_sqlite.write_bytes(b"not a database at all" * 100)
    with pytest.raises(LedgerStoreError):
        SQLiteStore(not_sqlite, read_only=True)
    for name in (":memory:", ""):
        with pytest.raises(LedgerStoreError):
            SQLiteStore(name, read_only=True)
    newer = tmp_path / "newer.db"
    _written(newer, alice, 1)
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE ledger_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(LedgerStoreError, match="schema version"):
        SQLiteStore(newer, read_only=True)


@pytest.mark.parametrize("name", ["a b.db", "q?mode=rwc.db", "h#frag.db", "p%41.db", "ü.db"])
def test_read_only_store_opens_paths_that_need_quoting(
    tmp_path: Path, alice: Submitter, name: str
) -> None:
    path = tmp_path / name
    _written(path, alice, 3)
    store = SQLiteStore(path, read_only=True)
    try:
        assert Log(store, origin=ORIGIN).size == 3
    finally:
        store.close()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [
        name
    ]


def test_opening_a_set_up_file_takes_no_write_lock(tmp_path: Path, alice: Submitter) -> None:
    path = tmp_path / "ledger.db"
    _written(path, alice, 5)
    # Another connection holds SQLite's write lock for the whole test.
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        for read_only in (False, True):
            store = SQLiteStore(path, timeout=0.05, read_only=read_only)
            try:
                log = Log(store, origin=ORIGIN)
                assert log.size == 5
                assert log.prove_inclusion(2).size == 5
            finally:
                store.close()
        # A writer still waits for the lock, and gives up after its timeout.
        store = SQLiteStore(path, timeout=0.05)
        try:
            with pytest.raises(LedgerStoreError):
                Log(store, origin=ORIGIN).append(alice.drafts(1, tag="blocked")[0])
        finally:
            store.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_first_openings_in_parallel_create_the_tables_once(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    errors: list[BaseException] = []

    def open_once() -> None:
        try:
            store = SQLiteStore(path)
            try:
                Log(store, origin=ORIGIN)
            finally:
                store.close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_once) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sqlite3.connect(path) as conn:
        # schema_version, ledger_id and origin, once each
        assert conn.execute("SELECT count(*) FROM ledger_meta").fetchone() == (3,)
        assert conn.execute("SELECT count(*) FROM ledger_tail").fetchone() == (1,)


def test_open_store_read_only(tmp_path: Path, alice: Submitter) -> None:
    path = tmp_path / "ledger.db"
    _written(path, alice, 2)
    store = open_store(str(path), read_only=True)
    try:
        assert isinstance(store, SQLiteStore) and store.read_only
    finally:
        store.close()
    for target in (":memory:", "postgresql://u@localhost/db", "postgres://u@localhost/db"):
        with pytest.raises(LedgerStoreError):
            open_store(target, read_only=True)


def test_ledger_open_read_only(tmp_path: Path) -> None:
    operator = PrivateKey.generate(randbytes=lambda n: b"\x09" * n)
    path = tmp_path / "ledger.db"
    with Ledger.open(path, key=operator) as ledger:
        ledger.append("demo.entry", b"\x01" * 32)
        ledger.append("demo.entry", b"\x02" * 32)
        root = ledger.log.root()
        origin = ledger.origin
    before = _digest(path)
    with Ledger.open(path, key=operator, read_only=True) as reader:
        assert reader.log.size == 2 and reader.log.root() == root
        assert reader.audit().ok
        with pytest.raises(LedgerStoreError):
            reader.append("demo.entry", b"\x03" * 32)
        with pytest.raises(LedgerStoreError):
            reader.checkpoint()
    assert _digest(path) == before
    with pytest.raises(LedgerStoreError):
        Ledger.open(path, origin="another.example/log", read_only=True)
    with pytest.raises(LedgerStoreError):
        Ledger.open(tmp_path / "missing.db", read_only=True)
    with pytest.raises(LedgerStoreError):
        Ledger.open(":memory:", read_only=True)
    with pytest.raises(LedgerStoreError):
        Ledger.open("postgresql://u@localhost/db", schema="s", read_only=True)
    assert origin
