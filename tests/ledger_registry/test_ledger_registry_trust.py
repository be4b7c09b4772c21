"""The trusted issuer registry: chains EU -> state -> agency, narrowing, time travel, revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_registry_support import FakeClock

from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.key import did_key_from_public_key
from ledger.checkpoint import verify_checkpoint
from ledger.facade import Ledger
from ledger.registry import (
    KIND_ACCREDIT,
    AccreditationAnswer,
    RegistryError,
    RegistryRejected,
    Signer,
    TrustedIssuerRegistry,
    covers_jurisdiction,
)


class Body:
    """An authority with a did:key."""

    def __init__(self, key_type: KeyType = KeyType.ED25519) -> None:
        self.key = PrivateKey.generate(key_type)
        self.did = did_key_from_public_key(self.key.public_key)


def _chain(ledger: Ledger, root_key: PrivateKey) -> tuple[Body, Body, Body]:
    """EU root -> Lithuania (delegating) -> migration department -> (nothing)."""
    state, agency, office = Body(), Body(KeyType.P256), Body()
    ledger.accredit(
        state.did,
        types=["ResidencePermit", "WorkPermit", "StudyPermit"],
        by=root_key,
        jurisdiction="EU",
        delegate=True,
    )
    ledger.accredit(
        agency.did,
        types=["ResidencePermit", "WorkPermit"],
        by=state.key,
        jurisdiction="LT",
        delegate=True,
    )
    ledger.accredit(office.did, types=["WorkPermit"], by=agency.key, jurisdiction="LT")
    return state, agency, office


def test_chain_of_depth_three_answers_with_proofs(
    ledger: Ledger, root_key: PrivateKey, clock: FakeClock
) -> None:
    state, agency, office = _chain(ledger, root_key)
    at = clock.advance(minutes=1)
    answer = ledger.was_accredited(office.did, "WorkPermit", at)
    assert answer.ok is True
    assert [a.subject for a in answer.chain] == [office.did, agency.did, state.did]
    assert [a.accreditor for a in answer.chain] == [agency.did, state.did, ledger.issuers.root]
    assert [e.entry.index for e in answer.evidence] == [a.id for a in answer.chain]
    assert all(e.entry.kind == KIND_ACCREDIT for e in answer.evidence)
    # The evidence verifies against a signed checkpoint of the same tree.
    note = ledger.checkpoint()
    assert ledger.verifier is not None
    checkpoint = verify_checkpoint(note, [ledger.verifier])
    assert answer.evidence[0].proof.size == checkpoint.size
    answer.verify(checkpoint.root_hash)
    with pytest.raises(TypeError):
        bool(answer)
    # Types and jurisdictions outside the chain are not covered.
    assert ledger.was_accredited(office.did, "ResidencePermit", at).ok is False
    assert ledger.was_accredited(office.did, "WorkPermit", at, jurisdiction="LT").ok
    assert not ledger.was_accredited(office.did, "WorkPermit", at, jurisdiction="LV").ok
    assert ledger.was_accredited(state.did, "StudyPermit", at, jurisdiction="PL").ok
    assert not ledger.was_accredited(state.did, "StudyPermit", at, jurisdiction="NO").ok


def test_scope_can_only_narrow(ledger: Ledger, root_key: PrivateKey) -> None:
    state, agency, office = _chain(ledger, root_key)
    newcomer = Body()
    size = ledger.log.size

    def attempt(by: PrivateKey, types: list[str], jurisdiction: str) -> object:
        return ledger.accredit(newcomer.did, types=types, by=by, jurisdiction=jurisdiction)

    refused = [
        (agency.key, ["Visa"], "LT"),  # wider types than the accreditor holds
        (agency.key, ["WorkPermit", "StudyPermit"], "LT"),
        (agency.key, ["WorkPermit"], "EU"),  # a wider jurisdiction
        (agency.key, ["WorkPermit"], "LV"),  # another jurisdiction
        (office.key, ["WorkPermit"], "LT"),  # its accreditation does not allow delegation
        (Body().key, ["WorkPermit"], "LT"),  # not accredited at all
    ]
    for by, types, jurisdiction in refused:
        with pytest.raises(RegistryRejected) as err:
            attempt(by, types, jurisdiction)
        assert err.value.code == "scope_too_wide"
    assert ledger.log.size == size
    # Narrowing is fine; EU covers its member states.
    ledger.accredit(newcomer.did, types=["WorkPermit"], by=state.key, jurisdiction="DE")
    assert covers_jurisdiction("EU", "DE") and not covers_jurisdiction("DE", "EU")
    assert not covers_jurisdiction("EU", "CH")


def test_time_travel_and_validity_window(
    ledger: Ledger, root_key: PrivateKey, clock: FakeClock
) -> None:
    issuer = Body()
    start = clock.now
    until = start + timedelta(days=365)
    ledger.accredit(
        issuer.did,
        types=["WorkPermit"],
        by=root_key,
        jurisdiction="LT",
        valid_from=start - timedelta(days=30),  # backdating does not count before the log saw it
        valid_until=until,
    )
    clock.advance(days=400)
    issuers = ledger.issuers
    assert not issuers.was_accredited(issuer.did, "WorkPermit", start - timedelta(days=1)).ok
    assert issuers.was_accredited(issuer.did, "WorkPermit", start).ok
    assert issuers.was_accredited(issuer.did, "WorkPermit", until - timedelta(seconds=1)).ok
    assert not issuers.was_accredited(issuer.did, "WorkPermit", until).ok
    assert not issuers.was_accredited(issuer.did, "WorkPermit", clock.now).ok


def test_revocation_changes_answers_from_its_time_on_only(
    ledger: Ledger, root_key: PrivateKey, clock: FakeClock
) -> None:
    state, agency, office = _chain(ledger, root_key)
    before = clock.advance(days=10)
    revoked_at = clock.advance(days=10)
    accreditation = ledger.issuers.accreditations(office.did)[0]
    revoked = ledger.issuers.revoke(accreditation, by=agency.key)
    assert revoked.revoked_ms == clock.ms and revoked.revocation_index == ledger.log.size - 1
    after = clock.advance(days=10)
    assert ledger.was_accredited(office.did, "WorkPermit", before).ok
    assert not ledger.was_accredited(office.did, "WorkPermit", revoked_at).ok
    no = ledger.was_accredited(office.did, "WorkPermit", after)
    assert not no.ok and "revoked" in no.reason
    assert revoked.revocation_index in [e.entry.index for e in no.evidence]
    no.verify()
    # Revoking a link higher up cuts everything below it, from then on only.
    clock.advance(days=1)
    state_acc = ledger.issuers.accreditations(state.did)[0]
    ledger.issuers.revoke(state_acc, by=root_key)
    later = clock.advance(days=1)
    assert ledger.was_accredited(agency.did, "WorkPermit", before).ok
    assert not ledger.was_accredited(agency.did, "WorkPermit", later).ok
    # Twice is refused; only the accreditor or the root may revoke.
    with pytest.raises(RegistryRejected) as twice:
        ledger.issuers.revoke(state_acc, by=root_key)
    assert twice.value.code == "already_revoked"
    agency_acc = ledger.issuers.accreditations(agency.did)[0]
    with pytest.raises(RegistryRejected) as stranger:
        ledger.issuers.revoke(agency_acc, by=office.key)
    assert stranger.value.code == "not_authorised"
    with pytest.raises(RegistryRejected) as unknown:
        ledger.issuers.revoke(10_000, by=root_key)
    assert unknown.value.code == "unknown_accreditation"


def test_registry_rebuilds_from_sqlite_and_keeps_answers(tmp_path: object) -> None:
    clock = FakeClock()
    root = PrivateKey.generate(KeyType.ED25519)
    path = f"{tmp_path}/trust.db"
    with Ledger.open(path, key=root, clock=clock) as first:
        _, _, office = _chain(first, root)
        at = clock.advance(hours=1)
        expected = first.was_accredited(office.did, "WorkPermit", at)
    with Ledger.open(path, key=root, clock=clock) as second:
        again = second.was_accredited(office.did, "WorkPermit", at)
        assert again.ok and again.chain == expected.chain


def test_a_did_ledger_accreditor_after_key_rotation(
    ledger: Ledger, root_key: PrivateKey, clock: FakeClock
) -> None:
    ministry_key = PrivateKey.generate(KeyType.ED25519)
    ministry = ledger.dids.create(ministry_key).did
    ledger.accredit(ministry, types=["WorkPermit"], by=root_key, jurisdiction="LT", delegate=True)
    office = Body()
    clock.advance(seconds=1)
    ledger.accredit(
        office.did,
        types=["WorkPermit"],
        by=Signer(ministry_key, f"{ministry}#key-1"),
        jurisdiction="LT",
    )
    clock.advance(days=1)
    new_key = PrivateKey.generate(KeyType.ED25519)
    ledger.dids.rotate_key(ministry, Signer(ministry_key, f"{ministry}#key-1"), new_key.public_key)
    clock.advance(seconds=1)
    other = Body()
    with pytest.raises(RegistryRejected) as old_key:
        ledger.accredit(
            other.did,
            types=["WorkPermit"],
            by=Signer(ministry_key, f"{ministry}#key-1"),
            jurisdiction="LT",
        )
    assert old_key.value.code == "key_rotated_out"  # by log order, not "never held"
    ledger.accredit(
        other.did, types=["WorkPermit"], by=Signer(new_key, f"{ministry}#key-2"), jurisdiction="LT"
    )
    at = clock.advance(seconds=1)
    assert ledger.was_accredited(office.did, "WorkPermit", at).ok
    assert ledger.was_accredited(other.did, "WorkPermit", at).ok


def test_standalone_registry_and_bad_input(
    ledger: Ledger, root_key: PrivateKey, clock: FakeClock
) -> None:
    root_did = did_key_from_public_key(root_key.public_key)
    registry = TrustedIssuerRegistry(ledger.log, root_did, clock=clock)
    subject = Body()
    registry.accredit(subject.did, types=["Visa"], jurisdiction="FR", by=root_key)
    answer = registry.was_accredited(subject.did, "Visa", datetime(2999, 1, 1, tzinfo=UTC))
    assert isinstance(answer, AccreditationAnswer) and answer.ok
    for bad in (
        lambda: registry.accredit("not a did", types=["Visa"], jurisdiction="FR", by=root_key),
        lambda: registry.accredit(subject.did, types=[], jurisdiction="FR", by=root_key),
        lambda: registry.accredit(subject.did, types=["a b"], jurisdiction="FR", by=root_key),
        lambda: registry.accredit(subject.did, types=["Visa"], jurisdiction="fr", by=root_key),
        lambda: registry.accredit(subject.did, types=["Visa"], jurisdiction="FRA", by=root_key),
        lambda: registry.was_accredited(subject.did, "Visa", datetime(2026, 1, 1)),
    ):
        with pytest.raises(RegistryError):
            bad()
    with pytest.raises(RegistryRejected):
        registry.accredit(root_did, types=["Visa"], jurisdiction="FR", by=root_key)


@settings(max_examples=60)
@given(
    types=st.lists(st.text(max_size=12), max_size=4),
    jurisdiction=st.text(max_size=4),
    ctype=st.text(max_size=12),
)
def test_arbitrary_input_raises_only_typed_errors(
    types: list[str], jurisdiction: str, ctype: str
) -> None:
    from did_methods.errors import SSIWalletError

    clock = FakeClock()
    root = PrivateKey.generate(KeyType.ED25519)
    with Ledger.open(":memory:", key=root, clock=clock) as led:
        subject = did_key_from_public_key(PrivateKey.generate(KeyType.ED25519).public_key)
        try:
            led.accredit(subject, types=types, by=root, jurisdiction=jurisdiction)
        except SSIWalletError:
            pass
        try:
            led.was_accredited(subject, ctype, clock.advance(seconds=1))
        except SSIWalletError:
            pass


def test_forged_accreditation_written_straight_to_the_log_is_ignored(
    ledger: Ledger, root_key: PrivateKey, clock: FakeClock
) -> None:
    impostor = Body()
    root_did = ledger.issuers.root
    payload = {
        "v": 1, "subject": impostor.did, "types": ["ResidencePermit"], "jurisdiction": "EU",
        "validFrom": clock.ms, "validUntil": None, "delegate": True,
    }  # fmt: skip
    # Claims to be the root's method, signed by the impostor's own key.
    forged = Signer(impostor.key, f"{root_did}#{root_did.removeprefix('did:key:')}").sign(
        KIND_ACCREDIT, payload, now=clock
    )
    entry = ledger.log.append(forged)
    at = clock.advance(seconds=1)
    assert not ledger.was_accredited(impostor.did, "ResidencePermit", at).ok
    problem = ledger.issuers.rejection(entry.index)
    assert isinstance(problem, RegistryRejected) and problem.code == "key_mismatch"
    # Types out of order are not the normal form either, even from the root.
    unsorted = Signer.for_did_key(root_key).sign(
        KIND_ACCREDIT, {**payload, "types": ["WorkPermit", "ResidencePermit"]}, now=clock
    )
    bad = ledger.log.append(unsorted)
    assert isinstance(ledger.issuers.rejection(bad.index), RegistryError)
    assert ledger.issuers.accreditations(impostor.did) == ()
