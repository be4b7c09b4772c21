"""The ledger's exceptions, beneath the shared tree of :mod:`did_methods.errors`.

::

    SSIWalletError
     ├── LedgerError                    root of errors that only the ledger raises
     │    └── TreeSizeError (ValueError) a leaf index, tree size or hash that the Merkle
     │                                  tree arithmetic cannot take (a caller bug)
     ├── ParseError (ValueError)
     │    └── CheckpointError           a checkpoint or signed note that is malformed
     └── VerificationError (code)
          ├── ProofError                an inclusion or consistency proof that fails
          │                             (codes ``inclusion_invalid``, ``consistency_invalid``)
          └── SplitViewError            two signed checkpoints of one log that cannot
                                        both be true (code ``split_view``)

Catch :class:`did_methods.errors.SSIWalletError` to catch all of them; catch
:class:`~did_methods.errors.VerificationError` to catch every failed check,
whatever layer it comes from.

Other ledger modules append their own subclasses below; keep this list in step.
"""

from __future__ import annotations

from did_methods.errors import ParseError, SSIWalletError, VerificationError

__all__ = [
    "CheckpointError",
    "LedgerError",
    "ProofError",
    "SplitViewError",
    "TreeSizeError",
]


class LedgerError(SSIWalletError):
    """Root of the errors that only the ledger raises."""


class TreeSizeError(LedgerError, ValueError):
    """A leaf index, tree size, range or node hash the Merkle arithmetic cannot take.

    Raised by :mod:`ledger._merkle` for arguments no correct caller passes, such
    as a proof for a leaf index at or beyond the tree size.
    """


class ProofError(VerificationError):
    """A Merkle inclusion or consistency proof does not verify.

    ``code`` is ``inclusion_invalid`` or ``consistency_invalid``; the message
    says which step failed.
    """


class CheckpointError(ParseError):
    """A checkpoint body or signed note is malformed (bad line, size, encoding or bound)."""


class SplitViewError(VerificationError):
    """Two validly signed checkpoints of one log contradict each other.

    ``code`` is ``split_view``. ``evidence`` holds the
    :class:`ledger.witness.SplitViewEvidence` when one was built.
    """

    def __init__(self, code: str, message: str, evidence: object | None = None) -> None:
        super().__init__(code, message)
        self.evidence = evidence


# -- entries, stores and the audit (ledger/entry.py, ledger/store/, ledger/audit.py) --
#
#   SSIWalletError
#    ├── ParseError (ValueError)
#    │    └── EntryError                an entry or draft that is malformed or not canonical
#    ├── StoreError
#    │    └── LedgerStoreError          a ledger store failed (also a LedgerError)
#    │         └── NotALedgerError      the file or schema holds no ledger (also a ParseError)
#    ├── VerificationError (code)
#    │    ├── EntryRejected             the log refused a draft (codes below)
#    │    └── LedgerKeyMismatch         the store is bound to another operator key or trust
#    │                                  root (``checkpoint_key_mismatch``, ``trust_root_mismatch``)
#    └── LedgerError
#         ├── EntryNotFound (IndexError) no entry at that index (yet)
#         └── IntegrityError            stored data contradicts the log's own guarantees

from did_methods.errors import StoreError  # noqa: E402  (kept with the classes that use it)

__all__ += [
    "EntryError",
    "EntryNotFound",
    "EntryRejected",
    "IntegrityError",
    "LedgerKeyMismatch",
    "LedgerStoreError",
    "NotALedgerError",
]


class EntryError(ParseError):
    """An entry or entry draft is malformed: a field of the wrong type, size or syntax,
    or bytes that are not the deterministic CBOR encoding of an entry."""


class LedgerStoreError(StoreError, LedgerError):
    """A ledger store failed (I/O, lock timeout, schema mismatch, constraint).

    Raised after the transaction was rolled back: nothing of the failed call
    was written.
    """


class EntryRejected(VerificationError):
    """The log refused a signed draft; nothing of its batch was written.

    ``position`` is the draft's position in the batch. ``code`` is one of
    ``signature_invalid``, ``key_unknown`` (the submitter's key could not be
    looked up), ``timestamp_skew`` (the submitter's clock is too far from the
    log's), ``backdated`` (the timestamp is more than the skew window before
    the newest entry already in the log), ``duplicate_entry`` (an entry with
    the same identity, :meth:`~ledger.entry.Entry.identity`, is in the log or
    earlier in the batch: a replay), ``payload_too_large`` and ``malformed``
    (not a ``SignedDraft``).
    """

    def __init__(self, code: str, message: str, position: int) -> None:
        super().__init__(code, f"draft {position}: {message}")
        self.position = position


class IntegrityError(LedgerError):
    """Stored log data contradicts the log's guarantees (found by a read or the audit).

    ``index`` is the first entry index found bad (``None`` when the finding is
    not about one entry, e.g. a bad checkpoint signature) and ``reason`` says why.
    ``code`` names the kind of finding where it has one (e.g. the audit's
    ``kind_index_mismatch``), else ``None``.
    """

    def __init__(self, reason: str, index: int | None = None, *, code: str | None = None) -> None:
        where = "" if index is None else f"entry {index}: "
        super().__init__(where + reason)
        self.index = index
        self.reason = reason
        self.code = code


class EntryNotFound(LedgerError, IndexError):
    """The log has no entry at that index (it is beyond the log's size)."""


class NotALedgerError(LedgerStoreError, ParseError):
    """The file (or PostgreSQL schema) is not a ledger: another kind of SQLite file (a
    wallet, a vault of nothing), not SQLite at all, or empty where a ledger must exist.

    Raised before anything is written: opening never creates tables in a file
    that holds something else, and a read-only opening never creates anything.
    ``path`` names what was opened. The command line exits 2 on it.
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.code = "not_a_ledger"


class LedgerKeyMismatch(VerificationError):
    """The store is bound to another operator: it refuses to be re-keyed silently.

    ``code`` is ``checkpoint_key_mismatch`` (a checkpoint key other than the
    one that signed the log's checkpoints) or ``trust_root_mismatch`` (a
    trusted-issuer root other than the one recorded). ``recorded`` is what
    the store holds.
    """

    def __init__(self, code: str, message: str, recorded: str | None = None) -> None:
        super().__init__(code, message)
        self.recorded = recorded
