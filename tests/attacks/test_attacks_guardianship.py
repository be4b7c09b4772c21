"""Attacks on the guardianship gate of a minor's vault record (issue 10 item 2).

Only a verified *credential* (not a presentation, not a barcode's self-stated
claims) of type GuardianshipAuthorisation from an accredited issuer, naming this
minor and this guardian, releases the record. Each test asserts the exact code
of :class:`~ssi_wallet.guardianship.CredentialAuthorisationVerifier`; a few go
through the vault end to end.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from trust_world import VC_V2, Party, World, subject_claims

from credentials import schemas
from credentials.barcode import encode_barcode
from credentials.data_integrity import add_proof
from credentials.jose import issue_vc_jwt
from credentials.sd_jwt import issue_sd_jwt, present
from did_methods import PrivateKey
from did_methods.errors import VerificationError
from ledger.vault import MasterKey, Principal, ReleaseRefused, Role, Vault
from ssi_wallet.guardianship import CredentialAuthorisationVerifier

MINOR = "did:example:minor-abdi"
TYPE = "GuardianshipAuthorisation"


@pytest.fixture
def guardian() -> Party:
    return Party.new()


def claims(**changes: Any) -> dict[str, Any]:
    body = subject_claims(TYPE)
    body["minorIdentifier"] = MINOR
    body["issuingState"] = "DE"  # where the ministry is accredited
    body["issueDate"] = "2026-01-05"
    body["expiryDate"] = "2027-08-21"
    body["minorBirthDate"] = "2009-08-22"  # a minor until the authorisation ends
    body.update(changes)
    return body


def authorisation(world: World, guardian: Party, fmt: str = "di-eddsa", **kw: Any) -> Any:
    issuer = kw.pop("issuer", world.ministry)
    return issuer.issue(TYPE, subject=guardian.did, claims=claims(**kw), format=fmt).credential


def gate(world: World, *, with_status: bool = True) -> CredentialAuthorisationVerifier:
    return CredentialAuthorisationVerifier(
        world.ledger, status_fetcher=world.fetcher() if with_status else None
    )


def code_of(world: World, item: Any, guardian: Party, **kw: Any) -> str:
    with pytest.raises(VerificationError) as err:
        gate(world, **kw).verify(
            item,
            subject_id=MINOR,
            principal=Principal(guardian.did, Role.NGO),
            now_ms=int(world.now[0].timestamp() * 1000),
        )
    return err.value.code


def body_claiming_the_ministry(world: World, guardian: Party) -> dict[str, Any]:
    return {
        "@context": [VC_V2, schemas.CONTEXT_URL],
        "type": ["VerifiablePresentation", TYPE],
        "issuer": world.ministry.did,
        "holder": world.attacker.did,
        "credentialSubject": {"id": guardian.did, **claims()},
    }


@pytest.fixture
def vault(world: World) -> Iterator[Vault]:
    opened = Vault.open(
        world.tmp / "vault.db",
        master_key=MasterKey.generate(),
        signer=PrivateKey.generate(),
        clock=lambda: world.now[0],
        authorisation_verifier=gate(world),
    )
    opened.put(MINOR, {"name": "Abdi", "birthYear": 2009}, minor=True)
    yield opened
    opened.close()


def release(vault: Vault, guardian: Party, item: Any) -> Any:
    return vault.release(
        MINOR,
        principal=Principal(guardian.did, Role.NGO),
        purpose="humanitarian-assistance",
        authorisation=item,
    )


# -- the honest path, in every format with a type --------------------------------------------


@pytest.mark.parametrize("fmt", ["di-eddsa", "vc-jwt", "sd-jwt"])
def test_a_genuine_authorisation_releases_the_record(
    world: World, guardian: Party, vault: Vault, fmt: str
) -> None:
    released = release(vault, guardian, authorisation(world, guardian, fmt))
    assert released.records[0].record["name"] == "Abdi"
    assert released.authorisation.issuer == world.ministry.did


# -- issue 10 item 2: self-signed presentations --------------------------------------------------


def test_self_signed_di_presentation_claiming_the_ministry(world: World, guardian: Party) -> None:
    vp = add_proof(
        body_claiming_the_ministry(world, guardian),
        world.attacker.key,
        verification_method=world.attacker.vm,
        proof_purpose="authentication",
        created=world.now[0],
    )
    assert code_of(world, vp, guardian) == "not_a_credential"


def test_self_signed_di_presentation_is_refused_by_the_vault(
    world: World, guardian: Party, vault: Vault
) -> None:
    vp = add_proof(
        body_claiming_the_ministry(world, guardian),
        world.attacker.key,
        verification_method=world.attacker.vm,
        proof_purpose="authentication",
        created=world.now[0],
    )
    with pytest.raises(ReleaseRefused) as err:
        release(vault, guardian, vp)
    assert err.value.code == "authorisation_invalid"
    assert "not_a_credential" in str(err.value)


def test_self_signed_vp_jwt_claiming_the_ministry(world: World, guardian: Party) -> None:
    request = world.ask(world.verifier())
    token = world.attacker_vp_jwt(
        request,
        type=["VerifiablePresentation", TYPE],
        issuer=world.ministry.did,
        credentialSubject={"id": guardian.did, **claims()},
    )
    assert code_of(world, token, guardian) == "not_a_credential"


def test_barcode_whose_claims_name_the_ministry(world: World, guardian: Party) -> None:
    code = encode_barcode(
        {"type": TYPE, "issuer": world.ministry.did, "id": guardian.did, **claims()},
        world.attacker.key,
        kid=world.attacker.vm,
        issuer=world.attacker.did,
        iat=world.now[0],
        exp=world.now[0] + timedelta(days=30),
    )
    assert code_of(world, code, guardian) == "format_unexpected"


def test_ministry_signed_barcode_is_not_an_authorisation(world: World, guardian: Party) -> None:
    # Even the ministry's own barcode states no type: it cannot be a guardianship.
    code = encode_barcode(
        {"id": guardian.did, **claims()},
        world.ministry_key,
        kid=world.ministry.verification_method,
        issuer=world.ministry.did,
        iat=world.now[0],
        exp=world.now[0] + timedelta(days=30),
    )
    assert code_of(world, code, guardian) == "format_unexpected"


def test_sd_jwt_with_key_binding_is_a_presentation(world: World, guardian: Party) -> None:
    token = authorisation(world, guardian, "sd-jwt")
    shown = present(
        token,
        list(claims()),
        holder_key=guardian.key,
        nonce="n" * 16,
        audience="did:web:vault.example",
        now=world.now[0],
    )
    assert code_of(world, shown, guardian) == "not_a_credential"


def test_genuine_authorisation_wrapped_in_a_presentation(world: World, guardian: Party) -> None:
    genuine = authorisation(world, guardian)
    request = world.ask(world.verifier())
    vp = world.attacker_vp(request, credentials=[genuine])
    assert code_of(world, vp, guardian) == "not_a_credential"


def test_credential_presentation_hybrid(world: World, guardian: Party) -> None:
    body = body_claiming_the_ministry(world, guardian)
    body["type"] = ["VerifiableCredential", "VerifiablePresentation", TYPE]
    hybrid = add_proof(
        body, world.attacker.key, verification_method=world.attacker.vm, created=world.now[0]
    )
    assert code_of(world, hybrid, guardian) == "not_a_credential"


# -- forged or untrusted credentials -------------------------------------------------------------


def test_credential_forged_in_the_ministrys_name(world: World, guardian: Party) -> None:
    body = body_claiming_the_ministry(world, guardian)
    body["type"] = ["VerifiableCredential", TYPE]
    del body["holder"]
    forged = add_proof(
        body, world.attacker.key, verification_method=world.attacker.vm, created=world.now[0]
    )
    assert code_of(world, forged, guardian) == "credential_invalid"


def test_self_issued_authorisation(world: World, guardian: Party) -> None:
    body = {
        "@context": [VC_V2, schemas.CONTEXT_URL],
        "type": ["VerifiableCredential", TYPE],
        "issuer": world.attacker.did,
        "credentialSubject": {"id": guardian.did, **claims()},
    }
    own = add_proof(
        body, world.attacker.key, verification_method=world.attacker.vm, created=world.now[0]
    )
    assert code_of(world, own, guardian) == "issuer_not_accredited"


def test_self_issued_vc_jwt_authorisation(world: World, guardian: Party) -> None:
    body = {
        "@context": [VC_V2, schemas.CONTEXT_URL],
        "type": ["VerifiableCredential", TYPE],
        "issuer": world.attacker.did,
        "credentialSubject": {"id": guardian.did, **claims()},
    }
    token = issue_vc_jwt(body, world.attacker.key, kid=world.attacker.vm, now=world.now[0])
    assert code_of(world, token, guardian) == "issuer_not_accredited"


def test_self_issued_sd_jwt_authorisation(world: World, guardian: Party) -> None:
    token = issue_sd_jwt(
        {"sub": guardian.did, **claims()},
        world.attacker.key,
        issuer=world.attacker.did,
        kid=world.attacker.vm,
        vct=schemas.vct(TYPE),
        now=world.now[0],
    )
    assert code_of(world, token, guardian) == "issuer_not_accredited"


def test_unaccredited_issuer_on_the_ledger(world: World, guardian: Party) -> None:
    rogue = authorisation(world, guardian, issuer=world.rogue)
    assert code_of(world, rogue, guardian) == "issuer_not_accredited"


def test_genuine_credential_of_another_type(world: World, guardian: Party) -> None:
    permit = world.issue("WorkPermit", "di-eddsa", subject=guardian.did).credential
    assert code_of(world, permit, guardian) == "wrong_type"


def test_genuine_sd_jwt_of_another_type(world: World, guardian: Party) -> None:
    permit = world.issue("ResidencePermit", "sd-jwt", subject=guardian.did).credential
    assert code_of(world, permit, guardian) == "wrong_type"


# -- status, subject, guardian, scope ---------------------------------------------------------


def test_revoked_authorisation(world: World, guardian: Party) -> None:
    made = world.ministry.issue(TYPE, subject=guardian.did, claims=claims(), format="vc-jwt")
    world.ministry.revoke(made)
    with pytest.raises(VerificationError) as err:
        gate(world).verify(
            made.credential,
            subject_id=MINOR,
            principal=Principal(guardian.did, Role.NGO),
            now_ms=int(world.now[0].timestamp() * 1000),
        )
    assert err.value.code == "credential_invalid" and "revoked" in err.value.message


def test_no_status_fetcher_fails_closed(world: World, guardian: Party) -> None:
    genuine = authorisation(world, guardian, "sd-jwt")
    with pytest.raises(VerificationError) as err:
        gate(world, with_status=False).verify(
            genuine,
            subject_id=MINOR,
            principal=Principal(guardian.did, Role.NGO),
            now_ms=int(world.now[0].timestamp() * 1000),
        )
    assert err.value.code == "credential_invalid" and "status_unavailable" in err.value.message


def test_another_guardian(world: World, guardian: Party) -> None:
    genuine = authorisation(world, guardian)
    assert code_of(world, genuine, Party.new()) == "principal_mismatch"


def test_another_minor(world: World, guardian: Party) -> None:
    other = authorisation(world, guardian, minorIdentifier="did:example:another-minor")
    assert code_of(world, other, guardian) == "subject_mismatch"


def test_insufficient_scope(world: World, guardian: Party) -> None:
    narrow = authorisation(world, guardian, scopeOfAuthority=["healthcare"])
    assert code_of(world, narrow, guardian) == "scope_insufficient"
