"""The transparency ledger on SQLite, against raw signature checks, bare hashing and pymerkle.

Rows:

* ``ledger_append``: batches of 1000 signed entries appended in one
  transaction each, every signature checked (did:key submitters), against
  raw PyNaCl Ed25519 verification (per entry);
* ``ledger_audit``: the stream audit (decoding, chain and Merkle root) of the
  whole log against a bare ``sha256(prev + row)`` loop over the same rows of
  the same SQLite file (per entry); peak RSS of an audit in a fresh process
  goes to the notes;
* ``inclusion_proof``: one proof from the SQLite log in a fresh process (the
  read-only open included) against pymerkle's SQLite tree of 100,000 leaves, warm;
* ``inclusion_proof_warm_1m``: proofs from the SQLite log opened once (warm)
  against pymerkle's SQLite tree of the same size, warm;
* ``proof_verify``: verifying one of our inclusion proofs against pymerkle
  verifying one of its own.

The big log (1,000,000 entries; 20,000 with ``--quick``) and pymerkle's tree
are built once into the work directory and reused by later runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks._fixtures import did_key_method, key
from benchmarks._runner import Benchmark, Pair, Settings, Side, loop
from benchmarks.bench_credentials import ed25519_verify_reference
from did_methods.keys import PrivateKey
from ledger._merkle import hash_leaf
from ledger.audit import audit
from ledger.entry import EntryDraft, SignedDraft
from ledger.log import Log
from ledger.proofs import verify_inclusion
from ledger.store.sqlite import SQLiteStore

__all__ = ["BENCHMARKS", "ORIGIN", "build_log", "cached_log", "log_size"]

ORIGIN = "ledger.migracija.example.lt/registry"
#: Bump when the entries the builder writes change, so cached logs are rebuilt.
_FORMAT = 1
_BUILD_BATCH = 10_000
_PYMERKLE_SIZE = 100_000
_T0 = 1_790_000_000_000  # Unix ms of the first built entry (2026-09)


def log_size(settings: Settings) -> int:
    """Entries in the big log: 1,000,000, or 20,000 with ``--quick``."""
    return 20_000 if settings.quick else 1_000_000


def _submitters() -> list[tuple[PrivateKey, str]]:
    # Four agencies write to the log, as in a registry shared by a ministry's offices.
    out = []
    for i in range(4):
        private = key(f"ledger-submitter-{i}")
        out.append((private, did_key_method(private)[1]))
    return out


def _draft(i: int, submitters: list[tuple[PrivateKey, str]], now: int) -> SignedDraft:
    # A vault commitment: HMAC-SHA-256 of an off-chain record and the record's id, no
    # personal data, the kind of entry the registry writes most.
    private, submitter = submitters[i % len(submitters)]
    commitment = hashlib.sha256(b"record/%d" % i).digest()
    payload = commitment + (b"rec-%012d" % i)
    at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=now)  # exact: `now` is Unix ms
    return EntryDraft("vault.commitment", payload).sign(private, submitter, now=lambda: at)


def _sign_range(first: int, last: int) -> list[SignedDraft]:
    # Runs in a worker process: the keys are derived again there, deterministically.
    submitters = _submitters()
    return [_draft(i, submitters, _T0 + i) for i in range(first, last)]


def build_log(path: Path, size: int, progress: Callable[[str], None] | None = None) -> None:
    """Write a log of ``size`` signed entries to the SQLite file ``path`` (atomically).

    Drafts are signed in worker processes (one per core) and not re-checked
    on append (a trusted bulk import); the audit and the proofs read what any
    log would hold.
    """
    from concurrent.futures import ProcessPoolExecutor

    partial = path.with_name(path.name + ".partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    store = SQLiteStore(partial)
    try:
        log = Log(store, origin=ORIGIN, verify_signatures=False, max_clock_skew_ms=None)
        started = time.perf_counter()
        firsts = range(0, size, _BUILD_BATCH)
        lasts = [min(size, first + _BUILD_BATCH) for first in firsts]
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            for last, drafts in zip(lasts, pool.map(_sign_range, firsts, lasts), strict=True):
                log.append_batch(drafts)
                if progress is not None and last % 100_000 == 0:
                    took = time.perf_counter() - started
                    progress(f"  {last:,} of {size:,} entries in {took:.0f} s")
    finally:
        store.close()
    os.replace(partial, path)


def cached_log(settings: Settings) -> Path:
    """The big log (see :func:`log_size`), built once into the work directory."""
    size = log_size(settings)
    path = settings.workdir / f"ledger-{size}-v{_FORMAT}.sqlite"
    if path.exists():
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT size FROM ledger_tail WHERE id = 0").fetchone()
        except sqlite3.Error:
            row = None
        finally:
            conn.close()
        if row is not None and row[0] == size:
            return path
        path.unlink()
    settings.workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    print(f"building a {size:,}-entry SQLite log in {path} (once) ...", file=sys.stderr)
    build_log(path, size, lambda line: print(line, file=sys.stderr))
    print(f"  done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


def _pymerkle_tree(settings: Settings, size: int = _PYMERKLE_SIZE) -> Any:
    from pymerkle import SqliteTree

    path = settings.workdir / f"pymerkle-{size}.sqlite"
    if path.exists():
        tree = SqliteTree(str(path))
        if tree.get_size() == size:
            return tree
        tree.close()
        path.unlink()
    settings.workdir.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    tree = SqliteTree(str(partial))
    # Entries of the same kind and size as ours: pymerkle stores them as leaves.
    submitters = _submitters()
    tree.append_entries(_draft(i, submitters, _T0 + i).signing_input() for i in range(size))
    tree.close()
    os.replace(partial, path)
    return SqliteTree(str(path))


# -- ledger_append ---------------------------------------------------------------------


def _setup_append(settings: Settings) -> Pair:
    settings.workdir.mkdir(parents=True, exist_ok=True)
    path = settings.workdir / f"append-{os.getpid()}.sqlite"
    submitters = _submitters()
    store = SQLiteStore(path)
    log = Log(store, origin=ORIGIN)
    numbers = iter(range(10**12))

    def ours(n: int) -> float:
        # Signing is the submitters' work, done before the log sees the drafts, so it
        # is left out of the time. Every entry is new: a log refuses a replayed one.
        now = int(time.time() * 1000)
        batches = [[_draft(next(numbers), submitters, now) for _ in range(1000)] for _ in range(n)]
        clock = time.perf_counter
        start = clock()
        for batch in batches:
            log.append_batch(batch)
        return clock() - start

    def cleanup() -> None:
        store.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    return Pair(
        Side("ours", ours, ops_per_call=1000, max_batch=200),
        ed25519_verify_reference("raw Ed25519 verify of 32 B (PyNaCl), per entry"),
        notes=(
            "entries per second; SQLite in WAL mode with synchronous=FULL, one commit per batch",
        ),
        cleanup=cleanup,
    )


# -- ledger_audit ----------------------------------------------------------------------

_RSS_CHILD = """
import json, sys
from ledger.audit import audit
from ledger.store.sqlite import SQLiteStore

def status_kb(field):
    # Linux: VmRSS is the resident set now, VmHWM its peak for this process image.
    # (getrusage's ru_maxrss is not used: across fork + exec it keeps the parent's
    # resident set, so a small child reports the benchmark runner's size.)
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None

before = status_kb("VmRSS")
store = SQLiteStore(sys.argv[1])
report = audit(store)
after = status_kb("VmRSS")
store.close()
peak = status_kb("VmHWM")
print(json.dumps({"ok": report.ok, "size": report.size, "before_kb": before,
                  "after_kb": after, "peak_kb": peak}))
"""


def _audit_rss(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", _RSS_CHILD, str(path)],
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def _setup_audit(settings: Settings) -> Pair:
    path = cached_log(settings)
    size = log_size(settings)
    store = SQLiteStore(path)

    def ours(n: int) -> float:
        elapsed = 0.0
        for _ in range(n):
            start = time.perf_counter()
            report = audit(store)
            elapsed += time.perf_counter() - start
            if not report.ok:
                raise AssertionError(f"benchmark log fails its audit: {report.reason}")
        return elapsed

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def reference() -> bytes:
        sha256 = hashlib.sha256
        prev = bytes(32)
        for (row,) in conn.execute("SELECT data FROM ledger_entries ORDER BY idx"):
            prev = sha256(prev + row).digest()
        return prev

    rss = _audit_rss(path)
    if not rss["ok"] or rss["size"] != size:
        raise AssertionError("the audit in the memory probe did not pass")
    mib = 1024.0
    resident = ""
    if rss["before_kb"] is not None and rss["after_kb"] is not None:
        resident = (
            f"; resident set {rss['before_kb'] / mib:.1f} MiB after the imports, "
            f"{rss['after_kb'] / mib:.1f} MiB after the audit"
        )
    notes = (
        f"entries per second over a log of {size:,} entries"
        + (" (--quick: a smaller log than the full run's 1,000,000)" if settings.quick else ""),
        f"memory: peak RSS (VmHWM) of a fresh process auditing the {size:,} entries "
        + (
            "unavailable on this platform"
            if rss["peak_kb"] is None
            else f"{rss['peak_kb'] / mib:.1f} MiB, interpreter and imports included"
        )
        + f"{resident} (target: below 100 MB)",
    )

    def cleanup() -> None:
        store.close()
        conn.close()

    return Pair(
        Side("ours", ours, ops_per_call=size, max_batch=1),
        Side(
            "bare `sha256(prev + row)` over the same SQLite rows",
            loop(reference),
            ops_per_call=size,
            max_batch=1,
        ),
        notes=notes,
        repeats=3,
        cleanup=cleanup,
    )


# -- inclusion_proof -------------------------------------------------------------------


def _warm_file_cache(path: Path) -> None:
    # Read the file once so that its pages are in the operating system's cache, as
    # for a log in use on a server; SQLite's own cache lives in the process and
    # starts empty in every cold process regardless.
    with path.open("rb") as handle:
        while handle.read(1 << 20):
            pass


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def _setup_inclusion(settings: Settings) -> Pair:
    path = cached_log(settings)
    size = log_size(settings)
    tree = _pymerkle_tree(settings)
    rng = random.Random(7)
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")

    def cold_proof(index: int) -> tuple[float, float]:
        # One fresh process: (seconds to open the store and the log, seconds for the proof).
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks._cold_proof", str(path), ORIGIN, str(index)],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        timing = json.loads(out.stdout)
        if timing["size"] != size:
            raise AssertionError(f"the cold proof was made in a tree of {timing['size']}")
        return float(timing["open_seconds"]), float(timing["proof_seconds"])

    def ours(n: int) -> float:
        elapsed = 0.0
        for _ in range(n):
            opened, proved = cold_proof(rng.randrange(size))
            elapsed += opened + proved
        return elapsed

    _warm_file_cache(path)
    # For the notes: the two phases of a cold proof apart, in processes of their own
    # run before the timed samples (not interleaved with the reference).
    phases = [cold_proof(rng.randrange(size)) for _ in range(9)]
    open_s = _median([opened for opened, _ in phases])
    proof_s = _median([proved for _, proved in phases])
    # For the notes: pymerkle's first proof in a freshly opened tree (its cache cold).
    fresh = type(tree)(tree.dbfile)
    start = time.perf_counter()
    fresh.prove_inclusion(rng.randrange(1, _PYMERKLE_SIZE + 1))
    pymerkle_cold_ms = (time.perf_counter() - start) * 1000
    fresh.close()
    # Warm: pymerkle caches the subtree roots a proof reads, so after one proof of
    # each leaf of the set, proofs of those leaves are served from its cache.
    indices = [rng.randrange(1, _PYMERKLE_SIZE + 1) for _ in range(64)]
    for index in indices:
        tree.prove_inclusion(index)
    timed = []
    for _ in range(5):
        start = time.perf_counter()
        for index in indices:
            tree.prove_inclusion(index)
        timed.append((time.perf_counter() - start) / len(indices))
    pymerkle_warm_s = _median(timed)
    turn = iter(range(10**9))

    def reference() -> None:
        tree.prove_inclusion(indices[next(turn) & 63])

    quick = " (--quick: a smaller log than the full run's 1,000,000)" if settings.quick else ""
    notes = (
        f"ours: a fresh Python process per sample (imports done, not timed) opens the "
        f"{size:,}-entry SQLite log read-only (`SQLiteStore(path, read_only=True)` and `Log`: "
        "connect, schema version and origin checked) and makes one inclusion proof of a random "
        "entry (the tail and the proof's nodes read through an empty SQLite page cache); the "
        "time counts the open and the proof. The file's pages are in the operating system's "
        "cache (the setup reads the file once)" + quick,
        f"ours, the two phases apart (medians of 9 cold processes run in the setup): open "
        f"{open_s * 1e6:.0f} µs, proof {proof_s * 1e6:.0f} µs; the proof alone, without the "
        f"open, against pymerkle's warm proof ({pymerkle_warm_s * 1e6:.0f} µs, same setup) "
        f"would be a ratio of {pymerkle_warm_s / proof_s:.2f}",
        f"reference: pymerkle's SqliteTree of {_PYMERKLE_SIZE:,} leaves, opened once, proofs "
        "of 64 random leaves, each proved once before timing (its subtree cache warm); "
        f"for scale, its first proof in a freshly opened tree took {pymerkle_cold_ms:.0f} ms",
    )
    return Pair(
        Side("ours", ours, max_batch=1),
        Side(f"pymerkle `SqliteTree` at {_PYMERKLE_SIZE:,}, warm", loop(reference)),
        notes=notes,
        repeats=settings.repeats + 4,
        cleanup=tree.close,
    )


# -- inclusion_proof_warm_1m -------------------------------------------------------------


def _setup_inclusion_warm(settings: Settings) -> Pair:
    path = cached_log(settings)
    size = log_size(settings)
    tree = _pymerkle_tree(settings, size)
    rng = random.Random(13)
    store = SQLiteStore(path, read_only=True)
    log = Log(store, origin=ORIGIN)
    # The same 64 random leaves on both sides, each proved once before timing: pymerkle
    # caches the subtree roots a proof reads, and SQLite's page cache holds our nodes.
    indices = [rng.randrange(size) for _ in range(64)]
    for index in indices:
        log.prove_inclusion(index)
        tree.prove_inclusion(index + 1)  # pymerkle counts leaves from 1
    ours_turn = iter(range(10**9))
    ref_turn = iter(range(10**9))

    def ours() -> None:
        log.prove_inclusion(indices[next(ours_turn) & 63])

    def reference() -> None:
        tree.prove_inclusion(indices[next(ref_turn) & 63] + 1)

    def cleanup() -> None:
        store.close()
        tree.close()

    sample = log.prove_inclusion(indices[0])
    quick = " (--quick: a smaller log than the full run's 1,000,000)" if settings.quick else ""
    return Pair(
        Side("ours", loop(ours)),
        Side(f"pymerkle `SqliteTree` at {size:,}, warm", loop(reference)),
        notes=(
            f"proofs per second of 64 random entries of a {size:,}-entry SQLite log opened "
            f"once read-only ({len(sample.hashes)} hashes per proof; the log keeps the top "
            "levels of the tree once read, and reads its other nodes in one statement), "
            "against pymerkle's SqliteTree holding the same entries, each leaf "
            "proved once on both sides before timing" + quick,
        ),
        cleanup=cleanup,
    )


# -- proof_verify ----------------------------------------------------------------------


def _setup_proof_verify(settings: Settings) -> Pair:
    from pymerkle import verify_inclusion as pymerkle_verify

    path = cached_log(settings)
    size = log_size(settings)
    tree = _pymerkle_tree(settings)
    rng = random.Random(11)
    store = SQLiteStore(path)
    try:
        log = Log(store, origin=ORIGIN)
        root = log.root()
        ours_cases = []
        for _ in range(64):
            index = rng.randrange(size)
            leaf = hash_leaf(log.get(index).encode())
            ours_cases.append((leaf, log.prove_inclusion(index)))
    finally:
        store.close()
    ref_root = tree.get_root()
    ref_cases = []
    for _ in range(64):
        index = rng.randrange(1, _PYMERKLE_SIZE + 1)
        ref_cases.append((tree.get_leaf(index), tree.prove_inclusion(index)))
    tree.close()
    ours_turn = iter(range(10**9))
    ref_turn = iter(range(10**9))

    def ours() -> None:
        leaf, proof = ours_cases[next(ours_turn) & 63]
        verify_inclusion(leaf, proof, root)

    def reference() -> None:
        leaf, proof = ref_cases[next(ref_turn) & 63]
        pymerkle_verify(leaf, ref_root, proof)

    return Pair(
        Side("ours", loop(ours)),
        Side(f"pymerkle `verify_inclusion` at {_PYMERKLE_SIZE:,}", loop(reference)),
        notes=(
            f"ours at {size:,} entries ({len(ours_cases[0][1].hashes)} hashes per proof)"
            + (" (--quick: a smaller log than the full run's 1,000,000)" if settings.quick else ""),
        ),
    )


BENCHMARKS = (
    Benchmark(
        "ledger_append",
        "batch append of signed entries, signatures checked, SQLite, 1000 per transaction",
        0.6,
        _setup_append,
    ),
    Benchmark(
        "ledger_audit",
        "stream audit (chain and Merkle root) of 1,000,000 entries",
        0.1,
        _setup_audit,
    ),
    Benchmark(
        "inclusion_proof",
        "proof at 1,000,000 entries from SQLite, cold process",
        20.0,
        _setup_inclusion,
    ),
    Benchmark(
        "inclusion_proof_warm_1m",
        "proof at 1,000,000 entries from SQLite, warm, vs pymerkle at the same size",
        5.0,
        _setup_inclusion_warm,
    ),
    Benchmark("proof_verify", "inclusion proof verify at 1,000,000", 1.5, _setup_proof_verify),
)
