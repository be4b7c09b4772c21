"""Deterministic keys and a realistic residence permit, shared by the benchmark modules."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from credentials.schemas import example_credential
from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.key import did_key_from_public_key

__all__ = ["did_key_method", "key", "residence_permit", "seeded"]


def seeded(label: str) -> Callable[[int], bytes]:
    """A deterministic byte source (SHA-256 in counter mode), so every run uses the same keys."""
    counter = 0

    def randbytes(n: int) -> bytes:
        nonlocal counter
        out = b""
        while len(out) < n:
            out += hashlib.sha256(f"{label}/{counter}".encode()).digest()
            counter += 1
        return out[:n]

    return randbytes


def key(label: str, key_type: KeyType = KeyType.ED25519) -> PrivateKey:
    """The benchmark key named ``label`` (always the same key for the same label)."""
    return PrivateKey.generate(key_type, randbytes=seeded(label))


def did_key_method(private: PrivateKey) -> tuple[str, str]:
    """``(did, verification method id)`` of the ``did:key`` of ``private``."""
    did = did_key_from_public_key(private.public_key)
    return did, f"{did}#{did[len('did:key:') :]}"


def residence_permit(issuer: str) -> dict[str, Any]:
    """An unsigned ResidencePermit of about 1.6 KB of JSON, as a migration authority issues it.

    The vocabulary's example subject, with the members a production credential
    carries besides: an id, names and descriptions, two status entries
    (revocation and suspension) and a schema reference.
    """
    credential = example_credential("ResidencePermit", issuer=issuer)
    status_list = "https://status.migracija.example.lt/lists/2026/7"
    credential["id"] = "urn:uuid:5b9f2c1e-3d4a-4f8b-9c6e-2a7d1e0f4b3c"
    credential["name"] = "Residence permit (temporary, employment)"
    credential["description"] = (
        "Temporary residence permit of the Republic of Lithuania issued under the "
        "Law on the Legal Status of Foreigners, with access to the labour market."
    )
    credential["credentialStatus"] = [
        {
            "id": f"{status_list}#48213",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": "48213",
            "statusListCredential": f"{status_list}/{purpose}",
        }
        for purpose in ("revocation", "suspension")
    ]
    return credential
