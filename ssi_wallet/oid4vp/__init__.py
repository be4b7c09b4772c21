"""OpenID for Verifiable Presentations 1.0 (OpenID4VP): the verifier and the wallet, sans-IO.

* :mod:`ssi_wallet.oid4vp.verifier` - :class:`OID4VPVerifier`: requests as
  request objects (RFC 9101) by reference, for the Client Identifier Prefixes
  ``decentralized_identifier:``, ``x509_san_dns:``, ``x509_hash:``,
  ``verifier_attestation:`` and ``redirect_uri:``; responses by
  ``direct_post`` or, encrypted to an ephemeral key (ECDH-ES, A128GCM or
  A256GCM), ``direct_post.jwt``;
  the decision is the :class:`~ssi_wallet.verifier.Verifier`'s report;
* :mod:`ssi_wallet.oid4vp.wallet` - verifying a request object and the
  verifier's identity, shaping the response;
* :mod:`ssi_wallet.oid4vp.client` - :func:`present`: the wallet's whole
  exchange over any :class:`Transport`;
* :mod:`ssi_wallet.oid4vp.errors` - :class:`OID4VPError` and its codes.

The HTTP service is :mod:`ssi_wallet.server.oid4vp`; ``docs/openid4vp.md`` walks
through a whole exchange.
"""

from ssi_wallet.oid4vp.client import PresentOutcome, Transport, present
from ssi_wallet.oid4vp.errors import OID4VPError
from ssi_wallet.oid4vp.verifier import (
    ClientIdentity,
    CreatedRequest,
    DIDClient,
    MemoryTransactionStore,
    OID4VPVerifier,
    RedirectURIClient,
    ResponseAck,
    Transaction,
    TransactionStore,
    VerifierAttestationClient,
    X509HashClient,
    X509SanDnsClient,
)
from ssi_wallet.oid4vp.wallet import (
    AuthorizationRequest,
    AuthorizationRequestURI,
    verify_request_object,
)

__all__ = [
    "AuthorizationRequest",
    "AuthorizationRequestURI",
    "ClientIdentity",
    "CreatedRequest",
    "DIDClient",
    "MemoryTransactionStore",
    "OID4VPError",
    "OID4VPVerifier",
    "PresentOutcome",
    "RedirectURIClient",
    "ResponseAck",
    "Transaction",
    "TransactionStore",
    "Transport",
    "VerifierAttestationClient",
    "X509HashClient",
    "X509SanDnsClient",
    "present",
    "verify_request_object",
]
