"""The ledger package's public surface is pinned: what users import from ``ledger``."""

from __future__ import annotations

import ledger
import ledger.audit
import ledger.store

EXPECTED = {
    # entries
    "DEFAULT_MAX_PAYLOAD", "GENESIS_PREV_HASH", "SIGNING_CONTEXT",
    "Entry", "EntryDraft", "SignedDraft",
    # the log and its stores
    "Log", "KeyLookup", "did_key_lookup", "resolver_key_lookup",
    "Store", "StoredCheckpoint", "MemoryStore", "SQLiteStore", "PostgresStore", "open_store",
    # audit, proofs, checkpoints, witnesses
    "AuditReport",
    "InclusionProof", "ConsistencyProof", "verify_inclusion", "verify_consistency",
    "Checkpoint", "NoteSigner", "NoteVerifier", "SignedNote",
    "sign_checkpoint", "verify_checkpoint", "verify_note",
    "Witness", "WitnessState", "MemoryWitnessState", "JSONFileWitnessState",
    "CosignatureVerifier", "SplitViewEvidence", "detect_split_view",
    "verify_cosigned_checkpoint",
    # errors
    "LedgerError", "EntryError", "EntryNotFound", "EntryRejected", "IntegrityError",
    "LedgerStoreError", "ProofError", "CheckpointError", "SplitViewError", "TreeSizeError",
    "NotALedgerError", "LedgerKeyMismatch",
    # the front door
    "Ledger",
}  # fmt: skip


def test_ledger_exports_exactly_the_public_surface() -> None:
    assert set(ledger.__all__) == EXPECTED
    assert ledger.__all__ == sorted(ledger.__all__, key=lambda n: (not n.isupper(), n))


def test_submodules_stay_modules() -> None:
    # The audit function is not re-exported, so ``ledger.audit`` is still the module.
    assert ledger.audit.audit.__module__ == "ledger.audit"
    assert callable(ledger.audit.audit)


def test_store_exports() -> None:
    assert set(ledger.store.__all__) == {
        "POSTGRES_SCHEMES", "SCHEMA_VERSION", "MemoryStore", "NodeID", "NodeRow",
        "PostgresStore", "SQLiteStore", "Store", "StoreWriter", "StoredCheckpoint", "Tail",
        "is_postgres_dsn", "open_store",
    }  # fmt: skip
    for name in ledger.store.__all__:
        assert getattr(ledger.store, name) is not None
