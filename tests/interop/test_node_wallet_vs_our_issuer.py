"""The OpenWallet Foundation's OpenID4VCI wallet (the Node harness) against OUR issuer.

Our Credential Issuer (``ssi_wallet.server.oid4vci`` under uvicorn on 127.0.0.1)
makes a pre-authorized code offer with a transaction code; ``wallet-receive.mjs``,
built on ``@openid4vc/openid4vci``, resolves it, takes a DPoP-bound token, proves
possession of keys it generated and receives the credentials. Each credential must
then verify with OUR library and be bound to the key the Node wallet proved.

Our issuer signs with a ``did:ledger`` key, a method only our ledger resolves; the
harness is handed that one DID's public key (``--did-keys``), as a verifier's trust
list would hold it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn")

from _live_server import bind_free_socket, serve_asgi
from interop_support import run_node

from credentials import schemas, verify_credential
from credentials.sd_jwt import SdJwt
from did_methods.http import HttpFetcher
from did_methods.keys import PrivateKey, PublicKey
from ledger.facade import Ledger
from ssi_wallet import Issuer
from ssi_wallet.oid4vci import CredentialIssuer
from ssi_wallet.server.oid4vci import create_app

TOKEN = "back-office-token-for-the-interop-tests"


@dataclass
class OurIssuer:
    ledger: Ledger
    ministry: Issuer
    service: CredentialIssuer
    base: str
    did_keys: Path

    def offer(self, configuration_ids: list[str], **kw: Any) -> Any:
        claims = schemas.example_subject("WorkPermit")
        claims.pop("id")
        return self.service.offer(configuration_ids, claims={"WorkPermit": claims}, **kw)


@pytest.fixture(scope="module")
def our_issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OurIssuer]:
    root = PrivateKey.generate()
    ledger = Ledger.open(":memory:", key=root)
    sock = bind_free_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    ministry = Issuer.create(ledger, name="Migrationsamt", status_base=f"{base}/status")
    ledger.accredit(ministry.did, types=list(schemas.CREDENTIAL_TYPES), by=root, jurisdiction="DE")
    service = CredentialIssuer(ministry, base, batch_size=4)
    app = create_app(service, token=TOKEN, max_body_bytes=64 * 1024)
    did_keys = tmp_path_factory.mktemp("interop") / "did-keys.json"
    did_keys.write_text(json.dumps({ministry.did: ministry.public_key.to_jwk()}))
    with serve_asgi(app, sock=sock):
        yield OurIssuer(ledger, ministry, service, base, did_keys)


def _receive(harness: Path, issuer: OurIssuer, offer: Any, *extra: str) -> Any:
    return run_node(
        harness,
        "wallet-receive.mjs",
        offer.uri,
        "--did-keys",
        str(issuer.did_keys),
        "--trust-issuer",
        issuer.ministry.did,
        *extra,
    )


def _verify_with_our_library(issuer: OurIssuer, credential: str, fmt: str) -> Any:
    fetcher = HttpFetcher(allow_http=True, allow_private=True)  # our status list on 127.0.0.1
    result = verify_credential(
        credential,
        formats=fmt,
        credential_type="WorkPermit",
        resolver=issuer.ledger.resolver(),
        status=fetcher,
    )
    assert result.valid, result.explain()
    return result


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_node_wallet_receives_sd_jwt_and_jwt_vc_json_from_our_issuer(
    harness: Path, our_issuer: OurIssuer, alg: str
) -> None:
    offer = our_issuer.offer(["WorkPermit.sd_jwt", "WorkPermit.jwt_vc_json"], tx_code=True)
    assert offer.tx_code  # sent to the person by another channel
    got = _receive(harness, our_issuer, offer, "--tx-code", offer.tx_code, "--alg", alg)
    assert got.ok, got.output
    assert got.output["dpop"] is True  # our AS advertises DPoP; the Node wallet used it
    by_format = {c["format"]: c for c in got.output["credentials"]}
    assert sorted(by_format) == ["dc+sd-jwt", "jwt_vc_json"]

    # the SD-JWT VC: valid for our library, issued by our issuer, bound to the Node key
    sd = by_format["dc+sd-jwt"]
    result = _verify_with_our_library(our_issuer, sd["credential"], "dc+sd-jwt")
    assert result.issuer == our_issuer.ministry.did
    cnf = SdJwt.parse(sd["credential"]).unverified_payload["cnf"]["jwk"]
    assert PublicKey.from_jwk(cnf) == PublicKey.from_jwk(sd["holder_jwk"])

    # the JWT VC: valid for our library, its subject the Node wallet's key
    jwt = by_format["jwt_vc_json"]
    result = _verify_with_our_library(our_issuer, jwt["credential"], "jwt_vc_json")
    assert result.issuer == our_issuer.ministry.did
    assert jwt["checked"]["bound_to_key"] == 0


def test_node_wallet_batch_gets_one_credential_per_key(
    harness: Path, our_issuer: OurIssuer
) -> None:
    offer = our_issuer.offer(["WorkPermit.sd_jwt"], tx_code=True)
    got = _receive(harness, our_issuer, offer, "--tx-code", offer.tx_code, "--batch", "3")
    assert got.ok, got.output
    credentials = got.output["credentials"]
    assert len(credentials) == 3
    # three distinct holder keys, three distinct credentials, each bound to its own key
    holder_keys = {json.dumps(c["holder_jwk"], sort_keys=True) for c in credentials}
    assert len(holder_keys) == 3
    assert len({c["credential"] for c in credentials}) == 3
    for credential in credentials:
        _verify_with_our_library(our_issuer, credential["credential"], "dc+sd-jwt")
        cnf = SdJwt.parse(credential["credential"]).unverified_payload["cnf"]["jwk"]
        assert PublicKey.from_jwk(cnf) == PublicKey.from_jwk(credential["holder_jwk"])


def test_offer_by_value_without_tx_code(harness: Path, our_issuer: OurIssuer) -> None:
    offer = our_issuer.offer(["WorkPermit.jwt_vc_json"], tx_code=False, by_reference=False)
    assert "credential_offer=" in offer.uri
    got = _receive(harness, our_issuer, offer)
    assert got.ok, got.output
    _verify_with_our_library(our_issuer, got.output["credentials"][0]["credential"], "jwt_vc_json")


def test_our_issuer_refuses_the_node_wallet_a_wrong_tx_code(
    harness: Path, our_issuer: OurIssuer
) -> None:
    offer = our_issuer.offer(["WorkPermit.sd_jwt"], tx_code=True)
    wrong = "0" * len(offer.tx_code) if offer.tx_code != "0" * len(offer.tx_code) else "1" * 6
    got = _receive(harness, our_issuer, offer, "--tx-code", wrong)
    assert got.returncode == 1
    assert got.output["details"]["errorResponse"]["error"] == "invalid_grant", got.output


def test_our_pre_authorized_code_is_single_use_for_the_node_wallet(
    harness: Path, our_issuer: OurIssuer
) -> None:
    offer = our_issuer.offer(["WorkPermit.sd_jwt"], tx_code=True)
    first = _receive(harness, our_issuer, offer, "--tx-code", offer.tx_code)
    assert first.ok, first.output
    time.sleep(0.1)
    second = _receive(harness, our_issuer, offer, "--tx-code", offer.tx_code)
    assert second.returncode == 1
    assert second.output["details"]["errorResponse"]["error"] == "invalid_grant", second.output
