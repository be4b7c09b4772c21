"""The log on every store: append, read, proofs, checkpoints, rejection, rollback."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_store_support import FIXED, ORIGIN, Submitter

from did_methods._wire.dates import from_unix_ms
from did_methods.keys import PrivateKey, PublicKey
from ledger._merkle import hash_children, hash_leaf
from ledger.audit import audit
from ledger.checkpoint import NoteSigner, verify_checkpoint
from ledger.entry import GENESIS_PREV_HASH, EntryDraft, SignedDraft
from ledger.errors import (
    EntryNotFound,
    EntryRejected,
    LedgerStoreError,
    TreeSizeError,
)
from ledger.log import Log, did_key_lookup
from ledger.proofs import verify_consistency, verify_inclusion
from ledger.store import MemoryStore, SQLiteStore, Store


def reference_root(leaves: Sequence[bytes]) -> bytes:
    """RFC 9162 MTH, literally: the recursive definition over the entry encodings."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((n - 1).bit_length() - 1)
    return hashlib.sha256(
        b"\x01" + reference_root(leaves[:k]) + reference_root(leaves[k:])
    ).digest()


def test_append_get_range_and_chain(store: Store, alice: Submitter, bob: Submitter) -> None:
    log = Log(store, origin=ORIGIN)
    assert log.size == 0
    first = log.append(alice.drafts(1, tag="a")[0])
    assert first.index == 0 and first.prev_hash == GENESIS_PREV_HASH
    batch = log.append_batch(alice.drafts(5, tag="b") + bob.drafts(4, tag="c"))
    assert [e.index for e in batch] == list(range(1, 10))
    assert log.size == len(log) == 10
    everything = list(log.range())
    assert everything == [first, *batch]
    prev = GENESIS_PREV_HASH
    for i, entry in enumerate(everything):
        assert entry.index == i and entry.prev_hash == prev
        prev = entry.chain_hash()
        assert log.get(i) == entry
    assert list(log.range(3, 6)) == everything[3:6]
    assert list(log.range(2, 2)) == []
    assert list(log.range(0, 10, page=3)) == everything
    with pytest.raises(EntryNotFound):
        log.get(10)
    with pytest.raises(EntryNotFound):
        log.get(-1)
    with pytest.raises(EntryNotFound):
        list(log.range(5, 11))


def test_roots_and_proofs_match_the_reference_tree(store: Store, alice: Submitter) -> None:
    log = Log(store, origin=ORIGIN)
    drafts = alice.drafts(37)
    sizes = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 32, 33, 37]
    done = 0
    for size in sizes:
        log.append_batch(drafts[done:size])
        done = size
    leaves = [e.encode() for e in log.range()]
    roots = {size: reference_root(leaves[:size]) for size in [0, *sizes]}
    assert log.root() == roots[37]
    for size in sizes:
        assert log.root(size) == roots[size]
        for index in {0, size // 2, size - 1}:
            proof = log.prove_inclusion(index, size)
            verify_inclusion(hash_leaf(leaves[index]), proof, roots[size])
        for size1 in sizes:
            if size1 <= size:
                verify_consistency(log.prove_consistency(size1, size), roots[size1], roots[size])
    assert log.prove_inclusion(36).size == 37
    with pytest.raises(TreeSizeError):
        log.prove_inclusion(0, 38)
    with pytest.raises(TreeSizeError):
        log.prove_inclusion(37)
    with pytest.raises(TreeSizeError):
        log.root(38)
    assert hash_children(b"\x00" * 32, b"\x00" * 32) != roots[2]


def test_a_second_handle_sees_the_same_log(
    store_factory: Callable[[], Store], alice: Submitter
) -> None:
    log1 = Log(store_factory(), origin=ORIGIN)
    log1.append_batch(alice.drafts(6))
    log2 = Log(store_factory(), origin=ORIGIN)
    assert log2.size == 6 and log2.root() == log1.root()
    log2.append(alice.drafts(1, tag="x")[0])
    assert log1.size == 7 and log1.get(6) == log2.get(6)
    with pytest.raises(LedgerStoreError, match="holds the log"):
        Log(store_factory(), origin="another.example/log")


def test_checkpoints_are_signed_stored_and_verifiable(
    store: Store, alice: Submitter, note_signer: NoteSigner
) -> None:
    clock = iter(from_unix_ms(ms) for ms in range(1_000, 10_000, 1_000))
    now = 1_700_000_000_000
    log = Log(
        store, origin=ORIGIN, signer=note_signer, clock=lambda: next(clock), max_clock_skew_ms=None
    )
    log.append_batch(alice.drafts(3))
    note1 = log.checkpoint()
    log.append_batch(alice.drafts(4, tag="more"))
    note2 = log.checkpoint()
    cp1 = verify_checkpoint(note1, [note_signer.verifier], origin=ORIGIN)
    cp2 = verify_checkpoint(note2, [note_signer.verifier], origin=ORIGIN)
    assert (cp1.size, cp2.size) == (3, 7)
    assert cp1.root_hash == log.root(3) and cp2.root_hash == log.root()
    verify_consistency(log.prove_consistency(3, 7), cp1.root_hash, cp2.root_hash)
    history = log.checkpoints()
    assert [c.note for c in history] == [note2, note1]
    assert [c.size for c in history] == [7, 3]
    assert history[0].created_ms > history[1].created_ms
    assert now > 0
    with pytest.raises(Exception, match="no checkpoint signer"):
        Log(store, origin=ORIGIN).checkpoint()


def _raises_rejected(log: Log, drafts: list[SignedDraft], code: str, position: int) -> None:
    before = (log.size, log.root())
    with pytest.raises(EntryRejected) as info:
        log.append_batch(drafts)
    assert info.value.code == code
    assert info.value.position == position
    assert (log.size, log.root()) == before


def test_bad_drafts_reject_the_whole_batch(store: Store, alice: Submitter, bob: Submitter) -> None:
    log = Log(store, origin=ORIGIN)
    log.append_batch(alice.drafts(2))
    good = alice.drafts(3, tag="g")
    d = good[1]
    forged = SignedDraft(d.kind, b"changed", d.submitter, d.timestamp, d.signature)
    _raises_rejected(log, [good[0], forged, good[2]], "signature_invalid", 1)
    # Bob's signature under Alice's name.
    stolen = SignedDraft(d.kind, d.payload, alice.did_url, d.timestamp, bob.drafts(1)[0].signature)
    _raises_rejected(log, [stolen], "signature_invalid", 0)
    # A submitter whose key cannot be found.
    unknown = EntryDraft("k", b"p").sign(alice.key, "did:web:example.com#key-1")
    _raises_rejected(log, [good[0], good[1], unknown], "key_unknown", 2)
    # A fragment that names another key than the DID's.
    wrong_fragment = EntryDraft("k", b"p").sign(
        alice.key, alice.did_url.split("#")[0] + "#" + bob.did_url.split("#")[1]
    )
    _raises_rejected(log, [wrong_fragment], "key_unknown", 0)
    # Timestamps outside the allowed skew, either way.
    old = EntryDraft("k", b"p").sign(alice.key, alice.did_url, now=lambda: from_unix_ms(1_000))
    _raises_rejected(log, [old], "timestamp_skew", 0)
    # Payload above the log's bound.
    small = Log(store, origin=ORIGIN, max_payload=8)
    big = EntryDraft("k", b"123456789").sign(alice.key, alice.did_url)
    _raises_rejected(small, [big], "payload_too_large", 0)
    # Not a draft at all.
    _raises_rejected(log, ["nope"], "malformed", 0)  # type: ignore[list-item]
    assert log.size == 2
    assert audit(store, key_lookup=did_key_lookup).ok


def test_unsafe_bulk_import_without_signature_checks(store: Store, alice: Submitter) -> None:
    d = alice.drafts(1)[0]
    forged = SignedDraft(d.kind, b"changed", d.submitter, d.timestamp, d.signature)
    log = Log(store, origin=ORIGIN, verify_signatures=False)
    log.append(forged)
    # The audit with keys finds what the import let through.
    report = audit(store, key_lookup=did_key_lookup)
    assert not report.ok and report.first_bad_index == 0
    assert "signature" in (report.reason or "")
    assert audit(store).ok


def test_custom_key_lookup(store: Store) -> None:
    key = PrivateKey.generate()
    keys = {"did:example:issuer#k1": key.public_key}

    def lookup(submitter: str) -> PublicKey:
        return keys[submitter]

    log = Log(store, origin=ORIGIN, key_lookup=lookup)
    log.append(EntryDraft("k", b"p").sign(key, "did:example:issuer#k1"))
    # A lookup that raises something outside our tree is a bug, not a rejection.
    with pytest.raises(KeyError):
        log.append(EntryDraft("k", b"p").sign(key, "did:example:other#k1"))


# -- failure injection -------------------------------------------------------------


class _FailingWriter:
    def __init__(self, inner: Any, fail_in: str) -> None:
        self._inner = inner
        self._fail_in = fail_in

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        if name != self._fail_in:
            return method

        def fail(*args: Any) -> None:
            method(*args)  # the write happens, then the failure
            raise LedgerStoreError(f"injected failure after {name}")

        return fail


class FailingStore:
    """Wraps a store; the next write transaction fails inside ``fail_in``."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.fail_in: str | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @contextmanager
    def write(self) -> Iterator[Any]:
        with self.inner.write() as txn:
            if self.fail_in is None:
                yield txn
            else:
                yield _FailingWriter(txn, self.fail_in)


def _snapshot(store: Store) -> tuple[Any, ...]:
    tail = store.tail()
    rows = store.read_entries(0, 10_000)
    nodes = store.read_nodes([(0, i) for i in range(tail.size + 5)] + [(1, i) for i in range(9)])
    return tail, rows, nodes, store.checkpoints()


@pytest.mark.parametrize("fail_in", ["put_entries", "put_nodes", "set_tail", "put_checkpoint"])
def test_a_failed_write_leaves_the_store_unchanged(
    store: Store, alice: Submitter, note_signer: NoteSigner, fail_in: str
) -> None:
    failing = FailingStore(store)
    log = Log(failing, origin=ORIGIN, signer=note_signer)  # type: ignore[arg-type]
    log.append_batch(alice.drafts(5))
    log.checkpoint()
    before = _snapshot(store)
    failing.fail_in = fail_in
    with pytest.raises(LedgerStoreError, match="injected"):
        if fail_in == "put_checkpoint":
            log.checkpoint()
        else:
            log.append_batch(alice.drafts(7, tag="lost"))
    assert _snapshot(store) == before
    failing.fail_in = None
    log.append_batch(alice.drafts(7, tag="kept"))
    assert log.size == 12
    assert audit(store, key_lookup=did_key_lookup).ok


def test_a_python_exception_mid_batch_rolls_back(store: Store, alice: Submitter) -> None:
    """Not only store errors: any exception inside the transaction writes nothing."""
    log = Log(store, origin=ORIGIN)
    log.append_batch(alice.drafts(3))
    before = _snapshot(store)
    with pytest.raises(RuntimeError), store.write() as txn:
        txn.put_entries(3, [b"junk"])
        raise RuntimeError("boom")
    assert _snapshot(store) == before


def test_duplicate_index_is_refused_by_the_store(store: Store, alice: Submitter) -> None:
    log = Log(store, origin=ORIGIN)
    log.append_batch(alice.drafts(2))
    before = _snapshot(store)
    with pytest.raises(LedgerStoreError), store.write() as txn:
        txn.put_entries(1, [b"again"])
        txn.put_nodes([(0, 1, b"\x00" * 32)])
        txn.set_tail(txn.tail())
    assert _snapshot(store) == before


# -- proofs read O(log n) nodes ----------------------------------------------------


class CountingStore:
    """Counts the node ids a log asks its store for."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.node_reads = 0
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def read_nodes(self, ids: Sequence[tuple[int, int]]) -> list[bytes | None]:
        self.node_reads += len(ids)
        self.calls += 1
        return self.inner.read_nodes(ids)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_proofs_read_logarithmically_many_nodes(
    backend: str, tmp_path: Any, alice: Submitter
) -> None:
    inner: Store = MemoryStore() if backend == "memory" else SQLiteStore(tmp_path / "big.db")
    draft = alice.drafts(1)[0]
    writer = Log(inner, origin=ORIGIN, verify_signatures=False, max_clock_skew_ms=None)
    n = 2**16 + 3
    # Distinct entries (a log holds each identity once); signatures are not checked here.
    drafts = [draft] + [
        SignedDraft(draft.kind, b"%d" % i, draft.submitter, draft.timestamp, draft.signature)
        for i in range(1, n)
    ]
    for start in range(0, n, 5000):
        writer.append_batch(drafts[start : start + 5000])
    counting = CountingStore(inner)
    log = Log(counting, origin=ORIGIN)  # type: ignore[arg-type]
    root = log.root()
    leaf = hash_leaf(log.get(0).encode())
    bound = 2 * n.bit_length()  # at most two tiles per proof level
    for index in (0, 1, 2**15, 2**16 - 1, 2**16, n - 1):
        counting.node_reads = 0
        proof = log.prove_inclusion(index)
        assert counting.node_reads <= bound, (index, counting.node_reads)
        verify_inclusion(hash_leaf(log.get(index).encode()), proof, root)
    for size1 in (1, 3, 2**15 + 1, 2**16, n - 1):
        counting.node_reads = 0
        proof = log.prove_consistency(size1)
        assert counting.node_reads <= bound, (size1, counting.node_reads)
        verify_consistency(proof, log.root(size1), root)
    assert leaf == hash_leaf(draft_entry_bytes(log))


def draft_entry_bytes(log: Log) -> bytes:
    return log.get(0).encode()


# -- property: append, prove, verify -----------------------------------------------

_PROPERTY_SUBMITTER = Submitter(9)
# Signed once at import, appended whenever the test runs: at a fixed instant, and the
# logs below keep that clock, so a slow run never meets the clock-skew bound.
_PROPERTY_DRAFTS = _PROPERTY_SUBMITTER.drafts(80, tag="p", at=FIXED)


@settings(max_examples=60)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=9), st.data())
def test_append_prove_verify_round_trip(batches: list[int], data: st.DataObject) -> None:
    store = MemoryStore()
    log = Log(store, origin=ORIGIN, clock=lambda: FIXED)
    sizes = [0]
    pos = 0
    for count in batches:
        log.append_batch(_PROPERTY_DRAFTS[pos : pos + count])
        pos += count
        sizes.append(pos)
    leaves = [e.encode() for e in log.range()]
    assert len(leaves) == pos
    size = data.draw(st.integers(1, pos))
    index = data.draw(st.integers(0, size - 1))
    root = reference_root(leaves[:size])
    assert log.root(size) == root
    verify_inclusion(hash_leaf(leaves[index]), log.prove_inclusion(index, size), root)
    size1 = data.draw(st.integers(1, size))
    verify_consistency(log.prove_consistency(size1, size), reference_root(leaves[:size1]), root)
    # Batch boundaries do not change the tree: a log built in one batch agrees.
    single = Log(MemoryStore(), origin=ORIGIN, clock=lambda: FIXED)
    single.append_batch(_PROPERTY_DRAFTS[:pos])
    assert single.root() == log.root() and single.store.tail() == store.tail()
