"""What every ``ssi-wallet`` command promises (issue 15 item 5, issue 13 item 4).

Help text on every option; ``--language`` lists its values and refuses others;
exit 2 for malformed input (a --db that is no ledger, a key of the wrong type)
and for anything that already exists; ``--json`` prints an error as one JSON
object on stdout; encrypted key files work wherever a key file is read.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from instants import from_now_iso

from did_methods import PrivateKey
from did_methods.keyfile import write_key_file
from did_methods.keys import KeyType
from ssi_wallet._messages import LANGUAGES
from ssi_wallet.cli import _COMMANDS, cli

#: A barcode expiry ahead of the wall clock (the CLI refuses one in the past).
FUTURE_EXP = from_now_iso(days=365)

PASSPHRASE = "correct horse battery staple"


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def _walk(command: click.Command, path: tuple[str, ...]) -> Iterator[tuple[str, click.Command]]:
    yield " ".join(path), command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _walk(sub, (*path, name))


def _all_commands() -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, (module, _) in _COMMANDS.items():
        try:
            command = getattr(importlib.import_module(module), name)
        except ImportError:  # the server extra is not installed
            continue
        found += list(_walk(command, (name,)))
    return found


COMMANDS = _all_commands()


def test_the_walk_finds_the_nested_commands() -> None:
    names = {name for name, _ in COMMANDS}
    assert {"ledger did update", "wallet answer", "issuer revoke", "vault erase"} <= names
    assert len(names) > 50


def test_every_option_of_every_command_has_help_text() -> None:
    missing = [
        f"{name} {'/'.join(param.opts)}"
        for name, command in COMMANDS
        for param in command.params
        if isinstance(param, click.Option) and not param.hidden and not (param.help or "").strip()
    ]
    assert missing == []


def test_language_lists_its_values_in_help_and_refuses_unknown_ones() -> None:
    with_language = [
        (name, command)
        for name, command in COMMANDS
        if any(p.name == "language" for p in command.params)
    ]
    assert {"wallet answer", "verifier check"} <= {name for name, _ in with_language}
    for name, command in with_language:
        option = next(p for p in command.params if p.name == "language")
        assert isinstance(option.type, click.Choice), name
        assert tuple(option.type.choices) == LANGUAGES
        shown = invoke(*name.split(), "--help")
        assert shown.exit_code == 0
        listed = shown.output.split("--language", 1)[1]
        assert all(lang in listed for lang in ("en", "uk", "ar", "fa")), name
        refused = invoke(*name.split(), "--language", "xx")
        assert refused.exit_code == 2, (name, refused.output)
        assert "xx" in refused.output


# -- malformed input and things that exist: exit 2 ---------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("not a database\n" * 20, encoding="utf-8")
    made = {"not_a_db": not_a_db}
    for name, key_type in (("ed", KeyType.ED25519), ("p256", KeyType.P256), ("x", KeyType.X25519)):
        path = tmp_path / f"{name}.jwk"
        write_key_file(path, PrivateKey.generate(key_type))
        made[name] = path
    sealed = tmp_path / "sealed.jwk"
    write_key_file(sealed, PrivateKey.generate(), passphrase=PASSPHRASE)
    made["sealed"] = sealed
    return made


def _error_object(result: Result) -> dict[str, str]:
    """The one JSON error object a failed --json command prints on stdout."""
    body = json.loads(result.stdout)
    assert list(body) == ["error"] and sorted(body["error"]) == ["code", "message"]
    assert all(isinstance(v, str) and v for v in body["error"].values())
    return dict(body["error"])


def test_a_file_that_is_no_database_exits_2_everywhere(files: dict[str, Path]) -> None:
    db = str(files["not_a_db"])
    key = str(files["ed"])
    for args in (
        ["ledger", "get", "--db", db, "0"],
        ["ledger", "init", "--db", db, "--key-file", key],
        ["ledger", "audit", "--db", db],
        ["ledger", "did", "resolve", "--db", db, "did:ledger:x"],
        ["issuer", "status", "--db", db, "--key-file", key],
        ["issuer", "init", "--db", db, "--key-file", key, "--name", "Office"],
        ["vault", "init", "--db", db, "--master-key-env", "NO_SUCH_VAR_SET"],
        ["verifier", "check", "--db", db, "--trust-root", "did:key:z", "r.json", "p.json"],
    ):
        done = invoke(*args)
        assert done.exit_code == 2, (args, done.output)
        assert "Traceback" not in done.output
    assert files["not_a_db"].read_text(encoding="utf-8").startswith("not a database")


def test_wrong_key_types_exit_2(tmp_path: Path, files: dict[str, Path]) -> None:
    db = str(tmp_path / "log.db")
    assert invoke("ledger", "init", "--db", db, "--key-file", str(files["ed"])).exit_code == 0
    for args in (
        ["ledger", "init", "--db", str(tmp_path / "other.db"), "--key-file", str(files["p256"])],
        ["ledger", "checkpoint", "--db", db, "--key-file", str(files["p256"])],
        ["ledger", "append", "--db", db, "--key-file", str(files["x"]), "--data", "x"],
        ["ledger", "did", "create", "--db", db, "--key-file", str(files["x"])],
        ["ledger", "cosign", "--db", db, "--witness-key", str(files["p256"]),
         "--log-key", str(files["ed"]), "--state", str(tmp_path / "w.json")],
    ):  # fmt: skip
        done = invoke(*args)
        assert done.exit_code == 2, (args, done.output)


def test_already_exists_is_exit_2_with_code_exists(tmp_path: Path, files: dict[str, Path]) -> None:
    existing = tmp_path / "existing"
    existing.write_text("keep me", encoding="utf-8")
    request = ["verifier", "request", "--policy", "right_to_work"]
    request += ["--audience", "did:web:a.example"]
    env = {"PW": PASSPHRASE}
    wallet = tmp_path / "w.wallet"
    assert invoke("wallet", "create", "--wallet", str(wallet), "--passphrase-env", "PW",
                  env=env).exit_code == 0  # fmt: skip
    for args in (
        ["did", "create", "--key-file", str(existing)],
        ["wallet", "create", "--wallet", str(wallet), "--passphrase-env", "PW"],
        [*request, "--unsafe-stateless", "--out", str(existing)],
        ["wallet", "backup", "--wallet", str(wallet), "--passphrase-env", "PW", "--out",
         str(existing)],
        ["barcode", "issue", "--key-file", str(files["ed"]), "--claims", str(files["ed"]),
         "--exp", FUTURE_EXP, "--png", str(existing)],
    ):  # fmt: skip
        done = invoke(*args, env=env)
        assert done.exit_code == 2, (args, done.output)
        assert "exists" in done.output
    assert existing.read_text(encoding="utf-8") == "keep me"
    as_json = invoke("wallet", "restore", "--wallet", str(wallet), "--passphrase-env", "PW",
                     str(existing), "--json", env=env)  # fmt: skip
    assert as_json.exit_code == 2 and _error_object(as_json)["code"]


# -- --json errors -----------------------------------------------------------------------


def test_json_errors_are_one_object_on_stdout(tmp_path: Path, files: dict[str, Path]) -> None:
    db = str(tmp_path / "log.db")
    key = str(files["ed"])
    invoke("ledger", "init", "--db", db, "--key-file", key)
    cases = [
        # (arguments, exit code, error code)
        (["ledger", "get", "--db", str(files["not_a_db"]), "0", "--json"], 2, "not_a_ledger"),
        (["ledger", "get", "--db", db, "7", "--json"], 1, None),
        (["ledger", "append", "--db", db, "--json"], 2, "usage"),  # missing --key-file
        (["ledger", "append", "--db", db, "--key-file", key, "--json", "--data",
          "birthDate: 1990-03-14"], 2, "looks_like_personal_data"),
        (["ledger", "checkpoint", "--db", db, "--key-file", str(files["sealed"]), "--json"],
         2, "usage"),
        (["issuer", "status", "--db", str(tmp_path / "none.db"), "--key-file", key, "--json"],
         2, "usage"),
        (["wallet", "store", "--wallet", str(tmp_path / "none.wallet"), "-", "--json"], 2, None),
    ]  # fmt: skip
    for args, code, error in cases:
        done = invoke(*args)
        assert done.exit_code == code, (args, done.output)
        got = _error_object(done)
        if error is not None:
            assert got["code"] == error, (args, got)
        assert got["message"] in done.stderr.replace("error: ", "", 1)


def test_vault_commands_print_json_so_their_errors_are_json_too(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    mk = ["--master-key-file", str(tmp_path / "vault.key")]
    done = invoke("vault", "init", "--db", str(files["not_a_db"]), *mk)
    assert done.exit_code == 2 and _error_object(done)["code"] == "not_a_ledger"
    db = str(tmp_path / "registry.db")
    assert invoke("vault", "init", "--db", db, *mk).exit_code == 0
    missing = invoke("vault", "get", "--db", db, *mk, "--subject", "nobody")
    assert missing.exit_code == 1 and _error_object(missing)["code"]
    assert invoke("vault", "get", "--db", db, *mk).exit_code == 2  # no --subject: usage


def test_without_json_an_error_is_text_on_stderr_only(files: dict[str, Path]) -> None:
    done = invoke("ledger", "get", "--db", str(files["not_a_db"]), "0")
    assert done.exit_code == 2 and done.stdout == ""
    assert done.stderr.startswith("error: ") and "not a ledger" in done.stderr


# -- passphrases ---------------------------------------------------------------------------


def test_encrypted_keys_work_with_ledger_did_and_cosign(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    db = str(tmp_path / "log.db")
    sealed = str(files["sealed"])
    env = {"KEY_PW": PASSPHRASE, "EMPTY": ""}
    store = ["--db", db]
    assert invoke("ledger", "init", *store, "--key-file", sealed, "--passphrase-env", "KEY_PW",
                  env=env).exit_code == 0  # fmt: skip
    # without the passphrase: a usage error that says how to give it
    refused = invoke("ledger", "did", "create", *store, "--key-file", sealed)
    assert refused.exit_code == 2 and "--passphrase-env" in refused.output
    empty = invoke("ledger", "did", "create", *store, "--key-file", sealed,
                   "--passphrase-env", "EMPTY", env=env)  # fmt: skip
    assert empty.exit_code == 2 and "EMPTY" in empty.output
    made = invoke("ledger", "did", "create", *store, "--key-file", sealed,
                  "--passphrase-env", "KEY_PW", "--json", env=env)  # fmt: skip
    assert made.exit_code == 0, made.output
    did = json.loads(made.stdout)["did"]
    updated = invoke("ledger", "did", "update", *store, did, "--key-file", sealed,
                     "--passphrase-env", "KEY_PW", "--add-service", "hub=Hub=https://a.example",
                     env=env)  # fmt: skip
    assert updated.exit_code == 0, updated.output
    gone = invoke("ledger", "did", "deactivate", *store, did, "--key-file", sealed,
                  "--passphrase-env", "KEY_PW", env=env)  # fmt: skip
    assert gone.exit_code == 0, gone.output
    invoke("ledger", "checkpoint", *store, "--key-file", sealed, "--passphrase-env", "KEY_PW",
           env=env)  # fmt: skip
    witness = tmp_path / "witness.jwk"
    write_key_file(witness, PrivateKey.generate(), passphrase="witness secret")
    reopened = invoke("ledger", "init", *store, "--key-file", sealed,
                      "--passphrase-env", "KEY_PW", "--json", env=env)  # fmt: skip
    log_key = json.loads(reopened.stdout)["vkey"]
    cosigned = invoke("ledger", "cosign", *store, "--witness-key", str(witness),
                      "--passphrase-env", "W_PW", "--log-key", log_key,
                      "--state", str(tmp_path / "w.json"), "--json",
                      env={"W_PW": "witness secret"})  # fmt: skip
    assert cosigned.exit_code == 0, cosigned.output
    assert "— " in json.loads(cosigned.stdout)["note"]  # a cosignature line was added


def test_a_named_passphrase_variable_must_be_set_wherever_a_key_is_read(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    """No command falls back to an unencrypted key when --passphrase-env names an
    unset variable: 'issue' and 'barcode issue' used to read on without it, and
    'issuer init' used to write the new key unencrypted."""
    subject = tmp_path / "subject.json"
    subject.write_text('{"id": "did:example:amina"}', encoding="utf-8")
    claims = tmp_path / "claims.json"
    claims.write_text('{"a": 1}', encoding="utf-8")
    new_key = tmp_path / "new.jwk"
    unset = ["--passphrase-env", "SSI_WALLET_TEST_SURELY_UNSET"]
    for args in (
        ["issue", "--type", "WorkPermit", "--subject-file", str(subject),
         "--key-file", str(files["ed"]), *unset],
        ["barcode", "issue", "--key-file", str(files["ed"]), "--claims", str(claims),
         "--exp", FUTURE_EXP, *unset],
        ["issuer", "init", "--db", str(tmp_path / "office.db"), "--key-file", str(new_key),
         "--name", "Office", *unset],
        ["ledger", "init", "--db", str(tmp_path / "log.db"), "--key-file", str(files["ed"]),
         *unset],
    ):  # fmt: skip
        done = invoke(*args)
        assert done.exit_code == 2, (args, done.output)
        assert "SSI_WALLET_TEST_SURELY_UNSET" in done.output
    assert not new_key.exists()
