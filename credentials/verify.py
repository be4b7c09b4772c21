"""One entry point to verify any credential or presentation we support, and one to issue.

:func:`verify` looks at what it is given and picks the securing format:

* a JSON object (a ``Mapping``, or text starting with ``{``): W3C VC Data
  Model 2.0 secured with Data Integrity (``eddsa-jcs-2022``,
  ``ecdsa-jcs-2019``); a presentation's embedded credentials are verified
  too and their checks reported with the prefix ``credential[i].``;
* text with ``~`` separators: an SD-JWT VC (:mod:`credentials.sd_jwt`);
* a compact JWS (three base64url parts): VC-JOSE ``vc+jwt`` / ``vp+jwt``
  (:mod:`credentials.jose`), chosen by its ``typ`` header;
* text starting with ``VC1:``: an offline barcode (CWT in COSE_Sign1, zlib,
  base45; :mod:`credentials.barcode`), its key found through ``barcode_keys``
  (a trust list) or the resolver.

It returns a :class:`~credentials.result.VerificationResult` listing every
check with a stable code (see ``docs/credentials.md``). It raises only for
input it cannot read at all (a :class:`~credentials.errors.ParseError`) or
for misuse (a naive ``now``); a forged, expired or revoked credential is a
*result* with ``valid == False``, never an exception.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, Literal

from credentials import barcode, jose, schemas, sd_jwt
from credentials.data_integrity import (
    ECDSA_JCS_2019,
    EDDSA_JCS_2022,
    STEP_OF_CODE,
    MethodResolver,
    add_proof,
    verify_proof,
)
from credentials.errors import ParseError, UnsupportedError, ValidationError, VerificationError
from credentials.jcs import loads_strict
from credentials.model import Credential, Presentation
from credentials.result import Check, VerificationResult
from credentials.status_list import (
    StatusListFetcher,
    StatusListResolver,
    check_status,
)
from credentials.token_status_list import TokenStatusListResolver, token_status_checker_for
from did_methods.keys import KeyType, PrivateKey
from did_methods.resolver import Resolver

__all__ = ["IssueFormat", "issue", "verify"]

#: The formats :func:`issue` produces.
IssueFormat = Literal["di-eddsa", "di-ecdsa", "vc-jwt"]

_COMPACT_JWS: Final = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_MAX_TEXT: Final = 4 * 1024 * 1024
_MAX_EMBEDDED: Final = 64  # credentials in one presentation
_PROOF_CHECKS: Final = ("signature", "proof_purpose", "proof_options", "key_authorisation")
_STEP_ORDER_OF_CHECK: Final = {"proof_purpose": 1, "proof_options": 2, "key_authorisation": 3}
_STEP_ORDER: Final = {
    **{code: _STEP_ORDER_OF_CHECK.get(step, 0) for code, step in STEP_OF_CODE.items()},
    "key_type_mismatch": 4,
    "signature_invalid": 4,
}

_default_lock = threading.Lock()
_default_resolver: Resolver | None = None


def _resolver(resolver: MethodResolver | None) -> MethodResolver:
    global _default_resolver
    if resolver is not None:
        return resolver
    with _default_lock:
        if _default_resolver is None:
            _default_resolver = Resolver.default()
        return _default_resolver


def verify(
    data: str | bytes | Mapping[str, Any] | Credential | Presentation,
    *,
    resolver: MethodResolver | None = None,
    now: datetime | None = None,
    challenge: str | None = None,
    domain: str | None = None,
    nonce: str | None = None,
    audience: str | None = None,
    status_fetcher: StatusListResolver | TokenStatusListResolver | StatusListFetcher | None = None,
    check_schema: bool = True,
    barcode_keys: barcode.KeyLookup | None = None,
) -> VerificationResult:
    """Verify a credential or presentation in any supported format; see the module docstring.

    ``resolver`` dereferences verification methods (default: did:key, did:jwk
    and did:web through :meth:`Resolver.default`); ``now`` (aware, default the
    current time) is the instant validity is judged at; ``challenge`` and
    ``domain`` are what a Data Integrity presentation's proof must carry;
    ``nonce`` and ``audience`` are what a VC-JOSE/SD-JWT key binding must
    carry. ``status_fetcher`` reads status lists: a fetcher
    (``fetch(url, *, max_bytes, timeout, accept) -> bytes``, such as
    ``did_methods.http.HttpFetcher``) serves both a Data Integrity
    credential's Bitstring Status List and an SD-JWT VC's Token Status List;
    a :class:`~credentials.status_list.StatusListResolver` or a
    :class:`~credentials.token_status_list.TokenStatusListResolver` may be
    given instead to share its cache. Status fails closed: without a fetcher
    that can read it, a credential that names a status fails the ``status``
    check with ``status_unavailable``. ``check_schema`` runs the ``schema`` check
    when the credential names a ``credentialSchema``. ``barcode_keys`` is a
    trust list for offline barcodes whose issuers are not DIDs
    (``(kid, iss) -> PublicKey | None``); without it their keys are resolved.

    Raises :class:`~credentials.errors.ParseError` when ``data`` is not JSON,
    a JWS or an SD-JWT at all, and ``TypeError`` for a naive ``now``.
    """
    moment = datetime.now(UTC) if now is None else now
    if moment.tzinfo is None:
        raise TypeError("now must be an aware datetime")
    ctx = _Context(
        _resolver(resolver),
        moment,
        challenge,
        domain,
        nonce,
        audience,
        status_fetcher,
        check_schema,
    )
    if isinstance(data, Credential | Presentation):
        data = data.document
    if isinstance(data, Mapping):
        return _verify_json(data, ctx)
    if isinstance(data, bytes | bytearray):
        if len(data) > _MAX_TEXT:
            raise ParseError(f"input is longer than {_MAX_TEXT} bytes")
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError("input is not UTF-8 text") from exc
    if not isinstance(data, str):
        raise ParseError(
            f"cannot verify a {type(data).__name__}: give JSON text, a JWS or a Mapping"
        )
    if len(data) > _MAX_TEXT:
        raise ParseError(f"input is longer than {_MAX_TEXT} characters")
    text = data.strip()
    if text.startswith(barcode.DEFAULT_PREFIX):
        # An offline barcode: ':' cannot occur in JSON-first text, a JWS or an SD-JWT.
        return barcode.verify_barcode(text, barcode_keys or ctx.resolver, now=moment)
    if text.startswith("{"):
        document = loads_strict(text)
        return _verify_json(document, ctx)
    if "~" in text:
        return _verify_sd_jwt(text, ctx)
    if _COMPACT_JWS.fullmatch(text):
        return _verify_jose(text, ctx)
    raise ParseError("input is neither a JSON object, a compact JWS nor an SD-JWT")


class _Context:
    __slots__ = (
        "audience",
        "challenge",
        "check_schema",
        "domain",
        "nonce",
        "now",
        "resolver",
        "status_fetcher",
    )

    def __init__(
        self,
        resolver: MethodResolver,
        now: datetime,
        challenge: str | None,
        domain: str | None,
        nonce: str | None,
        audience: str | None,
        status_fetcher: StatusListResolver | TokenStatusListResolver | StatusListFetcher | None,
        check_schema: bool,
    ) -> None:
        self.resolver = resolver
        self.now = now
        self.challenge = challenge
        self.domain = domain
        self.nonce = nonce
        self.audience = audience
        self.status_fetcher = status_fetcher
        self.check_schema = check_schema


def _types(document: Mapping[str, Any]) -> list[Any]:
    value = document.get("type")
    return [value] if isinstance(value, str) else value if isinstance(value, list) else []


def _format_of(document: Mapping[str, Any]) -> str:
    raw = document.get("proof")
    proofs = raw if isinstance(raw, list) else [raw]
    suites = {
        p.get("cryptosuite")
        for p in proofs
        if isinstance(p, Mapping) and isinstance(p.get("cryptosuite"), str)
    }
    if len(suites) == 1:
        suite = next(iter(suites))
        if suite in (EDDSA_JCS_2022, ECDSA_JCS_2019):
            return f"di-{suite}"
    return "data-integrity"


def _verify_json(document: Any, ctx: _Context) -> VerificationResult:
    if not isinstance(document, Mapping):
        raise ParseError("a credential or presentation must be a JSON object")
    if "VerifiablePresentation" in _types(document):
        return _verify_presentation(document, ctx)
    return _verify_credential(document, ctx)


def _skipped_after(failed: str, names: Sequence[str]) -> list[Check]:
    return [Check.skipped(n, f"not run: {failed} failed") for n in names]


def _proof_checks(
    document: Mapping[str, Any],
    ctx: _Context,
    *,
    purpose: str,
    challenge: str | None,
    domain: str | None,
) -> list[Check]:
    """The four proof checks; a failure names its step, the others are not concluded."""
    try:
        verified = verify_proof(
            document,
            ctx.resolver,
            expected_purpose=purpose,
            challenge=challenge,
            domain=domain,
            now=ctx.now,
        )
    except VerificationError as exc:
        step = STEP_OF_CODE.get(exc.code, "signature")
        # verify_proof runs: proof syntax, purpose, options, key, signature; so a
        # failure at one step means the steps before it held for that proof.
        order = _STEP_ORDER.get(exc.code, 0)
        checks = []
        for name in _PROOF_CHECKS:
            if name == step:
                checks.append(Check.failed(name, exc.code, exc.message))
            elif name != "signature" and _STEP_ORDER_OF_CHECK[name] < order:
                checks.append(Check.passed(name, "held for the proof that failed"))
            else:
                checks.append(Check.skipped(name, f"not concluded: {step} failed"))
        return checks
    methods = [v.verification_method.id for v in verified]
    controllers = sorted({v.controller for v in verified})
    count = f"{len(verified)} proof{'s' if len(verified) != 1 else ''}"
    return [
        Check.passed("signature", f"{count} verified", verification_methods=methods),
        Check.passed("proof_purpose", f"every proof is for {purpose}"),
        Check.passed("proof_options", "challenge, domain and proof times acceptable"),
        Check.passed(
            "key_authorisation",
            f"keys authorised for {purpose} by {', '.join(controllers)}",
            controllers=controllers,
        ),
    ]


def _verify_credential(document: Mapping[str, Any], ctx: _Context) -> VerificationResult:
    # Steps: 1 syntax (data model); 2-5 proof (signature, purpose, options, key
    # authorisation incl. issuer binding); 6 validity period; 7 schema; 8 status.
    fmt = _format_of(document)
    issuer_value = document.get("issuer")
    if isinstance(issuer_value, Mapping):
        issuer_value = issuer_value.get("id")
    issuer = issuer_value if isinstance(issuer_value, str) else None
    checks: list[Check] = []
    # 1. syntax
    try:
        credential = Credential.from_json(document)
    except ValidationError as exc:
        checks.append(
            Check.failed(
                "syntax",
                "invalid_credential",
                str(exc),
                errors=[{"path": p, "message": m} for p, m in exc.errors],
            )
        )
        checks += _skipped_after("syntax", (*_PROOF_CHECKS, "validity_period", "schema", "status"))
        return VerificationResult.of(fmt, checks, document=document, issuer=issuer)
    checks.append(Check.passed("syntax", "a VC Data Model 2.0 credential"))
    # 2-5. proofs
    checks += _proof_checks(document, ctx, purpose="assertionMethod", challenge=None, domain=None)
    # 6. validity period
    checks.append(credential.check_validity_period(ctx.now))
    # 7. schema
    checks.append(_schema_check(document, ctx))
    # 8. status
    checks.append(_status_check(document, ctx))
    return VerificationResult.of(fmt, checks, document=document, issuer=credential.issuer)


def _verify_presentation(document: Mapping[str, Any], ctx: _Context) -> VerificationResult:
    # Steps: 1 syntax; 2-5 the presentation's proof (purpose authentication,
    # challenge and domain, holder binding); 6 each embedded credential in full.
    fmt = _format_of(document)
    checks: list[Check] = []
    try:
        presentation = Presentation.from_json(document)
    except ValidationError as exc:
        checks.append(
            Check.failed(
                "syntax",
                "invalid_presentation",
                str(exc),
                errors=[{"path": p, "message": m} for p, m in exc.errors],
            )
        )
        checks += _skipped_after("syntax", _PROOF_CHECKS)
        return VerificationResult.of(fmt, checks, document=document)
    checks.append(Check.passed("syntax", "a VC Data Model 2.0 presentation"))
    checks += _proof_checks(
        document, ctx, purpose="authentication", challenge=ctx.challenge, domain=ctx.domain
    )
    embedded = presentation.credentials
    if len(embedded) > _MAX_EMBEDDED:
        checks.append(
            Check.failed("syntax", "too_many_credentials", f"more than {_MAX_EMBEDDED} credentials")
        )
        embedded = embedded[:_MAX_EMBEDDED]
    for i, credential in enumerate(embedded):
        inner = _verify_embedded(credential, ctx)
        for check in inner.checks:
            checks.append(
                Check(
                    f"credential[{i}].{check.name}",
                    check.status,
                    check.code,
                    check.message,
                    check.details,
                )
            )
    return VerificationResult.of(fmt, checks, document=document, issuer=presentation.holder)


def _verify_embedded(credential: Mapping[str, Any], ctx: _Context) -> VerificationResult:
    if "EnvelopedVerifiableCredential" in _types(credential):
        ident = credential.get("id")
        prefix = "data:application/vc+jwt,"
        if isinstance(ident, str) and ident.startswith(prefix):
            try:
                return jose.verify_vc_jwt(ident[len(prefix) :], ctx.resolver, now=ctx.now)
            except ParseError as exc:
                return VerificationResult.of(
                    "vc+jwt", [Check.failed("syntax", "invalid_credential", str(exc))]
                )
        return VerificationResult.of(
            "enveloped",
            [Check.failed("syntax", "format_unsupported", "unsupported enveloped credential")],
        )
    inner_ctx = _Context(
        ctx.resolver, ctx.now, None, None, None, None, ctx.status_fetcher, ctx.check_schema
    )
    return _verify_credential(credential, inner_ctx)


# -- delegated checks ------------------------------------------------------------------


def _schema_check(document: Mapping[str, Any], ctx: _Context) -> Check:
    if not ctx.check_schema:
        return Check.skipped("schema", "schema checking was not asked for")
    if "credentialSchema" not in document:
        return Check.skipped("schema", "the credential names no credentialSchema")
    return schemas.check_schema(document)


def _status_resolver(
    fetcher: StatusListResolver | StatusListFetcher, ctx: _Context
) -> StatusListResolver:
    if isinstance(fetcher, StatusListResolver):
        return fetcher

    def verify_list(list_credential: Mapping[str, Any]) -> VerificationResult:
        return verify(
            dict(list_credential),
            resolver=ctx.resolver,
            now=ctx.now,
            check_schema=False,
        )

    resolver = StatusListResolver(fetcher, verify_credential=verify_list, clock=lambda: ctx.now)
    ctx.status_fetcher = resolver  # one cache for the credentials of one presentation
    return resolver


def _status_check(document: Mapping[str, Any], ctx: _Context) -> Check:
    if "credentialStatus" not in document:
        return Check.skipped("status", "the credential has no credentialStatus")
    fetcher = ctx.status_fetcher
    if fetcher is None:
        return Check.failed(
            "status",
            "status_unavailable",
            "the credential has a credentialStatus but no status_fetcher was given",
        )
    if isinstance(fetcher, TokenStatusListResolver):
        return Check.failed(
            "status",
            "status_unavailable",
            "a TokenStatusListResolver cannot read a Bitstring Status List: pass a fetcher",
        )
    return check_status(document, _status_resolver(fetcher, ctx), now=ctx.now)


def _verify_sd_jwt(text: str, ctx: _Context) -> VerificationResult:
    # An SD-JWT VC's ``status`` claim names an IETF Token Status List: the
    # status fetcher (or a TokenStatusListResolver given as such) checks it.
    parsed = sd_jwt.SdJwt.parse(text)
    checker = None
    fetcher = ctx.status_fetcher
    if isinstance(fetcher, TokenStatusListResolver):
        checker = token_status_checker_for(parsed, fetcher, now=ctx.now)
    elif fetcher is not None and not isinstance(fetcher, StatusListResolver):
        resolver = TokenStatusListResolver(fetcher, ctx.resolver, clock=lambda: ctx.now)
        ctx.status_fetcher = resolver
        checker = token_status_checker_for(parsed, resolver, now=ctx.now)
    result = sd_jwt.verify_sd_jwt(
        parsed,
        ctx.resolver,
        now=ctx.now.timestamp(),
        nonce=ctx.nonce,
        audience=ctx.audience,
        status_checker=checker,
    )
    if checker is None and parsed.unverified_payload.get("status") is not None:
        # fail closed, as for Data Integrity: a status we cannot check is no pass
        unavailable = Check.failed(
            "status",
            "status_unavailable",
            "the credential has a status but no status_fetcher that reads Token Status Lists",
        )
        checks = [unavailable if c.name == "status" else c for c in result.checks]
        return VerificationResult.of(
            result.format, checks, document=result.document, issuer=result.issuer
        )
    return result


def _verify_jose(text: str, ctx: _Context) -> VerificationResult:
    return jose.verify_jwt(text, ctx.resolver, now=ctx.now, nonce=ctx.nonce, audience=ctx.audience)


# -- issuing ---------------------------------------------------------------------------


def issue(
    credential: Mapping[str, Any],
    key: PrivateKey,
    *,
    verification_method: str,
    format: IssueFormat,
    now: datetime | None = None,
) -> dict[str, Any] | str:
    """Validate ``credential`` against the data model and secure it in ``format``.

    ``di-eddsa`` (Ed25519 key) and ``di-ecdsa`` (P-256/P-384 key) return the
    credential as a dict with a Data Integrity proof created at ``now``;
    ``vc-jwt`` returns a compact ``vc+jwt`` string (via :mod:`credentials.jose`).
    Raises :class:`~credentials.errors.ValidationError` for a credential that
    breaks the data model and :class:`~credentials.errors.UnsupportedError`
    for a key that does not fit the format or an unknown format.
    """
    Credential.from_json(credential)
    moment = datetime.now(UTC) if now is None else now
    if format == "di-eddsa" or format == "di-ecdsa":
        suite = EDDSA_JCS_2022 if format == "di-eddsa" else ECDSA_JCS_2019
        if format == "di-eddsa" and key.key_type is not KeyType.ED25519:
            raise UnsupportedError("di-eddsa needs an Ed25519 key")
        return add_proof(
            credential,
            key,
            verification_method=verification_method,
            created=moment,
            cryptosuite=suite,
        )
    if format == "vc-jwt":
        return jose.issue_vc_jwt(credential, key, kid=verification_method, now=moment)
    raise UnsupportedError(f"unknown format {format!r}: use di-eddsa, di-ecdsa or vc-jwt")
