"""Attacks on mdoc (ISO/IEC 18013-5) presentations: each is refused with its own code.

A good DeviceResponse is decoded, changed the way an attacker would, re-encoded
and handed to ``verify_device_response``; hostile CBOR (tags, depth, size,
truncation) is refused before any structure is trusted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given
from hypothesis import strategies as st
from mdoc_support import NAMESPACE, Pki, make_pki, transcript
from x509_support import NOW, make_cert, p256, usage

from credentials.cose import CoseSign1
from credentials.mdoc import (
    MAX_MDOC_BYTES,
    MdocError,
    MdocFormatError,
    present_mdoc,
    verify_device_response,
    verify_issuer_signed,
)
from did_methods.keys import KeyType, PrivateKey


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki(NOW)


def response(pki: Pki, **kwargs: Any) -> bytes:
    return present_mdoc(
        pki.issue(),
        device_key=pki.device,
        session_transcript=transcript(),
        disclose={NAMESPACE: ["age_over_18", "permit_type"]},
        **kwargs,
    )


def refused(pki: Pki, data: bytes, code: str, **kwargs: Any) -> MdocError:
    arguments: dict[str, Any] = {
        "session_transcript": transcript(),
        "trust_anchors": [pki.root],
        "now": pki.now,
    }
    arguments.update(kwargs)
    with pytest.raises(MdocError) as caught:
        verify_device_response(data, **arguments)
    assert caught.value.code == code, caught.value
    return caught.value


def mutate(data: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    value = cbor2.loads(data)
    change(value)
    return cbor2.dumps(value)


def items(value: dict[str, Any]) -> list[Any]:
    return value["documents"][0]["issuerSigned"]["nameSpaces"][NAMESPACE]  # type: ignore[no-any-return]


def rewrite_item(value: dict[str, Any], index: int, **changes: Any) -> None:
    tagged = items(value)[index]
    item = cbor2.loads(tagged.value)
    item.update(changes)
    items(value)[index] = cbor2.CBORTag(24, cbor2.dumps(item))


def test_tampered_element_value(pki: Pki) -> None:
    data = mutate(response(pki), lambda v: rewrite_item(v, 0, elementValue="study"))
    refused(pki, data, "mdoc_digest_mismatch")


def test_element_with_a_digest_id_the_mso_lacks(pki: Pki) -> None:
    data = mutate(response(pki), lambda v: rewrite_item(v, 0, digestID=999))
    refused(pki, data, "mdoc_digest_missing")


def test_element_moved_to_another_namespace(pki: Pki) -> None:
    def move(value: dict[str, Any]) -> None:
        spaces = value["documents"][0]["issuerSigned"]["nameSpaces"]
        spaces["org.iso.18013.5.1"] = spaces.pop(NAMESPACE)

    refused(pki, mutate(response(pki), move), "mdoc_digest_missing")


def test_repeated_element(pki: Pki) -> None:
    data = mutate(response(pki), lambda v: items(v).append(items(v)[0]))
    refused(pki, data, "mdoc_duplicate_element")


def test_items_spliced_from_another_mdoc_of_the_same_holder(pki: Pki) -> None:
    other = cbor2.loads(response(pki))

    def splice(value: dict[str, Any]) -> None:
        items(value)[0] = items(other)[0]

    refused(pki, mutate(response(pki), splice), "mdoc_digest_mismatch")


def test_replayed_into_another_session(pki: Pki) -> None:
    refused(pki, response(pki), "device_signature_invalid", session_transcript=transcript("x"))


def test_device_signature_by_another_key(pki: Pki) -> None:
    thief = PrivateKey.generate(KeyType.P256)
    data = present_mdoc(pki.issue(), device_key=thief, session_transcript=transcript())
    refused(pki, data, "device_signature_invalid")


def test_stolen_mdoc_rebound_to_the_thiefs_key_breaks_the_issuer_signature(pki: Pki) -> None:
    thief = PrivateKey.generate(KeyType.P256)
    forged = pki.issue(device_key=thief.public_key)
    honest = cbor2.loads(response(pki))

    def swap(value: dict[str, Any]) -> None:
        # the thief's MSO payload under the honest issuer's signature
        value["documents"][0]["issuerSigned"]["issuerAuth"][2] = forged.issuer_auth.payload

    refused(pki, mutate(cbor2.dumps(honest), swap), "issuer_signature_invalid")


def test_mdoc_signed_by_an_untrusted_issuer(pki: Pki) -> None:
    rogue = make_pki(NOW)
    data = present_mdoc(rogue.issue(device_key=pki.device.public_key), device_key=pki.device,
                        session_transcript=transcript())  # fmt: skip
    refused(pki, data, "x5c_untrusted")


def test_self_signed_document_signer(pki: Pki) -> None:
    key = p256()
    lone = make_cert(key, key, "Lone", "Lone", ca=False, usage=usage(sign=True))
    from mdoc_support import private_key

    issued = pki.issue(issuer_key=private_key(key), issuer_certificates=[lone])
    data = present_mdoc(issued, device_key=pki.device, session_transcript=transcript())
    refused(pki, data, "x5c_untrusted")


def test_missing_x5chain(pki: Pki) -> None:
    data = mutate(
        response(pki), lambda v: v["documents"][0]["issuerSigned"]["issuerAuth"][1].clear()
    )
    refused(pki, data, "mdoc_x5chain_missing")


def test_unlisted_algorithm(pki: Pki) -> None:
    issued = pki.issue()
    resigned = CoseSign1.sign(issued.issuer_auth.payload, pki.issuer_key)
    protected = cbor2.dumps({1: 5})  # HMAC 256/256 is no signature

    def swap(value: dict[str, Any]) -> None:
        value["documents"][0]["issuerSigned"]["issuerAuth"][0] = protected
        value["documents"][0]["issuerSigned"]["issuerAuth"][3] = resigned.signature

    refused(pki, mutate(response(pki), swap), "alg_not_allowed")


def test_document_doctype_differs_from_the_mso(pki: Pki) -> None:
    data = mutate(
        response(pki), lambda v: v["documents"][0].update(docType="org.iso.18013.5.1.mDL")
    )
    refused(pki, data, "mdoc_doctype_mismatch")


def test_device_mac_is_refused(pki: Pki) -> None:
    def mac(value: dict[str, Any]) -> None:
        value["documents"][0]["deviceSigned"]["deviceAuth"] = {"deviceMac": [b"", {}, None, b""]}

    refused(pki, mutate(response(pki), mac), "mdoc_device_auth_unsupported")


def test_attached_device_signature_payload(pki: Pki) -> None:
    def attach(value: dict[str, Any]) -> None:
        value["documents"][0]["deviceSigned"]["deviceAuth"]["deviceSignature"][2] = b"x"

    refused(pki, mutate(response(pki), attach), "mdoc_malformed")


def test_error_status_version_and_empty(pki: Pki) -> None:
    refused(pki, mutate(response(pki), lambda v: v.update(status=10)), "mdoc_status_error")
    refused(pki, mutate(response(pki), lambda v: v.update(version="2.0")),
            "mdoc_version_unsupported")  # fmt: skip
    refused(pki, mutate(response(pki), lambda v: v.update(documents=[])), "mdoc_no_documents")


def test_shared_reference_tags_are_refused(pki: Pki) -> None:
    # tag 28 (shareable) / 29 (shared reference) could build cycles in cbor2
    value = cbor2.loads(response(pki))
    value["extra"] = cbor2.CBORTag(28, [1])
    error = refused(pki, cbor2.dumps(value), "mdoc_malformed")
    assert isinstance(error, ValueError)


def test_undefined_is_dropped_only_from_unprotected_headers(pki: Pki) -> None:
    """@auth0/mdl writes ``kid: undefined`` unprotected; elsewhere ``undefined`` is refused."""
    tolerated = mutate(
        response(pki),
        lambda v: v["documents"][0]["issuerSigned"]["issuerAuth"][1].update({4: cbor2.undefined}),
    )
    (verified,) = verify_device_response(
        tolerated, session_transcript=transcript(), trust_anchors=[pki.root], now=pki.now
    )
    assert verified.claims[NAMESPACE]["permit_type"] == "work"
    refused(pki, mutate(response(pki), lambda v: v.update(status=cbor2.undefined)),
            "mdoc_malformed")  # fmt: skip
    inner = mutate(response(pki), lambda v: rewrite_item(v, 0, elementValue=cbor2.undefined))
    refused(pki, inner, "mdoc_malformed")


def test_deep_nesting_is_refused(pki: Pki) -> None:
    nested: Any = 0
    for _ in range(200):
        nested = [nested]
    refused(pki, cbor2.dumps({"version": "1.0", "status": 0, "documents": nested}),
            "mdoc_malformed")  # fmt: skip


def test_oversized_input_is_refused(pki: Pki) -> None:
    refused(pki, b"\x5a" + (MAX_MDOC_BYTES).to_bytes(4, "big") + bytes(MAX_MDOC_BYTES),
            "mdoc_too_large")  # fmt: skip


def test_lying_lengths_and_indefinite_items_are_refused(pki: Pki) -> None:
    refused(pki, b"\x9b\xff\xff\xff\xff\xff\xff\xff\xff", "mdoc_malformed")
    refused(pki, b"\xbf\x61a\x01\xff", "mdoc_malformed")


def test_truncations_are_refused_with_a_code(pki: Pki) -> None:
    data = response(pki)
    for end in range(0, len(data), 37):
        with pytest.raises(MdocError):
            verify_device_response(
                data[:end], session_transcript=transcript(), trust_anchors=[pki.root], now=NOW
            )


def test_issuer_signed_element_not_a_tag24(pki: Pki) -> None:
    data = mutate(response(pki), lambda v: items(v).__setitem__(0, {"digestID": 0}))
    refused(pki, data, "mdoc_malformed")


def test_tampered_issuer_signed_alone(pki: Pki) -> None:
    value = cbor2.loads(pki.issue().encode())
    item = cbor2.loads(value["nameSpaces"][NAMESPACE][0].value)
    item["elementValue"] = "Someone Else"
    value["nameSpaces"][NAMESPACE][0] = cbor2.CBORTag(24, cbor2.dumps(item))
    with pytest.raises(MdocError) as caught:
        verify_issuer_signed(cbor2.dumps(value), trust_anchors=[pki.root], now=NOW)
    assert caught.value.code == "mdoc_digest_mismatch"


@given(st.binary(max_size=300))
def test_random_bytes_raise_only_typed_errors(data: bytes) -> None:
    try:
        verify_device_response(data, session_transcript=transcript(), trust_anchors=[], now=NOW)
    except MdocFormatError:
        pass
    except MdocError as error:
        assert error.code.startswith(("mdoc_", "x5c_"))


@given(st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_flipped_bytes_never_verify(position: int, flip: int) -> None:
    data = bytearray(_GOOD)
    position %= len(data)
    data[position] ^= flip or 1
    with pytest.raises(MdocError):
        verify_device_response(
            bytes(data), session_transcript=transcript(), trust_anchors=[_PKI.root], now=NOW
        )


_PKI = make_pki(NOW)
_GOOD = present_mdoc(_PKI.issue(), device_key=_PKI.device, session_transcript=transcript())


# A flip that makes a certificate's serial number negative is refused (x5c_malformed);
# cryptography warns while parsing it first, which is not ours to show here.
@pytest.mark.filterwarnings("ignore:Parsed a serial number")
@pytest.mark.parametrize("mask", [0x01, 0x80, 0xFF])
def test_every_single_byte_flip_is_refused_with_a_code(mask: int) -> None:
    """Deterministic sweep: each byte of a good response flipped in turn.

    The one kind of flip accepted is one that cryptography's X.509 reader treats
    as the same certificate (the unused-bits count of the signature BIT STRING,
    outside what the certificate's signature covers): the signed TBS and the
    signature must then be those of the genuine document signer certificate.
    """
    signer = _PKI.signer.public_bytes(Encoding.DER)
    start = _GOOD.index(signer)
    for position in range(len(_GOOD)):
        data = bytearray(_GOOD)
        data[position] ^= mask
        try:
            verify_device_response(
                bytes(data), session_transcript=transcript(), trust_anchors=[_PKI.root], now=NOW
            )
        except MdocError:
            continue
        assert start <= position < start + len(signer), position
        read = x509.load_der_x509_certificate(bytes(data[start : start + len(signer)]))
        assert read.tbs_certificate_bytes == _PKI.signer.tbs_certificate_bytes
        assert read.signature == _PKI.signer.signature
