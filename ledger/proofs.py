"""RFC 9162 inclusion and consistency proofs: values, wire forms, building and verification.

A proof is a small frozen value (:class:`InclusionProof`, :class:`ConsistencyProof`)
with a JSON form (standard padded base64 hashes, the encoding transparency-dev
uses) and a compact binary form. Verification follows RFC 9162 section
2.1.3.2 (inclusion) and 2.1.4.2 (consistency) step by step; each function
returns ``None`` on success and raises :class:`~ledger.errors.ProofError`
(code ``inclusion_invalid`` or ``consistency_invalid``) otherwise. It never
returns ``False``.

Building a proof is a store's job: :func:`prove_inclusion` and
:func:`prove_consistency` ask a ``read_nodes`` callable for the hashes of the
perfect-subtree node ids :mod:`ledger._merkle` names, and fold them.
"""

from __future__ import annotations

import hmac
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from typing import Any

from did_methods._wire.b64 import b64_decode, b64_encode
from did_methods.errors import ParseError
from ledger._merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    MAX_TREE_SIZE,
    NodeID,
    consistency_proof_nodes,
    fold,
    hash_children,
    inclusion_proof_nodes,
)
from ledger.errors import ProofError

__all__ = [
    "MAX_PROOF_HASHES",
    "ConsistencyProof",
    "InclusionProof",
    "ReadNodes",
    "consistency_prefix_root",
    "prove_consistency",
    "prove_inclusion",
    "root_from_consistency_proof",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]

MAX_PROOF_HASHES = 64
"""Upper bound on hashes in any proof we accept; a tree of 2**63 leaves needs at most 63."""

ReadNodes = Callable[[Sequence[NodeID]], Sequence[bytes]]
"""A store's reader: the stored hashes of the given node ids, in the same order."""

_INCLUSION = "inclusion_invalid"
_CONSISTENCY = "consistency_invalid"
_BIN_INCLUSION = 0x01
_BIN_CONSISTENCY = 0x02
_HEADER = struct.Struct(">BQQB")  # kind, two u64 numbers, hash count
_BYTES = frozenset({bytes})
_HASH_LENGTH = frozenset({HASH_SIZE})


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_number(code: str, name: str, value: object) -> None:
    if not _is_int(value):
        raise ProofError(code, f"{name} must be an int")
    assert isinstance(value, int)
    if not 0 <= value <= MAX_TREE_SIZE:
        raise ProofError(code, f"{name} must be between 0 and 2**63 - 1")


def _all_hashes(values: Sequence[object]) -> bool:
    """True when every value is ``bytes`` of :data:`HASH_SIZE` (a fast test in C calls;
    False for a ``bytes`` subclass too, which the callers then check one by one)."""
    return set(map(type, values)) <= _BYTES and set(map(len, values)) <= _HASH_LENGTH  # type: ignore[arg-type]


def _check_hashes(code: str, hashes: object) -> None:
    if not isinstance(hashes, tuple):
        raise ProofError(code, "proof hashes must be a tuple of bytes")
    if len(hashes) > MAX_PROOF_HASHES:
        raise ProofError(code, f"proof has {len(hashes)} hashes, more than {MAX_PROOF_HASHES}")
    if not _all_hashes(hashes):
        for i, h in enumerate(hashes):
            if not isinstance(h, bytes) or len(h) != HASH_SIZE:
                raise ProofError(code, f"proof hash {i} is not {HASH_SIZE} bytes")


def _check_hash(code: str, name: str, value: object) -> bytes:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ProofError(code, f"{name} must be {HASH_SIZE} bytes")
    return value


def _b64_decode_hash(text: object, what: str) -> bytes:
    if not isinstance(text, str) or len(text) > 4 * MAX_PROOF_HASHES:
        raise ParseError(f"{what} must be a base64 string")
    # Only the canonical spelling: no stray padding bits, so one proof has one JSON form.
    try:
        return b64_decode(text)
    except ParseError as exc:
        raise ParseError(f"{what} is {exc}") from exc


def _json_object(data: object, keys: tuple[str, ...], what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ParseError(f"{what} must be a JSON object")
    if set(data) != set(keys):
        raise ParseError(f"{what} must have exactly the members {', '.join(keys)}")
    return data


def _json_number(data: Mapping[str, Any], key: str) -> int:
    value = data[key]
    if not _is_int(value) or not 0 <= value <= MAX_TREE_SIZE:
        raise ParseError(f"{key} must be an integer between 0 and 2**63 - 1")
    assert isinstance(value, int)
    return value


def _json_hashes(data: Mapping[str, Any]) -> tuple[bytes, ...]:
    items = data["hashes"]
    if not isinstance(items, list) or len(items) > MAX_PROOF_HASHES:
        raise ParseError(f"hashes must be a list of at most {MAX_PROOF_HASHES} strings")
    return tuple(_b64_decode_hash(item, f"hashes[{i}]") for i, item in enumerate(items))


def _to_bytes(kind: int, a: int, b: int, hashes: tuple[bytes, ...]) -> bytes:
    return _HEADER.pack(kind, a, b, len(hashes)) + b"".join(hashes)


def _from_bytes(kind: int, data: object, what: str) -> tuple[int, int, tuple[bytes, ...]]:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ParseError(f"{what} must be bytes")
    raw = bytes(data)
    if len(raw) < _HEADER.size:
        raise ParseError(f"{what} is truncated")
    tag, a, b, count = _HEADER.unpack_from(raw)
    if tag != kind:
        raise ParseError(f"{what} has the wrong type byte {tag:#04x}")
    if count > MAX_PROOF_HASHES or len(raw) != _HEADER.size + count * HASH_SIZE:
        raise ParseError(f"{what} has the wrong length for {count} hashes")
    if a > MAX_TREE_SIZE or b > MAX_TREE_SIZE:
        raise ParseError(f"{what} has a size above 2**63 - 1")
    body = raw[_HEADER.size :]
    hashes = tuple(body[i : i + HASH_SIZE] for i in range(0, len(body), HASH_SIZE))
    return a, b, hashes


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves (RFC 9162 2.1.3).

    ``hashes`` are ordered bottom-up, as RFC 9162 PATH lists them. Building
    one checks its shape (``0 <= index < size``, at most
    :data:`MAX_PROOF_HASHES` hashes of 32 bytes each) and raises
    :class:`~ledger.errors.ProofError` (``inclusion_invalid``) otherwise; it
    proves nothing until :func:`verify_inclusion` accepts it.
    """

    index: int
    size: int
    hashes: tuple[bytes, ...]

    def __post_init__(self) -> None:
        _check_number(_INCLUSION, "index", self.index)
        _check_number(_INCLUSION, "size", self.size)
        if self.index >= self.size:
            raise ProofError(_INCLUSION, f"leaf index {self.index} is not below size {self.size}")
        _check_hashes(_INCLUSION, self.hashes)

    def to_json(self) -> dict[str, Any]:
        """``{"index": int, "size": int, "hashes": [standard base64, ...]}``."""
        return {
            "index": self.index,
            "size": self.size,
            "hashes": [b64_encode(h) for h in self.hashes],
        }

    @classmethod
    def from_json(cls, data: object) -> InclusionProof:
        """Parse :meth:`to_json` output strictly (exact members, canonical base64).

        Raises :class:`~did_methods.errors.ParseError` for a malformed object
        and :class:`~ledger.errors.ProofError` for an impossible proof shape.
        """
        obj = _json_object(data, ("index", "size", "hashes"), "inclusion proof")
        return cls(_json_number(obj, "index"), _json_number(obj, "size"), _json_hashes(obj))

    def to_bytes(self) -> bytes:
        """``0x01 || u64 index || u64 size || u8 count || hashes`` (big-endian)."""
        return _to_bytes(_BIN_INCLUSION, self.index, self.size, self.hashes)

    @classmethod
    def from_bytes(cls, data: bytes) -> InclusionProof:
        """Parse :meth:`to_bytes` output; raises ``ParseError`` or ``ProofError``."""
        index, size, hashes = _from_bytes(_BIN_INCLUSION, data, "inclusion proof")
        return cls(index, size, hashes)


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """Proof that the tree of ``size1`` leaves is a prefix of the one of ``size2`` (RFC 9162 2.1.4).

    Building one checks its shape (``size1 <= size2``, at most
    :data:`MAX_PROOF_HASHES` hashes of 32 bytes) and raises
    :class:`~ledger.errors.ProofError` (``consistency_invalid``) otherwise.
    """

    size1: int
    size2: int
    hashes: tuple[bytes, ...]

    def __post_init__(self) -> None:
        _check_number(_CONSISTENCY, "size1", self.size1)
        _check_number(_CONSISTENCY, "size2", self.size2)
        if self.size1 > self.size2:
            raise ProofError(_CONSISTENCY, f"size1 {self.size1} is larger than size2 {self.size2}")
        _check_hashes(_CONSISTENCY, self.hashes)

    def to_json(self) -> dict[str, Any]:
        """``{"size1": int, "size2": int, "hashes": [standard base64, ...]}``."""
        return {
            "size1": self.size1,
            "size2": self.size2,
            "hashes": [b64_encode(h) for h in self.hashes],
        }

    @classmethod
    def from_json(cls, data: object) -> ConsistencyProof:
        """Parse :meth:`to_json` output strictly; raises ``ParseError`` or ``ProofError``."""
        obj = _json_object(data, ("size1", "size2", "hashes"), "consistency proof")
        return cls(_json_number(obj, "size1"), _json_number(obj, "size2"), _json_hashes(obj))

    def to_bytes(self) -> bytes:
        """``0x02 || u64 size1 || u64 size2 || u8 count || hashes`` (big-endian)."""
        return _to_bytes(_BIN_CONSISTENCY, self.size1, self.size2, self.hashes)

    @classmethod
    def from_bytes(cls, data: bytes) -> ConsistencyProof:
        """Parse :meth:`to_bytes` output; raises ``ParseError`` or ``ProofError``."""
        size1, size2, hashes = _from_bytes(_BIN_CONSISTENCY, data, "consistency proof")
        return cls(size1, size2, hashes)


def _check_proof_type(proof: object, cls: type, code: str) -> None:
    if not isinstance(proof, cls):
        raise ProofError(code, f"expected a {cls.__name__}")


def root_from_inclusion_proof(leaf_hash: bytes, proof: InclusionProof) -> bytes:
    """Return the root that ``proof`` gives for a leaf with hash ``leaf_hash``.

    Runs RFC 9162 section 2.1.3.2 steps 1-4 and the ``sn == 0`` part of step
    5 (so a proof of the wrong length fails here). The caller still has to
    compare the result with a trusted root; :func:`verify_inclusion` does.

    Raises :class:`~ledger.errors.ProofError` (``inclusion_invalid``).
    """
    _check_proof_type(proof, InclusionProof, _INCLUSION)
    _check_hash(_INCLUSION, "leaf hash", leaf_hash)
    # Step 1: leaf_index < tree_size holds: InclusionProof checked it when built.
    # Step 2.
    fn, sn = proof.index, proof.size - 1
    # Step 3.
    r = leaf_hash
    # Step 4.
    for p in proof.hashes:
        # 4a: a hash left over once the path reached the root.
        if sn == 0:
            raise ProofError(_INCLUSION, "proof has more hashes than the path to the root")
        # 4b.
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hash_children(r, p)
        # 4c.
        fn >>= 1
        sn >>= 1
    # Step 5 (first half): the path must end at the root.
    if sn != 0:
        raise ProofError(_INCLUSION, "proof has fewer hashes than the path to the root")
    return r


def verify_inclusion(leaf_hash: bytes, proof: InclusionProof, root: bytes) -> None:
    """Check that the leaf with hash ``leaf_hash`` is at ``proof.index`` in the tree with ``root``.

    RFC 9162 section 2.1.3.2. ``leaf_hash`` is :func:`ledger._merkle.hash_leaf`
    of the entry, not the entry itself. Returns ``None`` when the proof holds.

    Raises :class:`~ledger.errors.ProofError` with code ``inclusion_invalid``
    when it does not (wrong length, wrong hashes, wrong root, or a leaf hash
    or root that is not 32 bytes).
    """
    computed = root_from_inclusion_proof(leaf_hash, proof)
    # Step 5 (second half).
    if not isinstance(root, bytes) or not hmac.compare_digest(computed, root):
        raise ProofError(_INCLUSION, "computed root does not match the expected root")


def _consistency_roots(proof: ConsistencyProof, root1: bytes) -> tuple[bytes, bytes]:
    """RFC 9162 section 2.1.4.2 steps 1-6 for ``0 < size1 < size2``: return (fr, sr)."""
    size1, size2 = proof.size1, proof.size2
    path = list(proof.hashes)
    # Step 1.
    if not path:
        raise ProofError(_CONSISTENCY, "proof is empty")
    # Step 2: when size1 is a power of two the old root is itself a node of the path.
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    # Step 3.
    fn, sn = size1 - 1, size2 - 1
    # Step 4.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5.
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        # 6a.
        if sn == 0:
            raise ProofError(_CONSISTENCY, "proof has more hashes than the path to the root")
        # 6b.
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hash_children(sr, c)
        # 6c.
        fn >>= 1
        sn >>= 1
    # Step 7 (the sn part; the callers compare fr and sr).
    if sn != 0:
        raise ProofError(_CONSISTENCY, "proof has fewer hashes than the path to the root")
    return fr, sr


def _check_trivial(proof: ConsistencyProof, root1: bytes) -> bool:
    """Handle the cases RFC 9162 2.1.4.2 leaves out; True when the proof needs no hashing."""
    if proof.size1 == proof.size2:
        if proof.hashes:
            raise ProofError(_CONSISTENCY, "equal sizes need an empty proof")
        # The empty tree has one root; anything else claimed for it is false.
        if proof.size1 == 0 and not (
            isinstance(root1, bytes) and hmac.compare_digest(root1, EMPTY_ROOT)
        ):
            raise ProofError(_CONSISTENCY, "the root of the empty tree is SHA-256 of nothing")
        return True
    if proof.size1 == 0:
        raise ProofError(_CONSISTENCY, "a consistency proof from the empty tree is meaningless")
    _check_hash(_CONSISTENCY, "root1", root1)
    return False


def root_from_consistency_proof(proof: ConsistencyProof, root1: bytes) -> bytes:
    """Return the ``size2`` root that ``proof`` gives, after checking it reproduces ``root1``.

    RFC 9162 section 2.1.4.2 steps 1-7 except the final comparison with the
    second root, which :func:`verify_consistency` makes. For equal sizes the
    proof must be empty and the result is ``root1``.

    Raises :class:`~ledger.errors.ProofError` (``consistency_invalid``),
    including for ``size1 == 0 < size2`` (no proof from the empty tree exists:
    every tree extends it; callers that must accept growth from empty check
    that case themselves).
    """
    _check_proof_type(proof, ConsistencyProof, _CONSISTENCY)
    if not isinstance(root1, bytes):
        raise ProofError(_CONSISTENCY, "root1 must be bytes")
    if _check_trivial(proof, root1):
        return root1
    fr, sr = _consistency_roots(proof, root1)
    # Step 7: fr must be the old root.
    if not hmac.compare_digest(fr, root1):
        raise ProofError(_CONSISTENCY, "proof does not reproduce the first root")
    return sr


def verify_consistency(proof: ConsistencyProof, root1: bytes, root2: bytes) -> None:
    """Check that the ``proof.size1`` tree with ``root1`` is a prefix of the one with ``root2``.

    RFC 9162 section 2.1.4.2 for ``0 < size1 < size2``. For equal sizes the
    proof must be empty and the roots equal (and, for size 0, be
    :data:`~ledger._merkle.EMPTY_ROOT`). Returns ``None`` when the proof holds.

    Raises :class:`~ledger.errors.ProofError` with code ``consistency_invalid``
    otherwise, including for ``size1 == 0 < size2``.
    """
    computed = root_from_consistency_proof(proof, root1)
    if not isinstance(root2, bytes) or not hmac.compare_digest(computed, root2):
        raise ProofError(_CONSISTENCY, "proof does not reproduce the second root")


def consistency_prefix_root(proof: ConsistencyProof, root2: bytes) -> bytes | None:
    """Return the ``size1`` root that a proof binding to ``root2`` commits to, or ``None``.

    Used for split-view evidence: if the proof's hashes fold to ``root2``
    (so, by collision resistance, they are true node hashes of that tree),
    the old root they fold to is the only ``size1`` root consistent with
    ``root2``. Only defined when ``size1`` is not a power of two (otherwise
    the old root is an input of the proof, not an output) and
    ``0 < size1 < size2``; returns ``None`` when the proof is malformed, does
    not reach ``root2``, or the case is not covered. Raises
    :class:`~ledger.errors.ProofError` only if ``proof`` is not a
    :class:`ConsistencyProof`.
    """
    _check_proof_type(proof, ConsistencyProof, _CONSISTENCY)
    size1 = proof.size1
    if not 0 < size1 < proof.size2 or size1 & (size1 - 1) == 0:
        return None
    try:
        fr, sr = _consistency_roots(proof, b"")
    except ProofError:
        return None
    return fr if isinstance(root2, bytes) and hmac.compare_digest(sr, root2) else None


def _read(read_nodes: ReadNodes, groups: list[list[NodeID]], code: str) -> tuple[bytes, ...]:
    wanted = list(chain.from_iterable(groups))
    got = list(read_nodes(wanted))
    if len(got) != len(wanted):
        raise ProofError(code, f"store returned {len(got)} hashes for {len(wanted)} nodes")
    if not _all_hashes(got):
        for h in got:
            _check_hash(code, "stored node hash", h)
    if len(got) == len(groups):
        # Every group is one stored node: its hash is the proof's hash as it is.
        return tuple(got)
    out: list[bytes] = []
    pos = 0
    for group in groups:
        end = pos + len(group)
        out.append(got[pos] if end - pos == 1 else _fold(tuple(got[pos:end])))
        pos = end
    return tuple(out)


@lru_cache(maxsize=64)
def _fold(hashes: tuple[bytes, ...]) -> bytes:
    # The group that is not one stored node is the tree's ragged right edge: every
    # proof of a leaf on the same side of it folds the same hashes.
    return fold(hashes)


def prove_inclusion(index: int, size: int, read_nodes: ReadNodes) -> InclusionProof:
    """Build the inclusion proof of leaf ``index`` in the tree of ``size`` leaves.

    ``read_nodes`` receives the node ids of
    :func:`ledger._merkle.inclusion_proof_nodes` (O(log n) of them, flattened)
    and returns their stored hashes in the same order.

    Raises :class:`~ledger.errors.TreeSizeError` unless ``0 <= index < size``,
    and :class:`~ledger.errors.ProofError` if the store returns the wrong
    number of hashes or a hash that is not 32 bytes. Whatever ``read_nodes``
    raises propagates.
    """
    groups = inclusion_proof_nodes(index, size)
    return InclusionProof(index, size, _read(read_nodes, groups, _INCLUSION))


def prove_consistency(size1: int, size2: int, read_nodes: ReadNodes) -> ConsistencyProof:
    """Build the consistency proof from ``size1`` to ``size2`` (``0 < size1 <= size2``).

    ``read_nodes`` is as for :func:`prove_inclusion`. Raises
    :class:`~ledger.errors.TreeSizeError` for sizes out of order or
    ``size1 == 0 < size2``, and :class:`~ledger.errors.ProofError` for a
    misbehaving store.
    """
    groups = consistency_proof_nodes(size1, size2)
    return ConsistencyProof(size1, size2, _read(read_nodes, groups, _CONSISTENCY))
