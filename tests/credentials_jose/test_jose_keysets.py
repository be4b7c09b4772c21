"""Issue 11 item 4: ``vc+jwt`` from issuers that are URLs, verified with the verifier's key sets.

RFC 7517 section 5: "A JWK Set is a JSON object that represents a set of JWKs. The JSON
object MUST have a "keys" member, with its value being an array of JWKs." Section 4.5:
"The "kid" (key ID) parameter is used to match a specific key ... to choose among a set of
keys within a JWK Set". Section 4.2: "use" values "sig" (signature) and "enc"
(encryption); 4.3: "key_ops" values include "verify"; 4.4: "alg" identifies "the
algorithm intended for use with the key". RFC 7638 section 3: the thumbprint is the
SHA-256 of the required members, lexicographically ordered, with no whitespace.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws

from credentials import verify, verify_credential
from credentials.jose import issue_vc_jwt, issue_vp_jwt, verify_vc_jwt, verify_vp_jwt
from credentials.keysets import THUMBPRINT_URN, IssuerKeys, JWKSet, KeySetError
from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.key import did_key_from_public_key
from did_methods.resolver import Resolver

V2 = "https://www.w3.org/ns/credentials/v2"
ISSUER = "https://issuer.example"
OTHER = "https://other.example"
NOW_S = 1_780_000_000  # the signing instant, as a NumericDate
NOW = datetime.fromtimestamp(NOW_S, UTC)


def _credential(issuer: str = ISSUER) -> dict[str, Any]:
    return {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "credentialSubject": {"id": "did:example:amina", "sector": "Q86"},
    }


def _public(key: PrivateKey, **members: Any) -> dict[str, Any]:
    return {**key.public_key.to_jwk(), **members}


KEY = PrivateKey.generate(KeyType.P256)
OTHER_KEY = PrivateKey.generate(KeyType.ED25519)


def _keys(**extra: Any) -> IssuerKeys:
    return IssuerKeys(
        {
            ISSUER: {"keys": [_public(KEY, kid="key-1", use="sig", alg="ES256")]},
            OTHER: {"keys": [_public(OTHER_KEY, kid="o-1")]},
            **extra,
        }
    )


def _codes(token: str, keys: Any) -> tuple[str, ...]:
    return verify_vc_jwt(token, keys, now=NOW).codes


def test_https_issuer_and_kid_of_its_set_verifies() -> None:
    token = issue_vc_jwt(_credential(), KEY, kid="key-1", now=NOW)
    result = verify_vc_jwt(token, _keys(), now=NOW)
    assert result.ok, result.explain()
    assert result.issuer == ISSUER
    auth = next(c for c in result.checks if c.name == "key_authorisation")
    assert auth.details["kid"] == f"{ISSUER}#key-1"
    # and through the pinned call that decides trust
    pinned = verify_credential(
        issue_vc_jwt(_credential(), KEY, kid="key-1"),
        formats="jwt_vc_json",
        credential_type="VerifiableCredential",
        resolver=_keys(),
    )
    assert pinned.ok, pinned.explain()
    assert pinned.issuer == ISSUER


def test_thumbprint_kid_and_its_uri_find_the_key() -> None:
    # RFC 7638 3.1's example computes the thumbprint of an RSA key; ours: the EC members
    thumb = KEY.public_key.jwk_thumbprint()
    for kid in (thumb, THUMBPRINT_URN + thumb, "#key-1", f"{ISSUER}#key-1"):
        token = issue_vc_jwt(_credential(), KEY, kid=kid, now=NOW)
        assert verify_vc_jwt(token, _keys(), now=NOW).ok, kid


def test_absolute_kid_url_in_the_set() -> None:
    kid = "https://issuer.example/keys#key-9"
    keys = IssuerKeys({ISSUER: {"keys": [_public(KEY, kid=kid)]}})
    token = issue_vc_jwt(_credential(), KEY, kid=kid, now=NOW)
    result = verify_vc_jwt(token, keys, now=NOW)
    assert result.ok, result.explain()


def test_key_of_another_issuers_set_is_refused() -> None:
    token = issue_vc_jwt(_credential(), OTHER_KEY, kid="o-1", now=NOW)
    assert _codes(token, _keys()) == ("key_not_issuer",)
    # the thumbprint of the other issuer's key, too
    token = issue_vc_jwt(_credential(), OTHER_KEY, kid=OTHER_KEY.public_key.jwk_thumbprint())
    assert verify_vc_jwt(token, _keys()).codes == ("key_not_issuer",)


def test_unknown_kid_and_unknown_issuer_are_refused() -> None:
    token = issue_vc_jwt(_credential(), KEY, kid="key-2", now=NOW)
    assert _codes(token, _keys()) == ("key_unknown",)
    stranger = issue_vc_jwt(_credential("https://stranger.example"), KEY, kid="key-1", now=NOW)
    assert _codes(stranger, _keys()) == ("key_not_issuer",)
    stranger = issue_vc_jwt(_credential("https://stranger.example"), KEY, kid="nope", now=NOW)
    assert _codes(stranger, _keys()) == ("key_unknown",)


def test_a_key_signed_with_the_right_kid_but_another_key_fails_the_signature() -> None:
    impostor = PrivateKey.generate(KeyType.P256)
    token = issue_vc_jwt(_credential(), impostor, kid="key-1", now=NOW)
    assert _codes(token, _keys()) == ("signature_invalid",)


@pytest.mark.parametrize(
    ("members", "code"),
    [
        ({"use": "enc"}, "key_use_forbidden"),  # RFC 7517 4.2
        ({"key_ops": ["encrypt"]}, "key_use_forbidden"),  # RFC 7517 4.3
        ({"key_ops": ["sign"]}, "key_use_forbidden"),  # a verifier needs "verify"
        ({"alg": "ES384"}, "key_alg_mismatch"),  # RFC 7517 4.4
        ({"alg": "RS256"}, "key_alg_mismatch"),
    ],
)
def test_use_key_ops_and_alg_that_forbid_signing(members: dict[str, Any], code: str) -> None:
    keys = IssuerKeys({ISSUER: {"keys": [_public(KEY, kid="key-1", **members)]}})
    token = issue_vc_jwt(_credential(), KEY, kid="key-1", now=NOW)
    result = verify_vc_jwt(token, keys, now=NOW)
    assert result.codes == (code,)
    assert next(c for c in result.checks if c.status == "failed").name == "key_authorisation"


def test_key_ops_verify_allows() -> None:
    keys = IssuerKeys({ISSUER: {"keys": [_public(KEY, kid="key-1", key_ops=["verify"])]}})
    token = issue_vc_jwt(_credential(), KEY, kid="key-1", now=NOW)
    assert verify_vc_jwt(token, keys, now=NOW).ok


def test_ignored_key_types_are_unsupported_not_unknown() -> None:
    # RFC 7517 5: "Implementations SHOULD ignore JWKs within a JWK Set that use "kty"
    # (key type) values that are not understood by them"
    rsa = {
        "kty": "RSA",
        "kid": "rsa-1",
        "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri",
        "e": "AQAB",
    }
    keys = IssuerKeys({ISSUER: {"keys": [rsa, _public(KEY, kid="key-1")]}})
    token = issue_vc_jwt(_credential(), KEY, kid="rsa-1", now=NOW)
    assert _codes(token, keys) == ("key_unsupported",)
    assert verify_vc_jwt(issue_vc_jwt(_credential(), KEY, kid="key-1"), keys).ok


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"keys": [{**KEY.private_jwk(), "kid": "key-1"}]}, "private_key_in_set"),
        ({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}, "private_key_in_set"),
        ({"keys": {"kty": "EC"}}, "keyset_invalid"),  # RFC 7517 5.1: an array
        ({}, "keyset_invalid"),
        ({"keys": ["not a key"]}, "keyset_invalid"),
        ({"keys": [{"kty": "EC", "x": "A" * 5000}]}, "keyset_invalid"),  # key size bound
        ({"keys": [{"kty": "EC", "kid": "x"}] * 65}, "keyset_invalid"),  # set size bound
        (
            {
                "keys": [
                    _public(KEY, kid="same"),
                    _public(PrivateKey.generate(KeyType.P256), kid="same"),
                ]
            },
            "duplicate_kid",
        ),
        ("{not json", "keyset_invalid"),
    ],
)
def test_sets_a_verifier_must_not_use(data: Any, code: str) -> None:
    with pytest.raises(KeySetError) as caught:
        JWKSet.from_json(data)
    assert caught.value.code == code


@pytest.mark.parametrize(
    "issuer", ["did:web:issuer.example", "issuer.example", "https://issuer.example#frag", ""]
)
def test_issuers_must_be_urls(issuer: str) -> None:
    with pytest.raises(KeySetError) as caught:
        IssuerKeys({issuer: {"keys": []}})
    assert caught.value.code == "keyset_invalid"


def test_without_a_key_set_url_issuers_stay_refused() -> None:
    # the default is unchanged: a vc+jwt's kid must be a DID URL of a DID issuer
    token = issue_vc_jwt(_credential(), KEY, kid="key-1", now=NOW)
    assert _codes(token, Resolver.default()) == ("kid_invalid",)
    assert verify(token, now=None).codes[:1] == ("kid_invalid",)


def test_did_issuers_still_resolve_through_the_wrapped_resolver() -> None:
    key = PrivateKey.generate(KeyType.ED25519)
    did = did_key_from_public_key(key.public_key)
    kid = f"{did}#{did.removeprefix('did:key:')}"
    token = issue_vc_jwt(_credential(did), key, kid=kid, now=NOW)
    assert verify_vc_jwt(token, _keys(), now=NOW).ok
    # a DID issuer's token cannot borrow a key-set key
    borrowed = issue_vc_jwt(_credential(did), KEY, kid=f"{did}#key-1", now=NOW)
    assert not verify_vc_jwt(borrowed, _keys(), now=NOW).ok


def test_vp_jwt_holder_that_is_a_url() -> None:
    holder_key = PrivateKey.generate(KeyType.P384)
    holder = "https://holder.example"
    keys = _keys(**{holder: {"keys": [_public(holder_key, kid="h")]}})
    credential = issue_vc_jwt(_credential(), KEY, kid="key-1", now=NOW)
    vp = issue_vp_jwt({"holder": holder}, holder_key, kid="h", credentials=[credential], now=NOW)
    result = verify_vp_jwt(vp, keys, now=NOW)
    assert result.ok, result.explain()


# -- interop: a JWK Set made by jwcrypto, tokens signed by jwcrypto ------------------------


@pytest.mark.parametrize(
    ("kty", "params", "alg"),
    [
        ("EC", {"crv": "P-256"}, "ES256"),
        ("EC", {"crv": "P-384"}, "ES384"),
        ("EC", {"crv": "P-521"}, "ES512"),
        ("OKP", {"crv": "Ed25519"}, "EdDSA"),
    ],
)
def test_jwcrypto_keyset_and_thumbprint_kid(kty: str, params: dict[str, str], alg: str) -> None:
    private = jwcrypto_jwk.JWK.generate(kty=kty, **params)
    thumb = private.thumbprint()  # RFC 7638, SHA-256 by default
    public = jwcrypto_jwk.JWK.from_json(private.export_public())
    public["kid"] = thumb  # type: ignore[index]
    public["use"] = "sig"  # type: ignore[index]
    key_set = jwcrypto_jwk.JWKSet()
    key_set.add(public)
    published = key_set.export(private_keys=False)  # the JSON text an issuer publishes
    keys = IssuerKeys({ISSUER: published})
    payload = {**_credential(), "iss": ISSUER, "iat": NOW_S}
    token = jwcrypto_jws.JWS(json.dumps(payload).encode())
    token.add_signature(
        private, alg=alg, protected={"alg": alg, "typ": "vc+jwt", "cty": "vc", "kid": thumb}
    )
    compact = token.serialize(compact=True)
    result = verify_vc_jwt(compact, keys, now=NOW)
    assert result.ok, result.explain()
    assert result.issuer == ISSUER
    # the same set with jwcrypto's private export is refused outright
    with pytest.raises(KeySetError) as caught:
        IssuerKeys({ISSUER: _with_private(private)})
    assert caught.value.code == "private_key_in_set"


def _with_private(private: jwcrypto_jwk.JWK) -> str:
    key_set = jwcrypto_jwk.JWKSet()
    key_set.add(private)
    return str(key_set.export(private_keys=True))
