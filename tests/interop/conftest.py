"""Fixtures for the interop tests: the Node harness installed once per session, and
harness services that are stopped when each test ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from interop_support import NodeService, install_harness


@pytest.fixture(scope="session")
def harness() -> Path:
    """interop/openid4vc with node_modules installed from its lock file (npm ci)."""
    return install_harness()


@pytest.fixture
def node_service(harness: Path) -> Iterator[Any]:
    """Starts harness services; every one started is stopped when the test ends."""
    started: list[NodeService] = []

    def start(script: str, *args: str) -> NodeService:
        service = NodeService(harness, script, *args)
        started.append(service)
        return service

    yield start
    for service in started:
        service.close()
