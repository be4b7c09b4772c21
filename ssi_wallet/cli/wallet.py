"""``ssi-wallet wallet``: the holder's encrypted wallet from the command line.

Every command takes ``--wallet PATH`` (or the ``SSI_WALLET`` variable) and
the passphrase from ``--passphrase-env VAR`` or a hidden prompt; never as an
argument, where it would sit in the shell history and the process list.
Files that hold personal data (``export --out``, ``answer --out``) are written
with mode 0600. A passphrase set here (``create``, ``passphrase``, a backup's,
a wallet restored into a new file) needs at least 12 characters, of which at
least 6 different (:func:`ssi_wallet.holder.check_passphrase_strength`); a
weaker one is refused with exit 2. Exit codes: 0 ok, 1 a negative answer (does
not verify, not found, consent refused, wrong passphrase), 2 usage or malformed
input.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from credentials import schemas
from did_methods._wire.text import safe_json
from did_methods.errors import OutputFileError, PolicyError, SSIWalletError
from did_methods.resolver import Resolver
from ssi_wallet.cli._io import echo_safe, emit, emit_json, force_option, read_input, write_out
from ssi_wallet.cli._options import (
    StoreTarget,
    json_option,
    language_option,
    read_passphrase,
    store_options,
)
from ssi_wallet.holder import (
    ConsentRequest,
    CredentialSummary,
    Holder,
    StoredCredential,
    check_passphrase_strength,
)
from ssi_wallet.request import PresentationRequest

__all__ = ["wallet"]

F = TypeVar("F", bound=Callable[..., Any])

#: Upper bound on any file or stdin the wallet commands read.
# SD-JWT claims about the token rather than the person (RFC 9901, SD-JWT VC).


# -- options ------------------------------------------------------------------------


def _wallet_options(func: F) -> F:
    func = click.option(
        "--passphrase-env",
        metavar="VAR",
        help="Read the passphrase from this environment variable (default: a hidden prompt).",
    )(func)
    func = click.option(
        "--wallet",
        "wallet_path",
        required=True,
        envvar="SSI_WALLET",
        type=click.Path(dir_okay=False, path_type=Path),
        help="The wallet file (default: $SSI_WALLET).",
    )(func)
    return func


_RULE = "at least 12 characters, 6 of them different"


def _passphrase(env: str | None, *, confirm: bool = False, what: str = "Wallet") -> str:
    secret = read_passphrase(env, prompt=f"{what} passphrase", confirm=confirm)
    assert secret is not None  # asked when no variable is named
    return secret


def _new_passphrase(env: str | None, what: str = "Wallet") -> str:
    """A passphrase being set: read as any other (asked twice), then held to the rule."""
    secret = _passphrase(env, confirm=True, what=what)
    check_passphrase_strength(secret)
    return secret


@contextmanager
def _opened(
    path: Path,
    env: str | None,
    resolver: Resolver | None = None,
    *,
    read_only: bool = False,
    secret: str | None = None,
) -> Iterator[Holder]:
    """The wallet at ``path``; ``read_only`` commands never create or alter the file.

    ``secret`` is the passphrase when the command has already read it.
    """
    if not path.is_file():
        raise click.UsageError(f"no wallet at {path}; create one with 'ssi-wallet wallet create'")
    if secret is None:
        secret = _passphrase(env)
    holder = Holder.open(path, passphrase=secret, resolver=resolver, read_only=read_only)
    try:
        yield holder
    finally:
        holder.close()


def _type_name(cred: StoredCredential | CredentialSummary) -> str:
    """The vocabulary name of a stored credential's type (its vct for SD-JWT)."""
    last = cred.types[-1] if cred.types else ""
    if cred.format == "dc+sd-jwt":
        try:
            return schemas.type_for_vct(last)
        except ValueError:
            return last
    return last


def _summary(cred: StoredCredential | CredentialSummary, *, claims: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": cred.id,
        "type": _type_name(cred),
        "issuer": cred.issuer,
        "format": cred.format,
        "stored_at": cred.stored_at,
    }
    if claims and isinstance(cred, StoredCredential):
        out["claims"] = dict(cred.claims)
    return out


# -- commands -----------------------------------------------------------------------


@click.group()
def wallet() -> None:
    """Hold credentials in an encrypted wallet and present them, after consent."""


@wallet.command("create")
@_wallet_options
def create(wallet_path: Path, passphrase_env: str | None) -> None:
    """Create a wallet file (mode 0600) with a fresh key pair; print the holder's DID.

    The passphrase is asked twice when not given through --passphrase-env,
    and needs at least 12 characters, 6 of them different (exit 2 otherwise:
    a few words will do). An existing file is never overwritten.
    """
    if wallet_path.exists():
        raise OutputFileError("exists", f"{wallet_path} exists; refusing to overwrite it")
    holder = Holder.create(wallet_path, passphrase=_new_passphrase(passphrase_env))
    try:
        click.echo(holder.did)
    finally:
        holder.close()


@wallet.command("did")
@_wallet_options
def did(wallet_path: Path, passphrase_env: str | None) -> None:
    """Print the holder's DID (the subject issuers write credentials to)."""
    with _opened(wallet_path, passphrase_env, read_only=True) as holder:
        click.echo(holder.did)


@wallet.command("store")
@_wallet_options
@click.argument("source", metavar="FILE|-")
@store_options(
    required=False, db_help="A ledger (SQLite file) to resolve did:ledger issuers through."
)
@json_option
def store(
    wallet_path: Path,
    passphrase_env: str | None,
    source: str,
    store: StoreTarget | None,
    as_json: bool,
) -> None:
    """Verify a credential read from FILE (or - for stdin) and keep it.

    The signature, the issuer's key and the validity period are checked
    first (status is the verifier's question). Exit 1 when the credential
    does not verify (nothing is stored), 2 when it cannot be read.
    """
    text = read_input(source, "credential")
    ledger = store.open_ledger(read_only=True) if store is not None else None
    try:
        resolver = ledger.resolver() if ledger is not None else Resolver.default()
        with _opened(wallet_path, passphrase_env, resolver) as holder:
            stored = holder.store(text)
    finally:
        if ledger is not None:
            ledger.close()
    text = f"stored {stored.id} ({_type_name(stored)}, {stored.format})"
    emit(as_json, _summary(stored, claims=False), text)


@wallet.command("list")
@_wallet_options
@json_option
@click.option("--claims", is_flag=True, help="Include the personal claims.")
def list_(wallet_path: Path, passphrase_env: str | None, as_json: bool, claims: bool) -> None:
    """List the stored credentials: id, type, issuer, format, when stored.

    Personal claims are shown only with --claims.
    """
    with _opened(wallet_path, passphrase_env, read_only=True) as holder:
        listed = holder.credentials() if claims else holder.summaries()
        rows = [_summary(c, claims=claims) for c in listed]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        echo_safe(f"{row['id']}  {row['type']}  {row['format']}  {row['stored_at']}")
        echo_safe(f"    issuer: {row['issuer']}")
        for name, value in row.get("claims", {}).items():
            echo_safe(f"    {name}: {safe_json(value, indent=None)}")
    if not rows:
        click.echo("no credentials", err=True)


@wallet.command("show")
@_wallet_options
@click.argument("credential_id", metavar="ID")
def show(wallet_path: Path, passphrase_env: str | None, credential_id: str) -> None:
    """Print one stored credential as JSON: its claims and the credential as issued.

    Exit 1 when the wallet holds no credential ID.
    """
    with _opened(wallet_path, passphrase_env, read_only=True) as holder:
        found = holder.credential(credential_id)
    emit_json({**_summary(found, claims=True), "raw": found.to_json()["raw"]})


@wallet.command("delete")
@_wallet_options
@click.argument("credential_id", metavar="ID")
def delete(wallet_path: Path, passphrase_env: str | None, credential_id: str) -> None:
    """Delete one credential (its row is overwritten on disk). Exit 1 when there is none."""
    with _opened(wallet_path, passphrase_env) as holder:
        holder.delete(credential_id)
    echo_safe(f"deleted {credential_id}")


@wallet.command("history")
@_wallet_options
@json_option
def history(wallet_path: Path, passphrase_env: str | None, as_json: bool) -> None:
    """Who saw what, when and why: every disclosure this wallet made, oldest first."""
    with _opened(wallet_path, passphrase_env, read_only=True) as holder:
        records = [r.to_json() for r in holder.history()]
    if as_json:
        emit_json(records)
        return
    for record in records:
        echo_safe(f"{record['at']}  {record['verifier']}  {record['purpose']}")
        for cred_id, paths in record["disclosed"].items():
            shown = ", ".join(".".join(str(p) for p in path) for path in paths) or "whole"
            echo_safe(f"    {cred_id}: {shown}")
    if not records:
        click.echo("no disclosures", err=True)


@wallet.command("erase-history")
@_wallet_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_history(wallet_path: Path, passphrase_env: str | None, yes: bool) -> None:
    """Forget the disclosure history (the credentials stay)."""
    with _opened(wallet_path, passphrase_env) as holder:
        if not yes and not click.confirm("Erase the whole disclosure history?", err=True):
            click.echo("nothing erased", err=True)
            sys.exit(1)
        count = holder.erase_history()
    click.echo(f"erased {count} record(s)")


@wallet.command("export")
@_wallet_options
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this new file (mode 0600) instead of stdout.",
)
@force_option
def export(wallet_path: Path, passphrase_env: str | None, out: Path | None, force: bool) -> None:
    """Everything the wallet holds about you, as one JSON object (GDPR article 20).

    Credentials with their claims and the disclosure history; the private key
    is not included.
    """
    with _opened(wallet_path, passphrase_env, read_only=True) as holder:
        text = safe_json(holder.export())
    if out is None:
        click.echo(text)
    else:
        write_out(out, text + "\n", force=force)


@wallet.command("answer")
@_wallet_options
@click.argument("request_file", metavar="REQUEST.json|-")
@click.option("--yes", is_flag=True, help="Consent without asking (the request is still shown).")
@language_option(help="Language of credential and claim names.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the presentation to this new file (mode 0600) instead of stdout.",
)
@force_option
def answer(
    wallet_path: Path,
    passphrase_env: str | None,
    request_file: str,
    yes: bool,
    language: str,
    out: Path | None,
    force: bool,
) -> None:
    """Answer a verifier's presentation request, after you consent.

    Shows who asks, why, and exactly which claims of which credentials would
    be disclosed (on stderr), then asks for consent unless --yes (on the
    terminal, /dev/tty, when the request is read from stdin with -; with no
    terminal there is no consent). The
    presentation JSON goes to stdout or --out. Exit 1 when the wallet cannot
    satisfy the request, the request has expired or consent is refused
    (nothing is disclosed or recorded then); 2 when the request is malformed.
    The request's verifier name is what the request says: an unsigned
    request does not prove who sent it.
    """
    request = PresentationRequest.from_json(read_input(request_file, "request"))

    declined: list[ConsentRequest] = []

    def consent(ask: ConsentRequest) -> bool:
        echo_safe(ask.describe(language), err=True)
        if yes:
            agreed = True
        elif request_file == "-":  # stdin held the request: ask on the terminal
            agreed = _confirm_on_terminal("Disclose this?")
        else:
            try:
                agreed = click.confirm("Disclose this?", default=False, err=True)
            except click.Abort:  # end of input or Ctrl-C: no consent
                agreed = False
        if not agreed:
            declined.append(ask)
        return agreed

    with _opened(wallet_path, passphrase_env) as holder:
        found = holder.find(request)
        if not found.ok:
            echo_safe(
                f"error: no credential in this wallet fits {', '.join(found.missing)}", err=True
            )
            sys.exit(1)
        try:
            presentation = holder.answer(request, consent=consent)
        except PolicyError:
            if declined:
                click.echo("declined: nothing was disclosed", err=True)
                sys.exit(1)
            raise
    text = safe_json(presentation.to_json())
    if out is None:
        click.echo(text)
    else:
        write_out(out, text + "\n", force=force)
        click.echo(f"presentation written to {out}", err=True)


def _confirm_on_terminal(question: str) -> bool:
    """Ask ``question`` on the controlling terminal (stdin is taken); no terminal, no."""
    try:
        with open("/dev/tty", "r+b", buffering=0) as tty:  # a terminal is not seekable
            tty.write(f"{question} [y/N]: ".encode())
            reply = tty.readline(64).decode("utf-8", "replace")
    except OSError:
        click.echo("no terminal to ask for consent on (give --yes to consent)", err=True)
        return False
    return reply.strip().lower() in ("y", "yes")


@wallet.command("present")
@_wallet_options
@click.argument("request_uri", metavar="REQUEST_URI")
@click.option("--yes", is_flag=True, help="Consent without asking (the request is still shown).")
@language_option(help="Language of credential and claim names.")
@click.option(
    "--trust-anchors",
    "anchors_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PEM certificates an x509_san_dns: verifier's chain must reach.",
)
@click.option(
    "--trusted-client-id",
    "trusted_ids",
    multiple=True,
    metavar="CLIENT_ID",
    help="An x509_san_dns: verifier allowed a response URI on another host (repeatable).",
)
@click.option(
    "--attestation-issuer",
    "attesters",
    multiple=True,
    nargs=2,
    type=(str, click.Path(dir_okay=False, path_type=Path)),
    metavar="ISS JWK_FILE",
    help="A Verifier Attestation issuer trusted for verifier_attestation: verifiers: its "
    "iss and a file holding its public JWK (repeatable).",
)
@click.option(
    "--transaction-data-type",
    "transaction_types",
    multiple=True,
    metavar="TYPE",
    help="A transaction data type this wallet may authorise (shown before consent; "
    "repeatable). Others are refused.",
)
@click.option(
    "--allow-loopback",
    is_flag=True,
    help="Allow http and 127.0.0.1/localhost verifiers (testing on this machine only).",
)
def present_(
    wallet_path: Path,
    passphrase_env: str | None,
    request_uri: str,
    yes: bool,
    language: str,
    anchors_file: Path | None,
    trusted_ids: tuple[str, ...],
    attesters: tuple[tuple[str, Path], ...],
    transaction_types: tuple[str, ...],
    allow_loopback: bool,
) -> None:
    """Answer an OpenID4VP authorization request (openid4vp://?client_id=...&request_uri=...).

    Fetches the request object, verifies it and the verifier's identity
    (decentralized_identifier: by DID resolution, x509_san_dns: and x509_hash: by
    its certificate chain to --trust-anchors, verifier_attestation: by an
    --attestation-issuer, redirect_uri: unsigned), shows who
    asks for which claims (on stderr) and asks for consent unless --yes, then
    posts the presentations (direct_post, or encrypted: direct_post.jwt).
    Prints JSON: the verifier, the response mode and the redirect_uri, if any.
    Exit 1 when the request or the verifier is refused, no credential fits or
    consent is refused (a refusal is sent to the verifier as access_denied).
    """
    from credentials.x5c import load_trust_anchors
    from did_methods._wire.json import loads_object
    from did_methods.http import HttpFetcher
    from did_methods.keys import PublicKey
    from ssi_wallet.oid4vp import present

    anchors = []
    if anchors_file is not None:
        try:
            anchors = load_trust_anchors(anchors_file.read_bytes())
        except OSError as exc:
            raise click.UsageError(f"cannot read {anchors_file}: {exc}") from exc
    issuers = {}
    for iss, jwk_file in attesters:
        try:
            issuers[iss] = PublicKey.from_jwk(
                loads_object(jwk_file.read_bytes(), what="a public JWK", max_bytes=64 * 1024)
            )
        except (OSError, SSIWalletError) as exc:
            raise click.UsageError(f"cannot read the public JWK {jwk_file}: {exc}") from exc

    def consent(ask: ConsentRequest) -> bool:
        echo_safe(ask.describe(language), err=True)
        try:
            return yes or click.confirm("Disclose this?", default=False, err=True)
        except click.Abort:  # end of input or Ctrl-C: no consent
            return False

    with _opened(wallet_path, passphrase_env) as holder:
        try:
            outcome = present(
                holder,
                request_uri,
                consent=consent,
                resolver=Resolver.default(),
                transport=HttpFetcher(allow_loopback=allow_loopback),
                trust_anchors=anchors,
                trusted_client_ids=set(trusted_ids),
                attestation_issuers=issuers,
                transaction_data_types=set(transaction_types),
            )
        except PolicyError as exc:
            echo_safe(f"declined: nothing was disclosed ({exc})", err=True)
            sys.exit(1)
    emit_json(
        {
            "verifier": outcome.request.client_id,
            "response_mode": outcome.request.response_mode,
            "disclosed": sorted(outcome.presentation.vp_token),
            "redirect_uri": outcome.redirect_uri,
        }
    )


@wallet.command("receive")
@_wallet_options
@click.argument("offer_uri", metavar="OFFER_URI")
@click.option(
    "--tx-code-env",
    metavar="VAR",
    help="Read the transaction code from this environment variable (default: a prompt).",
)
@click.option(
    "--batch",
    type=click.IntRange(1, 32),
    default=1,
    show_default=True,
    help="Instances of each credential, each bound to a key of its own.",
)
@click.option(
    "--wait",
    type=click.FloatRange(0, 3600),
    default=0.0,
    show_default=True,
    help="Seconds to wait for deferred credentials (asking at the issuer's interval).",
)
@store_options(
    required=False, db_help="A ledger (SQLite file) to resolve did:ledger issuers through."
)
@click.option("--yes", is_flag=True, help="Accept the offer without asking (it is still shown).")
@click.option(
    "--allow-loopback",
    is_flag=True,
    help="Allow http and 127.0.0.1/localhost issuers (testing on this machine only).",
)
@click.option(
    "--encrypt",
    is_flag=True,
    help="Encrypt requests and ask for encrypted responses whenever the issuer supports it.",
)
@click.option(
    "--proof-type",
    type=click.Choice(["jwt", "di_vp"]),
    default="jwt",
    show_default=True,
    help="How the wallet proves its keys.",
)
@click.option(
    "--metadata-anchors",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM roots: ask for signed issuer metadata and require it (x5c naming the host).",
)
def receive(
    wallet_path: Path,
    passphrase_env: str | None,
    offer_uri: str,
    tx_code_env: str | None,
    batch: int,
    wait: float,
    store: StoreTarget | None,
    yes: bool,
    allow_loopback: bool,
    encrypt: bool,
    proof_type: str,
    metadata_anchors: Path | None,
) -> None:
    """Receive credentials offered by an OpenID4VCI issuer (openid-credential-offer://...).

    Fetches the offer and the issuer's metadata, shows who offers what (on
    stderr) and asks before going on unless --yes, then runs the offer's
    grant: the pre-authorized code (with the transaction code the issuer sent
    you by another channel) or the authorization code flow (open the printed
    address in a browser, sign in, paste the address you are sent back to).
    Every credential is verified before it is kept. Prints JSON: what was
    stored and what is still deferred. Exit 1 when the issuer refuses or a
    credential does not verify. With --metadata-anchors the issuer's metadata
    must come signed by a certificate chaining to those roots; --encrypt
    encrypts what the issuer can decrypt (section 10 of OpenID4VCI).
    """
    import time

    from did_methods.http import HttpFetcher
    from ssi_wallet.oid4vci import WalletClient

    anchors: list[Any] = []
    if metadata_anchors is not None:
        from credentials.x5c import load_trust_anchors

        try:
            anchors = load_trust_anchors(metadata_anchors.read_bytes())
        except (OSError, SSIWalletError) as exc:
            raise click.UsageError(f"--metadata-anchors: {exc}") from exc

    ledger = store.open_ledger(read_only=True) if store is not None else None
    try:
        resolver = ledger.resolver() if ledger is not None else Resolver.default()
        with _opened(wallet_path, passphrase_env, resolver) as holder:
            client = WalletClient(
                holder,
                HttpFetcher(allow_loopback=allow_loopback),
                unsafe_allow_http=allow_loopback,
                encrypt=encrypt,
                proof_type=proof_type,
                metadata_trust_anchors=anchors,
                require_signed_metadata=bool(anchors),
            )
            resolved = client.resolve_offer(offer_uri)
            offered = ", ".join(resolved.offer.credential_configuration_ids)
            echo_safe(f"{resolved.offer.credential_issuer} offers: {offered}", err=True)
            if not yes and not click.confirm("Receive them?", default=False, err=True):
                echo_safe("declined: nothing was requested", err=True)
                sys.exit(1)

            def tx_code(described: Any) -> str:
                if tx_code_env:
                    return _passphrase(tx_code_env)
                hint = described.get("description") if isinstance(described, dict) else None
                echo_safe(f"transaction code: {hint or 'sent to you by the issuer'}", err=True)
                return str(click.prompt("Transaction code", err=True)).strip()

            def authorize(url: str) -> str:
                echo_safe(f"open this address in a browser and sign in:\n{url}", err=True)
                return str(click.prompt("Address you were sent back to", err=True)).strip()

            result = client.receive(offer_uri, tx_code=tx_code, batch=batch, authorize=authorize)
            deadline = time.monotonic() + wait
            pending = list(result.pending)
            while pending and time.monotonic() < deadline:
                time.sleep(min(max(p.interval for p in pending), deadline - time.monotonic(), 60))
                still = []
                for item in pending:
                    got = client.fetch_deferred(item, resolved)
                    result.stored.extend(got.stored)
                    still.extend(got.pending)
                pending = still
    finally:
        if ledger is not None:
            ledger.close()
    emit_json(
        {
            "issuer": resolved.offer.credential_issuer,
            "metadata_signed": resolved.metadata_signed,
            "stored": [_summary(c, claims=False) for c in result.stored],
            "deferred": [
                {"configuration_id": p.configuration_id, "transaction_id": p.transaction_id}
                for p in pending
            ],
        }
    )


@wallet.command("passphrase")
@_wallet_options
@click.option(
    "--new-passphrase-env",
    metavar="VAR",
    help=f"Read the new passphrase from this environment variable (default: asked twice); {_RULE}.",
)
@click.option(
    "--rekey",
    is_flag=True,
    help="Also reseal every record under a fresh data key (when the old passphrase may be known).",
)
def passphrase(
    wallet_path: Path, passphrase_env: str | None, new_passphrase_env: str | None, rekey: bool
) -> None:
    """Change the wallet's passphrase (the current one is asked first).

    One small write whatever the wallet holds: the records stay sealed under
    the wallet's data key, which is wrapped under the new passphrase. A copy
    of the file taken before still opens with the old one; --rekey also
    reseals every record under a fresh data key, so that copy's key opens
    nothing written afterwards. Exit 1 on a wrong current passphrase (nothing
    changes).
    """
    old = _passphrase(passphrase_env)
    with _opened(wallet_path, passphrase_env, secret=old) as holder:
        new = _new_passphrase(new_passphrase_env, what="New wallet")
        holder.change_passphrase(old, new, rekey=rekey)
    click.echo("passphrase changed", err=True)


@wallet.command("backup")
@_wallet_options
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The backup file to create (mode 0600; an existing file is never overwritten).",
)
@click.option(
    "--backup-passphrase-env",
    metavar="VAR",
    help=f"Protect the backup with this variable's passphrase ({_RULE}; default: the wallet's).",
)
@force_option
def backup(
    wallet_path: Path,
    passphrase_env: str | None,
    out: Path,
    backup_passphrase_env: str | None,
    force: bool,
) -> None:
    """Write the whole wallet (key, credentials, history) sealed into a new file.

    The wallet is only read. Keep the backup as safe as the wallet: it holds
    the holder's private key. Exit 2 when OUT exists (unless --force) or is a
    symbolic link.
    """
    secret = _passphrase(passphrase_env)
    sealing = _passphrase(backup_passphrase_env) if backup_passphrase_env else secret
    if backup_passphrase_env:
        check_passphrase_strength(sealing)
    with _opened(wallet_path, passphrase_env, read_only=True, secret=secret) as holder:
        data = holder.backup_bytes(passphrase=sealing)
    write_out(out, data, force=force)
    click.echo(f"backup written to {out}", err=True)


@wallet.command("restore")
@_wallet_options
@click.argument("backup_file", metavar="BACKUP", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--backup-passphrase-env",
    metavar="VAR",
    help="The backup's passphrase from this variable (default: the wallet's).",
)
@click.option(
    "--allow-other-wallet",
    is_flag=True,
    help="Add the credentials of another wallet's backup (this wallet keeps its own key).",
)
@json_option
def restore(
    wallet_path: Path,
    passphrase_env: str | None,
    backup_file: Path,
    backup_passphrase_env: str | None,
    allow_other_wallet: bool,
    as_json: bool,
) -> None:
    """Bring back what BACKUP holds and the wallet lacks; a missing wallet is created from it.

    Nothing the wallet holds is removed or replaced. A backup of another
    wallet is refused (other_wallet, exit 1) unless --allow-other-wallet.
    Exit 1 on a wrong passphrase, 2 for a file that is not an intact backup.
    """
    secret = _passphrase(passphrase_env)
    backup_secret = _passphrase(backup_passphrase_env) if backup_passphrase_env else secret
    if not wallet_path.exists():
        check_passphrase_strength(secret)  # a new wallet file gets this passphrase
        holder = Holder.from_backup(
            backup_file, wallet_path, passphrase=secret, backup_passphrase=backup_secret
        )
        try:
            result = {
                "holder": holder.did,
                "created": True,
                "credentials_added": len(holder.summaries()),
                "history_added": len(holder.history()),
                "already_present": 0,
            }
        finally:
            holder.close()
    else:
        with _opened(wallet_path, passphrase_env, secret=secret) as holder:
            done = holder.restore(
                backup_file, passphrase=backup_secret, allow_other_wallet=allow_other_wallet
            )
        result = {
            "holder": done.holder,
            "created": False,
            "credentials_added": done.credentials_added,
            "history_added": done.history_added,
            "already_present": done.already_present,
        }
    if as_json:
        emit_json(result)
    else:
        click.echo(
            f"restored {result['credentials_added']} credential(s) and "
            f"{result['history_added']} disclosure record(s); "
            f"{result['already_present']} already present"
        )
