"""The RFC 9901 and SD-JWT VC specification examples, processed as the specs say."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from instants import utc
from vector_files import load_vector

from credentials.sd_jwt import Disclosure, SdJwt, verify_sd_jwt
from did_methods.encoding import b64url_encode
from did_methods.keys import PublicKey

RFC = load_vector("sd-jwt-ietf/rfc9901-sec5-simple-example.json")
RFC_42 = load_vector("sd-jwt-ietf/rfc9901-sec4.2-disclosure-examples.json")
VC = load_vector("sd-jwt-vc/sd-jwt-vc-sec2.3-example.json")
KB_PAYLOAD = RFC["kb_jwt_payload"]


def test_mobius_disclosure_digest_and_equivalent_encodings() -> None:
    case = RFC_42["object_property_disclosure"]
    d = Disclosure.parse(case["disclosure"])
    assert [d.salt, d.name, d.value] == case["array"]
    assert d.digest() == case["sha256_b64url"]
    for encoded in case["equivalent_valid_encodings"].values():
        other = Disclosure.parse(encoded)
        # the same content, but digests are over the exact string, so they differ
        assert (other.salt, other.name, other.value) == (d.salt, d.name, d.value)
        assert other.digest() != d.digest()


def test_array_element_disclosure() -> None:
    case = RFC_42["array_element_disclosure"]
    d = Disclosure.parse(case["disclosure"])
    assert d.name is None
    assert [d.salt, d.value] == case["array"]


@pytest.mark.parametrize("item", RFC["disclosures"], ids=lambda i: str(i["claim_name"]))
def test_rfc9901_disclosure_digests(item: dict[str, Any]) -> None:
    d = Disclosure.parse(item["disclosure"])
    assert d.name == item["claim_name"]
    assert d.digest() == item["sha256_b64url"]
    # the digest is SHA-256 over the ASCII of the base64url text (RFC 9901 4.2.3)
    raw = hashlib.sha256(item["disclosure"].encode("ascii")).digest()
    assert b64url_encode(raw) == item["sha256_b64url"]


def test_rfc9901_issued_sd_jwt_payload() -> None:
    sd = SdJwt.parse(RFC["sd_jwt_issuance"])
    assert sd.jwt_text == RFC["issuer_signed_jwt"]
    assert dict(sd.unverified_payload) == RFC["sd_jwt_payload"]
    assert [d for d in sd.disclosures] == [i["disclosure"] for i in RFC["disclosures"]]
    assert sd.kb_jwt is None
    assert str(sd) == RFC["sd_jwt_issuance"]


def test_rfc9901_issuance_with_all_disclosures_recovers_user_claims() -> None:
    key = PublicKey.from_jwk(RFC["issuer_public_jwk"])
    result = verify_sd_jwt(RFC["sd_jwt_issuance"], issuer_key=key, typ=None, now=utc(1683000000))
    assert result.ok, result.explain()
    doc = dict(result.document or {})
    for name in ("iss", "iat", "exp", "cnf"):
        doc.pop(name)
    assert doc == RFC["user_claims"]


def test_rfc9901_presentation_with_key_binding() -> None:
    key = PublicKey.from_jwk(RFC["issuer_public_jwk"])
    result = verify_sd_jwt(
        RFC["sd_jwt_kb_presentation"],
        issuer_key=key,
        typ=None,
        now=utc(KB_PAYLOAD["iat"] + 10),
        nonce=KB_PAYLOAD["nonce"],
        audience=KB_PAYLOAD["aud"],
    )
    assert result.ok, result.explain()
    assert result.document == RFC["expected_processed_payload"]
    holder = result.check("holder_binding")
    assert holder is not None and holder.status == "passed"
    sd = SdJwt.parse(RFC["sd_jwt_kb_presentation"])
    assert sd.kb_jwt is not None
    assert dict(sd.kb_jwt.payload) == KB_PAYLOAD
    prefix = RFC["sd_jwt_kb_presentation"].rsplit("~", 1)[0] + "~"
    assert sd.presentation_prefix() == prefix
    assert b64url_encode(hashlib.sha256(prefix.encode()).digest()) == KB_PAYLOAD["sd_hash"]


def test_rfc9901_example_typ_is_not_an_sd_jwt_vc() -> None:
    key = PublicKey.from_jwk(RFC["issuer_public_jwk"])
    result = verify_sd_jwt(RFC["sd_jwt_issuance"], issuer_key=key, now=utc(1683000000))
    assert not result.ok
    assert result.codes == ("typ_invalid",)


def test_rfc9901_kb_stale_and_expired() -> None:
    key = PublicKey.from_jwk(RFC["issuer_public_jwk"])
    args: dict[str, Any] = {"issuer_key": key, "typ": None, "nonce": KB_PAYLOAD["nonce"]}
    # stale past the 300 s default age plus the 60 s default clock skew
    late = verify_sd_jwt(RFC["sd_jwt_kb_presentation"], now=utc(KB_PAYLOAD["iat"] + 361), **args)
    assert late.codes == ("kb_stale",)
    # the example's exp (1883000000) plus the default clock skew
    expired = verify_sd_jwt(RFC["sd_jwt_kb_presentation"], now=utc(1883000060), **args)
    assert "expired" in expired.codes
    strict = verify_sd_jwt(RFC["sd_jwt_kb_presentation"], now=utc(1883000000), leeway=0, **args)
    assert "expired" in strict.codes


def test_sd_jwt_vc_issuance_payload_and_digests() -> None:
    sd = SdJwt.parse(VC["sd_jwt_issuance"])
    assert sd.unverified_header["typ"] == "dc+sd-jwt"
    assert dict(sd.unverified_payload) == VC["sd_jwt_payload"]
    for item, encoded in zip(VC["disclosures"], sd.disclosures, strict=True):
        assert encoded == item["disclosure"]
        assert Disclosure.parse(encoded).digest() == item["sha256_b64url"]


def test_sd_jwt_vc_issuance_recovers_user_claims() -> None:
    key = PublicKey.from_jwk(VC["issuer_public_jwk"])
    result = verify_sd_jwt(VC["sd_jwt_issuance"], issuer_key=key, now=utc(1683000000))
    assert result.ok, result.explain()
    doc = dict(result.document or {})
    for name in ("iss", "iat", "exp", "cnf"):
        doc.pop(name, None)
    assert doc == VC["user_claims"]


def test_sd_jwt_vc_presentation_with_key_binding() -> None:
    key = PublicKey.from_jwk(VC["issuer_public_jwk"])
    kb = SdJwt.parse(VC["presentation_with_kb"]).kb_jwt
    assert kb is not None
    result = verify_sd_jwt(
        VC["presentation_with_kb"],
        issuer_key=key,
        now=utc(kb.payload["iat"]),
        nonce=kb.payload["nonce"],
        audience=kb.payload["aud"],
    )
    assert result.ok, result.explain()
    assert result.document == VC["expected_processed_payload_with_kb"]


def test_sd_jwt_vc_presentation_without_key_binding() -> None:
    key = PublicKey.from_jwk(VC["issuer_public_jwk"])
    result = verify_sd_jwt(VC["presentation_without_kb"], issuer_key=key, now=utc(1683000000))
    assert result.ok, result.explain()
    assert result.document == VC["expected_processed_payload_without_kb"]
    holder = result.check("holder_binding")
    assert holder is not None and holder.status == "skipped"
    # asking for key binding where there is none fails with its own code
    bound = verify_sd_jwt(
        VC["presentation_without_kb"], issuer_key=key, now=utc(1683000000), nonce="n", audience="a"
    )
    assert bound.codes == ("kb_missing",)


def _as_json(presentation: str, *, general: bool) -> str:
    import json

    sd = SdJwt.parse(presentation)
    protected, payload, signature = sd.jwt_text.split(".")
    header: dict[str, Any] = {"disclosures": list(sd.disclosures)}
    if sd.kb_jwt_text:
        header["kb_jwt"] = sd.kb_jwt_text
    sig = {"protected": protected, "header": header, "signature": signature}
    if general:
        return json.dumps({"payload": payload, "signatures": [sig]})
    return json.dumps({"payload": payload, **sig})


@pytest.mark.parametrize("general", [False, True])
def test_rfc9901_presentation_in_json_serialization(general: bool) -> None:
    key = PublicKey.from_jwk(RFC["issuer_public_jwk"])
    text = _as_json(RFC["sd_jwt_kb_presentation"], general=general)
    sd = SdJwt.parse(text)
    # RFC 9901 8.1: the compact form rebuilt from the parts is what sd_hash covers
    assert str(sd) == RFC["sd_jwt_kb_presentation"]
    result = verify_sd_jwt(
        text,
        issuer_key=key,
        typ=None,
        now=utc(KB_PAYLOAD["iat"]),
        nonce=KB_PAYLOAD["nonce"],
        audience=KB_PAYLOAD["aud"],
    )
    assert result.ok, result.explain()
    assert result.document == RFC["expected_processed_payload"]


def test_json_serialization_refuses_disclosures_in_a_later_signature() -> None:
    import json

    from credentials.sd_jwt import SdJwtError

    doc = json.loads(_as_json(RFC["sd_jwt_issuance"], general=True))
    doc["signatures"].append({**doc["signatures"][0]})
    with pytest.raises(SdJwtError):
        SdJwt.parse(json.dumps(doc))
