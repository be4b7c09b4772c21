"""Issuance properties: salts, decoys, sorting, recursion, bounds, injected randomness."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from instants import utc

from credentials.sd_jwt import (
    MAX_DISCLOSURES,
    ClaimPathError,
    Disclosure,
    SdJwt,
    SdJwtError,
    issue_sd_jwt,
    verify_sd_jwt,
)
from did_methods.encoding import b64url_decode, b64url_encode
from did_methods.errors import PolicyError
from did_methods.keys import KeyType, PrivateKey

NOW_S = 1_800_000_000  # a NumericDate (seconds), as in the tokens
NOW = utc(NOW_S)
KEY = PrivateKey.generate(KeyType.ED25519)
CLAIMS = {"a": 1, "b": {"c": 2, "d": [3, 4]}, "e": "x"}
PATHS = [("a",), ("b",), ("b", "c"), ("b", "d", 1)]


def issue(**kw: Any) -> str:
    args: dict[str, Any] = {
        "issuer": "https://issuer.example",
        "vct": "urn:test",
        "disclosable": PATHS,
        "iat": NOW_S,
        **kw,
    }
    return issue_sd_jwt(CLAIMS, KEY, **args)


def test_header_and_registered_claims() -> None:
    holder = PrivateKey.generate(KeyType.P256)
    sd = SdJwt.parse(
        issue(holder_key=holder.public_key, exp=NOW_S + 10, nbf=NOW_S - 10, status={"x": 1})
    )
    assert sd.unverified_header == {"alg": "EdDSA", "typ": "dc+sd-jwt"}
    payload = sd.unverified_payload
    assert payload["iss"] == "https://issuer.example" and payload["vct"] == "urn:test"
    assert (payload["iat"], payload["nbf"], payload["exp"]) == (NOW_S, NOW_S - 10, NOW_S + 10)
    assert payload["_sd_alg"] == "sha-256"
    assert payload["cnf"] == {"jwk": holder.public_key.to_jwk()}
    assert payload["status"] == {"x": 1}
    assert payload["e"] == "x" and "a" not in payload and "b" not in payload


def test_salts_are_at_least_128_bits_and_distinct() -> None:
    salts = []
    for _ in range(20):
        for encoded in SdJwt.parse(issue()).disclosures:
            salt = Disclosure.parse(encoded).salt
            assert len(b64url_decode(salt)) >= 16
            salts.append(salt)
    assert len(set(salts)) == len(salts)


@pytest.mark.parametrize("decoys", [0, 1, 3])
def test_decoys_and_sorted_digests(decoys: int) -> None:
    sd = SdJwt.parse(issue(decoys=decoys))
    payload = sd.unverified_payload
    real = {Disclosure.parse(d).digest() for d in sd.disclosures}
    top = payload["_sd"]
    assert top == sorted(top)
    # "a" and "b" are disclosable at the top: 2 real digests plus the decoys
    assert len(top) == 2 + decoys
    assert len(set(top) - real) == decoys
    # the array element is a {"...": digest}; "d" itself stays in clear inside "b"
    b = next(Disclosure.parse(d) for d in sd.disclosures if Disclosure.parse(d).name == "b")
    assert len(b.value["_sd"]) == 1 + decoys and b.value["_sd"] == sorted(b.value["_sd"])
    assert b.value["d"][0] == 3 and set(b.value["d"][1]) == {"..."}


def test_recursive_disclosures_round_trip() -> None:
    result = verify_sd_jwt(issue(), issuer_key=KEY.public_key, now=NOW)
    assert result.ok, result.explain()
    doc = {k: v for k, v in (result.document or {}).items() if k not in ("iss", "iat", "vct")}
    assert doc == CLAIMS


def test_injected_randomness_makes_issuance_reproducible() -> None:
    def counter() -> Any:
        state = itertools.count()

        def randbytes(n: int) -> bytes:
            return bytes(next(state) % 256 for _ in range(n))

        return randbytes

    first = issue(randbytes=counter())
    assert first == issue(randbytes=counter())  # Ed25519 signatures are deterministic
    assert first != issue()


def test_a_short_random_source_is_refused() -> None:
    with pytest.raises(SdJwtError):
        issue(randbytes=lambda n: b"\x00" * (n - 1))


@pytest.mark.parametrize(
    "path", [("nope",), ("b", "zz"), ("b", "d", 2), ("a", 0), ("iss",), ("cnf",)]
)
def test_paths_that_name_no_claim_or_a_clear_one(path: tuple[Any, ...]) -> None:
    with pytest.raises(ClaimPathError):
        issue(disclosable=[path])


@pytest.mark.parametrize(
    "claims",
    [
        {"_sd": 1},
        {"x": {"...": 1}},
        {"iss": "me"},
        {"cnf": {}},
        {"x": float("nan")},
        {"x": {1, 2}},
        {1: "non-string name"},
        {"x": "\ud800"},
    ],
)
def test_claims_that_cannot_be_issued(claims: dict[Any, Any]) -> None:
    with pytest.raises(SdJwtError):
        issue_sd_jwt(claims, KEY, issuer="i", vct="v", disclosable=[], iat=NOW_S)


def test_kid_must_belong_to_a_did_issuer() -> None:
    with pytest.raises(SdJwtError):
        issue(issuer="did:example:ministry", kid="did:example:other#k1")
    sd = SdJwt.parse(issue(issuer="did:example:ministry", kid="did:example:ministry#k1"))
    assert sd.unverified_header["kid"] == "did:example:ministry#k1"


def test_present_refuses_nonce_without_key() -> None:
    from credentials.sd_jwt import present

    with pytest.raises(PolicyError):
        present(issue(), [("a",)], nonce="n", audience="a")
    with pytest.raises(PolicyError):
        present(issue(), [("a",)], holder_key=KEY, nonce="n", audience="a")  # no cnf


def test_parse_bounds() -> None:
    sd = SdJwt.parse(issue())
    many = sd.jwt_text + "~" + "~".join([sd.disclosures[0]] * (MAX_DISCLOSURES + 1)) + "~"
    with pytest.raises(SdJwtError, match="disclosures"):
        SdJwt.parse(many)
    with pytest.raises(SdJwtError, match="longer"):
        SdJwt.parse("a" * 1_000_001)
    deep = {"x": 1}
    for _ in range(100):
        deep = {"x": deep}
    h, _, s = sd.jwt_text.split(".")
    from credentials._jws import dumps

    nested = f"{h}.{b64url_encode(dumps(deep))}.{s}~"
    with pytest.raises(SdJwtError, match="deeper"):
        SdJwt.parse(nested)
    with pytest.raises(SdJwtError):
        SdJwt.parse(sd.jwt_text)  # no '~' at all
    with pytest.raises(SdJwtError):
        SdJwt.parse(sd.jwt_text + "~~")  # an empty disclosure
