"""DPoP (RFC 9449): the RFC's own proofs, our proofs checked by jwcrypto and jwcrypto's by us,
one test per refusal of section 4.3, replay through the jti store, and garbage input."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from instants import utc
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws
from vector_files import load_vector

from credentials._jws import b64d, b64e, dumps
from credentials.oauth import (
    DPoPError,
    MemoryJtiStore,
    access_token_hash,
    create_dpop_proof,
    normalise_htu,
    verify_dpop_proof,
)
from did_methods.errors import ParseError
from did_methods.keys import KeyType, PrivateKey

RFC = load_vector("dpop-rfc9449/rfc9449-examples.json")
NOW_S = 1_780_000_000  # the proofs' iat, a NumericDate
NOW = utc(NOW_S)
TOKEN_URL = "https://issuer.example/token"
ACCESS = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"


def _verify(proof: str, **kwargs: Any) -> Any:
    options: dict[str, Any] = {"htm": "POST", "htu": TOKEN_URL, "now": NOW}
    options["jti_store"] = MemoryJtiStore()
    options.update(kwargs)
    return verify_dpop_proof(proof, **options)


def _code(call: Callable[[], object]) -> str:
    with pytest.raises(DPoPError) as caught:
        call()
    return caught.value.code


# ------------------------------------------------------------------ the RFC's examples


def test_rfc9449_token_request_proof_verifies() -> None:
    case = RFC["token_request_proof"]
    proof = _verify(case["proof"], htm=case["htm"], htu=case["htu"], now=utc(case["iat"] + 5))
    assert proof.jkt == RFC["jkt"]
    assert (proof.jti, proof.iat, proof.htm) == ("-BwC3ESc6acc2lTc", 1562262616.0, "POST")


def test_rfc9449_resource_proof_with_access_token_verifies() -> None:
    case = RFC["resource_request_proof"]
    assert access_token_hash(case["access_token"]) == case["ath"]
    proof = _verify(
        case["proof"],
        htm="GET",
        htu=case["htu"] + "?page=2#top",  # the request's query and fragment are ignored
        now=utc(case["iat"]),
        access_token=case["access_token"],
        jkt=RFC["jkt"],
    )
    assert proof.claims["ath"] == case["ath"]
    # the same proof with another token, or bound to another key, is refused
    other = {"htm": "GET", "htu": case["htu"], "now": utc(case["iat"])}
    assert _code(lambda: _verify(case["proof"], access_token="x", jkt=RFC["jkt"], **other)) == (
        "dpop_ath_mismatch"
    )
    wrong_jkt = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    assert (
        _code(
            lambda: _verify(
                case["proof"], access_token=case["access_token"], jkt=wrong_jkt, **other
            )
        )
        == "dpop_jkt_mismatch"
    )
    assert _code(lambda: _verify(case["proof"], access_token=case["access_token"], **other)) == (
        "dpop_jkt_mismatch"  # a token with no cnf.jkt is not DPoP-bound
    )


# ------------------------------------------------------------------ round trips and interop


@pytest.mark.parametrize("key_type", [KeyType.P256, KeyType.ED25519])
def test_round_trip_with_token_and_nonce(key_type: KeyType) -> None:
    key = PrivateKey.generate(key_type)
    proof = create_dpop_proof(
        key, htm="GET", htu="HTTPS://Issuer.Example:443/credential?x=1", access_token=ACCESS,
        nonce="n-0S6_WzA2Mj", now=NOW,
    )  # fmt: skip
    got = _verify(
        proof,
        htm="GET",
        htu="https://issuer.example/credential",
        access_token=ACCESS,
        jkt=key.public_key.jwk_thumbprint(),
        nonce=["old", "n-0S6_WzA2Mj"],
    )
    assert got.public_key == key.public_key
    assert got.htu == "https://issuer.example/credential"  # sent without query, normalised
    assert got.claims["nonce"] == "n-0S6_WzA2Mj" and len(b64d(got.jti)) == 16


def _jwcrypto_key(key: PrivateKey) -> jwcrypto_jwk.JWK:
    return jwcrypto_jwk.JWK(**key.private_jwk())


def test_jwcrypto_verifies_our_proof_and_agrees_on_the_thumbprint() -> None:
    key = PrivateKey.generate(KeyType.P256)
    proof = create_dpop_proof(key, htm="POST", htu=TOKEN_URL, now=NOW)
    header = json.loads(b64d(proof.split(".")[0]))
    public = jwcrypto_jwk.JWK(**header["jwk"])
    token = jwcrypto_jws.JWS()
    token.deserialize(proof)
    token.verify(public)  # raises unless the signature holds
    assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256"
    assert json.loads(token.payload)["htu"] == TOKEN_URL
    assert public.thumbprint() == key.public_key.jwk_thumbprint()


@pytest.mark.parametrize("key_type", [KeyType.P256, KeyType.ED25519])
def test_we_verify_a_proof_jwcrypto_signed(key_type: KeyType) -> None:
    key = PrivateKey.generate(key_type)
    signer = _jwcrypto_key(key)
    alg = key_type.jws_alg
    header = {"typ": "dpop+jwt", "alg": alg, "jwk": json.loads(signer.export_public())}
    claims = {"jti": "a-unique-id-1", "htm": "POST", "htu": TOKEN_URL, "iat": NOW_S}
    token = jwcrypto_jws.JWS(json.dumps(claims))
    token.add_signature(signer, alg=alg, protected=json.dumps(header))
    got = _verify(token.serialize(compact=True))
    assert got.jkt == signer.thumbprint()


# ------------------------------------------------------------------ each refusal


def _forge(
    key: PrivateKey,
    header: dict[str, Any] | None = None,
    claims: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
) -> str:
    """A proof signed by ``key`` with the given header and claim changes."""
    head = {"typ": "dpop+jwt", "alg": key.key_type.jws_alg, "jwk": key.public_key.to_jwk()}
    body: dict[str, Any] = {"jti": "j-1", "htm": "POST", "htu": TOKEN_URL, "iat": NOW_S}
    head.update(header or {})
    body.update(claims or {})
    for name in drop:
        head.pop(name, None)
        body.pop(name, None)
    signing_input = b64e(dumps(head)) + "." + b64e(dumps(body))
    return signing_input + "." + b64e(key.sign(signing_input.encode()))


KEY = PrivateKey.generate(KeyType.P256)


@pytest.mark.parametrize(
    ("proof", "code"),
    [
        ("not a jwt", "dpop_malformed"),
        ("a." * 5000, "dpop_malformed"),
        (_forge(KEY, drop=("jti",)), "dpop_claim_missing"),
        (_forge(KEY, drop=("iat",)), "dpop_claim_missing"),
        (_forge(KEY, claims={"iat": "1780000000"}), "dpop_claim_invalid"),
        (_forge(KEY, claims={"jti": ""}), "dpop_claim_invalid"),
        (_forge(KEY, header={"typ": "JWT"}), "dpop_typ_invalid"),
        (_forge(KEY, drop=("typ",)), "dpop_typ_invalid"),
        (_forge(KEY, header={"alg": "none"}), "dpop_alg_not_allowed"),
        (_forge(KEY, header={"alg": "HS256"}), "dpop_alg_not_allowed"),
        (_forge(KEY, header={"alg": "EdDSA"}), "dpop_alg_not_allowed"),  # not a P-256 alg
        (_forge(KEY, drop=("jwk",)), "dpop_jwk_invalid"),
        (_forge(KEY, header={"jwk": {"kty": "EC", "crv": "P-256", "x": "AA"}}), "dpop_jwk_invalid"),
        (_forge(KEY, header={"jwk": KEY.private_jwk()}), "dpop_jwk_private"),
        (_forge(KEY, header={"jwk": PrivateKey.generate(KeyType.P256).public_key.to_jwk()}),
         "dpop_signature_invalid"),
        (_forge(KEY, claims={"htm": "GET"}), "dpop_htm_mismatch"),
        (_forge(KEY, claims={"htu": "https://issuer.example/token2"}), "dpop_htu_mismatch"),
        (_forge(KEY, claims={"htu": "http://issuer.example/token"}), "dpop_htu_mismatch"),
        (_forge(KEY, claims={"htu": "https://evil.example/token"}), "dpop_htu_mismatch"),
        (_forge(KEY, claims={"htu": "https://u@issuer.example/token"}), "dpop_htu_mismatch"),
        (_forge(KEY, claims={"iat": NOW_S + 61}), "dpop_iat_future"),
        (_forge(KEY, claims={"iat": NOW_S - 361}), "dpop_iat_stale"),
    ],
)  # fmt: skip
def test_refusals(proof: str, code: str) -> None:
    assert _code(lambda: _verify(proof)) == code


def test_edges_of_the_iat_window_pass() -> None:
    _verify(_forge(KEY, claims={"iat": NOW_S + 60}))
    _verify(_forge(KEY, claims={"iat": NOW_S - 360}))
    _verify(_forge(KEY, claims={"iat": NOW_S - 10}), max_age=5, skew=5)
    assert _code(lambda: _verify(_forge(KEY, claims={"iat": NOW_S - 11}), max_age=5, skew=5)) == (
        "dpop_iat_stale"
    )


def test_nonce_refusals_answer_use_dpop_nonce() -> None:
    missing = _code(lambda: _verify(_forge(KEY), nonce="server-nonce"))
    with pytest.raises(DPoPError) as caught:
        _verify(_forge(KEY, claims={"nonce": "stale"}), nonce="server-nonce")
    assert (missing, caught.value.code) == ("dpop_nonce_missing", "dpop_nonce_mismatch")
    assert caught.value.oauth_error == "use_dpop_nonce"
    with pytest.raises(DPoPError) as other:
        _verify(_forge(KEY, header={"typ": "jwt"}))
    assert other.value.oauth_error == "invalid_dpop_proof"


def test_narrowed_alg_list() -> None:
    ed = PrivateKey.generate(KeyType.ED25519)
    assert _code(lambda: _verify(_forge(ed), algs=("ES256",))) == "dpop_alg_not_allowed"
    _verify(_forge(ed), algs=("EdDSA",))


def test_a_jti_is_accepted_once_and_forgotten_after_its_window() -> None:
    store = MemoryJtiStore()
    proof = _forge(KEY)
    _verify(proof, jti_store=store)
    assert _code(lambda: _verify(proof, jti_store=store)) == "dpop_replayed"
    assert len(store) == 1
    # a later proof expires the old entry (iat + 300 + 60 <= now)
    _verify(
        _forge(KEY, claims={"jti": "j-2", "iat": NOW_S + 400}),
        jti_store=store,
        now=utc(NOW_S + 400),
    )
    assert len(store) == 1


def test_a_full_jti_store_refuses_rather_than_forgets() -> None:
    store = MemoryJtiStore(max_entries=2)
    for n in range(2):
        _verify(_forge(KEY, claims={"jti": f"id-{n}"}), jti_store=store)
    assert _code(lambda: _verify(_forge(KEY, claims={"jti": "id-3"}), jti_store=store)) == (
        "dpop_replay_store_full"
    )
    assert _code(lambda: _verify(_forge(KEY, claims={"jti": "id-0"}), jti_store=store)) == (
        "dpop_replayed"
    )


# ------------------------------------------------------------------ htu normalisation


@pytest.mark.parametrize(
    ("uri", "normal"),
    [
        ("HTTPS://Server.Example.COM:443/token?x#y", "https://server.example.com/token"),
        ("http://server.example.com:80", "http://server.example.com/"),
        ("https://server.example.com:8443/a/./b/../c", "https://server.example.com:8443/a/c"),
        ("https://server.example.com/%7euser/%2f%41", "https://server.example.com/~user/%2FA"),
        ("https://[2001:DB8::1]:443/t", "https://[2001:db8::1]/t"),
    ],
)
def test_normalise_htu(uri: str, normal: str) -> None:
    assert normalise_htu(uri) == normal


@pytest.mark.parametrize(
    "uri",
    ["", "/token", "ftp://a.example/", "https:///x", "https://a b/", "https://a.example:99999/",
     "https://user:pw@a.example/", "https://a.example/\x00", "https://ä.example/"],
)  # fmt: skip
def test_normalise_htu_refuses(uri: str) -> None:
    with pytest.raises(ParseError):
        normalise_htu(uri)


def test_create_refuses_bad_inputs() -> None:
    with pytest.raises(ParseError):
        create_dpop_proof(KEY, htm="post", htu=TOKEN_URL)
    with pytest.raises(ParseError):
        create_dpop_proof(KEY, htm="POST", htu="/relative")
    with pytest.raises(ParseError):
        create_dpop_proof(KEY, htm="POST", htu=TOKEN_URL, access_token="tökén")


# ------------------------------------------------------------------ hostile input


@given(st.text(max_size=300))
def test_garbage_text_is_a_typed_refusal(text: str) -> None:
    with pytest.raises(DPoPError):
        _verify(text)


@given(
    st.dictionaries(
        st.sampled_from(["typ", "alg", "jwk", "crit", "kid"]),
        st.one_of(st.none(), st.integers(), st.text(max_size=10), st.lists(st.integers())),
    ),
    st.dictionaries(
        st.sampled_from(["jti", "htm", "htu", "iat", "ath", "nonce"]),
        st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=10)),
    ),
)
def test_garbage_headers_and_claims_are_typed_refusals(
    header: dict[str, Any], claims: dict[str, Any]
) -> None:
    try:
        text = b64e(dumps(header)) + "." + b64e(dumps(claims)) + "." + b64e(b"\x01" * 64)
    except ParseError:
        return  # NaN and the like cannot even be written
    with pytest.raises(DPoPError):
        _verify(text)


@given(
    st.one_of(
        st.text(st.sampled_from(list("htps:/[]@%.09afAF-_~?#")), max_size=40).map(
            lambda s: "https://" + s
        ),
        st.text(max_size=40),
    )
)
def test_htu_normalisation_is_idempotent_or_a_parse_error(uri: str) -> None:
    try:
        normal = normalise_htu(uri)
    except ParseError:
        return
    assert normalise_htu(normal) == normal
    assert "?" not in normal and "#" not in normal
