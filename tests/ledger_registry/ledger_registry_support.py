"""Helpers of the registry tests: a settable clock shared by the log and the signers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

#: 2026-03-01T00:00:00Z in Unix ms: the start of every test clock.
START_MS = 1_772_323_200_000


class FakeClock:
    """A clock in Unix ms that only moves when told to."""

    def __init__(self, ms: int = START_MS) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms

    def advance(self, **delta: float) -> datetime:
        self.ms += int(timedelta(**delta).total_seconds() * 1000)
        return self.now

    @property
    def now(self) -> datetime:
        return datetime.fromtimestamp(self.ms / 1000, tz=UTC)
