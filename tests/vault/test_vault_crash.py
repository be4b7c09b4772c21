"""kill -9 during vault writes leaves no half record and no orphaned key."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from did_methods.keys import PrivateKey
from ledger.audit import audit
from ledger.vault import MasterKey, Vault

WORKER = Path(__file__).parent / "vault_crash_worker.py"
ROUNDS = 20


def _raw_consistency(db: Path) -> list[str]:
    """Check the tables directly, before any recovery runs."""
    conn = sqlite3.connect(db)
    try:
        problems = []
        orphan_records = conn.execute(
            "SELECT COUNT(*) FROM vault_records r WHERE NOT EXISTS "
            "(SELECT 1 FROM vault_subjects s WHERE s.tag = r.tag)"
        ).fetchone()[0]
        orphan_keys = conn.execute(
            "SELECT COUNT(*) FROM vault_subjects s WHERE NOT EXISTS "
            "(SELECT 1 FROM vault_records r WHERE r.tag = s.tag)"
        ).fetchone()[0]
        half = conn.execute(
            "SELECT COUNT(*) FROM vault_records WHERE length(ciphertext) < 48 "
            "OR length(nonce) != 12 OR length(commitment) != 32"
        ).fetchone()[0]
        size = conn.execute("SELECT size FROM ledger_tail").fetchone()[0]
        beyond = conn.execute(
            "SELECT COUNT(*) FROM vault_records WHERE log_index >= ?", (size,)
        ).fetchone()[0]
        if orphan_records:
            problems.append(f"{orphan_records} records without a key")
        if orphan_keys:
            problems.append(f"{orphan_keys} keys without a record")
        if half:
            problems.append(f"{half} half-written records")
        if beyond:
            problems.append(f"{beyond} records whose commitment is not on the log")
        return problems
    finally:
        conn.close()


def test_kill_9_during_writes(tmp_path: Path) -> None:
    db = tmp_path / "registry.db"
    mk_file = MasterKey.generate().write_file(tmp_path / "mk.json")
    master = MasterKey.from_file(mk_file)
    key = PrivateKey.generate(randbytes=lambda n: b"\x07" * n)
    Vault.open(db, master_key=master, signer=key, origin="vault.test/log").close()
    rng = random.Random(20260101)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    acked_total = 0
    for round_no in range(ROUNDS):
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), str(db), str(mk_file), str(round_no)],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert proc.stdout is not None
        assert json.loads(proc.stdout.readline())["op"] == "ready"
        time.sleep(rng.uniform(0.01, 0.15))
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        acks = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
        acked_total += len(acks)

        # 1. The tables as the crash left them: no half record, no orphaned key.
        assert _raw_consistency(db) == [], f"round {round_no}"
        # 2. Opening runs recovery (tombstone replay); then everything checks out.
        with Vault.open(db, master_key=master, signer=key, origin="vault.test/log") as vault:
            report = vault.check()
            assert report.ok, (round_no, report.problems)
            assert audit(vault.log.store).ok
            # 3. Every acknowledged write is there (or was erased later, by an ack or by
            #    an erasure whose tombstones were logged before the kill).
            last_erase: dict[str, int] = {}
            for i, ack in enumerate(acks):
                if ack["op"] == "erase":
                    last_erase[ack["subject"]] = i
            for i, ack in enumerate(acks):
                if ack["op"] not in {"put", "rectify"}:
                    continue
                access = vault.access(ack["subject"], log_event=False)
                live = {(r.record_id, r.version) for r in access.records}
                gone = {(e.record_id, e.version) for e in access.erased}
                ids = {rid for rid, _ in live | gone}
                assert ack["record_id"] in ids, (round_no, ack)
                if last_erase.get(ack["subject"], -1) > i:
                    assert ack["record_id"] not in {rid for rid, _ in live}, (round_no, ack)
    assert acked_total > ROUNDS  # the worker really wrote between kills
