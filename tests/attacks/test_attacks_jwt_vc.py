"""Hostile VC Data Model 1.1 JWTs (``jwt_vc_json``): each refusal with its own code.

The tokens are genuinely signed (by the issuer's or the holder's real key) unless
the attack is on the signature itself, so each case reaches the check it is about.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jwcrypto import jwk as jc_jwk
from jwcrypto import jwt as jc_jwt
from test_attacks_oid4vc import _json_values  # one random-JSON strategy for the attacks

from credentials._jws import CompactJWS, b64e, dumps, sign_compact
from credentials.errors import ParseError
from credentials.jose import issue_vc_jwt
from credentials.jwt_vc import (
    CREDENTIALS_V1_CONTEXT,
    JwtVcError,
    issue_jwt_vc,
    issue_jwt_vp,
    verify_jwt_vc,
    verify_jwt_vp,
)
from credentials.result import Check
from credentials.verify import verify, verify_credential, verify_presentation
from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.jwk import did_jwk_from_jwk
from did_methods.methods.key import did_key_from_public_key
from did_methods.methods.self_certifying import names_same_key
from did_methods.resolver import Resolver

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
RESOLVER = Resolver.offline()
ISSUER_KEY = PrivateKey.generate(KeyType.P256)
ISSUER = did_key_from_public_key(ISSUER_KEY.public_key)
ISSUER_KID = f"{ISSUER}#{ISSUER_KEY.public_key.to_multikey()}"
HOLDER_KEY = PrivateKey.generate(KeyType.ED25519)
HOLDER = did_jwk_from_jwk(HOLDER_KEY.public_key)
HOLDER_KID = f"{HOLDER}#0"


def _credential(**extra: Any) -> dict[str, Any]:
    return {
        "@context": [CREDENTIALS_V1_CONTEXT],
        "type": ["VerifiableCredential", "WorkPermit"],
        "issuer": ISSUER,
        "issuanceDate": "2026-01-01T00:00:00Z",
        "expirationDate": "2027-01-01T00:00:00Z",
        "credentialSubject": {"id": HOLDER, "sector": "healthcare"},
        **extra,
    }


def _good() -> str:
    return issue_jwt_vc(_credential(id="urn:uuid:1"), ISSUER_KEY, kid=ISSUER_KID, now=NOW)


def _claims(token: str) -> dict[str, Any]:
    return dict(CompactJWS.parse(token).payload)


def _sign(claims: Any, key: PrivateKey = ISSUER_KEY, **header: Any) -> str:
    return sign_compact({"typ": "JWT", "kid": ISSUER_KID, **header}, dumps(claims), key)


def _codes(token: str, **kw: Any) -> tuple[str, ...]:
    return verify_jwt_vc(token, RESOLVER, now=NOW, **kw).codes


def test_a_genuine_jwt_vc_json_credential_verifies_with_typed_fields() -> None:
    token = _good()
    claims = _claims(token)
    # section 6.3.1: the mirrored properties travel as claims, not inside vc
    assert claims["iss"] == ISSUER and claims["sub"] == HOLDER and claims["jti"] == "urn:uuid:1"
    assert claims["nbf"] == int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    assert claims["exp"] == int(datetime(2027, 1, 1, tzinfo=UTC).timestamp())
    assert {"issuer", "issuanceDate", "expirationDate", "id"}.isdisjoint(claims["vc"])
    assert CompactJWS.parse(token).header["typ"] == "JWT"
    result = verify_jwt_vc(token, RESOLVER, now=NOW)
    assert result.ok, result.codes
    assert result.format == "jwt_vc_json"
    assert (result.issuer, result.subject) == (ISSUER, HOLDER)
    assert result.types == ("VerifiableCredential", "WorkPermit")
    assert dict(result.claims) == {"sector": "healthcare"}
    assert result.valid_until == datetime(2027, 1, 1, tzinfo=UTC)
    assert result.document is not None and result.document["issuanceDate"] == "2026-01-01T00:00:00Z"


def test_jwcrypto_reads_ours_and_we_read_jwcrypto_s() -> None:
    """An independent JOSE library verifies our token, and signs one we verify."""
    token = _good()
    public = jc_jwk.JWK.from_json(json.dumps(ISSUER_KEY.public_key.to_jwk()))
    checked = jc_jwt.JWT(jwt=token, key=public, algs=["ES256"], check_claims=False)
    assert json.loads(checked.claims)["vc"]["credentialSubject"]["id"] == HOLDER
    private = jc_jwk.JWK.from_json(json.dumps(ISSUER_KEY.private_jwk()))
    theirs = jc_jwt.JWT(
        header={"alg": "ES256", "typ": "JWT", "kid": ISSUER_KID}, claims=_claims(token)
    )
    theirs.make_signed_token(private)
    assert verify_jwt_vc(theirs.serialize(), RESOLVER, now=NOW).ok


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda c: c.pop("vc"), "vc_missing"),
        (lambda c: c.update(vc="not an object"), "vc_missing"),
        (lambda c: c.update(vp={"type": ["VerifiablePresentation"]}), "vc_missing"),
        # iss names another DID than the one whose key (kid) signed
        (lambda c: c.update(iss="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
         "kid_not_issuer"),
        (lambda c: c["vc"].update(issuer="did:example:other"), "issuer_mismatch"),
        (lambda c: c["vc"]["credentialSubject"].update(id="did:example:other"), "subject_mismatch"),
        (lambda c: c["vc"].update(credentialSubject=[{"a": 1}, {"b": 2}]), "subject_mismatch"),
        (lambda c: c["vc"].update(id="urn:uuid:2"), "id_mismatch"),
        (lambda c: c["vc"].update(issuanceDate="2025-01-01T00:00:00Z"), "date_mismatch"),
        (lambda c: c["vc"].update(expirationDate="2030-01-01T00:00:00Z"), "date_mismatch"),
        (lambda c: c.update(nbf="2026-01-01"), "claims_invalid"),
        (lambda c: c.update(sub=7), "claims_invalid"),
        (lambda c: c["vc"].update({"@context": ["https://www.w3.org/ns/credentials/v2"]}),
         "context_invalid"),
        (lambda c: c["vc"].update(type=["WorkPermit"]), "credential_invalid"),
        (lambda c: (c.pop("iss"), c.pop("nbf")), "credential_invalid"),
        (lambda c: c.update(exp=int(NOW.timestamp()) - 3600), "expired"),
        (lambda c: c.update(nbf=int(NOW.timestamp()) + 3600), "not_yet_valid"),
    ],
)  # fmt: skip
def test_a_claims_set_that_breaks_section_6_3_1_is_refused(change: Any, code: str) -> None:
    claims = _claims(_good())
    change(claims)
    assert _codes(_sign(claims)) == (code,)


def test_not_yet_valid_when_nbf_and_issuance_date_agree_on_a_future_instant() -> None:
    later = _credential(issuanceDate="2026-06-01T13:00:00Z")
    assert _codes(issue_jwt_vc(later, ISSUER_KEY, kid=ISSUER_KID, now=NOW)) == ("not_yet_valid",)


@pytest.mark.parametrize("typ", ["vc+jwt", "application/vc+jwt", "dc+sd-jwt", "JWS", "", 3])
def test_a_typ_other_than_jwt_is_refused(typ: Any) -> None:
    assert _codes(_sign(_claims(_good()), typ=typ)) == ("typ_invalid",)


def test_without_kid_a_self_certifying_issuer_s_one_key_is_used() -> None:
    """kid is optional in VC DM 1.1: a did:key issuer's only key is the one; a did:web
    issuer without kid stays refused (its document may hold many keys)."""
    claims = _claims(_good())
    token = sign_compact({"typ": "JWT"}, dumps(claims), ISSUER_KEY)
    assert verify_jwt_vc(token, RESOLVER, now=NOW).ok
    other = PrivateKey.generate(KeyType.P256)
    assert _codes(sign_compact({"typ": "JWT"}, dumps(claims), other)) == ("signature_invalid",)
    web = {**claims, "iss": "did:web:ministry.example"}
    assert _codes(sign_compact({"typ": "JWT"}, dumps(web), ISSUER_KEY)) == ("kid_invalid",)


@pytest.mark.parametrize("typ", ["JWT", "jwt", "application/JWT"])
def test_typ_jwt_in_any_case_is_accepted_as_media_types_are(typ: str) -> None:
    assert verify_jwt_vc(_sign(_claims(_good()), typ=typ), RESOLVER, now=NOW).ok


def test_no_typ_is_accepted_as_vc_data_model_1_1_allows() -> None:
    token = sign_compact({"kid": ISSUER_KID}, dumps(_claims(_good())), ISSUER_KEY)
    assert verify_jwt_vc(token, RESOLVER, now=NOW).ok


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256", "PS256"])
def test_alg_none_and_symmetric_or_rsa_algorithms_never_reach_the_crypto(alg: str) -> None:
    good = _good()
    head = {"alg": alg, "typ": "JWT", "kid": ISSUER_KID}
    forged = b64e(dumps(head)) + "." + good.split(".")[1] + "." + good.split(".")[2]
    assert _codes(forged) == ("alg_not_allowed",)


def test_an_algorithm_that_does_not_fit_the_issuer_key() -> None:
    good = _good()
    head = {"alg": "EdDSA", "typ": "JWT", "kid": ISSUER_KID}
    forged = b64e(dumps(head)) + "." + good.split(".", 1)[1]
    assert _codes(forged) == ("alg_key_mismatch",)


def test_a_flipped_signature_byte() -> None:
    good = _good()
    head, body, sig = good.split(".")
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    assert _codes(f"{head}.{body}.{flipped}") == ("signature_invalid",)


def test_signed_by_a_key_of_another_did_than_iss() -> None:
    other = PrivateKey.generate(KeyType.P256)
    other_did = did_key_from_public_key(other.public_key)
    token = _sign(_claims(_good()), other, kid=f"{other_did}#{other.public_key.to_multikey()}")
    assert _codes(token) == ("kid_not_issuer",)


def test_a_key_its_did_lists_only_for_key_agreement_cannot_sign_credentials() -> None:
    """The kid names a key of the issuer, but not one it authorises for assertionMethod."""
    agreement = PrivateKey.generate(KeyType.X25519)
    did = did_key_from_public_key(agreement.public_key)
    kid = f"{did}#{agreement.public_key.to_multikey()}"
    claims = {**_claims(_good()), "iss": did}
    assert _codes(_sign(claims, kid=kid)) == ("key_not_authorised",)


def test_status_fails_closed_and_a_revoked_status_is_reported() -> None:
    status = {
        "id": "https://status.example/1#5",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "5",
        "statusListCredential": "https://status.example/1",
    }
    token = issue_jwt_vc(_credential(credentialStatus=status), ISSUER_KEY, kid=ISSUER_KID, now=NOW)
    assert _codes(token) == ("status_unavailable",)
    seen: list[Any] = []

    def revoked(credential: Any) -> Check:
        seen.append(credential)
        return Check.failed("status", "revoked", "revoked by its issuer")

    assert _codes(token, status_checker=revoked) == ("revoked",)
    # the checker saw the decoded credential: its issuer and its status entry
    assert seen[0]["issuer"] == ISSUER and seen[0]["credentialStatus"] == status
    # through verify_credential: no status source given, so it fails closed
    result = verify_credential(token, formats="jwt_vc_json", credential_type=None, now=NOW)
    assert result.codes == ("status_unavailable",)


def test_oversized_and_malformed_tokens_raise_a_typed_parse_error() -> None:
    with pytest.raises(JwtVcError):
        verify_jwt_vc("a" * 1_000_001, RESOLVER, now=NOW)
    with pytest.raises(ParseError):
        verify_jwt_vc("not.a.jws!", RESOLVER, now=NOW)
    deep = {"vc": {"a": 1}}
    node: dict[str, Any] = deep
    for _ in range(80):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(ParseError):
        verify_jwt_vc(_sign(deep), RESOLVER, now=NOW)


# -- presentations ------------------------------------------------------------------------


def _vp(credentials: list[str] | None = None, **kw: Any) -> str:
    return issue_jwt_vp(
        credentials if credentials is not None else [_good()],
        kw.pop("key", HOLDER_KEY),
        kid=kw.pop("kid", HOLDER_KID),
        nonce=kw.pop("nonce", "n-1"),
        audience=kw.pop("audience", "x509_san_dns:verifier.example"),
        now=kw.pop("now", NOW),
    )


def _vp_codes(token: str, **kw: Any) -> tuple[str, ...]:
    return verify_jwt_vp(
        token,
        RESOLVER,
        nonce=kw.pop("nonce", "n-1"),
        audience=kw.pop("audience", "x509_san_dns:verifier.example"),
        now=kw.pop("now", NOW),
        **kw,
    ).codes


def test_a_genuine_presentation_verifies_and_binds_each_credential_to_its_holder() -> None:
    token = _vp()
    claims = _claims(token)
    assert claims["iss"] == HOLDER and claims["aud"] == "x509_san_dns:verifier.example"
    assert claims["nonce"] == "n-1" and len(claims["vp"]["verifiableCredential"]) == 1
    result = verify_presentation(
        token,
        format="jwt_vc_json",
        nonce="n-1",
        audience="x509_san_dns:verifier.example",
        credential_type="WorkPermit",
        now=NOW,
    )
    assert result.ok, result.codes
    assert result.holder == HOLDER and result.credentials[0].subject == HOLDER


def test_presentation_refusals_each_with_its_code() -> None:
    assert _vp_codes(_vp(), nonce="n-2") == ("nonce_mismatch",)
    assert _vp_codes(_vp(), audience="x509_san_dns:other.example") == ("audience_mismatch",)
    assert _vp_codes(_vp(), now=NOW + timedelta(minutes=20)) == ("expired",)
    stale = _claims(_vp())
    stale.pop("exp")
    token = sign_compact({"typ": "JWT", "kid": HOLDER_KID}, dumps(stale), HOLDER_KEY)
    assert _vp_codes(token, now=NOW + timedelta(minutes=20)) == ("presentation_stale",)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda c: c.pop("vp"), "vp_missing"),
        (lambda c: c.update(vc={"a": 1}), "vp_missing"),
        (lambda c: c["vp"].update(holder="did:example:someone"), "holder_mismatch"),
        (lambda c: c["vp"].update({"@context": ["https://www.w3.org/ns/credentials/v2"]}),
         "context_invalid"),
        (lambda c: c["vp"].update(verifiableCredential=[{"type": "VerifiableCredential"}]),
         "credential_format_unsupported"),
        (lambda c: c["vp"].update(verifiableCredential=["x.y.z"] * 101), "too_many_credentials"),
        (lambda c: c["vp"].update(verifiableCredential=[]), "credential_invalid"),
    ],
)  # fmt: skip
def test_a_presentation_claims_set_that_breaks_the_encoding(change: Any, code: str) -> None:
    claims = _claims(_vp())
    change(claims)
    token = sign_compact({"typ": "JWT", "kid": HOLDER_KID}, dumps(claims), HOLDER_KEY)
    assert _vp_codes(token) == (code,)


def test_a_credential_about_another_holder_is_refused_holder_mismatch() -> None:
    """Holder binding: the credential's sub must be the DID that signed the presentation."""
    thief = PrivateKey.generate(KeyType.ED25519)
    thief_did = did_jwk_from_jwk(thief.public_key)
    token = _vp(key=thief, kid=f"{thief_did}#0")
    assert _vp_codes(token) == ("holder_mismatch",)


def test_a_presentation_signed_with_alg_none_or_a_vc_jose_typ() -> None:
    good = _vp()
    body = good.split(".")[1]
    none = b64e(dumps({"alg": "none", "typ": "JWT", "kid": HOLDER_KID})) + "." + body + ".AA"
    assert _vp_codes(none) == ("alg_not_allowed",)
    vp_jwt = sign_compact({"typ": "vp+jwt", "kid": HOLDER_KID}, dumps(_claims(good)), HOLDER_KEY)
    assert _vp_codes(vp_jwt) == ("typ_invalid",)


def test_an_expired_credential_inside_a_fresh_presentation() -> None:
    old = issue_jwt_vc(
        _credential(expirationDate="2026-02-01T00:00:00Z"), ISSUER_KEY, kid=ISSUER_KID, now=NOW
    )
    assert _vp_codes(_vp([old])) == ("expired",)


# -- detection: the two JWT encodings of a W3C credential ----------------------------------


def test_detection_tells_the_vc_data_model_1_1_jwt_from_vc_jose() -> None:
    assert verify(_good(), now=NOW).format == "jwt_vc_json"
    v2 = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": ISSUER,
        "credentialSubject": {"id": HOLDER},
    }
    assert verify(issue_vc_jwt(v2, ISSUER_KEY, kid=ISSUER_KID, now=NOW), now=NOW).format == "vc+jwt"
    # a vc+jwt envelope may not smuggle a 1.1 JWT
    envelope = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "data:application/vc+jwt," + _good(),
        "type": "EnvelopedVerifiableCredential",
    }
    with pytest.raises(ParseError):
        verify(envelope, now=NOW)
    # a presentation is not a credential, and the other way round
    assert verify_credential(_vp(), formats="jwt_vc_json", credential_type=None, now=NOW).codes == (
        "not_a_credential",
    )
    assert verify_presentation(
        _good(),
        format="jwt_vc_json",
        nonce="n-1",
        audience="a",
        credential_type=None,
        now=NOW,
    ).codes == ("not_a_presentation",)


def test_holder_binding_compares_the_key_not_the_spelling_of_its_did_jwk() -> None:
    """One key, two did:jwk strings (JWK members in another order), as two implementations
    write them: still the same holder. A did:web holder never matches a did:jwk subject."""
    jwk = HOLDER_KEY.public_key.to_jwk()
    respelled = "did:jwk:" + b64e(json.dumps(dict(reversed(list(jwk.items())))).encode())
    assert respelled != HOLDER
    token = _vp(kid=f"{respelled}#0")
    result = verify_jwt_vp(
        token, RESOLVER, nonce="n-1", audience="x509_san_dns:verifier.example", now=NOW
    )
    assert result.ok, result.codes
    assert result.holder == respelled and result.credentials[0].subject == HOLDER
    assert not names_same_key("did:web:holder.example", HOLDER)
    assert not names_same_key(HOLDER + "#0", HOLDER + "#0x")


def test_a_presentation_without_iat_is_fresh_only_by_an_expected_nonce() -> None:
    claims = _claims(_vp())
    for name in ("iat", "nbf", "exp"):
        claims.pop(name)
    token = sign_compact({"typ": "JWT", "kid": HOLDER_KID}, dumps(claims), HOLDER_KEY)
    assert _vp_codes(token) == ()  # the expected nonce, spent by the verifier, is the freshness
    no_nonce = verify_jwt_vp(token, RESOLVER, nonce=None, audience=None, now=NOW)
    assert no_nonce.codes == ("claims_invalid",)


@pytest.mark.parametrize("claim", ["nbf", "exp"])
@pytest.mark.parametrize("seconds", [253_402_300_800, 2**53 - 1])
def test_a_time_claim_past_the_year_9999_is_claims_invalid_not_a_crash(
    claim: str, seconds: int
) -> None:
    claims = {**_claims(_good()), claim: seconds}
    assert _codes(_sign(claims)) == ("claims_invalid",)


_CLAIMS = ["iss", "sub", "nbf", "exp", "iat", "jti", "vc", "vp"]
_VC_MEMBERS = ["@context", "type", "issuer", "issuanceDate", "credentialSubject", "id"]


@settings(max_examples=150, deadline=None)
@given(
    where=st.sampled_from(["claim", "vc"]),
    index=st.integers(0, 7),
    value=_json_values,
)
def test_property_a_claim_replaced_by_random_json_gives_a_result_or_a_typed_error(
    where: str, index: int, value: Any
) -> None:
    claims = _claims(_good())
    if where == "claim":
        claims[_CLAIMS[index]] = value
    else:
        claims["vc"][_VC_MEMBERS[index % len(_VC_MEMBERS)]] = value
    token = _sign(claims)
    result = verify_jwt_vc(token, RESOLVER, now=NOW)
    assert all(c.code for c in result.failures)
    vp = sign_compact(
        {"typ": "JWT", "kid": HOLDER_KID},
        dumps({**_claims(_vp()), "vp": {**_claims(_vp())["vp"], "verifiableCredential": [token]}}),
        HOLDER_KEY,
    )
    presented = verify_jwt_vp(
        vp, RESOLVER, nonce="n-1", audience="x509_san_dns:verifier.example", now=NOW
    )
    assert all(c.code for c in presented.failures)
