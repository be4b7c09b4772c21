"""Attacks on status: a status list must be its issuer's list credential, and fail closed.

Issue 10 items 3 and 4. Status lists are fetched over real HTTP from the world's
server on 127.0.0.1; a compromised status host is played by ``server.plant``.
Each test asserts the exact refusal code.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from trust_world import VC_V2, World, subject_claims

from credentials.barcode import encode_barcode
from credentials.data_integrity import add_proof
from credentials.jose import envelope_vc_jwt, issue_vc_jwt, issue_vp_jwt
from credentials.status_list import StatusList, make_status_list_credential
from credentials.token_status_list import (
    TokenStatusList,
    TokenStatusListResolver,
    make_status_list_token,
    status_claim,
)
from credentials.verify import StatusResolvers, verify_credential, verify_presentation
from ssi_wallet import Issuer, StatusBoard

INDEX = 4242


def check(world: World, credential: Any, fmt: str, **kw: Any) -> Any:
    kw.setdefault("status", world.fetcher())
    return verify_credential(
        credential,
        formats=fmt,
        credential_type=kw.pop("credential_type", None),
        resolver=world.ledger.resolver(),
        now=world.now[0],
        **kw,
    )


def issued(world: World, fmt: str, type_name: str = "WorkPermit", **kw: Any) -> tuple[Any, int]:
    made = world.issue(type_name, fmt, **kw)
    assert made.status_index is not None
    return made.credential, made.status_index


def list_credential(
    world: World, url: str, *, issuer: str, purpose: str = "revocation", **extra: Any
) -> dict[str, Any]:
    unsigned = make_status_list_credential(
        StatusList(),
        id=url,
        issuer=issuer,
        purpose=purpose,
        valid_from=world.now[0] - timedelta(minutes=1),
        valid_until=world.now[0] + timedelta(days=1),
    )
    unsigned.update(extra)
    return unsigned


def ministry_signs(world: World, document: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return add_proof(
        document,
        world.ministry_key,
        verification_method=world.ministry.verification_method,
        created=world.now[0],
        **kw,
    )


def attacker_signs(world: World, document: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return add_proof(
        document,
        world.attacker.key,
        verification_method=world.attacker.vm,
        created=world.now[0],
        **kw,
    )


def revoked(world: World, fmt: str) -> Any:
    credential, index = issued(world, fmt)
    world.ministry.revoke(index)
    return credential


# -- the honest paths ----------------------------------------------------------------------


def test_a_clear_status_passes_in_every_format(world: World) -> None:
    for fmt, pinned in (("di-eddsa", "ldp_vc"), ("vc-jwt", "jwt_vc_json"), ("sd-jwt", "dc+sd-jwt")):
        credential, _ = issued(world, fmt)
        result = check(world, credential, pinned)
        assert result.ok, (fmt, result.explain())
        assert result.check("status").status == "passed"


# -- revoked and suspended, in every format that carries status ------------------------------


def test_revoked_di_credential(world: World) -> None:
    assert check(world, revoked(world, "di-eddsa"), "ldp_vc").codes == ("revoked",)


def test_revoked_vc_jwt_credential(world: World) -> None:
    assert check(world, revoked(world, "vc-jwt"), "jwt_vc_json").codes == ("revoked",)


def test_suspended_vc_jwt_credential(world: World) -> None:
    credential, index = issued(world, "vc-jwt")
    world.ministry.suspend(index)
    assert check(world, credential, "jwt_vc_json").codes == ("suspended",)
    world.ministry.reinstate(index)
    assert check(world, credential, "jwt_vc_json").ok


def test_revoked_sd_jwt_credential(world: World) -> None:
    assert check(world, revoked(world, "sd-jwt"), "dc+sd-jwt").codes == ("revoked",)


def test_revoked_vc_jwt_inside_a_vp_jwt(world: World) -> None:
    token = revoked(world, "vc-jwt")
    request = world.ask(world.verifier())
    vp = world.attacker_vp_jwt(request, credentials=[token])
    result = verify_presentation(
        vp,
        format="jwt_vc_json",
        nonce=request.nonce,
        audience=request.audience,
        credential_type="WorkPermit",
        resolver=world.ledger.resolver(),
        status=world.fetcher(),
        now=world.now[0],
    )
    assert result.codes == ("revoked",)


def test_revoked_vc_jwt_enveloped_in_a_di_presentation(world: World) -> None:
    token = revoked(world, "vc-jwt")
    request = world.ask(world.verifier())
    vp = world.attacker_vp(request, credentials=[envelope_vc_jwt(token)])
    result = verify_presentation(
        vp,
        format="ldp_vc",
        nonce=request.nonce,
        audience=request.audience,
        credential_formats=("ldp_vc", "jwt_vc_json"),
        credential_type=None,
        resolver=world.ledger.resolver(),
        status=world.fetcher(),
        now=world.now[0],
    )
    assert result.codes == ("revoked",)


def test_the_verifier_refuses_a_revoked_vc_jwt_end_to_end(world: World) -> None:
    world.wallet.store(revoked(world, "di-eddsa"))
    verifier = world.verifier()
    request = world.ask(verifier)
    assert verifier.check(world.answer(request), request).codes == ("revoked",)


# -- no fetcher: fail closed ---------------------------------------------------------------


def test_vc_jwt_with_status_and_no_fetcher_fails_closed(world: World) -> None:
    credential, _ = issued(world, "vc-jwt")
    assert check(world, credential, "jwt_vc_json", status=None).codes == ("status_unavailable",)


def test_di_with_status_and_no_fetcher_fails_closed(world: World) -> None:
    credential, _ = issued(world, "di-eddsa")
    assert check(world, credential, "ldp_vc", status=None).codes == ("status_unavailable",)


def test_sd_jwt_with_status_and_no_fetcher_fails_closed(world: World) -> None:
    credential, _ = issued(world, "sd-jwt")
    assert check(world, credential, "dc+sd-jwt", status=None).codes == ("status_unavailable",)


def test_vc_jwt_with_only_a_token_status_resolver_fails_closed(world: World) -> None:
    credential, _ = issued(world, "vc-jwt")
    tokens = TokenStatusListResolver(world.fetcher(), world.ledger.resolver())
    result = check(world, credential, "jwt_vc_json", status=tokens)
    assert result.codes == ("status_unavailable",)


def test_the_verifier_without_a_status_fetcher_fails_closed(world: World) -> None:
    world.wallet.store(world.issue("WorkPermit", "sd-jwt").credential)
    verifier = world.verifier(with_status=False)
    request = world.ask(verifier)
    assert verifier.check(world.answer(request), request).codes == ("status_unavailable",)


def test_unreachable_status_host_fails_closed(world: World) -> None:
    credential, _ = issued(world, "vc-jwt")
    world.server.plant(world.ministry.status_url("revocation"), b"")
    world.server.boards.clear()
    assert check(world, credential, "jwt_vc_json").codes == ("status_list_invalid",)


# -- forged Bitstring Status Lists served at the ministry's URL ------------------------------


def test_list_forged_by_another_key_in_the_ministrys_name(world: World) -> None:
    credential = revoked(world, "di-eddsa")
    url = world.ministry.status_url("revocation")
    world.server.plant(
        url, attacker_signs(world, list_credential(world, url, issuer=world.ministry.did))
    )
    assert check(world, credential, "ldp_vc").codes == ("status_list_invalid",)


def test_attackers_own_list_at_the_ministrys_url(world: World) -> None:
    credential = revoked(world, "vc-jwt")
    url = world.ministry.status_url("revocation")
    world.server.plant(
        url, attacker_signs(world, list_credential(world, url, issuer=world.attacker.did))
    )
    assert check(world, credential, "jwt_vc_json").codes == ("status_list_issuer_mismatch",)


def test_presentation_served_as_a_status_list(world: World) -> None:
    credential = revoked(world, "di-eddsa")
    url = world.ministry.status_url("revocation")
    body = list_credential(world, url, issuer=world.ministry.did)
    body["type"] = ["VerifiablePresentation", "BitstringStatusListCredential"]
    body["holder"] = world.attacker.did
    forged = attacker_signs(world, body, proof_purpose="authentication")
    world.server.plant(url, forged)
    assert check(world, credential, "ldp_vc").codes == ("status_list_untrusted",)


def test_presentation_as_list_un_revokes_nothing_end_to_end(world: World) -> None:
    world.wallet.store(revoked(world, "di-eddsa"))
    url = world.ministry.status_url("revocation")
    body = list_credential(world, url, issuer=world.ministry.did)
    body["type"] = ["VerifiablePresentation", "BitstringStatusListCredential"]
    body["holder"] = world.attacker.did
    world.server.plant(url, attacker_signs(world, body, proof_purpose="authentication"))
    verifier = world.verifier()
    request = world.ask(verifier)
    assert verifier.check(world.answer(request), request).codes == ("status_list_untrusted",)


def test_ministry_signed_credential_of_another_type_served_as_a_list(world: World) -> None:
    credential = revoked(world, "di-eddsa")
    url = world.ministry.status_url("revocation")
    body = list_credential(world, url, issuer=world.ministry.did)
    body["type"] = ["VerifiableCredential", "WorkPermit"]
    world.server.plant(url, ministry_signs(world, body))
    assert check(world, credential, "ldp_vc").codes == ("status_list_untrusted",)


def test_list_signed_for_authentication_not_assertion(world: World) -> None:
    credential = revoked(world, "vc-jwt")
    url = world.ministry.status_url("revocation")
    body = list_credential(world, url, issuer=world.ministry.did)
    world.server.plant(url, ministry_signs(world, body, proof_purpose="authentication"))
    assert check(world, credential, "jwt_vc_json").codes == ("status_list_invalid",)


def test_another_issuers_genuine_list_replayed_at_the_ministrys_url(world: World) -> None:
    credential = revoked(world, "di-eddsa")
    rogue_list = world.rogue.board.get(world.rogue.status_url("revocation"))
    assert rogue_list is not None
    world.server.plant(world.ministry.status_url("revocation"), rogue_list)
    # its id names the rogue's URL, not this one
    assert check(world, credential, "ldp_vc").codes == ("status_list_invalid",)


def test_rogue_credential_pointing_at_the_ministrys_list(world: World) -> None:
    # A rogue issuer names the ministry's (clear) list in its own credential.
    pointing = Issuer.create(
        None,
        name="Points at the ministry's lists",
        status_base=world.ministry.status_base,
        board=StatusBoard(),
        clock=lambda: world.now[0],
    )
    credential, _ = issued(world, "vc-jwt", issuer=pointing)
    assert check(world, credential, "jwt_vc_json").codes == ("status_list_issuer_mismatch",)


def test_unsigned_list_at_the_ministrys_url(world: World) -> None:
    credential = revoked(world, "di-eddsa")
    url = world.ministry.status_url("revocation")
    world.server.plant(url, list_credential(world, url, issuer=world.ministry.did))
    assert check(world, credential, "ldp_vc").codes == ("status_list_invalid",)


def test_a_work_permit_vc_jwt_served_as_a_list(world: World) -> None:
    credential = revoked(world, "di-eddsa")
    url = world.ministry.status_url("revocation")
    permit = world.ministry.issue(
        "WorkPermit",
        subject=world.wallet.did,
        claims=subject_claims("WorkPermit"),
        format="vc-jwt",
        with_status=False,
    )
    world.server.plant(url, permit.credential)
    assert check(world, credential, "ldp_vc").codes == ("status_list_untrusted",)


def vc_jwt_list(world: World, url: str, key: Any, kid: str, issuer: str, index: int) -> str:
    statuses = StatusList()
    statuses.set(index)
    body = make_status_list_credential(
        statuses,
        id=url,
        issuer=issuer,
        purpose="revocation",
        valid_from=world.now[0] - timedelta(minutes=1),
        valid_until=world.now[0] + timedelta(days=1),
    )
    return issue_vc_jwt(body, key, kid=kid, now=world.now[0])


def test_the_ministrys_list_secured_as_vc_jwt_is_honoured(world: World) -> None:
    credential, index = issued(world, "vc-jwt")
    url = world.ministry.status_url("revocation")
    token = vc_jwt_list(
        world, url, world.ministry_key, world.ministry.verification_method, world.ministry.did,
        index,
    )  # fmt: skip
    world.server.plant(url, token)
    assert check(world, credential, "jwt_vc_json").codes == ("revoked",)


def test_a_vc_jwt_list_forged_in_the_ministrys_name(world: World) -> None:
    credential, index = issued(world, "vc-jwt")
    url = world.ministry.status_url("revocation")
    forged = vc_jwt_list(
        world, url, world.attacker.key, world.ministry.verification_method, world.ministry.did,
        index + 1,
    )  # fmt: skip
    world.server.plant(url, forged)
    assert check(world, credential, "jwt_vc_json").codes == ("status_list_invalid",)


def test_a_vp_jwt_served_as_a_list(world: World) -> None:
    credential = revoked(world, "vc-jwt")
    url = world.ministry.status_url("revocation")
    body = list_credential(world, url, issuer=world.ministry.did)
    body["type"] = ["VerifiablePresentation", "BitstringStatusListCredential"]
    del body["issuer"]
    vp = issue_vp_jwt(body, world.attacker.key, kid=world.attacker.vm, now=world.now[0])
    world.server.plant(url, vp)
    assert check(world, credential, "jwt_vc_json").codes == ("status_list_untrusted",)


def test_shared_resolvers_keep_pinning_across_calls(world: World) -> None:
    statuses = StatusResolvers.for_fetcher(
        world.fetcher(), world.ledger.resolver(), clock=lambda: world.now[0]
    )
    url = world.ministry.status_url("suspension")
    body = list_credential(world, url, issuer=world.ministry.did, purpose="suspension")
    body["type"] = ["VerifiablePresentation", "BitstringStatusListCredential"]
    body["holder"] = world.attacker.did
    world.server.plant(url, attacker_signs(world, body, proof_purpose="authentication"))
    path = url[len(world.server.base) :]
    for _ in range(2):  # a refused list is never cached as good
        credential, _ = issued(world, "di-eddsa")
        assert check(world, credential, "ldp_vc", status=statuses).codes == (
            "status_list_untrusted",
        )
    assert world.server.hits[path] == 2


# -- Token Status Lists (SD-JWT VC and barcodes) ----------------------------------------------


def token_by(world: World, key: Any, kid: str, *, revoked_index: int | None = None) -> bytes:
    statuses = TokenStatusList(131_072, bits=2)
    if revoked_index is not None:
        statuses.set(revoked_index)
    return make_status_list_token(
        statuses,
        uri=world.ministry.status_url("token"),
        key=key,
        kid=kid,
        issued_at=world.now[0] - timedelta(minutes=1),
        expires_at=world.now[0] + timedelta(days=1),
    ).encode()


def test_token_status_list_forged_by_the_attacker(world: World) -> None:
    credential = revoked(world, "sd-jwt")
    world.server.plant(
        world.ministry.status_url("token"), token_by(world, world.attacker.key, world.attacker.vm)
    )
    assert check(world, credential, "dc+sd-jwt").codes == ("status_list_issuer_mismatch",)


def test_token_status_list_forged_with_the_ministrys_kid(world: World) -> None:
    credential = revoked(world, "sd-jwt")
    forged = token_by(world, world.attacker.key, world.ministry.verification_method)
    world.server.plant(world.ministry.status_url("token"), forged)
    assert check(world, credential, "dc+sd-jwt").codes == ("status_list_invalid",)


def test_di_list_served_as_a_token_status_list(world: World) -> None:
    credential = revoked(world, "sd-jwt")
    bitstring = world.ministry.board.get(world.ministry.status_url("revocation"))
    assert bitstring is not None
    world.server.plant(world.ministry.status_url("token"), bitstring)
    assert check(world, credential, "dc+sd-jwt").codes == ("status_list_invalid",)


def dealt_index(world: World) -> int:
    """An index the ministry dealt (it revokes only what it dealt)."""
    made = world.issue("WorkPermit", "sd-jwt")
    assert made.status_index is not None
    return int(made.status_index)


def test_ministry_signed_presentation_served_as_a_token_status_list(world: World) -> None:
    # a vp+jwt signed by the ministry's own key is still no Status List Token
    credential = revoked(world, "sd-jwt")
    vp = issue_vp_jwt(
        {"@context": [VC_V2], "type": ["VerifiablePresentation"], "status_list": {}},
        world.ministry_key,
        kid=world.ministry.verification_method,
        now=world.now[0],
    )
    world.server.plant(world.ministry.status_url("token"), vp)
    assert check(world, credential, "dc+sd-jwt").codes == ("status_list_invalid",)


def ministry_barcode(world: World, index: int = INDEX, **claims: Any) -> str:
    return encode_barcode(
        claims or {"permit": "work"},
        world.ministry_key,
        kid=world.ministry.verification_method,
        issuer=world.ministry.did,
        iat=world.now[0],
        exp=world.now[0] + timedelta(days=30),
        status=status_claim(world.ministry.status_url("token"), index),
    )


def test_barcode_with_a_clear_status_passes(world: World) -> None:
    result = check(world, ministry_barcode(world), "barcode")
    assert result.ok, result.explain()
    assert result.check("status").status == "passed"
    assert result.issuer == world.ministry.did and result.claims == {"permit": "work"}


def test_revoked_barcode(world: World) -> None:
    index = dealt_index(world)
    code = ministry_barcode(world, index)
    world.ministry.revoke(index)
    assert check(world, code, "barcode").codes == ("revoked",)


def test_suspended_barcode(world: World) -> None:
    index = dealt_index(world)
    code = ministry_barcode(world, index)
    world.ministry.suspend(index)
    assert check(world, code, "barcode").codes == ("suspended",)


def test_barcode_with_status_and_no_fetcher_fails_closed(world: World) -> None:
    assert check(world, ministry_barcode(world), "barcode", status=None).codes == (
        "status_unavailable",
    )


def test_attackers_barcode_pointing_at_the_ministrys_token_list(world: World) -> None:
    code = encode_barcode(
        {"permit": "work"},
        world.attacker.key,
        kid=world.attacker.vm,
        issuer=world.attacker.did,
        iat=world.now[0],
        exp=world.now[0] + timedelta(days=30),
        status=status_claim(world.ministry.status_url("token"), INDEX),
    )
    assert check(world, code, "barcode").codes == ("status_list_issuer_mismatch",)


def test_barcode_status_list_forged_by_the_attacker(world: World) -> None:
    index = dealt_index(world)
    code = ministry_barcode(world, index)
    world.ministry.revoke(index)
    world.server.plant(
        world.ministry.status_url("token"), token_by(world, world.attacker.key, world.attacker.vm)
    )
    assert check(world, code, "barcode").codes == ("status_list_issuer_mismatch",)


def test_barcode_with_a_malformed_status_claim(world: World) -> None:
    code = encode_barcode(
        {"permit": "work"},
        world.ministry_key,
        kid=world.ministry.verification_method,
        issuer=world.ministry.did,
        iat=world.now[0],
        exp=world.now[0] + timedelta(days=30),
        status={"status_list": {"idx": -1, "uri": world.ministry.status_url("token")}},
    )
    assert check(world, code, "barcode").codes == ("status_invalid",)


def test_the_status_host_serves_what_the_ministry_published(world: World) -> None:
    url = world.ministry.status_url("revocation")
    published = world.ministry.board.get(url)
    assert published is not None
    assert world.server.body(url[len(world.server.base) :]) == published
