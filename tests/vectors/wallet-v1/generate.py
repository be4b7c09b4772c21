"""Made tests/vectors/wallet-v1/amina.wallet with the layout-1 code (commit 9a019bf).

Run once from the repository root at that commit:
``python tests/vectors/wallet-v1/generate.py``. Later code writes layout 2, so
this script no longer reproduces the file; it documents how it was made.
"""

from __future__ import annotations

import json
from pathlib import Path

from credentials import schemas
from ssi_wallet import Holder, Issuer, policies
from ssi_wallet.request import PresentationRequest

HERE = Path(__file__).parent
PASSPHRASE = "layout one vector"


def claims(type_name: str) -> dict[str, object]:
    subject = schemas.example_subject(type_name)
    subject.pop("id")
    if "expiryDate" in subject:
        subject["issueDate"] = "2026-01-05"
        subject["expiryDate"] = "2036-12-31"
    return subject


def main() -> None:
    target = HERE / "amina.wallet"
    ministry = Issuer.create(name="Migration Department (vector)")
    holder = Holder.create(target, passphrase=PASSPHRASE)
    stored = [
        holder.store(ministry.issue("WorkPermit", subject=holder.did, claims=claims("WorkPermit"))),
        holder.store(
            ministry.issue(
                "ResidencePermit",
                subject=holder.did,
                claims=claims("ResidencePermit"),
                format="vc-jwt",
            )
        ),
        holder.store(
            ministry.issue(
                "StudyPermit", subject=holder.did, claims=claims("StudyPermit"), format="di-eddsa"
            )
        ),
    ]
    request = PresentationRequest.for_policy(
        policies.right_to_work(sector="Q86"), audience="did:web:clinic.example"
    )
    holder.answer(request, consent=lambda ask: True)
    expected = {"passphrase": PASSPHRASE, "did": holder.did, "export": holder.export()}
    assert [c.id for c in holder.credentials()] == [s.id for s in stored]
    holder.close()
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
