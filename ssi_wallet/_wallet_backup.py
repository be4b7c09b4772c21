"""Wallet backups: one sealed file holding a wallet's key, credentials and history.

File format (version 1)::

    b"SSI-WALLET-BACKUP 1\\n"
    header line: JSON {"n", "salt", "wrap_nonce", "wrapped_key", "nonce"} and b"\\n"
    AES-256-GCM ciphertext of the zlib-compressed JSON payload

A fresh backup key seals the payload; it is wrapped (AES-256-GCM) under a key
derived with scrypt from the backup passphrase. The magic and the header line
are the payload's associated data, so no byte of the file can change without
the restore noticing. The payload names the wallet it came from (the holder's
DID) and holds the holder's private key: a backup is as secret as the wallet.

Errors carry a stable ``code``: :class:`WalletBackupError` (a ``ParseError``)
``not_a_backup``, ``backup_too_large``, ``backup_tampered``,
``backup_malformed``; a wrong passphrase is a ``WalletLockedError``
(``wrong_passphrase``: a damaged key envelope reads the same);
:class:`OtherWalletError` (a ``PolicyError``) ``other_wallet``. ``Holder.backup``
writes the file with the one private-file writer (``OutputFileError``:
``exists``, ``symlink``, ...).
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from did_methods._wire.json import loads, loads_object
from did_methods.errors import ParseError, PolicyError
from ssi_wallet._wallet_store import WalletLockedError, _CodedError, _kdf

__all__ = [
    "MAX_BACKUP",
    "BackupContent",
    "OtherWalletError",
    "WalletBackupError",
    "read_backup",
    "seal_backup",
]

MAGIC = b"SSI-WALLET-BACKUP 1\n"
#: The largest backup file a restore reads.
MAX_BACKUP = 1 << 30
#: The largest payload a backup may decompress to.
MAX_PAYLOAD = 1 << 31
_MAX_HEADER = 1024
_SCRYPT_N = 2**15
_MAX_SCRYPT_N = 2**20
_WRAP_AD = b"ssi-wallet backup key v1"


class WalletBackupError(_CodedError, ParseError):
    """A backup file that cannot be restored (see the module docstring for the codes)."""


class OtherWalletError(_CodedError, PolicyError):
    """The backup is of another wallet (``code`` ``other_wallet``)."""


@dataclass(frozen=True, slots=True)
class BackupContent:
    """What a backup holds, opened and checked for shape."""

    holder: str
    key: Mapping[str, Any]
    credentials: tuple[Mapping[str, Any], ...]
    history: tuple[tuple[str, Mapping[str, Any]], ...]
    #: ``(credential id, private JWK)`` of credentials bound to a key of their own
    #: (a batch issuance's instances); absent from backups made before them.
    bound_keys: tuple[tuple[str, Mapping[str, Any]], ...] = ()


def seal_backup(content: BackupContent, passphrase: str) -> bytes:
    """The backup file's bytes: ``content`` sealed under ``passphrase``."""
    if not passphrase:
        raise ParseError("a backup needs a non-empty passphrase")
    payload = {
        "holder": content.holder,
        "key": dict(content.key),
        "credentials": [dict(c) for c in content.credentials],
        "history": [[i, dict(v)] for i, v in content.history],
    }
    if content.bound_keys:
        payload["bound_keys"] = [[i, dict(k)] for i, k in content.bound_keys]
    body = zlib.compress(json.dumps(payload, ensure_ascii=False).encode("utf-8"), 6)
    key, salt = AESGCM.generate_key(bit_length=256), os.urandom(16)
    wrap_nonce, nonce = os.urandom(12), os.urandom(12)
    wrapped = AESGCM(_kdf(passphrase, salt, _SCRYPT_N)).encrypt(wrap_nonce, key, _WRAP_AD)
    header = json.dumps(
        {
            "n": _SCRYPT_N,
            "salt": salt.hex(),
            "wrap_nonce": wrap_nonce.hex(),
            "wrapped_key": wrapped.hex(),
            "nonce": nonce.hex(),
        },
        sort_keys=True,
    ).encode()
    return MAGIC + header + b"\n" + AESGCM(key).encrypt(nonce, body, MAGIC + header)


def read_backup(path: Path, passphrase: str) -> BackupContent:
    """Open and check a backup file; raises the errors of the module docstring."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BACKUP + 1)
    except OSError as exc:
        raise WalletBackupError("not_a_backup", f"cannot read {path}: {exc.strerror}") from exc
    if len(data) > MAX_BACKUP:
        raise WalletBackupError("backup_too_large", f"{path} is larger than {MAX_BACKUP} bytes")
    if not data.startswith(MAGIC):
        raise WalletBackupError("not_a_backup", f"{path} is not a wallet backup")
    end = data.find(b"\n", len(MAGIC), len(MAGIC) + _MAX_HEADER)
    if end < 0:
        raise WalletBackupError("not_a_backup", "the backup header is missing or too long")
    header_bytes, sealed = data[len(MAGIC) : end], data[end + 1 :]
    try:
        header = loads_object(header_bytes, what="backup header", max_bytes=_MAX_HEADER)
        if set(header) != {
            "n",
            "salt",
            "wrap_nonce",
            "wrapped_key",
            "nonce",
        }:
            raise ValueError("unexpected header members")
        n = header["n"]
        if type(n) is not int or not 2 <= n <= _MAX_SCRYPT_N or n & (n - 1):
            raise ValueError("out-of-range key derivation parameters")
        salt, wrap_nonce = bytes.fromhex(header["salt"]), bytes.fromhex(header["wrap_nonce"])
        wrapped, nonce = bytes.fromhex(header["wrapped_key"]), bytes.fromhex(header["nonce"])
        if len(wrap_nonce) != 12 or len(nonce) != 12 or not salt:
            raise ValueError("bad nonce or salt length")
    except (ValueError, TypeError, RecursionError) as exc:
        raise WalletBackupError("not_a_backup", f"unreadable backup header: {exc}") from exc
    try:
        key = AESGCM(_kdf(passphrase, salt, n)).decrypt(wrap_nonce, wrapped, _WRAP_AD)
    except (InvalidTag, ValueError) as exc:
        raise WalletLockedError("wrong_passphrase", "wrong passphrase for this backup") from exc
    try:
        body = AESGCM(key).decrypt(nonce, sealed, MAGIC + header_bytes)
    except (InvalidTag, ValueError) as exc:
        raise WalletBackupError("backup_tampered", "the backup fails its integrity check") from exc
    try:
        inflate = zlib.decompressobj()
        text = inflate.decompress(body, MAX_PAYLOAD)
        if inflate.unconsumed_tail or not inflate.eof:
            raise ValueError("payload too large or incomplete")
        payload = loads(text, what="backup payload", max_bytes=MAX_PAYLOAD)
        return _content(payload)
    except (ValueError, TypeError, KeyError, RecursionError, zlib.error) as exc:
        raise WalletBackupError("backup_malformed", f"unreadable backup payload: {exc}") from exc


def _content(payload: Any) -> BackupContent:
    if not isinstance(payload, dict) or set(payload) - {"bound_keys"} != {
        "holder",
        "key",
        "credentials",
        "history",
    }:
        raise ValueError("unexpected payload members")
    holder, key = payload["holder"], payload["key"]
    if not isinstance(holder, str) or not isinstance(key, dict):
        raise ValueError("holder and key")
    fields = {"id", "format", "types", "issuer", "claims", "raw", "stored_at"}
    credentials = payload["credentials"]
    if not isinstance(credentials, list) or not all(
        isinstance(c, dict)
        and set(c) == fields
        and isinstance(c["id"], str)
        and isinstance(c["format"], str)
        and isinstance(c["issuer"], str)
        and isinstance(c["stored_at"], str)
        and isinstance(c["types"], list)
        and all(isinstance(t, str) for t in c["types"])
        and isinstance(c["claims"], dict)
        and isinstance(c["raw"], str | dict)
        for c in credentials
    ):
        raise ValueError("credentials")
    history = payload["history"]
    if not isinstance(history, list) or not all(
        isinstance(h, list) and len(h) == 2 and isinstance(h[0], str) and isinstance(h[1], dict)
        for h in history
    ):
        raise ValueError("history")
    bound = payload.get("bound_keys", [])
    ids = {c["id"] for c in credentials}
    if not isinstance(bound, list) or not all(
        isinstance(b, list) and len(b) == 2 and b[0] in ids and isinstance(b[1], dict)
        for b in bound
    ):
        raise ValueError("bound_keys")
    return BackupContent(
        holder,
        key,
        tuple(credentials),
        tuple((str(i), v) for i, v in history),
        tuple((str(i), k) for i, k in bound),
    )
