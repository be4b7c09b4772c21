"""``ssi-wallet demo`` runs the whole scenario for real, through the console entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ssi_wallet.demo import run_demo


def test_demo_runs_end_to_end_and_leaves_its_files(tmp_path: Path) -> None:
    lines: list[str] = []
    run_demo(lines.append, folder=tmp_path)
    text = "\n".join(lines)
    assert "Demo complete" in text
    assert "ANGENOMMEN: Recht auf Arbeit im Sektor Q86" in text  # the hospital explains in German
    assert "REFUSED: right to work in sector Q86" in text  # the suspension step
    assert "Audit of hash chain and Merkle tree: intact" in text
    assert (tmp_path / "registry.db").exists()
    wallet = (tmp_path / "amina.wallet").read_bytes()
    assert b"Haddad" not in wallet and b"Amina" not in wallet
    db = (tmp_path / "registry.db").read_bytes()
    assert b"Haddad" not in db  # the ledger holds no personal data


def test_demo_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ssi_wallet", "demo"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "Demo complete" in done.stdout
