"""The Merkle nodes a Log keeps in memory (54f2dd0's frozen top levels and border) hold
only committed nodes: a proof read inside an append's transaction that then rolls back
must not leave the rolled-back tree's nodes behind (review of 2026-12-04)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from ledger_store_support import ORIGIN, Submitter

from ledger._merkle import hash_leaf
from ledger.entry import Entry
from ledger.log import Log
from ledger.proofs import verify_consistency, verify_inclusion
from ledger.store import Store, StoreWriter


class _RolledBack(Exception):
    pass


def test_nodes_read_inside_a_rolled_back_append_are_not_kept(
    store_factory: Callable[[], Store],
) -> None:
    """A before_commit hook proves entries of the tree being appended (on SQLite it sees
    the uncommitted tree), then fails: the append rolls back and other entries take
    those places. Every later proof must verify against the committed root; the Log
    kept the rolled-back nodes and border, and two inclusion proofs failed."""
    alice = Submitter(1)
    log = Log(store_factory(), origin=ORIGIN)
    log.append_batch(alice.drafts(5, tag="first"))

    def peek_then_fail(txn: StoreWriter, entries: Sequence[Entry]) -> None:
        if log.size > 5:  # the store shows this transaction's own writes
            log.root()
            for i in range(log.size):
                log.prove_inclusion(i)
        raise _RolledBack

    with pytest.raises(_RolledBack):
        log.append_batch(alice.drafts(3, tag="rolled back"), before_commit=peek_then_fail)
    log.append_batch(alice.drafts(3, tag="kept"))
    root = log.root()
    assert log.size == 8
    for i in range(8):
        verify_inclusion(hash_leaf(log.get(i).encode()), log.prove_inclusion(i), root)
    for size1 in range(1, 8):
        verify_consistency(log.prove_consistency(size1), log.root(size1), root)
