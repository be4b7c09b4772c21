"""The ISO/IEC 18013-5 Annex D.4.1.2 example mdoc response, verified byte for byte:
the issuer's signature over its MSO and the digest of every issuer-signed item, as
published (tests/vectors/iso18013-5-annex-d/SOURCES.md)."""

from __future__ import annotations

import datetime as dt

import cbor2
import pytest
from cryptography import x509
from vector_files import VECTORS

from credentials.mdoc import (
    HEADER_X5CHAIN,
    IssuerSigned,
    MdocError,
    cose_key,
    verify_device_response,
    verify_issuer_signed,
)

RAW = bytes.fromhex(
    (VECTORS / "iso18013-5-annex-d" / "iso18013-5-d.4.1.2-device-response.hex").read_text().strip()
)
SIGNED_AT = dt.datetime(2020, 10, 1, 13, 30, 2, tzinfo=dt.UTC)
NAMESPACE = "org.iso.18013.5.1"


def issuer_signed() -> IssuerSigned:
    document = cbor2.loads(RAW)["documents"][0]
    return IssuerSigned.parse(cbor2.dumps(document["issuerSigned"]))


def document_signer() -> x509.Certificate:
    der = issuer_signed().issuer_auth.unprotected[HEADER_X5CHAIN]
    return x509.load_der_x509_certificate(der)


def test_the_vector_is_the_annex_d_response() -> None:
    assert len(RAW) == 3562
    signer = document_signer()
    assert signer.subject.rfc4514_string() == "C=US,CN=utopia ds"
    assert signer.issuer.rfc4514_string() == "C=US,CN=utopia iaca"


def test_issuer_signature_and_every_digest_verify() -> None:
    verified = verify_issuer_signed(
        issuer_signed(),
        trust_anchors=[document_signer()],  # the Annex D IACA is not in the response
        now=SIGNED_AT + dt.timedelta(days=1),
        doctype="org.iso.18013.5.1.mDL",
    )
    claims = verified.claims[NAMESPACE]
    assert sorted(claims) == [
        "document_number", "driving_privileges", "expiry_date", "family_name",
        "issue_date", "portrait",
    ]  # fmt: skip
    assert claims["family_name"] == "Doe"
    assert claims["document_number"] == "123456789"
    assert claims["issue_date"] == dt.date(2019, 10, 20)
    assert claims["expiry_date"] == dt.date(2024, 10, 20)
    assert claims["portrait"][:4] == bytes.fromhex("ffd8ffe0")  # a JPEG
    assert claims["driving_privileges"][0]["vehicle_category_code"] == "A"
    mso = verified.mso
    assert (mso.signed, mso.valid_from) == (SIGNED_AT, SIGNED_AT)
    assert mso.valid_until == dt.datetime(2021, 10, 1, 13, 30, 2, tzinfo=dt.UTC)
    assert sorted(mso.value_digests) == [NAMESPACE, "org.iso.18013.5.1.US"]
    device = cose_key(mso.device_key)
    assert device[-2].hex().startswith("96313d6c63e24e33")
    assert device[-3].hex().startswith("1fb3269edd418857")


def test_a_changed_byte_of_an_element_breaks_its_digest() -> None:
    at = RAW.index(b"cDoe")  # the text "Doe" of family_name
    forged = RAW[: at + 1] + b"R" + RAW[at + 2 :]
    document = cbor2.loads(forged)["documents"][0]
    with pytest.raises(MdocError) as caught:
        verify_issuer_signed(
            cbor2.dumps(document["issuerSigned"]),
            trust_anchors=[document_signer()],
            now=SIGNED_AT + dt.timedelta(days=1),
        )
    assert caught.value.code == "mdoc_digest_mismatch"


def test_outside_its_validity_and_its_device_mac() -> None:
    with pytest.raises(MdocError) as late:
        verify_issuer_signed(
            issuer_signed(), trust_anchors=[document_signer()], now=dt.datetime.now(dt.UTC)
        )
    assert late.value.code == "x5c_expired"
    # the whole response authenticates the device with a MAC, which we do not support
    with pytest.raises(MdocError) as mac:
        verify_device_response(
            RAW,
            session_transcript=[None, None, None],
            trust_anchors=[document_signer()],
            now=SIGNED_AT + dt.timedelta(days=1),
        )
    assert mac.value.code == "mdoc_device_auth_unsupported"
