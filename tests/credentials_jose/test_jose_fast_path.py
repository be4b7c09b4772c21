"""The fast validation path agrees with the collecting validator on mutated credentials.

``Credential.from_json`` first tries ``credentials.model._fast_credential``,
which accepts only the common, valid shape and otherwise hands over to the
collecting pass (``Credential._from_json_full``). These properties mutate a
realistic credential (members removed, replaced by other JSON values, nested
members changed) and check that the two paths accept and refuse the same
documents with the same fields and the same listed violations, and that a
``vc+jwt`` of each mutated credential verifies to the same checks and codes
with the fast path as without it.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from credentials_core.core_support import credential
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials import model
from credentials._jws import dumps, sign_compact
from credentials.errors import ValidationError
from credentials.jose import verify_vc_jwt
from credentials.model import Credential
from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.key import did_key_from_public_key
from did_methods.resolver import Resolver

V2 = "https://www.w3.org/ns/credentials/v2"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
KEY = PrivateKey.generate(KeyType.ED25519)
DID = did_key_from_public_key(KEY.public_key)
KID = f"{DID}#{DID.removeprefix('did:key:')}"


def base(issuer: str) -> dict[str, Any]:
    # the core tests' credential, with the members a production one carries besides
    return credential(
        issuer,
        name="Residence permit",
        description="Temporary residence permit",
        validUntil="2027-06-30T00:00:00+02:00",
        credentialSchema={"id": "https://schemas.example/permit.json", "type": "JsonSchema"},
        evidence=[{"type": ["Evidence"], "id": "https://evidence.example/1"}],
        iss=issuer,
        jti="urn:uuid:9a1b0c6e-3f2d-4b5e-8c7a-1d2e3f4a5b6c",
        sub="did:example:amina",
        iat=1767225600,
    )


# values a member may be replaced by: valid-looking and invalid ones of every JSON type
VALUES = st.one_of(
    st.sampled_from(
        [
            None,
            True,
            0,
            1.5,
            "",
            "x",
            "not a url",
            "https://example.org/x",
            "did:example:other",
            V2,
            "VerifiableCredential",
            "2026-02-30T00:00:00Z",
            "2026-01-01T00:00:00",
            "2099-01-01T00:00:00Z",
            "2000-01-01T00:00:00-05:00",
            [],
            [V2],
            [V2, {"@protected": True, "name": "https://x.example/name"}],
            ["VerifiableCredential"],
            ["VerifiableCredential", ""],
            ["VerifiableCredential", 3],
            {},
            {"id": "https://example.org/x"},
            {"id": "https://example.org/x", "type": "T"},
            {"type": ""},
            {"type": []},
            {"type": ["T"], "id": "nope"},
            [{"type": "T"}],
            [{"type": "T", "id": "https://example.org/y"}, 1],
            {"@value": "Permit", "@language": "en"},
            [{"@value": "Permit", "@language": "e!"}],
            {"id": "https://example.org/x", "name": {"@value": "Issuer"}},
            {"id": "https://example.org/x", "name": 5},
            [{"id": "did:example:a", "k": 1}, {"k": 2}],
            [{"id": "https://r.example", "digestSRI": "sha384-abc"}],
        ]
    ),
    st.text(max_size=8),
    st.integers(),
)
MEMBERS = st.sampled_from(
    [
        "@context",
        "id",
        "type",
        "issuer",
        "name",
        "description",
        "validFrom",
        "validUntil",
        "credentialSubject",
        "credentialSchema",
        "credentialStatus",
        "evidence",
        "termsOfUse",
        "refreshService",
        "relatedResource",
    ]
)
# ("set", member, value), ("delete", member), ("nested", member, key, value)
MUTATION = st.one_of(
    st.tuples(st.just("set"), MEMBERS, VALUES),
    st.tuples(st.just("set"), MEMBERS, st.sampled_from([{}, [], [{}], "", None])),
    st.sampled_from(
        [
            ("set", "validFrom", "2099-01-01T00:00:00Z"),
            ("set", "validUntil", "2000-01-01T00:00:00-05:00"),
            ("set", "validFrom", "2027-06-30T00:00:00+02:00"),
        ]
    ),
    st.tuples(st.just("delete"), MEMBERS),
    st.tuples(st.just("nested"), MEMBERS, st.sampled_from(["id", "type", "name", 0, 1]), VALUES),
)


def mutate(document: dict[str, Any], mutations: list[tuple[Any, ...]]) -> dict[str, Any]:
    doc = copy.deepcopy(document)
    for mutation in mutations:
        if mutation[0] == "set":
            doc[mutation[1]] = copy.deepcopy(mutation[2])
        elif mutation[0] == "delete":
            doc.pop(mutation[1], None)
        else:
            _, member, key, value = mutation
            target = doc.get(member)
            if isinstance(target, list) and isinstance(key, int):
                if key < len(target):
                    target[key] = copy.deepcopy(value)
                else:
                    target.append(copy.deepcopy(value))
            elif isinstance(target, dict) and isinstance(key, str):
                target[key] = copy.deepcopy(value)
    return doc


def full(document: Any) -> Credential | list[tuple[str, str]]:
    try:
        return Credential._from_json_full(document)
    except ValidationError as exc:
        return exc.errors


def through_from_json(document: Any) -> Credential | list[tuple[str, str]]:
    try:
        return Credential.from_json(document)
    except ValidationError as exc:
        return exc.errors


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MUTATION, max_size=4))
def test_fast_path_agrees_with_the_collecting_pass(mutations: list[tuple[Any, ...]]) -> None:
    document = mutate(base(DID), mutations)
    fast = model._fast_credential(document)
    expected = full(document)
    if fast is not None:
        # the fast path accepts only what the collecting pass accepts, with the same fields
        assert isinstance(expected, Credential)
        assert fast == (
            expected.id,
            expected.types,
            expected.issuer,
            expected.subject_ids,
            expected.valid_from,
            expected.valid_until,
        )
    # and from_json (fast path first) answers exactly as the collecting pass alone
    assert through_from_json(document) == expected


def test_the_fast_path_takes_the_common_credential() -> None:
    # the property above would hold trivially if the fast path never accepted
    assert model._fast_credential(base(DID)) is not None
    assert model._fast_credential(mutate(base(DID), [("delete", "issuer")])) is None


def _verify(token: str, resolver: Resolver) -> tuple[bool, tuple[str, ...], list[Any], Any]:
    result = verify_vc_jwt(token, resolver, now=NOW)
    return (
        result.ok,
        result.codes,
        [(c.name, c.status, c.code, c.message) for c in result.checks],
        (result.issuer, result.types, result.subject, result.valid_from, result.valid_until),
    )


RESOLVER = Resolver.default()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MUTATION, max_size=3))
def test_vc_jwt_verifies_alike_with_and_without_the_fast_path(
    mutations: list[tuple[Any, ...]],
) -> None:
    payload = mutate(base(DID), mutations)
    token = sign_compact({"typ": "vc+jwt", "cty": "vc", "kid": KID}, dumps(payload), KEY)
    with_fast = _verify(token, RESOLVER)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(model, "_fast_credential", lambda data: None)
        without = _verify(token, RESOLVER)
    assert with_fast == without
