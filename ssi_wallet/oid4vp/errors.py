"""The errors of the OpenID4VP protocol layer, each with a stable code.

::

    VerificationError (did_methods.errors)
     └── OID4VPError          a request, request object or response was refused
                              (``code``: ours, stable; ``error``: the OAuth 2.0 /
                              OpenID4VP error code a wallet or verifier answers with)

The codes (``code``: the OAuth ``error`` it is reported as, and what it means)::

    request_uri_invalid: invalid_request
        the authorization request URI is malformed
    request_uri_method_invalid: invalid_request_uri_method
        request_uri_method is neither get nor post
    client_id_prefix_unsupported: invalid_request
        a Client Identifier Prefix we do not accept
    client_id_mismatch: invalid_request
        URI and request object name another client
    request_object_invalid: invalid_request_object
        not a JWT, or a claim malformed or missing
    request_typ_invalid: invalid_request_object
        ``typ`` is not ``oauth-authz-req+jwt``
    request_signature_invalid: invalid_request_object
        the signature does not hold (tampered)
    request_unsigned: invalid_request_object
        a prefix that needs a signature got none
    request_signed: invalid_request_object
        ``redirect_uri:`` requests must not be signed
    request_key_unresolved: invalid_client
        the DID's key could not be found
    x509_untrusted: invalid_client
        the x5c chain reaches no trust anchor
    x509_san_mismatch: invalid_client
        the leaf names no such DNS SAN
    x509_hash_mismatch: invalid_client
        the x5c leaf is not the certificate whose hash is the ``x509_hash:`` client id
    verifier_attestation_untrusted: invalid_client
        the Verifier Attestation's issuer is not trusted, or its signature fails
    verifier_attestation_invalid: invalid_client
        no attestation, or a malformed, expired or other verifier's one
    response_uri_mismatch: invalid_request
        the response URI is not the client's
    wallet_nonce_mismatch: invalid_request_object
        the request object ignores our wallet_nonce
    request_expired: invalid_request_object
        the request object's ``exp`` has passed
    transaction_data_unsupported: invalid_transaction_data
        a transaction data type this wallet does not know
    transaction_data_invalid: invalid_transaction_data
        malformed transaction data, or naming no SD-JWT credential query
    response_mode_unsupported: invalid_request
        neither direct_post nor direct_post.jwt
    encryption_unsupported: invalid_request
        no usable key or enc in client_metadata
    request_fetch_failed: invalid_request
        (wallet) the request URI answered no request object
    response_rejected: invalid_request
        (wallet) the response URI refused our response
    redirect_uri_invalid: invalid_request
        (wallet) the response URI sent us to no http(s) URL
    request_unknown: invalid_request
        (verifier) no such request_uri
    wallet_request_invalid: invalid_request
        (verifier) a bad wallet_nonce/wallet_metadata
    wallet_metadata_unsupported: invalid_request
        (verifier) the wallet_metadata lists none of what this request uses
    state_unknown: invalid_request
        (verifier) no transaction has this state
    response_replayed: invalid_request
        (verifier) the transaction was answered
    response_invalid: invalid_request
        (verifier) a malformed response body
    response_key_unknown: invalid_request
        (verifier) encrypted to a key not ours
    response_decryption_failed: invalid_request
        (verifier) encrypted to another key
    transaction_expired: invalid_request
        (verifier) the request has expired
    result_unauthorized: invalid_request
        (verifier) a result asked for without its response_code or result token
"""

from __future__ import annotations

from did_methods.errors import VerificationError

__all__ = ["OID4VPError"]

_OAUTH: dict[str, str] = {
    "request_uri_method_invalid": "invalid_request_uri_method",
    "request_object_invalid": "invalid_request_object",
    "request_typ_invalid": "invalid_request_object",
    "request_signature_invalid": "invalid_request_object",
    "request_unsigned": "invalid_request_object",
    "request_signed": "invalid_request_object",
    "wallet_nonce_mismatch": "invalid_request_object",
    "request_expired": "invalid_request_object",
    "request_key_unresolved": "invalid_client",
    "x509_untrusted": "invalid_client",
    "x509_san_mismatch": "invalid_client",
    "x509_hash_mismatch": "invalid_client",
    "verifier_attestation_untrusted": "invalid_client",
    "verifier_attestation_invalid": "invalid_client",
    "transaction_data_unsupported": "invalid_transaction_data",
    "transaction_data_invalid": "invalid_transaction_data",
    "access_denied": "access_denied",
}


class OID4VPError(VerificationError):
    """An OpenID4VP step was refused.

    ``code`` is one of the codes of the module docstring (stable, ours);
    ``error`` is the OAuth 2.0 error code to answer with (``invalid_request``,
    ``invalid_request_object``, ``invalid_client``, ...).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.error = _OAUTH.get(code, "invalid_request")
