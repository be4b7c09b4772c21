"""C2SP checkpoints (``c2sp.org/tlog-checkpoint``) in C2SP signed notes (``c2sp.org/signed-note``).

A checkpoint is the text::

    <origin>\\n
    <tree size, decimal, no leading zeros>\\n
    <root hash, standard padded base64>\\n
    [<extension line>\\n ...]

and a signed note is that text, a blank line, and one or more signature lines
``— <key name> <base64(4-byte key ID || signature)>`` (em dash U+2014).

An Ed25519 note key (signature type ``0x01``) has the key ID
``SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4]`` and signs the note
text itself. Its verifier key string ("vkey") is
``<name>+<8 hex digits of key ID>+<base64(0x01 || public key)>``, the format of
Go's ``golang.org/x/mod/sumdb/note`` which the C2SP spec grew out of.

Verification (:func:`verify_note`, :func:`verify_checkpoint`):
  1. parse the note within bounds (1 MiB, 100 signatures, strict lines);
  2. ignore signatures whose (name, key ID) matches no trusted verifier;
  3. verify every signature that does match; one failure rejects the note;
  4. require at least one verified signature;
  5. (checkpoints) parse the text as a checkpoint and check the origin.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from did_methods._wire.b64 import b64_decode, b64_encode
from did_methods.errors import ParseError, SSIWalletError, UnsupportedError, VerificationError
from did_methods.keys import KeyType, PrivateKey, PublicKey
from ledger._merkle import HASH_SIZE, MAX_TREE_SIZE
from ledger.errors import CheckpointError

__all__ = [
    "EM_DASH",
    "MAX_NOTE_SIGNATURES",
    "MAX_NOTE_SIZE",
    "SIGNATURE_TYPE_ED25519",
    "Checkpoint",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "SignatureVerifier",
    "SignedNote",
    "compute_key_id",
    "sign_checkpoint",
    "verify_checkpoint",
    "verify_note",
]

EM_DASH = "\u2014"
"""The em dash that starts every signature line."""

MAX_NOTE_SIZE = 1 << 20
"""Largest signed note we parse, in bytes of UTF-8 (1 MiB)."""

MAX_NOTE_SIGNATURES = 100
"""Most signature lines we parse in one note (the spec asks for at least 16)."""

SIGNATURE_TYPE_ED25519 = 0x01
"""The signed-note signature type byte of plain Ed25519 note signatures."""

_SIZE_RE = re.compile(r"(?:0|[1-9][0-9]{0,18})")


def _b64decode(text: str, what: str, *, max_chars: int = 8192) -> bytes:
    """Strict standard base64 (the kernel's): padded, canonical, no whitespace."""
    if len(text) > max_chars:
        raise CheckpointError(f"{what} is too long")
    try:
        return b64_decode(text)
    except ParseError as exc:
        raise CheckpointError(f"{what} is {exc}") from exc


_CONTROL_RE = re.compile(r"[\x00-\x09\x0b-\x1f]")


def _check_text(text: str, what: str) -> None:
    """No ASCII control characters except newline (signed-note 'Format')."""
    bad = _CONTROL_RE.search(text)
    if bad is not None:
        raise CheckpointError(f"{what} contains the control character {ord(bad.group()):#04x}")


def _check_key_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise CheckpointError("key name must be a non-empty string")
    if any(ch.isspace() or ch == "+" for ch in name):
        raise CheckpointError("key name must not contain spaces or '+'")
    _check_text(name, "key name")
    if len(name.encode("utf-8")) > 1024:
        raise CheckpointError("key name is too long")
    return name


def compute_key_id(name: str, signature_type: int, public_key: bytes) -> int:
    """``SHA-256(name || 0x0A || type || public key)[:4]`` as a big-endian uint32 (signed-note)."""
    digest = hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([signature_type]) + public_key
    ).digest()
    return int.from_bytes(digest[:4], "big")


# -- checkpoint body ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's signed statement of its tree: origin, size and root hash (C2SP tlog-checkpoint).

    Building one validates it (non-empty origin and extension lines without
    newlines or control characters, ``0 <= size <= 2**63 - 1``, a 32-byte
    root) and raises :class:`~ledger.errors.CheckpointError` otherwise. A
    checkpoint is only a claim until :func:`verify_checkpoint` returns it.
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin or "\n" in self.origin:
            raise CheckpointError("origin must be a non-empty line")
        _check_text(self.origin, "origin")
        if not isinstance(self.size, int) or isinstance(self.size, bool):
            raise CheckpointError("size must be an int")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointError("size must be between 0 and 2**63 - 1")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise CheckpointError(f"root hash must be {HASH_SIZE} bytes")
        if not isinstance(self.extensions, tuple):
            raise CheckpointError("extensions must be a tuple of lines")
        for line in self.extensions:
            if not isinstance(line, str) or not line or "\n" in line:
                raise CheckpointError("extension lines must be non-empty lines")
            _check_text(line, "extension line")

    def body(self) -> bytes:
        """The note text: origin, size, base64 root and extension lines, each ending in newline."""
        lines = [self.origin, str(self.size), b64_encode(self.root_hash), *self.extensions]
        return ("\n".join(lines) + "\n").encode("utf-8")

    @classmethod
    def parse(cls, body: bytes | str) -> Checkpoint:
        """Parse a checkpoint note text (without signatures) strictly.

        Accepts exactly what :meth:`body` produces: at least three lines, each
        ending in newline, a decimal size without leading zeros, a canonical
        padded base64 root of 32 bytes, non-empty extension lines.

        Raises :class:`~ledger.errors.CheckpointError`.
        """
        text = _decode(body, "checkpoint")
        _check_text(text, "checkpoint")
        if not text.endswith("\n"):
            raise CheckpointError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError("checkpoint needs origin, size and root hash lines")
        origin, size_text, root_text, *extensions = lines
        if not _SIZE_RE.fullmatch(size_text):
            raise CheckpointError("tree size must be a decimal number without leading zeros")
        size = int(size_text)
        root = _b64decode(root_text, "root hash", max_chars=64)
        return cls(origin, size, root, tuple(extensions))


def _decode(data: bytes | str, what: str) -> str:
    if isinstance(data, str):
        if len(data) > MAX_NOTE_SIZE:
            raise CheckpointError(f"{what} is larger than {MAX_NOTE_SIZE} bytes")
        try:
            size = len(data.encode("utf-8"))
        except UnicodeEncodeError as exc:  # lone surrogates
            raise CheckpointError(f"{what} is not valid UTF-8") from exc
        if size > MAX_NOTE_SIZE:
            raise CheckpointError(f"{what} is larger than {MAX_NOTE_SIZE} bytes")
        return data
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CheckpointError(f"{what} must be text or bytes")
    raw = bytes(data)
    if len(raw) > MAX_NOTE_SIZE:
        raise CheckpointError(f"{what} is larger than {MAX_NOTE_SIZE} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CheckpointError(f"{what} is not valid UTF-8") from exc


# -- signed notes ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: key name, 32-bit key ID and the signature bytes that follow it."""

    name: str
    key_id: int
    signature: bytes

    def __post_init__(self) -> None:
        _check_key_name(self.name)
        if not isinstance(self.key_id, int) or not 0 <= self.key_id < 2**32:
            raise CheckpointError("key ID must be a 32-bit unsigned int")
        if not isinstance(self.signature, bytes) or not self.signature:
            raise CheckpointError("signature must be non-empty bytes")

    def line(self) -> str:
        """The signature line, ``— <name> <base64(key ID || signature)>`` and a newline."""
        blob = self.key_id.to_bytes(4, "big") + self.signature
        return f"{EM_DASH} {self.name} {b64_encode(blob)}\n"

    @classmethod
    def parse_line(cls, line: str) -> NoteSignature:
        """Parse one signature line (without its newline); raises ``CheckpointError``."""
        prefix = EM_DASH + " "
        if not line.startswith(prefix):
            raise CheckpointError("signature line must start with an em dash and a space")
        parts = line[len(prefix) :].split(" ")
        if len(parts) != 2:
            raise CheckpointError("signature line must be '— <name> <base64>'")
        name, blob_text = parts
        blob = _b64decode(blob_text, "signature", max_chars=MAX_NOTE_SIZE)
        if len(blob) < 5:
            raise CheckpointError("signature is shorter than a key ID and one byte")
        return cls(name, int.from_bytes(blob[:4], "big"), blob[4:])


@dataclass(frozen=True, slots=True)
class SignedNote:
    """A note text and its signature lines, as parsed; nothing here is verified yet.

    ``text`` ends in a newline and excludes the blank separator line. Use
    :func:`verify_note` before trusting ``text``.
    """

    text: str
    signatures: tuple[NoteSignature, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.endswith("\n"):
            raise CheckpointError("note text must end with a newline")
        _check_text(self.text, "note text")
        if not isinstance(self.signatures, tuple) or not all(
            isinstance(s, NoteSignature) for s in self.signatures
        ):
            raise CheckpointError("signatures must be a tuple of NoteSignature")
        if len(self.signatures) > MAX_NOTE_SIGNATURES:
            raise CheckpointError(f"a note may carry at most {MAX_NOTE_SIGNATURES} signatures")

    @classmethod
    def parse(cls, data: bytes | str) -> SignedNote:
        """Parse a signed note within bounds.

        Rejects (with :class:`~ledger.errors.CheckpointError`) notes over
        :data:`MAX_NOTE_SIZE` bytes, invalid UTF-8, control characters other
        than newline, a missing final newline or blank separator line, more
        than :data:`MAX_NOTE_SIGNATURES` or zero signature lines, and any
        malformed signature line.
        """
        text = _decode(data, "signed note")
        _check_text(text, "signed note")
        if not text.endswith("\n"):
            raise CheckpointError("signed note must end with a newline")
        # The text ends at the last blank line: signature lines are never empty.
        split = text.rfind("\n\n")
        if split < 0:
            raise CheckpointError("signed note has no blank line before its signatures")
        body, sig_block = text[: split + 1], text[split + 2 :]
        lines = sig_block[:-1].split("\n") if sig_block else []
        if not lines:
            raise CheckpointError("signed note has no signature lines")
        if len(lines) > MAX_NOTE_SIGNATURES:
            raise CheckpointError(f"a note may carry at most {MAX_NOTE_SIGNATURES} signatures")
        return cls(body, tuple(NoteSignature.parse_line(line) for line in lines))

    def to_text(self) -> str:
        """The note as text: note text, blank line, signature lines."""
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    def __str__(self) -> str:
        return self.to_text()

    def with_signature(self, signature: NoteSignature) -> SignedNote:
        """Return this note with one more signature line appended."""
        return SignedNote(self.text, (*self.signatures, signature))


@runtime_checkable
class SignatureVerifier(Protocol):
    """Anything that checks one kind of note signature: a log key or a witness key."""

    @property
    def name(self) -> str:
        """The key name signature lines carry."""
        ...

    @property
    def key_id(self) -> int:
        """The 32-bit key ID signature lines carry."""
        ...

    def verify(self, text: bytes, signature: bytes) -> None:
        """Check ``signature`` (the bytes after the key ID) over the note ``text``; raise if bad."""
        ...


def _ed25519_public(key: object) -> PublicKey:
    if not isinstance(key, PublicKey):
        raise CheckpointError("public_key must be a did_methods.keys.PublicKey")
    if key.key_type is not KeyType.ED25519:
        raise UnsupportedError("note signatures support Ed25519 keys only")
    return key


def _parse_vkey(vkey: object, signature_type: int) -> tuple[str, PublicKey]:
    if not isinstance(vkey, str) or len(vkey) > 2048:
        raise CheckpointError("verifier key must be a short string")
    # The base64 part may itself contain '+', so split at most twice.
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise CheckpointError("verifier key must be <name>+<hex key ID>+<base64 key>")
    name, id_hex, key_b64 = parts
    _check_key_name(name)
    if not re.fullmatch(r"[0-9a-f]{8}", id_hex):
        raise CheckpointError("verifier key ID must be 8 lowercase hex digits")
    raw = _b64decode(key_b64, "verifier key", max_chars=64)
    if not raw or raw[0] != signature_type:
        raise UnsupportedError(f"verifier key is not of signature type {signature_type:#04x}")
    try:
        public = PublicKey.from_raw(KeyType.ED25519, raw[1:])
    except SSIWalletError as exc:
        raise CheckpointError("verifier key holds no valid Ed25519 public key") from exc
    if compute_key_id(name, signature_type, public.raw) != int(id_hex, 16):
        raise CheckpointError("verifier key ID does not match its name and key")
    return name, public


def _format_vkey(name: str, key_id: int, signature_type: int, public: PublicKey) -> str:
    return f"{name}+{key_id:08x}+{b64_encode(bytes([signature_type]) + public.raw)}"


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """A trusted Ed25519 note key (signature type 0x01): a log's checkpoint key.

    Raises :class:`~ledger.errors.CheckpointError` for a bad name (empty, or
    with spaces or ``+``) and :class:`~did_methods.errors.UnsupportedError`
    for a key that is not Ed25519.
    """

    name: str
    public_key: PublicKey
    key_id: int = field(init=False)

    def __post_init__(self) -> None:
        _check_key_name(self.name)
        pub = _ed25519_public(self.public_key)
        key_id = compute_key_id(self.name, SIGNATURE_TYPE_ED25519, pub.raw)
        object.__setattr__(self, "key_id", key_id)

    @property
    def vkey(self) -> str:
        """``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
        return _format_vkey(self.name, self.key_id, SIGNATURE_TYPE_ED25519, self.public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Parse a vkey string, checking that its key ID matches its name and key.

        Raises :class:`~ledger.errors.CheckpointError` (or ``UnsupportedError``
        for another signature type).
        """
        name, public = _parse_vkey(vkey, SIGNATURE_TYPE_ED25519)
        return cls(name, public)

    def verify(self, text: bytes, signature: bytes) -> None:
        """Check an Ed25519 signature over the note text.

        Raises :class:`~did_methods.errors.VerificationError`
        (``signature_invalid``).
        """
        self.public_key.verify(signature, text)


@dataclass(frozen=True, slots=True)
class NoteSigner:
    """An Ed25519 note signing key under a key name (signature type 0x01)."""

    name: str
    private_key: PrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        _check_key_name(self.name)
        if not isinstance(self.private_key, PrivateKey):
            raise CheckpointError("private_key must be a did_methods.keys.PrivateKey")
        _ed25519_public(self.private_key.public_key)

    @property
    def verifier(self) -> NoteVerifier:
        """The matching :class:`NoteVerifier` (publish its ``vkey``)."""
        return NoteVerifier(self.name, self.private_key.public_key)

    @property
    def key_id(self) -> int:
        """The 32-bit key ID of this key."""
        return self.verifier.key_id

    def sign(self, text: bytes) -> NoteSignature:
        """Sign a note text (which must end in a newline) and return the signature line value."""
        if not text.endswith(b"\n"):
            raise CheckpointError("note text must end with a newline")
        return NoteSignature(self.name, self.key_id, self.private_key.sign(text))

    @classmethod
    def from_skey(cls, skey: str) -> NoteSigner:
        """Parse Go's ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>`` form.

        Raises :class:`~ledger.errors.CheckpointError` if malformed or if the
        key ID does not match.
        """
        if not isinstance(skey, str) or not skey.startswith("PRIVATE+KEY+"):
            raise CheckpointError("signer key must start with PRIVATE+KEY+")
        parts = skey[len("PRIVATE+KEY+") :].split("+", 2)
        if len(parts) != 3:
            raise CheckpointError("signer key must be PRIVATE+KEY+<name>+<hex id>+<base64>")
        name, id_hex, key_b64 = parts
        raw = _b64decode(key_b64, "signer key", max_chars=64)
        if len(raw) != 33 or raw[0] != SIGNATURE_TYPE_ED25519:
            raise CheckpointError("signer key must hold 0x01 and a 32-byte Ed25519 seed")
        signer = cls(name, PrivateKey(KeyType.ED25519, raw[1:]))
        if not re.fullmatch(r"[0-9a-f]{8}", id_hex) or int(id_hex, 16) != signer.key_id:
            raise CheckpointError("signer key ID does not match its name and key")
        return signer


def _find(
    verifiers: Iterable[SignatureVerifier], name: str, key_id: int
) -> SignatureVerifier | None:
    for v in verifiers:
        if v.name == name and v.key_id == key_id:
            return v
    return None


def verify_note(
    note: SignedNote | str | bytes, verifiers: Sequence[SignatureVerifier]
) -> tuple[SignedNote, tuple[SignatureVerifier, ...]]:
    """Verify a signed note against trusted keys; return it and the keys whose signatures held.

    Steps 1-4 of the module docstring: signatures from unknown (name, key ID)
    pairs are ignored; a known one that fails rejects the whole note.

    Raises :class:`~ledger.errors.CheckpointError` for a malformed note and
    :class:`~did_methods.errors.VerificationError` with code
    ``signature_invalid`` (a known key's signature fails) or
    ``no_trusted_signature`` (no known key signed it).
    """
    # Step 1.
    parsed = note if isinstance(note, SignedNote) else SignedNote.parse(note)
    text = parsed.text.encode("utf-8")
    verified: list[SignatureVerifier] = []
    for sig in parsed.signatures:
        # Step 2.
        verifier = _find(verifiers, sig.name, sig.key_id)
        if verifier is None:
            continue
        # Step 3.
        try:
            verifier.verify(text, sig.signature)
        except VerificationError as exc:
            raise VerificationError(
                "signature_invalid", f"signature by {sig.name} does not verify"
            ) from exc
        if verifier not in verified:
            verified.append(verifier)
    # Step 4.
    if not verified:
        raise VerificationError("no_trusted_signature", "no trusted key signed this note")
    return parsed, tuple(verified)


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """Return the signed note of ``checkpoint`` with one signature by ``signer``.

    The log's key name should be the checkpoint's origin (C2SP tlog-checkpoint);
    other names are allowed.
    """
    body = checkpoint.body()
    return SignedNote(body.decode("utf-8"), (signer.sign(body),)).to_text()


def verify_checkpoint(
    note_text: SignedNote | str | bytes,
    verifiers: Sequence[SignatureVerifier],
    *,
    origin: str | None = None,
) -> Checkpoint:
    """Verify a signed checkpoint and return the checkpoint it states.

    Runs :func:`verify_note` (steps 1-4), then step 5: parses the text as a
    checkpoint and, if ``origin`` is given, requires it to match.

    Raises :class:`~ledger.errors.CheckpointError` for a malformed note or
    checkpoint, and :class:`~did_methods.errors.VerificationError` with code
    ``signature_invalid``, ``no_trusted_signature`` or ``origin_mismatch``.
    """
    parsed, _ = verify_note(note_text, verifiers)
    # Step 5.
    checkpoint = Checkpoint.parse(parsed.text)
    if origin is not None and checkpoint.origin != origin:
        raise VerificationError(
            "origin_mismatch", f"checkpoint is for {checkpoint.origin!r}, not {origin!r}"
        )
    return checkpoint
