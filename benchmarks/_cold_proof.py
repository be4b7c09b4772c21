"""Child process of the ``inclusion_proof`` row: open the SQLite log cold, make ONE proof.

``python -m benchmarks._cold_proof DB ORIGIN INDEX`` imports the library
first (not timed), then opens the store read-only and the log
(``SQLiteStore(DB, read_only=True)`` and ``Log``: connect, check the schema
version and the origin), and then builds the inclusion proof of entry
``INDEX`` in the whole tree (reading the tail and the proof's nodes). It
prints ``{"open_seconds": ..., "proof_seconds": ..., "hashes": ..., "size": ...}``
as JSON, timing the two phases apart. Nothing is cached in this process: a
fresh interpreter, a fresh SQLite connection, an empty SQLite page cache (the
operating system's file cache is whatever it is; the benchmark warms it).
"""

from __future__ import annotations

import json
import sys
import time

from ledger.log import Log
from ledger.store.sqlite import SQLiteStore


def main(argv: list[str]) -> int:
    """Run one cold proof and print its timing; returns the exit status."""
    path, origin, index = argv[0], argv[1], int(argv[2])
    start = time.perf_counter()
    store = SQLiteStore(path, read_only=True)
    log = Log(store, origin=origin)
    opened = time.perf_counter()
    proof = log.prove_inclusion(index)
    done = time.perf_counter()
    store.close()
    print(
        json.dumps(
            {
                "open_seconds": opened - start,
                "proof_seconds": done - opened,
                "hashes": len(proof.hashes),
                "size": proof.size,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
