"""Arbitrary input to every CLI command: never a traceback, only the documented exit codes.

Each command is run (in process, through click's runner, as ``ssi-wallet``
would be) with files holding random bytes or random JSON in every place it
reads a file (subject, claims, key, request, presentation, wallet, ledger,
vault, master key, backup, witness state) and random text in its text
arguments. Whatever it is given it exits 0, 1 or 2 (``ssi_wallet.cli``:
success, a negative answer, usage or malformed input) and prints a message,
never a Python traceback.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from did_methods import PrivateKey
from did_methods.keyfile import write_key_file
from ssi_wallet.cli import cli

F = "{file}"  # replaced by a file of random bytes or JSON
T = "{text}"  # replaced by random text

_WALLET = "{wallet}"  # a real wallet (passphrase in $PW)
_KEY = "{key}"  # a real key file
_DB = "{db}"  # a real ledger with an issuer on it

# Every command that reads something from outside, with where it reads it.
COMMANDS: dict[str, list[str]] = {
    "did resolve": ["did", "resolve", T],
    "issue subject": ["issue", "--type", "WorkPermit", "--subject-file", F, "--key-file", _KEY],
    "issue key": ["issue", "--type", "WorkPermit", "--subject-file", F, "--key-file", F],
    "verify file": ["verify", F],
    "verify json": ["verify", F, "--json"],
    "barcode issue claims": ["barcode", "issue", "--key-file", _KEY, "--claims", F, "--exp", T],
    "barcode show file": ["barcode", "show", F],
    "barcode show text": ["barcode", "show", T],
    "wallet list garbage": ["wallet", "list", "--wallet", F, "--passphrase-env", "PW"],
    "wallet export garbage": ["wallet", "export", "--wallet", F, "--passphrase-env", "PW"],
    "wallet history garbage": ["wallet", "history", "--wallet", F, "--passphrase-env", "PW"],
    "wallet did garbage": ["wallet", "did", "--wallet", F, "--passphrase-env", "PW"],
    "wallet show": ["wallet", "show", T, "--wallet", _WALLET, "--passphrase-env", "PW"],
    "wallet store": ["wallet", "store", F, "--wallet", _WALLET, "--passphrase-env", "PW"],
    "wallet answer": ["wallet", "answer", F, "--wallet", _WALLET, "--passphrase-env", "PW",
                      "--yes"],
    "wallet restore": ["wallet", "restore", F, "--wallet", _WALLET, "--passphrase-env", "PW"],
    "verifier check garbage db": ["verifier", "check", "--db", F, "--trust-root", T, F, F,
                                  "--unsafe-stateless"],
    "verifier check garbage state": ["verifier", "check", "--db", F, "--trust-root", T, F, F,
                                     "--state", F],
    "verifier request": ["verifier", "request", "--policy", "right_to_work", "--audience", T,
                         "--unsafe-stateless"],
    "verifier request garbage state": ["verifier", "request", "--policy", "right_to_work",
                                       "--audience", T, "--state", F],
    "ledger audit": ["ledger", "audit", "--db", F],
    "ledger get": ["ledger", "get", "0", "--db", F],
    "ledger checkpoint": ["ledger", "checkpoint", "--db", F],
    "ledger did resolve": ["ledger", "did", "resolve", T, "--db", F],
    "ledger append key": ["ledger", "append", "--db", "{new}", "--key-file", F, "--data", T],
    "ledger cosign": ["ledger", "cosign", "--db", F, "--witness-key", F, "--log-key", T,
                      "--state", F],
    "vault get": ["vault", "get", "--db", F, "--master-key-file", F, "--subject", T],
    "vault restore": ["vault", "restore", "--db", F, "--master-key-file", F, "--file", F],
    "serve vc-api config": ["serve", "vc-api", "--config", F],
    "issuer issue subject": ["issuer", "issue", "--db", _DB, "--key-file", _KEY,
                             "--type", "WorkPermit", "--subject-file", F],
    "issuer issue csv": ["issuer", "issue", "--db", _DB, "--key-file", _KEY,
                         "--type", "WorkPermit", "--from-csv", F],
    "issuer revoke file": ["issuer", "revoke", "--db", _DB, "--key-file", _KEY,
                           "--from-file", F],
    "issuer status ref": ["issuer", "status", "--db", _DB, "--key-file", _KEY, T],
    "issuer garbage db": ["issuer", "status", "--db", F, "--key-file", _KEY],
    "issuer garbage key": ["issuer", "status", "--db", _DB, "--key-file", F],
    "ledger did resolve real": ["ledger", "did", "resolve", T, "--db", _DB],
    "verifier check real db": ["verifier", "check", "--db", _DB, "--trust-root", T, F, F,
                               "--unsafe-stateless"],
    "vault put record": ["vault", "put", "--db", "{vault}", "--master-key-file", "{mk}",
                         "--key-file", _KEY, "--subject", T, "--file", F],
    "wallet backup garbage": ["wallet", "backup", "--wallet", F, "--passphrase-env", "PW",
                              "--out", "{new}"],
}  # fmt: skip

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
_file_content = (
    st.binary(max_size=400)
    | _json.map(lambda v: json.dumps(v).encode())
    | st.integers(1, 3000).map(lambda n: ("[" * n + "]" * n).encode())
    | st.just(b'{"a": 1e400, "a": "\\ud800"}')
    | st.just(b"SQLite format 3\x00" + b"\x00" * 200)
)
_text = st.text(min_size=1, max_size=60).filter(lambda t: "\x00" not in t and not t.startswith("-"))


@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("cli_fixed")
    key = tmp / "issuer.key"
    write_key_file(key, PrivateKey.generate())
    wallet = tmp / "holder.wallet"
    os.environ["PW"] = "pw for the property test"
    created = CliRunner().invoke(cli, ["wallet", "create", "--wallet", str(wallet),
                                       "--passphrase-env", "PW"])  # fmt: skip
    assert created.exit_code == 0, created.output
    db = tmp / "registry.db"
    for args in (
        ["ledger", "init", "--db", str(db), "--key-file", str(key)],
        ["issuer", "init", "--db", str(db), "--key-file", str(key), "--name", "Office"],
        ["vault", "init", "--db", str(tmp / "vault.db"), "--master-key-file", str(tmp / "mk"),
         "--key-file", str(key)],
    ):  # fmt: skip
        done = CliRunner().invoke(cli, args)
        assert done.exit_code == 0, (args, done.output)
    yield {
        "key": str(key),
        "wallet": str(wallet),
        "db": str(db),
        "vault": str(tmp / "vault.db"),
        "mk": str(tmp / "mk"),
    }


def _fill(template: list[str], fixed: dict[str, str], file: Path, text: str) -> list[str]:
    out = []
    for arg in template:
        if arg == F:
            out.append(str(file))
        elif arg == T:
            out.append(text)
        elif arg == "{new}":
            out.append(str(file.with_suffix(".new.db")))
        elif arg.startswith("{") and arg.strip("{}") in fixed:
            out.append(fixed[arg.strip("{}")])
        else:
            out.append(arg)
    return out


@pytest.mark.parametrize("name", sorted(COMMANDS))
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(content=_file_content, text=_text)
def test_cli_never_prints_a_traceback(
    name: str, content: bytes, text: str, fixed: dict[str, str], tmp_path: Path
) -> None:
    file = tmp_path / f"input-{abs(hash((content, text)))}.bin"
    file.write_bytes(content)
    args = _fill(COMMANDS[name], fixed, file, text)
    result = CliRunner().invoke(cli, args, env={"PW": "pw for the property test"}, input="n\n")
    exception: Any = result.exception
    assert exception is None or isinstance(exception, SystemExit), (args, repr(exception))
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output)
    assert "Traceback (most recent call last)" not in result.output, (args, result.output)
