"""Our own barcodes: encode, draw, decode, verify; every failure has its code."""

from __future__ import annotations

import struct
import sys
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials import base45
from credentials.barcode import (
    CLAIMS_KEY,
    DEFAULT_PREFIX,
    FORMAT,
    BarcodeError,
    decode_barcode,
    encode_barcode,
    qr_png,
    qr_svg,
    verify_barcode,
)
from credentials.cose import ALG_EDDSA, ALG_ES256, CoseSign1
from did_methods.errors import ParseError, UnsupportedError
from did_methods.keys import KeyType, PrivateKey, PublicKey
from did_methods.methods.key import did_key_from_public_key
from did_methods.resolver import Resolver

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
EXP = datetime(2027, 6, 30, tzinfo=UTC)
CLAIMS = {
    "type": "WorkPermit",
    "givenName": "Amina",
    "familyName": "Haidari",
    "birthDate": "1994-07-12",
    "sector": "healthcare",
    "employer": "Vilniaus klinika",
    "documentNumber": "LT-WP-2026-000417",
}


def _key(kt: KeyType, seed: int = 7) -> PrivateKey:
    return PrivateKey.generate(kt, randbytes=lambda n: bytes([seed]) * n)


def _trust(key: PrivateKey, kid: bytes = b"lt-migration-1") -> Any:
    return lambda k, iss: key.public_key if (k, iss) == (kid, "LT") else None


def _make(kt: KeyType = KeyType.ED25519, **kw: Any) -> tuple[str, PrivateKey]:
    key = _key(kt)
    args: dict[str, Any] = {"kid": b"lt-migration-1", "issuer": "LT", "iat": T0, "exp": EXP}
    args.update(kw)
    return encode_barcode(CLAIMS, key, **args), key


# -- round trips ---------------------------------------------------------------------------


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", png[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.mark.parametrize(("kt", "alg"), [(KeyType.ED25519, ALG_EDDSA), (KeyType.P256, ALG_ES256)])
def test_round_trip(kt: KeyType, alg: int) -> None:
    text, key = _make(kt)
    assert text.startswith("VC1:")
    assert all(c in base45.ALPHABET for c in text)  # QR alphanumeric mode throughout
    # the QR image renders at the size segno's own matrix predicts
    import segno

    png = qr_png(text, scale=3, border=4)
    modules = segno.make_qr(text, error="q", boost_error=False).symbol_size(scale=3, border=4)
    assert _png_size(png) == modules
    svg = qr_svg(text)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and svg.rstrip().endswith("</svg>")
    # decode: every layer, nothing verified yet
    barcode = decode_barcode(text)
    assert barcode.prefix == DEFAULT_PREFIX
    assert barcode.issuer == "LT" and barcode.kid == b"lt-migration-1"
    assert barcode.message.alg == alg
    assert barcode.issued_at == T0.timestamp() and barcode.expires_at == EXP.timestamp()
    assert barcode.not_before is None
    assert barcode.claims == CLAIMS
    assert barcode.cwt_claims[CLAIMS_KEY] == CLAIMS
    assert zlib.decompress(barcode.compressed) == barcode.message.encode()
    # verify
    result = verify_barcode(text, _trust(key), now=T0 + timedelta(days=30))
    assert result.ok, result.explain()
    assert result.format == FORMAT and result.issuer == "LT" and result.document == CLAIMS
    assert [c.name for c in result.checks] == [
        "syntax",
        "key_authorisation",
        "signature",
        "validity_period",
        "status",
    ]
    assert result.check("status").status == "skipped"  # no status claim
    assert result.kind == "credential" and result.claims == CLAIMS and result.types == ()
    with pytest.raises(TypeError):
        bool(result)


def test_the_payload_is_a_cwt_with_registered_claims() -> None:
    text, _ = _make()
    message = decode_barcode(text).message
    cwt = cbor2.loads(message.payload)
    assert cwt == {1: "LT", 6: int(T0.timestamp()), 4: int(EXP.timestamp()), -65537: CLAIMS}
    assert message.protected == {1: ALG_EDDSA, 4: b"lt-migration-1"}
    assert message.unprotected == {}


def test_did_issuer_verified_through_a_resolver_offline() -> None:
    key = _key(KeyType.P256)
    did = did_key_from_public_key(key.public_key)
    vm = did + "#" + did.removeprefix("did:key:")
    text = encode_barcode(CLAIMS, key, kid=vm, issuer=did, iat=T0, exp=EXP)
    result = verify_barcode(text, Resolver.default(), now=T0)
    assert result.ok, result.explain()
    # a relative kid resolves against iss
    rel = encode_barcode(CLAIMS, key, kid="#" + vm.split("#")[1], issuer=did, iat=T0, exp=EXP)
    assert verify_barcode(rel, Resolver.default(), now=T0).ok
    # a kid of another DID is refused before any key is used
    other = did_key_from_public_key(_key(KeyType.P256, 9).public_key)
    stolen = encode_barcode(CLAIMS, key, kid=vm, issuer=other, iat=T0, exp=EXP)
    assert verify_barcode(stolen, Resolver.default(), now=T0).codes == ("kid_not_issuer",)
    # a kid that is not a DID URL
    plain = encode_barcode(CLAIMS, key, kid=b"\xff\xfe", issuer=did, iat=T0, exp=EXP)
    assert verify_barcode(plain, Resolver.default(), now=T0).codes == ("kid_invalid",)
    # signed by another key under this DID's name
    forged = encode_barcode(CLAIMS, _key(KeyType.P256, 9), kid=vm, issuer=did, iat=T0, exp=EXP)
    assert verify_barcode(forged, Resolver.default(), now=T0).codes == ("signature_invalid",)


def test_nbf_and_custom_prefix() -> None:
    start = T0 + timedelta(days=10)
    text, key = _make(nbf=start, prefix="EUV1:")
    assert text.startswith("EUV1:")
    with pytest.raises(BarcodeError) as err:
        decode_barcode(text)
    assert err.value.code == "prefix_invalid"
    early = verify_barcode(text, _trust(key), now=T0, prefix="EUV1:")
    assert early.codes == ("not_yet_valid",)
    assert verify_barcode(text, _trust(key), now=start, prefix="EUV1:").ok


# -- verification failures, each with its code ---------------------------------------------


def test_validity_period() -> None:
    text, key = _make()
    assert verify_barcode(text, _trust(key), now=EXP, leeway=0).codes == ("expired",)
    assert verify_barcode(text, _trust(key), now=EXP - timedelta(seconds=1), leeway=0).ok
    # the default clock skew is 60 s, in every format
    assert verify_barcode(text, _trust(key), now=EXP).ok
    assert verify_barcode(text, _trust(key), now=EXP + timedelta(seconds=60)).codes == ("expired",)
    assert verify_barcode(text, _trust(key), now=T0 - timedelta(seconds=1), leeway=0).codes == (
        "not_yet_valid",
    )
    assert verify_barcode(text, _trust(key), now=T0 - timedelta(seconds=61)).codes == (
        "not_yet_valid",
    )
    with pytest.deprecated_call():  # seconds since the epoch: the old shape, still read
        assert verify_barcode(text, _trust(key), now=T0.timestamp()).ok
    with pytest.raises(ParseError):
        verify_barcode(text, _trust(key), now=datetime(2026, 5, 1))  # naive


def test_key_lookup_outcomes() -> None:
    text, key = _make()
    assert verify_barcode(text, lambda k, i: None, now=T0).codes == ("key_unresolved",)

    def raises(kid: bytes, iss: str | None) -> PublicKey:
        raise KeyError(kid)

    result = verify_barcode(text, raises, now=T0)
    assert result.codes == ("key_unresolved",)
    assert result.check("signature").status == "skipped"  # type: ignore[union-attr]
    wrong = _key(KeyType.ED25519, 8).public_key
    assert verify_barcode(text, lambda k, i: wrong, now=T0).codes == ("signature_invalid",)
    p256 = _key(KeyType.P256).public_key
    assert verify_barcode(text, lambda k, i: p256, now=T0).codes == ("key_type_mismatch",)
    only_es = frozenset({ALG_ES256})
    assert verify_barcode(text, _trust(key), now=T0, algorithms=only_es).codes == (
        "alg_not_allowed",
    )
    with pytest.raises(TypeError):
        verify_barcode(text, lambda k, i: "not a key", now=T0)  # type: ignore[arg-type,return-value]


def test_missing_kid_and_unsigned_kid() -> None:
    key = _key(KeyType.ED25519)
    payload = cbor2.dumps({1: "LT", 6: 1, 4: 2**40, CLAIMS_KEY: {"a": 1}})
    bare = CoseSign1.sign(payload, key)
    text = "VC1:" + base45.encode(zlib.compress(bare.encode(), 9))
    assert verify_barcode(text, _trust(key), now=T0).codes == ("kid_missing",)
    # a kid in the unprotected header is read (it only picks the key; the key must verify)
    loose = CoseSign1.sign(payload, key, kid=b"lt-migration-1", kid_protected=False)
    text = "VC1:" + base45.encode(zlib.compress(loose.encode(), 9))
    assert verify_barcode(text, _trust(key), now=T0).ok


def _wrap(cwt: Any, key: PrivateKey | None = None) -> str:
    key = key or _key(KeyType.ED25519)
    msg = CoseSign1.sign(cbor2.dumps(cwt), key, kid=b"lt-migration-1")
    return "VC1:" + base45.encode(zlib.compress(msg.encode(), 9))


@pytest.mark.parametrize(
    "cwt",
    [
        [1, 2],
        {1: 5, CLAIMS_KEY: {}},  # iss not text
        {1: "LT", 4: "tomorrow", CLAIMS_KEY: {}},
        {1: "LT", 6: True, CLAIMS_KEY: {}},
        {1: "LT", 4: float("inf"), CLAIMS_KEY: {}},
        {1: "LT", 4: 10},  # no claims
        {1: "LT", 4: 10, CLAIMS_KEY: ["not", "a", "map"]},
    ],
)
def test_bad_cwt_claims(cwt: Any) -> None:
    with pytest.raises(BarcodeError) as err:
        decode_barcode(_wrap(cwt))
    assert err.value.code == "cwt_invalid"
    assert verify_barcode(_wrap(cwt), lambda k, i: None, now=T0).codes == ("cwt_invalid",)


def test_missing_exp_fails_validity() -> None:
    key = _key(KeyType.ED25519)
    text = _wrap({1: "LT", 6: 1, CLAIMS_KEY: {"a": 1}}, key)
    assert verify_barcode(text, _trust(key), now=T0).codes == ("claims_invalid",)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "prefix_invalid"),
        ("HC1:BB8", "prefix_invalid"),
        ("vc1:BB8", "prefix_invalid"),
        ("VC1:bb8", "base45_invalid"),
        ("VC1:GGW", "base45_invalid"),
        ("VC1:BB8", "zlib_invalid"),
        ("VC1:" + base45.encode(zlib.compress(b"x")[:-1]), "zlib_invalid"),
        ("VC1:" + base45.encode(zlib.compress(b"x") + b"\x00"), "zlib_invalid"),
        ("VC1:" + base45.encode(zlib.compress(b"\xa0")), "cose_invalid"),
        (
            "VC1:" + base45.encode(zlib.compress(cbor2.dumps([b"", {}, b"\xff", b""]))),
            "cwt_invalid",
        ),
    ],
)
def test_syntax_codes(text: str, code: str) -> None:
    with pytest.raises(BarcodeError) as err:
        decode_barcode(text)
    assert err.value.code == code
    result = verify_barcode(text, lambda k, i: None, now=T0)
    assert not result.ok and result.codes == (code,)
    assert result.checks[0].name == "syntax"


def test_decode_refuses_non_text() -> None:
    with pytest.raises(BarcodeError):
        decode_barcode(b"VC1:BB8")  # type: ignore[arg-type]


# -- bounds: zlib bombs and oversized input ------------------------------------------------


def test_zlib_bomb_stops_at_the_bound() -> None:
    bomb = zlib.compress(bytes(50 * 1024 * 1024), 9)  # 50 MiB of zeros in ~50 KB
    text = "VC1:" + base45.encode(bomb)
    with pytest.raises(BarcodeError) as err:
        decode_barcode(text, max_bytes=len(bomb) + 10)
    assert err.value.code == "too_large"
    with pytest.raises(BarcodeError) as err:
        decode_barcode(text)  # the default bound: 64 KiB, less than the compressed size
    assert err.value.code == "too_large"
    small = "VC1:" + base45.encode(zlib.compress(bytes(10_000)))
    with pytest.raises(BarcodeError) as err:
        decode_barcode(small, max_bytes=5_000)
    assert err.value.code == "too_large"


def test_non_zero_zlib_padding_is_refused() -> None:
    # Find a barcode whose last deflate byte has unused high bits, set one, and
    # check that inflate alone would not notice but our decoder does. (The
    # claims must compress, or zlib stores them and the last byte is data.)
    key = _key(KeyType.ED25519)
    for n in range(64):
        claims = {**CLAIMS, "n": n}
        text = encode_barcode(claims, key, kid=b"k", issuer="LT", iat=T0, exp=EXP)
        data = base45.decode(text[4:])
        last = data[-5]
        for bit in range(7, 0, -1):
            if last & (1 << bit):
                break
            tweaked = data[:-5] + bytes([last | (1 << bit)]) + data[-4:]
            try:
                same = zlib.decompress(tweaked) == zlib.decompress(data)
            except zlib.error:
                same = False
            if same:
                with pytest.raises(BarcodeError) as err:
                    decode_barcode("VC1:" + base45.encode(tweaked))
                assert err.value.code == "zlib_invalid"
                return
    pytest.fail("no barcode with padding bits found")


# -- tampering -----------------------------------------------------------------------------


def _padded_barcode() -> tuple[str, PrivateKey]:
    """A barcode with a one-character change that plain zlib cannot see.

    When the last deflate byte is the second byte of a base45 group, changing
    the group's first character adds a small number to that byte; if that
    only sets ignored padding bits, inflate returns the same message. Our
    decoder must refuse such a change (non-zero padding)."""
    key = _key(KeyType.ED25519)
    for n in range(300):
        claims = {**CLAIMS, "n": n}
        text = encode_barcode(claims, key, kid=b"lt-migration-1", issuer="LT", iat=T0, exp=EXP)
        data = base45.decode(text[4:])
        if (len(data) - 5) % 2 == 0:
            continue
        at = 4 + (len(data) - 5) // 2 * 3
        for c in base45.ALPHABET:
            changed = text[:at] + c + text[at + 1 :]
            try:
                raw = base45.decode(changed[4:])
                if c != text[at] and zlib.decompress(raw) == zlib.decompress(data):
                    return text, key
            except (base45.Base45Error, zlib.error):
                pass
    raise AssertionError("no such barcode found")


@pytest.mark.parametrize("kind", ["Ed25519", "P-256", "padded"])
def test_changing_any_character_never_verifies(kind: str) -> None:
    text, key = _padded_barcode() if kind == "padded" else _make(KeyType(kind))
    trust = _trust(key)
    now = T0 + timedelta(days=1)
    assert verify_barcode(text, trust, now=now).ok
    alphabet = base45.ALPHABET + "abc\n"
    tried = 0
    for i, original in enumerate(text):
        for c in alphabet:
            if c == original:
                continue
            tried += 1
            tampered = text[:i] + c + text[i + 1 :]
            assert not verify_barcode(tampered, trust, now=now).ok, (i, c)
    assert tried > 40 * len(text)


def test_truncation_and_appending_never_verify() -> None:
    text, key = _make()
    for n in range(len(text)):
        assert not verify_barcode(text[:n], _trust(key), now=T0).ok
    for extra in ("0", "00", "000", " ", "VC1:"):
        assert not verify_barcode(text + extra, _trust(key), now=T0).ok


# -- fuzzing: only our errors, never a crash or a hang ---------------------------------------


@settings(max_examples=200)
@given(st.text(max_size=300))
def test_arbitrary_text_raises_only_barcode_errors(text: str) -> None:
    for candidate in (text, "VC1:" + text):
        try:
            decode_barcode(candidate)
        except BarcodeError:
            pass
        result = verify_barcode(candidate, lambda k, i: None, now=T0)
        assert not result.ok


@settings(max_examples=200)
@given(st.binary(max_size=400))
def test_arbitrary_compressed_bytes_raise_only_barcode_errors(data: bytes) -> None:
    for raw in (data, zlib.compress(data)):
        try:
            decode_barcode("VC1:" + base45.encode(raw))
        except BarcodeError:
            pass


@settings(max_examples=100)
@given(st.data())
def test_mutated_barcodes_never_verify(data: st.DataObject) -> None:
    text, key = _make()
    raw = bytearray(zlib.decompress(base45.decode(text[4:])))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    tampered = "VC1:" + base45.encode(zlib.compress(bytes(raw)))
    result = verify_barcode(tampered, _trust(key), now=T0)
    if result.ok:
        # only bytes the signature does not cover may change: nothing else verifies
        assert decode_barcode(tampered).message.payload == decode_barcode(text).message.payload


# -- encoding input ------------------------------------------------------------------------


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"x": value}
    return value


def test_deepest_claims_round_trip() -> None:
    # 14 levels of maps inside the claims: the CWT map and COSE bounds still hold
    text = encode_barcode(
        _nested(14), _key(KeyType.ED25519), kid=b"k", issuer="LT", iat=T0, exp=EXP
    )
    assert decode_barcode(text).claims == _nested(14)


@pytest.mark.parametrize(
    ("claims", "kw"),
    [
        ({1: "int key"}, {}),
        ({"a": {2, 3}}, {}),
        ({"a": object()}, {}),
        ({"a": 2**70}, {}),
        (_nested(15), {}),
        (["not", "a", "map"], {}),
        (CLAIMS, {"exp": T0}),
        (CLAIMS, {"exp": datetime(2027, 1, 1)}),
        (CLAIMS, {"exp": "2027-01-01"}),
        (CLAIMS, {"issuer": ""}),
        (CLAIMS, {"kid": b""}),
        (CLAIMS, {"prefix": "vc1:"}),
        (CLAIMS, {"prefix": ""}),
        (CLAIMS, {"prefix": "VC1:" * 5}),
    ],
)
def test_encode_refuses_bad_input(claims: Any, kw: dict[str, Any]) -> None:
    args: dict[str, Any] = {"kid": b"k", "issuer": "LT", "iat": T0, "exp": EXP}
    args.update(kw)
    with pytest.raises(BarcodeError):
        encode_barcode(claims, _key(KeyType.ED25519), **args)


def test_encode_defaults_iat_to_now_and_refuses_x25519() -> None:
    key = _key(KeyType.ED25519)
    # iat is the wall clock here, so exp follows it (a fixed date fails from that day on)
    later = datetime.now(UTC) + timedelta(days=365)
    text = encode_barcode(CLAIMS, key, kid="k", issuer="LT", exp=later)
    iat = decode_barcode(text).issued_at
    assert iat is not None and abs(iat - datetime.now(UTC).timestamp()) < 60
    with pytest.raises(UnsupportedError):
        encode_barcode(CLAIMS, PrivateKey.generate(KeyType.X25519), kid="k", issuer="LT", exp=later)


def test_plain_claim_values_survive() -> None:
    claims = {"s": "ü", "i": -3, "f": 1.5, "b": True, "n": None, "l": [1, ("t",)], "raw": b"\x00"}
    text = encode_barcode(claims, _key(KeyType.ED25519), kid=b"k", issuer="LT", iat=T0, exp=EXP)
    assert decode_barcode(text).claims == {**claims, "l": [1, ["t"]]}


# -- QR drawing ----------------------------------------------------------------------------


def test_qr_without_segno_is_a_clear_unsupported_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "segno", None)  # makes `import segno` raise ImportError
    with pytest.raises(UnsupportedError, match=r"ssi-wallet\[qr\]"):
        qr_png("VC1:BB8")
    with pytest.raises(UnsupportedError, match="segno"):
        qr_svg("VC1:BB8")


def test_qr_too_large_and_bad_options() -> None:
    with pytest.raises(BarcodeError) as err:
        qr_png("VC1:" + "0" * 5000)
    assert err.value.code == "too_large"
    with pytest.raises(UnsupportedError):
        qr_png("VC1:BB8", error="z")
    with pytest.raises(TypeError):
        qr_svg(b"VC1:")  # type: ignore[arg-type]
