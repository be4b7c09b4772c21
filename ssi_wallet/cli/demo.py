"""``ssi-wallet demo``: the end-to-end immigration scenario, on the embedded default."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ssi_wallet.cli._options import json_option, language_option

__all__ = ["demo"]


@click.command()
@click.option(
    "--keep",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the files the demo makes in DIR (new or empty): the ledger and vault "
    "(registry.db), the vault's key, Amina's wallet and its passphrase.",
)
@language_option(
    help="Language of the verifiers' decisions and of credential and claim names "
    "(the narration stays in English).",
)
@json_option
@click.option(
    "--http",
    is_flag=True,
    help="Carry every credential (OpenID4VCI) and presentation (OpenID4VP) over real HTTP "
    "between services this command starts on 127.0.0.1, and show each request "
    "(needs: pip install 'ssi-wallet[server]').",
)
def demo(keep: Path | None, language: str, as_json: bool, http: bool) -> None:
    """Run the immigration scenario end to end and narrate each step.

    Everything is real and local: a SQLite ledger with the personal-data vault
    beside it and an encrypted wallet file, in a temporary folder unless
    --keep. With --http the issuing offices and the verifiers are services
    on 127.0.0.1 that the wallet talks to over OpenID4VCI and OpenID4VP.
    --json prints every step's expected and actual outcome and its facts
    instead of the narration (an error as a JSON error object). Exit 0 when
    every step turned out as the scenario expects, 1 when one did not (the
    step is marked UNEXPECTED), 2 for a --keep folder that is not empty or
    --http without the server extra.
    """
    from did_methods.errors import UnsupportedError
    from ssi_wallet.demo import run_demo

    say = (lambda line: None) if as_json else click.echo
    try:
        result = run_demo(say, folder=keep, language=language, strict=False, http=http)
    except UnsupportedError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if as_json:
        from ssi_wallet.cli._io import emit_json

        emit_json(result.to_json())
    elif keep is not None:
        click.echo(f"\nThe files are kept in {keep}. Look inside:")
        for line in _inspect(keep):
            click.echo("  " + line)
    sys.exit(0 if result.ok else 1)


def _inspect(folder: Path) -> list[str]:
    """Commands that open what a kept demo made."""
    from ssi_wallet.demo import ERASED_SUBJECT

    db, key = folder / "registry.db", folder / "vault.key"
    wallet, secret = folder / "amina.wallet", folder / "amina.passphrase"
    return [
        f"ssi-wallet ledger audit --db {db}",
        f"ssi-wallet vault get --db {db} --master-key-file {key} --subject {ERASED_SUBJECT}",
        f'PW="$(cat {secret})" ssi-wallet wallet history --wallet {wallet} --passphrase-env PW',
    ]
