"""COSE_Sign1 (RFC 9052) and the strict, bounded CBOR reader under it."""

from __future__ import annotations

import math
from typing import Any

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials import cose
from credentials.cose import CoseError, CoseSign1, decode_cbor
from did_methods.errors import ParseError, UnsupportedError, VerificationError
from did_methods.keys import KeyType, PrivateKey

SIGNING_TYPES = [KeyType.ED25519, KeyType.P256, KeyType.P384, KeyType.P521]
ALG = {
    KeyType.ED25519: cose.ALG_EDDSA,
    KeyType.P256: cose.ALG_ES256,
    KeyType.P384: cose.ALG_ES384,
    KeyType.P521: cose.ALG_ES512,
}
SIG_SIZE = {KeyType.ED25519: 64, KeyType.P256: 64, KeyType.P384: 96, KeyType.P521: 132}


def _key(kt: KeyType, seed: int = 1) -> PrivateKey:
    return PrivateKey.generate(kt, randbytes=lambda n: bytes([seed]) * n)


# -- Sig_structure and signing ------------------------------------------------------------


def test_sig_structure_bytes_follow_rfc_9052_section_4_4() -> None:
    tbs = cose.sig_structure(b"\xa1\x01\x26", b"hello", b"")
    # array(4), text(10) "Signature1", bstr(3) protected, bstr(0) aad, bstr(5) payload
    assert tbs == bytes.fromhex("846a") + b"Signature1" + bytes.fromhex("43a101264045") + b"hello"


@pytest.mark.parametrize("kt", SIGNING_TYPES, ids=lambda k: k.value)
def test_sign_and_verify(kt: KeyType) -> None:
    key = _key(kt)
    msg = CoseSign1.sign(b"payload", key, kid=b"key-1")
    assert msg.protected == {cose.HEADER_ALG: ALG[kt], cose.HEADER_KID: b"key-1"}
    assert msg.alg == ALG[kt] and msg.kid == b"key-1"
    assert len(msg.signature) == SIG_SIZE[kt]  # raw r || s for ECDSA, not DER
    encoded = msg.encode()
    assert encoded[0] == 0xD2  # tag 18
    parsed = CoseSign1.parse(encoded)
    assert parsed == msg
    assert parsed.verify(key.public_key) == b"payload"
    # the signature is over the Sig_structure built from the received header bytes
    key.public_key.verify(parsed.signature, parsed.to_be_signed())


@pytest.mark.parametrize("kt", SIGNING_TYPES, ids=lambda k: k.value)
def test_wrong_key_aad_payload_or_alg(kt: KeyType) -> None:
    key = _key(kt)
    msg = CoseSign1.parse(CoseSign1.sign(b"payload", key, kid=b"k").encode())
    with pytest.raises(VerificationError) as err:
        msg.verify(_key(kt, seed=2).public_key)
    assert err.value.code == "signature_invalid"
    with pytest.raises(VerificationError) as err:
        msg.verify(key.public_key, external_aad=b"context")
    assert err.value.code == "signature_invalid"
    forged = CoseSign1(msg.protected_bytes, msg.protected, {}, b"payloaD", msg.signature)
    with pytest.raises(VerificationError) as err:
        forged.verify(key.public_key)
    assert err.value.code == "signature_invalid"
    with pytest.raises(VerificationError) as err:
        msg.verify(key.public_key, algorithms=frozenset({cose.ALG_ES256} - {ALG[kt]}))
    assert err.value.code == "alg_not_allowed"
    other = next(t for t in SIGNING_TYPES if t is not kt)
    with pytest.raises(VerificationError) as err:
        msg.verify(_key(other).public_key)
    assert err.value.code == "key_type_mismatch"


def test_external_aad_is_bound() -> None:
    key = _key(KeyType.ED25519)
    msg = CoseSign1.sign(b"p", key, external_aad=b"border-post")
    assert msg.verify(key.public_key, external_aad=b"border-post") == b"p"


def test_kid_in_unprotected_header_and_precedence() -> None:
    key = _key(KeyType.P256)
    msg = CoseSign1.sign(b"p", key, kid=b"abc", kid_protected=False)
    assert cose.HEADER_KID not in msg.protected and msg.unprotected == {cose.HEADER_KID: b"abc"}
    parsed = CoseSign1.parse(msg.encode(tag=False))
    assert parsed.kid == b"abc"
    assert parsed.verify(key.public_key) == b"p"
    # the unprotected kid is not signed: changing it keeps the signature valid
    both = CoseSign1.sign(b"p", key, kid=b"signed")
    body = [both.protected_bytes, {cose.HEADER_KID: b"unsigned"}, b"p", both.signature]
    again = CoseSign1.parse(cbor2.dumps(cbor2.CBORTag(18, body)))
    assert again.kid == b"signed"  # the protected one wins
    again.verify(key.public_key)


def test_alg_none_or_unknown_is_refused_before_crypto() -> None:
    key = _key(KeyType.ED25519)
    for alg in (None, 0, -257, "EdDSA", -37, -47):  # -37 PS256, -47 ES256K: not ours
        header = {} if alg is None else {1: alg}
        protected = cbor2.dumps(header) if header else b""
        msg = CoseSign1.parse(cbor2.dumps([protected, {}, b"p", bytes(64)]))
        with pytest.raises(VerificationError) as err:
            msg.verify(key.public_key)
        assert err.value.code == "alg_not_allowed"


def test_es512_on_a_key_of_another_curve_is_refused_before_crypto() -> None:
    msg = CoseSign1.parse(cbor2.dumps([cbor2.dumps({1: cose.ALG_ES512}), {}, b"p", bytes(132)]))
    for kt in (KeyType.ED25519, KeyType.P256, KeyType.P384):
        with pytest.raises(VerificationError) as err:
            msg.verify(_key(kt).public_key)
        assert err.value.code == "key_type_mismatch"


def test_cwt_tag_61_around_tag_18_is_accepted() -> None:
    key = _key(KeyType.ED25519)
    inner = CoseSign1.sign(b"p", key)
    body = [inner.protected_bytes, {}, b"p", inner.signature]
    wrapped = cbor2.dumps(cbor2.CBORTag(61, cbor2.CBORTag(18, body)))
    assert CoseSign1.parse(wrapped).verify(key.public_key) == b"p"
    for bad in (
        cbor2.CBORTag(18, cbor2.CBORTag(61, body)),
        cbor2.CBORTag(61, cbor2.CBORTag(61, body)),
        cbor2.CBORTag(98, body),
        cbor2.CBORTag(18, cbor2.CBORTag(18, body)),
    ):
        with pytest.raises(CoseError):
            CoseSign1.parse(cbor2.dumps(bad))


def test_signing_refuses_x25519_and_non_bytes() -> None:
    with pytest.raises(UnsupportedError):
        CoseSign1.sign(b"p", PrivateKey.generate(KeyType.X25519))
    with pytest.raises(TypeError):
        CoseSign1.sign("p", _key(KeyType.ED25519))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "body",
    [
        [b"", {}, b"p"],  # three items
        [b"", {}, b"p", b"s", b"x"],  # five
        {"a": 1},  # not an array
        ["", {}, b"p", b"s"],  # protected as text
        [b"\x01", {}, b"p", b"s"],  # protected is not a map
        [b"", [], b"p", b"s"],  # unprotected not a map
        [b"", {}, None, b"s"],  # detached payload
        [b"", {}, "p", b"s"],
        [b"", {}, b"p", "s"],
        [cbor2.dumps({1: -8}), {1: -8}, b"p", b"s"],  # alg in both buckets
        [cbor2.dumps({1: True}), {}, b"p", b"s"],  # alg of the wrong type
        [b"", {4: "text-kid"}, b"p", b"s"],
        [b"", {3: -1}, b"p", b"s"],  # content type must be uint or text
        [b"", {2: [1]}, b"p", b"s"],  # crit must be protected
        [cbor2.dumps({1: -8, 2: []}), {}, b"p", b"s"],  # crit empty
        [cbor2.dumps({1: -8, 2: [99], 99: 0}), {}, b"p", b"s"],  # crit not understood
        [cbor2.dumps({1: -8, 2: [4]}), {}, b"p", b"s"],  # crit names an absent label
    ],
)
def test_malformed_messages(body: Any) -> None:
    with pytest.raises(CoseError):
        CoseSign1.parse(cbor2.dumps(body))


def test_crit_naming_understood_labels_is_fine() -> None:
    protected = cbor2.dumps({1: -8, 2: [1]})
    assert CoseSign1.parse(cbor2.dumps([protected, {}, b"p", b"s"])).alg == -8


# -- strict CBOR --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hex_data", "why"),
    [
        ("", "empty"),
        ("c11a00000000", "tag 1 (epoch date)"),
        ("d81c81d81d00", "shared references (tag 28/29) would build a cycle"),
        ("d9010282", "tag 258 (set)"),
        ("f7", "undefined"),
        ("f0", "unassigned simple value"),
        ("f820", "one-byte simple value"),
        ("ff", "lone break"),
        ("9f01ff", "indefinite array"),
        ("5f4101ff", "indefinite byte string"),
        ("a20101", "map shorter than declared"),
        ("a201010102", "duplicate integer key"),
        ("a2616101616102", "duplicate text key"),
        ("a1f93c0001", "float key"),
        ("a1410101", "byte-string key"),
        ("a181010101", "array key"),
        ("0102", "trailing bytes"),
        ("1c", "reserved additional information"),
        ("1b0000", "truncated argument"),
        ("9b0000001000000000", "declares 2^36 items"),
        ("bb00000010000000000000", "declares 2^36 pairs"),
        ("5b0000001000000000", "declares a 64 GiB string"),
        ("62ff00", "invalid UTF-8 text"),
        ("a162ff0001", "invalid UTF-8 key"),
    ],
)
def test_strict_cbor_refusals(hex_data: str, why: str) -> None:
    with pytest.raises(CoseError):
        decode_cbor(bytes.fromhex(hex_data))


def test_bounds() -> None:
    nested = b"\x81" * 16 + b"\x00"
    assert decode_cbor(nested, max_depth=16) is not None
    with pytest.raises(CoseError, match="deeper"):
        decode_cbor(b"\x81" * 17 + b"\x00", max_depth=16)
    with pytest.raises(CoseError, match="deeper"):
        decode_cbor(b"\x81" * 100_000 + b"\x00", max_bytes=200_000)
    with pytest.raises(CoseError, match="items"):
        decode_cbor(cbor2.dumps(list(range(100))), max_items=99)
    assert decode_cbor(cbor2.dumps(list(range(100))), max_items=100) == list(range(100))
    with pytest.raises(CoseError, match="longer"):
        decode_cbor(cbor2.dumps(b"x" * 100), max_bytes=100)
    with pytest.raises(CoseError):
        decode_cbor("a0")  # type: ignore[arg-type]


def test_indefinite_lengths_only_when_asked() -> None:
    data = bytes.fromhex("bf61619f0102ff61627f616161 62ffff".replace(" ", ""))
    with pytest.raises(CoseError):
        decode_cbor(data)
    assert decode_cbor(data, allow_indefinite=True) == {"a": [1, 2], "b": "ab"}
    for bad in ("bf01", "9f01", "7f4161ff", "5f6161ff", "bf0101", "bf7f6161ff01ff"):
        with pytest.raises(CoseError):
            decode_cbor(bytes.fromhex(bad), allow_indefinite=True)


_plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.integers(-100, 100) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=200)
@given(_plain)
def test_plain_data_decodes_as_cbor2_encodes_it(value: Any) -> None:
    assert decode_cbor(cbor2.dumps(value)) == value


def test_floats_nan_and_half() -> None:
    assert math.isnan(decode_cbor(bytes.fromhex("f97e00")))
    assert decode_cbor(bytes.fromhex("f93c00")) == 1.0


@settings(max_examples=200)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_cose_errors(data: bytes) -> None:
    for call in (decode_cbor, CoseSign1.parse):
        try:
            call(data)
        except CoseError:
            pass
    try:
        decode_cbor(data, allow_indefinite=True)
    except CoseError:
        pass


@settings(max_examples=200)
@given(st.data())
def test_mutated_messages_raise_only_parse_errors_or_fail_verification(data: st.DataObject) -> None:
    key = _key(KeyType.ED25519)
    encoded = bytearray(CoseSign1.sign(b"\xa1\x01\x02", key, kid=b"k").encode())
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(encoded) - 1))
        encoded[i] = data.draw(st.integers(0, 255))
    try:
        msg = CoseSign1.parse(bytes(encoded))
    except ParseError:
        return
    try:
        msg.verify(key.public_key)
    except VerificationError:
        return
    # only a change to the unsigned parts (unprotected header) may still verify
    original = CoseSign1.sign(b"\xa1\x01\x02", key, kid=b"k")
    assert msg.payload == original.payload
    assert msg.protected_bytes == original.protected_bytes
    assert msg.signature == original.signature


@settings(max_examples=200)
@given(st.lists(_plain, max_size=5), st.booleans())
def test_well_formed_cbor_of_the_wrong_shape_raises_only_cose_errors(
    items: list[Any], tagged: bool
) -> None:
    value: Any = cbor2.CBORTag(18, items) if tagged else items
    try:
        msg = CoseSign1.parse(cbor2.dumps(value))
    except CoseError:
        return
    # whatever parsed is a well-typed message
    assert isinstance(msg.protected_bytes, bytes) and isinstance(msg.payload, bytes)
    assert isinstance(msg.signature, bytes) and isinstance(msg.unprotected, dict)
    with pytest.raises(VerificationError):
        msg.verify(_key(KeyType.ED25519).public_key)
