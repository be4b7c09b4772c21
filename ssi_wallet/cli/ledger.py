"""``ssi-wallet ledger``: run a transparency log from the command line.

Every command takes ``--db PATH`` (a SQLite file) or ``--dsn DSN`` (a
PostgreSQL database) and most take ``--json``. ``ledger init`` binds the
store to a log origin and signs a first checkpoint; later commands read the
origin back from the store (``Store.origin()``). Exit codes: 0 ok, 1 a
negative answer (audit failed, not found, refused), 2 usage or malformed input.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from did_methods._wire.b64 import b64_encode
from did_methods.encoding import b64url_encode
from did_methods.errors import InvalidKey, SSIWalletError
from did_methods.keyfile import read_key_file
from did_methods.keys import KeyType, PrivateKey, PublicKey
from ledger._merkle import hash_leaf
from ledger.checkpoint import Checkpoint, NoteSigner, NoteVerifier, SignedNote
from ledger.entry import DEFAULT_MAX_PAYLOAD, Entry, EntryDraft
from ledger.log import Log
from ledger.registry import LedgerMethod, Signer
from ledger.store import Store, open_store
from ssi_wallet.cli._io import echo_safe, emit_json

__all__ = ["ledger"]

F = TypeVar("F", bound=Callable[..., Any])

_DEFAULT_ORIGIN = "ssi-wallet.local/ledger"
_DEFAULT_WITNESS = "ssi-wallet.local/witness"
_MAX_BATCH = 10_000


def _store_options(func: F) -> F:
    func = click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)
    func = _schema_option(func)
    func = click.option("--dsn", metavar="DSN", help="PostgreSQL database (postgresql://...).")(
        func
    )
    func = click.option(
        "--db", type=click.Path(dir_okay=False, path_type=Path), help="SQLite file."
    )(func)
    return func


def _schema_option(func: F) -> F:
    return click.option(
        "--schema",
        "pg_schema",
        default="ssi_ledger",
        show_default=True,
        callback=_remember_schema,
        expose_value=False,
        help="With --dsn: the PostgreSQL schema holding the tables.",
    )(func)


def _remember_schema(ctx: click.Context, _: click.Parameter, value: str) -> str:
    ctx.meta["ssi_wallet.ledger.schema"] = value
    return value


def _open_store(
    db: Path | None, dsn: str | None, *, read_only: bool = False, create: bool = True
) -> Store:
    target = _target(db, dsn)
    if dsn is not None:
        from ledger.store.postgres import PostgresStore

        ctx = click.get_current_context(silent=True)
        schema = ctx.meta.get("ssi_wallet.ledger.schema", "ssi_ledger") if ctx else "ssi_ledger"
        return PostgresStore(target, schema=schema, read_only=read_only, create=create)
    return open_store(target, read_only=read_only, create=create)


def _target(db: Path | None, dsn: str | None) -> str:
    if (db is None) == (dsn is None):
        raise click.UsageError("give exactly one of --db PATH or --dsn DSN")
    if dsn is not None:
        if not dsn.startswith(("postgresql://", "postgres://")):
            raise click.UsageError("--dsn must be a postgresql:// URL")
        return dsn
    return os.fspath(db) if db is not None else ""


def _read_key(path: Path, passphrase_env: str | None) -> PrivateKey:
    passphrase = None
    if passphrase_env:
        passphrase = os.environ.get(passphrase_env)
        if not passphrase:
            raise click.UsageError(f"environment variable {passphrase_env} is empty or unset")
    return read_key_file(path, passphrase=passphrase)


def _newest_note(log: Log) -> str:
    # A store can be bound to a log without a checkpoint yet ('vault init' without a key).
    latest = log.checkpoints(limit=1)
    if not latest:
        raise click.UsageError("the log has no checkpoint yet: sign one with --key-file")
    return latest[0].note


def _open(
    db: Path | None, dsn: str | None, key: PrivateKey | None = None, *, read_only: bool = False
) -> Log:
    """Open the log in the store, under the origin the store is bound to.

    Nothing is ever created here (that is ``ledger init``); ``read_only`` opens
    the store so that it cannot be changed at all (commands that only read).
    """
    _target(db, dsn)
    if db is not None and not db.exists():
        raise click.UsageError(f"{db} does not exist; create it with 'ssi-wallet ledger init'")
    store = _open_store(db, dsn, read_only=read_only, create=False)
    try:
        origin = store.origin()
        if origin is None:
            raise click.UsageError("this store is not initialised; run 'ssi-wallet ledger init'")
        signer = None
        if key is not None and key.key_type is KeyType.ED25519:
            signer = NoteSigner(origin, key)
        return Log(store, origin=origin, signer=signer)
    except BaseException:
        store.close()
        raise


def _emit(as_json: bool, data: Any, text: str) -> None:
    if as_json:
        emit_json(data)
    else:
        echo_safe(text)


def _did_key_url(key: PrivateKey) -> str:
    return Signer.for_did_key(key).submitter


@click.group()
def ledger() -> None:
    """Run a transparency log: append, prove, checkpoint, audit and cosign."""


# -- init ---------------------------------------------------------------------------


@ledger.command("init")
@_store_options
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="The operator's Ed25519 key (as written by 'ssi-wallet did create').",
)
@click.option("--passphrase-env", metavar="VAR", help="Passphrase of an encrypted key file.")
@click.option(
    "--origin",
    default=_DEFAULT_ORIGIN,
    show_default=True,
    help="The log's name in checkpoints (a schema-less URL).",
)
def init(
    db: Path | None,
    dsn: str | None,
    as_json: bool,
    key_file: Path,
    passphrase_env: str | None,
    origin: str,
) -> None:
    """Create (or reopen) a log and sign a checkpoint; print its verifier key.

    On an existing log the key must be the one that signs its checkpoints:
    another key is refused (checkpoint_key_mismatch), the same key is idempotent.
    """
    key = _read_key(key_file, passphrase_env)
    if key.key_type is not KeyType.ED25519:
        raise click.UsageError("checkpoints are signed with Ed25519: use an Ed25519 key")
    # A file with content must already be a ledger: init never writes its tables
    # into another kind of file (a wallet, a document) it is pointed at.
    existing = db is not None and db.exists() and db.stat().st_size > 0
    store = _open_store(db, dsn, create=not existing)
    try:
        stored = store.origin()
        if stored is not None and stored != origin:
            raise click.UsageError(f"this store already holds the log {stored!r}")
        log = Log(store, origin=origin, signer=NoteSigner(origin, key))
        note = log.checkpoint()
        vkey = NoteVerifier(origin, key.public_key).vkey
        _emit(
            as_json,
            {"origin": origin, "size": log.size, "vkey": vkey, "checkpoint": note},
            f"origin: {origin}\nsize: {log.size}\nvkey: {vkey}",
        )
    finally:
        store.close()


# -- append -------------------------------------------------------------------------


def _lines(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        for raw in fh:
            yield raw.rstrip(b"\n").removesuffix(b"\r")


@ledger.command("append")
@_store_options
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="The submitter's key; entries are submitted under its did:key.",
)
@click.option("--passphrase-env", metavar="VAR", help="Passphrase of an encrypted key file.")
@click.option("--kind", default="data", show_default=True, help="Entry kind ([a-z0-9._:-]).")
@click.option("--data", "text", metavar="TEXT", help="Append TEXT (UTF-8) as one entry.")
@click.option(
    "--file",
    "file_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Append the bytes of a file as one entry.",
)
@click.option(
    "--lines",
    "lines_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Append each line of a file as its own entry, in batches.",
)
@click.option(
    "--batch",
    type=click.IntRange(1, _MAX_BATCH),
    default=1000,
    show_default=True,
    help="Entries per transaction with --lines.",
)
def append(
    db: Path | None,
    dsn: str | None,
    as_json: bool,
    key_file: Path,
    passphrase_env: str | None,
    kind: str,
    text: str | None,
    file_path: Path | None,
    lines_path: Path | None,
    batch: int,
) -> None:
    """Append entries signed by KEY_FILE's key; print the indices they got."""
    if sum(x is not None for x in (text, file_path, lines_path)) != 1:
        raise click.UsageError("give exactly one of --data, --file or --lines")
    key = _read_key(key_file, passphrase_env)
    submitter = _did_key_url(key)
    EntryDraft(kind, b"")  # a malformed kind is a usage error, found before anything is written
    if lines_path is not None:
        for number, line in enumerate(_lines(lines_path), 1):
            if len(line) > DEFAULT_MAX_PAYLOAD:
                raise click.UsageError(
                    f"line {number} is longer than the {DEFAULT_MAX_PAYLOAD}-byte payload bound"
                )
    elif file_path is not None and file_path.stat().st_size > DEFAULT_MAX_PAYLOAD:
        raise click.UsageError(f"{file_path} is larger than {DEFAULT_MAX_PAYLOAD} bytes")
    elif text is not None and len(text.encode("utf-8")) > DEFAULT_MAX_PAYLOAD:
        raise click.UsageError(f"--data is larger than {DEFAULT_MAX_PAYLOAD} bytes")
    log = _open(db, dsn, key)
    try:
        appended: list[Entry] = []
        if lines_path is not None:
            pending: list[bytes] = []
            for line in _lines(lines_path):
                pending.append(line)
                if len(pending) >= batch:
                    appended += _append_batch(log, key, submitter, kind, pending)
                    pending = []
            if pending:
                appended += _append_batch(log, key, submitter, kind, pending)
        else:
            payload = (
                text.encode("utf-8") if text is not None else Path(str(file_path)).read_bytes()
            )
            appended = _append_batch(log, key, submitter, kind, [payload])
        first = appended[0].index if appended else None
        last = appended[-1].index if appended else None
        _emit(
            as_json,
            {"count": len(appended), "first": first, "last": last, "size": log.size},
            f"appended {len(appended)} entries"
            + (f" at {first}..{last}" if appended else "")
            + f"; log size {log.size}",
        )
    finally:
        log.store.close()


def _append_batch(
    log: Log, key: PrivateKey, submitter: str, kind: str, payloads: list[bytes]
) -> list[Entry]:
    drafts = [EntryDraft(kind, p).sign(key, submitter) for p in payloads]
    return log.append_batch(drafts)


# -- reading ------------------------------------------------------------------------


def _entry_json(entry: Entry) -> dict[str, Any]:
    try:
        text: str | None = entry.payload.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return {
        "index": entry.index,
        "kind": entry.kind,
        "submitter": entry.submitter,
        "timestamp": entry.timestamp,
        "prevHash": entry.prev_hash.hex(),
        "payload": b64url_encode(entry.payload),
        "payloadText": text,
        "signature": b64url_encode(entry.signature),
        "leafHash": b64_encode(hash_leaf(entry.encode())),
        "chainHash": entry.chain_hash().hex(),
        "entry": b64url_encode(entry.encode()),
    }


@ledger.command("get")
@_store_options
@click.argument("index", type=click.IntRange(min=0))
def get(db: Path | None, dsn: str | None, as_json: bool, index: int) -> None:
    """Print the entry at INDEX (exit 1 when there is none)."""
    log = _open(db, dsn, read_only=True)
    try:
        data = _entry_json(log.get(index))
    finally:
        log.store.close()
    lines = [f"{k}: {v}" for k, v in data.items() if v is not None]
    _emit(as_json, data, "\n".join(lines))


@ledger.command("checkpoint")
@_store_options
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The operator's key: sign a new checkpoint (else print the newest stored one).",
)
@click.option("--passphrase-env", metavar="VAR", help="Passphrase of an encrypted key file.")
def checkpoint(
    db: Path | None,
    dsn: str | None,
    as_json: bool,
    key_file: Path | None,
    passphrase_env: str | None,
) -> None:
    """Print the signed checkpoint note (a new one when --key-file is given)."""
    key = _read_key(key_file, passphrase_env) if key_file is not None else None
    log = _open(db, dsn, key, read_only=key is None)
    try:
        note = log.checkpoint() if key is not None else _newest_note(log)
    finally:
        log.store.close()
    body = Checkpoint.parse(SignedNote.parse(note).text)
    _emit(
        as_json,
        {
            "origin": body.origin,
            "size": body.size,
            "root": b64_encode(body.root_hash),
            "note": note,
        },
        note.rstrip("\n"),
    )


@ledger.command("prove-inclusion")
@_store_options
@click.argument("index", type=click.IntRange(min=0))
@click.option("--size", type=click.IntRange(min=1), help="Tree size (default: the whole log).")
def prove_inclusion(
    db: Path | None, dsn: str | None, as_json: bool, index: int, size: int | None
) -> None:
    """Print the inclusion proof of entry INDEX in the tree of SIZE entries."""
    log = _open(db, dsn, read_only=True)
    try:
        tree_size = log.size if size is None else size
        if index >= tree_size:
            raise SSIWalletError(f"no entry {index} in a tree of {tree_size} entries")
        proof = log.prove_inclusion(index, tree_size)
        leaf = hash_leaf(log.get(index).encode())
        root = log.root(tree_size)
    finally:
        log.store.close()
    data = {"leafHash": b64_encode(leaf), "root": b64_encode(root), "proof": proof.to_json()}
    text = [
        f"index: {index}",
        f"size: {tree_size}",
        f"leaf: {b64_encode(leaf)}",
        f"root: {b64_encode(root)}",
    ]
    text += [f"hash: {b64_encode(h)}" for h in proof.hashes]
    _emit(as_json, data, "\n".join(text))


@ledger.command("prove-consistency")
@_store_options
@click.argument("size1", type=click.IntRange(min=0))
@click.argument("size2", type=click.IntRange(min=0), required=False)
def prove_consistency(
    db: Path | None, dsn: str | None, as_json: bool, size1: int, size2: int | None
) -> None:
    """Print the proof that the tree of SIZE1 entries is a prefix of the tree of SIZE2."""
    log = _open(db, dsn, read_only=True)
    try:
        tree_size = log.size if size2 is None else size2
        if size1 > tree_size:
            raise SSIWalletError(f"size {size1} is larger than {tree_size}")
        proof = log.prove_consistency(size1, tree_size)
        root1, root2 = log.root(size1), log.root(tree_size)
    finally:
        log.store.close()
    data = {"root1": b64_encode(root1), "root2": b64_encode(root2), "proof": proof.to_json()}
    text = [f"size1: {size1}", f"size2: {tree_size}", f"root1: {b64_encode(root1)}"]
    text += [f"root2: {b64_encode(root2)}"] + [f"hash: {b64_encode(h)}" for h in proof.hashes]
    _emit(as_json, data, "\n".join(text))


# -- audit --------------------------------------------------------------------------


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except (OSError, ValueError):  # a name too long for the file system, or a NUL byte
        return False


def _log_verifier(text: str, origin: str) -> NoteVerifier:
    """A checkpoint verifier from a vkey, a did:key, a Multikey or an Ed25519 key file."""
    if "+" in text and not _is_file(text):
        return NoteVerifier.from_vkey(text)
    key: PublicKey
    if text.startswith("did:key:"):
        from did_methods.methods.key import public_key_from_did_key

        key = public_key_from_did_key(text)
    elif _is_file(text):
        key = read_key_file(Path(text)).public_key
    elif text.startswith("z"):
        key = PublicKey.from_multikey(text)
    else:
        raise InvalidKey("--log-key must be a vkey, a did:key, a Multikey or a key file")
    return NoteVerifier(origin, key)


@ledger.command("audit")
@_store_options
@click.option("--signatures", is_flag=True, help="Also verify every did:key entry signature.")
@click.option(
    "--log-key",
    metavar="VKEY",
    help="Check the stored checkpoint's signature (vkey, did:key, Multikey or key file).",
)
def audit_cmd(
    db: Path | None, dsn: str | None, as_json: bool, signatures: bool, log_key: str | None
) -> None:
    """Verify the whole log; exit 0 when intact, 1 naming the first bad index when not."""
    from ledger.audit import audit
    from ledger.log import did_key_lookup

    log = _open(db, dsn, read_only=True)
    try:
        verifiers = [_log_verifier(log_key, log.origin)] if log_key else None
        lookup = did_key_lookup if signatures else None
        if sys.stderr.isatty() and not as_json:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            ) as bar:
                task = bar.add_task("auditing", total=log.size)

                def progress(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                report = audit(log.store, verifiers=verifiers, key_lookup=lookup, progress=progress)
        else:
            report = audit(log.store, verifiers=verifiers, key_lookup=lookup)
    finally:
        log.store.close()
    data = {
        "ok": report.ok,
        "size": report.size,
        "firstBadIndex": report.first_bad_index,
        "reason": report.reason,
        "root": b64_encode(report.root) if report.root else None,
        "checkpointSize": report.checkpoint_size,
        "signaturesChecked": report.signatures_checked,
    }
    if report.ok:
        _emit(as_json, data, f"ok: {report.size} entries intact")
        return
    where = "" if report.first_bad_index is None else f" at entry {report.first_bad_index}"
    if as_json:
        _emit(True, data, "")
    echo_safe(f"error: audit failed{where}: {report.reason}", err=True)
    sys.exit(1)


# -- cosign -------------------------------------------------------------------------


@ledger.command("cosign")
@_store_options
@click.option(
    "--witness-key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="The witness's Ed25519 key file.",
)
@click.option(
    "--log-key",
    required=True,
    metavar="VKEY",
    help="The log's checkpoint key: vkey, did:key, Multikey or public key file.",
)
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="JSON file keeping the last checkpoint this witness cosigned.",
)
@click.option("--name", default=_DEFAULT_WITNESS, show_default=True, help="Witness key name.")
@click.option(
    "--note",
    "note_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Cosign this checkpoint note instead of the newest stored one.",
)
def cosign(
    db: Path | None,
    dsn: str | None,
    as_json: bool,
    witness_key: Path,
    log_key: str,
    state: Path,
    name: str,
    note_file: Path | None,
) -> None:
    """Cosign the log's newest checkpoint if it is consistent with the last one cosigned."""
    from ledger.witness import JSONFileWitnessState, Witness

    key = read_key_file(witness_key)
    log = _open(db, dsn, read_only=True)
    try:
        note = note_file.read_text(encoding="utf-8") if note_file else _newest_note(log)
        body = Checkpoint.parse(SignedNote.parse(note).text)
        witness_state = JSONFileWitnessState(state)
        witness = Witness(
            name, key, witness_state, logs={log.origin: [_log_verifier(log_key, log.origin)]}
        )
        last = witness_state.get(body.origin)
        proof = None
        if last is not None and 0 < last.size < body.size <= log.size:
            proof = log.prove_consistency(last.size, body.size)
        cosigned = witness.cosign(note, proof)
    finally:
        log.store.close()
    _emit(
        as_json,
        {"origin": body.origin, "size": body.size, "note": cosigned, "vkey": witness.verifier.vkey},
        cosigned.rstrip("\n"),
    )


# -- did:ledger -----------------------------------------------------------------------


@ledger.group("did")
def did_group() -> None:
    """Create, update, deactivate and resolve did:ledger DIDs."""


def _signer_for(method: LedgerMethod, did: str, key: PrivateKey) -> Signer:
    mk = key.public_key.to_multikey()
    for vm in method.template(did)["verificationMethod"]:
        if vm["publicKeyMultibase"] == mk:
            return Signer(key, did + vm["id"])
    raise SSIWalletError(f"this key is not a verification method of {did}")


def _service(text: str) -> dict[str, str]:
    parts = text.split("=", 2)
    if len(parts) != 3:
        raise click.BadParameter("a service is ID=TYPE=URL", param_hint="--service")
    sid, stype, url = parts
    return {"id": sid if sid.startswith("#") else f"#{sid}", "type": stype, "serviceEndpoint": url}


@did_group.command("create")
@_store_options
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="The controller's first key (becomes #key-1).",
)
@click.option("--service", "services", multiple=True, metavar="ID=TYPE=URL", help="A service.")
def did_create(
    db: Path | None, dsn: str | None, as_json: bool, key_file: Path, services: tuple[str, ...]
) -> None:
    """Create a did:ledger DID controlled by KEY_FILE's key and print it."""
    key = read_key_file(key_file)
    log = _open(db, dsn)
    try:
        version = LedgerMethod(log).create(key, services=[_service(s) for s in services])
    finally:
        log.store.close()
    _emit(as_json, {"did": version.did, "versionId": version.version_id, "index": version.index},
          version.did)  # fmt: skip


@did_group.command("update")
@_store_options
@click.argument("did")
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="A capabilityInvocation key of the DID's current version.",
)
@click.option(
    "--rotate-to",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Replace the signing key by this key file's key.",
)
@click.option("--add-service", "add", multiple=True, metavar="ID=TYPE=URL")
@click.option("--remove-service", "remove", multiple=True, metavar="ID")
def did_update(
    db: Path | None,
    dsn: str | None,
    as_json: bool,
    did: str,
    key_file: Path,
    rotate_to: Path | None,
    add: tuple[str, ...],
    remove: tuple[str, ...],
) -> None:
    """Rotate the key of DID and/or add and remove services (one new version)."""
    if rotate_to is None and not add and not remove:
        raise click.UsageError(
            "nothing to update: give --rotate-to, --add-service or --remove-service"
        )
    key = read_key_file(key_file)
    log = _open(db, dsn)
    try:
        method = LedgerMethod(log)
        signer = _signer_for(method, did, key)
        template = method.template(did)
        services = [s for s in template.get("service", []) if s["id"].lstrip("#") not in
                    {r.lstrip("#") for r in remove}]  # fmt: skip
        if len(services) + len(remove) != len(template.get("service", [])):
            raise click.UsageError("--remove-service names a service the DID does not have")
        services += [_service(s) for s in add]
        if services:
            template["service"] = services
        else:
            template.pop("service", None)
        if rotate_to is not None:
            new_key = read_key_file(rotate_to).public_key
            old = "#" + signer.method.partition("#")[2]
            new = f"#key-{method.latest(did).number + 1}"
            for vm in template["verificationMethod"]:
                if vm["id"] == old:
                    vm["id"], vm["publicKeyMultibase"] = new, new_key.to_multikey()
            for purpose, refs in template.items():
                if purpose not in ("verificationMethod", "service"):
                    template[purpose] = [new if r == old else r for r in refs]
        version = method.update(did, signer, template)
    finally:
        log.store.close()
    _emit(as_json, {"did": did, "versionId": version.version_id, "index": version.index},
          f"{did} version {version.version_id}")  # fmt: skip


@did_group.command("deactivate")
@_store_options
@click.argument("did")
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="A capabilityInvocation key of the DID's current version.",
)
def did_deactivate(
    db: Path | None, dsn: str | None, as_json: bool, did: str, key_file: Path
) -> None:
    """Deactivate DID for good."""
    key = read_key_file(key_file)
    log = _open(db, dsn)
    try:
        method = LedgerMethod(log)
        version = method.deactivate(did, _signer_for(method, did, key))
    finally:
        log.store.close()
    _emit(as_json, {"did": did, "versionId": version.version_id, "index": version.index},
          f"{did} deactivated (version {version.version_id})")  # fmt: skip


@did_group.command("resolve")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help="SQLite file.")
@click.option("--dsn", metavar="DSN", help="PostgreSQL database (postgresql://...).")
@_schema_option
@click.argument("did")
@click.option("--version-id", help="Resolve this version.")
@click.option("--version-time", help="Resolve the version in force at this RFC 3339 instant.")
def did_resolve(
    db: Path | None, dsn: str | None, did: str, version_id: str | None, version_time: str | None
) -> None:
    """Print the DID Resolution result of a did:ledger DID as JSON (exit 1 if unresolved)."""
    from did_methods.resolver import Resolver

    log = _open(db, dsn, read_only=True)
    try:
        options = {}
        if version_id is not None:
            options["versionId"] = version_id
        if version_time is not None:
            options["versionTime"] = version_time
        result = Resolver([LedgerMethod(log)]).resolve(did, **options)
    finally:
        log.store.close()
    emit_json(result.to_json())
    if result.error is not None:
        message = result.did_resolution_metadata.get("errorMessage", "")
        echo_safe(f"error: {result.error}: {message}", err=True)
        sys.exit(2 if result.error in ("invalidDid", "invalidOptions") else 1)
