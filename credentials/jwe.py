"""Compact JWE (RFC 7516) with ECDH-ES direct key agreement (RFC 7518): a sharp tool.

What OpenID4VP's ``direct_post.jwt`` (encrypted responses) and HAIP need,
and nothing more: one key management algorithm and three content
encryptions, on P-256 (and P-384/P-521) or X25519 (RFC 8037 section 3.2).

* :func:`encrypt_compact`: RFC 7516 section 5.1 for ``alg`` ``ECDH-ES``
  (RFC 7518 section 4.6, "Direct Key Agreement": a fresh ephemeral key,
  ``epk`` in the header, an empty JWE Encrypted Key) and ``enc`` ``A128GCM``
  or ``A256GCM`` (RFC 7518 section 5.3; 96-bit IV, 128-bit tag) or
  ``A128CBC-HS256`` (section 5.2.3);
* :func:`decrypt_compact`: RFC 7516 section 5.2, with the header checked
  before any cryptography (:func:`check_header`);
* :func:`concat_kdf`: the Concat KDF of NIST SP 800-56A section 5.8.1 as
  RFC 7518 section 4.6.2 parameterises it (SHA-256; AlgorithmID the ``enc``
  value for direct agreement; PartyUInfo/PartyVInfo from ``apu``/``apv``;
  SuppPubInfo the key length in bits; SuppPrivInfo empty).

What it refuses (header checks, in order, before the key agreement):

1. anything but five dot-separated parts, or more than ``max_length``
   characters (:data:`MAX_JWE_LENGTH` by default);
2. a protected header that is not a strict JSON object of at most
   :data:`MAX_HEADER_BYTES` bytes;
3. ``crit`` (we understand no extension) and ``zip`` (no compression: a
   decompression bomb is not worth the bytes it saves);
4. an ``alg`` other than ``ECDH-ES`` and an ``enc`` outside the caller's
   allow-list (``A128GCM`` and ``A256GCM`` by default);
5. a non-empty JWE Encrypted Key (direct agreement has none);
6. an ``epk`` that is not a public key of the recipient key's type (a point
   off the curve, private members, another curve);
7. ``apu``/``apv`` that are not short base64url strings; an IV or tag of the
   wrong length.

Errors: :class:`JWEError` (a :class:`ParseError`) for malformed input, with a
stable ``code`` (``jwe_malformed``, ``jwe_too_large``, ``jwe_header_invalid``,
``jwe_epk_invalid``); :class:`UnsupportedError` for algorithms and features
we refuse (``jwe_alg_unsupported``, ``jwe_enc_unsupported``,
``jwe_zip_unsupported``, ``jwe_crit_unsupported``); :class:`VerificationError`
``jwe_decryption_failed`` when the tag does not verify (wrong key, tampering):
one code for every such failure, so a padding oracle learns nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from credentials._jws import b64e, dumps
from did_methods._wire.b64 import b64url_decode
from did_methods._wire.json import loads_object
from did_methods.errors import ParseError, SSIWalletError, UnsupportedError, VerificationError
from did_methods.keys import KeyType, PrivateKey, PublicKey, RandBytes

__all__ = [
    "DEFAULT_ENCS",
    "ENC_KEY_BYTES",
    "MAX_HEADER_BYTES",
    "MAX_JWE_LENGTH",
    "DecryptedJWE",
    "JWEError",
    "check_header",
    "concat_kdf",
    "decrypt_compact",
    "encrypt_compact",
]

#: Content encryption algorithms and their key lengths (octets), RFC 7518 section 5.1.
ENC_KEY_BYTES: Final[Mapping[str, int]] = {"A128GCM": 16, "A256GCM": 32, "A128CBC-HS256": 32}
#: What :func:`decrypt_compact` accepts unless told otherwise (HAIP's two).
DEFAULT_ENCS: Final = ("A128GCM", "A256GCM")
#: Longest compact JWE we parse (characters).
MAX_JWE_LENGTH: Final = 1_000_000
#: Largest protected header we read (bytes of JSON).
MAX_HEADER_BYTES: Final = 8192
_MAX_PARTY_INFO = 512  # characters of apu/apv
_IV_BYTES = {"A128GCM": 12, "A256GCM": 12, "A128CBC-HS256": 16}
_TAG_BYTES = 16
_AGREEMENT_TYPES = (KeyType.P256, KeyType.P384, KeyType.P521, KeyType.X25519)
_RESERVED = frozenset({"alg", "enc", "epk", "zip", "crit"})


class JWEError(ParseError):
    """A JWE that cannot be read; ``code`` says why (stable)."""

    def __init__(self, message: str, code: str = "jwe_malformed") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class DecryptedJWE:
    """What :func:`decrypt_compact` returns: the protected header and the plaintext.

    The header was integrity-protected by the tag (it is the AAD), so it is
    what the sender wrote; who the sender is, ECDH-ES does not say.
    """

    header: Mapping[str, Any]
    plaintext: bytes


def concat_kdf(z: bytes, *, algorithm_id: str, key_bytes: int, apu: bytes, apv: bytes) -> bytes:
    """RFC 7518 section 4.6.2: ``key_bytes`` octets of key from the shared secret ``z``.

    OtherInfo is ``AlgorithmID || PartyUInfo || PartyVInfo || SuppPubInfo``,
    each of the first three a 32-bit big-endian length and the octets
    (AlgorithmID the ASCII of ``algorithm_id``: the ``enc`` value for direct
    agreement), SuppPubInfo the key length in bits (32-bit big-endian).
    Round ``i`` (from 1) hashes ``counter(i) || z || OtherInfo`` with SHA-256.
    """
    if not 0 < key_bytes <= 64:
        raise ValueError("concat_kdf derives 1 to 64 octets here")
    alg = algorithm_id.encode("ascii")
    other = b"".join(struct.pack(">I", len(part)) + part for part in (alg, apu, apv))
    other += struct.pack(">I", key_bytes * 8)
    out = b""
    counter = 1
    while len(out) < key_bytes:
        out += hashlib.sha256(struct.pack(">I", counter) + z + other).digest()
        counter += 1
    return out[:key_bytes]


def _cek(z: bytes, enc: str, apu: bytes, apv: bytes) -> bytes:
    return concat_kdf(z, algorithm_id=enc, key_bytes=ENC_KEY_BYTES[enc], apu=apu, apv=apv)


# -- content encryption (RFC 7518 section 5) -------------------------------------------


def _cbc_hs256_tag(mac_key: bytes, aad: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    al = struct.pack(">Q", len(aad) * 8)  # section 5.2.2.1 step 4
    return hmac.new(mac_key, aad + iv + ciphertext + al, hashlib.sha256).digest()[:16]


def _seal(enc: str, key: bytes, iv: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    if enc == "A128CBC-HS256":  # RFC 7518 section 5.2.2.1
        mac_key, enc_key = key[:16], key[16:]
        padder = padding.PKCS7(128).padder()
        padded = padder.update(plaintext) + padder.finalize()
        encryptor = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).encryptor()
        ciphertext = encryptor.update(padded) + encryptor.finalize()
        return ciphertext, _cbc_hs256_tag(mac_key, aad, iv, ciphertext)
    sealed = AESGCM(key).encrypt(iv, plaintext, aad)  # section 5.3
    return sealed[:-_TAG_BYTES], sealed[-_TAG_BYTES:]


def _open(enc: str, key: bytes, iv: bytes, ciphertext: bytes, tag: bytes, aad: bytes) -> bytes:
    failed = VerificationError("jwe_decryption_failed", "the JWE does not decrypt with this key")
    if enc == "A128CBC-HS256":  # RFC 7518 section 5.2.2.2: the tag first, then decrypt
        mac_key, enc_key = key[:16], key[16:]
        if not hmac.compare_digest(_cbc_hs256_tag(mac_key, aad, iv, ciphertext), tag):
            raise failed
        if not ciphertext or len(ciphertext) % 16:
            raise failed
        decryptor = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        try:
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            raise failed from None
    try:
        return AESGCM(key).decrypt(iv, ciphertext + tag, aad)
    except InvalidTag:
        raise failed from None


# -- encrypt -------------------------------------------------------------------------------


def encrypt_compact(
    plaintext: bytes,
    recipient: PublicKey,
    *,
    enc: str = "A128GCM",
    apu: bytes | None = None,
    apv: bytes | None = None,
    kid: str | None = None,
    header: Mapping[str, Any] | None = None,
    randbytes: RandBytes = os.urandom,
) -> str:
    """Encrypt ``plaintext`` to ``recipient`` as a compact JWE (``alg`` ``ECDH-ES``).

    A fresh ephemeral key of the recipient's type (from ``randbytes``) is
    agreed with ``recipient``; its public key goes in ``epk``. ``apu`` and
    ``apv`` (raw octets) go in the header base64url-encoded and into the KDF;
    ``kid`` names the recipient's key; ``header`` adds other members (``typ``,
    ``cty``...), never ``alg``, ``enc``, ``epk``, ``zip`` or ``crit``.
    Raises :class:`UnsupportedError` for an unknown ``enc`` or a key type that
    cannot agree keys (Ed25519), :class:`ParseError` for a reserved member in
    ``header``.
    """
    if enc not in ENC_KEY_BYTES:
        raise UnsupportedError(f"JWE enc {str(enc)[:20]!r} is not supported", "jwe_enc_unsupported")
    if recipient.key_type not in _AGREEMENT_TYPES:
        raise UnsupportedError(
            f"ECDH-ES needs a P-256/P-384/P-521 or X25519 key, not {recipient.key_type.value}",
            "jwe_alg_unsupported",
        )
    extra = dict(header or {})
    reserved = sorted(_RESERVED.intersection(extra))
    if reserved:
        raise ParseError(f"the JWE header members {reserved} are set by encrypt_compact")
    ephemeral = PrivateKey.generate(recipient.key_type, randbytes=randbytes)
    protected: dict[str, Any] = {**extra, "alg": "ECDH-ES", "enc": enc}
    protected["epk"] = ephemeral.public_key.to_jwk()
    if apu is not None:
        protected["apu"] = b64e(apu)
    if apv is not None:
        protected["apv"] = b64e(apv)
    if kid is not None:
        protected["kid"] = kid
    cek = _cek(ephemeral.exchange(recipient), enc, apu or b"", apv or b"")
    protected_b64 = b64e(dumps(protected))
    iv = randbytes(_IV_BYTES[enc])
    ciphertext, tag = _seal(enc, cek, iv, plaintext, protected_b64.encode("ascii"))
    return ".".join((protected_b64, "", b64e(iv), b64e(ciphertext), b64e(tag)))


# -- decrypt -------------------------------------------------------------------------------


def _b64(text: str, what: str, max_length: int | None = None) -> bytes:
    try:
        return b64url_decode(text, max_length=max_length)
    except ParseError as exc:
        raise JWEError(f"JWE {what}: {exc}") from exc


def _party_info(header: Mapping[str, Any], name: str) -> bytes:
    value = header.get(name)
    if value is None:
        return b""
    if not isinstance(value, str):
        raise JWEError(f"JWE header '{name}' must be a base64url string", "jwe_header_invalid")
    return _b64(value, f"header '{name}'", _MAX_PARTY_INFO)


def check_header(
    header: Mapping[str, Any], key_type: KeyType, *, encs: Collection[str] = DEFAULT_ENCS
) -> PublicKey:
    """Check a JWE protected header for ECDH-ES to a key of ``key_type``; return its ``epk``.

    Steps 3, 4 and 6 of the module docstring. Raises :class:`UnsupportedError`
    or :class:`JWEError` as described there.
    """
    if not isinstance(header, Mapping):
        raise JWEError("a JWE protected header must be a JSON object", "jwe_header_invalid")
    # 3. extensions and compression
    if "crit" in header:
        raise UnsupportedError(
            "JWE header 'crit' names extensions we do not understand", "jwe_crit_unsupported"
        )
    if "zip" in header:
        raise UnsupportedError("compressed JWE (zip) is refused", "jwe_zip_unsupported")
    # 4. algorithms, against the allow-lists
    alg, enc = header.get("alg"), header.get("enc")
    if alg != "ECDH-ES":
        shown = alg[:20] if isinstance(alg, str) else type(alg).__name__
        raise UnsupportedError(f"JWE alg {shown!r} is not accepted", "jwe_alg_unsupported")
    if not isinstance(enc, str) or enc not in encs or enc not in ENC_KEY_BYTES:
        shown = enc[:20] if isinstance(enc, str) else type(enc).__name__
        raise UnsupportedError(f"JWE enc {shown!r} is not accepted", "jwe_enc_unsupported")
    # 6. the ephemeral public key: a public key of the recipient's curve
    epk = header.get("epk")
    if not isinstance(epk, Mapping):
        raise JWEError("JWE header 'epk' must be a JWK object", "jwe_epk_invalid")
    try:
        ephemeral = PublicKey.from_jwk(epk)
    except SSIWalletError as exc:
        raise JWEError(
            f"JWE header 'epk' is not a usable public key: {exc}", "jwe_epk_invalid"
        ) from exc
    if ephemeral.key_type is not key_type:
        raise JWEError(
            f"JWE 'epk' is a {ephemeral.key_type.value} key, the recipient's is {key_type.value}",
            "jwe_epk_invalid",
        )
    return ephemeral


def decrypt_compact(
    token: str,
    key: PrivateKey,
    *,
    encs: Collection[str] = DEFAULT_ENCS,
    max_length: int = MAX_JWE_LENGTH,
) -> DecryptedJWE:
    """Decrypt a compact JWE sent to ``key`` with ``alg`` ``ECDH-ES`` (RFC 7516 section 5.2).

    Every header check runs before the key agreement (see the module
    docstring); ``encs`` narrows or widens the accepted content encryptions
    (``A128CBC-HS256`` only when named). Returns the :class:`DecryptedJWE`;
    raises :class:`JWEError`, :class:`UnsupportedError` or
    :class:`VerificationError` ``jwe_decryption_failed``.
    """
    # 1. five parts, bounded
    if not isinstance(token, str):
        raise JWEError(f"a compact JWE is a string, not {type(token).__name__}")
    if len(token) > max_length:
        raise JWEError(f"compact JWE is longer than {max_length} characters", "jwe_too_large")
    parts = token.split(".")
    if len(parts) != 5:
        raise JWEError("a compact JWE has exactly five dot-separated parts")
    protected_b64, encrypted_key, iv_b64, ciphertext_b64, tag_b64 = parts
    # 2. the protected header: strict JSON, bounded
    raw_header = _b64(protected_b64, "protected header", MAX_HEADER_BYTES * 4 // 3 + 4)
    try:
        header = loads_object(
            raw_header, what="JWE protected header", max_bytes=MAX_HEADER_BYTES, max_depth=8
        )
    except ParseError as exc:
        raise JWEError(f"JWE protected header: {exc}", "jwe_header_invalid") from exc
    # 3., 4., 6.
    ephemeral = check_header(header, key.key_type, encs=encs)
    enc = header["enc"]
    # 5. direct key agreement has no encrypted key
    if encrypted_key:
        raise JWEError("ECDH-ES (direct) has an empty JWE Encrypted Key")
    # 7. party info, IV and tag lengths
    apu, apv = _party_info(header, "apu"), _party_info(header, "apv")
    iv = _b64(iv_b64, "initialization vector", 32)
    tag = _b64(tag_b64, "authentication tag", 32)
    if len(iv) != _IV_BYTES[enc] or len(tag) != _TAG_BYTES:
        raise JWEError(f"JWE IV or tag has the wrong length for {enc}")
    ciphertext = _b64(ciphertext_b64, "ciphertext")
    # 8. key agreement, then authenticated decryption with the header as AAD
    try:
        z = key.exchange(ephemeral)
    except UnsupportedError as exc:
        raise UnsupportedError(
            f"this key cannot decrypt ECDH-ES: {exc}", "jwe_alg_unsupported"
        ) from exc
    except SSIWalletError as exc:  # a small-order X25519 epk
        raise JWEError(f"JWE 'epk' is unusable: {exc}", "jwe_epk_invalid") from exc
    cek = _cek(z, enc, apu, apv)
    plaintext = _open(enc, cek, iv, ciphertext, tag, protected_b64.encode("ascii"))
    return DecryptedJWE(header, plaintext)
