"""Keys: RFC 8037 / RFC 7515 / RFC 7638 vectors, Multikey and JWK round trips, hostile input."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from vector_files import load_vector

from did_methods import (
    InvalidKey,
    KeyType,
    PrivateKey,
    PublicKey,
    SSIWalletError,
    VerificationError,
)
from did_methods.encoding import b64url_decode, b64url_encode, multibase_decode, multibase_encode
from did_methods.errors import ParseError, UnsupportedError
from did_methods.keys import jwk_thumbprint

JOSE = load_vector("jose-rfc7515-rfc8037/rfc7515-rfc7638-rfc8037-examples.json")
SIGNING_TYPES = [KeyType.ED25519, KeyType.P256, KeyType.P384]


def test_rfc8037_ed25519_jwk_and_thumbprint() -> None:
    v = JOSE["rfc8037"]
    key = PrivateKey.from_jwk(v["A.1_A.2_ed25519_jwk"])
    assert key.private_jwk() == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": v["A.1_A.2_ed25519_jwk"]["x"],
        "d": v["A.1_A.2_ed25519_jwk"]["d"],
    }
    assert key.public_key.jwk_thumbprint() == v["A.3_thumbprint"]["sha256_thumbprint_b64u"]


def test_rfc8037_a4_eddsa_signature_reproduced() -> None:
    v = JOSE["rfc8037"]
    key = PrivateKey.from_jwk(v["A.1_A.2_ed25519_jwk"])
    sig_a4 = v["A.4_EdDSA_signing"]
    signing_input = f"{sig_a4['protected_header_b64u']}.{sig_a4['payload_b64u']}".encode()
    signature = key.sign(signing_input)
    assert b64url_encode(signature) == sig_a4["signature_b64u"]
    key.public_key.verify(signature, signing_input)


def test_rfc8037_a6_x25519_shared_secret() -> None:
    v = JOSE["rfc8037"]["A.6_ECDH-ES_X25519"]
    eph = PrivateKey(KeyType.X25519, bytes.fromhex(v["ephemeral_secret_hex"]))
    assert eph.public_key.raw.hex() == v["ephemeral_public_hex"]
    assert eph.public_key.to_jwk() == v["epk"]
    bob = PublicKey.from_jwk({k: x for k, x in v["recipient_public_jwk"].items() if k != "kid"})
    assert eph.exchange(bob).hex() == v["shared_secret_Z_hex"]


def test_rfc7515_a3_es256_verifies() -> None:
    v = JOSE["rfc7515"]["A.3_ES256"]
    jwk = v.get("jwk") or v.get("key")
    public = PublicKey.from_jwk({k: jwk[k] for k in ("kty", "crv", "x", "y")})
    compact = v.get("compact") or v.get("jws_compact")
    header, payload, sig = compact.split(".")
    public.verify(b64url_decode(sig), f"{header}.{payload}".encode())
    with pytest.raises(VerificationError) as err:
        public.verify(b64url_decode(sig), f"{header}.{payload}x".encode())
    assert err.value.code == "signature_invalid"


def test_rfc7638_thumbprint_of_rsa_example() -> None:
    v = JOSE["rfc7638_3.1_thumbprint"]
    assert jwk_thumbprint(v["jwk"]) == v["sha256_thumbprint_b64u"]


@pytest.mark.parametrize("kt", list(KeyType))
def test_multikey_and_jwk_round_trip(kt: KeyType) -> None:
    key = PrivateKey.generate(kt)
    pub = key.public_key
    assert PublicKey.from_multikey(pub.to_multikey()) == pub
    assert PublicKey.from_jwk(pub.to_jwk()) == pub
    assert PrivateKey.from_jwk(key.private_jwk()) == key
    assert PrivateKey.from_secret_multikey(key.secret_multikey()) == key


@pytest.mark.parametrize("kt", SIGNING_TYPES)
def test_sign_verify_and_tamper(kt: KeyType) -> None:
    key = PrivateKey.generate(kt)
    sig = key.sign(b"residence permit")
    key.public_key.verify(sig, b"residence permit")
    for bad_sig, msg in [
        (sig, b"residence permiT"),
        (bytes([sig[0] ^ 1]) + sig[1:], b"residence permit"),
        (sig[:-1], b"residence permit"),
        (b"", b"residence permit"),
    ]:
        with pytest.raises(VerificationError) as err:
            key.public_key.verify(bad_sig, msg)
        assert err.value.code == "signature_invalid"


def test_ed25519_maps_to_x25519_consistently() -> None:
    a = PrivateKey.generate(KeyType.ED25519)
    b = PrivateKey.generate(KeyType.X25519)
    shared_1 = a.to_x25519().exchange(b.public_key)
    shared_2 = b.exchange(a.public_key.to_x25519())
    assert shared_1 == shared_2
    assert a.to_x25519().public_key == a.public_key.to_x25519()


def test_x25519_refuses_signing_and_small_order_peer() -> None:
    key = PrivateKey.generate(KeyType.X25519)
    with pytest.raises(UnsupportedError):
        key.sign(b"x")
    with pytest.raises(UnsupportedError):
        key.public_key.verify(b"\x00" * 64, b"x")
    zero_point = PublicKey.from_raw(KeyType.X25519, b"\x00" * 32)
    with pytest.raises(InvalidKey):
        key.exchange(zero_point)


def test_private_material_never_in_repr_str_or_errors() -> None:
    key = PrivateKey.generate(KeyType.ED25519)
    secret = key.private_jwk()["d"]
    for text in (repr(key), str(key), f"{key}", repr([key])):
        assert secret not in text
        assert key.public_key.to_multikey() in text
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(key)
    bad = dict(key.private_jwk(), x=PrivateKey.generate().public_key.to_jwk()["x"])
    with pytest.raises(InvalidKey) as err:
        PrivateKey.from_jwk(bad)
    assert secret not in str(err.value)


def test_public_jwk_with_private_member_is_refused() -> None:
    key = PrivateKey.generate(KeyType.P256)
    with pytest.raises(InvalidKey):
        PublicKey.from_jwk(key.private_jwk())


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "OKP", "crv": "Ed25519"},
        {"kty": "OKP", "crv": "Ed25519", "x": "AA"},
        {"kty": "OKP", "crv": "Ed448", "x": "AA"},
        {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},
        {"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"},
        {"kty": "RSA", "n": "AA", "e": "AQAB"},
        {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo="},
        {"kty": "OKP", "crv": "Ed25519", "x": 5},
        [],
    ],
)
def test_malformed_jwks_are_refused(jwk: object) -> None:
    with pytest.raises(InvalidKey):
        PublicKey.from_jwk(jwk)  # type: ignore[arg-type]


def test_ec_point_not_on_curve_is_refused() -> None:
    good = PrivateKey.generate(KeyType.P256).public_key.to_jwk()
    y = bytearray(b64url_decode(good["y"]))
    y[-1] ^= 1
    with pytest.raises(InvalidKey):
        PublicKey.from_jwk(dict(good, y=b64url_encode(bytes(y))))


def test_multibase_vectors() -> None:
    # multiformats/multibase tests: base58btc of "yes mani !", with leading zero bytes
    assert multibase_encode(b"yes mani !") == "z7paNL19xttacUY"
    assert multibase_encode(b"\x00yes mani !") == "z17paNL19xttacUY"
    assert multibase_encode(b"\x00\x00yes mani !") == "z117paNL19xttacUY"
    assert multibase_decode("z117paNL19xttacUY") == b"\x00\x00yes mani !"
    with pytest.raises(ParseError):
        multibase_decode("f796573206d616e692021")  # base16: not accepted for keys
    with pytest.raises(ParseError):
        multibase_decode("z0OIl")  # characters outside base58btc


def test_b64url_is_strict() -> None:
    assert b64url_decode("AQAB") == b"\x01\x00\x01"
    for bad in ("AQAB=", "AQ AB", "A", "AR", "+/==", "AQAC"[:3] + "!"):
        with pytest.raises(ParseError):
            b64url_decode(bad)
    with pytest.raises(ParseError):
        b64url_decode("AB")  # non-zero trailing bits: "AA" is the canonical spelling


@given(st.binary(min_size=32, max_size=32), st.sampled_from(list(KeyType)))
def test_property_multikey_jwk_round_trip(seed: bytes, kt: KeyType) -> None:
    try:
        key = PrivateKey(
            kt,
            seed[: 48 if kt is KeyType.P384 else 32].ljust(
                48 if kt is KeyType.P384 else 32, b"\x01"
            ),
        )
    except InvalidKey:
        return  # scalar out of range: rare, and refusing it is right
    pub = key.public_key
    assert PublicKey.from_multikey(pub.to_multikey()) == pub
    assert PublicKey.from_jwk(json.loads(json.dumps(pub.to_jwk()))) == pub
    assert PrivateKey.from_jwk(key.private_jwk()).public_key == pub


@given(st.text(max_size=200))
def test_property_arbitrary_text_into_multikey_parser(text: str) -> None:
    try:
        PublicKey.from_multikey(text)
    except SSIWalletError:
        pass


@given(st.binary(max_size=80), st.sampled_from(list(KeyType)))
def test_property_arbitrary_bytes_into_raw_key(data: bytes, kt: KeyType) -> None:
    try:
        PublicKey.from_raw(kt, data)
    except SSIWalletError:
        pass
    try:
        PublicKey.from_multikey("z" + base64.b32encode(data).decode())
    except SSIWalletError:
        pass


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=10,
)


@given(
    st.dictionaries(
        st.sampled_from(["kty", "crv", "x", "y", "d", "use"]), _json | st.text(max_size=60)
    )
)
def test_property_arbitrary_json_into_jwk_parsers(jwk: dict[str, object]) -> None:
    for parse in (PublicKey.from_jwk, PrivateKey.from_jwk, jwk_thumbprint):
        try:
            parse(jwk)
        except SSIWalletError:
            pass


@given(st.binary(max_size=120))
def test_property_base58_matches_the_base58_package(data: bytes) -> None:
    import base58

    from did_methods.encoding import base58btc_decode, base58btc_encode

    encoded = base58btc_encode(data)
    assert encoded == base58.b58encode(data).decode()
    assert base58btc_decode(encoded) == data


@given(st.sampled_from(list(KeyType)))
def test_property_multikey_matches_multiformats(kt: KeyType) -> None:
    from multiformats import multibase, multicodec

    pub = PrivateKey.generate(kt).public_key
    codec, raw = multicodec.unwrap(multibase.decode(pub.to_multikey()))
    assert (
        codec.name
        == {
            KeyType.ED25519: "ed25519-pub",
            KeyType.X25519: "x25519-pub",
            KeyType.P256: "p256-pub",
            KeyType.P384: "p384-pub",
            KeyType.P521: "p521-pub",
        }[kt]
    )
    assert raw == pub.raw
    assert multibase.encode(multicodec.wrap(codec, raw), "base58btc") == pub.to_multikey()
