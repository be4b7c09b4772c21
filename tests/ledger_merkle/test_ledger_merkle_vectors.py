"""Every transparency-dev/merkle inclusion and consistency probe gives its expected outcome."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from vector_files import VECTORS, load_vector

from ledger.errors import ProofError
from ledger.proofs import ConsistencyProof, InclusionProof, verify_consistency, verify_inclusion

TESTDATA = VECTORS / "merkle-transparency-dev" / "testdata"


def _files(kind: str) -> list[Path]:
    files = sorted((TESTDATA / kind).rglob("*.json"))
    assert files, f"no {kind} probes found"
    return files


def _b64(value: Any) -> bytes:
    return base64.b64decode(value or "")


def _ids(files: list[Path]) -> list[str]:
    return [str(f.relative_to(TESTDATA)) for f in files]


INCLUSION = _files("inclusion")
CONSISTENCY = _files("consistency")


def test_probe_counts() -> None:
    # The shared collection holds 196 inclusion+consistency probes; all were copied.
    assert len(INCLUSION) + len(CONSISTENCY) == 196


def _run_inclusion(probe: dict[str, Any]) -> None:
    proof = InclusionProof(
        probe["leafIdx"], probe["treeSize"], tuple(_b64(h) for h in probe["proof"] or [])
    )
    verify_inclusion(_b64(probe["leafHash"]), proof, _b64(probe["root"]))


def _run_consistency(probe: dict[str, Any]) -> None:
    proof = ConsistencyProof(
        probe["size1"], probe["size2"], tuple(_b64(h) for h in probe["proof"] or [])
    )
    verify_consistency(proof, _b64(probe["root1"]), _b64(probe["root2"]))


@pytest.mark.parametrize("path", INCLUSION, ids=_ids(INCLUSION))
def test_inclusion_probe(path: Path) -> None:
    probe = load_vector(str(path.relative_to(VECTORS)))
    if probe["wantErr"]:
        with pytest.raises(ProofError) as exc:
            _run_inclusion(probe)
        assert exc.value.code == "inclusion_invalid"
    else:
        _run_inclusion(probe)


@pytest.mark.parametrize("path", CONSISTENCY, ids=_ids(CONSISTENCY))
def test_consistency_probe(path: Path) -> None:
    probe = load_vector(str(path.relative_to(VECTORS)))
    if probe["wantErr"]:
        with pytest.raises(ProofError) as exc:
            _run_consistency(probe)
        assert exc.value.code == "consistency_invalid"
    else:
        _run_consistency(probe)


HAPPY = [f for f in INCLUSION + CONSISTENCY if f.name == "happy-path.json"]


@pytest.mark.parametrize("path", HAPPY, ids=_ids(HAPPY))
def test_happy_paths_round_trip_through_json_and_bytes(path: Path) -> None:
    probe = load_vector(str(path.relative_to(VECTORS)))
    hashes = tuple(_b64(h) for h in probe["proof"] or [])
    proof: InclusionProof | ConsistencyProof
    if "leafIdx" in probe:
        proof = InclusionProof(probe["leafIdx"], probe["treeSize"], hashes)
        assert InclusionProof.from_json(proof.to_json()) == proof
        assert InclusionProof.from_bytes(proof.to_bytes()) == proof
    else:
        proof = ConsistencyProof(probe["size1"], probe["size2"], hashes)
        assert ConsistencyProof.from_json(proof.to_json()) == proof
        assert ConsistencyProof.from_bytes(proof.to_bytes()) == proof
    # The JSON form uses the same standard base64 as the probe files.
    assert proof.to_json()["hashes"] == (probe["proof"] or [])
