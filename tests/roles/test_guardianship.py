"""A minor's vault record is released only on a verified GuardianshipAuthorisation credential."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from credentials import schemas
from did_methods import PrivateKey, did_key_from_public_key
from ledger.facade import Ledger
from ledger.vault import MasterKey, Principal, ReleaseRefused, Role, Vault
from ssi_wallet.guardianship import CredentialAuthorisationVerifier
from ssi_wallet.issuer import Issuer

MINOR = "did:example:minor-abdi"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def setting(tmp_path: Path) -> dict[str, Any]:
    root = PrivateKey.generate()
    trust = Ledger.open(":memory:", key=root, clock=lambda: NOW - timedelta(seconds=1))
    tutelles = Issuer.create(trust, name="Service des Tutelles", clock=lambda: NOW)
    trust.accredit(tutelles.did, types=["GuardianshipAuthorisation"], by=root, jurisdiction="BE")
    rogue = Issuer.create(trust, name="Unaccredited", board=tutelles.board, clock=lambda: NOW)
    guardian = did_key_from_public_key(PrivateKey.generate().public_key)
    verifier = CredentialAuthorisationVerifier(trust, status_fetcher=tutelles.board)
    vault = Vault.open(
        tmp_path / "vault.db",
        master_key=MasterKey.generate(),
        signer=PrivateKey.generate(),
        clock=lambda: NOW,
        authorisation_verifier=verifier,
    )
    vault.put(MINOR, {"name": "Abdi", "birthYear": 2009, "school": "Athénée"}, minor=True)
    yield {
        "trust": trust,
        "tutelles": tutelles,
        "rogue": rogue,
        "guardian": guardian,
        "vault": vault,
    }
    vault.close()


def authorisation(issuer: Issuer, guardian: str, **changes: Any) -> dict[str, Any]:
    claims = schemas.example_subject("GuardianshipAuthorisation")
    claims.pop("id")
    claims["minorIdentifier"] = MINOR
    claims["issueDate"] = "2026-01-05"
    claims["expiryDate"] = "2027-08-21"  # the day before the minor turns 18
    claims["minorBirthDate"] = "2009-08-22"
    claims.update(changes)
    issued = issuer.issue(
        "GuardianshipAuthorisation",
        subject=guardian,
        claims=claims,
        format="di-eddsa",
        valid_from=datetime(2026, 1, 5, tzinfo=UTC),
    )
    assert isinstance(issued.credential, dict)
    return issued.credential


def release(setting: dict[str, Any], credential: object, guardian: str | None = None) -> Any:
    return setting["vault"].release(
        MINOR,
        principal=Principal(guardian or setting["guardian"], Role.NGO),
        purpose="humanitarian-assistance",
        authorisation=credential,
    )


def test_valid_authorisation_releases_the_record(setting: dict[str, Any]) -> None:
    released = release(setting, authorisation(setting["tutelles"], setting["guardian"]))
    assert released.records[0].record["name"] == "Abdi"
    assert released.authorisation.kind == "GuardianshipAuthorisation"
    assert released.authorisation.issuer == setting["tutelles"].did


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda s: None, "authorisation_required"),
        (lambda s: authorisation(s["rogue"], s["guardian"]), "authorisation_invalid"),
        (
            lambda s: authorisation(s["tutelles"], "did:example:someone-else"),
            "authorisation_invalid",
        ),
        (
            lambda s: authorisation(s["tutelles"], s["guardian"], minorIdentifier="did:example:x"),
            "authorisation_invalid",
        ),
        (
            lambda s: authorisation(s["tutelles"], s["guardian"], scopeOfAuthority=["healthcare"]),
            "authorisation_invalid",
        ),
    ],
)
def test_refusals(setting: dict[str, Any], make: Any, code: str) -> None:
    with pytest.raises(ReleaseRefused) as err:
        release(setting, make(setting))
    assert err.value.code == code


def test_revoked_and_tampered_authorisations_are_refused(setting: dict[str, Any]) -> None:
    credential = authorisation(setting["tutelles"], setting["guardian"])
    tampered = dict(
        credential,
        credentialSubject=dict(
            credential["credentialSubject"], minorIdentifier=MINOR, familyName="Other"
        ),
    )
    with pytest.raises(ReleaseRefused):
        release(setting, tampered)
    index = int(credential["credentialStatus"][0]["statusListIndex"])
    setting["tutelles"].revoke(index)
    fresh = CredentialAuthorisationVerifier(
        setting["trust"], status_fetcher=setting["tutelles"].board
    )
    direct = Principal(setting["guardian"], Role.NGO)
    with pytest.raises(Exception) as err:
        fresh.verify(
            credential,
            subject_id=MINOR,
            principal=direct,
            now_ms=int(NOW.timestamp() * 1000),
        )
    assert "revoked" in str(err.value)
