"""``ssi-wallet vault``: the personal-data vault beside a ledger, from the command line.

Every command takes ``--db PATH`` (the ledger's SQLite file: the vault shares
it) or ``--dsn DSN`` (PostgreSQL), and the vault master key from
``--master-key-file PATH`` or ``--master-key-env VAR``. Commands that write
to the log (put, rectify, erase) take the submitter's ``--key-file``.
Output is JSON. Exit codes: 0 ok, 1 a negative answer (not found, refused),
2 usage or malformed input.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from did_methods._wire.text import safe_json_text
from did_methods.keyfile import read_key_file
from did_methods.keys import KeyType, PrivateKey
from ledger.vault import MasterKey, Vault
from ledger.vault._canonical import parse_json
from ssi_wallet.cli._io import emit_json, force_option, write_out

__all__ = ["vault"]

F = TypeVar("F", bound=Callable[..., Any])


def _common(func: F) -> F:
    func = click.option(
        "--master-key-env", metavar="VAR", help="Read the master key from this variable instead."
    )(func)
    func = click.option(
        "--master-key-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="The vault master key file (mode 0600).",
    )(func)
    func = click.option("--dsn", metavar="DSN", help="PostgreSQL database (postgresql://...).")(
        func
    )
    func = click.option(
        "--db", type=click.Path(dir_okay=False, path_type=Path), help="SQLite file."
    )(func)
    return func


def _key_options(required: bool) -> Callable[[F], F]:
    def wrap(func: F) -> F:
        func = click.option(
            "--passphrase-env", metavar="VAR", help="Passphrase of an encrypted key file."
        )(func)
        func = click.option(
            "--key-file",
            type=click.Path(dir_okay=False, exists=True, path_type=Path),
            required=required,
            help="The submitter's key: the vault's log entries are signed with it.",
        )(func)
        return func

    return wrap


def _target(db: Path | None, dsn: str | None) -> str:
    if (db is None) == (dsn is None):
        raise click.UsageError("give exactly one of --db PATH or --dsn DSN")
    if dsn is not None:
        if not dsn.startswith(("postgresql://", "postgres://")):
            raise click.UsageError("--dsn must be a postgresql:// URL")
        return dsn
    assert db is not None
    return os.fspath(db)


def _master_key(path: Path | None, env: str | None) -> MasterKey:
    if (path is None) == (env is None):
        raise click.UsageError("give exactly one of --master-key-file PATH or --master-key-env VAR")
    if env is not None:
        return MasterKey.from_env(env)
    assert path is not None
    return MasterKey.from_file(path)


def _signer(key_file: Path | None, passphrase_env: str | None) -> PrivateKey | None:
    if key_file is None:
        return None
    passphrase = None
    if passphrase_env:
        passphrase = os.environ.get(passphrase_env)
        if not passphrase:
            raise click.UsageError(f"environment variable {passphrase_env} is empty or unset")
    return read_key_file(key_file, passphrase=passphrase)


def _open(
    db: Path | None,
    dsn: str | None,
    mk_file: Path | None,
    mk_env: str | None,
    key_file: Path | None = None,
    passphrase_env: str | None = None,
    *,
    read_only: bool = False,
) -> Vault:
    target = _target(db, dsn)
    if db is not None and not db.exists():
        raise click.UsageError(f"{db} does not exist; create it with 'ssi-wallet vault init'")
    # Never creates anything: a file without a ledger, or a ledger without a vault,
    # is refused as it is (exit 2).
    return Vault.open(
        target,
        master_key=_master_key(mk_file, mk_env),
        signer=_signer(key_file, passphrase_env),
        create=False,
        read_only=read_only,
    )


def _read_record(path: Path) -> Any:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise click.UsageError(f"cannot read {path}: {exc}") from exc
    return parse_json(data)


def _echo(data: Any) -> None:
    emit_json(data, sort_keys=True)


@click.group()
def vault() -> None:
    """Keep personal data off the ledger: store, access, export, rectify, erase, restrict."""


@vault.command("init")
@_common
@_key_options(required=False)
def init(
    db: Path | None,
    dsn: str | None,
    master_key_file: Path | None,
    master_key_env: str | None,
    key_file: Path | None,
    passphrase_env: str | None,
) -> None:
    """Create the vault tables (and the master key file, mode 0600, when missing).

    With --key-file (an Ed25519 key) on a store whose log has no checkpoint
    yet, also sign its first checkpoint, as 'ledger init' does (under the
    origin the store is bound to, else the default origin).
    """
    target = _target(db, dsn)
    if db is not None and db.exists() and db.stat().st_size > 0:
        # A file with content must be a ledger already: init never writes the
        # ledger's and the vault's tables into another kind of file.
        from ledger.store import open_store

        open_store(target, read_only=True).close()
    created = False
    if master_key_file is not None and master_key_env is None and not master_key_file.exists():
        MasterKey.generate().write_file(master_key_file)
        created = True
    master = _master_key(master_key_file, master_key_env)
    key = _signer(key_file, passphrase_env)
    # The log's origin is the store's (Store.origin()), else Vault.open's default.
    with Vault.open(target, master_key=master, signer=key) as opened:
        log = opened.log
        if key is not None and key.key_type is KeyType.ED25519 and not log.checkpoints(limit=1):
            from ledger.checkpoint import NoteSigner
            from ledger.log import Log

            Log(log.store, origin=log.origin, signer=NoteSigner(log.origin, key)).checkpoint()
        _echo(
            {
                "origin": log.origin,
                "masterKeyId": master.key_id,
                "masterKeyCreated": created,
                "ledgerCheckpointed": bool(log.checkpoints(limit=1)),
            }
        )


@vault.command("put")
@_common
@_key_options(required=True)
@click.option("--subject", required=True, help="The data subject's id.")
@click.option(
    "--file",
    "file_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="The record: a JSON object.",
)
@click.option(
    "--minor", is_flag=True, help="The record is a minor's (released only on authorisation)."
)
def put(
    db: Path | None,
    dsn: str | None,
    master_key_file: Path | None,
    master_key_env: str | None,
    key_file: Path,
    passphrase_env: str | None,
    subject: str,
    file_path: Path,
    minor: bool,
) -> None:
    """Store a record for a subject; its commitment goes on the log."""
    record = _read_record(file_path)
    with _open(db, dsn, master_key_file, master_key_env, key_file, passphrase_env) as v:
        receipt = v.put(subject, record, minor=minor)
    _echo(
        {"recordId": receipt.record_id, "version": receipt.version, "logIndex": receipt.log_index}
    )


@vault.command("get")
@_common
@_key_options(required=False)
@click.option("--subject", required=True, help="The data subject's id.")
def get(
    db: Path | None,
    dsn: str | None,
    master_key_file: Path | None,
    master_key_env: str | None,
    key_file: Path | None,
    passphrase_env: str | None,
    subject: str,
) -> None:
    """Print the subject's records as JSON (with --key-file, the access is logged)."""
    # Without a key nothing can be logged: the store is opened read-only.
    read_only = key_file is None
    with _open(
        db, dsn, master_key_file, master_key_env, key_file, passphrase_env, read_only=read_only
    ) as v:
        access = v.access(subject)
    _echo(
        {
            "subject": access.subject_id,
            "status": access.status,
            "records": [
                {
                    "recordId": r.record_id,
                    "version": r.version,
                    "state": r.state,
                    "minor": r.minor,
                    "restricted": r.restricted,
                    "logIndex": r.log_index,
                    "record": r.record,
                }
                for r in access.records
            ],
            "erased": [
                {"recordId": e.record_id, "version": e.version, "tombstoneIndex": e.tombstone_index}
                for e in access.erased
            ],
        }
    )


@vault.command("export")
@_common
@_key_options(required=False)
@click.option("--subject", required=True, help="The data subject's id.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the export to this new file (mode 0600) instead of standard output.",
)
@force_option
def export(
    db: Path | None,
    dsn: str | None,
    master_key_file: Path | None,
    master_key_env: str | None,
    key_file: Path | None,
    passphrase_env: str | None,
    subject: str,
    out: Path | None,
    force: bool,
) -> None:
    """Export everything about the subject, with inclusion proofs, as one JSON file."""
    read_only = key_file is None
    with _open(
        db, dsn, master_key_file, master_key_env, key_file, passphrase_env, read_only=read_only
    ) as v:
        data = v.export(subject)
    if out is None:
        click.echo(safe_json_text(data.decode("utf-8")), nl=False)
        return
    write_out(out, data, force=force)


@vault.command("rectify")
@_common
@_key_options(required=True)
@click.option("--subject", required=True, help="The data subject's id.")
@click.option("--record-id", required=True, help="The record to correct.")
@click.option(
    "--file",
    "file_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="The corrected record: a JSON object.",
)
@click.option("--erase-previous", is_flag=True, help="Also erase the superseded version.")
def rectify(
    db: Path | None,
    dsn: str | None,
    master_key_file: Path | None,
    master_key_env: str | None,
    key_file: Path,
    passphrase_env: str | None,
    subject: str,
    record_id: str,
    file_path: Path,
    erase_previous: bool,
) -> None:
    """Store a corrected version of a record; it supersedes the current one."""
    record = _read_record(file_path)
    with _open(db, dsn, master_key_file, master_key_env, key_file, passphrase_env) as v:
        receipt = v.rectify(subject, record_id, record, erase_previous=erase_previous)
    _echo(
        {"recordId": receipt.record_id, "version": receipt.version, "logIndex": receipt.log_index}
    )


@vault.command("erase")
@_common
@_key_options(required=True)
@click.option("--subject", required=True, help="The data subject's id.")
@click.option("--record-id", help="Erase only this record (all versions unless --version).")
@click.option("--version", "version", type=int, help="Erase only this version of --record-id.")
def erase(
    db: Path | None,
    dsn: str | None,
    master_key_file: Path | None,
    master_key_env: str | None,
    key_file: Path,
    passphrase_env: str | None,
    subject: str,
    record_id: str | None,
    version: int | None,
) -> None:
    """Erase a subject (or one record): data, data key and commitment keys are destroyed."""
    if version is not None and record_id is None:
        raise click.UsageError("--version needs --record-id")
    with _open(db, dsn, master_key_file, master_key_env, key_file, passphrase_env) as v:
        receipt = v.erase(subject, record_id=record_id, version=version)
    _echo(
        {
            "tombstones": list(receipt.tombstones),
            "subjectErased": receipt.subject_erased,
            "filesCompacted": receipt.compaction.complete,
            "compaction": receipt.compaction.detail,
        }
    )


@vault.command("restrict")
@_common
@click.option("--subject", required=True, help="The data subject's id.")
@click.option("--record-id", help="Restrict only this record.")
@click.option("--lift", is_flag=True, help="Lift the restriction instead.")
def restrict(
    db: Path | None,
    dsn: str | None,
    master_key_file: Path | None,
    master_key_env: str | None,
    subject: str,
    record_id: str | None,
    lift: bool,
) -> None:
    """Freeze a subject's records from release (or --lift the restriction)."""
    with _open(db, dsn, master_key_file, master_key_env) as v:
        count = v.restrict(subject, record_id=record_id, lift=lift)
    _echo({"restricted": not lift, "recordVersions": count})


@vault.command("backup")
@_common
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="New file."
)
@force_option
def backup(
    db: Path | None,
    dsn: str | None,
    master_key_file: Path | None,
    master_key_env: str | None,
    out: Path,
    force: bool,
) -> None:
    """Write an encrypted backup of the vault (mode 0600)."""
    with _open(db, dsn, master_key_file, master_key_env, read_only=True) as v:
        v.backup(out, force=force)
    _echo({"backup": os.fspath(out)})


@vault.command("restore")
@_common
@click.option(
    "--file",
    "file_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="A backup written by 'vault backup'.",
)
def restore(
    db: Path | None,
    dsn: str | None,
    master_key_file: Path | None,
    master_key_env: str | None,
    file_path: Path,
) -> None:
    """Restore a backup, then re-apply every erasure logged since it was taken."""
    with _open(db, dsn, master_key_file, master_key_env) as v:
        removed = v.restore(file_path)
    _echo({"restored": True, "erasedAgain": removed})


@vault.command("prove")
@_common
@click.option("--subject", required=True, help="The data subject's id.")
@click.option("--record-id", required=True, help="The record to prove.")
@click.option("--version", "version", type=int, help="A version (default: the current one).")
def prove(
    db: Path | None,
    dsn: str | None,
    master_key_file: Path | None,
    master_key_env: str | None,
    subject: str,
    record_id: str,
    version: int | None,
) -> None:
    """Print a proof that the record is what was committed (needs a stored checkpoint)."""
    with _open(db, dsn, master_key_file, master_key_env, read_only=True) as v:
        proof = v.prove_record(subject, record_id, version=version)
    _echo(proof.to_json())
