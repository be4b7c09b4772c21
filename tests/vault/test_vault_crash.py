"""kill -9 during vault writes leaves no half record, no orphaned key and no orphaned
commitment (SQLite, PostgreSQL): each write and its log entries are one transaction."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests_vault_support import pg_dsn_or_skip

from did_methods.keys import PrivateKey
from ledger.audit import audit
from ledger.entry import Entry
from ledger.vault import MasterKey, Vault
from ledger.vault.proof import (
    KIND_ACCESS,
    KIND_COMMIT,
    KIND_REFUSAL,
    KIND_RELEASE,
    KIND_TOMBSTONE,
    decode_payload,
)

WORKER = Path(__file__).parent / "vault_crash_worker.py"
ORIGIN = "vault.test/log"

# Run on the vault's tables as the crash left them, before any recovery.
RAW_CHECKS = {
    "records without a key": "SELECT COUNT(*) FROM {p}vault_records r WHERE NOT EXISTS "
    "(SELECT 1 FROM {p}vault_subjects s WHERE s.tag = r.tag)",
    "keys without a record": "SELECT COUNT(*) FROM {p}vault_subjects s WHERE NOT EXISTS "
    "(SELECT 1 FROM {p}vault_records r WHERE r.tag = s.tag)",
    "half-written records": "SELECT COUNT(*) FROM {p}vault_records WHERE length(ciphertext) < 48 "
    "OR length(nonce) != 12 OR length(commitment) != 32",
    "records whose commitment is not on the log": "SELECT COUNT(*) FROM {p}vault_records "
    "WHERE log_index >= (SELECT size FROM {p}ledger_tail)",
}


Rows = Callable[[str], list[tuple[Any, ...]]]


def _raw_problems(rows: Rows, prefix: str) -> list[str]:
    def query(sql: str) -> list[tuple[Any, ...]]:
        return rows(sql.replace("{p}", prefix))

    problems = [name for name, sql in RAW_CHECKS.items() if int(query(sql)[0][0])]
    # The log against the vault tables, before any recovery (no replay has run).
    by_kind: dict[str, set[bytes]] = {}
    for (data,) in query("SELECT data FROM {p}ledger_entries"):
        entry = Entry.decode(bytes(data))
        if entry.kind.startswith("vault."):
            by_kind.setdefault(entry.kind, set()).add(decode_payload(entry.kind, entry.payload)[0])
    live = {bytes(r[0]) for r in query("SELECT ref FROM {p}vault_records")}
    erased = {bytes(r[0]) for r in query("SELECT ref FROM {p}vault_erased")}
    events = {bytes(r[0]) for r in query("SELECT ref FROM {p}vault_events")}
    tombstones = by_kind.get(KIND_TOMBSTONE, set())
    logged_events = set().union(
        *(by_kind.get(k, set()) for k in (KIND_RELEASE, KIND_REFUSAL, KIND_ACCESS))
    )
    if by_kind.get(KIND_COMMIT, set()) - live - tombstones:
        problems.append("commitments on the log with neither a record nor a tombstone")
    if live & tombstones:
        problems.append("records whose tombstone is on the log (erasure not applied)")
    if erased - tombstones:
        problems.append("erasure markers without their tombstone")
    if logged_events != events:
        problems.append("logged events and event rows differ")
    return problems


def _crash_rounds(
    target: str, schema: str, rounds: int, tmp_path: Path, raw: Callable[[], list[str]]
) -> None:
    mk_file = MasterKey.generate().write_file(tmp_path / "mk.json")
    master = MasterKey.from_file(mk_file)
    key = PrivateKey.generate(randbytes=lambda n: b"\x07" * n)

    def open_vault() -> Vault:
        return Vault.open(target, master_key=master, signer=key, origin=ORIGIN, schema=schema)

    open_vault().close()
    rng = random.Random(20260101)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    acked_total = 0
    for round_no in range(rounds):
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), target, schema, str(mk_file), str(round_no)],
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
        # 1. The tables as the crash left them: no half record, no orphaned key, no
        #    commitment or event on the log without its row, no unapplied tombstone.
        assert raw() == [], f"round {round_no}"
        # 2. Opening (which still replays tombstones, for restores) changes nothing
        #    of that; everything checks out.
        with open_vault() as vault:
            report = vault.check()
            assert report.ok, (round_no, report.problems)
            assert audit(vault.log.store).ok
            # 3. Every acknowledged write is there, or was erased afterwards (by an
            #    acknowledged erasure, or one whose tombstones were logged before the kill).
            last_erase = {a["subject"]: i for i, a in enumerate(acks) if a["op"] == "erase"}
            seen: dict[str, Any] = {}
            for i, ack in enumerate(acks):
                if ack["op"] not in {"put", "rectify"}:
                    continue
                subject = ack["subject"]
                if subject not in seen:
                    access = vault.access(subject, log_event=False)
                    seen[subject] = (
                        {r.record_id for r in access.records},
                        {e.record_id for e in access.erased},
                    )
                live, gone = seen[subject]
                assert ack["record_id"] in live | gone, (round_no, ack)
                if last_erase.get(subject, -1) > i:
                    assert ack["record_id"] not in live, (round_no, ack)
    assert acked_total > rounds  # the worker really wrote between kills


@pytest.mark.slow
def test_kill_9_during_writes_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "registry.db"

    def raw() -> list[str]:
        conn = sqlite3.connect(db)
        try:
            return _raw_problems(lambda sql: conn.execute(sql).fetchall(), "")
        finally:
            conn.close()

    _crash_rounds(str(db), "ssi_ledger", 20, tmp_path, raw)


@pytest.mark.slow
def test_kill_9_during_writes_postgres(tmp_path: Path) -> None:
    import psycopg

    dsn = pg_dsn_or_skip()
    schema = "vault_crash_" + uuid.uuid4().hex[:10]

    def raw() -> list[str]:
        with psycopg.connect(dsn, autocommit=True) as conn:
            return _raw_problems(lambda sql: conn.execute(sql).fetchall(), schema + ".")

    try:
        _crash_rounds(dsn, schema, 8, tmp_path, raw)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
