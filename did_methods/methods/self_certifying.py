"""DIDs that *are* their key: ``did:key`` and ``did:jwk``, read without any resolution.

One key has several such DIDs: its ``did:key``, and a ``did:jwk`` per JSON spelling
of its JWK (member order, optional members), so two of them name the same key
without being the same string. A holder binding (a credential's subject against
the DID that signed a presentation) compares the keys they name.
"""

from __future__ import annotations

from typing import Any, Final

from did_methods.errors import SSIWalletError
from did_methods.keys import PublicKey

__all__ = ["names_same_key", "self_certifying_key"]

#: Longest DID read here (a did:jwk of a P-521 key is far shorter).
_MAX_DID: Final = 4096


def self_certifying_key(did: Any) -> tuple[PublicKey, str] | None:
    """The key a ``did:key`` or ``did:jwk`` is, and the id of its verification method.

    ``did:key:z...`` gives ``did:key:z...#z...``; ``did:jwk:...`` gives
    ``did:jwk:...#0``. Any other value (another method, a malformed DID, a DID
    URL, a key that cannot be read) gives None; nothing is fetched.
    """
    if not isinstance(did, str) or len(did) > _MAX_DID or "#" in did:
        return None
    try:
        if did.startswith("did:key:"):
            from did_methods.methods.key import public_key_from_did_key

            key = public_key_from_did_key(did)
            return key, f"{did}#{key.to_multikey()}"
        if did.startswith("did:jwk:"):
            from did_methods.methods.jwk import did_jwk_document

            (method,) = did_jwk_document(did).verification_method
            return method.public_key, method.id
    except (SSIWalletError, ValueError):
        return None
    return None


def names_same_key(first: Any, second: Any) -> bool:
    """Whether two DIDs are one, or both a ``did:key``/``did:jwk`` of the same key."""
    if isinstance(first, str) and first == second:
        return True
    one, other = self_certifying_key(first), self_certifying_key(second)
    return one is not None and other is not None and one[0].to_multikey() == other[0].to_multikey()
