"""Fixtures for the vault tests: keys, a log signer, and vaults on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests_vault_support import pg_dsn_or_skip as pg_dsn

from did_methods.keys import PrivateKey
from ledger.checkpoint import NoteSigner
from ledger.vault import MasterKey, Vault

ORIGIN = "vault.test/log"


def pg_drop_schema(dsn: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(scope="session")
def operator() -> PrivateKey:
    """The vault operator's key: signs the vault's log entries."""
    return PrivateKey.generate(randbytes=lambda n: b"\x07" * n)


@pytest.fixture(scope="session")
def log_signer() -> NoteSigner:
    """The log's checkpoint key."""
    return NoteSigner(ORIGIN, PrivateKey.generate(randbytes=lambda n: b"\x09" * n))


@pytest.fixture
def master_key() -> MasterKey:
    return MasterKey.generate()


VaultFactory = Callable[..., Vault]


@pytest.fixture
def open_sqlite_vault(
    tmp_path: Path, operator: PrivateKey, log_signer: NoteSigner, master_key: MasterKey
) -> Iterator[VaultFactory]:
    """Open (or reopen) the vault in ``tmp_path/registry.db``; closed at teardown."""
    opened: list[Vault] = []

    def factory(**options: Any) -> Vault:
        options.setdefault("master_key", master_key)
        options.setdefault("signer", operator)
        options.setdefault("checkpoint_signer", log_signer)
        options.setdefault("origin", ORIGIN)
        vault = Vault.open(tmp_path / "registry.db", **options)
        opened.append(vault)
        return vault

    yield factory
    for vault in opened:
        try:
            vault.close()
        except Exception:
            pass


@pytest.fixture
def open_pg_vault(
    operator: PrivateKey, log_signer: NoteSigner, master_key: MasterKey
) -> Iterator[VaultFactory]:
    """Open the vault in a fresh PostgreSQL schema; the schema is dropped at teardown."""
    dsn = pg_dsn()
    schema = "vault_test_" + uuid.uuid4().hex[:12]
    opened: list[Vault] = []

    def factory(**options: Any) -> Vault:
        options.setdefault("master_key", master_key)
        options.setdefault("signer", operator)
        options.setdefault("checkpoint_signer", log_signer)
        options.setdefault("origin", ORIGIN)
        vault = Vault.open(dsn, schema=schema, **options)
        opened.append(vault)
        return vault

    yield factory
    for vault in opened:
        try:
            vault.close()
        except Exception:
            pass
    pg_drop_schema(dsn, schema)


@pytest.fixture
def open_memory_vault(
    operator: PrivateKey, log_signer: NoteSigner, master_key: MasterKey
) -> VaultFactory:
    """Open (or reopen) a vault over one memory store and one memory vault backend."""
    from ledger.log import Log
    from ledger.store import MemoryStore
    from ledger.vault.memory import MemoryVaultBackend

    store, backend = MemoryStore(), MemoryVaultBackend()

    def factory(**options: Any) -> Vault:
        options.setdefault("master_key", master_key)
        options.setdefault("signer", operator)
        log = Log(
            store,
            origin=options.pop("origin", ORIGIN),
            signer=options.pop("checkpoint_signer", log_signer),
            **({"clock": options["clock"]} if "clock" in options else {}),
        )
        return Vault(log, backend, **options)

    return factory


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def open_vault(request: pytest.FixtureRequest) -> VaultFactory:
    """Every backend: the PostgreSQL one skips without a DSN."""
    if request.param == "memory":
        return request.getfixturevalue("open_memory_vault")  # type: ignore[no-any-return]
    if request.param == "postgres":
        return request.getfixturevalue("open_pg_vault")  # type: ignore[no-any-return]
    return request.getfixturevalue("open_sqlite_vault")  # type: ignore[no-any-return]
