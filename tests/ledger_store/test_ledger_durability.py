"""Crash safety (kill -9 mid-append) and concurrent appenders in separate processes."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from ledger_store_child import SIDE_TABLE
from ledger_store_support import ORIGIN, pg_drop_schema, pg_dsn

from ledger.audit import audit
from ledger.log import Log, did_key_lookup
from ledger.store import SQLiteStore, Store

CHILD = Path(__file__).with_name("ledger_store_child.py")
ROOT = Path(__file__).resolve().parents[2]


def spawn(
    spec: str, worker: str, batches: int, batch_size: int, seed: int
) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(CHILD), spec, worker, str(batches), str(batch_size), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def parse_acks(lines: list[str]) -> list[tuple[int, int, str, int]]:
    acks = []
    for line in lines:
        parts = line.split()
        if parts and parts[0] == "ack":
            acks.append((int(parts[1]), int(parts[2]), parts[3], int(parts[4])))
    return acks


def check_acknowledged(store: Store, acks: list[tuple[int, int, str, int]]) -> None:
    log = Log(store, origin=ORIGIN)
    for first, count, worker, seq in acks:
        for i in range(count):
            entry = log.get(first + i)
            assert entry.payload == f"{worker}:{seq + i}".encode()


def side_rows(spec: str) -> dict[int, bytes]:
    """The rows the children's ``before_commit`` hook wrote beside their entries."""
    kind, _, rest = spec.partition(":")
    if kind == "sqlite":
        conn = sqlite3.connect(rest)
        try:
            rows = conn.execute(f"SELECT idx, payload FROM {SIDE_TABLE}").fetchall()
        finally:
            conn.close()
    else:
        import psycopg

        schema, _, dsn = rest.partition(":")
        with psycopg.connect(dsn) as pg:
            rows = pg.execute(f"SELECT idx, payload FROM {schema}.{SIDE_TABLE}").fetchall()
    return {int(i): bytes(p) for i, p in rows}


def check_no_orphans(spec: str, store: Store) -> None:
    """Every entry has the side row written in its transaction, and every row its entry:
    a kill left neither an entry without its row nor a row without its entry."""
    log = Log(store, origin=ORIGIN)
    assert side_rows(spec) == {e.index: e.payload for e in log.range()}


@pytest.mark.slow
def test_kill_9_never_loses_an_acknowledged_append(tmp_path: Path) -> None:
    """50 rounds: a child appends random-size batches and is SIGKILLed at a random moment.

    After every kill the log audits clean (chain, tree, tail, signatures) and
    every batch the child acknowledged after its commit is there, byte for byte.
    """
    path = tmp_path / "crash.db"
    rng = random.Random(20240601)
    all_acks: list[tuple[int, int, str, int]] = []
    killed_mid_run = 0
    for round_no in range(50):
        child = spawn(f"sqlite:{path}", f"r{round_no}", 0, 0, round_no)
        assert child.stdout is not None
        ready = child.stdout.readline()
        assert ready.strip() == "ready", child.stderr.read() if child.stderr else ""
        time.sleep(rng.uniform(0.0, 0.25))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL
        acks = parse_acks(out.splitlines())
        killed_mid_run += bool(acks)
        all_acks.extend(acks)
        store = SQLiteStore(path)
        try:
            report = audit(store, key_lookup=did_key_lookup if round_no % 10 == 0 else None)
            assert report.ok, (round_no, report)
            check_acknowledged(store, acks)
            assert store.tail().size >= sum(count for _, count, _, _ in all_acks)
            check_no_orphans(f"sqlite:{path}", store)
        finally:
            store.close()
    store = SQLiteStore(path)
    try:
        check_acknowledged(store, all_acks)
        assert audit(store, key_lookup=did_key_lookup).ok
    finally:
        store.close()
    # Most rounds were killed after some appends (the rest right after start-up).
    assert killed_mid_run >= 25


def _run_concurrently(spec: str, store: Store, workers: int, batches: int, size: int) -> None:
    children = [spawn(spec, f"w{w}", batches, size, w) for w in range(workers)]
    outputs = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        outputs.append(out.splitlines())
    total = workers * batches * size
    assert store.tail().size == total
    report = audit(store, key_lookup=did_key_lookup)
    assert report.ok and report.size == total, report
    check_no_orphans(spec, store)
    log = Log(store, origin=ORIGIN)
    # Every index 0..total-1 holds exactly one (worker, seq), each exactly once,
    # and each worker's entries keep its own order.
    seen: dict[str, list[int]] = {}
    for entry in log.range():
        worker, seq = entry.payload.decode().split(":")
        seen.setdefault(worker, []).append(int(seq))
    assert sorted(seen) == [f"w{w}" for w in range(workers)]
    for seqs in seen.values():
        assert seqs == list(range(batches * size))
    # And what each child acknowledged is where it was told.
    for lines in outputs:
        acks = parse_acks(lines)
        assert len(acks) == batches
        check_acknowledged(store, acks)
    # Batches are contiguous: one transaction each.
    for lines in outputs:
        for first, count, worker, seq in parse_acks(lines):
            assert [e.payload for e in log.range(first, first + count)] == [
                f"{worker}:{seq + i}".encode() for i in range(count)
            ]


@pytest.mark.slow
def test_four_processes_append_to_one_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    SQLiteStore(path).close()  # created up front so every child opens an existing file
    store = SQLiteStore(path)
    try:
        _run_concurrently(f"sqlite:{path}", store, workers=4, batches=25, size=20)
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.postgres
def test_four_processes_append_to_one_postgres_log() -> None:
    dsn = pg_dsn()
    from ledger.store import PostgresStore

    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        store = PostgresStore(dsn, schema=schema)
        try:
            _run_concurrently(f"pg:{schema}:{dsn}", store, workers=4, batches=25, size=20)
        finally:
            store.close()
    finally:
        pg_drop_schema(dsn, schema)


@pytest.mark.slow
def test_concurrent_first_open_of_a_new_sqlite_file(tmp_path: Path) -> None:
    """Four processes racing to create the schema and append still agree on one log."""
    path = tmp_path / "fresh.db"
    store_path = f"sqlite:{path}"
    children = [spawn(store_path, f"w{w}", 3, 5, w) for w in range(4)]
    for child in children:
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    store = SQLiteStore(path)
    try:
        assert store.tail().size == 60
        assert audit(store).ok
    finally:
        store.close()
