"""Data Integrity proofs: published vectors byte for byte, proof sets and chains, failure codes."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from core_support import (
    NOW,
    VECTORS,
    credential,
    did_key,
    load,
    resolver_with_memory,
    seeded_key,
    text,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.data_integrity import (
    STEP_OF_CODE,
    DataIntegrityProof,
    add_proof,
    hash_data,
    verify_proof,
)
from credentials.errors import UnsupportedError, ValidationError, VerificationError
from credentials.jcs import canonicalize
from credentials.rdfc import RdfCanonicalizationError, canonicalize_rdf
from did_methods.document import DIDDocument, VerificationMethod
from did_methods.encoding import multibase_encode
from did_methods.keys import KeyType, PrivateKey, PublicKey
from did_methods.resolver import Resolver

RESOLVER = Resolver.default()


def _code(call: Any) -> str:
    with pytest.raises(VerificationError) as info:
        call()
    return info.value.code


def _unchecked_code(document: Any) -> str:
    """The code verifying ``document`` fails with, its issuer binding not checked."""
    return _code(
        lambda: verify_proof(
            document, RESOLVER, expected_purpose="assertionMethod", check_controller=False
        )
    )


# -- eddsa-jcs-2022: the W3C vectors, byte for byte ---------------------------------------


def test_eddsa_jcs_2022_vector_chain_byte_for_byte() -> None:
    pair = load("vc-di-eddsa/keyPair.json")
    key = PrivateKey.from_secret_multikey(pair["privateKeyMultibase"])
    assert key.public_key.to_multikey() == pair["publicKeyMultibase"]
    unsigned = load("vc-di-eddsa/unsigned.json")
    config = load("vc-di-eddsa/eddsa-jcs-2022/proofConfigJCS.json")
    d = "vc-di-eddsa/eddsa-jcs-2022/"

    canon_doc = canonicalize(unsigned)
    canon_proof = canonicalize(config)
    assert canon_doc.decode() == text(d + "canonDocJCS.txt")
    assert canon_proof.decode() == text(d + "proofCanonJCS.txt")
    assert hashlib.sha256(canon_doc).hexdigest() == text(d + "docHashJCS.txt")
    assert hashlib.sha256(canon_proof).hexdigest() == text(d + "proofHashJCS.txt")
    combined = hash_data(unsigned, config, KeyType.ED25519)
    assert combined.hex() == text(d + "combinedHashJCS.txt")
    assert key.sign(combined).hex() == text(d + "sigHexJCS.txt")

    signed = add_proof(
        unsigned,
        key,
        verification_method=config["verificationMethod"],
        created=config["created"],
    )
    assert signed["proof"]["proofValue"] == text(d + "sigBTC58JCS.txt")
    expected_text = (VECTORS / d / "signedJCS.json").read_text(encoding="utf-8")
    assert json.dumps(signed, indent=2) == expected_text
    assert unsigned == load("vc-di-eddsa/unsigned.json")  # input untouched


def test_eddsa_vector_verifies_and_binds_to_the_vector_key() -> None:
    signed = load("vc-di-eddsa/eddsa-jcs-2022/signedJCS.json")
    [proof] = verify_proof(
        signed, RESOLVER, expected_purpose="assertionMethod", check_controller=False, now=NOW
    )
    assert proof.controller == "did:key:" + load("vc-di-eddsa/keyPair.json")["publicKeyMultibase"]
    assert proof.proof.cryptosuite == "eddsa-jcs-2022"
    # the vector's issuer is an https URL, not the did:key that signed: not the issuer's key
    code = _code(lambda: verify_proof(signed, RESOLVER, expected_purpose="assertionMethod"))
    assert code == "key_not_issuer"


# -- ecdsa-jcs-2019: reproduce every hash, verify the published signatures ----------------


@pytest.mark.parametrize(
    ("suite", "pair_file", "key_type", "hash_name"),
    [
        ("P256", "p256KeyPair.json", KeyType.P256, "sha256"),
        ("P384", "p384KeyPair.json", KeyType.P384, "sha384"),
    ],
)
def test_ecdsa_jcs_2019_vectors(
    suite: str, pair_file: str, key_type: KeyType, hash_name: str
) -> None:
    d = f"vc-di-ecdsa/ecdsa-jcs-2019-{suite.lower()}/"
    pair = load(f"vc-di-ecdsa/{pair_file}")
    key = PrivateKey.from_secret_multikey(pair["secretKeyMultibase"])
    assert key.key_type is key_type
    assert key.public_key.to_multikey() == pair["publicKeyMultibase"]
    unsigned = load("vc-di-ecdsa/unsigned.json")
    config = load(d + f"proofConfigJCSECDSA{suite}.json")
    canon_doc = canonicalize(unsigned)
    canon_proof = canonicalize(config)
    assert canon_doc.decode() == text(d + f"canonDocJCSECDSA{suite}.txt")
    assert canon_proof.decode() == text(d + f"proofCanonJCSECDSA{suite}.txt")
    assert hashlib.new(hash_name, canon_doc).hexdigest() == text(d + f"docHashJCSECDSA{suite}.txt")
    assert hashlib.new(hash_name, canon_proof).hexdigest() == text(
        d + f"proofHashJCSECDSA{suite}.txt"
    )
    combined = hash_data(unsigned, config, key_type)
    assert combined.hex() == text(d + f"combinedHashJCSECDSA{suite}.txt")
    # ECDSA is randomised: verify the published signature, do not reproduce it
    signature = bytes.fromhex(text(d + f"sigHexJCSECDSA{suite}.txt"))
    assert multibase_encode(signature) == text(d + f"sigBTC58JCSECDSA{suite}.txt")
    PublicKey.from_multikey(pair["publicKeyMultibase"]).verify(signature, combined)
    signed = load(d + f"signedJCSECDSA{suite}.json")
    [verified] = verify_proof(
        signed, RESOLVER, expected_purpose="assertionMethod", check_controller=False, now=NOW
    )
    assert verified.proof.proof_value == text(d + f"sigBTC58JCSECDSA{suite}.txt")
    # our own signature over the same configuration verifies too
    ours = add_proof(
        unsigned, key, verification_method=config["verificationMethod"], created=config["created"]
    )
    assert {k: v for k, v in ours["proof"].items() if k != "proofValue"} == {
        k: v for k, v in signed["proof"].items() if k != "proofValue"
    }
    verify_proof(ours, RESOLVER, expected_purpose="assertionMethod", check_controller=False)
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = "Another School"
    assert _unchecked_code(tampered) == "signature_invalid"


# -- proof sets and chains ------------------------------------------------------------------


def test_add_proof_builds_a_proof_set_each_proof_verifies() -> None:
    keys = [
        seeded_key(KeyType.ED25519, 1),
        seeded_key(KeyType.P256, 2),
        seeded_key(KeyType.P384, 3),
    ]
    resolver, memory = resolver_with_memory()
    issuer = "did:mem:ministry"
    doc: dict[str, Any] = credential(issuer)
    vms = tuple(
        VerificationMethod.from_public_key(k.public_key, controller=issuer, id=f"{issuer}#k{i}")
        for i, k in enumerate(keys)
    )
    memory.documents[issuer] = DIDDocument.build(
        issuer,
        verification_methods=vms,
        relationships={"assertionMethod": tuple(v.id for v in vms)},
    )
    for key, vm in zip(keys, vms, strict=True):
        doc = add_proof(doc, key, verification_method=vm.id, created=NOW)
    assert isinstance(doc["proof"], list) and len(doc["proof"]) == 3
    assert [p["cryptosuite"] for p in doc["proof"]] == [
        "eddsa-jcs-2022",
        "ecdsa-jcs-2019",
        "ecdsa-jcs-2019",
    ]
    resolver.clear_cache()
    verified = verify_proof(doc, resolver, expected_purpose="assertionMethod", now=NOW)
    assert [v.verification_method.id for v in verified] == [v.id for v in vms]
    # one bad proof in the set fails the whole document
    broken = copy.deepcopy(doc)
    broken["proof"][1]["proofValue"] = doc["proof"][2]["proofValue"]
    code = _code(
        lambda: verify_proof(broken, resolver, expected_purpose="assertionMethod", now=NOW)
    )
    assert code == "signature_invalid"


def test_proof_chain_with_previous_proof() -> None:
    first_key, second_key = seeded_key(KeyType.ED25519, 4), seeded_key(KeyType.ED25519, 5)
    did1, vm1 = did_key(first_key)
    _, vm2 = did_key(second_key)
    doc = add_proof(
        credential(did1), first_key, verification_method=vm1, created=NOW, proof_id="urn:p1"
    )
    first = doc["proof"]
    unsecured = {k: v for k, v in doc.items() if k != "proof"}
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2026-06-01T12:00:00Z",
        "verificationMethod": vm2,
        "proofPurpose": "assertionMethod",
        "previousProof": "urn:p1",
        "@context": unsecured["@context"],
    }
    # the chained proof signs the document together with the proof it follows
    message = hash_data({**unsecured, "proof": [first]}, options, KeyType.ED25519)
    second = {**options, "proofValue": multibase_encode(second_key.sign(message))}
    chained = {**unsecured, "proof": [first, second]}
    verified = verify_proof(
        chained, RESOLVER, expected_purpose="assertionMethod", check_controller=False, now=NOW
    )
    assert [v.proof.previous_proof for v in verified] == [(), ("urn:p1",)]
    dangling = {**unsecured, "proof": [first, {**second, "previousProof": "urn:nope"}]}
    code = _code(
        lambda: verify_proof(
            dangling, RESOLVER, expected_purpose="assertionMethod", check_controller=False
        )
    )
    assert code == "previous_proof_missing"
    # the same signature presented as a plain set member does not verify
    unchained = {
        **unsecured,
        "proof": [first, {k: v for k, v in second.items() if k != "previousProof"}],
    }
    code = _code(
        lambda: verify_proof(
            unchained, RESOLVER, expected_purpose="assertionMethod", check_controller=False
        )
    )
    assert code == "signature_invalid"


# -- the RDFC suites: eddsa-rdfc-2022 and ecdsa-rdfc-2019, byte for byte -----------------

_RDFC = [
    ("vc-di-eddsa", "eddsa-rdfc-2022", "DataInt", "keyPair.json", "privateKeyMultibase", "sha256"),
    (
        "vc-di-ecdsa",
        "ecdsa-rdfc-2019-p256",
        "ECDSAP256",
        "p256KeyPair.json",
        "secretKeyMultibase",
        "sha256",
    ),
    (
        "vc-di-ecdsa",
        "ecdsa-rdfc-2019-p384",
        "ECDSAP384",
        "p384KeyPair.json",
        "secretKeyMultibase",
        "sha384",
    ),
]


@pytest.mark.parametrize(("spec", "folder", "tag", "pair_file", "secret", "hash_name"), _RDFC)
def test_rdfc_vectors_byte_for_byte(
    spec: str, folder: str, tag: str, pair_file: str, secret: str, hash_name: str
) -> None:
    d = f"{spec}/{folder}/"
    pair = load(f"{spec}/{pair_file}")
    key = PrivateKey.from_secret_multikey(pair[secret])
    unsigned = load(f"{spec}/unsigned.json")
    config = load(d + f"proofConfig{tag}.json")
    canon_doc = canonicalize_rdf(unsigned)
    canon_proof = canonicalize_rdf(config)
    # N-Quads end every line in "\n": the files hold the exact bytes
    assert canon_doc == (VECTORS / d / f"canonDoc{tag}.txt").read_bytes()
    assert canon_proof == (VECTORS / d / f"proofCanon{tag}.txt").read_bytes()
    assert hashlib.new(hash_name, canon_doc).hexdigest() == text(d + f"docHash{tag}.txt")
    assert hashlib.new(hash_name, canon_proof).hexdigest() == text(d + f"proofHash{tag}.txt")
    combined = hash_data(unsigned, config, key.key_type, cryptosuite=config["cryptosuite"])
    assert combined.hex() == text(d + f"combinedHash{tag}.txt")
    signature = bytes.fromhex(text(d + f"sigHex{tag}.txt"))
    assert multibase_encode(signature) == text(d + f"sigBTC58{tag}.txt")
    key.public_key.verify(signature, combined)
    # the published signed credential verifies; ours over the same options too
    signed = load(d + f"signed{tag}.json")
    [verified] = verify_proof(
        signed, RESOLVER, expected_purpose="assertionMethod", check_controller=False, now=NOW
    )
    assert verified.proof.cryptosuite == config["cryptosuite"]
    ours = add_proof(
        unsigned,
        key,
        verification_method=config["verificationMethod"],
        created=config["created"],
        cryptosuite=config["cryptosuite"],
    )
    # the rdfc proof does not carry the @context its configuration signed
    assert {k: v for k, v in ours["proof"].items() if k != "proofValue"} == {
        k: v for k, v in signed["proof"].items() if k != "proofValue"
    }
    if key.key_type is KeyType.ED25519:  # deterministic: the very same proofValue
        assert ours == signed
    verify_proof(ours, RESOLVER, expected_purpose="assertionMethod", check_controller=False)
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = "Another School"
    assert _unchecked_code(tampered) == "signature_invalid"


@pytest.mark.parametrize(
    "name",
    [
        "signedProofSet1.json",
        "signedProofSet2.json",
        "signedProofChain1.json",
        "signedProofChain2.json",
    ],
)
def test_published_rdfc_proof_sets_and_chains_verify(name: str) -> None:
    signed = load(f"vc-di-eddsa/proof-set-chain/{name}")
    proofs = signed["proof"] if isinstance(signed["proof"], list) else [signed["proof"]]
    verified = verify_proof(
        signed, RESOLVER, expected_purpose="assertionMethod", check_controller=False, now=NOW
    )
    assert [v.proof.proof_value for v in verified] == [p["proofValue"] for p in proofs]
    # one proof of the set changed: the whole document fails
    broken = copy.deepcopy(signed)
    last = broken["proof"][-1] if isinstance(broken["proof"], list) else broken["proof"]
    last["created"] = "2024-01-01T00:00:00Z"
    assert _unchecked_code(broken) == "signature_invalid"


def test_rdfc_refuses_what_would_go_unsigned() -> None:
    key = seeded_key(KeyType.ED25519, 21)
    did, vm = did_key(key)
    v1 = {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "https://w3id.org/security/data-integrity/v2",
        ],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "issuanceDate": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:amina"},
    }
    signed = add_proof(v1, key, verification_method=vm, cryptosuite="eddsa-rdfc-2022", created=NOW)
    verify_proof(signed, RESOLVER, expected_purpose="assertionMethod", now=NOW)
    # a property no context defines would be dropped by expansion: refused, not ignored
    smuggled = {**signed, "credentialSubject": {"id": "did:example:amina", "permit": "work"}}
    assert (
        _code(lambda: verify_proof(smuggled, RESOLVER, expected_purpose="assertionMethod", now=NOW))
        == "term_undefined"
    )
    with pytest.raises(RdfCanonicalizationError) as info:
        add_proof(
            {**v1, "undefinedTerm": 1}, key, verification_method=vm, cryptosuite="eddsa-rdfc-2022"
        )
    assert info.value.code == "term_undefined"
    # a context that is not bundled is never fetched
    remote = {**signed, "@context": [*v1["@context"], "https://attacker.example/ctx"]}
    assert _code(
        lambda: verify_proof(remote, RESOLVER, expected_purpose="assertionMethod", now=NOW)
    ) in {"context_unknown", "signature_invalid"}


# -- every failure code ----------------------------------------------------------------


@pytest.fixture(scope="module")
def signed_vc() -> tuple[dict[str, Any], PrivateKey, str]:
    key = seeded_key(KeyType.ED25519, 7)
    did, vm = did_key(key)
    return add_proof(credential(did), key, verification_method=vm, created=NOW), key, vm


def _verify(doc: Any, **kw: Any) -> Any:
    kw.setdefault("expected_purpose", "assertionMethod")
    kw.setdefault("now", NOW)
    return verify_proof(doc, kw.pop("resolver", RESOLVER), **kw)


def test_codes_for_proof_syntax(signed_vc: tuple[dict[str, Any], PrivateKey, str]) -> None:
    doc = signed_vc[0]
    no_proof = {k: v for k, v in doc.items() if k != "proof"}
    assert _code(lambda: _verify(no_proof)) == "proof_missing"
    assert _code(lambda: _verify({**doc, "proof": []})) == "proof_missing"
    assert _code(lambda: _verify({**doc, "proof": "x"})) == "proof_malformed"
    for field in ("type", "cryptosuite", "verificationMethod", "proofPurpose", "proofValue"):
        broken = {**doc, "proof": {k: v for k, v in doc["proof"].items() if k != field}}
        assert _code(lambda broken=broken: _verify(broken)) == "proof_malformed"
    bad_time = {**doc, "proof": {**doc["proof"], "created": "2026-06-01T12:00:00"}}
    assert _code(lambda: _verify(bad_time)) == "proof_malformed"
    unknown = {**doc, "proof": {**doc["proof"], "cryptosuite": "bbs-2023"}}
    assert _code(lambda: _verify(unknown)) == "cryptosuite_unsupported"
    # a JCS proof relabelled as RDFC signs other bytes
    rdfc = {**doc, "proof": {**doc["proof"], "cryptosuite": "eddsa-rdfc-2022"}}
    assert _code(lambda: _verify(rdfc)) == "signature_invalid"
    legacy = {**doc, "proof": {**doc["proof"], "type": "Ed25519Signature2020"}}
    assert _code(lambda: _verify(legacy)) == "cryptosuite_unsupported"
    with pytest.raises(ValidationError) as info:
        DataIntegrityProof.from_json({"type": 1, "domain": [1], "expires": "soon"})
    paths = {p for p, _ in info.value.errors}
    assert {"/proof/type", "/proof/domain", "/proof/expires", "/proof/proofValue"} <= paths


def test_codes_for_purpose_options_and_time(
    signed_vc: tuple[dict[str, Any], PrivateKey, str],
) -> None:
    doc, key, vm = signed_vc
    assert (
        _code(lambda: _verify(doc, expected_purpose="authentication")) == "proof_purpose_mismatch"
    )
    assert _code(lambda: _verify(doc, challenge="c-123")) == "challenge_mismatch"
    assert _code(lambda: _verify(doc, domain="verifier.example")) == "domain_mismatch"
    bound = add_proof(
        {k: v for k, v in doc.items() if k != "proof"},
        key,
        verification_method=vm,
        created=NOW,
        expires=NOW + timedelta(hours=1),
        challenge="c-123",
        domain=["verifier.example", "other.example"],
    )
    _verify(bound, challenge="c-123", domain="other.example")
    assert _code(lambda: _verify(bound, challenge="c-124")) == "challenge_mismatch"
    assert _code(lambda: _verify(bound, now=NOW + timedelta(hours=2))) == "proof_expired"
    assert _code(lambda: _verify(bound, now=NOW - timedelta(hours=1))) == "proof_not_yet_valid"
    _verify(bound, now=NOW - timedelta(seconds=30))  # within the default leeway
    assert (
        _code(lambda: _verify(bound, now=NOW - timedelta(seconds=30), leeway=timedelta(0)))
        == "proof_not_yet_valid"
    )


def test_key_not_authorised_for_assertion() -> None:
    resolver, memory = resolver_with_memory()
    key = seeded_key(KeyType.ED25519, 8)
    issuer = "did:mem:auth-only"
    vm = memory.add(issuer, key, purposes=("authentication",))
    signed = add_proof(credential(issuer), key, verification_method=vm, created=NOW)
    assert _code(lambda: _verify(signed, resolver=resolver)) == "key_not_authorised"
    # the same key under assertionMethod is accepted
    memory.add(issuer, key, purposes=("assertionMethod",))
    resolver.clear_cache()
    _verify(signed, resolver=resolver)


def test_key_binding_and_resolution_codes(
    signed_vc: tuple[dict[str, Any], PrivateKey, str],
) -> None:
    doc, key, vm = signed_vc
    other = seeded_key(KeyType.ED25519, 9)
    other_did, other_vm = did_key(other)
    foreign = add_proof(credential(other_did), key, verification_method=vm, created=NOW)
    assert _code(lambda: _verify(foreign)) == "key_not_issuer"
    _verify(foreign, expected_controller=did_key(key)[0])
    unresolvable = {**doc, "proof": {**doc["proof"], "verificationMethod": "did:nope:x#k"}}
    assert _code(lambda: _verify(unresolvable)) == "verification_method_unresolvable"
    missing_fragment = {**doc, "proof": {**doc["proof"], "verificationMethod": vm.split("#")[0]}}
    assert _code(lambda: _verify(missing_fragment)) == "verification_method_unresolvable"
    p256 = seeded_key(KeyType.P256, 10)
    p_did, p_vm = did_key(p256)
    wrong_suite = add_proof(credential(p_did), p256, verification_method=p_vm, created=NOW)
    wrong_suite["proof"]["cryptosuite"] = "eddsa-jcs-2022"
    assert _code(lambda: _verify(wrong_suite)) == "key_type_mismatch"
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": other_did,
    }
    vp = add_proof(presentation, key, verification_method=vm, proof_purpose="authentication")
    assert (
        _code(lambda: _verify(vp, expected_purpose="authentication", now=None)) == "key_not_holder"
    )
    assert other_vm  # the holder's own key would have been the right one


def test_context_must_start_with_the_proofs(
    signed_vc: tuple[dict[str, Any], PrivateKey, str],
) -> None:
    doc = signed_vc[0]
    extended = {**doc, "@context": [*doc["@context"], "https://example.org/extra/v1"]}
    _verify(extended)  # spec: the document's @context may extend the proof's
    swapped = {**doc, "@context": list(reversed(doc["@context"]))}
    assert _code(lambda: _verify(swapped)) == "signature_invalid"


def test_add_proof_refuses_mismatched_suites_and_keeps_input() -> None:
    key = seeded_key(KeyType.P256, 11)
    with pytest.raises(UnsupportedError):
        add_proof(
            credential("did:example:i"),
            key,
            verification_method="did:example:i#k",
            cryptosuite="eddsa-jcs-2022",
        )
    with pytest.raises(UnsupportedError):
        add_proof({}, PrivateKey.generate(KeyType.X25519), verification_method="did:example:i#k")
    doc = credential("did:example:i")
    before = copy.deepcopy(doc)
    out = add_proof(doc, key, verification_method="did:example:i#k")
    assert doc == before and out is not doc
    created = out["proof"]["created"]
    assert created.endswith("Z") and len(created) == 20  # whole seconds, UTC


def test_every_code_has_a_step() -> None:
    assert set(STEP_OF_CODE.values()) == {
        "signature",
        "proof_purpose",
        "proof_options",
        "key_authorisation",
    }


# -- fuzzing --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compact_signed(signed_vc: tuple[dict[str, Any], PrivateKey, str]) -> bytes:
    return json.dumps(signed_vc[0], separators=(",", ":"), ensure_ascii=False).encode()


@settings(max_examples=200, deadline=None)
@given(position=st.integers(min_value=0), replacement=st.integers(min_value=0, max_value=255))
def test_flipping_any_byte_never_verifies(
    compact_signed: bytes, position: int, replacement: int
) -> None:
    from credentials.errors import ParseError
    from credentials.verify import verify

    index = position % len(compact_signed)
    if compact_signed[index] == replacement:
        replacement ^= 0x01
    mutated = bytearray(compact_signed)
    mutated[index] = replacement
    try:
        result = verify(bytes(mutated), resolver=RESOLVER, now=NOW)
    except ParseError:
        return  # no longer JSON (or no longer a credential at all)
    assert not result.ok
    assert result.codes  # and it says why, with a documented code
    assert set(result.codes) <= set(STEP_OF_CODE) | {
        "invalid_credential",
        "invalid_presentation",
        "expired",
        "not_yet_valid",
        "schema_unknown",
        "schema_violation",
    }


@settings(max_examples=200)
@given(st.binary(max_size=96) | st.binary(max_size=8).map(lambda b: b"\0\0" + b))
def test_proof_value_codec_matches_multibase(data: bytes) -> None:
    from credentials.data_integrity import _proof_value, _signature_bytes
    from did_methods.encoding import multibase_decode

    encoded = _proof_value(data)
    assert encoded == multibase_encode(data)
    if encoded != "z":  # an empty proofValue body is not a signature
        assert _signature_bytes(encoded) == data == multibase_decode(encoded)


@pytest.mark.parametrize("bad", ["", "z", "z0OIl", "Qabc", "z" + "1" * 600, "zé"])
def test_proof_value_decoding_refuses(bad: str) -> None:
    from credentials.data_integrity import _signature_bytes

    with pytest.raises(VerificationError) as info:
        _signature_bytes(bad)
    assert info.value.code == "signature_invalid"


@pytest.mark.parametrize(
    "options",
    [
        {"verification_method": ""},
        {"proof_purpose": 3},
        {"challenge": ""},
        {"nonce": 5},
        {"domain": []},
        {"domain": ["ok", 1]},
        {"created": "yesterday"},
        {"expires": __import__("datetime").datetime(2026, 1, 1)},
    ],
)
def test_add_proof_refuses_malformed_options(options: dict[str, Any]) -> None:
    from credentials.errors import ParseError

    key = seeded_key(KeyType.ED25519, 12)
    kwargs: dict[str, Any] = {"verification_method": "did:example:i#k", **options}
    with pytest.raises(ParseError):
        add_proof(credential("did:example:i"), key, **kwargs)


# -- the proof configuration's digest is remembered (bulk issuance) ------------


def _uncached(config: Any, key_type: KeyType) -> bytes:
    hasher = hashlib.sha384 if key_type is KeyType.P384 else hashlib.sha256
    return hasher(canonicalize(config)).digest()


_config_text = st.text(max_size=12)
_configs = st.dictionaries(
    _config_text,
    _config_text | st.lists(_config_text, max_size=4),
    max_size=6,
)


@settings(max_examples=200)
@given(_configs, st.sampled_from([KeyType.ED25519, KeyType.P256, KeyType.P384]))
def test_remembered_config_digest_is_the_uncached_one(config: Any, key_type: KeyType) -> None:
    from credentials.data_integrity import _jcs_config_digest

    document = {"a": 1}
    expected = _uncached(config, key_type) + _uncached(document, key_type)
    for _ in range(2):  # a miss, then a hit
        assert hash_data(document, config, key_type, cryptosuite="ecdsa-jcs-2019") == expected
    assert _jcs_config_digest.cache_info().hits > 0


def test_config_digest_follows_every_change_of_the_configuration() -> None:
    base = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2026-06-01T12:00:00Z",
        "verificationMethod": "did:example:issuer#key-1",
        "proofPurpose": "assertionMethod",
        "@context": ["https://www.w3.org/ns/credentials/v2"],
    }
    seen = set()
    for changed in (
        {},
        {"created": "2026-06-01T12:00:01Z"},
        {"verificationMethod": "did:example:issuer#key-2"},
        {"@context": ["https://www.w3.org/ns/credentials/v2", "https://example.org/x"]},
        {"@context": "https://www.w3.org/ns/credentials/v2"},
    ):
        config = {**base, **changed}
        for _ in range(2):
            digest = hash_data({}, config, KeyType.ED25519)[:32]
            assert digest == _uncached(config, KeyType.ED25519)
        seen.add(digest)
    assert len(seen) == 5
    # a value of another type than str is never looked up: the full path decides
    assert hash_data({}, {**base, "created": 5}, KeyType.ED25519)[:32] == _uncached(
        {**base, "created": 5}, KeyType.ED25519
    )


def test_config_digest_cache_passes_over_subclasses_and_refuses_as_before() -> None:
    from enum import StrEnum

    from credentials.data_integrity import _plain_config
    from did_methods.errors import CanonicalizationError

    class Purpose(StrEnum):
        ASSERT = "assertionMethod"

    class Loud(str):
        def __str__(self) -> str:
            return "LOUD"

    assert _plain_config({"proofPurpose": Purpose.ASSERT}) is None
    assert _plain_config({"a": [Loud("x")]}) is None
    assert _plain_config({"a": ("x",)}) is None
    assert _plain_config({1: "x"}) is None
    for config in ({"proofPurpose": Purpose.ASSERT}, {"a": [Loud("x")]}):
        assert hash_data({}, config, KeyType.ED25519)[:32] == _uncached(config, KeyType.ED25519)
    for _ in range(2):  # an error is raised every time, never remembered as a digest
        with pytest.raises(CanonicalizationError):
            hash_data({}, {"created": "\ud800"}, KeyType.ED25519)
