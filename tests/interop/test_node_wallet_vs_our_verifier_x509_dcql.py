"""The OpenWallet Foundation's OpenID4VP wallet against OUR verifier: the X.509 client
identifier prefixes in both response modes, and DCQL credential sets with several options.

As in test_node_wallet_vs_our_verifier.py, the Node wallet (``wallet-present.mjs`` on
``@openid4vc/openid4vp``) holds a work permit from OUR issuer and answers requests of
OUR verifier (``ssi_wallet.server.oid4vp`` under uvicorn, public URL on ``localhost``,
the DNS name of the verifier's self-signed certificate). The Node wallet is told to
trust that certificate; the decision is read back from our result endpoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn")

from interop_support import OurServices, node_wallet_receives, our_services, run_node


@pytest.fixture(scope="module")
def x509_world(harness: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Our services on localhost with x509_san_dns: and x509_hash: clients; the Node wallet
    holding a work permit of ours as dc+sd-jwt (``held``)."""
    folder = tmp_path_factory.mktemp("interop-x509-dcql")
    with our_services(folder, x509_dns="localhost") as services:
        held = node_wallet_receives(harness, services, folder, ["WorkPermit.sd_jwt"])
        yield {"services": services, "held": held}


def _present_trusting(harness: Path, world: dict[str, Any], link: str) -> Any:
    services: OurServices = world["services"]
    assert services.x509_cert is not None
    return run_node(
        harness, "wallet-present.mjs", link, "--credentials", str(world["held"]),
        "--trust-cert", str(services.x509_cert),
    )  # fmt: skip


@pytest.mark.parametrize("client", ["x509", "x509_hash"])
@pytest.mark.parametrize("mode", ["direct_post", "direct_post.jwt"])
def test_node_wallet_answers_our_x509_verifier(
    harness: Path, x509_world: dict[str, Any], client: str, mode: str
) -> None:
    services: OurServices = x509_world["services"]
    made = services.create_request(client=client, response_mode=mode)
    prefix = "x509_san_dns" if client == "x509" else "x509_hash"
    assert made["client_id"].startswith(f"{prefix}:")
    answer = _present_trusting(harness, x509_world, made["authorization_request"])
    assert answer.ok, answer.output
    out = answer.output
    # the package checked our request object against the x5c chain it was told to trust
    assert out["client_id_prefix"] == prefix
    assert out["client_id"] == made["client_id"]
    assert out["verified_jwts"][0] == {
        "method": "x5c",
        "verified": True,
        "typ": "oauth-authz-req+jwt",
    }
    assert out["encrypted"] is (mode == "direct_post.jwt")
    result = services.result(made, lang="en")
    assert result["ok"] is True, result
    assert result["explanation"].startswith("ACCEPTED: right to work")


def test_node_wallet_refuses_our_x509_hash_verifier_it_does_not_trust(
    harness: Path, x509_world: dict[str, Any]
) -> None:
    services: OurServices = x509_world["services"]
    made = services.create_request(client="x509_hash")
    refused = run_node(
        harness, "wallet-present.mjs", made["authorization_request"], "--credentials",
        str(x509_world["held"]),
    )  # fmt: skip
    assert refused.returncode == 1
    assert services.result(made)["status"] == "pending"  # nothing was posted


def test_node_wallet_takes_the_option_of_our_credential_set_it_can_meet(
    harness: Path, x509_world: dict[str, Any]
) -> None:
    """Our query asks for the work permit as Data Integrity OR as SD-JWT VC (one
    credential set, two options, DI first); the Node wallet holds only the SD-JWT VC,
    so it skips the first option, answers the second, and our verifier accepts."""
    services: OurServices = x509_world["services"]
    made = services.create_request(client="x509", formats=["ldp_vc", "dc+sd-jwt"])
    answer = _present_trusting(harness, x509_world, made["authorization_request"])
    assert answer.ok, answer.output
    assert [a["query"] for a in answer.output["answered"]] == ["work_sd"]
    # the claims it disclosed are exactly the SD-JWT query's claim paths (names at the
    # top level), not the credentialSubject paths of the Data Integrity option
    paths = [["issueDate"], ["expiryDate"], ["permitCategory"], ["sector"], ["workRegion"]]
    assert answer.output["answered"][0]["claims"] == [*paths, ["maxWeeklyHours"]]
    result = services.result(made, lang="en")
    assert result["ok"] is True, result


def test_node_wallet_cannot_meet_a_set_of_formats_it_does_not_hold(
    harness: Path, x509_world: dict[str, Any]
) -> None:
    """A query whose only option is Data Integrity: the Node wallet (SD-JWT VC only)
    finds no option of the required set and posts nothing."""
    services: OurServices = x509_world["services"]
    made = services.create_request(client="x509", formats=["ldp_vc"])
    answer = _present_trusting(harness, x509_world, made["authorization_request"])
    assert answer.returncode == 1
    assert "required credential set" in answer.output["error"], answer.output
    assert services.result(made)["status"] == "pending"
