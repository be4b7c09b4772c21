"""The end-to-end immigration scenario that ``ssi-wallet demo`` narrates.

Everything runs for real, on the embedded default: a SQLite ledger file, the
personal-data vault beside it, and an encrypted wallet file, in a temporary
folder (or the folder given). Keys are generated, DIDs anchored on the
ledger, accreditations logged, credentials signed, disclosed selectively
after consent (and one request declined), verified, suspended, revoked, a
case file erased, and the ledger audited. The three pathways of an
immigration wallet:

1. asylum to local integration: registration, protection, then residence
   and work permits that an employer and a landlord check;
2. the return journey when a claim is denied: a return travel document a
   border post verifies offline, then the closed case file erased;
3. a third-country migrant ID for a prospective student: a study permit a
   university checks.

:func:`run_demo` narrates each step through a callback and returns a
:class:`DemoResult`: every step with what was expected and what happened, so
a program (or a test) can check each outcome rather than read the prose.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from credentials import schemas
from did_methods._wire.files import write_private
from did_methods.errors import ParseError, PolicyError, SSIWalletError
from did_methods.keys import PrivateKey
from ledger.facade import Ledger
from ledger.vault import MasterKey, Vault
from ssi_wallet import policies
from ssi_wallet._messages import LANGUAGES
from ssi_wallet.holder import ConsentRequest, Holder
from ssi_wallet.issuer import Issuer, StatusTarget
from ssi_wallet.verifier import Verifier

__all__ = ["Decision", "DemoError", "DemoResult", "DemoStep", "run_demo"]

Say = Callable[[str], None]

#: The files a kept demo folder holds (``--keep DIR``).
FILES: Mapping[str, str] = {
    "registry.db": "the ledger and the personal-data vault (SQLite)",
    "vault.key": "the vault's master key (mode 0600)",
    "amina.wallet": "Amina's encrypted wallet",
    "amina.passphrase": "the passphrase of Amina's wallet (mode 0600; a demo only)",
}

_ORIGIN = "registry.eu.example/log"

#: The vault subject (Karim's case) the demo erases: ``ssi-wallet vault get`` shows it erased.
ERASED_SUBJECT = "DE-BAMF-2026-207311"


class Decision(Protocol):
    """A verifier's decision as the demo reads it: a :class:`~ssi_wallet.verifier.Report`
    in process, or what a verifier service answered over HTTP (``--http``)."""

    @property
    def ok(self) -> bool:
        """Was the presentation accepted?"""
        ...

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes of the failed findings."""
        ...

    def explain(self, language: str | None = None) -> str:
        """The decision and its reasons, in ``language``."""
        ...


class DemoError(SSIWalletError):
    """A step of the demo did not turn out as the scenario expects.

    ``code`` is ``demo_unexpected``; ``result`` holds every step of the run.
    """

    code = "demo_unexpected"

    def __init__(self, message: str, result: DemoResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True, slots=True)
class DemoStep:
    """One numbered step: what the scenario expects and what happened.

    ``expected`` and ``outcome`` are one of ``done`` (an action succeeded),
    ``accepted`` / ``refused`` (a verifier's decision), ``consented`` /
    ``declined`` (the holder's answer to a request), ``erased`` (a subject's
    data in the vault) and ``intact`` (the ledger audit). ``details`` holds
    the step's facts (DIDs, finding codes, counts) for a program to read.
    """

    number: int
    section: str
    title: str
    expected: str
    outcome: str
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Did the step turn out as expected?"""
        return self.outcome == self.expected

    def to_json(self) -> dict[str, Any]:
        """The step as a JSON object."""
        return {
            "step": self.number,
            "section": self.section,
            "title": self.title,
            "expected": self.expected,
            "outcome": self.outcome,
            "ok": self.ok,
            "details": dict(self.details),
        }


@dataclass(frozen=True, slots=True)
class DemoResult:
    """Every step of a run, the language of its explanations and where its files are.

    ``folder`` is ``None`` when the run worked in a temporary folder that is
    gone. ``servers`` lists the HTTP services a ``--http`` run started (name,
    role, url), in order; empty otherwise.
    """

    steps: tuple[DemoStep, ...]
    language: str
    folder: str | None
    servers: tuple[Mapping[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        """Did every step turn out as the scenario expects?"""
        return all(step.ok for step in self.steps)

    def step(self, number: int) -> DemoStep:
        """The step numbered ``number`` (from 1)."""
        return self.steps[number - 1]

    def to_json(self) -> dict[str, Any]:
        """The run as a JSON object: ``ok``, ``language``, ``folder``, ``files``, ``steps``
        (and ``servers`` for a ``--http`` run)."""
        out: dict[str, Any] = {
            "ok": self.ok,
            "language": self.language,
            "folder": self.folder,
            "files": sorted(FILES) if self.folder is not None else [],
            "steps": [step.to_json() for step in self.steps],
        }
        if self.servers:
            out["servers"] = [dict(server) for server in self.servers]
        return out


def run_demo(
    say: Say = print,
    *,
    folder: str | Path | None = None,
    language: str = "en",
    strict: bool = True,
    http: bool = False,
) -> DemoResult:
    """Run the scenario, narrating each step through ``say``; return every step's outcome.

    ``folder`` keeps the files the run makes (it must be empty or not exist;
    it is created); by default the run works in a temporary folder that is
    removed. ``language`` (one of :data:`ssi_wallet._messages.LANGUAGES`)
    is the language of what the library itself writes: the verifiers'
    decisions, the consent screens' credential and claim names, and the
    credential names in the narration; the narration is in English. With
    ``http`` the credentials travel over OpenID4VCI and the presentations over
    OpenID4VP, between services on 127.0.0.1 (:mod:`ssi_wallet.demo_http`).

    Raises :class:`~did_methods.errors.ParseError` for an unknown language or
    a folder that is not empty, :class:`~did_methods.errors.UnsupportedError`
    for ``http`` without the ``server`` extra, and, when ``strict``,
    :class:`DemoError` (carrying the result) when a step does not turn out as
    the scenario expects.
    """
    if language not in LANGUAGES:
        raise ParseError(f"no language {language[:20]!r}: one of {', '.join(LANGUAGES)}")
    make = _Scenario
    if http:
        from ssi_wallet.demo_http import HttpScenario, require_server

        require_server()
        make = HttpScenario
    if folder is None:
        with tempfile.TemporaryDirectory(prefix="ssi-wallet-demo-") as tmp:
            scenario = make(say, Path(tmp), language)
            steps = scenario.run()
        result = DemoResult(steps, language, None, tuple(scenario.servers))
    else:
        where = Path(folder)
        if where.exists() and (not where.is_dir() or any(where.iterdir())):
            raise ParseError(
                f"{where} is not an empty folder; the demo keeps its files in a new one"
            )
        where.mkdir(parents=True, exist_ok=True)
        scenario = make(say, where, language)
        steps = scenario.run()
        result = DemoResult(steps, language, str(where), tuple(scenario.servers))
    if strict and not result.ok:
        wrong = next(step for step in result.steps if not step.ok)
        raise DemoError(
            f"demo step {wrong.number} ({wrong.title}): expected {wrong.expected}, "
            f"got {wrong.outcome}",
            result,
        )
    return result


def _decision(report: Decision) -> str:
    return "accepted" if report.ok else "refused"


class _Scenario:
    """The scenario's state as it runs: the ledger, the parties, the numbered steps."""

    def __init__(self, say: Say, folder: Path, language: str) -> None:
        self.say = say
        self.folder = folder
        self.language = language
        self.steps: list[DemoStep] = []
        self.section = ""
        self.today = datetime.now(UTC)
        self.servers: list[Mapping[str, str]] = []

    # -- narration ----------------------------------------------------------------------

    def heading(self, text: str) -> None:
        self.section = text
        self.say(f"\n== {text}")

    def step(
        self, title: str, expected: str, outcome: str, lines: tuple[str, ...] = (), **details: Any
    ) -> DemoStep:
        number = len(self.steps) + 1
        done = DemoStep(number, self.section, title, expected, outcome, details)
        self.steps.append(done)
        mark = "" if done.ok else f"   [UNEXPECTED: expected {expected}, got {outcome}]"
        self.say(f"{number:>2}. {title}{mark}")
        for line in lines:
            self.say("    " + line)
        return done

    def name(self, type_name: str) -> str:
        return schemas.display_name(type_name, self.language)

    def explained(self, report: Decision) -> tuple[str, ...]:
        return tuple("  " + line for line in report.explain(self.language).splitlines())

    def ask(
        self,
        ledger: Ledger,
        audience: str,
        issuer: Issuer,
        policy: policies.Policy,
        wallet: Holder,
        consent: Callable[[ConsentRequest], bool] = lambda ask: True,
    ) -> Decision:
        """A new verifier at ``audience`` (status lists from ``issuer``) asks ``wallet``
        for what ``policy`` needs and checks the answer; the wallet's PolicyError
        when consent is refused."""
        verifier = Verifier(
            ledger, audience=audience, status_fetcher=issuer.board, language=self.language
        )
        request = verifier.request(policy)
        return verifier.check(wallet.answer(request, consent=consent), request)

    def verdict(self, report: Decision) -> tuple[str, ...]:
        """The decision and its findings, without the disclosed claims."""
        lines = self.explained(report)
        return lines[:1] + tuple(line for line in lines[1:] if line.lstrip().startswith("["))

    def consent_screen(self, ask: ConsentRequest) -> tuple[str, ...]:
        return tuple("  | " + line for line in ask.describe(self.language).splitlines())

    # -- the scenario -------------------------------------------------------------------

    def run(self) -> tuple[DemoStep, ...]:
        eu_root = PrivateKey.generate()
        ledger = Ledger.open(self.folder / "registry.db", key=eu_root, origin=_ORIGIN)
        try:
            bamf, office = self.trust_layer(ledger, eu_root)
            vault = self.open_vault(eu_root)
            try:
                self.integration(ledger, bamf, office)
                self.return_journey(ledger, bamf, vault)
            finally:
                vault.close()
            self.prospective_student(ledger, office)
            self.audit(ledger)
        finally:
            ledger.close()
        self.say(f"\nDemo complete ({self.today:%Y-%m-%d}).")
        return tuple(self.steps)

    def open_vault(self, operator: PrivateKey) -> Vault:
        master = MasterKey.generate()
        master.write_file(self.folder / "vault.key")
        return Vault.open(self.folder / "registry.db", master_key=master, signer=operator)

    def trust_layer(self, ledger: Ledger, eu_root: PrivateKey) -> tuple[Issuer, Issuer]:
        self.heading("The trust layer")
        bamf = self.new_issuer(ledger, "Federal Office for Migration and Refugees")
        federal_types = [
            "AsylumApplicant",
            "InternationalProtectionStatus",
            "ResidencePermit",
            "WorkPermit",
            "ReturnTravelDocument",
            "StudyPermit",
        ]
        ledger.accredit(bamf.did, types=federal_types, by=eu_root, jurisdiction="DE", delegate=True)
        self.step(
            "The EU-level root accredits Germany's federal migration office on the ledger",
            "done",
            self.accredited(ledger, bamf.did, federal_types),
            (
                f"DID: {bamf.did}",
                "for: " + ", ".join(self.name(t) for t in federal_types),
                "in Germany (DE), allowed to accredit other offices.",
            ),
            did=bamf.did,
            jurisdiction="DE",
            types=federal_types,
        )
        office = self.new_issuer(ledger, "Ausländerbehörde Leipzig")
        local_types = ["ResidencePermit", "WorkPermit", "StudyPermit"]
        ledger.accredit(office.did, types=local_types, by=bamf.signer(), jurisdiction="DE")
        self.step(
            "The federal office accredits the foreigners' office of Leipzig",
            "done",
            self.accredited(ledger, office.did, local_types),
            (
                f"DID: {office.did}",
                "for: " + ", ".join(self.name(t) for t in local_types),
                "in Germany (DE): a chain of trust two links long, all on the ledger.",
            ),
            did=office.did,
            jurisdiction="DE",
            types=local_types,
        )
        return bamf, office

    def new_issuer(self, ledger: Ledger, name: str) -> Issuer:
        """An issuer with its DID on ``ledger``."""
        return Issuer.create(ledger, name=name)

    def deliver(
        self, issuer: Issuer, wallet: Holder, claims: Mapping[str, dict[str, object]]
    ) -> dict[str, list[StatusTarget]]:
        """``issuer`` issues one credential per type of ``claims`` to ``wallet``, which
        checks and stores it; returns each type's status (to suspend or revoke it)."""
        issued: dict[str, list[StatusTarget]] = {}
        for type_name, subject in claims.items():
            made = issuer.issue(type_name, subject=wallet.did, claims=subject)
            wallet.store(made.credential)
            issued[type_name] = [made]
        return issued

    def accredited(self, ledger: Ledger, did: str, types: list[str]) -> str:
        """``done`` when the ledger answers that ``did`` is accredited in DE for every type."""
        answers = [
            ledger.was_accredited(did, t, datetime.now(UTC), jurisdiction="DE", evidence=False)
            for t in types
        ]
        return "done" if all(a.ok for a in answers) else "refused"

    def claims(self, type_name: str, issuer: Issuer, number: str) -> dict[str, object]:
        """The vocabulary's sample claims, made German: issued in DE by ``issuer`` under
        document ``number``, dates around today so the demo never ages."""
        claims = schemas.example_subject(type_name)
        claims.pop("id", None)
        claims["documentNumber"] = number
        claims["issuingState"] = "DE"
        claims["issuingAuthority"] = issuer.name
        today = self.today.date()
        claims["issueDate"] = (today - timedelta(days=14)).isoformat()
        claims["expiryDate"] = (today + timedelta(days=730)).isoformat()
        if type_name == "StudyPermit":
            claims["institutionName"] = "Universität Leipzig"
            claims["institutionIdentifier"] = "D LEIPZIG01"
            claims["institutionCountry"] = "DE"
        return claims

    def integration(self, ledger: Ledger, bamf: Issuer, office: Issuer) -> None:
        self.heading("Pathway 1: asylum to local integration")
        secret = secrets.token_urlsafe(24)
        write_private(self.folder / "amina.passphrase", secret + "\n")
        wallet = Holder.create(
            self.folder / "amina.wallet", passphrase=secret, resolver=ledger.resolver()
        )
        try:
            self._integration(ledger, bamf, office, wallet)
        finally:
            wallet.close()

    def _integration(self, ledger: Ledger, bamf: Issuer, office: Issuer, wallet: Holder) -> None:
        self.step(
            "Amina creates her wallet: an encrypted file that holds her key",
            "done",
            "done",
            (f"her DID: {wallet.did}",),
            did=wallet.did,
        )
        federal = self.deliver(
            bamf,
            wallet,
            {
                "AsylumApplicant": self.claims("AsylumApplicant", bamf, "DE-BAMF-2026-118204"),
                "InternationalProtectionStatus": self.claims(
                    "InternationalProtectionStatus", bamf, "DE-BAMF-2026-118977"
                ),
            },
        )
        self.step(
            "The federal office registers her asylum claim, then grants protection",
            "done",
            "done",
            (
                f"{self.name('AsylumApplicant')} and {self.name('InternationalProtectionStatus')}"
                " (SD-JWT VC): her wallet checks each signature and keeps them.",
            ),
            stored=2,
        )
        work = self.deliver(
            office,
            wallet,
            {
                "ResidencePermit": self.claims("ResidencePermit", office, "DE-L-2026-031552"),
                "WorkPermit": self.claims("WorkPermit", office, "DE-L-2026-004417"),
            },
        )["WorkPermit"]
        self.step(
            "The Leipzig office issues her residence and work permits",
            "done",
            "done",
            (f"{self.name('ResidencePermit')}, {self.name('WorkPermit')}.",),
            stored=2,
        )

        screen: list[str] = []

        def agree(ask: ConsentRequest) -> bool:
            screen.extend(self.consent_screen(ask))
            return True

        report = self.ask(
            ledger,
            "did:web:klinikum-nordstadt.example",
            office,
            policies.right_to_work(sector="Q86"),
            wallet,
            agree,
        )
        self.step(
            "A hospital asks for her right to work in healthcare; Amina reads and agrees",
            "accepted",
            _decision(report),
            (
                "what her wallet shows her before anything is sent:",
                *screen,
                "the hospital's decision:",
                *self.explained(report),
            ),
            consent_lines=len(screen),
            codes=list(report.codes),
        )

        screen = []
        before = len(wallet.history())

        def decline(ask: ConsentRequest) -> bool:
            screen.extend(self.consent_screen(ask))
            return False

        try:
            self.ask(
                ledger,
                "did:web:jobs-fast.example",
                bamf,
                policies.international_protection(),
                wallet,
                decline,
            )
            outcome = "consented"
        except PolicyError as exc:
            outcome = "declined" if "consent_refused" in str(exc) else "error"
        after = len(wallet.history())
        self.step(
            "A recruitment agency asks whether she is a refugee; Amina declines",
            "declined",
            outcome if after == before else "disclosed",
            (
                *screen,
                "nothing is sent to the agency and nothing is recorded: "
                f"her wallet's history still lists {after} disclosure(s).",
            ),
            history_before=before,
            history_after=after,
        )

        report = self.ask(
            ledger, "did:web:wohnen.example", office, policies.right_to_reside(), wallet
        )
        self.step(
            "A landlord checks her right to reside: no name, birth date or nationality is shown",
            "accepted",
            _decision(report),
            self.explained(report),
            codes=list(report.codes),
        )

        office.suspend_many(work)
        report = self.ask(
            ledger,
            "did:web:klinikum-nordstadt.example",
            office,
            policies.right_to_work(sector="Q86"),
            wallet,
        )
        self.step(
            "The Leipzig office suspends her work permit: the next check is refused",
            "refused",
            _decision(report),
            (
                *self.explained(report),
                "(a status that cannot be read also refuses: it fails closed)",
            ),
            codes=list(report.codes),
        )
        office.reinstate_many(work)
        # A verifier keeps a status list it fetched for a while; the next employer's
        # check (or this one's, once its cache expires) reads the new list.
        report = self.ask(
            ledger,
            "did:web:pflegedienst-leipzig.example",
            office,
            policies.right_to_work(sector="Q86"),
            wallet,
        )
        self.step(
            "The office lifts the suspension: a care service's check is accepted again",
            "accepted",
            _decision(report),
            self.verdict(report),
            codes=list(report.codes),
        )

        bamf.revoke_many(federal["AsylumApplicant"])
        report = self.ask(
            ledger,
            "did:web:sozialamt-leipzig.example",
            bamf,
            _document_policy(
                "asylum_registration", "asylum applicant registration", "AsylumApplicant"
            ),
            wallet,
        )
        self.step(
            "Protection granted, the federal office revokes her asylum registration for good",
            "refused",
            _decision(report),
            ("the welfare office is shown the old registration:", *self.explained(report)),
            codes=list(report.codes),
        )

        history = wallet.history()
        lines = []
        shown = []
        for record in history:
            shown.append(sum(len(paths) for paths in record.disclosed.values()))
            lines.append(f"{record.at}  {record.verifier}: {shown[-1]} claim(s) shown")
        self.step(
            "Amina's wallet remembers who saw what, and when (the declined request is not there)",
            "done",
            "done" if len(history) == after + 4 else "wrong_count",
            (*lines, "(each count includes the claims an issuer leaves in clear, such as her DID)"),
            disclosures=len(history),
            verifiers=[record.verifier for record in history],
            claims_shown=shown,
        )

    def return_journey(self, ledger: Ledger, bamf: Issuer, vault: Vault) -> None:
        self.heading("Pathway 2: the return journey")
        case = ERASED_SUBJECT
        vault.put(
            case,
            {
                "familyName": "Tursunov",
                "givenName": "Karim",
                "birthDate": "1985-12-17",
                "decision": "claim denied; voluntary return agreed",
            },
        )
        karim = Holder.create(
            ":memory:", passphrase=secrets.token_urlsafe(16), resolver=ledger.resolver()
        )
        try:
            self.deliver(
                bamf,
                karim,
                {
                    "ReturnTravelDocument": self.claims(
                        "ReturnTravelDocument", bamf, "DE-EUTD-2026-000912"
                    )
                },
            )
            self.step(
                "Karim's claim is denied; the federal office keeps his case file in the vault "
                "and issues him a return travel document",
                "done",
                "done",
                (
                    "the case file is encrypted off the ledger; the ledger holds only a "
                    "commitment to it (a keyed hash that names no one).",
                ),
            )
            report = self.ask(
                ledger,
                "did:web:border.example",
                bamf,
                _document_policy(
                    "return_travel",
                    "valid return travel document",
                    "ReturnTravelDocument",
                    ("destinationCountry", "singleJourney"),
                ),
                karim,
            )
            self.step(
                "The border post verifies it offline (cached status list, no network)",
                "accepted",
                _decision(report),
                self.explained(report),
                codes=list(report.codes),
            )
        finally:
            karim.close()
        before = ledger.audit()
        erasure = vault.erase(case)
        after = ledger.audit()
        status = vault.access(case).status
        self.step(
            "Karim has left; his case file is erased (GDPR article 17) and the ledger still "
            "audits clean",
            "erased",
            status if after.ok else "audit_failed",
            (
                f"records and keys destroyed; {len(erasure.tombstones)} tombstone(s) appended "
                "that name no one;",
                f"ledger audit before: {'intact' if before.ok else before.reason}, "
                f"after: {'intact' if after.ok else after.reason} ({after.size} entries).",
            ),
            tombstones=len(erasure.tombstones),
            audit_before=before.ok,
            audit_after=after.ok,
        )

    def prospective_student(self, ledger: Ledger, office: Issuer) -> None:
        self.heading("Pathway 3: a third-country migrant ID for a prospective student")
        lena = Holder.create(
            ":memory:", passphrase=secrets.token_urlsafe(16), resolver=ledger.resolver()
        )
        try:
            self.deliver(
                office,
                lena,
                {"StudyPermit": self.claims("StudyPermit", office, "DE-L-2026-077310")},
            )
            report = self.ask(
                ledger, "did:web:uni-leipzig.example", office, policies.right_to_study(), lena
            )
        finally:
            lena.close()
        self.step(
            "Before travelling, Lena receives a study permit; the university checks it",
            "accepted",
            _decision(report),
            self.explained(report),
            codes=list(report.codes),
        )

    def audit(self, ledger: Ledger) -> None:
        self.heading("The ledger")
        note = ledger.checkpoint().splitlines()
        report = ledger.audit()
        self.step(
            "An auditor checks the whole ledger: hash chain, Merkle tree, signed checkpoint",
            "intact",
            "intact" if report.ok else "audit_failed",
            (
                f"{ledger.log.size} entries: DIDs, accreditations, status lists, vault "
                "commitments and tombstones; no personal data.",
                f"signed checkpoint: {note[1]} entries, root {note[2]}",
            ),
            entries=ledger.log.size,
            root=note[2],
        )


def _document_policy(
    name: str, purpose: str, type_name: str, extra: tuple[str, ...] = ()
) -> policies.Policy:
    """A policy that asks for one document's dates (and ``extra`` claims) and checks it is
    in force today."""

    def rule(disclosed: policies.Disclosed, at: datetime) -> list[policies.Finding]:
        query_id, claims = next(iter(disclosed.items()))
        end = str(claims.get("expiryDate", ""))
        ok = end >= at.date().isoformat()
        message = f"the document is valid until {end}" if ok else f"it expired on {end}"
        return [
            policies.Finding("document_valid" if ok else "document_expired", ok, message, query_id)
        ]

    claims = ("issueDate", "expiryDate", *extra)
    return policies.Policy(name, purpose, {"document": type_name}, claims, rule)
