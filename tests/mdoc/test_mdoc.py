"""credentials.mdoc: issue, verify and present ISO/IEC 18013-5 mdocs, checked against
plain re-computations of the structures the standard defines."""

from __future__ import annotations

import datetime as dt
import hashlib

import cbor2
import pytest
from mdoc_support import CLAIMS, DOCTYPE, NAMESPACE, Pki, transcript
from x509_support import DAY, make_cert, p256, usage

from credentials.cose import CoseSign1
from credentials.mdoc import (
    HEADER_X5CHAIN,
    IssuerSigned,
    MdocError,
    cose_key,
    device_authentication_bytes,
    oid4vp_session_transcript,
    present_mdoc,
    public_key_from_cose_key,
    verify_device_response,
    verify_issuer_signed,
)
from did_methods.keys import KeyType, PrivateKey


def test_issue_then_verify_round_trip(pki: Pki) -> None:
    issued = pki.issue()
    verified = verify_issuer_signed(issued.encode(), trust_anchors=[pki.root], now=pki.now)
    assert verified.doctype == DOCTYPE
    assert verified.claims == {NAMESPACE: CLAIMS}
    assert verified.device_key == pki.device.public_key
    assert verified.issuer.subject == "CN=Test Document Signer,C=LT"
    assert verified.device_signed is False


def test_mso_digests_are_sha256_of_tag24_item_bytes(pki: Pki) -> None:
    """Recompute each digest by hand: 0xd8 0x18 (tag 24), a byte string head, the item."""
    issued = pki.issue()
    mso = issued.unverified_mso()
    for item in issued.namespaces[NAMESPACE]:
        inner = item.encoded
        assert len(inner) < 65536
        head = (
            bytes([0x59]) + len(inner).to_bytes(2, "big")
            if len(inner) > 255
            else (bytes([0x58, len(inner)]) if len(inner) > 23 else bytes([0x40 + len(inner)]))
        )
        by_hand = hashlib.sha256(b"\xd8\x18" + head + inner).digest()
        assert mso.value_digests[NAMESPACE][item.digest_id] == by_hand
        decoded = cbor2.loads(inner)
        assert set(decoded) == {"digestID", "random", "elementIdentifier", "elementValue"}


def test_each_item_has_its_own_32_byte_salt_and_distinct_digest_ids(pki: Pki) -> None:
    first, second = pki.issue(), pki.issue()
    salts = [item.random for item in first.namespaces[NAMESPACE]]
    salts += [item.random for item in second.namespaces[NAMESPACE]]
    assert all(len(salt) == 32 for salt in salts)
    assert len(set(salts)) == len(salts)
    ids = sorted(item.digest_id for item in first.namespaces[NAMESPACE])
    assert ids == list(range(len(CLAIMS)))


def test_birth_date_is_a_full_date_tag_1004(pki: Pki) -> None:
    issued = pki.issue()
    (item,) = [i for i in issued.namespaces[NAMESPACE] if i.element_identifier == "birth_date"]
    # tag 1004 (0xd9 0x03 0xec) around the text "1994-03-17" (0x6a: ten bytes of text)
    assert b"\xd9\x03\xec\x6a1994-03-17" in item.encoded
    assert item.element_value == dt.date(1994, 3, 17)


def test_issuer_auth_carries_x5chain_unprotected_and_mso_as_tag24(pki: Pki) -> None:
    issued = pki.issue()
    auth = issued.issuer_auth
    assert auth.protected == {1: -7}
    from cryptography.hazmat.primitives.serialization import Encoding

    assert auth.unprotected[HEADER_X5CHAIN] == pki.signer.public_bytes(Encoding.DER)
    outer = cbor2.loads(auth.payload)
    assert isinstance(outer, cbor2.CBORTag) and outer.tag == 24
    mso = cbor2.loads(outer.value)
    assert mso["version"] == "1.0" and mso["digestAlgorithm"] == "SHA-256"
    assert mso["docType"] == DOCTYPE
    assert mso["validityInfo"]["signed"] == pki.now - DAY
    # the issuerAuth inside IssuerSigned is the untagged COSE_Sign1 array
    assert isinstance(cbor2.loads(issued.encode())["issuerAuth"], list)


def test_oid4vp_session_transcript_matches_appendix_b_2_6_1() -> None:
    handover_info = cbor2.dumps(["x509_san_dns:v.example", "abc", None, "https://v.example/r"])
    expected = [None, None, ["OpenID4VPHandover", hashlib.sha256(handover_info).digest()]]
    got = oid4vp_session_transcript(
        client_id="x509_san_dns:v.example", nonce="abc", response_uri="https://v.example/r"
    )
    assert got == expected
    thumb = hashlib.sha256(b"jwk").digest()
    with_key = oid4vp_session_transcript(
        client_id="c", nonce="n", response_uri="u", jwk_thumbprint=thumb
    )
    assert with_key[2][1] == hashlib.sha256(cbor2.dumps(["c", "n", thumb, "u"])).digest()


def test_device_response_with_selective_disclosure(pki: Pki) -> None:
    issued = pki.issue()
    response = present_mdoc(
        issued,
        device_key=pki.device,
        session_transcript=transcript(),
        disclose={NAMESPACE: ["age_over_18", "permit_type"]},
    )
    assert b"Haidari" not in response and b"1994-03-17" not in response
    (verified,) = verify_device_response(
        response, session_transcript=transcript(), trust_anchors=[pki.root], now=pki.now
    )
    assert verified.claims == {NAMESPACE: {"age_over_18": True, "permit_type": "work"}}
    assert verified.device_signed is True and verified.device_claims == {}


def test_device_signature_covers_device_authentication(pki: Pki) -> None:
    """Check the detached signature by hand over the structure ISO 18013-5 defines."""
    issued = pki.issue()
    response = cbor2.loads(
        present_mdoc(issued, device_key=pki.device, session_transcript=transcript())
    )
    (document,) = response["documents"]
    assert response["version"] == "1.0" and response["status"] == 0
    namespaces = document["deviceSigned"]["nameSpaces"]
    assert namespaces.tag == 24 and cbor2.loads(namespaces.value) == {}
    protected, unprotected, payload, signature = document["deviceSigned"]["deviceAuth"][
        "deviceSignature"
    ]
    assert payload is None
    by_hand = cbor2.dumps(
        cbor2.CBORTag(24, cbor2.dumps(["DeviceAuthentication", transcript(), DOCTYPE, namespaces]))
    )
    assert by_hand == device_authentication_bytes(transcript(), DOCTYPE, namespaces.value)
    cose = CoseSign1(protected, cbor2.loads(protected), unprotected, by_hand, signature)
    assert cose.verify(pki.device.public_key) == by_hand


def test_another_session_transcript_is_refused(pki: Pki) -> None:
    response = present_mdoc(pki.issue(), device_key=pki.device, session_transcript=transcript())
    with pytest.raises(MdocError) as caught:
        verify_device_response(
            response, session_transcript=transcript("other"), trust_anchors=[pki.root], now=pki.now
        )
    assert caught.value.code == "device_signature_invalid"


@pytest.mark.parametrize("key_type", [KeyType.P256, KeyType.P384, KeyType.ED25519])
def test_cose_key_round_trip_and_device_keys(pki: Pki, key_type: KeyType) -> None:
    device = PrivateKey.generate(key_type)
    assert public_key_from_cose_key(cose_key(device.public_key)) == device.public_key
    issued = pki.issue(device_key=device.public_key)
    response = present_mdoc(issued, device_key=device, session_transcript=transcript())
    (verified,) = verify_device_response(
        response, session_transcript=transcript(), trust_anchors=[pki.root], now=pki.now
    )
    assert verified.device_key == device.public_key


def test_ec2_cose_key_layout(pki: Pki) -> None:
    key = cose_key(pki.device.public_key)
    assert key[1] == 2 and key[-1] == 1 and len(key[-2]) == 32 and len(key[-3]) == 32


def test_validity_window(pki: Pki) -> None:
    issued = pki.issue()
    with pytest.raises(MdocError) as early:
        verify_issuer_signed(issued, trust_anchors=[pki.root], now=pki.now - 2 * DAY)
    assert early.value.code == "mdoc_not_yet_valid"
    late = pki.issue(valid_until=pki.now + DAY)
    with pytest.raises(MdocError) as expired:
        verify_issuer_signed(late, trust_anchors=[pki.root], now=pki.now + 2 * DAY)
    assert expired.value.code == "mdoc_expired"


def test_untrusted_root_and_wrong_doctype(pki: Pki) -> None:
    issued = pki.issue()
    other = p256()
    stranger = make_cert(other, other, "Other IACA", "Other IACA", ca=True, usage=usage(ca=True))
    with pytest.raises(MdocError) as untrusted:
        verify_issuer_signed(issued, trust_anchors=[stranger], now=pki.now)
    assert untrusted.value.code == "x5c_untrusted"
    with pytest.raises(MdocError) as doctype:
        verify_issuer_signed(
            issued, trust_anchors=[pki.root], now=pki.now, doctype="org.iso.18013.5.1.mDL"
        )
    assert doctype.value.code == "mdoc_doctype_mismatch"


def test_signed_outside_certificate_validity(pki: Pki) -> None:
    issued = pki.issue(signed=pki.now - 60 * DAY)
    with pytest.raises(MdocError) as caught:
        verify_issuer_signed(issued, trust_anchors=[pki.root], now=pki.now)
    assert caught.value.code == "mdoc_signed_outside_certificate"


def test_parse_encode_round_trip_is_byte_exact(pki: Pki) -> None:
    encoded = pki.issue().encode()
    assert IssuerSigned.parse(encoded).encode() == encoded


def test_disclosing_an_absent_element_is_refused(pki: Pki) -> None:
    with pytest.raises(MdocError) as caught:
        present_mdoc(
            pki.issue(),
            device_key=pki.device,
            session_transcript=transcript(),
            disclose={NAMESPACE: ["nationality"]},
        )
    assert caught.value.code == "mdoc_element_missing"


def test_naive_datetimes_are_refused(pki: Pki) -> None:
    with pytest.raises(ValueError):
        pki.issue(valid_from=dt.datetime(2026, 1, 1))
