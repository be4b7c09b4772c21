"""PostgreSQL for the tests: the DSN from the environment, and dropping a test schema.

Imported by name (``tests`` is on the path): keep this file name unique.
"""

from __future__ import annotations

import os

import pytest

PG_ENV = "SSI_WALLET_TEST_POSTGRES_DSN"


def pg_dsn() -> str:
    """The PostgreSQL DSN, or skip the test with a message saying how to enable it."""
    dsn = os.environ.get(PG_ENV)
    if not dsn:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}=postgresql://user@host:port/db")
    return dsn


def pg_drop_schema(dsn: str, schema: str) -> None:
    """Drop ``schema`` and everything in it."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
