"""The README's command-line block runs as written in an empty directory (issue 15 item 1)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _cli_block() -> list[str]:
    text = README.read_text(encoding="utf-8")
    after = text.split("From the command line:", 1)[1]
    match = re.search(r"```sh\n(.*?)```", after, re.S)
    assert match is not None, "the README lost its command-line block"
    return [line for line in match.group(1).splitlines() if line.strip()]


def _run(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    words = shlex.split(line)
    stdout_file = None
    if ">" in words:  # the block's only shell syntax: `> FILE`
        at = words.index(">")
        words, stdout_file = words[:at], words[at + 1]
    assert words[0] == "ssi-wallet", line
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [sys.executable, "-m", "ssi_wallet", *words[1:]],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    if stdout_file is not None:
        (cwd / stdout_file).write_text(result.stdout, encoding="utf-8")
    return result


def test_every_line_of_the_block_succeeds_in_an_empty_directory(tmp_path: Path) -> None:
    lines = _cli_block()
    assert len(lines) >= 6
    outputs = {}
    for line in lines:
        result = _run(line, tmp_path)
        assert result.returncode == 0, f"{line}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr
        outputs[line] = result.stdout
    verify_line = next(line for line in lines if line.startswith("ssi-wallet verify"))
    report = json.loads(outputs[verify_line])
    assert report["ok"] is True
    assert (tmp_path / "permit.txt").stat().st_size > 0
    assert (tmp_path / "registry.db").exists()


def test_a_failed_issue_leaves_no_output_file(tmp_path: Path) -> None:
    lines = _cli_block()
    create = next(line for line in lines if "did create" in line and "ministry.jwk" in line)
    assert _run(create, tmp_path).returncode == 0
    (tmp_path / "subject.json").write_text('{"id": "did:example:amina"}', encoding="utf-8")
    issue = next(line for line in lines if "--subject-file" in line)
    result = _run(issue, tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert not (tmp_path / "permit.txt").exists()


def test_issue_out_never_overwrites_without_force(tmp_path: Path) -> None:
    lines = _cli_block()
    for line in lines[:4]:
        assert _run(line, tmp_path).returncode == 0
    first = (tmp_path / "permit.txt").read_text(encoding="utf-8")
    again = _run(lines[3], tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr
    assert (tmp_path / "permit.txt").read_text(encoding="utf-8") == first
    forced = _run(lines[3] + " --force", tmp_path)
    assert forced.returncode == 0
    assert (tmp_path / "permit.txt").read_text(encoding="utf-8") != first
