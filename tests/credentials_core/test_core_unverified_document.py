"""One rule for every format: ``document`` only when verified, ``unverified_document`` on failure.

For each securing format a genuine credential (or presentation) gives a result
with ``document`` set and ``unverified_document`` None; a forged one (signed by
another key) and one that fails a later check (expired, wrong audience, wrong
nonce) give ``document`` None and ``unverified_document`` the payload the
format read, so code that decides trust cannot read an unverified document by
mistake and a person can still be shown what was presented.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from core_support import NOW, credential, did_key, seeded_key

from credentials import Check, VerificationResult, issue, verify
from credentials.barcode import encode_barcode, verify_barcode
from credentials.jose import issue_vp_jwt
from credentials.sd_jwt import issue_sd_jwt, present
from did_methods.keys import KeyType, PublicKey
from did_methods.resolver import Resolver

RESOLVER = Resolver.offline()
ISSUER_KEY = seeded_key(KeyType.ED25519, 61)
ISSUER, ISSUER_VM = did_key(ISSUER_KEY)
OTHER_KEY = seeded_key(KeyType.ED25519, 62)  # not the issuer's
HOLDER_KEY = seeded_key(KeyType.P256, 63)
OTHER_P256 = seeded_key(KeyType.P256, 64)  # not the holder's
HOLDER, HOLDER_VM = did_key(HOLDER_KEY)
LATER = NOW + timedelta(days=3 * 365)  # after every validUntil / exp below


def _verified(result: VerificationResult) -> dict[str, Any]:
    assert result.ok, result.explain()
    assert result.unverified_document is None
    assert result.document is not None
    return dict(result.document)


def _refused(result: VerificationResult, code: str) -> dict[str, Any]:
    assert not result.ok and code in result.codes, result.explain()
    assert result.document is None
    assert result.unverified_document is not None
    return dict(result.unverified_document)


def test_data_integrity_credential() -> None:
    signed = issue(
        credential(ISSUER), ISSUER_KEY, verification_method=ISSUER_VM, format="di-eddsa", now=NOW
    )
    assert isinstance(signed, dict)
    assert _verified(verify(signed, resolver=RESOLVER, now=NOW)) == signed
    tampered = {**signed, "credentialSubject": {**signed["credentialSubject"], "sector": "C10"}}
    shown = _refused(verify(tampered, resolver=RESOLVER, now=NOW), "signature_invalid")
    assert shown == tampered
    assert _refused(verify(signed, resolver=RESOLVER, now=LATER), "expired") == signed


def test_vc_jwt() -> None:
    subject = credential(ISSUER)["credentialSubject"]
    token = issue(
        credential(ISSUER), ISSUER_KEY, verification_method=ISSUER_VM, format="vc-jwt", now=NOW
    )
    assert isinstance(token, str)
    assert _verified(verify(token, resolver=RESOLVER, now=NOW))["credentialSubject"] == subject
    # the same payload signed by a key the issuer never authorised
    forged = issue(
        credential(ISSUER), OTHER_KEY, verification_method=ISSUER_VM, format="vc-jwt", now=NOW
    )
    assert isinstance(forged, str)
    shown = _refused(verify(forged, resolver=RESOLVER, now=NOW), "signature_invalid")
    assert shown["credentialSubject"] == subject and shown["issuer"] == ISSUER
    later = _refused(verify(token, resolver=RESOLVER, now=LATER), "expired")
    assert later["credentialSubject"] == subject


def test_vp_jwt() -> None:
    vc = issue(
        credential(ISSUER, credentialSubject={"id": HOLDER, "sector": "healthcare"}),
        ISSUER_KEY,
        verification_method=ISSUER_VM,
        format="vc-jwt",
        now=NOW,
    )
    assert isinstance(vc, str)
    vp = issue_vp_jwt(
        None, HOLDER_KEY, kid=HOLDER_VM, credentials=[vc], nonce="n-1", audience="aud", now=NOW
    )
    args: dict[str, Any] = {"resolver": RESOLVER, "now": NOW, "nonce": "n-1"}
    assert _verified(verify(vp, audience="aud", **args))["holder"] == HOLDER
    shown = _refused(verify(vp, audience="elsewhere", **args), "audience_mismatch")
    assert shown["holder"] == HOLDER and shown["aud"] == "aud"
    forged = issue_vp_jwt(
        None, OTHER_P256, kid=HOLDER_VM, credentials=[vc], nonce="n-1", audience="aud", now=NOW
    )
    assert _refused(verify(forged, audience="aud", **args), "signature_invalid")["holder"] == HOLDER


def test_sd_jwt_vc() -> None:
    def issued(key: Any) -> str:
        return issue_sd_jwt(
            {"given_name": "Amina", "nationality": "UZ", "sector": "healthcare"},
            key,
            issuer=ISSUER,
            kid=ISSUER_VM,
            vct="https://credentials.example/WorkPermit",
            disclosable=["given_name", "nationality", "sector"],
            holder_key=HOLDER_KEY.public_key,
            now=NOW,
        )

    def shown(text: str) -> str:
        return present(
            text, ["sector"], holder_key=HOLDER_KEY, nonce="n-1", audience="aud", now=NOW
        )

    good = shown(issued(ISSUER_KEY))
    args: dict[str, Any] = {"resolver": RESOLVER, "now": NOW, "audience": "aud"}
    document = _verified(verify(good, nonce="n-1", **args))
    assert document["sector"] == "healthcare" and "nationality" not in document
    # a later check failed: the processed payload, disclosures applied
    replayed = _refused(verify(good, nonce="other", **args), "kb_nonce_mismatch")
    assert replayed == document
    # the signature failed: the payload as received (digests, nothing disclosed)
    forged = _refused(verify(shown(issued(OTHER_KEY)), nonce="n-1", **args), "signature_invalid")
    assert "_sd" in forged and "sector" not in forged and forged["iss"] == ISSUER


def test_barcode() -> None:
    claims = {"type": "WorkPermit", "givenName": "Amina", "sector": "healthcare"}
    expires = NOW + timedelta(days=30)
    text = encode_barcode(claims, ISSUER_KEY, kid=b"k1", issuer="LT", iat=NOW, exp=expires)

    def trust(kid: bytes, issuer: str | None) -> PublicKey | None:
        return ISSUER_KEY.public_key if (kid, issuer) == (b"k1", "LT") else None

    assert _verified(verify_barcode(text, trust, now=NOW)) == claims
    assert _refused(verify_barcode(text, trust, now=LATER), "expired") == claims
    forged = encode_barcode(claims, OTHER_KEY, kid=b"k1", issuer="LT", iat=NOW, exp=expires)
    assert _refused(verify_barcode(forged, trust, now=NOW), "signature_invalid") == claims


def test_the_rule_holds_however_a_result_is_built() -> None:
    held = VerificationResult.of("test", [Check.passed("signature", "held")], document={"a": 1})
    assert held.document == {"a": 1} and held.unverified_document is None
    failed = held.replace_checks([*held.checks, Check.failed("status", "revoked", "revoked")])
    assert failed.document is None and failed.unverified_document == {"a": 1}
    # replace() and the constructor pass through the same rule
    assert replace(held, checks=failed.checks).document is None
    assert replace(held, checks=failed.checks).unverified_document == {"a": 1}
    # a failed result never promotes what it read to a verified document
    again = failed.replace_checks([Check.passed("signature", "held")])
    assert again.ok and again.document is None and again.unverified_document is None
