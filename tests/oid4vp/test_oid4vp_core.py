"""The protocol core without HTTP: request object, verification, response, decision."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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
    result = oid.result(made.transaction_id, result_token=made.result_token)
    assert result.status == "answered"
    assert result.report is not None and result.report.ok, result.report.explain()
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
    unknown = ("origin:https://rp.example", "openid_federation:x", "https://rp.example", "plain")
    for client_id in unknown:
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
    report = oid.result(made_b.transaction_id, result_token=made_b.result_token).report  # type: ignore[attr-defined]
    assert report is not None and not report.ok
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


def test_redirect_uri_requests_travel_by_value_and_bind_the_response_uri(world: World) -> None:
    from urllib.parse import quote

    oid = world.oid4vp(world.redirect_client())
    made = oid.create(policies.right_to_work())
    assert "request_uri=" not in made.authorization_request
    uri = AuthorizationRequestURI.parse(made.authorization_request)
    assert uri.parameters is not None and uri.request_uri is None
    request = verify_request_object(None, uri, resolver=Resolver.offline())
    assert request.client_id == "redirect_uri:https://verifier.example/oid4vp/response"
    # the response URI moved elsewhere: the client id no longer names it
    moved = made.authorization_request.replace(
        "response_uri=" + quote("https://verifier.example", safe=""),
        "response_uri=" + quote("https://evil.example", safe=""),
    )
    assert moved != made.authorization_request
    with pytest.raises(OID4VPError) as refused:
        verify_request_object(
            None, AuthorizationRequestURI.parse(moved), resolver=Resolver.offline()
        )
    assert refused.value.code == "response_uri_mismatch"


def test_parameters_by_value_need_the_unsigned_prefix() -> None:
    with pytest.raises(OID4VPError) as refused:
        AuthorizationRequestURI.parse(
            "openid4vp://?client_id=decentralized_identifier%3Adid%3Akey%3Az6Mk&nonce=abc"
            "&response_type=vp_token"
        )
    assert refused.value.code == "request_unsigned"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400) | st.binary(max_size=400).map(lambda b: b.hex()))
def test_garbage_uris_and_request_objects_are_typed_errors(text: str) -> None:
    from did_methods.errors import SSIWalletError

    for attempt in (
        lambda: AuthorizationRequestURI.parse(text),
        lambda: AuthorizationRequestURI.parse("openid4vp://?" + text),
        lambda: verify_request_object(text, _URI, resolver=Resolver.offline()),
    ):
        try:
            attempt()
        except SSIWalletError:
            pass


_URI = AuthorizationRequestURI("redirect_uri:https://rp.example/r", "https://rp.example/q")


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["state", "vp_token", "response", "error"]), st.text(max_size=200)
    )
)
def test_garbage_responses_are_refused_with_a_code(world_once: World, form: dict[str, str]) -> None:
    oid = world_once.oid4vp()
    with pytest.raises(OID4VPError) as refused:
        oid.receive(form)
    assert refused.value.code in {"state_unknown", "response_invalid", "response_key_unknown"}


def test_an_expired_transaction_is_refused(world: World) -> None:
    from datetime import UTC, datetime, timedelta

    from ssi_wallet import Verifier
    from ssi_wallet.oid4vp import OID4VPVerifier

    moment = [datetime.now(UTC)]
    client = world.did_client()
    oid = OID4VPVerifier(
        Verifier(world.ledger, audience=client.client_id, clock=lambda: moment[0]),
        client,
        response_uri="https://verifier.example/oid4vp/response",
        request_uri_base="https://verifier.example/oid4vp/requests/",
        clock=lambda: moment[0],
    )
    made = oid.create(policies.right_to_work())
    request_id = made.request_uri.rsplit("/", 1)[1]
    uri = AuthorizationRequestURI.parse(made.authorization_request)
    text = oid.request_object(request_id)
    request = verify_request_object(text, uri, resolver=Resolver.offline())
    moment[0] += timedelta(seconds=601)
    for late in (
        lambda: oid.request_object(request_id),
        lambda: oid.receive({"vp_token": "{}", "state": request.state or ""}),
    ):
        with pytest.raises(OID4VPError) as refused:
            late()
        assert refused.value.code == "transaction_expired"
    # the wallet, reading the request object late, refuses it too (exp, 60 s of skew)
    with pytest.raises(OID4VPError) as stale:
        verify_request_object(
            text, uri, resolver=Resolver.offline(), now=moment[0].timestamp() + 60
        )
    assert stale.value.code == "request_expired"
