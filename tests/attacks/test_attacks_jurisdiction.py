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
from did_methods import PrivateKey
from ledger.facade import Ledger
from ssi_wallet import Holder, Issuer, Verifier, policies
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
        claims = schemas.example_subject(type_name)
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
        answer = self.wallet.answer(request, consent=lambda _: True, now=self.now[0].timestamp())
        return checker.check(answer, request)


def lt_world(jurisdiction: str = "LT") -> World:
    now = [START]
    root = PrivateKey.generate()
    ledger = Ledger.open(":memory:", key=root, clock=lambda: int(now[0].timestamp() * 1000))
    key = PrivateKey.generate()
    office = Issuer.create(
        ledger, name="Migration Department of Lithuania", key=key, clock=lambda: now[0]
    )
    ledger.accredit(office.did, types=list(POLICIES), by=root, jurisdiction=jurisdiction)
    wallet = Holder.create(":memory:", passphrase="a passphrase", resolver=ledger.resolver())
    return World(ledger, root, office, key, wallet, now)


@pytest.fixture
def world() -> Iterator[World]:
    made = lt_world()
    yield made
    made.ledger.close()


def test_the_registry_names_the_mismatch(world: World) -> None:
    at = START + timedelta(minutes=1)
    office = world.office.did
    yes = world.ledger.was_accredited(office, "WorkPermit", at, jurisdiction="LT")
    assert (yes.accredited, yes.code, yes.jurisdiction) == (True, "accredited", "LT")
    elsewhere = world.ledger.was_accredited(office, "WorkPermit", at, jurisdiction="DE")
    assert (elsewhere.accredited, elsewhere.code, elsewhere.jurisdiction) == (
        False,
        "jurisdiction_mismatch",
        "LT",
    )
    assert "does not cover DE" in elsewhere.reason
    elsewhere.verify()  # the accreditation held is proven
    assert elsewhere.evidence
    other_type = world.ledger.was_accredited(office, "Visa", at, jurisdiction="LT")
    assert (other_type.accredited, other_type.code) == (False, "not_accredited")
    unasked = world.ledger.was_accredited(office, "WorkPermit", at)
    assert (unasked.accredited, unasked.code) == (True, "accredited")
