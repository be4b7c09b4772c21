"""The ``ssi-wallet`` command line: a thin shell over the library.

Exit codes everywhere: 0 success, 1 a negative answer (not resolved,
invalid, audit failed), 2 usage errors or malformed input. Only the
library's root error is caught; its message is printed, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from did_methods.errors import ParseError, SSIWalletError

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])

#: Exit code for usage errors and malformed input.
EXIT_USAGE = 2
#: Exit code for a well-formed question with a negative answer.
EXIT_NO = 1


def fail(message: str, code: int = EXIT_NO) -> None:
    """Print ``message`` to stderr and exit with ``code``."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


class _Group(click.Group):
    """A click group that turns our errors into messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ParseError as exc:
            fail(str(exc), EXIT_USAGE)
        except SSIWalletError as exc:
            fail(str(exc), EXIT_NO)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ssi-wallet")
def cli() -> None:
    """Self-sovereign identity for migration: DIDs, credentials and a transparency ledger."""


def _register() -> None:
    from ssi_wallet._cli_barcode import barcode
    from ssi_wallet._cli_demo import demo
    from ssi_wallet._cli_did import did
    from ssi_wallet._cli_issue import issue
    from ssi_wallet._cli_ledger import ledger
    from ssi_wallet._cli_vault import vault
    from ssi_wallet._cli_verifier import verifier
    from ssi_wallet._cli_verify import verify
    from ssi_wallet._cli_wallet import wallet

    cli.add_command(did)
    cli.add_command(ledger)
    cli.add_command(demo)
    cli.add_command(verify)
    cli.add_command(issue)
    cli.add_command(vault)
    cli.add_command(barcode)
    cli.add_command(wallet)
    cli.add_command(verifier)


_register()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``ssi-wallet`` console script."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="ssi-wallet")
