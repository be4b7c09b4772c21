"""CompactRange.extend: the same ranges and the same emitted nodes as one append per leaf."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import _merkle as m
from ledger.errors import TreeSizeError


def _leaf(i: int) -> bytes:
    return m.hash_leaf(b"leaf-%d" % i)


def _subtree(lo: int, level: int) -> bytes:
    if level == 0:
        return _leaf(lo)
    half = 1 << (level - 1)
    return m.hash_children(_subtree(lo, level - 1), _subtree(lo + half, level - 1))


def _grown(size: int) -> m.CompactRange:
    cr = m.CompactRange.empty()
    for i in range(size):
        cr = cr.append(_leaf(i))
    return cr


@settings(max_examples=80, deadline=None)
@given(start=st.integers(0, 300), count=st.integers(0, 300))
def test_extend_equals_appending_one_by_one(start: int, count: int) -> None:
    base = _grown(start)
    leaves = [_leaf(start + i) for i in range(count)]
    one_by_one: list[tuple[m.NodeID, bytes]] = []
    expected = base
    for leaf in leaves:
        expected = expected.append(leaf, lambda node, h: one_by_one.append((node, h)))
    batched: list[tuple[m.NodeID, bytes]] = []
    got = base.extend(leaves, lambda node, h: batched.append((node, h)))
    assert got == expected
    assert got.root() == expected.root()
    assert batched == one_by_one
    assert base.extend(leaves) == expected  # no callback at all
    # Every emitted node is the hash of the perfect subtree it names.
    for (level, index), value in batched:
        assert value == _subtree(index << level, level)


def test_extend_refuses_a_bad_leaf_and_leaves_the_range_unchanged() -> None:
    base = _grown(5)
    seen: list[m.NodeID] = []
    with pytest.raises(TreeSizeError):
        base.extend([_leaf(5), b"short"], lambda node, h: seen.append(node))
    with pytest.raises(TreeSizeError):
        base.extend(["not bytes" * 4])  # type: ignore[list-item]
    assert base == _grown(5)
    assert base.size == 5


def test_extend_stops_at_the_first_failing_callback() -> None:
    base = _grown(3)

    def refuse(node: m.NodeID, value: bytes) -> None:
        if node == (2, 0):
            raise RuntimeError("store refused")

    with pytest.raises(RuntimeError):
        base.extend([_leaf(3), _leaf(4)], refuse)
    assert base == _grown(3)


def test_extend_refuses_to_overflow_the_tree() -> None:
    # A range at the largest size: one border hash per set bit (63 of them).
    full = m.CompactRange.from_hashes(
        m.MAX_TREE_SIZE, [hashlib.sha256(b"%d" % i).digest() for i in range(63)]
    )
    with pytest.raises(TreeSizeError):
        full.extend([_leaf(0)])
    assert full.extend([]) == full
