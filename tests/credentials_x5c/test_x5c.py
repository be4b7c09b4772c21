"""x5c chains for OpenID4VP's x509_san_dns: real certificate chains built with cryptography,
checked up to configured trust anchors; one test per refusal; garbage is a typed error."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from hypothesis import given
from hypothesis import strategies as st
from x509_support import DAY, NOW, Key, make_cert, x5c
from x509_support import p256 as _p256
from x509_support import usage as _usage

from credentials._jws import CompactJWS, b64e, dumps, sign_compact
from credentials.x5c import (
    MAX_CHAIN_LENGTH,
    X5CError,
    check_san_dns,
    load_trust_anchors,
    parse_x5c,
    verify_x5c,
)
from did_methods.errors import ParseError
from did_methods.keys import KeyType, PrivateKey


@dataclass
class PKI:
    root_key: Key
    root: x509.Certificate
    inter_key: Key
    inter: x509.Certificate
    leaf_key: Key
    leaf: x509.Certificate

    def leaf_with(self, **kwargs: Any) -> x509.Certificate:
        options: dict[str, Any] = {"san": ["verifier.example"], "usage": _usage(sign=True)}
        options.update(kwargs)
        key = options.pop("key", self.leaf_key)
        return make_cert(key, self.inter_key, "verifier", "intermediate", ca=False, **options)


@pytest.fixture(scope="module")
def pki() -> PKI:
    root_key, inter_key, leaf_key = _p256(), _p256(), _p256()
    root = make_cert(root_key, root_key, "root", "root", ca=True, usage=_usage(ca=True))
    inter = make_cert(
        inter_key, root_key, "intermediate", "root", ca=True, path_length=0, usage=_usage(ca=True)
    )
    leaf = make_cert(
        leaf_key, inter_key, "verifier", "intermediate", ca=False,
        san=["Verifier.Example", "www.verifier.example"], usage=_usage(sign=True),
    )  # fmt: skip
    return PKI(root_key, root, inter_key, inter, leaf_key, leaf)


def _code(call: Any) -> str:
    with pytest.raises(X5CError) as caught:
        call()
    return caught.value.code


# ------------------------------------------------------------------ accepted


def test_a_chain_to_the_anchor_describes_its_leaf(pki: PKI) -> None:
    got = verify_x5c(x5c(pki.leaf, pki.inter), [pki.root], now=NOW)
    assert got.dns_names == ("verifier.example", "www.verifier.example")
    der = pki.leaf.public_bytes(serialization.Encoding.DER)
    assert got.x509_hash == b64e(hashlib.sha256(der).digest())
    point = pki.leaf_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    assert got.public_key.key_type is KeyType.P256 and got.public_key.raw == point
    assert [c.subject for c in got.chain] == [pki.leaf.subject, pki.inter.subject, pki.root.subject]
    check_san_dns(got, "verifier.example")
    check_san_dns(got, "WWW.verifier.EXAMPLE")


def test_the_root_may_travel_in_x5c(pki: PKI) -> None:
    assert verify_x5c(x5c(pki.leaf, pki.inter, pki.root), [pki.root], now=NOW).dns_names


def test_a_request_object_signed_by_the_leaf_end_to_end(pki: PKI) -> None:
    # what an OpenID4VP wallet does with client_id x509_san_dns:verifier.example
    signer = PrivateKey(
        KeyType.P256, pki.leaf_key.private_numbers().private_value.to_bytes(32, "big")
    )
    header = {"typ": "oauth-authz-req+jwt", "x5c": x5c(pki.leaf, pki.inter)}
    claims = {"client_id": "x509_san_dns:verifier.example", "nonce": "n"}
    token = CompactJWS.parse(sign_compact(header, dumps(claims), signer))
    certified = verify_x5c(token.header["x5c"], load_trust_anchors(
        pki.root.public_bytes(serialization.Encoding.PEM)), now=NOW)  # fmt: skip
    check_san_dns(certified, token.payload["client_id"].removeprefix("x509_san_dns:"))
    token.verify(certified.public_key)
    other = PrivateKey.generate(KeyType.P256)
    forged = CompactJWS.parse(sign_compact(header, dumps(claims), other))
    with pytest.raises(Exception, match="signature"):
        forged.verify(verify_x5c(forged.header["x5c"], [pki.root], now=NOW).public_key)


# ------------------------------------------------------------------ refused


def test_validity_of_the_leaf_at_the_injected_time(pki: PKI) -> None:
    chain = x5c(pki.leaf, pki.inter)
    assert _code(lambda: verify_x5c(chain, [pki.root], now=NOW + 31 * DAY)) == "x5c_expired"
    assert _code(lambda: verify_x5c(chain, [pki.root], now=NOW - 31 * DAY)) == "x5c_not_yet_valid"
    with pytest.raises(ParseError):
        verify_x5c(chain, [pki.root], now=NOW.replace(tzinfo=None))


def test_an_expired_intermediate(pki: PKI) -> None:
    old = make_cert(
        pki.inter_key, pki.root_key, "intermediate", "root", ca=True, path_length=0,
        usage=_usage(ca=True), not_before=NOW - 60 * DAY, not_after=NOW - DAY,
    )  # fmt: skip
    assert _code(lambda: verify_x5c(x5c(pki.leaf, old), [pki.root], now=NOW)) == "x5c_untrusted"


def test_another_anchor_or_a_missing_intermediate(pki: PKI) -> None:
    stranger_key = _p256()
    stranger = make_cert(stranger_key, stranger_key, "root", "root", ca=True, usage=_usage(ca=True))
    chain = x5c(pki.leaf, pki.inter)
    assert _code(lambda: verify_x5c(chain, [stranger], now=NOW)) == "x5c_untrusted"
    assert _code(lambda: verify_x5c(x5c(pki.leaf), [pki.root], now=NOW)) == "x5c_untrusted"
    assert _code(lambda: verify_x5c(chain, [], now=NOW)) == "x5c_untrusted"


def test_a_self_signed_leaf_pretending(pki: PKI) -> None:
    # same subject and issuer names as the real intermediate, but its own key
    impostor_key = _p256()
    impostor = make_cert(
        impostor_key, impostor_key, "intermediate", "root", ca=True, path_length=0,
        usage=_usage(ca=True),
    )  # fmt: skip
    leaf = make_cert(
        pki.leaf_key, impostor_key, "verifier", "intermediate", ca=False,
        san=["verifier.example"], usage=_usage(sign=True),
    )  # fmt: skip
    assert _code(lambda: verify_x5c(x5c(leaf, impostor), [pki.root], now=NOW)) == "x5c_untrusted"


def test_a_tampered_signature(pki: PKI) -> None:
    der = bytearray(pki.leaf.public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0x01
    tampered = [base64.b64encode(bytes(der)).decode(), *x5c(pki.inter)]
    assert _code(lambda: verify_x5c(tampered, [pki.root], now=NOW)) in (
        "x5c_untrusted",
        "x5c_malformed",  # a flipped bit may break the DER of the signature itself
    )


def test_an_issuer_that_is_not_a_ca(pki: PKI) -> None:
    not_ca = make_cert(
        pki.inter_key, pki.root_key, "intermediate", "root", ca=False, usage=_usage(sign=True)
    )
    assert _code(lambda: verify_x5c(x5c(pki.leaf, not_ca), [pki.root], now=NOW)) == (
        "x5c_untrusted"
    )


def test_path_length_constraint(pki: PKI) -> None:
    sub_key = _p256()
    sub = make_cert(
        sub_key, pki.inter_key, "sub", "intermediate", ca=True, path_length=0, usage=_usage(ca=True)
    )
    leaf = make_cert(
        pki.leaf_key, sub_key, "verifier", "sub", ca=False, san=["verifier.example"],
        usage=_usage(sign=True),
    )  # fmt: skip
    # the intermediate's pathLenConstraint 0 forbids the sub-CA under it
    assert _code(lambda: verify_x5c(x5c(leaf, sub, pki.inter), [pki.root], now=NOW)) == (
        "x5c_untrusted"
    )


@pytest.mark.parametrize("usage", [None, _usage(sign=False), _usage(sign=False, ca=True)])
def test_the_leaf_must_be_allowed_to_sign(pki: PKI, usage: x509.KeyUsage | None) -> None:
    leaf = pki.leaf_with(usage=usage)
    assert _code(lambda: verify_x5c(x5c(leaf, pki.inter), [pki.root], now=NOW)) == ("x5c_key_usage")


def test_an_unknown_critical_extension(pki: PKI) -> None:
    unknown = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00")
    leaf = pki.leaf_with(extra=[(unknown, True)])
    assert _code(lambda: verify_x5c(x5c(leaf, pki.inter), [pki.root], now=NOW)) == ("x5c_untrusted")


def test_a_leaf_key_our_jws_cannot_use(pki: PKI) -> None:
    leaf = pki.leaf_with(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    assert _code(lambda: verify_x5c(x5c(leaf, pki.inter), [pki.root], now=NOW)) == (
        "x5c_key_unsupported"
    )


def test_an_ed25519_leaf(pki: PKI) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    got = verify_x5c(x5c(pki.leaf_with(key=key), pki.inter), [pki.root], now=NOW)
    assert got.public_key.key_type is KeyType.ED25519
    assert got.public_key.raw == key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def test_san_mismatch(pki: PKI) -> None:
    got = verify_x5c(x5c(pki.leaf, pki.inter), [pki.root], now=NOW)
    for client_id in ("evil.example", "verifier.example.evil", "*.verifier.example", ""):
        assert _code(lambda c=client_id: check_san_dns(got, c)) == "x5c_san_mismatch"
    no_san = pki.leaf_with(san=())
    bare = verify_x5c(x5c(no_san, pki.inter), [pki.root], now=NOW)
    assert bare.dns_names == ()
    assert _code(lambda: check_san_dns(bare, "verifier.example")) == "x5c_san_mismatch"


# ------------------------------------------------------------------ malformed


@pytest.mark.parametrize(
    "value",
    [
        None, "MIIB", [], {}, [1], ["not base64!"], ["AAAA"],
        ["TUlJQg"],  # unpadded
        ["MII-_w=="],  # base64url alphabet
        ["A" * 30_000],
    ],
)  # fmt: skip
def test_malformed_x5c(pki: PKI, value: Any) -> None:
    assert _code(lambda: parse_x5c(value)) == "x5c_malformed"
    assert _code(lambda: verify_x5c(value, [pki.root], now=NOW)) == "x5c_malformed"


def test_a_certificate_with_an_unknown_version_is_malformed(pki: PKI) -> None:
    """cryptography raises InvalidVersion (not a ValueError) for version 4: it must not leak."""
    der = bytearray(base64.b64decode(x5c(pki.leaf)[0]))
    at = der.index(bytes([0xA0, 0x03, 0x02, 0x01, 0x02]))  # [0] EXPLICIT INTEGER 2 (v3)
    der[at + 4] = 3
    value = [base64.b64encode(bytes(der)).decode()]
    assert _code(lambda: verify_x5c(value, [pki.root], now=NOW)) == "x5c_malformed"
    with pytest.raises(ParseError):
        load_trust_anchors(bytes(der))


@pytest.mark.filterwarnings("ignore:Parsed a serial number")  # cryptography's own, while parsing
def test_a_certificate_with_a_negative_serial_number_is_malformed(pki: PKI) -> None:
    """RFC 5280 4.1.2.2: the serial number MUST be positive; cryptography only warns."""
    der = bytearray(base64.b64decode(x5c(pki.leaf)[0]))
    at = der.index(bytes([0xA0, 0x03, 0x02, 0x01, 0x02])) + 5  # the serial's INTEGER follows v3
    assert der[at] == 0x02 and der[at + 1] > 1
    der[at + 2] = 0x80  # the high bit of the first content byte: a negative number, still DER
    value = [base64.b64encode(bytes(der)).decode()]
    assert _code(lambda: verify_x5c(value, [pki.root], now=NOW)) == "x5c_malformed"


def test_too_many_certificates(pki: PKI) -> None:
    chain = x5c(pki.leaf, *[pki.inter] * MAX_CHAIN_LENGTH)
    assert _code(lambda: parse_x5c(chain)) == "x5c_malformed"


def test_trust_anchor_loading(pki: PKI) -> None:
    pem = pki.root.public_bytes(serialization.Encoding.PEM)
    der = pki.root.public_bytes(serialization.Encoding.DER)
    assert load_trust_anchors(pem + pki.inter.public_bytes(serialization.Encoding.PEM))[1] == (
        pki.inter
    )
    assert load_trust_anchors([der]) == [pki.root]
    for bad in (b"", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", b"\x30"):
        with pytest.raises(ParseError):
            load_trust_anchors(bad)


@given(st.lists(st.one_of(st.text(max_size=60), st.binary(max_size=60).map(
    lambda b: base64.b64encode(b).decode())), max_size=6))  # fmt: skip
def test_garbage_is_a_typed_error(items: list[str]) -> None:
    with pytest.raises(X5CError):
        verify_x5c(items, [ROOT_FOR_GARBAGE], now=NOW)


_garbage_key = _p256()
ROOT_FOR_GARBAGE = make_cert(
    _garbage_key, _garbage_key, "root", "root", ca=True, usage=_usage(ca=True)
)
