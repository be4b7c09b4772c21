"""Keys, DIDs, DID documents, DID methods and DID resolution: the foundation layer.

This package imports nothing else of ssi-wallet. The names below are the
public surface; everything else lives in modules named with a leading
underscore or is reachable through these.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from did_methods.did import DID, DIDURL
    from did_methods.document import DIDDocument, Service, VerificationMethod
    from did_methods.errors import (
        DuplicateKeyError,
        InputTooLargeError,
        InvalidDID,
        InvalidDocument,
        InvalidKey,
        JSONError,
        OutputFileError,
        ParseError,
        PolicyError,
        ResolutionError,
        SecretCopyError,
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

# The names load on first use (PEP 562): importing one module of the package
# (its errors, say) does not import every layer beneath the others.
_WHERE = {
    "DID": "did_methods.did",
    "DIDDocument": "did_methods.document",
    "DIDMethod": "did_methods.resolver",
    "DIDURL": "did_methods.did",
    "DuplicateKeyError": "did_methods.errors",
    "FETCH_ERROR_CODES": "did_methods.http",
    "FetchError": "did_methods.http",
    "Fetcher": "did_methods.http",
    "HttpFetcher": "did_methods.http",
    "InputTooLargeError": "did_methods.errors",
    "InvalidDID": "did_methods.errors",
    "InvalidDocument": "did_methods.errors",
    "InvalidKey": "did_methods.errors",
    "JSONError": "did_methods.errors",
    "JwkMethod": "did_methods.methods.jwk",
    "KeyFileError": "did_methods.keyfile",
    "KeyMethod": "did_methods.methods.key",
    "KeyType": "did_methods.keys",
    "OutputFileError": "did_methods.errors",
    "ParseError": "did_methods.errors",
    "PinnedResolver": "did_methods.resolver",
    "PolicyError": "did_methods.errors",
    "PrivateKey": "did_methods.keys",
    "PublicKey": "did_methods.keys",
    "ResolutionError": "did_methods.errors",
    "ResolutionResult": "did_methods.resolver",
    "Resolver": "did_methods.resolver",
    "SSIWalletError": "did_methods.errors",
    "SecretCopyError": "did_methods.errors",
    "Service": "did_methods.document",
    "StaticFetcher": "did_methods.http",
    "StoreError": "did_methods.errors",
    "UnsupportedError": "did_methods.errors",
    "VerificationError": "did_methods.errors",
    "VerificationMethod": "did_methods.document",
    "WebMethod": "did_methods.methods.web",
    "did_jwk_document": "did_methods.methods.jwk",
    "did_jwk_from_jwk": "did_methods.methods.jwk",
    "did_key_document": "did_methods.methods.key",
    "did_key_from_public_key": "did_methods.methods.key",
    "did_web_to_url": "did_methods.methods.web",
    "public_key_from_did_key": "did_methods.methods.key",
    "read_key_file": "did_methods.keyfile",
    "write_key_file": "did_methods.keyfile",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = importlib.import_module(module)
    if module != f"{__name__}.{name}":
        value = getattr(value, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "DID",
    "DIDURL",
    "FETCH_ERROR_CODES",
    "DIDDocument",
    "DIDMethod",
    "DuplicateKeyError",
    "FetchError",
    "Fetcher",
    "HttpFetcher",
    "InputTooLargeError",
    "InvalidDID",
    "InvalidDocument",
    "InvalidKey",
    "JSONError",
    "JwkMethod",
    "KeyFileError",
    "KeyMethod",
    "KeyType",
    "OutputFileError",
    "ParseError",
    "PinnedResolver",
    "PolicyError",
    "PrivateKey",
    "PublicKey",
    "ResolutionError",
    "ResolutionResult",
    "Resolver",
    "SSIWalletError",
    "SecretCopyError",
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
