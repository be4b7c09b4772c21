"""Keys, DIDs, DID documents, DID methods and DID resolution: the foundation layer.

This package imports nothing else of ssi-wallet. The names below are the
public surface; everything else lives in modules named with a leading
underscore or is reachable through these.
"""

from did_methods.did import DID, DIDURL
from did_methods.document import DIDDocument, Service, VerificationMethod
from did_methods.errors import (
    InvalidDID,
    InvalidDocument,
    InvalidKey,
    ParseError,
    PolicyError,
    ResolutionError,
    SSIWalletError,
    StoreError,
    UnsupportedError,
    VerificationError,
)
from did_methods.http import FETCH_ERROR_CODES, Fetcher, FetchError, HttpFetcher, StaticFetcher
from did_methods.keyfile import KeyFileError, read_key_file, write_key_file
from did_methods.keys import KeyType, PrivateKey, PublicKey
from did_methods.methods.jwk import JwkMethod, did_jwk_document, did_jwk_from_jwk
from did_methods.methods.key import (
    KeyMethod,
    did_key_document,
    did_key_from_public_key,
    public_key_from_did_key,
)
from did_methods.methods.web import WebMethod, did_web_to_url
from did_methods.resolver import DIDMethod, PinnedResolver, ResolutionResult, Resolver

__all__ = [
    "DID",
    "DIDURL",
    "FETCH_ERROR_CODES",
    "DIDDocument",
    "DIDMethod",
    "FetchError",
    "Fetcher",
    "HttpFetcher",
    "InvalidDID",
    "InvalidDocument",
    "InvalidKey",
    "JwkMethod",
    "KeyFileError",
    "KeyMethod",
    "KeyType",
    "ParseError",
    "PinnedResolver",
    "PolicyError",
    "PrivateKey",
    "PublicKey",
    "ResolutionError",
    "ResolutionResult",
    "Resolver",
    "SSIWalletError",
    "Service",
    "StaticFetcher",
    "StoreError",
    "UnsupportedError",
    "VerificationError",
    "VerificationMethod",
    "WebMethod",
    "did_jwk_document",
    "did_jwk_from_jwk",
    "did_key_document",
    "did_key_from_public_key",
    "did_web_to_url",
    "public_key_from_did_key",
    "read_key_file",
    "write_key_file",
]
