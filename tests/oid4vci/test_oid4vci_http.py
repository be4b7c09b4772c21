"""OpenID4VCI 1.0 over real HTTP: our wallet against our issuer, and each refusal with its code."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from oid4vci_world import (
    FORMATS,
    TOKEN,
    World,
)
from oid4vci_world import (
    form_post as _form,
)
from oid4vci_world import (
    json_of as _json,
)
from oid4vci_world import (
    json_post as _post,
)
from oid4vci_world import (
    nonce as _nonce,
)
from oid4vci_world import (
    proof as _proof,
)
from oid4vci_world import (
    refused as _refused,
)

from credentials._jws import dumps, sign_compact
from credentials.jws import CompactJWS
from credentials.jwt_vc import CREDENTIALS_V1_CONTEXT as V1
from credentials.sd_jwt import SdJwt
from did_methods.keys import KeyType, PrivateKey, jwk_thumbprint
from ssi_wallet import Holder, Verifier, policies
from ssi_wallet.oid4vci import PRE_AUTHORIZED_CODE, IssuerResponseError


def _access_token(world: World, cids: list[str] | None = None) -> str:
    offer = world.service.offer(
        cids or ["WorkPermit.sd_jwt"], claims={"WorkPermit": world.claims()}, tx_code=False
    )
    reply = _form(
        world,
        "/token",
        {"grant_type": PRE_AUTHORIZED_CODE, "pre-authorized_code": offer.data.pre_authorized_code},
    )
    assert reply.status == 200, reply.body
    token: str = _json(reply)["access_token"]
    return token


def _credential(world: World, token: str, proofs: list[str], cid: str = "WorkPermit.sd_jwt"):
    return _post(
        world, "/credential", {"credential_configuration_id": cid, "proofs": {"jwt": proofs}}, token
    )


# -- metadata ------------------------------------------------------------------------------


def test_metadata_documents_at_their_well_known_paths(world: World) -> None:
    reply = world.call(
        "GET",
        "/.well-known/openid-credential-issuer",
        headers={"Accept-Language": "de-CH, fr;q=0.5"},
    )
    metadata = _json(reply)
    assert reply.status == 200 and reply.headers["content-language"] == "de, fr"
    assert metadata["credential_issuer"] == world.base
    for name in ("credential", "nonce", "deferred_credential", "notification"):
        assert metadata[f"{name}_endpoint"] == f"{world.base}/{name}"
    sd = metadata["credential_configurations_supported"]["WorkPermit.sd_jwt"]
    assert sd["format"] == "dc+sd-jwt" and sd["vct"].startswith("https://")
    assert sd["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"]
    labels = {d["locale"] for d in sd["credential_metadata"]["claims"][0]["display"]}
    assert labels == {"de", "fr"}
    ldp = metadata["credential_configurations_supported"]["WorkPermit.ldp_vc"]
    assert ldp["credential_signing_alg_values_supported"] == ["eddsa-jcs-2022"]
    assert metadata["batch_credential_issuance"] == {"batch_size": 4}
    server = _json(world.call("GET", "/.well-known/oauth-authorization-server"))
    assert server["issuer"] == world.base
    assert server["token_endpoint"] == f"{world.base}/token"
    assert server["code_challenge_methods_supported"] == ["S256"]
    assert server["pre-authorized_grant_anonymous_access_supported"] is True


# -- the pre-authorized code flow ----------------------------------------------------------


@pytest.mark.parametrize("suffix", list(FORMATS))
@pytest.mark.parametrize("by_reference", [True, False])
def test_pre_authorized_flow_in_every_format(world: World, suffix: str, by_reference: bool) -> None:
    cid = f"WorkPermit.{suffix}"
    offer = world.service.offer(
        [cid], claims={"WorkPermit": world.claims()}, by_reference=by_reference
    )
    assert offer.tx_code is not None and len(offer.tx_code) == 6
    assert ("credential_offer_uri=" in offer.uri) is by_reference
    asked: list[Any] = []

    def type_code(description: Any) -> str:
        asked.append(description)
        assert offer.tx_code is not None
        return offer.tx_code

    result = world.client().receive(offer.uri, tx_code=type_code)
    assert asked == [{"input_mode": "numeric", "length": 6}]
    assert [c.format for c in result.stored] == [FORMATS[suffix]]
    assert result.stored[0].issuer == world.ministry.did
    assert result.pending == []
    events = world.service.notifications(offer.case_id)
    assert [e["event"] for e in events] == ["credential_accepted"]


def test_a_received_credential_is_presented_with_its_own_key(world: World) -> None:
    offer = world.service.offer(["WorkPermit.sd_jwt"], claims={"WorkPermit": world.claims()})
    stored = world.client().receive(offer.uri, tx_code=offer.tx_code).stored[0]
    verifier = Verifier(
        world.ledger, audience="did:web:employer.example", status_fetcher=world.ministry.board
    )
    request = verifier.request(policies.right_to_work(sector="Q86"))
    # only this credential may answer
    for other in world.wallet.credentials():
        if other.id != stored.id:
            world.wallet.delete(other.id)
    answer = world.wallet.answer(request, consent=lambda _: True)
    report = verifier.check(answer, request)
    assert report.ok, report.explain()


def test_batch_binds_each_instance_to_its_own_key(world: World) -> None:
    offer = world.service.offer(["WorkPermit.sd_jwt"], claims={"WorkPermit": world.claims()})
    result = world.client().receive(offer.uri, tx_code=offer.tx_code, batch=3)
    assert len(result.stored) == 3
    keys = {
        jwk_thumbprint(SdJwt.parse(c.raw).unverified_payload["cnf"]["jwk"])  # type: ignore[arg-type]
        for c in result.stored
    }
    assert len(keys) == 3
    subjects = {c.claims["sub"] for c in result.stored}
    assert len(subjects) == 3  # no shared identifier across the instances


def test_batch_in_a_w3c_format_uses_distinct_subject_dids(world: World) -> None:
    offer = world.service.offer(["WorkPermit.jwt_vc_json"], claims={"WorkPermit": world.claims()})
    result = world.client().receive(offer.uri, tx_code=offer.tx_code, batch=2)
    subjects = {c.claims["credentialSubject"]["id"] for c in result.stored}
    assert len(subjects) == 2


def test_jwt_vc_json_is_a_vc_data_model_1_1_jwt_bound_by_sub_and_presented(
    world: World,
) -> None:
    """OpenID4VCI 1.0 A.1.1: a jwt_vc_json configuration (credential_definition.type in the
    metadata) issues a VC Data Model 1.1 JWT whose sub is the did:jwk of the proved key; the
    wallet keeps it as the credential it decodes to, and presents it to a verifier as a
    VC DM 1.1 presentation JWT signed by that did:jwk, which the verifier's policy accepts."""
    config = world.service.issuer_metadata()["credential_configurations_supported"][
        "WorkPermit.jwt_vc_json"
    ]
    assert config["format"] == "jwt_vc_json"
    assert config["credential_definition"] == {"type": ["VerifiableCredential", "WorkPermit"]}
    offer = world.service.offer(["WorkPermit.jwt_vc_json"], claims={"WorkPermit": world.claims()})
    stored = world.client().receive(offer.uri, tx_code=offer.tx_code).stored[0]
    assert isinstance(stored.raw, str)
    token = CompactJWS.parse(stored.raw)
    assert token.header["typ"] == "JWT"
    claims = token.payload
    assert claims["iss"] == world.ministry.did and claims["vc"]["@context"][0] == V1
    assert claims["sub"].startswith("did:jwk:") and isinstance(claims["nbf"], int)
    assert "issuer" not in claims["vc"] and "issuanceDate" not in claims["vc"]
    # the decoded credential is what the wallet matches DCQL queries against
    assert stored.format == "jwt_vc_json" and stored.types == ("VerifiableCredential", "WorkPermit")
    assert stored.claims["credentialSubject"]["id"] == claims["sub"]
    assert stored.claims["issuer"] == world.ministry.did
    verifier = Verifier(
        world.ledger, audience="did:web:employer.example", status_fetcher=world.ministry.board
    )
    request = verifier.request(policies.right_to_work(sector="Q86"), formats=["jwt_vc_json"])
    for other in world.wallet.credentials():
        if other.id != stored.id:
            world.wallet.delete(other.id)
    answer = world.wallet.answer(request, consent=lambda _: True)
    (vp_text,) = answer.vp_token["work_jwt"]
    vp = CompactJWS.parse(vp_text)
    assert vp.payload["iss"] == claims["sub"] and vp.header["kid"] == claims["sub"] + "#0"
    assert vp.payload["aud"] == "did:web:employer.example"
    assert vp.payload["vp"]["verifiableCredential"] == [stored.raw]
    report = verifier.check(answer, request)
    assert report.ok, report.explain()
    # revoked by the issuer: the status list (in the credential's credentialStatus) says so
    entry = stored.claims["credentialStatus"][0]
    assert entry["statusListCredential"].endswith("/revocation")  # list set 0
    world.ministry.revoke(int(entry["statusListIndex"]))
    fresh = Verifier(  # a verifier with no cached copy of the list
        world.ledger, audience="did:web:employer.example", status_fetcher=world.ministry.board
    )
    second = fresh.request(policies.right_to_work(sector="Q86"), formats=["jwt_vc_json"])
    refused = fresh.check(world.wallet.answer(second, consent=lambda _: True), second)
    assert not refused.ok
    assert "revoked" in [f.code for f in refused.findings], refused.explain()


def test_deferred_issuance(world: World) -> None:
    offer = world.service.offer(["ResidencePermit.sd_jwt"], claims={"ResidencePermit": None})
    client = world.client()
    resolved = client.resolve_offer(offer.uri)
    result = client.receive(offer.uri, tx_code=offer.tx_code)
    assert result.stored == [] and len(result.pending) == 1
    pending = result.pending[0]
    assert pending.interval > 0
    again = client.fetch_deferred(pending, resolved)  # not ready: 202 again
    assert again.stored == [] and again.pending[0].transaction_id == pending.transaction_id
    world.service.provide(offer.case_id, "ResidencePermit", world.claims("ResidencePermit"))
    done = client.fetch_deferred(pending, resolved)
    assert [c.format for c in done.stored] == ["dc+sd-jwt"]
    assert [e["event"] for e in world.service.notifications(offer.case_id)] == [
        "credential_accepted"
    ]
    with pytest.raises(IssuerResponseError) as caught:  # the transaction is spent
        client.fetch_deferred(pending, resolved)
    assert caught.value.code == "invalid_transaction_id"


def test_qr_code_of_an_offer(world: World) -> None:
    offer = world.service.offer(["WorkPermit.sd_jwt"], claims={"WorkPermit": world.claims()})
    svg = offer.qr_svg()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert offer.qr_png()[:8] == b"\x89PNG\r\n\x1a\n"


# -- refusals at the token endpoint --------------------------------------------------------


def test_pre_authorized_code_is_single_use(world: World) -> None:
    offer = world.service.offer(
        ["WorkPermit.sd_jwt"], claims={"WorkPermit": world.claims()}, tx_code=False
    )
    form = {
        "grant_type": PRE_AUTHORIZED_CODE,
        "pre-authorized_code": offer.data.pre_authorized_code or "",
    }
    assert _form(world, "/token", form).status == 200
    _refused(_form(world, "/token", form), 400, "invalid_grant")


def test_transaction_code_refusals(world: World) -> None:
    offer = world.service.offer(["WorkPermit.sd_jwt"], claims={"WorkPermit": world.claims()})
    assert offer.tx_code is not None
    form = {
        "grant_type": PRE_AUTHORIZED_CODE,
        "pre-authorized_code": offer.data.pre_authorized_code or "",
    }
    _refused(_form(world, "/token", form), 400, "invalid_request")  # missing
    wrong = str((int(offer.tx_code) + 1) % 1_000_000).zfill(6)
    _refused(_form(world, "/token", {**form, "tx_code": wrong}), 400, "invalid_grant")
    # still usable after one wrong guess, with the right code
    assert _form(world, "/token", {**form, "tx_code": offer.tx_code}).status == 200
    # a code that asks for no tx_code refuses one
    plain = world.service.offer(
        ["WorkPermit.sd_jwt"], claims={"WorkPermit": world.claims()}, tx_code=False
    )
    _refused(
        _form(
            world,
            "/token",
            {
                "grant_type": PRE_AUTHORIZED_CODE,
                "tx_code": "123456",
                "pre-authorized_code": plain.data.pre_authorized_code or "",
            },
        ),
        400,
        "invalid_request",
    )


def test_three_wrong_transaction_codes_burn_the_offer(world: World) -> None:
    offer = world.service.offer(["WorkPermit.sd_jwt"], claims={"WorkPermit": world.claims()})
    assert offer.tx_code is not None
    form = {
        "grant_type": PRE_AUTHORIZED_CODE,
        "pre-authorized_code": offer.data.pre_authorized_code or "",
    }
    wrong = str((int(offer.tx_code) + 1) % 1_000_000).zfill(6)
    for _ in range(3):
        _refused(_form(world, "/token", {**form, "tx_code": wrong}), 400, "invalid_grant")
    _refused(_form(world, "/token", {**form, "tx_code": offer.tx_code}), 400, "invalid_grant")


def test_expired_offer_and_pre_authorized_code(world: World) -> None:
    offer = world.service.offer(
        ["WorkPermit.sd_jwt"], claims={"WorkPermit": world.claims()}, tx_code=False
    )
    world.advance(world.service.offer_ttl + 1)
    try:
        reference = offer.uri.split("credential_offer_uri=", 1)[1]
        from urllib.parse import unquote, urlsplit

        path = urlsplit(unquote(reference)).path
        _refused(world.call("GET", path), 404, "invalid_request")
        form = {
            "grant_type": PRE_AUTHORIZED_CODE,
            "pre-authorized_code": offer.data.pre_authorized_code or "",
        }
        _refused(_form(world, "/token", form), 400, "invalid_grant")
        with pytest.raises(IssuerResponseError) as caught:
            world.client().receive(offer.uri)
        assert caught.value.code == "invalid_request" and caught.value.status == 404
    finally:
        world.advance(-(world.service.offer_ttl + 1))


def test_unknown_grant_type_and_repeated_parameters(world: World) -> None:
    _refused(_form(world, "/token", {"grant_type": "password"}), 400, "unsupported_grant_type")
    body = b"grant_type=x&grant_type=y"
    reply = world.call(
        "POST", "/token", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    _refused(reply, 400, "invalid_request")


# -- refusals at the credential endpoint ---------------------------------------------------


def test_no_or_unknown_access_token(world: World) -> None:
    reply = _post(world, "/credential", {"credential_configuration_id": "WorkPermit.sd_jwt"})
    body = _refused(reply, 401, "invalid_token")
    assert reply.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert body["error_description"]
    _refused(_credential(world, "not-a-token", [_proof(world)]), 401, "invalid_token")


def test_wrong_nonce_and_replayed_nonce(world: World) -> None:
    token = _access_token(world)
    _refused(
        _credential(world, token, [_proof(world, nonce="made-up-nonce")]), 400, "invalid_nonce"
    )
    nonce = _nonce(world)
    assert _credential(world, token, [_proof(world, nonce=nonce)]).status == 200
    _refused(_credential(world, token, [_proof(world, nonce=nonce)]), 400, "invalid_nonce")


def test_wrong_audience(world: World) -> None:
    token = _access_token(world)
    reply = _credential(world, token, [_proof(world, audience="https://other-issuer.example")])
    assert "aud" in _refused(reply, 400, "invalid_proof")["error_description"]


def test_key_proof_by_another_key(world: World) -> None:
    token = _access_token(world)
    named, signer = PrivateKey.generate(KeyType.P256), PrivateKey.generate(KeyType.P256)
    claims = {"aud": world.base, "iat": int(time.time()), "nonce": _nonce(world)}
    forged = sign_compact(
        {"typ": "openid4vci-proof+jwt", "jwk": named.public_key.to_jwk()}, dumps(claims), signer
    )
    reply = _credential(world, token, [forged])
    assert "signature" in _refused(reply, 400, "invalid_proof")["error_description"]


def test_alg_none_private_jwk_and_wrong_typ(world: World) -> None:
    token = _access_token(world)
    key = PrivateKey.generate(KeyType.P256)
    from did_methods.encoding import b64url_encode

    claims = {"aud": world.base, "iat": int(time.time()), "nonce": _nonce(world)}
    header = {"typ": "openid4vci-proof+jwt", "alg": "none", "jwk": key.public_key.to_jwk()}
    unsigned = b64url_encode(dumps(header)) + "." + b64url_encode(dumps(claims)) + "."
    _refused(_credential(world, token, [unsigned]), 400, "invalid_proof")
    private = sign_compact(
        {"typ": "openid4vci-proof+jwt", "jwk": key.private_jwk()}, dumps(claims), key
    )
    reply = _credential(world, token, [private])
    assert "private" in _refused(reply, 400, "invalid_proof")["error_description"]
    other_typ = sign_compact({"typ": "kb+jwt", "jwk": key.public_key.to_jwk()}, dumps(claims), key)
    _refused(_credential(world, token, [other_typ]), 400, "invalid_proof")


def test_stale_key_proof(world: World) -> None:
    token = _access_token(world)
    reply = _credential(world, token, [_proof(world, now=datetime.now(UTC) - timedelta(hours=1))])
    assert "old" in _refused(reply, 400, "invalid_proof")["error_description"]


def test_batch_limits(world: World) -> None:
    token = _access_token(world)
    nonce = _nonce(world)
    too_many = [_proof(world, nonce=nonce) for _ in range(5)]
    _refused(_credential(world, token, too_many), 400, "invalid_proof")
    key = PrivateKey.generate(KeyType.P256)
    twice = [_proof(world, key, nonce=nonce), _proof(world, key, nonce=nonce)]
    _refused(_credential(world, token, twice), 400, "invalid_proof")


def test_configuration_not_known_or_not_offered(world: World) -> None:
    token = _access_token(world)
    _refused(
        _credential(world, token, [_proof(world)], "NoSuchThing.sd_jwt"),
        400,
        "unknown_credential_configuration",
    )
    _refused(_credential(world, token, [_proof(world)], "Visa.sd_jwt"), 403, "insufficient_scope")
    reply = _post(world, "/credential", {"credential_configuration_id": "WorkPermit.sd_jwt"}, token)
    _refused(reply, 400, "invalid_proof")  # no proofs at all
    both = {
        "credential_configuration_id": "WorkPermit.sd_jwt",
        "credential_identifier": "x",
        "proofs": {"jwt": [_proof(world)]},
    }
    _refused(_post(world, "/credential", both, token), 400, "invalid_credential_request")


def test_notification_refusals(world: World) -> None:
    token = _access_token(world)
    _refused(
        _post(
            world,
            "/notification",
            {"notification_id": "nope", "event": "credential_accepted"},
            token,
        ),
        400,
        "invalid_notification_id",
    )
    reply = _credential(world, token, [_proof(world)])
    nid = _json(reply)["notification_id"]
    _refused(
        _post(world, "/notification", {"notification_id": nid, "event": "liked_it"}, token),
        400,
        "invalid_notification_request",
    )
    ok = _post(
        world, "/notification", {"notification_id": nid, "event": "credential_deleted"}, token
    )
    assert ok.status == 204 and ok.body == b""
    other = _access_token(world)  # another case's token cannot notify for this one
    _refused(
        _post(
            world, "/notification", {"notification_id": nid, "event": "credential_accepted"}, other
        ),
        400,
        "invalid_notification_id",
    )


def test_bodies_are_bounded(world: World) -> None:
    token = _access_token(world)
    big = {"credential_configuration_id": "WorkPermit.sd_jwt", "pad": "x" * 70_000}
    _refused(_post(world, "/credential", big, token), 413, "invalid_request")


# -- the back office -----------------------------------------------------------------------


def test_back_office_makes_offers_only_with_its_token(world: World) -> None:
    body = {
        "credential_configuration_ids": ["WorkPermit.sd_jwt"],
        "claims": {"WorkPermit": world.claims()},
    }
    reply = _post(world, "/offers", body)
    assert reply.status == 401
    made = _post(world, "/offers", body, TOKEN)
    assert made.status == 201
    offer = _json(made)
    stored = world.client().receive(offer["credential_offer"], tx_code=offer["tx_code"]).stored
    assert len(stored) == 1
    events = world.call(
        "GET",
        f"/cases/{offer['case_id']}/notifications",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert [e["event"] for e in _json(events)["events"]] == ["credential_accepted"]


def test_batch_instances_keep_their_keys_through_a_backup(world: World, tmp_path: Path) -> None:
    offer = world.service.offer(["WorkPermit.sd_jwt"], claims={"WorkPermit": world.claims()})
    holder = Holder.create(":memory:", passphrase="p", resolver=world.ledger.resolver())
    received = world.client_for(holder).receive(offer.uri, tx_code=offer.tx_code, batch=2)
    holder.backup(tmp_path / "b.backup", passphrase="p")
    restored = Holder.from_backup(
        tmp_path / "b.backup",
        tmp_path / "restored.wallet",
        passphrase="p",
        resolver=world.ledger.resolver(),
    )
    assert {c.id for c in restored.credentials()} == {c.id for c in received.stored}
    verifier = Verifier(
        world.ledger, audience="did:web:employer.example", status_fetcher=world.ministry.board
    )
    request = verifier.request(policies.right_to_work(sector="Q86"))
    report = verifier.check(restored.answer(request, consent=lambda _: True), request)
    assert report.ok, report.explain()


def test_a_batch_may_carry_one_nonce_per_proof(world: World) -> None:
    token = _access_token(world)
    fresh = [_proof(world, nonce=_nonce(world)) for _ in range(2)]
    assert len(_json(_credential(world, token, fresh))["credentials"]) == 2
    one_unknown = [_proof(world, nonce=_nonce(world)), _proof(world, nonce="never-issued")]
    _refused(_credential(world, token, one_unknown), 400, "invalid_nonce")


def test_an_expired_access_token(world: World) -> None:
    token = _access_token(world)
    world.advance(world.service.token_ttl + 1)
    try:
        _refused(_credential(world, token, [_proof(world)]), 401, "invalid_token")
    finally:
        world.advance(-(world.service.token_ttl + 1))
