"""RFC 9162 Merkle tree arithmetic: hashing, compact ranges and proof node ids.

This is the sharp layer under :mod:`ledger.proofs`. It does no I/O: it says
which tree nodes a store must persist (through a callback) and which nodes it
must read to answer a proof, and it folds hashes. A store that persists every
node handed to :meth:`CompactRange.append` can then answer any inclusion or
consistency proof by reading O(log n) nodes, without rebuilding the tree.

Node ids
    ``(level, index)`` names the *perfect* subtree of ``2**level`` leaves that
    starts at leaf ``index * 2**level``. ``(0, i)`` is leaf ``i``; its hash is
    :func:`hash_leaf` of the entry. Only perfect subtrees are ever named: the
    hash of a ragged subtree on the right border of a tree is a :func:`fold` of
    the perfect subtrees that tile it, left to right.

Everything here follows RFC 9162 section 2.1 (which keeps the RFC 6962 tree):
leaf hash ``SHA-256(0x00 || data)``, interior hash ``SHA-256(0x01 || l || r)``,
the empty tree hashes to ``SHA-256("")``, and a tree of ``n`` leaves splits at
the largest power of two smaller than ``n``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

from ledger.errors import TreeSizeError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MAX_TREE_SIZE",
    "CompactRange",
    "NodeID",
    "consistency_proof_nodes",
    "fold",
    "hash_children",
    "hash_leaf",
    "inclusion_proof_nodes",
    "range_nodes",
    "root_nodes",
    "split_point",
]

NodeID = tuple[int, int]
"""``(level, index)``: the perfect subtree of ``2**level`` leaves from leaf ``index << level``."""

HASH_SIZE = 32
"""Bytes in every node hash (SHA-256)."""

MAX_TREE_SIZE = 2**63 - 1
"""Largest tree size we accept; C2SP tlog-cosignature bounds sizes and times the same way."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root hash of the empty tree, ``SHA-256("")`` (RFC 9162 section 2.1.1)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def hash_leaf(data: bytes) -> bytes:
    """Return the leaf hash ``SHA-256(0x00 || data)`` of an entry's bytes."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """Return the interior node hash ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def fold(hashes: Sequence[bytes]) -> bytes:
    """Fold node hashes right to left with :func:`hash_children`.

    ``fold([a, b, c]) == hash_children(a, hash_children(b, c))``: the hash of a
    subtree whose perfect tiles, left to right, have hashes ``a``, ``b``, ``c``
    (as :func:`range_nodes` lists them). A single hash folds to itself.

    Raises :class:`~ledger.errors.TreeSizeError` for an empty list: there is
    nothing to fold (the empty tree's root is :data:`EMPTY_ROOT`, by definition).
    """
    if not hashes:
        raise TreeSizeError("cannot fold an empty list of hashes")
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = hash_children(h, acc)
    return acc


def split_point(n: int) -> int:
    """Return the largest power of two strictly smaller than ``n`` (``n >= 2``): RFC 9162's k."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_size(name: str, value: int) -> None:
    # bool is an int subclass; a True tree size is a caller bug, not a tree of one.
    if not isinstance(value, int) or isinstance(value, bool):
        raise TreeSizeError(f"{name} must be an int")
    if not 0 <= value <= MAX_TREE_SIZE:
        raise TreeSizeError(f"{name} must be between 0 and 2**63 - 1, got {value}")


def range_nodes(begin: int, end: int) -> list[NodeID]:
    """Return the perfect subtrees tiling leaves ``[begin, end)``, left to right, largest first.

    For every range that RFC 9162's MTH recursion visits (the whole tree, and
    each left or right part it splits into), :func:`fold` of these nodes'
    hashes is that range's MTH. Each tile is aligned, so it is a real node of
    any tree with at least ``end`` leaves.

    Raises :class:`~ledger.errors.TreeSizeError` if the range is empty,
    reversed, or not tileable that way (``begin`` not aligned to its first tile).
    """
    _check_size("begin", begin)
    _check_size("end", end)
    if begin >= end:
        raise TreeSizeError(f"empty or reversed leaf range [{begin}, {end})")
    level = (end - begin).bit_length() - 1
    if begin & ((1 << level) - 1):
        raise TreeSizeError(f"leaf range [{begin}, {end}) is not an MTH subtree")
    return _tiles(begin, end)


def _tiles(begin: int, end: int) -> list[NodeID]:
    # range_nodes without the checks, for the proof walks below: they only ask for
    # ranges their recursion makes (non-empty, and begin aligned to the first tile).
    nodes: list[NodeID] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        nodes.append((level, begin >> level))
        begin += 1 << level
    return nodes


def root_nodes(size: int) -> list[NodeID]:
    """Return the perfect subtrees whose :func:`fold` is the root of a tree of ``size`` leaves.

    One node per set bit of ``size``, largest first. Empty for ``size == 0``
    (whose root is :data:`EMPTY_ROOT`). Raises
    :class:`~ledger.errors.TreeSizeError` for a negative or oversized size.
    """
    _check_size("size", size)
    return [] if size == 0 else range_nodes(0, size)


def inclusion_proof_nodes(index: int, size: int) -> list[list[NodeID]]:
    """Return, for each hash of the inclusion proof of leaf ``index``, the nodes that make it.

    This is RFC 9162 section 2.1.3.1 PATH(index, D[0:size]), bottom-up, with
    each MTH replaced by the perfect nodes that tile it: element ``i`` of the
    proof is ``fold`` of the hashes of ``result[i]``. All nodes lie inside the
    first ``size`` leaves, so a store that has persisted every node of a tree
    of at least ``size`` leaves holds them all.

    Raises :class:`~ledger.errors.TreeSizeError` unless ``0 <= index < size``.
    """
    _check_size("index", index)
    _check_size("size", size)
    if index >= size:
        raise TreeSizeError(f"leaf index {index} is not below tree size {size}")
    return _path_nodes(0, index, size)


def _path_nodes(level: int, index: int, size: int) -> list[list[NodeID]]:
    """The inclusion path of the perfect node ``(level, index)`` in the tree of ``size`` leaves.

    PATH's recursion unrolled into bit arithmetic (the decomposition of
    transparency-dev's ``decompInclProof``), bottom-up: below the level where
    the node's path leaves the path to the last leaf (``inner`` levels up), every
    sibling is a perfect node; the sibling at that level holds the last leaf, so
    it is the range ``[begin, size)`` and may be ragged (several tiles); above it
    the path runs along the right border, and each level where the node is a
    right child has its perfect left sibling in the proof. The callers checked
    that the node lies inside the tree.
    """
    inner = (index ^ ((size - 1) >> level)).bit_length()
    nodes: list[list[NodeID]] = [[(level + j, (index >> j) ^ 1)] for j in range(inner - 1)]
    if inner:
        top = level + inner - 1
        nodes.append(_tiles(((index >> (inner - 1)) ^ 1) << top, size))
    rest = index >> inner
    j = level + inner
    while rest:
        if rest & 1:
            nodes.append([(j, rest ^ 1)])
        rest >>= 1
        j += 1
    return nodes


def consistency_proof_nodes(size1: int, size2: int) -> list[list[NodeID]]:
    """Return, for each hash of the consistency proof from ``size1`` to ``size2``, its nodes.

    This is RFC 9162 section 2.1.4.1 PROOF(size1, D[0:size2]) =
    SUBPROOF(size1, D[0:size2], true), bottom-up, each MTH replaced by its
    perfect tiles (element ``i`` is ``fold`` of the hashes of ``result[i]``).
    Equal sizes give an empty proof.

    Raises :class:`~ledger.errors.TreeSizeError` unless ``0 < size1 <= size2``
    (a proof from the empty tree is meaningless: every tree extends it), or
    ``size1 == size2 == 0``.
    """
    _check_size("size1", size1)
    _check_size("size2", size2)
    if size1 > size2:
        raise TreeSizeError(f"size1 {size1} is larger than size2 {size2}")
    if size1 == size2:
        return []
    if size1 == 0:
        raise TreeSizeError("a consistency proof from the empty tree is meaningless")
    # SUBPROOF unrolled: the old tree's last perfect node, (level, index), then
    # that node's inclusion path in the new tree. When size1 is a power of two
    # that node is the old tree itself, whose root the verifier already has.
    level = (size1 & -size1).bit_length() - 1
    index = (size1 - 1) >> level
    path = _path_nodes(level, index, size2)
    return path if index == 0 else [[(level, index)], *path]


def _check_hash(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise TreeSizeError(f"{what} must be {HASH_SIZE} bytes")
    return bytes(value)


class CompactRange:
    """The right border of a Merkle tree: enough to append leaves and compute the root.

    Holds one hash per set bit of ``size`` (the :func:`root_nodes` of the
    tree), i.e. O(log n) hashes. Instances are immutable: :meth:`append`
    returns a new range. A store persists :meth:`to_hashes` next to its size
    and resumes with :meth:`from_hashes`, so appends never read the tree.
    """

    __slots__ = ("_hashes", "_size")

    _size: int
    _hashes: tuple[bytes, ...]

    def __init__(self, size: int, hashes: tuple[bytes, ...]) -> None:
        """Internal: use :meth:`empty` or :meth:`from_hashes`, which validate the hashes too."""
        # Cheap invariant kept even on this internal path: one border hash per set bit.
        if len(hashes) != size.bit_count():
            raise TreeSizeError(f"a tree of size {size} has {size.bit_count()} border hashes")
        object.__setattr__(self, "_size", size)
        object.__setattr__(self, "_hashes", hashes)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("CompactRange is immutable")

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompactRange):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    def __hash__(self) -> int:
        return hash((self._size, self._hashes))

    @classmethod
    def empty(cls) -> CompactRange:
        """Return the range of the empty tree."""
        return cls(0, ())

    @classmethod
    def from_hashes(cls, size: int, hashes: Sequence[bytes]) -> CompactRange:
        """Rebuild a range from a persisted ``size`` and :meth:`to_hashes` value.

        Raises :class:`~ledger.errors.TreeSizeError` if ``size`` is out of
        range, the number of hashes is not the number of set bits of ``size``,
        or a hash is not 32 bytes.
        """
        _check_size("size", size)
        if len(hashes) != size.bit_count():
            raise TreeSizeError(
                f"a tree of size {size} has {size.bit_count()} border hashes, got {len(hashes)}"
            )
        return cls(size, tuple(_check_hash(h, "border hash") for h in hashes))

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    def to_hashes(self) -> tuple[bytes, ...]:
        """The border hashes, in :func:`root_nodes` order (largest subtree first)."""
        return self._hashes

    def nodes(self) -> list[tuple[NodeID, bytes]]:
        """The border as ``(node id, hash)`` pairs, in :func:`root_nodes` order."""
        return list(zip(root_nodes(self._size), self._hashes, strict=True))

    def root(self) -> bytes:
        """The tree's root hash (RFC 9162 MTH); :data:`EMPTY_ROOT` when empty."""
        if not self._hashes:
            return EMPTY_ROOT
        return fold(self._hashes)

    def append(
        self,
        leaf_hash: bytes,
        on_node: Callable[[NodeID, bytes], None] | None = None,
    ) -> CompactRange:
        """Return the range with one more leaf, whose hash (:func:`hash_leaf`) is ``leaf_hash``.

        ``on_node(node_id, hash)`` is called first for the leaf ``(0, size)``
        and then for every perfect node the leaf completes, bottom-up; a store
        that persists all of them can serve every proof by node id. If
        ``on_node`` raises, the exception propagates and ``self`` is
        unchanged (this object is immutable).

        Raises :class:`~ledger.errors.TreeSizeError` if ``leaf_hash`` is not
        32 bytes or the tree is full.
        """
        h = _check_hash(leaf_hash, "leaf hash")
        if self._size >= MAX_TREE_SIZE:
            raise TreeSizeError("the tree is full")
        index = self._size
        if on_node is not None:
            on_node((0, index), h)
        border = list(self._hashes)
        level = 0
        # Each trailing one bit of the old size is a perfect subtree of that
        # level waiting for a right sibling of the same size: merge them.
        while (index >> level) & 1:
            h = hash_children(border.pop(), h)
            level += 1
            if on_node is not None:
                on_node((level, index >> level), h)
        border.append(h)
        return CompactRange(index + 1, tuple(border))

    def extend(
        self,
        leaf_hashes: Iterable[bytes],
        on_node: Callable[[NodeID, bytes], None] | None = None,
    ) -> CompactRange:
        """Return the range with every leaf of ``leaf_hashes`` appended, in order.

        The same as calling :meth:`append` once per leaf (``on_node`` sees the
        same nodes in the same order), without building a range per leaf. If
        ``on_node`` raises, the exception propagates and ``self`` is unchanged.

        Raises :class:`~ledger.errors.TreeSizeError` if a leaf hash is not 32
        bytes or the tree would overflow.
        """
        border = list(self._hashes)
        index = self._size
        sha256 = hashlib.sha256
        for leaf_hash in leaf_hashes:
            h = _check_hash(leaf_hash, "leaf hash")
            if index >= MAX_TREE_SIZE:
                raise TreeSizeError("the tree is full")
            if on_node is not None:
                on_node((0, index), h)
            level = 0
            # As in append: merge the perfect subtrees of the trailing one bits.
            while (index >> level) & 1:
                h = sha256(_NODE_PREFIX + border.pop() + h).digest()
                level += 1
                if on_node is not None:
                    on_node((level, index >> level), h)
            border.append(h)
            index += 1
        return CompactRange(index, tuple(border))
