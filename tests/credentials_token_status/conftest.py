"""Fixtures for the Token Status List tests: did:key parties and a resolver."""

from __future__ import annotations

import pytest
from token_status_support import Party, make_party

from did_methods.keys import KeyType
from did_methods.resolver import Resolver


@pytest.fixture(scope="session")
def resolver() -> Resolver:
    return Resolver.default()


@pytest.fixture(scope="session", params=[KeyType.ED25519, KeyType.P256], ids=["EdDSA", "ES256"])
def ministry(request: pytest.FixtureRequest) -> Party:
    return make_party(1, request.param)


@pytest.fixture(scope="session")
def mallory() -> Party:
    return make_party(2)
