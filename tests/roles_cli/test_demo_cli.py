"""``ssi-wallet demo`` options (issue 15 item 2): --json, --keep DIR, --language.

Through the real console entry point: the JSON outcome of every step, the
kept files opened by the commands the demo prints, the language of the
decisions, and the refusals (unknown language, a folder already in use).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from ssi_wallet._messages import LANGUAGES


def ssi(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ssi_wallet", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})},
    )


def test_json_gives_each_step_its_outcome() -> None:
    done = ssi("demo", "--json")
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)  # nothing but the JSON on stdout
    assert outcome["ok"] is True and outcome["language"] == "en" and outcome["folder"] is None
    steps = outcome["steps"]
    assert [s["step"] for s in steps] == list(range(1, len(steps) + 1))
    by_outcome = {s["step"]: s["outcome"] for s in steps}
    assert by_outcome[7] == "declined" and by_outcome[11] == "refused"
    assert by_outcome[15] == "erased" and by_outcome[17] == "intact"
    assert all(s["ok"] and s["outcome"] == s["expected"] for s in steps)
    assert steps[10]["details"]["codes"] == ["revoked"]


def test_keep_leaves_files_the_printed_commands_open(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    done = ssi("demo", "--keep", str(folder))
    assert done.returncode == 0, done.stderr
    assert {p.name for p in folder.iterdir()} == {
        "registry.db",
        "vault.key",
        "amina.wallet",
        "amina.passphrase",
    }
    commands = done.stdout.split("Look inside:", 1)[1].strip().splitlines()
    audit, vault_get, history = (line.strip() for line in commands)
    ran = ssi(*shlex.split(audit)[1:])
    assert ran.returncode == 0 and "intact" in ran.stdout, ran.stderr
    ran = ssi(*shlex.split(vault_get)[1:])
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["status"] == "erased"
    words = shlex.split(history.split(")", 1)[1].strip().lstrip('"'))
    secret = (folder / "amina.passphrase").read_text(encoding="utf-8").strip()
    ran = ssi(*words[1:], env={"PW": secret})
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.count("did:web:") == 5  # five disclosures, the declined one absent
    assert "jobs-fast" not in ran.stdout


def test_language_changes_the_decisions() -> None:
    done = ssi("demo", "--language", "de")
    assert done.returncode == 0, done.stderr
    assert "ANGENOMMEN: Recht auf Arbeit im Sektor Q86" in done.stdout
    assert "ABGELEHNT" in done.stdout


def test_refuses_an_unknown_language_listing_the_known_ones() -> None:
    done = ssi("demo", "--language", "xx")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert all(code in done.stderr for code in LANGUAGES)
    helped = ssi("demo", "--help")
    assert helped.returncode == 0
    assert "--keep DIR" in helped.stdout and "--json" in helped.stdout
    assert "fa" in helped.stdout and "uz" in helped.stdout


def test_refuses_a_folder_in_use(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    done = ssi("demo", "--keep", str(tmp_path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "not an empty folder" in done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    as_json = ssi("demo", "--json", "--keep", str(tmp_path))
    assert as_json.returncode == 2
    assert "not an empty folder" in json.loads(as_json.stdout)["error"]["message"]
