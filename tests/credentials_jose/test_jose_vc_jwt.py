"""vc+jwt and vp+jwt: round trips, interop with jwcrypto, and one test per attack."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jwcrypto import jwk as jc_jwk
from jwcrypto import jws as jc_jws

from credentials._jws import CompactJWS, dumps, sign_compact
from credentials.jose import (
    VCJoseError,
    envelope_vc_jwt,
    issue_vc_jwt,
    issue_vp_jwt,
    verify_vc_jwt,
    verify_vp_jwt,
)
from did_methods.document import DIDDocument, VerificationMethod
from did_methods.encoding import b64url_encode
from did_methods.errors import ParseError, ResolutionError, SSIWalletError, VerificationError
from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.key import did_key_from_public_key
from did_methods.resolver import Resolver

NOW_S = 1_780_000_000  # the signing instant, as a NumericDate
NOW = datetime.fromtimestamp(NOW_S, UTC)


def at(offset_s: int) -> datetime:
    """The instant ``offset_s`` seconds after NOW."""
    return NOW + timedelta(seconds=offset_s)


V2 = "https://www.w3.org/ns/credentials/v2"


def permit(issuer: str, **extra: Any) -> dict[str, Any]:
    return {
        "@context": [V2],
        "id": "urn:uuid:4f1c7a8e-1f4e-4b8a-9d55-2f8a0f7b9c11",
        "type": ["VerifiableCredential", "WorkPermit"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2027-06-30T00:00:00Z",
        "credentialSubject": {"id": "did:example:amina", "sector": "healthcare"},
        **extra,
    }


def codes(token: str, resolver: Any, **kw: Any) -> tuple[str, ...]:
    return verify_vc_jwt(token, resolver, now=kw.pop("now", NOW), **kw).codes


def resign(token: str, key: PrivateKey, *, header: Any = None, payload: Any = None) -> str:
    jws = CompactJWS.parse(token)
    head = dict(jws.header if header is None else header)
    head.pop("alg", None)
    body = dumps(jws.payload if payload is None else payload)
    return sign_compact(head, body, key)


def test_round_trip(issuer: Any, resolver: Resolver) -> None:
    token = issue_vc_jwt(permit(issuer.did), issuer.key, kid=issuer.kid, now=NOW)
    jws = CompactJWS.parse(token)
    assert jws.header["typ"] == "vc+jwt" and jws.header["cty"] == "vc"
    assert jws.header["kid"] == issuer.kid
    assert jws.header["alg"] == issuer.key.key_type.jws_alg
    payload = jws.payload
    assert payload["iss"] == issuer.did and payload["jti"] == permit("")["id"]
    assert payload["sub"] == "did:example:amina" and payload["iat"] == NOW_S
    # nbf/exp are the signature's times, not validFrom/validUntil (VC-JOSE-COSE 3.1.2)
    assert "nbf" not in payload and "exp" not in payload
    result = verify_vc_jwt(token, resolver, now=NOW)
    assert result.ok, result.explain()
    assert result.issuer == issuer.did
    assert result.document is not None and result.document["credentialSubject"]["sector"]


def test_verified_by_jwcrypto(issuer: Any) -> None:
    token = issue_vc_jwt(permit(issuer.did), issuer.key, kid=issuer.kid, now=NOW)
    key = jc_jwk.JWK(**issuer.key.public_key.to_jwk())
    parsed = jc_jws.JWS()
    parsed.deserialize(token)
    parsed.verify(key, alg=issuer.key.key_type.jws_alg)
    assert json.loads(parsed.payload)["issuer"] == issuer.did
    assert parsed.jose_header["typ"] == "vc+jwt"


def test_jwcrypto_token_verified_by_us(issuer: Any, resolver: Resolver) -> None:
    alg = issuer.key.key_type.jws_alg
    payload = {**permit(issuer.did), "iss": issuer.did, "iat": NOW_S}
    signer = jc_jws.JWS(json.dumps(payload))
    header = {"alg": alg, "typ": "vc+jwt", "cty": "vc", "kid": issuer.kid}
    signer.add_signature(jc_jwk.JWK(**issuer.key.private_jwk()), alg, json.dumps(header))
    token = signer.serialize(compact=True)
    result = verify_vc_jwt(token, resolver, now=NOW)
    assert result.ok, result.explain()


def test_alg_none_and_hmac_confusion_are_refused(issuer: Any, resolver: Resolver) -> None:
    token = issue_vc_jwt(permit(issuer.did), issuer.key, kid=issuer.kid, now=NOW)
    _h64, p64, _ = token.split(".")
    header = {**CompactJWS.parse(token).header}
    none_header = b64url_encode(dumps({**header, "alg": "none"}))
    assert codes(f"{none_header}.{p64}.AA", resolver) == ("alg_not_allowed",)
    # HS256 "signed" with the public key bytes as the secret (the classic confusion)
    hs_header = b64url_encode(dumps({**header, "alg": "HS256"}))
    secret = json.dumps(issuer.key.public_key.to_jwk()).encode()
    mac = hmac.new(secret, f"{hs_header}.{p64}".encode(), hashlib.sha256).digest()
    assert codes(f"{hs_header}.{p64}.{b64url_encode(mac)}", resolver) == ("alg_not_allowed",)


def test_alg_that_does_not_fit_the_key(issuer: Any, resolver: Resolver) -> None:
    token = issue_vc_jwt(permit(issuer.did), issuer.key, kid=issuer.kid, now=NOW)
    _h64, p64, s64 = token.split(".")
    wrong = "ES256" if issuer.key.key_type is KeyType.ED25519 else "EdDSA"
    header = {**CompactJWS.parse(token).header, "alg": wrong}
    assert codes(f"{b64url_encode(dumps(header))}.{p64}.{s64}", resolver) == ("alg_key_mismatch",)


def test_kid_outside_the_issuer_did(
    issuer: Any, new_party: Callable[..., Any], resolver: Resolver
) -> None:
    mallory = new_party(KeyType.ED25519)
    forged = resign(
        issue_vc_jwt(permit(mallory.did), mallory.key, kid=mallory.kid, now=NOW),
        mallory.key,
        payload={**permit(issuer.did), "iss": issuer.did, "iat": NOW_S},
    )
    assert codes(forged, resolver) == ("kid_not_issuer",)
    with pytest.raises(VCJoseError):
        issue_vc_jwt(permit(issuer.did), mallory.key, kid=mallory.kid)


class _DocResolver:
    def __init__(self, doc: DIDDocument) -> None:
        self.doc = doc

    def verification_method(self, did_url: str, purpose: str) -> VerificationMethod:
        vm = self.doc.find(did_url)
        if vm is None:
            raise ResolutionError("notFound", did_url)
        if not self.doc.is_authorised(did_url, purpose):
            raise VerificationError("key_not_authorised", f"{did_url} not for {purpose}")
        return vm


def test_key_not_in_assertion_method() -> None:
    key = PrivateKey.generate(KeyType.ED25519)
    did = "did:web:migration.example"
    vm = VerificationMethod.from_public_key(key.public_key, controller=did, id=f"{did}#k1")
    doc = DIDDocument.build(did, verification_methods=(vm,), relationships={"keyAgreement": ()})
    token = issue_vc_jwt(permit(did), key, kid=vm.id, now=NOW)
    assert codes(token, _DocResolver(doc)) == ("key_not_authorised",)


def test_wrong_typ_or_cty(issuer: Any, resolver: Resolver) -> None:
    token = issue_vc_jwt(permit(issuer.did), issuer.key, kid=issuer.kid, now=NOW)
    header = CompactJWS.parse(token).header
    assert codes(resign(token, issuer.key, header={**header, "typ": "JWT"}), resolver) == (
        "typ_invalid",
    )
    assert codes(resign(token, issuer.key, header={**header, "cty": "vp"}), resolver) == (
        "typ_invalid",
    )
    ok = resign(token, issuer.key, header={**header, "typ": "application/vc+jwt"})
    assert codes(ok, resolver) == ()


@pytest.mark.parametrize(
    ("claim", "value"),
    [("iss", "did:example:other"), ("jti", "urn:uuid:other"), ("sub", "did:example:eve")],
)
def test_claims_that_contradict_the_credential(
    issuer: Any, resolver: Resolver, claim: str, value: str
) -> None:
    token = issue_vc_jwt(permit(issuer.did), issuer.key, kid=issuer.kid, now=NOW)
    payload = {**CompactJWS.parse(token).payload, claim: value}
    # the kid is checked against `issuer`; a contradicting JWT claim is its own failure
    assert codes(resign(token, issuer.key, payload=payload), resolver) == ("claims_inconsistent",)


def test_vc_claim_is_refused(issuer: Any, resolver: Resolver) -> None:
    with pytest.raises(VCJoseError):
        issue_vc_jwt(permit(issuer.did, vc={}), issuer.key, kid=issuer.kid)
    token = issue_vc_jwt(permit(issuer.did), issuer.key, kid=issuer.kid, now=NOW)
    payload = {**CompactJWS.parse(token).payload, "vc": {"type": "x"}}
    assert codes(resign(token, issuer.key, payload=payload), resolver) == ("claims_invalid",)


def test_validity_period(issuer: Any, resolver: Resolver) -> None:
    token = issue_vc_jwt(permit(issuer.did), issuer.key, kid=issuer.kid, now=NOW)
    assert codes(token, resolver, now=datetime(2027, 6, 30, tzinfo=UTC)) == ("expired",)
    assert codes(token, resolver, now=datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)) == (
        "not_yet_valid",
    )
    # the token's own exp is enforced on its own: an hour after signing, while the
    # credential stays valid for years
    payload = {**CompactJWS.parse(token).payload, "exp": NOW_S + 3600}
    short_lived = resign(token, issuer.key, payload=payload)
    assert verify_vc_jwt(short_lived, resolver, now=at(1800)).ok
    assert codes(short_lived, resolver, now=at(7200)) == ("expired",)


def test_signature_times_need_not_equal_the_validity_period(
    issuer: Any, resolver: Resolver
) -> None:
    # VC-JOSE-COSE, "JOSE Header Parameters and JWT Claims": only iss, jti and sub
    # mirror the credential; iat/nbf/exp say when the signature holds. A token with
    # exp an hour ahead and validUntil years ahead verifies.
    token = issue_vc_jwt(permit(issuer.did), issuer.key, kid=issuer.kid, now=NOW)
    payload = {**CompactJWS.parse(token).payload, "nbf": NOW_S, "exp": NOW_S + 3600}
    result = verify_vc_jwt(resign(token, issuer.key, payload=payload), resolver, now=at(60))
    assert result.ok, result.explain()
    # an nbf after validFrom is no contradiction either, only not yet valid before it
    later = {**payload, "nbf": NOW_S + 600}
    assert codes(resign(token, issuer.key, payload=later), resolver, now=at(60)) == (
        "not_yet_valid",
    )


def test_non_credentials_refused_at_issue(issuer: Any) -> None:
    for bad in (
        {**permit(issuer.did), "@context": ["https://www.w3.org/2018/credentials/v1"]},
        {**permit(issuer.did), "type": ["WorkPermit"]},
        {**permit(issuer.did), "issuer": 5},
        {**permit(issuer.did), "validUntil": "2027-06-30"},
        {k: v for k, v in permit(issuer.did).items() if k != "credentialSubject"},
    ):
        # VCJoseError or the data model's ValidationError: both are ParseErrors
        with pytest.raises(ParseError):
            issue_vc_jwt(bad, issuer.key, kid=issuer.kid)


def test_data_model_violation_is_refused_at_verify(issuer: Any, resolver: Resolver) -> None:
    token = issue_vc_jwt(permit(issuer.did), issuer.key, kid=issuer.kid, now=NOW)
    payload = {**CompactJWS.parse(token).payload, "credentialSubject": []}
    assert codes(resign(token, issuer.key, payload=payload), resolver) == ("credential_invalid",)


_KEY = PrivateKey.generate(KeyType.ED25519)


def _static_party() -> tuple[str, str]:
    did = did_key_from_public_key(_KEY.public_key)
    return did, f"{did}#{did.removeprefix('did:key:')}"


_DID, _KID = _static_party()
_TOKEN = issue_vc_jwt(permit(_DID), _KEY, kid=_KID, now=NOW)
_RESOLVER = Resolver.default()


@settings(max_examples=200)
@given(st.integers(0, len(_TOKEN) - 1), st.sampled_from("AQgw_-.xZ09"))
def test_any_changed_character_is_refused(position: int, char: str) -> None:
    if _TOKEN[position] == char:
        return
    text = _TOKEN[:position] + char + _TOKEN[position + 1 :]
    try:
        result = verify_vc_jwt(text, _RESOLVER, now=NOW)
    except SSIWalletError:
        return
    assert not result.ok


@settings(max_examples=200)
@given(st.text(max_size=200) | st.text(alphabet="eyJ0.AQgw_-", max_size=300))
def test_arbitrary_text_raises_only_our_errors(text: str) -> None:
    for call in (verify_vc_jwt, verify_vp_jwt):
        try:
            call(text, _RESOLVER, now=NOW)
        except SSIWalletError:
            pass


# -- presentations ----------------------------------------------------------------------


def test_presentation_round_trip(issuer: Any, holder: Any, resolver: Resolver) -> None:
    vc = issue_vc_jwt(permit(issuer.did), issuer.key, kid=issuer.kid, now=NOW)
    vp = issue_vp_jwt(
        None, holder.key, kid=holder.kid, credentials=[vc], nonce="c-1", audience="emp", now=NOW
    )
    jws = CompactJWS.parse(vp)
    assert jws.header["typ"] == "vp+jwt" and jws.header["cty"] == "vp"
    assert jws.payload["holder"] == holder.did
    assert jws.payload["verifiableCredential"] == [envelope_vc_jwt(vc)]
    result = verify_vp_jwt(vp, resolver, now=at(5), nonce="c-1", audience="emp")
    assert result.ok, result.explain()
    assert result.check("credential[0]") is not None
    assert verify_vp_jwt(vp, resolver, now=at(5), nonce="c-2").codes == ("nonce_mismatch",)
    assert verify_vp_jwt(vp, resolver, now=at(5), audience="x").codes == ("audience_mismatch",)
    # stale past max_age (300 s) plus the default clock skew (60 s)
    assert verify_vp_jwt(vp, resolver, now=at(360)).ok
    assert verify_vp_jwt(vp, resolver, now=at(361)).codes == ("presentation_stale",)
    assert verify_vp_jwt(vp, resolver, now=at(301), leeway=0).codes == ("presentation_stale",)


def test_presentation_with_a_bad_credential(issuer: Any, holder: Any, resolver: Resolver) -> None:
    vc = issue_vc_jwt(permit(issuer.did), issuer.key, kid=issuer.kid, now=NOW)
    h, p, s = vc.split(".")
    broken = f"{h}.{p}.{s[:-4]}AAAA"
    vp = issue_vp_jwt(
        {"@context": [V2], "type": ["VerifiablePresentation"], "verifiableCredential": [{}]},
        holder.key,
        kid=holder.kid,
        credentials=[broken],
        now=NOW,
    )
    result = verify_vp_jwt(vp, resolver, now=NOW)
    assert result.codes == ("credential_format_unsupported", "signature_invalid")


def test_presentation_signed_with_an_assertion_only_key(holder: Any) -> None:
    key = PrivateKey.generate(KeyType.P256)
    did = "did:web:wallet.example"
    vm = VerificationMethod.from_public_key(key.public_key, controller=did, id=f"{did}#k")
    doc = DIDDocument.build(
        did, verification_methods=(vm,), relationships={"assertionMethod": (vm.id,)}
    )
    vp = issue_vp_jwt(None, key, kid=vm.id, now=NOW)
    assert verify_vp_jwt(vp, _DocResolver(doc), now=NOW).codes == ("key_not_authorised",)


def test_verify_jwt_dispatches_on_typ(issuer: Any, holder: Any, resolver: Resolver) -> None:
    from credentials.jose import verify_jwt

    at = NOW
    vc = issue_vc_jwt(permit(issuer.did), issuer.key, kid=issuer.kid, now=at)
    vp = issue_vp_jwt(None, holder.key, kid=holder.kid, credentials=[vc], nonce="x", now=at)
    assert verify_jwt(vc, resolver, now=at).format == "vc+jwt"
    result = verify_jwt(vp, resolver, now=at, nonce="x")
    assert result.format == "vp+jwt" and result.ok, result.explain()
    assert verify_jwt(vp, resolver, now=at, nonce="y").codes == ("nonce_mismatch",)
    with pytest.raises(VCJoseError):
        verify_jwt("not a token", resolver)
