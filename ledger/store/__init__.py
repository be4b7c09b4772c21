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
    "POSTGRES_SCHEMES",
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
    "is_postgres_dsn",
    "open_store",
]


def __getattr__(name: str) -> Any:
    # PostgresStore's module is light, but keep the import lazy anyway so a
    # broken psycopg install can never break SQLite users.
    if name == "PostgresStore":
        from ledger.store.postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: The URL schemes of a PostgreSQL DSN; any other target is a SQLite file path.
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_dsn(target: str) -> bool:
    """Whether ``target`` names a PostgreSQL database rather than a SQLite file."""
    return target.startswith(POSTGRES_SCHEMES)


def open_store(
    target: str, *, read_only: bool = False, create: bool = True, schema: str | None = None
) -> Store:
    """Open a store by name: ``:memory:``, a PostgreSQL DSN (``postgresql://...``,
    ``postgres://...``, its tables in ``schema``, default ``ssi_ledger``) or else
    the path of a SQLite file.

    ``read_only=True`` opens an existing ledger for reading only (a SQLite
    ``mode=ro`` file, a read-only PostgreSQL session): nothing is created or
    written. ``create=False`` opens an existing ledger for writing but never
    creates one. Either raises :class:`~ledger.errors.NotALedgerError` when
    the target holds no ledger (or holds something else); a memory store
    cannot be opened so and raises :class:`~ledger.errors.LedgerStoreError`.
    """
    if target == ":memory:":
        if read_only or not create:
            raise LedgerStoreError("a memory store holds no existing ledger to open")
        return MemoryStore()
    if is_postgres_dsn(target):
        from ledger.store.postgres import PostgresStore

        if schema is None:
            return PostgresStore(target, read_only=read_only, create=create)
        return PostgresStore(target, schema=schema, read_only=read_only, create=create)
    return SQLiteStore(target, read_only=read_only, create=create)
