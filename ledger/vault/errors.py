"""The vault's exceptions, beneath the shared tree of :mod:`did_methods.errors`.

::

    SSIWalletError
     ├── ParseError (ValueError)
     │    └── RecordError                 a record or export that is not acceptable JSON
     ├── StoreError
     │    └── VaultStoreError             the vault's tables failed (also a VaultError)
     │         └── NotAVaultError         the store holds no vault (also a ParseError)
     ├── PolicyError
     │    └── ReleaseRefused              a release the policy refused (``code``, ``log_index``)
     ├── VerificationError (code)         a record proof that does not verify
     └── LedgerError
          └── VaultError                  root of errors only the vault raises
               ├── MasterKeyError         the master key is missing, malformed or not this vault's
               ├── BackupRefused          a backup of another ledger or vault (``code``)
               ├── SubjectNotFound (LookupError)  no record, live or erased, for that subject
               └── RecordNotFound (LookupError)   no such record or version for that subject

Every public call of :mod:`ledger.vault` raises only these (or the shared
tree's classes); dependency errors (``sqlite3``, ``psycopg``,
``cryptography``, ``cbor2``, ``json``) are translated and chained.
"""

from __future__ import annotations

from did_methods.errors import ParseError, PolicyError, StoreError
from ledger.errors import LedgerError

__all__ = [
    "BackupRefused",
    "MasterKeyError",
    "NotAVaultError",
    "RecordError",
    "RecordNotFound",
    "ReleaseRefused",
    "SubjectNotFound",
    "VaultError",
    "VaultStoreError",
]


class VaultError(LedgerError):
    """Root of the errors that only the vault raises."""


class RecordError(ParseError):
    """A record, a backup or an export is malformed: not JSON, too large, too deep,
    a non-finite number, a duplicate key or a value JSON cannot carry."""


class VaultStoreError(StoreError, VaultError):
    """The vault's tables failed (I/O, lock timeout, schema mismatch, inconsistent rows).

    Raised after the transaction was rolled back: nothing of the failed call
    was written to the vault (a commitment already appended to the log stays,
    naming nothing: see ``docs/vault.md``).
    """


class NotAVaultError(VaultStoreError, ParseError):
    """The ledger's store holds no vault tables, and the vault was opened not to create them
    (``Vault.open(..., create=False)``, every ``ssi-wallet vault`` command but ``init``).

    Nothing was created. ``code`` is ``not_a_vault``; the command line exits 2 on it.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = "not_a_vault"


class BackupRefused(VaultError):
    """A backup that is not of this vault was refused; nothing was restored.

    ``code`` is ``backup_other_ledger`` (the backup names another log: another
    origin or another ledger id, or none) or ``backup_other_vault`` (the same
    log, another vault: e.g. a vault made in a copy of the ledger file).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class MasterKeyError(VaultError):
    """The vault master key is missing, malformed, or is not the key this vault was made with."""


class SubjectNotFound(VaultError, LookupError):
    """The vault holds no record, live or erased, for that data subject."""


class RecordNotFound(VaultError, LookupError):
    """The subject has no record with that id (or no such version of it)."""


class ReleaseRefused(PolicyError):
    """A release was refused; the refusal itself was logged on the ledger.

    ``code`` is stable: ``role_not_allowed``, ``purpose_not_allowed``,
    ``not_own_record``, ``restricted``, ``authorisation_required``,
    ``authorisation_invalid``, ``no_authorisation_verifier``, ``erased``,
    ``not_found`` or a code of a custom policy. ``log_index`` is the index of
    the ledger entry committing to the refusal (``None`` when the vault has no
    signer to log with).
    """

    def __init__(self, code: str, message: str, log_index: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.log_index = log_index
