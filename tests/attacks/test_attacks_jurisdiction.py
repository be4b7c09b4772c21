"""Attacks on the issuer's jurisdiction: an office accredited for one state issues for another.

The verifier says accredited only when the credential's issuing state
(``issuingState``) lies inside the jurisdiction of the issuer's accreditation
(``EU`` covers its member states). An office accredited for LT that issues
permits saying DE, PL or SE is refused with ``jurisdiction_mismatch``; a
credential that names no valid issuing state with ``jurisdiction_unknown``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from credentials import schemas
from credentials.sd_jwt import issue_sd_jwt
from did_methods import PrivateKey
from did_methods.errors import VerificationError
from ledger.facade import Ledger
from ledger.vault import Principal, Role
from ssi_wallet import (
    CredentialAuthorisationVerifier,
    Holder,
    Issuer,
    Verifier,
    _messages,
    policies,
)
from ssi_wallet.issuer import CredentialFormat

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
POLICIES = {
    "WorkPermit": policies.right_to_work,
    "ResidencePermit": policies.right_to_reside,
    "StudyPermit": policies.right_to_study,
}


@dataclass
class World:
    ledger: Ledger
    root: PrivateKey
    office: Issuer
    office_key: PrivateKey
    wallet: Holder
    now: list[datetime]

    def issue(
        self,
        type_name: str,
        state: str | None,
        *,
        issuer: Issuer | None = None,
        format: CredentialFormat = "sd-jwt",
    ) -> None:
        claims = schemas.example_subject(type_name, now=self.now[0])
        claims.pop("id")
        if state is None:
            claims.pop("issuingState")
        else:
            claims["issuingState"] = state
        issued = (issuer or self.office).issue(
            type_name, subject=self.wallet.did, claims=claims, format=format
        )
        self.wallet.store(issued.credential)

    def check(self, type_name: str = "WorkPermit", **verifier: Any) -> Any:
        checker = Verifier(
            self.ledger,
            audience="did:web:employer.example",
            status_fetcher=self.office.board,
            clock=lambda: self.now[0],
            **verifier,
        )
        request = checker.request(POLICIES[type_name]())
        answer = self.wallet.answer(request, consent=lambda _: True, now=self.now[0])
        return checker.check(answer, request)


def lt_world(jurisdiction: str = "LT") -> World:
    now = [START]
    root = PrivateKey.generate()
    ledger = Ledger.open(":memory:", key=root, clock=lambda: now[0])
    key = PrivateKey.generate()
    office = Issuer.create(
        ledger, name="Migration Department of Lithuania", key=key, clock=lambda: now[0]
    )
    ledger.accredit(office.did, types=list(POLICIES), by=root, jurisdiction=jurisdiction)
    wallet = Holder.create(
        ":memory:", passphrase="a passphrase", resolver=ledger.resolver(), clock=lambda: now[0]
    )
    return World(ledger, root, office, key, wallet, now)


@pytest.fixture
def world() -> Iterator[World]:
    made = lt_world()
    yield made
    made.ledger.close()


@pytest.mark.parametrize("state", ["DE", "PL", "SE"])
@pytest.mark.parametrize("type_name", list(POLICIES))
def test_an_lt_office_issuing_for_another_state_is_refused(
    world: World, type_name: str, state: str
) -> None:
    world.issue(type_name, state)
    report = world.check(type_name)
    assert not report.ok
    assert report.codes == ("jurisdiction_mismatch",)
    (finding,) = report.failures
    assert finding.details == {
        "issuer": world.office.did,
        "type_name": type_name,
        "issuing_state": state,
        "jurisdiction": "LT",
    }
    assert "issuer_accredited" not in [f.code for f in report.findings]


def test_the_mismatch_is_refused_in_a_data_integrity_credential_too(world: World) -> None:
    world.issue("WorkPermit", "DE", format="di-eddsa")
    report = world.check()
    assert report.codes == ("jurisdiction_mismatch",)
    assert report.failures[0].query_id == "work_di"


def test_a_consistent_permit_is_accepted(world: World) -> None:
    world.issue("WorkPermit", "LT")
    report = world.check()
    assert report.ok, report.explain()
    assert "issuer_accredited" in [f.code for f in report.findings]
    assert report.disclosed["work"]["issuingState"] == "LT"


def test_an_eu_accreditation_covers_member_states_only() -> None:
    world = lt_world("EU")
    try:
        world.issue("WorkPermit", "DE")
        assert world.check().ok
        world.wallet.delete(world.wallet.credentials()[0].id)
        world.issue("WorkPermit", "NO")  # Norway: not a member state
        assert world.check().codes == ("jurisdiction_mismatch",)
    finally:
        world.ledger.close()


def test_a_delegated_office_is_held_to_its_delegators_state(world: World) -> None:
    state = Issuer.create(world.ledger, name="Ministry of the Interior of Lithuania")
    world.ledger.accredit(
        state.did, types=["WorkPermit"], by=world.root, jurisdiction="LT", delegate=True
    )
    local = Issuer.create(
        world.ledger, name="Vilnius office", board=world.office.board, clock=lambda: world.now[0]
    )
    world.ledger.accredit(local.did, types=["WorkPermit"], by=state.signer(), jurisdiction="LT")
    world.issue("WorkPermit", "PL", issuer=local)
    assert world.check().codes == ("jurisdiction_mismatch",)


def test_the_mismatch_explains_itself_in_every_language(world: World) -> None:
    world.issue("WorkPermit", "SE")
    report = world.check(language="de")
    (finding,) = report.failures
    for lang in _messages.LANGUAGES:
        text = _messages.render(finding.code, finding.details, lang)
        assert text is not None and "SE" in text and "LT" in text, lang
    assert "nur in LT akkreditiert" in report.explain()
    assert report.to_json()["findings"][-1]["details"]["issuing_state"] == "SE"


def test_a_credential_naming_no_issuing_state_is_refused(world: World) -> None:
    # The office signs an SD-JWT VC of its own making, without issuingState.
    claims = schemas.example_subject("WorkPermit", now=START)
    claims.pop("id")
    claims.pop("issuingState")
    claims["sub"] = world.wallet.did
    token = issue_sd_jwt(
        claims,
        world.office_key,
        issuer=world.office.did,
        kid=world.office.verification_method,
        vct=schemas.vct("WorkPermit"),
        holder_key=world.wallet.public_key,
        exp=int((START + timedelta(days=300)).timestamp()),
        now=START,
    )
    world.wallet.store(token)
    report = world.check()
    assert report.codes == ("jurisdiction_unknown",)
    (finding,) = report.failures
    assert finding.details == {"issuer": world.office.did, "type_name": "WorkPermit"}


def test_the_registry_names_the_mismatch(world: World) -> None:
    at = START + timedelta(minutes=1)
    office = world.office.did
    yes = world.ledger.was_accredited(office, "WorkPermit", at, jurisdiction="LT")
    assert (yes.ok, yes.code, yes.jurisdiction) == (True, "accredited", "LT")
    elsewhere = world.ledger.was_accredited(office, "WorkPermit", at, jurisdiction="DE")
    assert (elsewhere.ok, elsewhere.code, elsewhere.jurisdiction) == (
        False,
        "jurisdiction_mismatch",
        "LT",
    )
    assert "does not cover DE" in elsewhere.reason
    elsewhere.verify()  # the accreditation held is proven
    assert elsewhere.evidence
    other_type = world.ledger.was_accredited(office, "Visa", at, jurisdiction="LT")
    assert (other_type.ok, other_type.code) == (False, "not_accredited")
    unasked = world.ledger.was_accredited(office, "WorkPermit", at)
    assert (unasked.ok, unasked.code) == (True, "accredited")


def test_a_revoked_accreditation_is_not_a_mere_mismatch(world: World) -> None:
    (accreditation,) = world.ledger.issuers.accreditations(world.office.did)
    world.now[0] += timedelta(minutes=5)
    world.ledger.issuers.revoke(accreditation, by=world.root)
    world.now[0] += timedelta(minutes=5)
    answer = world.ledger.was_accredited(
        world.office.did, "WorkPermit", world.now[0], jurisdiction="DE"
    )
    assert (answer.ok, answer.code) == (False, "not_accredited")
    world.issue("WorkPermit", "DE")
    assert world.check().codes == ("issuer_not_accredited",)


@pytest.mark.parametrize(("state", "code"), [("BE", "jurisdiction_mismatch"), ("LT", None)])
def test_the_guardianship_gate_checks_the_issuing_state_too(
    world: World, state: str, code: str | None
) -> None:
    world.ledger.accredit(
        world.office.did, types=["GuardianshipAuthorisation"], by=world.root, jurisdiction="LT"
    )
    claims = schemas.example_subject("GuardianshipAuthorisation", now=START)
    claims.pop("id")
    claims.update(minorIdentifier="did:example:minor", issuingState=state)
    claims.update(issueDate="2026-05-01", expiryDate="2027-05-01", minorBirthDate="2009-08-22")
    guardian = world.wallet.did
    issued = world.office.issue(
        "GuardianshipAuthorisation", subject=guardian, claims=claims, format="di-eddsa"
    )
    gate = CredentialAuthorisationVerifier(world.ledger, status_fetcher=world.office.board)

    def verify() -> Any:
        return gate.verify(
            issued.credential,
            subject_id="did:example:minor",
            principal=Principal(guardian, Role.NGO),
            now_ms=int((START + timedelta(minutes=5)).timestamp() * 1000),
        )

    if code is None:
        assert verify().issuer == world.office.did
    else:
        with pytest.raises(VerificationError) as refused:
            verify()
        assert refused.value.code == code
