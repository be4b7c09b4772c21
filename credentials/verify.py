"""Verify credentials and presentations in every format we support, and issue them.

Code that decides trust calls :func:`verify_credential` or
:func:`verify_presentation`: the caller names the format(s), the kind
(credential or presentation: one is never the other) and the credential type
it accepts, anything else is refused with a stable code (``format_unexpected``,
``not_a_credential``, ``not_a_presentation``, ``type_unexpected``), and issuer,
type, subject and claims are read from the result's typed fields, which are
set only when every check held. Status is checked for every format that
carries one and fails closed.

:func:`verify`, for display and diagnosis, looks at what it is given and picks
the securing format:

* a JSON object (a ``Mapping``, or text starting with ``{``): W3C VC Data
  Model 2.0 secured with Data Integrity (``eddsa-jcs-2022``,
  ``ecdsa-jcs-2019``); a presentation's embedded credentials are verified
  too and their checks reported with the prefix ``credential[i].``;
* text with ``~`` separators: an SD-JWT VC (:mod:`credentials.sd_jwt`);
* a compact JWS (three base64url parts): VC-JOSE ``vc+jwt`` / ``vp+jwt``
  (:mod:`credentials.jose`) when its ``typ`` header says so; otherwise a VC
  Data Model 1.1 JWT (:mod:`credentials.jwt_vc`, the ``jwt_vc_json`` of
  OpenID4VCI/OpenID4VP) when its claims carry a ``vc`` (credential) or
  ``vp`` (presentation) object. Both answer to the DCQL format name
  ``jwt_vc_json`` in :func:`verify_credential` / :func:`verify_presentation`;
  the result's ``format`` says which it was (``jwt_vc_json`` for the 1.1
  JWT, ``vc+jwt`` / ``vp+jwt`` for VC-JOSE);
* text starting with ``VC1:``: an offline barcode (CWT in COSE_Sign1, zlib,
  base45; :mod:`credentials.barcode`), its key found through ``barcode_keys``
  (a trust list) or the resolver.

It returns a :class:`~credentials.result.VerificationResult` listing every
check with a stable code (see ``docs/credentials.md``). It raises only for
input it cannot read at all (a :class:`~credentials.errors.ParseError`) or
for misuse (a naive ``now``); a forged, expired or revoked credential is a
*result* with ``ok == False``, never an exception.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

from credentials import jose, jwt_vc, schemas, sd_jwt
from credentials._jws import DEFAULT_CLOCK_SKEW, CompactJWS
from credentials.data_integrity import (
    ECDSA_JCS_2019,
    EDDSA_JCS_2022,
    STEP_OF_CODE,
    KeyControllerPolicy,
    MethodResolver,
    add_proof,
    verify_proof,
)
from credentials.errors import ParseError, UnsupportedError, ValidationError, VerificationError
from credentials.jcs import loads_strict
from credentials.jose import CredentialStatusChecker
from credentials.model import CREDENTIALS_V2_CONTEXT, Credential, Presentation
from credentials.result import Check, Kind, VerificationResult
from credentials.sd_jwt import StatusChecker
from credentials.status_list import (
    StatusListFetcher,
    StatusListResolver,
    check_status,
    check_status_entries,
)
from credentials.token_status_list import TokenStatusListResolver, token_status_checker
from did_methods._wire.dates import Clock, system_clock
from did_methods.keys import KeyType, PrivateKey
from did_methods.resolver import Resolver

if TYPE_CHECKING:
    from credentials import barcode

__all__ = [
    "CREDENTIAL_FORMATS",
    "PRESENTATION_FORMATS",
    "CredentialFormat",
    "IssueFormat",
    "PresentationFormat",
    "StatusResolvers",
    "StatusSource",
    "issue",
    "verify",
    "verify_credential",
    "verify_presentation",
]

#: The formats :func:`issue` produces.
IssueFormat = Literal["di-eddsa", "di-ecdsa", "vc-jwt"]

#: The credential formats :func:`verify_credential` tells apart, by their
#: OpenID4VP / DCQL names: SD-JWT VC (by its ``typ``), Data Integrity, ``vc+jwt``,
#: offline barcodes.
CredentialFormat = Literal["dc+sd-jwt", "vc+sd-jwt", "ldp_vc", "jwt_vc_json", "barcode"]
CREDENTIAL_FORMATS: Final = ("dc+sd-jwt", "vc+sd-jwt", "ldp_vc", "jwt_vc_json", "barcode")
#: ``credentials.barcode.DEFAULT_PREFIX``, here so detecting a barcode does not load the
#: barcode stack (a test keeps the two equal).
_BARCODE_PREFIX: Final = "VC1:"
#: The presentation formats :func:`verify_presentation` takes.
PresentationFormat = Literal["dc+sd-jwt", "vc+sd-jwt", "ldp_vc", "jwt_vc_json"]
PRESENTATION_FORMATS: Final = ("dc+sd-jwt", "vc+sd-jwt", "ldp_vc", "jwt_vc_json")
# A verified result's ``format`` -> its DCQL format (Data Integrity: ``di-...``).
_DCQL_FORMAT: Final = {
    "vc+jwt": "jwt_vc_json",
    "jwt_vc_json": "jwt_vc_json",
    "dc+sd-jwt": "dc+sd-jwt",
}

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
            # did:key and did:jwk only: a verify() without a resolver never
            # reaches the network (did:web needs an explicit Resolver.default()).
            _default_resolver = Resolver.offline()
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
    status_fetcher: StatusSource | None = None,
    check_schema: bool = True,
    barcode_keys: barcode.KeyLookup | None = None,
    key_controllers: KeyControllerPolicy | None = None,
    clock_skew: float = DEFAULT_CLOCK_SKEW,
) -> VerificationResult:
    """Verify a credential or presentation in any supported format; see the module docstring.

    For display and diagnosis: it *detects* what it was given, so code that
    decides trust must call :func:`verify_credential` or
    :func:`verify_presentation` instead, which pin the format, the kind and
    the credential type they accept.

    ``resolver`` dereferences verification methods (default:
    :meth:`Resolver.offline`, did:key and did:jwk, which never touches the
    network; a ``did:web`` issuer then fails with ``methodNotSupported`` until
    a resolver such as :meth:`Resolver.default` is given); ``now`` (aware, default the
    current time) is the instant validity is judged at; ``challenge`` and
    ``domain`` are what a Data Integrity presentation's proof must carry;
    ``nonce`` and ``audience`` are what a VC-JOSE/SD-JWT key binding must
    carry. ``status_fetcher`` reads status lists: a fetcher
    (``fetch(url, *, max_bytes, timeout, accept) -> bytes``, such as
    ``did_methods.http.HttpFetcher``) serves both the Bitstring Status Lists
    of Data Integrity and ``vc+jwt`` credentials and the Token Status Lists of
    SD-JWT VCs and barcodes; a
    :class:`~credentials.status_list.StatusListResolver`, a
    :class:`~credentials.token_status_list.TokenStatusListResolver` or both as
    :class:`StatusResolvers` may be given instead to share their caches.
    Status fails closed: without a fetcher that can read it, a credential
    that names a status fails the ``status`` check with
    ``status_unavailable``. ``check_schema`` runs the ``schema`` check when
    the credential names a ``credentialSchema``. ``barcode_keys`` is a trust
    list for offline barcodes whose issuers are not DIDs
    (``(kid, iss) -> PublicKey | None``); without it their keys are resolved.
    ``key_controllers`` (a
    :data:`~credentials.data_integrity.KeyControllerPolicy`, such as
    :class:`~credentials.data_integrity.AuthorisedControllers`) lets a Data
    Integrity credential be signed by a key whose controller is not its issuer
    when the policy says that issuer authorised it; without it the key must be
    the issuer's own.
    ``clock_skew`` (seconds, default 60) is tolerated on a token's or proof's
    own times in every format: ``iat``/``nbf``/``exp`` of a ``vc+jwt``,
    ``vp+jwt``, SD-JWT or barcode, a Key Binding JWT's ``iat``, a Data
    Integrity proof's ``created``/``expires``; a credential's
    ``validFrom``/``validUntil`` get none.

    Raises :class:`~credentials.errors.ParseError` when ``data`` is not JSON,
    a JWS or an SD-JWT at all, and ``TypeError`` for a naive ``now`` or a
    negative ``clock_skew``.
    """
    ctx = _context(resolver, now, status_fetcher, check_schema, challenge, domain, nonce, audience)
    ctx.key_controllers = key_controllers
    ctx.clock_skew = _skew(clock_skew)
    found = _detect(data)
    return _verify_detected(found, ctx, barcode_keys)


def _context(
    resolver: MethodResolver | None,
    now: datetime | None,
    status: StatusSource | None,
    check_schema: bool,
    challenge: str | None = None,
    domain: str | None = None,
    nonce: str | None = None,
    audience: str | None = None,
) -> _Context:
    moment = system_clock() if now is None else now
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise TypeError("now must be an aware datetime")
    return _Context(
        _resolver(resolver), moment, challenge, domain, nonce, audience, status, check_schema
    )


def _skew(seconds: float) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds >= 0:
        raise TypeError("clock_skew must be a number of seconds >= 0")
    return float(seconds)


class _Detected:
    """What :func:`_detect` found, before any cryptography: the DCQL format, the kind."""

    __slots__ = ("data", "format", "kind", "vcdm1")

    def __init__(self, fmt: str, kind: Kind | None, data: Any, *, vcdm1: bool = False) -> None:
        self.format = fmt
        self.kind = kind
        self.data = data
        # a jwt_vc_json in the VC Data Model 1.1 JWT encoding (not VC-JOSE)
        self.vcdm1 = vcdm1


def _detect(data: str | bytes | Mapping[str, Any] | Credential | Presentation) -> _Detected:
    """Which format and kind ``data`` claims to be (unverified); ParseError if unreadable."""
    if isinstance(data, Credential | Presentation):
        data = data.document
    if isinstance(data, Mapping):
        return _detect_json(data)
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
    if text.startswith(_BARCODE_PREFIX):
        # An offline barcode: ':' cannot occur in JSON-first text, a JWS or an SD-JWT.
        return _Detected("barcode", "credential", text)
    if text.startswith("{"):
        return _detect_json(loads_strict(text))
    if "~" in text:
        parsed = sd_jwt.SdJwt.parse(text)
        typ = parsed.unverified_header.get("typ")
        fmt = typ if typ in sd_jwt.SD_JWT_VC_TYPES else "sd-jwt"
        return _Detected(fmt, "presentation" if parsed.kb_jwt is not None else "credential", text)
    if _COMPACT_JWS.fullmatch(text):
        jws = CompactJWS.parse(text, max_length=jose.MAX_TOKEN_LENGTH)
        typ = jws.header.get("typ")
        if typ in ("vp+jwt", "application/vp+jwt"):
            return _Detected("jwt_vc_json", "presentation", text)
        if typ in ("vc+jwt", "application/vc+jwt"):
            return _Detected("jwt_vc_json", "credential", text)
        # any other typ (JWT, or none): a VC Data Model 1.1 JWT when its claims
        # carry a ``vc`` or a ``vp`` object; its own verifier judges the typ
        held = jwt_vc.is_jwt_vc(jws.payload)
        if held is not None:
            kind: Kind = "credential" if held == "credential" else "presentation"
            return _Detected("jwt_vc_json", kind, text, vcdm1=True)
        return _Detected("jwt", None, text)
    raise ParseError("input is neither a JSON object, a compact JWS nor an SD-JWT")


def _detect_json(document: Any) -> _Detected:
    if not isinstance(document, Mapping):
        raise ParseError("a credential or presentation must be a JSON object")
    types = _types(document)
    if _ENVELOPED_CREDENTIAL in types or _ENVELOPED_PRESENTATION in types:
        return _unenvelope(document)
    is_vp = "VerifiablePresentation" in types
    return _Detected("ldp_vc", "presentation" if is_vp else "credential", document)


# The media types an enveloping object's data: URL may carry (VC-JOSE-COSE
# "Securing with JOSE" and SD-JWT VC), with the kind of what they hold.
_ENVELOPED_CREDENTIAL: Final = "EnvelopedVerifiableCredential"
_ENVELOPED_PRESENTATION: Final = "EnvelopedVerifiablePresentation"
_ENVELOPED_MEDIA: Final[Mapping[str, tuple[str, Kind]]] = {
    "application/vc+jwt": ("jwt_vc_json", "credential"),
    "application/vc+sd-jwt": ("vc+sd-jwt", "credential"),
    "application/dc+sd-jwt": ("dc+sd-jwt", "credential"),
    "application/vp+jwt": ("jwt_vc_json", "presentation"),
}


def _unenvelope(document: Mapping[str, Any]) -> _Detected:
    """The token an ``EnvelopedVerifiableCredential``/``...Presentation`` carries, detected.

    VC Data Model 2.0 section 4.13 (enveloped credentials and presentations):
    the object's ``id`` is a ``data:`` URL whose media type says how the token
    is secured. We take ``data:<media type>,<token>`` with the media types of
    :data:`_ENVELOPED_MEDIA` (no parameters, no base64 or percent-encoding: the
    tokens are base64url already); the envelope's type must match the kind
    the media type holds, and the token must be of that media type. Anything
    else is a :class:`ParseError`: the envelope itself is malformed.
    """
    types = _types(document)
    enveloped_kind: Kind = "presentation" if _ENVELOPED_PRESENTATION in types else "credential"
    if _ENVELOPED_CREDENTIAL in types and _ENVELOPED_PRESENTATION in types:
        raise ParseError("an envelope is either a credential's or a presentation's, not both")
    context = document.get("@context")
    first = context[0] if isinstance(context, list) and context else context
    if first != CREDENTIALS_V2_CONTEXT:
        raise ParseError(f"an enveloped {enveloped_kind} needs @context {CREDENTIALS_V2_CONTEXT}")
    ident = document.get("id")
    if not isinstance(ident, str) or not ident.startswith("data:") or "," not in ident:
        raise ParseError(f"an enveloped {enveloped_kind}'s id must be a data: URL")
    media, token = ident[len("data:") :].split(",", 1)
    if media not in _ENVELOPED_MEDIA:
        raise ParseError(
            f"enveloped media type {media!r} is not one of {', '.join(_ENVELOPED_MEDIA)}"
        )
    fmt, kind = _ENVELOPED_MEDIA[media]
    if kind != enveloped_kind:
        raise ParseError(f"an Enveloped{enveloped_kind.title()} cannot hold {media}")
    if not token or token.lstrip().startswith("{") or "%" in token:
        raise ParseError(f"the {media} token in the data: URL is empty or encoded")
    found = _detect(token)
    if found.format != fmt or found.kind != kind or found.vcdm1:
        raise ParseError(f"the data: URL says {media} but holds a {found.format} {found.kind}")
    return found


def _verify_detected(
    found: _Detected, ctx: _Context, barcode_keys: barcode.KeyLookup | None
) -> VerificationResult:
    if found.format == "barcode":
        return _verify_barcode(found.data, ctx, barcode_keys)
    if found.format == "ldp_vc":
        return _verify_json(found.data, ctx)
    if found.vcdm1:
        return _verify_jwt_vc(found, ctx)
    if found.format in ("jwt_vc_json", "jwt"):
        return _verify_jose(found.data, ctx)
    return _verify_sd_jwt(found.data, ctx)


# -- the pinned calls: what code that decides trust uses ---------------------------------


def _formats(value: str | Sequence[str], allowed: Sequence[str], what: str) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else tuple(value)
    if not names or any(n not in allowed for n in names):
        raise UnsupportedError(f"{what} must be one or more of {', '.join(allowed)}: {value!r}")
    return names


def _refusal(fmt: str, name: str, code: str, message: str, **details: Any) -> VerificationResult:
    return VerificationResult.of(fmt, [Check.failed(name, code, message, **details)])


def _type_check(result: VerificationResult, credential_type: str | None) -> Check:
    """The ``type`` check over a verified credential's typed fields."""
    if credential_type is None:
        return Check.skipped("type", "no credential type was asked for")
    if credential_type in result.types or (
        result.vct is not None and credential_type == result.vct
    ):
        return Check.passed("type", f"a {credential_type}")
    shown = result.vct or ", ".join(result.types) or "no type"
    return Check.failed(
        "type",
        "type_unexpected",
        f"a {credential_type} was expected, not {shown}",
        expected=credential_type,
        presented=list(result.types),
    )


def _pinned(result: VerificationResult, extra: Sequence[Check]) -> VerificationResult:
    return result.replace_checks([*extra, *result.checks]) if extra else result


def verify_credential(
    data: str | bytes | Mapping[str, Any] | Credential,
    *,
    formats: CredentialFormat | Sequence[CredentialFormat],
    credential_type: str | None,
    resolver: MethodResolver | None = None,
    status: StatusSource | None = None,
    now: datetime | None = None,
    check_schema: bool = True,
    barcode_keys: barcode.KeyLookup | None = None,
    key_controllers: KeyControllerPolicy | None = None,
    clock_skew: float = DEFAULT_CLOCK_SKEW,
) -> VerificationResult:
    """Verify a *credential* of one of ``formats`` and of ``credential_type``; refuse all else.

    ``formats`` names the securing formats accepted (:data:`CREDENTIAL_FORMATS`:
    ``dc+sd-jwt`` / ``vc+sd-jwt`` SD-JWT VC, ``ldp_vc`` Data Integrity,
    ``jwt_vc_json`` a VC Data Model 1.1 JWT or, as before, a VC-JOSE
    ``vc+jwt``, ``barcode``); ``credential_type`` the type the
    credential must have (a vocabulary type, which an SD-JWT VC states by its
    ``vct``, or a ``vct`` itself), or ``None`` to accept any type, explicitly.
    The steps, each refusal a failed check with a stable code:

    1. ``format``: what ``data`` is, detected without cryptography, is one of
       ``formats`` (``format_unexpected``);
    2. ``kind``: it is a credential, not a presentation (an SD-JWT with a Key
       Binding JWT, a ``vp+jwt``, a ``VerifiablePresentation``):
       ``not_a_credential``;
    3. every check of its format (signature by a key its issuer authorises for
       ``assertionMethod``, validity at ``now``, schema, status failing closed
       through ``status``, ``key_controllers``: see :func:`verify`);
    4. ``type``: ``credential_type`` is among the *verified* types
       (``type_unexpected``; a barcode states no type).

    The result's typed fields (``issuer``, ``types``, ``subject``, ``claims``
    ...) are what code that decides trust reads; they are set only when the
    result is ok. Raises :class:`~credentials.errors.ParseError` for input
    that is not a credential in any format at all,
    :class:`~credentials.errors.UnsupportedError` for an unknown format name,
    ``TypeError`` for a naive ``now``.
    """
    wanted = _formats(formats, CREDENTIAL_FORMATS, "formats")
    ctx = _context(resolver, now, status, check_schema)
    ctx.key_controllers = key_controllers
    ctx.clock_skew = _skew(clock_skew)
    found = _detect(data)
    # 1. format
    if found.format not in wanted:
        return _refusal(
            found.format,
            "format",
            "format_unexpected",
            f"a {' or '.join(wanted)} credential was expected, not {found.format}",
            expected=list(wanted),
            presented=found.format,
        )
    # 2. kind
    if found.kind != "credential":
        return _refusal(
            found.format, "kind", "not_a_credential", "a presentation is not a credential"
        )
    # 3. the format's own checks
    result = _verify_detected(found, ctx, barcode_keys)
    kind = (
        Check.passed("kind", "a credential")
        if not result.ok or result.kind == "credential"
        else Check.failed("kind", "not_a_credential", "the verified document is not a credential")
    )
    # 4. type
    extra = [Check.passed("format", f"a {found.format} credential"), kind]
    if result.ok:
        extra.append(_type_check(result, credential_type))
    return _pinned(result, extra)


def verify_presentation(
    data: str | bytes | Mapping[str, Any] | Presentation,
    *,
    format: PresentationFormat,
    nonce: str,
    audience: str,
    credential_formats: CredentialFormat | Sequence[CredentialFormat] | None = None,
    credential_type: str | None,
    resolver: MethodResolver | None = None,
    status: StatusSource | None = None,
    now: datetime | None = None,
    check_schema: bool = True,
    key_controllers: KeyControllerPolicy | None = None,
    clock_skew: float = DEFAULT_CLOCK_SKEW,
) -> VerificationResult:
    """Verify a *presentation* in ``format``, bound to ``nonce`` and ``audience``.

    ``format`` is the presentation's DCQL format: ``ldp_vc`` (a Data Integrity
    ``VerifiablePresentation``), ``jwt_vc_json`` (a VC Data Model 1.1
    presentation JWT with a ``vp`` claim, whose every credential's ``sub``
    must be its holder; or a VC-JOSE ``vp+jwt``) or
    ``dc+sd-jwt`` / ``vc+sd-jwt`` (an SD-JWT VC with its Key Binding JWT).
    ``nonce`` and ``audience`` are the request's: the proof's ``challenge`` and
    ``domain``, the ``vp+jwt``'s ``nonce`` and ``aud``, the KB-JWT's. The
    steps, each refusal a failed check with a stable code:

    1. ``format``: ``data`` is of ``format`` (``format_unexpected``);
    2. ``kind``: it is a presentation, not a credential alone
       (``not_a_presentation``; an SD-JWT VC without its Key Binding JWT
       fails as ``kb_missing``);
    3. the format's checks, holder binding included, and every credential it
       carries in full (status failing closed through ``status``);
    4. ``credential[i].format``: each credential is of ``credential_formats``
       (default: the presentation's own format) and ``credential[i].type`` of
       ``credential_type`` (``None``: any type), from verified fields.

    An ok result is of kind presentation: ``holder`` (None for an SD-JWT
    VC, bound to a key instead) and ``credentials``, each a verified result of
    kind credential whose typed fields code that decides trust reads. Raises
    :class:`~credentials.errors.ParseError` for unreadable input,
    :class:`~credentials.errors.UnsupportedError` for an unknown format name
    and ``TypeError`` for an empty ``nonce`` or ``audience`` or a naive ``now``.
    """
    (pinned,) = _formats(format, PRESENTATION_FORMATS, "format")
    inner_formats = _formats(
        credential_formats if credential_formats is not None else pinned,
        CREDENTIAL_FORMATS,
        "credential_formats",
    )
    for name, value in (("nonce", nonce), ("audience", audience)):
        if not isinstance(value, str) or not value:
            raise TypeError(f"{name} must be a non-empty string: a presentation is bound to it")
    ctx = _context(resolver, now, status, check_schema, nonce, audience, nonce, audience)
    ctx.key_controllers = key_controllers
    ctx.clock_skew = _skew(clock_skew)
    found = _detect(data)
    # 1. format
    if found.format != pinned:
        return _refusal(
            found.format,
            "format",
            "format_unexpected",
            f"a {pinned} presentation was expected, not {found.format}",
            expected=[pinned],
            presented=found.format,
        )
    # 2. kind (an SD-JWT VC without its KB-JWT fails below, as kb_missing)
    if found.kind != "presentation" and found.format not in sd_jwt.SD_JWT_VC_TYPES:
        return _refusal(
            found.format, "kind", "not_a_presentation", "a credential alone is not a presentation"
        )
    # 3. the format's own checks
    result = _verify_detected(found, ctx, None)
    if found.format in sd_jwt.SD_JWT_VC_TYPES and result.ok:
        # An SD-JWT VC with its KB-JWT: the presentation of one credential.
        result = VerificationResult.of(
            result.format,
            result.checks,
            document=result.document,
            kind="presentation",
            credentials=[result],
        )
    extra = [Check.passed("format", f"a {found.format} presentation")]
    if not result.ok:
        return _pinned(result, extra)
    if result.kind != "presentation":
        extra.append(Check.failed("kind", "not_a_presentation", "not a verified presentation"))
        return _pinned(result, extra)
    extra.append(Check.passed("kind", "a presentation"))
    # 4. each credential's format and type, from what was verified
    for i, inner in enumerate(result.credentials):
        fmt = _DCQL_FORMAT.get(inner.format, "ldp_vc" if inner.format.startswith("d") else "")
        if fmt == "dc+sd-jwt" and found.format in sd_jwt.SD_JWT_VC_TYPES:
            fmt = found.format
        if fmt not in inner_formats:
            extra.append(
                Check.failed(
                    f"credential[{i}].format",
                    "format_unexpected",
                    f"a {' or '.join(inner_formats)} credential was expected, not {fmt}",
                )
            )
        elif inner.kind != "credential":
            extra.append(
                Check.failed(f"credential[{i}].kind", "not_a_credential", "not a credential")
            )
        type_check = _type_check(inner, credential_type)
        extra.append(
            Check(
                f"credential[{i}].type",
                type_check.status,
                type_check.code,
                type_check.message,
                type_check.details,
            )
        )
    return _pinned(result, extra)


class StatusResolvers:
    """The two status-list caches a long-lived verifier keeps: one per mechanism.

    ``bitstring`` reads W3C Bitstring Status Lists (Data Integrity and
    ``vc+jwt`` credentials); ``token`` reads IETF Token Status Lists (SD-JWT
    VCs and barcodes). Build with :meth:`for_fetcher`; pass as ``status=`` to
    :func:`verify_credential`, :func:`verify_presentation` or :func:`verify`.
    """

    __slots__ = ("bitstring", "token")

    def __init__(
        self, bitstring: StatusListResolver | None, token: TokenStatusListResolver | None
    ) -> None:
        self.bitstring = bitstring
        self.token = token

    @classmethod
    def for_fetcher(
        cls,
        fetcher: StatusListFetcher,
        resolver: MethodResolver | None = None,
        *,
        clock: Clock | None = None,
    ) -> StatusResolvers:
        """Both resolvers over one fetcher; lists are verified with ``resolver``'s DIDs."""
        methods = _resolver(resolver)
        tick = clock or system_clock
        return cls(
            StatusListResolver(fetcher, resolver=methods, clock=tick),
            TokenStatusListResolver(fetcher, methods, clock=tick),
        )


#: What ``status=`` accepts: a fetcher (both mechanisms, cached for one call),
#: one resolver, or both as :class:`StatusResolvers`.
StatusSource: TypeAlias = (
    StatusResolvers | StatusListResolver | TokenStatusListResolver | StatusListFetcher
)


class _Context:
    __slots__ = (
        "audience",
        "bitstring",
        "challenge",
        "check_schema",
        "clock_skew",
        "domain",
        "fetcher",
        "key_controllers",
        "nonce",
        "now",
        "resolver",
        "token",
    )

    def __init__(
        self,
        resolver: MethodResolver,
        now: datetime,
        challenge: str | None,
        domain: str | None,
        nonce: str | None,
        audience: str | None,
        status: StatusSource | None,
        check_schema: bool,
    ) -> None:
        self.resolver = resolver
        self.now = now
        self.challenge = challenge
        self.domain = domain
        self.nonce = nonce
        self.audience = audience
        self.check_schema = check_schema
        self.key_controllers: KeyControllerPolicy | None = None
        self.clock_skew = DEFAULT_CLOCK_SKEW
        self.fetcher: StatusListFetcher | None = None
        self.bitstring: StatusListResolver | None = None
        self.token: TokenStatusListResolver | None = None
        if isinstance(status, StatusResolvers):
            self.bitstring, self.token = status.bitstring, status.token
        elif isinstance(status, StatusListResolver):
            self.bitstring = status
        elif isinstance(status, TokenStatusListResolver):
            self.token = status
        elif status is not None:
            self.fetcher = status

    def inner(self) -> _Context:
        """The context for a presentation's embedded credentials (no binding values)."""
        ctx = _Context(self.resolver, self.now, None, None, None, None, None, self.check_schema)
        ctx.fetcher, ctx.bitstring, ctx.token = self.fetcher, self.bitstring, self.token
        ctx.key_controllers = self.key_controllers
        ctx.clock_skew = self.clock_skew
        return ctx

    def _from_fetcher(self) -> None:
        """Build both resolvers from the fetcher once, on first use: one cache per call."""
        if self.fetcher is not None and self.bitstring is None and self.token is None:
            now = self.now
            built = StatusResolvers.for_fetcher(self.fetcher, self.resolver, clock=lambda: now)
            self.bitstring, self.token = built.bitstring, built.token

    def bitstring_resolver(self) -> StatusListResolver | None:
        """The Bitstring Status List resolver (one cache per call when built from a fetcher)."""
        self._from_fetcher()
        return self.bitstring

    def token_resolver(self) -> TokenStatusListResolver | None:
        """The Token Status List resolver (one cache per call when built from a fetcher)."""
        self._from_fetcher()
        return self.token

    def credential_status(self) -> CredentialStatusChecker | None:
        """The ``credentialStatus`` checker (Bitstring Status List), or None."""
        resolver = self.bitstring_resolver()
        if resolver is None:
            return None
        now = self.now
        return lambda credential: check_status(credential, resolver, now=now)

    def token_status(self, issuer: str | None) -> StatusChecker | None:
        """The Token Status List checker bound to ``issuer``, or None."""
        resolver = self.token_resolver()
        if resolver is None:
            return None
        return token_status_checker(resolver, issuer, now=self.now)


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
    controller: str | None = None,
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
            expected_controller=controller,
            controller_policy=ctx.key_controllers,
            leeway=timedelta(seconds=ctx.clock_skew),
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
    authorised = f"keys authorised for {purpose} by {', '.join(controllers)}"
    details: dict[str, Any] = {"controllers": controllers}
    if controller and controllers != [controller]:
        # verify_proof let another controller's key sign only on the policy's yes
        authorised = (
            f"keys of {', '.join(controllers)} accepted for the issuer {controller} "
            "by the verifier's key-controller policy"
        )
        details["by_policy"] = True
    return [
        Check.passed("signature", f"{count} verified", verification_methods=methods),
        Check.passed("proof_purpose", f"every proof is for {purpose}"),
        Check.passed("proof_options", "challenge, domain and proof times acceptable"),
        Check.passed("key_authorisation", authorised, **details),
    ]


def _verify_credential(document: Mapping[str, Any], ctx: _Context) -> VerificationResult:
    # Steps: 1 syntax (data model; a presentation is never a credential); 2-5
    # proof (signature, purpose assertionMethod, options, key authorisation by
    # the issuer); 6 validity period; 7 schema; 8 status.
    fmt = _format_of(document)
    checks: list[Check] = []
    # 1. syntax
    if "VerifiablePresentation" in _types(document):
        checks.append(
            Check.failed("syntax", "not_a_credential", "a presentation is not a credential")
        )
        checks += _skipped_after("syntax", (*_PROOF_CHECKS, "validity_period", "schema", "status"))
        return VerificationResult.of(fmt, checks, document=document)
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
        return VerificationResult.of(fmt, checks, document=document)
    checks.append(Check.passed("syntax", "a VC Data Model 2.0 credential"))
    # 2-5. proofs, by a key the issuer authorises for assertionMethod
    checks += _proof_checks(
        document,
        ctx,
        purpose="assertionMethod",
        challenge=None,
        domain=None,
        controller=credential.issuer,
    )
    # 6. validity period
    checks.append(credential.check_validity_period(ctx.now))
    # 7. schema
    checks.append(_schema_check(document, ctx))
    # 8. status
    checks.append(_status_check(document, ctx))
    return VerificationResult.of(fmt, checks, document=document, **credential.typed_fields())


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
    inner_results: list[VerificationResult] = []
    for i, credential in enumerate(embedded):
        inner = _verify_embedded(credential, ctx.inner())
        inner_results.append(inner)
        checks += _prefixed(f"credential[{i}].", inner.checks)
    return VerificationResult.of(
        fmt,
        checks,
        document=document,
        kind="presentation",
        holder=presentation.holder,
        credentials=inner_results,
    )


def _prefixed(prefix: str, checks: Sequence[Check]) -> list[Check]:
    return [Check(prefix + c.name, c.status, c.code, c.message, c.details) for c in checks]


def _verify_embedded(credential: Mapping[str, Any], ctx: _Context) -> VerificationResult:
    types = _types(credential)
    if _ENVELOPED_CREDENTIAL not in types and _ENVELOPED_PRESENTATION not in types:
        return _verify_credential(credential, ctx)
    try:
        found = _unenvelope(credential)
    except ParseError as exc:
        return VerificationResult.of(
            "enveloped", [Check.failed("syntax", "invalid_credential", str(exc))]
        )
    if found.kind != "credential":
        return VerificationResult.of(
            found.format,
            [Check.failed("syntax", "not_a_credential", "a presentation is not a credential")],
        )
    try:
        return _verify_detected(found, ctx, None)
    except ParseError as exc:
        return VerificationResult.of(
            found.format, [Check.failed("syntax", "invalid_credential", str(exc))]
        )


# -- delegated checks ------------------------------------------------------------------


def _schema_check(document: Mapping[str, Any], ctx: _Context) -> Check:
    if not ctx.check_schema:
        return Check.skipped("schema", "schema checking was not asked for")
    if "credentialSchema" not in document:
        return Check.skipped("schema", "the credential names no credentialSchema")
    return schemas.check_schema(document)


def _status_check(document: Mapping[str, Any], ctx: _Context) -> Check:
    if "credentialStatus" not in document:
        return Check.skipped("status", "the credential has no credentialStatus")
    checker = ctx.credential_status()
    if checker is None:
        return Check.failed(
            "status",
            "status_unavailable",
            "the credential has a credentialStatus but no Bitstring Status List fetcher",
        )
    return checker(document)


def _verify_sd_jwt(text: str, ctx: _Context) -> VerificationResult:
    # An SD-JWT VC's ``status`` claim names an IETF Token Status List. Reading
    # ``iss`` before verification is safe: verify_sd_jwt calls the checker only
    # once the signature over that same payload held.
    parsed = sd_jwt.SdJwt.parse(text)
    iss = parsed.unverified_payload.get("iss")
    return sd_jwt.verify_sd_jwt(
        parsed,
        ctx.resolver,
        now=ctx.now,
        nonce=ctx.nonce,
        audience=ctx.audience,
        leeway=ctx.clock_skew,
        status_checker=ctx.token_status(iss if isinstance(iss, str) else None),
    )


def _verify_vc_jwt(text: str, ctx: _Context) -> VerificationResult:
    return jose.verify_vc_jwt(
        text,
        ctx.resolver,
        now=ctx.now,
        leeway=ctx.clock_skew,
        status_checker=ctx.credential_status(),
    )


def _verify_jwt_vc(found: _Detected, ctx: _Context) -> VerificationResult:
    if found.kind == "presentation":
        return jwt_vc.verify_jwt_vp(
            found.data,
            ctx.resolver,
            nonce=ctx.nonce,
            audience=ctx.audience,
            now=ctx.now,
            leeway=ctx.clock_skew,
            status_checker=ctx.credential_status(),
        )
    return jwt_vc.verify_jwt_vc(
        found.data,
        ctx.resolver,
        now=ctx.now,
        leeway=ctx.clock_skew,
        status_checker=ctx.credential_status(),
    )


def _verify_jose(text: str, ctx: _Context) -> VerificationResult:
    return jose.verify_jwt(
        text,
        ctx.resolver,
        now=ctx.now,
        nonce=ctx.nonce,
        audience=ctx.audience,
        leeway=ctx.clock_skew,
        status_checker=ctx.credential_status(),
    )


def _verify_barcode(
    text: str, ctx: _Context, barcode_keys: barcode.KeyLookup | None
) -> VerificationResult:
    # The barcode stack (CBOR, COSE, base45) loads only when a barcode is verified.
    from credentials import barcode

    # The status checker is called only once the signature over ``iss`` held.
    try:
        iss = barcode.decode_barcode(text).issuer
    except barcode.BarcodeError:
        iss = None
    return barcode.verify_barcode(
        text,
        barcode_keys or ctx.resolver,
        now=ctx.now,
        leeway=ctx.clock_skew,
        status_checker=ctx.token_status(iss),
    )


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
    breaks the data model (or carries a malformed Bitstring Status List entry,
    such as a non-integer ``statusListIndex``) and :class:`~credentials.errors.UnsupportedError`
    for a key that does not fit the format or an unknown format.
    """
    Credential.from_json(credential)
    check_status_entries(credential)
    moment = system_clock() if now is None else now
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
