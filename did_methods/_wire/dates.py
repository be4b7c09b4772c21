"""Time in one shape: an aware ``datetime`` for an instant, one ``Clock`` for reading it.

Every public API of the four packages that asks "when?" takes
``now: datetime | None`` (None reads the system clock) and, where it reads
the time more than once (a log appending, a resolver caching, a verifier
judging freshness), one ``clock: Clock``: a callable returning an aware
``datetime``. The wire formats keep their own units (JWT NumericDate seconds,
ledger entries' Unix milliseconds); the conversions to them live here:

* :func:`instant`: ``now`` as an aware UTC datetime (None reads ``clock``);
* :func:`epoch_seconds` and :func:`to_unix_ms`: an instant as the wire wants it;
* :func:`read_clock`: the instant a clock says.

Older call sites passed seconds since the epoch (``float``) for ``now`` and
clocks returning seconds or Unix milliseconds; those shapes are still read,
with a :class:`DeprecationWarning`, and will go in the next release.

NumericDate (RFC 7519): a date claim that is a bool (``true`` is 1 in
Python), NaN, an infinity, a negative number or one beyond the exact-integer
range of a double must never read as a date: compared with ``now``,
``exp: NaN`` and ``exp: 1e400`` would mean "never expires". Every reader of
``iat``/``nbf``/``exp`` (JWT, SD-JWT, CWT, status list tokens, presentation
requests) asks :func:`is_numeric_date` and refuses with its own typed error
otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Final, Literal, TypeAlias, TypeGuard

from did_methods._wire.renamed import warn_deprecated
from did_methods.errors import ParseError

__all__ = [
    "MAX_NUMERIC_DATE",
    "Clock",
    "epoch_seconds",
    "from_unix_ms",
    "instant",
    "is_numeric_date",
    "iso_instant",
    "read_clock",
    "system_clock",
    "to_unix_ms",
]

#: The latest NumericDate accepted: 2**53 - 1 seconds, the largest integer every
#: JSON implementation reads exactly (I-JSON). Dates past the year 9999 pass (a
#: far expiry is an issuer's choice) but 1e300 and the like do not.
MAX_NUMERIC_DATE: Final = 2**53 - 1

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

#: The one clock type: called with no argument, returns the current instant as
#: an aware ``datetime``. ``system_clock`` is the default everywhere.
Clock: TypeAlias = Callable[[], datetime]


def system_clock() -> datetime:
    """The current instant in UTC: the default :data:`Clock`."""
    return datetime.now(UTC)


def is_numeric_date(value: object) -> TypeGuard[int | float]:
    """True for an ``int`` or finite ``float`` (never a ``bool``) from 0 to
    :data:`MAX_NUMERIC_DATE` seconds since the epoch."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return 0 <= value <= MAX_NUMERIC_DATE


def iso_instant(value: int | float) -> str:
    """A NumericDate as an ISO 8601 instant in UTC to the second (``2028-02-29T23:59:59Z``),
    for people: messages never show raw seconds since the epoch. A value past the
    year 9999 (which :func:`is_numeric_date` lets through) is written as seconds."""
    try:
        return _iso_second(int(value))
    except (OverflowError, OSError, ValueError):
        return f"{value:.0f} seconds after 1970-01-01T00:00:00Z"


# Verifiers write the same validity bounds into every passing check's message.
@lru_cache(maxsize=256)
def _iso_second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _deprecated(subject: str) -> None:
    warn_deprecated(
        f"{subject} is deprecated; pass an aware datetime (a clock: a callable returning one)"
    )


def _utc(moment: datetime, refusal: str) -> datetime:
    """An aware ``moment`` in UTC; a naive one raises :class:`ParseError` with ``refusal``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ParseError(refusal)
    return moment.astimezone(UTC)


def _from_number(value: object, what: str, *, ms: bool) -> datetime:
    if not is_numeric_date(value / 1000 if ms and isinstance(value, int | float) else value):
        raise ParseError(f"{what} must be an aware datetime")
    seconds = float(value) / 1000 if ms else float(value)  # type: ignore[arg-type]
    return datetime.fromtimestamp(seconds, UTC)


def instant(
    now: datetime | float | None, *, clock: Clock | None = None, what: str = "now"
) -> datetime:
    """``now`` as an aware UTC datetime; None reads ``clock`` (the system clock by default).

    A naive datetime is refused with :class:`ParseError` (its instant is
    ambiguous), as is anything that is not a time. Seconds since the epoch
    (the old shape) are still read, with a :class:`DeprecationWarning`.
    """
    if now is None:
        return read_clock(clock or system_clock, what=what)
    if isinstance(now, datetime):
        return _utc(now, f"a datetime for {what!r} must be timezone-aware")
    if isinstance(now, bool) or not isinstance(now, int | float):
        raise ParseError(f"{what!r} must be an aware datetime, not {type(now).__name__}")
    _deprecated(f"{what!r} as seconds since the epoch")
    return _from_number(now, what, ms=False)


def read_clock(clock: Clock, *, what: str = "clock", legacy: Literal["s", "ms"] = "s") -> datetime:
    """The instant ``clock`` says, as an aware UTC datetime.

    A legacy clock that returns a number is read in the unit the API it was
    given to used before (``legacy``: seconds, or Unix milliseconds for the
    ledger's), with a :class:`DeprecationWarning`.
    """
    value: object = clock()
    if isinstance(value, datetime):
        return _utc(value, f"{what} returned a naive datetime")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParseError(f"{what} must return an aware datetime, not {type(value).__name__}")
    ms = legacy == "ms"
    _deprecated(f"a {what} returning {'Unix milliseconds' if ms else 'seconds since the epoch'}")
    return _from_number(value, what, ms=ms)


def epoch_seconds(now: datetime | float | None, *, clock: Clock | None = None) -> float:
    """``now`` (see :func:`instant`) as seconds since the epoch, a JWT NumericDate."""
    return instant(now, clock=clock).timestamp()


def from_unix_ms(ms: int) -> datetime:
    """Whole Unix milliseconds (a ledger entry's timestamp) as an aware UTC datetime, exactly."""
    return _EPOCH + timedelta(milliseconds=ms)


def to_unix_ms(moment: datetime) -> int:
    """An aware datetime as whole Unix milliseconds (the ledger entries' unit)."""
    aware = _utc(moment, "a datetime for a Unix time must be timezone-aware")
    delta = aware - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
