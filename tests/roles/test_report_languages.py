"""The verifier's report explains itself in each of the vocabulary's 14 languages."""

from __future__ import annotations

import ast
import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ssi_wallet
from credentials import schemas
from did_methods import PrivateKey
from ledger.facade import Ledger
from ssi_wallet import Holder, Issuer, PresentationResponse, Verifier, _messages, policies
from ssi_wallet.policies import Finding
from ssi_wallet.replay import UnsafeStatelessRequests
from ssi_wallet.verifier import Report

CATALOGUE = _messages.catalogue()
PARAMETERS: Mapping[str, list[str]] = CATALOGUE["parameters"]
PURPOSE_PARAMETERS: Mapping[str, list[str]] = CATALOGUE["purpose_parameters"]
LANGS = _messages.LANGUAGES
PACKAGE = Path(ssi_wallet.__file__).parent

#: Sample values for the parameters the code supplies; none contains a brace.
SAMPLES: Mapping[str, Any] = {
    "type_name": "WorkPermit",
    "claim": "expiryDate",
    "claims": ["sector", "workRegion"],
    "until": "2027-06-30",
    "valid_from": "2026-01-01",
    "sector": "Q86",
    "granted": "Q86.10",
    "region": "DE-SN",
    "institution": "Universität Leipzig",
    "named": "TU Dresden",
    "issuer": "did:ledger:abc",
    "reason": "no accreditation at that time",
    "queries": ["extra"],
    "options": ["work_sd", "work_di"],
    "expected": "SD-JWT VC",
    "error": "not JSON",
    "presented": "StudyPermit",
    "check": "signature",
    "issuing_state": "DE",
    "jurisdiction": "LT",
}

# Letters each script may use besides its own: the data model's name.
ALLOWED_LATIN = {"VC"}
SCRIPTS = {
    "ru": "CYRILLIC",
    "uk": "CYRILLIC",
    "ar": "ARABIC",
    "fa": "ARABIC",
    "ka": "GEORGIAN",
}


def sample_details(key: str) -> dict[str, Any]:
    details = {name: SAMPLES[name] for name in PARAMETERS[key]}
    if "." in key:
        details["variant"] = key.split(".", 1)[1]
    return details


def words(template: str) -> str:
    """The template's own text: placeholders removed."""
    return " ".join(literal for literal, *_ in string.Formatter().parse(template))


# -- the catalogue ----------------------------------------------------------------------------


def test_catalogue_covers_every_language_of_the_vocabulary() -> None:
    assert tuple(LANGS) == tuple(schemas.LANGUAGES)
    for section in ("headline", "purposes", "findings"):
        assert set(CATALOGUE[section]) == set(LANGS), section
    for lang in LANGS:
        assert set(CATALOGUE["findings"][lang]) == set(PARAMETERS), lang
        assert set(CATALOGUE["purposes"][lang]) == set(PURPOSE_PARAMETERS), lang
        assert set(CATALOGUE["headline"][lang]) == {"accepted", "refused"}, lang


def test_no_template_has_an_unknown_placeholder() -> None:
    for lang in LANGS:
        for key, template in CATALOGUE["findings"][lang].items():
            names = _messages.placeholders(template)
            assert names is not None, (lang, key, template)
            supplied = set(PARAMETERS[key])
            derived = {d for d, source in _messages.DERIVED.items() if source in supplied}
            assert names <= supplied | derived, (lang, key, names - supplied - derived)
        for key, template in CATALOGUE["purposes"][lang].items():
            names = _messages.placeholders(template)
            assert names is not None and names <= set(PURPOSE_PARAMETERS[key]), (lang, key)
        for key, template in CATALOGUE["headline"][lang].items():
            assert _messages.placeholders(template) == frozenset({"purpose"}), (lang, key)


def test_every_template_renders_in_every_language() -> None:
    for lang in LANGS:
        for key in PARAMETERS:
            code = key.split(".", 1)[0]
            text = _messages.render(code, sample_details(key), lang)
            assert text is not None, (lang, key)
            assert text == CATALOGUE["findings"][lang][key].format_map(
                {**_messages._derive(sample_details(key), lang)}
            )
            assert "{" not in text and "}" not in text, (lang, key, text)
        for key, names in PURPOSE_PARAMETERS.items():
            for accepted in (True, False):
                params = {n: SAMPLES[n] for n in names}
                line = _messages.headline(accepted, key, params, "unused", lang)
                assert "{" not in line and "unused" not in line, (lang, key, line)


def test_derived_parameters_are_in_the_language_asked_for() -> None:
    details = sample_details("permit_dates_invalid")
    german = _messages.render("permit_dates_invalid", details, "de")
    assert german == "Arbeitserlaubnis: Gültig bis ist kein gültiges Datum"
    missing = _messages.render("claims_missing", sample_details("claims_missing"), "fr")
    labels = [schemas.claim_label("WorkPermit", c, "fr") for c in ("sector", "workRegion")]
    assert missing == f"la présentation ne divulgue pas : {', '.join(labels)}"


def test_translations_are_not_english() -> None:
    english = CATALOGUE["findings"]["en"]
    for lang in LANGS:
        if lang == "en":
            continue
        for key, template in CATALOGUE["findings"][lang].items():
            assert template != english[key], (lang, key)
        assert CATALOGUE["headline"][lang] != CATALOGUE["headline"]["en"], lang


def test_non_latin_languages_are_written_in_their_script() -> None:
    sections = ("findings", "purposes", "headline")
    for lang, script in SCRIPTS.items():
        for section in sections:
            for key, template in CATALOGUE[section][lang].items():
                text = words(template)
                latin = [
                    w for w in text.split() if any("LATIN" in unicodedata.name(c, "") for c in w)
                ]
                assert all(w.strip(":,.()«»") in ALLOWED_LATIN for w in latin), (lang, key, latin)
                own = [c for c in text if c.isalpha() and script in unicodedata.name(c, "")]
                assert own, (lang, key, template)
    # Persian is written with its own yeh and keheh, not the Arabic letters.
    for section in sections:
        for template in CATALOGUE[section]["fa"].values():
            assert "\u064a" not in template and "\u0643" not in template, template


# The official Uzbek Latin alphabet writes oʻ and gʻ with a turned comma, and the
# tutuq belgisi (as in maʼlumot) with a modifier apostrophe.
UZBEK_MARKS = {"\u02bb", "\u02bc"}


def test_uzbek_is_in_latin_script() -> None:
    for section in ("findings", "purposes", "headline"):
        for key, template in CATALOGUE[section]["uz"].items():
            letters = [c for c in words(template) if c.isalpha()]
            assert letters, key
            for char in letters:
                name = unicodedata.name(char, "")
                assert "LATIN" in name or char in UZBEK_MARKS, (key, char)


def test_the_catalogue_ships_in_the_package() -> None:
    assert (PACKAGE / "messages.json").is_file()


# -- every code the verifier and the policies emit has a template ------------------------------


def emitted_codes() -> set[str]:
    """Every literal code of a ``Finding(...)`` built in the verifier and the policies."""
    codes: set[str] = set()
    for name in ("verifier.py", "policies.py"):
        tree = ast.parse((PACKAGE / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Finding"):
                continue
            first = node.args[0] if node.args else None
            candidates = [first]
            if isinstance(first, ast.IfExp):
                candidates = [first.body, first.orelse]
            for value in candidates:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    codes.add(value.value)
    return codes


def test_every_code_emitted_directly_has_a_template() -> None:
    codes = emitted_codes()
    assert {"replayed", "permit_valid", "sector_not_allowed", "region_allowed"} <= codes
    assert codes <= set(PARAMETERS), codes - set(PARAMETERS)


COMMON_VERIFICATION_CODES = {
    "signature_invalid",
    "expired",
    "not_yet_valid",
    "revoked",
    "suspended",
    "status_unavailable",
    "key_not_authorised",
    "kb_nonce_mismatch",
    "kb_audience_mismatch",
    "kb_missing",
    "kb_sd_hash_mismatch",
    "disclosure_unreferenced",
    "proof_missing",
    "challenge_mismatch",
    "domain_mismatch",
    "schema_violation",
    "invalid_credential",
    "nonce_mismatch",
    "audience_mismatch",
}


def test_common_verification_codes_have_templates() -> None:
    assert set(PARAMETERS) >= COMMON_VERIFICATION_CODES


# -- the policies' findings carry what their sentences need ------------------------------------


def work(**claims: Any) -> dict[str, dict[str, Any]]:
    base = {
        "issueDate": "2026-01-01",
        "expiryDate": "2027-06-30",
        "permitCategory": "eu_blue_card",
        "sector": "Q86.10",
        "workRegion": "DE-SN",
        "maxWeeklyHours": 40,
        "institutionName": "TU Dresden",
        "issuingState": "DE",
    }
    base.update(claims)
    return {"work": {k: v for k, v in base.items() if v is not None}}


AT = datetime(2026, 6, 1, 12, tzinfo=UTC)


def policy_findings() -> list[Finding]:
    found: list[Finding] = []
    sector = policies.right_to_work(sector="Q86", region="DE-SN")
    found += sector.evaluate(work(), AT)
    found += policies.right_to_work(sector="C10", region="DE-BY").evaluate(work(), AT)
    found += policies.right_to_work(region="DE-BY").evaluate(work(workRegion=""), AT)
    found += sector.evaluate(work(issueDate="2026-09-01"), AT)
    found += sector.evaluate(work(expiryDate="2026-05-01"), AT)
    found += sector.evaluate(work(expiryDate="soon"), AT)
    found += sector.evaluate(work(sector=None), AT)
    study = policies.right_to_study(institution="TU Dresden")
    found += study.evaluate({"study": work()["work"]}, AT)
    found += policies.right_to_study(institution="Uni Leipzig").evaluate(
        {"study": work()["work"]}, AT
    )
    found += study.evaluate({"study": work(institutionName="")["work"]}, AT)
    found += policies.right_to_study(institution="").evaluate(
        {"study": work(institutionName="")["work"]}, AT
    )
    found += policies.right_to_reside().evaluate({"residence": work()["work"]}, AT)
    found += policies.international_protection().evaluate(
        {"protection": {**work()["work"], "protectionType": "refugee"}}, AT
    )
    return found


def assert_renders_everywhere(finding: Finding) -> None:
    key = _messages.template_key(finding.code, finding.details)
    assert key in PARAMETERS, key
    assert set(PARAMETERS[key]) <= set(finding.details), (key, finding.details)
    for lang in LANGS:
        text = _messages.render(finding.code, finding.details, lang)
        assert text is not None, (lang, key, finding.details)
        assert finding.explain(lang) == text


def test_policy_findings_render_in_every_language() -> None:
    found = policy_findings()
    keys = {_messages.template_key(f.code, f.details) for f in found}
    assert keys == {
        "permit_valid",
        "permit_not_yet_valid",
        "permit_expired",
        "permit_dates_invalid",
        "claims_missing",
        "sector_allowed",
        "sector_not_allowed",
        "region_allowed",
        "region_allowed.any",
        "region_not_allowed",
        "institution_matches",
        "institution_mismatch",
        "institution_mismatch.none",
        "institution_matches.none",
    }
    for finding in found:
        assert_renders_everywhere(finding)


def test_policy_findings_keep_their_english_message() -> None:
    found = {f.code: f for f in policies.right_to_work(sector="C10").evaluate(work(), AT)}
    assert found["permit_valid"].message == "the work permit is valid until 2027-06-30"
    assert found["permit_valid"].details["until"] == "2027-06-30"
    assert found["sector_not_allowed"].message == "the permit allows sector Q86.10, not C10"
    assert found["sector_not_allowed"].explain("de") == (
        "die Erlaubnis gilt für Sektor Q86.10, nicht für C10"
    )


def test_each_recipe_has_a_translatable_purpose() -> None:
    recipes = [
        policies.right_to_work(),
        policies.right_to_work(sector="Q86"),
        policies.right_to_reside(),
        policies.right_to_study(),
        policies.international_protection(),
    ]
    for policy in recipes:
        key = policy.purpose_key
        assert key is not None and key in PURPOSE_PARAMETERS, policy.name
        assert set(policy.purpose_params) == set(PURPOSE_PARAMETERS[key])
        english = _messages.headline(True, policy.purpose_key, policy.purpose_params, "", "en")
        assert english == f"ACCEPTED: {policy.purpose}"


# -- the verifier, end to end ------------------------------------------------------------------


@dataclass
class World:
    ledger: Ledger
    ministry: Issuer
    wallet: Holder
    now: list[datetime]

    def verifier(self, language: str = "en") -> Verifier:
        return Verifier(
            self.ledger,
            audience="did:web:clinic.example",
            status_fetcher=self.ministry.board,
            language=language,
            clock=lambda: self.now[0],
        )

    def store(self, type_name: str, **claims: Any) -> int | None:
        subject = schemas.example_subject(type_name, now=self.now[0])
        subject.pop("id")
        subject.update(claims)
        issued = self.ministry.issue(type_name, subject=self.wallet.did, claims=subject)
        self.wallet.store(issued.credential)
        return issued.status_index

    def ask(self, verifier: Verifier, policy: policies.Policy) -> Report:
        request = verifier.request(policy)
        answer = self.wallet.answer(request, consent=lambda _: True, now=self.now[0])
        return verifier.check(answer, request)


@pytest.fixture
def world() -> World:
    now = [datetime(2026, 6, 1, 12, 0, tzinfo=UTC)]
    root = PrivateKey.generate()
    ledger = Ledger.open(":memory:", key=root, clock=lambda: now[0])
    ministry = Issuer.create(ledger, name="Ausländerbehörde Leipzig", clock=lambda: now[0])
    ledger.accredit(ministry.did, types=["WorkPermit"], by=root, jurisdiction="DE")
    wallet = Holder.create(
        ":memory:",
        passphrase="amina's passphrase",
        resolver=ledger.resolver(),
        clock=lambda: now[0],
    )
    return World(ledger, ministry, wallet, now)


EXPIRY = "2027-06-30"


def test_german_explanation_of_an_accepted_right_to_work(world: World) -> None:
    world.store("WorkPermit", issueDate="2026-01-01", expiryDate=EXPIRY)
    report = world.ask(world.verifier("de"), policies.right_to_work(sector="Q86"))
    assert report.ok, report.explain("en")
    text = report.explain()
    lines = text.splitlines()
    assert lines[0] == "ANGENOMMEN: Recht auf Arbeit im Sektor Q86"
    assert "  Arbeitserlaubnis:" in lines
    assert f"    Gültig bis: {EXPIRY}" in lines
    assert f"  [ok] Arbeitserlaubnis: gültig bis {EXPIRY}" in lines
    assert "  [ok] Arbeit im Sektor Q86.10 ist erlaubt" in lines
    assert "  [ok] Signatur, Bindung und Status in Ordnung" in lines
    assert any(line.endswith("ist akkreditiert für: Arbeitserlaubnis") for line in lines)
    # the same report, told in English on request; the codes and messages never change
    english = report.explain("en")
    assert english.splitlines()[0] == "ACCEPTED: right to work in sector Q86"
    assert f"  [ok] Work permit: valid until {EXPIRY}" in english.splitlines()
    assert report.explain("de-AT") == text
    for finding in report.findings:
        assert_renders_everywhere(finding)
    assert [f.message for f in report.findings][-2:] == [
        f"the work permit is valid until {EXPIRY}",
        "work in sector Q86.10 is allowed",
    ]


def test_an_unknown_language_falls_back_to_english(world: World) -> None:
    world.store("WorkPermit")
    report = world.ask(world.verifier("xx"), policies.right_to_work())
    assert report.ok
    assert report.explain() == report.explain("en")
    assert report.explain("tlh") == report.explain("en")
    assert report.explain().startswith("ACCEPTED: right to work\n")


def test_a_refused_decision_explains_the_failing_code_in_the_language_asked(
    world: World,
) -> None:
    index = world.store("WorkPermit")
    assert index is not None
    world.ministry.suspend(index)
    report = world.ask(world.verifier("uk"), policies.right_to_work(sector="Q86"))
    assert not report.ok
    assert report.codes == ("suspended",)
    lines = report.explain().splitlines()
    assert lines[0] == "ВІДХИЛЕНО: право на роботу в секторі Q86"
    assert "  [NO] дію документа призупинено" in lines
    georgian = report.explain("ka").splitlines()
    assert georgian[0] == "უარყოფილია: მუშაობის უფლება სექტორში Q86"
    assert "  [NO] დოკუმენტის მოქმედება შეჩერებულია" in georgian
    (failure,) = report.failures
    assert failure.details["check"] == "status"
    assert failure.message.startswith("status: ")  # the English message is unchanged


def test_a_policy_failure_is_explained_in_french(world: World) -> None:
    world.store("WorkPermit", issueDate="2026-01-01", expiryDate=EXPIRY)
    report = world.ask(world.verifier("fr"), policies.right_to_work(on=date(2027, 9, 1)))
    assert report.codes == ("permit_expired",)
    lines = report.explain().splitlines()
    assert lines[0] == "REFUSÉ : droit de travailler"
    assert f"  [NO] Autorisation de travail : a expiré le {EXPIRY}" in lines


def test_an_unaccredited_issuer_is_explained_in_arabic(world: World) -> None:
    world.store("StudyPermit")
    report = world.ask(world.verifier("ar"), policies.right_to_study())
    assert report.codes == ("issuer_not_accredited",)
    (failure,) = report.failures
    assert_renders_everywhere(failure)
    assert report.explain().splitlines()[-1].endswith("غير معتمد لإصدار: تصريح الدراسة")


def test_binding_and_completeness_failures_render_everywhere(world: World) -> None:
    world.store("WorkPermit")
    verifier = world.verifier("pl")
    policy = policies.right_to_work()
    request = verifier.request(policy)
    answer = world.wallet.answer(request, consent=lambda _: True, now=world.now[0])
    token = answer.vp_token["work_sd"]
    other = verifier.request(policy)
    stranger = Verifier(
        world.ledger,
        audience="did:web:other.example",
        language="pl",
        clock=lambda: world.now[0],
        replay=UnsafeStatelessRequests(),  # it keeps no nonces: here, to reach the policy step
    )
    # A stranger can rebuild a recipe from the request, but not a custom policy.
    custom = replace(request, policy="custom_rule")
    # Each check consumes its request's nonce: one fresh request per case.
    fresh = [verifier.request(policy) for _ in range(3)]
    cases = {
        "replayed": (answer, other, verifier),
        "policy_unknown": (answer, custom, stranger),
        "unexpected_credential": (
            PresentationResponse(
                {"work_sd": token, "extra": ["x"]}, fresh[0].nonce, request.audience
            ),
            fresh[0],
            verifier,
        ),
        "credential_missing": (
            PresentationResponse({}, fresh[1].nonce, request.audience),
            fresh[1],
            verifier,
        ),
        "format_mismatch": (
            PresentationResponse({"work_sd": [{"a": 1}]}, fresh[2].nonce, request.audience),
            fresh[2],
            verifier,
        ),
    }
    for code, (presentation, asked, checker) in cases.items():
        report = checker.check(presentation, asked)
        assert report.codes[0] == code, (code, report.codes)
        for finding in report.failures:
            assert_renders_everywhere(finding)
        assert report.explain().startswith("ODRZUCONO: "), code
    world.now[0] += timedelta(hours=1)
    late = verifier.check(answer, request)
    assert late.codes == ("request_expired",)
    assert late.explain().splitlines()[1] == "  [NO] żądanie wygasło"
    unknown = stranger.check(answer, custom)
    assert unknown.explain().splitlines()[0].startswith("ODRZUCONO: ")


def test_a_forged_presentation_is_explained_in_persian(world: World) -> None:
    world.store("WorkPermit")
    verifier = world.verifier("fa")
    request = verifier.request(policies.right_to_work())
    answer = world.wallet.answer(request, consent=lambda _: True, now=world.now[0])
    jws, *rest = answer.vp_token["work_sd"][0].split("~")
    header, payload, signature = jws.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    forged = "~".join([f"{header}.{payload}.{flipped}", *rest])
    report = verifier.check(
        PresentationResponse({"work_sd": [forged]}, request.nonce, request.audience), request
    )
    assert report.codes == ("signature_invalid",)
    assert "  [NO] امضا معتبر نیست" in report.explain().splitlines()


# -- fallbacks and hostile values --------------------------------------------------------------


def test_a_custom_policy_keeps_its_own_purpose_in_a_translated_headline() -> None:
    finding = Finding("document_valid", True, "the travel document is valid until 2027-01-01")
    report = Report(True, "valid return travel document", (finding,), language="de")
    assert report.explain().splitlines() == [
        "ANGENOMMEN: valid return travel document",
        "  [ok] the travel document is valid until 2027-01-01",
    ]


def test_a_missing_parameter_falls_back_to_the_english_message() -> None:
    finding = Finding("permit_valid", True, "the permit is fine", "work", {"type_name": "X"})
    assert finding.explain("de") == "the permit is fine"
    partial = Finding("sector_allowed", True, "allowed", "work", {"granted": "Q86"})
    assert partial.explain("ru") == "работа в секторе Q86 разрешена"


def test_a_missing_translation_falls_back_to_english(monkeypatch: pytest.MonkeyPatch) -> None:
    findings = {lang: dict(t) for lang, t in CATALOGUE["findings"].items()}
    del findings["de"]["permit_valid"]
    findings["it"]["expired"] = "scaduta il {nonexistent}"
    headline = {lang: dict(t) for lang, t in CATALOGUE["headline"].items()}
    headline["tr"]["accepted"] = "KABUL {0}"
    patched = {**CATALOGUE, "findings": findings, "headline": headline}
    monkeypatch.setattr(_messages, "catalogue", lambda: patched)
    valid = Finding("permit_valid", True, "msg", None, {"type_name": "WorkPermit", "until": "X"})
    assert valid.explain("de") == "Work permit: valid until X"
    assert Finding("expired", False, "msg").explain("it") == "the credential has expired"
    assert _messages.headline(True, "right_to_reside", {}, "", "tr") == ("ACCEPTED: ikamet hakkı")


def test_malformed_templates_are_refused() -> None:
    for bad in ("{0}", "{}", "{a.b}", "{a[0]}", "{a!r}", "{a:>9}", "{", "}", "{a"):
        assert _messages.placeholders(bad) is None, bad
        assert _messages._fill(bad, {"a": "x", "0": "y"}) is None, bad
    assert _messages.placeholders("a {b} {c}") == frozenset({"b", "c"})


def test_values_cannot_fake_a_line_or_reorder_text() -> None:
    sneaky = "Q86\n  [ok] issuer accredited\u202eevil\u2066"
    finding = policies.right_to_work(sector="Q").evaluate(work(sector=sneaky), AT)[1]
    for lang in LANGS:
        text = finding.explain(lang)
        assert "\n" not in text and "\u202e" not in text and "\u2066" not in text
    report = Report(True, "p", (finding,), disclosed={"work": {"sector": sneaky}})
    assert len(report.explain("de").splitlines()) == 4
    long = Finding("sector_allowed", True, "m", None, {"granted": "9" * 10_000})
    assert len(long.explain("en")) < _messages.MAX_VALUE + 60
    # Persian keeps its zero-width non-joiner
    assert "\u200c" in _messages.clean("بین\u200cالمللی")


@settings(max_examples=150, deadline=None)
@given(
    code=st.sampled_from([*PARAMETERS, "unknown_code", ""]),
    details=st.dictionaries(
        st.sampled_from([*SAMPLES, "variant", "other"]),
        st.one_of(
            st.text(max_size=30),
            st.integers(),
            st.none(),
            st.lists(st.text(max_size=5), max_size=3),
            st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        ),
        max_size=6,
    ),
    language=st.one_of(st.sampled_from(LANGS), st.text(max_size=8), st.none()),
)
def test_explaining_never_raises_and_stays_on_one_line(
    code: str, details: dict[str, Any], language: str | None
) -> None:
    finding = Finding(code.split(".", 1)[0], False, "fallback", "q", details)
    text = finding.explain(language)  # type: ignore[arg-type]
    assert "\n" not in text and text
    report = Report(False, "p", (finding,), language=language)  # type: ignore[arg-type]
    lines = report.explain().splitlines()
    assert len(lines) == 2
    if not any("{" in str(value) for value in details.values()):
        assert not any(f"{{{name}}}" in lines[1] for name in SAMPLES)


def test_dates_stay_iso_in_every_language() -> None:
    finding = policies.right_to_reside(on=date(2026, 6, 1)).evaluate(
        {"residence": work()["work"]}, AT
    )[0]
    for lang in LANGS:
        assert "2027-06-30" in finding.explain(lang), lang
