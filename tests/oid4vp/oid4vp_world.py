"""An issuer, a holder and the verifiers of the OpenID4VP tests, over one in-memory ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from credentials import schemas
from did_methods.keys import PrivateKey
from did_methods.methods.key import did_key_from_public_key
from ledger.facade import Ledger
from ssi_wallet import Holder, Issuer, Verifier
from ssi_wallet.oid4vp import DIDClient, OID4VPVerifier, RedirectURIClient
from ssi_wallet.oid4vp.verifier import ClientIdentity


@dataclass
class World:
    ledger: Ledger
    ministry: Issuer
    wallet: Holder
    verifier_key: PrivateKey
    verifier_did: str

    def work_claims(self) -> dict[str, Any]:
        claims = schemas.example_subject("WorkPermit")
        claims.pop("id")
        return claims

    def store(self, fmt: str = "sd-jwt") -> None:
        issued = self.ministry.issue(
            "WorkPermit",
            subject=self.wallet.did,
            claims=self.work_claims(),
            format=fmt,  # type: ignore[arg-type]
        )
        self.wallet.store(issued.credential)

    def did_client(self) -> DIDClient:
        kid = f"{self.verifier_did}#{self.verifier_did.removeprefix('did:key:')}"
        return DIDClient(self.verifier_did, self.verifier_key, kid)

    def oid4vp(
        self, client: ClientIdentity | None = None, *, base: str = "https://verifier.example"
    ) -> OID4VPVerifier:
        client = client or self.did_client()
        verifier = Verifier(
            self.ledger, audience=client.client_id, status_fetcher=self.ministry.board
        )
        return OID4VPVerifier(
            verifier,
            client,
            response_uri=f"{base}/oid4vp/response",
            request_uri_base=f"{base}/oid4vp/requests/",
        )

    def redirect_client(self, base: str = "https://verifier.example") -> RedirectURIClient:
        return RedirectURIClient(f"{base}/oid4vp/response")


def _make_world() -> World:
    root = PrivateKey.generate()
    ledger = Ledger.open(":memory:", key=root)
    ministry = Issuer.create(ledger, name="Ausländerbehörde Leipzig")
    ledger.accredit(ministry.did, types=["WorkPermit"], by=root, jurisdiction="DE")
    wallet = Holder.create(":memory:", passphrase="amina's passphrase", resolver=ledger.resolver())
    key = PrivateKey.generate()
    return World(ledger, ministry, wallet, key, did_key_from_public_key(key.public_key))


@pytest.fixture
def world() -> World:
    return _make_world()


@pytest.fixture(scope="module")
def world_once() -> World:
    """One world for a module's property tests (hypothesis reruns a test, not a fixture)."""
    return _make_world()


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC)
