"""Fixtures for the ledger store tests: keys, drafts and one store of each backend."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ledger_store_support import ORIGIN, Submitter, pg_drop_schema, pg_dsn

from did_methods.keys import PrivateKey
from ledger.checkpoint import NoteSigner
from ledger.store import MemoryStore, SQLiteStore, Store


@pytest.fixture(scope="session")
def alice() -> Submitter:
    return Submitter(1)


@pytest.fixture(scope="session")
def bob() -> Submitter:
    return Submitter(2)


@pytest.fixture(scope="session")
def note_signer() -> NoteSigner:
    return NoteSigner(ORIGIN, PrivateKey.generate(randbytes=lambda n: b"\x07" * n))


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.db"


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    """A fresh PostgreSQL schema (dropped afterwards) and the DSN."""
    dsn = pg_dsn()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        yield dsn, schema
    finally:
        pg_drop_schema(dsn, schema)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """A factory of stores over ONE backing log per test (each call opens a new handle)."""
    opened: list[Store] = []
    if request.param == "memory":
        shared = MemoryStore()

        def make() -> Store:
            return shared

    elif request.param == "sqlite":
        path = tmp_path / "ledger.db"

        def make() -> Store:
            store = SQLiteStore(path)
            opened.append(store)
            return store

    else:
        dsn = pg_dsn()
        schema = f"t_{uuid.uuid4().hex[:16]}"
        from ledger.store import PostgresStore

        def make() -> Store:
            store = PostgresStore(dsn, schema=schema)
            opened.append(store)
            return store

    yield make
    for store in opened:
        store.close()
    if request.param == "postgres":
        pg_drop_schema(dsn, schema)


@pytest.fixture
def store(store_factory: Callable[[], Store]) -> Store:
    return store_factory()
