"""The registries' exceptions, beneath the shared tree of :mod:`did_methods.errors`.

::

    SSIWalletError
     ├── ParseError (ValueError)
     │    └── RegistryError          malformed registry input: a payload, time, DID
     │                               document template, credential type or jurisdiction
     └── VerificationError (code)
          └── RegistryRejected       the registry refused an operation; ``code`` is one of
                                     ``not_authorised``, ``key_mismatch``, ``deactivated``,
                                     ``stale_version``, ``unknown_did``, ``scope_too_wide``,
                                     ``not_accredited``, ``unknown_accreditation``,
                                     ``already_revoked``, ``issuer_mismatch``,
                                     ``time_order``, ``submitter_not_did_key``, ``malformed``,
                                     ``duplicate_entry`` (a replayed entry), ``backdated``,
                                     ``key_rotated_out`` (signed by a key rotated out
                                     earlier in the log), ``delegate_revoked`` (an
                                     accreditor revoked earlier in the log)

A resolution that finds nothing raises (or reports)
:class:`~did_methods.errors.ResolutionError`; a status list that is not the
anchored one raises :class:`~did_methods.errors.VerificationError` with code
``status_list_not_current`` or ``status_list_unknown``.
"""

from __future__ import annotations

from did_methods.errors import ParseError, VerificationError

__all__ = ["RegistryError", "RegistryRejected"]


class RegistryError(ParseError):
    """Registry input is malformed (a payload, time, document template, type or jurisdiction)."""


class RegistryRejected(VerificationError):
    """The registry refused an operation (see the module docstring for the codes).

    Raised before anything is appended when the registry can tell in advance,
    or after the append when a concurrent entry made the operation invalid;
    in that case the entry stays in the log (it cannot be removed) and every
    registry ignores it, as every other reader of the log does.
    """
