"""Fixtures for the interop tests: the Node harness installed once per session, and
harness services that are stopped when each test ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from interop_support import (
    NodeService,
    install_chromium,
    install_harness,
    node_wallet_receives,
    our_services,
)


@pytest.fixture(scope="session")
def harness() -> Path:
    """interop/openid4vc with node_modules installed from its lock file (npm ci)."""
    return install_harness()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Chromium (Debian's, driven by Python playwright), for the session."""
    executable = install_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        from interop_support import skip_or_fail

        skip_or_fail("the Python package playwright is missing (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        # --no-sandbox: the tests run as root in CI, where Chromium's sandbox refuses to start
        launched = playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            launched.close()


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


@pytest.fixture(scope="module")
def world(harness: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Our issuer and verifier on 127.0.0.1, and the Node wallet's credentials (a work
    permit as dc+sd-jwt and jwt_vc_json) received from our issuer: ``held``."""
    pytest.importorskip("uvicorn")
    folder = tmp_path_factory.mktemp("interop")
    with our_services(folder) as services:
        configurations = ["WorkPermit.sd_jwt", "WorkPermit.jwt_vc_json"]
        held = node_wallet_receives(harness, services, folder, configurations)
        yield {"services": services, "held": held}
