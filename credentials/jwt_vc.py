"""VC Data Model 1.1 JWTs: the credential format OpenID4VC calls ``jwt_vc_json``.

OpenID4VCI 1.0 (Appendix A.1.1) and OpenID4VP 1.0 (Appendix B.1.3.1) name a
W3C credential "signed as a JWT, not using JSON-LD" ``jwt_vc_json`` and point
to the JWT encoding of the *VC Data Model 1.1* (section 6.3.1): a JWS whose
claims set carries the credential in a ``vc`` claim (a presentation in a
``vp`` claim) beside registered JWT claims that stand for some of its
properties. It is not VC-JOSE (:mod:`credentials.jose`, ``typ`` ``vc+jwt``,
the whole VC Data Model 2.0 document *is* the payload, ``vc``/``vp`` claims
forbidden): the two are told apart by the header ``typ`` (``vc+jwt`` /
``vp+jwt`` there; ``JWT`` or absent here) and by the ``vc``/``vp`` claim.

The mapping (section 6.3.1), both ways:

======== ===================================================================
claim    stands for
======== ===================================================================
``iss``  the credential's ``issuer`` (a presentation's ``holder``)
``sub``  the ``id`` of the (one) ``credentialSubject``
``nbf``  ``issuanceDate``
``exp``  ``expirationDate``
``jti``  the credential's (presentation's) ``id``
``aud``  a presentation's intended audience (OpenID4VP: the ``client_id``)
======== ===================================================================

Issuing (:func:`issue_jwt_vc`, :func:`issue_jwt_vp`) writes each mirrored
property as its claim *instead of* inside ``vc`` (``credentialSubject.id``
stays in both). Decoding (:func:`decode_jwt_vc`) copies ``vc`` and sets each
property from its claim; a property present both ways with another value is a
conflict and refused (``issuer_mismatch``, ``subject_mismatch``,
``id_mismatch``, ``date_mismatch``), as is a ``vc`` claim that is not the
1.1 data model (``context_invalid``, ``credential_invalid``).

Verification (:func:`verify_jwt_vc`, :func:`verify_jwt_vp`) returns a
:class:`~credentials.result.VerificationResult` of format ``jwt_vc_json``
whose ``document`` is the decoded credential (presentation) and whose typed
fields are filled from it; it raises only for text that is not a compact JWS
(:class:`JwtVcError`). The JWS core (:mod:`credentials._jws`) checks ``alg``
against the allow-list before any cryptography (``none``, ``HS*``, ``RS*``
never reach it); the key is the one ``kid`` names, a DID URL of the issuer
authorised for ``assertionMethod`` (the holder's, for ``authentication``),
checked exactly as for ``vc+jwt`` (:func:`credentials.jose.signed_by`).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from credentials._jws import DEFAULT_CLOCK_SKEW, CompactJWS, MethodResolver, absolute_kid, dumps
from credentials._jws import sign_compact as _sign_compact
from credentials.jose import CredentialStatusChecker, _validity, signed_by, status_check
from credentials.model import parse_datetime
from credentials.result import Check, VerificationResult
from did_methods._wire.dates import instant, is_numeric_date
from did_methods.did import DIDURL
from did_methods.errors import InvalidDID, ParseError, SSIWalletError, VerificationError
from did_methods.keys import PrivateKey
from did_methods.methods.self_certifying import names_same_key, self_certifying_key

__all__ = [
    "CREDENTIALS_V1_CONTEXT",
    "JWT_VC_FORMAT",
    "JwtVcError",
    "decode_jwt_vc",
    "decode_jwt_vp",
    "is_jwt_vc",
    "issue_jwt_vc",
    "issue_jwt_vp",
    "verify_jwt_vc",
    "verify_jwt_vp",
]

#: The format identifier (OpenID4VCI A.1.1, OpenID4VP B.1.3.1) and our results' ``format``.
JWT_VC_FORMAT: Final = "jwt_vc_json"
#: The base context of the VC Data Model 1.1, first in every ``@context``.
CREDENTIALS_V1_CONTEXT: Final = "https://www.w3.org/2018/credentials/v1"
#: Longest token we read (characters), as for ``vc+jwt``.
MAX_TOKEN_LENGTH: Final = 1_000_000
#: Most credentials one presentation may carry.
MAX_CREDENTIALS: Final = 100
#: The ``typ`` values of a VC Data Model 1.1 JWT (RFC 7519 5.1), compared without regard
#: to case as media types are (RFC 7515 4.1.9); absent is allowed too.
_TYPS: Final = ("jwt", "application/jwt")
#: How long a presentation we sign stays valid, by default.
VP_LIFETIME: Final = timedelta(minutes=5)


class JwtVcError(ParseError):
    """A credential, presentation or token that cannot be secured or read as a VC DM 1.1 JWT."""


# -- reading ---------------------------------------------------------------------------


def _types(value: Any) -> list[Any]:
    return [value] if isinstance(value, str) else value if isinstance(value, list) else []


def _id_of(value: Any) -> Any:
    return value.get("id") if isinstance(value, Mapping) else value


def _stamp(seconds: int | float) -> str:
    """A NumericDate as an XML Schema dateTime (whole seconds, UTC); ``claims_invalid``
    past what a date holds here (the year 9999)."""
    try:
        moment = datetime.fromtimestamp(int(seconds), tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise VerificationError("claims_invalid", "a time claim lies past the year 9999") from exc
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _seconds(text: Any, name: str) -> float:
    try:
        return parse_datetime(text).timestamp()
    except ParseError as exc:
        raise VerificationError("credential_invalid", f"{name}: {exc}") from exc


def is_jwt_vc(payload: Mapping[str, Any]) -> str | None:
    """``"credential"`` or ``"presentation"`` when a JWT's claims carry a ``vc`` / ``vp``
    object (an unverified look, for detection), else None."""
    has_vc = isinstance(payload.get("vc"), Mapping)
    has_vp = isinstance(payload.get("vp"), Mapping)
    if has_vc == has_vp:
        return None
    return "credential" if has_vc else "presentation"


def _check_context(document: Mapping[str, Any], kind: str) -> None:
    ctx = document.get("@context")
    first = ctx[0] if isinstance(ctx, list) and ctx else ctx
    if first != CREDENTIALS_V1_CONTEXT:
        raise VerificationError(
            "context_invalid", f"the {kind}'s @context must start with {CREDENTIALS_V1_CONTEXT}"
        )
    if not isinstance(ctx, list | str) or (
        isinstance(ctx, list) and not all(isinstance(c, str | Mapping) for c in ctx)
    ):
        raise VerificationError("context_invalid", "@context must be a URL or a list")


def _mirror(decoded: dict[str, Any], prop: str, value: Any, code: str, same: Any = None) -> None:
    """Set ``prop`` from a claim; refuse a different value already there (6.3.1 decoding)."""
    if prop in decoded:
        held = decoded[prop]
        equal = same(held, value) if same is not None else held == value
        if not equal:
            raise VerificationError(code, f"the JWT claim for {prop!r} contradicts the document")
    decoded[prop] = value


def _same_instant(held: Any, seconds: Any) -> bool:
    try:
        return int(parse_datetime(held).timestamp()) == int(seconds)
    except ParseError:
        return False


def _document(payload: Mapping[str, Any], own: str, other: str, what: str) -> dict[str, Any]:
    """A copy of the ``own`` claim's object, once the claims around it are sound."""
    code = f"{own}_missing"
    if not isinstance(payload, Mapping):
        raise VerificationError(code, f"the JWT claims are not an object holding a {what}")
    held = payload.get(own)
    if not isinstance(held, Mapping):
        raise VerificationError(code, f"the JWT has no '{own}' claim holding a {what}")
    if other in payload:
        raise VerificationError(code, f"a {what} JWT must not carry a '{other}' claim")
    for claim in ("nbf", "exp", "iat"):
        if claim in payload and not is_numeric_date(payload[claim]):
            raise VerificationError("claims_invalid", f"'{claim}' is not a NumericDate")
    iss = payload.get("iss", "-")
    if not isinstance(iss, str) or not iss:
        raise VerificationError("claims_invalid", "'iss' must be a non-empty string")
    return dict(held)


def decode_jwt_vc(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The credential a VC DM 1.1 JWT's claims encode (section 6.3.1 decoding), checked.

    Raises :class:`VerificationError`: ``vc_missing`` (no ``vc`` object, or a
    ``vp`` claim beside it), ``claims_invalid`` (a time claim that is not a
    NumericDate), ``issuer_mismatch`` / ``subject_mismatch`` / ``id_mismatch``
    / ``date_mismatch`` (a claim contradicting the property it stands for),
    ``context_invalid`` and ``credential_invalid`` (not a 1.1 credential:
    the base context first, ``VerifiableCredential`` among the types, an
    issuer, an ``issuanceDate``, a ``credentialSubject``).
    """
    decoded = _document(payload, "vc", "vp", "credential")
    if "iss" in payload:
        if "issuer" in decoded and _id_of(decoded["issuer"]) != payload["iss"]:
            raise VerificationError(
                "issuer_mismatch", "the JWT claim 'iss' contradicts the credential's issuer"
            )
        decoded.setdefault("issuer", payload["iss"])
    if "nbf" in payload:
        _mirror(decoded, "issuanceDate", _stamp(payload["nbf"]), "date_mismatch", _both_instants)
    if "exp" in payload:
        _mirror(decoded, "expirationDate", _stamp(payload["exp"]), "date_mismatch", _both_instants)
    if "jti" in payload:
        _mirror(decoded, "id", payload["jti"], "id_mismatch")
    if "sub" in payload:
        decoded["credentialSubject"] = _subject_with(decoded.get("credentialSubject"), payload)
    _check_credential(decoded)
    return decoded


def _both_instants(held: Any, stamp: Any) -> bool:
    return _same_instant(held, parse_datetime(stamp).timestamp())


def _subject_with(subject: Any, payload: Mapping[str, Any]) -> Any:
    sub = payload["sub"]
    if not isinstance(sub, str) or not sub:
        raise VerificationError("claims_invalid", "'sub' must be a non-empty string")
    one = subject[0] if isinstance(subject, list) and len(subject) == 1 else subject
    if not isinstance(one, Mapping):
        raise VerificationError(
            "subject_mismatch", "'sub' names a subject but the credential has not exactly one"
        )
    if "id" in one and one["id"] != sub:
        raise VerificationError(
            "subject_mismatch", "the JWT claim 'sub' contradicts credentialSubject.id"
        )
    filled = {**one, "id": sub}
    return [filled] if isinstance(subject, list) else filled


def _check_credential(decoded: Mapping[str, Any]) -> None:
    _check_context(decoded, "credential")
    if "VerifiableCredential" not in _types(decoded.get("type")):
        raise VerificationError("credential_invalid", "type must include VerifiableCredential")
    issuer = _id_of(decoded.get("issuer"))
    if not isinstance(issuer, str) or not issuer:
        raise VerificationError("credential_invalid", "the credential names no issuer")
    if "issuanceDate" not in decoded:
        raise VerificationError("credential_invalid", "no issuanceDate (nor an 'nbf' claim)")
    _seconds(decoded["issuanceDate"], "issuanceDate")
    if "expirationDate" in decoded:
        _seconds(decoded["expirationDate"], "expirationDate")
    subjects = decoded.get("credentialSubject")
    listed = subjects if isinstance(subjects, list) else [subjects]
    if not listed or not all(isinstance(s, Mapping) for s in listed):
        raise VerificationError("credential_invalid", "credentialSubject must be an object")


def decode_jwt_vp(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The presentation a VC DM 1.1 JWT's claims encode, checked.

    Raises :class:`VerificationError`: ``vp_missing`` (no ``vp`` object, or a
    ``vc`` claim beside it), ``holder_mismatch`` (``iss`` other than
    ``vp.holder``), ``id_mismatch``, ``context_invalid`` and
    ``credential_invalid`` (not a 1.1 presentation, or its
    ``verifiableCredential`` is not a list).
    """
    decoded = _document(payload, "vp", "vc", "presentation")
    if "iss" in payload:
        if "holder" in decoded and _id_of(decoded["holder"]) != payload["iss"]:
            raise VerificationError(
                "holder_mismatch", "the JWT claim 'iss' contradicts the presentation's holder"
            )
        decoded["holder"] = _id_of(decoded.get("holder", payload["iss"]))
    if "jti" in payload:
        _mirror(decoded, "id", payload["jti"], "id_mismatch")
    _check_context(decoded, "presentation")
    if "VerifiablePresentation" not in _types(decoded.get("type")):
        raise VerificationError("credential_invalid", "type must include VerifiablePresentation")
    items = decoded.get("verifiableCredential", [])
    if not isinstance(items, list):
        decoded["verifiableCredential"] = [items]
    return decoded


# -- issuing ---------------------------------------------------------------------------


def _check_signer(key: Any, kid: Any, did: str) -> None:
    if not isinstance(key, PrivateKey):
        raise JwtVcError("key must be a did_methods.keys.PrivateKey")
    if not isinstance(kid, str):
        raise JwtVcError("kid must be a DID URL string")
    try:
        absolute_kid(kid, did)
    except VerificationError as exc:
        raise JwtVcError(f"kid {kid[:80]!r} is not a key of {did[:80]}: {exc.message}") from exc


def _epoch(text: Any, name: str) -> int:
    try:
        return int(parse_datetime(text).timestamp())
    except ParseError as exc:
        raise JwtVcError(f"{name}: {exc}") from exc


def _sign(claims: Mapping[str, Any], key: PrivateKey, kid: str) -> str:
    try:
        body = dumps(claims)
    except ParseError as exc:
        raise JwtVcError(f"the claims cannot be serialised: {exc}") from exc
    return _sign_compact({"typ": "JWT", "kid": kid}, body, key)


def issue_jwt_vc(
    credential: Mapping[str, Any],
    key: PrivateKey,
    *,
    kid: str,
    now: datetime | None = None,
) -> str:
    """Sign a VC Data Model 1.1 credential as a ``jwt_vc_json`` JWT (section 6.3.1).

    ``credential`` has the 1.1 shape: ``@context`` starting with
    :data:`CREDENTIALS_V1_CONTEXT`, ``type`` with ``VerifiableCredential``, an
    ``issuer`` (a DID), an ``issuanceDate`` (default ``now``), one
    ``credentialSubject``, optionally ``id`` and ``expirationDate``. The
    claims: ``iss`` = issuer, ``sub`` = ``credentialSubject.id`` (when it has
    one), ``nbf`` = issuanceDate, ``exp`` = expirationDate, ``jti`` = id,
    ``iat`` = ``now``, and ``vc`` the credential without the properties those
    claims stand for (``credentialSubject.id`` kept). Header ``typ`` ``JWT``,
    ``kid`` a DID URL of the issuer. Raises :class:`JwtVcError` for a
    credential that is not of that shape, a ``kid`` of another DID or a value
    JSON cannot hold; :class:`UnsupportedError` for a key that cannot sign.
    """
    if not isinstance(credential, Mapping):
        raise JwtVcError("a credential must be a JSON object")
    moment = instant(now)
    document = dict(credential)
    document.setdefault("issuanceDate", moment.strftime("%Y-%m-%dT%H:%M:%SZ"))
    try:
        _check_credential(document)
    except VerificationError as exc:
        raise JwtVcError(exc.message) from exc
    issuer = _id_of(document["issuer"])
    _check_signer(key, kid, issuer)
    subject = document["credentialSubject"]
    one = subject[0] if isinstance(subject, list) and len(subject) == 1 else subject
    claims: dict[str, Any] = {"iss": issuer}
    if isinstance(one, Mapping) and isinstance(one.get("id"), str):
        claims["sub"] = one["id"]
    claims["nbf"] = _epoch(document.pop("issuanceDate"), "issuanceDate")
    if "expirationDate" in document:
        claims["exp"] = _epoch(document.pop("expirationDate"), "expirationDate")
    claims["iat"] = int(moment.timestamp())
    if "id" in document:
        claims["jti"] = document.pop("id")
    if isinstance(document["issuer"], str):
        del document["issuer"]  # an issuer object keeps its other members (name, ...)
    claims["vc"] = document
    return _sign(claims, key, kid)


def issue_jwt_vp(
    credentials: Sequence[str],
    key: PrivateKey,
    *,
    kid: str,
    nonce: str,
    audience: str,
    now: datetime | None = None,
    lifetime: timedelta = VP_LIFETIME,
) -> str:
    """A VC DM 1.1 presentation JWT holding ``credentials`` (``jwt_vc_json`` tokens).

    Signed by the holder's key ``kid`` (a DID URL; the holder is its DID):
    ``iss`` = the holder, ``aud`` = ``audience`` (OpenID4VP: the
    ``client_id``), ``nonce``, ``iat`` = ``nbf`` = ``now``, ``exp`` =
    ``now + lifetime``, a random ``jti``, and ``vp`` with the base context,
    type ``VerifiablePresentation`` and ``verifiableCredential`` the tokens as
    given (OpenID4VP B.1.3.1). Raises :class:`JwtVcError` for a ``kid`` that
    is not a DID URL, an empty nonce or audience, or no credential.
    """
    try:
        holder = str(DIDURL.parse(kid).did) if isinstance(kid, str) else ""
    except InvalidDID as exc:
        raise JwtVcError(f"kid is not a DID URL: {exc}") from exc
    _check_signer(key, kid, holder)
    for name, value in (("nonce", nonce), ("audience", audience)):
        if not isinstance(value, str) or not value:
            raise JwtVcError(f"{name} must be a non-empty string")
    tokens = list(credentials)
    if not tokens or not all(isinstance(t, str) for t in tokens):
        raise JwtVcError("a presentation carries one or more jwt_vc_json tokens")
    moment = int(instant(now).timestamp())
    claims = {
        "iss": holder,
        "aud": audience,
        "nonce": nonce,
        "iat": moment,
        "nbf": moment,
        "exp": moment + int(lifetime.total_seconds()),
        "jti": "urn:uuid:" + str(uuid.UUID(bytes=secrets.token_bytes(16), version=4)),
        "vp": {
            "@context": [CREDENTIALS_V1_CONTEXT],
            "type": ["VerifiablePresentation"],
            "verifiableCredential": tokens,
        },
    }
    return _sign(claims, key, kid)


# -- verification ----------------------------------------------------------------------


def _parse(token: Any) -> CompactJWS:
    try:
        return CompactJWS.parse(token, max_length=MAX_TOKEN_LENGTH)
    except ParseError as exc:
        raise JwtVcError(f"not a compact JWS: {exc}") from exc


def _typ_check(jws: CompactJWS, what: str) -> Check:
    typ = jws.header.get("typ")
    if "typ" in jws.header and not (isinstance(typ, str) and typ.lower() in _TYPS):
        shown = typ[:40] if isinstance(typ, str) else type(typ).__name__
        return Check.failed(
            "syntax", "typ_invalid", f"a {what} JWT's typ is JWT or absent, not {shown!r}"
        )
    return Check.passed("syntax", f"a VC Data Model 1.1 {what} JWT")


def _time_check(
    payload: Mapping[str, Any], decoded: Mapping[str, Any], now: float, leeway: float
) -> Check:
    # the JWT's own times get the clock skew; the credential's dates (when the
    # claims did not carry them) none, as for every format
    times = {k: payload[k] for k in ("iat", "nbf", "exp") if k in payload}
    if "nbf" not in payload and "issuanceDate" in decoded:
        times["validFrom"] = decoded["issuanceDate"]
    if "exp" not in payload and "expirationDate" in decoded:
        times["validUntil"] = decoded["expirationDate"]
    return _validity(times, now, leeway)


def _implied_kid(jws: CompactJWS, signer: Any) -> CompactJWS:
    """``jws``, with the ``kid`` a ``did:key`` / ``did:jwk`` signer implies when it has none.

    VC Data Model 1.1 makes ``kid`` optional. A DID that *is* its key has one
    verification method, so a token without ``kid`` names it; any other signer
    still needs a ``kid`` (``kid_invalid``).
    """
    if "kid" in jws.header:
        return jws
    named = self_certifying_key(signer)
    if named is None:
        return jws
    return replace(jws, header={**jws.header, "kid": named[1]})


def verify_jwt_vc(
    token: str,
    resolver: MethodResolver,
    *,
    now: datetime | None = None,
    leeway: float = DEFAULT_CLOCK_SKEW,
    status_checker: CredentialStatusChecker | None = None,
) -> VerificationResult:
    """Verify a ``jwt_vc_json`` credential and return every check, never a bare bool.

    Steps: 1 ``syntax``: ``typ`` ``JWT`` or absent (``typ_invalid``; a
    ``vc+jwt`` is VC-JOSE, not this); 2 ``claims_consistency``: the claims
    decode to a VC DM 1.1 credential with no conflict (:func:`decode_jwt_vc`'s
    codes); 3 ``key_authorisation``: ``alg`` allowed (``alg_not_allowed``:
    ``none``, ``HS256``...), ``kid`` a DID URL of the issuer (``kid_invalid``,
    ``kid_not_issuer``; without one, a ``did:key``/``did:jwk`` issuer's only
    method) authorised for ``assertionMethod``
    (``key_not_authorised``, ``key_unresolved``), ``alg`` fitting it
    (``alg_key_mismatch``); 4 ``signature`` (``signature_invalid``);
    5 ``validity_period``: ``nbf``/``exp``/``iat`` (with ``leeway``) and the
    dates they stand for (``expired``, ``not_yet_valid``); 6 ``status``: a
    credential with ``credentialStatus`` goes to ``status_checker`` and fails
    closed without one (``status_unavailable``). When every check held,
    ``document`` is the decoded credential and the typed fields are set.
    Raises :class:`JwtVcError` only when ``token`` is not a compact JWS with
    a JSON header and claims set.
    """
    at = instant(now)
    jws = _parse(token)
    checks: list[Check] = [_typ_check(jws, "credential")]
    if checks[0].status == "failed":
        return VerificationResult.of(JWT_VC_FORMAT, checks, document=jws.payload)
    try:
        decoded = decode_jwt_vc(jws.payload)
    except VerificationError as exc:
        checks.append(Check.failed("claims_consistency", exc.code, exc.message))
        return VerificationResult.of(JWT_VC_FORMAT, checks, document=jws.payload)
    checks.append(Check.passed("claims_consistency", "the JWT claims agree with the credential"))
    issuer = _id_of(decoded["issuer"])
    if not signed_by(_implied_kid(jws, issuer), resolver, issuer, "assertionMethod", checks):
        return VerificationResult.of(JWT_VC_FORMAT, checks, document=decoded)
    checks.append(_time_check(jws.payload, decoded, at.timestamp(), leeway))
    checks.append(status_check(decoded, status_checker))
    return VerificationResult.of(JWT_VC_FORMAT, checks, document=decoded, **_typed(decoded))


def _typed(decoded: Mapping[str, Any]) -> dict[str, Any]:
    raw = decoded.get("credentialSubject")
    if isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    subject, claims = None, {}
    if isinstance(raw, Mapping):
        subject = raw.get("id") if isinstance(raw.get("id"), str) else None
        claims = {k: v for k, v in raw.items() if k != "id"}
    until = decoded.get("expirationDate")
    return {
        "kind": "credential",
        "issuer": _id_of(decoded["issuer"]),
        "types": tuple(t for t in _types(decoded.get("type")) if isinstance(t, str)),
        "subject": subject,
        "claims": claims,
        "valid_from": parse_datetime(decoded["issuanceDate"]),
        "valid_until": parse_datetime(until) if until is not None else None,
    }


def verify_jwt_vp(
    token: str,
    resolver: MethodResolver,
    *,
    nonce: str | None,
    audience: str | None,
    now: datetime | None = None,
    max_age: float | None = 300,
    leeway: float = DEFAULT_CLOCK_SKEW,
    status_checker: CredentialStatusChecker | None = None,
) -> VerificationResult:
    """Verify a ``jwt_vc_json`` presentation JWT and every credential in it.

    Steps: 1 ``syntax`` (``typ`` ``JWT`` or absent); 2 ``claims_consistency``
    (:func:`decode_jwt_vp`'s codes); 3-4 the holder (``iss``) signed it with
    a key it authorises for ``authentication`` (codes as
    :func:`verify_jwt_vc`); 5 ``holder_binding``: ``nonce`` and ``aud`` are
    the expected ones (``nonce_mismatch``, ``audience_mismatch``); 6
    ``validity_period``: ``nbf``/``exp`` and, with ``max_age``, an ``iat``
    no older (``presentation_stale``; a VP without ``iat`` is fresh by the
    expected ``nonce`` alone, and without either it is ``claims_invalid``);
    7 ``credential[i]``: each entry of ``verifiableCredential`` is a
    ``jwt_vc_json`` token verified with
    :func:`verify_jwt_vc` (another form: ``credential_format_unsupported``;
    more than 100: ``too_many_credentials``) whose subject is the holder
    (``holder_mismatch``: the credential's ``sub`` must be the DID that signed
    the presentation, or a ``did:key``/``did:jwk`` of the very key that
    signed it, :func:`~did_methods.methods.self_certifying.names_same_key`).
    When every check held the result is of kind presentation with ``holder``
    and ``credentials`` set. Raises
    :class:`JwtVcError` only for a token that is not a compact JWS.
    """
    at = instant(now)
    jws = _parse(token)
    checks: list[Check] = [_typ_check(jws, "presentation")]
    if checks[0].status == "failed":
        return VerificationResult.of(JWT_VC_FORMAT, checks, document=jws.payload)
    payload = jws.payload
    try:
        decoded = decode_jwt_vp(payload)
    except VerificationError as exc:
        checks.append(Check.failed("claims_consistency", exc.code, exc.message))
        return VerificationResult.of(JWT_VC_FORMAT, checks, document=payload)
    checks.append(Check.passed("claims_consistency", "the JWT claims agree with the presentation"))
    holder = decoded.get("holder")
    holder = holder if isinstance(holder, str) and holder else None
    if not signed_by(_implied_kid(jws, holder), resolver, holder, "authentication", checks):
        return VerificationResult.of(JWT_VC_FORMAT, checks, document=decoded)
    aud = payload.get("aud")
    if nonce is None and audience is None:
        checks.append(Check.skipped("holder_binding", "no nonce or audience was expected"))
    elif nonce is not None and payload.get("nonce") != nonce:
        checks.append(Check.failed("holder_binding", "nonce_mismatch", "nonce differs"))
    elif audience is not None and not (
        aud == audience or (isinstance(aud, list) and audience in aud)
    ):
        checks.append(Check.failed("holder_binding", "audience_mismatch", "aud differs"))
    else:
        checks.append(Check.passed("holder_binding", "nonce and audience as expected"))
    seconds = at.timestamp()
    validity = _validity(
        {k: payload[k] for k in ("iat", "nbf", "exp") if k in payload}, seconds, leeway
    )
    iat = payload.get("iat")
    if validity.status == "passed" and max_age is not None:
        if iat is None and nonce is not None:
            pass  # VC DM 1.1 asks no iat of a VP: the expected nonce, single use, is the freshness
        elif not is_numeric_date(iat):
            validity = Check.failed("validity_period", "claims_invalid", "no numeric 'iat'")
        elif iat < seconds - max_age - leeway:
            validity = Check.failed("validity_period", "presentation_stale", "iat is too old")
    checks.append(validity)
    items = decoded["verifiableCredential"]
    if not items:
        checks.append(Check.failed("credentials", "credential_invalid", "no credential presented"))
    if len(items) > MAX_CREDENTIALS:
        checks.append(Check.failed("credentials", "too_many_credentials", "too many credentials"))
        items = []
    verified: list[VerificationResult] = []
    for index, item in enumerate(items):
        check, result = _inner(index, item, resolver, at, leeway, status_checker, holder)
        checks.append(check)
        if result is not None:
            verified.append(result)
    return VerificationResult.of(
        JWT_VC_FORMAT,
        checks,
        document=decoded,
        kind="presentation",
        holder=holder,
        credentials=verified,
    )


def _inner(
    index: int,
    item: Any,
    resolver: MethodResolver,
    at: datetime,
    leeway: float,
    status_checker: CredentialStatusChecker | None,
    holder: str | None,
) -> tuple[Check, VerificationResult | None]:
    name = f"credential[{index}]"
    if not isinstance(item, str):
        return Check.failed(name, "credential_format_unsupported", "not a jwt_vc_json token"), None
    try:
        result = verify_jwt_vc(item, resolver, now=at, leeway=leeway, status_checker=status_checker)
    except SSIWalletError as exc:
        return Check.failed(name, "credential_invalid", str(exc)), None
    if not result.ok:
        first = result.failures[0]
        message = f"jwt_vc_json: {first.message}"
        return Check.failed(name, first.code, message, codes=list(result.codes)), None
    if result.subject is None or not names_same_key(result.subject, holder):
        message = "the credential's subject (sub) is not the holder that signed the presentation"
        return Check.failed(name, "holder_mismatch", message), None
    return Check.passed(name, f"jwt_vc_json from {result.issuer}", issuer=result.issuer), result
