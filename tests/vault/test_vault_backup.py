"""Backups are encrypted, and restoring one taken before an erasure does not undo the erasure."""

from __future__ import annotations

import secrets
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit import audit
from ledger.vault import MasterKey, MasterKeyError, RecordError, VaultError

AMINA = "LT-ASY-2024-000123"


def test_restore_after_erasure_does_not_bring_erased_data_back(open_vault, tmp_path: Path) -> None:
    vault = open_vault()
    secret = "Amina-" + secrets.token_hex(8)
    gone = vault.put(AMINA, {"name": secret})
    kept = vault.put("bystander", {"name": "Bystander"})
    partly = vault.put("partial", {"v": 1})
    vault.rectify("partial", partly.record_id, {"v": 2})
    backup = vault.backup(tmp_path / "vault.bak")
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert secret.encode() not in backup.read_bytes()  # the backup is encrypted

    vault.erase(AMINA)
    vault.erase("partial", record_id=partly.record_id, version=1)
    after_backup = vault.put("late-comer", {"x": 1})
    removed = vault.restore(backup)

    assert removed == 2  # Amina's record and the old version of "partial", erased again
    access = vault.access(AMINA)
    assert access.status == "erased" and access.records == ()
    assert [e.record_id for e in access.erased] == [gone.record_id]
    assert [(r.version, r.record) for r in vault.access("partial").records] == [(2, {"v": 2})]
    assert vault.access("bystander").records[0].record_id == kept.record_id
    # Restoring merges: what was stored after the backup is kept, not wiped.
    assert vault.access("late-comer").records[0].record_id == after_backup.record_id
    assert after_backup.log_index < vault.log.size
    assert vault.check().ok and audit(vault.log.store).ok
    # Reopening replays nothing new and keeps the erasure.
    vault.close()
    again = open_vault()
    assert again.access(AMINA).status == "erased"


def test_restored_sqlite_file_has_no_erased_byte(open_sqlite_vault, tmp_path: Path) -> None:
    vault = open_sqlite_vault()
    secret = "Amina-" + secrets.token_hex(8)
    vault.put(AMINA, {"name": secret, "pad": secrets.token_hex(500)})
    with vault.backend.read() as txn:
        [(ciphertext,)] = txn.execute("SELECT ciphertext FROM {p}vault_records")
    backup = vault.backup(tmp_path / "vault.bak")
    vault.erase(AMINA)
    vault.restore(backup)
    db = tmp_path / "registry.db"
    for path in (db, Path(f"{db}-wal")):
        if path.exists():
            data = path.read_bytes()
            assert bytes(ciphertext)[:32] not in data and secret.encode() not in data


def test_wrong_master_key_and_tampering_are_refused(open_sqlite_vault, tmp_path: Path) -> None:
    vault = open_sqlite_vault()
    vault.put(AMINA, {"name": "Amina"})
    backup = vault.backup(tmp_path / "vault.bak")
    with pytest.raises(VaultError):
        vault.backup(backup)  # never overwritten
    with pytest.raises(MasterKeyError):
        open_sqlite_vault(master_key=MasterKey.generate())
    data = bytearray(backup.read_bytes())
    data[-5] ^= 1
    tampered = tmp_path / "tampered.bak"
    tampered.write_bytes(bytes(data))
    with pytest.raises(RecordError):
        vault.restore(tampered)
    assert vault.access(AMINA).records[0].record == {"name": "Amina"}  # untouched


@settings(max_examples=60)
@given(st.binary(max_size=300))
def test_arbitrary_backup_files_raise_only_our_errors(tmp_path_factory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("bak") / "x.bak"
    path.write_bytes(b"SSIWVB1\n" + data)
    from ledger.vault.backup import read_backup

    try:
        read_backup(path, MasterKey.generate())
    except (RecordError, MasterKeyError):
        pass
