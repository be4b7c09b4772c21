"""Signed Credential Issuer metadata (OpenID4VCI 1.0 section 12.2.2 and 12.2.3), sans-IO.

A Credential Issuer may answer its metadata request with a JWT (media type
``application/jwt``) instead of plain JSON, when the wallet's ``Accept`` asks
for it: ``typ`` ``openidvci-issuer-metadata+jwt``, every metadata parameter a
top-level claim, ``sub`` the Credential Issuer Identifier, ``iat`` (and
``exp``). The key is conveyed by ``kid`` or ``x5c`` (``trust_chain`` too in
the specification; not here).

A wallet that asks for signed metadata MUST establish trust in the signer or
reject it. :func:`verify_signed_metadata` trusts either a key pinned for the
issuer, or an ``x5c`` chain to one of the wallet's trust anchors whose leaf
names the identifier's host as a dNSName (the rule HAIP gives X.509-based
trust). Steps (numbered in the code):

1. to 3. bounded parse, ``typ``, an asymmetric algorithm
   (:func:`~ssi_wallet.oid4vci.proofs.read_typed_jwt`);
4. the signer: the pinned key, else a key of the trusted DID named by
   ``kid``, else a chain to an anchor naming the host;
5. the signature;
6. ``sub`` is the identifier exactly; ``iat`` a number not in the future;
   ``exp``, when present, not passed;
7. the claims are read as metadata
   (:func:`~ssi_wallet.oid4vci.metadata.parse_issuer_metadata`:
   ``credential_issuer`` must be the identifier too).

Every refusal is an :class:`~ssi_wallet.oid4vci.errors.OID4VCIError`
``invalid_issuer_metadata``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from credentials.jws import MethodResolver, absolute_kid, dumps, resolve_key, sign_compact
from did_methods._wire.dates import instant, is_numeric_date
from did_methods.errors import SSIWalletError
from did_methods.keys import PrivateKey, PublicKey
from ssi_wallet.oid4vci.errors import OID4VCIError
from ssi_wallet.oid4vci.metadata import (
    MAX_METADATA_BYTES,
    parse_issuer_metadata,
    weighted_entries,
)
from ssi_wallet.oid4vci.proofs import SUPPORTED_PROOF_ALGS, read_typed_jwt

if TYPE_CHECKING:
    from cryptography import x509

__all__ = [
    "METADATA_TYP",
    "MetadataSigner",
    "prefers_jwt",
    "sign_issuer_metadata",
    "verify_signed_metadata",
]

#: The ``typ`` of signed Credential Issuer metadata.
METADATA_TYP: Final = "openidvci-issuer-metadata+jwt"
#: The JWT claims signed metadata adds to the metadata parameters.
_JWT_CLAIMS: Final = ("iss", "sub", "iat", "exp")
_SKEW: Final = 60.0
_CODE: Final = "invalid_issuer_metadata"


def _refuse(message: str) -> OID4VCIError:
    return OID4VCIError(_CODE, message)


@dataclass(frozen=True, slots=True)
class MetadataSigner:
    """How an issuer signs its metadata: the ``key``, named by ``kid`` and/or an ``x5c`` chain.

    ``x5c`` holds base64 (not base64url) DER certificates, the key's first.
    ``lifetime`` (seconds) sets ``exp``; ``issuer`` becomes ``iss`` (the party
    attesting the metadata, e.g. the issuer's DID).
    """

    key: PrivateKey
    kid: str | None = None
    x5c: tuple[str, ...] = ()
    lifetime: float = 24 * 3600.0
    issuer: str | None = None

    @classmethod
    def with_chain(
        cls, key: PrivateKey, chain: Sequence[x509.Certificate], **kw: Any
    ) -> MetadataSigner:
        """A signer whose ``x5c`` is ``chain`` (leaf first, the leaf certifying ``key``)."""
        from cryptography.hazmat.primitives.serialization import Encoding

        x5c = tuple(base64.b64encode(c.public_bytes(Encoding.DER)).decode("ascii") for c in chain)
        return cls(key, x5c=x5c, **kw)


def sign_issuer_metadata(
    metadata: Mapping[str, Any], signer: MetadataSigner, *, identifier: str, now: datetime
) -> str:
    """``metadata`` as signed metadata: its parameters as claims, plus ``sub``, ``iat``, ``exp``."""
    at = int(instant(now).timestamp())
    claims = {k: v for k, v in metadata.items() if k not in _JWT_CLAIMS}
    claims.update({"sub": identifier, "iat": at, "exp": at + int(signer.lifetime)})
    if signer.issuer is not None:
        claims["iss"] = signer.issuer
    header: dict[str, Any] = {"typ": METADATA_TYP}
    if signer.kid is not None:
        header["kid"] = signer.kid
    if signer.x5c:
        header["x5c"] = list(signer.x5c)
    return sign_compact(header, dumps(claims), signer.key)


def prefers_jwt(accept: str | None) -> bool:
    """Whether an ``Accept`` header ranks ``application/jwt`` at least as high as JSON.

    Only exact media types and ``q`` count; at most 32 entries are read.
    """
    quality = {"application/jwt": 0.0, "application/json": 0.0}
    for media, q in weighted_entries(accept):
        if media in quality:
            quality[media] = max(quality[media], q)
    jwt, json = quality["application/jwt"], quality["application/json"]
    return jwt > 0 and jwt >= json


def verify_signed_metadata(
    token: Any,
    identifier: str,
    *,
    now: datetime,
    pinned: PublicKey | None = None,
    trust_anchors: Sequence[x509.Certificate] = (),
    trusted_did: str | None = None,
    resolver: MethodResolver | None = None,
) -> dict[str, Any]:
    """Check signed metadata fetched for ``identifier``; return the metadata it carries.

    The signer must be ``pinned``; or named by a ``kid`` that is a verification
    method (for ``assertionMethod``) of ``trusted_did``, the DID the wallet
    knows this issuer by, resolved through ``resolver``; or certified by an
    ``x5c`` chain to one of ``trust_anchors`` whose leaf names the
    identifier's host. Raises ``invalid_issuer_metadata`` (the steps in the
    module docstring).
    """
    at = instant(now).timestamp()
    # 1. to 3.
    jws = read_typed_jwt(
        token,
        typ=METADATA_TYP,
        algorithms=SUPPORTED_PROOF_ALGS,
        max_length=MAX_METADATA_BYTES * 4 // 3 + 16384,
        what="signed metadata",
        code=_CODE,
    )
    header = jws.header
    # 4. the signer
    key = pinned
    if key is None and trusted_did is not None and resolver is not None:
        try:
            kid = absolute_kid(header.get("kid"), trusted_did)
            key = resolve_key(resolver, kid, "assertionMethod")
        except SSIWalletError as exc:
            raise _refuse(
                f"the signed metadata's kid is not a key of {trusted_did}: {exc}"
            ) from exc
    if key is None:
        if "x5c" not in header or not trust_anchors:
            raise _refuse(
                "signed metadata whose signer we cannot trust: no pinned key, no x5c to our anchors"
            )
        from credentials.x5c import check_san_dns, verify_x5c

        host = urlsplit(identifier).hostname or ""
        try:
            certified = verify_x5c(header["x5c"], trust_anchors, now=instant(now))
            check_san_dns(certified, host)
        except SSIWalletError as exc:
            raise _refuse(f"the signed metadata's certificate is not trusted: {exc}") from exc
        key = certified.public_key
    # 5. the signature
    try:
        jws.verify(key)
    except SSIWalletError as exc:
        raise _refuse(f"the signed metadata's signature does not verify: {exc}") from exc
    claims: Mapping[str, Any] = jws.payload
    # 6. subject and times
    if claims.get("sub") != identifier:
        raise _refuse("the signed metadata's sub is not the Credential Issuer Identifier")
    iat = claims.get("iat")
    if not is_numeric_date(iat) or iat > at + _SKEW:
        raise _refuse("the signed metadata needs an iat that is not in the future")
    exp = claims.get("exp")
    if exp is not None and (not is_numeric_date(exp) or exp <= at):
        raise _refuse("the signed metadata has expired")
    # 7. the metadata itself
    return parse_issuer_metadata(dict(claims), identifier)
