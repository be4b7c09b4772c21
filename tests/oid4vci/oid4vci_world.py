"""An OpenID4VCI issuer served by uvicorn on 127.0.0.1, and a wallet that talks to it over HTTP.

A module of its own (not conftest.py) so the tests import it by a name no other
test folder uses; conftest.py holds the fixture.
"""

from __future__ import annotations

import http.client
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

pytest.importorskip("uvicorn")


from credentials import schemas
from ledger.facade import Ledger
from ssi_wallet import Holder, Issuer
from ssi_wallet.oid4vci import CredentialIssuer
from ssi_wallet.oid4vci.wallet import HttpResponse, WalletClient

TOKEN = "back-office-token-for-tests"


class SocketTransport:
    """A test transport over http.client: one request, no redirects followed, bounded reads."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes | None]] = []

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None = None,
        max_bytes: int = 4 << 20,
    ) -> HttpResponse:
        self.requests.append((method, url, dict(headers), body))
        parts = urlsplit(url)
        assert parts.scheme == "http" and parts.hostname == "127.0.0.1"
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
        try:
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            conn.request(method, target, body=body, headers=dict(headers))
            reply = conn.getresponse()
            data = reply.read(max_bytes + 1)
            assert len(data) <= max_bytes
            return HttpResponse(reply.status, {k.lower(): v for k, v in reply.getheaders()}, data)
        finally:
            conn.close()


@dataclass
class World:
    ledger: Ledger
    ministry: Issuer
    service: CredentialIssuer
    base: str
    wallet: Holder
    transport: SocketTransport
    offset: list[float]

    def advance(self, seconds: float) -> None:
        """Move the issuer's clock (not the wallet's) by ``seconds``."""
        self.offset[0] += seconds

    def client(self, **kw: Any) -> WalletClient:
        return WalletClient(self.wallet, self.transport, unsafe_allow_http=True, **kw)

    @staticmethod
    def claims(type_name: str = "WorkPermit") -> dict[str, Any]:
        claims = schemas.example_subject(type_name)
        claims.pop("id")
        return claims

    def call(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> HttpResponse:
        return self.transport.request(method, self.base + path, headers=headers or {}, body=body)
