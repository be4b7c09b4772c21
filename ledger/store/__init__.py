"""Stores for the ledger's log: in memory, SQLite (the default) and PostgreSQL.

Every store implements :class:`Store`. :class:`PostgresStore` imports
psycopg only when it is first built, so SQLite users need no driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.errors import LedgerStoreError
from ledger.store._base import (
    SCHEMA_VERSION,
    NodeID,
    NodeRow,
    Store,
    StoredCheckpoint,
    StoreWriter,
    Tail,
)
from ledger.store.memory import MemoryStore
from ledger.store.sqlite import SQLiteStore

if TYPE_CHECKING:
    from ledger.store.postgres import PostgresStore

__all__ = [
    "SCHEMA_VERSION",
    "MemoryStore",
    "NodeID",
    "NodeRow",
    "PostgresStore",
    "SQLiteStore",
    "Store",
    "StoreWriter",
    "StoredCheckpoint",
    "Tail",
    "open_store",
]


def __getattr__(name: str) -> Any:
    # PostgresStore's module is light, but keep the import lazy anyway so a
    # broken psycopg install can never break SQLite users.
    if name == "PostgresStore":
        from ledger.store.postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_store(target: str, *, read_only: bool = False) -> Store:
    """Open a store by name: ``:memory:``, a PostgreSQL DSN (``postgresql://...``,
    ``postgres://...``) or else the path of a SQLite file.

    ``read_only=True`` opens an existing SQLite file read-only (see
    :class:`SQLiteStore`); for the other stores it raises
    :class:`~ledger.errors.LedgerStoreError`.
    """
    if read_only:
        if target == ":memory:" or target.startswith(("postgresql://", "postgres://")):
            raise LedgerStoreError("read-only opening is for SQLite files")
        return SQLiteStore(target, read_only=True)
    if target == ":memory:":
        return MemoryStore()
    if target.startswith(("postgresql://", "postgres://")):
        from ledger.store.postgres import PostgresStore

        return PostgresStore(target)
    return SQLiteStore(target)
