"""The ``verifier_attestation:`` Client Identifier Prefix (OpenID4VP 1.0 sections 5.9.3
and 12), sans-IO: a trusted attestation issuer vouches, in a Verifier Attestation JWT,
that a key (``cnf.jwk``) belongs to the verifier named ``sub``; the verifier carries the
attestation in the ``jwt`` JOSE header of each request object it signs with that key.

* :func:`issue_verifier_attestation` - the attestation issuer's side;
* :class:`~ssi_wallet.oid4vp.verifier.VerifierAttestationClient` - the verifier's;
* :func:`verify_verifier_attestation` - the wallet's checks, in order:

  1. the attestation is a compact JWS of bounded size, ``typ``
     ``verifier-attestation+jwt``;
  2. its ``iss`` is one of the wallet's trusted attestation issuers, and the
     signature holds under that issuer's key (``verifier_attestation_untrusted``);
  3. ``sub`` is the client identifier without the prefix, ``exp`` (required) has not
     passed, ``iat`` and ``nbf`` (if present) are not in the future, ``cnf.jwk`` is a
     public key (``verifier_attestation_invalid``);
  4. if it lists ``redirect_uris``, the request's response URI is one of them
     (``response_uri_mismatch``).

  The request object's signature is then checked with the ``cnf`` key.

The wallet trusts issuers by name and key (``attestation_issuers``: ``iss`` to
public key); without any, every such request is ``verifier_attestation_untrusted``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from credentials.jws import CompactJWS, dumps, sign_compact
from did_methods._wire.dates import instant, is_numeric_date
from did_methods.errors import ParseError, SSIWalletError, VerificationError
from did_methods.keys import PrivateKey, PublicKey
from ssi_wallet.oid4vp.errors import OID4VPError

__all__ = [
    "ATTESTATION_TYP",
    "issue_verifier_attestation",
    "verify_verifier_attestation",
]

#: The ``typ`` of a Verifier Attestation JWT (OpenID4VP 1.0 section 12).
ATTESTATION_TYP: Final = "verifier-attestation+jwt"
#: Longest attestation read (characters).
MAX_ATTESTATION: Final = 16 * 1024
_CLOCK_SKEW: Final = 60


def issue_verifier_attestation(
    issuer_key: PrivateKey,
    *,
    issuer: str,
    subject: str,
    verifier_key: PublicKey,
    expires_at: datetime,
    redirect_uris: Sequence[str] | None = None,
    now: datetime | None = None,
) -> str:
    """A Verifier Attestation JWT signed by ``issuer_key``: ``iss`` ``issuer``, ``sub``
    ``subject`` (the verifier's client identifier without the prefix), ``cnf.jwk``
    ``verifier_key``, ``iat`` ``now``, ``exp`` ``expires_at`` and, when given, the
    ``redirect_uris`` its response URIs must be among."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "iat": int(instant(now).timestamp()),
        "exp": int(instant(expires_at).timestamp()),
        "cnf": {"jwk": dict(verifier_key.to_jwk())},
    }
    if redirect_uris is not None:
        claims["redirect_uris"] = list(redirect_uris)
    return sign_compact({"typ": ATTESTATION_TYP}, dumps(claims), issuer_key)


def _invalid(message: str) -> OID4VPError:
    return OID4VPError("verifier_attestation_invalid", message)


def verify_verifier_attestation(
    text: Any,
    *,
    client_id: str,
    response_uri: str,
    issuers: Mapping[str, PublicKey],
    moment: float,
) -> PublicKey:
    """Check the attestation of a ``verifier_attestation:`` request (the steps of the
    module docstring); ``client_id`` is without the prefix. Returns the key the
    request object must be signed with; raises :class:`OID4VPError`."""
    # 1.
    if not isinstance(text, str) or len(text) > MAX_ATTESTATION:
        raise _invalid("the request object carries no Verifier Attestation JWT (jwt header)")
    try:
        jws = CompactJWS.parse(text, max_length=MAX_ATTESTATION)
    except ParseError as exc:
        raise _invalid(f"the attestation is not a JWT: {exc}") from exc
    if jws.header.get("typ") != ATTESTATION_TYP or "crit" in jws.header:
        raise _invalid(f"the attestation's typ must be {ATTESTATION_TYP!r} (and no crit)")
    claims = jws.payload
    if not isinstance(claims, Mapping):
        raise _invalid("the attestation's claims are not a JSON object")
    # 2.
    issuer = claims.get("iss")
    key = issuers.get(issuer) if isinstance(issuer, str) else None
    if key is None:
        raise OID4VPError(
            "verifier_attestation_untrusted",
            f"the attestation issuer {str(issuer)[:80]!r} is not trusted",
        )
    try:
        jws.verify(key)
    except (VerificationError, SSIWalletError) as exc:
        raise OID4VPError(
            "verifier_attestation_untrusted", f"the attestation's signature: {exc}"
        ) from exc
    # 3.
    if claims.get("sub") != client_id:
        raise _invalid("the attestation's sub is not the client identifier")
    exp, iat, nbf = claims.get("exp"), claims.get("iat"), claims.get("nbf")
    if not is_numeric_date(exp) or exp < moment - _CLOCK_SKEW:
        raise _invalid("the attestation has no exp, or it has passed")
    for name, value in (("iat", iat), ("nbf", nbf)):
        if value is not None and (not is_numeric_date(value) or value > moment + _CLOCK_SKEW):
            raise _invalid(f"the attestation's {name} is malformed or in the future")
    cnf = claims.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, Mapping) else None
    try:
        if not isinstance(jwk, Mapping):
            raise ParseError("cnf.jwk is missing")
        verifier_key = PublicKey.from_jwk(jwk)
    except SSIWalletError as exc:
        raise _invalid(f"the attestation's cnf.jwk is not a public key: {exc}") from exc
    # 4.
    uris = claims.get("redirect_uris")
    if uris is not None:
        if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
            raise _invalid("the attestation's redirect_uris is not a list of strings")
        if response_uri not in uris:
            raise OID4VPError(
                "response_uri_mismatch", "the response_uri is not among the attested ones"
            )
    return verifier_key
