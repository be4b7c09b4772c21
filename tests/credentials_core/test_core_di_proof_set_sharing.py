"""A proof set's proofs share one canonical form of the document, never a wrong one."""

from __future__ import annotations

import copy
from typing import Any

from core_support import NOW, credential, did_key, seeded_key

from credentials.data_integrity import add_proof, verify_proof
from credentials.errors import VerificationError
from did_methods.keys import KeyType
from did_methods.resolver import Resolver

RESOLVER = Resolver.default()


def _verify(doc: dict[str, Any]) -> list[Any]:
    return verify_proof(
        doc, RESOLVER, expected_purpose="assertionMethod", check_controller=False, now=NOW
    )


def _code(doc: dict[str, Any]) -> str:
    try:
        _verify(doc)
    except VerificationError as exc:
        return exc.code
    raise AssertionError("verification unexpectedly passed")


def _two_proofs_over_different_contexts() -> dict[str, Any]:
    # proof 1 signs the document with its original @context; the document then
    # grows a context and proof 2 signs that: proof 1 is checked with its own
    # (shorter) @context substituted, proof 2 over the document as it stands
    first_key, second_key = seeded_key(KeyType.ED25519, 41), seeded_key(KeyType.P256, 42)
    did1, vm1 = did_key(first_key)
    _, vm2 = did_key(second_key)
    doc = add_proof(credential(did1), first_key, verification_method=vm1, created=NOW)
    doc["@context"] = [*doc["@context"], "https://example.org/extra/v1"]
    return add_proof(doc, second_key, verification_method=vm2, created=NOW)


def test_set_with_a_substituted_context_verifies_in_either_order() -> None:
    doc = _two_proofs_over_different_contexts()
    assert len(_verify(doc)) == 2
    reordered = {**doc, "proof": list(reversed(doc["proof"]))}
    assert len(_verify(reordered)) == 2


def test_each_proof_of_a_shared_document_is_still_checked() -> None:
    keys = [seeded_key(KeyType.ED25519, 43), seeded_key(KeyType.ED25519, 44)]
    did, vm = did_key(keys[0])
    doc = credential(did)
    for key in keys:
        doc = add_proof(doc, key, verification_method=did_key(key)[1], created=NOW)
    assert vm == doc["proof"][0]["verificationMethod"]
    assert len(_verify(doc)) == 2
    # the second proof's signature is wrong: sharing the first proof's canonical
    # document must not let it through
    broken = copy.deepcopy(doc)
    broken["proof"][1]["proofValue"] = doc["proof"][0]["proofValue"]
    assert _code(broken) == "signature_invalid"
    # a changed document fails whichever proof comes first
    tampered = copy.deepcopy(doc)
    tampered["credentialSubject"]["tampered"] = True
    assert _code(tampered) == "signature_invalid"
