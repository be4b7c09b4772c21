"""``ssi-wallet verify``: check any credential or presentation we support, or a wallet's
answer, and with a ledger whether its issuer is accredited."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING

import click

from credentials.result import VerificationResult
from did_methods._wire.json import loads
from did_methods.errors import JSONError
from did_methods.http import HttpFetcher
from did_methods.resolver import Resolver
from ssi_wallet.cli._io import echo_safe, emit_json, read_input
from ssi_wallet.cli._options import INSTANT, StoreTarget, store_options
from ssi_wallet.trust import Checking

if TYPE_CHECKING:
    from ledger.facade import Ledger

__all__ = ["verify"]

_NOT_CHECKED = "give --db FILE or --dsn DSN (the ledger with the trust registry) to check it"


def _open_ledger(store: StoreTarget | None, trust_root: str | None) -> Ledger | None:
    """The ledger of ``--db`` or ``--dsn``, read-only, or None when neither is given."""
    if store is None:
        if trust_root is not None:
            raise click.UsageError("--trust-root needs --db FILE or --dsn DSN")
        return None
    ledger = store.open_ledger(read_only=True, trust_root=trust_root)
    if trust_root is None and ledger.trust_root is None:
        ledger.close()
        raise click.UsageError(
            "this ledger records no trust root: name the registry's root with --trust-root DID"
        )
    return ledger


def _is_answer(text: str) -> bool:
    """Does ``text`` look like what ``ssi-wallet wallet answer`` writes (a vp_token)?"""
    if not text.startswith("{"):
        return False
    try:
        data = loads(text, what="input")
    except JSONError:
        return False
    return isinstance(data, dict) and "vp_token" in data


def _unreadable(result: VerificationResult) -> bool:
    """Is the input no credential or presentation at all (its syntax check failed)?"""
    syntax = result.check("syntax")
    return syntax is not None and syntax.status == "failed"


@click.command("verify")
@click.argument("source", metavar="FILE|-")
@click.option("--json", "as_json", is_flag=True, help="Print the structured result as JSON.")
@click.option(
    "--at", "at", type=INSTANT, metavar="TIME", help="Judge validity at this ISO 8601 instant."
)
@click.option("--nonce", help="Expected nonce (key binding) and challenge (presentation proof).")
@click.option("--audience", help="Expected audience (key binding) and domain (presentation proof).")
@store_options(
    required=False,
    db_help="A ledger (SQLite file): resolve did:ledger issuers and check their accreditation.",
)
@click.option(
    "--trust-root",
    metavar="DID",
    help="With --db/--dsn: the registry root to trust (default: the one the ledger records).",
)
@click.option("--allow-http", is_flag=True, help="Fetch did:web and status lists over plain HTTP.")
@click.option("--allow-private", is_flag=True, help="Allow private and loopback addresses.")
def verify(
    source: str,
    as_json: bool,
    at: datetime | None,
    nonce: str | None,
    audience: str | None,
    store: StoreTarget | None,
    trust_root: str | None,
    allow_http: bool,
    allow_private: bool,
) -> None:
    """Verify a credential or presentation read from FILE (or - for stdin).

    The format is detected: JSON with a Data Integrity proof, a compact JWS
    (vc+jwt / vp+jwt), an SD-JWT VC, or what 'ssi-wallet wallet answer'
    writes (each presentation in it is verified). With --nonce and
    --audience a key binding (SD-JWT) or presentation proof must carry them;
    without them, holder binding is reported as not checked (for an answer,
    its own nonce and audience are used, and the output says so). With --db
    or --dsn, did:ledger issuers resolve through the ledger and each issuer's
    accreditation for the credential's type and issuing state is checked on
    its trust registry; without, a line says issuer trust was not checked.
    Dates are shown as ISO 8601. Exit 0 valid, 1 invalid (or not
    accredited), 2 malformed input (not a credential at all) or usage.
    """
    text = read_input(source, "input")
    fetcher = HttpFetcher(allow_http=allow_http, allow_private=allow_private)
    ledger = _open_ledger(store, trust_root)
    try:
        resolver = (
            ledger.resolver(fetcher=fetcher)
            if ledger is not None
            else Resolver.default(fetcher=fetcher, unsafe_web_allow_http=allow_http)
        )
        registry = ledger.issuers if ledger is not None else None
        note = ""
        if registry is not None and trust_root is None:
            note = f" (trust root {registry.root}, recorded in the ledger; yours: --trust-root)"
        checking = Checking(
            resolver=resolver,
            now=at,
            nonce=nonce,
            audience=audience,
            status_fetcher=fetcher,
            registry=registry,
            trust_hint=_NOT_CHECKED,
            trust_note=note,
        )
        if _is_answer(text):
            answer = checking.verify_answer(text)
            results = [result for _, result in answer.results]
            data, shown, valid = answer.to_json(), answer.explain(), answer.ok
        else:
            result = checking.verify(text)
            results = [result]
            data, shown, valid = result.to_json(), result.explain(), result.ok
    finally:
        if ledger is not None:
            ledger.close()
    if as_json:
        emit_json(data)
    else:
        echo_safe(shown)
    sys.exit(0 if valid else 2 if any(_unreadable(r) for r in results) else 1)
