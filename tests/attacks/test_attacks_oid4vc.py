"""Attacks on OpenID4VCI and OpenID4VP over real HTTP on 127.0.0.1.

A hostile wallet floods the issuer's endpoints (oversized bodies, JSON depth
bombs, wrong transaction codes, replayed codes, nonces and DPoP proofs, key
proofs with private or symmetric keys); a hostile verifier sends request
objects a wallet must refuse; a hostile wallet answers a verifier with
replayed, misdirected or malformed responses. Each case asserts the exact
error code and HTTP status. The servers and worlds are those of
tests/oid4vci and tests/oid4vp (no copies).
"""

from __future__ import annotations

import hashlib
import hmac
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

pytest.importorskip("uvicorn")

sys.path[:0] = [str(Path(__file__).parents[1] / d) for d in ("oid4vci", "oid4vp")]

from oid4vci_world import World as IssuerWorld  # noqa: E402
from oid4vci_world import json_of, json_post, live_world, proof, refused  # noqa: E402

from credentials._jws import dumps, sign_compact  # noqa: E402
from credentials.oauth import create_dpop_proof  # noqa: E402
from did_methods._wire.b64 import b64url_encode as b64e  # noqa: E402
from did_methods.keys import KeyType, PrivateKey  # noqa: E402
from ssi_wallet.oid4vci import PRE_AUTHORIZED_CODE  # noqa: E402

#: The body limit the issuer of oid4vci_world is served with.
LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def issuer() -> Iterator[IssuerWorld]:
    yield from live_world()


def _offer(w: IssuerWorld, *, tx_code: bool = False) -> Any:
    return w.service.offer(
        ["WorkPermit.sd_jwt"], claims={"WorkPermit": w.claims()}, tx_code=tx_code
    )


def _token(w: IssuerWorld, code: str, dpop: str | None = None, **extra: str) -> Any:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if dpop is not None:
        headers["DPoP"] = dpop
    form = {"grant_type": PRE_AUTHORIZED_CODE, "pre-authorized_code": code, **extra}
    return w.call("POST", "/token", headers=headers, body=urlencode(form).encode())


def _access(w: IssuerWorld) -> str:
    reply = _token(w, _offer(w).data.pre_authorized_code)
    assert reply.status == 200, reply.body
    token: str = json_of(reply)["access_token"]
    return token


def _credential(w: IssuerWorld, token: str, proofs: list[str]) -> Any:
    body = {"credential_configuration_id": "WorkPermit.sd_jwt", "proofs": {"jwt": proofs}}
    return json_post(w, "/credential", body, token)


# -- the issuer's POST endpoints: bounded bodies, bounded depth ----------------------------

FORM_ENDPOINTS = ["/token", "/par"]
JSON_ENDPOINTS = ["/credential", "/deferred_credential", "/notification"]


def _bomb(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("path", FORM_ENDPOINTS + JSON_ENDPOINTS)
def test_oid4vci_oversized_body_is_refused_413(issuer: IssuerWorld, path: str) -> None:
    media = "application/json" if path in JSON_ENDPOINTS else "application/x-www-form-urlencoded"
    headers = {"Content-Type": media, "Authorization": "Bearer x"}
    reply = issuer.call("POST", path, headers=headers, body=b"a" * (LIMIT + 1))
    refused(reply, 413, "invalid_request")


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
def test_oid4vci_json_depth_bomb_is_refused_400(issuer: IssuerWorld, path: str) -> None:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {_access(issuer)}"}
    reply = issuer.call("POST", path, headers=headers, body=_bomb(5000))
    refused(reply, 400, "invalid_request")


def test_oid4vci_depth_bomb_in_authorization_details_is_refused(issuer: IssuerWorld) -> None:
    details = "[" * 40 + "]" * 40
    reply = _token(issuer, _offer(issuer).data.pre_authorized_code, authorization_details=details)
    body = refused(reply, 400, "invalid_authorization_details")
    assert "deeper" in body["error_description"]


@pytest.mark.parametrize("path", FORM_ENDPOINTS)
def test_oid4vci_form_with_too_many_fields_is_refused(issuer: IssuerWorld, path: str) -> None:
    body = "&".join(f"f{i}=1" for i in range(65)).encode()
    reply = issuer.call(
        "POST", path, headers={"Content-Type": "application/x-www-form-urlencoded"}, body=body
    )
    refused(reply, 400, "invalid_request")


# -- the token endpoint: guesses and replays -----------------------------------------------


def test_oid4vci_tx_code_flood_burns_the_code_after_three_guesses(issuer: IssuerWorld) -> None:
    offer = _offer(issuer, tx_code=True)
    code, right = offer.data.pre_authorized_code, offer.tx_code
    wrong = [f"{(int(right) + i) % 10**6:06d}" for i in range(1, 4)]
    for guess in wrong:
        refused(_token(issuer, code, tx_code=guess), 400, "invalid_grant")
    # the fourth request, even with the right code, finds the code spent
    body = refused(_token(issuer, code, tx_code=right), 400, "invalid_grant")
    assert "unknown, used or expired" in body["error_description"]


def test_oid4vci_malformed_tx_code_requests_do_not_spend_guesses(issuer: IssuerWorld) -> None:
    offer = _offer(issuer, tx_code=True)
    code = offer.data.pre_authorized_code
    for _ in range(5):  # a missing tx_code is a malformed request, not a guess
        refused(_token(issuer, code), 400, "invalid_request")
    refused(_token(issuer, code, tx_code="x" * 10_000), 400, "invalid_grant")
    assert _token(issuer, code, tx_code=offer.tx_code).status == 200


def test_oid4vci_pre_authorized_code_replay(issuer: IssuerWorld) -> None:
    code = _offer(issuer).data.pre_authorized_code
    assert _token(issuer, code).status == 200
    refused(_token(issuer, code), 400, "invalid_grant")


def test_oid4vci_dpop_jti_replay_at_the_token_endpoint(issuer: IssuerWorld) -> None:
    key = PrivateKey.generate(KeyType.P256)
    dpop = create_dpop_proof(key, htm="POST", htu=issuer.base + "/token")
    first = _token(issuer, _offer(issuer).data.pre_authorized_code, dpop=dpop)
    assert first.status == 200 and json_of(first)["token_type"] == "DPoP"
    again = _token(issuer, _offer(issuer).data.pre_authorized_code, dpop=dpop)
    refused(again, 400, "invalid_dpop_proof")


def test_oid4vci_dpop_proof_for_another_endpoint(issuer: IssuerWorld) -> None:
    key = PrivateKey.generate(KeyType.P256)
    dpop = create_dpop_proof(key, htm="POST", htu=issuer.base + "/credential")
    refused(
        _token(issuer, _offer(issuer).data.pre_authorized_code, dpop=dpop),
        400,
        "invalid_dpop_proof",
    )


# -- the credential endpoint: nonces and key proofs ----------------------------------------


def test_oid4vci_c_nonce_replay(issuer: IssuerWorld) -> None:
    key = PrivateKey.generate(KeyType.P256)
    spent = proof(issuer, key)
    assert _credential(issuer, _access(issuer), [spent]).status == 200
    refused(_credential(issuer, _access(issuer), [spent]), 400, "invalid_nonce")


def _forged_proof(issuer: IssuerWorld, header: dict[str, Any], key: PrivateKey | None) -> str:
    claims = {"aud": issuer.base, "iat": int(time.time())}
    claims["nonce"] = json_of(issuer.call("POST", "/nonce"))["c_nonce"]
    if key is None:  # alg none: an empty signature
        return ".".join((b64e(dumps(header)), b64e(dumps(claims)), ""))
    return sign_compact(header, dumps(claims), key)


def test_oid4vci_key_proof_whose_jwk_carries_the_private_key(issuer: IssuerWorld) -> None:
    key = PrivateKey.generate(KeyType.P256)
    jwk = key.private_jwk()
    token = _forged_proof(issuer, {"typ": "openid4vci-proof+jwt", "jwk": jwk}, key)
    body = refused(_credential(issuer, _access(issuer), [token]), 400, "invalid_proof")
    assert "private" in body["error_description"]


def test_oid4vci_key_proof_alg_none(issuer: IssuerWorld) -> None:
    key = PrivateKey.generate(KeyType.P256)
    header = {"typ": "openid4vci-proof+jwt", "alg": "none", "jwk": key.public_key.to_jwk()}
    token = _forged_proof(issuer, header, None)
    refused(_credential(issuer, _access(issuer), [token]), 400, "invalid_proof")


def test_oid4vci_key_proof_hs256_with_a_symmetric_jwk(issuer: IssuerWorld) -> None:
    secret = b"s" * 32
    header = {
        "typ": "openid4vci-proof+jwt",
        "alg": "HS256",
        "jwk": {"kty": "oct", "k": b64e(secret)},
    }
    claims = {"aud": issuer.base, "iat": int(time.time()), "nonce": "n"}
    signing_input = f"{b64e(dumps(header))}.{b64e(dumps(claims))}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64e(mac)}"
    refused(_credential(issuer, _access(issuer), [token]), 400, "invalid_proof")
