"""did:key resolution options and errors, as the did:key v0.9 algorithms state them.

- Signature Method Creation: "If the byte length of rawPublicKeyBytes does not match the
  expected public key length for the associated multicodecValue, an
  `invalidPublicKeyLength` error MUST be raised."
- "If publicKeyFormat is not known to the implementation, an `unsupportedPublicKeyType`
  error MUST be raised."
- "If options.enableExperimentalPublicKeyTypes is set to `false` and publicKeyFormat is
  not `Multikey`, `JsonWebKey2020`, or `Ed25519VerificationKey2020`, an
  `invalidPublicKeyType` error MUST be raised."
- Context Creation: the default context first, then one per verification method type;
  the spec's documents and its NIST-curve vectors (P-256/P-384 list their own key under
  `keyAgreement`) are reproduced exactly.
"""

from __future__ import annotations

import pytest
from vector_files import load_vector

from did_methods.encoding import base58btc_decode, base58btc_encode
from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.key import KeyMethod, did_key_from_public_key
from did_methods.resolver import Resolver

SPEC_DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


@pytest.fixture
def resolver() -> Resolver:
    return Resolver([KeyMethod()])


def test_nist_curve_vectors_as_json_web_key_2020_documents_exactly(resolver: Resolver) -> None:
    checked = 0
    for did, case in load_vector("did-key/nist-curves.json").items():
        if case["verificationMethod"]["type"] != "JsonWebKey2020":
            continue
        if case["verificationMethod"]["publicKeyJwk"]["crv"] not in ("P-256", "P-384"):
            continue  # P-521 is not supported
        result = resolver.resolve(did, publicKeyFormat="JsonWebKey2020")
        assert result.error is None, result.did_resolution_metadata
        assert result.did_document is not None
        document = result.did_document.to_json()
        assert document == case["didDocument"]
        # keyAgreement names the signing key itself, as the vectors show
        assert document["keyAgreement"] == [document["verificationMethod"][0]["id"]]
        checked += 1
    assert checked == 4


def test_spec_example_document_with_ed25519_verification_key_2020(resolver: Resolver) -> None:
    expected = load_vector("did-key/spec-v0.9-ed25519-2020-example.json")
    result = resolver.resolve(SPEC_DID, publicKeyFormat="Ed25519VerificationKey2020")
    assert result.did_document is not None, result.did_resolution_metadata
    assert result.did_document.to_json() == expected


def test_the_default_context_is_did_v1_first_then_multikey(resolver: Resolver) -> None:
    # the Document Creation Algorithm: defaultContext's first element is DID v1; the
    # Context Creation Algorithm then appends the Multikey type's context once
    example = load_vector("did-key/spec-v0.9-examples/didkeyspec-example-02.json")
    by_default = resolver.resolve(SPEC_DID)
    explicit = resolver.resolve(SPEC_DID, publicKeyFormat="Multikey")
    assert by_default.did_document is not None and explicit.did_document is not None
    document = by_default.did_document.to_json()
    assert document == explicit.did_document.to_json()
    assert document["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
    ]
    # everything but the context is the spec's worked example
    assert {k: v for k, v in document.items() if k != "@context"} == {
        k: v for k, v in example.items() if k != "@context"
    }


def test_default_context_option_gives_the_worked_example_form(resolver: Resolver) -> None:
    example = load_vector("did-key/spec-v0.9-examples/didkeyspec-example-02.json")
    for form in ("https://www.w3.org/ns/did/v1.1", ["https://www.w3.org/ns/did/v1.1"]):
        result = resolver.resolve(SPEC_DID, defaultContext=form)
        assert result.did_document is not None, result.did_resolution_metadata
        assert result.did_document.to_json() == example


@pytest.mark.parametrize("bad", ["https://example.com/ctx", 7, [], ["a", "b"]])
def test_unknown_default_context_is_invalid_options(resolver: Resolver, bad: object) -> None:
    result = resolver.resolve(SPEC_DID, defaultContext=bad)
    assert result.did_document is None
    assert result.error == "invalidOptions"


def test_p256_multikey_document_context_and_key_agreement(resolver: Resolver) -> None:
    did = did_key_from_public_key(PrivateKey.generate(KeyType.P256).public_key)
    result = resolver.resolve(did)
    assert result.did_document is not None
    document = result.did_document.to_json()
    assert document["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
    ]
    assert document["keyAgreement"] == [document["verificationMethod"][0]["id"]]


@pytest.mark.parametrize("key_type", [KeyType.ED25519, KeyType.P256, KeyType.P384])
def test_wrong_key_length_is_invalid_public_key_length(
    resolver: Resolver, key_type: KeyType
) -> None:
    multikey = PrivateKey.generate(key_type).public_key.to_multikey()
    raw = base58btc_decode(multikey[1:])
    for cut in (raw[:-1], raw + b"\x00"):
        did = "did:key:z" + base58btc_encode(cut)
        result = resolver.resolve(did)
        assert result.error == "invalidPublicKeyLength", (did, result.did_resolution_metadata)


def test_the_w3c_suites_short_key_is_invalid_public_key_length(resolver: Resolver) -> None:
    # from w3c-ccg/did-key-test-suite tests/mock.data.js (invalidKeyLengthDid)
    assert resolver.resolve("did:key:zTjsVPtY").error == "invalidPublicKeyLength"


def test_unknown_public_key_format_is_unsupported(resolver: Resolver) -> None:
    result = resolver.resolve(SPEC_DID, publicKeyFormat="unknown")
    assert result.error == "unsupportedPublicKeyType"


@pytest.mark.parametrize(
    "experimental, code", [(False, "invalidPublicKeyType"), (True, "unsupportedPublicKeyType")]
)
def test_experimental_types_need_the_option(
    resolver: Resolver, experimental: bool, code: str
) -> None:
    result = resolver.resolve(
        SPEC_DID,
        publicKeyFormat="Ed25519VerificationKey2018",
        enableExperimentalPublicKeyTypes=experimental,
    )
    assert result.error == code


def test_a_type_that_cannot_hold_the_key_is_invalid(resolver: Resolver) -> None:
    did = did_key_from_public_key(PrivateKey.generate(KeyType.P256).public_key)
    result = resolver.resolve(did, publicKeyFormat="Ed25519VerificationKey2020")
    assert result.error == "invalidPublicKeyType"


def test_cached_results_are_kept_apart_by_format(resolver: Resolver) -> None:
    multikey = resolver.resolve(SPEC_DID)
    jwk = resolver.resolve(SPEC_DID, publicKeyFormat="JsonWebKey2020")
    assert multikey.did_document is not None and jwk.did_document is not None
    assert multikey.did_document.to_json()["verificationMethod"][0]["type"] == "Multikey"
    assert jwk.did_document.to_json()["verificationMethod"][0]["type"] == "JsonWebKey2020"
    # dereferencing passes the options on
    vm = resolver.dereference(f"{SPEC_DID}#{SPEC_DID[8:]}", publicKeyFormat="JsonWebKey2020")
    assert vm.to_json()["type"] == "JsonWebKey2020"
