"""``ssi-wallet vault``: the personal-data vault beside a ledger, from the command line.

Every command takes ``--db PATH`` (the ledger's SQLite file: the vault shares
it) or ``--dsn DSN`` (PostgreSQL), and the vault master key from
``--master-key-file PATH`` or ``--master-key-env VAR``. Commands that write
to the log (put, rectify, erase) take the submitter's ``--key-file``.
Output is JSON, errors too (``{"error": {"code": ..., "message": ...}}`` on
stdout, the message on stderr), as other commands print them under ``--json``.
Exit codes: 0 ok, 1 a negative answer (not found, refused), 2 usage or
malformed input.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from did_methods._wire.text import safe_json_text
from did_methods.keys import KeyType, PrivateKey
from ledger.vault import MasterKey, MasterKeyError, Vault
from ssi_wallet.cli import JSON_META
from ssi_wallet.cli._io import emit_json, force_option, read_json_object, write_out
from ssi_wallet.cli._options import (
    KeySource,
    StoreTarget,
    key_options,
    store_options,
)

__all__ = ["vault"]

F = TypeVar("F", bound=Callable[..., Any])

_HINT = "create it with 'ssi-wallet vault init'"


def _common(func: F) -> F:
    func = click.option(
        "--master-key-env", metavar="VAR", help="Read the master key from this variable instead."
    )(func)
    func = click.option(
        "--master-key-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="The vault master key file (mode 0600).",
    )(func)
    return store_options()(func)


def _key_options(required: bool) -> Callable[[F], F]:
    return key_options(
        required=required, help="The submitter's key: the vault's log entries are signed with it."
    )


def _master_key(path: Path | None, env: str | None) -> MasterKey:
    if (path is None) == (env is None):
        raise click.UsageError("give exactly one of --master-key-file PATH or --master-key-env VAR")
    try:
        if env is not None:
            return MasterKey.from_env(env)
        assert path is not None
        return MasterKey.from_file(path)
    except MasterKeyError as exc:  # no master key there at all: malformed input (exit 2)
        option = "--master-key-env" if env is not None else "--master-key-file"
        raise click.BadParameter(str(exc), param_hint=option) from exc


def _signer(key: KeySource | None) -> PrivateKey | None:
    return key.read() if key is not None else None


def _open(
    store: StoreTarget,
    mk_file: Path | None,
    mk_env: str | None,
    key: KeySource | None = None,
    *,
    read_only: bool = False,
) -> Vault:
    store.require(_HINT)
    # Never creates anything: a file without a ledger, or a ledger without a vault,
    # is refused as it is (exit 2).
    return store.open_vault(
        master_key=_master_key(mk_file, mk_env),
        signer=_signer(key),
        create=False,
        read_only=read_only,
    )


def _read_record(path: Path) -> Any:
    # The vault checks the record's own bounds (depth, numbers, size) when it stores it.
    return read_json_object(path, "record")


def _echo(data: Any) -> None:
    emit_json(data, sort_keys=True)


@click.group()
@click.pass_context
def vault(ctx: click.Context) -> None:
    """Keep personal data off the ledger: store, access, export, rectify, erase, restrict."""
    ctx.meta[JSON_META] = True  # every vault command prints JSON: its errors too


@vault.command("init")
@_common
@_key_options(required=False)
def init(
    store: StoreTarget,
    master_key_file: Path | None,
    master_key_env: str | None,
    key: KeySource | None,
) -> None:
    """Create the vault tables (and the master key file, mode 0600, when missing).

    With --key-file (an Ed25519 key) on a store whose log has no checkpoint
    yet, also sign its first checkpoint, as 'ledger init' does (under the
    origin the store is bound to, else the default origin).
    """
    if store.db is not None and store.db.is_file() and store.db.stat().st_size > 0:
        # A file with content must be a ledger already: init never writes the
        # ledger's and the vault's tables into another kind of file.
        store.open_store(read_only=True).close()
    created = False
    if master_key_file is not None and master_key_env is None and not master_key_file.exists():
        MasterKey.generate().write_file(master_key_file)
        created = True
    master = _master_key(master_key_file, master_key_env)
    signer = _signer(key)
    # The log's origin is the store's (Store.origin()), else Vault.open's default.
    with store.open_vault(master_key=master, signer=signer, create=True) as opened:
        log = opened.log
        if (
            signer is not None
            and signer.key_type is KeyType.ED25519
            and not log.checkpoints(limit=1)
        ):
            from ledger.checkpoint import NoteSigner
            from ledger.log import Log

            # Log refuses a log with entries and no operator (operator_unknown).
            Log(log.store, origin=log.origin, signer=NoteSigner(log.origin, signer)).checkpoint()
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
    store: StoreTarget,
    master_key_file: Path | None,
    master_key_env: str | None,
    key: KeySource,
    subject: str,
    file_path: Path,
    minor: bool,
) -> None:
    """Store a record for a subject; its commitment goes on the log."""
    record = _read_record(file_path)
    with _open(store, master_key_file, master_key_env, key) as v:
        receipt = v.put(subject, record, minor=minor)
    _echo(
        {"recordId": receipt.record_id, "version": receipt.version, "logIndex": receipt.log_index}
    )


@vault.command("get")
@_common
@_key_options(required=False)
@click.option("--subject", required=True, help="The data subject's id.")
def get(
    store: StoreTarget,
    master_key_file: Path | None,
    master_key_env: str | None,
    key: KeySource | None,
    subject: str,
) -> None:
    """Print the subject's records as JSON (with --key-file, the access is logged)."""
    # Without a key nothing can be logged: the store is opened read-only.
    read_only = key is None
    with _open(store, master_key_file, master_key_env, key, read_only=read_only) as v:
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
    store: StoreTarget,
    master_key_file: Path | None,
    master_key_env: str | None,
    key: KeySource | None,
    subject: str,
    out: Path | None,
    force: bool,
) -> None:
    """Export everything about the subject, with inclusion proofs, as one JSON file."""
    read_only = key is None
    with _open(store, master_key_file, master_key_env, key, read_only=read_only) as v:
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
    store: StoreTarget,
    master_key_file: Path | None,
    master_key_env: str | None,
    key: KeySource,
    subject: str,
    record_id: str,
    file_path: Path,
    erase_previous: bool,
) -> None:
    """Store a corrected version of a record; it supersedes the current one."""
    record = _read_record(file_path)
    with _open(store, master_key_file, master_key_env, key) as v:
        receipt = v.rectify(subject, record_id, record, erase_previous=erase_previous)
    _echo(
        {"recordId": receipt.record_id, "version": receipt.version, "logIndex": receipt.log_index}
    )


def _confirmed(question: str) -> bool:
    try:
        return bool(click.confirm(question, default=False, err=True))
    except click.Abort:  # end of input or Ctrl-C: no
        return False


@vault.command("erase")
@_common
@_key_options(required=True)
@click.option("--subject", required=True, help="The data subject's id.")
@click.option("--record-id", help="Erase only this record (all versions unless --version).")
@click.option("--version", "version", type=int, help="Erase only this version of --record-id.")
@click.option("--yes", is_flag=True, help="Erase without asking for confirmation.")
def erase(
    store: StoreTarget,
    master_key_file: Path | None,
    master_key_env: str | None,
    key: KeySource,
    subject: str,
    record_id: str | None,
    version: int | None,
    yes: bool,
) -> None:
    """Erase a subject (or one record): data, data key and commitment keys are destroyed.

    There is no undo: without --yes the erasure is confirmed first (exit 1,
    nothing erased, when it is not, or when there is no terminal to ask on).
    """
    if version is not None and record_id is None:
        raise click.UsageError("--version needs --record-id")
    what = f"record {record_id} of {subject}" if record_id else f"everything held on {subject}"
    # opened first, so a malformed file or key is refused before the question
    with _open(store, master_key_file, master_key_env, key) as v:
        if not yes and not _confirmed(f"Erase {what}? This cannot be undone."):
            click.echo("nothing erased", err=True)
            sys.exit(1)
        receipt = v.erase(subject, record_id=record_id, version=version)
    _echo(
        {
            "tombstones": list(receipt.tombstones),
            "subjectErased": receipt.subject_erased,
            "filesCompacted": receipt.compaction.ok,
            "compaction": receipt.compaction.detail,
        }
    )


@vault.command("restrict")
@_common
@click.option("--subject", required=True, help="The data subject's id.")
@click.option("--record-id", help="Restrict only this record.")
@click.option("--lift", is_flag=True, help="Lift the restriction instead.")
def restrict(
    store: StoreTarget,
    master_key_file: Path | None,
    master_key_env: str | None,
    subject: str,
    record_id: str | None,
    lift: bool,
) -> None:
    """Freeze a subject's records from release (or --lift the restriction)."""
    with _open(store, master_key_file, master_key_env) as v:
        count = v.restrict(subject, record_id=record_id, lift=lift)
    _echo({"restricted": not lift, "recordVersions": count})


@vault.command("backup")
@_common
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="New file."
)
@force_option
def backup(
    store: StoreTarget,
    master_key_file: Path | None,
    master_key_env: str | None,
    out: Path,
    force: bool,
) -> None:
    """Write an encrypted backup of the vault (mode 0600)."""
    with _open(store, master_key_file, master_key_env, read_only=True) as v:
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
    store: StoreTarget,
    master_key_file: Path | None,
    master_key_env: str | None,
    file_path: Path,
) -> None:
    """Restore a backup, then re-apply every erasure logged since it was taken."""
    with _open(store, master_key_file, master_key_env) as v:
        removed = v.restore(file_path)
    _echo({"restored": True, "erasedAgain": removed})


@vault.command("prove")
@_common
@click.option("--subject", required=True, help="The data subject's id.")
@click.option("--record-id", required=True, help="The record to prove.")
@click.option("--version", "version", type=int, help="A version (default: the current one).")
def prove(
    store: StoreTarget,
    master_key_file: Path | None,
    master_key_env: str | None,
    subject: str,
    record_id: str,
    version: int | None,
) -> None:
    """Print a proof that the record is what was committed (needs a stored checkpoint)."""
    with _open(store, master_key_file, master_key_env, read_only=True) as v:
        proof = v.prove_record(subject, record_id, version=version)
    _echo(proof.to_json())
