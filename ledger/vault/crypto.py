"""The vault's cryptography: master keys, data keys, sealed records and commitments.

Key hierarchy::

    master key (a KeyProvider: a file, an environment variable, or an HSM/KMS)
      ├── wraps the vault's index key   -> subject tags (HMAC of the subject id)
      └── wraps one data key per subject -> AES-256-GCM of that subject's records

Every record version is sealed with AES-256-GCM under its subject's data key,
with a fresh random 96-bit nonce per write and associated data binding the
subject id, the record id and the version, so a ciphertext moved to another
subject, record or version fails to open. The plaintext is the record's
32-byte commitment key followed by its canonical JSON: destroying the data
key or the row destroys both.

The ledger only sees a commitment: HMAC-SHA-256 under that per-record random
key of the canonical record. The same record committed twice gives unrelated
commitments, so a low-entropy value (a birth year) cannot be guessed from the
log by trying candidates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from did_methods._wire.b64 import b64url_decode, b64url_encode
from did_methods._wire.files import write_private
from did_methods._wire.json import loads
from did_methods._wire.secret import NoCopySecret
from did_methods.errors import JSONError, OutputFileError, ParseError
from ledger.vault.errors import MasterKeyError, VaultError

__all__ = [
    "COMMITMENT_KEY_SIZE",
    "DATA_KEY_SIZE",
    "NONCE_SIZE",
    "KeyProvider",
    "MasterKey",
    "RandBytes",
    "commit",
    "open_record",
    "seal_record",
    "subject_tag",
]

#: Bytes of a data key and of the master key (AES-256).
DATA_KEY_SIZE = 32
#: Bytes of an AES-GCM nonce (96 bits, fresh for every write).
NONCE_SIZE = 12
#: Bytes of a per-record commitment key.
COMMITMENT_KEY_SIZE = 32

#: A source of random bytes: ``randbytes(n)`` returns ``n`` bytes.
RandBytes = Callable[[int], bytes]

_WRAP_AAD = b"ssi-wallet vault key wrap v1\x00"
_RECORD_AAD = b"ssi-wallet vault record v1\x00"
_TAG_CONTEXT = b"ssi-wallet vault subject tag v1\x00"
_KID_CONTEXT = b"ssi-wallet vault master key id v1"
_MAX_KEY_FILE = 4096


@runtime_checkable
class KeyProvider(Protocol):
    """Wraps and unwraps the vault's keys under a master key it never has to reveal.

    An HSM or KMS plugs in here. ``context`` names what a wrapped key is for
    (e.g. a subject tag); ``unwrap`` must fail for any other context.
    ``key_id`` identifies the master key, so a vault can refuse the wrong one.
    ``unwrap`` raises :class:`~ledger.vault.errors.MasterKeyError` when the
    wrapped bytes were not made by this key for this context.
    """

    @property
    def key_id(self) -> str:
        """A short, stable, non-secret identifier of the master key."""
        ...

    def wrap(self, key: bytes, *, context: bytes) -> bytes:
        """Encrypt and authenticate ``key`` for ``context``."""
        ...

    def unwrap(self, wrapped: bytes, *, context: bytes) -> bytes:
        """Return the key :meth:`wrap` sealed for ``context``, or raise ``MasterKeyError``."""
        ...


@dataclass(frozen=True, slots=True)
class MasterKey(NoCopySecret):
    """A 256-bit master key held in memory: the default :class:`KeyProvider`.

    Wrapping is AES-256-GCM with a random nonce, the context in the associated
    data: ``nonce || ciphertext || tag``. Build one with :meth:`generate`,
    :meth:`from_file` or :meth:`from_env`. Raises
    :class:`~ledger.vault.errors.MasterKeyError` for a key that is not 32 bytes.
    """

    secret: bytes = field(repr=False)
    randbytes: RandBytes = field(default=os.urandom, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes) or len(self.secret) != DATA_KEY_SIZE:
            raise MasterKeyError(f"a master key is {DATA_KEY_SIZE} bytes")

    @classmethod
    def generate(cls, *, randbytes: RandBytes = os.urandom) -> MasterKey:
        """A fresh random master key."""
        return cls(randbytes(DATA_KEY_SIZE), randbytes)

    @property
    def key_id(self) -> str:
        """``mk-`` and 16 hex digits of an HMAC of a fixed label (reveals nothing of the key)."""
        return "mk-" + hmac.new(self.secret, _KID_CONTEXT, hashlib.sha256).hexdigest()[:16]

    def wrap(self, key: bytes, *, context: bytes) -> bytes:
        """AES-256-GCM-seal ``key`` for ``context``."""
        nonce = self.randbytes(NONCE_SIZE)
        return nonce + AESGCM(self.secret).encrypt(nonce, key, _WRAP_AAD + context)

    def unwrap(self, wrapped: bytes, *, context: bytes) -> bytes:
        """Open a wrapped key; raise :class:`MasterKeyError` for a wrong key, context or bytes."""
        if not isinstance(wrapped, bytes) or len(wrapped) < NONCE_SIZE + 16:
            raise MasterKeyError("a wrapped key is too short")
        try:
            return AESGCM(self.secret).decrypt(
                wrapped[:NONCE_SIZE], wrapped[NONCE_SIZE:], _WRAP_AAD + context
            )
        except InvalidTag as exc:
            raise MasterKeyError("the wrapped key does not open with this master key") from exc

    # -- files and the environment ---------------------------------------------------

    def to_text(self) -> str:
        """The key file's content: a JSON ``oct`` JWK (RFC 7517) with a ``kid``."""
        k = b64url_encode(self.secret)
        return json.dumps({"kty": "oct", "alg": "A256GCM", "kid": self.key_id, "k": k}) + "\n"

    @classmethod
    def from_text(cls, text: str) -> MasterKey:
        """Parse a key file's content: the JSON of :meth:`to_text`, or bare base64url of 32 bytes.

        Raises :class:`MasterKeyError` for anything else.
        """
        text = text.strip()
        if text.startswith("{"):
            try:
                obj = loads(text, what="master key file", max_bytes=4096)
            except JSONError as exc:
                raise MasterKeyError(f"the master key file is not strict JSON: {exc}") from exc
            if not isinstance(obj, dict) or obj.get("kty") != "oct" or "k" not in obj:
                raise MasterKeyError("the master key file is not an 'oct' JWK")
            text = obj["k"]
            if not isinstance(text, str):
                raise MasterKeyError("the master key's 'k' is not a string")
        try:
            secret = b64url_decode(text, max_length=100)
        except ParseError as exc:
            raise MasterKeyError(f"the master key is not canonical base64url: {exc}") from exc
        return cls(secret)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> MasterKey:
        """Read a master key file.

        Raises :class:`MasterKeyError` when it is missing, unreadable, too
        large, malformed, or readable by group or others (it must be 0600 or
        stricter on POSIX).
        """
        p = Path(path)
        try:
            info = p.stat()
            if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise MasterKeyError(f"{p} is readable by others: chmod 600 it")
            if info.st_size > _MAX_KEY_FILE:
                raise MasterKeyError(f"{p} is too large for a master key file")
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise MasterKeyError(f"cannot read the master key file {p}: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise MasterKeyError(f"{p} is not text") from exc
        return cls.from_text(text)

    @classmethod
    def from_env(cls, name: str = "SSI_WALLET_VAULT_MASTER_KEY") -> MasterKey:
        """Read the master key from the environment variable ``name`` (base64url or JSON).

        Raises :class:`MasterKeyError` when it is unset or malformed.
        """
        value = os.environ.get(name)
        if not value:
            raise MasterKeyError(f"the environment variable {name} is not set")
        return cls.from_text(value)

    def write_file(self, path: str | os.PathLike[str]) -> Path:
        """Create ``path`` (mode 0600) holding this key; never overwrite an existing file.

        Raises :class:`MasterKeyError` when the file exists or cannot be written.
        """
        p = Path(path)
        try:
            return write_private(p, self.to_text())
        except OutputFileError as exc:
            if exc.code == "exists":
                raise MasterKeyError(f"{p} exists; a master key is never overwritten") from exc
            raise MasterKeyError(f"cannot create {p}: {exc}") from exc


def subject_tag(index_key: bytes, subject_id: str) -> bytes:
    """The vault's pseudonymous handle of a subject: HMAC-SHA-256(index key, subject id).

    The subject id never appears in clear in the vault's tables; only a holder
    of the (wrapped) index key can tell which tag is whose.
    """
    return hmac.new(index_key, _TAG_CONTEXT + subject_id.encode("utf-8"), hashlib.sha256).digest()


def _record_aad(subject_id: str, record_id: str, version: int) -> bytes:
    s = subject_id.encode("utf-8")
    r = record_id.encode("utf-8")
    return (
        _RECORD_AAD
        + struct.pack(">I", len(s))
        + s
        + struct.pack(">I", len(r))
        + r
        + (struct.pack(">Q", version))
    )


def seal_record(
    data_key: bytes,
    *,
    subject_id: str,
    record_id: str,
    version: int,
    commitment_key: bytes,
    canonical: bytes,
    randbytes: RandBytes = os.urandom,
) -> tuple[bytes, bytes]:
    """Encrypt ``commitment_key || canonical`` for that subject, record and version.

    Returns ``(nonce, ciphertext)``; the nonce is fresh from ``randbytes``.
    """
    nonce = randbytes(NONCE_SIZE)
    if len(nonce) != NONCE_SIZE or len(commitment_key) != COMMITMENT_KEY_SIZE:
        raise VaultError("randbytes returned the wrong number of bytes")
    aad = _record_aad(subject_id, record_id, version)
    return nonce, AESGCM(data_key).encrypt(nonce, commitment_key + canonical, aad)


def open_record(
    data_key: bytes,
    *,
    subject_id: str,
    record_id: str,
    version: int,
    nonce: bytes,
    ciphertext: bytes,
) -> tuple[bytes, bytes]:
    """Decrypt a sealed record; return ``(commitment_key, canonical)``.

    Raises :class:`~ledger.vault.errors.VaultError` when the ciphertext was
    changed or belongs to another subject, record or version.
    """
    try:
        plain = AESGCM(data_key).decrypt(
            nonce, ciphertext, _record_aad(subject_id, record_id, version)
        )
    except (InvalidTag, ValueError) as exc:
        raise VaultError(
            f"record {record_id} v{version} does not open: changed or not this subject's"
        ) from exc
    return plain[:COMMITMENT_KEY_SIZE], plain[COMMITMENT_KEY_SIZE:]


def commit(commitment_key: bytes, canonical: bytes) -> bytes:
    """HMAC-SHA-256 of the canonical record under its commitment key."""
    return hmac.new(commitment_key, canonical, hashlib.sha256).digest()
