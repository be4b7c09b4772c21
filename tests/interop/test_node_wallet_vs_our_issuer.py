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
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn")

from interop_support import OurServices, our_services, run_node, verify_with_our_library

from credentials.sd_jwt import SdJwt
from did_methods.keys import PublicKey


@pytest.fixture(scope="module")
def our_issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OurServices]:
    with our_services(tmp_path_factory.mktemp("interop")) as services:
        yield services


def _receive(harness: Path, issuer: OurServices, offer: Any, *extra: str) -> Any:
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


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_node_wallet_receives_sd_jwt_and_jwt_vc_json_from_our_issuer(
    harness: Path, our_issuer: OurServices, alg: str
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
    result = verify_with_our_library(our_issuer, sd["credential"], "dc+sd-jwt")
    assert result.issuer == our_issuer.ministry.did
    cnf = SdJwt.parse(sd["credential"]).unverified_payload["cnf"]["jwk"]
    assert PublicKey.from_jwk(cnf) == PublicKey.from_jwk(sd["holder_jwk"])

    # the JWT VC: valid for our library, its subject the Node wallet's key
    jwt = by_format["jwt_vc_json"]
    result = verify_with_our_library(our_issuer, jwt["credential"], "jwt_vc_json")
    assert result.issuer == our_issuer.ministry.did
    assert jwt["checked"]["bound_to_key"] == 0


def test_node_wallet_batch_gets_one_credential_per_key(
    harness: Path, our_issuer: OurServices
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
        verify_with_our_library(our_issuer, credential["credential"], "dc+sd-jwt")
        cnf = SdJwt.parse(credential["credential"]).unverified_payload["cnf"]["jwk"]
        assert PublicKey.from_jwk(cnf) == PublicKey.from_jwk(credential["holder_jwk"])


def test_node_wallet_batch_with_a_nonce_per_proof(harness: Path, our_issuer: OurServices) -> None:
    """A wallet that fetches a fresh c_nonce for every proof of a batch is served too."""
    offer = our_issuer.offer(["WorkPermit.sd_jwt"], tx_code=True)
    got = _receive(
        harness, our_issuer, offer, "--tx-code", offer.tx_code, "--batch", "2", "--nonce-per-proof"
    )
    assert got.ok, got.output
    assert len(got.output["credentials"]) == 2
    for credential in got.output["credentials"]:
        verify_with_our_library(our_issuer, credential["credential"], "dc+sd-jwt")


def test_offer_by_value_without_tx_code(harness: Path, our_issuer: OurServices) -> None:
    offer = our_issuer.offer(["WorkPermit.jwt_vc_json"], tx_code=False, by_reference=False)
    assert "credential_offer=" in offer.uri
    got = _receive(harness, our_issuer, offer)
    assert got.ok, got.output
    verify_with_our_library(our_issuer, got.output["credentials"][0]["credential"], "jwt_vc_json")


def test_our_issuer_refuses_the_node_wallet_a_wrong_tx_code(
    harness: Path, our_issuer: OurServices
) -> None:
    offer = our_issuer.offer(["WorkPermit.sd_jwt"], tx_code=True)
    wrong = "0" * len(offer.tx_code) if offer.tx_code != "0" * len(offer.tx_code) else "1" * 6
    got = _receive(harness, our_issuer, offer, "--tx-code", wrong)
    assert got.returncode == 1
    assert got.output["details"]["errorResponse"]["error"] == "invalid_grant", got.output


def test_our_pre_authorized_code_is_single_use_for_the_node_wallet(
    harness: Path, our_issuer: OurServices
) -> None:
    offer = our_issuer.offer(["WorkPermit.sd_jwt"], tx_code=True)
    first = _receive(harness, our_issuer, offer, "--tx-code", offer.tx_code)
    assert first.ok, first.output
    time.sleep(0.1)
    second = _receive(harness, our_issuer, offer, "--tx-code", offer.tx_code)
    assert second.returncode == 1
    assert second.output["details"]["errorResponse"]["error"] == "invalid_grant", second.output
