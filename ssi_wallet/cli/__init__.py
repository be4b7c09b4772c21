"""The ``ssi-wallet`` command line: a thin shell over the library.

Exit codes everywhere: 0 success, 1 a negative answer (not resolved,
invalid, audit failed, refused), 2 usage errors or malformed input,
including a file that is not what it should be (a --db that is no ledger,
a key of the wrong type) and a file or record that already exists. Only the
library's root error is caught; its message is printed, never a traceback.
With ``--json`` an error is printed as ``{"error": {"code": ..., "message": ...}}``
on stdout (and the message on stderr), with the same exit code.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

import click

from did_methods._wire.text import safe_lines
from did_methods.errors import OutputFileError, ParseError, SSIWalletError

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])

#: Exit code for usage errors and malformed input.
EXIT_USAGE = 2
#: Exit code for a well-formed question with a negative answer.
EXIT_NO = 1


#: Error codes that mean "already exists": every one exits 2, as usage errors do.
_EXISTS = frozenset({"exists", "issuer_exists"})


def fail(message: str, code: int = EXIT_NO, *, error_code: str | None = None) -> None:
    """Print ``message`` to stderr (and, under ``--json``, the error object to
    stdout) and exit with ``code``."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.meta.get(JSON_META):
        body = {"error": {"code": error_code or _GENERIC[code], "message": message}}
        click.echo(json.dumps(body, ensure_ascii=True))
    click.echo(f"error: {safe_lines(message)}", err=True)
    sys.exit(code)


#: Where ``--json`` records itself in the click context (shared by the whole chain),
#: so that an error comes out as JSON too.
JSON_META = "ssi_wallet.cli.json"
_GENERIC = {EXIT_USAGE: "usage", EXIT_NO: "refused"}


def error_code(exc: BaseException) -> str:
    """The stable code of an error: its ``code`` when it has one, else its class name
    in snake case without ``Error`` (``NotALedgerError`` -> ``not_a_ledger``)."""
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code:
        return code
    name = type(exc).__name__.removesuffix("Error") or "error"
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


#: Protocol error codes that mean the link given on the command line is malformed.
_MALFORMED: Final = frozenset({"invalid_credential_offer", "request_uri_invalid"})


def exit_code(exc: SSIWalletError) -> int:
    """2 for malformed input, a file that is not what it should be, and anything that
    already exists; 1 for every other refusal."""
    code = error_code(exc)
    if isinstance(exc, ParseError | OutputFileError) or code in _EXISTS or code in _MALFORMED:
        return EXIT_USAGE
    return EXIT_NO


# Subcommands by name, imported only when used: `ssi-wallet did ...` need not load
# the credential and ledger layers, and `--help` lists them from their short help
# here (a test keeps it equal to each command's own) without importing any.
_COMMANDS = {
    "did": ("ssi_wallet.cli.did", "Create and resolve decentralised identifiers."),
    "issue": (
        "ssi_wallet.cli.issue",
        "Issue a credential signed by the key in KEY_FILE (its did:key is the issuer).",
    ),
    "verify": (
        "ssi_wallet.cli.verify",
        "Verify a credential or presentation read from FILE (or - for stdin).",
    ),
    "barcode": (
        "ssi_wallet.cli.barcode",
        "Sign credentials into QR codes that verify offline, and read them.",
    ),
    "wallet": (
        "ssi_wallet.cli.wallet",
        "Hold credentials in an encrypted wallet and present them, after consent.",
    ),
    "issuer": (
        "ssi_wallet.cli.issuer",
        "Run an issuing back office: create, accredit, issue, revoke and publish.",
    ),
    "verifier": (
        "ssi_wallet.cli.verifier",
        "Ask a wallet for what a policy needs, and check the presentation it sends back.",
    ),
    "ledger": (
        "ssi_wallet.cli.ledger",
        "Run a transparency log: append, prove, checkpoint, audit and cosign.",
    ),
    "vault": (
        "ssi_wallet.cli.vault",
        "Keep personal data off the ledger: store, access, export, rectify, erase, restrict.",
    ),
    "demo": (
        "ssi_wallet.cli.demo",
        "Run the immigration scenario end to end and narrate each step.",
    ),
    "serve": (
        "ssi_wallet.server._cli",
        "Run an HTTP service: the VC API, an OpenID4VCI issuer or an OpenID4VP verifier.",
    ),
}


class _Group(click.Group):
    """A click group that loads subcommands lazily and turns our errors into exit codes."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = _COMMANDS.get(cmd_name)
        if where is None:
            return None
        command = getattr(importlib.import_module(where[0]), cmd_name)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's own listing would import every subcommand for its short help.
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, short) in _COMMANDS.items()])

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # A usage error may come before --json's own callback ran: look for it here.
        if "--json" in args[: args.index("--")] if "--" in args else "--json" in args:
            ctx.meta[JSON_META] = True
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SSIWalletError as exc:
            fail(str(exc), exit_code(exc), error_code=error_code(exc))
        except click.ClickException as exc:
            if not ctx.meta.get(JSON_META):
                raise
            code = "usage" if isinstance(exc, click.UsageError) else "failed"
            fail(exc.format_message(), exc.exit_code, error_code=code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ssi-wallet")
def cli() -> None:
    """Self-sovereign identity for migration: DIDs, credentials and a transparency ledger."""


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``ssi-wallet`` console script."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="ssi-wallet")
