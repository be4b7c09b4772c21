"""Renamed public names keep their old spelling for one release, and it warns.

Each old name resolves to the new object and raises a ``DeprecationWarning``
that names the replacement; remove the alias and its test in the next release.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import ssi_wallet
import ssi_wallet.request


def test_presentation_is_now_presentation_response() -> None:
    for module in (ssi_wallet, ssi_wallet.request):
        with pytest.warns(DeprecationWarning, match="PresentationResponse"):
            old = module.Presentation
        assert old is ssi_wallet.request.PresentationResponse
    assert "Presentation" not in ssi_wallet.__all__
    assert "PresentationResponse" in ssi_wallet.__all__


def _yes_and_no() -> list[tuple[object, object, str]]:
    """(a yes, a no, the old attribute name) for every report type that was renamed."""
    from credentials.result import Check, VerificationResult
    from ledger.registry.trusted_issuers import AccreditationAnswer
    from ledger.vault import CompactReport, PolicyDecision
    from ssi_wallet.dcql import DCQLMatch, QueryMatch
    from ssi_wallet.trust import AnswerResult
    from ssi_wallet.verifier import Report

    at = datetime(2026, 1, 1, tzinfo=UTC)
    held = VerificationResult.of("vc+jwt", [Check.passed("signature", "held")])
    return [
        (
            VerificationResult.of("vc+jwt", [Check.passed("signature", "held")]),
            VerificationResult.of("vc+jwt", [Check.failed("signature", "signature_invalid", "no")]),
            "valid",
        ),
        (PolicyDecision.allow(), PolicyDecision.refuse("role_not_allowed", "no"), "allowed"),
        (
            AccreditationAnswer(True, "did:example:a", "WorkPermit", at, (), (), "yes"),
            AccreditationAnswer(False, "did:example:a", "WorkPermit", at, (), (), "no"),
            "accredited",
        ),
        (CompactReport(True, "done"), CompactReport(False, "deferred"), "complete"),
        (QueryMatch("work", ("c1",), ()), QueryMatch("work", (), ()), "satisfied"),
        (DCQLMatch({}, True), DCQLMatch({}, False, missing=("work",)), "satisfied"),
        (Report(True, "work", ()), Report(False, "work", ()), "accepted"),
        (
            AnswerResult("n", "aud", (("work", held),), self_bound=False),
            AnswerResult("n", "aud", (), self_bound=False),
            "valid",
        ),
    ]


@pytest.mark.parametrize("yes, no, old", _yes_and_no(), ids=lambda v: type(v).__name__)
def test_every_report_answers_ok_and_the_old_name_warns(yes: Any, no: Any, old: str) -> None:
    assert yes.ok is True and no.ok is False
    for report in (yes, no):
        with pytest.warns(DeprecationWarning, match=rf"{type(report).__name__}\.{old}.*\.ok"):
            assert getattr(report, old) is report.ok


def test_reports_in_json_say_ok() -> None:
    from credentials.result import Check, VerificationResult
    from ssi_wallet.verifier import Report

    result = VerificationResult.of("vc+jwt", [Check.passed("signature", "held")])
    assert result.to_json()["ok"] is True and "valid" not in result.to_json()
    report = Report(False, "work", ())
    assert report.to_json()["ok"] is False and "accepted" not in report.to_json()


def test_sharp_tools_moved_out_of_credentials_still_resolve_with_a_warning() -> None:
    import importlib

    import credentials

    moved = credentials._MOVED
    assert len(moved) == 48 and not set(moved) & set(credentials.__all__)
    for name, module in moved.items():
        with pytest.warns(DeprecationWarning, match=rf"credentials\.{name} .*{module}\.{name}"):
            old = getattr(credentials, name)
        assert old is getattr(importlib.import_module(module), name)
    with pytest.raises(AttributeError):
        _ = credentials.no_such_name
