"""Instants for tests: the APIs take aware datetimes, the wire formats keep seconds.

Tests often fix a signing instant as a NumericDate (the ``iat`` of a JWT) and
judge validity a few seconds either side of it; :func:`utc` turns such a
number into the aware ``datetime`` every ``now`` parameter takes (seconds
given as ``now`` are deprecated and warn). :func:`from_now_iso` gives a
command line an instant ahead of the wall clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["day_from_today", "from_now_iso", "utc"]


def utc(numeric_date: float) -> datetime:
    """``numeric_date`` (seconds since the epoch) as an aware UTC datetime."""
    return datetime.fromtimestamp(numeric_date, UTC)


def from_now_iso(days: int) -> str:
    """The wall clock ``days`` ahead, as an ISO 8601 UTC instant for a command line
    (``--exp``): a fixed future date in a test fails from that day on."""
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_from_today(days: int) -> str:
    """The wall clock's date ``days`` away (negative: in the past), as an ISO 8601
    date for a document claim (``issueDate``, ``expiryDate``) of a credential a
    test issues and keeps at the wall clock."""
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()
