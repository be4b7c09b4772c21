"""Renamed public names keep their old spelling for one release, and it warns.

Each old name resolves to the new object and raises a ``DeprecationWarning``
that names the replacement; remove the alias and its test in the next release.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from typing import Any

import pytest

import ssi_wallet
import ssi_wallet.request
from did_methods.methods.key import did_key_from_public_key


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


def test_the_suite_turns_our_deprecations_into_errors() -> None:
    # pyproject.toml's filterwarnings: a test that uses an old shape fails, unless it
    # checks the deprecation (pytest.deprecated_call, as every test above does)
    from did_methods._wire.dates import instant
    from did_methods.errors import SSIWalletDeprecationWarning

    with pytest.raises(SSIWalletDeprecationWarning, match="seconds since the epoch"):
        instant(1_780_000_000)  # type: ignore[arg-type]
    with pytest.deprecated_call():
        assert instant(1_780_000_000) == datetime.fromtimestamp(1_780_000_000, UTC)  # type: ignore[arg-type]


def _one_warning(call: Any) -> warnings.WarningMessage:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    assert len(caught) == 1, [str(w.message) for w in caught]
    return caught[0]


def test_every_old_shape_warns_in_our_category_at_the_callers_line() -> None:
    # Python shows a DeprecationWarning by default only when it is attributed to
    # __main__: one attributed to a library line (where a clock given earlier is
    # read, or a helper converts seconds) would never reach a script's author.
    import credentials
    from credentials.oauth import create_dpop_proof
    from did_methods.errors import SSIWalletDeprecationWarning
    from did_methods.keys import KeyType, PrivateKey
    from ledger.entry import EntryDraft
    from ledger.log import Log
    from ledger.store import MemoryStore
    from ssi_wallet.verifier import Report

    key = PrivateKey.generate(KeyType.ED25519)
    did = did_key_from_public_key(key.public_key)
    submitter = f"{did}#{did.removeprefix('did:key:')}"
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    draft = EntryDraft("k", b"p").sign(key, submitter)
    legacy_log = Log(MemoryStore(), origin="deprecations.test/log", clock=lambda: now_ms)  # type: ignore[arg-type,return-value]
    calls = {
        "a renamed attribute": lambda: Report(True, "work", ()).accepted,
        "a moved name": lambda: credentials.canonicalize,
        "seconds as now, converted deep inside": lambda: create_dpop_proof(
            key,
            htm="POST",
            htu="https://issuer.example/token",
            now=1_780_000_000,  # type: ignore[arg-type]
        ),
        "a legacy clock, read when the log appends": lambda: legacy_log.append_batch([draft]),
    }
    for what, call in calls.items():
        caught = _one_warning(call)
        assert issubclass(caught.category, SSIWalletDeprecationWarning), what
        assert issubclass(caught.category, DeprecationWarning), what
        assert caught.filename == __file__, (what, caught.filename)
