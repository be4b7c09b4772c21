"""OpenID for Verifiable Credential Issuance 1.0: the issuer's core and the wallet's client.

Sans-IO: nothing here opens a socket or imports a web framework. The issuer
side (:class:`CredentialIssuer`) takes parsed requests and returns
:class:`Reply` objects; :mod:`ssi_wallet.server.oid4vci` serves it over HTTP
(``ssi-wallet serve issuer``). The wallet side (:class:`WalletClient`) runs
the flows through a small :class:`Transport` and stores what it receives in a
:class:`~ssi_wallet.holder.Holder`. See ``docs/openid4vci.md``.
"""

from ssi_wallet.oid4vci.attestation import (
    KeyAttestationPolicy,
    KeyAttestationSigner,
    KeyAttester,
)
from ssi_wallet.oid4vci.encryption import RequestDecryption
from ssi_wallet.oid4vci.errors import IssuerResponseError, OID4VCIError
from ssi_wallet.oid4vci.local import InProcessTransport
from ssi_wallet.oid4vci.metadata import (
    AUTHORIZATION_CODE,
    PRE_AUTHORIZED_CODE,
    CredentialConfiguration,
    CredentialOfferData,
    parse_issuer_metadata,
    parse_offer,
    parse_offer_uri,
    read_offer,
    well_known_url,
)
from ssi_wallet.oid4vci.proofs import KeyProof, make_jwt_proof, verify_jwt_proof
from ssi_wallet.oid4vci.service import CredentialIssuer, IssuerEndpoints, Offer, Reply
from ssi_wallet.oid4vci.signed_metadata import MetadataSigner
from ssi_wallet.oid4vci.sqlite_store import SQLiteStateStore
from ssi_wallet.oid4vci.store import MemoryStateStore, StateStore
from ssi_wallet.oid4vci.wallet import (
    PendingCredential,
    ReceiveResult,
    ResolvedOffer,
    Transport,
    WalletClient,
)

__all__ = [
    "AUTHORIZATION_CODE",
    "PRE_AUTHORIZED_CODE",
    "CredentialConfiguration",
    "CredentialIssuer",
    "CredentialOfferData",
    "InProcessTransport",
    "IssuerEndpoints",
    "IssuerResponseError",
    "KeyAttestationPolicy",
    "KeyAttestationSigner",
    "KeyAttester",
    "KeyProof",
    "MemoryStateStore",
    "MetadataSigner",
    "OID4VCIError",
    "Offer",
    "PendingCredential",
    "ReceiveResult",
    "Reply",
    "RequestDecryption",
    "ResolvedOffer",
    "SQLiteStateStore",
    "StateStore",
    "Transport",
    "WalletClient",
    "make_jwt_proof",
    "parse_issuer_metadata",
    "parse_offer",
    "parse_offer_uri",
    "read_offer",
    "verify_jwt_proof",
    "well_known_url",
]
