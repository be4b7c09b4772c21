"""A child process that appends to a log and acknowledges each committed batch.

Usage: python ledger_store_child.py STORE WORKER BATCHES BATCH_SIZE [SEED]

STORE is ``sqlite:<path>`` or ``pg:<schema>:<dsn>``. BATCHES <= 0 means forever.
Prints ``ready`` once the log is open, then after each commit one line
``ack <first index> <count> <worker> <first seq>``, flushed, and nothing else.
Payloads are ``<worker>:<seq>`` so the parent can check every entry.
"""

from __future__ import annotations

import random
import sys

from did_methods.keys import PrivateKey
from did_methods.methods.key import did_key_from_public_key
from ledger.entry import EntryDraft
from ledger.log import Log
from ledger.store import SQLiteStore, Store

ORIGIN = "ledger.test/log"


def open_store(spec: str) -> Store:
    kind, _, rest = spec.partition(":")
    if kind == "sqlite":
        return SQLiteStore(rest, timeout=60.0)
    from ledger.store import PostgresStore

    schema, _, dsn = rest.partition(":")
    return PostgresStore(dsn, schema=schema, lock_timeout=60.0)


def main() -> None:
    spec, worker, batches, batch_size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else None)
    key = PrivateKey.generate()
    did = did_key_from_public_key(key.public_key)
    submitter = f"{did}#{did.removeprefix('did:key:')}"
    log = Log(open_store(spec), origin=ORIGIN)
    print("ready", flush=True)
    seq = 0
    done = 0
    while batches <= 0 or done < batches:
        size = batch_size if batch_size > 0 else rng.randint(1, 40)
        drafts = [
            EntryDraft("test.child", f"{worker}:{seq + i}".encode()).sign(key, submitter)
            for i in range(size)
        ]
        entries = log.append_batch(drafts)
        print(f"ack {entries[0].index} {len(entries)} {worker} {seq}", flush=True)
        seq += size
        done += 1


if __name__ == "__main__":
    main()
