"""IETF OAuth Token Status List (draft-ietf-oauth-status-list) for SD-JWT VC.

The status mechanism an SD-JWT VC names in its ``status`` claim
(``{"status_list": {"idx": 7, "uri": "https://..."}}``), as opposed to the
W3C Bitstring Status List of :mod:`credentials.status_list` that a JSON-LD
credential names in ``credentialStatus``. Three halves:

* **Status list** (sans-IO): :class:`TokenStatusList` is the issuer's working
  byte array of ``size`` entries of 1, 2, 4 or 8 bits each, with
  :meth:`~TokenStatusList.get`, :meth:`~TokenStatusList.set` and
  :meth:`~TokenStatusList.clear`; :meth:`~TokenStatusList.encode` gives the
  spec's JSON ``{"bits": n, "lst": ...}`` (DEFLATE in the ZLIB format, level
  9, then base64url) and :meth:`~TokenStatusList.decode` reads one back,
  strictly and with a bound on the inflated size.
* **Issuing**: :func:`make_status_list_token` signs a Status List Token (a JWT
  with ``typ`` ``statuslist+jwt`` and claims ``sub``, ``iat``, ``exp``,
  ``ttl``, ``status_list``) with a key named by a DID URL; :func:`status_claim`
  builds the ``status`` claim that goes into each Referenced Token (pass it
  to :func:`credentials.sd_jwt.issue_sd_jwt` as ``status=``).
* **Verifying**: :func:`verify_status_list_token` checks one token (sans-IO);
  :class:`TokenStatusListResolver` fetches tokens through a replaceable
  fetcher (``Accept: application/statuslist+jwt``), verifies and caches them;
  :func:`check_token_status` turns a ``status`` claim into a
  :class:`~credentials.result.Check` named ``status``; and
  :func:`token_status_checker` / :func:`token_status_checker_for` return the
  ``status_checker`` callable that :func:`credentials.sd_jwt.verify_sd_jwt`
  takes.

Bit order is the spec's (section 4): entry ``i`` of ``bits`` bits lives in
byte ``i * bits // 8``, starting at bit ``i * bits % 8`` counted from the
*least* significant bit. Index 0 is therefore the lowest bit of byte 0, the
opposite of the Bitstring Status List.

Status checks fail closed: a token that cannot be fetched, parsed or
verified, is expired, names another list, or was signed by someone other than
the Referenced Token's issuer is a *failed* check, never a pass. Failure codes
of the ``status`` check:

``revoked``
    the entry is 1 (``INVALID``);
``suspended``
    the entry is 2 (``SUSPENDED``);
``status_set``
    the entry has another non-zero value (``0x03`` and the application
    specific values), whose meaning only the application knows;
``status_unavailable``
    the Status List Token could not be fetched (or its signing key's DID
    could not be resolved);
``status_list_invalid``
    the token is malformed, has another ``typ``, an algorithm outside the
    allow-list, a bad signature, a key not authorised for
    ``assertionMethod``, a ``sub`` other than the referenced ``uri``, is
    issued in the future or expired, or its list is a decompression bomb;
``status_list_issuer_mismatch``
    the token was signed by a DID other than the Referenced Token's ``iss``;
``status_index_out_of_range``
    ``idx`` lies beyond the end of the list;
``status_invalid``
    the Referenced Token's ``status`` claim is malformed;
``status_unsupported``
    the ``status`` claim names no ``status_list`` (another mechanism).
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Final

from credentials._jws import (
    CompactJWS,
    MethodResolver,
    absolute_kid,
    b64d,
    b64e,
    check_alg,
    dumps,
    resolve_key,
    sign_compact,
)
from credentials._status_core import (
    DEFAULT_MAX_DECOMPRESSED,
    CachingListResolver,
    PackedEntries,
    StatusListCoreError,
    cache_until,
    inflate_bounded,
    is_int,
    max_encoded_length,
    read_entry,
    utc,
)
from credentials.result import Check
from did_methods._wire.dates import Clock, instant, is_numeric_date, read_clock, system_clock
from did_methods.did import DIDURL
from did_methods.errors import InvalidDID, ParseError, SSIWalletError, VerificationError
from did_methods.http import Fetcher
from did_methods.keys import PrivateKey

if TYPE_CHECKING:
    from credentials.sd_jwt import SdJwt, StatusChecker

__all__ = [
    "ALLOWED_BITS",
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_DECOMPRESSED",
    "STATUS_LIST_MEDIA_TYPE",
    "STATUS_LIST_TYP",
    "TokenStatus",
    "TokenStatusCheckError",
    "TokenStatusList",
    "TokenStatusListError",
    "TokenStatusListResolver",
    "VerifiedStatusListToken",
    "check_token_status",
    "make_status_list_token",
    "status_claim",
    "token_status_checker",
    "token_status_checker_for",
    "verify_status_list_token",
]

#: The ``typ`` header of a Status List Token in JWT format.
STATUS_LIST_TYP: Final = "statuslist+jwt"
#: The media type a Status List Token in JWT format is served and requested as.
STATUS_LIST_MEDIA_TYPE: Final = "application/statuslist+jwt"
#: The widths an entry may have (section 4: 1, 2, 4 or 8 bits).
ALLOWED_BITS: Final = (1, 2, 4, 8)
#: How long a verified token is cached when it names no ``ttl`` (and the cap on any ``ttl``).
DEFAULT_MAX_AGE: Final = timedelta(minutes=5)

#: Longest ``uri`` we accept in a ``status`` claim or as ``sub``.
_MAX_URI_LENGTH: Final = 2048
#: Largest ``idx`` we parse: 2**40 entries is far beyond any list we accept.
_MAX_INDEX: Final = 1 << 40
#: The ``typ`` values that mean a Status List Token (RFC 7515 4.1.9 lets the
#: ``application/`` prefix be omitted, so both spellings name the same type).
_TYPS: Final = frozenset({STATUS_LIST_TYP, STATUS_LIST_MEDIA_TYPE})
_URI_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+")


class TokenStatus(IntEnum):
    """The Status Type values the spec registers (section 7.1); others are application specific."""

    VALID = 0x00
    INVALID = 0x01
    SUSPENDED = 0x02


_FAILURE_CODE: Final[Mapping[int, str]] = {
    TokenStatus.INVALID: "revoked",
    TokenStatus.SUSPENDED: "suspended",
}


class TokenStatusListError(StatusListCoreError):
    """A Token Status List, an index into it or a value for it is malformed.

    ``code`` is stable: ``encoding_invalid`` (``lst`` is not strict base64url
    of one complete ZLIB stream), ``decompression_bomb`` (inflates beyond the
    cap), ``bits_invalid`` (not 1, 2, 4 or 8), ``size_invalid``,
    ``index_out_of_range``, ``value_out_of_range``, ``claim_invalid`` (an
    argument for a token or a ``status`` claim is malformed).
    """


class TokenStatusCheckError(VerificationError):
    """A Status List Token could not be used; ``code`` is a ``status`` check code.

    Raised by :func:`verify_status_list_token` and
    :meth:`TokenStatusListResolver.get`; :func:`check_token_status` turns it
    into a failed :class:`~credentials.result.Check`.
    """


def _check_bits(bits: object) -> int:
    if not isinstance(bits, int) or isinstance(bits, bool) or bits not in ALLOWED_BITS:
        raise TokenStatusListError("bits_invalid", f"bits must be 1, 2, 4 or 8, not {bits!r:.40}")
    return bits


def _check_cap(cap: object) -> int:
    # zlib reads max_length 0 as "no limit": a negative cap must never reach it
    if not is_int(cap) or cap < 0:
        raise TokenStatusListError("size_invalid", "max_decompressed must be an int >= 0")
    return cap


class TokenStatusList(PackedEntries):
    """A Token Status List: ``size`` entries of ``bits`` bits, LSB first in each byte.

    This is the issuer's mutable working copy (``set``/``clear`` change it in
    place); build it empty with ``TokenStatusList(size, bits)`` or read a
    published one with :meth:`decode`. Indices run from 0 to ``size - 1``;
    any other index raises :class:`TokenStatusListError`
    (``index_out_of_range``). A decoded list's ``size`` is every entry its
    bytes hold (the spec carries no separate length).
    """

    __slots__ = ()
    _MSB_FIRST = False
    _ERROR = TokenStatusListError

    def __init__(self, size: int, bits: int = 1) -> None:
        """Create a list of ``size`` entries, all 0 (``VALID``).

        Raises :class:`TokenStatusListError`: ``bits_invalid`` unless
        ``bits`` is 1, 2, 4 or 8; ``size_invalid`` unless ``size`` is a
        positive int whose list fits in :data:`DEFAULT_MAX_DECOMPRESSED` bytes.
        """
        checked = _check_bits(bits)
        if not is_int(size) or size < 1:
            raise TokenStatusListError(
                "size_invalid", f"size must be an int >= 1, not {size!r:.40}"
            )
        length = -(-size * checked // 8)
        if length > DEFAULT_MAX_DECOMPRESSED:
            raise TokenStatusListError(
                "size_invalid", f"a status list is at most {DEFAULT_MAX_DECOMPRESSED} bytes"
            )
        self._init(bytearray(length), checked, size)

    @classmethod
    def from_bytes(cls, data: bytes, *, bits: int = 1) -> TokenStatusList:
        """A list over an uncompressed byte array (a copy of ``data``); every entry it holds.

        Raises :class:`TokenStatusListError` (``bits_invalid``, ``size_invalid``
        for an array longer than :data:`DEFAULT_MAX_DECOMPRESSED`).
        """
        checked = _check_bits(bits)
        if not isinstance(data, bytes | bytearray):
            raise TokenStatusListError("encoding_invalid", "the byte array must be bytes")
        if len(data) > DEFAULT_MAX_DECOMPRESSED:
            raise TokenStatusListError(
                "size_invalid", f"a status list is at most {DEFAULT_MAX_DECOMPRESSED} bytes"
            )
        self = cls.__new__(cls)
        self._init(bytearray(data), checked, len(data) * 8 // checked)
        return self

    @classmethod
    def decode(
        cls, obj: Mapping[str, Any], *, max_decompressed: int = DEFAULT_MAX_DECOMPRESSED
    ) -> TokenStatusList:
        """Read the JSON ``status_list`` object ``{"bits": n, "lst": "..."}`` strictly.

        ``bits`` must be 1, 2, 4 or 8; ``lst`` strict unpadded base64url of
        exactly one ZLIB stream that inflates to at most ``max_decompressed``
        bytes, never more than :data:`DEFAULT_MAX_DECOMPRESSED` (inflation
        stops as soon as the cap is passed, so a bomb costs at most that much
        work). Other members (``aggregation_uri``) are allowed and ignored.
        Raises :class:`TokenStatusListError` (``claim_invalid``,
        ``bits_invalid``, ``encoding_invalid``, ``decompression_bomb``,
        ``size_invalid`` for a negative ``max_decompressed``).
        """
        if not isinstance(obj, Mapping):
            raise TokenStatusListError("claim_invalid", "status_list must be a JSON object")
        bits = _check_bits(obj.get("bits"))
        lst = obj.get("lst")
        if not isinstance(lst, str):
            raise TokenStatusListError("encoding_invalid", "lst must be a string")
        cap = min(_check_cap(max_decompressed), DEFAULT_MAX_DECOMPRESSED)
        # DEFLATE never grows data by more than ~0.03% plus a few bytes (stored
        # blocks), so a longer text cannot be a list within the cap.
        if len(lst) > max_encoded_length(cap):
            raise TokenStatusListError(
                "decompression_bomb", "lst is longer than any list we accept"
            )
        try:
            compressed = b64d(lst)
        except ParseError as exc:
            raise TokenStatusListError("encoding_invalid", f"lst: {exc}") from exc
        inflated = inflate_bounded(
            compressed, cap, container="ZLIB", field="lst", error=TokenStatusListError
        )
        return cls.from_bytes(inflated, bits=bits)

    @property
    def size(self) -> int:
        """The number of entries."""
        return self._count

    @property
    def bits(self) -> int:
        """The width of each entry in bits (1, 2, 4 or 8)."""
        return self._bits

    def encode(self) -> dict[str, Any]:
        """The spec's JSON Status List: ``{"bits": n, "lst": base64url(zlib(bytes, level 9))}``.

        The ZLIB stream is deterministic, so equal lists encode to equal values.
        """
        return {"bits": self._bits, "lst": b64e(zlib.compress(bytes(self._data), 9))}

    def __repr__(self) -> str:
        return f"TokenStatusList(size={self._count}, bits={self._bits})"


# --------------------------------------------------------------------------- issuing


def _check_uri(uri: object, what: str) -> str:
    if not isinstance(uri, str) or len(uri) > _MAX_URI_LENGTH or not _URI_RE.fullmatch(uri):
        raise TokenStatusListError("claim_invalid", f"{what} must be an absolute URI")
    return uri


def _numeric_date(value: float | datetime, what: str) -> int:
    """A claim's time (an aware datetime or NumericDate seconds) as whole seconds."""
    try:
        if isinstance(value, datetime):
            return int(instant(value, what=what).timestamp())
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParseError(f"must be an aware datetime or seconds, not {type(value).__name__}")
        return int(value)
    except (ParseError, OverflowError, ValueError) as exc:
        raise TokenStatusListError("claim_invalid", f"{what}: {exc}") from exc


def status_claim(uri: str, idx: int) -> dict[str, Any]:
    """The ``status`` claim of a Referenced Token: ``{"status_list": {"idx": idx, "uri": uri}}``.

    ``uri`` is where the Status List Token is published (its ``sub``);
    ``idx`` the token's entry (assign indices at random, so a list's order
    does not reveal issuance order). Raises :class:`TokenStatusListError`
    (``claim_invalid``) for a non-URI or a negative or non-int index.
    """
    _check_uri(uri, "uri")
    if not is_int(idx) or not 0 <= idx <= _MAX_INDEX:
        raise TokenStatusListError("claim_invalid", f"idx must be an int >= 0, not {idx!r:.40}")
    return {"status_list": {"idx": idx, "uri": uri}}


def make_status_list_token(
    status_list: TokenStatusList,
    *,
    uri: str,
    key: PrivateKey,
    kid: str,
    issued_at: float | datetime | None = None,
    expires_at: float | datetime | None = None,
    ttl: timedelta | int | None = None,
) -> str:
    """Sign ``status_list`` as a Status List Token in JWT format (section 5.1).

    The header is ``{"alg", "kid", "typ": "statuslist+jwt"}``; the claims
    ``sub`` (= ``uri``, the URL the token is served at), ``iat``
    (``issued_at``, default now), ``exp`` (``expires_at``, optional), ``ttl``
    (seconds a relying party may cache it, optional) and ``status_list``.
    ``kid`` must be an absolute DID URL naming ``key``'s verification method,
    which relying parties require to be authorised for ``assertionMethod``
    by the same DID as the Referenced Tokens' ``iss``.

    Raises :class:`TokenStatusListError` (``claim_invalid``) for a bad
    ``uri``, ``kid``, an ``exp`` not after ``iat`` or a ``ttl`` that is not a
    positive whole number of seconds, and
    :class:`~did_methods.errors.UnsupportedError` for keys that cannot sign.
    """
    if not isinstance(status_list, TokenStatusList):
        raise TokenStatusListError("claim_invalid", "status_list must be a TokenStatusList")
    _check_uri(uri, "uri")
    try:
        url = DIDURL.parse(kid)
    except InvalidDID as exc:
        raise TokenStatusListError("claim_invalid", f"kid is not a DID URL: {exc}") from exc
    if url.fragment is None or url.path:
        raise TokenStatusListError("claim_invalid", "kid must name a verification method (#...)")
    iat = (
        _numeric_date(issued_at, "issued_at")
        if issued_at is not None
        else int(system_clock().timestamp())
    )
    payload: dict[str, Any] = {"sub": uri, "iat": iat}
    if expires_at is not None:
        exp = _numeric_date(expires_at, "expires_at")
        if exp <= iat:
            raise TokenStatusListError("claim_invalid", "expires_at must be after issued_at")
        payload["exp"] = exp
    if ttl is not None:
        seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else ttl
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise TokenStatusListError("claim_invalid", "ttl must be a timedelta or seconds")
        if seconds != int(seconds) or seconds < 1:
            raise TokenStatusListError(
                "claim_invalid", "ttl must be a positive whole number of seconds"
            )
        payload["ttl"] = int(seconds)
    payload["status_list"] = status_list.encode()
    return sign_compact({"kid": kid, "typ": STATUS_LIST_TYP}, dumps(payload), key)


# --------------------------------------------------------------------------- verifying


def _instant(now: datetime | None) -> datetime:
    try:
        return instant(now)
    except (OverflowError, ValueError, OSError) as exc:
        if isinstance(exc, ParseError):
            raise
        raise ParseError(f"'now' is not a representable instant: {exc}") from exc


def _timestamp(value: object, name: str) -> datetime:
    if not is_numeric_date(value):
        raise TokenStatusCheckError("status_list_invalid", f"'{name}' is not a NumericDate")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, ValueError, OSError) as exc:
        raise TokenStatusCheckError("status_list_invalid", f"'{name}' is out of range") from exc


@dataclass(frozen=True, slots=True)
class VerifiedStatusListToken:
    """A Status List Token that passed every check of :func:`verify_status_list_token`.

    ``issuer`` is the DID whose ``assertionMethod`` key signed it (``kid``);
    ``expires_at`` its ``exp`` (None when absent); ``ttl`` its ``ttl``
    (None when absent). :meth:`get` reads an entry; ``size`` is the number
    of entries.
    """

    uri: str
    issuer: str
    kid: str
    bits: int
    data: bytes = field(repr=False)
    issued_at: datetime
    expires_at: datetime | None
    ttl: timedelta | None
    payload: Mapping[str, Any] = field(repr=False)

    @property
    def size(self) -> int:
        """The number of entries in the list."""
        return len(self.data) * 8 // self.bits

    def get(self, index: int) -> int:
        """The value of entry ``index``; :class:`TokenStatusCheckError`
        (``status_index_out_of_range``) beyond the end."""
        if not is_int(index) or not 0 <= index < self.size:
            raise TokenStatusCheckError(
                "status_index_out_of_range",
                f"idx {index!r:.40} is beyond the list's {self.size} entries",
            )
        return read_entry(self.data, self.bits, index * self.bits, msb_first=False)

    def status_list(self) -> TokenStatusList:
        """A mutable copy of the list (e.g. for an issuer that re-signs it)."""
        return TokenStatusList.from_bytes(self.data, bits=self.bits)

    def valid_at(self, now: datetime, *, leeway: float = 0) -> bool:
        """True when ``now`` is not before ``iat`` and before ``exp`` (if any), +- ``leeway`` s."""
        now = utc(now)
        slack = timedelta(seconds=leeway)
        if now + slack < self.issued_at:
            return False
        return self.expires_at is None or now < self.expires_at + slack


def verify_status_list_token(
    token: str,
    *,
    uri: str,
    issuer: str,
    resolver: MethodResolver,
    now: datetime | None = None,
    max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
    leeway: float = 0,
) -> VerifiedStatusListToken:
    """Verify a Status List Token (JWT) for the list at ``uri`` from ``issuer``; sans-IO.

    Returns what was verified or raises :class:`TokenStatusCheckError`:
    ``status_list_invalid`` (not a compact JWS, ``typ`` not
    ``statuslist+jwt``, ``alg`` outside the allow-list, a ``kid`` that is not
    a DID URL, a key not authorised for ``assertionMethod``, a bad
    signature, ``sub`` other than ``uri``, ``iat`` missing or after ``now``,
    ``exp`` at or before ``now``, a bad ``ttl``, a malformed or bomb
    ``status_list``), ``status_list_issuer_mismatch`` (``kid`` belongs to
    another DID than ``issuer``), ``status_unavailable`` (the ``kid``'s DID
    could not be resolved).
    """
    # Steps: 1 parse; 2 typ; 3 alg allow-list (before any key is looked up);
    # 4 kid belongs to the expected issuer; 5 key authorised for
    # assertionMethod, signature; 6 sub; 7 iat / exp / ttl; 8 the list.
    at = _instant(now)

    # 1. parse
    try:
        jws = CompactJWS.parse(token)
    except ParseError as exc:
        raise TokenStatusCheckError(
            "status_list_invalid", f"the Status List Token is not a compact JWS: {exc}"
        ) from exc

    # 2. typ
    typ = jws.header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in _TYPS:
        raise TokenStatusCheckError(
            "status_list_invalid", f"the token's typ {typ!r:.40} is not {STATUS_LIST_TYP}"
        )

    # 3. algorithm allow-list
    try:
        check_alg(jws.alg)
    except VerificationError as exc:
        raise TokenStatusCheckError("status_list_invalid", exc.message) from exc

    # 4. the signing key must be the Referenced Token issuer's
    try:
        kid = absolute_kid(jws.header.get("kid"), issuer)
    except VerificationError as exc:
        code = (
            "status_list_issuer_mismatch" if exc.code == "kid_not_issuer" else "status_list_invalid"
        )
        raise TokenStatusCheckError(code, f"the Status List Token's kid: {exc.message}") from exc

    # 5. key authorisation and signature
    try:
        key = resolve_key(resolver, kid, "assertionMethod")
        jws.verify(key)
    except VerificationError as exc:
        code = "status_unavailable" if exc.code == "key_unresolved" else "status_list_invalid"
        raise TokenStatusCheckError(
            code, f"the Status List Token's signature: {exc.code}: {exc.message}"
        ) from exc

    # 6. sub names the list the Referenced Token points at
    claims = jws.payload
    if claims.get("sub") != uri:
        raise TokenStatusCheckError(
            "status_list_invalid", f"the Status List Token's sub is not {uri[:200]}"
        )

    # 7. iat (required), exp (expired is a failure), ttl
    if "iat" not in claims:
        raise TokenStatusCheckError("status_list_invalid", "the Status List Token has no iat")
    issued_at = _timestamp(claims["iat"], "iat")
    if issued_at > at + timedelta(seconds=leeway):
        raise TokenStatusCheckError(
            "status_list_invalid", "the Status List Token is issued in the future"
        )
    expires_at = _timestamp(claims["exp"], "exp") if "exp" in claims else None
    if expires_at is not None and at >= expires_at + timedelta(seconds=leeway):
        raise TokenStatusCheckError(
            "status_list_invalid", f"the Status List Token expired at {expires_at.isoformat()}"
        )
    ttl: timedelta | None = None
    if "ttl" in claims:
        raw_ttl = claims["ttl"]
        if (
            isinstance(raw_ttl, bool)
            or not isinstance(raw_ttl, int | float)
            or not math.isfinite(raw_ttl)
            or raw_ttl <= 0
        ):
            raise TokenStatusCheckError("status_list_invalid", "ttl must be a positive number")
        ttl = timedelta(seconds=min(raw_ttl, 10**9))

    # 8. the list itself, bounded
    try:
        status_list = TokenStatusList.decode(
            claims.get("status_list"),  # any JSON value: decode checks it
            max_decompressed=max_decompressed,
        )
    except TokenStatusListError as exc:
        raise TokenStatusCheckError(
            "status_list_invalid", f"the Status List Token's status_list: {exc}"
        ) from exc

    return VerifiedStatusListToken(
        uri=uri,
        issuer=issuer,
        kid=kid,
        bits=status_list.bits,
        data=status_list.to_bytes(),
        issued_at=issued_at,
        expires_at=expires_at,
        ttl=ttl,
        payload=claims,
    )


class TokenStatusListResolver(CachingListResolver[VerifiedStatusListToken]):
    """Fetches, verifies and caches Status List Tokens.

    ``fetcher`` fetches URLs (:class:`did_methods.http.HttpFetcher` in
    production, which refuses private addresses and bounds size, time and
    redirects); ``resolver`` resolves the DID of each token's ``kid``
    (:class:`did_methods.resolver.Resolver` fits). A verified token is cached
    per URI until its ``ttl`` passes (``max_age`` when it names none, and
    never longer than ``max_age`` nor past its ``exp``), as measured by
    ``clock``. At most ``max_cached`` tokens are kept (least recently used
    first out). Safe to share between threads. Raises
    :class:`TokenStatusListError` (``size_invalid``) at construction for a
    negative ``max_decompressed``.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        resolver: MethodResolver,
        *,
        clock: Clock = system_clock,
        max_age: timedelta = DEFAULT_MAX_AGE,
        max_bytes: int = 4 * 1024 * 1024,
        timeout: float = 10.0,
        max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
        max_cached: int = 1024,
        leeway: float = 0,
    ) -> None:
        _check_cap(max_decompressed)
        limits = (max_age, max_bytes, timeout, max_decompressed, max_cached)
        super().__init__(fetcher, clock, *limits)
        self._resolver = resolver
        self._leeway = leeway

    _ACCEPT = STATUS_LIST_MEDIA_TYPE
    _WHAT = "Status List Token"
    _CHECK_ERROR = TokenStatusCheckError

    def _cache_until(self, value: VerifiedStatusListToken, fetched_at: datetime) -> datetime:
        return cache_until(fetched_at, value.ttl, self._max_age, value.expires_at)

    def get(self, uri: str, *, issuer: str, now: datetime | None = None) -> VerifiedStatusListToken:
        """The verified Status List Token at ``uri``, signed by ``issuer``, from cache when fresh.

        ``now`` is the instant the token must be valid at (default: the
        clock). Raises :class:`TokenStatusCheckError` with the codes of
        :func:`verify_status_list_token`, ``status_unavailable`` when the
        fetch fails, and ``status_list_issuer_mismatch`` when a cached token
        was signed by another DID than ``issuer``.
        """
        fetched_now = read_clock(self._clock)
        at = fetched_now if now is None else _instant(now)
        token, cached = self._cached_or_load(
            uri, fetched_now, lambda: self._fetch_and_verify(uri, issuer, at)
        )
        if not cached:
            return token
        if token.issuer != issuer:
            raise TokenStatusCheckError(
                "status_list_issuer_mismatch",
                f"the Status List Token at {uri[:200]} is signed by {token.issuer[:120]}, "
                f"not by {issuer[:120]}",
            )
        if not token.valid_at(at, leeway=self._leeway):
            raise TokenStatusCheckError(
                "status_list_invalid", f"the Status List Token at {uri[:200]} is not valid now"
            )
        return token

    def _fetch_and_verify(self, uri: str, issuer: str, at: datetime) -> VerifiedStatusListToken:
        body = self._fetch(uri)
        try:
            # A JWT is ASCII; surrounding whitespace (a trailing newline) is not part of it.
            text = bytes(body).decode("ascii").strip()
        except (UnicodeDecodeError, TypeError) as exc:
            raise TokenStatusCheckError(
                "status_list_invalid", "the Status List Token is not ASCII text"
            ) from exc
        return verify_status_list_token(
            text,
            uri=uri,
            issuer=issuer,
            resolver=self._resolver,
            now=at,
            max_decompressed=self._max_decompressed,
            leeway=self._leeway,
        )


def _parse_claim(status: object) -> tuple[str, int]:
    if not isinstance(status, Mapping):
        raise TokenStatusCheckError("status_invalid", "'status' is not a JSON object")
    if "status_list" not in status:
        raise TokenStatusCheckError(
            "status_unsupported", "'status' names no status_list (another status mechanism)"
        )
    reference = status["status_list"]
    if not isinstance(reference, Mapping):
        raise TokenStatusCheckError("status_invalid", "'status.status_list' is not an object")
    idx = reference.get("idx")
    if not isinstance(idx, int) or isinstance(idx, bool) or not 0 <= idx <= _MAX_INDEX:
        raise TokenStatusCheckError("status_invalid", "'status.status_list.idx' is not an int >= 0")
    uri = reference.get("uri")
    try:
        _check_uri(uri, "status.status_list.uri")
    except TokenStatusListError as exc:
        raise TokenStatusCheckError("status_invalid", exc.message) from exc
    return uri, idx  # type: ignore[return-value]


def check_token_status(
    status: Mapping[str, Any],
    issuer: str | None,
    resolver: TokenStatusListResolver,
    *,
    now: datetime | None = None,
) -> Check:
    """The ``status`` check of a Referenced Token whose ``status`` claim is ``status``.

    ``issuer`` is the Referenced Token's ``iss``: the Status List Token must
    be signed by a key that DID authorises for ``assertionMethod``. Passed
    only when the token was fetched, verified, valid at ``now``, for this
    ``uri``, and the entry at ``idx`` is 0 (``VALID``); every other outcome
    is a failed check with a code listed in the module docstring (details:
    ``uri``, ``idx``, ``value`` when read). Never raises.
    """
    name = "status"
    try:
        uri, idx = _parse_claim(status)
        if not isinstance(issuer, str) or not issuer:
            raise TokenStatusCheckError(
                "status_list_issuer_mismatch", "the Referenced Token names no issuer (iss)"
            )
        token = resolver.get(uri, issuer=issuer, now=now)
        value = token.get(idx)
    except VerificationError as exc:
        return Check.failed(name, exc.code, exc.message)
    except SSIWalletError as exc:  # e.g. a 'now' that is not an instant
        return Check.failed(name, "status_unavailable", str(exc))
    if value == TokenStatus.VALID:
        return Check.passed(
            name, f"status at index {idx} of {uri} is VALID", uri=uri, idx=idx, value=0
        )
    code = _FAILURE_CODE.get(value, "status_set")
    label = TokenStatus(value).name if value in _FAILURE_CODE else f"0x{value:02x}"
    return Check.failed(
        name, code, f"status at index {idx} of {uri} is {label}", uri=uri, idx=idx, value=value
    )


def token_status_checker(
    resolver: TokenStatusListResolver,
    issuer: str | Callable[[], str | None] | None,
    *,
    now: datetime | None = None,
) -> StatusChecker:
    """The ``status_checker`` for :func:`credentials.sd_jwt.verify_sd_jwt`, bound to ``issuer``.

    ``issuer`` is the credential's ``iss`` (or a zero-argument callable that
    returns it when the check runs). The checker calls
    :func:`check_token_status` and never raises.
    """

    def check(status: Mapping[str, Any]) -> Check:
        expected = issuer() if callable(issuer) else issuer
        return check_token_status(status, expected, resolver, now=now)

    return check


def token_status_checker_for(
    sd_jwt: str | SdJwt,
    resolver: TokenStatusListResolver,
    *,
    now: datetime | None = None,
) -> StatusChecker:
    """A ``status_checker`` bound to the ``iss`` of the SD-JWT about to be verified.

    Reading ``iss`` before verification is safe here because
    :func:`~credentials.sd_jwt.verify_sd_jwt` calls its status checker only
    after the issuer's signature over that same payload has been verified.
    Raises :class:`~credentials.sd_jwt.SdJwtError` when ``sd_jwt`` is not an
    SD-JWT at all.
    """
    from credentials.sd_jwt import SdJwt

    parsed = sd_jwt if isinstance(sd_jwt, SdJwt) else SdJwt.parse(sd_jwt)
    iss = parsed.unverified_payload.get("iss")
    return token_status_checker(resolver, iss if isinstance(iss, str) else None, now=now)
