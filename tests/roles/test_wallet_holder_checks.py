"""The wallet's own checks (issue 15 item 4): binding, history, passphrase strength.

* ``store`` refuses a credential bound to another holder (an SD-JWT VC whose
  ``cnf`` key is not the wallet's, a W3C credential about another DID) with a
  typed error, and one such credential, kept by a trusted import, never blocks
  an answer another credential can give;
* the disclosure history records the claims an SD-JWT VC shows whatever is
  asked (the holder's DID, the document number, ...), not only those asked for;
* a passphrase a person sets must meet a stated minimum.
"""

from __future__ import annotations

from typing import Any

import pytest
from instants import day_from_today

from credentials import schemas
from did_methods.errors import PolicyError, VerificationError
from ssi_wallet import Holder, Issuer, policies
from ssi_wallet.holder import (
    MIN_PASSPHRASE_CHARS,
    HolderMismatchError,
    WeakPassphraseError,
    check_passphrase_strength,
)
from ssi_wallet.request import PresentationRequest

PASSPHRASE = "correct horse battery staple"


def claims(type_name: str) -> dict[str, Any]:
    subject = schemas.example_subject(type_name)
    subject.pop("id")
    subject["issueDate"] = day_from_today(-30)
    subject["expiryDate"] = day_from_today(3650)  # kept for years
    return subject


@pytest.fixture(scope="module")
def ministry() -> Issuer:
    return Issuer.create(name="Migration Department")


def work_request() -> PresentationRequest:
    return PresentationRequest.for_policy(
        policies.right_to_work(sector="Q86"), audience="did:web:clinic.example"
    )


@pytest.mark.parametrize("fmt", ["sd-jwt", "di-eddsa", "vc-jwt"])
def test_store_refuses_a_credential_bound_to_another_holder(ministry: Issuer, fmt: str) -> None:
    mine = Holder.create(":memory:", passphrase=PASSPHRASE)
    other = Holder.create(":memory:", passphrase=PASSPHRASE)
    theirs = ministry.issue(
        "WorkPermit", subject=other.did, claims=claims("WorkPermit"), format=fmt
    )
    with pytest.raises(HolderMismatchError) as caught:
        mine.store(theirs)
    assert caught.value.code == "holder_mismatch"
    assert isinstance(caught.value, VerificationError)
    assert mine.summaries() == []  # nothing kept
    assert other.store(theirs).format  # the right wallet takes it
    own = ministry.issue("WorkPermit", subject=mine.did, claims=claims("WorkPermit"), format=fmt)
    assert mine.store(own).id


def test_a_foreign_credential_never_blocks_an_answer(ministry: Issuer) -> None:
    mine = Holder.create(":memory:", passphrase=PASSPHRASE)
    other = Holder.create(":memory:", passphrase=PASSPHRASE)
    foreign = ministry.issue("WorkPermit", subject=other.did, claims=claims("WorkPermit"))
    # a trusted bulk import skips the checks: the foreign one is kept, first
    mine.store(foreign, verify_now=False)
    assert len(mine.summaries()) == 1
    with pytest.raises(PolicyError, match="cannot_satisfy"):  # not a doomed presentation
        mine.answer(work_request(), consent=lambda ask: True)
    own = mine.store(ministry.issue("WorkPermit", subject=mine.did, claims=claims("WorkPermit")))
    found = mine.find(work_request())
    assert found.matches["work_sd"].credential_ids == (own.id,)
    assert mine.answer(work_request(), consent=lambda ask: True).vp_token


def test_history_records_the_claims_always_shown(ministry: Issuer) -> None:
    holder = Holder.create(":memory:", passphrase=PASSPHRASE)
    stored = holder.store(
        ministry.issue("WorkPermit", subject=holder.did, claims=claims("WorkPermit"))
    )
    asked: list[Any] = []

    def consent(ask: Any) -> bool:
        asked.append(ask)
        return True

    holder.answer(work_request(), consent=consent)
    always = asked[0].always_shown[stored.id]
    assert "sub" in always and "documentNumber" in always
    (record,) = holder.history()
    paths = record.disclosed[stored.id]
    assert ["sector"] in paths  # asked for
    for name in always:  # shown whatever was asked
        assert [name] in paths
    assert len(paths) == len(set(map(tuple, paths)))  # each once


@pytest.mark.parametrize(
    "weak", ["", "short", "elevenchars", "aaaaaaaaaaaaaaaa", "121212121212121", "abcabcabcabc"]
)
def test_weak_passphrases_are_refused(weak: str) -> None:
    with pytest.raises(WeakPassphraseError) as caught:
        check_passphrase_strength(weak)
    assert caught.value.code == "weak_passphrase"


@pytest.mark.parametrize("strong", [PASSPHRASE, "a long passphrase", "Tbilisi-2026!x"])
def test_passphrases_that_meet_the_rule(strong: str) -> None:
    assert len(strong) >= MIN_PASSPHRASE_CHARS
    check_passphrase_strength(strong)  # raises if refused
