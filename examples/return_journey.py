"""Pathway 2: the return journey when a protection claim is denied.

The federal office issues Karim a return travel document twice: as an SD-JWT
VC in his wallet, and as a signed QR code (CWT/COSE, base45) for paper. A
border post checks both offline: the QR code with the office's key from a
trust list, the wallet presentation with a cached status list.

Run: python examples/return_journey.py
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from credentials import schemas
from credentials.barcode import encode_barcode, verify_barcode
from did_methods import KeyType, PrivateKey, PublicKey, did_key_from_public_key
from ledger import Ledger
from ssi_wallet import Holder, Issuer, Verifier, policies


def travel_claims() -> dict[str, Any]:
    claims = schemas.example_subject("ReturnTravelDocument")
    claims.pop("id", None)
    # Issued in Germany, where the office is accredited: a verifier checks the issuing state.
    claims["issuingState"] = "DE"
    claims["issuingAuthority"] = "Federal Office for Migration and Refugees"
    today = datetime.now(UTC).date()
    claims["issueDate"] = today.isoformat()
    claims["expiryDate"] = (today + timedelta(days=30)).isoformat()
    return claims


def main() -> None:
    root = PrivateKey.generate()
    ledger = Ledger.open(":memory:", key=root)
    office = Issuer.create(ledger, name="Federal Office for Migration and Refugees")
    ledger.accredit(office.did, types=["ReturnTravelDocument"], by=root, jurisdiction="DE")

    # On paper: a QR code the border post verifies with a key from its trust list.
    paper_key = PrivateKey.generate(KeyType.P256)
    issuer_did = did_key_from_public_key(paper_key.public_key)
    kid = f"{issuer_did}#{paper_key.public_key.to_multikey()}"
    claims = travel_claims()
    qr_text = encode_barcode(
        {k: claims[k] for k in ("documentNumber", "destinationCountry", "expiryDate")},
        paper_key,
        kid=kid,
        issuer=issuer_did,
        exp=datetime.now(UTC) + timedelta(days=30),
    )
    trust_list: dict[bytes, PublicKey] = {kid.encode(): paper_key.public_key}
    result = verify_barcode(qr_text, lambda key_id, iss: trust_list.get(key_id))
    print(f"QR code ({len(qr_text)} characters):", result.explain().splitlines()[0])
    assert result.ok

    # In the wallet: an SD-JWT VC presented with key binding.
    karim = Holder.create(
        ":memory:", passphrase=secrets.token_urlsafe(16), resolver=ledger.resolver()
    )
    karim.store(office.issue("ReturnTravelDocument", subject=karim.did, claims=claims))

    def rule(disclosed: policies.Disclosed, at: datetime) -> list[policies.Finding]:
        query_id, shown = next(iter(disclosed.items()))
        ok = str(shown["expiryDate"]) >= at.date().isoformat()
        return [
            policies.Finding(
                "document_valid" if ok else "document_expired",
                ok,
                f"valid until {shown['expiryDate']}",
                query_id,
            )
        ]

    policy = policies.Policy(
        "return_travel",
        "a valid return travel document",
        {"travel": "ReturnTravelDocument"},
        ("issueDate", "expiryDate", "destinationCountry"),
        rule,
    )
    border = Verifier(ledger, audience="did:web:border.example", status_fetcher=office.board)
    request = border.request(policy)
    report = border.check(karim.answer(request, consent=lambda ask: True), request)
    print(report.explain())
    assert report.ok


if __name__ == "__main__":
    main()
