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
import json
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography import x509
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("uvicorn")

sys.path[:0] = [str(Path(__file__).parents[1] / d) for d in ("oid4vci", "oid4vp")]

from _live_server import Response, StaticServer  # noqa: E402
from oid4vci_world import World as IssuerWorld  # noqa: E402
from oid4vci_world import json_of, json_post, live_world, proof, refused  # noqa: E402
from oid4vp_http import PKI, RecordingTransport, Service, VerifierPKI, verifier_service  # noqa: E402
from oid4vp_http import TOKEN as VP_TOKEN  # noqa: E402
from oid4vp_world import World as VerifierWorld  # noqa: E402
from oid4vp_world import _make_world as _make_verifier_world  # noqa: E402

from credentials._jws import dumps, sign_compact  # noqa: E402
from credentials.oauth import MemoryJtiStore, create_dpop_proof, verify_dpop_proof  # noqa: E402
from did_methods._wire.b64 import b64url_decode as b64d  # noqa: E402
from did_methods._wire.b64 import b64url_encode as b64e  # noqa: E402
from did_methods.errors import SSIWalletError  # noqa: E402
from did_methods.http import FetchError, HttpFetcher  # noqa: E402
from did_methods.keys import KeyType, PrivateKey  # noqa: E402
from did_methods.resolver import Resolver  # noqa: E402
from ledger.facade import Ledger  # noqa: E402
from ssi_wallet import Issuer, policies  # noqa: E402
from ssi_wallet.oid4vci import PRE_AUTHORIZED_CODE, IssuerResponseError  # noqa: E402
from ssi_wallet.oid4vci.metadata import (  # noqa: E402
    CredentialOfferData,
    parse_issuer_metadata,
    parse_offer,
    parse_offer_uri,
)
from ssi_wallet.oid4vci.proofs import verify_jwt_proof  # noqa: E402
from ssi_wallet.oid4vci.wallet import WalletClient  # noqa: E402
from ssi_wallet.oid4vp import AuthorizationRequestURI, OID4VPError, present  # noqa: E402
from ssi_wallet.oid4vp._protocol import sign_request_object, unsigned_request_object  # noqa: E402
from ssi_wallet.oid4vp.wallet import (  # noqa: E402
    AuthorizationRequest,
    response_form,
    verify_request_object,
)

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


# -- OpenID4VP: a hostile verifier, and the wallet that must refuse it ----------------------

REQUEST_MEDIA = "application/oauth-authz-req+jwt"


def _yes(_: object) -> bool:
    return True


def _genuine_claims(service: Service, client: str = "did") -> tuple[dict[str, Any], dict[str, Any]]:
    """A request made by the real verifier (``client``) and its request object's claims."""
    made = service.create(client=client)
    uri = AuthorizationRequestURI.parse(made["authorization_request"])
    assert uri.request_uri is not None
    reply = RecordingTransport().get(uri.request_uri, accept=REQUEST_MEDIA)
    assert reply.status == 200
    payload = reply.body.decode().split(".")[1]
    claims: dict[str, Any] = json.loads(b64d(payload))
    return made, claims


def _present_forged(
    w: VerifierWorld,
    static: StaticServer,
    client_id: str,
    request_object: str,
    expected: type[SSIWalletError] = OID4VPError,
    transport: Any = None,
    trust_anchors: Sequence[x509.Certificate] = (),
) -> Any:
    """Serve ``request_object`` from ``static``, let the wallet (trusting ``trust_anchors``)
    answer a link to it, and return the ``expected`` error it raised (after fetching the
    object once)."""
    url = static.put("/req", request_object, headers={"Content-Type": REQUEST_MEDIA})
    link = "openid4vp://?" + urlencode({"client_id": client_id, "request_uri": url})
    with pytest.raises(expected) as caught:
        present(
            w.wallet,
            link,
            consent=_yes,
            transport=transport or RecordingTransport(),
            resolver=Resolver.offline(),
            trust_anchors=trust_anchors,
        )
    assert static.hits["/req"] == 1
    return caught.value


@pytest.fixture
def vp_world() -> VerifierWorld:
    return _make_verifier_world()


@pytest.fixture
def static() -> Iterator[StaticServer]:
    with StaticServer() as server:
        yield server


def test_oid4vp_request_object_alg_none_for_a_did_client(
    vp_world: VerifierWorld, tmp_path: Path, static: StaticServer
) -> None:
    vp_world.store()
    with verifier_service(vp_world, tmp_path) as service:
        made, claims = _genuine_claims(service)
        forged = unsigned_request_object(claims)
        refusal = _present_forged(vp_world, static, made["client_id"], forged)
    assert refusal.code == "request_unsigned"
    assert refusal.error == "invalid_request_object"
    assert vp_world.wallet.history() == []  # nothing was disclosed


def test_oid4vp_request_object_signed_by_a_key_the_did_does_not_hold(
    vp_world: VerifierWorld, tmp_path: Path, static: StaticServer
) -> None:
    vp_world.store()
    with verifier_service(vp_world, tmp_path) as service:
        made, claims = _genuine_claims(service)
        kid = f"{vp_world.verifier_did}#{vp_world.verifier_did.removeprefix('did:key:')}"
        forged = sign_request_object(claims, PrivateKey.generate(), {"kid": kid})
        refusal = _present_forged(vp_world, static, made["client_id"], forged)
    assert refusal.code == "request_signature_invalid"


def test_oid4vp_request_object_client_id_prefix_mismatch(
    vp_world: VerifierWorld, tmp_path: Path, static: StaticServer
) -> None:
    vp_world.store()
    with verifier_service(vp_world, tmp_path) as service:
        _, claims = _genuine_claims(service)
        genuine = vp_world.did_client().request_object(claims)
        # the link claims an x509 identity, the object a DID one
        refusal = _present_forged(vp_world, static, "x509_san_dns:localhost", genuine)
    assert refusal.code == "client_id_mismatch"


@pytest.mark.parametrize("client", ["x509", "hash"])
def test_oid4vp_request_object_x5c_chaining_to_no_anchor(
    vp_world: VerifierWorld, tmp_path: Path, client: str
) -> None:
    """x509_san_dns: and x509_hash: alike (a self-made chain's hash is its client id)."""
    vp_world.store()
    rogue = VerifierPKI.make("localhost")  # a well-formed chain under a root nobody trusts
    with verifier_service(vp_world, tmp_path, pki=rogue) as service:
        made = service.create(client=client)
        with pytest.raises(OID4VPError) as caught:
            present(
                vp_world.wallet,
                made["authorization_request"],
                consent=_yes,
                transport=RecordingTransport(),
                resolver=Resolver.offline(),
                trust_anchors=[PKI.root],
            )
    assert caught.value.code == "x509_untrusted"
    assert caught.value.error == "invalid_client"


@pytest.mark.parametrize(
    "host", ["127.0.0.1:{port}", "10.0.0.1", "169.254.169.254", "[::1]:{port}", "localhost:{port}"]
)
def test_oid4vp_request_uri_at_a_private_address_is_not_fetched(
    vp_world: VerifierWorld, static: StaticServer, host: str
) -> None:
    """SSRF: a link sends the wallet's default client to the wallet's own network."""
    url = f"https://{host.format(port=static.port)}/req"
    link = "openid4vp://?" + urlencode(
        {"client_id": f"decentralized_identifier:{vp_world.verifier_did}", "request_uri": url}
    )
    with pytest.raises(FetchError) as caught:
        present(vp_world.wallet, link, consent=_yes, resolver=Resolver.offline())
    assert caught.value.code == "forbidden_address"
    assert static.requests == []


def test_oid4vp_request_uri_over_plain_http_is_not_fetched(
    vp_world: VerifierWorld, static: StaticServer
) -> None:
    link = "openid4vp://?" + urlencode(
        {
            "client_id": f"decentralized_identifier:{vp_world.verifier_did}",
            "request_uri": static.url("/req"),
        }
    )
    with pytest.raises(FetchError) as caught:
        present(vp_world.wallet, link, consent=_yes, resolver=Resolver.offline())
    assert caught.value.code == "insecure_scheme"
    assert static.requests == []


# -- OpenID4VP: a hostile wallet against the verifier service ------------------------------


def _request(service: Service, **create: Any) -> tuple[dict[str, Any], AuthorizationRequest]:
    made = service.create(**create)
    uri = AuthorizationRequestURI.parse(made["authorization_request"])
    assert uri.request_uri is not None
    reply = RecordingTransport().get(uri.request_uri, accept=REQUEST_MEDIA)
    assert reply.status == 200, reply.body
    return made, verify_request_object(
        reply.body, uri, resolver=Resolver.offline(), trust_anchors=[PKI.root]
    )


def _answer(w: VerifierWorld, request: AuthorizationRequest) -> Any:
    return w.wallet.answer(request.presentation_request(), consent=_yes)


def _raw_post(
    service: Service, path: str, body: bytes, media: str = "application/json"
) -> tuple[int, Any]:
    """POST raw ``body`` with the back-office token (Service.call sends only valid JSON)."""
    headers = {"Content-Type": media, "Authorization": f"Bearer {VP_TOKEN}"}
    reply = HttpFetcher(allow_loopback=True).request(
        "POST", service.base + path, headers=headers, body=body
    )
    return reply.status, json.loads(reply.body)


def _refused_vp(answer: tuple[int, dict[str, str], Any], status: int, code: str) -> None:
    got, _, body = answer
    assert got == status, body
    assert body["code"] == code, body


def test_oid4vp_oversized_bodies_are_refused_413(vp_world: VerifierWorld, tmp_path: Path) -> None:
    huge = b"vp_token=" + b"x" * (1 << 20)
    form = "application/x-www-form-urlencoded"
    with verifier_service(vp_world, tmp_path) as service:
        made = service.create(request_uri_method="post")
        request_path = "/oid4vp/requests/" + made["request_uri"].rsplit("/", 1)[1]
        for path in ("/oid4vp/response", request_path):
            status, body = _raw_post(service, path, huge, form)
            assert status == 413 and body["code"] == "body_too_large", body
        status, body = _raw_post(service, "/oid4vp/requests", b'{"a":"' + b"x" * (1 << 20) + b'"}')
        assert status == 413 and body["code"] == "body_too_large", body


def test_oid4vp_json_depth_bombs_are_refused(vp_world: VerifierWorld, tmp_path: Path) -> None:
    bomb = _bomb(5000).decode()
    with verifier_service(vp_world, tmp_path) as service:
        made, request = _request(service, request_uri_method="post")
        form = {"vp_token": bomb, "state": request.state or ""}
        _refused_vp(
            service.call("POST", "/oid4vp/response", form=form, token=None), 400, "response_invalid"
        )
        request_path = "/oid4vp/requests/" + made["request_uri"].rsplit("/", 1)[1]
        nested = {"wallet_metadata": bomb, "wallet_nonce": "n"}
        _refused_vp(
            service.call("POST", request_path, form=nested, token=None),
            400,
            "wallet_request_invalid",
        )
        raw = _raw_post(service, "/oid4vp/requests", _bomb(5000))
        assert raw[0] == 400 and raw[1]["code"] == "invalid_json", raw
        # the transaction survived the garbage: the honest answer is still accepted
        vp_world.store()
        shown = _answer(vp_world, request)
        good = service.call(
            "POST", "/oid4vp/response", form=response_form(request, shown), token=None
        )
        assert good[0] == 200, good
        assert service.result(made["transaction_id"])["ok"] is True


def _post_form(service: Service, form: dict[str, str]) -> tuple[int, dict[str, str], Any]:
    return service.call("POST", "/oid4vp/response", form=form, token=None)


def test_oid4vp_response_sent_to_another_state(vp_world: VerifierWorld, tmp_path: Path) -> None:
    vp_world.store()
    with verifier_service(vp_world, tmp_path) as service:
        made_a, request_a = _request(service)
        made_b, request_b = _request(service)
        form = response_form(request_a, _answer(vp_world, request_a))
        form["state"] = request_b.state or ""
        assert _post_form(service, form)[0] == 200  # received, then judged
        judged = service.result(made_b["transaction_id"])
        assert judged["status"] == "answered" and judged["ok"] is False
        assert "kb_nonce_mismatch" in json.dumps(judged["report"]), judged["report"]
        assert service.result(made_a["transaction_id"])["status"] == "pending"


@pytest.mark.parametrize("beside_the_asked_one", [False, True])
def test_oid4vp_vp_token_for_an_unknown_credential_query(
    vp_world: VerifierWorld, tmp_path: Path, beside_the_asked_one: bool
) -> None:
    vp_world.store()
    with verifier_service(vp_world, tmp_path) as service:
        made, request = _request(service)
        form = response_form(request, _answer(vp_world, request))
        token = json.loads(form["vp_token"])
        smuggled = {"not_asked_for": next(iter(token.values()))}
        form["vp_token"] = json.dumps({**token, **smuggled} if beside_the_asked_one else smuggled)
        assert _post_form(service, form)[0] == 200  # received, then judged
        judged = service.result(made["transaction_id"])
    assert judged["ok"] is False, judged
    assert "unexpected_credential" in json.dumps(judged["report"]), judged["report"]


def test_oid4vp_presentation_of_a_credential_issued_to_another_holder(
    vp_world: VerifierWorld, tmp_path: Path
) -> None:
    """A thief holds Amina's SD-JWT (bound to her key) and key-binds it with its own key."""
    stolen = vp_world.ministry.issue(
        "WorkPermit", subject=vp_world.wallet.did, claims=vp_world.work_claims(), format="sd-jwt"
    ).credential
    assert isinstance(stolen, str) and stolen.endswith("~")
    thief = PrivateKey.generate()  # of the same type as her key: only the key differs
    with verifier_service(vp_world, tmp_path) as service:
        made, request = _request(service)
        kb = {
            "iat": int(time.time()),
            "aud": request.client_id,
            "nonce": request.nonce,
            "sd_hash": b64e(hashlib.sha256(stolen.encode()).digest()),
        }
        presentation = stolen + sign_compact({"typ": "kb+jwt"}, dumps(kb), thief)
        form = {"vp_token": json.dumps({"work_sd": [presentation]}), "state": request.state or ""}
        assert _post_form(service, form)[0] == 200
        judged = service.result(made["transaction_id"])
    assert judged["status"] == "answered" and judged["ok"] is False, judged
    assert "kb_signature_invalid" in json.dumps(judged["report"]), judged["report"]


def _with_header(jwe: str, **changes: Any) -> str:
    """``jwe`` with its protected header edited (the tag then fails, but the header is
    checked before any cryptography)."""
    parts = jwe.split(".")
    header = json.loads(b64d(parts[0]))
    header.update(changes)
    return ".".join([b64e(dumps(header)), *parts[1:]])


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(
            {"epk": PrivateKey.generate(KeyType.P384).public_key.to_jwk()}, id="epk-on-p384"
        ),
        pytest.param(
            {"epk": PrivateKey.generate(KeyType.X25519).public_key.to_jwk()}, id="epk-x25519"
        ),
        pytest.param({"zip": "DEF"}, id="zip"),
        pytest.param({"crit": ["b64"]}, id="crit"),
        pytest.param({"alg": "dir"}, id="alg-dir"),
        pytest.param({"enc": "A128CBC-HS256"}, id="enc-not-offered"),
    ],
)
def test_oid4vp_direct_post_jwt_with_a_hostile_header(
    vp_world: VerifierWorld, tmp_path: Path, edit: dict[str, Any]
) -> None:
    vp_world.store()
    with verifier_service(vp_world, tmp_path) as service:
        made, request = _request(service, response_mode="direct_post.jwt")
        genuine = response_form(request, _answer(vp_world, request))
        forged = {"response": _with_header(genuine["response"], **edit)}
        _refused_vp(_post_form(service, forged), 400, "response_invalid")
        # refused before the transaction was claimed: the genuine response still counts
        assert _post_form(service, genuine)[0] == 200
        assert service.result(made["transaction_id"])["ok"] is True
        # and a replay of it is refused
        _refused_vp(_post_form(service, genuine), 400, "response_replayed")


def test_oid4vp_direct_post_jwt_with_a_huge_ciphertext(
    vp_world: VerifierWorld, tmp_path: Path
) -> None:
    vp_world.store()
    with verifier_service(vp_world, tmp_path) as service:
        _, request = _request(service, response_mode="direct_post.jwt")
        parts = response_form(request, _answer(vp_world, request))["response"].split(".")
        parts[3] = "A" * (2 << 20)  # within no limit: the body cap answers first
        body = urlencode({"response": ".".join(parts)}).encode()
        status, answer = _raw_post(
            service, "/oid4vp/response", body, "application/x-www-form-urlencoded"
        )
        assert status == 413 and answer["code"] == "body_too_large", answer
        parts[3] = "A" * (900 << 10)  # under the body cap: a tag failure, one code
        _refused_vp(
            _post_form(service, {"response": ".".join(parts)}), 400, "response_decryption_failed"
        )


def test_oid4vp_request_uri_fetched_after_the_answer(
    vp_world: VerifierWorld, tmp_path: Path
) -> None:
    vp_world.store()
    with verifier_service(vp_world, tmp_path) as service:
        made, request = _request(service)
        assert _post_form(service, response_form(request, _answer(vp_world, request)))[0] == 200
        path = "/oid4vp/requests/" + made["request_uri"].rsplit("/", 1)[1]
        _refused_vp(service.call("GET", path, token=None), 400, "response_replayed")
        _refused_vp(
            service.call("GET", "/oid4vp/requests/never-made", token=None), 404, "request_unknown"
        )


# -- property tests: random JSON into the wallet-side parsers ------------------------------
#
# Each takes a valid document, replaces one member (or the whole) with random JSON, and
# feeds it to the parser: it must answer, or refuse with a typed error of ours that has a
# code; anything else (a crash, a hang past hypothesis' run) fails.

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


def _typed(call: Any) -> None:
    try:
        call()
    except SSIWalletError as exc:
        assert isinstance(getattr(exc, "code", None), str) and exc.code, repr(exc)


ISSUER_ID = "https://issuer.example"
GOOD_OFFER = CredentialOfferData(
    ISSUER_ID, ("WorkPermit.sd_jwt",), "code", None, None, False
).to_json()


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([*GOOD_OFFER, "grants", "credential_configuration_ids"]), _json_values)
def test_property_offer_parsing_with_one_member_replaced(member: str, value: Any) -> None:
    offer = {**GOOD_OFFER, member: value}
    text = json.dumps(offer)
    _typed(lambda: parse_offer(text))
    _typed(
        lambda: parse_offer_uri(
            "openid-credential-offer://?" + urlencode({"credential_offer": text})
        )
    )


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_property_offer_uri_parsing_of_random_text(text: str) -> None:
    _typed(lambda: parse_offer_uri(text))
    _typed(lambda: parse_offer_uri("openid-credential-offer://?credential_offer=" + text))
    _typed(lambda: parse_offer_uri("openid-credential-offer://?credential_offer_uri=" + text))


GOOD_METADATA: dict[str, Any] = {
    "credential_issuer": ISSUER_ID,
    "credential_endpoint": ISSUER_ID + "/credential",
    "nonce_endpoint": ISSUER_ID + "/nonce",
    "credential_configurations_supported": {
        "WorkPermit.sd_jwt": {"format": "dc+sd-jwt", "vct": "WorkPermit"}
    },
}


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([*GOOD_METADATA, "authorization_servers", "display"]),
    _json_values,
    st.booleans(),
)
def test_property_issuer_metadata_parsing(member: str, value: Any, as_bytes: bool) -> None:
    metadata = {**GOOD_METADATA, member: value}
    data: Any = json.dumps(metadata).encode() if as_bytes else metadata
    _typed(lambda: parse_issuer_metadata(data, ISSUER_ID))


@pytest.fixture(scope="module")
def signed_request() -> tuple[VerifierWorld, AuthorizationRequestURI, dict[str, Any]]:
    """One verifier's genuine request (DID client): the URI and the request object's claims."""
    w = _make_verifier_world()
    oid = w.oid4vp()
    made = oid.create(policies.right_to_work(), response_mode="direct_post.jwt")
    uri = AuthorizationRequestURI.parse(made.authorization_request)
    text = oid.request_object(made.request_uri.rsplit("/", 1)[1])
    claims = json.loads(b64d(text.split(".")[1]))
    verify_request_object(text, uri, resolver=Resolver.offline())  # genuine: accepted
    return w, uri, claims


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_property_request_object_with_one_claim_replaced(
    signed_request: tuple[VerifierWorld, AuthorizationRequestURI, dict[str, Any]], data: Any
) -> None:
    w, uri, claims = signed_request
    member = data.draw(st.sampled_from([*claims, "transaction_data", "wallet_nonce", "scope"]))
    value = data.draw(_json_values)
    forged = {**claims, member: value}
    nested = data.draw(st.sampled_from(["", "client_metadata", "dcql_query"]))
    if nested and isinstance(claims.get(nested), dict):  # one level down too
        inner = data.draw(st.sampled_from([*claims[nested], "jwks", "credentials"]))
        forged = {**claims, nested: {**claims[nested], inner: value}}
    text = w.did_client().request_object(forged)
    _typed(lambda: verify_request_object(text, uri, resolver=Resolver.offline()))


class _FetchLoopbackOnly:
    """A wallet transport that may GET the (loopback) request URI of the test, and POSTs
    as the default client does: https to public addresses only."""

    def __init__(self) -> None:
        self.loopback = RecordingTransport()
        self.default = HttpFetcher()

    def get(self, url: str, *, accept: str) -> Any:
        return self.loopback.get(url, accept=accept)

    def post_form(self, url: str, form: Any, *, accept: str) -> Any:
        return self.default.post_form(url, form, accept=accept)


@pytest.mark.parametrize("target", ["https://10.1.2.3/cb", "https://[fd00::1]/cb"])
def test_oid4vp_response_uri_at_a_private_address_gets_no_presentation(
    vp_world: VerifierWorld, tmp_path: Path, static: StaticServer, target: str
) -> None:
    """SSRF through the response: a DID-signed request whose response_uri is internal."""
    vp_world.store()
    with verifier_service(vp_world, tmp_path) as service:
        made, claims = _genuine_claims(service)
    forged = vp_world.did_client().request_object({**claims, "response_uri": target})
    refusal = _present_forged(
        vp_world, static, made["client_id"], forged, FetchError, _FetchLoopbackOnly()
    )
    assert refusal.code == "forbidden_address"


@pytest.mark.parametrize(
    "offer",
    [
        "openid-credential-offer://?credential_offer_uri=https%3A%2F%2F127.0.0.1%3A{port}%2Foffer",
        "openid-credential-offer://?credential_offer_uri=https%3A%2F%2F169.254.169.254%2Flatest",
        "openid-credential-offer://?credential_offer="
        "%7B%22credential_issuer%22%3A%22https%3A%2F%2F192.168.1.1%22%2C"
        "%22credential_configuration_ids%22%3A%5B%22x%22%5D%2C%22grants%22%3A%7B%7D%7D",
    ],
)
def test_oid4vci_offer_pointing_at_a_private_address_is_not_fetched(
    issuer: IssuerWorld, static: StaticServer, offer: str
) -> None:
    """SSRF through an offer: the wallet's default client (no transport given)."""
    client = WalletClient(issuer.wallet)
    with pytest.raises(IssuerResponseError) as caught:
        client.resolve_offer(offer.format(port=static.port))
    assert caught.value.code == "transport"
    assert "forbidden_address" in str(caught.value)
    assert static.requests == []


# -- OpenID4VCI: a hostile issuer, and the wallet that must refuse it ------------------------


def _hostile_issuer(issuer: IssuerWorld, static: StaticServer, **answers: Any) -> str:
    """The genuine issuer's metadata re-served by ``static`` (its URLs moved there), with
    ``answers`` (path -> JSON document or raw bytes) for the endpoints; returns an offer URI."""
    moved = static.base
    for path, document in (
        ("/.well-known/openid-credential-issuer", issuer.service.issuer_metadata()),
        ("/.well-known/oauth-authorization-server", issuer.service.authorization_server_metadata()),
    ):
        static.put(
            path,
            json.dumps(document).replace(issuer.base, moved),
            headers={"Content-Type": "application/json"},
        )
    for path, answer in answers.items():
        body = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        static.put("/" + path, body, headers={"Content-Type": "application/json"})
    offer = {
        "credential_issuer": moved,
        "credential_configuration_ids": ["WorkPermit.sd_jwt"],
        "grants": {PRE_AUTHORIZED_CODE: {"pre-authorized_code": "code"}},
    }
    return "openid-credential-offer://?" + urlencode({"credential_offer": json.dumps(offer)})


def _receive_from(issuer: IssuerWorld, uri: str) -> IssuerResponseError | Any:
    with pytest.raises(SSIWalletError) as caught:
        issuer.client(use_dpop=False).receive(uri)
    return caught.value


TOKEN_OK = {"access_token": "at", "token_type": "Bearer", "expires_in": 60}


@pytest.mark.parametrize(
    ("token", "code"),
    [
        pytest.param({**TOKEN_OK, "access_token": "at\r\nX-Injected: 1"}, "transport", id="crlf"),
        pytest.param({**TOKEN_OK, "access_token": 7}, "invalid_response", id="not-a-string"),
        pytest.param({**TOKEN_OK, "token_type": "MAC"}, "invalid_response", id="token-type"),
        pytest.param(_bomb(5000), "invalid_response", id="depth-bomb"),
        pytest.param(b'{"access_token":"a","access_token":"b"}', "invalid_response", id="dup"),
        pytest.param(b"x" * (5 << 20), "transport", id="huge"),
    ],
)
def test_oid4vci_hostile_token_answers(
    issuer: IssuerWorld, static: StaticServer, token: Any, code: str
) -> None:
    uri = _hostile_issuer(issuer, static, token=token, nonce={"c_nonce": "n"})
    refusal = _receive_from(issuer, uri)
    assert getattr(refusal, "code", None) == code, refusal
    assert "/credential" not in static.hits  # nothing was sent on with it


def test_oid4vci_hostile_issuer_hands_a_credential_bound_to_another_key(
    issuer: IssuerWorld, static: StaticServer
) -> None:
    forged = issuer.ministry.issue(
        "WorkPermit", subject=issuer.wallet.did, claims=issuer.claims(), format="sd-jwt"
    ).credential  # genuine, but bound to the wallet's DID key, not the fresh key it proved
    _refused_as_bound_elsewhere(issuer, static, forged)


def _refused_as_bound_elsewhere(issuer: IssuerWorld, static: StaticServer, forged: Any) -> None:
    """A hostile issuer answers with ``forged``: refused, and nothing is stored."""
    answers = {"token": TOKEN_OK, "nonce": {"c_nonce": "n"}}
    uri = _hostile_issuer(
        issuer, static, credential={"credentials": [{"credential": forged}]}, **answers
    )
    before = len(issuer.wallet.credentials())
    refusal = _receive_from(issuer, uri)
    assert getattr(refusal, "code", None) == "invalid_response", refusal
    assert "bound to none of our keys" in str(refusal)
    assert len(issuer.wallet.credentials()) == before


def test_oid4vci_hostile_issuer_signs_with_an_unaccredited_key(
    issuer: IssuerWorld, static: StaticServer
) -> None:
    """The credential is bound to the key the wallet proved, but signed by a rogue issuer."""
    rogue = Issuer.create(Ledger.open(":memory:", key=PrivateKey.generate()), name="Migrationsamt")

    def credential(path: str) -> Any:
        if path != "/credential":
            return None
        sent = json.loads(static.requests[-1].body)
        proved = verify_jwt_proof(
            sent["proofs"]["jwt"][0], audience=static.base, now=datetime.now(UTC)
        )
        forged = rogue.issue(
            "WorkPermit",
            subject=proved.holder_did,
            claims=issuer.claims(),
            format="sd-jwt",
            holder_key=proved.key,
        ).credential
        body = json.dumps({"credentials": [{"credential": forged}]}).encode()
        return Response(body, 200, (("Content-Type", "application/json"),))

    static.fallback = credential
    uri = _hostile_issuer(issuer, static, token=TOKEN_OK, nonce={"c_nonce": "n"})
    before = len(issuer.wallet.credentials())
    refusal = _receive_from(issuer, uri)
    assert static.hits.get("/credential") == 1
    assert getattr(refusal, "code", None) == "credential_rejected", refusal
    assert len(issuer.wallet.credentials()) == before


def test_oid4vci_one_access_token_mints_at_most_a_batch(issuer: IssuerWorld) -> None:
    """Defect found: one offer's token minted credentials without end (120 in 30 requests),
    each taking a status list entry. Now at most batch_size (4 here) per configuration."""
    token = _access(issuer)
    first = _credential(issuer, token, [proof(issuer) for _ in range(3)])
    assert first.status == 200 and len(json_of(first)["credentials"]) == 3
    # a failed request spends nothing: a bad proof is refused before counting
    refused(_credential(issuer, token, ["not-a-jwt"]), 400, "invalid_proof")
    assert _credential(issuer, token, [proof(issuer)]).status == 200
    body = refused(_credential(issuer, token, [proof(issuer)]), 400, "credential_request_denied")
    assert "4 instances" in body["error_description"]
    # another offer's token is not affected
    assert _credential(issuer, _access(issuer), [proof(issuer)]).status == 200


@pytest.mark.parametrize(
    ("error", "code"),
    [
        ("invalid_grant", "invalid_grant"),
        ("\u202eevil_grant", "invalid_response"),
        ("bad\x1b[31mred", "invalid_response"),
        ('quote"', "invalid_response"),
    ],
)
def test_oid4vci_hostile_issuer_names_the_error_code(
    issuer: IssuerWorld, static: StaticServer, error: str, code: str
) -> None:
    """An issuer's ``error`` becomes the wallet's code only when it is an RFC 6749 code:
    bidi overrides and escape sequences would otherwise reach logs and --json output."""
    uri = _hostile_issuer(issuer, static)
    static.put(
        "/token",
        json.dumps({"error": error}),
        status=400,
        headers={"Content-Type": "application/json"},
    )
    refusal = _receive_from(issuer, uri)
    assert getattr(refusal, "code", None) == code, refusal


_PROOF_KEY = PrivateKey.generate(KeyType.P256)


def _signed(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A compact JWS of exactly ``header`` (its ``alg`` as given), signed by _PROOF_KEY."""
    signing_input = f"{b64e(dumps(header))}.{b64e(dumps(claims))}"
    return f"{signing_input}.{b64e(_PROOF_KEY.sign(signing_input.encode()))}"


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_property_key_proofs_and_dpop_proofs_with_one_member_replaced(data: Any) -> None:
    """Signed key proofs and DPoP proofs with one header member or claim replaced by random
    JSON: ``verify_jwt_proof`` / ``verify_dpop_proof`` accept or raise a typed error."""
    at = int(time.time())
    jwk = _PROOF_KEY.public_key.to_jwk()
    kinds = {
        "key proof": (
            {"alg": "ES256", "typ": "openid4vci-proof+jwt", "jwk": jwk},
            {"aud": ISSUER_ID, "iat": at, "nonce": "n"},
        ),
        "dpop": (
            {"alg": "ES256", "typ": "dpop+jwt", "jwk": jwk},
            {"jti": "j", "htm": "POST", "htu": ISSUER_ID + "/token", "iat": at},
        ),
    }
    kind = data.draw(st.sampled_from(sorted(kinds)))
    header, claims = (dict(part) for part in kinds[kind])
    part = data.draw(st.sampled_from([header, claims, jwk]))
    member = data.draw(st.sampled_from([*part, "kid", "x5c", "crit", "d", "ath", "nonce"]))
    value = data.draw(_json_values)
    if part is jwk:
        header["jwk"] = {**jwk, member: value}
    else:
        part[member] = value
    token = _signed(header, claims)
    if kind == "key proof":
        _typed(lambda: verify_jwt_proof(token, audience=ISSUER_ID, now=datetime.now(UTC)))
    else:
        _typed(
            lambda: verify_dpop_proof(
                token, htm="POST", htu=ISSUER_ID + "/token", jti_store=MemoryJtiStore()
            )
        )
