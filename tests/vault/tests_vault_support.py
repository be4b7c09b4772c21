"""Helpers shared by the vault tests (a module name of its own: test folders share sys.path)."""

from __future__ import annotations

from pg_support import pg_dsn


def pg_dsn_or_skip() -> str:
    """The PostgreSQL DSN, or skip with a message saying how to enable the test."""
    return pg_dsn()
