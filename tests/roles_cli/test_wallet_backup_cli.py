"""``ssi-wallet wallet passphrase|backup|restore`` and the read-only commands, end to end.

Most runs go through click's runner in this process (each is a full command
line with the real wallet files); the read-only checks on foreign files also
run as real subprocesses, since "never creates a file" must hold for the
process a person starts.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from instants import day_from_today
from vector_files import VECTORS

from credentials import schemas
from did_methods import PrivateKey
from ledger.facade import Ledger
from ssi_wallet import Issuer
from ssi_wallet.cli import cli

PW = "correct horse battery staple"
ENV = {"WALLET_PW": PW, "OTHER_PW": "another passphrase", "NEW_PW": "a new passphrase"}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(*args: str, pw: str = "WALLET_PW") -> Result:
    runner = CliRunner()
    argv = [*args]
    if "--wallet" in argv and "--passphrase-env" not in argv:
        argv += ["--passphrase-env", pw]
    return runner.invoke(cli, argv, env=ENV, catch_exceptions=False)


def listing(wallet: Path, pw: str = "WALLET_PW") -> list[dict[str, Any]]:
    done = run("wallet", "list", "--json", "--wallet", str(wallet), pw=pw)
    assert done.exit_code == 0, done.output
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


def permit(tmp: Path, ministry: Issuer, did: str, type_name: str = "WorkPermit") -> Path:
    subject = schemas.example_subject(type_name)
    subject.pop("id")
    if "expiryDate" in subject:
        subject["issueDate"] = day_from_today(-30)
        subject["expiryDate"] = day_from_today(3650)  # kept for years
    path = tmp / f"{type_name}-{os.urandom(4).hex()}.txt"
    path.write_text(ministry.issue(type_name, subject=did, claims=subject).serialise())
    return path


def new_wallet(tmp: Path, name: str, ministry: Issuer, *types: str) -> tuple[Path, str]:
    wallet = tmp / name
    done = run("wallet", "create", "--wallet", str(wallet))
    assert done.exit_code == 0, done.output
    did = done.stdout.strip()
    for type_name in types:
        stored = run(
            "wallet", "store", str(permit(tmp, ministry, did, type_name)), "--wallet", str(wallet)
        )
        assert stored.exit_code == 0, stored.output
    return wallet, did


@pytest.fixture(scope="module")
def ministry() -> Issuer:
    return Issuer.create(name="Migration Department")


def test_backup_and_restore_onto_a_new_device(tmp_path: Path, ministry: Issuer) -> None:
    wallet, did = new_wallet(tmp_path, "amina.wallet", ministry, "WorkPermit", "Visa")
    out = tmp_path / "amina.backup"
    done = run("wallet", "backup", "--out", str(out), "--wallet", str(wallet))
    assert done.exit_code == 0, done.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert b"Amina" not in out.read_bytes() and b"eyJ" not in out.read_bytes()
    phone = tmp_path / "phone.wallet"
    done = run("wallet", "restore", str(out), "--json", "--wallet", str(phone))
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert result["holder"] == did and result["created"] is True
    assert result["credentials_added"] == 2
    assert listing(phone) == listing(wallet)
    assert stat.S_IMODE(phone.stat().st_mode) == 0o600


def test_backup_under_its_own_passphrase(tmp_path: Path, ministry: Issuer) -> None:
    wallet, _ = new_wallet(tmp_path, "amina.wallet", ministry, "WorkPermit")
    out = tmp_path / "amina.backup"
    done = run(
        "wallet", "backup", "--out", str(out), "--backup-passphrase-env", "OTHER_PW",
        "--wallet", str(wallet),
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    wrong = run("wallet", "restore", str(out), "--wallet", str(tmp_path / "x.wallet"))
    assert wrong.exit_code == 1
    assert "wrong_passphrase" in wrong.output
    assert not (tmp_path / "x.wallet").exists()
    right = run(
        "wallet", "restore", str(out), "--backup-passphrase-env", "OTHER_PW",
        "--wallet", str(tmp_path / "x.wallet"),
    )  # fmt: skip
    assert right.exit_code == 0, right.output


def test_restore_never_drops_what_the_wallet_has(tmp_path: Path, ministry: Issuer) -> None:
    wallet, did = new_wallet(tmp_path, "amina.wallet", ministry, "WorkPermit")
    out = tmp_path / "old.backup"
    assert run("wallet", "backup", "--out", str(out), "--wallet", str(wallet)).exit_code == 0
    later = run(
        "wallet", "store", str(permit(tmp_path, ministry, did, "Visa")), "--wallet", str(wallet)
    )
    assert later.exit_code == 0
    before = listing(wallet)
    done = run("wallet", "restore", str(out), "--json", "--wallet", str(wallet))
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["already_present"] == 1
    assert listing(wallet) == before


def test_restore_refuses_another_wallets_backup(tmp_path: Path, ministry: Issuer) -> None:
    theirs, _ = new_wallet(tmp_path, "theirs.wallet", ministry, "WorkPermit", "Visa")
    mine, my_did = new_wallet(tmp_path, "mine.wallet", ministry, "StudyPermit")
    out = tmp_path / "theirs.backup"
    assert run("wallet", "backup", "--out", str(out), "--wallet", str(theirs)).exit_code == 0
    before = listing(mine)
    done = run("wallet", "restore", str(out), "--wallet", str(mine))
    assert done.exit_code == 1
    assert "other_wallet" in done.output
    assert listing(mine) == before
    allowed = run("wallet", "restore", str(out), "--allow-other-wallet", "--wallet", str(mine))
    assert allowed.exit_code == 0, allowed.output
    after = listing(mine)
    assert len(after) == 3 and after[0] == before[0]
    did = run("wallet", "did", "--wallet", str(mine))
    assert did.stdout.strip() == my_did


def test_tampered_backup_exits_2(tmp_path: Path, ministry: Issuer) -> None:
    wallet, _ = new_wallet(tmp_path, "amina.wallet", ministry, "WorkPermit")
    out = tmp_path / "amina.backup"
    assert run("wallet", "backup", "--out", str(out), "--wallet", str(wallet)).exit_code == 0
    data = bytearray(out.read_bytes())
    data[-5] ^= 0x01
    out.write_bytes(bytes(data))
    before = listing(wallet)
    done = run("wallet", "restore", str(out), "--wallet", str(wallet))
    assert done.exit_code == 2
    assert "backup_tampered" in done.output
    assert listing(wallet) == before


def test_backup_never_overwrites(tmp_path: Path, ministry: Issuer) -> None:
    wallet, _ = new_wallet(tmp_path, "amina.wallet", ministry)
    out = tmp_path / "precious.txt"
    out.write_text("precious")
    done = run("wallet", "backup", "--out", str(out), "--wallet", str(wallet))
    assert done.exit_code == 2
    assert "exists" in done.output and "--force" in done.output
    assert out.read_text() == "precious"
    link = tmp_path / "link.backup"
    link.symlink_to(tmp_path / "elsewhere")
    done = run("wallet", "backup", "--out", str(link), "--force", "--wallet", str(wallet))
    assert done.exit_code == 2
    assert not (tmp_path / "elsewhere").exists()
    done = run("wallet", "backup", "--out", str(out), "--force", "--wallet", str(wallet))
    assert done.exit_code == 0, done.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    restored = run("wallet", "restore", str(out), "--wallet", str(tmp_path / "again.wallet"))
    assert restored.exit_code == 0, restored.output


def test_passphrase_change(tmp_path: Path, ministry: Issuer) -> None:
    wallet, _ = new_wallet(tmp_path, "amina.wallet", ministry, "WorkPermit")
    before = listing(wallet)
    done = run("wallet", "passphrase", "--new-passphrase-env", "NEW_PW", "--wallet", str(wallet))
    assert done.exit_code == 0, done.output
    old = run("wallet", "did", "--wallet", str(wallet))
    assert old.exit_code == 1 and "wrong_passphrase" in old.output
    assert listing(wallet, pw="NEW_PW") == before
    wrong = run(
        "wallet", "passphrase", "--new-passphrase-env", "OTHER_PW",
        "--wallet", str(wallet), "--passphrase-env", "WALLET_PW",
    )  # fmt: skip
    assert wrong.exit_code == 1
    assert listing(wallet, pw="NEW_PW") == before


def test_passphrase_change_by_prompt(tmp_path: Path) -> None:
    wallet = tmp_path / "w.wallet"
    assert run("wallet", "create", "--wallet", str(wallet)).exit_code == 0
    runner = CliRunner()
    done = runner.invoke(
        cli,
        ["wallet", "passphrase", "--wallet", str(wallet), "--passphrase-env", "WALLET_PW"],
        env=ENV,
        input="a fresh passphrase\na fresh passphrase\n",
    )
    assert done.exit_code == 0, done.output
    assert (
        run("wallet", "did", "--wallet", str(wallet), "--passphrase-env", "NEW_PW").exit_code == 1
    )
    fresh = CliRunner().invoke(
        cli,
        ["wallet", "did", "--wallet", str(wallet), "--passphrase-env", "F"],
        env={"F": "a fresh passphrase"},
    )
    assert fresh.exit_code == 0, fresh.output


def test_list_shows_no_claims_and_show_one(tmp_path: Path, ministry: Issuer) -> None:
    wallet, _ = new_wallet(tmp_path, "amina.wallet", ministry, "WorkPermit")
    rows = listing(wallet)
    assert set(rows[0]) == {"id", "type", "issuer", "format", "stored_at"}
    shown = run("wallet", "show", rows[0]["id"], "--wallet", str(wallet))
    assert shown.exit_code == 0
    assert json.loads(shown.stdout)["claims"]["sector"]
    missing = run("wallet", "show", "urn:uuid:none", "--wallet", str(wallet))
    assert missing.exit_code == 1


# -- read-only commands never create or alter a file ------------------------------------


def sub(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ssi_wallet", *args, "--passphrase-env", "WALLET_PW"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **ENV},
    )


@pytest.mark.parametrize(
    "command", [["did"], ["list"], ["history"], ["show", "urn:uuid:x"], ["export"]]
)
def test_read_only_commands_on_a_ledger(tmp_path: Path, command: list[str]) -> None:
    db = tmp_path / "registry.db"
    Ledger.open(db, key=PrivateKey.generate()).close()
    before, files = digest(db), sorted(os.listdir(tmp_path))
    done = sub("wallet", *command, "--wallet", str(db))
    assert done.returncode == 2, done.stderr
    assert "not_a_wallet" in done.stderr and "Traceback" not in done.stderr
    assert digest(db) == before and sorted(os.listdir(tmp_path)) == files


@pytest.mark.parametrize(
    "content", [b"", b"\x00" * 4096, os.urandom(3000)], ids=["empty", "zeros", "random"]
)
def test_read_only_commands_on_other_bytes(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.wallet"
    path.write_bytes(content)
    done = run("wallet", "list", "--wallet", str(path))
    assert done.exit_code == 2
    assert "not_a_wallet" in done.output
    assert path.read_bytes() == content and os.listdir(tmp_path) == ["x.wallet"]


def test_read_only_commands_leave_a_v1_wallet_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "old.wallet"
    shutil.copyfile(VECTORS / "wallet-v1" / "amina.wallet", path)
    expected = json.loads((VECTORS / "wallet-v1" / "expected.json").read_text())
    before = digest(path)
    env = {"V1_PW": expected["passphrase"]}
    runner = CliRunner()
    for command in (["list", "--json"], ["history", "--json"], ["did"], ["export"]):
        done = runner.invoke(
            cli, ["wallet", *command, "--wallet", str(path), "--passphrase-env", "V1_PW"], env=env
        )
        assert done.exit_code == 0, done.output
    out = tmp_path / "old.backup"
    done = runner.invoke(
        cli,
        ["wallet", "backup", "--out", str(out), "--wallet", str(path), "--passphrase-env", "V1_PW"],
        env=env,
    )
    assert done.exit_code == 0, done.output
    assert digest(path) == before
    assert sorted(os.listdir(tmp_path)) == ["old.backup", "old.wallet"]


def test_passphrase_change_with_rekey(tmp_path: Path, ministry: Issuer) -> None:
    wallet, _ = new_wallet(tmp_path, "amina.wallet", ministry, "WorkPermit", "Visa")
    before = listing(wallet)
    done = run(
        "wallet", "passphrase", "--rekey", "--new-passphrase-env", "NEW_PW",
        "--wallet", str(wallet),
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert run("wallet", "did", "--wallet", str(wallet)).exit_code == 1
    assert listing(wallet, pw="NEW_PW") == before
