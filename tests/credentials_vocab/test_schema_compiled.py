"""The compiled schema predicates agree with jsonschema (the reference) on valid
credentials and on generated bad ones."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credentials import schemas
from credentials._schema_compile import UnsupportedSchema, compile_schema

_ODD_VALUES: list[Any] = [
    None,
    0,
    -1,
    1.5,
    10**9,
    True,
    False,
    "",
    "x",
    "x" * 3000,
    "2026-13-01",
    "2026-02-30",
    "2026-01-01T25:00:00Z",
    "not a date",
    "SYR",
    "syr",
    "did:example:123",
    " spaced",
    [],
    ["SYR", "SYR"],
    ["SYR", 1],
    {},
    {"id": "did:example:1"},
]


def _reference_ok(type_name: str, credential: Any) -> bool:
    return not any(True for _ in schemas._validator(type_name).iter_errors(credential))


def _mutations(credential: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Each member of the credential and of its subject: removed, replaced by odd
    values; plus an unexpected member at both levels."""
    for where in ("", "credentialSubject"):
        target = credential if not where else credential[where]
        for key in list(target):
            removed = copy.deepcopy(credential)
            (removed if not where else removed[where]).pop(key)
            yield removed
            for value in _ODD_VALUES:
                changed = copy.deepcopy(credential)
                (changed if not where else changed[where])[key] = value
                yield changed
        extra = copy.deepcopy(credential)
        (extra if not where else extra[where])["unexpectedClaim"] = "x"
        yield extra


@pytest.mark.parametrize("type_name", schemas.CREDENTIAL_TYPES)
def test_every_vocabulary_schema_compiles(type_name: str) -> None:
    assert schemas._conforms(type_name) is not None


@pytest.mark.parametrize("type_name", schemas.CREDENTIAL_TYPES)
def test_compiled_and_reference_agree_on_generated_mutations(type_name: str) -> None:
    conforms = schemas._conforms(type_name)
    assert conforms is not None
    example = schemas.example_credential(type_name)
    assert conforms(example) and _reference_ok(type_name, example)
    checked = 0
    for mutated in _mutations(example):
        assert conforms(mutated) == _reference_ok(type_name, mutated), mutated
        checked += 1
    assert checked > 200


@given(st.sampled_from(schemas.CREDENTIAL_TYPES), st.data())
def test_compiled_and_reference_agree_on_arbitrary_claims(
    type_name: str, data: st.DataObject
) -> None:
    credential = schemas.example_credential(type_name)
    names = sorted(schemas.claim_names(type_name))
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=6,
    )
    claims = data.draw(st.dictionaries(st.sampled_from(names), json_values, max_size=4))
    credential["credentialSubject"].update(claims)
    conforms = schemas._conforms(type_name)
    assert conforms is not None
    assert conforms(credential) == _reference_ok(type_name, credential)


def test_validation_still_lists_every_violation_after_the_fast_no() -> None:
    credential = schemas.example_credential("WorkPermit")
    credential["credentialSubject"]["birthDate"] = "1994-13-12"
    credential["credentialSubject"]["sector"] = 7
    with pytest.raises(schemas.SchemaValidationError) as caught:
        schemas.validate_credential(credential)
    paths = {path for path, _ in caught.value.errors}
    assert {"/credentialSubject/birthDate", "/credentialSubject/sector"} <= paths


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "patternProperties": {"^x": {}}},
        {"not": {"type": "string"}},
        {"$ref": "https://example.org/schema.json"},
        {"$ref": "#/$defs/missing"},
        {"type": "array", "contains": {}, "minContains": 2},
        {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"},
        {"properties": {"x": {"unknownKeyword": 1}}},
    ],
)
def test_keywords_outside_the_subset_are_refused_at_compile_time(schema: Any) -> None:
    with pytest.raises(UnsupportedSchema):
        compile_schema(schema, {})


def test_compiled_semantics_of_the_edges() -> None:
    check = compile_schema(
        {
            "type": "object",
            "properties": {
                "flag": {"const": True},
                "n": {"type": "integer", "minimum": 1},
                "tags": {"type": "array", "uniqueItems": True},
                "code": {"type": "string", "pattern": "[0-9]"},
            },
            "additionalProperties": False,
        },
        {},
    )
    assert check({"flag": True, "n": 2.0, "tags": [1, True], "code": "ab1"})
    assert not check({"flag": 1})  # true is not 1
    assert not check({"tags": [1, 1.0]})  # 1 and 1.0 are the same JSON number
    assert not check({"n": True})  # a boolean is no integer
    assert not check({"other": 1})
    recursive = compile_schema(
        {
            "$defs": {"node": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
            "$ref": "#/$defs/node",
        },
        {},
    )
    assert recursive([[], [[]]])
    assert not recursive([[], [1]])


def test_each_type_is_compiled_once_and_jsonschema_runs_only_on_a_no(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issuing many credentials compiles each type's schema once (issue 12 item 1), and
    the reference validator is built only to explain a credential that fails."""
    from datetime import UTC, datetime

    from ssi_wallet import Issuer

    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    compiled: list[str] = []
    explained: list[str] = []
    real_compile = schemas.compile_schema
    real_validator = schemas._validator

    def counting_compile(schema: Any, formats: Any) -> Any:
        compiled.append(schema["title"])
        return real_compile(schema, formats)

    def counting_validator(type_name: str) -> Any:
        explained.append(type_name)
        return real_validator(type_name)

    schemas._conforms.cache_clear()
    monkeypatch.setattr(schemas, "compile_schema", counting_compile)
    monkeypatch.setattr(schemas, "_validator", counting_validator)
    try:
        office = Issuer.create(name="Ministry", clock=lambda: now)
        for type_name in ("WorkPermit", "Visa"):
            claims = schemas.example_subject(type_name)
            claims.pop("id")
            subjects = [(f"did:example:{i}", claims) for i in range(50)]
            for fmt in ("di-eddsa", "vc-jwt"):
                issued = office.issue_many(type_name, subjects, format=fmt)
                assert len(issued) == 50
        assert sorted(compiled) == ["Visa", "WorkPermit"]
        assert explained == []
        bad = {**schemas.example_subject("WorkPermit"), "birthDate": "1994-13-12"}
        bad.pop("id")
        with pytest.raises(schemas.SchemaValidationError):
            office.issue("WorkPermit", subject="did:example:1", claims=bad)
        assert explained == ["WorkPermit"]
        assert sorted(compiled) == ["Visa", "WorkPermit"]
    finally:
        schemas._conforms.cache_clear()
