"""Real X.509 chains for tests, built with cryptography: certificates with chosen
constraints, key usages and SANs, and their ``x5c`` form (base64 DER, leaf first)."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["DAY", "NOW", "Key", "make_cert", "name", "p256", "usage", "x5c"]

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
Key = Any  # a cryptography private key


def name(cn: str, country: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if country is not None:  # ISO 18013-5 Annex B wants countryName in mdoc certificates
        attributes.insert(0, x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    return x509.Name(attributes)


def usage(*, sign: bool = False, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip


def make_cert(
    key: Key,
    issuer_key: Key,
    subject: str,
    issuer: str,
    *,
    ca: bool,
    path_length: int | None = None,
    san: Sequence[str] = (),
    usage: x509.KeyUsage | None = None,
    not_before: dt.datetime = NOW - 30 * DAY,
    not_after: dt.datetime = NOW + 30 * DAY,
    extra: Sequence[tuple[x509.ExtensionType, bool]] = (),
    country: str | None = None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(subject, country))
        .issuer_name(name(issuer, country))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if usage is not None:
        builder = builder.add_extension(usage, critical=True)
    if san:
        names = [x509.DNSName(dns) for dns in san]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    for extension, critical in extra:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256())


def x5c(*certificates: x509.Certificate) -> list[str]:
    return [
        base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in certificates
    ]


def p256() -> Key:
    return ec.generate_private_key(ec.SECP256R1())
