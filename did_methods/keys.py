"""Key pairs: Ed25519, P-256, P-384, P-521 and X25519, as Multikey and as JWK.

Public keys are immutable values (:class:`PublicKey`), compared by type and
bytes. Private keys (:class:`PrivateKey`) never show their secret in
``repr``/``str``; the secret leaves the object only through the explicitly
named :meth:`PrivateKey.private_jwk` and :meth:`PrivateKey.secret_multikey`.

Signatures are the raw forms every standard here uses: 64-byte Ed25519
signatures, and ECDSA as fixed-length ``r || s`` (JWS, Data Integrity), with
SHA-256 for P-256 and SHA-384 for P-384.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import nacl.bindings
import nacl.exceptions
import nacl.signing
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from did_methods._wire.secret import NoCopySecret
from did_methods.encoding import (
    b64url_decode,
    b64url_encode,
    multibase_decode,
    multibase_encode,
    varint_decode,
    varint_encode,
)
from did_methods.errors import InvalidKey, UnsupportedError, VerificationError

__all__ = [
    "KeyType",
    "PrivateKey",
    "PublicKey",
    "RandBytes",
    "jwk_signing_refusal",
    "jwk_thumbprint",
]

#: A source of random bytes: ``randbytes(n)`` returns ``n`` bytes.
RandBytes = Callable[[int], bytes]


class KeyType(enum.Enum):
    """The key types we support, named by their JWK ``crv``."""

    ED25519 = "Ed25519"
    X25519 = "X25519"
    P256 = "P-256"
    P384 = "P-384"
    P521 = "P-521"

    @property
    def can_sign(self) -> bool:
        """True for signature keys, False for the key-agreement key X25519."""
        return self is not KeyType.X25519

    @property
    def jws_alg(self) -> str:
        """The JOSE ``alg`` for signatures by this key type."""
        try:
            return _JWS_ALG[self]
        except KeyError:
            raise UnsupportedError(f"{self.value} keys do not sign") from None

    @classmethod
    def parse(cls, name: str) -> KeyType:
        """Parse a user-facing name: ``ed25519``, ``p256``, ``p384``, ``p521``, ``x25519``.

        Raises :class:`UnsupportedError` for any other name.
        """
        normal = name.strip().lower().replace("-", "").replace("_", "")
        for kt in cls:
            if kt.value.lower().replace("-", "") == normal:
                return kt
        raise UnsupportedError(
            f"unknown key type {name!r}: use ed25519, p256, p384, p521 or x25519"
        )


_JWS_ALG = {
    KeyType.ED25519: "EdDSA",
    KeyType.P256: "ES256",
    KeyType.P384: "ES384",
    KeyType.P521: "ES512",
}

# multicodec codes (https://github.com/multiformats/multicodec table.csv)
_PUB_CODEC = {
    KeyType.ED25519: 0xED,
    KeyType.X25519: 0xEC,
    KeyType.P256: 0x1200,
    KeyType.P384: 0x1201,
    KeyType.P521: 0x1202,
}
_PRIV_CODEC = {
    KeyType.ED25519: 0x1300,
    KeyType.X25519: 0x1302,
    KeyType.P256: 0x1306,
    KeyType.P384: 0x1307,
    KeyType.P521: 0x1308,
}
_PUB_PREFIX = {kt: varint_encode(c) for kt, c in _PUB_CODEC.items()}
_PRIV_PREFIX = {kt: varint_encode(c) for kt, c in _PRIV_CODEC.items()}
_BY_PUB_CODEC = {c: kt for kt, c in _PUB_CODEC.items()}
_BY_PRIV_CODEC = {c: kt for kt, c in _PRIV_CODEC.items()}

_EC_CURVE: dict[KeyType, ec.EllipticCurve] = {
    KeyType.P256: ec.SECP256R1(),
    KeyType.P384: ec.SECP384R1(),
    KeyType.P521: ec.SECP521R1(),
}
_EC_HASH: dict[KeyType, Callable[[], hashes.HashAlgorithm]] = {
    KeyType.P256: hashes.SHA256,
    KeyType.P384: hashes.SHA384,
    KeyType.P521: hashes.SHA512,
}
_EC_SIZE = {KeyType.P256: 32, KeyType.P384: 48, KeyType.P521: 66}
# Built once: constructing the signature algorithm object costs a few us per call.
_ECDSA = {kt: ec.ECDSA(make()) for kt, make in _EC_HASH.items()}
_EC_ORDER = {
    KeyType.P256: 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    KeyType.P384: int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
    KeyType.P521: int(
        "1FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "A51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
        16,
    ),
}
_OKP_TYPES = (KeyType.ED25519, KeyType.X25519)
_JWK_MAX_FIELD = 256  # characters in one JWK member: far more than any key here


_THUMBPRINT_MEMBERS = {
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "RSA": ("e", "kty", "n"),
    "oct": ("k", "kty"),
}


def jwk_signing_refusal(jwk: Mapping[str, Any], key: PublicKey) -> VerificationError | None:
    """Why the JWK ``jwk`` (whose key is ``key``) may not verify signatures, or None.

    RFC 7517: ``use`` (4.2) must be ``sig`` when present, ``key_ops`` (4.3) must
    include ``verify`` when present, and ``alg`` (4.4), when present, must be the
    algorithm ``key``'s type signs with. The error's code is ``key_use_forbidden``
    or ``key_alg_mismatch``. Used for JWK Sets and for ``publicKeyJwk`` methods of
    DID documents alike.
    """
    use = jwk.get("use")
    if use is not None and use != "sig":
        return VerificationError("key_use_forbidden", f"the JWK's use is {use!r:.20}, not 'sig'")
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return VerificationError("key_use_forbidden", "the JWK's key_ops do not include 'verify'")
    alg = jwk.get("alg")
    signs_with = _JWS_ALG.get(key.key_type)
    if alg is not None and alg != signs_with:
        return VerificationError(
            "key_alg_mismatch",
            f"the JWK's alg {alg!r:.20} is not {signs_with}, "
            f"the algorithm of a {key.key_type.value} key",
        )
    return None


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 thumbprint (SHA-256, base64url) of any JWK (EC, OKP, RSA or oct).

    Only the required members take part, in lexicographic order, as compact
    JSON. Raises :class:`InvalidKey` when a required member is missing or not
    a string.
    """
    jwk = _check_jwk(jwk)
    kty = jwk.get("kty")
    members = _THUMBPRINT_MEMBERS.get(kty) if isinstance(kty, str) else None
    if members is None:
        raise InvalidKey(f"cannot take the thumbprint of JWK kty {jwk.get('kty')!r}")
    if not all(isinstance(jwk.get(m), str) for m in members):
        raise InvalidKey(f"JWK is missing a required member of {members}")
    data = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), ensure_ascii=False)
    return b64url_encode(hashlib.sha256(data.encode("utf-8")).digest())


def _key_type_from_crv(kty: Any, crv: Any) -> KeyType:
    if kty == "OKP" and crv in ("Ed25519", "X25519"):
        return KeyType(crv)
    if kty == "EC" and crv in ("P-256", "P-384", "P-521"):
        return KeyType(crv)
    raise InvalidKey(f"unsupported JWK kty/crv: {kty!r}/{crv!r}")


def _jwk_bytes(jwk: Mapping[str, Any], name: str, size: int) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise InvalidKey(f"JWK member {name!r} is missing or not a string")
    try:
        raw = b64url_decode(value, max_length=_JWK_MAX_FIELD)
    except InvalidKey:
        raise
    except ValueError as exc:
        raise InvalidKey(f"JWK member {name!r}: {exc}") from exc
    if len(raw) != size:
        raise InvalidKey(f"JWK member {name!r} must be {size} bytes, got {len(raw)}")
    return raw


def _check_jwk(jwk: Any) -> Mapping[str, Any]:
    if not isinstance(jwk, Mapping):
        raise InvalidKey(f"a JWK must be a JSON object, not {type(jwk).__name__}")
    return jwk


@dataclass(frozen=True, slots=True, repr=False)
class PublicKey:
    """A public key: its type and canonical bytes.

    ``raw`` is the 32-byte key for Ed25519 and X25519 and the *compressed*
    SEC1 point for P-256 (33 bytes), P-384 (49 bytes) and P-521 (67 bytes). Build one with
    :meth:`from_raw`, :meth:`from_multikey` or :meth:`from_jwk`; each
    validates the key (on the curve, not of small order) or raises
    :class:`InvalidKey`.
    """

    key_type: KeyType
    raw: bytes
    _native: Any = field(default=None, repr=False, compare=False, hash=False)

    def __repr__(self) -> str:
        return f"PublicKey({self.key_type.value}, {self.to_multikey()})"

    # -- construction -------------------------------------------------------------

    @classmethod
    def from_raw(cls, key_type: KeyType, data: bytes) -> PublicKey:
        """Validate raw key bytes (EC points compressed or uncompressed)."""
        if not isinstance(data, bytes | bytearray):
            raise InvalidKey("raw key must be bytes")
        data = bytes(data)
        if key_type is KeyType.ED25519:
            if len(data) != 32:
                raise InvalidKey(f"Ed25519 public key must be 32 bytes, got {len(data)}")
            if not nacl.bindings.crypto_core_ed25519_is_valid_point(data):
                raise InvalidKey("Ed25519 public key is not a valid point of prime order")
            return cls(key_type, data, nacl.signing.VerifyKey(data))
        if key_type is KeyType.X25519:
            if len(data) != 32:
                raise InvalidKey(f"X25519 public key must be 32 bytes, got {len(data)}")
            return cls(key_type, data, x25519.X25519PublicKey.from_public_bytes(data))
        size = _EC_SIZE[key_type]
        if len(data) not in (size + 1, 2 * size + 1):
            raise InvalidKey(f"{key_type.value} point must be {size + 1} or {2 * size + 1} bytes")
        try:
            native = ec.EllipticCurvePublicKey.from_encoded_point(_EC_CURVE[key_type], data)
        except ValueError as exc:
            raise InvalidKey(f"{key_type.value} point is not on the curve") from exc
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        compressed = native.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
        return cls(key_type, compressed, native)

    @classmethod
    def from_multikey(cls, value: str) -> PublicKey:
        """Decode a Multikey ``publicKeyMultibase`` value (``z`` + base58btc)."""
        try:
            data = multibase_decode(value)
            codec, n = varint_decode(data)
        except InvalidKey:
            raise
        except ValueError as exc:
            raise InvalidKey(f"invalid Multikey: {exc}") from exc
        key_type = _BY_PUB_CODEC.get(codec)
        if key_type is None:
            raise InvalidKey(f"unsupported Multikey codec 0x{codec:x}")
        raw = data[n:]
        if key_type in _EC_SIZE and len(raw) != _EC_SIZE[key_type] + 1:
            raise InvalidKey(f"{key_type.value} Multikey must hold a compressed point")
        return cls.from_raw(key_type, raw)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> PublicKey:
        """Read a public JWK (RFC 7517; OKP per RFC 8037, EC per RFC 7518).

        A JWK that carries private material (``d``) is refused: use
        :meth:`PrivateKey.from_jwk` to read private keys.
        """
        jwk = _check_jwk(jwk)
        if "d" in jwk:
            raise InvalidKey("a public JWK must not contain the private member 'd'")
        key_type = _key_type_from_crv(jwk.get("kty"), jwk.get("crv"))
        if key_type in _OKP_TYPES:
            return cls.from_raw(key_type, _jwk_bytes(jwk, "x", 32))
        size = _EC_SIZE[key_type]
        x = _jwk_bytes(jwk, "x", size)
        y = _jwk_bytes(jwk, "y", size)
        return cls.from_raw(key_type, b"\x04" + x + y)

    # -- encodings ----------------------------------------------------------------

    def to_multikey(self) -> str:
        """Encode as a Multikey ``publicKeyMultibase`` value."""
        return multibase_encode(_PUB_PREFIX[self.key_type] + self.raw)

    def to_jwk(self) -> dict[str, str]:
        """Encode as a public JWK with only the required members."""
        if self.key_type in _OKP_TYPES:
            return {"kty": "OKP", "crv": self.key_type.value, "x": b64url_encode(self.raw)}
        x, y = self._ec_xy()
        return {
            "kty": "EC",
            "crv": self.key_type.value,
            "x": b64url_encode(x),
            "y": b64url_encode(y),
        }

    def jwk_thumbprint(self) -> str:
        """The RFC 7638 JWK thumbprint (SHA-256, base64url)."""
        return jwk_thumbprint(self.to_jwk())

    def _ec_xy(self) -> tuple[bytes, bytes]:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        point = self._native.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        size = _EC_SIZE[self.key_type]
        return point[1 : 1 + size], point[1 + size :]

    # -- operations ---------------------------------------------------------------

    def verify(self, signature: bytes, message: bytes) -> None:
        """Check a signature over ``message``; return None or raise.

        Raises :class:`VerificationError` with code ``signature_invalid`` for a
        wrong or malformed signature, :class:`UnsupportedError` for X25519.
        """
        kt = self.key_type
        if kt is KeyType.ED25519:
            if len(signature) != 64:
                raise VerificationError("signature_invalid", "Ed25519 signature must be 64 bytes")
            try:
                # the binding itself (VerifyKey.verify adds only checks made here)
                nacl.bindings.crypto_sign_open(signature + message, self.raw)
            except nacl.exceptions.BadSignatureError:
                raise VerificationError(
                    "signature_invalid", "Ed25519 signature does not verify"
                ) from None
            return
        if kt is KeyType.X25519:
            raise UnsupportedError("X25519 keys cannot verify signatures")
        size = _EC_SIZE[kt]
        if len(signature) != 2 * size:
            raise VerificationError(
                "signature_invalid", f"{kt.value} signature must be {2 * size} bytes (r || s)"
            )
        r = int.from_bytes(signature[:size], "big")
        s = int.from_bytes(signature[size:], "big")
        try:
            self._native.verify(encode_dss_signature(r, s), message, _ECDSA[kt])
        except InvalidSignature:
            raise VerificationError(
                "signature_invalid", f"{kt.value} signature does not verify"
            ) from None

    def to_x25519(self) -> PublicKey:
        """Map an Ed25519 public key to its X25519 counterpart (RFC 7748 birational map)."""
        if self.key_type is not KeyType.ED25519:
            raise UnsupportedError("only Ed25519 keys map to X25519")
        return PublicKey.from_raw(
            KeyType.X25519, nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(self.raw)
        )


class PrivateKey(NoCopySecret):
    """A private key with its public key. The secret never appears in ``repr``."""

    __slots__ = ("_native", "_secret", "_sodium_secret", "key_type", "public_key")

    key_type: KeyType
    public_key: PublicKey

    def __init__(self, key_type: KeyType, secret: bytes) -> None:
        """Build from the raw secret: a 32-byte seed (Ed25519, X25519) or an EC scalar."""
        if not isinstance(secret, bytes | bytearray):
            raise InvalidKey("private key material must be bytes")
        secret = bytes(secret)
        self.key_type = key_type
        if key_type is KeyType.ED25519:
            if len(secret) != 32:
                raise InvalidKey("Ed25519 private key (seed) must be 32 bytes")
            native: Any = nacl.signing.SigningKey(secret)
            pub = PublicKey.from_raw(key_type, bytes(native.verify_key))
            # libsodium's 64-byte secret key (seed || public key): signing calls
            # the binding directly, without SigningKey's SignedMessage wrapper.
            self._sodium_secret = nacl.bindings.crypto_sign_seed_keypair(secret)[1]
        elif key_type is KeyType.X25519:
            if len(secret) != 32:
                raise InvalidKey("X25519 private key must be 32 bytes")
            native = x25519.X25519PrivateKey.from_private_bytes(secret)
            from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

            pub = PublicKey.from_raw(
                key_type, native.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            )
        else:
            size = _EC_SIZE[key_type]
            if len(secret) != size:
                raise InvalidKey(f"{key_type.value} private key must be {size} bytes")
            scalar = int.from_bytes(secret, "big")
            if not 0 < scalar < _EC_ORDER[key_type]:
                raise InvalidKey(f"{key_type.value} private scalar is out of range")
            native = ec.derive_private_key(scalar, _EC_CURVE[key_type])
            from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

            pub = PublicKey.from_raw(
                key_type,
                native.public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint),
            )
        self._secret = secret
        self._native = native
        self.public_key = pub

    # -- construction -------------------------------------------------------------

    @classmethod
    def generate(
        cls, key_type: KeyType = KeyType.ED25519, *, randbytes: RandBytes = os.urandom
    ) -> PrivateKey:
        """Generate a fresh key from ``randbytes`` (default: the OS CSPRNG)."""
        if key_type in _EC_SIZE:
            size = _EC_SIZE[key_type]
            order = _EC_ORDER[key_type]
            # Rejection sampling over the order's bit length (P-521's 66 bytes hold 528
            # bits: the top 7 are cleared, else 127 of 128 candidates would be refused).
            top = (1 << (order.bit_length() - 8 * (size - 1))) - 1
            for _ in range(64):
                candidate = randbytes(size)
                candidate = bytes([candidate[0] & top]) + candidate[1:]
                if 0 < int.from_bytes(candidate, "big") < order:
                    return cls(key_type, candidate)
            raise InvalidKey("random source produced no valid scalar in 64 tries")
        return cls(key_type, randbytes(32))

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> PrivateKey:
        """Read a private JWK (with ``d``); the public members must match it."""
        jwk = _check_jwk(jwk)
        key_type = _key_type_from_crv(jwk.get("kty"), jwk.get("crv"))
        size = 32 if key_type in _OKP_TYPES else _EC_SIZE[key_type]
        key = cls(key_type, _jwk_bytes(jwk, "d", size))
        public = {k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y")}
        if public != key.public_key.to_jwk():
            raise InvalidKey("JWK public members do not match its private key")
        return key

    @classmethod
    def from_secret_multikey(cls, value: str) -> PrivateKey:
        """Decode a secret Multikey (``secretKeyMultibase``, e.g. ``z3u2...``)."""
        try:
            data = multibase_decode(value)
            codec, n = varint_decode(data)
        except ValueError as exc:
            raise InvalidKey("invalid secret Multikey") from exc
        key_type = _BY_PRIV_CODEC.get(codec)
        if key_type is None:
            raise InvalidKey(f"unsupported secret Multikey codec 0x{codec:x}")
        return cls(key_type, data[n:])

    # -- encodings (the secret leaves only through these) -------------------------

    def private_jwk(self) -> dict[str, str]:
        """The private JWK (public members plus ``d``). Handle the result as a secret."""
        jwk = self.public_key.to_jwk()
        jwk["d"] = b64url_encode(self._secret)
        return jwk

    def secret_multikey(self) -> str:
        """The secret Multikey (``secretKeyMultibase``). Handle the result as a secret."""
        return multibase_encode(_PRIV_PREFIX[self.key_type] + self._secret)

    # -- operations ---------------------------------------------------------------

    def sign(self, message: bytes) -> bytes:
        """Sign ``message``: Ed25519 (64 bytes) or ECDSA ``r || s`` with the curve's hash."""
        kt = self.key_type
        if kt is KeyType.ED25519:
            return nacl.bindings.crypto_sign(message, self._sodium_secret)[:64]
        if kt is KeyType.X25519:
            raise UnsupportedError("X25519 keys cannot sign")
        der = self._native.sign(message, _ECDSA[kt])
        r, s = decode_dss_signature(der)
        size = _EC_SIZE[kt]
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")

    def exchange(self, peer: PublicKey) -> bytes:
        """Key agreement with ``peer``: the shared secret Z.

        X25519 (RFC 7748): 32 bytes. P-256, P-384, P-521: ECDH per SEC 1
        section 3.3.1, Z the x-coordinate of the shared point (32, 48, 66
        bytes), as JWE's ECDH-ES uses it (RFC 7518 section 4.6.2). Both keys must
        be of one type. Raises :class:`UnsupportedError` for Ed25519 or mixed
        types and :class:`InvalidKey` when X25519 yields all zeros (a
        small-order peer); EC peers are validated when built (on the curve).
        """
        if self.key_type is not peer.key_type or self.key_type is KeyType.ED25519:
            raise UnsupportedError(
                "key agreement needs two X25519 keys or two EC keys of one curve"
            )
        if self.key_type in _EC_SIZE:
            ecdh: bytes = self._native.exchange(ec.ECDH(), peer._native)
            return ecdh
        try:
            shared: bytes = self._native.exchange(peer._native)
        except ValueError as exc:
            raise InvalidKey("X25519 peer key yields an all-zero shared secret") from exc
        return shared

    def to_x25519(self) -> PrivateKey:
        """The X25519 private key that matches :meth:`PublicKey.to_x25519` of an Ed25519 key."""
        if self.key_type is not KeyType.ED25519:
            raise UnsupportedError("only Ed25519 keys map to X25519")
        sk = nacl.bindings.crypto_sign_ed25519_sk_to_curve25519(bytes(self._native._signing_key))
        return PrivateKey(KeyType.X25519, sk)

    def __repr__(self) -> str:
        return f"PrivateKey({self.key_type.value}, public={self.public_key.to_multikey()})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PrivateKey):
            return NotImplemented
        return self.public_key == other.public_key and self._secret == other._secret

    def __hash__(self) -> int:
        return hash(self.public_key)
