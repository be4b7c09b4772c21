"""The exception tree shared by every ssi-wallet package.

It is rooted in the lowest layer so that ``credentials``, ``ledger`` and
``ssi_wallet`` can extend it without importing each other::

    SSIWalletError                      root: catch this to catch everything we raise
     ├── ParseError (ValueError)        malformed input: bytes, text or JSON we cannot read
     │    ├── InvalidDID                a DID or DID URL that breaks DID Core syntax
     │    ├── InvalidKey                key material, Multikey or JWK that is malformed
     │    ├── InvalidDocument           a DID document that breaks DID Core
     │    ├── CanonicalizationError     a value RFC 8785 (JCS) cannot serialise
     │    └── JSONError                 text that is not strict JSON (carries ``code``)
     │         ├── DuplicateKeyError    an object names the same member twice
     │         └── InputTooLargeError   more bytes or deeper nesting than allowed
     ├── UnsupportedError               well-formed, but a feature or algorithm we refuse
     │                                  (carries ``code``)
     ├── ResolutionError                a DID could not be resolved (carries ``code``)
     ├── VerificationError              a check failed (carries a stable ``code``)
     ├── StoreError                     a storage backend failed; nothing was written
     │    └── OutputFileError           a private file was not written (``code``)
     ├── SecretCopyError (TypeError)    a secret asked to be pickled or copied
     └── PolicyError                    a request that policy forbids

``credentials`` and ``ledger`` add their own subclasses beneath these.

One warning category sits beside the tree: :class:`SSIWalletDeprecationWarning`
(a ``DeprecationWarning``), given by every old name or shape that still works
for one release, so a test suite or an application can turn exactly ours into
errors (``-W error::did_methods.errors.SSIWalletDeprecationWarning``).
Every public call translates dependency errors (``cryptography``, ``nacl``,
``json``, ``cbor2``...) into one of these, chaining the cause with ``from``.
"""

from __future__ import annotations

__all__ = [
    "CanonicalizationError",
    "DuplicateKeyError",
    "InputTooLargeError",
    "InvalidDID",
    "InvalidDocument",
    "InvalidKey",
    "JSONError",
    "OutputFileError",
    "ParseError",
    "PolicyError",
    "ResolutionError",
    "SSIWalletDeprecationWarning",
    "SSIWalletError",
    "SecretCopyError",
    "StoreError",
    "UnsupportedError",
    "VerificationError",
]


class SSIWalletError(Exception):
    """Root of every exception raised by ssi-wallet."""


class SSIWalletDeprecationWarning(DeprecationWarning):
    """An old name or shape of ssi-wallet was used; it works, and goes in the next release.

    Attributed to the first caller outside the four packages (the line to change).
    """


class ParseError(SSIWalletError, ValueError):
    """Input could not be parsed: bad syntax, encoding, type or size."""


class InvalidDID(ParseError):
    """A DID or DID URL does not follow the DID Core syntax."""


class InvalidKey(ParseError):
    """Key material (raw bytes, Multikey or JWK) is malformed or of the wrong type."""


class InvalidDocument(ParseError):
    """A DID document does not follow DID Core."""


class CanonicalizationError(ParseError):
    """A value cannot be serialised by RFC 8785 (JCS).

    Raised for NaN and infinities, integers outside the IEEE-754 safe range,
    lone surrogates, non-string object keys, non-JSON types and nesting deeper
    than the bound. Defined here, beside the kernel's JCS
    (:mod:`did_methods._wire.jcs`), and re-exported by ``credentials.errors``.
    """


class JSONError(ParseError):
    """Input is not strict JSON: bad syntax or encoding, NaN/Infinity, a lone surrogate.

    ``code`` is stable: ``json_syntax``, ``json_encoding``, ``json_number``
    (NaN, Infinity or a number beyond the IEEE-754 double range),
    ``json_lone_surrogate``, ``json_duplicate_key``, ``json_too_large``,
    ``json_too_deep``, ``json_type`` (input neither text nor bytes).
    """

    def __init__(self, message: str, code: str = "json_syntax") -> None:
        super().__init__(message)
        self.code = code


class DuplicateKeyError(JSONError):
    """A JSON object names the same member more than once (``key`` says which)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate object member {key[:40]!r}", "json_duplicate_key")
        self.key = key


class InputTooLargeError(JSONError):
    """JSON input is longer (``json_too_large``) or nested deeper (``json_too_deep``)
    than the caller's bound."""

    def __init__(self, message: str, code: str = "json_too_large") -> None:
        super().__init__(message, code)


class UnsupportedError(SSIWalletError):
    """Input is well-formed but names an algorithm, key type or feature we do not accept.

    ``code`` is stable: ``unsupported`` unless the raiser names the refusal more
    precisely (``cryptosuite_unsupported``, ``key_type_mismatch``, ...).
    """

    def __init__(self, message: str, code: str = "unsupported") -> None:
        super().__init__(message)
        self.code = code


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


class OutputFileError(StoreError):
    """A private file was not written; nothing was left behind.

    ``code``: ``exists`` (the path exists and replacing it was not asked for),
    ``symlink`` (the path is a symbolic link: never written through),
    ``not_a_file`` (a directory or device) or ``io`` (the system refused).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class SecretCopyError(SSIWalletError, TypeError):
    """A secret (a private key, the vault master key) was asked to be pickled or copied.

    ``code`` is ``secret_not_copyable``. Secrets leave memory only through
    their explicit export calls, never as a side effect of ``pickle``,
    ``copy`` or a multiprocessing queue.
    """

    code = "secret_not_copyable"
