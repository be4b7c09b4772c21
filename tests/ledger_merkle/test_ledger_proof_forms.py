"""Proof values and their JSON/bytes forms: strict parsing, typed errors on arbitrary input."""

from __future__ import annotations

import base64
import hashlib
import inspect
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from did_methods.errors import ParseError
from ledger import _merkle, checkpoint, proofs, witness
from ledger.errors import ProofError
from ledger.proofs import (
    MAX_PROOF_HASHES,
    ConsistencyProof,
    InclusionProof,
    verify_consistency,
    verify_inclusion,
)

H = hashlib.sha256(b"h").digest()
B64 = base64.b64encode(H).decode()


def test_json_forms() -> None:
    p = InclusionProof(3, 8, (H, H))
    assert p.to_json() == {"index": 3, "size": 8, "hashes": [B64, B64]}
    assert InclusionProof.from_json(p.to_json()) == p
    c = ConsistencyProof(3, 8, (H,))
    assert c.to_json() == {"size1": 3, "size2": 8, "hashes": [B64]}
    assert ConsistencyProof.from_json(c.to_json()) == c


def test_bytes_forms() -> None:
    p = InclusionProof(3, 8, (H,))
    assert p.to_bytes() == b"\x01" + (3).to_bytes(8, "big") + (8).to_bytes(8, "big") + b"\x01" + H
    assert InclusionProof.from_bytes(p.to_bytes()) == p
    c = ConsistencyProof(3, 8, ())
    assert ConsistencyProof.from_bytes(c.to_bytes()) == c
    with pytest.raises(ParseError):
        ConsistencyProof.from_bytes(p.to_bytes())  # wrong type byte
    with pytest.raises(ParseError):
        InclusionProof.from_bytes(p.to_bytes() + b"\x00")  # trailing garbage
    with pytest.raises(ParseError):
        InclusionProof.from_bytes(p.to_bytes()[:-1])


BAD_JSON: list[Any] = [
    None,
    [],
    {"index": 0, "size": 1},
    {"index": 0, "size": 1, "hashes": [], "extra": 1},
    {"index": "0", "size": 1, "hashes": []},
    {"index": True, "size": 1, "hashes": []},
    {"index": 0, "size": 1.0, "hashes": []},
    {"index": -1, "size": 1, "hashes": []},
    {"index": 0, "size": 2**63, "hashes": []},
    {"index": 0, "size": 1, "hashes": "x"},
    {"index": 0, "size": 1, "hashes": [B64.rstrip("=")]},
    {"index": 0, "size": 1, "hashes": [base64.urlsafe_b64encode(b"\xff" * 32).decode()]},
    {"index": 0, "size": 1, "hashes": [" " + B64]},
    {"index": 0, "size": 1, "hashes": [1]},
    {"index": 0, "size": 1, "hashes": [B64] * (MAX_PROOF_HASHES + 1)},
]


@pytest.mark.parametrize("data", BAD_JSON)
def test_bad_inclusion_json(data: Any) -> None:
    with pytest.raises(ParseError):
        InclusionProof.from_json(data)


def test_impossible_shapes_are_proof_errors() -> None:
    for args in [(1, 1, ()), (5, 2, ()), (0, 1, (H[:31],)), (0, 1, [H]), (0, 1, (H,) * 65)]:
        with pytest.raises(ProofError) as exc:
            InclusionProof(*args)  # type: ignore[arg-type]
        assert exc.value.code == "inclusion_invalid"
    for args in [(2, 1, ()), (0, 1, ("x" * 32,)), (-1, 1, ())]:
        with pytest.raises(ProofError) as exc:
            ConsistencyProof(*args)  # type: ignore[arg-type]
        assert exc.value.code == "consistency_invalid"
    # Well-formed JSON with an impossible shape is a ProofError, not a crash.
    with pytest.raises(ProofError):
        InclusionProof.from_json({"index": 4, "size": 4, "hashes": []})


@given(st.binary(max_size=300))
def test_arbitrary_bytes(data: bytes) -> None:
    for cls in (InclusionProof, ConsistencyProof):
        try:
            cls.from_bytes(data)
        except (ParseError, ProofError):
            pass


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda c: st.lists(c, max_size=5) | st.dictionaries(st.text(max_size=8), c, max_size=5),
    max_leaves=15,
)


@given(JSONISH)
def test_arbitrary_json(data: object) -> None:
    for cls in (InclusionProof, ConsistencyProof):
        try:
            cls.from_json(data)
        except (ParseError, ProofError):
            pass


@given(
    st.integers(0, 2**64),
    st.integers(0, 2**64),
    st.lists(st.binary(min_size=32, max_size=32), max_size=70),
    st.one_of(st.binary(max_size=40), st.text(max_size=40), st.none()),
    st.one_of(st.binary(max_size=40), st.text(max_size=40), st.none()),
)
def test_verification_of_arbitrary_proofs_only_raises_proof_error(
    a: int, b: int, hashes: list[bytes], x: Any, y: Any
) -> None:
    try:
        verify_inclusion(x, InclusionProof(a, b, tuple(hashes)), y)
    except ProofError:
        pass
    try:
        verify_consistency(ConsistencyProof(a, b, tuple(hashes)), x, y)
    except ProofError:
        pass


def test_verify_rejects_wrong_types() -> None:
    with pytest.raises(ProofError):
        verify_inclusion(H, "proof", H)  # type: ignore[arg-type]
    with pytest.raises(ProofError):
        verify_consistency(None, H, H)  # type: ignore[arg-type]
    with pytest.raises(ProofError):
        verify_inclusion("h" * 32, InclusionProof(0, 1, ()), H)  # type: ignore[arg-type]


def test_exports_are_pinned() -> None:
    assert set(proofs.__all__) == {
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
    }
    for module in (_merkle, proofs, checkpoint, witness):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
            obj = getattr(module, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                assert getattr(obj, "__doc__", None), f"{module.__name__}.{name} has no docstring"
