"""Fixtures for the VC-JOSE tests: keys, did:key parties and a resolver."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.key import did_key_from_public_key
from did_methods.resolver import Resolver


@dataclass(frozen=True)
class Party:
    """A key and the did:key DID URL naming it."""

    key: PrivateKey
    did: str
    kid: str


def make_party(key_type: KeyType) -> Party:
    key = PrivateKey.generate(key_type)
    did = did_key_from_public_key(key.public_key)
    return Party(key, did, f"{did}#{did.removeprefix('did:key:')}")


@pytest.fixture(scope="session")
def resolver() -> Resolver:
    return Resolver.default()


@pytest.fixture(scope="session", params=[KeyType.ED25519, KeyType.P256, KeyType.P384, KeyType.P521])
def issuer(request: pytest.FixtureRequest) -> Party:
    return make_party(request.param)


@pytest.fixture(scope="session")
def holder() -> Party:
    return make_party(KeyType.P256)


@pytest.fixture(scope="session")
def new_party() -> type[Party] | object:
    """A factory: ``new_party(KeyType.P256)`` makes a fresh key and did:key."""
    return make_party
