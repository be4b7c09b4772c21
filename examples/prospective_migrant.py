"""Pathway 3: a third-country migrant ID for a prospective student.

Before travelling, Lena holds her person identification data, a recognised
qualification and a study permit. A university asks, with DCQL, for the study
permit only; her wallet shows who asks and what would be disclosed, and keeps
a record of the disclosure she can export.

Run: python examples/prospective_migrant.py
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from credentials import schemas
from did_methods import PrivateKey
from ledger import Ledger
from ssi_wallet import Holder, Issuer, Verifier, policies


def sample(type_name: str) -> dict[str, Any]:
    claims = schemas.example_subject(type_name)
    claims.pop("id", None)
    # Issued in Poland, where the office is accredited: a verifier checks the issuing state.
    claims["issuingState"] = "PL"
    claims["issuingAuthority"] = "Voivodeship Office"
    if "expiryDate" in claims:
        today = datetime.now(UTC).date()
        claims["issueDate"] = (today - timedelta(days=30)).isoformat()
        claims["expiryDate"] = (today + timedelta(days=900)).isoformat()
    return claims


def main() -> None:
    root = PrivateKey.generate()
    ledger = Ledger.open(":memory:", key=root)
    consulate = Issuer.create(ledger, name="Voivodeship Office")
    ledger.accredit(
        consulate.did,
        types=["PersonIdentificationData", "QualificationCredential", "StudyPermit"],
        by=root,
        jurisdiction="PL",
    )
    lena = Holder.create(
        ":memory:", passphrase=secrets.token_urlsafe(16), resolver=ledger.resolver()
    )
    for type_name in ("PersonIdentificationData", "QualificationCredential", "StudyPermit"):
        lena.store(consulate.issue(type_name, subject=lena.did, claims=sample(type_name)))

    university = Verifier(
        ledger, audience="did:web:university.example", status_fetcher=consulate.board, language="pl"
    )
    request = university.request(policies.right_to_study())
    print(json.dumps(request.to_json()["dcql_query"], indent=1)[:400], "...")
    presentation = lena.answer(request, consent=lambda ask: print(ask.describe("pl")) or True)
    report = university.check(presentation, request)
    print(report.explain())
    assert report.ok
    (record,) = lena.history()
    print(
        f"Lena's wallet remembers: {record.verifier} saw {sum(map(len, record.disclosed.values()))}"
        " claims for",
        record.purpose,
    )
    export = lena.export()
    assert len(export["credentials"]) == 3 and len(export["history"]) == 1


if __name__ == "__main__":
    main()
