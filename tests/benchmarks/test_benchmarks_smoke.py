"""``python -m benchmarks --quick --only <a cheap row> --json PATH`` runs; its JSON has the shape.

The full ``--quick`` run is not part of the suite (it takes up to a minute);
this checks the runner end to end on one row whose reference (PyNaCl) is a
runtime dependency.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_single_row_writes_the_json_rows(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            "--only",
            "di_eddsa_verify",
            "--json",
            str(out),
            "--workdir",
            str(tmp_path / "work"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert isinstance(rows, list) and len(rows) == 1
    (row,) = rows
    assert set(row) == {"name", "ours_ops_s", "reference", "reference_ops_s", "ratio", "target"}
    assert row["name"] == "di_eddsa_verify"
    assert row["target"] == 0.6
    assert isinstance(row["reference"], str) and "Ed25519" in row["reference"]
    assert row["ours_ops_s"] > 0 and row["reference_ops_s"] > 0
    assert abs(row["ratio"] - row["ours_ops_s"] / row["reference_ops_s"]) < 1e-3 * row["ratio"]
    # The markdown table names the row and its pass/fail column.
    assert "| operation | ours per second |" in done.stdout
    assert "`di_eddsa_verify`" in done.stdout


def test_unknown_row_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "no_such_row"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "unknown row" in done.stderr


def test_every_credentials_row_sets_up(tmp_path: Path) -> None:
    """Each cheap row's setup checks what it will time (a row whose credential stops
    verifying fails here, not only when someone runs the benchmarks)."""
    from benchmarks import bench_credentials
    from benchmarks._runner import Settings

    settings = Settings.make(quick=True, workdir=tmp_path)
    for bench in bench_credentials.BENCHMARKS:
        pair = bench.setup(settings)
        assert pair is not None, bench.name
