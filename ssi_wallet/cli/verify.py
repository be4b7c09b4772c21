"""``ssi-wallet verify``: check any credential or presentation we support."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from credentials.verify import verify as verify_any
from did_methods.http import HttpFetcher
from did_methods.resolver import Resolver
from ssi_wallet.cli._io import echo_safe, emit_json, read_input
from ssi_wallet.cli._options import INSTANT

__all__ = ["verify"]


@click.command("verify")
@click.argument("source", metavar="FILE|-")
@click.option("--json", "as_json", is_flag=True, help="Print the structured result as JSON.")
@click.option(
    "--at", "at", type=INSTANT, metavar="TIME", help="Judge validity at this ISO 8601 instant."
)
@click.option("--nonce", help="Expected nonce (key binding) and challenge (presentation proof).")
@click.option("--audience", help="Expected audience (key binding) and domain (presentation proof).")
@click.option("--allow-http", is_flag=True, help="Fetch did:web and status lists over plain HTTP.")
@click.option("--allow-private", is_flag=True, help="Allow private and loopback addresses.")
def verify(
    source: str,
    as_json: bool,
    at: datetime | None,
    nonce: str | None,
    audience: str | None,
    allow_http: bool,
    allow_private: bool,
) -> None:
    """Verify a credential or presentation read from FILE (or - for stdin).

    The format is detected: JSON with a Data Integrity proof, a compact JWS
    (vc+jwt / vp+jwt) or an SD-JWT VC. With --nonce and --audience a key
    binding (SD-JWT) or presentation proof must carry them; without them,
    holder binding is reported as not checked. Exit 0 valid, 1 invalid,
    2 malformed input or usage.
    """
    text = read_input(source, "input")
    fetcher = HttpFetcher(allow_http=allow_http, allow_private=allow_private)
    result = verify_any(
        text,
        resolver=Resolver.default(fetcher=fetcher, unsafe_web_allow_http=allow_http),
        now=at,
        challenge=nonce,
        domain=audience,
        nonce=nonce,
        audience=audience,
        status_fetcher=fetcher,
    )
    if as_json:
        emit_json(result.to_json())
    else:
        echo_safe(result.explain())
    sys.exit(0 if result.valid else 1)
