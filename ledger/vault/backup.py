"""Vault backups: an encrypted file of everything the vault's store holds, and its merge.

An adapter over the store protocol (:class:`~ledger.vault._store.VaultTxn`):
it works the same over every backend. :meth:`~ledger.vault.Vault.backup`
and :meth:`~ledger.vault.Vault.restore` call it with the vault's identity.

The file is ``SSIWVB1\\n`` then a CBOR envelope (master key id, the backup
key wrapped by the master key, nonce, AES-256-GCM ciphertext) of a CBOR body:
the backup's origin (log origin, ledger id, vault id), when it was made, and
the rows of each vault table in column order. A restore takes only a backup
of this same vault (``backup_other_ledger``, ``backup_other_vault``), never
removes what the vault holds, and never brings back what it erased.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cbor2
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from did_methods._wire.files import write_private
from did_methods.errors import OutputFileError
from ledger.vault._store import (
    ErasedRow,
    EventRow,
    RecordRow,
    SubjectRow,
    VaultBackend,
    VaultTxn,
    row_from_values,
)
from ledger.vault.crypto import DATA_KEY_SIZE, NONCE_SIZE, KeyProvider, RandBytes
from ledger.vault.errors import BackupRefused, MasterKeyError, RecordError, VaultError

__all__ = ["BackupOrigin", "read_backup", "restore_backup", "write_backup"]

_MAGIC = b"SSIWVB1\n"
_MAX_BACKUP = 1 << 30
_CONTEXT = b"backup-key"
#: The tables of a backup body, in the order a restore fills them.
_TABLES = ("vault_meta", "vault_subjects", "vault_records", "vault_erased", "vault_events")


@dataclass(frozen=True, slots=True)
class BackupOrigin:
    """Whose backup it is: the log's origin and ledger id, and the vault's id."""

    origin: str
    ledger: str | None
    vault: str


def write_backup(
    backend: VaultBackend,
    path: str | os.PathLike[str],
    *,
    origin: BackupOrigin,
    master_key: KeyProvider,
    created_ms: int,
    randbytes: RandBytes,
    force: bool = False,
) -> Path:
    """Write an encrypted backup of everything ``backend`` holds to a new file (mode 0600).

    Raises :class:`VaultError` when the file exists (unless ``force``: then it
    is replaced atomically) or is a symbolic link.
    """
    with backend.read() as txn:
        tables: dict[str, list[list[Any]]] = {
            "vault_meta": [[k, v] for k, v in txn.meta().items()],
            "vault_subjects": [list(r) for r in txn.subjects()],
            "vault_records": [_stored(r) for r in txn.records()],
            "vault_erased": [list(r) for r in txn.erased()],
            "vault_events": [list(r) for r in txn.events()],
        }
    body = cbor2.dumps(
        {
            "origin": origin.origin,
            "ledger": origin.ledger,
            "vault": origin.vault,
            "created": created_ms,
            "tables": tables,
        }
    )
    key = randbytes(DATA_KEY_SIZE)
    nonce = randbytes(NONCE_SIZE)
    wrapped = master_key.wrap(key, context=_CONTEXT)
    aad = _MAGIC + master_key.key_id.encode()
    data = AESGCM(key).encrypt(nonce, body, aad)
    sealed = cbor2.dumps({"kid": master_key.key_id, "key": wrapped, "nonce": nonce, "data": data})
    try:
        return write_private(path, _MAGIC + sealed, force=force)
    except OutputFileError as exc:
        raise VaultError(f"cannot create the backup: {exc}") from exc


def restore_backup(
    backend: VaultBackend,
    path: str | os.PathLike[str],
    *,
    origin: BackupOrigin,
    master_key: KeyProvider,
    replay: Callable[[VaultTxn], int],
) -> int:
    """Merge the backup at ``path`` into ``backend`` in one transaction, then ``replay``
    (every erasure on the log) in the same one; compact. Returns how many of the backup's
    record versions stayed erased.

    Raises :class:`BackupRefused` for a backup of another log or vault (nothing
    changes), :class:`RecordError` for a file that is not a backup and
    :class:`MasterKeyError` for one made under another master key.
    """
    tables, theirs = read_backup(path, master_key)
    if (theirs.get("origin"), theirs.get("ledger")) != (origin.origin, origin.ledger):
        raise BackupRefused(
            "backup_other_ledger",
            f"the backup is of the log {theirs.get('origin')!r} "
            f"(ledger {theirs.get('ledger')!r}), not of this one {origin.origin!r}",
        )
    if theirs.get("vault") != origin.vault:
        raise BackupRefused("backup_other_vault", "the backup is of another vault on this log")
    with backend.transaction() as txn:
        kept = _merge(txn, tables)
        kept += replay(txn)
    backend.compact()
    return kept


def _stored(row: RecordRow) -> list[Any]:
    # Flags as the SQL tables hold them (0/1), so every backup reads the same.
    return [*row[:9], int(row.minor), int(row.restricted), int(row.superseded)]


def _merge(txn: VaultTxn, tables: Mapping[str, list[list[Any]]]) -> int:
    """Add the backup's rows the vault lacks; keep every row it has; never add back what it
    erased. Returns how many of the backup's record versions were left out as erased."""
    try:
        subjects = [row_from_values(SubjectRow, r) for r in tables.get("vault_subjects", [])]
        records = [row_from_values(RecordRow, r) for r in tables.get("vault_records", [])]
        erased = [row_from_values(ErasedRow, r) for r in tables.get("vault_erased", [])]
        events = [row_from_values(EventRow, r) for r in tables.get("vault_events", [])]
    except ValueError as exc:
        raise RecordError(f"malformed backup rows: {exc}") from exc
    here = txn.erased()
    erased_refs = {r.ref for r in here}
    erased_tags = {r.tag for r in here}
    keys = {s.tag: s.wrapped_key for s in txn.subjects()}
    restorable: set[bytes] = set()
    for subject in subjects:
        if subject.tag in keys:
            # The subject is here: its records under the same data key may come back.
            if keys[subject.tag] == subject.wrapped_key:
                restorable.add(subject.tag)
            continue
        if subject.tag in erased_tags:
            continue  # a subject erased here never comes back
        txn.add_subject(subject)
        restorable.add(subject.tag)
    left_out = 0
    for record in records:
        if record.ref in erased_refs or record.tag not in restorable:
            left_out += 1
            continue
        txn.add_record(record)
    for marker in erased:
        txn.add_erased(marker)
    for event in events:
        txn.add_event(event)
    return left_out


def read_backup(
    path: str | os.PathLike[str], master_key: KeyProvider
) -> tuple[dict[str, list[list[Any]]], dict[str, Any]]:
    """The tables and the origin (``origin``, ``ledger``, ``vault``) of the backup at ``path``.

    Raises :class:`RecordError` for a file that is not a readable backup,
    :class:`MasterKeyError` for one made under another master key and
    :class:`VaultError` when it cannot be read.
    """
    path = Path(path)
    try:
        if path.stat().st_size > _MAX_BACKUP:
            raise RecordError("the backup file is larger than the bound")
        raw = path.read_bytes()
    except OSError as exc:
        raise VaultError(f"cannot read the backup {path}: {exc}") from exc
    if not raw.startswith(_MAGIC):
        raise RecordError(f"{path} is not a vault backup")
    try:
        outer = cbor2.loads(raw[len(_MAGIC) :])
        if not isinstance(outer, dict) or set(outer) != {"kid", "key", "nonce", "data"}:
            raise RecordError("malformed backup envelope")
        if outer["kid"] != master_key.key_id:
            raise MasterKeyError(f"the backup was made under master key {outer['kid']!r}")
        key = master_key.unwrap(outer["key"], context=_CONTEXT)
        aad = _MAGIC + master_key.key_id.encode()
        body = AESGCM(key).decrypt(outer["nonce"], outer["data"], aad)
        inner = cbor2.loads(body)
        tables = inner["tables"]
        origin = {k: inner.get(k) for k in ("origin", "ledger", "vault")}
        if not isinstance(tables, dict) or not isinstance(origin["origin"], str):
            raise RecordError("malformed backup body")
        for name, rows in tables.items():
            if name not in _TABLES or not isinstance(rows, list):
                raise RecordError(f"unknown table {name!r} in the backup")
            if not all(isinstance(r, list) for r in rows):
                raise RecordError("malformed backup rows")
    except (RecordError, MasterKeyError):
        raise
    except Exception as exc:  # cbor2, AES-GCM and shape errors on a hostile file
        raise RecordError(f"{path} is not a readable vault backup: {exc}") from exc
    return tables, origin
