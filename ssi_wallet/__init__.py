"""The roles of an immigration wallet ecosystem and the ``ssi-wallet`` command.

:class:`Issuer` (a migration authority), :class:`Holder` (the migrant's
wallet) and :class:`Verifier` (an employer, landlord, university or border
post) join the ``credentials`` and ``ledger`` layers; :mod:`ssi_wallet.policies`
holds the recipes a verifier asks with, :mod:`ssi_wallet.dcql` the query
language they are written in.
"""

import importlib
from typing import TYPE_CHECKING, Any

from did_methods._wire.renamed import warn_renamed

if TYPE_CHECKING:
    from ssi_wallet import policies
    from ssi_wallet._wallet_backup import OtherWalletError, WalletBackupError
    from ssi_wallet._wallet_store import NotAWalletError, WalletIntegrityError, WalletLockedError
    from ssi_wallet.dcql import DCQLError, DCQLMatch, DCQLQuery
    from ssi_wallet.guardianship import CredentialAuthorisationVerifier
    from ssi_wallet.holder import (
        ConsentRequest,
        CredentialSummary,
        DisclosureRecord,
        Holder,
        RestoreResult,
        StoredCredential,
    )
    from ssi_wallet.issuer import (
        CredentialFormat,
        IssuedCredential,
        Issuer,
        StatusBoard,
        StatusRef,
    )
    from ssi_wallet.policies import DisclosedClaims, Finding, Policy
    from ssi_wallet.request import PresentationRequest, PresentationResponse
    from ssi_wallet.verifier import Report, TrustRegistry, UnsafeTrustAnyIssuer, Verifier

# The names load on first use (PEP 562), so the command line starts without
# importing every layer for commands that need only one.
_WHERE = {
    "ConsentRequest": "ssi_wallet.holder",
    "CredentialAuthorisationVerifier": "ssi_wallet.guardianship",
    "CredentialFormat": "ssi_wallet.issuer",
    "CredentialSummary": "ssi_wallet.holder",
    "DCQLError": "ssi_wallet.dcql",
    "DCQLMatch": "ssi_wallet.dcql",
    "DCQLQuery": "ssi_wallet.dcql",
    "DisclosedClaims": "ssi_wallet.policies",
    "DisclosureRecord": "ssi_wallet.holder",
    "Finding": "ssi_wallet.policies",
    "Holder": "ssi_wallet.holder",
    "IssuedCredential": "ssi_wallet.issuer",
    "Issuer": "ssi_wallet.issuer",
    "NotAWalletError": "ssi_wallet._wallet_store",
    "OtherWalletError": "ssi_wallet._wallet_backup",
    "Policy": "ssi_wallet.policies",
    "PresentationRequest": "ssi_wallet.request",
    "PresentationResponse": "ssi_wallet.request",
    "Report": "ssi_wallet.verifier",
    "RestoreResult": "ssi_wallet.holder",
    "StatusBoard": "ssi_wallet.issuer",
    "StatusRef": "ssi_wallet.issuer",
    "StoredCredential": "ssi_wallet.holder",
    "TrustRegistry": "ssi_wallet.verifier",
    "UnsafeTrustAnyIssuer": "ssi_wallet.verifier",
    "Verifier": "ssi_wallet.verifier",
    "WalletBackupError": "ssi_wallet._wallet_backup",
    "WalletIntegrityError": "ssi_wallet._wallet_store",
    "WalletLockedError": "ssi_wallet._wallet_store",
}


def __getattr__(name: str) -> Any:
    if name == "Presentation":  # deprecated alias, removed in the next release
        warn_renamed("ssi_wallet.Presentation", "ssi_wallet.PresentationResponse")
        return importlib.import_module("ssi_wallet.request").PresentationResponse
    if name == "policies":
        return importlib.import_module("ssi_wallet.policies")
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ssi_wallet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "ConsentRequest",
    "CredentialAuthorisationVerifier",
    "CredentialFormat",
    "CredentialSummary",
    "DCQLError",
    "DCQLMatch",
    "DCQLQuery",
    "DisclosedClaims",
    "DisclosureRecord",
    "Finding",
    "Holder",
    "IssuedCredential",
    "Issuer",
    "NotAWalletError",
    "OtherWalletError",
    "Policy",
    "PresentationRequest",
    "PresentationResponse",
    "Report",
    "RestoreResult",
    "StatusBoard",
    "StatusRef",
    "StoredCredential",
    "TrustRegistry",
    "UnsafeTrustAnyIssuer",
    "Verifier",
    "WalletBackupError",
    "WalletIntegrityError",
    "WalletLockedError",
    "policies",
]
