"""VC Data Model 2.0 validation: every violation reported, accessors, validity period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from core_support import V2, credential
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.errors import ParseError, ValidationError
from credentials.model import Credential, Presentation, check_validity_period, parse_datetime


def _errors(doc: Any, cls: Any = Credential) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        cls.from_json(doc)
    return dict(info.value.errors)


def test_valid_credential_and_accessors() -> None:
    doc = credential({"id": "did:example:ministry", "name": "Migration Department"})
    doc["credentialSubject"] = [
        {"id": "did:example:amina", "role": "worker"},
        {"name": "no id here"},
    ]
    doc["credentialStatus"] = {
        "id": "https://status.example/1#5",
        "type": "BitstringStatusListEntry",
    }
    doc["credentialSchema"] = [{"id": "https://schemas.example/wp.json", "type": "JsonSchema"}]
    doc["evidence"] = [{"type": ["DocumentVerification"]}]
    doc["termsOfUse"] = {"type": "IssuerPolicy"}
    doc["refreshService"] = {"type": "ManualRefresh"}
    doc["name"] = [{"@value": "Arbeitserlaubnis", "@language": "de"}, "Work permit"]
    cred = Credential.from_json(doc)
    assert cred.issuer == "did:example:ministry"
    assert cred.subject_ids == ("did:example:amina",)
    assert cred.types == ("VerifiableCredential", "WorkPermit")
    assert cred.valid_from == datetime(2026, 1, 1, tzinfo=UTC)
    assert cred.valid_until == datetime(2027, 6, 30, 23, 59, 59, tzinfo=UTC)
    assert cred.id == doc["id"]
    assert cred.to_json() == doc


def test_every_violation_is_listed() -> None:
    doc = {
        "@context": ["https://www.w3.org/2018/credentials/v1", 42],
        "id": "not a url",
        "type": ["AlumniCredential", 7],
        "issuer": {"name": "no id"},
        "credentialSubject": [],
        "validFrom": "2026-01-01T00:00:00",
        "validUntil": "tomorrow",
        "credentialStatus": [{"id": "https://x.example/1"}],
        "credentialSchema": {"type": "JsonSchema"},
        "evidence": "a string",
        "termsOfUse": [{"type": []}],
        "refreshService": {"id": "bad url", "type": "X"},
        "description": 5,
    }
    errors = _errors(doc)
    assert set(errors) == {
        "/@context/0",
        "/@context/1",
        "/id",
        "/type/1",
        "/type",
        "/issuer/id",
        "/credentialSubject",
        "/validFrom",
        "/validUntil",
        "/credentialStatus/0/type",
        "/credentialSchema/id",
        "/evidence",
        "/termsOfUse/0/type",
        "/refreshService/id",
        "/description",
    }
    assert "VerifiableCredential" in errors["/type"]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"@context": None}, "/@context"),
        ({"@context": []}, "/@context"),
        ({"@context": "https://example.org/other"}, "/@context/0"),
        ({"type": "VerifiablePresentation"}, "/type"),
        ({"type": []}, "/type"),
        ({"issuer": 12}, "/issuer"),
        ({"issuer": "no-scheme"}, "/issuer"),
        ({"credentialSubject": {}}, "/credentialSubject"),
        ({"credentialSubject": [1]}, "/credentialSubject/0"),
        ({"credentialSubject": {"id": "x y"}}, "/credentialSubject/id"),
        ({"validFrom": "2026-13-01T00:00:00Z"}, "/validFrom"),
        ({"validUntil": "2025-01-01T00:00:00Z"}, "/validUntil"),
        ({"credentialSchema": [{"id": "https://s.example/x"}]}, "/credentialSchema/0/type"),
        ({"evidence": []}, "/evidence"),
    ],
)
def test_single_rule(change: dict[str, Any], path: str) -> None:
    doc = credential("did:example:issuer")
    for key, value in change.items():
        if value is None:
            del doc[key]
        else:
            doc[key] = value
    assert path in _errors(doc)


def test_missing_required_members() -> None:
    errors = _errors({"@context": [V2], "type": "VerifiableCredential"})
    assert {"/issuer", "/credentialSubject"} <= set(errors)
    assert _errors([]) == {"": "a credential must be a JSON object"}


def test_presentation() -> None:
    vp = {
        "@context": [V2],
        "type": ["VerifiablePresentation"],
        "holder": {"id": "did:example:amina"},
        "verifiableCredential": [credential("did:example:i")],
    }
    parsed = Presentation.from_json(vp)
    assert parsed.holder == "did:example:amina"
    assert len(parsed.credentials) == 1
    assert parsed.to_json() == vp
    errors = _errors(
        {
            "@context": [V2],
            "type": "VerifiableCredential",
            "holder": 3,
            "verifiableCredential": [1],
        },
        Presentation,
    )
    assert {"/type", "/holder", "/verifiableCredential/0"} <= set(errors)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-01T00:00:00Z", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-01-01T02:00:00+02:00", datetime(2026, 1, 1, tzinfo=UTC)),
        (
            "2026-01-01T00:00:00.1234567-05:30",
            datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=timezone(-timedelta(hours=5, minutes=30))),
        ),
    ],
)
def test_parse_datetime(text: str, expected: datetime) -> None:
    assert parse_datetime(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-01T00:00:00",
        "2026-01-01",
        "2026-01-01 00:00:00Z",
        "2026-02-30T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T00:00:00+15:00",
        "１２34-01-01T00:00:00Z",
        3,
        None,
    ],
)
def test_parse_datetime_refuses(text: Any) -> None:
    with pytest.raises(ParseError):
        parse_datetime(text)


def test_validity_period_checks() -> None:
    doc = credential("did:example:i")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = datetime(2027, 6, 30, 23, 59, 59, tzinfo=UTC)
    assert check_validity_period(doc, start).code == "ok"  # inclusive bounds
    assert check_validity_period(doc, end).code == "ok"
    early = check_validity_period(doc, start - timedelta(seconds=1))
    assert (early.status, early.code) == ("failed", "not_yet_valid")
    late = check_validity_period(doc, end + timedelta(seconds=1))
    assert (late.status, late.code) == ("failed", "expired")
    after = end + timedelta(days=1)
    assert Credential.from_json(doc).check_validity_period(after).code == "expired"
    bad = check_validity_period({**doc, "validFrom": "soon"}, start)
    assert bad.code == "invalid_datetime"
    assert check_validity_period({}, start).status == "passed"
    with pytest.raises(TypeError):
        check_validity_period(doc, datetime(2026, 1, 1))


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_members = st.sampled_from(
    [
        "@context",
        "id",
        "type",
        "issuer",
        "credentialSubject",
        "validFrom",
        "validUntil",
        "credentialStatus",
        "credentialSchema",
        "evidence",
        "termsOfUse",
        "refreshService",
        "holder",
        "verifiableCredential",
        "name",
    ]
)


@settings(max_examples=200)
@given(st.dictionaries(_members, _json, max_size=10) | _json)
def test_arbitrary_json_raises_only_validation_errors(doc: Any) -> None:
    for cls in (Credential, Presentation):
        try:
            parsed = cls.from_json(doc)
        except ValidationError as exc:
            assert exc.errors and all(isinstance(p, str) and m for p, m in exc.errors)
        else:
            assert parsed.to_json() == doc
