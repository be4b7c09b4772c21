"""After erasure no byte of the erased plaintext or ciphertext remains in the database files.

SQLite: the main file and the WAL (after the checkpoint the vault runs).
PostgreSQL: the vault tables' files (table, TOAST, indexes) found with
pg_relation_filepath under data_directory, after VACUUM (FULL).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from ledger.audit import audit
from ledger.vault import Vault

SUBJECT = "NL-MIG-7781-2025"


def _records() -> list[dict[str, str]]:
    # Distinctive plaintexts: a small one (in a b-tree page), a large one
    # (SQLite overflow pages, PostgreSQL TOAST), each unique to this run.
    marker = secrets.token_hex(8)
    return [
        {"name": f"Yusuf-{marker}", "note": "small record"},
        {"dossier": f"DOSSIER-{marker}-" + secrets.token_hex(3000)},  # ~6 KB, incompressible
    ]


def _ciphertexts(vault: Vault) -> list[bytes]:
    with vault.backend.read() as txn:
        return [bytes(r[0]) for r in txn.execute("SELECT ciphertext FROM {p}vault_records")]


def _needles(records: list[dict[str, str]], ciphertexts: list[bytes]) -> list[bytes]:
    needles: list[bytes] = []
    for record in records:
        for value in record.values():
            needles.append(value[:40].encode())
    for ct in ciphertexts:
        # Any 32-byte window would do; take the start, the middle and the tag.
        needles += [ct[:32], ct[len(ct) // 2 : len(ct) // 2 + 32], ct[-16:]]
    return needles


def _scan(paths: list[Path], needles: list[bytes]) -> list[str]:
    found = []
    for path in paths:
        if not path.exists():
            continue
        data = path.read_bytes()
        for needle in needles:
            if needle in data:
                found.append(f"{path.name}: {needle[:16]!r}")
    return found


def test_sqlite_main_file_and_wal_hold_no_erased_byte(open_sqlite_vault, tmp_path: Path) -> None:
    vault = open_sqlite_vault()
    records = _records()
    for record in records:
        vault.put(SUBJECT, record)
    ciphertexts = _ciphertexts(vault)  # the subject's only: the bystander comes after
    vault.put("bystander", {"keep": "me"})
    db = tmp_path / "registry.db"
    files = [db, Path(f"{db}-wal")]
    # The scan can see the data: before erasure every ciphertext is in the files.
    cts = [c[:32] for c in ciphertexts]
    before = _scan(files, cts)
    assert len(before) >= len(cts), "the scan must find the ciphertexts before erasure"
    # The plaintext is never stored in clear.
    assert _scan(files, [r[k][:40].encode() for r in records for k in r]) == []

    receipt = vault.erase(SUBJECT)
    assert receipt.compaction.ok, receipt.compaction.detail
    assert os.path.getsize(f"{db}-wal") == 0  # TRUNCATE emptied the WAL
    assert _scan(files, _needles(records, ciphertexts)) == []
    # The bystander's record is still there and readable, the log audits clean.
    assert vault.access("bystander").records[0].record == {"keep": "me"}
    assert audit(vault.log.store).ok
    # Closing does not resurrect anything either.
    vault.close()
    assert _scan(files, _needles(records, ciphertexts)) == []


def test_sqlite_rectified_then_erased_old_version_leaves_no_byte(
    open_sqlite_vault, tmp_path: Path
) -> None:
    vault = open_sqlite_vault()
    old = {"address": "Rotterdam-" + secrets.token_hex(16)}
    receipt = vault.put(SUBJECT, old)
    old_ct = _ciphertexts(vault)
    vault.rectify(SUBJECT, receipt.record_id, {"address": "Utrecht"}, erase_previous=True)
    db = tmp_path / "registry.db"
    assert _scan([db, Path(f"{db}-wal")], _needles([old], old_ct)) == []
    assert vault.access(SUBJECT).records[0].record == {"address": "Utrecht"}


def _pg_files(vault: Vault) -> list[Path]:
    backend = vault.backend
    with backend.read() as txn:
        [(data_dir,)] = txn.execute("SELECT current_setting('data_directory')")
    return [Path(data_dir) / rel for rel in backend.relation_files()]  # type: ignore[attr-defined]


def test_postgres_table_files_hold_no_erased_byte_after_vacuum_full(open_pg_vault) -> None:
    vault = open_pg_vault()
    records = _records()
    for record in records:
        vault.put(SUBJECT, record)
    ciphertexts = _ciphertexts(vault)  # the subject's only: the bystander comes after
    vault.put("bystander", {"keep": "me"})
    # Make the server write the rows to the table files before looking.
    with vault.backend.transaction() as txn:
        txn.execute("CHECKPOINT")
    files = _pg_files(vault)
    try:
        readable = all(os.access(p, os.R_OK) for p in files if p.exists())
        probe = [p for p in files if p.exists()]
        if not probe or not readable:
            raise PermissionError
        for p in probe:
            p.read_bytes()
    except PermissionError:
        pytest.skip("the PostgreSQL data files are not readable by this user (run as root)")
    before = _scan(files, [c[:32] for c in ciphertexts])
    assert before, "the scan must find the ciphertexts before erasure"

    receipt = vault.erase(SUBJECT)
    assert receipt.compaction.ok, receipt.compaction.detail
    with vault.backend.transaction() as txn:
        txn.execute("CHECKPOINT")
    files = _pg_files(vault)  # VACUUM (FULL) gave the tables new files
    assert _scan(files, _needles(records, ciphertexts)) == []
    assert vault.access("bystander").records[0].record == {"keep": "me"}
    assert audit(vault.log.store).ok


def test_batch_erasure_with_one_deferred_compaction(open_sqlite_vault, tmp_path: Path) -> None:
    vault = open_sqlite_vault()
    records = {f"subject-{i}": {"name": "Name-" + secrets.token_hex(12)} for i in range(3)}
    for subject, record in records.items():
        vault.put(subject, record)
    ciphertexts = _ciphertexts(vault)
    for subject in records:
        receipt = vault.erase(subject, compact=False)
        assert not receipt.compaction.ok
    assert vault.compact().ok
    db = tmp_path / "registry.db"
    assert _scan([db, Path(f"{db}-wal")], _needles(list(records.values()), ciphertexts)) == []
