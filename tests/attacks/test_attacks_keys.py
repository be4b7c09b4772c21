"""Key confusion and algorithm confusion (issue 10 audit): which key a signature is checked
with, and under which algorithm, must follow from the issuer's DID document and the key's
type alone, never from what the token says about itself. Also the time claims at their
edges. Each test asserts the exact refusal code, in every securing format that applies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from credentials import schemas, verify_credential
from credentials.data_integrity import add_proof
from credentials.jose import issue_vc_jwt
from credentials.sd_jwt import issue_sd_jwt, present, verify_sd_jwt
from did_methods import PrivateKey, Resolver, did_key_from_public_key
from did_methods.document import DIDDocument, VerificationMethod
from did_methods.errors import InvalidDocument, ParseError, VerificationError
from did_methods.keys import KeyType
from did_methods.methods.key import KeyMethod
from did_methods.methods.web import WebMethod

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
T = int(NOW.timestamp())
ISSUER = "did:web:ministry.example"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
FORMATS = {"di": ["ldp_vc"], "vc+jwt": ["jwt_vc_json"], "sd-jwt": ["dc+sd-jwt"]}


class _Site:
    """A did:web host serving one document (the fetcher interface, no network)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.body = json.dumps(document).encode()

    def fetch(self, url: str, *, max_bytes: int, timeout: float, accept: str) -> bytes:
        assert url == "https://ministry.example/.well-known/did.json", url
        return self.body


def _document(*methods: dict[str, Any], **relationships: list[Any]) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": ISSUER,
        "verificationMethod": list(methods),
        **relationships,
    }


def _method(key: PrivateKey, fragment: str = "k", **extra: Any) -> dict[str, Any]:
    return {
        "id": f"{ISSUER}#{fragment}",
        "type": "Multikey",
        "controller": ISSUER,
        "publicKeyMultibase": key.public_key.to_multikey(),
        **extra,
    }


def _resolver(document: Mapping[str, Any]) -> Resolver:
    return Resolver([WebMethod(_Site(document)), KeyMethod()], cache_size=0)


def _subject() -> dict[str, Any]:
    subject = schemas.example_subject("WorkPermit")
    subject["id"] = "did:example:amina"
    return subject


def _signed(fmt: str, key: PrivateKey, vm: str, issuer: str = ISSUER) -> Any:
    """A WorkPermit in ``fmt`` naming ``issuer``, signed by ``key`` under ``vm``."""
    credential = {
        "@context": [VC_V2, schemas.CONTEXT_URL],
        "type": ["VerifiableCredential", "WorkPermit"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": _subject(),
    }
    if fmt == "di":
        return add_proof(credential, key, verification_method=vm, created=NOW)
    if fmt == "vc+jwt":
        return issue_vc_jwt(credential, key, kid=vm, now=NOW)
    claims = {"sub": "did:example:amina", **{k: v for k, v in _subject().items() if k != "id"}}
    return issue_sd_jwt(claims, key, issuer=issuer, kid=vm, vct=schemas.vct("WorkPermit"), now=NOW)


def _codes(item: Any, fmt: str, resolver: Resolver) -> tuple[str, ...]:
    result = verify_credential(
        item,
        formats=FORMATS[fmt],
        credential_type="WorkPermit",
        resolver=resolver,
        now=NOW,
        check_schema=False,
    )
    return tuple(c.code for c in result.checks if c.status == "failed")


# -- DID documents: whose key is it, and for what ----------------------------------------


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_honest_did_web_issuer_is_accepted(fmt: str) -> None:
    key = PrivateKey.generate()
    resolver = _resolver(_document(_method(key), assertionMethod=[f"{ISSUER}#k"]))
    assert _codes(_signed(fmt, key, f"{ISSUER}#k"), fmt, resolver) == ()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_key_whose_controller_is_another_did_is_not_the_issuers(fmt: str) -> None:
    """Hole found in the audit: the issuer's document lists, under assertionMethod, a
    method whose controller is another DID; CID 1.0 (Retrieve Verification Method, step
    10) says that is not the issuer's key."""
    key = PrivateKey.generate()
    method = _method(key, controller="did:web:attacker.example")
    resolver = _resolver(_document(method, assertionMethod=[f"{ISSUER}#k"]))
    assert _codes(_signed(fmt, key, f"{ISSUER}#k"), fmt, resolver) == ("key_controller_mismatch",)


def test_resolver_refuses_a_method_another_did_controls() -> None:
    key = PrivateKey.generate()
    method = _method(key, controller="did:web:attacker.example")
    resolver = _resolver(_document(method, assertionMethod=[f"{ISSUER}#k"]))
    with pytest.raises(VerificationError) as raised:
        resolver.verification_method(f"{ISSUER}#k", "assertionMethod")
    assert raised.value.code == "key_controller_mismatch"


@pytest.mark.parametrize(
    ("fmt", "code"),
    [("di", "verification_method_unresolvable"), ("vc+jwt", "key_unresolved"),
     ("sd-jwt", "key_unresolved")],
)  # fmt: skip
def test_method_carrying_two_keys_is_refused(fmt: str, code: str) -> None:
    """Hole found in the audit: a method with both publicKeyMultibase (the signer's key)
    and publicKeyJwk (another key) was read as the first; DID Core 5.2.1 allows one."""
    key, decoy = PrivateKey.generate(), PrivateKey.generate()
    method = _method(key, publicKeyJwk=decoy.public_key.to_jwk())
    resolver = _resolver(_document(method, assertionMethod=[f"{ISSUER}#k"]))
    assert _codes(_signed(fmt, key, f"{ISSUER}#k"), fmt, resolver) == (code,)


def test_document_with_a_two_key_method_does_not_parse() -> None:
    key, decoy = PrivateKey.generate(), PrivateKey.generate()
    with pytest.raises(InvalidDocument):
        VerificationMethod.from_json(_method(key, publicKeyJwk=decoy.public_key.to_jwk()))
    with pytest.raises(InvalidDocument):
        DIDDocument.from_json(
            _document(_method(key, publicKeyBase58="x"), assertionMethod=[f"{ISSUER}#k"])
        )


@pytest.mark.parametrize(
    ("fmt", "code"),
    [("di", "key_not_authorised"), ("vc+jwt", "key_not_authorised"),
     ("sd-jwt", "key_not_authorised")],
)  # fmt: skip
@pytest.mark.parametrize("relationship", ["authentication", "keyAgreement", "capabilityInvocation"])
def test_key_of_another_relationship_cannot_sign_credentials(
    fmt: str, code: str, relationship: str
) -> None:
    key = PrivateKey.generate()
    resolver = _resolver(_document(_method(key), **{relationship: [f"{ISSUER}#k"]}))
    assert _codes(_signed(fmt, key, f"{ISSUER}#k"), fmt, resolver) == (code,)


@pytest.mark.parametrize(
    ("fmt", "code"), [("di", "key_not_issuer"), ("vc+jwt", "kid_not_issuer"),
                      ("sd-jwt", "kid_not_issuer")],
)  # fmt: skip
def test_key_of_another_did_named_for_the_issuer(fmt: str, code: str) -> None:
    """The proof names the attacker's own did:key method, the credential the ministry."""
    attacker = PrivateKey.generate()
    did = did_key_from_public_key(attacker.public_key)
    vm = f"{did}#{attacker.public_key.to_multikey()}"
    resolver = _resolver(_document(_method(PrivateKey.generate()), assertionMethod=[f"{ISSUER}#k"]))
    if fmt == "di":
        forged = _signed(fmt, attacker, vm)
    else:
        # our issuing code refuses such a kid, so the attacker edits its own token
        own = _signed(fmt, attacker, vm, issuer=did)
        jws, _, rest = own.partition("~")
        header, payload = _parts(jws)
        payload = {**payload, "iss": ISSUER}
        if "issuer" in payload:
            payload["issuer"] = ISSUER
        forged = _jws(header, payload, attacker.sign) + ("~" + rest if rest or "~" in own else "")
    assert _codes(forged, fmt, resolver) == (code,)


def test_private_key_published_in_a_did_document_is_not_read() -> None:
    key = PrivateKey.generate()
    method = {**_method(key), "type": "JsonWebKey"}
    del method["publicKeyMultibase"]
    method["publicKeyJwk"] = key.private_jwk()
    resolver = _resolver(_document(method, assertionMethod=[f"{ISSUER}#k"]))
    assert _codes(_signed("vc+jwt", key, f"{ISSUER}#k"), "vc+jwt", resolver) == ("key_unsupported",)


# -- algorithm confusion (VC-JOSE; the header is the attacker's) --------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    head, body, _ = token.split(".")
    return (
        json.loads(base64.urlsafe_b64decode(head + "==")),
        json.loads(base64.urlsafe_b64decode(body + "==")),
    )


def _jws(
    header: Mapping[str, Any], payload: Mapping[str, Any], sign: Callable[[bytes], bytes]
) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


@pytest.fixture
def did_key_vc_jwt() -> tuple[PrivateKey, str, Resolver]:
    key = PrivateKey.generate()
    did = did_key_from_public_key(key.public_key)
    vm = f"{did}#{key.public_key.to_multikey()}"
    return key, _signed("vc+jwt", key, vm, issuer=did), Resolver([KeyMethod()])


def test_alg_none_is_not_a_token(did_key_vc_jwt: tuple[PrivateKey, str, Resolver]) -> None:
    _, token, resolver = did_key_vc_jwt
    header, payload = _parts(token)
    unsigned = _jws({**header, "alg": "none"}, payload, lambda _: b"")
    with pytest.raises(ParseError):
        verify_credential(unsigned, formats=["jwt_vc_json"], credential_type="WorkPermit",
                          resolver=resolver, now=NOW)  # fmt: skip
    signed_none = _jws({**header, "alg": "none"}, payload, lambda _: b"x")
    assert _codes(signed_none, "vc+jwt", resolver) == ("alg_not_allowed",)


@pytest.mark.parametrize("secret", ["raw", "multikey", "jwk"])
def test_hs256_keyed_with_the_issuers_public_key(
    did_key_vc_jwt: tuple[PrivateKey, str, Resolver], secret: str
) -> None:
    key, token, resolver = did_key_vc_jwt
    header, payload = _parts(token)
    public = key.public_key
    material = {
        "raw": public.to_raw() if hasattr(public, "to_raw") else public.to_multikey().encode(),
        "multikey": public.to_multikey().encode(),
        "jwk": json.dumps(public.to_jwk()).encode(),
    }[secret]
    forged = _jws({**header, "alg": "HS256"}, payload,
                  lambda m: hmac.new(material, m, hashlib.sha256).digest())  # fmt: skip
    assert _codes(forged, "vc+jwt", resolver) == ("alg_not_allowed",)


@pytest.mark.parametrize(
    ("key_type", "alg"),
    [(KeyType.ED25519, "ES256"), (KeyType.P256, "EdDSA"), (KeyType.P256, "ES384")],
)
def test_alg_that_does_not_match_the_key_type(key_type: KeyType, alg: str) -> None:
    key = PrivateKey.generate(key_type)
    did = did_key_from_public_key(key.public_key)
    token = _signed("vc+jwt", key, f"{did}#{key.public_key.to_multikey()}", issuer=did)
    header, payload = _parts(token)
    forged = _jws({**header, "alg": alg}, payload, key.sign)
    assert _codes(forged, "vc+jwt", Resolver([KeyMethod()])) == ("alg_key_mismatch",)


@pytest.mark.parametrize("header", [{"crit": ["exp"]}, {"crit": ["b64"], "b64": False}])
def test_critical_header_extensions_are_refused(
    did_key_vc_jwt: tuple[PrivateKey, str, Resolver], header: dict[str, Any]
) -> None:
    key, token, resolver = did_key_vc_jwt
    head, payload = _parts(token)
    with pytest.raises(ParseError, match="crit"):
        verify_credential(_jws({**head, **header}, payload, key.sign), formats=["jwt_vc_json"],
                          credential_type="WorkPermit", resolver=resolver, now=NOW)  # fmt: skip


def test_embedded_jwk_header_does_not_choose_the_key(
    did_key_vc_jwt: tuple[PrivateKey, str, Resolver],
) -> None:
    _, token, resolver = did_key_vc_jwt
    header, payload = _parts(token)
    attacker = PrivateKey.generate()
    forged = _jws({**header, "jwk": attacker.public_key.to_jwk()}, payload, attacker.sign)
    assert _codes(forged, "vc+jwt", resolver) == ("signature_invalid",)


# -- time claims at their edges ------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"exp": T - 61}, "expired"),
        ({"exp": 0}, "expired"),
        ({"exp": -1}, "claims_invalid"),
        ({"exp": 2**63}, "claims_invalid"),
        ({"exp": 1e300}, "claims_invalid"),
        ({"exp": True}, "claims_invalid"),
        ({"exp": "2030-01-01"}, "claims_invalid"),
        ({"nbf": T + 61}, "not_yet_valid"),
        ({"nbf": 2**70}, "claims_invalid"),
        ({"iat": T + 3600}, "not_yet_valid"),
        ({"iat": 1e300}, "claims_invalid"),
        ({"validUntil": "2026-06-01T10:00:00Z"}, "expired"),
        ({"validFrom": "2026-06-02T00:00:00Z"}, "not_yet_valid"),
    ],
)
def test_time_claims_at_their_edges(
    did_key_vc_jwt: tuple[PrivateKey, str, Resolver], claims: dict[str, Any], code: str
) -> None:
    key, token, resolver = did_key_vc_jwt
    header, payload = _parts(token)
    assert code in _codes(_jws(header, {**payload, **claims}, key.sign), "vc+jwt", resolver)


@pytest.mark.parametrize("claims", [{"exp": T - 59}, {"nbf": T + 59}, {"exp": T}])
def test_time_claims_inside_the_skew_are_accepted(
    did_key_vc_jwt: tuple[PrivateKey, str, Resolver], claims: dict[str, Any]
) -> None:
    key, token, resolver = did_key_vc_jwt
    header, payload = _parts(token)
    assert _codes(_jws(header, {**payload, **claims}, key.sign), "vc+jwt", resolver) == ()


# -- SD-JWT key binding: the holder's key, not the token's word ----------------------------


def _sd_jwt(holder: PrivateKey) -> tuple[str, Resolver]:
    key = PrivateKey.generate()
    did = did_key_from_public_key(key.public_key)
    token = issue_sd_jwt(
        {"sub": "did:example:amina", "given_name": "Amina", "sector": "Q86"},
        key,
        issuer=did,
        disclosable=["given_name", "sector"],
        kid=f"{did}#{key.public_key.to_multikey()}",
        vct=schemas.vct("WorkPermit"),
        holder_key=holder.public_key,
        now=NOW,
    )
    return token, Resolver([KeyMethod()])


def _kb_codes(text: str, resolver: Resolver) -> tuple[str, ...]:
    result = verify_sd_jwt(text, resolver, now=NOW, nonce="n-1", audience="did:web:v.example")
    return tuple(c.code for c in result.checks if c.status == "failed")


def test_key_binding_with_alg_none_or_hs256() -> None:
    holder = PrivateKey.generate()
    token, resolver = _sd_jwt(holder)
    honest = present(token, ["given_name"], holder_key=holder, nonce="n-1",
                     audience="did:web:v.example", now=NOW)  # fmt: skip
    assert _kb_codes(honest, resolver) == ()
    prefix, kb = honest.rsplit("~", 1)
    header, payload = _parts(kb)
    for alg, sign in (
        ("none", lambda _: b"x"),
        ("HS256", lambda m: hmac.new(b"secret", m, hashlib.sha256).digest()),
        ("ES256", holder.sign),
    ):
        forged = f"{prefix}~{_jws({**header, 'alg': alg}, payload, sign)}"
        assert _kb_codes(forged, resolver) == ("kb_alg_not_allowed",), alg


def test_key_binding_over_other_disclosures_fails_sd_hash() -> None:
    holder = PrivateKey.generate()
    token, resolver = _sd_jwt(holder)
    shown = present(token, ["given_name"], holder_key=holder, nonce="n-1",
                    audience="did:web:v.example", now=NOW)  # fmt: skip
    bare = present(token, ["sector"], holder_key=holder, nonce="n-1",
                   audience="did:web:v.example", now=NOW)  # fmt: skip
    # the KB-JWT made over another disclosure, stapled onto the one that shows the name
    stapled = shown.rsplit("~", 1)[0] + "~" + bare.rsplit("~", 1)[1]
    assert _kb_codes(stapled, resolver) == ("kb_sd_hash_mismatch",)


def test_the_same_disclosure_twice_is_refused() -> None:
    holder = PrivateKey.generate()
    token, resolver = _sd_jwt(holder)
    issued, *disclosures, _ = token.split("~")
    doubled = "~".join([issued, *disclosures, *disclosures, ""])
    result = verify_sd_jwt(doubled, resolver, now=NOW)
    assert tuple(c.code for c in result.checks if c.status == "failed") == ("disclosure_duplicate",)


# -- a JWK that says what it is for (RFC 7517 4.2-4.4), in a DID document ------------------


def _jwk_method(key: PrivateKey, **members: Any) -> dict[str, Any]:
    return {
        "id": f"{ISSUER}#k",
        "type": "JsonWebKey",
        "controller": ISSUER,
        "publicKeyJwk": {**key.public_key.to_jwk(), **members},
    }


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize(
    ("members", "code"),
    [
        ({"use": "enc"}, "key_use_forbidden"),
        ({"key_ops": ["encrypt", "deriveKey"]}, "key_use_forbidden"),
        ({"key_ops": "verify"}, "key_use_forbidden"),
        ({"alg": "ES256"}, "key_alg_mismatch"),
        ({"alg": "HS256"}, "key_alg_mismatch"),
    ],
)
def test_did_document_jwk_not_meant_for_signatures(
    fmt: str, members: dict[str, Any], code: str
) -> None:
    """Hole found in the audit: JWK Sets refused these keys, DID documents did not."""
    key = PrivateKey.generate()
    resolver = _resolver(_document(_jwk_method(key, **members), assertionMethod=[f"{ISSUER}#k"]))
    assert _codes(_signed(fmt, key, f"{ISSUER}#k"), fmt, resolver) == (code,)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_did_document_jwk_meant_for_signatures_is_accepted(fmt: str) -> None:
    key = PrivateKey.generate()
    method = _jwk_method(key, use="sig", key_ops=["verify"], alg="EdDSA")
    resolver = _resolver(_document(method, assertionMethod=[f"{ISSUER}#k"]))
    assert _codes(_signed(fmt, key, f"{ISSUER}#k"), fmt, resolver) == ()
