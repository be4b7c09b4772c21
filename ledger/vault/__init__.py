"""The off-chain personal-data vault: records of data subjects kept off the log,
committed on it, released by policy and erasable for real (crypto-shredding).

Start with :class:`Vault` (``Vault.open("registry.db", master_key=..., signer=...)``),
then ``put``, ``access``, ``export``, ``rectify``, ``restrict``, ``erase``,
``release``, ``backup``/``restore`` and ``prove_record``; a third party checks
a record proof with :func:`verify_record_proof`. ``docs/vault.md`` shows
each call, ``docs/gdpr.md`` maps them to the GDPR's articles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.vault._backend import SQLiteVaultBackend
from ledger.vault._canonical import canonical_json
from ledger.vault._store import CompactReport, VaultBackend
from ledger.vault._vault import (
    DEFAULT_ORIGIN,
    AccessEvent,
    ErasedRecord,
    ErasureReceipt,
    RecordReceipt,
    Release,
    StoredRecord,
    SubjectAccess,
    Vault,
    VaultCheck,
)
from ledger.vault.crypto import KeyProvider, MasterKey
from ledger.vault.errors import (
    BackupRefused,
    MasterKeyError,
    NotAVaultError,
    RecordError,
    RecordNotFound,
    ReleaseRefused,
    SubjectNotFound,
    VaultError,
    VaultStoreError,
)
from ledger.vault.memory import MemoryVaultBackend
from ledger.vault.policy import (
    AUTHORISATION_KINDS,
    DEFAULT_POLICY,
    Authorisation,
    AuthorisationVerifier,
    DeclarativePolicy,
    PolicyDecision,
    Principal,
    RecordInfo,
    ReleasePolicy,
    ReleaseRequest,
    Role,
    Rule,
)
from ledger.vault.proof import RecordProof, VerifiedRecord, verify_record_proof

if TYPE_CHECKING:
    from ledger.vault.postgres import PostgresVaultBackend

__all__ = [
    "AUTHORISATION_KINDS",
    "DEFAULT_ORIGIN",
    "DEFAULT_POLICY",
    "AccessEvent",
    "Authorisation",
    "AuthorisationVerifier",
    "BackupRefused",
    "CompactReport",
    "DeclarativePolicy",
    "ErasedRecord",
    "ErasureReceipt",
    "KeyProvider",
    "MasterKey",
    "MasterKeyError",
    "MemoryVaultBackend",
    "NotAVaultError",
    "PolicyDecision",
    "PostgresVaultBackend",
    "Principal",
    "RecordError",
    "RecordInfo",
    "RecordNotFound",
    "RecordProof",
    "RecordReceipt",
    "Release",
    "ReleasePolicy",
    "ReleaseRefused",
    "ReleaseRequest",
    "Role",
    "Rule",
    "SQLiteVaultBackend",
    "StoredRecord",
    "SubjectAccess",
    "SubjectNotFound",
    "Vault",
    "VaultBackend",
    "VaultCheck",
    "VaultError",
    "VaultStoreError",
    "VerifiedRecord",
    "canonical_json",
    "verify_record_proof",
]


def __getattr__(name: str) -> Any:
    # psycopg is imported only when the PostgreSQL backend is asked for.
    if name == "PostgresVaultBackend":
        from ledger.vault.postgres import PostgresVaultBackend

        return PostgresVaultBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
