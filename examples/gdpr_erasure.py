"""Personal data off the ledger: store, prove, erase for real, and audit.

An authority keeps an applicant's record in the vault (encrypted, off the
log); the log holds only a salted commitment. The applicant asks for erasure:
the record, its data key and its commitment key are destroyed, a tombstone
that names no one is appended, and the log still audits clean.

Run: python examples/gdpr_erasure.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from did_methods import PrivateKey
from ledger import Ledger
from ledger.vault import MasterKey, Principal, Role, Vault


def main(folder: Path) -> None:
    operator = PrivateKey.generate()
    database = folder / "registry.db"
    with Vault.open(database, master_key=MasterKey.generate(), signer=operator) as vault:
        receipt = vault.put(
            "applicant-4711",
            {"name": "Karim", "birthYear": 1991, "address": "Rue Exemple 1, Bruxelles"},
        )
        print("stored", receipt.record_id, "committed at log index", receipt.log_index)
        mine = vault.release(
            "applicant-4711", principal=Principal("applicant-4711", Role.SUBJECT), purpose="access"
        )
        print("released to the subject:", mine.records[0].record["name"])
        erased = vault.erase("applicant-4711")
        print("erased; tombstone at log index", erased.tombstones[0] if erased.tombstones else "?")
        after = vault.access("applicant-4711", log_event=False)
        print("access now says:", after.status)
        assert after.status == "erased"
    assert b"Karim" not in database.read_bytes()
    with Ledger.open(database) as ledger:
        report = ledger.audit()
        print("ledger audit:", "intact" if report.ok else report.reason)
        assert report.ok


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        main(Path(tmp))
