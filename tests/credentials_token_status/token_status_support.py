"""Shared helpers for the Token Status List tests: did:key parties and a fixed instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.key import did_key_from_public_key

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LIST_URI = "https://status.ministry.example/lists/1"


@dataclass(frozen=True)
class Party:
    """A key and the did:key DID URL naming it."""

    key: PrivateKey
    did: str
    kid: str


def make_party(seed: int, key_type: KeyType = KeyType.ED25519) -> Party:
    key = PrivateKey.generate(key_type, randbytes=lambda n: bytes([seed]) * n)
    did = did_key_from_public_key(key.public_key)
    return Party(key, did, f"{did}#{did.removeprefix('did:key:')}")
