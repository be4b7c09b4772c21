"""A child process that appends to a log and acknowledges each committed batch.

Usage: python ledger_store_child.py STORE WORKER BATCHES BATCH_SIZE [SEED]

STORE is ``sqlite:<path>`` or ``pg:<schema>:<dsn>``. BATCHES <= 0 means forever.
Prints ``ready`` once the log is open, then after each commit one line
``ack <first index> <count> <worker> <first seq>``, flushed, and nothing else.
Payloads are ``<worker>:<seq>`` so the parent can check every entry.

Each batch also writes one row per entry into the side table ``child_side``
through the append's ``before_commit`` hook (as the vault writes its records),
so the parent can check that a kill never leaves an entry without its row, or
a row without its entry.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Sequence

from did_methods.keys import PrivateKey
from did_methods.methods.key import did_key_from_public_key
from ledger.entry import Entry, EntryDraft
from ledger.log import Log
from ledger.store import SQLiteStore, Store, StoreWriter

ORIGIN = "ledger.test/log"
SIDE_TABLE = "child_side"


def side_sql(writer: StoreWriter) -> str:
    mark = "%s" if writer.dialect == "postgresql" else "?"
    return f"INSERT INTO {writer.table_prefix}{SIDE_TABLE} (idx, payload) VALUES ({mark}, {mark})"


def write_side_rows(writer: StoreWriter, entries: Sequence[Entry]) -> None:
    writer.executemany(side_sql(writer), [(e.index, e.payload) for e in entries])


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
    with log.store.write() as writer:
        writer.tail()  # the write lock first: concurrent first runs create the table once
        blob = "BYTEA" if writer.dialect == "postgresql" else "BLOB"
        writer.execute(
            f"CREATE TABLE IF NOT EXISTS {writer.table_prefix}{SIDE_TABLE} "
            f"(idx BIGINT PRIMARY KEY, payload {blob} NOT NULL)"
        )
    print("ready", flush=True)
    seq = 0
    done = 0
    while batches <= 0 or done < batches:
        size = batch_size if batch_size > 0 else rng.randint(1, 40)
        drafts = [
            EntryDraft("test.child", f"{worker}:{seq + i}".encode()).sign(key, submitter)
            for i in range(size)
        ]
        entries = log.append_batch(drafts, before_commit=write_side_rows)
        print(f"ack {entries[0].index} {len(entries)} {worker} {seq}", flush=True)
        seq += size
        done += 1


if __name__ == "__main__":
    main()
