"""The Node harness against itself in the authorization code flow: ``wallet-authorize.mjs``
against ``issuer.mjs --grant authorization_code``, both on the OpenWallet Foundation's
packages, over real HTTP on 127.0.0.1, independently of ssi-wallet.

They show that the harness's authorization server does what the tests against our
wallet rely on (PAR, PKCE, the redirect with state and iss, credential identifiers,
DPoP bound at PAR), and that its checks can fail: a token request proving another DPoP
key than the pushed request is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from interop_support import run_node


def _issuer(node_service: Any, *extra: str) -> Any:
    return node_service(
        "issuer.mjs", "--grant", "authorization_code", "--configurations",
        "ResidencePermitSdJwt,ResidencePermitJwtVcJson", *extra,
    )  # fmt: skip


def test_harness_wallet_takes_the_harness_issuers_authorization_code_flow(
    harness: Path, node_service: Any
) -> None:
    issuer = _issuer(node_service)
    got = run_node(
        harness, "wallet-authorize.mjs", issuer.ready["offer_uri"], "--trust-issuer",
        issuer.ready["issuer_did"], "--dpop-jkt", "--notify", "none",
    )  # fmt: skip
    assert got.ok, got.output
    assert got.output["token_type"] == "DPoP"
    assert [c["format"] for c in got.output["credentials"]] == ["dc+sd-jwt", "jwt_vc_json"]
    for credential in got.output["credentials"]:
        assert credential["checked"]["issuer"] == issuer.ready["issuer_did"]
    par = issuer.next_event("par")
    assert par["dpop_jkt"] and par["scope"] == "ResidencePermitSdJwt ResidencePermitJwtVcJson"
    token = issuer.next_event("token")
    assert token["dpop_bound_at_par"] is True and token["pkce_checked"] is True


def test_harness_issuer_refuses_a_token_request_by_another_dpop_key(
    harness: Path, node_service: Any
) -> None:
    issuer = _issuer(node_service)
    got = run_node(
        harness, "wallet-authorize.mjs", issuer.ready["offer_uri"], "--token-dpop-key", "fresh",
    )  # fmt: skip
    assert got.returncode == 1, got.output
    assert got.output["details"]["errorResponse"]["error"] == "invalid_dpop_proof", got.output
