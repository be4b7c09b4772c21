"""The roles of an immigration wallet ecosystem and the ``ssi-wallet`` command.

:class:`Issuer` (a migration authority), :class:`Holder` (the migrant's
wallet) and :class:`Verifier` (an employer, landlord, university or border
post) join the ``credentials`` and ``ledger`` layers; :mod:`ssi_wallet.policies`
holds the recipes a verifier asks with, :mod:`ssi_wallet.dcql` the query
language they are written in.
"""

from ssi_wallet import policies
from ssi_wallet.dcql import DCQLError, DCQLMatch, DCQLQuery
from ssi_wallet.guardianship import CredentialAuthorisationVerifier
from ssi_wallet.holder import ConsentRequest, DisclosureRecord, Holder, StoredCredential
from ssi_wallet.issuer import CredentialFormat, IssuedCredential, Issuer, StatusBoard
from ssi_wallet.policies import Finding, Policy
from ssi_wallet.request import Presentation, PresentationRequest
from ssi_wallet.verifier import Report, TrustRegistry, UnsafeTrustAnyIssuer, Verifier

__all__ = [
    "ConsentRequest",
    "CredentialAuthorisationVerifier",
    "CredentialFormat",
    "DCQLError",
    "DCQLMatch",
    "DCQLQuery",
    "DisclosureRecord",
    "Finding",
    "Holder",
    "IssuedCredential",
    "Issuer",
    "Policy",
    "Presentation",
    "PresentationRequest",
    "Report",
    "StatusBoard",
    "StoredCredential",
    "TrustRegistry",
    "UnsafeTrustAnyIssuer",
    "Verifier",
    "policies",
]
