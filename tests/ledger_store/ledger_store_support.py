"""Helpers shared by the ledger store tests (imported by name: keep this file name unique)."""

from __future__ import annotations

import os

import pytest

from did_methods.keys import PrivateKey
from did_methods.methods.key import did_key_from_public_key
from ledger.entry import EntryDraft, SignedDraft

PG_ENV = "SSI_WALLET_TEST_POSTGRES_DSN"
ORIGIN = "ledger.test/log"


def pg_dsn() -> str:
    """The PostgreSQL DSN, or skip the test with a message saying how to enable it."""
    dsn = os.environ.get(PG_ENV)
    if not dsn:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}=postgresql://user@host:port/db")
    return dsn


def pg_drop_schema(dsn: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def submitter_of(key: PrivateKey) -> str:
    did = did_key_from_public_key(key.public_key)
    return f"{did}#{did.removeprefix('did:key:')}"


class Submitter:
    """A did:key submitter that signs drafts."""

    def __init__(self, seed: int = 1) -> None:
        self.key = PrivateKey.generate(randbytes=lambda n: bytes([seed]) * n)
        self.did_url = submitter_of(self.key)

    def drafts(self, count: int, *, kind: str = "test.entry", tag: str = "") -> list[SignedDraft]:
        return [
            EntryDraft(kind, f"{tag}{i}".encode()).sign(self.key, self.did_url)
            for i in range(count)
        ]
