"""Registries built on the transparency log: the ``did:ledger`` DID method, the trusted
issuer registry and status-list anchoring.

Each registry reads its own entry kinds from the log into an in-memory index
(built in one pass when first used, then extended incrementally), so a query
never replays the log. Every operation is a signed log entry; an entry that
breaks a registry's rules stays in the log (nothing can be removed) but every
reader ignores it in the same way, and :meth:`rejection` says why.

Share one :class:`LogFollower` between registries on one log so the log is
read once; :class:`ledger.facade.Ledger` does that for you.
"""

from ledger.registry._common import EntryProof, LogFollower, Signer
from ledger.registry.did_method import (
    KIND_CREATE,
    KIND_DEACTIVATE,
    KIND_UPDATE,
    DIDVersion,
    LedgerMethod,
    check_template,
    default_template,
)
from ledger.registry.errors import RegistryError, RegistryRejected
from ledger.registry.status_anchor import KIND_ANCHOR, StatusAnchor, StatusListRegistry
from ledger.registry.trusted_issuers import (
    EU_MEMBER_STATES,
    KIND_ACCREDIT,
    KIND_REVOKE,
    MAX_CHAIN_DEPTH,
    Accreditation,
    AccreditationAnswer,
    TrustedIssuerRegistry,
    covers_jurisdiction,
)

__all__ = [
    "EU_MEMBER_STATES",
    "KIND_ACCREDIT",
    "KIND_ANCHOR",
    "KIND_CREATE",
    "KIND_DEACTIVATE",
    "KIND_REVOKE",
    "KIND_UPDATE",
    "MAX_CHAIN_DEPTH",
    "Accreditation",
    "AccreditationAnswer",
    "DIDVersion",
    "EntryProof",
    "LedgerMethod",
    "LogFollower",
    "RegistryError",
    "RegistryRejected",
    "Signer",
    "StatusAnchor",
    "StatusListRegistry",
    "TrustedIssuerRegistry",
    "check_template",
    "covers_jurisdiction",
    "default_template",
]
