"""W3C Bitstring Status List v1.0: issue status lists and check a credential's status.

Two halves:

* **Issuing** (sans-IO): :class:`StatusList` is the issuer's working bitstring
  (at least 131,072 entries of 1-8 bits each) with :meth:`StatusList.set`,
  :meth:`StatusList.clear` and :meth:`StatusList.get`; :meth:`StatusList.encode`
  produces the spec's ``encodedList`` (GZIP, then multibase base64url ``u``
  without padding); :func:`make_status_list_credential` wraps it in an unsigned
  ``BitstringStatusListCredential`` (the caller adds a proof), and
  :func:`status_entry` builds the ``BitstringStatusListEntry`` that goes into
  the ``credentialStatus`` of each issued credential.
* **Verifying**: :class:`StatusListResolver` fetches a status list credential
  through a replaceable fetcher, verifies it with the pinned
  :func:`credentials.verify.verify_credential` (a *credential* secured with
  Data Integrity or as a ``vc+jwt``, never a presentation, of type
  ``BitstringStatusListCredential``, signed with
  a key its issuer authorises for ``assertionMethod``), takes its issuer from
  that verified result, checks its ``id``, validity period and list length, and
  caches it for at most its ``ttl``; :func:`check_status` runs the spec's validate
  algorithm for every entry of a credential and returns a
  :class:`~credentials.result.Check` named ``status``.

Bit order is the spec's: index 0 is the most significant bit of byte 0, and an
entry of ``n`` bits at index ``i`` occupies bits ``i*n .. i*n+n-1`` read most
significant first.

Status checks fail closed: a list that cannot be fetched or parsed, has a bad
proof, is outside its validity period, comes from another issuer or does not
serve the entry's purpose is a *failed* check, never a pass. Failure codes of the
``status`` check:

``revoked`` / ``suspended`` / ``status_message`` / ``status_set``
    the entry's bits are not zero (purpose revocation / suspension / message /
    any other purpose);
``status_unavailable``
    the list credential could not be fetched;
``status_list_invalid``
    the list credential is malformed, its proof failed, it is stale (outside
    ``validFrom``/``validUntil``), too short, or a decompression bomb;
``status_list_untrusted``
    what the URL serves is not a status list credential: a presentation, a
    credential of another type or format, or a verification that did not
    establish a credential and its issuer;
``status_list_issuer_mismatch``
    the list was issued by someone other than the credential's issuer;
``status_purpose_mismatch``
    the list does not serve the entry's ``statusPurpose``;
``status_entry_invalid``
    the credential's own ``credentialStatus`` entry is malformed;
``status_index_out_of_range``
    the entry's index lies beyond the end of the list;
``status_unsupported``
    a ``credentialStatus`` entry of a type other than ``BitstringStatusListEntry``.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from credentials._jws import MethodResolver
from credentials._status_core import (
    DEFAULT_MAX_DECOMPRESSED,
    CachingListResolver,
    ListFetcher,
    PackedEntries,
    StatusListCoreError,
    cache_until,
    inflate_bounded,
    max_encoded_length,
    utc,
)
from credentials.errors import ValidationError
from credentials.jcs import loads_strict
from credentials.result import Check, VerificationResult
from did_methods._wire.dates import Clock, instant, read_clock, system_clock
from did_methods.encoding import b64url_decode, b64url_encode
from did_methods.errors import ParseError, SSIWalletError, VerificationError

__all__ = [
    "DEFAULT_MAX_DECOMPRESSED",
    "DEFAULT_TTL",
    "MIN_ENTRIES",
    "StatusCheckError",
    "StatusList",
    "StatusListError",
    "StatusListFetcher",
    "StatusListResolver",
    "VerifiedStatusList",
    "check_status",
    "check_status_entries",
    "decode_bitstring",
    "make_status_list_credential",
    "status_entry",
]

#: The spec's minimum number of entries in a list (16 KB of 1-bit entries): a
#: herd-privacy floor, so a list's size does not single out a credential.
MIN_ENTRIES: Final = 131_072

#: The spec's default ``ttl`` (300000 ms) when a list credential names none.
DEFAULT_TTL: Final = timedelta(milliseconds=300_000)

#: Longest ``statusListIndex`` string we parse (a 12-digit index is far beyond
#: any list we accept, so nothing longer can be valid).
_MAX_INDEX_DIGITS: Final = 12
_INDEX_RE: Final = re.compile(r"0|[1-9][0-9]*")
_STATUS_HEX_RE: Final = re.compile(r"0x[0-9a-fA-F]{1,2}")
_DATETIME_RE: Final = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)", re.ASCII
)

_CONTEXT_V2: Final = "https://www.w3.org/ns/credentials/v2"
_ENTRY_TYPE: Final = "BitstringStatusListEntry"
_LIST_CREDENTIAL_TYPE: Final = "BitstringStatusListCredential"
_LIST_TYPE: Final = "BitstringStatusList"

_FAILURE_CODE_FOR_PURPOSE: Final = {
    "revocation": "revoked",
    "suspension": "suspended",
    "message": "status_message",
}


class StatusListError(StatusListCoreError):
    """A status list, or an index into it, is malformed.

    ``code`` is stable: ``encoding_invalid`` (not multibase base64url, not a
    single well-formed GZIP member), ``decompression_bomb`` (expands beyond
    the cap), ``list_too_short`` (fewer than the minimum entries),
    ``index_out_of_range``, ``value_out_of_range``, ``status_size_invalid``,
    ``length_invalid``.
    """


class StatusCheckError(VerificationError):
    """A status list credential could not be used; ``code`` is a ``status`` check code.

    Raised by :meth:`StatusListResolver.get`; :func:`check_status` turns it into
    a failed :class:`~credentials.result.Check`.
    """


def _check_status_size(bits_per_status: object) -> int:
    if (
        not isinstance(bits_per_status, int)
        or isinstance(bits_per_status, bool)
        or not 1 <= bits_per_status <= 8
    ):
        raise StatusListError(
            "status_size_invalid", f"bits per status must be 1 to 8, not {bits_per_status!r}"
        )
    return bits_per_status


class StatusList(PackedEntries):
    """A bitstring of status entries, each ``bits_per_status`` bits wide.

    This is the issuer's mutable working copy (``set``/``clear`` change it in
    place); build it empty with ``StatusList(length)`` or read a published one
    with :meth:`decode`. Indices run from 0 to ``length - 1``; any other index
    raises :class:`StatusListError` (``index_out_of_range``).
    """

    __slots__ = ()
    _MSB_FIRST = True
    _ERROR = StatusListError

    def __init__(self, length: int = MIN_ENTRIES, *, bits_per_status: int = 1) -> None:
        """Create a list of ``length`` entries, all zero.

        Raises :class:`StatusListError` when ``length`` is below
        :data:`MIN_ENTRIES`, or the list would not fill whole bytes, or
        ``bits_per_status`` is not 1-8.
        """
        bits = _check_status_size(bits_per_status)
        if not isinstance(length, int) or isinstance(length, bool) or length < MIN_ENTRIES:
            raise StatusListError(
                "list_too_short", f"a status list needs at least {MIN_ENTRIES} entries"
            )
        if (length * bits) % 8:
            raise StatusListError(
                "length_invalid", "length * bits_per_status must be a multiple of 8"
            )
        if length * bits // 8 > DEFAULT_MAX_DECOMPRESSED:
            raise StatusListError(
                "length_invalid", f"a status list is at most {DEFAULT_MAX_DECOMPRESSED} bytes"
            )
        self._init(bytearray(length * bits // 8), bits, length)

    @classmethod
    def from_bytes(
        cls, data: bytes, *, bits_per_status: int = 1, min_entries: int = MIN_ENTRIES
    ) -> StatusList:
        """A list over an uncompressed bitstring (a copy of ``data``).

        Raises :class:`StatusListError` (``list_too_short``) when the bitstring
        holds fewer than ``min_entries`` entries of ``bits_per_status`` bits.
        """
        bits = _check_status_size(bits_per_status)
        length = len(data) * 8 // bits
        if length < min_entries:
            raise StatusListError(
                "list_too_short",
                f"the list holds {length} entries of {bits} bit(s); "
                f"at least {min_entries} are required",
            )
        self = cls.__new__(cls)
        self._init(bytearray(data), bits, length)
        return self

    @classmethod
    def decode(
        cls,
        encoded: str,
        *,
        bits_per_status: int = 1,
        max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
        min_entries: int = MIN_ENTRIES,
        allow_unprefixed: bool = False,
    ) -> StatusList:
        """Read an ``encodedList`` value strictly.

        The value must be multibase base64url (``u`` prefix, no padding) of one
        GZIP member that expands to at most ``max_decompressed`` bytes and to at
        least ``min_entries`` entries. ``allow_unprefixed=True`` also accepts
        the prefix-less form of drafts before v1.0 (the W3C test-suite fixtures
        use it); it is unambiguous because every GZIP stream starts ``H4sI``.

        Raises :class:`StatusListError` (``encoding_invalid``,
        ``decompression_bomb``, ``list_too_short``, ``status_size_invalid``).
        Decompression stops as soon as the cap is passed, so a bomb costs at
        most ``max_decompressed`` bytes of work.
        """
        data = decode_bitstring(
            encoded, max_decompressed=max_decompressed, allow_unprefixed=allow_unprefixed
        )
        return cls.from_bytes(data, bits_per_status=bits_per_status, min_entries=min_entries)

    @property
    def length(self) -> int:
        """The number of entries."""
        return self._count

    @property
    def bits_per_status(self) -> int:
        """The width of each entry in bits (the entry's ``statusSize``)."""
        return self._bits

    def is_set(self, index: int) -> bool:
        """True when entry ``index`` is not zero (revoked, suspended, ...)."""
        return self.get(index) != 0

    def encode(self) -> str:
        """The spec's ``encodedList``: GZIP, then multibase base64url (``u``, no padding).

        The GZIP header carries no timestamp or file name, so equal lists
        encode to equal strings.
        """
        return "u" + b64url_encode(gzip.compress(bytes(self._data), compresslevel=9, mtime=0))

    def __repr__(self) -> str:
        return f"StatusList(length={self._count}, bits_per_status={self._bits})"


def decode_bitstring(
    encoded: str,
    *,
    max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
    allow_unprefixed: bool = False,
) -> bytes:
    """The uncompressed bitstring of an ``encodedList``, with no minimum length.

    Same strictness and bounds as :meth:`StatusList.decode`; raises
    :class:`StatusListError` (``encoding_invalid``, ``decompression_bomb``).
    """
    if not isinstance(encoded, str):
        raise StatusListError("encoding_invalid", "encodedList must be a string")
    if encoded.startswith("u"):
        body = encoded[1:]
    elif allow_unprefixed and encoded.startswith("H4sI"):
        body = encoded
    else:
        raise StatusListError(
            "encoding_invalid", "encodedList must be multibase base64url (prefix 'u')"
        )
    try:
        compressed = b64url_decode(body, max_length=max_encoded_length(max_decompressed))
    except ParseError as exc:
        raise StatusListError("encoding_invalid", f"encodedList: {exc}") from exc
    return inflate_bounded(
        compressed, max_decompressed, container="GZIP", field="encodedList", error=StatusListError
    )


# --------------------------------------------------------------------------- issuing


def _xml_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _status_message_list(messages: Sequence[str], bits: int) -> list[dict[str, str]]:
    if isinstance(messages, str) or len(messages) != 1 << bits:
        raise StatusListError(
            "status_size_invalid",
            f"a status of {bits} bit(s) needs exactly {1 << bits} status messages",
        )
    out = []
    for value, message in enumerate(messages):
        if not isinstance(message, str) or not message:
            raise StatusListError(
                "status_size_invalid", "status messages must be non-empty strings"
            )
        out.append({"status": f"0x{value:x}", "message": message})
    return out


def make_status_list_credential(
    status_list: StatusList,
    *,
    id: str,
    issuer: str,
    purpose: str | Sequence[str],
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    ttl: timedelta | None = None,
    status_messages: Sequence[str] | None = None,
    subject_id: str | None = None,
) -> dict[str, Any]:
    """An unsigned ``BitstringStatusListCredential`` (VC Data Model 2.0) for ``status_list``.

    ``id`` is the URL the credential is published at (the entries'
    ``statusListCredential``); ``purpose`` one purpose or several
    (``revocation``, ``suspension``, ``message``, ...); ``ttl`` becomes
    ``credentialSubject.ttl`` in milliseconds. For purpose ``message``,
    ``status_messages`` (one string per possible value, value 0 first) is
    recorded as ``statusSize``/``statusMessage`` of the list as well; the
    entries must carry them too (see :func:`status_entry`).

    Sign the result with a Data Integrity proof or as a vc+jwt before
    publishing. Raises :class:`StatusListError` for inconsistent arguments.
    """
    purposes = [purpose] if isinstance(purpose, str) else list(purpose)
    if not purposes or not all(isinstance(p, str) and p for p in purposes):
        raise StatusListError("purpose_invalid", "statusPurpose must be one or more strings")
    subject: dict[str, Any] = {
        "id": subject_id or f"{id}#list",
        "type": _LIST_TYPE,
        "statusPurpose": purposes[0] if len(purposes) == 1 else purposes,
        "encodedList": status_list.encode(),
    }
    if status_list.bits_per_status > 1 and status_messages is None:
        raise StatusListError(
            "status_size_invalid", "a list of multi-bit statuses needs status_messages"
        )
    if status_messages is not None:
        subject["statusSize"] = status_list.bits_per_status
        subject["statusMessage"] = _status_message_list(
            status_messages, status_list.bits_per_status
        )
    if ttl is not None:
        ms = int(ttl / timedelta(milliseconds=1))
        if ms <= 0:
            raise StatusListError("ttl_invalid", "ttl must be positive")
        subject["ttl"] = ms
    credential: dict[str, Any] = {
        "@context": [_CONTEXT_V2],
        "id": id,
        "type": ["VerifiableCredential", _LIST_CREDENTIAL_TYPE],
        "issuer": issuer,
    }
    if valid_from is not None:
        credential["validFrom"] = _xml_datetime(valid_from)
    if valid_until is not None:
        credential["validUntil"] = _xml_datetime(valid_until)
    credential["credentialSubject"] = subject
    return credential


def status_entry(
    list_credential_url: str,
    index: int,
    purpose: str,
    *,
    status_size: int = 1,
    status_messages: Sequence[str] | None = None,
    status_reference: str | None = None,
    entry_id: str | None = None,
) -> dict[str, Any]:
    """A ``BitstringStatusListEntry`` for a credential's ``credentialStatus``.

    ``index`` is the credential's position in the list (assign it at random,
    as the spec advises); ``id`` defaults to ``<list url>#<index>`` (never the
    list URL itself, which the spec forbids). ``status_size`` above 1 requires
    ``status_messages`` (one per possible value, value 0 first).
    Raises :class:`StatusListError` for inconsistent arguments.
    """
    bits = _check_status_size(status_size)
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise StatusListError("index_out_of_range", "statusListIndex must be an int >= 0")
    if not isinstance(purpose, str) or not purpose:
        raise StatusListError("purpose_invalid", "statusPurpose must be a non-empty string")
    entry_id = entry_id or f"{list_credential_url}#{index}"
    if entry_id == list_credential_url:
        raise StatusListError("entry_invalid", "the entry id must not be the list's URL")
    entry: dict[str, Any] = {
        "id": entry_id,
        "type": _ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_credential_url,
    }
    if bits > 1 or status_messages is not None:
        if status_messages is None:
            raise StatusListError("status_size_invalid", "statusSize above 1 needs status_messages")
        entry["statusSize"] = bits
        entry["statusMessage"] = _status_message_list(status_messages, bits)
    if status_reference is not None:
        entry["statusReference"] = status_reference
    return entry


# --------------------------------------------------------------------------- verifying


#: What :class:`StatusListResolver` needs to fetch a URL (``did_methods.http.HttpFetcher``
#: satisfies it): the status-list core's one fetcher protocol.
StatusListFetcher = ListFetcher


def _parse_datetime(value: object, name: str) -> datetime:
    """An XML Schema dateTimeStamp (time zone required), as VC DM 2.0 asks."""
    if not isinstance(value, str) or len(value) > 64 or not _DATETIME_RE.fullmatch(value):
        raise StatusCheckError("status_list_invalid", f"{name} is not a dateTimeStamp")
    text = value
    match = _DATETIME_RE.fullmatch(value)
    assert match is not None
    if match.group(7) and len(match.group(7)) > 7:  # keep microseconds for fromisoformat
        text = value[: match.start(7) + 7] + value[match.end(7) :]
    try:
        return utc(datetime.fromisoformat(text))
    except ValueError as exc:
        raise StatusCheckError("status_list_invalid", f"{name} is not a valid date") from exc


def _issuer_id(document: Mapping[str, Any]) -> str | None:
    issuer = document.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) and issuer else None


def _types(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        return tuple(value)
    return ()


@dataclass(frozen=True, slots=True)
class VerifiedStatusList:
    """A status list credential that passed every check of :meth:`StatusListResolver.get`.

    ``bitstring`` is the uncompressed list; ``expires_at`` is when the cached
    copy must be fetched again (``fetched_at`` plus the smaller of ``ttl`` and
    the resolver's ``max_age``).
    """

    url: str
    issuer: str
    purposes: tuple[str, ...]
    bitstring: bytes = field(repr=False)
    valid_from: datetime | None
    valid_until: datetime | None
    ttl: timedelta
    fetched_at: datetime
    expires_at: datetime
    credential: Mapping[str, Any] = field(repr=False)

    def status_list(self, bits_per_status: int = 1) -> StatusList:
        """The list read with entries of ``bits_per_status`` bits.

        Raises :class:`StatusListError` (``list_too_short``) when it holds
        fewer than :data:`MIN_ENTRIES` entries of that width.
        """
        return StatusList.from_bytes(self.bitstring, bits_per_status=bits_per_status)

    def valid_at(self, now: datetime) -> bool:
        """True when ``now`` lies inside ``validFrom`` .. ``validUntil``."""
        now = utc(now)
        if self.valid_from is not None and now < self.valid_from:
            return False
        return not (self.valid_until is not None and now > self.valid_until)


#: Verifies a fetched status list credential; see :class:`StatusListResolver`.
VerifyCredential = Callable[[Mapping[str, Any]], VerificationResult]

#: Failure codes of the list's verification that mean "not a list credential at all".
_UNTRUSTED_CODES: Final = frozenset({"format_unexpected", "not_a_credential", "type_unexpected"})


class StatusListResolver(CachingListResolver[VerifiedStatusList]):
    """Fetches, verifies and caches status list credentials.

    ``fetcher`` fetches URLs (``did_methods.http.HttpFetcher`` in production);
    ``resolver`` resolves the list issuer's DID (default: did:key, did:jwk and
    did:web). The list credential is verified with the pinned
    :func:`credentials.verify.verify_credential` (format ``ldp_vc`` for a JSON
    body, ``jwt_vc_json`` for a compact JWS one; type
    ``BitstringStatusListCredential``); ``verify_credential`` replaces that
    call (e.g. for lists secured otherwise) and must return a
    :class:`~credentials.result.VerificationResult` which the resolver still
    requires to be valid, of kind credential, of the list type and with an
    issuer: the list's issuer is always taken from that verified result, never
    from the document. A verified list is cached until its ``ttl`` (the spec's
    default 5 minutes when absent), never longer than ``max_age``, as measured
    by ``clock``.
    """

    def __init__(
        self,
        fetcher: StatusListFetcher,
        *,
        resolver: MethodResolver | None = None,
        verify_credential: VerifyCredential | None = None,
        max_age: timedelta = DEFAULT_TTL,
        clock: Clock = system_clock,
        max_bytes: int = 4 * 1024 * 1024,
        timeout: float = 10.0,
        max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
        max_cached: int = 1024,
        allow_unprefixed: bool = False,
    ) -> None:
        limits = (max_age, max_bytes, timeout, max_decompressed, max_cached)
        super().__init__(fetcher, clock, *limits)
        self._resolver = resolver
        self._verify = verify_credential
        self._allow_unprefixed = allow_unprefixed

    _ACCEPT = "application/vc+ld+json, application/vc, application/json, application/vc+jwt"
    _WHAT = "status list"
    _CHECK_ERROR = StatusCheckError

    def _cache_until(self, value: VerifiedStatusList, fetched_at: datetime) -> datetime:
        return value.expires_at

    def get(self, url: str, *, now: datetime | None = None) -> VerifiedStatusList:
        """The verified status list credential at ``url``, from cache when still fresh.

        ``now`` is the instant the list must be valid at (default: the clock).
        Raises :class:`StatusCheckError` with code ``status_unavailable`` (fetch
        failed) or ``status_list_invalid`` (malformed, proof failed, wrong type
        or id, outside its validity period, too short, decompression bomb).
        """
        fetched_now = read_clock(self._clock)
        at = fetched_now if now is None else instant(now)
        cached, _ = self._cached_or_load(
            url, fetched_now, lambda: self._fetch_and_verify(url, fetched_now)
        )
        if not cached.valid_at(at):
            raise StatusCheckError(
                "status_list_invalid",
                f"the status list {url} is not valid at {_xml_datetime(at)} (stale)",
            )
        return cached

    def _verify_list(self, secured: Mapping[str, Any] | str, at: datetime) -> object:
        if self._verify is not None:
            if not isinstance(secured, Mapping):
                raise StatusCheckError(
                    "status_list_invalid", "the given verify_credential reads JSON lists only"
                )
            return self._verify(secured)
        from credentials.verify import verify_credential  # verify imports this module

        return verify_credential(
            secured,
            formats=("ldp_vc", "jwt_vc_json"),
            credential_type=_LIST_CREDENTIAL_TYPE,
            resolver=self._resolver,
            now=at,
            check_schema=False,
        )

    def _fetch_and_verify(self, url: str, fetched_at: datetime) -> VerifiedStatusList:
        # Steps: 1 fetch, 2 parse JSON, 3 verify the list's own proof, 4 check
        # type / id / subject, 5 read the validity period and ttl, 6 expand the
        # bitstring (bounded) and check its minimum length.

        # 1. fetch
        body = self._fetch(url)

        # 2. parse: JSON (Data Integrity), or a vc+jwt compact JWS (VC-JOSE)
        secured: Mapping[str, Any] | str
        token = _jws_text(body)
        if token is not None:
            secured = token
        else:
            try:
                parsed = loads_strict(body, max_bytes=self._max_bytes)
            except ParseError as exc:
                raise StatusCheckError(
                    "status_list_invalid", f"the status list {url} is not JSON: {exc}"
                ) from exc
            if not isinstance(parsed, dict):
                raise StatusCheckError(
                    "status_list_invalid", "the status list is not a JSON object"
                )
            secured = parsed

        # 3. the list's own proof, by the pinned call: a credential (never a
        # presentation) of the list type, its issuer taken from what was verified
        try:
            outcome = self._verify_list(secured, fetched_at)
        except SSIWalletError as exc:
            raise StatusCheckError(
                "status_list_invalid", f"the status list's proof did not verify: {exc}"
            ) from exc
        if not isinstance(outcome, VerificationResult):
            raise StatusCheckError(
                "status_list_untrusted", "the status list's verification returned no result"
            )
        if not outcome.ok:
            code = (
                "status_list_untrusted"
                if _UNTRUSTED_CODES.intersection(outcome.codes)
                else "status_list_invalid"
            )
            raise StatusCheckError(
                code, "the status list's proof did not verify: " + ", ".join(outcome.codes)
            )
        issuer = outcome.issuer
        document = outcome.document if isinstance(secured, str) else secured
        if (
            not isinstance(document, Mapping)
            or outcome.kind != "credential"
            or _LIST_CREDENTIAL_TYPE not in outcome.types
            or not issuer
        ):
            raise StatusCheckError(
                "status_list_untrusted",
                f"{url} does not serve a verified {_LIST_CREDENTIAL_TYPE} with an issuer",
            )

        # 4. type, id, subject
        if _LIST_CREDENTIAL_TYPE not in _types(document.get("type")):
            raise StatusCheckError("status_list_invalid", f"{url} is not a {_LIST_CREDENTIAL_TYPE}")
        if "id" in document and document["id"] != url:
            raise StatusCheckError(
                "status_list_invalid", f"the status list at {url} names another id"
            )
        subject = document.get("credentialSubject")
        if not isinstance(subject, dict) or _LIST_TYPE not in _types(subject.get("type")):
            raise StatusCheckError(
                "status_list_invalid", f"the status list subject is not a {_LIST_TYPE}"
            )
        purposes = _types(subject.get("statusPurpose"))
        if not purposes or not all(purposes):
            raise StatusCheckError(
                "status_list_invalid", "statusPurpose must be one or more strings"
            )

        # 5. validity period and ttl
        valid_from = (
            _parse_datetime(document["validFrom"], "validFrom") if "validFrom" in document else None
        )
        valid_until = (
            _parse_datetime(document["validUntil"], "validUntil")
            if "validUntil" in document
            else None
        )
        ttl = DEFAULT_TTL
        if "ttl" in subject:
            raw_ttl = subject["ttl"]
            if not isinstance(raw_ttl, int) or isinstance(raw_ttl, bool) or raw_ttl < 0:
                raise StatusCheckError("status_list_invalid", "ttl must be an integer >= 0")
            ttl = timedelta(milliseconds=min(raw_ttl, 10**12))
        expires_at = cache_until(fetched_at, ttl, self._max_age)

        # 6. bitstring
        try:
            bitstring = decode_bitstring(
                subject.get("encodedList"),  # type: ignore[arg-type]  # checked inside
                max_decompressed=self._max_decompressed,
                allow_unprefixed=self._allow_unprefixed,
            )
            StatusList.from_bytes(bitstring)  # the 131,072-entry floor
        except StatusListError as exc:
            raise StatusCheckError("status_list_invalid", f"{url}: {exc}") from exc

        return VerifiedStatusList(
            url=url,
            issuer=issuer,
            purposes=purposes,
            bitstring=bitstring,
            valid_from=valid_from,
            valid_until=valid_until,
            ttl=ttl,
            fetched_at=fetched_at,
            expires_at=expires_at,
            credential=document,
        )


_JWS_RE: Final = re.compile(rb"\s*([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\s*")


def _jws_text(body: object) -> str | None:
    """The compact JWS a list URL served (a ``vc+jwt`` list credential), if it is one."""
    found = _JWS_RE.fullmatch(bytes(body)) if isinstance(body, bytes | bytearray) else None
    return found.group(1).decode("ascii") if found else None


@dataclass(frozen=True, slots=True)
class _Entry:
    url: str
    index: int
    purpose: str
    size: int
    messages: tuple[str, ...] | None


def _parse_entry(raw: object) -> _Entry:
    """A ``BitstringStatusListEntry``, or StatusCheckError with an entry code."""
    if not isinstance(raw, Mapping):
        raise StatusCheckError("status_entry_invalid", "a credentialStatus entry is not an object")
    if _ENTRY_TYPE not in _types(raw.get("type")):
        raise StatusCheckError(
            "status_unsupported", f"credentialStatus type {raw.get('type')!r} is not supported"
        )
    url = raw.get("statusListCredential")
    if not isinstance(url, str) or not url or len(url) > 2048:
        raise StatusCheckError("status_entry_invalid", "statusListCredential must be a URL")
    purpose = raw.get("statusPurpose")
    if not isinstance(purpose, str) or not purpose:
        raise StatusCheckError("status_entry_invalid", "statusPurpose must be a string")
    raw_index = raw.get("statusListIndex")
    if (
        not isinstance(raw_index, str)
        or len(raw_index) > _MAX_INDEX_DIGITS
        or not _INDEX_RE.fullmatch(raw_index)
    ):
        raise StatusCheckError(
            "status_entry_invalid", "statusListIndex must be a base-10 integer string"
        )
    size = raw.get("statusSize", 1)
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 8:
        raise StatusCheckError("status_entry_invalid", "statusSize must be an integer 1-8")
    messages: tuple[str, ...] | None = None
    raw_messages = raw.get("statusMessage")
    if raw_messages is not None or size > 1:
        if not isinstance(raw_messages, list) or len(raw_messages) != 1 << size:
            raise StatusCheckError(
                "status_entry_invalid", f"statusMessage must list {1 << size} messages"
            )
        by_value: dict[int, str] = {}
        for item in raw_messages:
            if (
                not isinstance(item, Mapping)
                or not isinstance(item.get("status"), str)
                or not _STATUS_HEX_RE.fullmatch(item["status"])
                or not isinstance(item.get("message"), str)
            ):
                raise StatusCheckError(
                    "status_entry_invalid", "statusMessage items need 'status' (0x..) and 'message'"
                )
            by_value[int(item["status"], 16)] = item["message"]
        if sorted(by_value) != list(range(1 << size)):
            raise StatusCheckError(
                "status_entry_invalid", "statusMessage must name every status value once"
            )
        messages = tuple(by_value[v] for v in range(1 << size))
    return _Entry(url, int(raw_index), purpose, size, messages)


def check_status_entries(credential: Mapping[str, Any]) -> None:
    """Refuse, before issuing, a credential whose Bitstring Status List entries are malformed.

    Every ``credentialStatus`` entry of type ``BitstringStatusListEntry`` must
    satisfy the spec's data model: ``statusListIndex`` "an arbitrary size
    integer greater than or equal to 0, expressed as a string in base 10",
    ``statusListCredential`` a URL, ``statusPurpose`` a string, a valid
    ``statusSize``/``statusMessage``. Entries of other types are left to their
    own specs. Raises :class:`~credentials.errors.ValidationError` listing every
    malformed entry by path.
    """
    raw = credential.get("credentialStatus")
    if raw is None:
        return
    entries = raw if isinstance(raw, list) else [raw]
    errors = []
    for i, entry in enumerate(entries):
        path = f"/credentialStatus/{i}" if isinstance(raw, list) else "/credentialStatus"
        if not isinstance(entry, Mapping) or _ENTRY_TYPE not in _types(entry.get("type")):
            continue
        try:
            _parse_entry(entry)
        except StatusCheckError as exc:
            errors.append((path, exc.message))
    if errors:
        raise ValidationError(errors)


def _check_entry(
    entry: _Entry,
    credential_issuer: str | None,
    resolver: StatusListResolver,
    now: datetime | None,
    require_same_issuer: bool,
) -> tuple[int, str | None, VerifiedStatusList]:
    """The entry's status value and message, or StatusCheckError (the validate algorithm)."""
    verified = resolver.get(entry.url, now=now)
    if require_same_issuer and verified.issuer != credential_issuer:
        raise StatusCheckError(
            "status_list_issuer_mismatch",
            f"the status list was issued by {verified.issuer}, not by {credential_issuer}",
        )
    if entry.purpose not in verified.purposes:
        raise StatusCheckError(
            "status_purpose_mismatch",
            f"the status list serves {', '.join(verified.purposes)}, not {entry.purpose}",
        )
    try:
        status_list = verified.status_list(entry.size)
    except StatusListError as exc:
        raise StatusCheckError("status_list_invalid", str(exc)) from exc
    if entry.index >= status_list.length:
        raise StatusCheckError(
            "status_index_out_of_range",
            f"statusListIndex {entry.index} is beyond the list's {status_list.length} entries",
        )
    value = status_list.get(entry.index)
    message = entry.messages[value] if entry.messages is not None else None
    return value, message, verified


def check_status(
    credential: Mapping[str, Any],
    resolver: StatusListResolver,
    *,
    now: datetime | None = None,
    require_same_issuer: bool = True,
) -> Check:
    """The ``status`` check of a credential: every ``credentialStatus`` entry is unset.

    Skipped when the credential has no ``credentialStatus``; otherwise passed
    only when every entry's list was fetched, verified, valid at ``now``,
    issued by the credential's issuer (unless ``require_same_issuer=False``,
    which the spec permits for delegated status authorities; the caller must
    then vet the list's issuer itself) and serves the entry's purpose, and
    the entry's value is 0. Failure codes are listed in the module docstring;
    when several entries fail, the check carries the first failure's code and
    ``details["failures"]`` lists them all. At most 16 entries are checked; more
    is a failure (``status_entry_invalid``). Never raises for bad input.
    """
    if not isinstance(credential, Mapping) or "credentialStatus" not in credential:
        return Check.skipped("status", "the credential has no credentialStatus")
    raw = credential["credentialStatus"]  # present but null or empty fails below
    raw_entries = raw if isinstance(raw, list) else [raw]
    if not raw_entries:
        return Check.failed("status", "status_entry_invalid", "credentialStatus is an empty list")
    issuer = _issuer_id(credential)
    failures: list[dict[str, Any]] = []
    passed: list[str] = []
    for position, raw_entry in enumerate(raw_entries[:16]):
        try:
            entry = _parse_entry(raw_entry)
            value, message, _ = _check_entry(entry, issuer, resolver, now, require_same_issuer)
        except StatusCheckError as exc:
            failures.append({"entry": position, "code": exc.code, "message": exc.message})
            continue
        if value:
            code = _FAILURE_CODE_FOR_PURPOSE.get(entry.purpose, "status_set")
            shown = message or "set"
            failures.append(
                {
                    "entry": position,
                    "code": code,
                    "message": f"{entry.purpose} status at index {entry.index} "
                    f"of {entry.url} is {shown}",
                    "purpose": entry.purpose,
                    "value": value,
                    "status_message": message,
                }
            )
        else:
            passed.append(f"{entry.purpose} status at index {entry.index} is clear")
    if len(raw_entries) > 16:
        failures.append(
            {"entry": 16, "code": "status_entry_invalid", "message": "more than 16 entries"}
        )
    if failures:
        first = failures[0]
        return Check.failed("status", first["code"], first["message"], failures=failures)
    return Check.passed("status", "; ".join(passed))
