"""``ssi-wallet ledger``: run a transparency log from the command line.

Every command takes ``--db PATH`` (a SQLite file) or ``--dsn DSN`` (a
PostgreSQL database) and most take ``--json``. ``ledger init`` binds the
store to a log origin and signs a first checkpoint; later commands read the
origin back from the store (``Store.origin()``). Exit codes: 0 ok, 1 a
negative answer (audit failed, not found, refused), 2 usage or malformed input.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from did_methods._wire.b64 import b64_encode
from did_methods.encoding import b64url_encode
from did_methods.errors import InvalidKey, ParseError, SSIWalletError
from did_methods.keyfile import read_key_file
from did_methods.keys import KeyType, PrivateKey, PublicKey
from ledger.checkpoint import Checkpoint, NoteSigner, NoteVerifier, SignedNote
from ledger.entry import DEFAULT_MAX_PAYLOAD, Entry, EntryDraft
from ledger.log import Log
from ledger.personal_data import personal_data_hints
from ledger.registry import LedgerMethod, Signer
from ssi_wallet.cli._io import echo_safe, emit, emit_json, progress_bar, read_bytes
from ssi_wallet.cli._options import (
    DID_TEXT,
    KeySource,
    StoreTarget,
    json_option,
    key_options,
    store_options,
)

__all__ = ["ledger"]

F = TypeVar("F", bound=Callable[..., Any])

_DEFAULT_ORIGIN = "ssi-wallet.local/ledger"
_DEFAULT_WITNESS = "ssi-wallet.local/witness"
_MAX_BATCH = 10_000
_HINT = "create it with 'ssi-wallet ledger init'"


def _store_options(func: F) -> F:
    return store_options()(json_option(func))


def _ed25519(key: PrivateKey, what: str) -> PrivateKey:
    if key.key_type is not KeyType.ED25519:
        raise InvalidKey(f"{what} must be an Ed25519 key, not {key.key_type.value}")
    return key


def _newest_note(log: Log) -> str:
    # A store can be bound to a log without a checkpoint yet ('vault init' without a key).
    latest = log.checkpoints(limit=1)
    if not latest:
        raise click.UsageError("the log has no checkpoint yet: sign one with --key-file")
    return latest[0].note


def _did_key_url(key: PrivateKey) -> str:
    return Signer.for_did_key(key).submitter


@click.group()
def ledger() -> None:
    """Run a transparency log: append, prove, checkpoint, audit and cosign."""


# -- init ---------------------------------------------------------------------------


@ledger.command("init")
@_store_options
@key_options(help="The operator's Ed25519 key (as written by 'ssi-wallet did create').")
@click.option(
    "--origin",
    default=_DEFAULT_ORIGIN,
    show_default=True,
    help="The log's name in checkpoints (a schema-less URL).",
)
@click.option(
    "--adopt",
    is_flag=True,
    help="Make the key the operator of an existing log that holds entries but has none "
    "(one made without 'ledger init').",
)
def init(store: StoreTarget, as_json: bool, key: KeySource, origin: str, adopt: bool) -> None:
    """Create (or reopen) a log and sign a checkpoint; print its verifier key.

    On an existing log the key must be the one that signs its checkpoints:
    another key is refused (checkpoint_key_mismatch), the same key is idempotent.
    A log that holds entries but has no operator yet (made without 'ledger init')
    is refused (operator_unknown) unless --adopt makes this key its operator.
    """
    operator = _ed25519(key.read(), "the operator's key (checkpoints are signed with Ed25519)")
    signer = NoteSigner(origin, operator)  # checks the origin before any file is made
    # A file with content must already be a ledger: init never writes its tables
    # into another kind of file (a wallet, a document) it is pointed at.
    opened = store.open_store()
    try:
        stored = opened.origin()
        if stored is not None and stored != origin:
            raise click.UsageError(f"this store already holds the log {stored!r}")
        # Log refuses a log with entries and no operator unless adopt (operator_unknown).
        log = Log(opened, origin=origin, signer=signer, adopt=adopt)
        note = log.checkpoint()
        vkey = NoteVerifier(origin, operator.public_key).vkey
        emit(
            as_json,
            {"origin": origin, "size": log.size, "vkey": vkey, "checkpoint": note},
            f"origin: {origin}\nsize: {log.size}\nvkey: {vkey}",
        )
    finally:
        opened.close()


# -- append -------------------------------------------------------------------------


def _lines(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        for raw in fh:
            yield raw.rstrip(b"\n").removesuffix(b"\r")


@ledger.command("append")
@_store_options
@key_options(help="The submitter's key; entries are submitted under its did:key.")
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
@click.option(
    "--i-know-this-is-not-personal-data",
    "not_personal",
    is_flag=True,
    help="Append even what looks like personal data (a name, a birth date, an e-mail address).",
)
def append(
    store: StoreTarget,
    as_json: bool,
    key: KeySource,
    kind: str,
    text: str | None,
    file_path: Path | None,
    lines_path: Path | None,
    batch: int,
    not_personal: bool,
) -> None:
    """Append entries signed by KEY_FILE's key; print the indices they got.

    The log cannot forget, and personal data belongs in the vault: a payload
    that looks like personal data (a personal-data label such as name= or
    birthDate:, a date without a time, an e-mail address, capitalised words in
    a row as a name is written) is refused (exit 2) and nothing is written,
    unless --i-know-this-is-not-personal-data. With --lines a progress bar
    shows on stderr when it is a terminal.
    """
    if sum(x is not None for x in (text, file_path, lines_path)) != 1:
        raise click.UsageError("give exactly one of --data, --file or --lines")
    submitter_key = key.read()
    submitter = _did_key_url(submitter_key)
    EntryDraft(kind, b"")  # a malformed kind is a usage error, found before anything is written
    payload = b""
    total = 1
    if lines_path is not None:
        total = 0
        for total, line in enumerate(_lines(lines_path), 1):
            if len(line) > DEFAULT_MAX_PAYLOAD:
                raise click.UsageError(
                    f"line {total} is longer than the {DEFAULT_MAX_PAYLOAD}-byte payload bound"
                )
            if not not_personal:
                _refuse_personal_data(line, f"line {total}")
    elif file_path is not None:
        payload = read_bytes(file_path, "--file", max_bytes=DEFAULT_MAX_PAYLOAD)
    elif text is not None:
        payload = text.encode("utf-8")
        if len(payload) > DEFAULT_MAX_PAYLOAD:
            raise click.UsageError(f"--data is larger than {DEFAULT_MAX_PAYLOAD} bytes")
    if lines_path is None and not not_personal:
        _refuse_personal_data(payload, "--file" if file_path is not None else "--data")
    # The submitter signs entries, never checkpoints: its key is not the operator's.
    log = store.open_log(hint=_HINT)
    try:
        appended: list[Entry] = []
        if lines_path is not None:
            with progress_bar("appending", not as_json) as progress:
                pending: list[bytes] = []
                for line in _lines(lines_path):
                    pending.append(line)
                    if len(pending) >= batch:
                        appended += _append_batch(log, submitter_key, submitter, kind, pending)
                        pending = []
                        if progress is not None:
                            progress(len(appended), total)
                if pending:
                    appended += _append_batch(log, submitter_key, submitter, kind, pending)
                if progress is not None:
                    progress(len(appended), total)
        else:
            appended = _append_batch(log, submitter_key, submitter, kind, [payload])
        first = appended[0].index if appended else None
        last = appended[-1].index if appended else None
        emit(
            as_json,
            {"count": len(appended), "first": first, "last": last, "size": log.size},
            f"appended {len(appended)} entries"
            + (f" at {first}..{last}" if appended else "")
            + f"; log size {log.size}",
        )
    finally:
        log.store.close()


class PersonalDataRefused(ParseError):
    """A payload given to ``ledger append`` looks like personal data (exit 2).

    ``code`` is ``looks_like_personal_data``.
    """

    code = "looks_like_personal_data"


def _refuse_personal_data(payload: bytes, where: str) -> None:
    hints = personal_data_hints(payload)
    if hints:
        raise PersonalDataRefused(
            f"{where} looks like personal data ({'; '.join(hints)}): the log cannot forget, "
            "keep personal data in the vault ('ssi-wallet vault put'); nothing was appended. "
            "If it is not personal data, add --i-know-this-is-not-personal-data"
        )


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
        "leafHash": b64_encode(entry.leaf_hash()),
        "chainHash": entry.chain_hash().hex(),
        "entry": b64url_encode(entry.encode()),
    }


@ledger.command("get")
@_store_options
@click.argument("index", type=click.IntRange(min=0))
def get(store: StoreTarget, as_json: bool, index: int) -> None:
    """Print the entry at INDEX (exit 1 when there is none)."""
    log = store.open_log(hint=_HINT, read_only=True)
    try:
        data = _entry_json(log.get(index))
    finally:
        log.store.close()
    lines = [f"{k}: {v}" for k, v in data.items() if v is not None]
    emit(as_json, data, "\n".join(lines))


@ledger.command("checkpoint")
@_store_options
@key_options(
    required=False,
    help="The operator's Ed25519 key: sign a new checkpoint (else print the newest stored one).",
)
def checkpoint(store: StoreTarget, as_json: bool, key: KeySource | None) -> None:
    """Print the signed checkpoint note (a new one when --key-file is given)."""
    operator = _ed25519(key.read(), "the operator's key") if key is not None else None
    log = store.open_log(hint=_HINT, key=operator, read_only=operator is None)
    try:
        note = log.checkpoint() if operator is not None else _newest_note(log)
    finally:
        log.store.close()
    body = Checkpoint.parse(SignedNote.parse(note).text)
    emit(
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
def prove_inclusion(store: StoreTarget, as_json: bool, index: int, size: int | None) -> None:
    """Print the inclusion proof of entry INDEX in the tree of SIZE entries."""
    log = store.open_log(hint=_HINT, read_only=True)
    try:
        tree_size = log.size if size is None else size
        if index >= tree_size:
            raise SSIWalletError(f"no entry {index} in a tree of {tree_size} entries")
        proof = log.prove_inclusion(index, tree_size)
        leaf = log.get(index).leaf_hash()
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
    emit(as_json, data, "\n".join(text))


@ledger.command("prove-consistency")
@_store_options
@click.argument("size1", type=click.IntRange(min=0))
@click.argument("size2", type=click.IntRange(min=0), required=False)
def prove_consistency(store: StoreTarget, as_json: bool, size1: int, size2: int | None) -> None:
    """Print the proof that the tree of SIZE1 entries is a prefix of the tree of SIZE2."""
    log = store.open_log(hint=_HINT, read_only=True)
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
    emit(as_json, data, "\n".join(text))


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
def audit_cmd(store: StoreTarget, as_json: bool, signatures: bool, log_key: str | None) -> None:
    """Verify the whole log; exit 0 when intact, 1 naming the first bad index when not."""
    from ledger.audit import audit
    from ledger.log import did_key_lookup

    log = store.open_log(hint=_HINT, read_only=True)
    try:
        verifiers = [_log_verifier(log_key, log.origin)] if log_key else None
        lookup = did_key_lookup if signatures else None
        with progress_bar("auditing", not as_json) as progress:
            report = audit(log.store, verifiers=verifiers, key_lookup=lookup, progress=progress)
    finally:
        log.store.close()
    data = {
        "ok": report.ok,
        "size": report.size,
        "firstBadIndex": report.first_bad_index,
        "reason": report.reason,
        "code": report.code,
        "root": b64_encode(report.root) if report.root else None,
        "checkpointSize": report.checkpoint_size,
        "signaturesChecked": report.signatures_checked,
    }
    if report.ok:
        emit(as_json, data, f"ok: {report.size} entries intact")
        return
    where = "" if report.first_bad_index is None else f" at entry {report.first_bad_index}"
    if as_json:
        emit(True, data, "")
    code = "" if report.code is None else f" ({report.code})"
    echo_safe(f"error: audit failed{where}{code}: {report.reason}", err=True)
    sys.exit(1)


# -- cosign -------------------------------------------------------------------------


@ledger.command("cosign")
@_store_options
@key_options(option="--witness-key", help="The witness's Ed25519 key file.")
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
    store: StoreTarget,
    as_json: bool,
    key: KeySource,
    log_key: str,
    state: Path,
    name: str,
    note_file: Path | None,
) -> None:
    """Cosign the log's newest checkpoint if it is consistent with the last one cosigned."""
    from ledger.witness import JSONFileWitnessState, Witness

    witness_key = _ed25519(key.read(), "the witness's key")
    log = store.open_log(hint=_HINT, read_only=True)
    try:
        note = note_file.read_text(encoding="utf-8") if note_file else _newest_note(log)
        body = Checkpoint.parse(SignedNote.parse(note).text)
        witness_state = JSONFileWitnessState(state)
        witness = Witness(
            name,
            witness_key,
            witness_state,
            logs={log.origin: [_log_verifier(log_key, log.origin)]},
        )
        last = witness_state.get(body.origin)
        proof = None
        if last is not None and 0 < last.size < body.size <= log.size:
            proof = log.prove_consistency(last.size, body.size)
        cosigned = witness.cosign(note, proof)
    finally:
        log.store.close()
    emit(
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
@key_options(help="The controller's first key (becomes #key-1).")
@click.option(
    "--service", "services", multiple=True, metavar="ID=TYPE=URL", help="A service (repeatable)."
)
def did_create(
    store: StoreTarget, as_json: bool, key: KeySource, services: tuple[str, ...]
) -> None:
    """Create a did:ledger DID controlled by KEY_FILE's key and print it."""
    controller = key.read()
    log = store.open_log(hint=_HINT)
    try:
        version = LedgerMethod(log).create(controller, services=[_service(s) for s in services])
    finally:
        log.store.close()
    emit(as_json, {"did": version.did, "versionId": version.version_id, "index": version.index},
          version.did)  # fmt: skip


@did_group.command("update")
@_store_options
@click.argument("did")
@key_options(help="A capabilityInvocation key of the DID's current version.")
@click.option(
    "--rotate-to",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Replace the signing key by this key file's key (read with the same --passphrase-env).",
)
@click.option(
    "--add-service", "add", multiple=True, metavar="ID=TYPE=URL", help="Add a service (repeatable)."
)
@click.option(
    "--remove-service", "remove", multiple=True, metavar="ID", help="Remove a service by its id."
)
def did_update(
    store: StoreTarget,
    as_json: bool,
    did: str,
    key: KeySource,
    rotate_to: Path | None,
    add: tuple[str, ...],
    remove: tuple[str, ...],
) -> None:
    """Rotate the key of DID and/or add and remove services (one new version)."""
    if rotate_to is None and not add and not remove:
        raise click.UsageError(
            "nothing to update: give --rotate-to, --add-service or --remove-service"
        )
    controller = key.read()
    log = store.open_log(hint=_HINT)
    try:
        method = LedgerMethod(log)
        signer = _signer_for(method, did, controller)
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
            new_key = KeySource(rotate_to, key.passphrase_env).read().public_key
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
    emit(as_json, {"did": did, "versionId": version.version_id, "index": version.index},
          f"{did} version {version.version_id}")  # fmt: skip


@did_group.command("deactivate")
@_store_options
@click.argument("did", type=DID_TEXT)
@key_options(help="A capabilityInvocation key of the DID's current version.")
def did_deactivate(store: StoreTarget, as_json: bool, did: str, key: KeySource) -> None:
    """Deactivate DID for good."""
    controller = key.read()
    log = store.open_log(hint=_HINT)
    try:
        method = LedgerMethod(log)
        version = method.deactivate(did, _signer_for(method, did, controller))
    finally:
        log.store.close()
    emit(as_json, {"did": did, "versionId": version.version_id, "index": version.index},
          f"{did} deactivated (version {version.version_id})")  # fmt: skip


@did_group.command("resolve")
@store_options()
@click.argument("did")
@click.option("--version-id", help="Resolve this version.")
@click.option("--version-time", help="Resolve the version in force at this RFC 3339 instant.")
def did_resolve(
    store: StoreTarget, did: str, version_id: str | None, version_time: str | None
) -> None:
    """Print the DID Resolution result of a did:ledger DID as JSON (exit 1 if unresolved)."""
    from did_methods.resolver import Resolver

    log = store.open_log(hint=_HINT, read_only=True)
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
