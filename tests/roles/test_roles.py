"""Issuer, holder and verifier meeting in memory over one in-memory ledger."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from credentials import schemas
from did_methods import PrivateKey
from did_methods.encoding import b64url_decode, b64url_encode
from did_methods.errors import PolicyError, VerificationError
from ledger.facade import Ledger
from ssi_wallet import (
    DisclosedClaims,
    Holder,
    Issuer,
    PresentationRequest,
    PresentationResponse,
    Verifier,
    policies,
)
from ssi_wallet._wallet_store import WalletLockedError
from ssi_wallet.holder import HolderMismatchError
from ssi_wallet.replay import MemoryReplayStore

PERSONAL = ("familyName", "givenName", "birthDate", "birthPlace", "nationality", "sex")


@dataclass
class World:
    ledger: Ledger
    root: PrivateKey
    ministry: Issuer
    wallet: Holder
    now: list[datetime]

    def verifier(self, **kw: Any) -> Verifier:
        kw.setdefault("status_fetcher", self.ministry.board)
        return Verifier(
            self.ledger, audience="did:web:clinic.example", clock=lambda: self.now[0], **kw
        )

    def work_claims(self) -> dict[str, Any]:
        claims = schemas.example_subject("WorkPermit", now=self.now[0])
        claims.pop("id")
        return claims


@pytest.fixture
def world() -> World:
    now = [datetime(2026, 6, 1, 12, 0, tzinfo=UTC)]
    root = PrivateKey.generate()
    ledger = Ledger.open(":memory:", key=root, clock=lambda: now[0])
    ministry = Issuer.create(ledger, name="Ausländerbehörde Leipzig", clock=lambda: now[0])
    ledger.accredit(
        ministry.did, types=["WorkPermit", "ResidencePermit"], by=root, jurisdiction="DE"
    )
    wallet = Holder.create(
        ":memory:",
        passphrase="amina's passphrase",
        resolver=ledger.resolver(),
        clock=lambda: now[0],
    )
    return World(ledger, root, ministry, wallet, now)


def ask(
    world: World,
    verifier: Verifier,
    policy: policies.Policy,
    consent: Callable[[Any], bool] = lambda _: True,
) -> Any:
    request = verifier.request(policy)
    presentation = world.wallet.answer(request, consent=consent, now=world.now[0])
    return request, presentation, verifier.check(presentation, request)


def test_sd_jwt_right_to_work_discloses_only_what_is_asked(world: World) -> None:
    issued = world.ministry.issue(
        "WorkPermit", subject=world.wallet.did, claims=world.work_claims()
    )
    world.wallet.store(issued.credential)
    _, presentation, report = ask(world, world.verifier(), policies.right_to_work(sector="Q86"))
    assert report.ok, report.explain()
    disclosed = report.disclosed["work"]
    for name in PERSONAL:
        assert name not in disclosed
    token = presentation.vp_token["work_sd"][0]
    for value in ("Haddad", "Amina", "1994-03-12", "Aleppo", "SYR"):
        assert value not in token  # not even in encoded disclosures
    assert disclosed["sector"] == "Q86.10"
    # what the credential is, typed beside its claims (never a key among them)
    assert isinstance(disclosed, DisclosedClaims)
    assert disclosed.type_name == "WorkPermit" and disclosed.issuer == world.ministry.did
    assert all(not name.startswith("__") for name in disclosed)
    assert report.to_json()["disclosed"]["work"] == dict(disclosed)
    assert "sector_allowed" in [f.code for f in report.findings]
    with pytest.raises(TypeError):
        bool(report)


def test_data_integrity_credential_is_shown_whole_after_consent(world: World) -> None:
    issued = world.ministry.issue(
        "WorkPermit", subject=world.wallet.did, claims=world.work_claims(), format="di-eddsa"
    )
    world.wallet.store(issued.credential)
    asked: list[Any] = []
    _, _, report = ask(
        world, world.verifier(), policies.right_to_work(), consent=lambda a: asked.append(a) or True
    )
    assert report.ok, report.explain()
    assert asked[0].whole == tuple(asked[0].disclosures)
    assert "shown in full" in asked[0].describe()


def test_consent_refused_discloses_and_records_nothing(world: World) -> None:
    world.wallet.store(
        world.ministry.issue(
            "WorkPermit", subject=world.wallet.did, claims=world.work_claims()
        ).credential
    )
    with pytest.raises(PolicyError, match="consent_refused"):
        ask(world, world.verifier(), policies.right_to_work(), consent=lambda _: False)
    assert world.wallet.history() == []


def test_history_records_who_saw_what(world: World) -> None:
    world.wallet.store(
        world.ministry.issue(
            "WorkPermit", subject=world.wallet.did, claims=world.work_claims()
        ).credential
    )
    ask(world, world.verifier(), policies.right_to_work())
    (record,) = world.wallet.history()
    assert record.verifier == "did:web:clinic.example"
    assert ["sector"] in next(iter(record.disclosed.values()))
    exported = world.wallet.export()
    assert exported["history"][0]["verifier"] == "did:web:clinic.example"
    assert world.wallet.erase_history() == 1
    assert world.wallet.history() == []


@pytest.mark.parametrize(("action", "code"), [("revoke", "revoked"), ("suspend", "suspended")])
@pytest.mark.parametrize("fmt", ["sd-jwt", "di-eddsa"])
def test_revoked_and_suspended_fail_with_their_code(
    world: World, action: str, code: str, fmt: str
) -> None:
    issued = world.ministry.issue(
        "WorkPermit", subject=world.wallet.did, claims=world.work_claims(), format=fmt
    )  # type: ignore[arg-type]
    world.wallet.store(issued.credential)
    assert issued.status_index is not None
    getattr(world.ministry, action)(issued.status_index)
    _, _, report = ask(world, world.verifier(), policies.right_to_work())
    assert not report.ok
    assert code in report.codes


def test_status_fails_closed_without_a_fetcher(world: World) -> None:
    world.wallet.store(
        world.ministry.issue(
            "WorkPermit", subject=world.wallet.did, claims=world.work_claims()
        ).credential
    )
    _, _, report = ask(world, world.verifier(status_fetcher=None), policies.right_to_work())
    assert report.codes == ("status_unavailable",)


def test_unaccredited_issuer_is_refused(world: World) -> None:
    rogue = Issuer.create(
        world.ledger, name="Rogue office", board=world.ministry.board, clock=lambda: world.now[0]
    )
    world.wallet.store(
        rogue.issue("WorkPermit", subject=world.wallet.did, claims=world.work_claims()).credential
    )
    _, _, report = ask(world, world.verifier(), policies.right_to_work())
    assert "issuer_not_accredited" in report.codes


def test_accreditation_is_per_type(world: World) -> None:
    study = schemas.example_subject("StudyPermit", now=world.now[0])
    study.pop("id")
    world.wallet.store(
        world.ministry.issue("StudyPermit", subject=world.wallet.did, claims=study).credential
    )
    _, _, report = ask(world, world.verifier(), policies.right_to_study())
    assert "issuer_not_accredited" in report.codes


def test_expired_permit(world: World) -> None:
    world.wallet.store(
        world.ministry.issue(
            "WorkPermit", subject=world.wallet.did, claims=world.work_claims()
        ).credential
    )
    world.now[0] = datetime(2028, 3, 5, tzinfo=UTC)
    _, _, report = ask(world, world.verifier(), policies.right_to_work())
    assert not report.ok
    assert "expired" in report.codes


def test_sector_and_region_rules(world: World) -> None:
    world.wallet.store(
        world.ministry.issue(
            "WorkPermit", subject=world.wallet.did, claims=world.work_claims()
        ).credential
    )
    _, _, report = ask(world, world.verifier(), policies.right_to_work(sector="F41"))
    assert report.codes == ("sector_not_allowed",)
    _, _, report = ask(world, world.verifier(), policies.right_to_work(region="DE-BY"))
    assert report.codes == ("region_not_allowed",)


def test_replay_to_another_request_is_refused(world: World) -> None:
    world.wallet.store(
        world.ministry.issue(
            "WorkPermit", subject=world.wallet.did, claims=world.work_claims()
        ).credential
    )
    verifier = world.verifier()
    _, presentation, report = ask(world, verifier, policies.right_to_work())
    assert report.ok
    second = verifier.request(policies.right_to_work())
    assert verifier.check(presentation, second).codes == ("replayed",)
    forged = PresentationResponse(presentation.vp_token, second.nonce, second.audience)
    assert "kb_nonce_mismatch" in verifier.check(forged, second).codes


def test_stolen_credential_without_key_binding_is_refused(world: World) -> None:
    stored = world.wallet.store(
        world.ministry.issue(
            "WorkPermit", subject=world.wallet.did, claims=world.work_claims()
        ).credential
    )
    verifier = world.verifier()
    request = verifier.request(policies.right_to_work())
    stolen = PresentationResponse({"work_sd": [stored.raw]}, request.nonce, request.audience)
    assert "kb_missing" in verifier.check(stolen, request).codes
    thief = Holder.create(
        ":memory:", passphrase="x", resolver=world.ledger.resolver(), clock=lambda: world.now[0]
    )
    with pytest.raises(HolderMismatchError):  # a wallet keeps only what it can present
        thief.store(stored.raw)
    thief.store(stored.raw, verify_now=False)  # kept anyway, by a trusted import
    with pytest.raises(PolicyError, match="cannot_satisfy"):  # never offered
        thief.answer(request, consent=lambda _: True, now=world.now[0])


def test_missing_and_unexpected_credentials(world: World) -> None:
    verifier = world.verifier()
    request = verifier.request(policies.right_to_work())
    with pytest.raises(PolicyError, match="cannot_satisfy"):
        world.wallet.answer(request, consent=lambda _: True, now=world.now[0])
    assert verifier.check(
        PresentationResponse({}, request.nonce, request.audience), request
    ).codes == ("credential_missing",)
    # A nonce is consumed by the first check, whatever its outcome: ask again.
    request = verifier.request(policies.right_to_work())
    extra = PresentationResponse({"other": ["x"]}, request.nonce, request.audience)
    assert verifier.check(extra, request).codes == ("unexpected_credential",)


def test_tampered_disclosure_is_refused(world: World) -> None:
    world.wallet.store(
        world.ministry.issue(
            "WorkPermit", subject=world.wallet.did, claims=world.work_claims()
        ).credential
    )
    verifier = world.verifier()
    request = verifier.request(policies.right_to_work())
    presentation = world.wallet.answer(request, consent=lambda _: True, now=world.now[0])
    token = presentation.vp_token["work_sd"][0]
    jwt, *rest = token.split("~")
    tampered = "~".join([jwt[:-3] + ("AAA" if not jwt.endswith("AAA") else "BBB"), *rest])
    bad = PresentationResponse({"work_sd": [tampered]}, presentation.nonce, presentation.audience)
    report = verifier.check(bad, request)
    assert not report.ok
    assert "signature_invalid" in report.codes


def test_wallet_file_is_encrypted_and_reopens(world: World, tmp_path: Path) -> None:
    path = tmp_path / "amina.wallet"
    wallet = Holder.create(
        path,
        passphrase="correct horse",
        resolver=world.ledger.resolver(),
        clock=lambda: world.now[0],
    )
    issued = world.ministry.issue("WorkPermit", subject=wallet.did, claims=world.work_claims())
    wallet.store(issued.credential)
    did = wallet.did
    wallet.close()
    raw = path.read_bytes() + (
        path.with_name(path.name + "-wal").read_bytes()
        if path.with_name(path.name + "-wal").exists()
        else b""
    )
    for secret in (b"Haddad", b"Amina", b"Q86.10", b"eyJ"):
        assert secret not in raw
    with pytest.raises(WalletLockedError):
        Holder.open(path, passphrase="wrong")
    again = Holder.open(
        path,
        passphrase="correct horse",
        resolver=world.ledger.resolver(),
        clock=lambda: world.now[0],
    )
    assert again.did == did
    assert len(again.credentials()) == 1
    again.close()


def test_store_refuses_a_forged_credential(world: World) -> None:
    issued = world.ministry.issue(
        "WorkPermit", subject=world.wallet.did, claims=world.work_claims()
    )
    assert isinstance(issued.credential, str)
    jwt, rest = issued.credential.split("~", 1)
    header, payload, sig = jwt.split(".")
    raw = bytearray(b64url_decode(sig))
    raw[10] ^= 0x01
    forged = f"{header}.{payload}.{b64url_encode(bytes(raw))}~{rest}"
    with pytest.raises(VerificationError, match="signature_invalid"):
        world.wallet.store(forged)


def test_issuing_validates_against_the_schema(world: World) -> None:
    claims = world.work_claims()
    claims["issuingState"] = "Germany"
    del claims["documentNumber"]
    with pytest.raises(ValueError) as err:
        world.ministry.issue("WorkPermit", subject=world.wallet.did, claims=claims)
    assert "issuingState" in str(err.value) and "documentNumber" in str(err.value)


def test_request_expires(world: World) -> None:
    world.wallet.store(
        world.ministry.issue(
            "WorkPermit", subject=world.wallet.did, claims=world.work_claims()
        ).credential
    )
    verifier = world.verifier()
    request = verifier.request(policies.right_to_work())
    presentation = world.wallet.answer(request, consent=lambda _: True, now=world.now[0])
    world.now[0] += timedelta(hours=1)
    assert verifier.check(presentation, request).codes == ("request_expired",)


def test_a_verifier_rebuilds_a_recipe_from_the_request_alone(world: World) -> None:
    world.wallet.store(
        world.ministry.issue(
            "WorkPermit", subject=world.wallet.did, claims=world.work_claims()
        ).credential
    )
    nonces = MemoryReplayStore()  # the verifier's processes share where nonces are kept
    maker = world.verifier(replay=nonces)
    q86 = maker.request(policies.right_to_work(sector="Q86"))
    f41 = maker.request(policies.right_to_work(sector="F41"))  # interleaved requests
    answer_q86 = world.wallet.answer(q86, consent=lambda _: True, now=world.now[0])
    assert maker.check(answer_q86, q86).ok  # judged by its own policy, not the latest
    # Another verifier process that only kept the request, after a JSON round trip:
    kept = PresentationRequest.from_json(json.dumps(f41.to_json()))
    assert kept.extra["policy_args"] == {"sector": "F41"}
    answer_f41 = world.wallet.answer(kept, consent=lambda _: True, now=world.now[0])
    assert world.verifier(replay=nonces).check(answer_f41, kept).codes == ("sector_not_allowed",)


def test_holder_refuses_an_expired_request_and_shows_what_is_always_disclosed(world: World) -> None:
    world.wallet.store(
        world.ministry.issue(
            "WorkPermit", subject=world.wallet.did, claims=world.work_claims()
        ).credential
    )
    verifier = world.verifier()
    request = verifier.request(policies.right_to_work())
    asked: list[Any] = []
    world.wallet.answer(request, consent=lambda a: asked.append(a) or True, now=world.now[0])
    (always,) = asked[0].always_shown.values()
    assert "sub" in always and "documentNumber" in always and "familyName" not in always
    assert "always shown with it: your DID, Document number" in asked[0].describe()
    with pytest.raises(PolicyError, match="request_expired"):
        world.wallet.answer(request, consent=lambda _: True, now=world.now[0] + timedelta(hours=1))
    assert len(world.wallet.history()) == 1
