"""The status-list core under both encodings (private).

:mod:`credentials.status_list` (W3C Bitstring Status List) and
:mod:`credentials.token_status_list` (IETF Token Status List) are two
encodings of one thing: a packed array of fixed-width entries, published
compressed, fetched, verified and cached by relying parties. What they share
lives here, written once:

* :class:`PackedEntries`, the bit array: entries of 1-8 bits, bounds-checked
  ``get``/``set``/``clear``, in either bit order (W3C: index 0 is the most
  significant bit of byte 0; IETF: the least significant);
* :func:`inflate_bounded`, one bounded decompressor for GZIP (W3C) and ZLIB
  (IETF) that stops as soon as its output passes the cap (the CWT barcodes of
  :mod:`credentials.barcode` inflate through it too), and
  :func:`max_encoded_length`, the longest base64url text that can hold a
  list within that cap (a longer one is refused before decoding);
* :class:`CachingListResolver`, the relying party's base: fetch through a
  replaceable fetcher, keep each verified list per URL in a bounded LRU cache
  until :func:`cache_until` (the list's ``ttl``, never longer than
  ``max_age`` nor past a hard expiry such as a token's ``exp``);
* :func:`utc`, reading a list's own dates in UTC (the clock and ``now`` are
  :mod:`did_methods._wire.dates`'s).

Each encoding keeps its own public error type (a subclass of
:class:`StatusListCoreError`, so codes and messages stay as documented), its
wire format and its verification rules.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Final, Generic, Literal, TypeGuard, TypeVar

from credentials._cache import ExpiringCache
from did_methods._wire.dates import Clock
from did_methods.errors import ParseError, SSIWalletError, VerificationError
from did_methods.http import Fetcher, fetch_checked

__all__ = [
    "DEFAULT_MAX_DECOMPRESSED",
    "CachingListResolver",
    "ListFetcher",
    "PackedEntries",
    "StatusListCoreError",
    "cache_until",
    "inflate_bounded",
    "is_int",
    "max_encoded_length",
    "utc",
]

#: Default cap on a decompressed list (16 MiB = 134 million 1-bit entries).
DEFAULT_MAX_DECOMPRESSED: Final = 16 * 1024 * 1024

_CHUNK: Final = 1 << 20
#: zlib ``wbits`` per container: 16 + 15 is the GZIP wrapper only, 15 the ZLIB one.
_WBITS: Final = {"GZIP": (31, "member"), "ZLIB": (15, "stream")}


class StatusListCoreError(ParseError):
    """A status list, an index into it or a value for it is malformed; ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def is_int(value: object) -> TypeGuard[int]:
    """True for an ``int`` that is not a ``bool``."""
    return isinstance(value, int) and not isinstance(value, bool)


def utc(value: datetime) -> datetime:
    """``value`` in UTC (a naive datetime is read as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --------------------------------------------------------------------------- bit array


def read_entry(data: bytes | bytearray, bits: int, position: int, msb_first: bool) -> int:
    """The ``bits``-wide entry starting at bit ``position`` of ``data`` (no bounds check)."""
    byte = position >> 3
    shift = position & 7
    mask = (1 << bits) - 1
    if shift + bits <= 8:  # inside one byte: every IETF width, W3C widths dividing 8
        if msb_first:
            return (data[byte] >> (8 - bits - shift)) & mask
        return (data[byte] >> shift) & mask
    if msb_first:  # straddles two bytes (W3C widths 3, 5, 6, 7)
        return (((data[byte] << 8) | data[byte + 1]) >> (16 - bits - shift)) & mask
    return ((data[byte] | (data[byte + 1] << 8)) >> shift) & mask


def _write_straddling(data: bytearray, bits: int, position: int, value: int, msb: bool) -> None:
    """Write an entry that crosses a byte boundary (W3C widths 3, 5, 6, 7)."""
    byte = position >> 3
    shift = position & 7
    mask = (1 << bits) - 1
    if msb:
        at = 16 - bits - shift
        pair = ((data[byte] << 8) | data[byte + 1]) & ~(mask << at) & 0xFFFF | (value << at)
        data[byte], data[byte + 1] = pair >> 8, pair & 0xFF
    else:
        pair = (data[byte] | (data[byte + 1] << 8)) & ~(mask << shift) & 0xFFFF | (value << shift)
        data[byte], data[byte + 1] = pair & 0xFF, pair >> 8


class PackedEntries:
    """A mutable array of ``count`` entries, each ``bits`` wide, packed into bytes.

    Subclasses name the bit order (``_MSB_FIRST``) and the error type they
    raise; they validate their own constructor arguments and call
    :meth:`_init`. Indices run from 0 to ``count - 1``; any other index
    raises ``index_out_of_range``, a value that does not fit
    ``value_out_of_range``.
    """

    __slots__ = ("_bits", "_count", "_data", "_msb")

    _MSB_FIRST: ClassVar[bool]
    _ERROR: ClassVar[type[StatusListCoreError]]

    _bits: int
    _count: int
    _data: bytearray
    _msb: bool

    def _init(self, data: bytearray, bits: int, count: int) -> None:
        self._data = data
        self._bits = bits
        self._count = count
        self._msb = self._MSB_FIRST  # a slot: read faster than the class attribute

    def _position(self, index: object) -> int:
        if not is_int(index):
            raise self._ERROR("index_out_of_range", f"index must be an int, not {index!r:.40}")
        if not 0 <= index < self._count:
            raise self._ERROR(
                "index_out_of_range", f"index {index} is outside 0..{self._count - 1}"
            )
        return index * self._bits

    def get(self, index: int) -> int:
        """The value of entry ``index`` (0 .. 2**bits - 1)."""
        position = self._position(index)
        bits = self._bits
        shift = position & 7
        if shift + bits > 8:
            return read_entry(self._data, bits, position, self._msb)
        # inside one byte: read_entry's first case, inlined (the hot path)
        at = 8 - bits - shift if self._msb else shift
        return (self._data[position >> 3] >> at) & ((1 << bits) - 1)

    def set(self, index: int, value: int = 1) -> None:
        """Set entry ``index`` to ``value`` (1 by default: revoked / ``INVALID``).

        Raises the list's error type for an index out of range or a value
        that does not fit in the entry's bits.
        """
        position = self._position(index)
        bits = self._bits
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < (1 << bits):
            raise self._ERROR(
                "value_out_of_range", f"value {value!r:.40} does not fit in {bits} bit(s)"
            )
        shift = position & 7
        if shift + bits > 8:
            _write_straddling(self._data, bits, position, value, self._msb)
            return
        # inside one byte (the hot path: every IETF width, W3C widths dividing 8)
        at = 8 - bits - shift if self._msb else shift
        byte = position >> 3
        data = self._data
        data[byte] = (data[byte] & ~(((1 << bits) - 1) << at) & 0xFF) | (value << at)

    def clear(self, index: int) -> None:
        """Set entry ``index`` back to zero (e.g. lift a suspension)."""
        self.set(index, 0)

    def set_indices(self) -> Iterator[int]:
        """The indices of every non-zero entry, in increasing order."""
        bits = self._bits
        last_seen = -1
        for byte_index, byte in enumerate(self._data):
            if not byte:
                continue
            # widths that do not divide 8 (3, 5, ...) let an entry straddle
            # two bytes, so an entry may be reached from both: yield it once
            first = max(byte_index * 8 // bits, last_seen + 1)
            last = min(((byte_index + 1) * 8 - 1) // bits, self._count - 1)
            for index in range(first, last + 1):
                if read_entry(self._data, bits, index * bits, self._msb):
                    yield index
            last_seen = max(last_seen, last)

    def to_bytes(self) -> bytes:
        """The uncompressed byte array."""
        return bytes(self._data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self._bits == other._bits and self._data == other._data

    __hash__ = None  # type: ignore[assignment]  # mutable


# --------------------------------------------------------------------------- inflate


def max_encoded_length(cap: int) -> int:
    """The longest base64url text whose bytes can decompress to at most ``cap`` bytes.

    DEFLATE never grows data by more than its stored-block overhead (5 bytes
    per 64 KiB, under 0.01%) plus a GZIP or ZLIB header and trailer (at most
    18 bytes), so a longer text cannot hold a list within the cap.
    """
    return (cap + cap // 1000 + 64) * 4 // 3 + 4


def inflate_bounded(
    compressed: bytes,
    cap: int,
    *,
    container: Literal["GZIP", "ZLIB"],
    field: str,
    error: type[StatusListCoreError],
) -> bytes:
    """Decompress exactly one GZIP member or ZLIB stream, refusing output beyond ``cap`` bytes.

    ``max_length`` bounds each step's output, so a bomb is stopped after at
    most ``cap + 1`` bytes of work however small its input. Raises ``error``
    with code ``decompression_bomb`` (beyond the cap) or ``encoding_invalid``
    (not that container, truncated, or data after it); ``field`` names the
    value in messages.
    """
    wbits, unit = _WBITS[container]
    inflater = zlib.decompressobj(wbits=wbits)  # header and checksum trailer required
    chunks: list[bytes] = []
    total = 0
    pending = compressed
    try:
        while True:
            chunk = inflater.decompress(pending, min(_CHUNK, cap + 1 - total))
            total += len(chunk)
            if total > cap:
                raise error("decompression_bomb", f"{field} expands beyond {cap} bytes")
            chunks.append(chunk)
            if inflater.eof:
                break
            pending = inflater.unconsumed_tail
            if not pending and not chunk:
                raise error("encoding_invalid", f"{field} {container} data is truncated")
    except zlib.error as exc:
        raise error("encoding_invalid", f"{field} is not {container} data: {exc}") from exc
    if inflater.unused_data:
        raise error("encoding_invalid", f"{field} has data after the {container} {unit}")
    return b"".join(chunks)


# --------------------------------------------------------------------------- resolving


#: What a status-list resolver fetches through: the one :class:`~did_methods.http.Fetcher`
#: protocol (``did_methods.http.HttpFetcher`` is one), whose implementations raise
#: :class:`~did_methods.http.FetchError` on every failure.
ListFetcher = Fetcher


def cache_until(
    fetched_at: datetime,
    ttl: timedelta | None,
    max_age: timedelta,
    expires_at: datetime | None = None,
) -> datetime:
    """The one cache rule: keep a list for its ``ttl`` (``max_age`` when it names none),
    never longer than ``max_age``, and never past ``expires_at`` (a token's ``exp``)."""
    until = fetched_at + min(max_age if ttl is None else ttl, max_age)
    return until if expires_at is None else min(until, expires_at)


V = TypeVar("V")


class CachingListResolver(Generic[V]):
    """Fetches lists through ``fetcher`` and keeps each verified one per URL.

    At most ``max_cached`` lists are kept (least recently used first out),
    each until the instant :meth:`_cache_until` names, as measured by
    ``clock``; safe to share between threads. Subclasses verify what was
    fetched (:meth:`_load`) and decide whether a list is usable at the
    caller's instant.
    """

    _ACCEPT: ClassVar[str]
    _WHAT: ClassVar[str]
    _CHECK_ERROR: ClassVar[type[VerificationError]]

    def __init__(
        self,
        fetcher: ListFetcher,
        clock: Clock,
        max_age: timedelta,
        max_bytes: int,
        timeout: float,
        max_decompressed: int,
        max_cached: int,
    ) -> None:
        self._fetcher = fetcher
        self._clock = clock
        self._max_age = max_age
        self._max_bytes = max_bytes
        self._timeout = timeout
        self._max_decompressed = max_decompressed
        self._cache: ExpiringCache[V] = ExpiringCache(max_cached)

    def clear_cache(self) -> None:
        """Forget every cached list."""
        self._cache.clear()

    def _cache_until(self, value: V, fetched_at: datetime) -> datetime:
        raise NotImplementedError

    def _cached_or_load(
        self, url: str, fetched_at: datetime, load: Callable[[], V]
    ) -> tuple[V, bool]:
        """The list for ``url`` and whether it came from the cache (else ``load`` ran)."""
        value = self._cache.get(url, fetched_at)
        if value is not None:
            return value, True
        value = load()
        self._cache.put(url, value, self._cache_until(value, fetched_at))
        return value, False

    def _fetch(self, url: str) -> bytes:
        """The body at ``url``; a failure is a ``status_unavailable`` check error."""
        try:
            return fetch_checked(
                self._fetcher, url, max_bytes=self._max_bytes, timeout=self._timeout,
                accept=self._ACCEPT,
            )  # fmt: skip
        except SSIWalletError as exc:  # FetchError, or what a non-conforming fetcher raised
            raise self._CHECK_ERROR(
                "status_unavailable", f"could not fetch the {self._WHAT} {url[:200]}: {exc}"
            ) from exc
