"""``ssi-wallet issuer``: an issuing back office on a ledger database.

Every command takes ``--db PATH`` (a SQLite ledger file) or ``--dsn DSN`` (a
PostgreSQL database, tables in ``--schema``), the issuer's ``--key-file``
(the issuer is found in the database by its key, or by ``--did``) and
``--json``. The issuer, its status lists and the last published list
documents live in that database (see :meth:`ssi_wallet.Issuer.open`), so each
command is a fresh process that carries on where the last one stopped.
Exit codes: 0 ok, 1 refused (policy, not found), 2 usage or malformed input.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from did_methods._wire.json import loads
from did_methods._wire.text import safe_json, safe_json_text
from did_methods.errors import SSIWalletError
from ssi_wallet.cli._io import emit, force_option, progress_bar, read_input, write_out
from ssi_wallet.cli._options import (
    DID_TEXT,
    INSTANT,
    KeySource,
    StoreTarget,
    json_option,
    key_options,
    read_passphrase,
    store_options,
)

__all__ = ["issuer"]

F = TypeVar("F", bound=Callable[..., Any])

_FORMATS = ("sd-jwt", "di-eddsa", "di-ecdsa", "vc-jwt", "jwt_vc_json")
#: Rows one --from-csv file may hold.
MAX_CSV_ROWS = 1_000_000


_HINT = "create the issuer with 'issuer init'"
_LEDGER_HINT = "create it with 'ssi-wallet ledger init'"


class IssuerExists(SSIWalletError):
    """``issuer init`` with a key that already makes an issuer on this ledger (exit 2).

    ``code`` is ``issuer_exists``; ``did`` names the issuer the key makes.
    """

    code = "issuer_exists"

    def __init__(self, did: str) -> None:
        super().__init__(
            f"issuer_exists: this key already makes the issuer {did} on this ledger: "
            "use it (its key file opens it) or create another issuer with another key"
        )
        self.did = did


def _common(func: F) -> F:
    """--db/--dsn/--schema, --key-file, --passphrase-env, --did and --json."""
    func = json_option(func)
    func = click.option(
        "--did", type=DID_TEXT, metavar="DID", help="The issuer's DID, when several share one key."
    )(func)
    func = key_options(
        exists=False,
        help="The issuer's private key file (as written by 'ssi-wallet did create').",
    )(func)
    return store_options()(func)


@contextmanager
def _issuer(store: StoreTarget, key: KeySource, did: str | None) -> Iterator[Any]:
    from ssi_wallet.issuer import Issuer

    signing = key.read()
    with store.open_ledger(hint=_HINT) as led:
        office = Issuer.open(led, key=signing, did=did)
        try:
            yield office, led
        finally:
            office.close()


@click.group("issuer")
def issuer() -> None:
    """Run an issuing back office: create, accredit, issue, revoke and publish."""


# -- init ---------------------------------------------------------------------------


@issuer.command("init")
@store_options()
@key_options(
    exists=False,
    help="The issuer's key file; a new Ed25519 key is written there if it does not exist.",
)
@click.option("--name", required=True, help="The issuing authority's name.")
@click.option(
    "--status-base",
    metavar="URL",
    help="URL prefix the status lists are published under (default: derived from the DID).",
)
@json_option
def init(
    store: StoreTarget,
    key: KeySource,
    name: str,
    status_base: str | None,
    as_json: bool,
) -> None:
    """Create an issuer: its did:ledger DID on the ledger, its first status lists, its rows.

    The ledger must exist ('ssi-wallet ledger init' makes it and its operator);
    a key that already makes an issuer there is refused (issuer_exists, exit 2).
    """
    from ssi_wallet._issuer_store import IssuerSql
    from ssi_wallet.issuer import Issuer

    if not key.path.exists():
        read_passphrase(key.passphrase_env)  # a missing variable is named before anything else
    store.require(_LEDGER_HINT)
    signing = key.read_or_create()
    with store.open_ledger(hint=_LEDGER_HINT) as led:
        with led.log.store.write() as writer:
            if writer.dialect != "memory":
                sql = IssuerSql(writer)
                sql.ensure_schema()
                found = sql.identities(did=None, public_key=signing.public_key.to_multikey())
                if found:
                    raise IssuerExists(found[0].did)
        office = Issuer.create(led, name=name, key=signing, status_base=status_base)
        data = {
            "did": office.did,
            "verificationMethod": office.verification_method,
            "name": office.name,
            "statusBase": office.status_base,
            "keyFile": os.fspath(key.path),
        }
    emit(as_json, data, f"issuer: {data['did']}\nstatus lists under: {data['statusBase']}")


# -- accredit -----------------------------------------------------------------------


@issuer.command("accredit")
@store_options()
@key_options(help="The accreditor's key (the registry's root, or a body allowed to delegate).")
@click.option(
    "--root",
    metavar="DID",
    help="The trust registry's root DID (default: the did:key of --key-file).",
)
@click.option("--did", "subject", required=True, metavar="DID", help="The issuer to accredit.")
@click.option(
    "--type",
    "types",
    required=True,
    multiple=True,
    metavar="TYPE",
    help="A credential type the issuer may issue (repeat for several).",
)
@click.option(
    "--jurisdiction", default="EU", show_default=True, help="Where the accreditation holds."
)
@click.option(
    "--valid-until", type=INSTANT, metavar="TIME", help="ISO 8601 end of the accreditation."
)
@json_option
def accredit(
    store: StoreTarget,
    key: KeySource,
    root: str | None,
    subject: str,
    types: tuple[str, ...],
    jurisdiction: str,
    valid_until: datetime | None,
    as_json: bool,
) -> None:
    """Accredit an issuer on the ledger's trusted issuer registry for credential types.

    Every --type must be a type of the immigration vocabulary (exit 2,
    unknown_credential_type): an accreditation for a misspelt or look-alike
    name would be written for good and vouch for nothing.
    """
    from credentials import schemas

    for type_name in types:
        schemas.schema_id(type_name)  # UnknownCredentialTypeError (exit 2) for another name
    accreditor = key.read()
    with store.open_ledger(key=accreditor, trust_root=root, hint=_HINT) as led:
        accreditation = led.accredit(
            subject, types=types, by=accreditor, jurisdiction=jurisdiction, valid_until=valid_until
        )
        data = {
            "subject": subject,
            "types": list(types),
            "jurisdiction": jurisdiction,
            "index": accreditation.id,
        }
    emit(as_json, data, f"accredited {subject} for {', '.join(types)} in {jurisdiction}")


# -- issue --------------------------------------------------------------------------


def _claim_kinds(type_name: str) -> dict[str, str]:
    """The JSON type each subject claim of ``type_name`` takes ("string" when unsure)."""
    from credentials import schemas

    schema = schemas.schema_for(type_name)
    properties = schema["$defs"]["subject"]["properties"]
    kinds: dict[str, str] = {}
    for name, sub in properties.items():
        while isinstance(sub, dict) and "$ref" in sub and sub["$ref"].startswith("#/$defs/"):
            sub = schema["$defs"].get(sub["$ref"][len("#/$defs/") :], {})
        kind = sub.get("type") if isinstance(sub, dict) else None
        kinds[name] = kind if isinstance(kind, str) else "string"
    return kinds


def _cell(kinds: dict[str, str], column: str, text: str, row: int) -> Any:
    kind = kinds.get(column, "string")
    if kind == "string":
        return text
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            number = loads(text, what=f"CSV row {row}, column {column}")
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise ValueError("not a number")
            return number
        if kind == "boolean":
            if text.lower() not in ("true", "false"):
                raise ValueError("not true or false")
            return text.lower() == "true"
        if kind == "array":
            return loads(text, what=f"CSV row {row}") if text.startswith("[") else text.split(";")
        return loads(text, what=f"CSV row {row}, column {column}")
    except ValueError as exc:
        raise click.UsageError(f"CSV row {row}, column {column}: not a {kind}: {text!r}") from exc


def _csv_subjects(source: Path, type_name: str) -> list[tuple[str, dict[str, Any]]]:
    """(subject DID, claims) per CSV row: a ``subject`` column and one column per claim."""
    try:
        with open(source, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or "subject" not in reader.fieldnames:
                raise click.UsageError(f"{source}: the first row must name a 'subject' column")
            kinds = _claim_kinds(type_name)
            unknown = [c for c in reader.fieldnames if c != "subject" and c not in kinds]
            if unknown:
                raise click.UsageError(
                    f"{source}: {', '.join(unknown)} is not a claim of {type_name}"
                )
            out: list[tuple[str, dict[str, Any]]] = []
            for number, row in enumerate(reader, start=2):
                if len(out) >= MAX_CSV_ROWS:
                    raise click.UsageError(f"{source} has more than {MAX_CSV_ROWS} rows")
                if None in row:
                    raise click.UsageError(f"CSV row {number} has more cells than columns")
                subject = (row.pop("subject") or "").strip()
                if not subject:
                    raise click.UsageError(f"CSV row {number} has no subject")
                claims = {
                    column: _cell(kinds, column, text, number)
                    for column, text in row.items()
                    if text not in (None, "")
                }
                out.append((subject, claims))
            return out
    except OSError as exc:
        raise click.UsageError(f"cannot read {source}: {exc.strerror}") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise click.UsageError(f"{source} is not a UTF-8 CSV file: {exc}") from exc


@issuer.command("issue")
@_common
@click.option(
    "--type",
    "type_name",
    required=True,
    metavar="TYPE",
    help="Credential type from the immigration vocabulary (e.g. WorkPermit).",
)
@click.option(
    "--subject-file",
    metavar="FILE",
    help="JSON file (or - for stdin) with the credentialSubject; its 'id' is the holder's DID.",
)
@click.option(
    "--from-csv",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Issue one credential per row: a 'subject' column (holder DID) and claim columns.",
)
@click.option(
    "--format",
    "fmt",
    default="sd-jwt",
    show_default=True,
    type=click.Choice(_FORMATS),
    help="Securing format.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the credentials to this new file (JSON Lines for --from-csv) instead of stdout.",
)
@force_option
def issue(
    type_name: str,
    subject_file: str | None,
    from_csv: Path | None,
    fmt: str,
    out: Path | None,
    force: bool,
    as_json: bool,
    **common: Any,
) -> None:
    """Issue credentials with status; one from --subject-file, or one per row of --from-csv.

    Each credential is validated against its type's JSON Schema before it is
    signed (a violation exits 2 and names the row). With --from-csv the
    output is JSON Lines, one object per credential: the subject, its
    status reference (LIST:INDEX, for revoke/suspend) and the credential.
    """
    from credentials import schemas
    from ssi_wallet.issuer import CredentialFormat

    if (subject_file is None) == (from_csv is None):
        raise click.UsageError("give exactly one of --subject-file FILE or --from-csv FILE")
    if type_name not in schemas.CREDENTIAL_TYPES:
        raise click.UsageError(
            f"--type must be one of {', '.join(schemas.CREDENTIAL_TYPES)}, not {type_name!r}"
        )
    if from_csv is not None:
        subjects = _csv_subjects(from_csv, type_name)
    else:
        from did_methods._wire.json import loads_object

        assert subject_file is not None
        subject = loads_object(read_input(subject_file, "subject file"), what="subject file")
        holder = subject.pop("id", None)
        if not isinstance(holder, str):
            raise click.UsageError("the subject needs an 'id': the holder's DID")
        subjects = [(holder, subject)]
    bar = from_csv is not None and not as_json
    with (
        _issuer(**common) as (office, _),
        progress_bar("issuing", bar) as progress,
    ):
        try:
            issued = office.issue_many(
                type_name, subjects, format=cast(CredentialFormat, fmt), progress=progress
            )
        except SSIWalletError as exc:
            if from_csv is not None:
                _fail_at_row(exc)
            raise
    lines = [
        {"subject": holder, "status": str(item.status), "credential": item.credential}
        for (holder, _), item in zip(subjects, issued, strict=True)
    ]
    if from_csv is None and not as_json:
        text = issued[0].serialise()
        _write(out, text + "\n", force)
        click.echo(f"status: {issued[0].status}", err=True)
        return
    if from_csv is None:
        # Into a file: one JSON line, as --from-csv writes, so 'revoke --from-file' reads it.
        _write(out, safe_json(lines[0], indent=None if out else 2) + "\n", force)
        return
    buffer = io.StringIO()
    for line in lines:
        buffer.write(safe_json(line, indent=None) + "\n")
    if out is not None:
        _write(out, buffer.getvalue(), force)
        summary = {"issued": len(lines), "out": os.fspath(out)}
        emit(as_json, summary, f"issued {len(lines)} credentials into {out}")
    else:
        click.echo(safe_json_text(buffer.getvalue()), nl=False)


def _fail_at_row(exc: SSIWalletError) -> None:
    """Name the CSV row (header = row 1) of the pair ``issue_many`` failed at, and exit."""
    from ssi_wallet.cli import error_code, exit_code, fail
    from ssi_wallet.issuer import Issuer

    item = Issuer.failed_item(exc)
    if item is not None:
        fail(f"CSV row {item + 1}: {exc}", exit_code(exc), error_code=error_code(exc))


def _write(out: Path | None, text: str, force: bool) -> None:
    if out is None:
        click.echo(safe_json_text(text), nl=False)
        return
    write_out(out, text, force=force)


# -- revoke / suspend / reinstate ---------------------------------------------------


def _refs(refs: tuple[str, ...], from_file: str | None) -> list[Any]:
    """Status references from the arguments and from a file of them (one per line, or
    the JSON Lines 'issuer issue --from-csv' writes)."""
    from ssi_wallet.issuer import StatusRef

    texts = list(refs)
    if from_file is not None:
        for line in read_input(from_file, "reference file").splitlines():
            line = line.strip()
            if not line:
                continue
            if line.startswith("{"):
                from did_methods._wire.json import loads_object

                status = loads_object(line, what="reference line").get("status")
                if not isinstance(status, str):
                    raise click.UsageError("a JSON line needs a 'status' member (LIST:INDEX)")
                line = status
            texts.append(line)
    if not texts:
        raise click.UsageError("name the credentials: REF arguments (LIST:INDEX) or --from-file")
    return [StatusRef.parse(text) for text in texts]


_BAR_LABELS = {"revoke": "revoking", "suspend": "suspending", "reinstate": "reinstating"}


def _status_command(action: str, verb: str, summary: str) -> click.Command:
    @_common
    @click.option(
        "--from-file",
        metavar="FILE",
        help="Status references, one per line (or the JSON Lines of 'issue --from-csv').",
    )
    @click.argument("refs", nargs=-1, metavar="[REF]...")
    def command(from_file: str | None, refs: tuple[str, ...], as_json: bool, **common: Any) -> None:
        targets = _refs(refs, from_file)
        # A bar for a batch read from a file (on a terminal, without --json).
        bar = from_file is not None and not as_json
        with _issuer(**common) as (office, led), progress_bar(_BAR_LABELS[action], bar) as progress:
            size = led.log.size
            count = getattr(office, f"{action}_many")(targets, progress=progress)
            entries = led.log.size - size
        data = {"action": action, "count": count, "ledgerEntries": entries}
        emit(as_json, data, f"{verb} {count} credential(s); lists republished and anchored")

    command.__doc__ = (
        f"{summary} by status reference (LIST:INDEX or INDEX).\n\n"
        "Each touched status list is signed, published and anchored once for the whole "
        "batch, in one ledger transaction. A batch read with --from-file shows a progress "
        "bar on a terminal (not with --json)."
    )
    return issuer.command(action)(command)


revoke = _status_command("revoke", "revoked", "Revoke credentials for good")
suspend = _status_command("suspend", "suspended", "Suspend credentials")
reinstate = _status_command("reinstate", "reinstated", "Lift the suspension of credentials")


# -- publish / status ---------------------------------------------------------------


@issuer.command("publish")
@_common
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write each list document under this directory, as a web server serves them.",
)
def publish(out_dir: Path | None, as_json: bool, **common: Any) -> None:
    """Sign every status list again (they expire after a day), anchor and publish them."""
    with _issuer(**common) as (office, _):
        documents = office.publish_status()
        base = office.status_base
    written = []
    if out_dir is not None:
        for url, data in documents.items():
            relative = url[len(base) :].lstrip("/") if url.startswith(base) else None
            if not relative or ".." in relative.split("/"):
                raise click.UsageError(f"{url} is not under the status base {base}")
            path = out_dir / relative
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise click.UsageError(f"cannot write {path}: {exc.strerror}") from exc
            # public documents (0644), replaced atomically, never through a symbolic link
            write_out(path, data, force=True, mode=0o644)
            written.append(os.fspath(path))
    data_out = {"published": sorted(documents), "written": written}
    emit(as_json, data_out, "\n".join(f"published {url}" for url in sorted(documents)))


@issuer.command("status")
@_common
@click.argument("refs", nargs=-1, metavar="[REF]...")
def status(refs: tuple[str, ...], as_json: bool, **common: Any) -> None:
    """Show the issuer and its status lists, or the status of credentials REF (LIST:INDEX)."""
    from ssi_wallet.issuer import StatusRef

    targets = [StatusRef.parse(text) for text in refs]
    with _issuer(**common) as (office, _):
        if targets:
            states = {str(ref): office.status_of(ref) for ref in targets}
            emit(as_json, states, "\n".join(f"{ref} {state}" for ref, state in states.items()))
            return
        lists = office.status_lists()
        data = {
            "did": office.did,
            "name": office.name,
            "lists": [
                {
                    "list": info.number,
                    "length": info.length,
                    "dealt": info.dealt,
                    "revoked": info.revoked,
                    "suspended": info.suspended,
                    "urls": info.urls,
                }
                for info in lists
            ],
        }
    text = [f"issuer: {data['did']} ({data['name']})"]
    for info in lists:
        text.append(
            f"list {info.number}: {info.dealt}/{info.length} dealt, "
            f"{info.revoked} revoked, {info.suspended} suspended"
        )
    emit(as_json, data, "\n".join(text))
