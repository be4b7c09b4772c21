"""Proofs from SQLite read their nodes in one statement, whatever the tree size."""

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
    reads = _node_reads(store, lambda: proofs.append(on_disk.prove_inclusion(index)))
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
    reads = _node_reads(store, lambda: proofs.append(on_disk.prove_consistency(size1)))
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
