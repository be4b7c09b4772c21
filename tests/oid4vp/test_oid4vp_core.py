"""The protocol core without HTTP: request object, verification, response, decision."""

from __future__ import annotations

import pytest
from oid4vp_world import World

from did_methods.resolver import Resolver
from ssi_wallet import policies
from ssi_wallet.oid4vp import AuthorizationRequestURI, OID4VPError, verify_request_object
from ssi_wallet.oid4vp.wallet import response_form


@pytest.mark.parametrize("fmt", ["sd-jwt", "di-eddsa"])
def test_did_client_direct_post_accepted(world: World, fmt: str) -> None:
    world.store(fmt)
    oid = world.oid4vp()
    made = oid.create(policies.right_to_work())
    uri = AuthorizationRequestURI.parse(made.authorization_request)
    assert uri.request_uri == made.request_uri
    text = oid.request_object(made.request_uri.rsplit("/", 1)[1])
    request = verify_request_object(text, uri, resolver=Resolver.offline())
    assert request.client_id == f"decentralized_identifier:{world.verifier_did}"
    presentation = world.wallet.answer(request.presentation_request(), consent=lambda _: True)
    ack = oid.receive(response_form(request, presentation))
    assert ack.to_json() == {}
    result = oid.result(made.transaction_id)
    assert result.status == "answered"
    assert result.report is not None and result.report.accepted, result.report.explain()
    with pytest.raises(OID4VPError) as replay:
        oid.receive(response_form(request, presentation))
    assert replay.value.code == "response_replayed"


def _fetched(world: World, oid: object, **create: object) -> tuple[object, object, str]:
    from ssi_wallet.oid4vp import OID4VPVerifier

    assert isinstance(oid, OID4VPVerifier)
    made = oid.create(policies.right_to_work(), **create)  # type: ignore[arg-type]
    uri = AuthorizationRequestURI.parse(made.authorization_request)
    return made, uri, oid.request_object(made.request_uri.rsplit("/", 1)[1])


def test_tampered_request_object_is_refused(world: World) -> None:
    oid = world.oid4vp()
    _, uri, text = _fetched(world, oid)
    head, body, sig = text.split(".")
    from did_methods.encoding import b64url_decode, b64url_encode

    claims = b64url_decode(body).replace(
        b'"response_uri":"https://verifier.example', b'"response_uri":"https://evil.example'
    )
    forged = f"{head}.{b64url_encode(claims)}.{sig}"
    with pytest.raises(OID4VPError) as refused:
        verify_request_object(forged, uri, resolver=Resolver.offline())  # type: ignore[arg-type]
    assert refused.value.code == "request_signature_invalid"


def test_unknown_client_id_prefix_is_refused_before_fetching() -> None:
    for client_id in ("verifier_attestation:x", "x509_hash:abc", "https://rp.example", "plain"):
        uri = "openid4vp://?" + __import__("urllib.parse").parse.urlencode(
            {"client_id": client_id, "request_uri": "https://rp.example/r/1"}
        )
        with pytest.raises(OID4VPError) as refused:
            AuthorizationRequestURI.parse(uri)
        assert refused.value.code == "client_id_prefix_unsupported"


def test_a_response_to_one_request_fails_another(world: World) -> None:
    world.store()
    oid = world.oid4vp()
    _, uri_a, text_a = _fetched(world, oid)
    made_b, uri_b, text_b = _fetched(world, oid)
    a = verify_request_object(text_a, uri_a, resolver=Resolver.offline())  # type: ignore[arg-type]
    b = verify_request_object(text_b, uri_b, resolver=Resolver.offline())  # type: ignore[arg-type]
    shown = world.wallet.answer(a.presentation_request(), consent=lambda _: True)
    form = response_form(a, shown)
    form["state"] = b.state or ""
    oid.receive(form)
    report = oid.result(made_b.transaction_id).report  # type: ignore[attr-defined]
    assert report is not None and not report.accepted
    assert "kb_nonce_mismatch" in report.codes, report.codes


def test_unknown_state_is_refused(world: World) -> None:
    oid = world.oid4vp()
    with pytest.raises(OID4VPError) as refused:
        oid.receive({"vp_token": "{}", "state": "no-such-state"})
    assert refused.value.code == "state_unknown"


def test_the_package_exports_its_surface() -> None:
    import ssi_wallet.oid4vp as package

    assert list(package.__all__) == sorted(package.__all__)
    for name in package.__all__:
        assert getattr(package, name).__module__.startswith("ssi_wallet.oid4vp")
