"""The credentials package's exceptions, beneath the shared ssi-wallet tree.

::

    SSIWalletError
     ├── ParseError (ValueError)
     │    ├── JSONError                 text that is not strict JSON
     │    │    ├── DuplicateKeyError    an object names the same member twice
     │    │    └── InputTooLargeError   more bytes or deeper nesting than allowed
     │    ├── CanonicalizationError     a value RFC 8785 cannot serialise
     │    └── ValidationError           a document breaks VC Data Model 2.0
     │                                  (``errors``: every (path, message) found)
     ├── UnsupportedError
     └── VerificationError              a check failed (stable ``code``)

:class:`VerificationError`, :class:`ParseError`, :class:`CanonicalizationError` and
the three JSON errors are the shared classes from :mod:`did_methods.errors` (the
strict JSON reader and the JCS every package uses live in the bottom layer),
re-exported so that callers of ``credentials`` need only this module.
"""

from __future__ import annotations

from collections.abc import Iterable

from did_methods.errors import (
    CanonicalizationError,
    DuplicateKeyError,
    InputTooLargeError,
    JSONError,
    ParseError,
    SSIWalletError,
    UnsupportedError,
    VerificationError,
)

__all__ = [
    "CanonicalizationError",
    "DuplicateKeyError",
    "InputTooLargeError",
    "JSONError",
    "ParseError",
    "SSIWalletError",
    "UnsupportedError",
    "ValidationError",
    "VerificationError",
]


class ValidationError(ParseError):
    """A document breaks the W3C VC Data Model 2.0.

    ``errors`` holds *every* violation found, each a ``(path, message)`` pair
    where ``path`` is a JSON-Pointer-like location (``/credentialSubject/0/id``).
    """

    def __init__(self, errors: Iterable[tuple[str, str]]) -> None:
        self.errors: tuple[tuple[str, str], ...] = tuple(errors)
        listed = "; ".join(f"{p or '/'}: {m}" for p, m in self.errors)
        count = len(self.errors)
        super().__init__(f"{count} violation{'s' if count != 1 else ''}: {listed}")
