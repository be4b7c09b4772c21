"""VC-JOSE: verifiable credentials and presentations as compact JWS (``vc+jwt``, ``vp+jwt``).

Per W3C *Securing Verifiable Credentials using JOSE and COSE* (VC-JOSE-COSE):
the JWS payload *is* the unsecured VC Data Model 2.0 credential (or
presentation), the header says ``typ: vc+jwt`` (``vp+jwt``) and
``cty: vc`` (``vp``), and ``kid`` is the DID URL of the signing key. We add
the registered JWT claims that the spec recommends keeping consistent with
the credential: ``iss`` = ``issuer``, ``jti`` = ``id``, ``sub`` =
``credentialSubject.id`` (one subject), and ``iat`` = the signing time; a
verifier refuses a token in which any of the three mirrored claims disagrees
with the credential, and any ``vc``/``vp`` claim (the VC 1.1 JWT encoding,
which the spec forbids). ``iat``, ``nbf`` and ``exp`` are the signature's
times, not ``validFrom``/``validUntil``: a verifier checks both the token's
times and the credential's validity period, each on its own.

Tokens are signed and checked with our compact JWS core
(:mod:`credentials._jws`, tested against RFC 7515/8037 vectors and, both ways,
against jwcrypto), the one every other JWS format here uses. Verification
parses the token once, strictly, checks its ``alg`` against an allow-list
(``EdDSA``, ``ES256``, ``ES384``, ``ES512``) and against the resolved key type,
so ``none``, HMAC and RSA algorithms never reach any cryptography, then checks
the signature over that same parse.

Presentations carry their credentials as ``EnvelopedVerifiableCredential``
objects whose ``id`` is ``data:application/vc+jwt,<token>``; verifying the
presentation verifies each of them too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Final, TypeAlias

from credentials._jws import (
    DEFAULT_CLOCK_SKEW,
    CompactJWS,
    MethodResolver,
    absolute_kid,
    check_alg,
    dumps,
    method_key,
    resolve_key,
    sign_compact,
)
from credentials.errors import ValidationError
from credentials.keysets import issuer_key_source
from credentials.model import Credential, Presentation, parse_datetime
from credentials.result import Check, VerificationResult
from did_methods._wire.dates import instant, is_numeric_date, iso_instant
from did_methods.did import DIDURL
from did_methods.errors import InvalidDID, ParseError, SSIWalletError, VerificationError
from did_methods.keys import PrivateKey

__all__ = [
    "VC_JWT_MEDIA_TYPE",
    "CredentialStatusChecker",
    "VCJoseError",
    "envelope_vc_jwt",
    "issue_vc_jwt",
    "issue_vp_jwt",
    "verify_jwt",
    "verify_vc_jwt",
    "verify_vp_jwt",
]

#: Checks a verified credential's ``credentialStatus`` (called with the
#: credential) and returns the ``status`` check; see :func:`verify_vc_jwt`.
CredentialStatusChecker: TypeAlias = Callable[[Mapping[str, Any]], Check]

#: The media type of a credential secured as a compact JWS.
VC_JWT_MEDIA_TYPE: Final = "application/vc+jwt"
VC_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
_DATA_PREFIX = f"data:{VC_JWT_MEDIA_TYPE},"
#: Most credentials one presentation may envelope.
MAX_ENVELOPED: Final = 100
#: Longest token we accept (characters).
MAX_TOKEN_LENGTH: Final = 1_000_000


class VCJoseError(ParseError):
    """A credential, presentation or token that cannot be secured or read as VC-JOSE."""


# -- helpers --------------------------------------------------------------------------


def _issuer_id(credential: Mapping[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def _holder_id(presentation: Mapping[str, Any]) -> str | None:
    holder = presentation.get("holder")
    if isinstance(holder, Mapping):
        holder = holder.get("id")
    return holder if isinstance(holder, str) else None


def _subject_id(credential: Mapping[str, Any]) -> str | None:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    if isinstance(subject, Mapping) and isinstance(subject.get("id"), str):
        return str(subject["id"])
    return None


def _epoch(value: Any, name: str) -> int:
    """An XML Schema dateTimeStamp (timezone required) as seconds since the epoch."""
    try:
        return int(parse_datetime(value).timestamp())
    except ParseError as exc:
        raise VCJoseError(f"{name}: {exc}") from exc


def _check_data_model(document: Mapping[str, Any], kind: str) -> Credential | Presentation:
    """VC Data Model 2.0 validation (:mod:`credentials.model`); raises ValidationError."""
    if kind == "VerifiableCredential":
        return Credential.from_json(document)
    return Presentation.from_json(document)


def _check_context(document: Mapping[str, Any], kind: str) -> None:
    ctx = document.get("@context")
    if not isinstance(ctx, list) or not ctx or ctx[0] != VC_CONTEXT:
        raise VCJoseError(f"@context must be a list starting with {VC_CONTEXT}")
    types = document.get("type")
    types = [types] if isinstance(types, str) else types
    if not isinstance(types, list) or kind not in types:
        raise VCJoseError(f"type must include {kind}")


def _derived_claims(credential: Mapping[str, Any]) -> dict[str, Any]:
    """The registered JWT claims that mirror the credential's own properties.

    Only ``iss``/``issuer``, ``jti``/``id`` and ``sub``/``credentialSubject.id``
    mirror it (VC-JOSE-COSE, "JOSE Header Parameters and JWT Claims"):
    ``iat``, ``nbf`` and ``exp`` are the times of the signature, not the
    credential's ``validFrom``/``validUntil``.
    """
    claims: dict[str, Any] = {}
    issuer = _issuer_id(credential)
    if issuer is None:
        raise VCJoseError("the credential needs an issuer (a URL or an object with id)")
    claims["iss"] = issuer
    if isinstance(credential.get("id"), str):
        claims["jti"] = credential["id"]
    subject = _subject_id(credential)
    if subject is not None:
        claims["sub"] = subject
    return claims


def _sign(payload: Mapping[str, Any], key: PrivateKey, *, typ: str, cty: str, kid: str) -> str:
    # sign_compact sets alg from the key (UnsupportedError for X25519); dumps
    # refuses what JSON cannot hold, reported as VCJoseError (a ParseError)
    try:
        body = dumps(payload)
    except ParseError as exc:
        raise VCJoseError(f"the payload cannot be serialised: {exc}") from exc
    return sign_compact({"typ": typ, "cty": cty, "kid": kid}, body, key)


def _check_signer(key: Any, kid: Any) -> None:
    if not isinstance(key, PrivateKey):
        raise VCJoseError("key must be a did_methods.keys.PrivateKey")
    if not isinstance(kid, str):
        raise VCJoseError("kid must be a DID URL string")


def _check_kid_for(kid: str, did: str) -> None:
    if not did.startswith("did:"):
        # a URL issuer: its verifiers find ``kid`` in the key set they hold for it
        # (credentials.keysets.IssuerKeys); any non-empty kid names a key there
        if not kid:
            raise VCJoseError("kid must name a key of the issuer's key set")
        return
    try:
        absolute_kid(kid, did)
    except VerificationError as exc:
        raise VCJoseError(
            f"kid {kid[:80]!r} does not name a key of {did[:80]}: {exc.message}"
        ) from exc


# -- issuance -------------------------------------------------------------------------


def issue_vc_jwt(
    credential: Mapping[str, Any],
    key: PrivateKey,
    *,
    kid: str,
    now: datetime | None = None,
) -> str:
    """Secure a VC Data Model 2.0 credential as a ``vc+jwt`` compact JWS.

    The payload is the credential plus ``iss``, ``jti`` and ``sub`` mirroring
    it and ``iat`` = ``now``, the signing time; ``validFrom``/``validUntil``
    stay the credential's own and become no ``nbf``/``exp``. ``kid`` must be a DID URL of the
    issuer's DID (or, for an issuer that is a URL, the ``kid`` of its key in the
    JWK Set its verifiers hold). Raises :class:`VCJoseError` for a credential without the v2
    context, the ``VerifiableCredential`` type, an issuer, with a ``vc``
    claim or JWT claims that contradict it, or a ``kid`` of another DID;
    :class:`~credentials.errors.ValidationError` (every violation listed) for
    one that breaks VC Data Model 2.0; :class:`UnsupportedError` for a key
    that cannot sign.
    """
    if not isinstance(credential, Mapping):
        raise VCJoseError("a credential must be a JSON object")
    _check_signer(key, kid)
    _check_context(credential, "VerifiableCredential")
    _check_data_model(credential, "VerifiableCredential")
    if "vc" in credential or "vp" in credential:
        raise VCJoseError("the claims 'vc' and 'vp' must not be present (VC-JOSE-COSE 3.1.2)")
    derived = _derived_claims(credential)
    _check_kid_for(kid, derived["iss"])
    for name, value in derived.items():
        if name in credential and credential[name] != value:
            raise VCJoseError(f"claim {name!r} contradicts the credential")
    payload = {**credential, **derived}
    payload["iat"] = int(instant(now).timestamp())
    return _sign(payload, key, typ="vc+jwt", cty="vc", kid=kid)


def envelope_vc_jwt(token: str) -> dict[str, Any]:
    """An ``EnvelopedVerifiableCredential`` holding ``token`` as a ``data:`` URL."""
    return {
        "@context": VC_CONTEXT,
        "id": _DATA_PREFIX + token,
        "type": "EnvelopedVerifiableCredential",
    }


def issue_vp_jwt(
    presentation: Mapping[str, Any] | None,
    key: PrivateKey,
    *,
    kid: str,
    credentials: Iterable[str] = (),
    nonce: str | None = None,
    audience: str | None = None,
    now: datetime | None = None,
) -> str:
    """Secure a presentation as a ``vp+jwt`` compact JWS signed by the holder.

    ``presentation`` may be None (a minimal one is built); its ``holder``
    defaults to the DID of ``kid``, which must be a DID URL of the holder.
    Each token in ``credentials`` (a ``vc+jwt``) is appended as an
    ``EnvelopedVerifiableCredential``. ``nonce`` and ``audience`` (the
    verifier's challenge and domain) become the ``nonce`` and ``aud``
    claims; ``iat`` is ``now``. Raises :class:`VCJoseError` as
    :func:`issue_vc_jwt` does.
    """
    _check_signer(key, kid)
    if presentation is not None and not isinstance(presentation, Mapping):
        raise VCJoseError("a presentation must be a JSON object")
    base: dict[str, Any] = dict(presentation) if presentation is not None else {}
    base.setdefault("@context", [VC_CONTEXT])
    base.setdefault("type", ["VerifiablePresentation"])
    _check_context(base, "VerifiablePresentation")
    _check_data_model(base, "VerifiablePresentation")
    if "vc" in base or "vp" in base:
        raise VCJoseError("the claims 'vc' and 'vp' must not be present (VC-JOSE-COSE 3.1.2)")
    holder = _holder_id(base)
    if holder is None:
        try:
            holder = str(_kid_did(kid))
        except InvalidDID as exc:
            raise VCJoseError(f"kid is not a DID URL: {exc}") from exc
        base["holder"] = holder
    _check_kid_for(kid, holder)
    envelopes = [envelope_vc_jwt(t) for t in credentials]
    if envelopes:
        existing = base.get("verifiableCredential", [])
        existing = existing if isinstance(existing, list) else [existing]
        base["verifiableCredential"] = [*existing, *envelopes]
    base["iss"] = holder
    if nonce is not None:
        base["nonce"] = nonce
    if audience is not None:
        base["aud"] = audience
    base["iat"] = int(instant(now).timestamp())
    return _sign(base, key, typ="vp+jwt", cty="vp", kid=kid)


def _kid_did(kid: str) -> str:
    return str(DIDURL.parse(kid).did)


# -- verification ---------------------------------------------------------------------


def _media_type_ok(value: Any, expected: str) -> bool:
    # RFC 7515 4.1.9: "application/" may be omitted from typ and cty.
    return value in (expected, "application/" + expected)


def _validity(payload: Mapping[str, Any], now: float, leeway: float) -> Check:
    name = "validity_period"
    for claim in ("iat", "nbf", "exp"):
        value = payload.get(claim)
        if value is not None and not is_numeric_date(value):
            return Check.failed(name, "claims_invalid", f"'{claim}' is not a NumericDate")
    try:
        valid_from = _epoch(payload["validFrom"], "validFrom") if "validFrom" in payload else None
        valid_until = (
            _epoch(payload["validUntil"], "validUntil") if "validUntil" in payload else None
        )
    except VCJoseError as exc:
        return Check.failed(name, "claims_invalid", str(exc))
    # the token's own times get the clock skew; the credential's validity period none
    ends = [t + leeway for t in (payload.get("exp"),) if t is not None]
    ends += [valid_until] if valid_until is not None else []
    starts = [t - leeway for t in (payload.get("nbf"),) if t is not None]
    starts += [valid_from] if valid_from is not None else []
    if any(now >= end for end in ends):
        return Check.failed(name, "expired", f"expired at {iso_instant(min(ends))}")
    if any(now < start for start in starts):
        return Check.failed(name, "not_yet_valid", f"not valid before {iso_instant(max(starts))}")
    iat = payload.get("iat")
    if iat is not None and now < iat - leeway:
        return Check.failed(name, "not_yet_valid", f"issued in the future ({iso_instant(iat)})")
    until = f" (until {iso_instant(min(ends))})" if ends else ""
    return Check.passed(name, f"valid at the given time{until}")


def _consistency(payload: Mapping[str, Any], kind: str) -> tuple[Check, Any]:
    """The ``claims_consistency`` check, and the validated document when it passed.

    The validated :class:`Credential` (or :class:`Presentation`) is handed back so
    that the caller reads its typed fields without validating the payload twice.
    """
    name = "claims_consistency"
    if "vc" in payload or "vp" in payload:
        return Check.failed(name, "claims_invalid", "'vc'/'vp' claims are not allowed"), None
    try:
        _check_context(payload, kind)
        model = _check_data_model(payload, kind)
        if kind == "VerifiableCredential":
            derived = _derived_claims(payload)
        else:
            holder = _holder_id(payload)
            derived = {"iss": holder} if holder is not None else {}
    except (VCJoseError, ValidationError) as exc:
        return Check.failed(name, "credential_invalid", str(exc)), None
    for claim, value in derived.items():
        if claim in payload and payload[claim] != value:
            return Check.failed(
                name, "claims_inconsistent", f"JWT claim {claim!r} contradicts the document"
            ), None
    return Check.passed(name, "JWT claims agree with the document"), model


def _parse_jws(token: str) -> CompactJWS:
    try:
        return CompactJWS.parse(token, max_length=MAX_TOKEN_LENGTH)
    except ParseError as exc:
        raise VCJoseError(f"not a compact JWS: {exc}") from exc


def _verify_jws(
    jws: CompactJWS,
    resolver: MethodResolver,
    *,
    typ: str,
    cty: str,
    kind: str,
    purpose: str,
    checks: list[Check],
) -> tuple[CompactJWS, str | None] | None:
    """Steps 1-3 shared by credentials and presentations; None when a step failed."""
    payload = jws.payload
    signer = _issuer_id(payload) if kind == "VerifiableCredential" else _holder_id(payload)
    # 1. header: typ and cty
    if not _media_type_ok(jws.header.get("typ"), typ):
        checks.append(Check.failed("syntax", "typ_invalid", f"typ must be {typ}"))
        return None
    if "cty" in jws.header and not _media_type_ok(jws.header["cty"], cty):
        checks.append(Check.failed("syntax", "typ_invalid", f"cty must be {cty}"))
        return None
    checks.append(Check.passed("syntax", f"a well-formed {typ}"))
    # 2-3. algorithm allow-list, kid and key authorisation, signature
    if not signed_by(jws, resolver, signer, purpose, checks):
        return None
    return jws, signer


def signed_by(
    jws: CompactJWS,
    resolver: MethodResolver,
    signer: str | None,
    purpose: str,
    checks: list[Check],
) -> bool:
    """Check that ``signer``'s key, authorised for ``purpose``, signed ``jws``.

    The steps every JWT-secured W3C credential or presentation shares (VC-JOSE
    here, the VC Data Model 1.1 JWT of :mod:`credentials.jwt_vc`): the ``alg``
    against the allow-list before any key is looked up; ``kid`` a DID URL of
    ``signer`` (or, for a URL issuer, a key of its key set) whose method
    ``signer`` lists under ``purpose``; an ``alg`` that fits that key; the
    signature. Appends the ``key_authorisation`` and ``signature`` checks
    (the failed one with its code and no later one) and returns whether both
    held.
    """
    try:
        alg_key_type = check_alg(jws.alg)
        if signer is None:
            raise VerificationError("key_unresolved", f"the document names no {purpose} DID")
        key_sets = issuer_key_source(resolver)
        if key_sets is not None and not signer.startswith("did:"):
            # a URL signer: its key is the one ``kid`` names in its own key set
            method = key_sets.issuer_key(signer, jws.header.get("kid"), purpose)
            kid, key = method.id, method_key(method)
        else:
            kid = absolute_kid(jws.header.get("kid"), signer)
            key = resolve_key(resolver, kid, purpose)
        check_alg(jws.alg, key)
    except VerificationError as exc:
        name = "signature" if exc.code.startswith("alg_") else "key_authorisation"
        checks.append(Check.failed(name, exc.code, exc.message))
        return False
    checks.append(
        Check.passed("key_authorisation", f"{kid[:120]} is authorised for {purpose}", kid=kid)
    )
    # the signature, over the token already parsed (a second parse cost more
    # than the signature check: issue 7's profile)
    try:
        jws.verify(key)
    except VerificationError as exc:
        checks.append(Check.failed("signature", exc.code, exc.message))
        return False
    checks.append(
        Check.passed("signature", f"{jws.alg} signature by a {alg_key_type.value} key verified")
    )
    return True


def status_check(
    credential: Mapping[str, Any], status_checker: CredentialStatusChecker | None
) -> Check:
    """The ``status`` check of a verified JWT credential, failing closed.

    Skipped without a ``credentialStatus``; with one, ``status_checker``'s
    answer, or ``status_unavailable`` when there is no checker or it raised.
    """
    if "credentialStatus" not in credential:
        return Check.skipped("status", "the credential has no credentialStatus")
    if status_checker is None:
        return Check.failed(
            "status",
            "status_unavailable",
            "the credential has a credentialStatus but no status checker was given",
        )
    try:
        return status_checker(credential)
    except SSIWalletError as exc:
        return Check.failed("status", "status_unavailable", str(exc))


def verify_vc_jwt(
    token: str,
    resolver: MethodResolver,
    *,
    now: datetime | None = None,
    leeway: float = DEFAULT_CLOCK_SKEW,
    status_checker: CredentialStatusChecker | None = None,
) -> VerificationResult:
    """Verify a ``vc+jwt`` and return every check (format ``vc+jwt``), never a bare bool.

    Steps: 1 ``typ``/``cty``; 2 ``alg`` allow-list, then ``kid`` a DID URL of
    the credential's ``issuer`` authorised for ``assertionMethod`` (through
    ``resolver``) and an ``alg`` that fits that key; 3 the signature;
    4 JWT claims consistent with the credential; 5 validity (``nbf``/``exp``
    and ``validFrom``/``validUntil`` at ``now``); 6 status: a credential with
    a ``credentialStatus`` is passed to ``status_checker`` (which returns the
    ``status`` check), and without one fails with ``status_unavailable``
    (status fails closed). ``document`` is the credential when every check
    held, else None and ``unverified_document`` is the payload as read; the
    typed fields (kind credential, issuer, types, subject, claims, validity)
    are filled when every check held. Raises :class:`VCJoseError`
    only when ``token`` is not a compact JWS with JSON header and payload.
    """
    checks: list[Check] = []
    at = instant(now)
    unverified = _parse_jws(token)
    verified = _verify_jws(
        unverified,
        resolver,
        typ="vc+jwt",
        cty="vc",
        kind="VerifiableCredential",
        purpose="assertionMethod",
        checks=checks,
    )
    if verified is None:
        return VerificationResult.of("vc+jwt", checks, document=unverified.payload)
    jws, _ = verified
    consistency, credential = _consistency(jws.payload, "VerifiableCredential")
    checks.append(consistency)
    checks.append(_validity(jws.payload, at.timestamp(), leeway))
    # 6. status, once the signature held (fail closed)
    checks.append(status_check(jws.payload, status_checker))
    typed: dict[str, Any] = {}
    if isinstance(credential, Credential):  # the claims_consistency check passed
        typed = credential.typed_fields()
    return VerificationResult.of("vc+jwt", checks, document=jws.payload, **typed)


def _enveloped(item: Any) -> str | None:
    if not isinstance(item, Mapping):
        return None
    types = item.get("type")
    types = [types] if isinstance(types, str) else types
    ident = item.get("id")
    if not isinstance(types, list) or "EnvelopedVerifiableCredential" not in types:
        return None
    if not isinstance(ident, str) or not ident.startswith(_DATA_PREFIX):
        return None
    return ident[len(_DATA_PREFIX) :]


def verify_vp_jwt(
    token: str,
    resolver: MethodResolver,
    *,
    now: datetime | None = None,
    nonce: str | None = None,
    audience: str | None = None,
    max_age: float | None = 300,
    leeway: float = DEFAULT_CLOCK_SKEW,
    status_checker: CredentialStatusChecker | None = None,
) -> VerificationResult:
    """Verify a ``vp+jwt`` and the credentials it envelopes (format ``vp+jwt``).

    Steps 1-3 as :func:`verify_vc_jwt` but for the ``holder``, whose key must
    be authorised for ``authentication``; 4 claims consistency; 5 ``nonce``
    and ``aud`` equal the expected values when given (``nonce_mismatch``,
    ``audience_mismatch``); 6 validity, and with ``max_age`` an ``iat`` no
    older than that (``presentation_stale``); 7 every
    ``EnvelopedVerifiableCredential`` (``data:application/vc+jwt,...``) is
    verified with :func:`verify_vc_jwt` (a check ``credential[i]`` each;
    another credential form fails as ``credential_format_unsupported``), with
    ``status_checker`` for their status. When every check held the result is
    of kind presentation, ``holder`` set, ``issuer`` None and ``credentials``
    the enveloped credentials' results. Raises :class:`VCJoseError` only for a
    token that is not a compact JWS.
    """
    checks: list[Check] = []
    at = instant(now)
    unverified = _parse_jws(token)
    verified = _verify_jws(
        unverified,
        resolver,
        typ="vp+jwt",
        cty="vp",
        kind="VerifiablePresentation",
        purpose="authentication",
        checks=checks,
    )
    if verified is None:
        return VerificationResult.of("vp+jwt", checks, document=unverified.payload)
    jws, holder = verified
    payload = jws.payload
    checks.append(_consistency(payload, "VerifiablePresentation")[0])
    # 5. challenge and domain
    if nonce is None and audience is None:
        checks.append(Check.skipped("holder_binding", "no nonce or audience was expected"))
    elif nonce is not None and payload.get("nonce") != nonce:
        checks.append(Check.failed("holder_binding", "nonce_mismatch", "nonce differs"))
    elif audience is not None and not (
        payload.get("aud") == audience
        or (isinstance(payload.get("aud"), list) and audience in payload["aud"])
    ):
        checks.append(Check.failed("holder_binding", "audience_mismatch", "aud differs"))
    else:
        checks.append(Check.passed("holder_binding", "nonce and audience as expected"))
    # 6. validity and freshness
    seconds = at.timestamp()
    validity = _validity(payload, seconds, leeway)
    iat = payload.get("iat")
    if validity.status == "passed" and max_age is not None:
        if not isinstance(iat, int | float) or isinstance(iat, bool):
            validity = Check.failed("validity_period", "claims_invalid", "no numeric 'iat'")
        elif iat < seconds - max_age - leeway:
            validity = Check.failed("validity_period", "presentation_stale", "iat is too old")
    checks.append(validity)
    # 7. enveloped credentials
    items = payload.get("verifiableCredential", [])
    items = items if isinstance(items, list) else [items]
    if len(items) > MAX_ENVELOPED:
        checks.append(Check.failed("credentials", "too_many_credentials", "too many credentials"))
        items = []
    verified_credentials: list[VerificationResult] = []
    for index, item in enumerate(items):
        name = f"credential[{index}]"
        inner = _enveloped(item)
        if inner is None:
            checks.append(
                Check.failed(name, "credential_format_unsupported", "not an enveloped vc+jwt")
            )
            continue
        try:
            result = verify_vc_jwt(
                inner, resolver, now=at, leeway=leeway, status_checker=status_checker
            )
        except SSIWalletError as exc:
            checks.append(Check.failed(name, "credential_invalid", str(exc)))
            continue
        if result.ok:
            verified_credentials.append(result)
            checks.append(Check.passed(name, f"vc+jwt from {result.issuer}", issuer=result.issuer))
        else:
            checks.append(
                Check.failed(
                    name,
                    result.codes[0],
                    f"vc+jwt: {result.failures[0].message}",
                    codes=list(result.codes),
                )
            )
    return VerificationResult.of(
        "vp+jwt",
        checks,
        document=payload,
        kind="presentation",
        holder=holder,
        credentials=verified_credentials,
    )


def verify_jwt(
    token: str,
    resolver: MethodResolver,
    *,
    now: datetime | None = None,
    nonce: str | None = None,
    audience: str | None = None,
    leeway: float = DEFAULT_CLOCK_SKEW,
    status_checker: CredentialStatusChecker | None = None,
) -> VerificationResult:
    """Verify a ``vc+jwt`` or a ``vp+jwt``, chosen by its (unverified) ``typ`` header.

    A presentation gets ``nonce`` and ``audience`` as expected values; a
    credential ignores them. A token of any other ``typ`` is verified as a
    credential, and so fails with ``typ_invalid``. Raises
    :class:`VCJoseError` only for text that is not a compact JWS.
    """
    try:
        header = CompactJWS.parse(token, max_length=MAX_TOKEN_LENGTH).header
    except ParseError as exc:
        raise VCJoseError(f"not a compact JWS: {exc}") from exc
    if _media_type_ok(header.get("typ"), "vp+jwt"):
        return verify_vp_jwt(
            token,
            resolver,
            now=now,
            nonce=nonce,
            audience=audience,
            leeway=leeway,
            status_checker=status_checker,
        )
    return verify_vc_jwt(token, resolver, now=now, leeway=leeway, status_checker=status_checker)
