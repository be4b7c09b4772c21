"""The EU Digital COVID Certificate test data (dgc-testdata), read with our decoder.

For every file and every ``EXPECTED*`` flag it sets that concerns a layer we
implement, our result must equal the flag (see the vectors' SOURCES.md for
the flags' meaning):

* ``UNPREFIX``: :func:`decode_barcode` accepts the ``HC1:`` prefix, and the
  rest is ``BASE45``;
* ``B45DECODE``: our base45 decoder turns ``BASE45`` into ``COMPRESSED``;
* ``COMPRESSION``: the zlib layer of :func:`decode_barcode` inflates the
  barcode to the message in ``COSE``;
* ``DECODE``: our strict CBOR decoder reads ``CBOR`` (the hcert payload; the
  DE files give the whole CWT claims map) and it equals ``JSON``;
* ``VALIDJSON``: the whole chain from ``PREFIX`` yields ``JSON`` under the
  hcert claim ``-260`` / ``1``;
* ``VERIFY``: ``COSE`` parses, the signer's key is found by ``kid`` (the EU
  DCC key identifier: the first 8 bytes of SHA-256 of the DER certificate)
  and the signature verifies. EC P-256 (ES256) signers go through
  :func:`verify_barcode`; for the RSA signers (PS256, which our key model does
  not hold) the RSA-PSS check runs here with pyca/cryptography over the
  ``Sig_structure`` our parser rebuilds;
* ``EXPIRATIONCHECK``: the ``validity_period`` check at ``VALIDATIONCLOCK``.

Flags about QR image reading, EU-DCC key-usage OIDs and the EU-DCC JSON
schema are outside this library and are not tested.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from vector_files import VECTORS

from credentials import base45
from credentials.barcode import BarcodeError, UnverifiedBarcode, decode_barcode, verify_barcode
from credentials.cose import CoseError, CoseSign1, decode_cbor
from did_methods.errors import ParseError, VerificationError
from did_methods.keys import KeyType, PublicKey

DCC = VECTORS / "eu-dcc-testdata"
FILES = sorted(DCC.glob("*/2DCode/raw/*.json"))
HCERT = -260
PS256 = -37
FLAGS = ("UNPREFIX", "B45DECODE", "COMPRESSION", "DECODE", "VALIDJSON", "VERIFY", "EXPIRATIONCHECK")


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _cases() -> list[Any]:
    cases = []
    for path in FILES:
        expected = _load(path)["EXPECTEDRESULTS"]
        for flag in FLAGS:
            if "EXPECTED" + flag in expected:
                name = f"{path.parent.parent.parent.name}/{path.stem}-{flag}"
                cases.append(pytest.param(path, flag, expected["EXPECTED" + flag], id=name))
    return cases


def test_the_data_is_all_there() -> None:
    assert len(FILES) == 46
    assert len(_cases()) >= 60


def _decode(text: str) -> UnverifiedBarcode:
    return decode_barcode(text, prefix="HC1:", claims_key=HCERT)


def _failing_layer(text: str) -> str | None:
    try:
        _decode(text)
    except BarcodeError as exc:
        return exc.code
    return None


class _Signer:
    """The signer certificate's key, found only by the EU DCC key identifier."""

    def __init__(self, case: dict[str, Any]) -> None:
        der = base64.b64decode(case["TESTCTX"]["CERTIFICATE"])
        self.kid = hashlib.sha256(der).digest()[:8]
        self.native = x509.load_der_x509_certificate(der).public_key()

    def lookup(self, kid: bytes, issuer: str | None) -> PublicKey | None:
        if kid != self.kid or not isinstance(self.native, ec.EllipticCurvePublicKey):
            return None
        point = self.native.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return PublicKey.from_raw(KeyType.P256, point)


def _clock(case: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(case["TESTCTX"]["VALIDATIONCLOCK"].replace("Z", "+00:00"))


def _rsa_verifies(message: CoseSign1, signer: _Signer) -> bool:
    assert isinstance(signer.native, rsa.RSAPublicKey) and message.alg == PS256
    if message.kid != signer.kid:
        return False
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)  # RFC 8230 Section 2
    try:
        signer.native.verify(message.signature, message.to_be_signed(), pss, hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def _verify(case: dict[str, Any]) -> bool:
    signer = _Signer(case)
    if isinstance(signer.native, rsa.RSAPublicKey):
        try:
            message = CoseSign1.parse(bytes.fromhex(case["COSE"]))
        except CoseError:
            return False
        return _rsa_verifies(message, signer)
    # Through the public verifier: the PREFIX carries exactly the COSE message tested.
    assert _decode(case["PREFIX"]).message == CoseSign1.parse(bytes.fromhex(case["COSE"]))
    result = verify_barcode(
        case["PREFIX"], signer.lookup, now=_clock(case), prefix="HC1:", claims_key=HCERT
    )
    return all(result.check(n).status == "passed" for n in ("key_authorisation", "signature"))  # type: ignore[union-attr]


def _verify_or_unreadable(case: dict[str, Any]) -> bool:
    try:
        return _verify(case)
    except (CoseError, BarcodeError):
        return False


def _decode_cbor_field(case: dict[str, Any]) -> bool:
    try:
        value = decode_cbor(bytes.fromhex(case["CBOR"]), allow_indefinite=True)
    except CoseError:
        return False
    if isinstance(value, dict) and HCERT in value:
        value = value[HCERT].get(1)
    return bool(value == case["JSON"])


def _outcome(case: dict[str, Any], flag: str) -> bool:
    text = case["PREFIX"]
    if flag == "UNPREFIX":
        return _failing_layer(text) != "prefix_invalid" and text[4:] == case["BASE45"]
    if flag == "B45DECODE":
        try:
            ok = base45.decode(case["BASE45"]) == bytes.fromhex(case["COMPRESSED"])
        except base45.Base45Error:
            ok = False
        # the same verdict through the whole decoder
        assert (_failing_layer(text) == "base45_invalid") is not ok
        return ok
    if flag == "COMPRESSION":
        assert text[4:] == base45.encode(bytes.fromhex(case["COMPRESSED"]))
        if _failing_layer(text) == "zlib_invalid":
            return False
        return _decode(text).message == CoseSign1.parse(bytes.fromhex(case["COSE"]))
    if flag == "DECODE":
        return _decode_cbor_field(case)
    if flag == "VALIDJSON":
        try:
            return bool(_decode(text).claims.get(1) == case["JSON"])
        except BarcodeError:
            return False
    if flag == "VERIFY":
        return _verify_or_unreadable(case)
    assert flag == "EXPIRATIONCHECK"
    result = verify_barcode(
        text, _Signer(case).lookup, now=_clock(case), prefix="HC1:", claims_key=HCERT
    )
    check = result.check("validity_period")
    assert check is not None
    return check.status == "passed"


@pytest.mark.parametrize(("path", "flag", "expected"), _cases())
def test_eu_dcc_expected_results(path: Path, flag: str, expected: bool) -> None:
    assert _outcome(_load(path), flag) is expected


def test_expiration_codes() -> None:
    for name, code in (("CO16", "not_yet_valid"), ("CO17", "expired")):
        case = _load(DCC / "common/2DCode/raw" / f"{name}.json")
        result = verify_barcode(
            case["PREFIX"], _Signer(case).lookup, now=_clock(case), prefix="HC1:", claims_key=HCERT
        )
        assert result.codes == (code,)


def test_kid_precedence_files() -> None:
    # CO21: protected kid right, unprotected wrong -> verifies; CO22: the reverse -> not.
    co21 = _load(DCC / "common/2DCode/raw/CO21.json")
    co22 = _load(DCC / "common/2DCode/raw/CO22.json")
    assert _verify(co21) is True
    r = verify_barcode(
        co22["PREFIX"], _Signer(co22).lookup, now=_clock(co22), prefix="HC1:", claims_key=HCERT
    )
    assert r.codes == ("key_unresolved",)


def test_every_prefix_decodes_or_raises_only_barcode_errors() -> None:
    for path in FILES:
        case = _load(path)
        try:
            barcode = _decode(case["PREFIX"])
        except BarcodeError as exc:
            assert isinstance(exc, ParseError)
            continue
        assert barcode.issuer in {"AT", "DE", "SE"}
        assert barcode.kid is not None  # 8 bytes, or the deliberately wrong b"foo"


def test_our_prefix_refuses_eu_dcc_barcodes() -> None:
    case = _load(DCC / "AT/2DCode/raw/1.json")
    with pytest.raises(BarcodeError) as err:
        decode_barcode(case["PREFIX"])
    assert err.value.code == "prefix_invalid"
    # and with the right prefix but our claims key, the hcert is not our credential
    with pytest.raises(BarcodeError) as err:
        decode_barcode(case["PREFIX"], prefix="HC1:")
    assert err.value.code == "cwt_invalid"


def test_signature_of_a_valid_file_fails_with_the_wrong_key() -> None:
    case = _load(DCC / "DE/2DCode/raw/1.json")
    message = CoseSign1.parse(bytes.fromhex(case["COSE"]))
    other = _load(DCC / "AT/2DCode/raw/1.json")
    key = _Signer(other).native
    assert isinstance(key, ec.EllipticCurvePublicKey)
    wrong = PublicKey.from_raw(
        KeyType.P256, key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    with pytest.raises(VerificationError) as err:
        message.verify(wrong)
    assert err.value.code == "signature_invalid"
