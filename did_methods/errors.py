"""The exception tree shared by every ssi-wallet package.

It is rooted in the lowest layer so that ``credentials``, ``ledger`` and
``ssi_wallet`` can extend it without importing each other::

    SSIWalletError                      root: catch this to catch everything we raise
     ├── ParseError (ValueError)        malformed input: bytes, text or JSON we cannot read
     │    ├── InvalidDID                a DID or DID URL that breaks DID Core syntax
     │    ├── InvalidKey                key material, Multikey or JWK that is malformed
     │    └── InvalidDocument           a DID document that breaks DID Core
     ├── UnsupportedError               well-formed, but a feature or algorithm we refuse
     ├── ResolutionError                a DID could not be resolved (carries ``code``)
     ├── VerificationError              a check failed (carries a stable ``code``)
     ├── StoreError                     a storage backend failed; nothing was written
     └── PolicyError                    a request that policy forbids

``credentials`` and ``ledger`` add their own subclasses beneath these.
Every public call translates dependency errors (``cryptography``, ``nacl``,
``json``, ``cbor2``...) into one of these, chaining the cause with ``from``.
"""

from __future__ import annotations

__all__ = [
    "InvalidDID",
    "InvalidDocument",
    "InvalidKey",
    "ParseError",
    "PolicyError",
    "ResolutionError",
    "SSIWalletError",
    "StoreError",
    "UnsupportedError",
    "VerificationError",
]


class SSIWalletError(Exception):
    """Root of every exception raised by ssi-wallet."""


class ParseError(SSIWalletError, ValueError):
    """Input could not be parsed: bad syntax, encoding, type or size."""


class InvalidDID(ParseError):
    """A DID or DID URL does not follow the DID Core syntax."""


class InvalidKey(ParseError):
    """Key material (raw bytes, Multikey or JWK) is malformed or of the wrong type."""


class InvalidDocument(ParseError):
    """A DID document does not follow DID Core."""


class UnsupportedError(SSIWalletError):
    """Input is well-formed but names an algorithm, key type or feature we do not accept."""


class ResolutionError(SSIWalletError):
    """A DID could not be resolved.

    ``code`` is one of the DID Resolution error codes: ``invalidDid``,
    ``notFound``, ``methodNotSupported``, ``representationNotSupported``,
    ``internalError`` (and ``deactivated`` where a caller asks for it).
    ``detail`` optionally names the step that failed more precisely (for
    did:web: ``forbidden_address``, ``too_large``, ``id_mismatch``, ...).
    """

    def __init__(self, code: str, message: str, detail: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.detail = detail


class VerificationError(SSIWalletError):
    """A verification step failed.

    ``code`` is a stable machine-readable string (``signature_invalid``,
    ``expired``, ``revoked``, ``issuer_not_accredited``, ...); the message is
    for people and may change.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class StoreError(SSIWalletError):
    """A storage backend failed; the store is left as it was before the call."""


class PolicyError(SSIWalletError):
    """The request is well-formed but policy forbids it."""
