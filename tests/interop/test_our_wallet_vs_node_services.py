"""OUR wallet (the ``ssi-wallet wallet receive`` / ``present`` commands, run as real
processes) against the OpenWallet Foundation's packages as issuer and verifier
(``issuer.mjs`` on @openid4vc/openid4vci + oauth2, ``verifier.mjs`` on
@openid4vc/openid4vp), all over HTTP on 127.0.0.1.

The Node issuer signs with a fresh ``did:jwk`` and binds each credential to the key
of our wallet's key proof; the Node verifier trusts that issuer, checks the key
binding JWT (nonce, audience = its client_id, sd_hash) and that only the claims it
asked for were disclosed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from interop_support import NodeService, self_signed_certificate

from credentials.jws import CompactJWS
from credentials.sd_jwt import SdJwt
from did_methods.encoding import b64url_decode
from did_methods.keys import PublicKey

PASSPHRASE = "correct horse battery staple, for the interop tests"
TX_CODE = "493536"
#: The request object's aud under static discovery (OpenID4VP 1.0 section 5.8); the
#: package's default is the request_uri, which our wallet refuses.
SELF_ISSUED = "https://self-issued.me/v2"


class Wallet:
    """Our wallet file, driven through the command line as a person's shell would."""

    def __init__(self, folder: Path) -> None:
        self.file = folder / "wallet.db"
        self.env = {
            **os.environ,
            "SSI_WALLET_INTEROP_PASSPHRASE": PASSPHRASE,
            "SSI_WALLET_INTEROP_TX_CODE": TX_CODE,
        }
        created = self.run("create")
        assert created.returncode == 0, created.stderr

    def run(self, command: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ssi_wallet", "wallet", command, "--wallet", str(self.file),
             "--passphrase-env", "SSI_WALLET_INTEROP_PASSPHRASE", *args],
            capture_output=True, text=True, timeout=120, env=self.env, check=False,
        )  # fmt: skip

    def receive(self, offer_uri: str, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(
            "receive", offer_uri, "--tx-code-env", "SSI_WALLET_INTEROP_TX_CODE", "--yes",
            "--allow-loopback", *args,
        )  # fmt: skip

    def present(self, link: str, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("present", link, "--yes", "--allow-loopback", *args)


@pytest.fixture
def wallet(tmp_path: Path) -> Wallet:
    return Wallet(tmp_path)


@pytest.fixture(scope="module")
def holding(harness: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One wallet of ours holding the Node issuer's SD-JWT VC, shared by the presentation
    tests (each answers a verifier of its own): ``wallet`` and ``issuer_did``."""
    held = Wallet(tmp_path_factory.mktemp("holding"))
    issuer = NodeService(
        harness, "issuer.mjs", "--tx-code", TX_CODE, "--configurations", "ResidencePermitSdJwt",
        "--exit-after", "1",
    )  # fmt: skip
    try:
        done = held.receive(issuer.ready["offer_uri"])
        assert done.returncode == 0, done.stderr
        issuer.next_event("issued")
        yield {"wallet": held, "issuer_did": issuer.ready["issuer_did"]}
    finally:
        issuer.close()


def _issue_sd_jwt(node_service: Any, wallet: Wallet) -> tuple[NodeService, dict[str, Any]]:
    issuer = node_service(
        "issuer.mjs", "--tx-code", TX_CODE, "--configurations", "ResidencePermitSdJwt",
        "--exit-after", "1",
    )  # fmt: skip
    done = wallet.receive(issuer.ready["offer_uri"])
    assert done.returncode == 0, done.stderr
    return issuer, issuer.next_event("issued")


def test_our_wallet_receives_an_sd_jwt_vc_from_the_node_issuer(
    node_service: Any, wallet: Wallet
) -> None:
    issuer, issued = _issue_sd_jwt(node_service, wallet)
    # the Node issuer took a DPoP-bound token and our wallet's key proof
    credential = issued["credentials"][0]
    cnf = SdJwt.parse(credential).unverified_payload["cnf"]["jwk"]
    assert PublicKey.from_jwk(cnf) == PublicKey.from_jwk(issued["holder_jwks"][0])
    assert issued["dpop"] is True
    listed = wallet.run("list")
    assert listed.returncode == 0, listed.stderr
    assert "https://interop.ssi-wallet.test/ResidencePermit" in listed.stdout
    assert issuer.ready["issuer_did"] in listed.stdout


def test_our_wallet_sends_the_node_issuer_a_wrong_tx_code(
    node_service: Any, wallet: Wallet
) -> None:
    issuer = node_service("issuer.mjs", "--tx-code", "111111")
    done = wallet.receive(issuer.ready["offer_uri"])
    assert done.returncode == 1
    assert "invalid_grant" in done.stderr or "tx_code" in done.stderr, done.stderr
    assert wallet.run("list").stdout.strip() == ""  # nothing was stored


def test_our_wallet_receives_a_jwt_vc_json_from_the_node_issuer_and_presents_it(
    node_service: Any, wallet: Wallet
) -> None:
    """The Node issuer's jwt_vc_json is a VC Data Model 1.1 JWT (vc claim, sub = the did:jwk
    of our key proof's key; OpenID4VCI 1.0 A.1.1): our wallet stores it, bound to that key,
    and answers the Node verifier's jwt_vc_json query with a VC DM 1.1 presentation JWT
    signed by that same did:jwk (OpenID4VP 1.0 B.1.3.1), which the verifier accepts."""
    issuer = node_service(
        "issuer.mjs", "--tx-code", TX_CODE, "--configurations", "ResidencePermitJwtVcJson",
    )  # fmt: skip
    done = wallet.receive(issuer.ready["offer_uri"])
    assert done.returncode == 0, done.stderr
    issued = issuer.next_event("issued")
    token = issued["credentials"][0]
    claims = CompactJWS.parse(token).payload
    assert "vc" in claims and claims["sub"].startswith("did:jwk:")
    assert PublicKey.from_jwk(json.loads(b64url_decode(claims["sub"][8:]))) == PublicKey.from_jwk(
        issued["holder_jwks"][0]
    )
    listed = wallet.run("list")
    assert listed.returncode == 0, listed.stderr
    assert "ResidencePermit" in listed.stdout and issuer.ready["issuer_did"] in listed.stdout
    verifier = node_service(
        "verifier.mjs", "--trust-issuer", issuer.ready["issuer_did"], "--format", "jwt_vc_json",
        "--type", "ResidencePermit", "--claims", "given_name,family_name",
        "--request-aud", SELF_ISSUED,
    )  # fmt: skip
    answered = wallet.present(verifier.ready["request_uri_link"])
    assert answered.returncode == 0, answered.stderr
    decision = verifier.next_event("response")
    assert decision["accepted"] is True, decision
    assert decision["claims"][0]["given_name"] == "Amina"
    assert decision["claims"][0]["id"] == claims["sub"]


@pytest.mark.parametrize(
    ("mode", "prefix"),
    [
        ("direct_post", "decentralized_identifier"),
        ("direct_post.jwt", "decentralized_identifier"),
        ("direct_post", "x509_san_dns"),
    ],
)
def test_our_wallet_presents_to_the_node_verifier(
    node_service: Any, holding: dict[str, Any], tmp_path: Path, mode: str, prefix: str
) -> None:
    wallet: Wallet = holding["wallet"]
    verifier_args = ["--client-id-prefix", prefix]
    wallet_args: list[str] = []
    if prefix == "x509_san_dns":
        cert, key = self_signed_certificate(tmp_path)
        verifier_args += ["--host", "localhost", "--x509-cert", str(cert), "--x509-key", str(key)]
        verifier_args += ["--x509-dns", "localhost"]
        wallet_args = ["--trust-anchors", str(cert)]
    verifier = node_service(
        "verifier.mjs", "--trust-issuer", holding["issuer_did"], "--response-mode", mode,
        "--claims", "given_name,family_name", "--request-aud", SELF_ISSUED, *verifier_args,
    )  # fmt: skip
    done = wallet.present(verifier.ready["request_uri_link"], *wallet_args)
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)
    assert said["response_mode"] == mode

    decision = verifier.next_event("response")
    assert decision["accepted"] is True, decision
    assert decision["encrypted"] is (mode == "direct_post.jwt")
    disclosed = decision["claims"][0]
    assert disclosed["given_name"] == "Amina"
    assert disclosed["family_name"] == "Haddad"
    # our wallet disclosed only what the DCQL query named
    for withheld in ("birthdate", "nationality", "permit_type"):
        assert withheld not in disclosed


def test_our_wallet_refuses_the_packages_default_request_aud(
    node_service: Any, holding: dict[str, Any]
) -> None:
    """@openid4vc/openid4vp 0.4.6 sets a request object's aud to its request_uri unless
    told otherwise; OpenID4VP 1.0 section 5.8 says it MUST be https://self-issued.me/v2
    under static discovery, and our wallet holds to that: it refuses, and sends nothing."""
    verifier = node_service("verifier.mjs", "--trust-issuer", holding["issuer_did"])
    done = holding["wallet"].present(verifier.ready["request_uri_link"])
    assert done.returncode == 1
    assert "aud must be https://self-issued.me/v2" in done.stderr, done.stderr
    with pytest.raises(AssertionError, match="no 'response' event"):
        verifier.next_event("response", timeout=1)


def test_our_wallet_refuses_a_node_verifier_it_cannot_trust(
    node_service: Any, holding: dict[str, Any], tmp_path: Path
) -> None:
    """An x509_san_dns: verifier whose certificate is not among our trust anchors."""
    wallet: Wallet = holding["wallet"]
    cert, key = self_signed_certificate(tmp_path)
    verifier = node_service(
        "verifier.mjs", "--trust-issuer", holding["issuer_did"], "--host", "localhost",
        "--request-aud", SELF_ISSUED, "--client-id-prefix", "x509_san_dns",
        "--x509-cert", str(cert), "--x509-key", str(key), "--x509-dns", "localhost",
    )  # fmt: skip
    done = wallet.present(verifier.ready["request_uri_link"])  # no --trust-anchors
    assert done.returncode == 1
    assert "x509" in done.stderr, done.stderr
    with pytest.raises(AssertionError, match="no 'response' event"):
        verifier.next_event("response", timeout=1)
