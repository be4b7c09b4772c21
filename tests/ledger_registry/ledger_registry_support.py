"""Helpers of the registry tests: a settable clock shared by the log and the signers."""

from __future__ import annotations

from datetime import datetime, timedelta

from did_methods._wire.dates import from_unix_ms

#: 2026-03-01T00:00:00Z in Unix ms: the start of every test clock.
START_MS = 1_772_323_200_000


class FakeClock:
    """A clock that only moves when told to; it keeps Unix ms (``ms``), the unit of
    an entry's timestamp, and returns the instant as an aware datetime."""

    def __init__(self, ms: int = START_MS) -> None:
        self.ms = ms

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.ms += int(timedelta(**delta).total_seconds() * 1000)
        return self.now

    @property
    def now(self) -> datetime:
        return from_unix_ms(self.ms)
