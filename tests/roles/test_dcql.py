"""DCQL (OpenID4VP 1.0 section 6/7): parsing, claims path pointers and matching."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from did_methods.errors import SSIWalletError
from ssi_wallet.dcql import DCQLError, DCQLQuery, match, select


@dataclass(frozen=True)
class Cred:
    id: str
    format: str
    types: tuple[str, ...]
    claims: Mapping[str, Any]
    issuer: str = "did:example:ministry"


WORK = Cred(
    "w1",
    "dc+sd-jwt",
    ("https://example.eu/vct/WorkPermit",),
    {
        "given_name": "Amina",
        "sector": "healthcare",
        "hours": 40,
        "full_time": True,
        "nationalities": ["SY", "TR"],
        "address": {"locality": "Vilnius", "country": "LT"},
    },
)
RESIDENCE = Cred(
    "r1",
    "ldp_vc",
    ("VerifiableCredential", "ResidencePermit"),
    {"credentialSubject": {"permitCategory": "temporary", "validUntil": "2027-06-30"}},
)


def q(*credentials: dict[str, Any], **extra: Any) -> DCQLQuery:
    return DCQLQuery.parse({"credentials": list(credentials), **extra})


def test_select_paths() -> None:
    claims = WORK.claims
    assert select(claims, ["address", "locality"]) == ["Vilnius"]
    assert select(claims, ["nationalities", None]) == ["SY", "TR"]
    assert select(claims, ["nationalities", 1]) == ["TR"]
    assert select(claims, ["nationalities", 5]) == []
    assert select(claims, ["address", None]) == []  # null needs an array
    assert select(claims, ["missing"]) == []


def test_simple_match_and_values() -> None:
    query = q(
        {
            "id": "work",
            "format": "dc+sd-jwt",
            "meta": {"vct_values": ["https://example.eu/vct/WorkPermit"]},
            "claims": [{"path": ["sector"], "values": ["healthcare", "care"]}],
        }
    )
    result = match(query, [WORK, RESIDENCE])
    assert result.ok
    assert result.matches["work"].credential_ids == ("w1",)
    assert result.matches["work"].claims == (("sector",),)
    other = q(
        {
            "id": "work",
            "format": "dc+sd-jwt",
            "meta": {},
            "claims": [{"path": ["sector"], "values": ["construction"]}],
        }
    )
    assert not match(other, [WORK]).ok
    with pytest.raises(TypeError):
        bool(match(other, [WORK]))


def test_value_types_are_strict() -> None:
    as_int = q(
        {
            "id": "a",
            "format": "dc+sd-jwt",
            "meta": {},
            "claims": [{"path": ["full_time"], "values": [1]}],
        }
    )
    assert not match(as_int, [WORK]).ok
    as_bool = q(
        {
            "id": "a",
            "format": "dc+sd-jwt",
            "meta": {},
            "claims": [{"path": ["full_time"], "values": [True]}],
        }
    )
    assert match(as_bool, [WORK]).ok


def test_claim_sets_pick_first_satisfiable_option() -> None:
    query = q(
        {
            "id": "work",
            "format": "dc+sd-jwt",
            "meta": {},
            "claims": [
                {"id": "a", "path": ["phone"]},
                {"id": "b", "path": ["sector"]},
                {"id": "c", "path": ["hours"]},
            ],
            "claim_sets": [["a", "b"], ["b", "c"], ["c"]],
        }
    )
    result = match(query, [WORK])
    assert result.matches["work"].claims == (("sector",), ("hours",))


def test_type_values_for_w3c_credentials() -> None:
    query = q(
        {
            "id": "res",
            "format": "ldp_vc",
            "meta": {"type_values": [["VerifiableCredential", "ResidencePermit"]]},
            "claims": [{"path": ["credentialSubject", "permitCategory"]}],
        }
    )
    assert match(query, [WORK, RESIDENCE]).matches["res"].credential_ids == ("r1",)
    wrong = q({"id": "res", "format": "ldp_vc", "meta": {"type_values": [["StudyPermit"]]}})
    assert not match(wrong, [RESIDENCE]).ok


def test_credential_sets() -> None:
    query = q(
        {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:pid"]}},
        {"id": "work", "format": "dc+sd-jwt", "meta": {}},
        {"id": "res", "format": "ldp_vc", "meta": {}},
        credential_sets=[
            {"options": [["pid"], ["res"]]},
            {"options": [["work"]], "required": False},
        ],
    )
    result = match(query, [WORK, RESIDENCE])
    assert result.ok
    assert result.selected == ("res", "work")
    strict = q(
        {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:pid"]}},
        credential_sets=[{"options": [["pid"]]}],
    )
    assert match(strict, [WORK]).missing == ("pid",)


def test_multiple_and_trusted_authorities() -> None:
    second = Cred("w2", "dc+sd-jwt", WORK.types, WORK.claims, issuer="did:example:other")
    query = q({"id": "w", "format": "dc+sd-jwt", "meta": {}, "multiple": True})
    assert match(query, [WORK, second]).matches["w"].credential_ids == ("w1", "w2")
    trusted = q(
        {
            "id": "w",
            "format": "dc+sd-jwt",
            "meta": {},
            "multiple": True,
            "trusted_authorities": [{"type": "openid_federation", "values": ["did:example:other"]}],
        }
    )
    assert match(trusted, [WORK, second]).matches["w"].credential_ids == ("w2",)


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"credentials": []},
        {"credentials": [{"id": "a b", "format": "dc+sd-jwt"}]},
        {"credentials": [{"id": "a", "format": "mso_mdoc_x"}]},
        {"credentials": [{"id": "a", "format": "dc+sd-jwt", "claims": []}]},
        {"credentials": [{"id": "a", "format": "dc+sd-jwt", "claims": [{"path": []}]}]},
        {"credentials": [{"id": "a", "format": "dc+sd-jwt", "claims": [{"path": [-1]}]}]},
        {"credentials": [{"id": "a", "format": "dc+sd-jwt", "claims": [{"path": [True]}]}]},
        {
            "credentials": [
                {
                    "id": "a",
                    "format": "dc+sd-jwt",
                    "claims": [{"path": ["x"]}],
                    "claim_sets": [["x"]],
                }
            ]
        },
        {"credentials": [{"id": "a", "format": "dc+sd-jwt"}, {"id": "a", "format": "ldp_vc"}]},
        {
            "credentials": [{"id": "a", "format": "dc+sd-jwt"}],
            "credential_sets": [{"options": [["b"]]}],
        },
        {"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": [1]}}]},
    ],
)
def test_malformed_queries(bad: dict[str, Any]) -> None:
    with pytest.raises(DCQLError):
        DCQLQuery.parse(bad)


def test_round_trip() -> None:
    data = {
        "credentials": [
            {
                "id": "w",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": ["x"]},
                "claims": [{"id": "s", "path": ["sector"], "values": ["care"]}],
                "claim_sets": [["s"]],
                "multiple": True,
            }
        ],
        "credential_sets": [{"options": [["w"]], "required": True}],
    }
    assert DCQLQuery.parse(data).to_json() == data


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=25,
)


@given(_json)
def test_property_arbitrary_json_raises_only_dcql_error(data: Any) -> None:
    try:
        DCQLQuery.parse({"credentials": [data]} if isinstance(data, dict) else data)
    except SSIWalletError:
        pass


@given(
    _json,
    st.lists(
        st.none() | st.text(max_size=5) | st.integers(min_value=0, max_value=5),
        min_size=1,
        max_size=5,
    ),
)
def test_property_select_never_raises(document: Any, path: list[Any]) -> None:
    assert isinstance(select(document, path), list)
