"""The ledger's exceptions, beneath the shared tree of :mod:`did_methods.errors`.

::

    SSIWalletError
     ├── LedgerError                    root of errors that only the ledger raises
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
]


class LedgerError(SSIWalletError):
    """Root of the errors that only the ledger raises."""


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
