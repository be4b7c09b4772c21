"""Compact JWS (RFC 7515) for the asymmetric algorithms we accept: a sharp tool.

The one JWS core of the library, for code above this package that speaks a
JOSE protocol of its own (OpenID4VP request objects and responses, OpenID4VCI
proofs): parse a token (:class:`CompactJWS`, *unverified* until its
``verify``), sign one (:func:`sign_compact`), check an ``alg`` against the
allow-list and the key before any cryptography (:func:`check_alg`), and find
the key a ``kid`` names (:func:`absolute_kid`, :func:`resolve_key`,
:func:`method_key`). It knows nothing of credentials, issuers or expiry: the
caller decides which key to trust and what the claims mean. To verify a
credential, use :func:`credentials.verify_credential` instead.

These are the very objects of the private implementation (``credentials._jws``,
which ``credentials.jose`` and ``credentials.sd_jwt`` use), not copies.
"""

from __future__ import annotations

from credentials._jws import (
    ALG_KEY_TYPES,
    MAX_JWS_LENGTH,
    CompactJWS,
    MethodResolver,
    absolute_kid,
    check_alg,
    dumps,
    method_key,
    resolve_key,
    sign_compact,
)

__all__ = [
    "ALG_KEY_TYPES",
    "MAX_JWS_LENGTH",
    "CompactJWS",
    "MethodResolver",
    "absolute_kid",
    "check_alg",
    "dumps",
    "method_key",
    "resolve_key",
    "sign_compact",
]
