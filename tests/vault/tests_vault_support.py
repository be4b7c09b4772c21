"""Helpers shared by the vault tests (a module name of its own: test folders share sys.path)."""

from __future__ import annotations

import os

import pytest

PG_ENV = "SSI_WALLET_TEST_POSTGRES_DSN"


def pg_dsn_or_skip() -> str:
    """The PostgreSQL DSN, or skip with a message saying how to enable the test."""
    dsn = os.environ.get(PG_ENV)
    if not dsn:
        pytest.skip(f"PostgreSQL vault tests need {PG_ENV}=postgresql://user@host:port/db")
    return dsn
