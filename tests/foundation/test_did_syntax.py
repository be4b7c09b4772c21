"""DID and DID URL syntax (DID Core section 3) and the DID document model."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from did_methods import DID, DIDURL, DIDDocument, InvalidDID, InvalidDocument, SSIWalletError

VALID_DIDS = [
    "did:example:123456789abcdefghi",
    "did:web:example.com%3A3000:user:alice",
    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "did:ledger:a:b:c",
    "did:x1:%41",
    "did:example::a",
]
INVALID_DIDS = [
    "",
    "did:",
    "did:example",
    "did:example:",
    "did:Example:123",
    "did:ex_ample:1",
    "DID:example:1",
    "did:example:abc:",
    "did:example:%4",
    "did:example:%zz",
    "did:example:a b",
    "did:example:a/b",
    "did:example:é",
    "did:example:1#frag",
]


@pytest.mark.parametrize("text", VALID_DIDS)
def test_valid_dids_round_trip(text: str) -> None:
    did = DID.parse(text)
    assert str(did) == text
    assert DID.parse(str(did)) == did


@pytest.mark.parametrize("text", INVALID_DIDS)
def test_invalid_dids_are_refused(text: str) -> None:
    with pytest.raises(InvalidDID):
        DID.parse(text)


def test_did_url_parts() -> None:
    url = DIDURL.parse("did:example:123/path/to?versionId=1&x=y#key-1")
    assert str(url.did) == "did:example:123"
    assert url.path == "/path/to"
    assert url.query == "versionId=1&x=y"
    assert url.fragment == "key-1"
    assert str(url) == "did:example:123/path/to?versionId=1&x=y#key-1"
    empty = DIDURL.parse("did:example:123?#")
    assert empty.query == "" and empty.fragment == ""
    assert DIDURL.parse("did:example:123").is_bare_did


@pytest.mark.parametrize(
    "text",
    ["did:example:123#a#b", "did:example:123/pa th", "did:example:123#%g0", "did:example:123?a b"],
)
def test_invalid_did_urls_are_refused(text: str) -> None:
    with pytest.raises(InvalidDID):
        DIDURL.parse(text)


def test_overlong_input_refused_before_parsing() -> None:
    with pytest.raises(InvalidDID):
        DID.parse("did:example:" + "a" * 10_000)


_idchar = st.sampled_from([*list("abcXYZ019.-_"), "%2F", "%3a"])
_segment = st.lists(_idchar, min_size=1, max_size=8).map("".join)
_dids = st.builds(
    lambda method, segs: f"did:{method}:{':'.join(segs)}",
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8),
    st.lists(_segment, min_size=1, max_size=4),
)
_pchar = st.sampled_from([*list("abZ09-._~!$&'()*+,;=:@"), "%20"])


@given(_dids)
def test_property_did_round_trip(text: str) -> None:
    did = DID.parse(text)
    assert DID.parse(str(did)) == did
    assert str(did) == text


@given(
    _dids,
    st.lists(st.lists(_pchar, max_size=5).map("".join), max_size=3),
    st.none() | st.lists(_pchar | st.sampled_from(["/", "?"]), max_size=6).map("".join),
    st.none() | st.lists(_pchar | st.sampled_from(["/", "?"]), max_size=6).map("".join),
)
def test_property_did_url_round_trip(
    did: str, path: list[str], query: str | None, fragment: str | None
) -> None:
    url = DIDURL(DID.parse(did), "".join("/" + p for p in path), query, fragment)
    assert DIDURL.parse(str(url)) == url


@given(st.text(max_size=120))
def test_property_arbitrary_text_raises_only_invalid_did(text: str) -> None:
    for parse in (DID.parse, DIDURL.parse):
        try:
            parse(text)
        except InvalidDID:
            pass


def _doc() -> dict[str, object]:
    did = "did:example:123"
    return {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": did,
        "controller": "did:example:ctl",
        "alsoKnownAs": ["https://ministry.example"],
        "verificationMethod": [
            {
                "id": "#key-1",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            }
        ],
        "authentication": ["#key-1"],
        "assertionMethod": [
            {
                "id": f"{did}#embedded",
                "type": "JsonWebKey",
                "controller": did,
                "publicKeyJwk": {
                    "kty": "OKP",
                    "crv": "X25519",
                    "x": "3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08",
                },
            }
        ],
        "service": [
            {"id": "#svc", "type": "LinkedDomains", "serviceEndpoint": "https://example.com"}
        ],
        "custom": {"kept": True},
    }


def test_document_round_trips_and_resolves_references() -> None:
    data = _doc()
    doc = DIDDocument.from_json(data)
    assert doc.to_json() == data
    assert doc.find("#key-1") is not None
    assert doc.find("did:example:123#embedded") is not None
    assert doc.is_authorised("did:example:123#key-1", "authentication")
    assert not doc.is_authorised("did:example:123#key-1", "assertionMethod")
    assert [vm.id for vm in doc.verification_methods_for("assertionMethod")] == [
        "did:example:123#embedded"
    ]
    assert doc.find_service("#svc") is not None
    assert doc.controller == ("did:example:ctl",)


@pytest.mark.parametrize(
    "change",
    [
        {"id": "not-a-did"},
        {"verificationMethod": "nope"},
        {"verificationMethod": [{"id": "#k", "type": "Multikey"}]},
        {"verificationMethod": [{"id": "#k", "type": "Multikey", "controller": "x"}]},
        {"authentication": ["not a url"]},
        {"service": [{"id": "#s", "type": 1, "serviceEndpoint": "x"}]},
        {"service": [{"id": "#s", "type": "T"}]},
        {"controller": ["did:example:ok", 5]},
        {"alsoKnownAs": "x"},
    ],
)
def test_invalid_documents_are_refused(change: dict[str, object]) -> None:
    with pytest.raises(InvalidDocument):
        DIDDocument.from_json({**_doc(), **change})


def test_duplicate_method_ids_are_refused() -> None:
    data = _doc()
    data["verificationMethod"] = data["verificationMethod"] * 2  # type: ignore[operator]
    with pytest.raises(InvalidDocument):
        DIDDocument.from_json(data)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)


@given(
    st.fixed_dictionaries(
        {"id": st.sampled_from(["did:example:1", "x", 3])},
        optional={
            k: _json
            for k in (
                "verificationMethod",
                "authentication",
                "service",
                "controller",
                "alsoKnownAs",
            )
        },
    )
)
def test_property_arbitrary_json_into_document_parser(data: dict[str, object]) -> None:
    try:
        DIDDocument.from_json(data)
    except SSIWalletError:
        pass
