"""The ``did:jwk`` method: a DID that is a base64url-encoded public JWK.

The document follows the did:jwk specification: one ``JsonWebKey2020``
verification method ``#0`` whose ``publicKeyJwk`` is the decoded JWK; its
relationships follow the JWK's ``use`` (``enc``: key agreement only; ``sig``:
everything but key agreement; absent: all, except that an X25519 key only
agrees keys).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from did_methods._wire.json import loads
from did_methods.did import DID
from did_methods.document import DID_CONTEXT, DIDDocument
from did_methods.encoding import b64url_decode, b64url_encode
from did_methods.errors import InvalidKey, ParseError, ResolutionError
from did_methods.keys import KeyType, PublicKey
from did_methods.resolver import ResolutionResult

__all__ = ["JwkMethod", "did_jwk_document", "did_jwk_from_jwk"]

_JWS_2020_CONTEXT = "https://w3id.org/security/suites/jws-2020/v1"
_MAX_JWK_CHARS = 2048
_ALL = ("assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation")


def did_jwk_from_jwk(jwk: Mapping[str, Any] | PublicKey) -> str:
    """The ``did:jwk`` DID for a public JWK (compact UTF-8 JSON, base64url)."""
    members = jwk.to_jwk() if isinstance(jwk, PublicKey) else dict(jwk)
    PublicKey.from_jwk(members)  # validates, and refuses private members
    text = json.dumps(members, separators=(",", ":"), ensure_ascii=False)
    return "did:jwk:" + b64url_encode(text.encode("utf-8"))


def _decode(did: DID) -> tuple[dict[str, Any], PublicKey]:
    try:
        raw = b64url_decode(did.method_specific_id, max_length=_MAX_JWK_CHARS)
        jwk = loads(raw, what="did:jwk", max_bytes=_MAX_JWK_CHARS)
    except ParseError as exc:
        raise ResolutionError("invalidDid", f"did:jwk is not base64url JSON: {exc}") from exc
    if not isinstance(jwk, dict):
        raise ResolutionError("invalidDid", "did:jwk must encode a JSON object")
    try:
        key = PublicKey.from_jwk(jwk)
    except InvalidKey as exc:
        raise ResolutionError(
            "invalidDid", f"did:jwk does not hold a usable public JWK: {exc}"
        ) from exc
    return jwk, key


def did_jwk_document(did: str | DID) -> DIDDocument:
    """The DID document of a ``did:jwk``; raises :class:`ResolutionError` (``invalidDid``)."""
    parsed = did if isinstance(did, DID) else DID.parse(did)
    jwk, key = _decode(parsed)
    did_text = str(parsed)
    vm_id = f"{did_text}#0"
    data: dict[str, Any] = {
        "@context": [DID_CONTEXT, _JWS_2020_CONTEXT],
        "id": did_text,
        "verificationMethod": [
            {"id": vm_id, "type": "JsonWebKey2020", "controller": did_text, "publicKeyJwk": jwk}
        ],
    }
    use = jwk.get("use")
    if use == "enc" or key.key_type is KeyType.X25519:
        purposes: tuple[str, ...] = ("keyAgreement",)
    elif use == "sig":
        purposes = _ALL
    else:
        purposes = (*_ALL, "keyAgreement")
    for purpose in purposes:
        data[purpose] = [vm_id]
    return DIDDocument.from_json(data)


class JwkMethod:
    """Resolves ``did:jwk`` DIDs locally (no I/O)."""

    name = "jwk"

    def resolve(self, did: DID, options: Mapping[str, Any]) -> ResolutionResult:
        """Decode the JWK and build its document."""
        return ResolutionResult.found(did_jwk_document(did))
