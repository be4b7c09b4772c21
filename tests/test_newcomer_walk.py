"""A newcomer's first hour, scripted (issue 15): the README's commands, the demo, and
three malformed inputs for every command.

The README promises exit codes 0 for yes, 1 for a well-formed no, 2 for usage
errors or malformed input, and every command prints an error, never a
traceback. The README's command-line block runs in an empty directory through
the console entry point; the demo runs with each of its options; then every
leaf command of ``ssi-wallet`` (the list is read from the command tree, so a
new command without malformed cases here fails the test) is given three
malformed inputs (a file that is not what it should be, a value of the wrong
kind, a database that is no database, a key of the wrong type) and must exit 2
with an ``error:`` line and no traceback. The malformed cases run in-process
(click's runner, the same code as the console script) to keep the walk quick.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from test_readme_cli import _cli_block, _run

from ssi_wallet.cli import cli

STRONG = "correct horse battery staple"
ENV = {"PW": STRONG, "WEAK": "short", "EMPTY": "", "PYTHONIOENCODING": "utf-8"}
DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"

# Three malformed inputs per command; {name} is a file of the walk's world (below).
MALFORMED: dict[str, list[list[str]]] = {
    "did create": [
        ["--key-type", "rsa", "--key-file", "{new}"],
        ["--method", "web", "--key-file", "{new}"],
        ["--key-file", "{ed}"],  # exists: never overwritten
    ],
    "did resolve": [["not-a-did"], ["did:key:z0OIl"], ["did:key:" + "z" * 5000]],
    "issue": [
        ["--type", "NoSuchPermit"],
        ["--type", "WorkPermit", "--subject-file", "{notjson}", "--key-file", "{ed}"],
        ["--type", "WorkPermit", "--subject-file", "{shape}", "--key-file", "{ed}"],
    ],
    "verify": [["{garbage}"], ["{notjson}"], ["{shape}"]],
    "barcode issue": [
        ["--key-file", "{ed}", "--claims", "{notjson}", "--exp", "2030-01-01T00:00:00Z"],
        ["--key-file", "{ed}", "--claims", "{shape}", "--exp", "not a date"],
        ["--key-file", "{garbage}", "--claims", "{shape}", "--exp", "2030-01-01T00:00:00Z"],
    ],
    "barcode show": [["{garbage}"], ["{notjson}"], ["{hc1}"]],
    "wallet answer": [
        ["--wallet", "{wallet}", "--passphrase-env", "PW", "{notjson}"],
        ["--wallet", "{wallet}", "--passphrase-env", "PW", "{shape}"],
        ["--wallet", "{notadb}", "--passphrase-env", "PW", "{shape}"],
    ],
    "wallet backup": [
        ["--wallet", "{notadb}", "--passphrase-env", "PW", "--out", "{new}"],
        ["--wallet", "{garbage}", "--passphrase-env", "PW", "--out", "{new}"],
        ["--wallet", "{wallet}", "--passphrase-env", "EMPTY", "--out", "{new}"],
    ],
    "wallet create": [
        ["--wallet", "{wallet}", "--passphrase-env", "PW"],  # exists
        ["--wallet", "{new}", "--passphrase-env", "EMPTY"],
        ["--wallet", "{new}", "--passphrase-env", "WEAK"],
    ],
    "wallet present": [
        ["--wallet", "{wallet}", "--passphrase-env", "PW", "not-a-uri"],
        ["--wallet", "{wallet}", "--passphrase-env", "PW", "openid4vp://?client_id=x"],
        ["--wallet", "{notadb}", "--passphrase-env", "PW", "openid4vp://?client_id=x"],
    ],
    "wallet receive": [
        ["--wallet", "{wallet}", "--passphrase-env", "PW", "not-a-uri"],
        ["--wallet", "{wallet}", "--passphrase-env", "PW", "openid-credential-offer://?x=1"],
        ["--wallet", "{notadb}", "--passphrase-env", "PW", "openid-credential-offer://?x=1"],
    ],
    "wallet restore": [
        ["--wallet", "{new}", "--passphrase-env", "PW", "{garbage}"],
        ["--wallet", "{new}", "--passphrase-env", "PW", "{notjson}"],
        ["--wallet", "{new}", "--passphrase-env", "PW", "{notadb}"],
    ],
    "wallet store": [
        ["--wallet", "{wallet}", "--passphrase-env", "PW", "{garbage}"],
        ["--wallet", "{wallet}", "--passphrase-env", "PW", "{notjson}"],
        ["--wallet", "{wallet}", "--passphrase-env", "PW", "{shape}"],
    ],
    "issuer init": [
        ["--db", "{notadb}", "--key-file", "{ed}", "--name", "Office"],
        ["--db", "{ledger}", "--key-file", "{garbage}", "--name", "Office"],
        ["--db", "{ledger}", "--key-file", "{ed}", "--name", "Office", "--status-base", "no url"],
    ],
    "issuer issue": [
        ["--db", "{ledger}", "--key-file", "{ed}", "--type", "NoSuchPermit"],
        [
            "--db",
            "{ledger}",
            "--key-file",
            "{ed}",
            "--type",
            "WorkPermit",
            "--subject-file",
            "{notjson}",
        ],
        [
            "--db",
            "{notadb}",
            "--key-file",
            "{ed}",
            "--type",
            "WorkPermit",
            "--subject-file",
            "{shape}",
        ],
    ],
    "issuer accredit": [
        ["--db", "{ledger}", "--key-file", "{ed}", "--did", "not-a-did", "--type", "WorkPermit"],
        [
            "--db",
            "{ledger}",
            "--key-file",
            "{ed}",
            "--did",
            DID,
            "--type",
            "WorkPermit",
            "--valid-until",
            "not a date",
        ],
        ["--db", "{notadb}", "--key-file", "{ed}", "--did", DID, "--type", "WorkPermit"],
    ],
    "verifier check": [
        ["--db", "{ledger}", "--trust-root", DID, "{notjson}", "{shape}"],
        ["--db", "{notadb}", "--trust-root", DID, "{shape}", "{shape}"],
        ["--db", "{ledger}", "--trust-root", "not-a-did", "{shape}", "{shape}"],
    ],
    "verifier request": [
        ["--policy", "no_such_policy", "--audience", "did:web:x.example"],
        ["--policy", "right_to_work", "--audience", ""],
        ["--policy", "right_to_work", "--audience", "did:web:x.example", "--sector", "ZZZ"],
    ],
    "ledger append": [
        ["--db", "{notadb}", "--key-file", "{ed}", "--data", "x"],
        ["--db", "{ledger}", "--key-file", "{garbage}", "--data", "x"],
        ["--db", "{ledger}", "--key-file", "{ed}", "--kind", "NOT A KIND", "--data", "x"],
    ],
    "ledger cosign": [
        ["--db", "{ledger}", "--witness-key", "{garbage}", "--log-key", DID, "--state", "{new}"],
        ["--db", "{ledger}", "--witness-key", "{ed}", "--log-key", "not-a-key", "--state", "{new}"],
        ["--db", "{notadb}", "--witness-key", "{ed}", "--log-key", DID, "--state", "{new}"],
    ],
    "ledger did create": [
        ["--db", "{notadb}", "--key-file", "{ed}"],
        ["--db", "{ledger}", "--key-file", "{garbage}"],
        ["--db", "{ledger}", "--key-file", "{ed}", "--service", "not-a-service"],
    ],
    "ledger did resolve": [
        ["not-a-did", "--db", "{ledger}"],
        [DID, "--db", "{notadb}"],
        ["did:ledger:", "--db", "{ledger}"],
    ],
    "ledger get": [
        ["one", "--db", "{ledger}"],
        ["-5", "--db", "{ledger}"],
        ["0", "--db", "{notadb}"],
    ],
    "ledger init": [
        ["--db", "{new}", "--key-file", "{p256}"],  # checkpoints need Ed25519
        ["--db", "{notadb}", "--key-file", "{ed}"],
        ["--db", "{new}", "--key-file", "{ed}", "--origin", "https://not a name"],
    ],
    "ledger prove-consistency": [
        ["one", "--db", "{ledger}"],
        ["-1", "--db", "{ledger}"],
        ["1", "--db", "{notadb}"],
    ],
    "ledger prove-inclusion": [
        ["one", "--db", "{ledger}"],
        ["-1", "--db", "{ledger}"],
        ["0", "--db", "{notadb}"],
    ],
    "vault init": [
        ["--db", "{notadb}", "--master-key-file", "{new}"],
        ["--db", "{garbage}", "--master-key-file", "{new}"],
        ["--dsn", "not-a-dsn", "--master-key-file", "{new}"],
    ],
    "vault put": [
        [
            "--db",
            "{vaultdb}",
            "--master-key-file",
            "{mk}",
            "--key-file",
            "{ed}",
            "--subject",
            "s1",
            "--file",
            "{notjson}",
        ],
        [
            "--db",
            "{vaultdb}",
            "--master-key-file",
            "{mk}",
            "--key-file",
            "{ed}",
            "--subject",
            "s1",
            "--file",
            "{garbage}",
        ],
        [
            "--db",
            "{vaultdb}",
            "--master-key-file",
            "{badmk}",
            "--key-file",
            "{ed}",
            "--subject",
            "s1",
            "--file",
            "{shape}",
        ],
    ],
    "vault rectify": [
        [
            "--db",
            "{vaultdb}",
            "--master-key-file",
            "{mk}",
            "--key-file",
            "{ed}",
            "--subject",
            "s1",
            "--record-id",
            "rec-x",
            "--file",
            "{notjson}",
        ],
        [
            "--db",
            "{notadb}",
            "--master-key-file",
            "{mk}",
            "--key-file",
            "{ed}",
            "--subject",
            "s1",
            "--record-id",
            "rec-x",
            "--file",
            "{shape}",
        ],
        [
            "--db",
            "{vaultdb}",
            "--master-key-file",
            "{badmk}",
            "--key-file",
            "{ed}",
            "--subject",
            "s1",
            "--record-id",
            "rec-x",
            "--file",
            "{shape}",
        ],
    ],
    "vault restore": [
        ["--db", "{vaultdb}", "--master-key-file", "{mk}", "--file", "{garbage}"],
        ["--db", "{vaultdb}", "--master-key-file", "{mk}", "--file", "{notjson}"],
        ["--db", "{notadb}", "--master-key-file", "{mk}", "--file", "{shape}"],
    ],
    "vault backup": [
        ["--db", "{notadb}", "--master-key-file", "{mk}", "--out", "{new}"],
        ["--db", "{vaultdb}", "--master-key-file", "{badmk}", "--out", "{new}"],
        ["--db", "{vaultdb}", "--out", "{new}"],  # no master key
    ],
    "demo": [["--language", "xx"], ["--keep", "{ed}"], ["--keep", "{full}"]],
}

# Commands whose malformed inputs have the same shape.
_WALLET_READERS = ["did", "erase-history", "export", "history", "list", "passphrase"]
for _name in _WALLET_READERS:
    MALFORMED[f"wallet {_name}"] = [
        ["--wallet", "{notadb}", "--passphrase-env", "PW"],
        ["--wallet", "{garbage}", "--passphrase-env", "PW"],
        ["--wallet", "{wallet}", "--passphrase-env", "EMPTY"],
    ]
for _name in ("delete", "show"):
    MALFORMED[f"wallet {_name}"] = [
        [*case, "urn:uuid:x"] for case in MALFORMED[f"wallet {_WALLET_READERS[0]}"]
    ]
for _name in ("publish", "reinstate", "revoke", "status", "suspend"):
    MALFORMED[f"issuer {_name}"] = [
        ["--db", "{notadb}", "--key-file", "{ed}"],
        ["--db", "{ledger}", "--key-file", "{garbage}"],
        ["--db", "{ledger}", "--key-file", "{ed}", "--did", "not-a-did"],
    ]
for _name in ("audit", "checkpoint"):
    MALFORMED[f"ledger {_name}"] = [
        ["--db", "{notadb}"],
        ["--db", "{garbage}"],
        ["--dsn", "not-a-dsn"],
    ]
for _name in ("deactivate", "update"):
    MALFORMED[f"ledger did {_name}"] = [
        ["not-a-did", "--db", "{ledger}", "--key-file", "{ed}"],
        [DID, "--db", "{notadb}", "--key-file", "{ed}"],
        [DID, "--db", "{ledger}", "--key-file", "{garbage}"],
    ]
for _name in ("erase", "export", "get", "restrict"):
    MALFORMED[f"vault {_name}"] = [
        ["--db", "{notadb}", "--master-key-file", "{mk}", "--key-file", "{ed}", "--subject", "s"],
        [
            "--db",
            "{vaultdb}",
            "--master-key-file",
            "{badmk}",
            "--key-file",
            "{ed}",
            "--subject",
            "s",
        ],
        [
            "--db",
            "{vaultdb}",
            "--master-key-file",
            "{mk}",
            "--key-file",
            "{garbage}",
            "--subject",
            "s",
        ],
    ]
MALFORMED["vault prove"] = [[*c, "--record-id", "rec-x"] for c in MALFORMED["vault get"]]
for _name in ("issuer", "vc-api", "verifier"):
    MALFORMED[f"serve {_name}"] = [
        ["--config", "{garbage}"],
        ["--config", "{notjson}"],
        ["--config", "{badtoml}"],
    ]


# Malformed inputs that still exit 1 instead of 2 (issue 15 item 5, the exit codes
# across commands, is being done apart from this walk): they must still print an
# error and no traceback, and exit 1 or 2. Remove an entry once it exits 2.
KNOWN_OPEN: dict[tuple[str, int], str] = {
    ("wallet present", 1): "a client_id without a prefix is refused as unsupported (exit 1)",
}


def _leaf_commands() -> list[str]:
    ctx = click.Context(cli)
    out: list[str] = []

    def walk(group: click.Group, prefix: list[str]) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if isinstance(command, click.Group):
                walk(command, [*prefix, name])
            elif command is not None:
                out.append(" ".join([*prefix, name]))

    walk(cli, [])
    return out


def invoke(args: list[str], env: dict[str, str] | None = None) -> click.testing.Result:
    return CliRunner().invoke(cli, args, env={**ENV, **(env or {})}, catch_exceptions=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    base = tmp_path_factory.mktemp("walk")
    w = {
        "garbage": base / "garbage.bin",
        "notjson": base / "notjson.txt",
        "shape": base / "shape.json",
        "notadb": base / "notadb.db",
        "hc1": base / "hc1.txt",
        "badtoml": base / "bad.toml",
        "full": base / "full",
        "ed": base / "ed.jwk",
        "p256": base / "p256.jwk",
        "ledger": base / "ledger.db",
        "wallet": base / "amina.wallet",
        "vaultdb": base / "vault.db",
        "mk": base / "vault.key",
        "badmk": base / "bad-vault.key",
    }
    w["garbage"].write_bytes(bytes(range(256)) * 4)
    w["notjson"].write_text("this is not JSON {", encoding="utf-8")
    w["shape"].write_text('{"unexpected": [1, 2, 3]}', encoding="utf-8")
    w["notadb"].write_text("SQLite? no: just text\n" * 40, encoding="utf-8")
    w["hc1"].write_text("HC1:!!!not base45!!!", encoding="utf-8")
    w["badtoml"].write_text("[server\nport = = 1\n", encoding="utf-8")
    w["badmk"].write_bytes(bytes(range(256)))
    w["badmk"].chmod(0o600)  # private, as a master key file must be, but no key
    w["full"].mkdir()
    (w["full"] / "mine.txt").write_text("mine", encoding="utf-8")
    made = [
        ["did", "create", "--key-file", str(w["ed"])],
        ["did", "create", "--key-type", "p256", "--key-file", str(w["p256"])],
        ["ledger", "init", "--db", str(w["ledger"]), "--key-file", str(w["ed"])],
        ["wallet", "create", "--wallet", str(w["wallet"]), "--passphrase-env", "PW"],
        ["ledger", "init", "--db", str(w["vaultdb"]), "--key-file", str(w["ed"])],
        [
            "vault",
            "init",
            "--db",
            str(w["vaultdb"]),
            "--master-key-file",
            str(w["mk"]),
            "--key-file",
            str(w["ed"]),
        ],
    ]
    for args in made:
        result = invoke(args)
        assert result.exit_code == 0, (args, result.output)
    yield w


def test_every_command_has_three_malformed_cases() -> None:
    leaves = _leaf_commands()
    assert sorted(leaves) == sorted(MALFORMED)
    assert all(len(cases) == 3 for cases in MALFORMED.values())


@pytest.mark.parametrize("command", sorted(MALFORMED))
def test_malformed_input_exits_2_without_a_traceback(
    command: str, world: dict[str, Path], tmp_path: Path
) -> None:
    for number, case in enumerate(MALFORMED[command]):
        names = {k: str(v) for k, v in world.items()} | {"new": str(tmp_path / f"new{number}")}
        args = [*command.split(), *(part.format(**names) for part in case)]
        result = invoke(args)
        shown = f"ssi-wallet {' '.join(args)}\n{result.output}"
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"{shown}\n{result.exception!r}"
        )
        assert "Traceback" not in result.output, shown
        if (command, number) not in KNOWN_OPEN:
            assert result.exit_code == 2, shown
        else:
            assert result.exit_code in (1, 2), shown
        # says why: 'error: ...', click's 'Error: ...', or verify's INVALID report
        assert "rror" in result.output or "INVALID" in result.output, shown
        if (command, number) not in KNOWN_OPEN:  # nothing is left behind
            assert not (tmp_path / f"new{number}").exists() or command == "ledger cosign", shown


def _console(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ssi_wallet", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def test_the_readme_block_then_the_demo(tmp_path: Path) -> None:
    for line in _cli_block():
        result = _run(line, tmp_path)
        assert result.returncode == 0, f"{line}\n{result.stderr}"
        assert "Traceback" not in result.stderr
    demo = _console("demo", "--json", cwd=tmp_path)
    assert demo.returncode == 0 and "Traceback" not in demo.stderr, demo.stderr
    outcome = json.loads(demo.stdout)
    assert outcome["ok"] is True and all(step["ok"] for step in outcome["steps"])
    kept = _console("demo", "--keep", str(tmp_path / "demo"), "--language", "fr", cwd=tmp_path)
    assert kept.returncode == 0 and "ACCEPTÉ" in kept.stdout, kept.stderr
    assert (tmp_path / "demo" / "registry.db").is_file()
