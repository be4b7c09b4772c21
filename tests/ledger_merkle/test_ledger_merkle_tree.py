"""ledger._merkle and ledger.proofs against a literal RFC 9162 tree and the CT reference tree."""

from __future__ import annotations

import hashlib

import ledger_merkle_reference as ref
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vector_files import load_vector

from ledger import _merkle as m
from ledger.errors import ProofError, TreeSizeError
from ledger.proofs import (
    ConsistencyProof,
    InclusionProof,
    prove_consistency,
    prove_inclusion,
    root_from_consistency_proof,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

REF_TREE = load_vector("merkle-transparency-dev/rfc6962-reference-tree.json")


def _data(n: int) -> list[bytes]:
    return [b"entry-%d" % i for i in range(n)]


class Tree:
    """A CompactRange driven tree whose nodes are kept in a dict, like a store."""

    def __init__(self, data: list[bytes]) -> None:
        self.nodes: dict[m.NodeID, bytes] = {}
        self.ranges = [m.CompactRange.empty()]
        cr = self.ranges[0]
        for item in data:
            cr = cr.append(m.hash_leaf(item), self._store)
            self.ranges.append(cr)

    def _store(self, node_id: m.NodeID, h: bytes) -> None:
        assert node_id not in self.nodes, f"node {node_id} emitted twice"
        self.nodes[node_id] = h

    def read(self, ids: object) -> list[bytes]:
        return [self.nodes[i] for i in ids]  # type: ignore[attr-defined]


# -- hashing ------------------------------------------------------------------------


def test_hasher_vectors() -> None:
    vecs = {v["desc"]: v for v in REF_TREE["hasher_vectors"]}
    assert m.EMPTY_ROOT.hex() == vecs["empty tree root"]["expected_hex"]
    assert m.hash_leaf(b"").hex() == vecs["leaf hash of empty leaf (SHA256(00))"]["expected_hex"]
    assert m.hash_leaf(b"L123456").hex() == vecs["leaf hash of ASCII 'L123456'"]["expected_hex"]
    nv = vecs["node hash of children ASCII 'N123','N456' (raw bytes, not 32-byte hashes)"]
    assert m.hash_children(b"N123", b"N456").hex() == nv["expected_hex"]


def test_reference_tree_roots_nodes_and_proofs() -> None:
    data = [bytes.fromhex(x) for x in REF_TREE["leaf_inputs_hex"]]
    tree = Tree(data)
    for size, root_hex in REF_TREE["root_hash_by_tree_size_hex"].items():
        assert tree.ranges[int(size)].root().hex() == root_hex
    for level, row in enumerate(REF_TREE["node_hashes_by_level_hex"]):
        for index, h in enumerate(row):
            assert tree.nodes[(level, index)].hex() == h
    roots = {int(k): bytes.fromhex(v) for k, v in REF_TREE["root_hash_by_tree_size_hex"].items()}
    for p in REF_TREE["inclusion_proofs"]:
        idx, size = p["leaf_index_0based"], p["tree_size"]
        got = prove_inclusion(idx, size, tree.read)
        assert [h.hex() for h in got.hashes] == p["proof_hex"]
        verify_inclusion(m.hash_leaf(data[idx]), got, roots[size])
    for p in REF_TREE["consistency_proofs"]:
        got_c = prove_consistency(p["size1"], p["size2"], tree.read)
        assert [h.hex() for h in got_c.hashes] == p["proof_hex"]
        verify_consistency(got_c, roots[p["size1"]], roots[p["size2"]])


def test_fold_and_errors() -> None:
    a, b, c = (hashlib.sha256(bytes([i])).digest() for i in range(3))
    assert m.fold([a]) == a
    assert m.fold([a, b, c]) == m.hash_children(a, m.hash_children(b, c))
    with pytest.raises(TreeSizeError):
        m.fold([])


# -- every size up to 70 against the literal RFC tree -------------------------------

MAX_EXHAUSTIVE = 70
DATA = _data(MAX_EXHAUSTIVE)
TREE = Tree(DATA)


def test_compact_range_roots_match_mth_for_every_size() -> None:
    for n in range(MAX_EXHAUSTIVE + 1):
        cr = TREE.ranges[n]
        assert cr.size == n
        assert cr.root() == ref.mth(DATA[:n])
        assert [nid for nid, _ in cr.nodes()] == m.root_nodes(n)
        # The border is resumable: a range rebuilt from its hashes appends identically.
        again = m.CompactRange.from_hashes(n, cr.to_hashes())
        assert again == cr
        assert again.append(m.hash_leaf(b"x")).root() == ref.mth([*DATA[:n], b"x"])


def test_every_emitted_node_is_the_reference_subtree_hash() -> None:
    # Every perfect subtree inside 70 leaves was emitted exactly once, with the right hash.
    expected = {
        (level, index)
        for level in range(8)
        for index in range(MAX_EXHAUSTIVE >> level)
        if (index + 1) << level <= MAX_EXHAUSTIVE
    }
    assert set(TREE.nodes) == expected
    for (level, index), h in TREE.nodes.items():
        assert h == ref.node_hash(level, index, DATA)


def test_root_nodes_fold_to_root() -> None:
    for n in range(1, MAX_EXHAUSTIVE + 1):
        assert m.fold(TREE.read(m.root_nodes(n))) == ref.mth(DATA[:n])
    assert m.root_nodes(0) == []


def test_inclusion_proofs_for_every_leaf_of_every_size() -> None:
    for n in range(1, MAX_EXHAUSTIVE + 1):
        root = ref.mth(DATA[:n])
        for i in range(n):
            proof = prove_inclusion(i, n, TREE.read)
            assert list(proof.hashes) == ref.path(i, DATA[:n])
            verify_inclusion(m.hash_leaf(DATA[i]), proof, root)
            # Every node named lies inside the first n leaves (stored once the tree has n).
            for group in m.inclusion_proof_nodes(i, n):
                for level, index in group:
                    assert (index + 1) << level <= n


def test_consistency_proofs_for_every_pair_of_sizes() -> None:
    for n in range(1, MAX_EXHAUSTIVE + 1):
        root2 = ref.mth(DATA[:n])
        for k in range(1, n + 1):
            proof = prove_consistency(k, n, TREE.read)
            assert list(proof.hashes) == (ref.proof(k, DATA[:n]) if k < n else [])
            verify_consistency(proof, ref.mth(DATA[:k]), root2)
            assert root_from_consistency_proof(proof, ref.mth(DATA[:k])) == root2


@settings(max_examples=60)
@given(n=st.integers(71, 600), data=st.data())
def test_random_larger_sizes(n: int, data: st.DataObject) -> None:
    items = _data(n)
    tree = Tree(items)
    root = ref.mth(items)
    assert tree.ranges[n].root() == root
    i = data.draw(st.integers(0, n - 1))
    p = prove_inclusion(i, n, tree.read)
    assert list(p.hashes) == ref.path(i, items)
    verify_inclusion(m.hash_leaf(items[i]), p, root)
    k = data.draw(st.integers(1, n))
    c = prove_consistency(k, n, tree.read)
    assert list(c.hashes) == (ref.proof(k, items) if k < n else [])
    verify_consistency(c, ref.mth(items[:k]), root)


def test_huge_sizes_need_few_nodes() -> None:
    size = 2**62 + 12345
    groups = m.inclusion_proof_nodes(size - 1, size)
    assert len(groups) <= 63
    assert sum(len(g) for g in groups) <= 2 * 63
    assert len(m.consistency_proof_nodes(2**40 + 3, size)) <= 64


# -- mutations must fail -------------------------------------------------------------


def _flip(b: bytes, bit: int) -> bytes:
    pos = bit // 8 % len(b)
    return b[:pos] + bytes([b[pos] ^ (1 << bit % 8)]) + b[pos + 1 :]


@settings(max_examples=100)
@given(n=st.integers(2, MAX_EXHAUSTIVE), data=st.data())
def test_mutated_inclusion_proofs_fail(n: int, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, n - 1))
    root = ref.mth(DATA[:n])
    leaf = m.hash_leaf(DATA[i])
    good = prove_inclusion(i, n, TREE.read)
    hashes = list(good.hashes)
    bad: list[tuple[bytes, InclusionProof | None, bytes]] = []
    if hashes:
        j = data.draw(st.integers(0, len(hashes) - 1))
        bit = data.draw(st.integers(0, 255))
        flipped = [*hashes]
        flipped[j] = _flip(flipped[j], bit)
        bad.append((leaf, InclusionProof(i, n, tuple(flipped)), root))
        bad.append((leaf, InclusionProof(i, n, tuple(hashes[:-1])), root))
    bad.append((leaf, InclusionProof(i, n, (*hashes, root)), root))  # trailing garbage
    bad.append((leaf, InclusionProof(i, n, (root, *hashes)), root))  # preceding garbage
    bad.append((_flip(leaf, 3), good, root))
    bad.append((leaf, good, _flip(root, 7)))
    bad.append((leaf, good, ref.mth(DATA[: n - 1])))
    for delta in (-1, 1):
        j = i + delta
        if 0 <= j < n:
            bad.append((leaf, InclusionProof(j, n, good.hashes), root))
    for leaf_hash, proof, root_hash in bad:
        assert proof is not None
        with pytest.raises(ProofError) as exc:
            verify_inclusion(leaf_hash, proof, root_hash)
        assert exc.value.code == "inclusion_invalid"


@settings(max_examples=100)
@given(n=st.integers(3, MAX_EXHAUSTIVE), data=st.data())
def test_mutated_consistency_proofs_fail(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(1, n - 1))
    r1, r2 = ref.mth(DATA[:k]), ref.mth(DATA[:n])
    good = prove_consistency(k, n, TREE.read)
    hashes = list(good.hashes)
    j = data.draw(st.integers(0, len(hashes) - 1))
    flipped = [*hashes]
    flipped[j] = _flip(flipped[j], data.draw(st.integers(0, 255)))
    cases = [
        (ConsistencyProof(k, n, tuple(flipped)), r1, r2),
        (ConsistencyProof(k, n, tuple(hashes[:-1])), r1, r2),
        (ConsistencyProof(k, n, (*hashes, r2)), r1, r2),
        (ConsistencyProof(k, n, (r1, *hashes)), r1, r2),
        (good, r2, r1),  # swapped roots
        (good, _flip(r1, 1), r2),
        (good, r1, _flip(r2, 1)),
        (ConsistencyProof(k, n, ()), r1, r2),
    ]
    if k + 1 < n:
        cases.append((ConsistencyProof(k + 1, n, good.hashes), r1, r2))
    if k > 1:
        cases.append((ConsistencyProof(k - 1, n, good.hashes), r1, r2))
    # (size2 - 1 is no mutation to test: the hashes do not bind size2, which is why the
    # sizes come from a signed checkpoint; e.g. the 1 -> 4 proof also folds to root 4 as
    # a "1 -> 3" proof.)
    for proof, a, b in cases:
        with pytest.raises(ProofError) as exc:
            verify_consistency(proof, a, b)
        assert exc.value.code == "consistency_invalid"


def test_compact_range_rejects_bad_input() -> None:
    with pytest.raises(TreeSizeError):
        m.CompactRange.empty().append(b"short")
    with pytest.raises(TreeSizeError):
        m.CompactRange.from_hashes(3, [m.EMPTY_ROOT])
    with pytest.raises(TreeSizeError):
        m.CompactRange.from_hashes(-1, [])
    with pytest.raises(TreeSizeError):
        m.CompactRange.from_hashes(1, [b"x" * 31])
    with pytest.raises(AttributeError):
        m.CompactRange.empty()._size = 3  # type: ignore[misc]


def test_append_callback_failure_leaves_range_unchanged() -> None:
    cr = TREE.ranges[7]

    def boom(node_id: m.NodeID, h: bytes) -> None:
        if node_id[0] == 2:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        cr.append(m.hash_leaf(b"x"), boom)
    assert cr.size == 7 and cr.root() == ref.mth(DATA[:7])


def test_node_arithmetic_rejects_impossible_requests() -> None:
    for args in [(0, 0), (5, 5), (-1, 3), (True, 3)]:
        with pytest.raises(TreeSizeError):
            m.inclusion_proof_nodes(*args)
    for args in [(0, 3), (4, 3), (1, 2**63)]:
        with pytest.raises(TreeSizeError):
            m.consistency_proof_nodes(*args)
    assert m.consistency_proof_nodes(0, 0) == []
    assert m.consistency_proof_nodes(5, 5) == []
    with pytest.raises(TreeSizeError):
        m.range_nodes(3, 3)
    with pytest.raises(TreeSizeError):
        m.range_nodes(1, 4)  # [1, 4) is no MTH subtree


def test_root_from_inclusion_proof_of_single_leaf() -> None:
    leaf = m.hash_leaf(b"only")
    assert root_from_inclusion_proof(leaf, InclusionProof(0, 1, ())) == leaf
