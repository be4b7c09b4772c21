"""A vault writer for the kill -9 test: writes in a loop, printing each acknowledged write.

Usage: python vault_crash_worker.py TARGET SCHEMA MASTER_KEY_FILE SEED

TARGET is a SQLite file or a PostgreSQL DSN (then SCHEMA names the schema).
"""

from __future__ import annotations

import json
import random
import sys

from did_methods.keys import PrivateKey
from ledger.vault import MasterKey, Principal, Role, SubjectNotFound, Vault


def main() -> None:
    target, schema, mk_file, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    rng = random.Random(seed)
    key = PrivateKey.generate(randbytes=lambda n: b"\x07" * n)
    vault = Vault.open(
        target,
        master_key=MasterKey.from_file(mk_file),
        signer=key,
        origin="vault.test/log",
        schema=schema,
    )
    print(json.dumps({"op": "ready"}), flush=True)
    mine: dict[str, list[str]] = {}
    step = 0
    while True:
        step += 1
        subject = f"s-{seed}-{rng.randrange(4)}"
        roll = rng.random()
        if roll < 0.65 or not mine.get(subject):
            record = {"n": step, "blob": "x" * rng.randrange(10, 3000)}
            receipt = vault.put(subject, record, minor=rng.random() < 0.2)
            mine.setdefault(subject, []).append(receipt.record_id)
            print(
                json.dumps(
                    {"op": "put", "subject": subject, "record_id": receipt.record_id, "n": step}
                ),
                flush=True,
            )
        elif roll < 0.8:
            record_id = rng.choice(mine[subject])
            try:
                receipt = vault.rectify(subject, record_id, {"n": step, "fixed": True})
            except Exception:
                continue  # erased meanwhile
            print(
                json.dumps(
                    {
                        "op": "rectify",
                        "subject": subject,
                        "record_id": record_id,
                        "version": receipt.version,
                    }
                ),
                flush=True,
            )
        elif roll < 0.9:
            try:
                vault.erase(subject)
            except SubjectNotFound:
                continue
            mine[subject] = []
            print(json.dumps({"op": "erase", "subject": subject}), flush=True)
        else:
            try:
                vault.release(
                    subject,
                    principal=Principal("ministry", Role.MINISTRY),
                    purpose="legal-obligation",
                )
            except Exception:
                pass
            print(json.dumps({"op": "release", "subject": subject}), flush=True)


if __name__ == "__main__":
    main()
