"""Witness cosignatures (C2SP ``tlog-cosignature``, Ed25519 ``cosignature/v1``) and split views.

A witness keeps, per log origin, the last checkpoint it cosigned. It cosigns a
new checkpoint only if the log signed it and it extends that last one: same
size and root, or larger with a valid consistency proof. Clients then trust a
checkpoint only when enough independent witnesses cosigned it, so a log cannot
show different trees to different people (a *split view*) without also
fooling those witnesses.

Cosignature format (signature type ``0x04``):

* key ID ``SHA-256(name || 0x0A || 0x04 || 32-byte Ed25519 public key)[:4]``;
* signature line ``— <witness name> base64(key ID || u64 timestamp || signature)``,
  the timestamp big-endian POSIX seconds (at most ``2**63 - 1``);
* the Ed25519 signature covers ``"cosignature/v1\\n" "time <timestamp>\\n"``
  followed by the whole checkpoint note text.

When two validly signed checkpoints of one log contradict each other,
:func:`detect_split_view` packages them as :class:`SplitViewEvidence` that any
third party can re-check with :meth:`SplitViewEvidence.verify`.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from did_methods._wire.b64 import b64_decode, b64_encode
from did_methods._wire.dates import Clock, read_clock, system_clock
from did_methods._wire.json import loads
from did_methods.errors import ParseError, StoreError, VerificationError
from did_methods.keys import PrivateKey, PublicKey
from ledger._merkle import EMPTY_ROOT
from ledger.checkpoint import (
    Checkpoint,
    NoteSignature,
    SignatureVerifier,
    SignedNote,
    _check_key_name,
    _ed25519_public,
    _format_vkey,
    _parse_vkey,
    compute_key_id,
    verify_note,
)
from ledger.errors import CheckpointError, ProofError, SplitViewError
from ledger.proofs import ConsistencyProof, consistency_prefix_root, verify_consistency

__all__ = [
    "SIGNATURE_TYPE_COSIGNATURE_V1",
    "CosignatureVerifier",
    "JSONFileWitnessState",
    "MemoryWitnessState",
    "SplitViewEvidence",
    "Witness",
    "WitnessRecord",
    "WitnessState",
    "cosignature_message",
    "detect_split_view",
    "verify_cosigned_checkpoint",
]

SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04
"""The signed-note signature type byte of timestamped Ed25519 witness cosignatures."""

_MAX_TIMESTAMP = 2**63 - 1
_COSIG_LEN = 8 + 64


def cosignature_message(body: bytes, timestamp: int) -> bytes:
    """The bytes a ``cosignature/v1`` signature covers for a checkpoint note text."""
    return b"cosignature/v1\ntime %d\n" % timestamp + body


def _check_timestamp(timestamp: object) -> int:
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        raise CheckpointError("timestamp must be an int")
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise CheckpointError("timestamp must be between 0 and 2**63 - 1")
    return timestamp


@dataclass(frozen=True, slots=True)
class CosignatureVerifier:
    """A trusted witness key: checks ``cosignature/v1`` signature lines.

    Satisfies :class:`ledger.checkpoint.SignatureVerifier`, so it can be passed
    to :func:`ledger.checkpoint.verify_note` with log keys.
    Raises :class:`~ledger.errors.CheckpointError` for a bad name and
    :class:`~did_methods.errors.UnsupportedError` for a non-Ed25519 key.
    """

    name: str
    public_key: PublicKey
    key_id: int = field(init=False)

    def __post_init__(self) -> None:
        _check_key_name(self.name)
        pub = _ed25519_public(self.public_key)
        key_id = compute_key_id(self.name, SIGNATURE_TYPE_COSIGNATURE_V1, pub.raw)
        object.__setattr__(self, "key_id", key_id)

    @property
    def vkey(self) -> str:
        """``<name>+<hex key ID>+<base64(0x04 || public key)>``."""
        return _format_vkey(self.name, self.key_id, SIGNATURE_TYPE_COSIGNATURE_V1, self.public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> CosignatureVerifier:
        """Parse a witness vkey (signature type 0x04); raises ``CheckpointError``."""
        name, public = _parse_vkey(vkey, SIGNATURE_TYPE_COSIGNATURE_V1)
        return cls(name, public)

    def verify_cosignature(self, text: bytes, signature: bytes) -> int:
        """Check a cosignature (timestamp || Ed25519 signature) over a note text; return the time.

        Raises :class:`~did_methods.errors.VerificationError`
        (``signature_invalid``) for a wrong length, timestamp or signature.
        """
        if len(signature) != _COSIG_LEN:
            raise VerificationError("signature_invalid", "cosignature must be 72 bytes")
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > _MAX_TIMESTAMP:
            raise VerificationError("signature_invalid", "cosignature timestamp is too large")
        self.public_key.verify(signature[8:], cosignature_message(text, timestamp))
        return timestamp

    def verify(self, text: bytes, signature: bytes) -> None:
        """:class:`~ledger.checkpoint.SignatureVerifier` form of :meth:`verify_cosignature`."""
        self.verify_cosignature(text, signature)


# -- witness state ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WitnessRecord:
    """What a witness remembers of a log: the last cosigned size, root and signed note."""

    size: int
    root_hash: bytes
    note: str

    def __post_init__(self) -> None:
        Checkpoint("x", self.size, self.root_hash)  # reuse its size and hash checks
        if not isinstance(self.note, str):
            raise CheckpointError("note must be text")


class WitnessState(Protocol):
    """Where a witness keeps its last cosigned checkpoint per origin.

    ``put`` must be a compare-and-set: it stores ``record`` only if the
    current record is still ``previous`` (``None`` for a log never seen) and
    otherwise raises :class:`~did_methods.errors.StoreError`, so two racing
    cosign calls cannot both move the witness.
    """

    def get(self, origin: str) -> WitnessRecord | None:
        """The last record for ``origin``, or ``None``."""
        ...

    def put(self, origin: str, record: WitnessRecord, previous: WitnessRecord | None) -> None:
        """Replace ``previous`` with ``record`` atomically, or raise ``StoreError``."""
        ...


class MemoryWitnessState:
    """In-memory :class:`WitnessState` (the default; forgets everything on exit)."""

    def __init__(self) -> None:
        """Start empty."""
        self._records: dict[str, WitnessRecord] = {}
        self._lock = threading.Lock()

    def get(self, origin: str) -> WitnessRecord | None:
        """See :class:`WitnessState`."""
        with self._lock:
            return self._records.get(origin)

    def put(self, origin: str, record: WitnessRecord, previous: WitnessRecord | None) -> None:
        """See :class:`WitnessState`."""
        with self._lock:
            if self._records.get(origin) != previous:
                raise StoreError(f"witness state for {origin!r} changed concurrently")
            self._records[origin] = record


class JSONFileWitnessState:
    """A :class:`WitnessState` in one small JSON file, replaced atomically on every write.

    The file holds ``{"version": 1, "logs": {origin: {"size", "root", "note"}}}``
    (root in standard base64). Writes go to a temporary file in the same
    folder, are fsynced and then renamed over the old file, so a crash leaves
    either the old or the new state. Corrupt or oversized files raise
    :class:`~did_methods.errors.StoreError`. One process at a time: the lock
    is per object.
    """

    MAX_FILE_SIZE = 16 << 20

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Use the file at ``path`` (created on first write)."""
        self._path = Path(path)
        self._lock = threading.Lock()

    def _load(self) -> dict[str, WitnessRecord]:
        try:
            with self._path.open("rb") as f:
                raw = f.read(self.MAX_FILE_SIZE + 1)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StoreError(f"cannot read witness state {self._path}: {exc}") from exc
        if len(raw) > self.MAX_FILE_SIZE:
            raise StoreError(f"witness state {self._path} is too large")
        try:
            data = loads(raw, what=f"witness state {self._path}", max_bytes=len(raw))
            if not isinstance(data, dict) or data.get("version") != 1:
                raise ValueError("unknown witness state version")
            logs = data["logs"]
            if not isinstance(logs, dict):
                raise ValueError("logs must be an object")
            out: dict[str, WitnessRecord] = {}
            for origin, rec in logs.items():
                root = b64_decode(rec["root"])
                out[origin] = WitnessRecord(rec["size"], root, rec["note"])
            return out
        except (ValueError, KeyError, TypeError, ParseError) as exc:
            raise StoreError(f"witness state {self._path} is corrupt") from exc

    def _save(self, records: dict[str, WitnessRecord]) -> None:
        data = {
            "version": 1,
            "logs": {
                origin: {
                    "size": r.size,
                    "root": b64_encode(r.root_hash),
                    "note": r.note,
                }
                for origin, r in sorted(records.items())
            },
        }
        encoded = json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8")
        folder = self._path.parent
        try:
            fd, tmp = tempfile.mkstemp(prefix=".witness-", dir=folder)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(encoded)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self._path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            raise StoreError(f"cannot write witness state {self._path}: {exc}") from exc

    def get(self, origin: str) -> WitnessRecord | None:
        """See :class:`WitnessState`."""
        with self._lock:
            return self._load().get(origin)

    def put(self, origin: str, record: WitnessRecord, previous: WitnessRecord | None) -> None:
        """See :class:`WitnessState`."""
        with self._lock:
            records = self._load()
            if records.get(origin) != previous:
                raise StoreError(f"witness state for {origin!r} changed concurrently")
            records[origin] = record
            self._save(records)


# -- split-view evidence ------------------------------------------------------------

_SAME_SIZE = "same_size_different_roots"
_BAD_PROOF = "inconsistent_proof"


@dataclass(frozen=True, slots=True)
class SplitViewEvidence:
    """Two validly signed checkpoints of one log that cannot both be true.

    ``reason`` is ``same_size_different_roots`` (``proof`` is ``None``) or
    ``inconsistent_proof``: ``proof`` is a consistency proof between the two
    sizes whose hashes fold to the larger checkpoint's root but give a
    smaller-size root different from the smaller checkpoint's. Under SHA-256
    collision resistance the hashes of such a proof are real nodes of the
    larger tree, so the smaller checkpoint's root is not a prefix of it.

    Built by :func:`detect_split_view` or :meth:`from_json`; nothing is trusted
    until :meth:`verify` passes.
    """

    origin: str
    note_a: str
    note_b: str
    reason: str
    proof: ConsistencyProof | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON object with both notes as text, the reason and the proof (or null)."""
        return {
            "type": "split_view_evidence",
            "origin": self.origin,
            "reason": self.reason,
            "note_a": self.note_a,
            "note_b": self.note_b,
            "proof": None if self.proof is None else self.proof.to_json(),
        }

    @classmethod
    def from_json(cls, data: object) -> SplitViewEvidence:
        """Parse :meth:`to_json` output; raises :class:`~did_methods.errors.ParseError`."""
        keys = {"type", "origin", "reason", "note_a", "note_b", "proof"}
        if not isinstance(data, Mapping) or set(data) != keys:
            raise ParseError(f"split-view evidence must be an object with {sorted(keys)}")
        if data["type"] != "split_view_evidence":
            raise ParseError("not split-view evidence")
        for key in ("origin", "reason", "note_a", "note_b"):
            if not isinstance(data[key], str):
                raise ParseError(f"{key} must be a string")
        if data["reason"] not in (_SAME_SIZE, _BAD_PROOF):
            raise ParseError("unknown split-view reason")
        try:
            proof = None if data["proof"] is None else ConsistencyProof.from_json(data["proof"])
        except ProofError as exc:
            raise ParseError("malformed consistency proof in evidence") from exc
        return cls(data["origin"], data["note_a"], data["note_b"], data["reason"], proof)

    def verify(self, verifiers: Sequence[SignatureVerifier]) -> tuple[Checkpoint, Checkpoint]:
        """Re-check the evidence from scratch; return the two contradicting checkpoints.

        Steps: (1) both notes verify under ``verifiers`` (the log's keys);
        (2) both are checkpoints of ``origin``; (3) for
        ``same_size_different_roots``: equal sizes, different roots, no
        proof; for ``inconsistent_proof``: the proof spans the two sizes and
        binds to the larger root but yields another smaller root.

        Raises :class:`~did_methods.errors.VerificationError`: the notes' own
        codes for bad signatures, or ``evidence_invalid``. Raises
        :class:`~ledger.errors.CheckpointError` for malformed notes.
        """
        # Step 1.
        a = _verify_checkpoint_note(self.note_a, verifiers)
        b = _verify_checkpoint_note(self.note_b, verifiers)
        # Step 2.
        if not a.origin == b.origin == self.origin:
            raise VerificationError("evidence_invalid", "checkpoints are not of the same origin")
        # Step 3.
        if self.reason == _SAME_SIZE:
            if self.proof is not None or a.size != b.size or a.root_hash == b.root_hash:
                raise VerificationError("evidence_invalid", "no same-size conflict")
            return a, b
        if self.reason == _BAD_PROOF and self.proof is not None:
            small, large = (a, b) if a.size < b.size else (b, a)
            proof = self.proof
            if (proof.size1, proof.size2) == (small.size, large.size):
                prefix = consistency_prefix_root(proof, large.root_hash)
                if prefix is not None and not hmac.compare_digest(prefix, small.root_hash):
                    return a, b
        raise VerificationError("evidence_invalid", "the proof does not show a conflict")


def _verify_checkpoint_note(note: str, verifiers: Sequence[SignatureVerifier]) -> Checkpoint:
    parsed, _ = verify_note(note, verifiers)
    return Checkpoint.parse(parsed.text)


def detect_split_view(
    note_a: str | bytes,
    note_b: str | bytes,
    consistency_proof: ConsistencyProof | None,
    verifiers: Sequence[SignatureVerifier],
) -> SplitViewEvidence | None:
    """Compare two signed checkpoints of one log; return evidence if they contradict.

    Returns ``None`` when they are consistent (same size and root, or the
    proof verifies between them). Returns :class:`SplitViewEvidence` when they
    have the same size but different roots, or when the proof binds to the
    larger root and shows a different smaller root.

    Raises :class:`~did_methods.errors.VerificationError` when a note does not
    verify under ``verifiers``, with ``origin_mismatch`` for checkpoints of
    different logs, ``consistency_proof_required`` when the sizes differ and
    no proof is given, ``proof_size_mismatch`` when the proof is for other
    sizes, and ``undecided`` when the proof neither verifies nor binds to the
    larger root (a broken proof proves nothing either way; this is always the
    case when it fails and the smaller size is a power of two, whose root
    the proof does not recompute).
    """
    # Keep the notes in their canonical text form, whatever form they came in.
    note_a = SignedNote.parse(note_a).to_text()
    note_b = SignedNote.parse(note_b).to_text()
    a = _verify_checkpoint_note(note_a, verifiers)
    b = _verify_checkpoint_note(note_b, verifiers)
    if a.origin != b.origin:
        raise VerificationError("origin_mismatch", "checkpoints are of different logs")
    if a.size == b.size:
        if hmac.compare_digest(a.root_hash, b.root_hash):
            return None
        return SplitViewEvidence(a.origin, note_a, note_b, _SAME_SIZE)
    if consistency_proof is None:
        raise VerificationError("consistency_proof_required", "sizes differ; a proof is needed")
    small, large = (a, b) if a.size < b.size else (b, a)
    if (consistency_proof.size1, consistency_proof.size2) != (small.size, large.size):
        raise VerificationError("proof_size_mismatch", "the proof is for other tree sizes")
    if small.size == 0:
        # Every tree extends the empty one, whose root is fixed.
        if hmac.compare_digest(small.root_hash, EMPTY_ROOT):
            return None
        raise VerificationError("undecided", "a size-0 checkpoint with a non-empty root")
    try:
        verify_consistency(consistency_proof, small.root_hash, large.root_hash)
        return None
    except ProofError:
        pass
    evidence = SplitViewEvidence(a.origin, note_a, note_b, _BAD_PROOF, consistency_proof)
    try:
        evidence.verify(verifiers)
    except VerificationError as exc:
        raise VerificationError(
            "undecided", "the proof fails but does not bind to the larger root"
        ) from exc
    return evidence


# -- the witness --------------------------------------------------------------------


class Witness:
    """A transparency-log witness: cosigns checkpoints that extend what it saw before.

    ``logs`` maps each origin the witness follows to the log's trusted note
    verifiers. ``state`` (default: in memory) remembers the last cosigned
    checkpoint per origin; use :class:`JSONFileWitnessState` or your own
    :class:`WitnessState` to survive restarts. The witness key must be
    Ed25519 and should not be used for anything else.
    """

    def __init__(
        self,
        name: str,
        private_key: PrivateKey,
        state: WitnessState | None = None,
        *,
        logs: Mapping[str, Sequence[SignatureVerifier]] | None = None,
    ) -> None:
        """Build a witness; raises ``CheckpointError`` or ``UnsupportedError`` for a bad key."""
        self.verifier = CosignatureVerifier(name, private_key.public_key)
        self.name = name
        self._key = private_key
        self.state: WitnessState = state if state is not None else MemoryWitnessState()
        self.logs: dict[str, tuple[SignatureVerifier, ...]] = {
            origin: tuple(vs) for origin, vs in (logs or {}).items()
        }

    def __repr__(self) -> str:
        return f"Witness(name={self.name!r}, logs={sorted(self.logs)!r})"

    def cosign(
        self,
        note_text: str | bytes,
        proof: ConsistencyProof | None = None,
        *,
        now: Clock = system_clock,
    ) -> str:
        """Verify a log's signed checkpoint and return it with this witness's cosignature added.

        Steps:
          1. parse the note and its checkpoint; the origin must be a known log;
          2. verify the log's signature;
          3. compare with the last cosigned checkpoint of that origin:
             smaller size -> ``rollback``; same size, other root ->
             ``inconsistent_checkpoint`` (a split view); larger size -> a
             consistency proof from the last size must verify
             (``consistency_proof_required``, ``proof_size_mismatch``,
             ``inconsistent_checkpoint``); a first checkpoint is trusted as
             seen, and a size-0 checkpoint must have the empty root;
          4. record the new checkpoint (compare-and-set), then sign
             ``cosignature/v1`` at ``now()``.

        Raises :class:`~ledger.errors.CheckpointError` (malformed),
        :class:`~did_methods.errors.VerificationError` (codes above,
        ``unknown_log``, ``signature_invalid``, ``no_trusted_signature``),
        :class:`~ledger.errors.SplitViewError` (code ``inconsistent_checkpoint``,
        with ``evidence``) when the log provably signed two conflicting
        checkpoints, and :class:`~did_methods.errors.StoreError` if the state
        changed underneath or cannot be written. Nothing is signed on error.
        """
        # Step 1.
        note = SignedNote.parse(note_text)
        checkpoint = Checkpoint.parse(note.text)
        verifiers = self.logs.get(checkpoint.origin)
        if verifiers is None:
            raise VerificationError("unknown_log", f"not witnessing {checkpoint.origin!r}")
        # Step 2.
        verify_note(note, verifiers)
        note_str = note.to_text()
        if checkpoint.size == 0 and not hmac.compare_digest(checkpoint.root_hash, EMPTY_ROOT):
            raise VerificationError("inconsistent_checkpoint", "an empty tree has the empty root")
        # Step 3.
        last = self.state.get(checkpoint.origin)
        if last is not None:
            self._check_extends(last, checkpoint, note_str, proof, verifiers)
        # Step 4.
        if last is None or last.size != checkpoint.size:
            record = WitnessRecord(checkpoint.size, checkpoint.root_hash, note_str)
            self.state.put(checkpoint.origin, record, last)
        timestamp = _check_timestamp(int(read_clock(now).timestamp()))
        body = note.text.encode("utf-8")
        signature = self._key.sign(cosignature_message(body, timestamp))
        cosig = NoteSignature(
            self.name, self.verifier.key_id, timestamp.to_bytes(8, "big") + signature
        )
        kept = tuple(s for s in note.signatures if (s.name, s.key_id) != (cosig.name, cosig.key_id))
        return SignedNote(note.text, (*kept, cosig)).to_text()

    def _check_extends(
        self,
        last: WitnessRecord,
        new: Checkpoint,
        note: str,
        proof: ConsistencyProof | None,
        verifiers: Sequence[SignatureVerifier],
    ) -> None:
        if new.size < last.size:
            raise VerificationError(
                "rollback", f"size {new.size} is below the cosigned size {last.size}"
            )
        if new.size == last.size:
            if hmac.compare_digest(new.root_hash, last.root_hash):
                return
            evidence = SplitViewEvidence(new.origin, last.note, note, _SAME_SIZE)
            raise SplitViewError(
                "inconsistent_checkpoint",
                f"the log signed two roots for size {new.size}",
                evidence,
            )
        if last.size == 0:
            return  # every tree extends the empty tree
        if proof is None:
            raise VerificationError(
                "consistency_proof_required", f"need a proof from size {last.size}"
            )
        if (proof.size1, proof.size2) != (last.size, new.size):
            raise VerificationError(
                "proof_size_mismatch",
                f"proof is {proof.size1}->{proof.size2}, need {last.size}->{new.size}",
            )
        try:
            verify_consistency(proof, last.root_hash, new.root_hash)
        except ProofError as exc:
            prefix = consistency_prefix_root(proof, new.root_hash)
            if prefix is not None and not hmac.compare_digest(prefix, last.root_hash):
                evidence = SplitViewEvidence(new.origin, last.note, note, _BAD_PROOF, proof)
                raise SplitViewError(
                    "inconsistent_checkpoint",
                    "the new checkpoint does not extend the cosigned one",
                    evidence,
                ) from exc
            raise VerificationError(
                "inconsistent_checkpoint", "the consistency proof does not verify"
            ) from exc


def verify_cosigned_checkpoint(
    note_text: str | bytes,
    log_verifiers: Sequence[SignatureVerifier],
    witnesses: Sequence[CosignatureVerifier],
    *,
    quorum: int,
    now: Clock = system_clock,
    max_age: float | None = None,
    max_skew: float = 60.0,
) -> Checkpoint:
    """Verify a checkpoint signed by its log and cosigned by at least ``quorum`` witnesses.

    Unknown signature lines are ignored; a known one that fails rejects the
    note. Witnesses are counted by name: a witness trusted under several keys
    (one rotating its key) counts once however many of them cosigned.
    Cosignatures dated more than ``max_skew`` seconds after ``now()``,
    or (when ``max_age`` is set) older than ``max_age`` seconds, do not count.

    Raises :class:`~ledger.errors.CheckpointError` for a malformed note and
    :class:`~did_methods.errors.VerificationError` with ``signature_invalid``,
    ``no_trusted_signature`` (the log did not sign) or ``quorum_not_met``.
    """
    if quorum < 0:
        raise VerificationError("quorum_not_met", "quorum must not be negative")
    note = SignedNote.parse(note_text)
    verify_note(note, log_verifiers)
    checkpoint = Checkpoint.parse(note.text)
    body = note.text.encode("utf-8")
    current = read_clock(now).timestamp()
    good: set[str] = set()  # witness names: one witness is one vote, whatever its keys
    for sig in note.signatures:
        for w in witnesses:
            if (w.name, w.key_id) != (sig.name, sig.key_id):
                continue
            try:
                stamp = w.verify_cosignature(body, sig.signature)
            except VerificationError as exc:
                raise VerificationError(
                    "signature_invalid", f"cosignature by {sig.name} does not verify"
                ) from exc
            if stamp > current + max_skew:
                continue
            if max_age is not None and stamp < current - max_age:
                continue
            good.add(w.name)
    if len(good) < quorum:
        raise VerificationError(
            "quorum_not_met", f"{len(good)} of the required {quorum} witnesses cosigned"
        )
    return checkpoint
