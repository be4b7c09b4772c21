"""One named test per known attack on Merkle proofs, checkpoints and witnesses."""

from __future__ import annotations

import hashlib

import pytest
from instants import utc

from did_methods.errors import VerificationError
from did_methods.keys import KeyType, PrivateKey
from ledger import _merkle as m
from ledger.checkpoint import (
    Checkpoint,
    NoteSignature,
    NoteSigner,
    NoteVerifier,
    SignedNote,
    sign_checkpoint,
    verify_checkpoint,
)
from ledger.errors import ProofError
from ledger.proofs import InclusionProof, prove_inclusion, verify_inclusion
from ledger.witness import CosignatureVerifier, Witness

ORIGIN = "example.org/log"
LOG_KEY = PrivateKey(KeyType.ED25519, b"\x11" * 32)
LOG = NoteSigner(ORIGIN, LOG_KEY)


def _tree(n: int) -> tuple[list[bytes], dict[m.NodeID, bytes], m.CompactRange]:
    data = [b"entry %d" % i for i in range(n)]
    nodes: dict[m.NodeID, bytes] = {}
    cr = m.CompactRange.empty()
    for d in data:
        cr = cr.append(m.hash_leaf(d), nodes.__setitem__)
    return data, nodes, cr


def test_attack_second_preimage_interior_node_passed_off_as_entry() -> None:
    # Without the 0x00/0x01 prefixes, the bytes left||right of an interior node would
    # hash to that node and could be "proven" as an entry of a smaller tree.
    _, nodes, cr = _tree(4)
    left, right = nodes[(0, 0)], nodes[(0, 1)]
    forged_entry = left + right
    proof = InclusionProof(0, 2, (nodes[(1, 1)],))
    with pytest.raises(ProofError):
        verify_inclusion(m.hash_leaf(forged_entry), proof, cr.root())
    # The same forged entry at its would-be position in the real tree fails too.
    with pytest.raises(ProofError):
        verify_inclusion(
            m.hash_leaf(forged_entry),
            prove_inclusion(0, 4, lambda ids: [nodes[i] for i in ids]),
            cr.root(),
        )


def test_attack_tree_size_taken_from_the_prover() -> None:
    # The hashes of a proof do not bind the tree size: node (1, 0) "is" leaf 0 of a
    # 2-leaf tree with the same root. That is why a verifier must take the size from
    # a verified checkpoint and hash the entry itself.
    _, nodes, cr = _tree(4)
    lying = InclusionProof(0, 2, (nodes[(1, 1)],))
    verify_inclusion(nodes[(1, 0)], lying, cr.root())  # only a leaf *hash* was checked
    with pytest.raises(ProofError):
        verify_inclusion(nodes[(1, 0)], InclusionProof(0, 4, lying.hashes), cr.root())


def test_attack_signature_from_same_name_other_key_is_not_trusted() -> None:
    _, _, cr = _tree(3)
    impostor = NoteSigner(ORIGIN, PrivateKey(KeyType.ED25519, b"\x12" * 32))
    note = sign_checkpoint(Checkpoint(ORIGIN, 3, cr.root()), impostor)
    with pytest.raises(VerificationError) as exc:
        verify_checkpoint(note, [LOG.verifier])
    assert exc.value.code == "no_trusted_signature"


def test_attack_forged_key_id_collision_still_fails_the_signature() -> None:
    # An attacker can pick a key whose ID collides with the log's; it gets them a
    # signature check against the real key, which fails and rejects the note.
    _, _, cr = _tree(3)
    body = Checkpoint(ORIGIN, 3, cr.root()).body()
    other = PrivateKey(KeyType.ED25519, b"\x13" * 32)
    forged = NoteSignature(ORIGIN, LOG.key_id, other.sign(body))
    with pytest.raises(VerificationError) as exc:
        verify_checkpoint(SignedNote(body.decode(), (forged,)).to_text(), [LOG.verifier])
    assert exc.value.code == "signature_invalid"


def test_attack_cosignature_replayed_as_log_signature() -> None:
    # One Ed25519 key used as both a witness and a log key: the type byte in the key
    # ID and the cosignature/v1 header keep the two kinds of signature apart.
    key = PrivateKey(KeyType.ED25519, b"\x14" * 32)
    as_log = NoteVerifier(ORIGIN, key.public_key)
    as_witness = CosignatureVerifier(ORIGIN, key.public_key)
    assert as_log.key_id != as_witness.key_id
    signer = NoteSigner(ORIGIN, key)
    witness = Witness(ORIGIN, key, logs={ORIGIN: [signer.verifier]})
    _, _, cr = _tree(2)
    cosigned = SignedNote.parse(
        witness.cosign(
            sign_checkpoint(Checkpoint(ORIGIN, 2, cr.root()), signer), now=lambda: utc(5)
        )
    )
    cosig = cosigned.signatures[-1]
    relabelled = NoteSignature(cosig.name, as_log.key_id, cosig.signature[8:])
    with pytest.raises(VerificationError):
        verify_checkpoint(SignedNote(cosigned.text, (relabelled,)).to_text(), [as_log])


def test_attack_extension_line_smuggled_after_signing() -> None:
    _, _, cr = _tree(3)
    note = SignedNote.parse(sign_checkpoint(Checkpoint(ORIGIN, 3, cr.root()), LOG))
    smuggled = SignedNote(note.text + "trusted-by: everyone\n", note.signatures)
    with pytest.raises(VerificationError):
        verify_checkpoint(smuggled.to_text(), [LOG.verifier])


def test_attack_rollback_to_an_older_checkpoint() -> None:
    _, _, cr = _tree(9)
    _, _, old = _tree(5)
    witness = Witness(
        "w.example", PrivateKey(KeyType.ED25519, b"\x15" * 32), logs={ORIGIN: [LOG.verifier]}
    )
    witness.cosign(sign_checkpoint(Checkpoint(ORIGIN, 9, cr.root()), LOG), now=lambda: utc(1))
    with pytest.raises(VerificationError) as exc:
        witness.cosign(sign_checkpoint(Checkpoint(ORIGIN, 5, old.root()), LOG), now=lambda: utc(2))
    assert exc.value.code == "rollback"


def test_attack_oversized_proof_is_refused_before_hashing() -> None:
    h = hashlib.sha256(b"x").digest()
    with pytest.raises(ProofError):
        InclusionProof(0, 2**63 - 1, (h,) * 65)
