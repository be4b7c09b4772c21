"""The wallet and vault commands' own checks (issue 15 item 4), through the console script.

* ``wallet store`` refuses a credential bound to another holder (exit 1,
  ``holder_mismatch``) and the history lists the claims always shown;
* ``wallet answer -`` (the request on stdin) asks for consent on the terminal:
  a real pseudo-terminal answers yes or no; with no terminal there is no consent;
* a passphrase set by ``create``, ``passphrase`` or ``backup`` meets the stated rule;
* ``vault erase`` asks first, unless ``--yes``.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import Any

import pytest

PW = "correct horse battery staple"
ENV = {"PW": PW, "WEAK": "hunter2", "SAME": "aaaaaaaaaaaaaaaa", "NEW": "a brand new passphrase"}


def ssi(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ssi_wallet", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", **ENV},
        start_new_session=True,  # no controlling terminal, as in a pipeline
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("wallet_checks")
    wallet = tmp / "amina.wallet"
    made = ssi("wallet", "create", "--wallet", str(wallet), "--passphrase-env", "PW")
    assert made.returncode == 0, made.stderr
    did = made.stdout.strip()
    key = tmp / "ministry.jwk"
    assert ssi("did", "create", "--key-file", str(key)).returncode == 0
    subject = json.loads(ssi("issue", "--type", "WorkPermit", "--example-subject").stdout)

    def permit(name: str, holder: str) -> Path:
        path = tmp / f"{name}.json"
        path.write_text(json.dumps({**subject, "id": holder}), encoding="utf-8")
        out = tmp / f"{name}.txt"
        done = ssi("issue", "--type", "WorkPermit", "--subject-file", str(path), "--key-file",
                   str(key), "--out", str(out))  # fmt: skip
        assert done.returncode == 0, done.stderr
        return out

    opts = ["--wallet", str(wallet), "--passphrase-env", "PW"]
    stored = ssi("wallet", "store", str(permit("mine", did)), *opts)
    assert stored.returncode == 0, stored.stderr
    request = tmp / "request.json"
    asked = ssi("verifier", "request", "--policy", "right_to_work", "--audience",
                "did:web:clinic.example", "--unsafe-stateless", "--out", str(request))  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    return {"tmp": tmp, "wallet": wallet, "did": did, "opts": opts, "permit": permit,
            "request": request}  # fmt: skip


def test_store_refuses_a_credential_bound_to_another_holder(world: dict[str, Any]) -> None:
    other = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    done = ssi("wallet", "store", str(world["permit"]("theirs", other)), *world["opts"])
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "holder_mismatch" in done.stderr
    listed = json.loads(ssi("wallet", "list", "--json", *world["opts"]).stdout)
    assert len(listed) == 1  # only her own


def _answer_on_a_terminal(world: dict[str, Any], reply: bytes) -> tuple[int, str, str, str]:
    """Run ``wallet answer -`` with the request on stdin and a pseudo-terminal as the
    controlling terminal; type ``reply`` when the question appears."""
    master, slave = pty.openpty()
    slave_name = os.ttyname(slave)

    def become_session_leader_with_a_terminal() -> None:
        os.setsid()
        fd = os.open(slave_name, os.O_RDWR)
        fcntl.ioctl(fd, termios.TIOCSCTTY, 0)  # the child's controlling terminal
        os.close(fd)

    with open(world["request"], "rb") as request:  # the request on stdin, as in a pipe
        proc = subprocess.Popen(
            [sys.executable, "-m", "ssi_wallet", "wallet", "answer", "-", *world["opts"]],
            stdin=request,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONIOENCODING": "utf-8", **ENV},
            preexec_fn=become_session_leader_with_a_terminal,  # the test runs one thread
        )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    while b"Disclose this?" not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                seen += os.read(master, 1024)
            except OSError:  # no side of the terminal open yet: the child is starting
                time.sleep(0.05)
    os.write(master, reply)
    out, err = proc.communicate(timeout=60)
    os.close(master)
    return proc.returncode, out.decode(), err.decode(), seen.decode(errors="replace")


def test_answer_from_stdin_asks_on_the_terminal(world: dict[str, Any]) -> None:
    before = len(json.loads(ssi("wallet", "history", "--json", *world["opts"]).stdout))
    code, out, err, terminal = _answer_on_a_terminal(world, b"y\n")
    assert "Disclose this? [y/N]" in terminal  # asked on the terminal, not on stdin
    assert code == 0, err
    assert json.loads(out)["client_id"] == "did:web:clinic.example"
    code, out, err, terminal = _answer_on_a_terminal(world, b"n\n")
    assert code == 1 and "declined: nothing was disclosed" in err and out == ""
    history = json.loads(ssi("wallet", "history", "--json", *world["opts"]).stdout)
    assert len(history) == before + 1  # the declined answer left no record
    # the record lists what was shown whatever was asked: her DID, the document number
    (paths,) = history[-1]["disclosed"].values()
    assert ["sub"] in paths and ["documentNumber"] in paths and ["sector"] in paths


def test_answer_from_stdin_without_a_terminal_is_no_consent(world: dict[str, Any]) -> None:
    done = ssi("wallet", "answer", "-", *world["opts"], stdin=world["request"].read_text())
    assert done.returncode == 1 and done.stdout == ""
    assert "no terminal to ask for consent on" in done.stderr
    with_yes = ssi("wallet", "answer", "-", "--yes", *world["opts"],
                   stdin=world["request"].read_text())  # fmt: skip
    assert with_yes.returncode == 0, with_yes.stderr


@pytest.mark.parametrize("weak", ["WEAK", "SAME"])
def test_a_weak_passphrase_is_refused_where_one_is_set(world: dict[str, Any], weak: str) -> None:
    tmp: Path = world["tmp"]
    new_wallet = tmp / f"weak-{weak}.wallet"
    done = ssi("wallet", "create", "--wallet", str(new_wallet), "--passphrase-env", weak)
    assert done.returncode == 2 and "weak_passphrase" in done.stderr
    assert not new_wallet.exists()
    done = ssi("wallet", "passphrase", "--new-passphrase-env", weak, *world["opts"])
    assert done.returncode == 2 and "weak_passphrase" in done.stderr
    assert ssi("wallet", "did", *world["opts"]).returncode == 0  # the old one still opens it
    backup = tmp / f"weak-{weak}.backup"
    done = ssi("wallet", "backup", "--out", str(backup), "--backup-passphrase-env", weak,
               *world["opts"])  # fmt: skip
    assert done.returncode == 2 and "weak_passphrase" in done.stderr
    assert not backup.exists()


def test_the_rule_is_in_the_help() -> None:
    helped = ssi("wallet", "create", "--help")
    assert "at least 12 characters" in " ".join(helped.stdout.split())
    helped = ssi("wallet", "passphrase", "--help")
    assert "at least 12 characters" in " ".join(helped.stdout.split())


def test_vault_erase_asks_first(tmp_path: Path) -> None:
    db, mk, key = tmp_path / "registry.db", tmp_path / "vault.key", tmp_path / "op.jwk"
    record = tmp_path / "record.json"
    record.write_text('{"name": "Karim"}', encoding="utf-8")
    for args in (
        ["did", "create", "--key-file", str(key)],
        ["ledger", "init", "--db", str(db), "--key-file", str(key)],
        ["vault", "init", "--db", str(db), "--master-key-file", str(mk)],
    ):
        assert ssi(*args).returncode == 0
    common = ["--db", str(db), "--master-key-file", str(mk)]
    assert ssi("vault", "put", *common, "--key-file", str(key), "--subject", "karim",
               "--file", str(record)).returncode == 0  # fmt: skip
    erase = ["vault", "erase", *common, "--key-file", str(key), "--subject", "karim"]

    def status() -> str:
        got = ssi("vault", "get", *common, "--subject", "karim")
        return str(json.loads(got.stdout)["status"])

    no = ssi(*erase, stdin="n\n")
    assert no.returncode == 1 and "cannot be undone" in no.stderr and "nothing erased" in no.stderr
    assert status() == "active"
    silent = ssi(*erase, stdin="")  # no answer at all: no
    assert silent.returncode == 1 and status() == "active"
    yes = ssi(*erase, stdin="y\n")
    assert yes.returncode == 0, yes.stderr
    assert json.loads(yes.stdout)["subjectErased"] is True
    assert status() == "erased"
    assert ssi(*erase, "--yes").returncode == 0  # nothing left; no question asked
