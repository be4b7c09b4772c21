"""The ``world`` fixture: see oid4vci_world.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

pytest.importorskip("uvicorn")

from _live_server import bind_free_socket, serve_asgi
from oid4vci_world import TOKEN, SocketTransport, World

from credentials import schemas
from did_methods.keys import PrivateKey
from ledger.facade import Ledger
from ssi_wallet import Holder, Issuer
from ssi_wallet.oid4vci import CredentialIssuer
from ssi_wallet.server.oid4vci import create_app


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    root = PrivateKey.generate()
    ledger = Ledger.open(":memory:", key=root)
    sock = bind_free_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    ministry = Issuer.create(ledger, name="Migrationsamt", status_base=f"{base}/status")
    ledger.accredit(ministry.did, types=list(schemas.CREDENTIAL_TYPES), by=root, jurisdiction="DE")
    offset = [0.0]
    service = CredentialIssuer(
        ministry, base, batch_size=4, clock=lambda: datetime.now(UTC) + timedelta(seconds=offset[0])
    )
    app = create_app(service, token=TOKEN, max_body_bytes=64 * 1024)
    wallet = Holder.create(":memory:", passphrase="amina's passphrase", resolver=ledger.resolver())
    with serve_asgi(app, sock=sock):
        yield World(ledger, ministry, service, base, wallet, SocketTransport(), offset)
