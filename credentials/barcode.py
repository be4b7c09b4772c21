"""Offline barcode credentials: signed CWT claims in a QR code, checked with no network.

The layers are those of the EU Digital COVID Certificate (the pattern the EU
immigration wallet and digital visa build on), each a published standard::

    prefix + base45( zlib( COSE_Sign1( CWT claims ) ) )      -> QR code

* CWT claims (RFC 8392): ``1`` iss (issuer), ``6`` iat (issued at), ``4``
  exp (expires), optionally ``5`` nbf, and the private-use claim
  :data:`CLAIMS_KEY` (``-65537``) holding the credential's subject claims as
  a CBOR map with text keys. (The EU certificate keeps its payload in the
  registered claim ``-260`` "hcert"; ours is not a health certificate, so it
  uses a private-use label, below -65536 as RFC 8392 Section 9.1 reserves.)
* COSE_Sign1 (RFC 9052, :mod:`credentials.cose`): EdDSA, ES256 or ES384,
  with ``kid`` in the protected header;
* zlib (RFC 1950) at level 9; base45 (RFC 9285, :mod:`credentials.base45`);
  a context prefix (default :data:`DEFAULT_PREFIX` ``VC1:``; the EU
  certificate uses ``HC1:``) so a scanner knows what it holds. The whole
  string uses only QR alphanumeric characters.

:func:`encode_barcode` makes the string, :func:`qr_png` and :func:`qr_svg`
draw it (with the optional ``segno``: ``pip install 'ssi-wallet[qr]'``),
:func:`decode_barcode` reads it without checking anything cryptographic, and
:func:`verify_barcode` checks it and returns a
:class:`~credentials.result.VerificationResult` with these checks:

1. ``syntax``: prefix, base45, zlib, COSE and CWT structure (codes
   ``prefix_invalid``, ``base45_invalid``, ``zlib_invalid``, ``too_large``,
   ``cose_invalid``, ``cwt_invalid``);
2. ``key_authorisation``: the issuer's key named by ``kid`` is found
   (``kid_missing``, ``kid_invalid``, ``kid_not_issuer``, ``key_unresolved``,
   ``key_not_authorised``, ``key_unsupported``);
3. ``signature``: ``alg`` allow-listed, matching the key, signature valid
   (``alg_not_allowed``, ``key_type_mismatch``, ``signature_invalid``);
4. ``validity_period``: ``iat``/``nbf`` not after ``now``, ``exp`` after it
   (``not_yet_valid``, ``expired``, ``claims_invalid``);
5. ``status``: a barcode whose CWT carries the ``status`` claim
   (:data:`CWT_STATUS`, label 65535 of the IETF Token Status List draft:
   ``{"status_list": {"idx": ..., "uri": ...}}``) is checked by the caller's
   ``status_checker``; without one it fails with ``status_unavailable``
   (status fails closed, also offline).

A valid result is of kind credential: ``issuer`` is ``iss``, ``subject``
``sub``, ``claims`` the subject claims, and ``types`` empty (a barcode
states no credential type, so a caller that asks for one refuses it).

Decoding is bounded: at most ``max_bytes`` of compressed and of decompressed
data (a zlib bomb stops there), and the CBOR limits of :mod:`credentials.cose`.
The zlib stream must end cleanly, with nothing after it and zero padding
bits in its last byte, so the transport encoding of a signed message is
unique and a changed character never decodes to the same message.
"""

from __future__ import annotations

import io
import math
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, TypeAlias

import cbor2

from credentials import base45
from credentials._jws import (
    DEFAULT_CLOCK_SKEW,
    MethodResolver,
    absolute_kid,
    resolve_key,
)
from credentials._status_core import StatusListCoreError, inflate_bounded
from credentials.cose import (
    DEFAULT_ALGORITHMS,
    MAX_DEPTH,
    CoseError,
    CoseSign1,
    decode_cbor,
)
from credentials.result import Check, VerificationResult
from credentials.sd_jwt import StatusChecker
from did_methods._wire.dates import epoch_seconds, is_numeric_date, iso_instant, system_clock
from did_methods.errors import ParseError, SSIWalletError, UnsupportedError, VerificationError
from did_methods.keys import PrivateKey, PublicKey

__all__ = [
    "CLAIMS_KEY",
    "CWT_EXP",
    "CWT_IAT",
    "CWT_ISS",
    "CWT_NBF",
    "CWT_STATUS",
    "DEFAULT_PREFIX",
    "FORMAT",
    "MAX_BYTES",
    "BarcodeError",
    "KeyLookup",
    "UnverifiedBarcode",
    "decode_barcode",
    "encode_barcode",
    "qr_png",
    "qr_svg",
    "verify_barcode",
]

#: The context prefix of our credential barcodes.
DEFAULT_PREFIX: Final = "VC1:"
#: The private-use CWT claim that carries the credential's subject claims.
CLAIMS_KEY: Final = -65537
#: Registered CWT claim labels (RFC 8392 Section 4).
CWT_ISS: Final = 1
CWT_EXP: Final = 4
CWT_NBF: Final = 5
CWT_IAT: Final = 6
#: The CWT ``status`` claim (draft-ietf-oauth-status-list): a Token Status List reference.
CWT_STATUS: Final = 65535
#: The ``format`` of the results :func:`verify_barcode` returns.
FORMAT: Final = "cose-barcode"
#: Default bound on compressed and on decompressed bytes (a QR code holds < 3 KB).
MAX_BYTES: Final = 64 * 1024

_PREFIX_MAX: Final = 16
_CLAIMS_DEPTH: Final = MAX_DEPTH - 2  # the CWT map and the claims map sit above them
_CWT_STRING_CLAIMS: Final = {CWT_ISS: "iss", 2: "sub"}
_CWT_TIME_CLAIMS: Final = {CWT_EXP: "exp", CWT_NBF: "nbf", CWT_IAT: "iat"}
_ASSERTION: Final = "assertionMethod"

#: Finds the issuer's public key from the ``kid`` bytes and the ``iss`` claim
#: (None when the barcode has none); returns None or raises (any
#: :class:`~did_methods.errors.SSIWalletError` or :class:`LookupError`) when
#: it does not know the key.
KeyLookup: TypeAlias = Callable[[bytes, str | None], PublicKey | None]


class BarcodeError(ParseError):
    """A barcode string we cannot read; ``code`` says which layer failed.

    Codes: ``prefix_invalid``, ``base45_invalid``, ``zlib_invalid``,
    ``too_large``, ``cose_invalid``, ``cwt_invalid``, and on encoding
    ``claims_invalid``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# -- reading ----------------------------------------------------------------------------


def _inflate(data: bytes, max_bytes: int) -> bytes:
    """Exactly one zlib stream, decompressed to at most ``max_bytes``; raises :class:`BarcodeError`.

    The library's one bounded inflate (:func:`credentials._status_core.inflate_bounded`)
    does the work; its codes become ours: ``too_large`` beyond the bound,
    ``zlib_invalid`` for data that is not zlib, truncated or followed by bytes.
    """
    try:
        return inflate_bounded(
            data, max_bytes, container="ZLIB", field="the barcode", error=StatusListCoreError
        )
    except StatusListCoreError as exc:
        code = "too_large" if exc.code == "decompression_bomb" else "zlib_invalid"
        raise BarcodeError(code, exc.message) from exc


def _check_padding(data: bytes, inflated: bytes, max_bytes: int) -> None:
    """Refuse non-zero padding bits after the last deflate block.

    Inflate ignores the bits that fill the last byte of the deflate data
    (just before the 4-byte Adler-32), so without this check some one-character
    changes to a barcode would decode to the very same signed message.
    Padding is the top bits of that byte; clearing more and more of them
    finds out whether any set bit is padding (the output stays the same).
    """
    if len(data) < 7:
        return
    last = data[-5]
    for cleared in range(1, 8):
        trial = last & (0xFF >> cleared)
        if trial == last:
            continue
        try:
            same = _inflate(data[:-5] + bytes([trial]) + data[-4:], max_bytes) == inflated
        except BarcodeError:
            same = False
        if same:
            raise BarcodeError("zlib_invalid", "the zlib stream has non-zero padding bits")
        return


def _numeric_date(value: Any, name: str) -> float:
    if not is_numeric_date(value):
        raise BarcodeError("cwt_invalid", f"CWT claim {name!r} is not a NumericDate")
    return value


def _check_cwt(claims: Any, claims_key: int | str) -> tuple[dict[int | str, Any], Any]:
    if not isinstance(claims, dict):
        raise BarcodeError("cwt_invalid", "the COSE payload is not a CWT claims map")
    for label, name in _CWT_STRING_CLAIMS.items():
        if label in claims and not isinstance(claims[label], str):
            raise BarcodeError("cwt_invalid", f"CWT claim {name!r} is not text")
    for label, name in _CWT_TIME_CLAIMS.items():
        if label in claims:
            _numeric_date(claims[label], name)
    subject = claims.get(claims_key)
    if not isinstance(subject, dict):
        raise BarcodeError("cwt_invalid", f"the CWT has no claims map under {claims_key!r}")
    return claims, subject


@dataclass(frozen=True, slots=True)
class UnverifiedBarcode:
    """A decoded barcode whose signature and dates have *not* been checked.

    ``prefix`` is the context prefix it carried, ``compressed`` the zlib
    bytes, ``message`` the COSE_Sign1, ``cwt_claims`` its whole claims map
    and ``claims`` the subject claims under the claims key. Use
    :func:`verify_barcode` before trusting any of it.
    """

    prefix: str
    compressed: bytes
    message: CoseSign1
    cwt_claims: Mapping[int | str, Any]
    claims: Mapping[Any, Any]

    @property
    def issuer(self) -> str | None:
        """The ``iss`` claim, if any."""
        value = self.cwt_claims.get(CWT_ISS)
        return value if isinstance(value, str) else None

    @property
    def kid(self) -> bytes | None:
        """The COSE ``kid`` (protected header first), if any."""
        return self.message.kid

    @property
    def issued_at(self) -> float | None:
        """The ``iat`` claim (seconds since the epoch), if any."""
        return self._time(CWT_IAT)

    @property
    def not_before(self) -> float | None:
        """The ``nbf`` claim (seconds since the epoch), if any."""
        return self._time(CWT_NBF)

    @property
    def expires_at(self) -> float | None:
        """The ``exp`` claim (seconds since the epoch), if any."""
        return self._time(CWT_EXP)

    def _time(self, label: int) -> float | None:
        value = self.cwt_claims.get(label)
        return value if is_numeric_date(value) else None


def decode_barcode(
    text: str,
    *,
    prefix: str = DEFAULT_PREFIX,
    max_bytes: int = MAX_BYTES,
    claims_key: int | str = CLAIMS_KEY,
) -> UnverifiedBarcode:
    """Read a barcode string down to its CWT claims, checking structure only.

    Raises :class:`BarcodeError` (a :class:`~did_methods.errors.ParseError`)
    whose ``code`` names the failing layer: ``prefix_invalid`` (text that
    does not start with ``prefix``), ``base45_invalid``, ``zlib_invalid``
    (not zlib, truncated, trailing bytes, non-zero padding), ``too_large``
    (more than ``max_bytes`` compressed or decompressed), ``cose_invalid``
    (not a COSE_Sign1 we accept) or ``cwt_invalid`` (the payload is not a
    CWT claims map with well-typed registered claims and a map under
    ``claims_key``). Nothing cryptographic is checked.
    """
    if not isinstance(text, str):
        raise BarcodeError("prefix_invalid", f"a barcode is text, not {type(text).__name__}")
    if not text.startswith(prefix):
        raise BarcodeError("prefix_invalid", f"the barcode does not start with {prefix!r}")
    body = text[len(prefix) :]
    try:
        compressed = base45.decode(body, max_length=(max_bytes * 3 + 1) // 2)
    except base45.Base45Error as exc:
        if len(body) > (max_bytes * 3 + 1) // 2:
            raise BarcodeError("too_large", f"more than {max_bytes} bytes of base45") from exc
        raise BarcodeError("base45_invalid", str(exc)) from exc
    inflated = _inflate(compressed, max_bytes)
    _check_padding(compressed, inflated, max_bytes)
    try:
        message = CoseSign1.parse(inflated, max_bytes=max_bytes)
    except CoseError as exc:
        raise BarcodeError("cose_invalid", str(exc)) from exc
    try:
        payload = decode_cbor(message.payload, max_bytes=max_bytes)
    except CoseError as exc:
        raise BarcodeError("cwt_invalid", f"the payload is not CBOR: {exc}") from exc
    cwt, subject = _check_cwt(payload, claims_key)
    return UnverifiedBarcode(prefix, compressed, message, cwt, subject)


# -- verifying --------------------------------------------------------------------------


def _find_key(
    barcode: UnverifiedBarcode, keys: KeyLookup | MethodResolver
) -> tuple[PublicKey, str]:
    """Step 2: the issuer's key named by ``kid``; raises :class:`VerificationError`."""
    kid = barcode.kid
    if kid is None:
        raise VerificationError("kid_missing", "the COSE headers carry no 'kid'")
    issuer = barcode.issuer
    if hasattr(keys, "verification_method"):
        if issuer is None:
            raise VerificationError("key_unresolved", "the barcode names no issuer ('iss')")
        try:
            kid_text = kid.decode("utf-8")
        except UnicodeDecodeError:
            raise VerificationError("kid_invalid", "'kid' is not a UTF-8 DID URL") from None
        ref = absolute_kid(kid_text, issuer)
        return resolve_key(keys, ref, _ASSERTION), ref
    lookup: Any = keys
    try:
        key = lookup(kid, issuer)
    except (SSIWalletError, LookupError) as exc:
        raise VerificationError("key_unresolved", f"no key for kid {kid.hex()}: {exc}") from exc
    if key is None:
        raise VerificationError("key_unresolved", f"no key for kid {kid.hex()}")
    if not isinstance(key, PublicKey):
        raise TypeError("a key lookup must return a did_methods.keys.PublicKey or None")
    return key, kid.hex()


def _validity(barcode: UnverifiedBarcode, now: float, leeway: float) -> Check:
    """Step 4: iat/nbf at or before ``now``, exp after it."""
    name = "validity_period"
    exp, nbf, iat = barcode.expires_at, barcode.not_before, barcode.issued_at
    if exp is None:
        return Check.failed(name, "claims_invalid", "the barcode has no expiry ('exp')")
    if now >= exp + leeway:
        return Check.failed(
            name, "expired", f"expired at {iso_instant(exp)}", valid_until=iso_instant(exp)
        )
    if nbf is not None and now < nbf - leeway:
        return Check.failed(
            name,
            "not_yet_valid",
            f"not valid before {iso_instant(nbf)}",
            valid_from=iso_instant(nbf),
        )
    if iat is not None and now < iat - leeway:
        return Check.failed(
            name,
            "not_yet_valid",
            f"issued in the future ({iso_instant(iat)})",
            issued_at=iso_instant(iat),
        )
    return Check.passed(
        name, f"valid at the given time (until {iso_instant(exp)})", valid_until=iso_instant(exp)
    )


def verify_barcode(
    text: str,
    keys: KeyLookup | MethodResolver,
    *,
    now: datetime | None = None,
    prefix: str = DEFAULT_PREFIX,
    max_bytes: int = MAX_BYTES,
    claims_key: int | str = CLAIMS_KEY,
    leeway: float = DEFAULT_CLOCK_SKEW,
    algorithms: frozenset[int] = DEFAULT_ALGORITHMS,
    status_checker: StatusChecker | None = None,
) -> VerificationResult:
    """Verify a barcode string offline; return every check, never a bare bool.

    ``keys`` finds the issuer's key: either a callable ``(kid, iss) ->
    PublicKey | None`` (a trust list held on the device), or a DID resolver
    (:class:`~did_methods.resolver.Resolver`), in which case ``iss`` must be
    a DID and ``kid`` the UTF-8 DID URL (or ``#fragment``) of one of its
    ``assertionMethod`` keys; did:key and did:jwk resolve with no network.
    ``now`` (default: the clock) is when validity is judged, with ``leeway``
    seconds of tolerance. ``status_checker`` is called with the CWT
    ``status`` claim once the signature held. The checks are listed in the
    module docstring; the result's ``document`` is the subject claims when
    every check held (else ``unverified_document`` holds them, for display);
    the typed fields are set only when every check held.

    Raises only :class:`~did_methods.errors.ParseError` for a naive or
    non-time ``now``; an unreadable barcode is a result whose ``syntax``
    check failed.
    """
    moment = epoch_seconds(now)
    checks: list[Check] = []
    # 1. syntax: prefix, base45, zlib, COSE_Sign1, CWT claims
    try:
        barcode = decode_barcode(text, prefix=prefix, max_bytes=max_bytes, claims_key=claims_key)
    except BarcodeError as exc:
        return VerificationResult.of(FORMAT, [Check.failed("syntax", exc.code, exc.message)])
    alg = barcode.message.alg
    checks.append(Check.passed("syntax", f"a well-formed {prefix} barcode (COSE alg {alg!r})"))
    document = dict(barcode.claims)
    issuer = barcode.issuer
    # 2. key_authorisation: the key named by kid, from the trust list or the issuer's DID
    try:
        key, key_id = _find_key(barcode, keys)
    except VerificationError as exc:
        checks.append(Check.failed("key_authorisation", exc.code, exc.message))
        checks.append(Check.skipped("signature", "no key to check the signature with"))
        checks.append(_validity(barcode, moment, leeway))
        return VerificationResult.of(FORMAT, checks, document=document)
    checks.append(Check.passed("key_authorisation", f"key {key_id[:120]} found", kid=key_id))
    # 3. signature: allow-listed alg, matching the key type, verified over the Sig_structure
    try:
        barcode.message.verify(key, algorithms=algorithms)
    except VerificationError as exc:
        signature = Check.failed("signature", exc.code, exc.message)
    else:
        signature = Check.passed(
            "signature", f"COSE alg {alg} signature by a {key.key_type.value} key"
        )
    checks.append(signature)
    # 4. validity_period: iat / nbf / exp at `now`
    checks.append(_validity(barcode, moment, leeway))
    # 5. status (fail closed), only over a signed claims map
    checks.append(_status(barcode, signature, status_checker))
    subject = barcode.cwt_claims.get(2)
    nbf, exp = barcode.not_before, barcode.expires_at
    return VerificationResult.of(
        FORMAT,
        checks,
        document=document,
        kind="credential",
        issuer=issuer,
        subject=subject if isinstance(subject, str) else None,
        claims={k: v for k, v in document.items() if isinstance(k, str)},
        valid_from=_instant(nbf),
        valid_until=_instant(exp),
    )


def _instant(value: float | None) -> datetime | None:
    try:
        return None if value is None else datetime.fromtimestamp(value, UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _status(barcode: UnverifiedBarcode, signature: Check, checker: StatusChecker | None) -> Check:
    """Step 5: the CWT ``status`` claim, checked once the signature held."""
    status = barcode.cwt_claims.get(CWT_STATUS)
    if status is None:
        return Check.skipped("status", "the barcode has no status")
    if signature.status != "passed":
        return Check.skipped("status", "not run: the signature did not verify")
    if checker is None:
        return Check.failed(
            "status", "status_unavailable", "the barcode has a status but no status checker"
        )
    if not isinstance(status, dict):
        return Check.failed("status", "status_invalid", "the CWT 'status' claim is not a map")
    try:
        return checker(status)
    except SSIWalletError as exc:
        return Check.failed("status", "status_unavailable", str(exc))


# -- writing ----------------------------------------------------------------------------


def _plain(value: Any, depth: int, path: str) -> Any:
    """Check that ``value`` is plain CBOR data our decoder reads back; return it."""
    if depth > _CLAIMS_DEPTH:
        raise BarcodeError("claims_invalid", f"claims nest deeper than {_CLAIMS_DEPTH} at {path}")
    if value is None or isinstance(value, bool | str | bytes):
        return value
    if isinstance(value, int):
        if not -(2**64) <= value < 2**64:
            raise BarcodeError("claims_invalid", f"integer out of CBOR range at {path}")
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise BarcodeError("claims_invalid", f"claim names must be text at {path}")
            out[k] = _plain(v, depth + 1, f"{path}/{k}")
        return out
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1, f"{path}/{i}") for i, v in enumerate(value)]
    raise BarcodeError("claims_invalid", f"{type(value).__name__} is not plain data at {path}")


def _epoch(value: datetime | int, name: str) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise BarcodeError("claims_invalid", f"{name} must be a timezone-aware datetime")
        return math.floor(value.timestamp())
    if isinstance(value, bool) or not isinstance(value, int):
        raise BarcodeError("claims_invalid", f"{name} must be an aware datetime or an integer")
    return value


def _check_prefix(prefix: str) -> None:
    if (
        not isinstance(prefix, str)
        or not 0 < len(prefix) <= _PREFIX_MAX
        or any(c not in base45.ALPHABET for c in prefix)
    ):
        raise BarcodeError(
            "prefix_invalid",
            f"a prefix is 1 to {_PREFIX_MAX} characters of the QR alphanumeric set, like 'VC1:'",
        )


def encode_barcode(
    claims: Mapping[str, Any],
    key: PrivateKey,
    *,
    kid: bytes | str,
    issuer: str,
    exp: datetime | int,
    iat: datetime | int | None = None,
    nbf: datetime | int | None = None,
    prefix: str = DEFAULT_PREFIX,
    status: Mapping[str, Any] | None = None,
) -> str:
    """Sign ``claims`` into a barcode string: ``prefix + base45(zlib(COSE_Sign1(CWT)))``.

    ``claims`` (text keys; values text, numbers, booleans, null, bytes,
    lists and maps) go under :data:`CLAIMS_KEY`; ``issuer`` becomes ``iss``,
    ``iat`` (default: now), ``exp`` and ``nbf`` (datetimes or epoch seconds)
    the time claims; ``kid`` (bytes, or text taken as UTF-8, e.g. a DID URL)
    goes in the protected header with the key's algorithm; ``status`` (a
    Token Status List reference, e.g.
    :func:`credentials.token_status_list.status_claim`) becomes the CWT
    claim :data:`CWT_STATUS`. Raises
    :class:`BarcodeError` ``claims_invalid`` for claims or times we cannot
    encode (or ``exp`` not after ``iat``), ``prefix_invalid`` for a prefix
    outside the QR alphanumeric set, and
    :class:`~did_methods.errors.UnsupportedError` for a key that cannot sign.
    """
    _check_prefix(prefix)
    if not isinstance(claims, Mapping):
        raise BarcodeError("claims_invalid", "claims must be a mapping")
    if not isinstance(issuer, str) or not issuer:
        raise BarcodeError("claims_invalid", "issuer must be non-empty text")
    kid_bytes = kid.encode("utf-8") if isinstance(kid, str) else kid
    if not isinstance(kid_bytes, bytes) or not kid_bytes:
        raise BarcodeError("claims_invalid", "kid must be non-empty bytes or text")
    issued = _epoch(system_clock() if iat is None else iat, "iat")
    expires = _epoch(exp, "exp")
    if expires <= issued:
        raise BarcodeError("claims_invalid", "exp must be after iat")
    cwt: dict[int, Any] = {CWT_ISS: issuer, CWT_IAT: issued, CWT_EXP: expires}
    if nbf is not None:
        cwt[CWT_NBF] = _epoch(nbf, "nbf")
    if status is not None:
        if not isinstance(status, Mapping):
            raise BarcodeError("claims_invalid", "status must be a mapping")
        cwt[CWT_STATUS] = _plain(status, 0, "/status")
    cwt[CLAIMS_KEY] = _plain(claims, 0, "")
    payload = cbor2.dumps(cwt)
    message = CoseSign1.sign(payload, key, kid=kid_bytes).encode()
    return prefix + base45.encode(zlib.compress(message, 9))


# -- drawing ----------------------------------------------------------------------------


def _qr(text: str, error: str) -> Any:
    if not isinstance(text, str):
        raise TypeError("a QR code is drawn from the barcode text")
    try:
        import segno
    except ImportError as exc:
        raise UnsupportedError(
            "QR images need the optional dependency segno: pip install 'ssi-wallet[qr]'"
        ) from exc
    try:
        return segno.make_qr(text, error=error, boost_error=False)
    except segno.DataOverflowError as exc:
        raise BarcodeError("too_large", f"the text does not fit a QR code: {exc}") from exc
    except ValueError as exc:
        raise UnsupportedError(f"cannot draw a QR code: {exc}") from exc


def qr_png(text: str, *, scale: int = 4, border: int = 4, error: str = "q") -> bytes:
    """Draw ``text`` as a QR code PNG (``scale`` pixels a module, ``border`` quiet modules).

    ``error`` is the error-correction level (``l``, ``m``, ``q``, ``h``).
    Raises :class:`~did_methods.errors.UnsupportedError` when ``segno`` (the
    ``qr`` extra) is not installed or an option is invalid, and
    :class:`BarcodeError` ``too_large`` when the text does not fit a QR code.
    """
    out = io.BytesIO()
    _qr(text, error).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def qr_svg(text: str, *, scale: int = 4, border: int = 4, error: str = "q") -> str:
    """Draw ``text`` as a QR code SVG document; options and errors as :func:`qr_png`."""
    out = io.BytesIO()
    _qr(text, error).save(out, kind="svg", scale=scale, border=border)
    return out.getvalue().decode("utf-8")
