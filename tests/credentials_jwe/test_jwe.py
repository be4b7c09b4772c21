"""Compact JWE with ECDH-ES: RFC 7518 Appendix C and RFC 7520 section 5.5 byte for byte,
the cookbook's X25519 example, jwcrypto in both directions, each header refusal, tampering,
and garbage input (always a typed error)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jwcrypto import jwe as jwcrypto_jwe
from jwcrypto import jwk as jwcrypto_jwk
from vector_files import load_vector

from credentials._jws import b64d, b64e, dumps
from credentials.jwe import (
    JWEError,
    check_header,
    concat_kdf,
    decrypt_compact,
    encrypt_compact,
)
from did_methods.errors import ParseError, SSIWalletError, UnsupportedError, VerificationError
from did_methods.keys import KeyType, PrivateKey, PublicKey

APPENDIX_C = load_vector("jwe-rfc7518/rfc7518-appendix-c.json")
COOKBOOK_5_5 = load_vector(
    "jose-cookbook-rfc7520/jwe/5_5.key_agreement_using_ecdh-es_with_aes-cbc-hmac-sha2.json"
)
COOKBOOK_X25519 = load_vector("jose-cookbook-rfc7520/curve25519/ecdh-es.json")
ENCS = ["A128GCM", "A256GCM", "A128CBC-HS256"]


def _private(jwk: dict[str, Any]) -> PrivateKey:
    return PrivateKey.from_jwk({k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y", "d")})


# ------------------------------------------------------------------ published vectors


def test_rfc7518_appendix_c_key_agreement_and_concat_kdf() -> None:
    alice, bob = _private(APPENDIX_C["alice_ephemeral"]), _private(APPENDIX_C["bob"])
    z = alice.exchange(bob.public_key)
    assert z == bytes(APPENDIX_C["z"]) == bob.exchange(alice.public_key)
    derived = concat_kdf(
        z, algorithm_id="A128GCM", key_bytes=16, apu=b64d(APPENDIX_C["apu"]),
        apv=b64d(APPENDIX_C["apv"]),
    )  # fmt: skip
    assert b64e(derived) == APPENDIX_C["derived_key"]


def test_rfc7520_5_5_ecdh_es_a128cbc_hs256_decrypts() -> None:
    key = _private(COOKBOOK_5_5["input"]["key"])
    compact = COOKBOOK_5_5["output"]["compact"]
    with pytest.raises(UnsupportedError) as refused:  # not in the default allow-list
        decrypt_compact(compact, key)
    assert refused.value.code == "jwe_enc_unsupported"
    got = decrypt_compact(compact, key, encs=["A128CBC-HS256"])
    assert got.plaintext.decode() == COOKBOOK_5_5["input"]["plaintext"]
    assert got.header == COOKBOOK_5_5["encrypting_content"]["protected"]


def test_rfc7520_5_5_reproduced_byte_for_byte() -> None:
    # The example's ephemeral key and IV, fed through our encryption, give its output.
    scalar = b64d(COOKBOOK_5_5["encrypting_key"]["epk"]["d"])
    iv = b64d(COOKBOOK_5_5["generated"]["iv"])
    feed = [scalar, iv]  # the ephemeral scalar first, then the IV

    def randbytes(n: int) -> bytes:
        value = feed.pop(0)
        assert len(value) == n
        return value

    recipient = PublicKey.from_jwk(
        {k: v for k, v in COOKBOOK_5_5["input"]["key"].items() if k in ("kty", "crv", "x", "y")}
    )
    protected = COOKBOOK_5_5["encrypting_content"]["protected"]
    compact = encrypt_compact(
        COOKBOOK_5_5["input"]["plaintext"].encode(), recipient, enc="A128CBC-HS256",
        kid=protected["kid"], randbytes=randbytes,
    )  # fmt: skip
    ours = compact.split(".")
    theirs = COOKBOOK_5_5["output"]["compact"].split(".")
    # Same header members (ours in another order, so another AAD and tag); same derived
    # key, so the same ciphertext byte for byte.
    assert json.loads(b64d(ours[0])) == protected
    assert (ours[1], ours[2], ours[3]) == (theirs[1], theirs[2], theirs[3])
    assert ours[4] != theirs[4]
    again = decrypt_compact(compact, _private(COOKBOOK_5_5["input"]["key"]), encs=ENCS)
    assert again.plaintext.decode() == COOKBOOK_5_5["input"]["plaintext"]


def test_cookbook_x25519_ecdh_es_a128gcm_decrypts() -> None:
    key = _private(COOKBOOK_X25519["input"]["key"])
    got = decrypt_compact(COOKBOOK_X25519["output"]["compact"], key)
    assert got.plaintext.decode() == COOKBOOK_X25519["input"]["plaintext"]
    assert got.header["enc"] == "A128GCM" and got.header["epk"]["crv"] == "X25519"


# ------------------------------------------------------------------ round trips and interop


@pytest.mark.parametrize("key_type", [KeyType.P256, KeyType.P384, KeyType.X25519])
@pytest.mark.parametrize("enc", ENCS)
def test_round_trip(key_type: KeyType, enc: str) -> None:
    key = PrivateKey.generate(key_type)
    compact = encrypt_compact(
        b"vp_token", key.public_key, enc=enc, apu=b"wallet-nonce", apv=b"verifier-nonce",
        kid="enc-key-1", header={"typ": "oauth-authz-resp+jwt"},
    )  # fmt: skip
    got = decrypt_compact(compact, key, encs=ENCS)
    assert got.plaintext == b"vp_token"
    assert got.header["apu"] == b64e(b"wallet-nonce") and got.header["kid"] == "enc-key-1"
    assert compact.split(".")[1] == ""  # direct agreement: no encrypted key
    with pytest.raises(VerificationError) as caught:
        decrypt_compact(compact, PrivateKey.generate(key_type), encs=ENCS)
    assert caught.value.code == "jwe_decryption_failed"


def _jwcrypto(key: PrivateKey) -> jwcrypto_jwk.JWK:
    return jwcrypto_jwk.JWK(**key.private_jwk())


@pytest.mark.parametrize("key_type", [KeyType.P256, KeyType.X25519])
@pytest.mark.parametrize("enc", ENCS)
def test_jwcrypto_decrypts_ours(key_type: KeyType, enc: str) -> None:
    key = PrivateKey.generate(key_type)
    compact = encrypt_compact(b'{"vp_token":{}}', key.public_key, enc=enc, apu=b"u", apv=b"v")
    token = jwcrypto_jwe.JWE()
    token.deserialize(compact, key=_jwcrypto(key))
    assert token.payload == b'{"vp_token":{}}'


@pytest.mark.parametrize("key_type", [KeyType.P256, KeyType.X25519])
@pytest.mark.parametrize("enc", ENCS)
def test_we_decrypt_jwcrypto(key_type: KeyType, enc: str) -> None:
    key = PrivateKey.generate(key_type)
    public = jwcrypto_jwk.JWK(**key.public_key.to_jwk())
    header = {"alg": "ECDH-ES", "enc": enc, "apu": b64e(b"Alice"), "apv": b64e(b"Bob")}
    token = jwcrypto_jwe.JWE(b"from jwcrypto", protected=json.dumps(header))
    token.add_recipient(public)
    got = decrypt_compact(token.serialize(compact=True), key, encs=ENCS)
    assert got.plaintext == b"from jwcrypto"


# ------------------------------------------------------------------ refusals


KEY = PrivateKey.generate(KeyType.P256)
GOOD = encrypt_compact(b"secret", KEY.public_key)


def _with_header(change: dict[str, Any], drop: tuple[str, ...] = ()) -> str:
    parts = GOOD.split(".")
    header = json.loads(b64d(parts[0]))
    header.update(change)
    for name in drop:
        header.pop(name)
    return ".".join([b64e(dumps(header)), *parts[1:]])


@pytest.mark.parametrize(
    ("token", "error", "code"),
    [
        (_with_header({"alg": "ECDH-ES+A128KW"}), UnsupportedError, "jwe_alg_unsupported"),
        (_with_header({"alg": "RSA-OAEP"}), UnsupportedError, "jwe_alg_unsupported"),
        (_with_header({"alg": "dir"}), UnsupportedError, "jwe_alg_unsupported"),
        (_with_header({}, drop=("alg",)), UnsupportedError, "jwe_alg_unsupported"),
        (_with_header({"enc": "A192GCM"}), UnsupportedError, "jwe_enc_unsupported"),
        (_with_header({"enc": "A128CBC-HS256"}), UnsupportedError, "jwe_enc_unsupported"),
        (_with_header({"enc": 1}), UnsupportedError, "jwe_enc_unsupported"),
        (_with_header({"zip": "DEF"}), UnsupportedError, "jwe_zip_unsupported"),
        (_with_header({"crit": ["exp"], "exp": 1}), UnsupportedError, "jwe_crit_unsupported"),
        (_with_header({}, drop=("epk",)), JWEError, "jwe_epk_invalid"),
        (_with_header({"epk": "key"}), JWEError, "jwe_epk_invalid"),
        (_with_header({"epk": PrivateKey.generate(KeyType.X25519).public_key.to_jwk()}),
         JWEError, "jwe_epk_invalid"),
        (_with_header({"epk": PrivateKey.generate(KeyType.P384).public_key.to_jwk()}),
         JWEError, "jwe_epk_invalid"),
        (_with_header({"epk": KEY.private_jwk()}), JWEError, "jwe_epk_invalid"),
        (_with_header({"epk": {**KEY.public_key.to_jwk(), "y": KEY.public_key.to_jwk()["x"]}}),
         JWEError, "jwe_epk_invalid"),  # a point off the curve
        (_with_header({"apu": "not base64!"}), JWEError, "jwe_malformed"),
        (_with_header({"apv": 7}), JWEError, "jwe_header_invalid"),
        (_with_header({"apu": "QQ" * 400}), JWEError, "jwe_malformed"),
        (_with_header({"kid": "changed"}), VerificationError, "jwe_decryption_failed"),
        (GOOD.replace("..", ".AAAA.", 1), JWEError, "jwe_malformed"),
        (GOOD + ".x", JWEError, "jwe_malformed"),
        (GOOD.rsplit(".", 1)[0], JWEError, "jwe_malformed"),
        ("a" * 1_000_001, JWEError, "jwe_too_large"),
        (b64e(b"[1]") + GOOD[GOOD.index(".") :], JWEError, "jwe_header_invalid"),
        (b64e(b'{"alg":"ECDH-ES","alg":"x"}') + GOOD[GOOD.index(".") :], JWEError,
         "jwe_header_invalid"),
    ],
)  # fmt: skip
def test_refusals(token: str, error: type[SSIWalletError], code: str) -> None:
    with pytest.raises(error) as caught:
        decrypt_compact(token, KEY)
    assert caught.value.code == code  # type: ignore[attr-defined]


@pytest.mark.parametrize("part", [2, 3, 4])
def test_every_flipped_byte_fails_the_tag_or_the_lengths(part: int) -> None:
    parts = GOOD.split(".")
    raw = bytearray(b64d(parts[part]))
    for index in range(len(raw)):
        raw[index] ^= 1
        parts_changed = [*parts]
        parts_changed[part] = b64e(bytes(raw))
        with pytest.raises(VerificationError):
            decrypt_compact(".".join(parts_changed), KEY)
        raw[index] ^= 1


def test_encrypt_refuses_what_it_cannot_do() -> None:
    with pytest.raises(UnsupportedError):
        encrypt_compact(b"x", KEY.public_key, enc="A192GCM")
    with pytest.raises(UnsupportedError):
        encrypt_compact(b"x", PrivateKey.generate(KeyType.ED25519).public_key)
    with pytest.raises(ParseError):
        encrypt_compact(b"x", KEY.public_key, header={"zip": "DEF"})


def test_check_header_is_usable_alone() -> None:
    header = json.loads(b64d(GOOD.split(".")[0]))
    assert check_header(header, KeyType.P256).key_type is KeyType.P256
    with pytest.raises(UnsupportedError):
        check_header(header, KeyType.P256, encs=("A256GCM",))


# ------------------------------------------------------------------ hostile input


@given(st.text(max_size=400))
def test_garbage_text_is_a_typed_error(text: str) -> None:
    with pytest.raises(SSIWalletError):
        decrypt_compact(text, KEY)


@given(
    st.dictionaries(
        st.sampled_from(["alg", "enc", "epk", "apu", "apv", "zip", "crit", "kid"]),
        st.one_of(
            st.none(),
            st.integers(),
            st.text(max_size=12),
            st.sampled_from(["ECDH-ES", "A128GCM"]),
            st.dictionaries(st.sampled_from(["kty", "crv", "x", "y"]), st.text(max_size=44)),
        ),
    ),
    st.binary(max_size=40),
    st.binary(max_size=20),
)
def test_garbage_headers_and_parts_are_typed_errors(
    header: dict[str, Any], ciphertext: bytes, iv: bytes
) -> None:
    token = ".".join([b64e(dumps(header)), "", b64e(iv), b64e(ciphertext), b64e(b"t" * 16)])
    with pytest.raises(SSIWalletError):
        decrypt_compact(token, KEY, encs=ENCS)


def test_key_agreement_needs_two_keys_of_one_kind() -> None:
    x25519 = PrivateKey.generate(KeyType.X25519)
    for mine, theirs in (
        (KEY, x25519.public_key),
        (x25519, KEY.public_key),
        (KEY, PrivateKey.generate(KeyType.P384).public_key),
        (PrivateKey.generate(KeyType.ED25519), PrivateKey.generate(KeyType.ED25519).public_key),
    ):
        with pytest.raises(UnsupportedError):
            mine.exchange(theirs)
