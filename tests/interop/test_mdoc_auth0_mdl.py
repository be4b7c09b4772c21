"""mdoc interop with an independent ISO/IEC 18013-5 implementation, @auth0/mdl (Node):
its issued mdoc verifies with ours and ours with it, and a DeviceResponse made on
either side verifies on the other, over the OpenID4VP 1.0 SessionTranscript.

The certificates and validity are set around the real clock: @auth0/mdl checks
them against the time it runs at.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from interop_support import run_node
from mdoc_support import NAMESPACE, Pki, make_pki, transcript

from credentials.mdoc import (
    IssuerSigned,
    MdocError,
    present_mdoc,
    verify_device_response,
    verify_issuer_signed,
)

DAY = dt.timedelta(days=1)
DOCTYPE = "eu.europa.ec.eudi.residence_permit.1"
VALUES = {"family_name": "Haidari", "given_name": "Amina", "permit_type": "work"}


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki(dt.datetime.now(dt.UTC).replace(microsecond=0))


def pem(certificate: Any) -> str:
    return str(certificate.public_bytes(Encoding.PEM).decode())


def node(harness: Path, tmp_path: Path, command: str, payload: dict[str, Any]) -> dict[str, Any]:
    path = tmp_path / f"{command}.json"
    path.write_text(json.dumps(payload))
    result = run_node(harness, "mdoc.mjs", command, str(path))
    return {"returncode": result.returncode, **result.output}


def transcript_bytes(value: Any) -> str:
    """The SessionTranscript as @auth0/mdl takes it: #6.24(bstr .cbor SessionTranscript)."""
    return cbor2.dumps(cbor2.CBORTag(24, cbor2.dumps(value))).hex()


def their_mdoc(harness: Path, tmp_path: Path, pki: Pki) -> bytes:
    out = node(
        harness,
        tmp_path,
        "issue",
        {
            "doctype": DOCTYPE,
            "namespaces": {NAMESPACE: VALUES},
            "issuer_private_jwk": pki.issuer_key.private_jwk(),
            "issuer_certificate_pem": pem(pki.signer),
            "device_public_jwk": pki.device.public_key.to_jwk(),
            "signed": (pki.now - DAY).isoformat(),
            "valid_from": (pki.now - DAY).isoformat(),
            "valid_until": (pki.now + 30 * DAY).isoformat(),
        },
    )
    assert out["ok"] is True, out
    return bytes.fromhex(out["mdoc"])


def test_their_issued_mdoc_verifies_with_ours(harness: Path, tmp_path: Path, pki: Pki) -> None:
    issued = cbor2.loads(their_mdoc(harness, tmp_path, pki))
    issuer_signed = cbor2.dumps(issued["documents"][0]["issuerSigned"])
    verified = verify_issuer_signed(issuer_signed, trust_anchors=[pki.root], doctype=DOCTYPE)
    assert verified.claims == {NAMESPACE: VALUES}
    assert verified.device_key == pki.device.public_key


def test_their_device_response_verifies_with_ours(harness: Path, tmp_path: Path, pki: Pki) -> None:
    session = transcript("their-wallet-nonce")
    out = node(
        harness,
        tmp_path,
        "present",
        {
            "mdoc": their_mdoc(harness, tmp_path, pki).hex(),
            "device_private_jwk": pki.device.private_jwk(),
            "session_transcript": transcript_bytes(session),
            "fields": [[NAMESPACE, "given_name"]],
        },
    )
    assert out["ok"] is True, out
    response = bytes.fromhex(out["device_response"])
    (verified,) = verify_device_response(
        response, session_transcript=session, trust_anchors=[pki.root], doctype=DOCTYPE
    )
    assert verified.claims == {NAMESPACE: {"given_name": "Amina"}}
    with pytest.raises(MdocError) as replay:
        verify_device_response(
            response, session_transcript=transcript("another"), trust_anchors=[pki.root]
        )
    assert replay.value.code == "device_signature_invalid"


def our_mdoc_as_their_mdoc(issued: IssuerSigned) -> str:
    wrapped = {
        "version": "1.0",
        "documents": [{"docType": DOCTYPE, "issuerSigned": issued.to_cbor()}],
        "status": 0,
    }
    return cbor2.dumps(wrapped).hex()


def test_our_issued_mdoc_presented_by_them_verifies_with_ours_and_theirs(
    harness: Path, tmp_path: Path, pki: Pki
) -> None:
    issued = pki.issue(claims={NAMESPACE: VALUES}, valid_until=pki.now + 30 * DAY)
    session = transcript("our-mdoc-their-wallet")
    out = node(
        harness,
        tmp_path,
        "present",
        {
            "mdoc": our_mdoc_as_their_mdoc(issued),
            "device_private_jwk": pki.device.private_jwk(),
            "session_transcript": transcript_bytes(session),
            "fields": [[NAMESPACE, "family_name"], [NAMESPACE, "permit_type"]],
        },
    )
    assert out["ok"] is True, out
    response = bytes.fromhex(out["device_response"])
    (verified,) = verify_device_response(
        response, session_transcript=session, trust_anchors=[pki.root]
    )
    assert verified.claims == {NAMESPACE: {"family_name": "Haidari", "permit_type": "work"}}
    checked = node(
        harness,
        tmp_path,
        "verify",
        {
            "device_response": response.hex(),
            "session_transcript": transcript_bytes(session),
            "trusted_certificates_pem": [pem(pki.root)],
        },
    )
    assert checked["ok"] is True, checked


def test_our_device_response_verifies_with_theirs(harness: Path, tmp_path: Path, pki: Pki) -> None:
    issued = pki.issue(claims={NAMESPACE: VALUES}, valid_until=pki.now + 30 * DAY)
    session = transcript("our-wallet-their-verifier")
    response = present_mdoc(
        issued,
        device_key=pki.device,
        session_transcript=session,
        disclose={NAMESPACE: ["given_name"]},
    )
    request = {
        "device_response": response.hex(),
        "session_transcript": transcript_bytes(session),
        "trusted_certificates_pem": [pem(pki.root)],
    }
    checked = node(harness, tmp_path, "verify", request)
    assert checked["ok"] is True, checked
    assert checked["documents"] == [
        {"doctype": DOCTYPE, "claims": {NAMESPACE: {"given_name": "Amina"}}}
    ]
    # their verifier refuses our response under another session transcript
    request["session_transcript"] = transcript_bytes(transcript("replayed"))
    refused = node(harness, tmp_path, "verify", request)
    assert refused["ok"] is False, refused
    # ...and under a trust anchor that is not our issuer's
    other = make_pki(pki.now)
    request["session_transcript"] = transcript_bytes(session)
    request["trusted_certificates_pem"] = [pem(other.root)]
    assert node(harness, tmp_path, "verify", request)["ok"] is False
