"""The transparency ledger: a signed, hash-chained, RFC 9162 Merkle-tree log and its stores.

Start with :class:`Ledger` (``Ledger.open("registry.db")``), which joins the
log, the registries built on it and the audit. Underneath:

* entries: :class:`EntryDraft` -> :class:`SignedDraft` (signed by the
  submitter) -> :class:`Entry` (placed by the log at an index, chained to the
  previous entry); deterministic CBOR; no personal data, only commitments;
* the log: :class:`Log` over a :class:`Store` (:class:`SQLiteStore` default,
  :class:`PostgresStore`, :class:`MemoryStore`), inclusion and consistency
  proofs (:class:`InclusionProof`, :class:`ConsistencyProof`), C2SP
  checkpoints (:class:`Checkpoint`, :class:`NoteSigner`) and witness
  cosignatures (:class:`Witness`);
* the audit: ``ledger.audit.audit(store)`` -> :class:`AuditReport` (the
  function stays in its module so ``ledger.audit`` remains the module).

Registries (``ledger.registry``) and the personal-data vault
(``ledger.vault``) are subpackages with their own exports.
"""

from __future__ import annotations

from ledger.audit import AuditReport
from ledger.checkpoint import (
    Checkpoint,
    NoteSigner,
    NoteVerifier,
    SignedNote,
    sign_checkpoint,
    verify_checkpoint,
    verify_note,
)
from ledger.entry import (
    DEFAULT_MAX_PAYLOAD,
    GENESIS_PREV_HASH,
    SIGNING_CONTEXT,
    Entry,
    EntryDraft,
    SignedDraft,
)
from ledger.errors import (
    CheckpointError,
    EntryError,
    EntryNotFound,
    EntryRejected,
    IntegrityError,
    LedgerError,
    LedgerKeyMismatch,
    LedgerStoreError,
    NotALedgerError,
    ProofError,
    SplitViewError,
    TreeSizeError,
)
from ledger.facade import Ledger
from ledger.log import KeyLookup, Log, did_key_lookup, resolver_key_lookup
from ledger.proofs import (
    ConsistencyProof,
    InclusionProof,
    verify_consistency,
    verify_inclusion,
)
from ledger.store import (
    MemoryStore,
    PostgresStore,
    SQLiteStore,
    Store,
    StoredCheckpoint,
    open_store,
)
from ledger.witness import (
    CosignatureVerifier,
    JSONFileWitnessState,
    MemoryWitnessState,
    SplitViewEvidence,
    Witness,
    WitnessState,
    detect_split_view,
    verify_cosigned_checkpoint,
)

__all__ = [
    "DEFAULT_MAX_PAYLOAD",
    "GENESIS_PREV_HASH",
    "SIGNING_CONTEXT",
    "AuditReport",
    "Checkpoint",
    "CheckpointError",
    "ConsistencyProof",
    "CosignatureVerifier",
    "Entry",
    "EntryDraft",
    "EntryError",
    "EntryNotFound",
    "EntryRejected",
    "InclusionProof",
    "IntegrityError",
    "JSONFileWitnessState",
    "KeyLookup",
    "Ledger",
    "LedgerError",
    "LedgerKeyMismatch",
    "LedgerStoreError",
    "Log",
    "MemoryStore",
    "MemoryWitnessState",
    "NotALedgerError",
    "NoteSigner",
    "NoteVerifier",
    "PostgresStore",
    "ProofError",
    "SQLiteStore",
    "SignedDraft",
    "SignedNote",
    "SplitViewError",
    "SplitViewEvidence",
    "Store",
    "StoredCheckpoint",
    "TreeSizeError",
    "Witness",
    "WitnessState",
    "detect_split_view",
    "did_key_lookup",
    "open_store",
    "resolver_key_lookup",
    "sign_checkpoint",
    "verify_checkpoint",
    "verify_consistency",
    "verify_cosigned_checkpoint",
    "verify_inclusion",
    "verify_note",
]
