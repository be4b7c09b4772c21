"""Pathway 1: from asylum to local integration.

An EU-level root accredits a federal migration office; Amina registers as an
asylum applicant, is granted international protection, then receives
residence and work permits; a hospital checks her right to work in healthcare
and learns nothing else; a suspension is seen by the next check.

Run: python examples/asylum_to_integration.py  (writes registry.db and amina.wallet
in a temporary folder; nothing is sent over the network).
"""

from __future__ import annotations

import secrets
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from credentials import schemas
from did_methods import PrivateKey
from ledger import Ledger
from ssi_wallet import Holder, Issuer, Verifier, policies


def sample_claims(type_name: str) -> dict[str, Any]:
    """The vocabulary's sample claims for a type, dated around today, issued in Germany
    (the office is accredited for DE: a verifier refuses a permit naming another state)."""
    claims = schemas.example_subject(type_name)
    claims.pop("id", None)
    claims["issuingState"] = "DE"
    claims["issuingAuthority"] = "Federal Office for Migration and Refugees"
    today = datetime.now(UTC).date()
    claims["issueDate"] = (today - timedelta(days=7)).isoformat()
    claims["expiryDate"] = (today + timedelta(days=730)).isoformat()
    return claims


def main(folder: Path) -> None:
    eu_root = PrivateKey.generate()
    with Ledger.open(folder / "registry.db", key=eu_root) as ledger:
        office = Issuer.create(ledger, name="Federal Office for Migration and Refugees")
        ledger.accredit(
            office.did,
            types=[
                "AsylumApplicant",
                "InternationalProtectionStatus",
                "ResidencePermit",
                "WorkPermit",
            ],
            by=eu_root,
            jurisdiction="DE",
        )
        wallet = Holder.create(
            folder / "amina.wallet",
            passphrase=secrets.token_urlsafe(16),
            resolver=ledger.resolver(),
        )
        for type_name in ("AsylumApplicant", "InternationalProtectionStatus", "ResidencePermit"):
            wallet.store(
                office.issue(type_name, subject=wallet.did, claims=sample_claims(type_name))
            )
        work = office.issue("WorkPermit", subject=wallet.did, claims=sample_claims("WorkPermit"))
        wallet.store(work)
        print(f"Amina's wallet holds {len(wallet.credentials())} credentials")

        hospital = Verifier(
            ledger, audience="did:web:hospital.example", status_fetcher=office.board
        )
        request = hospital.request(policies.right_to_work(sector="Q86"))
        presentation = wallet.answer(request, consent=lambda ask: print(ask.describe()) or True)
        report = hospital.check(presentation, request)
        print(report.explain())
        assert report.ok
        disclosed = report.disclosed["work"]
        assert "familyName" not in disclosed and "nationality" not in disclosed

        assert work.status_index is not None
        office.suspend(work.status_index)
        second = Verifier(ledger, audience="did:web:hospital.example", status_fetcher=office.board)
        request = second.request(policies.right_to_work(sector="Q86"))
        report = second.check(wallet.answer(request, consent=lambda ask: True), request)
        print(report.explain())
        assert report.codes == ("suspended",)
        wallet.close()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        main(Path(tmp))
