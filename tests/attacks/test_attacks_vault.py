"""Attacks on the vault (issue 10, items 9 and 10): another ledger's backup, a backup that
would wipe or resurrect records, and commands that create a vault where there is none.
Each test asserts the exact refusal code.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cbor2
import pytest
from attacks_ledger_support import (
    ORIGIN,
    ed25519,
    files_state,
    foreign_sqlite,
    needs_pg,
    pg_drop,
    pg_dsn,
    pg_schema,
    table_names,
)
from click.testing import CliRunner

from did_methods.keyfile import write_key_file
from ledger import Ledger, NotALedgerError
from ledger.vault import (
    BackupRefused,
    MasterKey,
    NotAVaultError,
    SubjectNotFound,
    Vault,
)
from ssi_wallet.cli import cli

AMINA = "LT-ASY-2024-000123"
OMAR = "LT-ASY-2024-000456"


@pytest.fixture
def master() -> MasterKey:
    return MasterKey.generate()


def _vault(path: Path, master: MasterKey, **options: Any) -> Vault:
    options.setdefault("signer", ed25519())
    return Vault.open(path, master_key=master, origin=ORIGIN, **options)


@pytest.fixture
def two_ledgers(tmp_path: Path, master: MasterKey) -> Iterator[tuple[Vault, Vault]]:
    """Two ledgers (same origin, same master key: the worst case), each with a vault."""
    a = _vault(tmp_path / "a.db", master)
    b = _vault(tmp_path / "b.db", master)
    yield a, b
    a.close()
    b.close()


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


# -- another origin (backup_other_ledger, backup_other_vault) -----------------------------


def test_backup_of_another_ledger_is_refused_and_changes_nothing(
    two_ledgers: tuple[Vault, Vault], tmp_path: Path
) -> None:
    a, b = two_ledgers
    a.put(AMINA, {"name": "Amina"})
    backup = a.backup(tmp_path / "a.bak")
    mine = b.put(OMAR, {"name": "Omar"})
    with pytest.raises(BackupRefused) as raised:
        b.restore(backup)
    assert raised.value.code == "backup_other_ledger"
    assert b.access(OMAR).records[0].record_id == mine.record_id
    with pytest.raises(SubjectNotFound):
        b.access(AMINA)


def test_backup_of_another_ledger_cannot_bring_back_a_subject_it_erased(
    two_ledgers: tuple[Vault, Vault], tmp_path: Path
) -> None:
    a, b = two_ledgers
    b.put(AMINA, {"name": "Amina"})
    b.erase(AMINA)
    a.put(AMINA, {"name": "Amina, as ledger A knew her"})
    backup = a.backup(tmp_path / "a.bak")
    with pytest.raises(BackupRefused) as raised:
        b.restore(backup)
    assert raised.value.code == "backup_other_ledger"
    assert b.access(AMINA).status == "erased"


def test_backup_of_another_vault_on_a_copy_of_the_ledger_is_refused(
    tmp_path: Path, master: MasterKey
) -> None:
    operator = ed25519()
    with Ledger.open(tmp_path / "a.db", key=operator, origin=ORIGIN) as led:
        led.append("test.data", b"shared history")
    shutil.copy(tmp_path / "a.db", tmp_path / "b.db")  # a replica: same log, same ledger id
    a = _vault(tmp_path / "a.db", master)
    b = _vault(tmp_path / "b.db", master)
    try:
        a.put(AMINA, {"name": "Amina"})
        backup = a.backup(tmp_path / "a.bak")
        with pytest.raises(BackupRefused) as raised:
            b.restore(backup)
        assert raised.value.code == "backup_other_vault"
    finally:
        a.close()
        b.close()


def test_backup_naming_no_ledger_is_refused(tmp_path: Path, master: MasterKey) -> None:
    from ledger.vault.backup import read_backup

    # A backup as an older version wrote it (no ledger id, no vault id), re-sealed.
    vault = _vault(tmp_path / "v.db", master)
    try:
        vault.put(AMINA, {"name": "Amina"})
        path = vault.backup(tmp_path / "v.bak")
        tables, _ = read_backup(path, master)
        legacy = tmp_path / "legacy.bak"
        _seal(vault, legacy, {"origin": ORIGIN, "created": 0, "tables": tables})
        with pytest.raises(BackupRefused) as raised:
            vault.restore(legacy)
        assert raised.value.code == "backup_other_ledger"
    finally:
        vault.close()


def _seal(vault: Vault, path: Path, body: dict[str, Any]) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from ledger.vault.backup import _CONTEXT as _BACKUP_CONTEXT
    from ledger.vault.backup import _MAGIC as _BACKUP_MAGIC

    key, nonce = bytes(32), bytes(12)
    mk = vault._mk  # type: ignore[attr-defined]
    sealed = cbor2.dumps(
        {
            "kid": mk.key_id,
            "key": mk.wrap(key, context=_BACKUP_CONTEXT),
            "nonce": nonce,
            "data": AESGCM(key).encrypt(
                nonce, cbor2.dumps(body), _BACKUP_MAGIC + mk.key_id.encode()
            ),
        }
    )
    path.write_bytes(_BACKUP_MAGIC + sealed)


def test_backup_claiming_this_ledger_from_another_origin_is_refused(
    tmp_path: Path, master: MasterKey
) -> None:
    a = _vault(tmp_path / "a.db", master)
    b = Vault.open(
        tmp_path / "b.db", master_key=master, origin="other.example/log", signer=ed25519()
    )
    try:
        backup = b.backup(tmp_path / "b.bak")
        with pytest.raises(BackupRefused) as raised:
            a.restore(backup)
        assert raised.value.code == "backup_other_ledger"
    finally:
        a.close()
        b.close()


# -- merge, never wipe, never resurrect ---------------------------------------------------


def test_restore_never_removes_records_the_target_had(tmp_path: Path, master: MasterKey) -> None:
    vault = _vault(tmp_path / "v.db", master)
    try:
        old = vault.put(AMINA, {"name": "Amina"})
        backup = vault.backup(tmp_path / "v.bak")
        newer = vault.put(OMAR, {"name": "Omar"})
        vault.rectify(AMINA, old.record_id, {"name": "Amina K."})
        assert vault.restore(backup) == 0
        assert vault.access(OMAR).records[0].record_id == newer.record_id
        versions = [(r.version, r.record) for r in vault.access(AMINA).records]
        assert sorted(versions) == [(1, {"name": "Amina"}), (2, {"name": "Amina K."})]
        assert vault.check().ok
    finally:
        vault.close()


def test_restore_brings_back_a_lost_record(tmp_path: Path, master: MasterKey) -> None:
    vault = _vault(tmp_path / "v.db", master)
    try:
        vault.put(AMINA, {"name": "Amina"})
        backup = vault.backup(tmp_path / "v.bak")
        with vault.backend.transaction() as txn:  # a disk fault loses the rows
            txn.execute("DELETE FROM {p}vault_records")
            txn.execute("DELETE FROM {p}vault_subjects")
        with pytest.raises(SubjectNotFound):
            vault.access(AMINA)
        vault.restore(backup)
        assert vault.access(AMINA).records[0].record == {"name": "Amina"}
        assert vault.check().ok
    finally:
        vault.close()


def test_restore_never_brings_back_a_subject_erased_in_the_target(
    tmp_path: Path, master: MasterKey
) -> None:
    vault = _vault(tmp_path / "v.db", master)
    try:
        vault.put(AMINA, {"name": "Amina"})
        vault.put(OMAR, {"name": "Omar"})
        backup = vault.backup(tmp_path / "v.bak")
        vault.erase(AMINA)
        assert vault.restore(backup) == 1
        access = vault.access(AMINA)
        assert access.status == "erased" and access.records == ()
        assert vault.access(OMAR).records[0].record == {"name": "Omar"}
        assert vault.check().ok
    finally:
        vault.close()


def test_restore_replays_a_tombstone_for_a_record_the_target_had_lost(
    tmp_path: Path, master: MasterKey
) -> None:
    vault = _vault(tmp_path / "v.db", master)
    try:
        receipt = vault.put(AMINA, {"name": "Amina"})
        backup = vault.backup(tmp_path / "v.bak")
        vault.erase(AMINA)
        with vault.backend.transaction() as txn:  # the erasure's own rows are lost too
            txn.execute("DELETE FROM {p}vault_erased")
        assert vault.restore(backup) == 1  # the tombstone on the log erases it again
        assert [e.record_id for e in vault.access(AMINA).erased] == [receipt.record_id]
        assert vault.access(AMINA).records == ()
    finally:
        vault.close()


@needs_pg
def test_postgres_backup_of_another_ledger_is_refused(master: MasterKey, tmp_path: Path) -> None:
    dsn = pg_dsn() or ""
    first, second = pg_schema(), pg_schema()
    a = Vault.open(dsn, master_key=master, origin=ORIGIN, schema=first, signer=ed25519())
    b = Vault.open(dsn, master_key=master, origin=ORIGIN, schema=second, signer=ed25519())
    try:
        a.put(AMINA, {"name": "Amina"})
        backup = a.backup(tmp_path / "a.bak")
        kept = b.put(OMAR, {"name": "Omar"})
        with pytest.raises(BackupRefused) as raised:
            b.restore(backup)
        assert raised.value.code == "backup_other_ledger"
        assert b.access(OMAR).records[0].record_id == kept.record_id
        # Its own backup merges.
        own = b.backup(tmp_path / "b.bak")
        later = b.put(AMINA, {"name": "Amina in B"})
        assert b.restore(own) == 0
        assert b.access(AMINA).records[0].record_id == later.record_id
    finally:
        a.close()
        b.close()
        pg_drop(first)
        pg_drop(second)


def test_cli_restore_of_another_ledger_exits_1_with_the_code(
    tmp_path: Path, master: MasterKey
) -> None:
    key = tmp_path / "mk.key"
    master.write_file(key)
    for name in ("a.db", "b.db"):
        code, output = _cli(
            "vault", "init", "--db", str(tmp_path / name), "--master-key-file", str(key)
        )
        assert code == 0, output
    code, output = _cli(
        "vault", "backup", "--db", str(tmp_path / "a.db"), "--master-key-file", str(key),
        "--out", str(tmp_path / "a.bak"),
    )  # fmt: skip
    assert code == 0, output
    code, output = _cli(
        "vault", "restore", "--db", str(tmp_path / "b.db"), "--master-key-file", str(key),
        "--file", str(tmp_path / "a.bak"),
    )  # fmt: skip
    assert code == 1 and "backup_other_ledger" in output


# -- opening never creates (not_a_vault, not_a_ledger) -------------------------------------


def test_vault_commands_on_a_ledger_without_a_vault_create_nothing(
    tmp_path: Path, master: MasterKey
) -> None:
    path = tmp_path / "ledger.db"
    with Ledger.open(path, key=ed25519(), origin=ORIGIN) as led:
        led.append("test.data", b"x")
    key = tmp_path / "mk.key"
    master.write_file(key)
    before = files_state(path)
    code, output = _cli("vault", "get", "--db", str(path), "--master-key-file", str(key),
                        "--subject", AMINA)  # fmt: skip
    assert code == 2 and "holds no vault" in output
    assert not any(name.startswith("vault_") for name in table_names(path))
    assert files_state(path)[0] == before[0]
    with pytest.raises(NotAVaultError) as raised:
        Vault.open(path, master_key=master, create=False)
    assert raised.value.code == "not_a_vault"


def test_vault_commands_on_another_kind_of_file_leave_it_untouched(
    tmp_path: Path, master: MasterKey
) -> None:
    wallet = foreign_sqlite(tmp_path / "some.wallet")
    key = tmp_path / "mk.key"
    master.write_file(key)
    signer = tmp_path / "op.jwk"
    write_key_file(signer, ed25519())
    before = files_state(wallet)
    for command in (
        ["vault", "get", "--subject", AMINA],
        ["vault", "backup", "--out", str(tmp_path / "x.bak")],
        ["vault", "init"],
    ):
        code, output = _cli(*command[:2], "--db", str(wallet), "--master-key-file", str(key),
                            *command[2:])  # fmt: skip
        assert code == 2 and "not a ledger" in output, (command, output)
    assert files_state(wallet) == before
    assert table_names(wallet) == {"items"}
    with pytest.raises(NotALedgerError):
        Vault.open(wallet, master_key=master, create=False)
    assert files_state(wallet) == before


def test_vault_open_on_a_missing_file_does_not_create_it(tmp_path: Path, master: MasterKey) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(NotALedgerError):
        Vault.open(missing, master_key=master, create=False)
    assert not missing.exists()


def test_a_vault_made_before_vault_ids_gets_one_and_its_backups_restore(
    tmp_path: Path, master: MasterKey
) -> None:
    vault = _vault(tmp_path / "v.db", master)
    vault.put(AMINA, {"name": "Amina"})
    with vault.backend.transaction() as txn:
        txn.execute("DELETE FROM {p}vault_meta WHERE key = 'vault_id'")
    vault.close()
    again = _vault(tmp_path / "v.db", master)
    try:
        assert len(again.vault_id) == 32
        backup = again.backup(tmp_path / "v.bak")
        assert again.restore(backup) == 0
    finally:
        again.close()


def test_pg_schema_without_a_vault_is_not_a_vault(master: MasterKey) -> None:
    if pg_dsn() is None:
        pytest.skip("needs SSI_WALLET_TEST_POSTGRES_DSN")
    schema = pg_schema()
    try:
        with Ledger.open(pg_dsn() or "", key=ed25519(), origin=ORIGIN, schema=schema):
            pass
        with pytest.raises(NotAVaultError):
            Vault.open(pg_dsn() or "", master_key=master, schema=schema, create=False)
        with pytest.raises(NotALedgerError):
            Vault.open(pg_dsn() or "", master_key=master, schema=pg_schema(), create=False)
    finally:
        pg_drop(schema)


def _settled(path: Path) -> tuple[str, str, str]:
    # Fold the WAL into the file (as any writer's close may), then hash.
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return files_state(path)


def test_vault_reading_commands_leave_the_file_byte_identical(
    tmp_path: Path, master: MasterKey
) -> None:
    path = tmp_path / "v.db"
    vault = _vault(path, master)
    vault.put(AMINA, {"name": "Amina"})
    vault.close()
    key = tmp_path / "mk.key"
    master.write_file(key)
    before = _settled(path)
    common = ["--db", str(path), "--master-key-file", str(key)]
    for command in (
        ["vault", "get", *common, "--subject", AMINA],
        ["vault", "export", *common, "--subject", AMINA],
        ["vault", "backup", *common, "--out", str(tmp_path / "v.bak")],
    ):
        code, output = _cli(*command)
        assert code == 0, (command, output)
    assert files_state(path)[0] == before[0]
    assert (tmp_path / "v.bak").exists()


def test_read_only_vault_refuses_a_signer_and_every_write(
    tmp_path: Path, master: MasterKey
) -> None:
    from ledger.vault import VaultError, VaultStoreError

    path = tmp_path / "v.db"
    _vault(path, master).close()
    with pytest.raises(VaultError):
        Vault.open(path, master_key=master, read_only=True, signer=ed25519())
    with Vault.open(path, master_key=master, read_only=True) as reader:
        with pytest.raises(VaultStoreError), reader.backend.transaction():
            pass
        with pytest.raises(SubjectNotFound):
            reader.access(AMINA)


def test_read_only_vault_will_not_show_a_record_whose_erasure_is_pending(
    tmp_path: Path, master: MasterKey
) -> None:
    import sqlite3

    from ledger.vault import VaultStoreError

    path = tmp_path / "v.db"
    vault = _vault(path, master)
    vault.put(AMINA, {"name": "Amina"})
    with vault.backend.read() as txn:
        subject = txn.execute("SELECT * FROM {p}vault_subjects")[0]
        record = txn.execute("SELECT * FROM {p}vault_records")[0]
    vault.erase(AMINA)
    vault.close()
    with sqlite3.connect(path) as conn:  # the rows come back as from an old file copy
        conn.execute("DELETE FROM vault_erased")
        conn.execute(
            f"INSERT INTO vault_subjects VALUES ({', '.join('?' * len(subject))})", subject
        )
        conn.execute(f"INSERT INTO vault_records VALUES ({', '.join('?' * len(record))})", record)
        conn.execute("UPDATE vault_meta SET value = x'30' WHERE key = 'replayed_upto'")
    conn.close()
    with pytest.raises(VaultStoreError):
        Vault.open(path, master_key=master, read_only=True)
    with Vault.open(path, master_key=master) as writable:  # opening writable applies it
        assert writable.access(AMINA).records == ()
    with Vault.open(path, master_key=master, read_only=True) as reader:
        assert reader.access(AMINA).records == ()


@needs_pg
def test_postgres_read_only_vault_reads_and_refuses_writes(master: MasterKey) -> None:
    from ledger.vault import VaultStoreError

    dsn, schema = pg_dsn() or "", pg_schema()
    try:
        with Vault.open(dsn, master_key=master, origin=ORIGIN, schema=schema,
                        signer=ed25519()) as vault:  # fmt: skip
            vault.put(AMINA, {"name": "Amina"})
        with Vault.open(dsn, master_key=master, schema=schema, read_only=True) as reader:
            assert reader.access(AMINA).records[0].record == {"name": "Amina"}
            with pytest.raises(VaultStoreError), reader.backend.transaction():
                pass
        with pytest.raises(NotALedgerError):
            Vault.open(dsn, master_key=master, schema=pg_schema(), read_only=True)
    finally:
        pg_drop(schema)
