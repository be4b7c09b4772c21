"""Releases: refused for the wrong role, purpose or a minor without authorisation, each logged;
released with a valid authorisation; the policy is data and an interface."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from did_methods._wire.dates import from_unix_ms
from did_methods.errors import ParseError, VerificationError
from ledger.audit import audit
from ledger.vault import (
    DEFAULT_POLICY,
    Authorisation,
    DeclarativePolicy,
    PolicyDecision,
    Principal,
    ReleaseRefused,
    ReleaseRequest,
    Role,
    Rule,
    Vault,
)
from ledger.vault.proof import KIND_REFUSAL, KIND_RELEASE, decode_payload

CHILD = "GR-UAM-2025-0042"
GUARDIAN = "did:example:guardian-office-athens"
PROSECUTOR = "did:example:prosecutor-piraeus"
NOW_MS = 1_800_000_000_000  # Unix ms, as the authorisations carry it


@dataclass
class FakeCredentialVerifier:
    """Stands in for the credentials package: accepts {"type", "child", "holder", "until"}
    objects signed with the word "valid" (the real wiring lives in ssi_wallet)."""

    calls: int = 0

    def verify(
        self, authorisation: object, *, subject_id: str, principal: Principal, now_ms: int
    ) -> Authorisation:
        self.calls += 1
        if not isinstance(authorisation, dict) or authorisation.get("proof") != "valid":
            raise VerificationError("signature_invalid", "the authorisation's proof is invalid")
        return Authorisation(
            kind=authorisation["type"],
            subject_id=authorisation["child"],
            principal_id=authorisation["holder"],
            issuer="did:example:family-court",
            valid_until_ms=authorisation["until"],
        )


def _guardianship(**overrides: object) -> dict[str, object]:
    return {
        "type": "GuardianshipAuthorisation",
        "child": CHILD,
        "holder": GUARDIAN,
        "until": NOW_MS + 86_400_000,
        "proof": "valid",
        **overrides,
    }


@pytest.fixture
def minor_vault(open_vault) -> tuple[Vault, FakeCredentialVerifier]:
    verifier = FakeCredentialVerifier()
    vault = open_vault(authorisation_verifier=verifier, clock=lambda: from_unix_ms(NOW_MS))
    vault.put(CHILD, {"name": "Child", "birthYear": 2013}, minor=True)
    return vault, verifier


def _refusal_logged(vault: Vault, refused: ReleaseRefused, code: str) -> None:
    assert refused.code == code
    assert refused.log_index is not None
    entry = vault.log.get(refused.log_index)
    assert entry.kind == KIND_REFUSAL
    decode_payload(entry.kind, entry.payload)  # a ref and a commitment, nothing else
    assert CHILD.encode() not in entry.encode()


def test_wrong_role_and_wrong_purpose_are_refused_and_logged(open_vault) -> None:
    vault = open_vault()
    vault.put("adult-1", {"name": "Adult"})
    cases = [
        (Principal("ngo-athens", Role.NGO), "legal-obligation", "purpose_not_allowed"),
        (Principal("ministry-labour", Role.MINISTRY), "issuance", "purpose_not_allowed"),
        (Principal("someone-else", Role.SUBJECT), "access", "not_own_record"),
    ]
    for principal, purpose, code in cases:
        with pytest.raises(ReleaseRefused) as refused:
            vault.release("adult-1", principal=principal, purpose=purpose)
        _refusal_logged(vault, refused.value, code)
    only_ngo = open_vault(policy=DeclarativePolicy.of({Role.NGO: ["humanitarian-assistance"]}))
    with pytest.raises(ReleaseRefused) as refused:
        only_ngo.release(
            "adult-1", principal=Principal("ministry", Role.MINISTRY), purpose="legal-obligation"
        )
    _refusal_logged(only_ngo, refused.value, "role_not_allowed")
    # The subject's access log lists every refusal (the controller can show who asked).
    events = vault.access("adult-1", log_event=False).events
    assert [e.event["code"] for e in events if e.event["type"] == "refusal"] == [
        "purpose_not_allowed",
        "purpose_not_allowed",
        "not_own_record",
        "role_not_allowed",
    ]
    assert audit(vault.log.store).ok


def test_allowed_releases_are_logged(open_vault) -> None:
    vault = open_vault()
    vault.put("adult-1", {"name": "Adult"})
    for principal, purpose in [
        (Principal("migration-dept", Role.ISSUING_AUTHORITY), "issuance"),
        (Principal("ngo-athens", Role.NGO), "humanitarian-assistance"),
        (Principal("adult-1", Role.SUBJECT), "portability"),
    ]:
        release = vault.release("adult-1", principal=principal, purpose=purpose)
        assert [r.record for r in release.records] == [{"name": "Adult"}]
        assert vault.log.get(release.log_index).kind == KIND_RELEASE


def test_minor_record_needs_a_valid_authorisation(minor_vault) -> None:
    vault, verifier = minor_vault
    guardian = Principal(GUARDIAN, Role.NGO)
    purpose = "family-reunification"
    cases: list[tuple[object, str]] = [
        (None, "authorisation_required"),
        (_guardianship(proof="forged"), "authorisation_invalid"),
        (_guardianship(child="another-child"), "authorisation_invalid"),
        (_guardianship(holder="did:example:someone-else"), "authorisation_invalid"),
        (_guardianship(until=NOW_MS - 1), "authorisation_invalid"),
        (_guardianship(type="WorkPermit"), "authorisation_invalid"),
    ]
    for authorisation, code in cases:
        with pytest.raises(ReleaseRefused) as refused:
            vault.release(CHILD, principal=guardian, purpose=purpose, authorisation=authorisation)
        _refusal_logged(vault, refused.value, code)
    release = vault.release(
        CHILD, principal=guardian, purpose=purpose, authorisation=_guardianship()
    )
    assert release.records[0].record == {"name": "Child", "birthYear": 2013}
    assert release.authorisation is not None
    assert release.authorisation.kind == "GuardianshipAuthorisation"
    event = next(
        e.event
        for e in vault.access(CHILD, log_event=False).events
        if e.log_index == release.log_index
    )
    assert event["authorisation"] == {
        "kind": "GuardianshipAuthorisation",
        "issuer": "did:example:family-court",
    }
    # A prosecutor's authorisation works too, for an authority's purpose.
    prosecutor = Principal(PROSECUTOR, Role.MINISTRY)
    auth = _guardianship(type="ProsecutorAuthorisation", holder=PROSECUTOR)
    assert vault.release(
        CHILD, principal=prosecutor, purpose="legal-obligation", authorisation=auth
    ).records
    # The policy is checked before the credential: a wrong purpose is refused first.
    calls = verifier.calls
    with pytest.raises(ReleaseRefused) as refused:
        vault.release(CHILD, principal=guardian, purpose="issuance", authorisation=_guardianship())
    assert refused.value.code == "purpose_not_allowed" and verifier.calls == calls


def test_minor_record_without_a_configured_verifier_is_never_released(open_vault) -> None:
    vault = open_vault()
    vault.put(CHILD, {"name": "Child"}, minor=True)
    with pytest.raises(ReleaseRefused) as refused:
        vault.release(
            CHILD,
            principal=Principal(GUARDIAN, Role.NGO),
            purpose="family-reunification",
            authorisation=_guardianship(),
        )
    _refusal_logged(vault, refused.value, "no_authorisation_verifier")


def test_erased_and_unknown_subjects_are_refused_and_logged(open_vault) -> None:
    vault = open_vault()
    vault.put("adult-1", {"name": "Adult"})
    vault.erase("adult-1")
    principal = Principal("ministry", Role.MINISTRY)
    with pytest.raises(ReleaseRefused) as refused:
        vault.release("adult-1", principal=principal, purpose="legal-obligation")
    _refusal_logged(vault, refused.value, "erased")
    with pytest.raises(ReleaseRefused) as refused:
        vault.release("nobody", principal=principal, purpose="legal-obligation")
    _refusal_logged(vault, refused.value, "not_found")


def test_a_custom_policy_plugs_in_and_a_failing_one_refuses(open_vault) -> None:
    class OfficeHours:
        def decide(self, request: ReleaseRequest) -> PolicyDecision:
            if request.principal.id.endswith("-night"):
                return PolicyDecision.refuse("outside_office_hours", "closed")
            return PolicyDecision.allow()

    class Broken:
        def decide(self, request: ReleaseRequest) -> PolicyDecision:
            raise ParseError("policy file is corrupt")

    vault = open_vault(policy=OfficeHours())
    vault.put("adult-1", {"name": "Adult"})
    assert vault.release("adult-1", principal=Principal("x", Role.NGO), purpose="any").records
    with pytest.raises(ReleaseRefused) as refused:
        vault.release("adult-1", principal=Principal("x-night", Role.NGO), purpose="any")
    assert refused.value.code == "outside_office_hours"
    broken = open_vault(policy=Broken())
    with pytest.raises(ReleaseRefused) as refused:
        broken.release("adult-1", principal=Principal("x", Role.NGO), purpose="any")
    assert refused.value.code == "policy_error"


def test_declarative_policy_json_round_trip_and_decision_is_not_a_bool() -> None:
    data = json.loads(json.dumps(DEFAULT_POLICY.to_json()))
    assert DeclarativePolicy.from_json(data) == DEFAULT_POLICY
    decision = PolicyDecision.allow()
    with pytest.raises(TypeError):
        bool(decision)
    assert Rule(Role.NGO, frozenset({"a"})).purposes == frozenset({"a"})


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
        max_leaves=12,
    )
)
def test_policy_from_arbitrary_json_raises_only_parse_error(data: object) -> None:
    try:
        DeclarativePolicy.from_json(data)
    except ParseError:
        pass


def test_principal_and_role_validation() -> None:
    with pytest.raises(ParseError):
        Principal("", Role.NGO)
    with pytest.raises(ParseError):
        Role.parse("king")
    assert Role.parse("ngo") is Role.NGO
