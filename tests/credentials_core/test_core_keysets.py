"""Issue 11 item 4: Data Integrity proofs by keys outside DIDs, from the verifier's key sets.

VC Data Integrity 1.0, "Retrieve Verification Method": the ``verificationMethod`` is a URL
and the verifier must be able to say the key is authorised by the controller it expects.
For an issuer that is an ``https`` URL that statement is the verifier's own: a table
``{issuer URL: JWK Set}`` (RFC 7517 section 5, "a JSON object that represents a set of
JWKs"). A key of another issuer's set, an unknown URL, a key whose "use" (RFC 7517 4.2)
is not "sig", whose "key_ops" (4.3) lack "verify" or whose "alg" (4.4) is not the key's
algorithm are refused with stable codes; without a key set nothing changes.
"""

from __future__ import annotations

from typing import Any

import pytest
from core_support import NOW, credential, did_key, seeded_key

from credentials import verify, verify_credential
from credentials.data_integrity import add_proof, verify_proof
from credentials.errors import VerificationError
from credentials.keysets import THUMBPRINT_URN, IssuerKeys
from did_methods.keys import KeyType, PrivateKey
from did_methods.resolver import Resolver

ISSUER = "https://issuer.example"
OTHER = "https://other.example"
VM = "https://issuer.example/keys#key-1"
KEY = seeded_key(KeyType.P256, 41)
EDKEY = seeded_key(KeyType.ED25519, 42)
OTHER_KEY = seeded_key(KeyType.P384, 43)


def _jwk(key: PrivateKey, **members: Any) -> dict[str, Any]:
    return {**key.public_key.to_jwk(), **members}


def _keys(**first: Any) -> IssuerKeys:
    return IssuerKeys(
        {
            ISSUER: {"keys": [_jwk(KEY, kid=VM, **first), _jwk(EDKEY, kid="ed")]},
            OTHER: {"keys": [_jwk(OTHER_KEY, kid="https://other.example/k#1")]},
        }
    )


def _signed(key: PrivateKey, vm: str, issuer: str = ISSUER) -> dict[str, Any]:
    return add_proof(credential(issuer), key, verification_method=vm, created=NOW)


def _code(document: dict[str, Any], keys: Any) -> str:
    with pytest.raises(VerificationError) as caught:
        verify_proof(document, keys, expected_purpose="assertionMethod", now=NOW)
    return caught.value.code


def test_https_verification_method_in_the_issuers_set_verifies() -> None:
    document = _signed(KEY, VM)
    [proof] = verify_proof(document, _keys(), expected_purpose="assertionMethod", now=NOW)
    assert proof.controller == ISSUER
    assert proof.verification_method.id == VM
    result = verify_credential(
        document, formats="ldp_vc", credential_type="WorkPermit", resolver=_keys(), now=NOW
    )
    assert result.ok, result.explain()
    assert result.issuer == ISSUER


def test_fragment_of_the_issuer_and_thumbprint_uri() -> None:
    # a relative kid "ed" is the issuer's fragment; RFC 9278 names a key by its thumbprint
    for vm in (f"{ISSUER}#ed", THUMBPRINT_URN + EDKEY.public_key.jwk_thumbprint()):
        assert verify(_signed(EDKEY, vm), resolver=_keys(), now=NOW).ok, vm


def test_a_key_of_another_issuers_set_is_refused() -> None:
    document = _signed(OTHER_KEY, "https://other.example/k#1")
    assert _code(document, _keys()) == "key_not_issuer"
    result = verify(document, resolver=_keys(), now=NOW)
    assert result.codes == ("key_not_issuer",)


def test_unknown_url_is_refused() -> None:
    assert _code(_signed(KEY, "https://issuer.example/keys#key-2"), _keys()) == "key_unknown"


@pytest.mark.parametrize(
    ("members", "code"),
    [
        ({"use": "enc"}, "key_use_forbidden"),
        ({"key_ops": ["wrapKey"]}, "key_use_forbidden"),
        ({"alg": "ES512"}, "key_alg_mismatch"),
    ],
)
def test_use_key_ops_alg_that_forbid_signing(members: dict[str, Any], code: str) -> None:
    document = _signed(KEY, VM)
    assert _code(document, _keys(**members)) == code
    result = verify(document, resolver=_keys(**members), now=NOW)
    failed = [c for c in result.checks if c.status == "failed"]
    assert [(c.name, c.code) for c in failed] == [("key_authorisation", code)]


def test_a_forged_signature_by_the_right_url_fails() -> None:
    forged = _signed(seeded_key(KeyType.P256, 44), VM)
    assert _code(forged, _keys()) == "signature_invalid"


def test_without_a_key_set_nothing_changes() -> None:
    # the default resolver reads DIDs only: an https method stays unresolvable
    assert _code(_signed(KEY, VM), Resolver.default()) == "verification_method_unresolvable"


def test_did_issuers_go_through_the_wrapped_resolver() -> None:
    did, vm = did_key(KEY)
    document = _signed(KEY, vm, issuer=did)
    assert verify_proof(document, _keys(), expected_purpose="assertionMethod", now=NOW)
    # a DID issuer cannot borrow a key of a URL issuer's set
    assert _code(_signed(KEY, VM, issuer=did), _keys()) == "key_not_issuer"
