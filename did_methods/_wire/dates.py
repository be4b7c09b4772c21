"""NumericDate (RFC 7519): the one test of a seconds-since-the-epoch claim.

A date claim that is a bool (``true`` is 1 in Python), NaN, an infinity, a
negative number or one beyond the exact-integer range of a double must never
read as a date: compared
with ``now``, ``exp: NaN`` and ``exp: 1e400`` would mean "never expires".
Every reader of ``iat``/``nbf``/``exp`` (JWT, SD-JWT, CWT, status list
tokens, presentation requests) asks :func:`is_numeric_date` and refuses with
its own typed error otherwise.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Final, TypeGuard

__all__ = ["MAX_NUMERIC_DATE", "is_numeric_date", "iso_instant"]

#: The latest NumericDate accepted: 2**53 - 1 seconds, the largest integer every
#: JSON implementation reads exactly (I-JSON). Dates past the year 9999 pass (a
#: far expiry is an issuer's choice) but 1e300 and the like do not.
MAX_NUMERIC_DATE: Final = 2**53 - 1


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
        return datetime.fromtimestamp(int(value), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return f"{value:.0f} seconds after 1970-01-01T00:00:00Z"
