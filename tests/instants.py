"""Instants for tests: the APIs take aware datetimes, the wire formats keep seconds.

Tests often fix a signing instant as a NumericDate (the ``iat`` of a JWT) and
judge validity a few seconds either side of it; :func:`utc` turns such a
number into the aware ``datetime`` every ``now`` parameter takes (seconds
given as ``now`` are deprecated and warn).
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utc"]


def utc(numeric_date: float) -> datetime:
    """``numeric_date`` (seconds since the epoch) as an aware UTC datetime."""
    return datetime.fromtimestamp(numeric_date, UTC)
