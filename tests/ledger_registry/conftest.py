"""Fixtures of the registry tests: a settable clock and a ledger in memory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ledger_registry_support import FakeClock

from did_methods.keys import KeyType, PrivateKey
from ledger.facade import Ledger


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def root_key() -> PrivateKey:
    return PrivateKey.generate(KeyType.ED25519)


@pytest.fixture
def ledger(clock: FakeClock, root_key: PrivateKey) -> Iterator[Ledger]:
    with Ledger.open(":memory:", key=root_key, origin="test.example/registry", clock=clock) as led:
        yield led
