"""Witness cosignatures (C2SP tlog-cosignature v1) and split-view evidence."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from instants import utc

from did_methods.errors import ParseError, StoreError, VerificationError
from did_methods.keys import KeyType, PrivateKey
from ledger import _merkle as m
from ledger.checkpoint import (
    Checkpoint,
    NoteSigner,
    SignedNote,
    compute_key_id,
    sign_checkpoint,
    verify_checkpoint,
)
from ledger.errors import CheckpointError, SplitViewError
from ledger.proofs import ConsistencyProof, prove_consistency
from ledger.witness import (
    CosignatureVerifier,
    JSONFileWitnessState,
    MemoryWitnessState,
    SplitViewEvidence,
    Witness,
    cosignature_message,
    detect_split_view,
    verify_cosigned_checkpoint,
)

ORIGIN = "example.org/log"
LOG = NoteSigner(ORIGIN, PrivateKey(KeyType.ED25519, b"\x01" * 32))
W1_KEY = PrivateKey(KeyType.ED25519, b"\x02" * 32)
W2_KEY = PrivateKey(KeyType.ED25519, b"\x03" * 32)
NOW = 1_700_000_000  # seconds: the u64 time a cosignature carries


class Tree:
    def __init__(self, prefix: bytes) -> None:
        self.prefix = prefix
        self.nodes: dict[m.NodeID, bytes] = {}
        self.cr = m.CompactRange.empty()

    def grow(self, n: int) -> Tree:
        while self.cr.size < n:
            item = self.prefix + b"%d" % self.cr.size
            self.cr = self.cr.append(m.hash_leaf(item), self.nodes.__setitem__)
        return self

    def read(self, ids: object) -> list[bytes]:
        return [self.nodes[i] for i in ids]  # type: ignore[attr-defined]

    def note(self, signer: NoteSigner = LOG) -> str:
        return sign_checkpoint(Checkpoint(ORIGIN, self.cr.size, self.cr.root()), signer)


def _witness(state: object = None, key: PrivateKey = W1_KEY, name: str = "w1.example") -> Witness:
    return Witness(name, key, state, logs={ORIGIN: [LOG.verifier]})  # type: ignore[arg-type]


def _clock() -> datetime:
    return utc(NOW)


def test_c2sp_example_cosignature_layout() -> None:
    # The spec's example line: key ID, then the u64 time that its signed message shows.
    blob = base64.b64decode(
        "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZ"
        "qhf5nNo0xUe+mbIUBkBIfZ+qnA=="
    )
    assert len(blob) == 4 + 8 + 64
    assert int.from_bytes(blob[4:12], "big") == 1679315147
    body = b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert cosignature_message(body, 1679315147) == (b"cosignature/v1\ntime 1679315147\n" + body)


def test_cosignature_key_id_uses_type_0x04() -> None:
    w = CosignatureVerifier("w1.example", W1_KEY.public_key)
    digest = hashlib.sha256(b"w1.example\n\x04" + W1_KEY.public_key.raw).digest()
    assert w.key_id == int.from_bytes(digest[:4], "big")
    assert w.key_id != compute_key_id("w1.example", 1, W1_KEY.public_key.raw)
    assert CosignatureVerifier.from_vkey(w.vkey) == w
    assert base64.b64decode(w.vkey.split("+", 2)[2])[0] == 4


def test_witness_cosigns_growth_and_clients_verify_quorum() -> None:
    tree = Tree(b"a").grow(5)
    w1, w2 = _witness(), _witness(key=W2_KEY, name="w2.example")
    cosigned = w1.cosign(tree.note(), now=_clock)
    line = cosigned.splitlines()[-1]
    assert line.startswith("\u2014 w1.example ")
    blob = base64.b64decode(line.split(" ")[2])
    assert int.from_bytes(blob[:4], "big") == w1.verifier.key_id
    assert int.from_bytes(blob[4:12], "big") == NOW
    W1_KEY.public_key.verify(
        blob[12:], b"cosignature/v1\ntime %d\n" % NOW + SignedNote.parse(cosigned).text.encode()
    )
    both = w2.cosign(cosigned, now=_clock)
    # The log's plain verification still works, ignoring the witness lines.
    assert verify_checkpoint(both, [LOG.verifier]).size == 5
    cp = verify_cosigned_checkpoint(
        both, [LOG.verifier], [w1.verifier, w2.verifier], quorum=2, now=_clock
    )
    assert (cp.size, cp.root_hash) == (5, tree.cr.root())
    with pytest.raises(VerificationError) as exc:
        verify_cosigned_checkpoint(
            cosigned, [LOG.verifier], [w1.verifier, w2.verifier], quorum=2, now=_clock
        )
    assert exc.value.code == "quorum_not_met"
    # Stale or future cosignatures do not count.
    with pytest.raises(VerificationError):
        verify_cosigned_checkpoint(
            both, [LOG.verifier], [w1.verifier], quorum=1, now=lambda: utc(NOW + 1000), max_age=10
        )
    with pytest.raises(VerificationError):
        verify_cosigned_checkpoint(
            both, [LOG.verifier], [w1.verifier], quorum=1, now=lambda: utc(NOW - 1000)
        )
    # Then the log grows, with a proof from the cosigned size.
    old = tree.cr.size
    tree.grow(13)
    proof = prove_consistency(old, 13, tree.read)
    again = w1.cosign(tree.note(), proof, now=_clock)
    assert (
        verify_cosigned_checkpoint(again, [LOG.verifier], [w1.verifier], quorum=1, now=_clock).size
        == 13
    )
    # The same checkpoint again is cosigned again (fresh time), without a proof.
    assert w1.cosign(tree.note(), now=lambda: utc(NOW + 5)) != again


def test_tampered_cosignature_fails() -> None:
    tree = Tree(b"a").grow(3)
    w1 = _witness()
    note = SignedNote.parse(w1.cosign(tree.note(), now=_clock))
    sig = note.signatures[-1]
    forged_time = (NOW + 1).to_bytes(8, "big") + sig.signature[8:]
    bad = SignedNote(note.text, (note.signatures[0], type(sig)(sig.name, sig.key_id, forged_time)))
    with pytest.raises(VerificationError) as exc:
        verify_cosigned_checkpoint(
            bad.to_text(), [LOG.verifier], [w1.verifier], quorum=1, now=_clock
        )
    assert exc.value.code == "signature_invalid"


def test_witness_refuses_rollback_and_missing_or_bad_proofs() -> None:
    tree = Tree(b"a").grow(10)
    w = _witness()
    w.cosign(tree.note(), now=_clock)
    smaller = Tree(b"a").grow(9)
    with pytest.raises(VerificationError) as exc:
        w.cosign(smaller.note(), now=_clock)
    assert exc.value.code == "rollback"
    tree.grow(20)
    with pytest.raises(VerificationError) as exc:
        w.cosign(tree.note(), now=_clock)
    assert exc.value.code == "consistency_proof_required"
    with pytest.raises(VerificationError) as exc:
        w.cosign(tree.note(), prove_consistency(9, 20, tree.read), now=_clock)
    assert exc.value.code == "proof_size_mismatch"
    good = prove_consistency(10, 20, tree.read)
    garbage = ConsistencyProof(10, 20, tuple(hashlib.sha256(h).digest() for h in good.hashes))
    with pytest.raises(VerificationError) as exc:
        w.cosign(tree.note(), garbage, now=_clock)
    assert exc.value.code == "inconsistent_checkpoint"
    # Nothing moved: the record is still size 10, and the good proof is accepted.
    record = w.state.get(ORIGIN)
    assert record is not None and record.size == 10
    w.cosign(tree.note(), good, now=_clock)


def test_witness_refuses_unknown_logs_and_bad_signatures() -> None:
    tree = Tree(b"a").grow(2)
    w = _witness()
    other = NoteSigner("other.org/log", PrivateKey(KeyType.ED25519, b"\x09" * 32))
    note = sign_checkpoint(Checkpoint("other.org/log", 2, tree.cr.root()), other)
    with pytest.raises(VerificationError) as exc:
        w.cosign(note, now=_clock)
    assert exc.value.code == "unknown_log"
    impostor = NoteSigner(ORIGIN, PrivateKey(KeyType.ED25519, b"\x0a" * 32))
    with pytest.raises(VerificationError) as exc:
        w.cosign(tree.note(impostor), now=_clock)
    assert exc.value.code == "no_trusted_signature"
    with pytest.raises(CheckpointError):
        w.cosign("not a note", now=_clock)
    assert w.state.get(ORIGIN) is None


def test_same_size_fork_is_a_split_view_with_evidence() -> None:
    honest, forked = Tree(b"a").grow(8), Tree(b"b").grow(8)
    w = _witness()
    w.cosign(honest.note(), now=_clock)
    with pytest.raises(SplitViewError) as exc:
        w.cosign(forked.note(), now=_clock)
    assert exc.value.code == "inconsistent_checkpoint"
    evidence = exc.value.evidence
    assert isinstance(evidence, SplitViewEvidence)
    a, b = evidence.verify([LOG.verifier])
    assert a.size == b.size == 8 and a.root_hash != b.root_hash
    again = SplitViewEvidence.from_json(json.loads(json.dumps(evidence.to_json())))
    assert again == evidence
    again.verify([LOG.verifier])


def test_grown_fork_is_caught_by_the_proof() -> None:
    # The witness saw 6 leaves of history "a"; the log later presents 11 leaves whose
    # first 6 differ, with an honest proof of that forked tree.
    seen, forked = Tree(b"a").grow(6), Tree(b"b").grow(11)
    w = _witness()
    w.cosign(seen.note(), now=_clock)
    proof = prove_consistency(6, 11, forked.read)
    with pytest.raises(SplitViewError) as exc:
        w.cosign(forked.note(), proof, now=_clock)
    evidence = exc.value.evidence
    assert isinstance(evidence, SplitViewEvidence) and evidence.reason == "inconsistent_proof"
    evidence.verify([LOG.verifier])
    # A third party with other keys is not convinced.
    with pytest.raises(VerificationError):
        evidence.verify([NoteSigner(ORIGIN, W2_KEY).verifier])


def test_detect_split_view() -> None:
    a6, a11, b11 = Tree(b"a").grow(6), Tree(b"a").grow(11), Tree(b"b").grow(11)
    assert detect_split_view(a6.note(), a6.note(), None, [LOG.verifier]) is None
    assert (
        detect_split_view(a6.note(), a11.note(), prove_consistency(6, 11, a11.read), [LOG.verifier])
        is None
    )
    same = detect_split_view(a11.note(), b11.note(), None, [LOG.verifier])
    assert same is not None and same.reason == "same_size_different_roots"
    grown = detect_split_view(
        b11.note(), a6.note(), prove_consistency(6, 11, b11.read), [LOG.verifier]
    )
    assert grown is not None and grown.reason == "inconsistent_proof"
    grown.verify([LOG.verifier])
    with pytest.raises(VerificationError) as exc:
        detect_split_view(a6.note(), a11.note(), None, [LOG.verifier])
    assert exc.value.code == "consistency_proof_required"
    # A broken proof proves nothing either way.
    junk = ConsistencyProof(6, 11, (b"\x00" * 32,) * 3)
    with pytest.raises(VerificationError) as exc:
        detect_split_view(a6.note(), a11.note(), junk, [LOG.verifier])
    assert exc.value.code == "undecided"
    # When the smaller size is a power of two the proof cannot recompute its root.
    a8, b16 = Tree(b"a").grow(8), Tree(b"b").grow(16)
    with pytest.raises(VerificationError) as exc:
        detect_split_view(a8.note(), b16.note(), prove_consistency(8, 16, b16.read), [LOG.verifier])
    assert exc.value.code == "undecided"


def test_forged_evidence_is_rejected() -> None:
    a6, a11 = Tree(b"a").grow(6), Tree(b"a").grow(11)
    honest_proof = prove_consistency(6, 11, a11.read)
    for ev in [
        SplitViewEvidence(ORIGIN, a6.note(), a11.note(), "inconsistent_proof", honest_proof),
        SplitViewEvidence(ORIGIN, a6.note(), a6.note(), "same_size_different_roots"),
        SplitViewEvidence("x.org/log", a6.note(), a11.note(), "inconsistent_proof", honest_proof),
        SplitViewEvidence(ORIGIN, a6.note(), a11.note(), "inconsistent_proof", None),
    ]:
        with pytest.raises(VerificationError) as exc:
            ev.verify([LOG.verifier])
        assert exc.value.code == "evidence_invalid"


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=6),
        max_leaves=12,
    )
)
def test_evidence_from_arbitrary_json_raises_only_parse_error(data: object) -> None:
    try:
        SplitViewEvidence.from_json(data)
    except ParseError:
        pass


def test_json_file_state_survives_restart_and_rejects_corruption(tmp_path: Path) -> None:
    path = tmp_path / "witness.json"
    tree = Tree(b"a").grow(4)
    w = _witness(JSONFileWitnessState(path))
    w.cosign(tree.note(), now=_clock)
    restarted = _witness(JSONFileWitnessState(path))
    smaller = Tree(b"a").grow(3)
    with pytest.raises(VerificationError) as exc:
        restarted.cosign(smaller.note(), now=_clock)
    assert exc.value.code == "rollback"
    record = restarted.state.get(ORIGIN)
    assert record is not None and (record.size, record.root_hash) == (4, tree.cr.root())
    for content in [
        b"{",
        b"[]",
        b'{"version": 2, "logs": {}}',
        b'{"version": 1, "logs": {"o": 1}}',
    ]:
        path.write_bytes(content)
        with pytest.raises(StoreError):
            JSONFileWitnessState(path).get(ORIGIN)


def test_state_is_compare_and_set() -> None:
    state = MemoryWitnessState()
    tree = Tree(b"a").grow(2)
    w = _witness(state)
    w.cosign(tree.note(), now=_clock)
    record = state.get(ORIGIN)
    assert record is not None
    with pytest.raises(StoreError):
        state.put(ORIGIN, record, None)


def test_empty_tree_checkpoints() -> None:
    empty = Tree(b"a")
    w = _witness()
    w.cosign(empty.note(), now=_clock)
    w.cosign(empty.grow(3).note(), now=_clock)  # everything extends the empty tree
    bogus = sign_checkpoint(Checkpoint(ORIGIN, 0, b"\x01" * 32), LOG)
    with pytest.raises(VerificationError) as exc:
        _witness().cosign(bogus, now=_clock)
    assert exc.value.code == "inconsistent_checkpoint"
