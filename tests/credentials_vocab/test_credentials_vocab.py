"""The immigration vocabulary: schemas, JSON-LD context, display metadata, SD-JWT policy."""

from __future__ import annotations

import copy
import json
import unicodedata
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from credentials.errors import ValidationError
from credentials.schemas import (
    CONTEXT_URL,
    CREDENTIAL_TYPES,
    LANGUAGES,
    MAX_DEPTH,
    SchemaValidationError,
    UnknownCredentialTypeError,
    check_schema,
    claim_label,
    claim_names,
    context_document,
    credential_schema,
    display_name,
    example_credential,
    example_subject,
    schema_for,
    schema_id,
    sd_jwt_disclosure_policy,
    type_for_schema_id,
    type_for_vct,
    validate_credential,
    vct,
)
from did_methods.errors import ParseError

EXPECTED_TYPES = {
    "ResidencePermit",
    "WorkPermit",
    "StudyPermit",
    "Visa",
    "InternationalProtectionStatus",
    "AsylumApplicant",
    "ReturnTravelDocument",
    "QualificationCredential",
    "PersonIdentificationData",
    "GuardianshipAuthorisation",
}
EXPECTED_LANGUAGES = (
    "en",
    "de",
    "fr",
    "es",
    "it",
    "pl",
    "ro",
    "ru",
    "uk",
    "tr",
    "ar",
    "ka",
    "uz",
    "fa",
)

# the Unicode script each non-Latin language must be written in
SCRIPTS = {
    "ru": "CYRILLIC",
    "uk": "CYRILLIC",
    "ar": "ARABIC",
    "fa": "ARABIC",
    "ka": "GEORGIAN",
}


def _letters_scripts(text: str) -> set[str]:
    return {unicodedata.name(ch).split()[0] for ch in text if ch.isalpha()}


def _paths(exc: SchemaValidationError) -> set[str]:
    return {path for path, _ in exc.errors}


# ------------------------------------------------------------------ catalogue


def test_the_ten_types_and_fourteen_languages() -> None:
    assert set(CREDENTIAL_TYPES) == EXPECTED_TYPES
    assert LANGUAGES == EXPECTED_LANGUAGES


@pytest.mark.parametrize("type_name", sorted(EXPECTED_TYPES))
def test_schema_is_valid_draft_2020_12_with_stable_id(type_name: str) -> None:
    schema = schema_for(type_name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == schema_id(type_name)
    assert schema_id(type_name).startswith("https://w3id.org/ssi-wallet/immigration/schemas/v1/")
    assert credential_schema(type_name) == {"id": schema_id(type_name), "type": "JsonSchema"}
    assert type_for_schema_id(schema_id(type_name)) == type_name
    # callers get a copy, not the cached schema
    schema["title"] = "changed"
    assert schema_for(type_name)["title"] == type_name


def test_schema_ids_and_vcts_are_unique() -> None:
    assert len({schema_id(t) for t in CREDENTIAL_TYPES}) == len(CREDENTIAL_TYPES)
    assert len({vct(t) for t in CREDENTIAL_TYPES}) == len(CREDENTIAL_TYPES)
    for type_name in CREDENTIAL_TYPES:
        assert type_for_vct(vct(type_name)) == type_name


@pytest.mark.parametrize(
    "call",
    [
        lambda: schema_for("DriverLicence"),
        lambda: schema_id("residencepermit"),
        lambda: vct(""),
        lambda: display_name("Passport", "en"),
        lambda: claim_label("Passport", "familyName", "en"),
        lambda: example_subject("Passport"),
        lambda: type_for_vct("https://example.com/other"),
        lambda: type_for_schema_id("https://example.com/schema.json"),
        lambda: sd_jwt_disclosure_policy(42),  # type: ignore[arg-type]
    ],
)
def test_unknown_types_raise_a_typed_error(call: Any) -> None:
    with pytest.raises(UnknownCredentialTypeError) as info:
        call()
    assert isinstance(info.value, ParseError)


# ------------------------------------------------------------------ examples


@pytest.mark.parametrize("type_name", sorted(EXPECTED_TYPES))
def test_every_example_validates(type_name: str) -> None:
    credential = example_credential(type_name)
    validate_credential(credential)
    check = check_schema(credential)
    assert check.name == "schema" and check.status == "passed", check
    # every claim of the example is one the type defines
    assert set(example_subject(type_name)) <= set(claim_names(type_name))


# From the sample file's first day to past its farthest date, and a leap day.
_WHENS = [
    datetime(2026, 1, 1, tzinfo=UTC),
    datetime(2026, 7, 4, tzinfo=UTC),  # the day after the first sample document ended
    datetime(2028, 2, 29, 12, tzinfo=UTC),
    datetime(2031, 6, 1, tzinfo=UTC),
    datetime(2045, 12, 31, 23, 59, tzinfo=UTC),
]


@pytest.mark.parametrize("type_name", sorted(EXPECTED_TYPES))
@pytest.mark.parametrize("now", _WHENS, ids=lambda w: w.date().isoformat())
def test_every_example_is_current_whenever_it_is_read(type_name: str, now: datetime) -> None:
    # The samples once had fixed dates: ReturnTravelDocument's ended on 2026-07-03,
    # and whatever was issued from it stopped verifying. Now `now` falls halfway
    # through the document's validity, and the sample still conforms (a guardianship's
    # minor is a minor until it ends).
    credential = example_credential(type_name, now=now)
    validate_credential(credential)
    subject = credential["credentialSubject"]
    today = now.date().isoformat()
    assert subject["issueDate"] <= today <= subject["expiryDate"]
    assert credential["validUntil"] == f"{subject['expiryDate']}T23:59:59Z"
    assert example_subject(type_name, now=now) == subject
    # the spans of the sample file are kept, and the holder's own dates stay put
    written = example_subject(type_name, now=_WHENS[0])
    for name in ("issueDate", "startDate", "expiryDate"):
        if name in subject:
            moved = date.fromisoformat(subject[name]) - date.fromisoformat(written[name])
            assert moved == now.date() - _WHENS[0].date()
    assert subject.get("birthDate") == written.get("birthDate")


def test_an_example_read_at_a_naive_time_is_refused() -> None:
    with pytest.raises(ParseError):
        example_subject("Visa", now=datetime(2026, 6, 1))


def test_examples_are_fresh_copies() -> None:
    subject = example_subject("WorkPermit")
    subject["familyName"] = "Changed"
    assert example_subject("WorkPermit")["familyName"] == "Haddad"


# ------------------------------------------------------------------ violations


def test_all_violations_are_listed_at_once() -> None:
    credential = example_credential("WorkPermit")
    subject = credential["credentialSubject"]
    del subject["familyName"]  # missing field
    subject["birthDate"] = "1994-02-30"  # impossible date
    subject["issuingState"] = "XY"  # not an ISO 3166-1 code
    subject["nationality"] = ["Syrian"]  # not an alpha-3 code
    subject["maxWeeklyHours"] = "forty"  # wrong JSON type
    subject["sector"] = "healthcare"  # not a NACE code
    subject["favouriteColour"] = "blue"  # not in the vocabulary
    credential["validFrom"] = "2026-01-01"  # not a dateTimeStamp
    with pytest.raises(SchemaValidationError) as info:
        validate_credential(credential)
    paths = _paths(info.value)
    assert {
        "/credentialSubject",  # required familyName; additional property
        "/credentialSubject/birthDate",
        "/credentialSubject/issuingState",
        "/credentialSubject/nationality/0",
        "/credentialSubject/maxWeeklyHours",
        "/credentialSubject/sector",
        "/validFrom",
    } <= paths
    messages = " ".join(m for _, m in info.value.errors)
    assert "familyName" in messages and "favouriteColour" in messages
    # the error is a ParseError / ValueError from our tree, with the list in its text
    assert isinstance(info.value, ValidationError) and isinstance(info.value, ValueError)
    assert "birthDate" in str(info.value)
    # the big country enum is summarised, not dumped
    assert all(len(m) < 300 for _, m in info.value.errors)


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda c: c["credentialSubject"].pop("expiryDate"), "/credentialSubject"),
        (
            lambda c: c["credentialSubject"].update(issueDate="2026-13-01"),
            "/credentialSubject/issueDate",
        ),
        (
            lambda c: c["credentialSubject"].update(issuingState="lt"),
            "/credentialSubject/issuingState",
        ),
        (
            lambda c: c["credentialSubject"].update(issuingState="LTU"),
            "/credentialSubject/issuingState",
        ),
        (
            lambda c: c["credentialSubject"].update(permitCategory="tourist"),
            "/credentialSubject/permitCategory",
        ),
        (lambda c: c["credentialSubject"].update(nationality=[]), "/credentialSubject/nationality"),
        (
            lambda c: c["credentialSubject"].update(nationality="UKR"),
            "/credentialSubject/nationality",
        ),
        (
            lambda c: c["credentialSubject"].update(expiryDate="2020-01-01"),
            "/credentialSubject/expiryDate",
        ),
        (
            lambda c: c["credentialSubject"].update(birthDate=_day_after(c, "issueDate")),
            "/credentialSubject/birthDate",
        ),
        (lambda c: c["credentialSubject"].update(familyName=""), "/credentialSubject/familyName"),
        (
            lambda c: c["credentialSubject"].update(familyName="A\nB"),
            "/credentialSubject/familyName",
        ),
        (lambda c: c.update(validUntil="2029-02-30T00:00:00Z"), "/validUntil"),
        (lambda c: c.update(validFrom="2026-01-01T00:00:00"), "/validFrom"),
        (lambda c: c.update(issuer=7), "/issuer"),
        (lambda c: c.update(type=["VerifiableCredential", "WorkPermit"]), "/type"),
        (lambda c: c.update({"@context": ["https://www.w3.org/ns/credentials/v2"]}), "/@context"),
        (
            lambda c: c.update({"@context": [CONTEXT_URL, "https://www.w3.org/ns/credentials/v2"]}),
            "/@context/0",
        ),
        (lambda c: c.update(credentialSubject=[c["credentialSubject"]]), "/credentialSubject"),
        (lambda c: c.update(unknownTopLevel=1), ""),
    ],
)
def test_targeted_violations_are_caught(mutate: Any, path: str) -> None:
    credential = example_credential("ResidencePermit")
    mutate(credential)
    with pytest.raises(SchemaValidationError) as info:
        validate_credential(credential)
    assert path in _paths(info.value), info.value.errors


def _day_after(credential: dict[str, Any], name: str) -> str:
    """The day after the date claim ``name`` of ``credential``'s subject."""
    day = date.fromisoformat(credential["credentialSubject"][name]) + timedelta(days=1)
    return day.isoformat()


def test_visa_start_after_expiry_is_caught() -> None:
    credential = example_credential("Visa")
    credential["credentialSubject"]["startDate"] = _day_after(credential, "expiryDate")
    with pytest.raises(SchemaValidationError) as info:
        validate_credential(credential)
    assert "/credentialSubject/startDate" in _paths(info.value)


def test_guardianship_needs_a_minor() -> None:
    credential = example_credential("GuardianshipAuthorisation")
    credential["credentialSubject"]["minorBirthDate"] = "2000-01-01"
    with pytest.raises(SchemaValidationError) as info:
        validate_credential(credential)
    assert "/credentialSubject/minorBirthDate" in _paths(info.value)
    credential = example_credential("GuardianshipAuthorisation")
    credential["credentialSubject"]["expiryDate"] = "2030-01-01"  # the minor is 18 by then
    with pytest.raises(SchemaValidationError) as info:
        validate_credential(credential)
    assert "/credentialSubject/expiryDate" in _paths(info.value)


def test_a_credential_of_no_vocabulary_type_is_refused_for_issuing() -> None:
    credential = example_credential("WorkPermit")
    credential["type"] = ["VerifiableCredential", "EmployeeCard"]
    with pytest.raises(SchemaValidationError) as info:
        validate_credential(credential)
    assert _paths(info.value) == {"/type"}
    with pytest.raises(SchemaValidationError):
        validate_credential("not a credential")  # type: ignore[arg-type]


# ------------------------------------------------------------------ check_schema


def test_check_schema_skips_without_credential_schema() -> None:
    credential = example_credential("Visa")
    del credential["credentialSchema"]
    assert check_schema(credential).status == "skipped"


def test_check_schema_refuses_unknown_schema_ids_without_fetching() -> None:
    credential = example_credential("Visa")
    credential["credentialSchema"] = {
        "id": "https://evil.example/schema.json",
        "type": "JsonSchema",
    }
    check = check_schema(credential)
    assert check.status == "failed" and check.code == "schema_unknown"
    credential["credentialSchema"] = {"id": schema_id("Visa"), "type": "JsonSchemaCredential"}
    assert check_schema(credential).code == "schema_unknown"
    credential["credentialSchema"] = []
    assert check_schema(credential).code == "schema_unknown"


def test_check_schema_lists_every_violation() -> None:
    credential = example_credential("StudyPermit")
    credential["credentialSubject"]["educationLevel"] = 12
    credential["credentialSubject"]["institutionCountry"] = "Poland"
    check = check_schema(credential)
    assert check.status == "failed" and check.code == "schema_violation"
    paths = {e["path"] for e in check.details["errors"]}
    assert paths == {"/credentialSubject/educationLevel", "/credentialSubject/institutionCountry"}


def test_check_schema_against_the_type_the_schema_names() -> None:
    # a Visa that claims the WorkPermit schema fails that schema
    credential = example_credential("Visa")
    credential["credentialSchema"] = credential_schema("WorkPermit")
    check = check_schema(credential)
    assert check.code == "schema_violation"
    assert "/type" in {e["path"] for e in check.details["errors"]}


def test_deep_or_huge_input_is_bounded() -> None:
    credential = example_credential("Visa")
    deep: Any = "x"
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    credential["evidence"] = deep
    check = check_schema(credential)
    assert check.code == "schema_violation"
    with pytest.raises(SchemaValidationError):
        validate_credential(credential)
    credential["evidence"] = [{"n": i} for i in range(30_000)]
    assert check_schema(credential).code == "schema_violation"
    very_deep: Any = {}
    for _ in range(100_000):
        very_deep = {"a": very_deep}
    credential["evidence"] = very_deep
    assert check_schema(credential).code == "schema_violation"


def test_non_json_values_are_violations_not_crashes() -> None:
    credential = example_credential("Visa")
    credential["credentialSubject"]["durationOfStay"] = {1, 2}
    assert check_schema(credential).code == "schema_violation"
    credential["credentialSubject"] = {1: "x"}
    assert check_schema(credential).code == "schema_violation"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(
    type_name=st.sampled_from(sorted(EXPECTED_TYPES)),
    key=st.sampled_from(
        ["credentialSubject", "type", "issuer", "validFrom", "@context", "credentialSchema"]
    ),
    value=json_values,
)
def test_arbitrary_values_never_crash(type_name: str, key: str, value: Any) -> None:
    credential = example_credential(type_name)
    credential[key] = value
    check = check_schema(credential)
    assert check.name == "schema" and check.status in {"passed", "failed", "skipped"}
    try:
        validate_credential(credential)
    except SchemaValidationError as exc:
        assert exc.errors
    else:
        assert check.status in {"passed", "skipped"}


@settings(max_examples=100, deadline=None)
@given(type_name=st.sampled_from(sorted(EXPECTED_TYPES)), data=st.data())
def test_arbitrary_subject_claims_never_crash(type_name: str, data: st.DataObject) -> None:
    credential = example_credential(type_name)
    claim = data.draw(st.sampled_from(claim_names(type_name)))
    credential["credentialSubject"][claim] = data.draw(json_values)
    check = check_schema(credential)
    assert check.status in {"passed", "failed"}


# ------------------------------------------------------------------ display metadata


def _all_claims() -> list[tuple[str, str]]:
    pairs = []
    for type_name in CREDENTIAL_TYPES:
        subject = schema_for(type_name)["$defs"]["subject"]
        pairs += [(type_name, claim) for claim in subject["properties"]]
    return pairs


@pytest.mark.parametrize("lang", EXPECTED_LANGUAGES)
def test_every_claim_label_exists_in_every_language(lang: str) -> None:
    for type_name, claim in _all_claims():
        label = claim_label(type_name, claim, lang)
        generic = claim_label("*", claim, lang)
        assert label and label != claim, (type_name, claim, lang)
        assert generic and generic != claim, (claim, lang)
        assert label == label.strip()
        english = claim_label(type_name, claim, "en")
        if lang in SCRIPTS:
            assert label != english, (type_name, claim, lang)
            assert SCRIPTS[lang] in _letters_scripts(label), (type_name, claim, lang, label)
        if lang == "uz":
            assert _letters_scripts(label) <= {"LATIN", "MODIFIER"}, label


@pytest.mark.parametrize("lang", EXPECTED_LANGUAGES)
def test_every_credential_name_exists_in_every_language(lang: str) -> None:
    from credentials.vocabulary import read_json

    names = read_json("display.json")["credentials"]
    for type_name in CREDENTIAL_TYPES:
        name = display_name(type_name, lang)
        # written for this language, not a fallback
        assert name and names[type_name][lang] == name
        if lang in SCRIPTS:
            assert name != display_name(type_name, "en")
            assert SCRIPTS[lang] in _letters_scripts(name), (type_name, lang, name)


def test_display_metadata_names_no_claim_outside_the_schemas() -> None:
    from credentials.vocabulary import read_json

    display = read_json("display.json")
    defined = {claim for _, claim in _all_claims()}
    assert set(display["claims"]["*"]) == defined
    for type_name, overrides in display["claims"].items():
        if type_name != "*":
            assert type_name in CREDENTIAL_TYPES
            assert set(overrides) <= set(claim_names(type_name))
    for labels in display["claims"]["*"].values():
        assert set(labels) == set(EXPECTED_LANGUAGES)


def test_language_tags_fall_back() -> None:
    assert display_name("WorkPermit", "de-AT") == display_name("WorkPermit", "de")
    assert display_name("WorkPermit", "pt-BR") == "Work permit"
    assert claim_label("*", "familyName", "uk_UA") == "Прізвище"
    assert claim_label("*", "notAClaim", "fr") == "notAClaim"
    assert claim_label("GuardianshipAuthorisation", "familyName", "en") == "Guardian's family name"
    assert claim_label("*", "familyName", "ka") == "გვარი"
    assert display_name("Visa", "fa") == "ویزا"


# ------------------------------------------------------------------ JSON-LD context


def test_context_defines_every_term_used_in_the_schemas() -> None:
    document = context_document()
    context = document["@context"]
    assert context["@protected"] is True and context["@version"] == 1.1
    vocab = context["ssiw"]
    for type_name in CREDENTIAL_TYPES:
        assert context[type_name] == f"ssiw:{type_name}"
        for claim in claim_names(type_name):
            if claim == "id":
                assert context["id"] == "@id"
                continue
            term = context[claim]
            iri = term if isinstance(term, str) else term["@id"]
            assert iri == f"ssiw:{claim}", claim
    assert vocab == "https://w3id.org/ssi-wallet/immigration#"


def test_context_types_dates_and_numbers() -> None:
    context = context_document()["@context"]
    assert context["birthDate"]["@type"] == "xsd:date"
    assert context["maxWeeklyHours"]["@type"] == "xsd:integer"
    assert context["ageOver18"]["@type"] == "xsd:boolean"
    assert context["nationality"]["@container"] == "@set"


def test_every_schema_requires_our_context() -> None:
    assert CONTEXT_URL == "https://w3id.org/ssi-wallet/immigration/v1"
    for type_name in CREDENTIAL_TYPES:
        assert schema_for(type_name)["properties"]["@context"]["contains"] == {"const": CONTEXT_URL}


def test_package_files_are_valid_json() -> None:
    from importlib import resources

    root = resources.files("credentials.vocabulary")
    names = [p.name for p in root.iterdir() if p.name.endswith(".json")]
    assert {"context-v1.json", "display.json", "types.json", "examples.json"} <= set(names)
    for name in names:
        json.loads(root.joinpath(name).read_text(encoding="utf-8"))
    schemas = [p.name for p in root.joinpath("schemas").iterdir()]
    assert sorted(schemas) == sorted(f"{t}.json" for t in CREDENTIAL_TYPES)


# ------------------------------------------------------------------ SD-JWT policy


@pytest.mark.parametrize("type_name", sorted(EXPECTED_TYPES))
def test_disclosure_policy_partitions_the_claims(type_name: str) -> None:
    always, selective = sd_jwt_disclosure_policy(type_name)
    assert not set(always) & set(selective)
    assert set(always) | set(selective) == set(claim_names(type_name))
    # personal data is never forced into every presentation
    personal = {
        "familyName",
        "givenName",
        "birthDate",
        "birthPlace",
        "nationality",
        "sex",
        "employerName",
        "residentAddress",
        "protectionType",
        "minorFamilyName",
        "minorGivenName",
        "minorBirthDate",
        "id",
    }
    assert not personal & set(always), type_name
    assert "issuingState" in always and "expiryDate" in always


def test_work_permit_conditions_are_always_disclosed() -> None:
    always, selective = sd_jwt_disclosure_policy("WorkPermit")
    assert {"permitCategory", "sector", "workRegion", "maxWeeklyHours"} <= set(always)
    assert {"employerName", "nationality"} <= set(selective)


def test_mutating_a_returned_schema_does_not_leak() -> None:
    schema = schema_for("Visa")
    schema["$defs"]["subject"]["properties"].clear()
    credential = copy.deepcopy(example_credential("Visa"))
    validate_credential(credential)


def _texts(lang: str) -> list[str]:
    texts = [display_name(t, lang) for t in CREDENTIAL_TYPES]
    texts += [claim_label(t, c, lang) for t, c in _all_claims()]
    return texts


def test_persian_and_arabic_use_their_own_letters() -> None:
    arabic_only = set("\u064a\u0643\u0649")  # Arabic yeh, kaf, alef maksura
    persian_only = set(
        "\u06cc\u06a9\u06af\u067e\u0686\u0698"
    )  # Persian yeh, keheh, gaf, pe, che, zhe
    for text in _texts("fa"):
        assert not arabic_only & set(text), text
    for text in _texts("ar"):
        assert not persian_only & set(text), text


def test_uzbek_latin_uses_the_official_apostrophe_letters() -> None:
    for text in _texts("uz"):
        assert "'" not in text, text  # oʻ/gʻ take U+02BB, the tutuq belgisi U+02BC
    assert claim_label("*", "birthDate", "uz") == "Tug\u02bbilgan sana"
