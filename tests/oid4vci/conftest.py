"""The ``world`` fixture: see oid4vci_world.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("uvicorn")

from oid4vci_world import World, live_world


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    yield from live_world()
