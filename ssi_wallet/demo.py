"""The end-to-end immigration scenario that ``ssi-wallet demo`` narrates.

Everything runs for real, on the embedded default: a SQLite ledger file and
an encrypted wallet file in a temporary folder (or the folder given). Keys
are generated, DIDs anchored on the ledger, accreditations logged,
credentials signed, disclosed selectively, verified, suspended, and the
ledger audited. The three pathways of an immigration wallet:

1. asylum to local integration: registration, protection, then residence
   and work permits that an employer and a landlord check;
2. the return journey when a claim is denied: a return travel document a
   border post verifies offline;
3. a third-country migrant ID for a prospective student: a study permit a
   university checks.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from credentials import schemas
from did_methods.errors import SSIWalletError
from did_methods.keys import PrivateKey
from ledger.facade import Ledger
from ssi_wallet import policies
from ssi_wallet.holder import ConsentRequest, Holder
from ssi_wallet.issuer import Issuer
from ssi_wallet.verifier import Report, Verifier

__all__ = ["run_demo"]

Say = Callable[[str], None]


def _claims(type_name: str, issuer: Issuer, days: int = 730) -> dict[str, object]:
    """The vocabulary's sample claims, with dates around today so the demo never ages,
    issued in Germany by ``issuer`` (both offices are accredited for DE only: a
    verifier refuses a permit that names another issuing state)."""
    claims = schemas.example_subject(type_name)
    claims.pop("id", None)
    claims["issuingState"] = "DE"
    claims["issuingAuthority"] = issuer.name
    today = datetime.now(UTC).date()
    claims["issueDate"] = (today - timedelta(days=14)).isoformat()
    claims["expiryDate"] = (today + timedelta(days=days)).isoformat()
    return claims


def _check(report: Report, expected: bool, say: Say) -> None:
    for line in report.explain().splitlines():
        say("     " + line)
    if report.accepted is not expected:
        raise SSIWalletError(f"demo expected accepted={expected}, got {report.codes}")


def run_demo(say: Say = print, *, folder: str | Path | None = None) -> None:
    """Run the scenario, reporting each step through ``say``.

    Raises an :class:`~did_methods.errors.SSIWalletError` if any step does
    not turn out as the scenario expects.
    """
    if folder is None:
        with tempfile.TemporaryDirectory(prefix="ssi-wallet-demo-") as tmp:
            _run(say, Path(tmp))
    else:
        _run(say, Path(folder))


def _run(say: Say, folder: Path) -> None:
    today = datetime.now(UTC)
    say(f"Working in {folder}")

    say("\n== The trust layer")
    eu_root = PrivateKey.generate()
    ledger = Ledger.open(folder / "registry.db", key=eu_root, origin="registry.eu.example/log")
    bamf = Issuer.create(ledger, name="Federal Office for Migration")
    ledger.accredit(
        bamf.did,
        types=[
            "AsylumApplicant",
            "InternationalProtectionStatus",
            "ResidencePermit",
            "WorkPermit",
            "ReturnTravelDocument",
            "StudyPermit",
        ],
        by=eu_root,
        jurisdiction="DE",
        delegate=True,
    )
    say(f"1. The EU-level root accredits the federal office {bamf.did}")
    say("   for six credential types in DE, allowed to delegate.")
    office = Issuer.create(ledger, name="Ausländerbehörde Leipzig")
    ledger.accredit(
        office.did,
        types=["ResidencePermit", "WorkPermit", "StudyPermit"],
        by=bamf.signer(),
        jurisdiction="DE",
    )
    say(f"2. The federal office accredits the Leipzig office {office.did}")
    say("   for residence, work and study permits: a chain of depth 2 on the ledger.")

    say("\n== Pathway 1: asylum to local integration")
    wallet = Holder.create(
        folder / "amina.wallet", passphrase=secrets.token_urlsafe(16), resolver=ledger.resolver()
    )
    say(f"3. Amina's wallet (encrypted file) holds her key; her DID is {wallet.did}")
    for type_name, issuer in (("AsylumApplicant", bamf), ("InternationalProtectionStatus", bamf)):
        issued = issuer.issue(type_name, subject=wallet.did, claims=_claims(type_name, issuer))
        wallet.store(issued.credential)
        say(f"4. {issuer.name} issues her {type_name} (SD-JWT VC); the wallet verifies, keeps it.")
    residence = office.issue(
        "ResidencePermit", subject=wallet.did, claims=_claims("ResidencePermit", office)
    )
    wallet.store(residence.credential)
    work = office.issue("WorkPermit", subject=wallet.did, claims=_claims("WorkPermit", office))
    wallet.store(work.credential)
    say("5. After recognition, the Leipzig office issues her residence and work permits.")

    def consent(ask: ConsentRequest) -> bool:
        for line in ask.describe().splitlines():
            say("     " + line)
        return True

    clinic = Verifier(
        ledger,
        audience="did:web:klinikum-nordstadt.example",
        status_fetcher=office.board,
        language="de",
    )
    request = clinic.request(policies.right_to_work(sector="Q86"))
    say("6. A hospital asks for the right to work in healthcare (NACE Q86). Amina sees:")
    answer = wallet.answer(request, consent=consent)
    say("   The hospital's decision, explained in German:")
    _check(clinic.check(answer, request), True, say)

    landlord = Verifier(ledger, audience="did:web:wohnen.example", status_fetcher=office.board)
    request = landlord.request(policies.right_to_reside())
    answer = wallet.answer(request, consent=lambda ask: True)
    say("7. A landlord checks her right to reside; no name, birth date or nationality is shown:")
    _check(landlord.check(answer, request), True, say)

    assert work.status_index is not None
    office.suspend(work.status_index)
    audit_clinic = Verifier(
        ledger, audience="did:web:klinikum-nordstadt.example", status_fetcher=office.board
    )
    request = audit_clinic.request(policies.right_to_work(sector="Q86"))
    answer = wallet.answer(request, consent=lambda ask: True)
    say("8. The office suspends the work permit; the next check is refused (status fails closed):")
    _check(audit_clinic.check(answer, request), False, say)
    office.reinstate(work.status_index)
    say(f"   Amina's wallet remembers {len(wallet.history())} disclosures: who saw what, and when.")

    say("\n== Pathway 2: the return journey")
    karim = Holder.create(
        ":memory:", passphrase=secrets.token_urlsafe(16), resolver=ledger.resolver()
    )
    travel = bamf.issue(
        "ReturnTravelDocument", subject=karim.did, claims=_claims("ReturnTravelDocument", bamf)
    )
    karim.store(travel.credential)
    say("9. Karim's claim is denied; the federal office issues a return travel document.")
    border = Verifier(ledger, audience="did:web:border.example", status_fetcher=bamf.board)
    request = border.request(_return_policy())
    answer = karim.answer(request, consent=lambda ask: True)
    say("10. The border post verifies it offline (cached status list, no network):")
    _check(border.check(answer, request), True, say)

    say("\n== Pathway 3: a third-country migrant ID for a prospective student")
    lena = Holder.create(
        ":memory:", passphrase=secrets.token_urlsafe(16), resolver=ledger.resolver()
    )
    study = office.issue("StudyPermit", subject=lena.did, claims=_claims("StudyPermit", office))
    lena.store(study.credential)
    university = Verifier(ledger, audience="did:web:uni.example", status_fetcher=office.board)
    request = university.request(policies.right_to_study())
    answer = lena.answer(request, consent=lambda ask: True)
    say("11. Before travelling, Lena receives a study permit; the university checks it:")
    _check(university.check(answer, request), True, say)

    say("\n== The ledger")
    note = ledger.checkpoint()
    report = ledger.audit()
    say(f"12. {ledger.log.size} entries: DIDs, accreditations, status digests; no personal data.")
    say(f"    Signed checkpoint: {note.splitlines()[1]} entries, root {note.splitlines()[2]}")
    say(f"    Audit of hash chain and Merkle tree: {'intact' if report.ok else report.reason}")
    if not report.ok:
        raise SSIWalletError(f"ledger audit failed: {report.reason}")
    wallet.close()
    ledger.close()
    say(f"\nDemo complete ({today:%Y-%m-%d}).")


def _return_policy() -> policies.Policy:
    def rule(disclosed: policies.Disclosed, at: datetime) -> list[policies.Finding]:
        query_id, claims = next(iter(disclosed.items()))
        end = str(claims.get("expiryDate", ""))
        ok = end >= at.date().isoformat()
        message = f"the travel document is valid until {end}" if ok else f"it expired on {end}"
        return [
            policies.Finding("document_valid" if ok else "document_expired", ok, message, query_id)
        ]

    claims = ("issueDate", "expiryDate", "destinationCountry", "singleJourney")
    types = {"travel": "ReturnTravelDocument"}
    return policies.Policy("return_travel", "valid return travel document", types, claims, rule)
