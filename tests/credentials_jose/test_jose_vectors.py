"""RFC 8037 A.4 and RFC 7515 A.3/A.5 through our compact JWS layer."""

from __future__ import annotations

import pytest
from vector_files import load_vector

from credentials._jws import CompactJWS, check_alg, sign_compact
from did_methods.errors import ParseError, VerificationError
from did_methods.keys import KeyType, PrivateKey, PublicKey

V = load_vector("jose-rfc7515-rfc8037/rfc7515-rfc7638-rfc8037-examples.json")
ED = V["rfc8037"]["A.4_EdDSA_signing"]
ED_JWK = V["rfc8037"]["A.1_A.2_ed25519_jwk"]
ES = V["rfc7515"]["A.3_ES256"]


def test_rfc8037_a4_reproduced_byte_for_byte() -> None:
    key = PrivateKey.from_jwk(ED_JWK)
    token = sign_compact({}, ED["payload_ascii"].encode(), key)
    assert token == ED["compact"]


def test_rfc8037_a4_verifies() -> None:
    jws = CompactJWS.parse(ED["compact"], json_payload=False)
    assert jws.payload == ED["payload_ascii"].encode()
    key = PublicKey.from_jwk({k: v for k, v in ED_JWK.items() if k != "d"})
    jws.verify(key)


def test_rfc7515_a3_es256_verifies() -> None:
    jws = CompactJWS.parse(ES["compact"])
    assert jws.payload["iss"] == "joe"
    key = PublicKey.from_jwk({k: v for k, v in ES["jwk"].items() if k != "d"})
    jws.verify(key)
    # the same payload signed by us verifies too (ECDSA is randomised: no byte equality)
    ours = sign_compact({}, jws.payload_bytes, PrivateKey.from_jwk(ES["jwk"]))
    CompactJWS.parse(ours).verify(key)


def test_rfc7515_a3_with_a_flipped_signature_bit_fails() -> None:
    jws = CompactJWS.parse(ES["compact"])
    key = PublicKey.from_jwk({k: v for k, v in ES["jwk"].items() if k != "d"})
    bad = bytes([jws.signature[0] ^ 1]) + jws.signature[1:]
    forged = CompactJWS(jws.header, jws.payload, jws.payload_bytes, jws.signing_input, bad)
    with pytest.raises(VerificationError) as err:
        forged.verify(key)
    assert err.value.code == "signature_invalid"


def test_rfc7515_a4_es512_verifies() -> None:
    data = V["rfc7515"]["A.4_ES512"]
    jws = CompactJWS.parse(data["compact"], json_payload=False)
    assert jws.header == {"alg": "ES512"} and jws.payload == b"Payload"
    key = PublicKey.from_jwk({k: v for k, v in data["jwk"].items() if k != "d"})
    assert key.key_type is KeyType.P521 and len(jws.signature) == 132
    jws.verify(key)
    assert PrivateKey.from_jwk(data["jwk"]).public_key == key
    # a flipped bit fails; the same key signs tokens that verify (ECDSA is randomised)
    bad = bytes([jws.signature[-1] ^ 1])
    forged = CompactJWS(
        jws.header, jws.payload, jws.payload_bytes, jws.signing_input, jws.signature[:-1] + bad
    )
    with pytest.raises(VerificationError) as err:
        forged.verify(key)
    assert err.value.code == "signature_invalid"
    ours = sign_compact({}, b"Payload", PrivateKey.from_jwk(data["jwk"]))
    CompactJWS.parse(ours, json_payload=False).verify(key)
    # ES512 on the RFC 8037 Ed25519 key: refused before any cryptography
    ed = PublicKey.from_jwk({k: v for k, v in ED_JWK.items() if k != "d"})
    with pytest.raises(VerificationError) as err:
        jws.verify(ed)
    assert err.value.code == "alg_key_mismatch"


@pytest.mark.parametrize("case", ["A.1_HS256", "A.2_RS256", "A.5_unsecured"])
def test_rfc7515_algorithms_we_refuse(case: str) -> None:
    data = V["rfc7515"][case]
    ed = PublicKey.from_jwk({k: v for k, v in ED_JWK.items() if k != "d"})
    try:
        jws = CompactJWS.parse(data["compact"], json_payload=False)
    except ParseError:
        # the unsecured JWS has an empty signature part: refused as malformed
        assert case == "A.5_unsecured"
        return
    with pytest.raises(VerificationError) as err:
        jws.verify(ed)
    assert err.value.code == "alg_not_allowed"


def test_alg_must_fit_the_key() -> None:
    ed = PrivateKey.generate(KeyType.ED25519).public_key
    with pytest.raises(VerificationError) as err:
        check_alg("ES256", ed)
    assert err.value.code == "alg_key_mismatch"
    assert check_alg("EdDSA", ed) is KeyType.ED25519
