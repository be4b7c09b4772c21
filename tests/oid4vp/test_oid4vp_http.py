"""Our wallet against our verifier over real HTTP on 127.0.0.1: every format, response
mode, request URI method and client_id prefix, and each refusal with its own error."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from oid4vp_http import PKI, RecordingTransport, Service, VerifierPKI, verifier_service
from oid4vp_world import World

from credentials.jws import CompactJWS
from did_methods.encoding import b64url_decode, b64url_encode
from did_methods.resolver import Resolver
from ssi_wallet.oid4vp import AuthorizationRequestURI, OID4VPError, present, verify_request_object
from ssi_wallet.oid4vp.wallet import response_form

pytest.importorskip("uvicorn")


def _yes(_: object) -> bool:
    return True


@pytest.mark.parametrize("mode", ["direct_post", "direct_post.jwt"])
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("client", ["did", "x509", "hash", "open"])
@pytest.mark.parametrize("fmt", ["sd-jwt", "di-eddsa", "vc-jwt", "jwt_vc_json"])
def test_wallet_presents_to_verifier(
    world: World, tmp_path: Path, fmt: str, client: str, method: str, mode: str
) -> None:
    world.store(fmt)
    # JWT-secured W3C credentials (the VC DM 1.1 jwt_vc_json, and the VC-JOSE vc+jwt we also
    # accept under that name) are asked for as jwt_vc_json, an alternative the policy adds
    jwt = fmt in ("vc-jwt", "jwt_vc_json")
    formats = {"formats": ["dc+sd-jwt", "ldp_vc", "jwt_vc_json"]} if jwt else {}
    with verifier_service(world, tmp_path) as service:
        made = service.create(
            client=client, request_uri_method=method, response_mode=mode, **formats
        )
        assert made["authorization_request"].startswith("openid4vp://?client_id=")
        assert service.result(made["transaction_id"])["status"] == "pending"
        transport = RecordingTransport()
        outcome = present(
            world.wallet,
            made["authorization_request"],
            consent=_yes,
            transport=transport,
            resolver=Resolver.offline(),
            trust_anchors=[PKI.root],
        )
        # redirect_uri: requests are never signed, so they come by value: nothing to fetch
        fetched = [] if client == "open" else [method.upper()]
        assert [m for m, _ in transport.calls] == [*fetched, "POST"]
        assert ("request_uri=" in made["authorization_request"]) is (client != "open")
        assert outcome.request.client_id == made["client_id"]
        assert outcome.request.response_mode == mode
        assert (outcome.request.enc == "A128GCM") == (mode == "direct_post.jwt")
        assert outcome.redirect_uri is None
        result = service.result(made["transaction_id"], lang="de")
    assert result["status"] == "answered"
    assert result["ok"] is True, result["explanation"]
    assert result["explanation"].startswith("ANGENOMMEN: "), result["explanation"]
    presented = {"sd-jwt": "work_sd", "di-eddsa": "work_di", "vc-jwt": "work_jwt"}.get(
        fmt, "work_jwt"
    )
    assert sorted(outcome.presentation.vp_token) == [presented]
    if fmt == "jwt_vc_json":
        # OpenID4VP B.1.3.1: a VC Data Model 1.1 presentation JWT, aud = client_id, the nonce
        (token,) = outcome.presentation.vp_token[presented]
        vp = CompactJWS.parse(token)
        assert vp.header["typ"] == "JWT"
        assert vp.payload["aud"] == made["client_id"] and vp.payload["iss"] == world.wallet.did
        assert vp.payload["nonce"] == outcome.request.nonce
        (inner,) = vp.payload["vp"]["verifiableCredential"]
        assert CompactJWS.parse(inner).payload["sub"] == world.wallet.did
    prefix = {
        "did": "decentralized_identifier:",
        "x509": "x509_san_dns:",
        "hash": "x509_hash:",
        "open": "redirect_uri:",
    }[client]
    assert made["client_id"].startswith(prefix)
    record = world.wallet.history()[-1]
    assert record.verifier == made["client_id"]


def test_redirect_uri_comes_back_with_a_response_code(world: World, tmp_path: Path) -> None:
    world.store()
    with verifier_service(world, tmp_path, redirect_uri="https://verifier.example/done") as s:
        made = s.create()
        outcome = present(
            world.wallet,
            made["authorization_request"],
            consent=_yes,
            transport=RecordingTransport(),
            resolver=Resolver.offline(),
            trust_anchors=[PKI.root],
        )
        assert outcome.redirect_uri is not None
        match = re.fullmatch(
            r"https://verifier\.example/done#response_code=([\w-]{40,})", outcome.redirect_uri
        )
        assert match, outcome.redirect_uri
        assert s.result(made["transaction_id"], response_code=match[1])["ok"] is True
        status, _, body = s.call(
            "GET", f"/oid4vp/results/{made['transaction_id']}?response_code=guessed", token=None
        )
        assert status == 404 and body["code"] == "state_unknown"


def _fetch(service: Service, world: World, transport: RecordingTransport) -> tuple[dict, object]:
    made = service.create(formats=["dc+sd-jwt", "ldp_vc", "jwt_vc_json"])
    uri = AuthorizationRequestURI.parse(made["authorization_request"])
    assert uri.request_uri is not None
    reply = transport.get(uri.request_uri, accept="application/oauth-authz-req+jwt")
    assert reply.status == 200
    return made, verify_request_object(reply.body, uri, resolver=Resolver.offline())


def test_replayed_response_is_refused(world: World, tmp_path: Path) -> None:
    world.store()
    with verifier_service(world, tmp_path) as service:
        transport = RecordingTransport()
        made, request = _fetch(service, world, transport)
        shown = world.wallet.answer(request.presentation_request(), consent=_yes)  # type: ignore[attr-defined]
        form = response_form(request, shown)  # type: ignore[arg-type]
        first = service.call("POST", "/oid4vp/response", form=form, token=None)
        again = service.call("POST", "/oid4vp/response", form=form, token=None)
        assert first[0] == 200 and first[2] == {}
        assert again[0] == 400
        assert again[2]["code"] == "response_replayed"
        assert again[2]["error"] == "invalid_request"
        assert service.result(made["transaction_id"])["ok"] is True


@pytest.mark.parametrize(
    ("fmt", "code"),
    [("sd-jwt", "kb_nonce_mismatch"), ("di-eddsa", "challenge_mismatch"),
     ("vc-jwt", "nonce_mismatch")],
)  # fmt: skip
def test_wrong_nonce_is_refused(world: World, tmp_path: Path, fmt: str, code: str) -> None:
    """A presentation made for one request (its nonce) sent as the answer to another."""
    world.store(fmt)
    with verifier_service(world, tmp_path) as service:
        transport = RecordingTransport()
        _, first = _fetch(service, world, transport)
        made, second = _fetch(service, world, transport)
        shown = world.wallet.answer(first.presentation_request(), consent=_yes)  # type: ignore[attr-defined]
        form = response_form(first, shown)  # type: ignore[arg-type]
        form["state"] = second.state  # type: ignore[attr-defined]
        assert service.call("POST", "/oid4vp/response", form=form, token=None)[0] == 200
        result = service.result(made["transaction_id"])
    assert result["ok"] is False
    codes = [f["code"] for f in result["report"]["findings"] if not f["ok"]]
    assert codes == [code]


@pytest.mark.parametrize(
    ("fmt", "code"),
    [("sd-jwt", "kb_audience_mismatch"), ("di-eddsa", "domain_mismatch"),
     ("vc-jwt", "audience_mismatch")],
)  # fmt: skip
def test_wrong_audience_is_refused(world: World, tmp_path: Path, fmt: str, code: str) -> None:
    """A presentation bound to another verifier's client_id."""
    world.store(fmt)
    with verifier_service(world, tmp_path) as service:
        transport = RecordingTransport()
        made, request = _fetch(service, world, transport)
        asked = request.presentation_request()  # type: ignore[attr-defined]
        from dataclasses import replace

        elsewhere = replace(asked, audience="decentralized_identifier:did:web:other.example")
        shown = world.wallet.answer(elsewhere, consent=_yes)
        form = {
            "vp_token": response_form(request, replace(shown, audience=request.client_id))[
                "vp_token"
            ],  # type: ignore[attr-defined]
            "state": request.state,
        }  # type: ignore[attr-defined]
        assert service.call("POST", "/oid4vp/response", form=form, token=None)[0] == 200
        result = service.result(made["transaction_id"])
    assert result["ok"] is False
    codes = [f["code"] for f in result["report"]["findings"] if not f["ok"]]
    assert codes == [code]


def test_tampered_request_object_is_refused(world: World, tmp_path: Path) -> None:
    world.store()

    def tamper(url: str, body: bytes) -> bytes:
        if "/oid4vp/requests/" not in url:
            return body
        head, claims, sig = body.decode().split(".")
        edited = b64url_decode(claims).replace(
            b'"response_mode":"direct_post"', b'"response_mode":"direct_post" '
        )
        return f"{head}.{b64url_encode(edited)}.{sig}".encode()

    with verifier_service(world, tmp_path) as service:
        made = service.create()
        transport = RecordingTransport(edit=tamper)
        with pytest.raises(OID4VPError) as refused:
            present(
                world.wallet,
                made["authorization_request"],
                consent=_yes,
                transport=transport,
                resolver=Resolver.offline(),
            )
        assert refused.value.code == "request_signature_invalid"
        assert [m for m, _ in transport.calls] == ["GET"]  # nothing was posted
        assert service.result(made["transaction_id"])["status"] == "pending"
    assert world.wallet.history() == []


def test_unknown_client_id_prefix_is_refused(world: World, tmp_path: Path) -> None:
    with verifier_service(world, tmp_path) as service:
        made = service.create()
        forged = made["authorization_request"].replace(
            "client_id=decentralized_identifier", "client_id=openid_federation"
        )
        transport = RecordingTransport()
        with pytest.raises(OID4VPError) as refused:
            present(
                world.wallet, forged, consent=_yes, transport=transport, resolver=Resolver.offline()
            )
        assert refused.value.code == "client_id_prefix_unsupported"
        assert transport.calls == []  # refused before anything was fetched


def test_unknown_state_is_refused(world: World, tmp_path: Path) -> None:
    with verifier_service(world, tmp_path) as service:
        status, _, body = service.call(
            "POST", "/oid4vp/response", form={"vp_token": "{}", "state": "nobody"}, token=None
        )
    assert status == 400
    assert body["code"] == "state_unknown" and body["error"] == "invalid_request"


def test_declined_consent_reaches_the_verifier_as_access_denied(
    world: World, tmp_path: Path
) -> None:
    from did_methods.errors import PolicyError

    world.store()
    with verifier_service(world, tmp_path) as service:
        made = service.create()
        with pytest.raises(PolicyError, match="consent_refused"):
            present(
                world.wallet,
                made["authorization_request"],
                consent=lambda _: False,
                transport=RecordingTransport(),
                resolver=Resolver.offline(),
            )
        result = service.result(made["transaction_id"])
    assert result["status"] == "wallet_error" and result["error"] == "access_denied"
    assert "ok" not in result


def test_creating_a_request_needs_the_token(world: World, tmp_path: Path) -> None:
    with verifier_service(world, tmp_path) as service:
        status, _, body = service.call(
            "POST", "/oid4vp/requests", {"policy": "right_to_work"}, token=None
        )
    assert status == 401 and body["code"] == "unauthorised"


def test_request_object_answers_with_its_media_type(world: World, tmp_path: Path) -> None:
    with verifier_service(world, tmp_path) as service:
        made = service.create()
        path = made["request_uri"].removeprefix(service.base)
        status, headers, body = service.call("GET", path, token=None)
        assert body.count(b".") == 2
        assert status == 200
        assert headers["content-type"] == "application/oauth-authz-req+jwt"
        assert headers["cache-control"] == "no-store"
        status, _, refused = service.call("POST", path, form={"wallet_nonce": "abc"}, token=None)
        assert status == 400 and refused["code"] == "request_uri_method_invalid"
        status, _, missing = service.call("GET", "/oid4vp/requests/nothing", token=None)
        assert status == 404 and missing["code"] == "request_unknown"


def test_the_page_shows_the_qr_code_then_the_decision(world: World, tmp_path: Path) -> None:
    import html

    world.store()
    with verifier_service(world, tmp_path) as service:
        status, headers, page = service.call(
            "GET", "/verifier?policy=right_to_work&lang=uk", token=None
        )
        assert status == 200 and headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in headers["content-security-policy"]
        text = page.decode()
        for element in (
            "oid4vp-qr",
            "oid4vp-link",
            "oid4vp-status",
            "oid4vp-decision",
            "oid4vp-explanation",
        ):
            assert f'id="{element}"' in text
        assert "<svg" in text and 'lang="uk"' in text
        transaction = re.search(r'data-transaction-id="([^"]+)"', text)
        link = re.search(r'id="oid4vp-link" href="([^"]+)"', text)
        token = re.search(r'data-result-token="([^"]+)"', text)
        assert transaction and link and token
        service.result_tokens[transaction[1]] = token[1]  # the page reads it with its token
        assert service.call("GET", "/verifier/page.js", token=None)[0] == 200
        present(
            world.wallet,
            html.unescape(link[1]),
            consent=_yes,
            transport=RecordingTransport(),
            resolver=Resolver.offline(),
            trust_anchors=[PKI.root],
        )
        result = service.result(transaction[1], lang="uk")
    assert result["ok"] is True
    assert not result["explanation"].startswith("ACCEPTED"), result["explanation"]


def _fetch_jwt(service: Service, transport: RecordingTransport) -> tuple[dict, object]:
    made = service.create(response_mode="direct_post.jwt")
    uri = AuthorizationRequestURI.parse(made["authorization_request"])
    assert uri.request_uri is not None
    reply = transport.get(uri.request_uri, accept="application/oauth-authz-req+jwt")
    return made, verify_request_object(reply.body, uri, resolver=Resolver.offline())


def test_a256gcm_when_the_verifier_offers_only_it(world: World, tmp_path: Path) -> None:
    world.store()
    with verifier_service(world, tmp_path, enc_values=["A256GCM"]) as service:
        transport = RecordingTransport()
        made, request = _fetch_jwt(service, transport)
        assert request.enc == "A256GCM"  # type: ignore[attr-defined]
        shown = world.wallet.answer(request.presentation_request(), consent=_yes)  # type: ignore[attr-defined]
        form = response_form(request, shown)  # type: ignore[arg-type]
        header = json.loads(b64url_decode(form["response"].split(".")[0]))
        assert header["alg"] == "ECDH-ES" and header["enc"] == "A256GCM"
        assert header["kid"] == request.encryption_jwk["kid"]  # type: ignore[attr-defined]
        assert service.call("POST", "/oid4vp/response", form=form, token=None)[0] == 200
        assert service.result(made["transaction_id"])["ok"] is True


def test_response_encrypted_to_another_key_is_refused(world: World, tmp_path: Path) -> None:
    from credentials.jwe import encrypt_compact
    from did_methods.keys import KeyType, PrivateKey

    world.store()
    with verifier_service(world, tmp_path) as service:
        transport = RecordingTransport()
        made, request = _fetch_jwt(service, transport)
        shown = world.wallet.answer(request.presentation_request(), consent=_yes)  # type: ignore[attr-defined]
        payload = json.dumps({"vp_token": dict(shown.vp_token), "state": request.state}).encode()  # type: ignore[attr-defined]
        other = PrivateKey.generate(KeyType.P256).public_key
        kid = request.encryption_jwk["kid"]  # type: ignore[attr-defined]
        # the verifier's kid, another key: the tag does not verify
        wrong_key = {"response": encrypt_compact(payload, other, kid=kid)}
        status, _, body = service.call("POST", "/oid4vp/response", form=wrong_key, token=None)
        assert status == 400 and body["code"] == "response_decryption_failed"
        # a kid the verifier never made
        unknown = {"response": encrypt_compact(payload, other, kid="not-ours")}
        status, _, body = service.call("POST", "/oid4vp/response", form=unknown, token=None)
        assert status == 400 and body["code"] == "response_key_unknown"
        # unencrypted, when encryption was asked
        plain = {"vp_token": json.dumps(dict(shown.vp_token)), "state": request.state}  # type: ignore[attr-defined]
        status, _, body = service.call("POST", "/oid4vp/response", form=plain, token=None)
        assert status == 400 and body["code"] == "response_invalid"
        # the transaction is still open: the genuine response is accepted afterwards
        genuine = response_form(request, shown)  # type: ignore[arg-type]
        assert service.call("POST", "/oid4vp/response", form=genuine, token=None)[0] == 200
        assert service.result(made["transaction_id"])["ok"] is True


def _present_x509(world: World, service: Service, **kw: object) -> object:
    made = service.create(client="x509")
    kw.setdefault("trust_anchors", [PKI.root])
    return present(
        world.wallet,
        made["authorization_request"],
        consent=_yes,
        transport=RecordingTransport(),
        resolver=Resolver.offline(),
        **kw,  # type: ignore[arg-type]
    )


def test_x509_san_mismatch_is_refused(world: World, tmp_path: Path) -> None:
    """The verifier calls itself x509_san_dns:localhost, its certificate names another host."""
    world.store()
    elsewhere = VerifierPKI.make("verifier.example")
    with (
        verifier_service(world, tmp_path, pki=elsewhere) as service,
        pytest.raises(OID4VPError) as refused,
    ):
        _present_x509(world, service, trust_anchors=[elsewhere.root])
    assert refused.value.code == "x509_san_mismatch"
    assert world.wallet.history() == []


def test_x509_chain_to_no_trusted_anchor_is_refused(world: World, tmp_path: Path) -> None:
    world.store()
    other_root = VerifierPKI.make("localhost").root
    with verifier_service(world, tmp_path) as service:
        for anchors in ([other_root], []):
            with pytest.raises(OID4VPError) as refused:
                _present_x509(world, service, trust_anchors=anchors)
            assert refused.value.code == "x509_untrusted"
            assert refused.value.error == "invalid_client"


def test_x509_response_uri_must_be_on_the_certified_name(world: World, tmp_path: Path) -> None:
    """A certificate for verifier.example, a response URI on localhost: refused unless the
    wallet trusts that client identifier by name."""
    world.store()
    named = VerifierPKI.make("verifier.example")
    with verifier_service(world, tmp_path, pki=named, dns_name="verifier.example") as service:
        with pytest.raises(OID4VPError) as refused:
            _present_x509(world, service, trust_anchors=[named.root])
        assert refused.value.code == "response_uri_mismatch"
        outcome = _present_x509(
            world,
            service,
            trust_anchors=[named.root],
            trusted_client_ids={"x509_san_dns:verifier.example"},
        )
    assert outcome.request.client_id == "x509_san_dns:verifier.example"  # type: ignore[attr-defined]


def test_the_page_can_be_switched_off(world: World, tmp_path: Path) -> None:
    with verifier_service(world, tmp_path, page=False) as service:
        status, _, body = service.call("GET", "/verifier", token=None)
        assert status == 404 and body["code"] == "http_error"
        assert service.create()["authorization_request"].startswith("openid4vp://")


def test_a_request_object_replayed_without_our_wallet_nonce_is_refused(
    world: World, tmp_path: Path
) -> None:
    """request_uri_method=post: the wallet sends a fresh wallet_nonce; a request object
    fetched earlier (by GET, without it) and served in its place is refused."""
    world.store()
    with verifier_service(world, tmp_path) as service:
        made = service.create(request_uri_method="post")
        path = made["request_uri"].removeprefix(service.base)
        status, _, earlier = service.call("GET", path, token=None)
        assert status == 200

        def stale(url: str, body: bytes) -> bytes:
            return earlier if "/oid4vp/requests/" in url else body

        with pytest.raises(OID4VPError) as refused:
            present(
                world.wallet,
                made["authorization_request"],
                consent=_yes,
                transport=RecordingTransport(edit=stale),
                resolver=Resolver.offline(),
            )
    assert refused.value.code == "wallet_nonce_mismatch"


def test_a_link_naming_another_client_is_refused(world: World, tmp_path: Path) -> None:
    from urllib.parse import quote

    world.store()
    with verifier_service(world, tmp_path) as service:
        made = service.create()
        other = "decentralized_identifier:did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
        forged = made["authorization_request"].replace(
            quote(made["client_id"], safe=""), quote(other, safe="")
        )
        assert forged != made["authorization_request"]
        with pytest.raises(OID4VPError) as refused:
            present(
                world.wallet,
                forged,
                consent=_yes,
                transport=RecordingTransport(),
                resolver=Resolver.offline(),
            )
    assert refused.value.code == "client_id_mismatch"


def test_a_request_object_of_another_type_is_refused(world: World, tmp_path: Path) -> None:
    def retype(url: str, body: bytes) -> bytes:
        if "/oid4vp/requests/" not in url:
            return body
        head, rest = body.decode().split(".", 1)
        header = json.loads(b64url_decode(head))
        header["typ"] = "JWT"
        return (b64url_encode(json.dumps(header).encode()) + "." + rest).encode()

    with verifier_service(world, tmp_path) as service:
        made = service.create()
        with pytest.raises(OID4VPError) as refused:
            present(
                world.wallet,
                made["authorization_request"],
                consent=_yes,
                transport=RecordingTransport(edit=retype),
                resolver=Resolver.offline(),
            )
    assert refused.value.code == "request_typ_invalid"
