"""The ``did:key`` method (W3C CCG did:key v0.9): a DID that *is* a public key.

``did:key:<Multikey>`` for Ed25519, X25519, P-256 and P-384. The document
uses Multikey verification methods, as the current specification's examples
do; an Ed25519 key also gets its derived X25519 ``keyAgreement`` key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from did_methods.did import DID
from did_methods.document import DID_CONTEXT_V1_1, DIDDocument
from did_methods.errors import InvalidKey, ResolutionError
from did_methods.keys import KeyType, PublicKey
from did_methods.resolver import ResolutionResult

__all__ = ["KeyMethod", "did_key_document", "did_key_from_public_key", "public_key_from_did_key"]

_SIGNING = ("authentication", "assertionMethod", "capabilityDelegation", "capabilityInvocation")


def did_key_from_public_key(key: PublicKey) -> str:
    """The ``did:key`` DID of a public key."""
    return "did:key:" + key.to_multikey()


def public_key_from_did_key(did: str | DID) -> PublicKey:
    """The key a ``did:key`` encodes; raises :class:`InvalidKey` or :class:`InvalidDID`."""
    parsed = did if isinstance(did, DID) else DID.parse(did)
    if parsed.method != "key":
        raise InvalidKey(f"not a did:key DID: {parsed}")
    return PublicKey.from_multikey(parsed.method_specific_id)


def _vm(did: str, key: PublicKey) -> dict[str, Any]:
    multikey = key.to_multikey()
    return {
        "id": f"{did}#{multikey}",
        "type": "Multikey",
        "controller": did,
        "publicKeyMultibase": multikey,
    }


def did_key_document(key: PublicKey) -> DIDDocument:
    """The DID document of a ``did:key`` (Multikey shape of the current spec)."""
    did = did_key_from_public_key(key)
    vm = _vm(did, key)
    data: dict[str, Any] = {"@context": [DID_CONTEXT_V1_1], "id": did, "verificationMethod": [vm]}
    if key.key_type is KeyType.X25519:
        data["keyAgreement"] = [vm["id"]]
        return DIDDocument.from_json(data)
    for purpose in _SIGNING:
        data[purpose] = [vm["id"]]
    if key.key_type is KeyType.ED25519:
        data["keyAgreement"] = [_vm(did, key.to_x25519())]
    else:
        data["keyAgreement"] = [vm["id"]]
    return DIDDocument.from_json(data)


class KeyMethod:
    """Resolves ``did:key`` DIDs locally (no I/O)."""

    name = "key"

    def resolve(self, did: DID, options: Mapping[str, Any]) -> ResolutionResult:
        """Build the document from the key in the DID; ``invalidDid`` if it holds no valid key."""
        try:
            key = public_key_from_did_key(did)
        except InvalidKey as exc:
            raise ResolutionError(
                "invalidDid", f"did:key does not hold a supported key: {exc}"
            ) from exc
        return ResolutionResult.found(did_key_document(key))
