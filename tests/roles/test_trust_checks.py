"""Issuer trust and wallet answers checked outside a verifier session (issue 15 item 3).

A real SQLite ledger with a real accreditation, credentials issued by a
did:ledger issuer, verified through the ledger's resolver; then the
``issuer_trust`` check: accredited, not accredited, accredited elsewhere, and
not asked (a skipped check that says so). And what ``wallet answer`` writes,
verified presentation by presentation.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from credentials import schemas
from credentials.verify import verify
from did_methods.errors import ParseError
from did_methods.keys import PrivateKey
from ledger.facade import Ledger
from ssi_wallet import Holder, Issuer, policies
from ssi_wallet.request import PresentationRequest
from ssi_wallet.trust import Checking, with_issuer_trust, without_issuer_trust


def claims(type_name: str, state: str) -> dict[str, Any]:
    subject = schemas.example_subject(type_name)
    subject.pop("id")
    subject["issuingState"] = state
    today = datetime.now(UTC).date()
    subject["issueDate"] = (today - timedelta(days=3)).isoformat()
    subject["expiryDate"] = (today + timedelta(days=300)).isoformat()
    return subject


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = PrivateKey.generate()
    ledger = Ledger.open(tmp_path_factory.mktemp("trust") / "registry.db", key=root)
    office = Issuer.create(ledger, name="Ausländerbehörde Leipzig")
    ledger.accredit(office.did, types=["WorkPermit"], by=root, jurisdiction="DE")
    stranger = Issuer.create(ledger, name="Nobody accredited this one")
    yield ledger, office, stranger
    ledger.close()


def checked(ledger: Ledger, credential: str, issuer: Issuer) -> Any:
    result = verify(credential, resolver=ledger.resolver(), status_fetcher=issuer.board)
    assert result.ok, result.explain()
    return with_issuer_trust(result, ledger)


def test_an_accredited_issuer_passes(world: Any) -> None:
    ledger, office, _ = world
    holder = Holder.create(":memory:", passphrase="correct horse battery")
    issued = office.issue("WorkPermit", subject=holder.did, claims=claims("WorkPermit", "DE"))
    result = checked(ledger, issued.credential, office)
    trust = result.check("issuer_trust")
    assert result.ok and trust is not None and trust.status == "passed"
    assert office.did in trust.message and "Work permit in DE" in trust.message


def test_an_issuer_without_accreditation_fails(world: Any) -> None:
    ledger, _, stranger = world
    holder = Holder.create(":memory:", passphrase="correct horse battery")
    issued = stranger.issue("WorkPermit", subject=holder.did, claims=claims("WorkPermit", "DE"))
    result = checked(ledger, issued.credential, stranger)
    assert not result.ok
    assert result.codes == ("issuer_not_accredited",)


def test_an_issuer_accredited_for_another_state_fails(world: Any) -> None:
    ledger, office, _ = world
    holder = Holder.create(":memory:", passphrase="correct horse battery")
    issued = office.issue("WorkPermit", subject=holder.did, claims=claims("WorkPermit", "AT"))
    result = checked(ledger, issued.credential, office)
    assert result.codes == ("jurisdiction_mismatch",)


def test_not_checked_is_said_and_does_not_fail(world: Any) -> None:
    ledger, office, _ = world
    holder = Holder.create(":memory:", passphrase="correct horse battery")
    issued = office.issue("WorkPermit", subject=holder.did, claims=claims("WorkPermit", "DE"))
    result = without_issuer_trust(
        verify(issued.credential, resolver=ledger.resolver(), status_fetcher=office.board),
        "give --db",
    )
    trust = result.check("issuer_trust")
    assert result.ok and trust is not None and trust.status == "skipped"
    assert "issuer trust was not checked" in result.explain()


def test_a_wallet_answer_verifies_presentation_by_presentation(world: Any) -> None:
    ledger, office, _ = world
    holder = Holder.create(
        ":memory:", passphrase="correct horse battery", resolver=ledger.resolver()
    )
    holder.store(office.issue("WorkPermit", subject=holder.did, claims=claims("WorkPermit", "DE")))
    request = PresentationRequest.for_policy(
        policies.right_to_work(sector="Q86"), audience="did:web:clinic.example"
    )
    answer = holder.answer(request, consent=lambda ask: True).to_json()

    checking = Checking(resolver=ledger.resolver(), status_fetcher=office.board, registry=ledger)
    own = checking.verify_answer(answer)
    assert own.ok and own.self_bound
    assert [qid for qid, _ in own.results] == ["work_sd"]
    assert own.to_json()["presentations"][0]["query"] == "work_sd"

    expected = replace(checking, nonce=request.nonce, audience=request.audience).verify_answer(
        answer
    )
    assert expected.ok and not expected.self_bound
    replayed = replace(
        checking, nonce="another-nonce", audience=request.audience, registry=None
    ).verify_answer(answer)
    assert not replayed.ok
    ((_, result),) = replayed.results
    assert result.check("holder_binding") is not None
    assert result.check("holder_binding").status == "failed"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "bad",
    [
        "{}",
        '{"vp_token": []}',
        '{"vp_token": {"q": []}, "nonce": "n", "client_id": "c"}',
        '{"vp_token": {"q": ["x"]}, "nonce": 7}',
    ],
)
def test_a_malformed_answer_is_a_parse_error(bad: str) -> None:
    with pytest.raises(ParseError):
        Checking().verify_answer(bad)
