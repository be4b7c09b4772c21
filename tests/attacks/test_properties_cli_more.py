"""The commands ``test_properties_cli.py`` does not run (issue 10 audit), with random files
and text in every place they read from outside: never a traceback, only exit 0, 1 or 2.

``test_every_leaf_command_gets_random_input`` walks the command tree, so a new command
that neither file covers fails it. Commands that would change the shared fixtures' keys
(a passphrase change) get a random wallet file instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from test_properties_cli import COMMANDS, _DB, _KEY, _WALLET, F, T, _file_content, _fill, _text
from test_properties_cli import fixed as fixed  # noqa: F401  (the shared fixture)

from ssi_wallet.cli import cli

_PW = ["--passphrase-env", "PW"]
_VAULT = ["--db", "{vault}", "--master-key-file", "{mk}"]

MORE: dict[str, list[str]] = {
    "did create": ["did", "create", "--key-file", "{new}", "--passphrase-env", T],
    "wallet create": ["wallet", "create", "--wallet", F, *_PW],
    "wallet delete": ["wallet", "delete", T, "--wallet", _WALLET, *_PW],
    "wallet erase-history": ["wallet", "erase-history", "--wallet", F, *_PW, "--yes"],
    "wallet passphrase": ["wallet", "passphrase", "--wallet", F, *_PW,
                          "--new-passphrase-env", "PW"],
    "wallet present": ["wallet", "present", T, "--wallet", _WALLET, *_PW, "--yes",
                       "--trust-anchors", F],
    "wallet receive": ["wallet", "receive", T, "--wallet", _WALLET, *_PW, "--yes"],
    "issuer accredit": ["issuer", "accredit", "--db", _DB, "--key-file", _KEY, "--did", T,
                        "--type", T, "--jurisdiction", T],
    "issuer init": ["issuer", "init", "--db", F, "--key-file", "{new}", "--name", T],
    "issuer publish": ["issuer", "publish", "--db", F, "--key-file", _KEY],
    "issuer reinstate": ["issuer", "reinstate", "--db", _DB, "--key-file", _KEY, T],
    "issuer suspend": ["issuer", "suspend", "--db", _DB, "--key-file", _KEY, "--from-file", F],
    "ledger did create": ["ledger", "did", "create", "--db", _DB, "--key-file", F,
                          "--service", T],
    "ledger did deactivate": ["ledger", "did", "deactivate", T, "--db", _DB,
                              "--key-file", _KEY],
    "ledger did update": ["ledger", "did", "update", T, "--db", _DB, "--key-file", _KEY,
                          "--rotate-to", F],
    "ledger init": ["ledger", "init", "--db", F, "--key-file", F, "--origin", T],
    "ledger prove-consistency": ["ledger", "prove-consistency", "--db", F, T, T],
    "ledger prove-inclusion": ["ledger", "prove-inclusion", "--db", _DB, T, "--size", T],
    "vault backup": ["vault", "backup", "--db", F, "--master-key-file", F, "--out", "{new}"],
    "vault erase": ["vault", "erase", *_VAULT, "--key-file", F, "--subject", T, "--yes"],
    "vault export": ["vault", "export", *_VAULT, "--subject", T],
    "vault init": ["vault", "init", "--db", F, "--master-key-file", F],
    "vault prove": ["vault", "prove", *_VAULT, "--subject", T, "--record-id", T],
    "vault rectify": ["vault", "rectify", *_VAULT, "--key-file", _KEY, "--subject", T,
                      "--record-id", T, "--file", F],
    "vault restrict": ["vault", "restrict", "--db", F, "--master-key-file", F, "--subject", T],
    "demo": ["demo", "--keep", F, "--language", T],
    "serve issuer": ["serve", "issuer", "--config", F],
    "serve verifier": ["serve", "verifier", "--config", F],
}  # fmt: skip


def _leaves(group: click.Group, prefix: list[str], ctx: click.Context) -> list[str]:
    out: list[str] = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            out += _leaves(command, [*prefix, name], click.Context(command, parent=ctx))
        elif command is not None:
            out.append(" ".join([*prefix, name]))
    return out


def test_every_leaf_command_gets_random_input() -> None:
    leaves = _leaves(cli, [], click.Context(cli))
    assert len(leaves) >= 57
    covered = set()
    for args in [*COMMANDS.values(), *MORE.values()]:
        words = [a for a in args if not a.startswith(("-", "{"))]
        for n in (3, 2, 1):
            if " ".join(words[:n]) in leaves:
                covered.add(" ".join(words[:n]))
                break
    assert sorted(set(leaves) - covered) == []


@pytest.mark.parametrize("name", sorted(MORE))
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(content=_file_content, text=_text)
def test_more_commands_never_print_a_traceback(
    name: str, content: bytes, text: str, fixed: dict[str, str], tmp_path: Path
) -> None:
    file = tmp_path / f"input-{abs(hash((content, text)))}.bin"
    file.write_bytes(content)
    new = file.with_suffix(".new.db")
    if new.exists():
        new.unlink()
    args = _fill(MORE[name], fixed, file, text)
    result = CliRunner().invoke(cli, args, env={"PW": "pw for the property test"}, input="n\n")
    exception: Any = result.exception
    assert exception is None or isinstance(exception, SystemExit), (args, repr(exception))
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output)
    assert "Traceback (most recent call last)" not in result.output, (args, result.output)
