"""Child process of the ``inclusion_proof`` row: open the SQLite log cold, make ONE proof.

``python -m benchmarks._cold_proof DB ORIGIN INDEX`` imports the library
first (not timed), then times opening the store and the log and building the
inclusion proof of entry ``INDEX`` in the whole tree, and prints
``{"seconds": ..., "hashes": ...}`` as JSON. Nothing is cached in this
process: a fresh interpreter, a fresh SQLite connection, an empty page cache
inside SQLite (the operating system's file cache is whatever it is).
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
    store = SQLiteStore(path)
    proof = Log(store, origin=origin).prove_inclusion(index)
    elapsed = time.perf_counter() - start
    store.close()
    print(json.dumps({"seconds": elapsed, "hashes": len(proof.hashes), "size": proof.size}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
