"""X.509 certificate chains from a JOSE ``x5c`` header, checked up to configured trust anchors.

What OpenID4VP's ``x509_san_dns:`` and ``x509_hash:`` client identifier
prefixes need (OpenID4VP 1.0 section 5.9.3): the request object is signed by
the key of the leaf certificate in ``x5c``; that certificate must chain to a
trust anchor the wallet has configured, and for ``x509_san_dns:`` the client
identifier must be one of its DNS subject alternative names.

* :func:`parse_x5c`: RFC 7515 section 4.1.6: a JSON array of base64 (not
  base64url) DER certificates, the leaf first; bounded in count and size;
* :func:`verify_x5c`: path validation (RFC 5280 section 6) by
  ``cryptography.x509.verification``: signatures up to a trust anchor,
  validity at ``now`` (injected), basic constraints (``cA`` for every issuer,
  path length), CA key usage ``keyCertSign``, no unknown critical extension
  (the CA/B Forum profile ``webpki_defaults_ca`` for issuers), and for the
  leaf a key usage with ``digitalSignature`` (it signs request objects);
  returns the leaf's public key, its DNS names and its ``x509_hash``;
* :func:`check_san_dns`: the ``x509_san_dns:`` rule: the client identifier is
  one of the leaf's dNSName SANs (RFC 5280 section 4.2.1.6), compared
  case-insensitively as DNS names are;
* :func:`load_trust_anchors`: PEM or DER certificates a deployment configures.

Errors: :class:`X5CError`, a :class:`VerificationError` with a stable
``code``: ``x5c_malformed`` (not a list of base64 DER certificates, too many,
too large), ``x5c_expired`` / ``x5c_not_yet_valid`` (the leaf at ``now``),
``x5c_untrusted`` (no valid path to a trust anchor: a bad signature, a
missing or non-CA issuer, an expired issuer, a forbidden extension, ...),
``x5c_key_usage`` (the leaf may not sign), ``x5c_key_unsupported`` (a leaf
key we cannot verify JWS with), ``x5c_san_mismatch``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509 import verification

from credentials._jws import b64e
from did_methods._wire.b64 import b64_decode
from did_methods.errors import ParseError, SSIWalletError, VerificationError
from did_methods.keys import KeyType, PublicKey

__all__ = [
    "MAX_CERTIFICATE_BYTES",
    "MAX_CHAIN_LENGTH",
    "CertifiedKey",
    "X5CError",
    "check_san_dns",
    "load_trust_anchors",
    "parse_x5c",
    "verify_x5c",
    "x509_hash",
]

#: Most certificates an ``x5c`` may hold (leaf, intermediates, perhaps the root).
MAX_CHAIN_LENGTH: Final = 5
#: Largest DER certificate accepted (bytes).
MAX_CERTIFICATE_BYTES: Final = 16_384
# What cryptography raises for an undecodable certificate: not all are ValueErrors.
_CERTIFICATE_ERRORS: Final = (
    ValueError,
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
)
_CURVES = {"secp256r1": KeyType.P256, "secp384r1": KeyType.P384, "secp521r1": KeyType.P521}


class X5CError(VerificationError):
    """A certificate chain was refused; ``code`` says why (stable)."""


@dataclass(frozen=True, slots=True)
class CertifiedKey:
    """The leaf of a chain that :func:`verify_x5c` validated.

    ``public_key`` verifies what the leaf's holder signed; ``dns_names`` are
    its dNSName SANs (lower case, in certificate order); ``x509_hash`` is the
    base64url SHA-256 of the leaf's DER (OpenID4VP's ``x509_hash:``);
    ``chain`` is the validated path, leaf first, trust anchor last.
    """

    public_key: PublicKey
    dns_names: tuple[str, ...]
    x509_hash: str
    subject: str
    chain: tuple[x509.Certificate, ...]


def _load(der: bytes, what: str) -> x509.Certificate:
    try:
        certificate = x509.load_der_x509_certificate(der)
    except _CERTIFICATE_ERRORS as exc:
        raise X5CError("x5c_malformed", f"{what} is not a DER certificate: {exc}") from exc
    if certificate.serial_number <= 0:
        # RFC 5280 4.1.2.2: the serial number MUST be a positive integer (cryptography
        # only warns today and will refuse such a certificate in a future release).
        raise X5CError("x5c_malformed", f"{what} has a serial number that is not positive")
    return certificate


def parse_x5c(x5c: Any) -> list[x509.Certificate]:
    """Read an ``x5c`` value (RFC 7515 section 4.1.6): base64 DER certificates, leaf first.

    Raises :class:`X5CError` ``x5c_malformed`` for anything but a non-empty
    JSON array of at most :data:`MAX_CHAIN_LENGTH` strictly padded base64
    strings, each a DER certificate of at most :data:`MAX_CERTIFICATE_BYTES`.
    """
    if not isinstance(x5c, list | tuple) or not x5c:
        raise X5CError("x5c_malformed", "x5c must be a non-empty array of certificates")
    if len(x5c) > MAX_CHAIN_LENGTH:
        raise X5CError("x5c_malformed", f"x5c holds more than {MAX_CHAIN_LENGTH} certificates")
    certificates = []
    for index, item in enumerate(x5c):
        if not isinstance(item, str) or len(item) > MAX_CERTIFICATE_BYTES * 4 // 3 + 4:
            raise X5CError("x5c_malformed", f"x5c[{index}] is not a base64 string of bounded size")
        try:
            der = b64_decode(item)
        except ParseError as exc:
            raise X5CError("x5c_malformed", f"x5c[{index}] is not base64: {exc}") from exc
        certificates.append(_load(der, f"x5c[{index}]"))
    return certificates


def load_trust_anchors(data: bytes | Iterable[bytes]) -> list[x509.Certificate]:
    """Trust anchor certificates from PEM text (one or more) or DER blobs.

    Raises :class:`ParseError` when nothing readable is found.
    """
    blobs = [data] if isinstance(data, bytes) else list(data)
    anchors: list[x509.Certificate] = []
    try:
        for blob in blobs:
            if b"-----BEGIN" in blob:
                anchors.extend(x509.load_pem_x509_certificates(blob))
            else:
                anchors.append(x509.load_der_x509_certificate(blob))
    except _CERTIFICATE_ERRORS as exc:
        raise ParseError(f"trust anchors: {exc}") from exc
    if not anchors:
        raise ParseError("no trust anchor certificate found")
    return anchors


def _leaf_may_sign(
    policy: verification.Policy, certificate: x509.Certificate, usage: x509.KeyUsage | None
) -> None:
    # RFC 5280 section 4.2.1.3: a key that signs (request objects) needs digitalSignature
    if usage is None or not usage.digital_signature:
        raise ValueError("the leaf's key usage does not include digitalSignature")


def _public_key(certificate: x509.Certificate) -> PublicKey:
    native = certificate.public_key()
    try:
        if isinstance(native, ec.EllipticCurvePublicKey) and native.curve.name in _CURVES:
            point = native.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
            return PublicKey.from_raw(_CURVES[native.curve.name], point)
        if isinstance(native, ed25519.Ed25519PublicKey):
            raw = native.public_bytes(Encoding.Raw, PublicFormat.Raw)
            return PublicKey.from_raw(KeyType.ED25519, raw)
    except SSIWalletError as exc:
        raise X5CError("x5c_key_unsupported", f"the leaf's key is unusable: {exc}") from exc
    raise X5CError(
        "x5c_key_unsupported", f"the leaf's {type(native).__name__} key cannot verify our JWS"
    )


def _aware(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ParseError("a datetime for 'now' must be timezone-aware")
    return now.astimezone(UTC)


def verify_x5c(
    x5c: Any,
    trust_anchors: Sequence[x509.Certificate],
    *,
    now: datetime | None = None,
) -> CertifiedKey:
    """Validate an ``x5c`` chain up to one of ``trust_anchors`` at ``now``; describe its leaf.

    Steps:

    1. parse ``x5c`` (:func:`parse_x5c`);
    2. the leaf's validity period contains ``now`` and its key usage includes
       ``digitalSignature`` (clear codes for the commonest failures; the path
       check below judges every certificate again);
    3. path validation to a trust anchor (RFC 5280 section 6 by
       ``cryptography.x509.verification``: signatures, validity of every
       certificate, basic constraints and CA key usage, critical extensions;
       the leaf's key usage must include ``digitalSignature``); a chain of at
       most :data:`MAX_CHAIN_LENGTH` certificates;
    4. the leaf's key is one our JWS verifies (P-256/P-384/P-521, Ed25519).

    Returns a :class:`CertifiedKey`; raises :class:`X5CError`.
    """
    if not trust_anchors:
        raise X5CError("x5c_untrusted", "no trust anchors are configured")
    at = _aware(now)
    # 1.
    certificates = parse_x5c(x5c)
    leaf, intermediates = certificates[0], certificates[1:]
    # 2.
    if at < leaf.not_valid_before_utc:
        raise X5CError("x5c_not_yet_valid", "the leaf certificate is not valid yet")
    if at > leaf.not_valid_after_utc:
        raise X5CError("x5c_expired", "the leaf certificate has expired")
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    except _CERTIFICATE_ERRORS as exc:  # a duplicate or undecodable extension
        raise X5CError("x5c_malformed", f"the leaf's extensions are unreadable: {exc}") from exc
    if usage is None or not usage.digital_signature:
        raise X5CError("x5c_key_usage", "the leaf's key usage does not include digitalSignature")
    # 3.
    leaf_policy = verification.ExtensionPolicy.permit_all().require_present(
        x509.KeyUsage, verification.Criticality.AGNOSTIC, _leaf_may_sign
    )
    try:
        verifier = (
            verification.PolicyBuilder()
            .store(verification.Store(list(trust_anchors)))
            .time(at.replace(tzinfo=None))
            .max_chain_depth(MAX_CHAIN_LENGTH)
            .extension_policies(
                ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(), ee_policy=leaf_policy
            )
            .build_client_verifier()
        )
        verified = verifier.verify(leaf, intermediates)
    except verification.VerificationError as exc:
        raise X5CError(
            "x5c_untrusted", f"the certificate chain is not trusted: {str(exc)[:300]}"
        ) from exc
    except _CERTIFICATE_ERRORS as exc:
        raise X5CError("x5c_malformed", f"a certificate is unreadable: {exc}") from exc
    # 4.
    public_key = _public_key(leaf)
    names = tuple(
        name.value.lower() for name in verified.subjects or () if isinstance(name, x509.DNSName)
    )
    return CertifiedKey(
        public_key,
        names,
        x509_hash(leaf.public_bytes(Encoding.DER)),
        leaf.subject.rfc4514_string(),
        tuple(verified.chain),
    )


def x509_hash(der: bytes) -> str:
    """OpenID4VP's ``x509_hash`` of a certificate: the base64url (unpadded) SHA-256 of its DER."""
    return b64e(hashlib.sha256(der).digest())


def check_san_dns(certified: CertifiedKey, client_id: str) -> None:
    """The ``x509_san_dns:`` rule: ``client_id`` (without the prefix) is a dNSName SAN of the leaf.

    Compared case-insensitively (DNS names are); wildcards are not
    expanded (a client identifier is one exact name). Raises
    :class:`X5CError` ``x5c_san_mismatch``.
    """
    if not isinstance(client_id, str) or client_id.lower() not in certified.dns_names:
        shown = client_id[:100] if isinstance(client_id, str) else type(client_id).__name__
        raise X5CError(
            "x5c_san_mismatch", f"{shown!r} is not a DNS name of the request's certificate"
        )
