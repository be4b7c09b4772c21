"""The ``ssi-wallet`` command line: a thin shell over the library.

Exit codes everywhere: 0 success, 1 a negative answer (not resolved,
invalid, audit failed), 2 usage errors or malformed input. Only the
library's root error is caught; its message is printed, never a traceback.
"""

from __future__ import annotations

import importlib
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


# Subcommands by name, imported only when used: `ssi-wallet did ...` need not load
# the credential and ledger layers.
_COMMANDS = {
    "did": "ssi_wallet._cli_did",
    "issue": "ssi_wallet._cli_issue",
    "verify": "ssi_wallet._cli_verify",
    "barcode": "ssi_wallet._cli_barcode",
    "wallet": "ssi_wallet._cli_wallet",
    "verifier": "ssi_wallet._cli_verifier",
    "ledger": "ssi_wallet._cli_ledger",
    "vault": "ssi_wallet._cli_vault",
    "demo": "ssi_wallet._cli_demo",
}


class _Group(click.Group):
    """A click group that loads subcommands lazily and turns our errors into exit codes."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = _COMMANDS.get(cmd_name)
        if module is None:
            return None
        command = getattr(importlib.import_module(module), cmd_name)
        assert isinstance(command, click.Command)
        return command

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


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``ssi-wallet`` console script."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="ssi-wallet")
