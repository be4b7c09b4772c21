"""A third party verifies that a vault record equals what was committed at time t."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from did_methods._wire.dates import from_unix_ms
from did_methods.errors import SSIWalletError, VerificationError
from did_methods.keys import PrivateKey
from ledger.checkpoint import NoteSigner
from ledger.log import did_key_lookup
from ledger.proofs import InclusionProof
from ledger.vault import RecordNotFound, RecordProof, VaultError, verify_record_proof

SUBJECT = "DE-BAMF-5512"
T0 = 1_790_000_000_000  # Unix ms


def _proof_setup(open_vault, log_signer):
    clock = iter(from_unix_ms(ms) for ms in range(T0, T0 + 10_000_000, 1000))
    vault = open_vault(clock=lambda: next(clock))
    receipt = vault.put(SUBJECT, {"status": "recognised refugee", "since": "2024-03-01"})
    vault.put("other", {"x": 1})
    vault.log.checkpoint()
    return vault, receipt


def test_record_proof_verifies_standalone_from_json(open_vault, log_signer) -> None:
    vault, receipt = _proof_setup(open_vault, log_signer)
    late = vault.put(SUBJECT, {"note": "after the checkpoint"})
    with pytest.raises(VaultError):  # no checkpoint covers it yet: refuse rather than mislead
        vault.prove_record(SUBJECT, late.record_id)
    proof = vault.prove_record(SUBJECT, receipt.record_id)
    wire = json.loads(json.dumps(proof.to_json()))
    verified = verify_record_proof(
        wire, verifiers=[log_signer.verifier], origin=vault.log.origin, key_lookup=did_key_lookup
    )
    assert verified.record == {"status": "recognised refugee", "since": "2024-03-01"}
    assert verified.index == receipt.log_index and verified.ref == receipt.ref
    assert verified.committed_at_ms == T0  # the time t the commitment was signed
    assert verified.checkpoint.size == 2


def test_a_superseded_version_is_provable_and_the_proof_names_its_time(
    open_vault, log_signer
) -> None:
    vault, receipt = _proof_setup(open_vault, log_signer)
    vault.rectify(SUBJECT, receipt.record_id, {"status": "long-term resident"})
    with pytest.raises(VaultError):
        vault.prove_record(SUBJECT, receipt.record_id)  # v2 is not under a checkpoint yet
    vault.log.checkpoint()
    old = verify_record_proof(
        vault.prove_record(SUBJECT, receipt.record_id, version=1), verifiers=[log_signer.verifier]
    )
    new = verify_record_proof(
        vault.prove_record(SUBJECT, receipt.record_id), verifiers=[log_signer.verifier]
    )
    assert (
        old.record["status"] == "recognised refugee"
        and new.record["status"] == "long-term resident"
    )
    assert old.committed_at_ms < new.committed_at_ms
    with pytest.raises(RecordNotFound):
        vault.prove_record(SUBJECT, receipt.record_id, version=9)


def test_tampered_proofs_fail_with_stable_codes(open_vault, log_signer) -> None:
    vault, receipt = _proof_setup(open_vault, log_signer)
    good = vault.prove_record(SUBJECT, receipt.record_id)
    verifiers = [log_signer.verifier]

    def code_of(proof: RecordProof, **kw: object) -> str:
        with pytest.raises(VerificationError) as exc:
            verify_record_proof(proof, verifiers=kw.get("verifiers", verifiers))  # type: ignore[arg-type]
        return exc.value.code

    changed = RecordProof({**good.record, "status": "none"}, *list(_fields(good))[1:])
    assert code_of(changed) == "commitment_mismatch"
    other_key = RecordProof(good.record, bytes(32), good.entry, good.inclusion, good.checkpoint)
    assert code_of(other_key) == "commitment_mismatch"
    bad_entry = bytearray(good.entry)
    bad_entry[-1] ^= 1
    flipped = RecordProof(
        good.record, good.commitment_key, bytes(bad_entry), good.inclusion, good.checkpoint
    )
    assert code_of(flipped) in {"inclusion_invalid", "not_a_commitment"}
    wrong_index = InclusionProof(1, good.inclusion.size, good.inclusion.hashes)
    moved = RecordProof(good.record, good.commitment_key, good.entry, wrong_index, good.checkpoint)
    assert code_of(moved) == "inclusion_invalid"
    stranger = NoteSigner(vault.log.origin, PrivateKey.generate())
    assert code_of(good, verifiers=[stranger.verifier]) in {
        "no_trusted_signature",
        "signature_invalid",
    }
    # A tombstone or release entry is not a commitment to a record.
    release_index = vault.erase("other").tombstones[0]
    vault.log.checkpoint()
    tomb = vault.log.get(release_index).encode()
    not_commit = RecordProof(
        good.record,
        good.commitment_key,
        tomb,
        vault.log.prove_inclusion(release_index),
        vault.log.checkpoints(limit=1)[0].note,
    )
    assert code_of(not_commit) == "not_a_commitment"


def _fields(proof: RecordProof) -> tuple[object, ...]:
    return (proof.record, proof.commitment_key, proof.entry, proof.inclusion, proof.checkpoint)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=12), c, max_size=4),
    max_leaves=16,
)


@given(_json)
def test_arbitrary_input_raises_only_our_errors(data: object) -> None:
    try:
        verify_record_proof(data, verifiers=[])  # type: ignore[arg-type]
    except SSIWalletError:
        pass


@given(
    st.dictionaries(
        st.sampled_from(
            ["record", "commitmentKey", "entry", "inclusionProof", "checkpoint", "type"]
        ),
        _json,
        min_size=6,
    )
)
def test_arbitrary_members_raise_only_our_errors(data: dict[str, object]) -> None:
    data["type"] = "VaultRecordProof"
    try:
        verify_record_proof(data, verifiers=[])
    except SSIWalletError:
        pass
