"""VC Data Model 2.0 rules on names, descriptions, related resources and status entries.

- 4.6 Names and Descriptions: "If present, the value of the name property MUST be a
  string or a language value object as described in 11.1" (also on `issuer`), and a
  language value object holds `@value`, optionally `@language` (well-formed BCP 47)
  and `@direction`, and nothing else.
- 5.3 Integrity of Related Resources: "The value of the relatedResource property MUST
  be one or more objects of the following form"; "The identifier for the resource is
  REQUIRED ... The value MUST be unique among the list of related resource objects";
  "Each object associated with relatedResource MUST contain at least a digestSRI or a
  digestMultibase value."
- Bitstring Status List 2.1: statusListIndex is "an arbitrary size integer greater than
  or equal to 0, expressed as a string in base 10": an issuer refuses anything else.
"""

from __future__ import annotations

from typing import Any

import pytest

from credentials import issue
from credentials.errors import ValidationError
from credentials.model import Credential
from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.key import did_key_from_public_key

V2 = "https://www.w3.org/ns/credentials/v2"
# the W3C suite's related resource: the base context with its published digests
RELATED = {
    "id": V2,
    "mediaType": "application/ld+json",
    "digestSRI": "sha384-NSOcNpmdIVUxIJGvGUoe22FjTWrXiaXlsZ8q6912LdnR3KraQO2n75Ica4wK4Qeg",
    "digestMultibase": "uJKGMkOmFbVJhEfKTduMC2XCyvRAYLjOVmZWwIH1wQ7k",
}


def _vc(**extra: Any) -> dict[str, Any]:
    return {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "did:example:subject"},
        **extra,
    }


def _paths(document: dict[str, Any]) -> set[str]:
    with pytest.raises(ValidationError) as info:
        Credential.from_json(document)
    return {p for p, _ in info.value.errors}


GOOD_TEXT = [
    "An Example Credential",
    {"@value": "An Example Credential", "@language": "en"},
    {"@value": "An Example Credential", "@language": "en", "@direction": "ltr"},
    {"@value": "مثال", "@language": "ar-EG", "@direction": "rtl"},
    [{"@value": "Example", "@language": "en"}, {"@value": "Exemple", "@language": "fr-CA"}],
]


@pytest.mark.parametrize("value", GOOD_TEXT)
@pytest.mark.parametrize("name", ["name", "description"])
def test_strings_and_language_value_objects_are_accepted(name: str, value: Any) -> None:
    Credential.from_json(_vc(**{name: value}))
    Credential.from_json(_vc(issuer={"id": "did:example:issuer", name: value}))


BAD_TEXT = [
    ({"@value": "An Example Credential", "@language": "en", "url": "did:example:c"}, ""),
    ({"@language": "en"}, "/@value"),
    ({"@value": 3}, "/@value"),
    ({"@value": "x", "@language": "not a tag"}, "/@language"),
    ({"@value": "x", "@direction": "up"}, "/@direction"),
    (7, ""),
]


@pytest.mark.parametrize("value, suffix", BAD_TEXT)
@pytest.mark.parametrize("name", ["name", "description"])
def test_malformed_language_value_objects_are_refused(name: str, value: Any, suffix: str) -> None:
    assert f"/{name}{suffix}" in _paths(_vc(**{name: value}))
    on_issuer = _vc(issuer={"id": "did:example:issuer", name: value})
    assert f"/issuer/{name}{suffix}" in _paths(on_issuer)
    assert f"/{name}/1{suffix}" in _paths(_vc(**{name: ["fine", value]}))


@pytest.mark.parametrize(
    "related",
    [
        {"id": V2, "digestSRI": RELATED["digestSRI"]},
        {"id": V2, "digestMultibase": RELATED["digestMultibase"]},
        [{"id": V2, "mediaType": "application/ld+json", "digestSRI": RELATED["digestSRI"]}],
        [RELATED, {"id": "https://example.org/other", "digestSRI": RELATED["digestSRI"]}],
    ],
)
def test_related_resources_of_the_spec_form_are_accepted(related: Any) -> None:
    Credential.from_json(_vc(relatedResource=related))


@pytest.mark.parametrize(
    "related, path",
    [
        ([V2], "/relatedResource/0"),  # an array of strings
        ([{"digestMultibase": RELATED["digestMultibase"]}], "/relatedResource/0/id"),
        ([{"id": "not a url", "digestSRI": RELATED["digestSRI"]}], "/relatedResource/0/id"),
        (
            [{"id": V2, "digestSRI": RELATED["digestSRI"]}, {"id": V2, "digestMultibase": "uAA"}],
            "/relatedResource/1/id",
        ),
        ([{"id": V2}], "/relatedResource/0"),  # no digest
        ([{"id": V2, "digestSRI": "md5-abc"}], "/relatedResource/0/digestSRI"),
        ("https://example.org", "/relatedResource"),
    ],
)
def test_related_resources_breaking_the_rules_are_refused(related: Any, path: str) -> None:
    assert path in _paths(_vc(relatedResource=related))


@pytest.mark.parametrize("index", ["-1", "1.5", "one", "", True, 5, None])
def test_issuing_refuses_a_status_entry_whose_index_is_not_a_base_10_integer_string(
    index: Any,
) -> None:
    key = PrivateKey.generate(KeyType.ED25519)
    did = did_key_from_public_key(key.public_key)
    entry = {
        "id": "https://status.example/1#5",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": index,
        "statusListCredential": "https://status.example/1",
    }
    document = _vc(issuer=did, credentialStatus=entry)
    with pytest.raises(ValidationError) as info:
        issue(document, key, verification_method=f"{did}#{did[8:]}", format="di-eddsa")
    assert [p for p, _ in info.value.errors] == ["/credentialStatus"]
    # a base-10 string is issued
    good = _vc(issuer=did, credentialStatus={**entry, "statusListIndex": "5"})
    issued = issue(good, key, verification_method=f"{did}#{did[8:]}", format="di-eddsa")
    assert isinstance(issued, dict) and "proof" in issued


# 5.2.1 Semantic Interoperability: "compliant JSON-LD-based processors produce an error
# when a JSON-LD context redefines any term" of the (protected) base context; JSON-LD 1.1
# makes redefining any protected term an error. The W3C suite's two fixtures:
REDEFINE_BASE_TERM = [
    V2,
    {"VerifiableCredential": "https://example.org/#BadVerifiableCredential"},
]
REDEFINE_INLINE_PROTECTED = [
    V2,
    {"@protected": True, "ExampleVerifiableCredential": "https://example.org/#Example"},
    {"ExampleVerifiableCredential": "https://example.org/#ExampleBad"},
]


@pytest.mark.parametrize(
    "context, path",
    [
        (REDEFINE_BASE_TERM, "/@context/1/VerifiableCredential"),
        (REDEFINE_INLINE_PROTECTED, "/@context/2/ExampleVerifiableCredential"),
        (
            [V2, {"credentialSubject": "https://example.org/#subject"}],
            "/@context/1/credentialSubject",
        ),
    ],
)
def test_a_context_redefining_a_protected_term_is_refused(context: list[Any], path: str) -> None:
    assert path in _paths(_vc(**{"@context": context}))


@pytest.mark.parametrize(
    "context",
    [
        [V2, {"ExampleTestCredential": "https://example.org/#ExampleTestCredential"}],
        # an unprotected inline term may be redefined later
        [V2, {"Ex": "https://example.org/#A"}, {"Ex": "https://example.org/#B"}],
        # restating a protected inline definition identically is no redefinition
        [
            V2,
            {"@protected": True, "Ex": "https://example.org/#A"},
            {"Ex": "https://example.org/#A"},
        ],
        [V2, "https://www.w3.org/ns/credentials/examples/v2"],
    ],
)
def test_contexts_that_define_new_terms_are_accepted(context: list[Any]) -> None:
    Credential.from_json(_vc(**{"@context": context}))
