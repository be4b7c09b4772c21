"""An mdoc world for the tests: an IACA root, a document signer certificate under it,
a device key, and helpers to issue and present mdocs (real keys, real X.509)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from x509_support import DAY, Key, make_cert, p256, usage

from credentials.mdoc import IssuerSigned, issue_mdoc, oid4vp_session_transcript
from did_methods.keys import KeyType, PrivateKey

DOCTYPE = "eu.europa.ec.eudi.residence_permit.1"
NAMESPACE = "eu.europa.ec.eudi.residence_permit.1"
CLAIMS: dict[str, Any] = {
    "family_name": "Haidari",
    "given_name": "Amina",
    "birth_date": dt.date(1994, 3, 17),
    "permit_type": "work",
    "age_over_18": True,
}


def private_key(key: Key) -> PrivateKey:
    """Our PrivateKey for a cryptography P-256 key."""
    return PrivateKey(KeyType.P256, key.private_numbers().private_value.to_bytes(32, "big"))


@dataclass
class Pki:
    root_key: Key
    root: x509.Certificate
    signer_key: Key
    signer: x509.Certificate
    device: PrivateKey
    now: dt.datetime

    @property
    def issuer_key(self) -> PrivateKey:
        return private_key(self.signer_key)

    def issue(self, **overrides: Any) -> IssuerSigned:
        arguments: dict[str, Any] = {
            "doctype": DOCTYPE,
            "claims": {NAMESPACE: CLAIMS},
            "issuer_key": self.issuer_key,
            "issuer_certificates": [self.signer],
            "device_key": self.device.public_key,
            "valid_from": self.now - DAY,
            "valid_until": self.now + 365 * DAY,
            "signed": self.now - DAY,
        }
        arguments.update(overrides)
        return issue_mdoc(**arguments)


def make_pki(now: dt.datetime) -> Pki:
    root_key, signer_key = p256(), p256()
    root = make_cert(
        root_key, root_key, "Test IACA", "Test IACA", ca=True, usage=usage(ca=True),
        not_before=now - 400 * DAY, not_after=now + 3650 * DAY, country="LT",
    )  # fmt: skip
    signer = make_cert(
        signer_key, root_key, "Test Document Signer", "Test IACA", ca=False,
        usage=usage(sign=True), not_before=now - 30 * DAY, not_after=now + 400 * DAY, country="LT",
    )  # fmt: skip
    return Pki(root_key, root, signer_key, signer, PrivateKey.generate(KeyType.P256), now)


def transcript(nonce: str = "n-0S6_WzA2Mj") -> list[Any]:
    return oid4vp_session_transcript(
        client_id="x509_san_dns:verifier.example",
        nonce=nonce,
        response_uri="https://verifier.example/response",
    )
