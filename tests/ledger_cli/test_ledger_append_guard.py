"""``ledger append`` refuses what looks like personal data, and shows progress on a
terminal for ``--lines`` (issue 15 item 5)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from terminal_support import run_with_terminal_stderr

from did_methods import PrivateKey
from did_methods.keyfile import write_key_file
from ledger.personal_data import MAX_SCANNED, personal_data_hints
from ssi_wallet.cli import cli

FLAG = "--i-know-this-is-not-personal-data"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def log(tmp_path: Path) -> list[str]:
    """``--db`` of an initialised log and ``--key-file`` of its operator."""
    key = tmp_path / "operator.jwk"
    write_key_file(key, PrivateKey.generate())
    db = tmp_path / "log.db"
    assert invoke("ledger", "init", "--db", str(db), "--key-file", str(key)).exit_code == 0
    return ["--db", str(db), "--key-file", str(key)]


def _size(log: list[str]) -> int:
    done = invoke("ledger", "audit", *log[:2], "--json")
    return int(json.loads(done.stdout)["size"])


PERSONAL = [
    ("Amina Yusuf", "name"),
    ("Élodie DUPONT", "name"),
    ("born 1990-03-14", "date"),
    ("14.03.1990", "date"),
    ("14/03/1990", "date"),
    ('{"birthDate": "x"}', "birthdate"),
    ("given_name=amina", "givenname"),
    ("Date of birth: unknown", "dateofbirth"),
    ("nationality: ua", "nationality"),
    ("write to amina.y@example.org", "e-mail"),
]

NOT_PERSONAL = [
    "hi",
    "record 1234",
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "status-list anchor 2026-12-04T10:00:00Z",
    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "HTTP API v2",
]


@pytest.mark.parametrize(("payload", "why"), PERSONAL)
def test_hints_name_why_a_payload_looks_personal(payload: str, why: str) -> None:
    hints = personal_data_hints(payload)
    assert any(why in hint for hint in hints), hints
    # the reasons never repeat the data itself
    assert all(payload not in hint for hint in hints)


@pytest.mark.parametrize("payload", NOT_PERSONAL)
def test_hints_pass_commitments_identifiers_and_timestamps(payload: str) -> None:
    assert personal_data_hints(payload.encode("utf-8")) == ()


@pytest.mark.parametrize(
    "hostile", ["a" * MAX_SCANNED, "a " * (MAX_SCANNED // 2), "a." * (MAX_SCANNED // 2),
                "a@" * (MAX_SCANNED // 2), "Ab " * (MAX_SCANNED // 3), ":" * MAX_SCANNED],
)  # fmt: skip
def test_hints_take_bounded_time_on_hostile_payloads(hostile: str) -> None:
    started = time.perf_counter()
    personal_data_hints(hostile * 4)  # only the first MAX_SCANNED bytes are read
    assert time.perf_counter() - started < 5


def test_append_refuses_personal_data_and_writes_nothing(tmp_path: Path, log: list[str]) -> None:
    for payload, _ in PERSONAL:
        done = invoke("ledger", "append", *log, "--data", payload)
        assert done.exit_code == 2, (payload, done.output)
        assert "personal data" in done.stderr and FLAG in done.stderr
        assert payload not in done.stderr
    record = tmp_path / "record.json"
    record.write_text('{"familyName": "Yusuf"}', encoding="utf-8")
    done = invoke("ledger", "append", *log, "--file", str(record), "--json")
    assert done.exit_code == 2
    assert json.loads(done.stdout)["error"]["code"] == "looks_like_personal_data"
    lines = tmp_path / "lines.txt"
    lines.write_text("record 1\nrecord 2\nAmina Yusuf\nrecord 4\n", encoding="utf-8")
    done = invoke("ledger", "append", *log, "--lines", str(lines))
    assert done.exit_code == 2 and "line 3" in done.stderr
    assert _size(log) == 0  # not one line of the file was appended


def test_append_takes_what_is_not_personal_and_the_flag_overrides(
    tmp_path: Path, log: list[str]
) -> None:
    for payload in NOT_PERSONAL:
        assert invoke("ledger", "append", *log, "--data", payload).exit_code == 0, payload
    lines = tmp_path / "lines.txt"
    lines.write_text("Ministry Of Interior\nrecord 2\n", encoding="utf-8")
    assert invoke("ledger", "append", *log, "--lines", str(lines)).exit_code == 2
    assert invoke("ledger", "append", *log, "--lines", str(lines), FLAG).exit_code == 0
    assert _size(log) == len(NOT_PERSONAL) + 2


def test_append_lines_shows_progress_on_a_terminal_only(tmp_path: Path, log: list[str]) -> None:
    lines = tmp_path / "lines.txt"
    lines.write_text("".join(f"record {i}\n" for i in range(300)), encoding="utf-8")
    args = ["ledger", "append", *log, "--lines", str(lines), "--batch", "100"]
    done, terminal = run_with_terminal_stderr(args)
    assert done.returncode == 0 and "appended 300 entries" in done.stdout
    assert "appending" in terminal and "300/300" in terminal
    piped = subprocess.run(
        [sys.executable, "-m", "ssi_wallet", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert piped.returncode == 0 and piped.stderr == ""  # no bar in a pipe or a log
    assert _size(log) == 600
