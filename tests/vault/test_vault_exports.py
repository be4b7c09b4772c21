"""ledger.vault's __all__ is exactly its public surface, and psycopg stays unimported."""

from __future__ import annotations

import subprocess
import sys

import ledger.vault as vault_pkg

EXPECTED = {
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
}


def test_vault_all_is_pinned_and_resolves() -> None:
    assert set(vault_pkg.__all__) == EXPECTED
    assert len(vault_pkg.__all__) == len(EXPECTED)
    for name in vault_pkg.__all__:
        assert getattr(vault_pkg, name) is not None


def test_importing_the_vault_does_not_import_psycopg_or_credentials() -> None:
    layering = (
        "import sys, ledger.vault; "
        "top = ('credentials', 'ssi_wallet', 'psycopg'); "
        "bad = [m for m in sys.modules if m.split('.')[0] in top]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", layering], check=True)
