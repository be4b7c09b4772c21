"""Encrypted Credential Requests and Responses (OpenID4VCI 1.0 section 10), sans-IO.

On top of TLS, a Credential (or Deferred Credential) Request and its Response
may travel as a JWT encrypted to the other side (media type
``application/jwt``): a compact JWE (RFC 7516) whose plaintext is the JSON
message. We implement the one key agreement HAIP names, ``ECDH-ES`` (direct,
RFC 7518 section 4.6) with ``A128GCM`` or ``A256GCM``, through
:mod:`credentials.jwe`; no compression (``zip`` is refused: a decompression
bomb is not worth the bytes it saves).

* **Responses.** The wallet puts ``credential_response_encryption``
  (``jwk``: a public key with ``alg``; ``enc``; optionally ``zip``) in its
  request; the issuer reads it with :func:`read_response_encryption` (every
  refusal ``invalid_encryption_parameters``) and encrypts its answer with
  :func:`encrypt_message`, the JWE carrying the key's ``kid`` when it has
  one. The wallet opens it with :func:`decrypt_message`.
* **Requests.** The issuer publishes ``credential_request_encryption``
  (a JWK Set whose keys each have a ``kid``, the ``enc`` values, whether it is
  required: :class:`RequestDecryption`); the wallet picks a key
  (:func:`choose_request_key`) and encrypts the request to it; the issuer
  decrypts it (:meth:`RequestDecryption.open`).

Section 10 asks that the JWE ``alg`` equal the ``alg`` of the chosen JWK and
that the JWE ``kid`` equal the key's ``kid``: both are checked on decryption.
Error responses are never encrypted (8.3.1).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from credentials.jwe import DEFAULT_ENCS, decrypt_compact, encrypt_compact
from credentials.jws import dumps
from did_methods._wire.json import loads
from did_methods.errors import SSIWalletError
from did_methods.keys import KeyType, PrivateKey, PublicKey
from ssi_wallet.oid4vci.errors import OID4VCIError
from ssi_wallet.oid4vci.proofs import read_public_jwk

__all__ = [
    "ENCRYPTION_ALG",
    "ENCRYPTION_ENCS",
    "JWT_MEDIA_TYPE",
    "MAX_ENCRYPTED_REQUEST",
    "EncryptionParameters",
    "RequestDecryption",
    "choose_request_key",
    "decrypt_message",
    "encrypt_message",
    "read_response_encryption",
    "response_encryption_request",
]

#: The JWE ``alg`` we use and accept (direct ECDH-ES key agreement).
ENCRYPTION_ALG: Final = "ECDH-ES"
#: The JWE ``enc`` values we use and accept (HAIP's two).
ENCRYPTION_ENCS: Final = tuple(DEFAULT_ENCS)
#: The media type of an encrypted request or response.
JWT_MEDIA_TYPE: Final = "application/jwt"
#: Longest encrypted Credential Request an issuer decrypts (characters).
MAX_ENCRYPTED_REQUEST: Final = 512 * 1024
#: Most keys in a ``credential_request_encryption`` JWK Set a wallet looks at.
MAX_JWKS_KEYS: Final = 16
# Key types ECDH-ES agrees with here (Ed25519 signs only).
_AGREEMENT: Final = (KeyType.P256, KeyType.P384, KeyType.P521, KeyType.X25519)
_MAX_KID: Final = 256


def _refuse(message: str) -> OID4VCIError:
    return OID4VCIError("invalid_encryption_parameters", message)


@dataclass(frozen=True, slots=True)
class EncryptionParameters:
    """A checked ``credential_response_encryption``: encrypt to ``key`` with ``enc``.

    ``kid`` is the JWK's ``kid`` (the JWE must repeat it), ``None`` if it had none.
    """

    key: PublicKey
    enc: str
    kid: str | None = None


def _public_key(jwk: Any, what: str) -> tuple[PublicKey, str | None]:
    key = read_public_jwk(jwk, what, "invalid_encryption_parameters")
    kid = jwk.get("kid")
    if kid is not None and (not isinstance(kid, str) or not kid or len(kid) > _MAX_KID):
        raise _refuse(f"{what}'s kid must be a short non-empty string")
    if key.key_type not in _AGREEMENT:
        raise _refuse(f"{what} is a {key.key_type.value} key: ECDH-ES needs an EC or X25519 key")
    return key, kid


def read_response_encryption(
    value: Any,
    *,
    algs: Collection[str] = (ENCRYPTION_ALG,),
    encs: Collection[str] = ENCRYPTION_ENCS,
) -> EncryptionParameters:
    """Check a request's ``credential_response_encryption`` against what the issuer offers.

    ``jwk`` must be a public key (no private member) of a type ECDH-ES agrees
    with, carrying an ``alg`` among ``algs`` (section 10: "The ``alg``
    parameter MUST be present"); ``enc`` one of ``encs``; ``zip`` absent (we
    compress nothing). Raises ``invalid_encryption_parameters``.
    """
    if not isinstance(value, Mapping):
        raise _refuse("credential_response_encryption must be an object")
    if "zip" in value:
        raise _refuse("this issuer compresses nothing: leave zip out")
    key, kid = _public_key(value.get("jwk"), "credential_response_encryption.jwk")
    alg = value["jwk"].get("alg")
    if not isinstance(alg, str) or alg not in algs:
        raise _refuse(
            f"credential_response_encryption.jwk needs an alg of {', '.join(sorted(algs))}"
        )
    enc = value.get("enc")
    if not isinstance(enc, str) or enc not in encs:
        raise _refuse(f"credential_response_encryption.enc must be one of {', '.join(encs)}")
    return EncryptionParameters(key, enc, kid)


def response_encryption_request(key: PrivateKey, enc: str, *, kid: str) -> dict[str, Any]:
    """The ``credential_response_encryption`` a wallet sends for its (fresh) ``key``."""
    jwk = {**key.public_key.to_jwk(), "kid": kid, "use": "enc", "alg": ENCRYPTION_ALG}
    return {"jwk": jwk, "enc": enc}


def encrypt_message(message: Mapping[str, Any], to: EncryptionParameters) -> str:
    """``message`` (a JSON object) as a compact JWE to ``to.key`` (``ECDH-ES``, ``to.enc``)."""
    return encrypt_compact(dumps(dict(message)), to.key, enc=to.enc, kid=to.kid)


def decrypt_message(
    token: Any,
    key: PrivateKey,
    *,
    kid: str | None,
    encs: Collection[str] = ENCRYPTION_ENCS,
    max_length: int = MAX_ENCRYPTED_REQUEST,
    code: str = "invalid_encryption_parameters",
) -> dict[str, Any]:
    """Decrypt a message sent to ``key``; its JSON object. Raises :class:`OID4VCIError` ``code``.

    The JWE must name ``kid`` when the key has one (section 10), use ``alg``
    ``ECDH-ES`` and an ``enc`` of ``encs``; the plaintext must be a strict,
    bounded JSON object.
    """
    try:
        opened = decrypt_compact(token, key, encs=encs, max_length=max_length)
    except SSIWalletError as exc:
        raise OID4VCIError(code, f"the encrypted message cannot be opened: {exc}") from exc
    if kid is not None and opened.header.get("kid") != kid:
        raise OID4VCIError(code, "the JWE's kid is not the one of the key it was sent to")
    try:
        value = loads(opened.plaintext, what="the decrypted message", max_depth=32)
    except SSIWalletError as exc:
        raise OID4VCIError(code, f"the decrypted message is not strict JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise OID4VCIError(code, "the decrypted message must be a JSON object")
    return value


@dataclass(frozen=True, slots=True)
class RequestDecryption:
    """An issuer's ``credential_request_encryption``: its decryption key, ``enc`` values, policy.

    ``key`` is a private EC (or X25519) key kept for this purpose only, named
    ``kid`` in the published JWK Set; with ``required`` a clear request is refused.
    """

    key: PrivateKey
    kid: str
    encs: tuple[str, ...] = ENCRYPTION_ENCS
    required: bool = False

    def __post_init__(self) -> None:
        if self.key.key_type not in _AGREEMENT:
            raise OID4VCIError(
                "invalid_configuration", "a request decryption key must be an EC or X25519 key"
            )
        if not self.encs or not set(self.encs) <= set(ENCRYPTION_ENCS):
            raise OID4VCIError(
                "invalid_configuration", f"encs must be some of {', '.join(ENCRYPTION_ENCS)}"
            )

    def metadata(self) -> dict[str, Any]:
        """The ``credential_request_encryption`` member of the issuer metadata."""
        jwk = {**self.key.public_key.to_jwk(), "kid": self.kid, "use": "enc"}
        jwk["alg"] = ENCRYPTION_ALG
        return {
            "jwks": {"keys": [jwk]},
            "enc_values_supported": list(self.encs),
            "encryption_required": self.required,
        }

    def open(self, token: Any) -> dict[str, Any]:
        """The decrypted request; ``invalid_encryption_parameters`` if it cannot be opened."""
        if not isinstance(token, str):
            raise _refuse("an encrypted request is a compact JWE string")
        return decrypt_message(token, self.key, kid=self.kid, encs=self.encs)


def choose_request_key(
    metadata: Any, encs: Sequence[str] = ENCRYPTION_ENCS
) -> tuple[PublicKey, str, str]:
    """The key, its ``kid`` and the ``enc`` a wallet encrypts its request with.

    Reads an issuer's ``credential_request_encryption`` (hostile input):
    ``jwks.keys`` (at most :data:`MAX_JWKS_KEYS` looked at), each with a
    ``kid``; the first public EC/X25519 key whose ``alg`` is ``ECDH-ES``; the
    first of our ``encs`` the issuer lists. Raises ``invalid_issuer_metadata``.
    """

    def bad(message: str) -> OID4VCIError:
        return OID4VCIError("invalid_issuer_metadata", message)

    if not isinstance(metadata, Mapping):
        raise bad("credential_request_encryption must be an object")
    offered = metadata.get("enc_values_supported")
    if not isinstance(offered, list) or not offered:
        raise bad("credential_request_encryption.enc_values_supported must be a non-empty array")
    enc = next((e for e in encs if e in offered), None)
    if enc is None:
        raise bad("the issuer decrypts requests with no enc we use")
    jwks = metadata.get("jwks")
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list) or not keys:
        raise bad("credential_request_encryption.jwks must be a JWK Set with keys")
    for jwk in keys[:MAX_JWKS_KEYS]:
        if not isinstance(jwk, Mapping) or jwk.get("alg") != ENCRYPTION_ALG:
            continue
        if jwk.get("use", "enc") != "enc":
            continue
        try:
            key, kid = _public_key(jwk, "a request encryption key")
        except OID4VCIError:
            continue
        if kid is None:
            raise bad("each key of credential_request_encryption.jwks must have a kid")
        return key, kid, enc
    raise bad("credential_request_encryption.jwks has no public ECDH-ES key we can use")
