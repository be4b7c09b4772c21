"""The Node harness against itself: the OpenWallet Foundation's @openid4vc packages
as wallet, issuer and verifier, all four programs over real HTTP on 127.0.0.1.

These tests prove the harness works on its own, independently of ssi-wallet, so
that a failure in the interop tests against our services points at our side (or at
a real disagreement between the implementations), not at the harness. They also
show that the harness's checks can fail: a wrong transaction code, an untrusted
issuer, a replayed response and an untrusted X.509 certificate are each refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from interop_support import NodeService, run_node, self_signed_certificate

TX_CODE = "493536"


@pytest.fixture(scope="module")
def received(harness: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One issuance (both formats, pre-authorized code with tx_code, DPoP), shared by the module."""
    issuer = NodeService(harness, "issuer.mjs", "--tx-code", TX_CODE, "--exit-after", "2")
    try:
        out = tmp_path_factory.mktemp("harness") / "received.json"
        result = run_node(
            harness,
            "wallet-receive.mjs",
            issuer.ready["offer_uri"],
            "--tx-code",
            TX_CODE,
            "--out",
            str(out),
        )
        assert result.ok, result.output
        issued = [issuer.next_event("issued"), issuer.next_event("issued")]
        yield {"wallet": result.output, "issuer": issuer.ready, "issued": issued, "file": out}
    finally:
        issuer.close()


def test_wallet_receives_both_formats_from_the_harness_issuer(received: dict[str, Any]) -> None:
    got = received
    credentials = got["wallet"]["credentials"]
    assert [c["format"] for c in credentials] == ["dc+sd-jwt", "jwt_vc_json"]
    assert (
        got["wallet"]["dpop"] is True
    )  # the issuer advertises DPoP, so the wallet bound its token
    for credential, issued in zip(credentials, got["issued"], strict=True):
        # the issuer bound each credential to the key the wallet proved possession of
        assert issued["holder_jwks"] == [credential["holder_jwk"]]
        assert issued["credentials"] == [credential["credential"]]
        assert credential["checked"]["issuer"] == got["issuer"]["issuer_did"]
    assert credentials[0]["checked"]["claims"]["given_name"] == "Amina"


def test_wrong_transaction_code_is_refused(harness: Path, node_service: Any) -> None:
    issuer = node_service("issuer.mjs", "--tx-code", TX_CODE)
    result = run_node(
        harness, "wallet-receive.mjs", issuer.ready["offer_uri"], "--tx-code", "000000"
    )
    assert result.returncode == 1
    assert "tx_code" in result.output["error"]


def _present(harness: Path, link: str, received: dict[str, Any], *extra: str) -> Any:
    return run_node(
        harness, "wallet-present.mjs", link, "--credentials", str(received["file"]), *extra
    )


def _x509_verifier_args(tmp_path: Path) -> tuple[list[str], Path]:
    """verifier.mjs arguments for x509_san_dns:localhost, and the certificate file.

    The package requires the response_uri's host to be the certificate's DNS name,
    so the verifier serves on localhost.
    """
    cert, key = self_signed_certificate(tmp_path)
    args = ["--host", "localhost", "--client-id-prefix", "x509_san_dns"]
    args += ["--x509-cert", str(cert), "--x509-key", str(key), "--x509-dns", "localhost"]
    return args, cert


@pytest.mark.parametrize(
    ("fmt", "mode", "prefix"),
    [
        ("dc+sd-jwt", "direct_post", "decentralized_identifier"),
        ("dc+sd-jwt", "direct_post.jwt", "decentralized_identifier"),
        ("jwt_vc_json", "direct_post.jwt", "decentralized_identifier"),
        ("dc+sd-jwt", "direct_post", "redirect_uri"),
        ("dc+sd-jwt", "direct_post", "x509_san_dns"),
    ],
)
def test_wallet_presents_to_the_harness_verifier(
    harness: Path,
    node_service: Any,
    received: dict[str, Any],
    tmp_path: Path,
    fmt: str,
    mode: str,
    prefix: str,
) -> None:
    verifier_args = ["--client-id-prefix", prefix]
    wallet_args: list[str] = []
    if prefix == "x509_san_dns":
        verifier_args, cert = _x509_verifier_args(tmp_path)
        wallet_args = ["--trust-cert", str(cert)]
    issuer_did = received["issuer"]["issuer_did"]
    verifier = node_service(
        "verifier.mjs", "--trust-issuer", issuer_did, "--format", fmt, "--response-mode", mode,
        *verifier_args,
    )  # fmt: skip
    link = verifier.ready["request_uri_link"]
    answer = _present(harness, link, received, *wallet_args)
    assert answer.ok, answer.output
    assert answer.output["client_id_prefix"] == prefix
    assert answer.output["signed_request"] is (prefix != "redirect_uri")
    assert answer.output["encrypted"] is (mode == "direct_post.jwt")
    decision = verifier.next_event("response")
    assert decision["accepted"] is True, decision
    assert decision["claims"][0]["given_name"] == "Amina"
    if fmt == "dc+sd-jwt":
        # selective disclosure: only the claims the DCQL query named were disclosed
        assert "birthdate" not in decision["claims"][0]

    # the same request answered twice: the nonce is single use
    again = _present(harness, link, received, *wallet_args)
    assert again.returncode == 1
    replay = verifier.next_event("response")
    assert replay["accepted"] is False
    assert "replayed" in replay["reasons"][0]


def test_verifier_refuses_an_untrusted_issuer(
    harness: Path, node_service: Any, received: dict[str, Any]
) -> None:
    # an Ed25519 did:jwk that signed nothing here
    other = (
        "did:jwk:eyJrdHkiOiJPS1AiLCJjcnYiOiJFZDI1NTE5IiwieCI6IjExcVlBWUt4Q3JmVlNfN1R5"
        "V1FIT2c3aGN2UGFwaU1scndJYWFQY0hVUm8ifQ"
    )
    verifier = node_service("verifier.mjs", "--trust-issuer", other)
    answer = _present(harness, verifier.ready["request_uri_link"], received)
    assert answer.returncode == 1
    decision = verifier.next_event("response")
    assert decision["accepted"] is False
    assert any("is not trusted" in reason for reason in decision["reasons"])


def test_wallet_refuses_a_request_signed_by_an_untrusted_certificate(
    harness: Path, node_service: Any, received: dict[str, Any], tmp_path: Path
) -> None:
    verifier_args, _cert = _x509_verifier_args(tmp_path)
    issuer_did = received["issuer"]["issuer_did"]
    verifier = node_service("verifier.mjs", "--trust-issuer", issuer_did, *verifier_args)
    answer = _present(harness, verifier.ready["request_uri_link"], received)  # no --trust-cert
    assert answer.returncode == 1
    assert "verification of jwt" in answer.output["error"]
    # the wallet never posted: the verifier saw no response
    with pytest.raises(AssertionError, match="no 'response' event"):
        verifier.next_event("response", timeout=1)


def test_harness_output_is_json_lines(harness: Path) -> None:
    """A usage error is a JSON {"ok": false} on stdout and exit status 1."""
    result = run_node(harness, "wallet-receive.mjs")
    assert result.returncode == 1
    assert result.output["ok"] is False
    assert "usage" in result.output["error"]
    json.dumps(result.output)


def test_harness_bounds_what_it_reads_from_a_server(harness: Path) -> None:
    """An offer document of 3 MB is refused at 2 MB, not read whole."""
    from urllib.parse import quote

    from _live_server import StaticServer

    with StaticServer() as server:
        url = server.put("/offer", b'{"x": "' + b"a" * 3_000_000 + b'"}')
        result = run_node(
            harness,
            "wallet-receive.mjs",
            f"openid-credential-offer://?credential_offer_uri={quote(url, safe='')}",
        )
    assert result.returncode == 1
    assert "over 2000000 bytes" in json.dumps(result.output), result.output
