"""A vault write and its log entries are one transaction; the vault needs the log's database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from did_methods.keys import PrivateKey
from ledger.log import Log
from ledger.store import MemoryStore, SQLiteStore
from ledger.vault import MasterKey, MasterKeyError, Vault, VaultStoreError
from ledger.vault._backend import SQLiteVaultBackend

ORIGIN = "vault.test/log"
VaultFactory = Callable[..., Vault]


class _FailingWrap:
    """A master key that refuses to wrap subject keys: the failure happens inside the
    log's transaction, after the commitment was placed."""

    def __init__(self, inner: MasterKey) -> None:
        self.inner = inner
        self.fail = False

    @property
    def key_id(self) -> str:
        return self.inner.key_id

    def wrap(self, key: bytes, *, context: bytes) -> bytes:
        if self.fail and context.startswith(b"subject:"):
            raise MasterKeyError("the HSM is down")
        return self.inner.wrap(key, context=context)

    def unwrap(self, wrapped: bytes, *, context: bytes) -> bytes:
        return self.inner.unwrap(wrapped, context=context)


def test_a_failed_put_leaves_no_commitment(open_vault: VaultFactory, master_key: MasterKey) -> None:
    provider = _FailingWrap(master_key)
    vault = open_vault(master_key=provider)
    vault.put("alice", {"name": "Alice"})
    size = vault.log.size
    provider.fail = True
    with pytest.raises(MasterKeyError):
        vault.put("bob", {"name": "Bob"})
    # Neither the commitment nor any row of bob's: the log did not grow.
    assert vault.log.size == size
    check = vault.check()
    assert check.ok and check.subjects == 1 and check.records == 1, check.problems
    # alice's subject key exists already: her next put needs no wrap and succeeds.
    vault.put("alice", {"name": "Alice", "v": 2})
    assert vault.log.size == size + 1


def test_rectify_with_erase_previous_is_one_transaction(open_vault: VaultFactory) -> None:
    vault = open_vault()
    first = vault.put("carol", {"city": "Vilnius"})
    size = vault.log.size
    second = vault.rectify("carol", first.record_id, {"city": "Kaunas"}, erase_previous=True)
    # The new commitment and the old version's tombstone, adjacent.
    assert second.log_index == size and vault.log.size == size + 2
    access = vault.access("carol", log_event=False)
    assert [(r.version, r.record["city"]) for r in access.records] == [(2, "Kaunas")]
    assert [(e.version, e.tombstone_index) for e in access.erased] == [(1, size + 1)]
    assert vault.check().ok


def test_erase_applies_its_tombstones_in_the_same_transaction(
    open_vault: VaultFactory,
) -> None:
    vault = open_vault()
    vault.put("dan", {"a": 1})
    vault.put("dan", {"b": 2})
    before = vault.log.size
    receipt = vault.erase("dan", compact=False)
    assert len(receipt.tombstones) == 2 and receipt.subject_erased
    # Rewind the replay mark to before the tombstones: replaying them finds nothing
    # left to erase, because the erasure's own transaction already did it.
    with vault.backend.transaction() as txn:
        txn.set_meta("replayed_upto", str(before).encode())
    assert vault.replay() == 0
    assert vault.access("dan", log_event=False).status == "erased"


def test_the_vault_refuses_a_log_in_another_database(
    tmp_path: Path, master_key: MasterKey, operator: PrivateKey
) -> None:
    backend = SQLiteVaultBackend(tmp_path / "vault.db")
    try:
        with pytest.raises(VaultStoreError, match="SQL store"):
            Vault(Log(MemoryStore(), origin=ORIGIN), backend, master_key=master_key)
        other = SQLiteStore(tmp_path / "ledger.db")
        try:
            with pytest.raises(VaultStoreError):
                Vault(Log(other, origin=ORIGIN), backend, master_key=master_key, signer=operator)
        finally:
            other.close()
    finally:
        backend.close()
    # The same file for both works.
    same = SQLiteStore(tmp_path / "vault.db")
    backend = SQLiteVaultBackend(tmp_path / "vault.db")
    vault = Vault(Log(same, origin=ORIGIN), backend, master_key=master_key, signer=operator)
    try:
        vault.put("erin", {"x": 1})
        assert vault.check().ok
    finally:
        vault.close()


def test_the_memory_vault_refuses_a_log_in_a_sql_store(
    tmp_path: Path, master_key: MasterKey, operator: PrivateKey
) -> None:
    from ledger.vault.memory import MemoryVaultBackend

    store = SQLiteStore(tmp_path / "ledger.db")
    try:
        with pytest.raises(VaultStoreError, match="memory store"):
            Vault(Log(store, origin=ORIGIN), MemoryVaultBackend(), master_key=master_key)
    finally:
        store.close()


def test_a_failed_memory_write_leaves_the_memory_vault_as_it_was(
    master_key: MasterKey, operator: PrivateKey
) -> None:
    from ledger.vault.memory import MemoryVaultBackend

    backend = MemoryVaultBackend()
    vault = Vault(
        Log(MemoryStore(), origin=ORIGIN), backend, master_key=master_key, signer=operator
    )
    with pytest.raises(RuntimeError), backend.transaction() as txn:
        vault_put_probe = txn.records()
        txn.set_meta("probe", b"staged")
        raise RuntimeError("the block fails")
    with backend.read() as txn:
        assert "probe" not in txn.meta() and txn.records() == vault_put_probe
    vault.put("erin", {"x": 1})
    assert vault.check().ok


def test_open_reads_the_origin_from_the_store(tmp_path: Path, master_key: MasterKey) -> None:
    db = tmp_path / "registry.db"
    Vault.open(db, master_key=master_key, origin="registry.example/log").close()
    with Vault.open(db, master_key=master_key) as again:
        assert again.log.origin == "registry.example/log"
