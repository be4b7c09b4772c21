"""ISO/IEC 18013-5 mobile documents (mdoc, the ``mso_mdoc`` format): issue, verify, present.

An mdoc is CBOR. The issuer hands the holder an ``IssuerSigned`` structure::

    IssuerSigned = {"nameSpaces": {NameSpace => [+ IssuerSignedItemBytes]},
                    "issuerAuth": COSE_Sign1}
    IssuerSignedItemBytes = #6.24(bstr .cbor IssuerSignedItem)
    IssuerSignedItem = {"digestID": uint, "random": bstr,
                        "elementIdentifier": tstr, "elementValue": any}

``issuerAuth`` signs (with the key of the document signer certificate carried
in its unprotected ``x5chain`` header, label 33) the ``MobileSecurityObject``
(MSO), wrapped as ``#6.24(bstr .cbor MobileSecurityObject)``::

    {"version": "1.0", "digestAlgorithm": "SHA-256",
     "valueDigests": {NameSpace => {DigestID => Digest}},
     "deviceKeyInfo": {"deviceKey": COSE_Key}, "docType": tstr,
     "validityInfo": {"signed": tdate, "validFrom": tdate, "validUntil": tdate}}

Each ``Digest`` is the hash of one whole ``IssuerSignedItemBytes`` (tag 24
included), so the holder discloses an element by sending its item and hides
it by leaving the item out; a random salt per item stops guessing.

To present, the holder sends a ``DeviceResponse``::

    {"version": "1.0", "documents": [+ Document], "status": 0}
    Document = {"docType": tstr, "issuerSigned": IssuerSigned,
                "deviceSigned": {"nameSpaces": DeviceNameSpacesBytes,
                                 "deviceAuth": {"deviceSignature": COSE_Sign1}}}

where ``deviceSignature`` is a COSE_Sign1 with a detached payload, made by the
device key the MSO names, over ``#6.24(bstr .cbor DeviceAuthentication)``::

    DeviceAuthentication = ["DeviceAuthentication", SessionTranscript,
                            DocType, DeviceNameSpacesBytes]

The ``SessionTranscript`` binds the response to one session; for OpenID4VP
(1.0, appendix B.2.6.1, redirect-based flows) :func:`oid4vp_session_transcript`
builds it from the request's ``client_id``, ``nonce``, the verifier's
encryption key thumbprint (or null) and the ``response_uri`` / ``redirect_uri``.

Everything read is hostile: :func:`decode_cbor` bounds size, depth and item
count before ``cbor2`` sees a byte, only the tags an mdoc uses are accepted
(0 and 1 dates, 18 COSE_Sign1, 24 encoded CBOR, 100 and 1004 full dates),
and every structure is checked field by field. Errors are :class:`MdocError`
(a :class:`VerificationError`) with a stable ``code``; malformed input is
:class:`MdocFormatError` (code ``mdoc_malformed``, also a ``ValueError``).

Codes: ``mdoc_malformed``, ``mdoc_too_large``, ``mdoc_version_unsupported``,
``mdoc_digest_algorithm_unsupported``, ``mdoc_doctype_mismatch``,
``mdoc_digest_missing``, ``mdoc_digest_mismatch``, ``mdoc_duplicate_element``,
``mdoc_not_yet_valid``, ``mdoc_expired``, ``mdoc_signed_outside_certificate``,
``mdoc_x5chain_missing``, the chain codes of :func:`credentials.x5c.verify_x5c`
(``x5c_untrusted``, ``x5c_expired``, ...), ``issuer_signature_invalid``,
``alg_not_allowed``, ``mdoc_device_key_invalid``,
``mdoc_device_auth_unsupported``, ``device_signature_invalid``,
``mdoc_status_error``, ``mdoc_no_documents``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, Final

import cbor2
from cryptography import x509

from credentials.cose import (
    DEFAULT_ALGORITHMS,
    HEADER_ALG,
    CoseError,
    CoseSign1,
    _check_headers,
    decode_cbor,
)
from credentials.x5c import CertifiedKey, X5CError, _aware, verify_x5c
from did_methods.errors import ParseError, SSIWalletError, VerificationError
from did_methods.keys import KeyType, PrivateKey, PublicKey

__all__ = [
    "HEADER_X5CHAIN",
    "MAX_MDOC_BYTES",
    "IssuerSigned",
    "IssuerSignedItem",
    "MdocError",
    "MdocFormatError",
    "MobileSecurityObject",
    "VerifiedMdoc",
    "cose_key",
    "device_authentication_bytes",
    "issue_mdoc",
    "oid4vp_session_transcript",
    "present_mdoc",
    "public_key_from_cose_key",
    "verify_device_response",
    "verify_issuer_signed",
]

#: COSE header label of the X.509 certificate chain (RFC 9360): leaf first.
HEADER_X5CHAIN: Final = 33
#: Largest encoded IssuerSigned or DeviceResponse accepted (bytes).
MAX_MDOC_BYTES: Final = 512 * 1024
_MAX_DEPTH: Final = 24
_MAX_ITEMS: Final = 20_000
_TAG_TDATE: Final = 0
_TAG_ENCODED_CBOR: Final = 24
_TAG_FULL_DATE: Final = 1004
_MDOC_TAGS: Final = frozenset({0, 1, 18, 24, 100, 1004})
_DIGESTS: Final[Mapping[str, Callable[[bytes], bytes]]] = {
    "SHA-256": lambda data: hashlib.sha256(data).digest(),
    "SHA-384": lambda data: hashlib.sha384(data).digest(),
    "SHA-512": lambda data: hashlib.sha512(data).digest(),
}
_SALT_BYTES: Final = 32
# COSE_Key (RFC 9052 section 7, RFC 9053): kty OKP 1 / EC2 2; crv P-256 1, P-384 2,
# P-521 3, Ed25519 6.
_COSE_CRV: Final[Mapping[KeyType, tuple[int, int]]] = {
    KeyType.P256: (2, 1),
    KeyType.P384: (2, 2),
    KeyType.P521: (2, 3),
    KeyType.ED25519: (1, 6),
}
_KEY_OF_CRV: Final = {value: key for key, value in _COSE_CRV.items()}


class MdocError(VerificationError):
    """An mdoc, or a presentation of one, was refused; ``code`` says why (stable)."""


class MdocFormatError(MdocError, ParseError):
    """Bytes that are not a well-formed mdoc (code ``mdoc_malformed`` or ``mdoc_too_large``)."""

    def __init__(self, message: str, code: str = "mdoc_malformed") -> None:
        super().__init__(code, message)


def _need(condition: bool, message: str) -> None:
    if not condition:
        raise MdocFormatError(message)


def _decode(data: Any, what: str, *, outer: bool = False) -> Any:
    """Decode hostile CBOR within the mdoc bounds; only the mdoc tags are allowed.

    ``outer`` (an IssuerSigned or DeviceResponse, not what tag 24 wraps)
    also lets ``undefined`` through, for :func:`_without_undefined` to drop
    from unprotected COSE headers; anywhere else the structure checks refuse it.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MdocFormatError(f"{what} must be bytes, not {type(data).__name__}")
    if len(data) > MAX_MDOC_BYTES:
        raise MdocFormatError(f"{what} is longer than {MAX_MDOC_BYTES} bytes", "mdoc_too_large")
    try:
        return decode_cbor(
            bytes(data),
            max_bytes=MAX_MDOC_BYTES,
            max_depth=_MAX_DEPTH,
            max_items=_MAX_ITEMS,
            allow_tags=_MDOC_TAGS,
            allow_undefined=outer,
        )
    except CoseError as exc:
        raise MdocFormatError(f"{what}: {exc}") from exc


def _embedded(value: Any, what: str) -> tuple[bytes, Any]:
    """Read ``#6.24(bstr .cbor X)``: return the inner bytes and their decoded value."""
    _need(
        isinstance(value, cbor2.CBORTag)
        and value.tag == _TAG_ENCODED_CBOR
        and isinstance(value.value, bytes),
        f"{what} must be encoded CBOR (tag 24 around a byte string)",
    )
    return value.value, _decode(value.value, what)


def _tag24(inner: bytes) -> bytes:
    return cbor2.dumps(cbor2.CBORTag(_TAG_ENCODED_CBOR, inner))


def _tdate(moment: datetime) -> cbor2.CBORTag:
    if moment.tzinfo is None:
        raise ParseError("mdoc dates must be timezone-aware")
    return cbor2.CBORTag(_TAG_TDATE, moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _to_cbor_value(value: Any) -> Any:
    """Claim values as ISO 18013-5 encodes them: full-date (tag 1004), tdate (tag 0)."""
    if isinstance(value, datetime):
        return _tdate(value)
    if isinstance(value, date):
        return cbor2.CBORTag(_TAG_FULL_DATE, value.isoformat())
    if isinstance(value, Mapping):
        return {key: _to_cbor_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_cbor_value(item) for item in value]
    return value


def _read_date(value: Any, what: str) -> datetime:
    _need(
        isinstance(value, datetime) and value.tzinfo is not None,
        f"{what} must be a tdate (tag 0)",
    )
    assert isinstance(value, datetime)
    return value.astimezone(UTC)


# -- keys ---------------------------------------------------------------------------


def cose_key(key: PublicKey) -> dict[int, Any]:
    """The COSE_Key (RFC 9052 section 7) of a public key: EC2 with x and y, or OKP.

    Raises :class:`MdocError` ``mdoc_device_key_invalid`` for key types that
    cannot sign (X25519).
    """
    if key.key_type not in _COSE_CRV:
        raise MdocError("mdoc_device_key_invalid", f"{key.key_type.value} keys cannot sign mdocs")
    kty, crv = _COSE_CRV[key.key_type]
    jwk = key.to_jwk()
    x = base64.urlsafe_b64decode(jwk["x"] + "==")
    if kty == 1:
        return {1: kty, -1: crv, -2: x}
    y = base64.urlsafe_b64decode(jwk["y"] + "==")
    return {1: kty, -1: crv, -2: x, -3: y}


def public_key_from_cose_key(value: Any) -> PublicKey:
    """Read a COSE_Key map into a :class:`PublicKey` (EC2 P-256/384/521 or OKP Ed25519).

    Raises :class:`MdocError` ``mdoc_device_key_invalid`` for anything else:
    another key type or curve, private material (``-4``), missing or
    wrong-sized coordinates, a point not on the curve.
    """
    if not isinstance(value, dict):
        raise MdocError("mdoc_device_key_invalid", "a COSE_Key must be a map")
    kty, crv = value.get(1), value.get(-1)
    key_type = (
        _KEY_OF_CRV.get((kty, crv)) if isinstance(kty, int) and isinstance(crv, int) else None
    )
    if key_type is None or isinstance(kty, bool) or isinstance(crv, bool):
        raise MdocError(
            "mdoc_device_key_invalid", f"COSE_Key kty {kty!r} / crv {crv!r} unsupported"
        )
    if -4 in value:
        raise MdocError("mdoc_device_key_invalid", "a COSE_Key for a public key holds 'd'")
    x, y = value.get(-2), value.get(-3)
    try:
        if kty == 1:
            if not isinstance(x, bytes):
                raise MdocError("mdoc_device_key_invalid", "COSE_Key 'x' must be bytes")
            return PublicKey.from_raw(key_type, x)
        if not isinstance(x, bytes) or not isinstance(y, bytes) or len(x) != len(y):
            raise MdocError("mdoc_device_key_invalid", "COSE_Key EC2 'x' and 'y' must be bytes")
        return PublicKey.from_raw(key_type, b"\x04" + x + y)
    except MdocError:
        raise
    except SSIWalletError as exc:
        raise MdocError("mdoc_device_key_invalid", f"COSE_Key is not a valid key: {exc}") from exc


# -- structures ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuerSignedItem:
    """One data element with its salt and digest id, and the exact bytes the digest covers.

    ``encoded`` is the byte string inside tag 24 as issued; the digest is over
    ``#6.24(encoded)`` (:meth:`tagged`).
    """

    digest_id: int
    random: bytes
    element_identifier: str
    element_value: Any
    encoded: bytes

    def tagged(self) -> bytes:
        """The encoded ``IssuerSignedItemBytes`` (tag 24 around :attr:`encoded`)."""
        return _tag24(self.encoded)

    @classmethod
    def _read(cls, value: Any, where: str) -> IssuerSignedItem:
        inner, item = _embedded(value, where)
        _need(isinstance(item, dict), f"{where} must be a map")
        _need(
            set(item) == {"digestID", "random", "elementIdentifier", "elementValue"},
            f"{where} must hold exactly digestID, random, elementIdentifier, elementValue",
        )
        digest_id, salt, name = item["digestID"], item["random"], item["elementIdentifier"]
        _need(
            isinstance(digest_id, int) and not isinstance(digest_id, bool) and digest_id >= 0,
            f"{where}: digestID must be an unsigned integer",
        )
        _need(isinstance(salt, bytes) and len(salt) >= 16, f"{where}: random must be >= 16 bytes")
        _need(isinstance(name, str) and bool(name), f"{where}: elementIdentifier must be text")
        return cls(digest_id, salt, name, item["elementValue"], inner)


@dataclass(frozen=True, slots=True)
class MobileSecurityObject:
    """The MSO as signed by the issuer (read by :func:`verify_issuer_signed`)."""

    version: str
    digest_algorithm: str
    value_digests: Mapping[str, Mapping[int, bytes]]
    device_key: PublicKey
    doctype: str
    signed: datetime
    valid_from: datetime
    valid_until: datetime
    expected_update: datetime | None

    @classmethod
    def _read(cls, mso: Any) -> MobileSecurityObject:
        _need(isinstance(mso, dict), "the MobileSecurityObject must be a map")
        for field in ("version", "digestAlgorithm", "valueDigests", "deviceKeyInfo", "docType"):
            _need(field in mso, f"the MobileSecurityObject lacks {field!r}")
        _need("validityInfo" in mso, "the MobileSecurityObject lacks 'validityInfo'")
        version, algorithm, doctype = mso["version"], mso["digestAlgorithm"], mso["docType"]
        _need(isinstance(version, str), "MSO version must be text")
        if version != "1.0":
            raise MdocError("mdoc_version_unsupported", f"MSO version {version!r} is not 1.0")
        if algorithm not in _DIGESTS:
            raise MdocError(
                "mdoc_digest_algorithm_unsupported", f"digest algorithm {algorithm!r} unsupported"
            )
        _need(isinstance(doctype, str) and bool(doctype), "MSO docType must be text")
        digests: dict[str, dict[int, bytes]] = {}
        value_digests = mso["valueDigests"]
        _need(isinstance(value_digests, dict), "MSO valueDigests must be a map")
        for namespace, by_id in value_digests.items():
            _need(isinstance(namespace, str), "valueDigests namespaces must be text")
            _need(isinstance(by_id, dict), f"valueDigests[{namespace!r}] must be a map")
            for digest_id, digest in by_id.items():
                _need(
                    isinstance(digest_id, int) and digest_id >= 0 and isinstance(digest, bytes),
                    f"valueDigests[{namespace!r}] maps unsigned digest ids to byte strings",
                )
            digests[namespace] = dict(by_id)
        key_info = mso["deviceKeyInfo"]
        _need(
            isinstance(key_info, dict) and "deviceKey" in key_info,
            "MSO deviceKeyInfo lacks deviceKey",
        )
        device_key = public_key_from_cose_key(key_info["deviceKey"])
        validity = mso["validityInfo"]
        _need(isinstance(validity, dict), "MSO validityInfo must be a map")
        for field in ("signed", "validFrom", "validUntil"):
            _need(field in validity, f"MSO validityInfo lacks {field!r}")
        signed = _read_date(validity["signed"], "validityInfo.signed")
        valid_from = _read_date(validity["validFrom"], "validityInfo.validFrom")
        valid_until = _read_date(validity["validUntil"], "validityInfo.validUntil")
        _need(valid_from <= valid_until, "MSO validFrom is after validUntil")
        update = validity.get("expectedUpdate")
        expected = None if update is None else _read_date(update, "validityInfo.expectedUpdate")
        return cls(
            version,
            algorithm,
            digests,
            device_key,
            doctype,
            signed,
            valid_from,
            valid_until,
            expected,
        )


def _without_undefined(header: Any) -> Any:
    """Drop ``undefined`` entries of an *unprotected* COSE header (not signed, so not trusted).

    @auth0/mdl writes ``kid: undefined`` there; RFC 9052 has no such value,
    and dropping an unsigned label changes nothing a signature covers.
    """
    if not isinstance(header, dict):
        return header
    return {label: value for label, value in header.items() if value is not cbor2.undefined}


def _read_issuer_auth(value: Any) -> CoseSign1:
    if isinstance(value, cbor2.CBORTag):
        _need(value.tag == 18, f"issuerAuth carries tag {value.tag}, not 18")
        value = value.value
    _need(isinstance(value, list) and len(value) == 4, "issuerAuth must be a COSE_Sign1 array")
    value = [value[0], _without_undefined(value[1]), value[2], value[3]]
    try:
        # the signed parts are byte strings kept as received, so re-encoding is exact
        return CoseSign1.parse(cbor2.dumps(value), max_bytes=MAX_MDOC_BYTES)
    except CoseError as exc:
        raise MdocFormatError(f"issuerAuth: {exc}") from exc


@dataclass(frozen=True, slots=True)
class IssuerSigned:
    """An ``IssuerSigned`` structure: the holder's copy of an mdoc, or a disclosed part of it.

    *Not verified* until :func:`verify_issuer_signed` says so. ``namespaces``
    maps each namespace to its items in the order received.
    """

    namespaces: Mapping[str, tuple[IssuerSignedItem, ...]]
    issuer_auth: CoseSign1

    @classmethod
    def parse(cls, data: bytes) -> IssuerSigned:
        """Read encoded ``IssuerSigned`` CBOR; raises :class:`MdocFormatError`."""
        return cls._read(_decode(data, "IssuerSigned", outer=True))

    @classmethod
    def _read(cls, value: Any) -> IssuerSigned:
        _need(isinstance(value, dict), "IssuerSigned must be a map")
        _need("issuerAuth" in value, "IssuerSigned lacks issuerAuth")
        _need(set(value) <= {"nameSpaces", "issuerAuth"}, "IssuerSigned has unknown members")
        raw_namespaces = value.get("nameSpaces", {})
        _need(isinstance(raw_namespaces, dict), "IssuerSigned nameSpaces must be a map")
        namespaces: dict[str, tuple[IssuerSignedItem, ...]] = {}
        for namespace, items in raw_namespaces.items():
            _need(isinstance(namespace, str), "namespaces must be text")
            _need(
                isinstance(items, list) and bool(items),
                f"nameSpaces[{namespace!r}] must be a non-empty array",
            )
            namespaces[namespace] = tuple(
                IssuerSignedItem._read(item, f"nameSpaces[{namespace!r}][{index}]")
                for index, item in enumerate(items)
            )
        return cls(namespaces, _read_issuer_auth(value["issuerAuth"]))

    def to_cbor(self) -> dict[str, Any]:
        """The CBOR data model value (for embedding in a larger structure)."""
        auth = self.issuer_auth
        body: dict[str, Any] = {
            "issuerAuth": [
                auth.protected_bytes,
                dict(auth.unprotected),
                auth.payload,
                auth.signature,
            ]
        }
        if self.namespaces:
            body["nameSpaces"] = {
                namespace: [cbor2.CBORTag(_TAG_ENCODED_CBOR, item.encoded) for item in items]
                for namespace, items in self.namespaces.items()
            }
        return body

    def encode(self) -> bytes:
        """Encode as CBOR (``issuerAuth`` an untagged COSE_Sign1 array, as ISO 18013-5 shows)."""
        return cbor2.dumps(self.to_cbor())

    def unverified_mso(self) -> MobileSecurityObject:
        """The MSO in ``issuerAuth`` *without checking the signature*: for a holder's display."""
        return MobileSecurityObject._read(
            _embedded(_decode(self.issuer_auth.payload, "MSO"), "MobileSecurityObjectBytes")[1]
        )

    def select(self, disclose: Mapping[str, Iterable[str]]) -> IssuerSigned:
        """Keep only the named elements (``{namespace: [element, ...]}``): selective disclosure.

        Raises :class:`MdocError` ``mdoc_element_missing`` for an element the
        mdoc does not hold.
        """
        kept: dict[str, tuple[IssuerSignedItem, ...]] = {}
        for namespace, names in disclose.items():
            wanted = set(names)
            items = tuple(
                item
                for item in self.namespaces.get(namespace, ())
                if item.element_identifier in wanted
            )
            missing = wanted - {item.element_identifier for item in items}
            if missing:
                raise MdocError(
                    "mdoc_element_missing",
                    f"the mdoc holds no {sorted(missing)} in namespace {namespace!r}",
                )
            if items:
                kept[namespace] = items
        return replace(self, namespaces=kept)


@dataclass(frozen=True, slots=True)
class VerifiedMdoc:
    """What :func:`verify_issuer_signed` / :func:`verify_device_response` established.

    ``claims`` are the disclosed elements (``{namespace: {element: value}}``),
    each matched to its digest in the issuer-signed MSO; ``issuer`` is the
    validated document signer certificate chain; ``device_signed`` says whether
    a device signature over the session transcript was checked, and
    ``device_claims`` are the (device-signed, not issuer-signed) elements.
    """

    doctype: str
    claims: Mapping[str, Mapping[str, Any]]
    mso: MobileSecurityObject
    issuer: CertifiedKey
    device_signed: bool = False
    device_claims: Mapping[str, Mapping[str, Any]] | None = None

    @property
    def device_key(self) -> PublicKey:
        """The holder's device key the issuer bound the mdoc to."""
        return self.mso.device_key


# -- issuing ------------------------------------------------------------------------


def issue_mdoc(
    *,
    doctype: str,
    claims: Mapping[str, Mapping[str, Any]],
    issuer_key: PrivateKey,
    issuer_certificates: Sequence[x509.Certificate],
    device_key: PublicKey,
    valid_from: datetime,
    valid_until: datetime,
    signed: datetime | None = None,
    expected_update: datetime | None = None,
    digest_algorithm: str = "SHA-256",
    random: Callable[[int], bytes] = secrets.token_bytes,
) -> IssuerSigned:
    """Issue an mdoc of ``doctype`` holding ``claims`` (``{namespace: {element: value}}``).

    Each element gets a fresh 32-byte salt from ``random`` and a digest id in
    a random order; the MSO binds ``device_key`` (a COSE_Key) and the
    validity window, and is signed by ``issuer_key``, whose document signer
    certificate leads ``issuer_certificates`` (sent as ``x5chain``, label 33,
    in the unprotected header). ``date`` values become full-dates (tag 1004)
    and ``datetime`` values tdates (tag 0). Raises :class:`ParseError` for
    naive datetimes or empty input, :class:`MdocError` for an unusable key.
    """
    if not isinstance(doctype, str) or not doctype:
        raise ParseError("doctype must be non-empty text")
    if digest_algorithm not in _DIGESTS:
        raise MdocError("mdoc_digest_algorithm_unsupported", f"{digest_algorithm!r} unsupported")
    if not issuer_certificates:
        raise ParseError("the issuer's certificate chain must not be empty")
    signed_at = signed if signed is not None else datetime.now(UTC)
    digest = _DIGESTS[digest_algorithm]
    namespaces: dict[str, tuple[IssuerSignedItem, ...]] = {}
    value_digests: dict[str, dict[int, bytes]] = {}
    for namespace, elements in claims.items():
        if not isinstance(namespace, str) or not elements:
            raise ParseError("each namespace must be text with at least one element")
        names = list(elements)
        # digest ids in a random order, so their sequence tells nothing about the elements
        order = sorted(range(len(names)), key=lambda _: random(8))
        items = []
        for digest_id, name in zip(order, names, strict=True):
            salt = random(_SALT_BYTES)
            encoded = cbor2.dumps(
                {
                    "digestID": digest_id,
                    "random": salt,
                    "elementIdentifier": name,
                    "elementValue": _to_cbor_value(elements[name]),
                }
            )
            item = IssuerSignedItem._read(
                cbor2.CBORTag(_TAG_ENCODED_CBOR, encoded), f"{namespace}/{name}"
            )
            items.append(item)
        namespaces[namespace] = tuple(items)
        value_digests[namespace] = {item.digest_id: digest(item.tagged()) for item in items}
    validity: dict[str, Any] = {
        "signed": _tdate(signed_at),
        "validFrom": _tdate(valid_from),
        "validUntil": _tdate(valid_until),
    }
    if expected_update is not None:
        validity["expectedUpdate"] = _tdate(expected_update)
    mso = {
        "version": "1.0",
        "digestAlgorithm": digest_algorithm,
        "valueDigests": value_digests,
        "deviceKeyInfo": {"deviceKey": cose_key(device_key)},
        "docType": doctype,
        "validityInfo": validity,
    }
    from cryptography.hazmat.primitives.serialization import Encoding

    ders = [certificate.public_bytes(Encoding.DER) for certificate in issuer_certificates]
    signature = CoseSign1.sign(_tag24(cbor2.dumps(mso)), issuer_key)
    chain: bytes | list[bytes] = ders[0] if len(ders) == 1 else ders
    return IssuerSigned(namespaces, replace(signature, unprotected={HEADER_X5CHAIN: chain}))


# -- verifying ----------------------------------------------------------------------


def _x5chain(auth: CoseSign1) -> list[str]:
    chain = auth.unprotected.get(HEADER_X5CHAIN, auth.protected.get(HEADER_X5CHAIN))
    if chain is None:
        raise MdocError("mdoc_x5chain_missing", "issuerAuth carries no x5chain (label 33)")
    ders = [chain] if isinstance(chain, bytes) else chain
    _need(
        isinstance(ders, list) and bool(ders) and all(isinstance(d, bytes) for d in ders),
        "x5chain must be a byte string or an array of byte strings",
    )
    return [base64.b64encode(der).decode("ascii") for der in ders]


def verify_issuer_signed(
    issuer_signed: IssuerSigned | bytes,
    *,
    trust_anchors: Sequence[x509.Certificate],
    now: datetime | None = None,
    doctype: str | None = None,
    algorithms: frozenset[int] = DEFAULT_ALGORITHMS,
) -> VerifiedMdoc:
    """Verify an ``IssuerSigned`` (the issuer's part of an mdoc); return what it proves.

    Steps:

    1. parse (bounded, strict) unless already parsed;
    2. ``x5chain`` (label 33) validates up to one of ``trust_anchors`` at ``now``
       (:func:`credentials.x5c.verify_x5c`);
    3. ``issuerAuth`` is signed by the leaf's key with an allowed ``alg``;
    4. the payload is ``#6.24(MSO)``; version 1.0, a known digest algorithm,
       ``docType`` equal to ``doctype`` when given;
    5. ``now`` lies in ``[validFrom, validUntil]``, and ``signed`` within the
       document signer certificate's validity;
    6. every disclosed item has a digest id listed in the MSO for its
       namespace and its digest matches; no digest id or element repeats.

    Raises :class:`MdocError` (codes in the module docstring).
    """
    at = _aware(now)
    # 1.
    if not isinstance(issuer_signed, IssuerSigned):
        issuer_signed = IssuerSigned.parse(issuer_signed)
    auth = issuer_signed.issuer_auth
    # 2.
    try:
        certified = verify_x5c(_x5chain(auth), trust_anchors, now=at)
    except X5CError as exc:
        raise MdocError(exc.code, f"document signer certificate: {exc.message}") from exc
    # 3.
    if not isinstance(auth.alg, int) or auth.alg not in algorithms:
        raise MdocError("alg_not_allowed", f"issuerAuth algorithm {auth.alg!r} is not allowed")
    try:
        payload = auth.verify(certified.public_key, algorithms=algorithms)
    except VerificationError as exc:
        code = "alg_not_allowed" if exc.code != "signature_invalid" else "issuer_signature_invalid"
        raise MdocError(code, f"issuerAuth: {exc.message}") from exc
    # 4.
    _, mso_value = _embedded(_decode(payload, "issuerAuth payload"), "MobileSecurityObjectBytes")
    mso = MobileSecurityObject._read(mso_value)
    if doctype is not None and mso.doctype != doctype:
        raise MdocError("mdoc_doctype_mismatch", f"the MSO is for {mso.doctype!r}, not {doctype!r}")
    # 5.
    if at < mso.valid_from:
        raise MdocError(
            "mdoc_not_yet_valid", f"the mdoc is valid from {mso.valid_from.isoformat()}"
        )
    if at > mso.valid_until:
        raise MdocError("mdoc_expired", f"the mdoc expired at {mso.valid_until.isoformat()}")
    leaf = certified.chain[0]
    if not leaf.not_valid_before_utc <= mso.signed <= leaf.not_valid_after_utc:
        raise MdocError(
            "mdoc_signed_outside_certificate",
            "the MSO was signed outside the document signer certificate's validity",
        )
    # 6.
    digest = _DIGESTS[mso.digest_algorithm]
    claims: dict[str, dict[str, Any]] = {}
    for namespace, items in issuer_signed.namespaces.items():
        listed = mso.value_digests.get(namespace, {})
        seen_ids: set[int] = set()
        values: dict[str, Any] = {}
        for item in items:
            if item.digest_id in seen_ids or item.element_identifier in values:
                raise MdocError(
                    "mdoc_duplicate_element",
                    f"{namespace}/{item.element_identifier} (digest id {item.digest_id}) repeats",
                )
            seen_ids.add(item.digest_id)
            expected = listed.get(item.digest_id)
            if expected is None:
                raise MdocError(
                    "mdoc_digest_missing",
                    f"the MSO lists no digest {item.digest_id} in namespace {namespace!r}",
                )
            if not secrets.compare_digest(digest(item.tagged()), expected):
                raise MdocError(
                    "mdoc_digest_mismatch",
                    f"{namespace}/{item.element_identifier} does not match its digest",
                )
            values[item.element_identifier] = item.element_value
        claims[namespace] = values
    return VerifiedMdoc(mso.doctype, claims, mso, certified)


# -- presenting ---------------------------------------------------------------------


def oid4vp_session_transcript(
    *,
    client_id: str,
    nonce: str,
    response_uri: str,
    jwk_thumbprint: bytes | None = None,
) -> list[Any]:
    """The ``SessionTranscript`` of OpenID4VP 1.0 appendix B.2.6.1 (redirect-based flows).

    ``[null, null, ["OpenID4VPHandover", SHA-256(cbor(OpenID4VPHandoverInfo))]]``
    with ``OpenID4VPHandoverInfo = [client_id, nonce, jwk_thumbprint, response_uri]``:
    ``client_id`` with its prefix, the request's ``nonce``, the SHA-256 JWK
    thumbprint (RFC 7638, raw bytes) of the verifier's response encryption key
    when the response is encrypted (else null), and the ``response_uri``
    (``direct_post``) or ``redirect_uri``.
    """
    info = cbor2.dumps([client_id, nonce, jwk_thumbprint, response_uri])
    return [None, None, ["OpenID4VPHandover", hashlib.sha256(info).digest()]]


def device_authentication_bytes(
    session_transcript: Any, doctype: str, device_namespaces_bytes: bytes
) -> bytes:
    """The detached payload of ``deviceSignature``: ``DeviceAuthenticationBytes``.

    ``#6.24(bstr .cbor ["DeviceAuthentication", SessionTranscript, DocType,
    DeviceNameSpacesBytes])``.

    ``device_namespaces_bytes`` is the byte string inside the tag 24 of
    ``DeviceNameSpacesBytes``.
    """
    body = [
        "DeviceAuthentication",
        session_transcript,
        doctype,
        cbor2.CBORTag(_TAG_ENCODED_CBOR, device_namespaces_bytes),
    ]
    return _tag24(cbor2.dumps(body))


def present_mdoc(
    issuer_signed: IssuerSigned,
    *,
    device_key: PrivateKey,
    session_transcript: Any,
    disclose: Mapping[str, Iterable[str]] | None = None,
) -> bytes:
    """Make an encoded ``DeviceResponse`` presenting one mdoc.

    Only the elements in ``disclose`` (``{namespace: [element, ...]}``; all
    when None) are sent; the device signs ``DeviceAuthentication`` over
    ``session_transcript`` with ``device_key`` (a COSE_Sign1 with detached
    payload; no device-signed elements). Raises :class:`MdocError`
    ``mdoc_element_missing`` for an element the mdoc lacks.
    """
    mso = issuer_signed.unverified_mso()
    shown = issuer_signed if disclose is None else issuer_signed.select(disclose)
    device_namespaces = cbor2.dumps({})
    to_sign = device_authentication_bytes(session_transcript, mso.doctype, device_namespaces)
    signature = CoseSign1.sign(to_sign, device_key)
    document = {
        "docType": mso.doctype,
        "issuerSigned": shown.to_cbor(),
        "deviceSigned": {
            "nameSpaces": cbor2.CBORTag(_TAG_ENCODED_CBOR, device_namespaces),
            "deviceAuth": {
                "deviceSignature": [signature.protected_bytes, {}, None, signature.signature]
            },
        },
    }
    return cbor2.dumps({"version": "1.0", "documents": [document], "status": 0})


def _verify_device_signature(
    device_signed: Any,
    *,
    verified: VerifiedMdoc,
    session_transcript: Any,
    algorithms: frozenset[int],
) -> dict[str, Any]:
    _need(isinstance(device_signed, dict), "deviceSigned must be a map")
    _need({"nameSpaces", "deviceAuth"} <= set(device_signed), "deviceSigned lacks members")
    namespaces_bytes, device_namespaces = _embedded(
        device_signed["nameSpaces"], "DeviceNameSpacesBytes"
    )
    if not isinstance(device_namespaces, dict):
        raise MdocFormatError("DeviceNameSpaces must be a map")
    device_auth = device_signed["deviceAuth"]
    _need(isinstance(device_auth, dict), "deviceAuth must be a map")
    if "deviceSignature" not in device_auth:
        raise MdocError(
            "mdoc_device_auth_unsupported", "only deviceSignature is supported, not deviceMac"
        )
    message = device_auth["deviceSignature"]
    if isinstance(message, cbor2.CBORTag) and message.tag == 18:
        message = message.value
    _need(isinstance(message, list) and len(message) == 4, "deviceSignature must be a COSE_Sign1")
    protected_bytes, unprotected, payload, signature = message
    unprotected = _without_undefined(unprotected)
    _need(isinstance(protected_bytes, bytes) and bool(protected_bytes), "deviceSignature protected")
    _need(isinstance(unprotected, dict), "deviceSignature unprotected header must be a map")
    _need(payload is None, "deviceSignature must have a detached (null) payload")
    _need(isinstance(signature, bytes), "deviceSignature signature must be bytes")
    protected = _decode(protected_bytes, "deviceSignature protected header")
    _need(isinstance(protected, dict), "deviceSignature protected header must be a map")
    try:
        _check_headers(protected, unprotected)
    except CoseError as exc:
        raise MdocFormatError(f"deviceSignature: {exc}") from exc
    to_sign = device_authentication_bytes(session_transcript, verified.doctype, namespaces_bytes)
    cose = CoseSign1(protected_bytes, protected, unprotected, to_sign, signature)
    if protected.get(HEADER_ALG) not in algorithms:
        raise MdocError("alg_not_allowed", f"deviceSignature alg {protected.get(HEADER_ALG)!r}")
    try:
        cose.verify(verified.device_key, algorithms=algorithms)
    except VerificationError as exc:
        code = "device_signature_invalid" if exc.code == "signature_invalid" else "alg_not_allowed"
        raise MdocError(code, f"deviceSignature: {exc.message}") from exc
    return device_namespaces


def verify_device_response(
    data: bytes,
    *,
    session_transcript: Any,
    trust_anchors: Sequence[x509.Certificate],
    now: datetime | None = None,
    doctype: str | None = None,
    algorithms: frozenset[int] = DEFAULT_ALGORITHMS,
) -> tuple[VerifiedMdoc, ...]:
    """Verify an encoded ``DeviceResponse``; return each document's verified content.

    Steps: (1) bounded strict parse; version ``1.0``, ``status`` 0, at least
    one document; for each document (2) :func:`verify_issuer_signed` (chain,
    signature, digests, validity; ``docType`` equal to the MSO's and to
    ``doctype`` when given), (3) the ``deviceSignature`` by the MSO's device
    key over ``DeviceAuthentication`` with ``session_transcript`` (the
    verifier builds it from its own request, e.g.
    :func:`oid4vp_session_transcript`). ``deviceMac`` is refused.

    Raises :class:`MdocError`.
    """
    at = _aware(now)
    # 1.
    response = _decode(data, "DeviceResponse", outer=True)
    _need(isinstance(response, dict), "DeviceResponse must be a map")
    version = response.get("version")
    _need(isinstance(version, str), "DeviceResponse lacks a text version")
    if version != "1.0":
        raise MdocError("mdoc_version_unsupported", f"DeviceResponse version {version!r}")
    status = response.get("status")
    _need(isinstance(status, int) and not isinstance(status, bool), "DeviceResponse status")
    if status != 0:
        raise MdocError("mdoc_status_error", f"the DeviceResponse reports status {status}")
    documents = response.get("documents")
    if not documents:
        raise MdocError("mdoc_no_documents", "the DeviceResponse holds no document")
    _need(isinstance(documents, list), "DeviceResponse documents must be an array")
    results = []
    for document in documents:
        _need(isinstance(document, dict), "a Document must be a map")
        _need(
            {"docType", "issuerSigned", "deviceSigned"} <= set(document),
            "a Document needs docType, issuerSigned and deviceSigned",
        )
        # 2.
        verified = verify_issuer_signed(
            IssuerSigned._read(document["issuerSigned"]),
            trust_anchors=trust_anchors,
            now=at,
            doctype=doctype,
            algorithms=algorithms,
        )
        if document["docType"] != verified.doctype:
            raise MdocError(
                "mdoc_doctype_mismatch",
                f"the Document says {document['docType']!r}, its MSO {verified.doctype!r}",
            )
        # 3.
        device_claims = _verify_device_signature(
            document["deviceSigned"],
            verified=verified,
            session_transcript=session_transcript,
            algorithms=algorithms,
        )
        results.append(replace(verified, device_signed=True, device_claims=device_claims))
    return tuple(results)
