"""`ssi-wallet --help`, `ssi-wallet verify` and importing an error class load only what they
use (issue 12 item 5)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from ssi_wallet import cli


def _modules_after(code: str) -> set[str]:
    # A fresh interpreter: what the statement imports, and nothing the test run has loaded.
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys; print(json.dumps(sorted(sys.modules)))"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


_HEAVY = (
    "credentials",
    "ledger",
    "cryptography",
    "nacl",
    "jsonschema",
    "http.client",
    "sqlite3",
    "cbor2",
    "jwt",
    "did_methods.keys",
    "did_methods.http",
)


def _loaded(modules: set[str], prefix: str) -> bool:
    return any(m == prefix or m.startswith(prefix + ".") for m in modules)


def test_help_imports_no_subcommand_and_no_layer() -> None:
    code = (
        "import sys\n"
        "from ssi_wallet.cli import main\n"
        "sys.argv = ['ssi-wallet', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
    )
    modules = _modules_after(code)
    assert "ssi_wallet.cli" in modules and "click" in modules
    loaded = [name for name in _HEAVY if _loaded(modules, name)]
    assert loaded == []
    assert not [m for m in modules if m.startswith("ssi_wallet.cli.")]


def test_importing_the_errors_does_not_import_the_foundation() -> None:
    modules = _modules_after("from did_methods.errors import SSIWalletError, ParseError")
    assert "did_methods.errors" in modules
    assert [name for name in _HEAVY if _loaded(modules, name)] == []


@pytest.mark.parametrize("name", list(cli._COMMANDS))
def test_static_short_help_is_the_commands_own(name: str) -> None:
    module, short = cli._COMMANDS[name]
    command = getattr(importlib.import_module(module), name)
    assert isinstance(command, click.Command)
    assert short == command.get_short_help_str(limit=200)


def test_help_lists_every_command_in_order() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ssi_wallet", "--help"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    listed = [
        line.split()[0]
        for line in result.stdout.split("Commands:", 1)[1].splitlines()
        if line.startswith("  ") and not line.startswith("    ")
    ]
    assert listed == list(cli._COMMANDS)


def test_lazy_foundation_names_resolve_and_unknown_names_fail() -> None:
    import did_methods

    assert did_methods.PrivateKey is importlib.import_module("did_methods.keys").PrivateKey
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = did_methods.no_such_name  # type: ignore[attr-defined]
    assert sorted(dir(did_methods)) == sorted(did_methods.__all__)


def _verify_modules(path: Path) -> tuple[set[str], str]:
    code = (
        "import sys\n"
        "from ssi_wallet.cli import main\n"
        f"sys.argv = ['ssi-wallet', 'verify', {str(path)!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n"
        "    print('exit', exc.code, file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json; print(json.dumps(sorted(sys.modules)))"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return set(json.loads(out.stdout.splitlines()[-1])), out.stdout + out.stderr


# What verifying a Data Integrity credential (no --db) has no use for.
_NOT_FOR_VERIFY = (
    "cbor2",
    "jsonschema",
    "credentials.barcode",
    "credentials.cose",
    "credentials.base45",
    "ledger",
    "psycopg",
    "starlette",
    "uvicorn",
    "rich",
    "qrcode",
    "PIL",
    "pyld",
    "ssi_wallet.server",
    "ssi_wallet.oid4vci",
    "ssi_wallet.oid4vp",
    "ssi_wallet.issuer",
    "ssi_wallet.holder",
)


def test_verify_imports_only_what_it_uses(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from credentials import schemas
    from credentials.barcode import encode_barcode
    from did_methods import PrivateKey
    from did_methods.methods.key import did_key_from_public_key
    from ssi_wallet import Issuer

    now = datetime(2026, 6, 1, tzinfo=UTC)
    office = Issuer.create(name="Ministry", clock=lambda: now)
    claims = schemas.example_subject("WorkPermit")
    claims.pop("id")
    issued = office.issue(
        "WorkPermit", subject="did:example:1", claims=claims, format="di-eddsa", with_status=False
    )
    (tmp_path / "permit.json").write_text(issued.serialise(), encoding="utf-8")
    modules, output = _verify_modules(tmp_path / "permit.json")
    assert "VALID" in output and "exit 0" in output, output
    assert "ssi_wallet.cli.verify" in modules and "credentials.data_integrity" in modules
    assert [name for name in _NOT_FOR_VERIFY if _loaded(modules, name)] == []
    others = {f"ssi_wallet.cli.{name}" for name in cli._COMMANDS} - {"ssi_wallet.cli.verify"}
    assert not others & modules
    # An offline barcode loads the barcode stack, when it is given one.
    key = PrivateKey.generate()
    did = did_key_from_public_key(key.public_key)
    text = encode_barcode(
        {"type": "WorkPermit"}, key, kid=f"{did}#{did.split(':')[-1]}", issuer=did,
        iat=now, exp=datetime(2036, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    (tmp_path / "permit.qr.txt").write_text(text, encoding="utf-8")
    modules, output = _verify_modules(tmp_path / "permit.qr.txt")
    assert "exit 0" in output, output
    assert {"credentials.barcode", "cbor2"} <= modules


def test_the_barcode_prefix_verify_detects_is_the_barcode_modules() -> None:
    from credentials import barcode
    from credentials.verify import _BARCODE_PREFIX

    assert _BARCODE_PREFIX == barcode.DEFAULT_PREFIX
