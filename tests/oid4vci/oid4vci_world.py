"""An OpenID4VCI issuer served by uvicorn on 127.0.0.1, and a wallet that talks to it over HTTP.

A module of its own (not conftest.py) so the tests import it by a name no other
test folder uses; conftest.py holds the fixture.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

pytest.importorskip("uvicorn")


from _live_server import bind_free_socket, serve_asgi

from credentials import schemas
from credentials.jwe import encrypt_compact
from did_methods.http import HttpFetcher, HttpResponse
from did_methods.keys import KeyType, PrivateKey
from ledger.facade import Ledger
from ssi_wallet import Holder, Issuer
from ssi_wallet.oid4vci import PRE_AUTHORIZED_CODE, CredentialIssuer, make_jwt_proof
from ssi_wallet.oid4vci.encryption import choose_request_key
from ssi_wallet.oid4vci.wallet import WalletClient
from ssi_wallet.server.oid4vci import create_app

TOKEN = "back-office-token-for-tests"


class SocketTransport:
    """The wallet's real HTTP client (HttpFetcher, loopback allowed), recording every request."""

    def __init__(self) -> None:
        self.fetcher = HttpFetcher(allow_loopback=True)
        self.requests: list[tuple[str, str, dict[str, str], bytes | None]] = []

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        max_bytes: int = 4 << 20,
        timeout: float = 20.0,
    ) -> HttpResponse:
        self.requests.append((method, url, dict(headers or {}), body))
        return self.fetcher.request(
            method, url, headers=headers, body=body, max_bytes=max_bytes, timeout=timeout
        )


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

    def client_for(self, holder: Holder, **kw: Any) -> WalletClient:
        return WalletClient(holder, self.transport, unsafe_allow_http=True, **kw)

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


def live_world(**options: Any) -> Iterator[World]:
    """A ledger, an accredited ministry, its issuer on 127.0.0.1 and a wallet (a fixture body).

    ``options`` go to :class:`CredentialIssuer` (encryption, key attestations, ...).
    """
    root = PrivateKey.generate()
    ledger = Ledger.open(":memory:", key=root)
    sock = bind_free_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    ministry = Issuer.create(ledger, name="Migrationsamt", status_base=f"{base}/status")
    ledger.accredit(ministry.did, types=list(schemas.CREDENTIAL_TYPES), by=root, jurisdiction="DE")
    offset = [0.0]
    service = CredentialIssuer(
        ministry,
        base,
        batch_size=4,
        clock=lambda: datetime.now(UTC) + timedelta(seconds=offset[0]),
        **options,
    )
    app = create_app(service, token=TOKEN, max_body_bytes=64 * 1024)
    wallet = Holder.create(":memory:", passphrase="amina's passphrase", resolver=ledger.resolver())
    with serve_asgi(app, sock=sock):
        yield World(ledger, ministry, service, base, wallet, SocketTransport(), offset)


# -- request helpers shared by the test modules --------------------------------------


FORMATS = {"sd_jwt": "dc+sd-jwt", "jwt_vc_json": "jwt_vc_json", "ldp_vc": "ldp_vc"}


def json_of(reply: HttpResponse) -> Any:
    assert reply.headers["content-type"].startswith("application/json"), reply.headers
    return json.loads(reply.body)


def form_post(world: World, path: str, form: dict[str, str]) -> HttpResponse:
    return world.call(
        "POST",
        path,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=urlencode(form).encode(),
    )


def json_post(world: World, path: str, body: Any, token: str | None = None) -> HttpResponse:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return world.call("POST", path, headers=headers, body=json.dumps(body).encode())


def sealed_post(world: World, path: str, body: Any, token: str | None = None) -> HttpResponse:
    """POST ``body`` encrypted (section 10) to the request key the issuer publishes."""
    metadata = json_of(world.call("GET", "/.well-known/openid-credential-issuer"))
    public, kid, enc = choose_request_key(metadata["credential_request_encryption"])
    jwe = encrypt_compact(json.dumps(body).encode(), public, enc=enc, kid=kid)
    headers = {"Content-Type": "application/jwt"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return world.call("POST", path, headers=headers, body=jwe.encode())


def refused(reply: HttpResponse, status: int, error: str) -> dict[str, Any]:
    body = json_of(reply)
    assert reply.status == status, body
    assert body["error"] == error, body
    assert reply.headers.get("cache-control") == "no-store"
    return body


def nonce(world: World) -> str:
    reply = world.call("POST", "/nonce")
    assert reply.status == 200 and reply.headers["cache-control"] == "no-store"
    nonce: str = json_of(reply)["c_nonce"]
    return nonce


def proof(world: World, key: PrivateKey | None = None, **claims: Any) -> str:
    key = key or PrivateKey.generate(KeyType.P256)
    return make_jwt_proof(
        key,
        audience=claims.pop("audience", world.base),
        nonce=claims.pop("nonce", None) or nonce(world),
        now=claims.pop("now", datetime.now(UTC)),
    )


def access_token(world: World, cid: str = "WorkPermit.sd_jwt", claims: Any = None) -> str:
    """A bearer access token for a fresh offer of ``cid`` (no Transaction Code)."""
    type_name = cid.split(".")[0]
    offer = world.service.offer(
        [cid], claims={type_name: claims if claims is not None else world.claims()}, tx_code=False
    )
    form = {
        "grant_type": PRE_AUTHORIZED_CODE,
        "pre-authorized_code": offer.data.pre_authorized_code,
    }
    reply = form_post(world, "/token", form)
    assert reply.status == 200, reply.body
    token: str = json_of(reply)["access_token"]
    return token


def certified_key(*hosts: str) -> tuple[Any, PrivateKey, list[Any]]:
    """A root CA, and a P-256 key with a leaf certificate by it naming ``hosts`` (dNSName SANs).

    Returns the root, the key and the chain (leaf only) for ``x5c`` signers.
    """
    from x509_support import make_cert, p256, usage

    now = datetime.now(UTC)
    valid = {"not_before": now - timedelta(days=1), "not_after": now + timedelta(days=30)}
    root_key, leaf_key = p256(), p256()
    root = make_cert(root_key, root_key, "root", "root", ca=True, usage=usage(ca=True), **valid)
    leaf = make_cert(
        leaf_key, root_key, "issuer", "root", ca=False, san=hosts, usage=usage(sign=True), **valid
    )
    scalar = leaf_key.private_numbers().private_value.to_bytes(32, "big")
    return root, PrivateKey(KeyType.P256, scalar), [leaf]
