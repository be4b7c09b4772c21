"""What the vault puts on the log, and the proof that a record is what was committed.

Log entries written by the vault (their payloads are deterministic CBOR maps
and carry no personal data)::

    vault.commit     {"v": 1, "r": ref, "c": commitment}   a record version was stored
    vault.tombstone  {"v": 1, "r": ref}                    that record version was erased
    vault.release    {"v": 1, "r": ref, "c": commitment}   records were released (event)
    vault.refusal    {"v": 1, "r": ref, "c": commitment}   a release was refused (event)
    vault.access     {"v": 1, "r": ref, "c": commitment}   the controller served access/export

``ref`` is 16 random bytes, never derived from the subject, so the log cannot
link an entry to a person; ``commitment`` is HMAC-SHA-256 of the canonical
JSON (RFC 8785) of the record or event under a random 32-byte key that only
the vault holds (and destroys on erasure).

A :class:`RecordProof` lets anyone check that a record is exactly what was
committed at a point in the log's history: the record, its commitment key,
the signed log entry, its inclusion proof and a signed checkpoint covering
it. :func:`verify_record_proof` needs nothing but the log's checkpoint key.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cbor2

from did_methods.encoding import b64url_decode, b64url_encode
from did_methods.errors import ParseError, SSIWalletError, VerificationError
from did_methods.keys import PublicKey
from ledger._merkle import hash_leaf
from ledger.checkpoint import Checkpoint, SignatureVerifier, verify_checkpoint
from ledger.entry import Entry
from ledger.proofs import InclusionProof, verify_inclusion
from ledger.vault._canonical import canonical_json
from ledger.vault.crypto import COMMITMENT_KEY_SIZE, commit

__all__ = [
    "KIND_ACCESS",
    "KIND_COMMIT",
    "KIND_REFUSAL",
    "KIND_RELEASE",
    "KIND_TOMBSTONE",
    "REF_SIZE",
    "RecordProof",
    "VerifiedRecord",
    "decode_payload",
    "encode_payload",
    "verify_record_proof",
]

KIND_COMMIT = "vault.commit"
KIND_TOMBSTONE = "vault.tombstone"
KIND_RELEASE = "vault.release"
KIND_REFUSAL = "vault.refusal"
KIND_ACCESS = "vault.access"
#: Bytes of an opaque reference.
REF_SIZE = 16
_COMMIT_SIZE = 32
_MAX_PROOF_JSON_ENTRY = 8192


def encode_payload(ref: bytes, commitment: bytes | None = None) -> bytes:
    """The deterministic CBOR payload of a vault entry (no commitment for a tombstone)."""
    body: dict[str, Any] = {"v": 1, "r": ref}
    if commitment is not None:
        body = {"c": commitment, "r": ref, "v": 1}
    return cbor2.dumps(body, canonical=True)


def decode_payload(kind: str, payload: bytes) -> tuple[bytes, bytes | None]:
    """``(ref, commitment)`` of a vault entry's payload; ``commitment`` is ``None`` for a
    tombstone. Raises :class:`~did_methods.errors.ParseError` for anything else."""
    if len(payload) > 128:
        raise ParseError("a vault entry payload is at most 128 bytes")
    try:
        obj = cbor2.loads(payload)
    except Exception as exc:  # cbor2 raises many types on hostile input
        raise ParseError(f"vault entry payload is not CBOR: {exc}") from None
    want = {"v", "r"} if kind == KIND_TOMBSTONE else {"v", "r", "c"}
    if not isinstance(obj, dict) or set(obj) != want or obj.get("v") != 1:
        raise ParseError(f"not a {kind} payload")
    ref = obj["r"]
    if type(ref) is not bytes or len(ref) != REF_SIZE:
        raise ParseError("a vault reference is 16 bytes")
    if kind == KIND_TOMBSTONE:
        commitment = None
    else:
        commitment = obj["c"]
        if type(commitment) is not bytes or len(commitment) != _COMMIT_SIZE:
            raise ParseError("a commitment is 32 bytes")
    if cbor2.dumps(obj, canonical=True) != payload:
        raise ParseError("a vault entry payload must be deterministic CBOR")
    return ref, commitment


@dataclass(frozen=True, slots=True)
class RecordProof:
    """A record and everything a third party needs to check it was committed to the log.

    ``record`` is the JSON object; ``commitment_key`` its 32-byte key;
    ``entry`` the full encoding of the ``vault.commit`` log entry;
    ``inclusion`` its inclusion proof in the tree of ``checkpoint``, a signed
    C2SP checkpoint note. Handing it out discloses the record to whoever
    receives it: it is the record holder's to share.
    """

    record: Mapping[str, Any]
    commitment_key: bytes
    entry: bytes
    inclusion: InclusionProof
    checkpoint: str

    def to_json(self) -> dict[str, Any]:
        """A JSON object: ``record``, ``commitmentKey`` and ``entry`` (base64url),
        ``inclusionProof`` (:meth:`InclusionProof.to_json`) and ``checkpoint`` (the note)."""
        return {
            "type": "VaultRecordProof",
            "record": dict(self.record),
            "commitmentKey": b64url_encode(self.commitment_key),
            "entry": b64url_encode(self.entry),
            "inclusionProof": self.inclusion.to_json(),
            "checkpoint": self.checkpoint,
        }

    @classmethod
    def from_json(cls, data: object) -> RecordProof:
        """Parse :meth:`to_json` output strictly; raise :class:`~did_methods.errors.ParseError`."""
        keys = {"type", "record", "commitmentKey", "entry", "inclusionProof", "checkpoint"}
        if not isinstance(data, Mapping) or set(data) != keys:
            raise ParseError(f"a record proof is a JSON object with exactly {sorted(keys)}")
        if data["type"] != "VaultRecordProof" or not isinstance(data["record"], Mapping):
            raise ParseError("not a VaultRecordProof with a record object")
        if not isinstance(data["checkpoint"], str) or len(data["checkpoint"]) > 64 * 1024:
            raise ParseError("checkpoint must be a signed note text")
        for name in ("commitmentKey", "entry"):
            if not isinstance(data[name], str):
                raise ParseError(f"{name} must be base64url text")
        key = b64url_decode(data["commitmentKey"], max_length=64)
        if len(key) != COMMITMENT_KEY_SIZE:
            raise ParseError("commitmentKey must be 32 bytes")
        entry = b64url_decode(data["entry"], max_length=_MAX_PROOF_JSON_ENTRY)
        try:
            inclusion = InclusionProof.from_json(data["inclusionProof"])
        except VerificationError as exc:
            raise ParseError(f"inclusionProof: {exc}") from exc
        return cls(dict(data["record"]), key, entry, inclusion, data["checkpoint"])


@dataclass(frozen=True, slots=True)
class VerifiedRecord:
    """What :func:`verify_record_proof` established.

    ``record`` equals what was committed in the log entry at ``index``, whose
    submitter signed it at ``committed_at_ms`` (Unix ms); the entry is in the
    tree of ``checkpoint``, whose signature verified.
    """

    record: Mapping[str, Any]
    ref: bytes
    index: int
    committed_at_ms: int
    submitter: str
    checkpoint: Checkpoint


def verify_record_proof(
    proof: RecordProof | Mapping[str, Any],
    *,
    verifiers: Sequence[SignatureVerifier],
    origin: str | None = None,
    key_lookup: Callable[[str], PublicKey] | None = None,
) -> VerifiedRecord:
    """Check a :class:`RecordProof` (or its JSON) against the log's checkpoint keys.

    Steps: (1) the checkpoint note verifies under ``verifiers`` (and names
    ``origin`` if given); (2) the entry decodes strictly and is a
    ``vault.commit`` entry; with ``key_lookup``, its submitter's signature
    verifies; (3) HMAC-SHA-256 of the record's canonical JSON under the
    commitment key equals the entry's commitment; (4) the inclusion proof is
    for the entry's index in the checkpoint's tree, and leads from the
    entry's leaf hash to the checkpoint's root.

    Returns the :class:`VerifiedRecord`. Raises
    :class:`~did_methods.errors.VerificationError` with code
    ``signature_invalid``/``no_trusted_signature``/``origin_mismatch`` (step 1),
    ``not_a_commitment`` or ``signature_invalid`` (step 2),
    ``commitment_mismatch`` (step 3), ``inclusion_invalid`` (step 4), and
    :class:`~did_methods.errors.ParseError` for malformed input.
    """
    if not isinstance(proof, RecordProof):
        proof = RecordProof.from_json(proof)
    # Step 1.
    checkpoint = verify_checkpoint(proof.checkpoint, verifiers, origin=origin)
    # Step 2.
    try:
        entry = Entry.decode(proof.entry)
    except SSIWalletError as exc:
        raise VerificationError("not_a_commitment", f"the entry does not decode: {exc}") from exc
    if entry.kind != KIND_COMMIT:
        raise VerificationError("not_a_commitment", f"the entry is a {entry.kind!r} entry")
    try:
        _, commitment = decode_payload(entry.kind, entry.payload)
    except ParseError as exc:
        raise VerificationError("not_a_commitment", str(exc)) from exc
    if key_lookup is not None:
        try:
            key = key_lookup(entry.submitter)
        except SSIWalletError as exc:
            raise VerificationError(
                "signature_invalid", f"no key for the submitter: {exc}"
            ) from exc
        entry.verify_signature(key)
    # Step 3.
    canonical = canonical_json(proof.record)
    if commitment is None or not hmac.compare_digest(
        commit(proof.commitment_key, canonical), commitment
    ):
        raise VerificationError(
            "commitment_mismatch", "the record is not the one committed in the entry"
        )
    # Step 4.
    if proof.inclusion.index != entry.index or proof.inclusion.size != checkpoint.size:
        raise VerificationError(
            "inclusion_invalid",
            f"the proof is for leaf {proof.inclusion.index} of {proof.inclusion.size}, the entry "
            f"is {entry.index} and the checkpoint has {checkpoint.size}",
        )
    verify_inclusion(hash_leaf(proof.entry), proof.inclusion, checkpoint.root_hash)
    ref, _ = decode_payload(entry.kind, entry.payload)
    return VerifiedRecord(
        dict(proof.record), ref, entry.index, entry.timestamp, entry.submitter, checkpoint
    )
