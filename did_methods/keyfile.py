"""Private key files: a private JWK on disk, plain (mode 0600) or passphrase-encrypted.

Two formats, both JSON:

* plain: the private JWK itself (``{"kty": "OKP", "crv": "Ed25519", "x": ..., "d": ...}``),
  written with file mode 0600 so only the owner can read it;
* encrypted: ``{"ssiWalletKeyFile": 1, "kdf": "scrypt", "n": ..., "r": 8, "p": 1,
  "salt": ..., "nonce": ..., "ciphertext": ...}``, the JWK sealed with AES-256-GCM
  under a key derived from the passphrase by scrypt; also mode 0600.

A key file is never overwritten unless asked, so a mistyped path cannot
destroy an existing identity.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from did_methods._wire.files import write_private
from did_methods._wire.json import loads_object
from did_methods.encoding import b64url_decode, b64url_encode
from did_methods.errors import InvalidKey, JSONError, OutputFileError, ParseError, SSIWalletError
from did_methods.keys import PrivateKey

__all__ = ["KeyFileError", "read_key_file", "write_key_file"]

_MAX_KEY_FILE = 64 * 1024
_SCRYPT_N = 2**15
_MAX_SCRYPT_N = 2**20


class KeyFileError(SSIWalletError):
    """A key file cannot be read or written (missing, exists, wrong passphrase).

    ``code`` is stable: ``exists`` (refusing to overwrite), ``io`` (the system
    refused to read or write), ``passphrase_needed`` (the file is encrypted and
    no passphrase was given) or ``wrong_passphrase``.
    """

    def __init__(self, message: str, code: str = "io") -> None:
        super().__init__(message)
        self.code = code


def _kdf(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def write_key_file(
    path: str | os.PathLike[str],
    key: PrivateKey,
    *,
    passphrase: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``key`` to ``path`` with mode 0600, encrypted when a passphrase is given.

    Raises :class:`KeyFileError` when the file exists and ``overwrite`` is false.
    """
    target = Path(path)
    jwk = key.private_jwk()
    if passphrase is None:
        body: dict[str, Any] = jwk
    else:
        salt, nonce = os.urandom(16), os.urandom(12)
        sealed = AESGCM(_kdf(passphrase, salt, _SCRYPT_N, 8, 1)).encrypt(
            nonce, json.dumps(jwk).encode(), b"ssi-wallet key file v1"
        )
        body = {
            "ssiWalletKeyFile": 1,
            "kdf": "scrypt",
            "n": _SCRYPT_N,
            "r": 8,
            "p": 1,
            "salt": b64url_encode(salt),
            "nonce": b64url_encode(nonce),
            "ciphertext": b64url_encode(sealed),
        }
    try:
        return write_private(target, json.dumps(body, indent=2) + "\n", force=overwrite)
    except OutputFileError as exc:
        if exc.code == "exists":
            raise KeyFileError(
                f"key file {target} exists; refusing to overwrite it", "exists"
            ) from exc
        raise KeyFileError(f"cannot create key file {target}: {exc.message}") from exc


def read_key_file(path: str | os.PathLike[str], *, passphrase: str | None = None) -> PrivateKey:
    """Read a key file written by :func:`write_key_file` (or a bare private JWK).

    Raises :class:`KeyFileError` when the file is missing, unreadable or the
    passphrase is wrong or missing, and :class:`InvalidKey` when it does not
    hold a valid private key.
    """
    target = Path(path)
    try:
        with open(target, "rb") as fh:
            data = fh.read(_MAX_KEY_FILE + 1)
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {target}: {exc.strerror}") from exc
    if len(data) > _MAX_KEY_FILE:
        raise InvalidKey(f"key file {target} is larger than {_MAX_KEY_FILE} bytes")
    try:
        body = loads_object(data, what=f"key file {target}", max_bytes=_MAX_KEY_FILE)
    except JSONError as exc:
        raise InvalidKey(f"key file {target} is not a strict JSON object: {exc}") from exc
    if "ssiWalletKeyFile" not in body:
        return PrivateKey.from_jwk(body)
    if passphrase is None:
        raise KeyFileError(
            f"key file {target} is encrypted; a passphrase is needed", "passphrase_needed"
        )
    try:
        n, r, p = int(body["n"]), int(body["r"]), int(body["p"])
        if not (2 <= n <= _MAX_SCRYPT_N and 1 <= r <= 32 and 1 <= p <= 16) or n & (n - 1):
            raise InvalidKey("key file has out-of-range scrypt parameters")
        salt = b64url_decode(body["salt"], max_length=64)
        nonce = b64url_decode(body["nonce"], max_length=32)
        sealed = b64url_decode(body["ciphertext"], max_length=_MAX_KEY_FILE)
    except (KeyError, TypeError, ParseError) as exc:
        raise InvalidKey(f"key file {target} is malformed: {exc}") from exc
    try:
        plain = AESGCM(_kdf(passphrase, salt, n, r, p)).decrypt(
            nonce, sealed, b"ssi-wallet key file v1"
        )
    except (InvalidTag, ValueError) as exc:
        raise KeyFileError(f"wrong passphrase for key file {target}", "wrong_passphrase") from exc
    try:
        jwk = loads_object(plain, what=f"key in key file {target}", max_bytes=_MAX_KEY_FILE)
    except JSONError as exc:
        raise InvalidKey(f"key file {target} does not hold a JWK: {exc}") from exc
    return PrivateKey.from_jwk(jwk)
