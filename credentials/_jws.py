"""Compact JWS (RFC 7515) for the asymmetric algorithms we accept: a sharp tool.

This module signs and checks compact JWS strings on top of
:mod:`did_methods.keys`. It knows nothing of credentials, issuers or
expiry: callers (:mod:`credentials.sd_jwt`, :mod:`credentials.jose`) decide
which key to use and what the claims mean.

What it guarantees:

* the ``alg`` of a token is checked against an allow-list (``EdDSA``,
  ``ES256``, ``ES384``, ``ES512``) and against the key type *before* any cryptography
  runs, so ``none``, every ``HS*``/``RS*``/``PS*`` algorithm and an ``ES256``
  header on an Ed25519 key are refused without touching the signature;
* parsing is strict and bounded: three base64url parts (strictly decoded),
  a JSON object header and payload with no duplicate member names and no
  ``NaN``/``Infinity``, a size limit checked before decoding, and a refusal of
  ``crit`` (we understand no extension) and of unencoded payloads (``b64``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, Protocol

from did_methods._wire.b64 import b64url_decode as b64d
from did_methods._wire.b64 import b64url_encode as b64e
from did_methods._wire.json import loads
from did_methods.did import DIDURL
from did_methods.document import VerificationMethod
from did_methods.errors import (
    InvalidDID,
    ParseError,
    ResolutionError,
    SSIWalletError,
    VerificationError,
)
from did_methods.keys import KeyType, PrivateKey, PublicKey

__all__ = [
    "ALG_KEY_TYPES",
    "MAX_JWS_LENGTH",
    "CompactJWS",
    "MethodResolver",
    "absolute_kid",
    "b64d",
    "b64e",
    "check_alg",
    "dumps",
    "encode_json",
    "loads",
    "method_key",
    "resolve_key",
    "sign_compact",
]

#: The signature algorithms we accept, and the key type each one requires.
ALG_KEY_TYPES: Mapping[str, KeyType] = {
    "EdDSA": KeyType.ED25519,
    "ES256": KeyType.P256,
    "ES384": KeyType.P384,
    "ES512": KeyType.P521,
}

#: Longest compact JWS we parse (characters); far beyond any credential we issue.
MAX_JWS_LENGTH = 1_000_000

#: Deepest JSON nesting we accept in a header or payload.
MAX_JSON_DEPTH = 64


#: Seconds of clock skew tolerated, by default, for a token's or proof's own times
#: (``iat``, ``nbf``, ``exp``, a Key Binding JWT's ``iat``, a Data Integrity proof's
#: ``created``/``expires``), the same in every format. A credential's validity
#: period (``validFrom``/``validUntil``) is the issuer's statement and gets none.
DEFAULT_CLOCK_SKEW: Final = 60.0


def _not_json(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _make_encode_json() -> Callable[[Any], str]:
    # The C encoder built once: JSONEncoder.encode builds a new one on every call.
    # Without its circular-reference markers (which a failed call could leave
    # stale), a cycle ends in RecursionError, which dumps() reports like the rest.
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has the C encoder
        return json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
    native = make(
        None, _not_json, json.encoder.encode_basestring, None, ":", ",", False, False, False
    )

    def encode(value: Any) -> str:
        return "".join(native(value, 0))

    return encode


#: Compact JSON text (no spaces, non-ASCII kept, NaN refused); one encoder, built once.
encode_json = _make_encode_json()


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON (no spaces, non-ASCII kept), as we sign it.

    Raises :class:`ParseError` for values JSON cannot hold (NaN, infinities,
    non-string keys of the wrong type, sets, objects, circular references).
    """
    try:
        return encode_json(value).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise ParseError(f"value cannot be serialised as JSON: {exc}") from exc


def check_alg(alg: Any, key: PublicKey | KeyType | None = None) -> KeyType:
    """Check ``alg`` against the allow-list (and the key, when given) before any crypto.

    Returns the key type the algorithm needs. Raises :class:`VerificationError`
    ``alg_not_allowed`` for ``none``, HMAC, RSA or any unknown value and
    ``alg_key_mismatch`` when the key is of another type.
    """
    if not isinstance(alg, str) or alg not in ALG_KEY_TYPES:
        shown = alg[:20] if isinstance(alg, str) else type(alg).__name__
        raise VerificationError("alg_not_allowed", f"JWS algorithm {shown!r} is not allowed")
    needed = ALG_KEY_TYPES[alg]
    if key is not None:
        key_type = key if isinstance(key, KeyType) else key.key_type
        if key_type is not needed:
            raise VerificationError(
                "alg_key_mismatch", f"JWS algorithm {alg} does not fit a {key_type.value} key"
            )
    return needed


@dataclass(frozen=True, slots=True)
class CompactJWS:
    """A parsed, *unverified* compact JWS.

    ``header`` and ``payload`` are what the token claims until
    :meth:`verify` returns; ``signing_input`` is the exact ASCII text that was
    signed (``header_b64 + "." + payload_b64``).
    """

    header: Mapping[str, Any]
    payload: Any
    payload_bytes: bytes
    signing_input: bytes
    signature: bytes

    @classmethod
    def parse(
        cls, text: str, *, max_length: int = MAX_JWS_LENGTH, json_payload: bool = True
    ) -> CompactJWS:
        """Parse ``header.payload.signature`` strictly; raise :class:`ParseError`.

        With ``json_payload`` the payload must be a JSON object (a JWT claims
        set); otherwise ``payload`` is the raw bytes.
        """
        if not isinstance(text, str):
            raise ParseError(f"a compact JWS must be a string, not {type(text).__name__}")
        if len(text) > max_length:
            raise ParseError(f"compact JWS is longer than {max_length} characters")
        parts = text.split(".")
        if len(parts) != 3:
            raise ParseError("a compact JWS has exactly three dot-separated parts")
        h64, p64, s64 = parts
        if not h64 or not s64:
            raise ParseError("a compact JWS needs a header and a signature")
        header = loads(b64d(h64), what="JWS header", max_depth=MAX_JSON_DEPTH)
        if not isinstance(header, dict):
            raise ParseError("the JWS header must be a JSON object")
        if "crit" in header:
            raise ParseError("JWS header 'crit' names extensions we do not understand")
        if "b64" in header:
            raise ParseError("unencoded JWS payloads (b64) are not supported")
        payload_bytes = b64d(p64)
        payload: Any = payload_bytes
        if json_payload:
            payload = loads(payload_bytes, what="JWS payload", max_depth=MAX_JSON_DEPTH)
            if not isinstance(payload, dict):
                raise ParseError("the JWS payload must be a JSON object")
        return cls(
            header,
            payload,
            payload_bytes,
            (h64 + "." + p64).encode("ascii"),
            b64d(s64),
        )

    @property
    def alg(self) -> Any:
        """The unverified ``alg`` header value (any JSON type)."""
        return self.header.get("alg")

    def verify(self, key: PublicKey) -> None:
        """Verify the signature with ``key``; return None or raise.

        The algorithm is checked against the allow-list and the key type first
        (:func:`check_alg`); then :class:`VerificationError`
        ``signature_invalid`` if the signature does not hold.
        """
        check_alg(self.alg, key)
        key.verify(self.signature, self.signing_input)


def sign_compact(header: Mapping[str, Any], payload: bytes, key: PrivateKey) -> str:
    """Sign ``payload`` as a compact JWS; ``alg`` is set from the key type.

    ``header`` must not carry its own ``alg`` (it would be overwritten);
    raises :class:`UnsupportedError` for keys that cannot sign (X25519).
    """
    full = {"alg": key.key_type.jws_alg, **{k: v for k, v in header.items() if k != "alg"}}
    signing_input = b64e(dumps(full)) + "." + b64e(payload)
    signature = key.sign(signing_input.encode("ascii"))
    return signing_input + "." + b64e(signature)


class MethodResolver(Protocol):
    """What verification needs from a DID resolver (``did_methods.resolver.Resolver`` fits).

    ``verification_method`` returns the method named by an absolute DID URL
    when its controller's document lists it under ``purpose``; it raises
    :class:`ResolutionError` when it cannot resolve and
    :class:`VerificationError` ``key_not_authorised`` when the method is not
    authorised for that purpose.
    """

    def verification_method(self, did_url: str, purpose: str) -> VerificationMethod: ...


def absolute_kid(kid: Any, issuer: str) -> str:
    """The absolute DID URL a ``kid`` names, checked to belong to ``issuer``.

    A relative ``#fragment`` is resolved against ``issuer``. Raises
    :class:`VerificationError` ``kid_invalid`` when ``kid`` is not a DID URL
    with a fragment, and ``kid_not_issuer`` when its DID is not ``issuer``.
    """
    if not isinstance(kid, str) or not kid:
        raise VerificationError("kid_invalid", "the JWS header has no 'kid' naming a DID URL")
    if len(kid) + len(issuer) <= _KID_CACHE_LENGTH:
        return _absolute_kid_cached(kid, issuer)
    return _absolute_kid(kid, issuer)


# A verifier sees the same few (kid, issuer) pairs again and again; the answer is a
# pure function of the two strings (a refusal raises and is not cached). Only short
# pairs are kept, so that the cache holds at most 256 x 1 KB whatever tokens come in.
_KID_CACHE_LENGTH = 1024


def _absolute_kid(kid: str, issuer: str) -> str:
    ref: str = issuer + kid if kid.startswith("#") else kid
    try:
        url = DIDURL.parse(ref)
    except InvalidDID as exc:
        raise VerificationError("kid_invalid", f"'kid' is not a DID URL: {exc}") from exc
    if url.fragment is None and not url.path and url.query is None:
        raise VerificationError("kid_invalid", "'kid' must name a verification method")
    if str(url.did) != issuer:
        raise VerificationError(
            "kid_not_issuer", f"'kid' belongs to {str(url.did)[:80]}, not to issuer {issuer[:80]}"
        )
    return ref


_absolute_kid_cached = lru_cache(maxsize=256)(_absolute_kid)


def resolve_key(resolver: MethodResolver, kid: str, purpose: str) -> PublicKey:
    """The public key of verification method ``kid`` authorised for ``purpose``.

    Raises :class:`VerificationError`: ``key_unresolved`` when the DID cannot
    be resolved or the method is not found, ``key_not_authorised`` when the
    method is not listed under ``purpose``, ``key_unsupported`` when its key
    cannot be read.
    """
    try:
        method = resolver.verification_method(kid, purpose)
    except VerificationError:
        raise
    except ResolutionError as exc:
        raise VerificationError("key_unresolved", f"cannot resolve {kid[:120]}: {exc}") from exc
    except SSIWalletError as exc:
        raise VerificationError("key_unresolved", f"cannot dereference {kid[:120]}: {exc}") from exc
    return method_key(method)


def method_key(method: VerificationMethod) -> PublicKey:
    """The public key of ``method``; ``key_unsupported`` when it cannot be read."""
    try:
        return method.public_key
    except SSIWalletError as exc:
        raise VerificationError(
            "key_unsupported", f"cannot use key {method.id[:120]}: {exc}"
        ) from exc
