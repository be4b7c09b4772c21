"""The OpenWallet Foundation's OpenID4VP wallet (the Node harness) against OUR verifier.

The Node wallet first receives a work permit from OUR issuer (OpenID4VCI, as in
test_node_wallet_vs_our_issuer.py); then OUR verifier (``ssi_wallet.server.oid4vp``
under uvicorn on 127.0.0.1) makes an authorization request for the right-to-work
policy, and ``wallet-present.mjs``, built on ``@openid4vc/openid4vp``, resolves it
(fetching and checking our signed request object), answers the DCQL query with a
selectively disclosed SD-JWT VC and posts it. The decision is read back from our
verifier's result endpoint: accepted with its explanation, or refused with its
reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn")

from interop_support import OurServices, node_wallet_receives, our_services, run_node


def _present(harness: Path, held: Path, link: str) -> Any:
    return run_node(harness, "wallet-present.mjs", link, "--credentials", str(held))


@pytest.mark.parametrize(
    ("client", "mode"),
    [
        ("did", "direct_post"),
        ("did", "direct_post.jwt"),
        # redirect_uri: requests are never signed, so they travel by value (no JAR)
        ("open", "direct_post"),
    ],
)
def test_our_verifier_accepts_the_node_wallets_answer(
    harness: Path, world: dict[str, Any], client: str, mode: str
) -> None:
    services: OurServices = world["services"]
    made = services.create_request(client=client, response_mode=mode)
    assert services.result(made)["status"] == "pending"

    answer = _present(harness, world["held"], made["authorization_request"])
    assert answer.ok, answer.output
    out = answer.output
    # the Node wallet checked our request object (or, for redirect_uri:, read the parameters)
    expected_prefix = "decentralized_identifier" if client == "did" else "redirect_uri"
    assert out["client_id_prefix"] == expected_prefix
    assert out["signed_request"] is (client == "did")
    if client == "did":
        assert out["verified_jwts"] == [
            {"method": "did", "verified": True, "typ": "oauth-authz-req+jwt"}
        ]
    assert out["encrypted"] is (mode == "direct_post.jwt")
    assert [a["query"] for a in out["answered"]] == ["work_sd"]

    result = services.result(made, lang="en")
    assert result["status"] == "answered"
    assert result["ok"] is True, result
    assert result["explanation"].startswith("ACCEPTED: right to work")
    assert "is accredited for Work permit" in result["explanation"]
    # the policy asks for no name nor birth date, and the Node wallet disclosed none
    assert "Family name" not in result["explanation"]
    assert "Date of birth" not in result["explanation"]


def test_our_verifier_explains_a_refusal_in_another_language(
    harness: Path, world: dict[str, Any]
) -> None:
    services: OurServices = world["services"]
    # the permit is for health care (NACE Q86.10), the request asks for manufacturing
    made = services.create_request(params={"sector": "C10"})
    answer = _present(harness, world["held"], made["authorization_request"])
    assert answer.ok, answer.output  # the response was well formed; the policy says no
    result = services.result(made, lang="de")
    assert result["ok"] is False, result
    findings = {f["code"]: f["ok"] for f in result["report"]["findings"]}
    assert findings["issuer_accredited"] is True
    assert False in findings.values()
    english = services.result(made, lang="en")["explanation"]
    assert result["explanation"] != english  # the same decision, explained in German


def test_our_verifier_refuses_a_replayed_answer_from_the_node_wallet(
    harness: Path, world: dict[str, Any]
) -> None:
    services: OurServices = world["services"]
    made = services.create_request()
    answer = run_node(
        harness, "wallet-present.mjs", made["authorization_request"],
        "--credentials", str(world["held"]), "--post-twice",
    )  # fmt: skip
    assert answer.ok, answer.output
    # the very same response bytes, posted again: refused, and the first decision stands
    replay = answer.output["replay"]
    assert replay["status"] == 400, replay
    assert replay["body"]["error"] == "invalid_request", replay
    assert services.result(made)["ok"] is True


def test_node_wallet_refuses_our_request_object_when_tampered(
    harness: Path, world: dict[str, Any], tmp_path: Path
) -> None:
    """A request link whose client_id names another DID than the one that signed."""
    services: OurServices = world["services"]
    made = services.create_request()
    other = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    link = made["authorization_request"].replace(
        made["client_id"].split(":", 1)[1].replace(":", "%3A"), other.replace(":", "%3A")
    )
    assert link != made["authorization_request"]
    answer = _present(harness, world["held"], link)
    assert answer.returncode == 1
    assert "client_id does not match the request object" in answer.output["error"]
    assert services.result(made)["status"] == "pending"  # nothing was posted


def test_our_verifier_accepts_a_jwt_vc_json_presentation_from_the_node_wallet(
    harness: Path, world: dict[str, Any], tmp_path: Path
) -> None:
    services: OurServices = world["services"]
    held = json.loads(world["held"].read_text())
    only_jwt = tmp_path / "jwt-only.json"
    only_jwt.write_text(
        json.dumps(
            {"credentials": [c for c in held["credentials"] if c["format"] == "jwt_vc_json"]}
        )
    )
    made = services.create_request(formats=["jwt_vc_json"])
    answer = _present(harness, only_jwt, made["authorization_request"])
    assert answer.ok, answer.output
    assert [a["format"] for a in answer.output["answered"]] == ["jwt_vc_json"]
    result = services.result(made)
    assert result["ok"] is True, result


@pytest.fixture(scope="module")
def x509_world(harness: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Our services with an x509_san_dns:localhost verifier client, and the Node wallet's
    work permit from our issuer."""
    folder = tmp_path_factory.mktemp("interop-x509")
    with our_services(folder, x509_dns="localhost") as services:
        held = node_wallet_receives(harness, services, folder, ["WorkPermit.sd_jwt"])
        yield {"services": services, "held": held}


def test_node_wallet_checks_our_x509_san_dns_verifier(
    harness: Path, x509_world: dict[str, Any]
) -> None:
    services: OurServices = x509_world["services"]
    assert services.x509_cert is not None
    made = services.create_request(client="x509")
    assert made["client_id"] == "x509_san_dns:localhost"
    link = made["authorization_request"]
    trusted = run_node(
        harness, "wallet-present.mjs", link, "--credentials", str(x509_world["held"]),
        "--trust-cert", str(services.x509_cert),
    )  # fmt: skip
    assert trusted.ok, trusted.output
    assert trusted.output["client_id_prefix"] == "x509_san_dns"
    assert trusted.output["verified_jwts"][0]["method"] == "x5c"
    assert services.result(made)["ok"] is True

    # the same kind of request, but the Node wallet does not trust our certificate
    other = services.create_request(client="x509")
    refused = _present(harness, x509_world["held"], other["authorization_request"])
    assert refused.returncode == 1
    assert services.result(other)["status"] == "pending"
