"""Helpers shared by the ledger store tests (imported by name: keep this file name unique)."""

from __future__ import annotations

from datetime import UTC, datetime

from pg_support import pg_drop_schema, pg_dsn  # noqa: F401  (the store tests import them from here)

from did_methods._wire.dates import system_clock
from did_methods.keys import PrivateKey
from did_methods.methods.key import did_key_from_public_key
from ledger.entry import EntryDraft, SignedDraft

ORIGIN = "ledger.test/log"
#: A fixed instant for drafts signed at import time.
FIXED = datetime(2026, 6, 1, 12, tzinfo=UTC)


def submitter_of(key: PrivateKey) -> str:
    did = did_key_from_public_key(key.public_key)
    return f"{did}#{did.removeprefix('did:key:')}"


class Submitter:
    """A did:key submitter that signs drafts."""

    def __init__(self, seed: int = 1) -> None:
        self.key = PrivateKey.generate(randbytes=lambda n: bytes([seed]) * n)
        self.did_url = submitter_of(self.key)

    def drafts(
        self, count: int, *, kind: str = "test.entry", tag: str = "", at: datetime | None = None
    ) -> list[SignedDraft]:
        """``count`` signed drafts, stamped now or, for drafts made at import time and
        appended much later, at the fixed instant ``at`` (give the log that clock)."""
        now = system_clock if at is None else (lambda: at)
        return [
            EntryDraft(kind, f"{tag}{i}".encode()).sign(self.key, self.did_url, now=now)
            for i in range(count)
        ]
