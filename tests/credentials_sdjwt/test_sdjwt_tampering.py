"""One named test per attack on an SD-JWT: each is refused with its own code."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from instants import utc

from credentials._jws import dumps, sign_compact
from credentials.result import Check
from credentials.sd_jwt import Disclosure, SdJwt, issue_sd_jwt, present, verify_sd_jwt
from did_methods.document import DIDDocument, VerificationMethod
from did_methods.encoding import b64url_encode
from did_methods.errors import ResolutionError, VerificationError
from did_methods.keys import KeyType, PrivateKey
from did_methods.resolver import Resolver

NOW_S = 1_800_000_000  # a NumericDate (seconds), as in the tokens
NOW = utc(NOW_S)
NONCE, AUD = "n-0S6_WzA2Mj", "https://employer.example"
CLAIMS = {
    "given_name": "Amina",
    "birthdate": "1990-04-01",
    "nationalities": ["SY", "TR"],
    "address": {"street": "Gedimino pr. 1", "locality": "Vilnius"},
    "work": {"sector": "healthcare", "until": "2027-06-30"},
}
PATHS = [
    ("given_name",),
    ("birthdate",),
    ("nationalities", 0),
    ("nationalities", 1),
    ("address",),
    ("address", "street"),
    ("work", "sector"),
]


@pytest.fixture
def issued(issuer: Any, holder: Any) -> str:
    return issue_sd_jwt(
        CLAIMS,
        issuer.key,
        issuer=issuer.did,
        kid=issuer.kid,
        vct="https://example.eu/WorkPermit",
        disclosable=PATHS,
        holder_key=holder.key.public_key,
        iat=NOW_S - 100,
        exp=NOW_S + 86400,
    )


def kb_present(issued: str, holder: Any, paths: list[Any], **kw: Any) -> str:
    args = {"holder_key": holder.key, "nonce": NONCE, "audience": AUD, "now": NOW, **kw}
    return present(issued, paths, **args)


def check(text: str, resolver: Resolver, **kw: Any) -> tuple[str, ...]:
    args: dict[str, Any] = {"now": NOW, "nonce": NONCE, "audience": AUD, **kw}
    return verify_sd_jwt(text, resolver, **args).codes


def with_disclosures(text: str, disclosures: list[str]) -> str:
    sd = SdJwt.parse(text)
    return "".join(s + "~" for s in (sd.jwt_text, *disclosures)) + (sd.kb_jwt_text or "")


def test_untampered_presentation_is_valid(issued: str, holder: Any, resolver: Resolver) -> None:
    shown = kb_present(issued, holder, [("work",), ("address", "locality")])
    result = verify_sd_jwt(shown, resolver, now=NOW, nonce=NONCE, audience=AUD)
    assert result.ok, result.explain()
    doc = result.document or {}
    assert doc["work"] == CLAIMS["work"]
    assert doc["address"] == {"locality": "Vilnius"}
    assert "given_name" not in doc and "birthdate" not in doc and "nationalities" in doc
    assert doc["nationalities"] == []


def test_changed_disclosure(issued: str, resolver: Resolver) -> None:
    sd = SdJwt.parse(issued)
    original = Disclosure.parse(sd.disclosures[0])
    forged = Disclosure.create(original.salt, original.name, "Somebody Else")
    tampered = with_disclosures(issued, [forged.encoded, *sd.disclosures[1:]])
    assert check(tampered, resolver, nonce=None, audience=None) == ("disclosure_unreferenced",)


def test_dropped_disclosure_breaks_sd_hash(issued: str, holder: Any, resolver: Resolver) -> None:
    shown = kb_present(issued, holder, [("given_name",), ("birthdate",)])
    sd = SdJwt.parse(shown)
    assert check(with_disclosures(shown, list(sd.disclosures[:1])), resolver) == (
        "kb_sd_hash_mismatch",
    )


def test_dropped_parent_leaves_child_unreferenced(issued: str, resolver: Resolver) -> None:
    shown = present(issued, [("address", "street")])
    sd = SdJwt.parse(shown)
    assert len(sd.disclosures) == 2  # address and its street
    parent = next(d for d in sd.disclosures if Disclosure.parse(d).name == "address")
    kept = [d for d in sd.disclosures if d != parent]
    codes = check(with_disclosures(shown, kept), resolver, nonce=None, audience=None)
    assert codes == ("disclosure_unreferenced",)


def test_duplicated_disclosure(issued: str, resolver: Resolver) -> None:
    sd = SdJwt.parse(issued)
    tampered = with_disclosures(issued, [*sd.disclosures, sd.disclosures[0]])
    assert check(tampered, resolver, nonce=None, audience=None) == ("disclosure_duplicate",)


def test_foreign_disclosure(issued: str, issuer: Any, resolver: Resolver) -> None:
    other = issue_sd_jwt(
        {"given_name": "Mallory"},
        issuer.key,
        issuer=issuer.did,
        kid=issuer.kid,
        vct="x",
        disclosable=[("given_name",)],
        iat=NOW_S,
    )
    foreign = SdJwt.parse(other).disclosures[0]
    tampered = with_disclosures(issued, [*SdJwt.parse(issued).disclosures, foreign])
    assert check(tampered, resolver, nonce=None, audience=None) == ("disclosure_unreferenced",)


def test_kb_reused_with_another_nonce_or_audience(
    issued: str, holder: Any, resolver: Resolver
) -> None:
    shown = kb_present(issued, holder, [("work",)])
    assert check(shown, resolver) == ()
    assert check(shown, resolver, nonce="another") == ("kb_nonce_mismatch",)
    assert check(shown, resolver, audience="https://other.example") == ("kb_audience_mismatch",)


def test_kb_moved_onto_other_disclosures(issued: str, holder: Any, resolver: Resolver) -> None:
    a = SdJwt.parse(kb_present(issued, holder, [("work",)]))
    b = SdJwt.parse(present(issued, [("work",), ("birthdate",)]))
    assert check(str(b) + (a.kb_jwt_text or ""), resolver) == ("kb_sd_hash_mismatch",)


def test_kb_signed_by_another_key(issued: str, holder: Any, resolver: Resolver) -> None:
    prefix = present(issued, [("work",)])
    sd = SdJwt.parse(prefix)
    sd_hash = b64url_encode(hashlib.sha256(sd.presentation_prefix().encode()).digest())
    payload = {"iat": NOW_S, "aud": AUD, "nonce": NONCE, "sd_hash": sd_hash}
    thief = PrivateKey.generate(KeyType.P256)
    kb = sign_compact({"typ": "kb+jwt"}, dumps(payload), thief)
    assert check(prefix + kb, resolver) == ("kb_signature_invalid",)
    # and present() refuses to sign with a key that is not cnf
    with pytest.raises(Exception, match="cnf"):
        present(issued, [("work",)], holder_key=thief, nonce=NONCE, audience=AUD)


def test_kb_missing_stale_or_from_the_future(issued: str, holder: Any, resolver: Resolver) -> None:
    assert check(present(issued, [("work",)]), resolver) == ("kb_missing",)
    # kb_max_age (300 s) and the default clock skew (60 s) on the KB-JWT's iat
    old = kb_present(issued, holder, [("work",)], now=utc(NOW_S - 361))
    assert check(old, resolver) == ("kb_stale",)
    assert check(old, resolver, kb_max_age=600) == ()
    assert check(kb_present(issued, holder, [("work",)], now=utc(NOW_S - 360)), resolver) == ()
    future = kb_present(issued, holder, [("work",)], now=utc(NOW_S + 61))
    assert check(future, resolver) == ("kb_not_yet_valid",)
    assert check(kb_present(issued, holder, [("work",)], now=utc(NOW_S + 60)), resolver) == ()


def test_kb_wrong_typ(issued: str, holder: Any, resolver: Resolver) -> None:
    prefix = present(issued, [("work",)])
    sd_hash = b64url_encode(hashlib.sha256(prefix.encode()).digest())
    payload = {"iat": NOW_S, "aud": AUD, "nonce": NONCE, "sd_hash": sd_hash}
    kb = sign_compact({"typ": "JWT"}, dumps(payload), holder.key)
    assert check(prefix + kb, resolver) == ("kb_typ_invalid",)


def test_issuer_payload_changed(issued: str, issuer: Any, resolver: Resolver) -> None:
    sd = SdJwt.parse(issued)
    h, _, s = sd.jwt_text.split(".")
    payload = dict(sd.unverified_payload)
    payload["exp"] = NOW_S + 10**9
    forged = ".".join((h, b64url_encode(dumps(payload)), s))
    text = with_disclosures(issued, list(sd.disclosures)).replace(sd.jwt_text, forged)
    assert check(text, resolver, nonce=None, audience=None) == ("signature_invalid",)


@pytest.mark.parametrize(
    ("alg", "code"),
    [
        ("none", "alg_not_allowed"),
        ("HS256", "alg_not_allowed"),
        ("RS256", "alg_not_allowed"),
        (None, "alg_not_allowed"),
    ],
)
def test_refused_algorithms(issued: str, resolver: Resolver, alg: str | None, code: str) -> None:
    sd = SdJwt.parse(issued)
    header = {**sd.unverified_header, "alg": alg}
    _, p, s = sd.jwt_text.split(".")
    forged = ".".join((b64url_encode(dumps(header)), p, s))
    text = str(sd).replace(sd.jwt_text, forged)
    assert check(text, resolver, nonce=None, audience=None) == (code,)


def test_alg_that_does_not_fit_the_key(issued: str, issuer: Any, resolver: Resolver) -> None:
    sd = SdJwt.parse(issued)
    wrong = "ES256" if issuer.key.key_type is KeyType.ED25519 else "EdDSA"
    header = {**sd.unverified_header, "alg": wrong}
    _, p, s = sd.jwt_text.split(".")
    text = str(sd).replace(sd.jwt_text, ".".join((b64url_encode(dumps(header)), p, s)))
    assert check(text, resolver, nonce=None, audience=None) == ("alg_key_mismatch",)


def test_kid_of_another_did(issuer: Any, new_party: Callable[..., Any], resolver: Resolver) -> None:
    other = new_party(KeyType.ED25519)
    text = issue_sd_jwt({"a": 1}, other.key, issuer=other.did, kid=other.kid, vct="x", iat=NOW_S)
    sd = SdJwt.parse(text)
    # re-sign the same claims under the other key but claim to be `issuer`
    payload = {**sd.unverified_payload, "iss": issuer.did}
    jwt = sign_compact({"typ": "dc+sd-jwt", "kid": other.kid}, dumps(payload), other.key)
    assert check(jwt + "~", resolver, nonce=None, audience=None) == ("kid_not_issuer",)


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


def test_key_not_authorised_for_assertion() -> None:
    key = PrivateKey.generate(KeyType.ED25519)
    did = "did:web:ministry.example"
    vm = VerificationMethod.from_public_key(key.public_key, controller=did, id=f"{did}#k1")
    doc = DIDDocument.build(
        did, verification_methods=(vm,), relationships={"authentication": (vm.id,)}
    )
    text = issue_sd_jwt({"a": 1}, key, issuer=did, kid=vm.id, vct="x", iat=NOW_S)
    assert check(text, _DocResolver(doc), nonce=None, audience=None) == ("key_not_authorised",)  # type: ignore[arg-type]
    unknown = issue_sd_jwt({"a": 1}, key, issuer=did, kid=f"{did}#k2", vct="x", iat=NOW_S)
    assert check(unknown, _DocResolver(doc), nonce=None, audience=None) == ("key_unresolved",)  # type: ignore[arg-type]


def test_expired_and_not_yet_valid(issuer: Any, resolver: Resolver) -> None:
    kw: dict[str, Any] = {"issuer": issuer.did, "kid": issuer.kid, "vct": "x", "iat": NOW_S - 10}
    # exp and nbf hold within the default clock skew (60 s), not beyond it
    expired = issue_sd_jwt({"a": 1}, issuer.key, exp=NOW_S - 60, **kw)
    assert check(expired, resolver, nonce=None, audience=None) == ("expired",)
    just = issue_sd_jwt({"a": 1}, issuer.key, exp=NOW_S - 59, **kw)
    assert check(just, resolver, nonce=None, audience=None) == ()
    early = issue_sd_jwt({"a": 1}, issuer.key, nbf=NOW_S + 61, **kw)
    assert check(early, resolver, nonce=None, audience=None) == ("not_yet_valid",)
    soon = issue_sd_jwt({"a": 1}, issuer.key, nbf=NOW_S + 60, **kw)
    assert check(soon, resolver, nonce=None, audience=None) == ()


def test_status_checker_plugs_in(issuer: Any, resolver: Resolver) -> None:
    status = {"status_list": {"idx": 7, "uri": "https://status.example/1"}}
    text = issue_sd_jwt(
        {"a": 1}, issuer.key, issuer=issuer.did, kid=issuer.kid, vct="x", iat=NOW_S, status=status
    )
    seen: list[Any] = []

    def revoked(claim: Any) -> Check:
        seen.append(claim)
        return Check.failed("status", "revoked", "revoked by the issuer")

    assert check(text, resolver, nonce=None, audience=None, status_checker=revoked) == ("revoked",)
    assert seen == [status]
    # Status fails closed: without a checker, a credential that names a status is invalid.
    unchecked = verify_sd_jwt(text, resolver, now=NOW)
    assert not unchecked.ok
    assert unchecked.codes == ("status_unavailable",)


# -- crafted issuer payloads (signed by the real issuer, so only the SD rules can refuse) --


def craft(issuer: Any, payload: dict[str, Any], disclosures: list[str]) -> str:
    body = {"iss": issuer.did, "iat": NOW_S, "vct": "x", **payload}
    jwt = sign_compact({"typ": "dc+sd-jwt", "kid": issuer.kid}, dumps(body), issuer.key)
    return "".join(s + "~" for s in (jwt, *disclosures))


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_disclosure_naming_a_reserved_claim(issuer: Any, resolver: Resolver, name: str) -> None:
    encoded = b64url_encode(dumps(["c2FsdHNhbHRzYWx0c2FsdA", name, "x"]))
    d = Disclosure(encoded, "", name, "x")
    text = craft(issuer, {"_sd": [d.digest()], "_sd_alg": "sha-256"}, [encoded])
    assert check(text, resolver, nonce=None, audience=None) == ("disclosure_invalid",)


def test_disclosure_for_a_claim_present_in_clear(issuer: Any, resolver: Resolver) -> None:
    d = Disclosure.create("c2FsdHNhbHRzYWx0c2FsdA", "given_name", "Eve")
    text = craft(issuer, {"given_name": "Amina", "_sd": [d.digest()]}, [d.encoded])
    assert check(text, resolver, nonce=None, audience=None) == ("disclosure_claim_conflict",)


def test_duplicate_digest_in_payload(issuer: Any, resolver: Resolver) -> None:
    d = Disclosure.create("c2FsdHNhbHRzYWx0c2FsdA", "given_name", "Amina")
    payload = {"_sd": [d.digest()], "nested": {"_sd": [d.digest()]}}
    text = craft(issuer, payload, [d.encoded])
    assert check(text, resolver, nonce=None, audience=None) == ("disclosure_duplicate",)


def test_unknown_sd_alg(issuer: Any, resolver: Resolver) -> None:
    d = Disclosure.create("c2FsdHNhbHRzYWx0c2FsdA", "given_name", "Amina")
    text = craft(issuer, {"_sd": [d.digest()], "_sd_alg": "md5"}, [d.encoded])
    assert check(text, resolver, nonce=None, audience=None) == ("sd_alg_unsupported",)


def test_array_disclosure_in_object_and_object_disclosure_in_array(
    issuer: Any, resolver: Resolver
) -> None:
    element = Disclosure.create("c2FsdHNhbHRzYWx0c2FsdA", None, "SY")
    member = Disclosure.create("c2FsdHNhbHRzYWx0c2FsdB", "k", "v")
    bad1 = craft(issuer, {"_sd": [element.digest()]}, [element.encoded])
    bad2 = craft(issuer, {"list": [{"...": member.digest()}]}, [member.encoded])
    for text in (bad1, bad2):
        assert check(text, resolver, nonce=None, audience=None) == ("disclosure_invalid",)


def test_malformed_disclosure(issuer: Any, resolver: Resolver) -> None:
    for data in (b'["only-salt"]', b'{"a": 1}', b'[1, "name", "v"]', b'["s", 5, "v"]', b"\xff"):
        text = craft(issuer, {}, [b64url_encode(data)])
        assert check(text, resolver, nonce=None, audience=None) == ("disclosure_invalid",)


@pytest.mark.parametrize("name", ["cnf", "exp", "status", "vct"])
def test_disclosure_of_a_claim_that_must_stay_clear(
    issuer: Any, resolver: Resolver, name: str
) -> None:
    d = Disclosure.create("c2FsdHNhbHRzYWx0c2FsdA", name, {"jwk": {}} if name == "cnf" else 1)
    body: dict[str, Any] = {"_sd": [d.digest()]}
    text = craft(issuer, body, [d.encoded])
    if name == "vct":
        # craft() puts vct in clear, so this one is a plain conflict
        assert check(text, resolver, nonce=None, audience=None) == ("disclosure_claim_conflict",)
    else:
        assert check(text, resolver, nonce=None, audience=None) == ("disclosure_invalid",)
