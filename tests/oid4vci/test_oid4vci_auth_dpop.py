"""The authorization code flow (PAR, PKCE S256) and DPoP-bound tokens over real HTTP."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from oid4vci_world import FORMATS, World
from oid4vci_world import form_post as _form
from oid4vci_world import json_of as _json
from oid4vci_world import proof as _proof
from oid4vci_world import refused as _refused

from credentials.jws import CompactJWS
from credentials.oauth import code_challenge, create_dpop_proof, make_code_verifier
from did_methods.http import HttpResponse
from did_methods.keys import KeyType, PrivateKey
from ssi_wallet.oid4vci import PRE_AUTHORIZED_CODE, IssuerResponseError

REDIRECT = "https://wallet.ssi-wallet.invalid/callback"


def _user_agent(world: World) -> Any:
    """Drives the authorization endpoint as a browser would, without following the redirect."""

    def authorize(url: str) -> str:
        reply = world.transport.request("GET", url, headers={})
        assert reply.status == 302, reply.body
        return reply.headers["location"]

    return authorize


@pytest.mark.parametrize("suffix", list(FORMATS))
def test_authorization_code_flow_in_every_format(world: World, suffix: str) -> None:
    cid = f"WorkPermit.{suffix}"
    offer = world.service.offer(
        [cid],
        claims={"WorkPermit": world.claims()},
        pre_authorized=False,
        authorization_code=True,
    )
    assert offer.data.issuer_state and offer.data.pre_authorized_code is None
    sent = len(world.transport.requests)
    result = world.client().receive(offer.uri, authorize=_user_agent(world))
    assert [c.format for c in result.stored] == [FORMATS[suffix]]
    calls = world.transport.requests[sent:]
    par = next(c for c in calls if c[1].endswith("/par"))
    form = parse_qs((par[3] or b"").decode())
    assert form["code_challenge_method"] == ["S256"]
    assert form["issuer_state"] == [offer.data.issuer_state]
    assert json.loads(form["authorization_details"][0])[0]["credential_configuration_id"] == cid
    token_call = next(c for c in calls if c[1].endswith("/token"))
    assert "DPoP" in token_call[2]  # the token is DPoP-bound by default
    credential_call = next(c for c in calls if c[1].endswith("/credential"))
    assert credential_call[2]["Authorization"].startswith("DPoP ")
    body = json.loads(credential_call[3] or b"{}")
    assert "credential_identifier" in body and "credential_configuration_id" not in body
    assert [e["event"] for e in world.service.notifications(offer.case_id)] == [
        "credential_accepted"
    ]


def _pushed(world: World, **overrides: str) -> tuple[str, str]:
    reply, verifier = _pushed_with_dpop(world, None, **overrides)
    assert reply.status == 201, reply.body
    pushed = _json(reply)
    assert pushed["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    return pushed["request_uri"], verifier


def _authorize(world: World, request_uri: str, client_id: str = "wallet-1") -> HttpResponse:
    query = urlencode({"client_id": client_id, "request_uri": request_uri})
    return world.call("GET", f"/authorize?{query}")


def _code(world: World) -> tuple[str, str]:
    request_uri, verifier = _pushed(world)
    reply = _authorize(world, request_uri)
    assert reply.status == 302
    params = parse_qs(urlsplit(reply.headers["location"]).query)
    assert params["state"] == ["s-1"] and params["iss"] == [world.base]
    return params["code"][0], verifier


def _exchange(
    world: World, code: str, verifier: str, dpop: str | None = None, **extra: str
) -> HttpResponse:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": REDIRECT,
        "client_id": "wallet-1",
        **extra,
    }
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if dpop is not None:
        headers["DPoP"] = dpop
    return world.call("POST", "/token", headers=headers, body=urlencode(form).encode())


def test_wrong_pkce_verifier(world: World) -> None:
    code, _ = _code(world)
    _refused(_exchange(world, code, make_code_verifier()), 400, "invalid_grant")


def test_authorization_code_is_single_use(world: World) -> None:
    code, verifier = _code(world)
    assert _exchange(world, code, verifier).status == 200
    _refused(_exchange(world, code, verifier), 400, "invalid_grant")


def test_redirect_uri_and_client_must_match(world: World) -> None:
    code, verifier = _code(world)
    _refused(
        _exchange(world, code, verifier, redirect_uri="https://evil.example/cb"),
        400,
        "invalid_grant",
    )
    code, verifier = _code(world)
    _refused(_exchange(world, code, verifier, client_id="wallet-2"), 400, "invalid_grant")


def test_par_refuses_plain_pkce_and_missing_challenge(world: World) -> None:
    verifier = make_code_verifier()
    base = {
        "response_type": "code",
        "client_id": "w",
        "redirect_uri": REDIRECT,
        "scope": "WorkPermit.sd_jwt",
    }
    _refused(
        _form(
            world, "/par", {**base, "code_challenge": verifier, "code_challenge_method": "plain"}
        ),
        400,
        "invalid_request",
    )
    _refused(_form(world, "/par", base), 400, "invalid_request")
    _refused(
        _form(
            world,
            "/par",
            {
                **base,
                "code_challenge": code_challenge(verifier),
                "code_challenge_method": "S256",
                "scope": "Nothing",
            },
        ),
        400,
        "invalid_scope",
    )


def test_request_uri_is_single_use_and_bound_to_its_client(world: World) -> None:
    request_uri, _ = _pushed(world)
    _refused(_authorize(world, request_uri, client_id="someone-else"), 400, "invalid_request")
    request_uri, _ = _pushed(world)
    assert _authorize(world, request_uri).status == 302
    _refused(_authorize(world, request_uri), 400, "invalid_request")


def test_authorization_without_a_prepared_case_is_denied(world: World) -> None:
    request_uri, _ = _pushed(world, issuer_state="not-a-state-of-ours")
    reply = _authorize(world, request_uri)
    params = parse_qs(urlsplit(reply.headers["location"]).query)
    assert reply.status == 302 and params["error"] == ["access_denied"]
    assert "code" not in params


def test_wallet_reports_a_denied_authorization(world: World) -> None:
    offer = world.service.offer(
        ["WorkPermit.sd_jwt"],
        claims={"WorkPermit": world.claims()},
        pre_authorized=False,
        authorization_code=True,
    )
    world.service.store.delete("issuer_state", offer.data.issuer_state or "")
    with pytest.raises(IssuerResponseError) as caught:
        world.client().receive(offer.uri, authorize=_user_agent(world))
    assert caught.value.code == "access_denied"


def test_wallet_refuses_a_redirect_with_another_state(world: World) -> None:
    offer = world.service.offer(
        ["WorkPermit.sd_jwt"],
        claims={"WorkPermit": world.claims()},
        pre_authorized=False,
        authorization_code=True,
    )
    honest = _user_agent(world)

    def tampered(url: str) -> str:
        return honest(url).replace("state=", "state=x")

    with pytest.raises(IssuerResponseError) as caught:
        world.client().receive(offer.uri, authorize=tampered)
    assert "state" in caught.value.description


# -- DPoP ----------------------------------------------------------------------------------


def _token_with_dpop(world: World, proof: str) -> HttpResponse:
    """A pre-authorized code exchange sent with a DPoP header."""
    offer = world.service.offer(
        ["WorkPermit.sd_jwt"], claims={"WorkPermit": world.claims()}, tx_code=False
    )
    form = {
        "grant_type": PRE_AUTHORIZED_CODE,
        "pre-authorized_code": offer.data.pre_authorized_code or "",
    }
    return world.call(
        "POST",
        "/token",
        headers={"Content-Type": "application/x-www-form-urlencoded", "DPoP": proof},
        body=urlencode(form).encode(),
    )


def _dpop_token(world: World, key: PrivateKey) -> str:
    proof = create_dpop_proof(key, htm="POST", htu=f"{world.base}/token")
    reply = _token_with_dpop(world, proof)
    body = _json(reply)
    assert reply.status == 200 and body["token_type"] == "DPoP", body
    token: str = body["access_token"]
    return token


def _credential_with(world: World, token: str, scheme: str, proof: str | None) -> HttpResponse:
    headers = {"Content-Type": "application/json", "Authorization": f"{scheme} {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    body = {"credential_configuration_id": "WorkPermit.sd_jwt", "proofs": {"jwt": [_proof(world)]}}
    return world.call("POST", "/credential", headers=headers, body=json.dumps(body).encode())


def test_dpop_bound_token_works_with_its_key(world: World) -> None:
    key = PrivateKey.generate(KeyType.P256)
    token = _dpop_token(world, key)
    proof = create_dpop_proof(key, htm="POST", htu=f"{world.base}/credential", access_token=token)
    assert _credential_with(world, token, "DPoP", proof).status == 200


def test_dpop_proof_for_another_url(world: World) -> None:
    key = PrivateKey.generate(KeyType.P256)
    token = _dpop_token(world, key)
    proof = create_dpop_proof(key, htm="POST", htu=f"{world.base}/notification", access_token=token)
    reply = _credential_with(world, token, "DPoP", proof)
    _refused(reply, 401, "invalid_dpop_proof")
    assert reply.headers["www-authenticate"].startswith('DPoP error="invalid_dpop_proof"')


def test_dpop_proof_by_another_key(world: World) -> None:
    token = _dpop_token(world, PrivateKey.generate(KeyType.P256))
    other = PrivateKey.generate(KeyType.P256)
    proof = create_dpop_proof(other, htm="POST", htu=f"{world.base}/credential", access_token=token)
    _refused(_credential_with(world, token, "DPoP", proof), 401, "invalid_dpop_proof")


def test_dpop_proof_replayed(world: World) -> None:
    key = PrivateKey.generate(KeyType.P256)
    token = _dpop_token(world, key)
    proof = create_dpop_proof(key, htm="POST", htu=f"{world.base}/credential", access_token=token)
    assert _credential_with(world, token, "DPoP", proof).status == 200
    _refused(_credential_with(world, token, "DPoP", proof), 401, "invalid_dpop_proof")


def test_dpop_bound_token_refused_as_bearer_or_without_proof(world: World) -> None:
    token = _dpop_token(world, PrivateKey.generate(KeyType.P256))
    _refused(_credential_with(world, token, "Bearer", None), 401, "invalid_token")
    _refused(_credential_with(world, token, "DPoP", None), 401, "invalid_dpop_proof")


def test_dpop_proof_at_the_token_endpoint_for_another_method(world: World) -> None:
    key = PrivateKey.generate(KeyType.P256)
    proof = create_dpop_proof(key, htm="GET", htu=f"{world.base}/token")
    reply = _token_with_dpop(world, proof)
    _refused(reply, 400, "invalid_dpop_proof")


def test_wallet_deferred_and_notification_carry_dpop(world: World) -> None:
    offer = world.service.offer(["StudyPermit.sd_jwt"], claims={"StudyPermit": None})
    client = world.client()
    resolved = client.resolve_offer(offer.uri)
    pending = client.receive(offer.uri, tx_code=offer.tx_code).pending[0]
    assert pending.dpop_key is not None
    world.service.provide(offer.case_id, "StudyPermit", world.claims("StudyPermit"))
    sent = len(world.transport.requests)
    assert len(client.fetch_deferred(pending, resolved).stored) == 1
    for _method, url, headers, _ in world.transport.requests[sent:]:
        assert headers["Authorization"].startswith("DPoP ") and "DPoP" in headers, url


def test_server_dpop_nonce_is_asked_for_and_then_accepted(world: World) -> None:
    world.service.dpop_nonce = True
    try:
        key = PrivateKey.generate(KeyType.P256)
        refused = _token_with_dpop(
            world, create_dpop_proof(key, htm="POST", htu=f"{world.base}/token")
        )
        _refused(refused, 400, "use_dpop_nonce")
        nonce = refused.headers["dpop-nonce"]
        proof = create_dpop_proof(key, htm="POST", htu=f"{world.base}/token", nonce=nonce)
        reply = _token_with_dpop(world, proof)
        assert reply.status == 200 and _json(reply)["token_type"] == "DPoP"
    finally:
        world.service.dpop_nonce = False


def test_wallet_retries_once_with_the_servers_dpop_nonce(world: World) -> None:
    offer = world.service.offer(
        ["WorkPermit.sd_jwt"], claims={"WorkPermit": world.claims()}, tx_code=False
    )
    world.service.dpop_nonce = True
    try:
        sent = len(world.transport.requests)
        stored = world.client().receive(offer.uri).stored
    finally:
        world.service.dpop_nonce = False
    assert len(stored) == 1
    calls = [c[1].rsplit("/", 1)[1] for c in world.transport.requests[sent:]]
    assert calls.count("token") == 2  # refused with use_dpop_nonce, then accepted
    assert calls.count("credential") == 1  # the nonce it learnt serves the next requests


# -- RFC 9449 sections 10 and 10.1: the code bound to the DPoP key of the PAR request ---


def _pushed_with_dpop(
    world: World, proof: str | None, **overrides: str
) -> tuple[HttpResponse, str]:
    """The PAR answer to a request with the DPoP proof ``proof`` (if any), and its PKCE verifier."""
    verifier = make_code_verifier()
    offer = world.service.offer(
        ["WorkPermit.sd_jwt"],
        claims={"WorkPermit": world.claims()},
        pre_authorized=False,
        authorization_code=True,
    )
    form = {
        "response_type": "code",
        "client_id": "wallet-1",
        "redirect_uri": REDIRECT,
        "code_challenge": code_challenge(verifier),
        "code_challenge_method": "S256",
        "scope": "WorkPermit.sd_jwt",
        "issuer_state": offer.data.issuer_state or "",
        "state": "s-1",
        **overrides,
    }
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if proof is not None:
        headers["DPoP"] = proof
    reply = world.call("POST", "/par", headers=headers, body=urlencode(form).encode())
    return reply, verifier


def _bound_code(world: World, proof: str | None, **overrides: str) -> tuple[str, str]:
    reply, verifier = _pushed_with_dpop(world, proof, **overrides)
    assert reply.status == 201, reply.body
    answer = _authorize(world, _json(reply)["request_uri"])
    assert answer.status == 302
    return parse_qs(urlsplit(answer.headers["location"]).query)["code"][0], verifier


@pytest.mark.parametrize("how", ["header", "dpop_jkt", "both"])
def test_par_binds_the_code_to_the_dpop_key(world: World, how: str) -> None:
    key, other = PrivateKey.generate(KeyType.P256), PrivateKey.generate(KeyType.P256)
    par_proof = create_dpop_proof(key, htm="POST", htu=f"{world.base}/par")
    given = {"dpop_jkt": key.public_key.jwk_thumbprint()} if how != "header" else {}
    header = par_proof if how != "dpop_jkt" else None

    def token_proof(signer: PrivateKey) -> str:
        return create_dpop_proof(signer, htm="POST", htu=f"{world.base}/token")

    # the key the code is bound to gets a DPoP-bound token
    code, verifier = _bound_code(world, header, **given)
    reply = _exchange(world, code, verifier, token_proof(key))
    assert reply.status == 200 and _json(reply)["token_type"] == "DPoP", reply.body
    # another key, or no DPoP proof at all, is refused (and the code is spent)
    par_proof = create_dpop_proof(key, htm="POST", htu=f"{world.base}/par")
    code, verifier = _bound_code(world, par_proof if header else None, **given)
    _refused(_exchange(world, code, verifier, token_proof(other)), 400, "invalid_dpop_proof")
    _refused(_exchange(world, code, verifier, token_proof(key)), 400, "invalid_grant")
    par_proof = create_dpop_proof(key, htm="POST", htu=f"{world.base}/par")
    code, verifier = _bound_code(world, par_proof if header else None, **given)
    _refused(_exchange(world, code, verifier, None), 400, "invalid_dpop_proof")


def test_par_refuses_a_dpop_jkt_of_another_key_or_malformed(world: World) -> None:
    key, other = PrivateKey.generate(KeyType.P256), PrivateKey.generate(KeyType.P256)
    proof = create_dpop_proof(key, htm="POST", htu=f"{world.base}/par")
    mismatch, _ = _pushed_with_dpop(world, proof, dpop_jkt=other.public_key.jwk_thumbprint())
    _refused(mismatch, 400, "invalid_dpop_proof")
    malformed, _ = _pushed_with_dpop(world, None, dpop_jkt="not a thumbprint")
    _refused(malformed, 400, "invalid_request")
    # a proof made for another endpoint is no proof here
    wrong_htu = create_dpop_proof(key, htm="POST", htu=f"{world.base}/token")
    _refused(_pushed_with_dpop(world, wrong_htu)[0], 400, "invalid_dpop_proof")


def test_a_code_pushed_without_dpop_is_not_bound(world: World) -> None:
    """A client that sent no DPoP key with PAR may still bind the token at the token
    endpoint (or take a bearer token): nothing to check against."""
    code, verifier = _bound_code(world, None)
    key = PrivateKey.generate(KeyType.P256)
    proof = create_dpop_proof(key, htm="POST", htu=f"{world.base}/token")
    reply = _exchange(world, code, verifier, proof)
    assert reply.status == 200 and _json(reply)["token_type"] == "DPoP", reply.body


def test_our_wallet_binds_the_code_to_its_dpop_key_at_par(world: World) -> None:
    """Our wallet sends a DPoP proof with its pushed request and proves the same key at
    the token endpoint, so the code it gets is bound to that key (RFC 9449 10.1)."""
    offer = world.service.offer(
        ["WorkPermit.sd_jwt"],
        claims={"WorkPermit": world.claims()},
        pre_authorized=False,
        authorization_code=True,
    )
    sent = len(world.transport.requests)
    world.client().receive(offer.uri, authorize=_user_agent(world))
    calls = world.transport.requests[sent:]
    par = next(c for c in calls if c[1].endswith("/par"))
    token = next(c for c in calls if c[1].endswith("/token"))
    par_key = CompactJWS.parse(par[2]["DPoP"]).header["jwk"]
    token_key = CompactJWS.parse(token[2]["DPoP"]).header["jwk"]
    assert par_key == token_key
    assert CompactJWS.parse(par[2]["DPoP"]).payload["htu"] == f"{world.base}/par"
