"""``ssi-wallet did``: create and resolve DIDs."""

from __future__ import annotations

from pathlib import Path

import click

from did_methods.http import HttpFetcher
from did_methods.keyfile import write_key_file
from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.jwk import did_jwk_from_jwk
from did_methods.methods.key import did_key_from_public_key
from did_methods.resolver import Resolver
from ssi_wallet.cli._io import echo_safe, emit_json
from ssi_wallet.cli._options import read_passphrase

__all__ = ["did"]

_INVALID = ("invalidDid", "invalidDidUrl", "representationNotSupported")


@click.group()
def did() -> None:
    """Create and resolve decentralised identifiers."""


@did.command("create")
@click.option(
    "--method",
    type=click.Choice(["key", "jwk"]),
    default="key",
    show_default=True,
    help="DID method.",
)
@click.option(
    "--key-type",
    type=click.Choice(["ed25519", "p256", "p384", "p521", "x25519"]),
    default="ed25519",
    show_default=True,
    help="Key type of the new key pair.",
)
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the private key (created with mode 0600; never overwritten).",
)
@click.option(
    "--passphrase-env",
    metavar="VAR",
    help="Encrypt the key file with the passphrase in this environment variable.",
)
def create(method: str, key_type: str, key_file: Path, passphrase_env: str | None) -> None:
    """Generate a key pair, write the private key to KEY_FILE and print the new DID."""
    passphrase = read_passphrase(passphrase_env)
    key = PrivateKey.generate(KeyType.parse(key_type))
    if method == "key":
        did_text = did_key_from_public_key(key.public_key)
    else:
        if key.key_type is KeyType.X25519:
            raise click.UsageError(
                "did:jwk with an X25519 key is for key agreement only; use did:key"
            )
        did_text = did_jwk_from_jwk(key.public_key)
    write_key_file(key_file, key, passphrase=passphrase)
    click.echo(did_text)


@did.command("resolve")
@click.argument("did_text", metavar="DID")
@click.option("--allow-http", is_flag=True, help="did:web: allow plain HTTP (local testing only).")
@click.option(
    "--allow-private",
    is_flag=True,
    help="did:web: allow private and loopback addresses (local testing only).",
)
def resolve(did_text: str, allow_http: bool, allow_private: bool) -> None:
    """Resolve DID and print the DID Resolution result as JSON.

    Exit 0 when resolved, 1 when it could not be resolved (the error code is
    in the result and on stderr), 2 when DID is malformed.
    """
    fetcher = HttpFetcher(allow_http=allow_http, allow_private=allow_private)
    resolver = Resolver.default(fetcher=fetcher, unsafe_web_allow_http=allow_http)
    result = resolver.resolve(did_text)
    emit_json(result.to_json())
    if result.error is not None:
        message = result.did_resolution_metadata.get("errorMessage", "")
        echo_safe(f"error: {result.error}: {message}", err=True)
        raise SystemExit(2 if result.error in _INVALID else 1)
