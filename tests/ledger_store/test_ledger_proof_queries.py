"""Proofs from SQLite read their nodes in one statement, whatever the tree size.

A :class:`Log` keeps the top levels of the tree in memory once read (perfect
subtrees never change in an append-only log), so a warm log reads only the
lower nodes, still in one statement, and a log that grows keeps proving right.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ledger_store_support import ORIGIN, Submitter

from ledger._merkle import hash_leaf
from ledger.log import Log
from ledger.proofs import verify_consistency, verify_inclusion
from ledger.store import MemoryStore, SQLiteStore

_SIZE = 1500  # not a power of two: proofs mix stored nodes and folded partial subtrees


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Log, Log, SQLiteStore]:
    drafts = Submitter(seed=5).drafts(_SIZE)
    path = Path(tmp_path_factory.mktemp("proofs")) / "ledger.db"
    store = SQLiteStore(path)
    on_disk = Log(store, origin=ORIGIN)
    in_memory = Log(MemoryStore(), origin=ORIGIN)
    for start in range(0, _SIZE, 500):
        on_disk.append_batch(drafts[start : start + 500])
        in_memory.append_batch(drafts[start : start + 500])
    return on_disk, in_memory, store


def _fresh(store: SQLiteStore) -> Log:
    # a Log that has read nothing yet: its first proof reads every node it needs
    return Log(store, origin=ORIGIN)


def _node_reads(store: SQLiteStore, action: object) -> list[str]:
    statements: list[str] = []
    conn = store._conn  # the spy: every statement SQLite runs on the store's connection
    conn.set_trace_callback(statements.append)
    try:
        assert callable(action)
        action()
    finally:
        conn.set_trace_callback(None)
    return [s for s in statements if "ledger_nodes" in s]


@pytest.mark.parametrize("index", [0, 1, 767, 1023, 1024, 1498, 1499])
def test_inclusion_proof_is_one_node_query(logs: tuple[Log, Log, SQLiteStore], index: int) -> None:
    on_disk, in_memory, store = logs
    proofs = []
    cold = _fresh(store)
    reads = _node_reads(store, lambda: proofs.append(cold.prove_inclusion(index)))
    assert len(reads) == 1, reads
    (proof,) = proofs
    assert proof == in_memory.prove_inclusion(index)
    verify_inclusion(hash_leaf(on_disk.get(index).encode()), proof, on_disk.root())


@pytest.mark.parametrize("size1", [1, 3, 512, 1000, 1499])
def test_consistency_proof_is_one_node_query(
    logs: tuple[Log, Log, SQLiteStore], size1: int
) -> None:
    on_disk, in_memory, store = logs
    proofs = []
    cold = _fresh(store)
    reads = _node_reads(store, lambda: proofs.append(cold.prove_consistency(size1)))
    assert len(reads) == 1, reads
    (proof,) = proofs
    assert proof == in_memory.prove_consistency(size1)
    verify_consistency(proof, on_disk.root(size1), on_disk.root())


def test_read_nodes_keeps_order_duplicates_and_misses_across_chunks(
    logs: tuple[Log, Log, SQLiteStore],
) -> None:
    _, _, store = logs
    memory = MemoryStore()
    wanted = [(0, i) for i in range(600)] + [(3, 2), (0, 5), (0, 10**9), (40, 0)]
    got = store.read_nodes(wanted)
    assert len(got) == len(wanted)
    assert got[600] == store.read_nodes([(3, 2)])[0] is not None
    assert got[601] == got[5] and got[602] is None and got[603] is None
    assert all(isinstance(h, bytes) and len(h) == 32 for h in got[:600])
    assert memory.read_nodes(wanted) == [None] * len(wanted)


def test_warm_log_reads_only_the_lower_nodes_in_at_most_one_statement(
    logs: tuple[Log, Log, SQLiteStore],
) -> None:
    _, in_memory, store = logs
    log = _fresh(store)
    for index in (3, 700, 1499):
        log.prove_inclusion(index)
    asked: list[list[tuple[int, int]]] = []
    real = store.read_nodes

    def spy(ids: list[tuple[int, int]]) -> list[bytes | None]:
        asked.append(list(ids))
        return real(ids)

    store.read_nodes = spy  # type: ignore[method-assign]
    try:
        for index in (3, 700, 1499):
            reads = _node_reads(store, lambda i=index: log.prove_inclusion(i))
            assert len(reads) <= 1, reads
            assert log.prove_inclusion(index) == in_memory.prove_inclusion(index)
    finally:
        del store.read_nodes
    # at this size every interior node is kept: what is still read are the leaves
    assert asked and all(level == 0 for ids in asked for level, _ in ids), asked
    assert log.prove_consistency(512) == in_memory.prove_consistency(512)
    assert log.root(1000) == in_memory.root(1000)


def test_kept_nodes_stay_right_while_the_log_grows(tmp_path: Path) -> None:
    drafts = Submitter(seed=9).drafts(700)
    store = SQLiteStore(tmp_path / "growing.db")
    on_disk = Log(store, origin=ORIGIN)
    reference = Log(MemoryStore(), origin=ORIGIN)
    try:
        for start in range(0, 700, 70):
            on_disk.append_batch(drafts[start : start + 70])
            reference.append_batch(drafts[start : start + 70])
            size = on_disk.size
            root = on_disk.root()
            for index in (0, size // 3, size - 1):
                proof = on_disk.prove_inclusion(index)
                assert proof == reference.prove_inclusion(index)
                verify_inclusion(hash_leaf(on_disk.get(index).encode()), proof, root)
            for size1 in (1, size // 2, size - 1):
                if 0 < size1 < size:
                    proof = on_disk.prove_consistency(size1)
                    assert proof == reference.prove_consistency(size1)
                    verify_consistency(proof, on_disk.root(size1), root)
    finally:
        store.close()
