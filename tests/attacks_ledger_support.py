"""Shared helpers of the ledger and vault attack tests (tests/attacks/test_attacks_ledger.py,
tests/attacks/test_attacks_vault.py): a settable clock, ledgers on every store, the
attacker's tools (a hostile log writer that skips the log's own checks) and file hashes.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from ledger_registry.ledger_registry_support import FakeClock

from did_methods._wire.dates import from_unix_ms
from did_methods.keys import KeyType, PrivateKey
from ledger.entry import SignedDraft
from ledger.facade import Ledger
from ledger.log import Log
from ledger.registry import Signer
from ledger.store import MemoryStore, Store

ORIGIN = "attacks.example/ledger"
MINUTE_MS = 60_000
#: The log's clock-skew window (ledger.log.DEFAULT_MAX_CLOCK_SKEW_MS), in ms.
SKEW_MS = 10 * MINUTE_MS


class Clock(FakeClock):
    """Unix ms that move only when told to (from ``START_MS``)."""

    def at(self, offset_ms: int) -> datetime:
        """The instant ``offset_ms`` from now."""
        return from_unix_ms(self.ms + offset_ms)


def ed25519() -> PrivateKey:
    return PrivateKey.generate(KeyType.ED25519)


def pg_dsn() -> str | None:
    return os.environ.get("SSI_WALLET_TEST_POSTGRES_DSN")


def pg_schema() -> str:
    """A fresh schema name for one test."""
    return "atk_" + uuid.uuid4().hex[:12]


def pg_drop(schema: str) -> None:
    dsn = pg_dsn()
    if dsn is None:
        return
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def pg_schema_exists(schema: str) -> bool:
    import psycopg

    dsn = pg_dsn()
    assert dsn is not None
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (schema,)
        ).fetchone()
    return row is not None


needs_pg = pytest.mark.skipif(
    pg_dsn() is None,
    reason="PostgreSQL attack tests need SSI_WALLET_TEST_POSTGRES_DSN=postgresql://...",
)

#: The stores every log attack runs on; "postgresql" needs the DSN.
STORES = ["memory", "sqlite", pytest.param("postgresql", marks=needs_pg)]


@contextmanager
def open_ledger(kind: str, tmp: Path, clock: Clock, key: PrivateKey) -> Iterator[Ledger]:
    """A ledger on a store of ``kind`` ("memory", "sqlite", "postgresql"), operated by ``key``."""
    if kind == "memory":
        with Ledger.open(":memory:", key=key, origin=ORIGIN, clock=clock) as led:
            yield led
        return
    if kind == "sqlite":
        with Ledger.open(tmp / "ledger.db", key=key, origin=ORIGIN, clock=clock) as led:
            yield led
        return
    dsn = pg_dsn()
    assert dsn is not None
    schema = pg_schema()
    try:
        with Ledger.open(dsn, key=key, origin=ORIGIN, clock=clock, schema=schema) as led:
            yield led
    finally:
        pg_drop(schema)


def hostile_log(store: Store) -> Log:
    """The log as a compromised operator writes it: no signature, clock or order checks.

    The store itself still refuses a replayed identity; :class:`ForgetfulStore`
    does not.
    """
    return Log(store, origin=ORIGIN, verify_signatures=False, max_clock_skew_ms=None)


class ForgetfulStore(MemoryStore):
    """A memory store whose operator lets replays in: it never finds a stored identity,
    as a log written before identities were recorded (or rewritten by hand) would."""

    @contextmanager
    def write(self) -> Iterator[Any]:  # type: ignore[override]
        with super().write() as writer:
            yield _ForgetfulWriter(writer)


class _ForgetfulWriter:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def existing_identities(self, identities: Sequence[bytes]) -> set[bytes]:
        return set()

    def put_identities(self, rows: Sequence[tuple[bytes, int]]) -> None:
        return None


def signed(signer: Signer, kind: str, payload: dict[str, object], at_ms: int) -> SignedDraft:
    """An entry draft signed by ``signer`` claiming the time ``at_ms``."""
    return signer.sign(kind, payload, now=lambda: from_unix_ms(at_ms))


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes ("" when it does not exist)."""
    if not path.exists():
        return ""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_state(path: Path) -> tuple[str, str, str]:
    """Hashes of a SQLite file and of its -wal and -shm companions."""
    return (
        file_hash(path),
        file_hash(Path(str(path) + "-wal")),
        file_hash(Path(str(path) + "-shm")),
    )


def foreign_sqlite(path: Path) -> Path:
    """A SQLite file of another application (a wallet-like table and a row)."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, blob BLOB NOT NULL)")
        conn.execute("INSERT INTO items (blob) VALUES (x'00ff')")
    conn.close()
    return path


def table_names(path: Path) -> set[str]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        rows: Sequence[tuple[str]] = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        ).fetchall()
    conn.close()
    return {r[0] for r in rows}
