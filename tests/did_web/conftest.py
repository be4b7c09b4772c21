"""Fixtures for the did:web tests: fresh servers per test, one TLS CA per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from didweb_support import (
    ConnectSpy,
    Site,
    TLSMaterial,
    install_connect_spy,
    make_tls,
    start_site,
    stop_site,
)


@pytest.fixture
def web() -> Iterator[Site]:
    """A plain HTTP server on 127.0.0.1."""
    site, thread = start_site(None)
    yield site
    stop_site(site, thread)


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSMaterial:
    """A throw-away CA and a server certificate for localhost and did.example."""
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_web(tls: TLSMaterial) -> Iterator[Site]:
    """An HTTPS server on 127.0.0.1 with a certificate for localhost and did.example."""
    site, thread = start_site(tls.server_context)
    yield site
    stop_site(site, thread)


@pytest.fixture
def connect_spy(monkeypatch: pytest.MonkeyPatch) -> ConnectSpy:
    """Record connection attempts; only loopback ones go through."""
    return install_connect_spy(monkeypatch)
