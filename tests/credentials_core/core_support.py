"""Helpers for the credentials_core tests: keys, DIDs, an in-memory DID method."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from did_methods.did import DID
from did_methods.document import DIDDocument, VerificationMethod
from did_methods.errors import ResolutionError
from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.key import did_key_from_public_key
from did_methods.resolver import ResolutionResult, Resolver

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
V2 = "https://www.w3.org/ns/credentials/v2"


def load(relative: str) -> Any:
    return json.loads((VECTORS / relative).read_text(encoding="utf-8"))


def text(relative: str) -> str:
    return (VECTORS / relative).read_text(encoding="utf-8").strip()


def seeded_key(key_type: KeyType, seed: int) -> PrivateKey:
    """A deterministic key (tests only)."""
    counter = iter(range(seed * 1000, seed * 1000 + 1000))

    def randbytes(n: int) -> bytes:
        return bytes((next(counter) * 37 + i) % 256 for i in range(n))

    return PrivateKey.generate(key_type, randbytes=randbytes)


def did_key(key: PrivateKey) -> tuple[str, str]:
    """(did, verification method id) of a did:key."""
    did = did_key_from_public_key(key.public_key)
    return did, f"{did}#{key.public_key.to_multikey()}"


def credential(issuer: str, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": [V2, "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:9a1b0c6e-3f2d-4b5e-8c7a-1d2e3f4a5b6c",
        "type": ["VerifiableCredential", "WorkPermit"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2027-06-30T23:59:59Z",
        "credentialSubject": {
            "id": "did:example:amina",
            "givenName": "Amina",
            "sector": "healthcare",
            "hoursPerWeek": 40,
        },
    }
    doc.update(extra)
    return doc


class MemoryMethod:
    """An in-memory DID method ``did:mem`` whose documents the test writes."""

    name = "mem"

    def __init__(self) -> None:
        self.documents: dict[str, DIDDocument] = {}

    def add(
        self, did: str, key: PrivateKey, *, purposes: tuple[str, ...], fragment: str = "key-1"
    ) -> str:
        vm = VerificationMethod.from_public_key(
            key.public_key, controller=did, id=f"{did}#{fragment}"
        )
        self.documents[did] = DIDDocument.build(
            did,
            verification_methods=(vm,),
            relationships={purpose: (vm.id,) for purpose in purposes},
        )
        return vm.id

    def resolve(self, did: DID, options: Mapping[str, Any]) -> ResolutionResult:
        document = self.documents.get(str(did))
        if document is None:
            raise ResolutionError("notFound", f"{did} is not in memory")
        return ResolutionResult.found(document)


def resolver_with_memory() -> tuple[Resolver, MemoryMethod]:
    resolver = Resolver.default()
    memory = MemoryMethod()
    resolver.register(memory)
    return resolver, memory
