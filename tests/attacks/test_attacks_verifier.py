"""Attacks on the verifier: whatever sits in a slot must be what the slot asks for.

Issue 10 item 1: a self-signed presentation or barcode passed as the ministry's
work permit. The verifier now pins each slot's format, asks for a presentation
(never a credential alone, never a barcode), and takes issuer, type and claims
only from the verified result's typed fields. Each test asserts the exact
refusal code.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from click.testing import CliRunner
from trust_world import AUDIENCE, Party, World, subject_claims

from credentials import schemas
from credentials.data_integrity import add_proof
from credentials.jose import envelope_vc_jwt
from credentials.sd_jwt import present
from credentials.verify import verify, verify_credential, verify_presentation
from did_methods.encoding import b64url_encode
from ssi_wallet import PresentationRequest, PresentationResponse, policies
from ssi_wallet.cli import cli
from ssi_wallet.dcql import DCQLQuery
from ssi_wallet.replay import MemoryReplayStore, record_request

WORK_VCT = schemas.vct("WorkPermit")
VC_V2 = "https://www.w3.org/ns/credentials/v2"


def codes(report: Any) -> tuple[str, ...]:
    return tuple(report.codes)


def jwt_request(world: World) -> tuple[Any, PresentationRequest, policies.Policy]:
    """A right-to-work request whose only slot asks for a vp+jwt (``jwt_vc_json``)."""
    nonces = MemoryReplayStore()
    verifier = world.verifier(replay=nonces)
    policy = policies.right_to_work()
    made = verifier.request(policy)
    query = DCQLQuery.parse(
        {
            "credentials": [
                {
                    "id": "work_di",
                    "format": "jwt_vc_json",
                    "meta": {"type_values": [["VerifiableCredential", "WorkPermit"]]},
                    "claims": [{"path": ["credentialSubject", c]} for c in policy.claims],
                }
            ]
        }
    )
    custom = dataclasses.replace(made, query=query, nonce=PresentationRequest.new_nonce())
    # The verifier made this request by hand: it records its nonce as Verifier.request does.
    record_request(nonces, custom, now=int(world.now[0].timestamp()))
    return verifier, custom, policy


def check_jwt(world: World, item: Any, asked: Any = None) -> Any:
    verifier, request, policy = asked or jwt_request(world)
    answer = PresentationResponse({"work_di": [item]}, request.nonce, request.audience)
    return verifier.check(answer, request, policy=policy)


# -- positive controls: the honest paths still work ---------------------------------------


def test_honest_sd_jwt_and_di_presentations_are_accepted(world: World) -> None:
    world.wallet.store(world.issue("WorkPermit", "sd-jwt").credential)
    verifier = world.verifier()
    request = world.ask(verifier)
    report = verifier.check(world.answer(request), request)
    assert report.ok, report.explain()


def test_honest_di_presentation_is_accepted(world: World) -> None:
    world.wallet.store(world.issue("WorkPermit", "di-eddsa").credential)
    verifier = world.verifier()
    request = world.ask(verifier)
    report = verifier.check(world.answer(request), request)
    assert report.ok, report.explain()


def test_honest_vp_jwt_in_a_jwt_slot_is_accepted(world: World) -> None:
    token = world.issue("WorkPermit", "vc-jwt").credential
    verifier, request, policy = jwt_request(world)
    world.wallet.store(token)
    answer = world.wallet.answer(request, consent=lambda _: True, now=world.now[0])
    report = verifier.check(answer, request, policy=policy)
    assert report.ok, report.explain()


# -- issue 10 item 1: self-signed things in a dc+sd-jwt slot --------------------------------


def test_self_signed_di_vp_as_text_in_sd_jwt_slot(world: World) -> None:
    verifier = world.verifier()
    request = world.ask(verifier)
    vp = world.attacker_vp(
        request, iss=world.ministry.did, vct=WORK_VCT, **subject_claims("WorkPermit")
    )
    assert codes(world.check(verifier, request, "work_sd", json.dumps(vp))) == (
        "format_unexpected",
    )


def test_self_signed_di_vp_as_object_in_sd_jwt_slot(world: World) -> None:
    verifier = world.verifier()
    request = world.ask(verifier)
    vp = world.attacker_vp(request, iss=world.ministry.did, vct=WORK_VCT)
    assert codes(world.check(verifier, request, "work_sd", vp)) == ("format_mismatch",)


def test_self_signed_vp_jwt_in_sd_jwt_slot(world: World) -> None:
    verifier = world.verifier()
    request = world.ask(verifier)
    token = world.attacker_vp_jwt(request, vct=WORK_VCT, **subject_claims("WorkPermit"))
    assert codes(world.check(verifier, request, "work_sd", token)) == ("format_unexpected",)


def test_barcode_claiming_the_ministry_in_sd_jwt_slot(world: World) -> None:
    verifier = world.verifier()
    request = world.ask(verifier)
    code = world.attacker_barcode(
        iss=world.ministry.did, vct=WORK_VCT, **subject_claims("WorkPermit")
    )
    assert codes(world.check(verifier, request, "work_sd", code)) == ("format_unexpected",)


def test_barcode_claiming_the_ministry_in_ldp_vc_slot(world: World) -> None:
    verifier = world.verifier()
    request = world.ask(verifier)
    code = world.attacker_barcode(
        issuer=world.ministry.did, type=["VerifiableCredential", "WorkPermit"]
    )
    assert codes(world.check(verifier, request, "work_di", code)) == ("format_mismatch",)


def test_vc_jwt_in_sd_jwt_slot(world: World) -> None:
    verifier = world.verifier()
    request = world.ask(verifier)
    token = world.issue("WorkPermit", "vc-jwt").credential
    assert codes(world.check(verifier, request, "work_sd", token)) == ("format_unexpected",)


def test_sd_jwt_signed_by_attacker_in_the_ministrys_name(world: World) -> None:
    verifier = world.verifier()
    request = world.ask(verifier)
    forged = world.attacker_sd_jwt(request, issuer=world.ministry.did)
    assert codes(world.check(verifier, request, "work_sd", forged)) == ("signature_invalid",)


def test_sd_jwt_self_issued_by_attacker(world: World) -> None:
    verifier = world.verifier()
    request = world.ask(verifier)
    own = world.attacker_sd_jwt(request)
    assert codes(world.check(verifier, request, "work_sd", own)) == ("issuer_not_accredited",)


def test_stored_sd_jwt_credential_without_key_binding(world: World) -> None:
    verifier = world.verifier()
    request = world.ask(verifier)
    bare = world.issue("WorkPermit", "sd-jwt").credential
    assert codes(world.check(verifier, request, "work_sd", bare)) == ("kb_missing",)


# -- ldp_vc slots: a presentation, of a credential, by its holder ---------------------------


def test_bare_credential_is_not_a_presentation(world: World) -> None:
    verifier = world.verifier()
    request = world.ask(verifier)
    credential = world.issue("WorkPermit", "di-eddsa").credential
    assert codes(world.check(verifier, request, "work_di", credential)) == ("not_a_presentation",)


def test_presentation_embedded_as_a_credential(world: World) -> None:
    verifier = world.verifier()
    request = world.ask(verifier)
    inner = world.attacker_vp(
        request,
        issuer=world.ministry.did,
        credentialSubject={"id": world.attacker.did, **subject_claims("WorkPermit")},
    )
    outer = world.attacker_vp(request, credentials=[inner])
    assert "not_a_credential" in codes(world.check(verifier, request, "work_di", outer))


def test_credential_presentation_hybrid_signed_by_its_holder(world: World) -> None:
    # Typed both VC and VP, naming the ministry as issuer and the attacker as
    # holder: the proof must be by the *issuer*, and a presentation is never a
    # credential.
    verifier = world.verifier()
    request = world.ask(verifier)
    hybrid = {
        "@context": [VC_V2, schemas.CONTEXT_URL],
        "type": ["VerifiableCredential", "VerifiablePresentation", "WorkPermit"],
        "issuer": world.ministry.did,
        "holder": world.attacker.did,
        "credentialSubject": {"id": world.attacker.did, **subject_claims("WorkPermit")},
    }
    signed = add_proof(
        hybrid, world.attacker.key, verification_method=world.attacker.vm, created=world.now[0]
    )
    outer = world.attacker_vp(request, credentials=[signed])
    assert codes(world.check(verifier, request, "work_di", outer)) == ("not_a_credential",)


def test_credential_forged_in_the_ministrys_name(world: World) -> None:
    verifier = world.verifier()
    request = world.ask(verifier)
    forged = world.attacker_vc(issuer=world.ministry.did)
    outer = world.attacker_vp(request, credentials=[forged])
    assert codes(world.check(verifier, request, "work_di", outer)) == ("key_not_issuer",)


def test_self_issued_work_permit_in_ldp_slot(world: World) -> None:
    verifier = world.verifier()
    request = world.ask(verifier)
    own = dict(world.attacker_vc())
    own["credentialSubject"] = dict(own["credentialSubject"], id=world.attacker.did)
    unsigned = {k: v for k, v in own.items() if k != "proof"}
    resigned = add_proof(
        unsigned, world.attacker.key, verification_method=world.attacker.vm, created=world.now[0]
    )
    outer = world.attacker_vp(request, credentials=[resigned])
    assert codes(world.check(verifier, request, "work_di", outer)) == ("issuer_not_accredited",)


def test_someone_elses_credential_in_the_attackers_presentation(world: World) -> None:
    verifier = world.verifier()
    request = world.ask(verifier)
    amina = world.issue("WorkPermit", "di-eddsa").credential
    outer = world.attacker_vp(request, credentials=[amina])
    assert codes(world.check(verifier, request, "work_di", outer)) == ("holder_mismatch",)


def test_presentation_without_holder_binds_nobody(world: World) -> None:
    verifier = world.verifier()
    request = world.ask(verifier)
    amina = world.issue("WorkPermit", "di-eddsa").credential
    outer = world.attacker_vp(request, credentials=[amina])
    unsigned = {k: v for k, v in outer.items() if k not in ("proof", "holder")}
    anonymous = add_proof(
        unsigned,
        world.attacker.key,
        verification_method=world.attacker.vm,
        proof_purpose="authentication",
        challenge=request.nonce,
        domain=request.audience,
        created=world.now[0],
    )
    assert codes(world.check(verifier, request, "work_di", anonymous)) == ("holder_mismatch",)


def test_vp_jwt_text_in_ldp_slot(world: World) -> None:
    verifier = world.verifier()
    request = world.ask(verifier)
    token = world.attacker_vp_jwt(request)
    assert codes(world.check(verifier, request, "work_di", token)) == ("format_mismatch",)


# -- wrong type, unaccredited issuer --------------------------------------------------------


def test_residence_permit_in_a_work_permit_sd_slot(world: World) -> None:
    holder = Party.new()
    permit = world.issue("ResidencePermit", "sd-jwt", subject=holder.did).credential
    verifier = world.verifier()
    request = world.ask(verifier)
    shown = present(
        permit,
        [],
        holder_key=holder.key,
        nonce=request.nonce,
        audience=request.audience,
        now=world.now[0],
    )
    assert codes(world.check(verifier, request, "work_sd", shown)) == ("type_unexpected",)


def test_residence_permit_in_a_work_permit_di_slot(world: World) -> None:
    verifier = world.verifier()
    request = world.ask(verifier)
    permit = world.issue("ResidencePermit", "di-eddsa").credential
    vp = world.attacker_vp(request, credentials=[permit])
    assert codes(world.check(verifier, request, "work_di", vp)) == ("type_unexpected",)


def test_unaccredited_issuer_on_the_same_ledger(world: World) -> None:
    world.wallet.store(world.issue("WorkPermit", "sd-jwt", issuer=world.rogue).credential)
    verifier = world.verifier()
    request = world.ask(verifier)
    report = verifier.check(world.answer(request), request)
    assert codes(report) == ("issuer_not_accredited",)


def test_issuer_accredited_for_another_type(world: World) -> None:
    world.wallet.store(world.issue("StudyPermit", "di-eddsa").credential)
    verifier = world.verifier()
    request = world.ask(verifier, policies.right_to_study())
    report = verifier.check(world.answer(request), request)
    assert codes(report) == ("issuer_not_accredited",)


# -- jwt_vc_json slots ----------------------------------------------------------------------


def test_bare_vc_jwt_in_a_jwt_slot(world: World) -> None:
    token = world.issue("WorkPermit", "vc-jwt").credential
    assert codes(check_jwt(world, token)) == ("not_a_presentation",)


def test_di_vp_text_in_a_jwt_slot(world: World) -> None:
    asked = jwt_request(world)
    vp = world.attacker_vp(asked[1], iss=world.ministry.did)
    assert codes(check_jwt(world, json.dumps(vp), asked)) == ("format_unexpected",)


def test_vp_jwt_enveloping_a_forged_vc_jwt(world: World) -> None:
    asked = jwt_request(world)
    forged = world.attacker_vc_jwt(issuer=world.ministry.did)
    vp = world.attacker_vp_jwt(asked[1], credentials=[forged])
    assert codes(check_jwt(world, vp, asked)) == ("signature_invalid",)


def test_vp_jwt_enveloping_a_self_issued_vc_jwt(world: World) -> None:
    verifier, request, policy = jwt_request(world)
    own = world.attacker_vc_jwt()
    vp = world.attacker_vp_jwt(request, credentials=[own])
    answer = PresentationResponse({"work_di": [vp]}, request.nonce, request.audience)
    assert codes(verifier.check(answer, request, policy=policy)) == ("issuer_not_accredited",)


def test_vp_jwt_with_claims_but_no_credential(world: World) -> None:
    asked = jwt_request(world)
    vp = world.attacker_vp_jwt(asked[1], issuer=world.ministry.did, vct=WORK_VCT)
    assert codes(check_jwt(world, vp, asked)) == ("type_mismatch",)


def test_barcode_in_a_jwt_slot(world: World) -> None:
    code = world.attacker_barcode(iss=world.ministry.did, vct=WORK_VCT)
    assert codes(check_jwt(world, code)) == ("format_unexpected",)


# -- the library calls themselves -------------------------------------------------------------


def test_verify_credential_refuses_a_presentation(world: World) -> None:
    verifier = world.verifier()
    request = world.ask(verifier)
    vp = world.attacker_vp(request, credentials=[world.attacker_vc()])
    result = verify_credential(
        vp,
        formats="ldp_vc",
        credential_type="WorkPermit",
        resolver=world.ledger.resolver(),
        now=world.now[0],
    )
    assert result.codes == ("not_a_credential",)
    assert result.kind is None and result.issuer is None and result.claims == {}


def test_verify_credential_refuses_another_format(world: World) -> None:
    code = world.attacker_barcode(iss=world.ministry.did, vct=WORK_VCT)
    result = verify_credential(
        code, formats=("dc+sd-jwt", "ldp_vc"), credential_type="WorkPermit", now=world.now[0]
    )
    assert result.codes == ("format_unexpected",)


def test_verify_credential_refuses_a_barcode_when_a_type_is_asked(world: World) -> None:
    code = world.attacker_barcode(type="WorkPermit", vct=WORK_VCT)
    result = verify_credential(
        code, formats="barcode", credential_type="WorkPermit", now=world.now[0]
    )
    assert result.codes == ("type_unexpected",)
    # the same barcode verifies as what it is: a credential with no type
    typeless = verify_credential(code, formats="barcode", credential_type=None, now=world.now[0])
    assert typeless.ok and typeless.types == () and typeless.issuer == world.attacker.did


def test_verify_credential_refuses_an_sd_jwt_with_key_binding(world: World) -> None:
    request = world.ask(world.verifier())
    presented = world.attacker_sd_jwt(request)
    result = verify_credential(
        presented, formats="dc+sd-jwt", credential_type=None, now=world.now[0]
    )
    assert result.codes == ("not_a_credential",)


def test_verify_presentation_refuses_a_credential(world: World) -> None:
    credential = world.attacker_vc()
    result = verify_presentation(
        credential,
        format="ldp_vc",
        nonce="n" * 16,
        audience=AUDIENCE,
        credential_type=None,
        now=world.now[0],
    )
    assert result.codes == ("not_a_presentation",)


def test_verify_presentation_pins_the_inner_format(world: World) -> None:
    request = world.ask(world.verifier())
    token = world.attacker_vc_jwt()
    vp = world.attacker_vp(request, credentials=[envelope_vc_jwt(token)])
    result = verify_presentation(
        vp,
        format="ldp_vc",
        nonce=request.nonce,
        audience=request.audience,
        credential_type=None,
        now=world.now[0],
    )
    assert result.codes == ("format_unexpected",)
    allowed = verify_presentation(
        vp,
        format="ldp_vc",
        nonce=request.nonce,
        audience=request.audience,
        credential_formats=("ldp_vc", "jwt_vc_json"),
        credential_type="WorkPermit",
        now=world.now[0],
    )
    assert allowed.ok, allowed.explain()
    assert allowed.holder == world.attacker.did and allowed.issuer is None
    assert [c.issuer for c in allowed.credentials] == [world.attacker.did]


def test_presentation_typed_fields_never_name_the_holder_as_issuer(world: World) -> None:
    request = world.ask(world.verifier())
    vp = world.attacker_vp(request, credentials=[world.attacker_vc()], issuer=world.ministry.did)
    shown = verify(vp, now=world.now[0], challenge=request.nonce, domain=request.audience)
    assert shown.kind == "presentation" and shown.issuer is None


def test_verify_presentation_needs_a_nonce_and_audience(world: World) -> None:
    with pytest.raises(TypeError):
        verify_presentation({}, format="ldp_vc", nonce="", audience="x", credential_type=None)


# -- the command line -------------------------------------------------------------------------


def _cli_check(world: World, slot: str, item: Any) -> Any:
    runner = CliRunner()
    state = ["--state", str(world.tmp / "verifier.state")]
    made = runner.invoke(
        cli,
        ["verifier", "request", "--policy", "right_to_work", "--audience", AUDIENCE, *state],
    )
    assert made.exit_code == 0, made.output
    request = PresentationRequest.from_json(made.output)
    answer = PresentationResponse({slot: [item]}, request.nonce, request.audience)
    request_file = world.tmp / "request.json"
    answer_file = world.tmp / "answer.json"
    request_file.write_text(json.dumps(request.to_json()))
    answer_file.write_text(json.dumps(answer.to_json()))
    return runner.invoke(
        cli,
        [
            "verifier", "check", "--db", str(world.tmp / "registry.db"),
            "--trust-root", world.ledger.issuers.root,
            "--allow-http", "--allow-private", *state, str(request_file), str(answer_file),
        ],
    )  # fmt: skip


@pytest.mark.parametrize("slot", ["work_sd", "work_di"])
def test_cli_refuses_a_barcode_claiming_the_ministry(world: World, slot: str) -> None:
    code = world.attacker_barcode(
        iss=world.ministry.did, vct=WORK_VCT, **subject_claims("WorkPermit")
    )
    done = _cli_check(world, slot, code)
    assert done.exit_code == 1, done.output
    expected = "format_unexpected" if slot == "work_sd" else "format_mismatch"
    assert f"codes: {expected}" in done.output


def test_cli_refuses_a_self_signed_di_presentation(world: World) -> None:
    request = world.ask(world.verifier())
    vp = world.attacker_vp(request, iss=world.ministry.did, vct=WORK_VCT)
    done = _cli_check(world, "work_sd", json.dumps(vp))
    assert done.exit_code == 1, done.output
    assert "codes: format_unexpected" in done.output


# -- every refusal is explained in the verifier's languages ---------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "format_unexpected",
        "not_a_credential",
        "not_a_presentation",
        "type_unexpected",
        "status_list_untrusted",
    ],
)
def test_pinning_refusals_are_translated(code: str) -> None:
    from ssi_wallet import _messages
    from ssi_wallet.policies import Finding

    finding = Finding(code, False, "kind: the English message", "work_sd", {"check": "kind"})
    english = _messages.render(code, finding.details, "en")
    assert english is not None
    for lang in _messages.catalogue()["languages"]:
        text = _messages.render(code, finding.details, lang)
        assert text is not None, lang
        assert lang == "en" or text != english, lang


def test_a_barcode_in_a_permit_slot_is_explained_in_german(world: World) -> None:
    verifier = world.verifier()
    request = world.ask(verifier)
    code = world.attacker_barcode(iss=world.ministry.did, vct=WORK_VCT)
    report = world.check(verifier, request, "work_sd", code)
    assert "  [NO] nicht das angefragte Format" in report.explain("de").splitlines()


def test_a_failed_result_carries_no_typed_fields_however_it_is_built() -> None:
    from credentials.result import Check, VerificationResult

    typed: dict[str, Any] = {
        "issuer": "did:example:ministry",
        "kind": "credential",
        "types": ["VerifiableCredential", "WorkPermit"],
        "vct": WORK_VCT,
        "subject": "did:example:amina",
        "claims": {"sector": "Q86"},
        "holder": "did:example:amina",
    }
    good = VerificationResult.of("test", [Check.passed("signature", "ok")], **typed)
    assert good.issuer == "did:example:ministry" and good.claims == {"sector": "Q86"}
    failed = [Check.failed("signature", "signature_invalid", "forged")]
    for bad in (
        VerificationResult.of("test", failed, **typed),
        dataclasses.replace(good, checks=tuple(failed)),
        good.replace_checks(failed),
        VerificationResult("test", tuple(failed), None, "did:example:ministry", "credential"),
    ):
        assert (bad.issuer, bad.kind, bad.types, bad.vct, bad.subject, bad.holder) == (
            None, None, (), None, None, None,
        )  # fmt: skip
        assert bad.claims == {} and bad.credentials == ()


def test_two_credentials_in_a_one_credential_slot(world: World) -> None:
    holder = Party.new()
    work = world.issue("WorkPermit", "di-eddsa", subject=holder.did).credential
    reside = world.issue("ResidencePermit", "di-eddsa", subject=holder.did).credential
    verifier = world.verifier()
    request = world.ask(verifier)
    vp = world.attacker_vp(request, credentials=[work, reside], signer=holder)
    assert codes(world.check(verifier, request, "work_di", vp)) == ("type_unexpected",)
    fresh = world.ask(verifier)
    only_work = world.attacker_vp(fresh, credentials=[work, work], signer=holder)
    assert codes(world.check(verifier, fresh, "work_di", only_work)) == ("type_mismatch",)


def test_barcode_embedded_in_a_di_presentation(world: World) -> None:
    verifier = world.verifier()
    request = world.ask(verifier)
    code = world.attacker_barcode(iss=world.ministry.did, vct=WORK_VCT)
    vp = world.attacker_vp(request, credentials=[code])
    assert codes(world.check(verifier, request, "work_di", vp)) == ("invalid_presentation",)


def test_stolen_sd_jwt_with_the_thiefs_key_binding(world: World) -> None:
    victim = Party.new()
    stolen = world.issue("WorkPermit", "sd-jwt", subject=victim.did).credential
    verifier = world.verifier()
    request = world.ask(verifier)
    genuine = present(
        stolen,
        [],
        holder_key=victim.key,
        nonce=request.nonce,
        audience=request.audience,
        now=world.now[0],
    )
    # the thief has no victim key: it signs the same Key Binding JWT with its own
    prefix, kb = genuine.rsplit("~", 1)
    header, payload, _ = kb.split(".")
    signature = world.attacker.key.sign(f"{header}.{payload}".encode())
    shown = f"{prefix}~{header}.{payload}.{b64url_encode(signature)}"
    assert codes(world.check(verifier, request, "work_sd", shown)) == ("kb_signature_invalid",)
