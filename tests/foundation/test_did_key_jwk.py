"""did:key and did:jwk against their published vectors."""

from __future__ import annotations

import json

import pytest
from vector_files import VECTORS, load_vector

from did_methods import (
    KeyType,
    PrivateKey,
    PublicKey,
    Resolver,
    did_jwk_from_jwk,
    did_key_document,
    did_key_from_public_key,
    public_key_from_did_key,
)
from did_methods.encoding import base58btc_decode
from did_methods.methods.jwk import JwkMethod
from did_methods.methods.key import KeyMethod


@pytest.fixture
def resolver() -> Resolver:
    return Resolver([KeyMethod(), JwkMethod()])


def test_spec_example_document_exactly(resolver: Resolver) -> None:
    # the worked example uses the DID v1.1 context alone: the defaultContext option gives it
    expected = load_vector("did-key/spec-v0.9-examples/didkeyspec-example-02.json")
    result = resolver.resolve(expected["id"], defaultContext="https://www.w3.org/ns/did/v1.1")
    assert result.error is None
    assert result.did_document is not None
    assert result.did_document.to_json() == expected
    assert result.did_resolution_metadata["contentType"] == "application/did+json"


def test_spec_example_did_strings_parse() -> None:
    for name, kt in [
        ("didkeyspec-example-01.txt", KeyType.ED25519),
        ("didkeyspec-example-09.txt", KeyType.P256),
    ]:
        text = (VECTORS / "did-key/spec-v0.9-examples" / name).read_text().strip()
        dids = [w for w in text.split() if w.startswith("did:key:")]
        assert dids
        for did in dids:
            assert public_key_from_did_key(did).key_type is kt


def test_ed25519_vectors_seed_to_did_and_key_agreement(resolver: Resolver) -> None:
    vectors = load_vector("did-key/ed25519-x25519.json")
    checked = 0
    for did, case in vectors.items():
        if "seed" not in case:
            continue
        key = PrivateKey(KeyType.ED25519, bytes.fromhex(case["seed"]))
        assert did_key_from_public_key(key.public_key) == did
        expected_vm = case["verificationKeyPair"]
        if "publicKeyBase58" in expected_vm:
            assert key.public_key.raw == base58btc_decode(expected_vm["publicKeyBase58"])
        ka_id = case["keyAgreementKeyPair"]["id"]
        doc = resolver.resolve_document(did)
        (agreement,) = doc.verification_methods_for("keyAgreement")
        assert agreement.id.split("#")[1] == ka_id.split("#")[1]
        # the legacy document lists the same keys
        legacy = case["didDocument"]
        assert legacy["id"] == did
        checked += 1
    assert checked == 5


def test_nist_curve_vectors_key_material_to_did() -> None:
    vectors = load_vector("did-key/nist-curves.json")
    checked = 0
    for did, case in vectors.items():
        vm = case["verificationMethod"]
        if "publicKeyJwk" in vm and vm["publicKeyJwk"]["crv"] in ("P-256", "P-384", "P-521"):
            pub = PublicKey.from_jwk(vm["publicKeyJwk"])
            assert did_key_from_public_key(pub) == did
            assert public_key_from_did_key(did) == pub
            priv = PrivateKey.from_jwk(vm["privateKeyJwk"])
            assert priv.public_key == pub
            checked += 1
        elif "publicKeyBase58" in vm:
            pub = PublicKey.from_raw(KeyType.P256, base58btc_decode(vm["publicKeyBase58"]))
            assert did_key_from_public_key(pub) == did
            checked += 1
    assert checked == 7  # three P-256 (one base58), two P-384 and two P-521


def test_x25519_only_dids_resolve_to_key_agreement(resolver: Resolver) -> None:
    vectors = load_vector("did-key/x25519.json")["didDocument"]
    for did, legacy in vectors.items():
        doc = resolver.resolve_document(did)
        assert doc.verification_methods_for("keyAgreement")[0].public_key.key_type is KeyType.X25519
        assert not doc.verification_methods_for("assertionMethod")
        assert legacy["id"] == did


def test_unsupported_key_types_are_invalid_did(resolver: Resolver) -> None:
    for did in load_vector("did-key/secp256k1.json"):
        result = resolver.resolve(did)
        assert result.error == "invalidDid"
        assert "0xe7" in result.did_resolution_metadata["errorMessage"]


@pytest.mark.parametrize("kt", [KeyType.ED25519, KeyType.P256, KeyType.P384, KeyType.P521])
def test_generated_did_key_documents(kt: KeyType) -> None:
    key = PrivateKey.generate(kt)
    doc = did_key_document(key.public_key)
    for purpose in (
        "authentication",
        "assertionMethod",
        "capabilityInvocation",
        "capabilityDelegation",
    ):
        (vm,) = doc.verification_methods_for(purpose)
        assert vm.public_key == key.public_key


def test_did_jwk_spec_examples(resolver: Resolver) -> None:
    examples = load_vector("did-jwk/examples.json")
    for case in examples["cases"]:
        expected = load_vector("did-jwk/" + case["did_document_file"])
        if "authentication" in expected:  # the spec's stray '$' typo
            expected["authentication"] = [
                a.replace("did:jwk:$", "did:jwk:") for a in expected["authentication"]
            ]
        doc = resolver.resolve_document(case["did"])
        assert doc.to_json() == expected
        assert doc.find(case["did_url"]) is not None
        assert doc.find(case["did_url"]).properties["publicKeyJwk"] == case["decoded_jwk"]  # type: ignore[union-attr]


def test_did_jwk_round_trip_and_refusals(resolver: Resolver) -> None:
    key = PrivateKey.generate(KeyType.P256)
    did = did_jwk_from_jwk(key.public_key)
    assert resolver.resolve_document(did).find(did + "#0").public_key == key.public_key  # type: ignore[union-attr]
    with pytest.raises(Exception) as err:
        did_jwk_from_jwk(key.private_jwk())
    assert "private" in str(err.value)
    import base64

    private_did = "did:jwk:" + base64.urlsafe_b64encode(
        json.dumps(key.private_jwk()).encode()
    ).decode().rstrip("=")
    assert resolver.resolve(private_did).error == "invalidDid"
    assert resolver.resolve("did:jwk:bm90LWpzb24").error == "invalidDid"
    assert resolver.resolve("did:jwk:WzFd").error == "invalidDid"  # "[1]"
