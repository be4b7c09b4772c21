"""The verifier: asks for what it needs, and explains every decision.

A :class:`Verifier` (an employer, a landlord, a university, a border post)
makes a :class:`~ssi_wallet.request.PresentationRequest` from a
:class:`~ssi_wallet.policies.Policy`, and checks the wallet's answer with
:meth:`Verifier.check`, which returns a :class:`Report`. The steps:

1. binding: the presentation answers *this* request (nonce and audience),
   the request has not expired, and its nonce is one this verifier issued
   for exactly this request and never saw answered before (its
   :class:`~ssi_wallet.replay.ReplayStore` consumes it: ``nonce_unknown``,
   ``request_altered``, ``replayed``, ``request_expired``);
2. completeness: every required credential query is answered, and nothing
   that was not asked for is sent;
3. each presentation, through the pinned
   :func:`credentials.verify.verify_presentation`: of the query's format
   (``dc+sd-jwt``, ``ldp_vc`` or ``jwt_vc_json``), a presentation (never a
   credential alone, a barcode or another format), signature, key
   authorisation, validity period, disclosures, holder binding (key binding
   JWT or presentation proof) and status (fail closed) of it and of the one
   credential it carries;
4. type: the credential is of the type the query asked for, read from the
   verified result's typed fields (``vct``, ``types``), as are its issuer,
   subject and claims, never from the document;
5. trust: its issuer was accredited for that type, at that moment, in the
   trusted issuer registry, for a jurisdiction that covers the credential's
   issuing state (``issuingState``: ``jurisdiction_mismatch`` when it lies
   outside, ``jurisdiction_unknown`` when the credential names none);
6. the policy's rule over the disclosed claims.

An ``mso_mdoc`` query (ISO/IEC 18013-5, over OpenID4VP: :meth:`Verifier.check` is
given the ``response_uri``) replaces steps 3 to 5 with
:func:`ssi_wallet.mdoc.verify_for_query`: the DeviceResponse, device-signed over
the session transcript of this request (``client_id`` the audience, its nonce,
the response URI, the response encryption key's thumbprint), its issuer's
certificate chaining to the verifier's ``mdoc_trust_anchors``, the doctype, and
every requested element; each refusal is a finding with the
:class:`~credentials.mdoc.MdocError` code. Without a ``response_uri`` there is
no session transcript, and the query is ``format_unsupported``.

A report is never a boolean: ask ``report.ok``. ``report.explain()``
tells the decision in the verifier's language, or in any language of the
vocabulary (``report.explain("uk")``): the headline, the credential names,
the claim labels and every finding, from the templates in
``ssi_wallet/messages.json``, falling back to English sentence by sentence.
"""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from cryptography import x509

from credentials import schemas
from credentials.result import VerificationResult
from credentials.verify import PresentationFormat, StatusResolvers, verify_presentation
from did_methods._wire.b64 import b64url_encode
from did_methods._wire.dates import Clock, system_clock
from did_methods._wire.renamed import warn_renamed
from did_methods.http import Fetcher
from did_methods.keys import RandBytes
from did_methods.methods.self_certifying import names_same_key
from did_methods.resolver import Resolver
from ssi_wallet import _messages
from ssi_wallet.dcql import CredentialQuery
from ssi_wallet.policies import RECIPES, DisclosedClaims, Finding, Policy, by_name
from ssi_wallet.replay import (
    ReplayError,
    ReplayStore,
    consume_request,
    default_replay_store,
    record_request,
)
from ssi_wallet.request import PresentationRequest, PresentationResponse

__all__ = ["Report", "TrustRegistry", "UnsafeTrustAnyIssuer", "Verifier", "issuing_state"]

_REQUEST_TTL = 600
# DCQL formats (dcql.FORMATS) -> what verify_presentation pins
_PINNED: dict[str, PresentationFormat] = {
    "dc+sd-jwt": "dc+sd-jwt",
    "ldp_vc": "ldp_vc",
    "jwt_vc_json": "jwt_vc_json",
}
_REMEMBERED_REQUESTS = 4096
_COUNTRY = re.compile(r"[A-Z]{2}")


class TrustRegistry(Protocol):
    """Answers whether an issuer was accredited for a credential type at an instant."""

    def was_accredited(
        self,
        did: str,
        credential_type: str,
        at: datetime,
        *,
        jurisdiction: str | None = None,
        evidence: bool = True,
    ) -> Any:
        """An answer with ``ok`` (bool: accredited) and ``reason`` (str), for credentials issued
        in ``jurisdiction`` (an ISO 3166-1 alpha-2 code) when given; ``code`` is
        ``jurisdiction_mismatch`` and ``jurisdiction`` the one held when the issuer was
        accredited only elsewhere. ``evidence=False`` lets the registry skip building
        proofs."""


@dataclass(frozen=True, slots=True)
class _Answer:
    ok: bool
    reason: str


class UnsafeTrustAnyIssuer:
    """A trust registry that accredits everyone. For tests and demos only: never in production."""

    def was_accredited(
        self,
        did: str,
        credential_type: str,
        at: datetime,
        *,
        jurisdiction: str | None = None,
        evidence: bool = True,
    ) -> _Answer:
        """Always yes, wherever."""
        return _Answer(True, "UnsafeTrustAnyIssuer accepts every issuer")


@dataclass(frozen=True, slots=True)
class Report:
    """The verifier's decision with every reason; not a boolean (ask ``ok``: accepted).

    ``policy`` is the policy's purpose in English; ``purpose_key`` and
    ``purpose_params`` translate it (``None``: shown as written); ``language``
    is the default language of :meth:`explain`. ``results`` holds each
    credential query's verification result; ``disclosed`` the
    :class:`~ssi_wallet.policies.DisclosedClaims` of each credential that
    passed steps 3 to 5, by policy-level query id (``work``).
    """

    ok: bool
    policy: str
    findings: tuple[Finding, ...]
    results: Mapping[str, VerificationResult] = field(default_factory=dict)
    disclosed: Mapping[str, DisclosedClaims] = field(default_factory=dict)
    language: str = "en"
    purpose_key: str | None = None
    purpose_params: Mapping[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        raise TypeError("a Report is not a boolean: use report.ok")

    @property
    def accepted(self) -> bool:
        """Deprecated spelling of :attr:`ok` (warns; goes in the next release)."""
        warn_renamed("Report.accepted", "Report.ok")
        return self.ok

    @property
    def failures(self) -> tuple[Finding, ...]:
        """The findings that did not hold."""
        return tuple(f for f in self.findings if not f.ok)

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes of the failed findings."""
        return tuple(f.code for f in self.failures)

    def explain(self, language: str | None = None) -> str:
        """A readable account: the decision, the disclosed claims and each reason.

        In ``language`` (a BCP 47 tag; default: this report's), for each of the
        vocabulary's languages; anything without a translation, and any other
        language, is told in English. Values from the credential are shown on
        one line each, without control characters. Never raises.
        """
        lang = _messages.language(self.language if language is None else language)
        lines = [
            _messages.headline(self.ok, self.purpose_key, self.purpose_params, self.policy, lang)
        ]
        for query_id, claims in self.disclosed.items():
            # a Report built by hand may hold plain mappings: shown under the query id
            type_name = getattr(claims, "type_name", None)
            if type_name not in schemas.CREDENTIAL_TYPES:  # an mdoc's docType: shown as is
                type_name = None
                if isinstance(getattr(claims, "type_name", None), str):
                    query_id = claims.type_name
            title = schemas.display_name(type_name, lang) if type_name else query_id
            lines.append(f"  {_messages.clean(title)}:")
            for name, value in claims.items():
                label = schemas.claim_label(type_name, name, lang) if type_name else name
                lines.append(f"    {_messages.clean(label)}: {_messages.clean(value)}")
        for finding in self.findings:
            lines.append(f"  [{'ok' if finding.ok else 'NO'}] {finding.explain(lang)}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "ok": self.ok,
            "policy": self.policy,
            "findings": [f.to_json() for f in self.findings],
            "credentials": {k: r.to_json() for k, r in self.results.items()},
            "disclosed": {k: dict(c) for k, c in self.disclosed.items()},
        }


class Verifier:
    """Checks presentations against policies.

    ``trust`` answers accreditation questions (a :class:`ledger.facade.Ledger`
    does; :class:`UnsafeTrustAnyIssuer` for tests). ``resolver`` resolves
    issuer and holder DIDs (default: the ledger's, else the default one).
    ``status_fetcher`` fetches status lists (an HTTP fetcher, or an issuer's
    :class:`~ssi_wallet.issuer.StatusBoard` offline); without one every
    credential with a status fails (status fails closed).
    ``mdoc_trust_anchors`` are the X.509 certificates (IACA roots) an mdoc's
    document signer must chain to (none: every mdoc is refused). ``audience`` is this
    verifier's identifier, bound into every request. ``clock`` says when
    (requests, freshness, status); ``randbytes`` makes request nonces.
    """

    def __init__(
        self,
        trust: TrustRegistry,
        *,
        audience: str,
        resolver: Resolver | None = None,
        status_fetcher: Fetcher | None = None,
        language: str = "en",
        clock: Clock = system_clock,
        replay: ReplayStore | None = None,
        randbytes: RandBytes = secrets.token_bytes,
        mdoc_trust_anchors: Sequence[x509.Certificate] = (),
    ) -> None:
        self._trust = trust
        self._mdoc_anchors = tuple(mdoc_trust_anchors)
        self._replay = default_replay_store(trust) if replay is None else replay
        self.audience = audience
        if resolver is None:
            make = getattr(trust, "resolver", None)
            resolver = make() if callable(make) else Resolver.default()
        self._resolver = resolver
        self._status = (
            None
            if status_fetcher is None
            else StatusResolvers.for_fetcher(status_fetcher, resolver, clock=clock)
        )
        self.language = language
        self._clock = clock
        self._randbytes = randbytes
        self._policies: OrderedDict[str, Policy] = OrderedDict()

    def request(
        self,
        policy: Policy,
        *,
        purpose: str | None = None,
        formats: Sequence[str] | None = None,
    ) -> PresentationRequest:
        """A fresh request for ``policy``: its DCQL query, a new nonce, this audience.

        Its nonce, digest and expiry go into this verifier's replay store,
        so :meth:`check` accepts one answer to it. The verifier remembers the
        policy by the request's nonce (the most recent requests only); the
        request also carries the recipe's name and parameters, so a recipe
        can be rebuilt from the request alone. Raises the replay store's
        :class:`~did_methods.errors.StoreError` when it cannot record.
        """
        now = self._clock()
        made = PresentationRequest.for_policy(
            policy,
            audience=self.audience,
            purpose=purpose,
            ttl=_REQUEST_TTL,
            now=now,
            randbytes=self._randbytes,
            formats=formats,
        )
        record_request(self._replay, made, now=int(now.timestamp()))
        self._policies[made.nonce] = policy
        while len(self._policies) > _REMEMBERED_REQUESTS:
            self._policies.popitem(last=False)
        return made

    def _policy_for(self, request: PresentationRequest) -> Policy | None:
        remembered = self._policies.get(request.nonce)
        if remembered is not None:
            return remembered
        if request.policy is not None and request.policy in RECIPES:
            args = request.extra.get("policy_args", {})
            try:
                rebuilt = by_name(request.policy, args if isinstance(args, Mapping) else {})
            except ValueError:
                return None
            # A request edited to ask something else than its policy is not judged by it.
            if rebuilt.query().to_json() == request.query.to_json():
                return rebuilt
        return None

    def check(
        self,
        presentation: PresentationResponse,
        request: PresentationRequest,
        *,
        policy: Policy | None = None,
        response_uri: str | None = None,
        jwk_thumbprint: bytes | None = None,
    ) -> Report:
        """Run every step of the module docstring and return the report.

        ``response_uri`` and ``jwk_thumbprint`` (the raw RFC 7638 SHA-256 thumbprint of
        the response encryption key, ``direct_post.jwt`` only) complete the OpenID4VP
        session transcript an ``mso_mdoc`` presentation is signed over.
        """
        session = None if response_uri is None else (response_uri, jwk_thumbprint)
        now = self._clock()
        policy = policy or self._policy_for(request)
        name = policy.purpose if policy else (request.purpose or "presentation")
        if policy is not None:
            purpose_key, purpose_params = policy.purpose_key, policy.purpose_params
        else:
            purpose_key, purpose_params = (None if request.purpose else "presentation"), {}
        findings: list[Finding] = []

        def done(**kw: Any) -> Report:
            ok = bool(findings) and all(f.ok for f in findings)
            return Report(
                ok,
                name,
                tuple(findings),
                language=self.language,
                purpose_key=purpose_key,
                purpose_params=purpose_params,
                **kw,
            )

        # 1. binding
        if presentation.nonce != request.nonce or presentation.audience != request.audience:
            findings.append(Finding("replayed", False, "the presentation answers another request"))
            return done()
        if request.expires_at is not None and now.timestamp() > request.expires_at:
            findings.append(Finding("request_expired", False, "the request has expired"))
            return done()
        try:
            consume_request(self._replay, request, now=int(now.timestamp()))
        except ReplayError as exc:
            variant = {"variant": "used"} if exc.code == "replayed" else {}
            findings.append(Finding(exc.code, False, exc.message, details=variant))
            return done()
        if policy is None:
            findings.append(Finding("policy_unknown", False, "no policy for this request"))
            return done()
        # 2. completeness
        queries = {q.id: q for q in request.query.credentials}
        unexpected = [k for k in presentation.vp_token if k not in queries]
        if unexpected:
            findings.append(
                Finding(
                    "unexpected_credential",
                    False,
                    f"not asked for: {', '.join(unexpected)}",
                    details={"queries": unexpected},
                )
            )
            return done()
        for cset in request.query.credential_sets or ():
            if cset.required and not any(
                all(i in presentation.vp_token for i in option) for option in cset.options
            ):
                alternatives = ["+".join(o) for o in cset.options]
                findings.append(
                    Finding(
                        "credential_missing",
                        False,
                        f"missing one of: {' or '.join(alternatives)}",
                        details={"options": alternatives},
                    )
                )
        if findings:
            return done()
        results: dict[str, VerificationResult] = {}
        disclosed: dict[str, DisclosedClaims] = {}
        for query_id, items in presentation.vp_token.items():
            query = queries[query_id]
            if len(items) > 1 and not query.multiple:
                findings.append(Finding("too_many", False, "one credential was asked", query_id))
                continue
            for item in items:
                if query.format == "mso_mdoc" and session is not None:
                    claims = self._check_mdoc(item, query, request, now, session, findings)
                else:
                    claims = self._check_item(item, query, request, now, findings, results)
                if claims is not None:
                    disclosed[policy_key(query_id)] = claims
        if not all(f.ok for f in findings):
            return done(results=results, disclosed=disclosed)
        # 6. the policy's rule
        findings.extend(policy.evaluate(disclosed, now))
        return done(results=results, disclosed=disclosed)

    def _check_item(
        self,
        item: Any,
        query: CredentialQuery,
        request: PresentationRequest,
        now: datetime,
        findings: list[Finding],
        results: dict[str, VerificationResult],
    ) -> DisclosedClaims | None:
        """Steps 3 to 5 for one presented item; its disclosed claims when all held.

        Each step appends its finding; the first that fails ends the item.
        """
        # 3. the presentation itself, pinned to the query's format
        wanted = _wanted_types(query)
        verified = self._verify_item(item, query, request, now, wanted)
        if isinstance(verified, Finding):
            findings.append(verified)
            return None
        results[query.id] = verified
        if not verified.ok:
            findings.extend(_failure_findings(verified, query.id))
            return None
        findings.append(
            Finding("presentation_valid", True, "signature, binding and status hold", query.id)
        )
        # 4. type, and the claims disclosed: only from the verified, typed result
        typed = _check_type(verified, query, wanted)
        if isinstance(typed, Finding):
            findings.append(typed)
            return None
        credential, type_name = typed
        # 5. trust
        disclosed = DisclosedClaims(type_name, credential.issuer or "", credential.claims)
        trusted = self._check_trust(disclosed, query.id, now)
        findings.append(trusted)
        return disclosed if trusted.ok else None

    def _verify_item(
        self,
        item: Any,
        query: CredentialQuery,
        request: PresentationRequest,
        now: datetime,
        wanted: list[Any],
    ) -> VerificationResult | Finding:
        """Step 3: the item's verification result, or the finding that refuses it unread."""
        if query.format not in _PINNED:  # mso_mdoc: credentials.mdoc, not this role (yet)
            return Finding(
                "format_unsupported",
                False,
                f"{query.format} presentations are not checked by this verifier",
                query.id,
                {"check": "format", "reason": f"{query.format} (see credentials.mdoc)"},
            )
        if isinstance(item, Mapping) != (query.format == "ldp_vc") or not isinstance(
            item, str | Mapping
        ):
            shown = _SHOWN_FORMAT[query.format]
            return Finding(
                "format_mismatch",
                False,
                f"a {shown} presentation was expected",
                query.id,
                {"expected": shown},
            )
        # the library refuses another type (type_unexpected); several vct values: step 4
        one = query.format != "dc+sd-jwt" or len(wanted) == 1
        try:
            return verify_presentation(
                item,
                format=_PINNED[query.format],
                nonce=request.nonce,
                audience=request.audience,
                credential_type=str(wanted[-1]) if wanted and one else None,
                resolver=self._resolver,
                status=self._status,
                now=now,
            )
        except ValueError as exc:
            message = f"unreadable presentation: {exc}"
            return Finding("malformed", False, message, query.id, {"error": str(exc)})

    def _check_mdoc(
        self,
        item: Any,
        query: CredentialQuery,
        request: PresentationRequest,
        now: datetime,
        session: tuple[str, bytes | None],
        findings: list[Finding],
    ) -> DisclosedClaims | None:
        """Steps 3 to 5 for an ``mso_mdoc`` item (see the module docstring)."""
        # imported here: the CBOR stack loads only when an mdoc is checked (CLI startup)
        from credentials.mdoc import MdocError
        from ssi_wallet.mdoc import verify_for_query

        response_uri, thumbprint = session
        try:
            documents = verify_for_query(
                item,
                query,
                client_id=request.audience,
                nonce=request.nonce,
                response_uri=response_uri,
                trust_anchors=self._mdoc_anchors,
                jwk_thumbprint=thumbprint,
                now=now,
            )
        except MdocError as exc:
            details = {"check": "mdoc", "reason": exc.message}
            findings.append(Finding(exc.code, False, f"mdoc: {exc.message}", query.id, details))
            return None
        document = documents[0]
        signer = document.issuer.subject
        # the issuer's trust is its certificate chain to an anchor, checked with the rest
        message = f"signature, device binding and validity hold; {signer} chains to a trust anchor"
        findings.append(Finding("presentation_valid", True, message, query.id))
        claims = {
            namespace: {name: _json_value(value) for name, value in elements.items()}
            for namespace, elements in document.claims.items()
        }
        return DisclosedClaims(document.doctype, signer, claims)

    def _check_trust(self, disclosed: DisclosedClaims, qid: str, now: datetime) -> Finding:
        """Step 5: the issuer was accredited for the type, then, where it issued."""
        issuer, type_name = disclosed.issuer, disclosed.type_name
        about = {"issuer": issuer, "type_name": type_name}
        state = issuing_state(disclosed)
        if state is None:
            message = f"no issuing state: where {issuer} may issue cannot be checked"
            return Finding("jurisdiction_unknown", False, message, qid, about)
        answer = self._trust.was_accredited(
            issuer, type_name, now, jurisdiction=state, evidence=False
        )
        if not answer.ok and getattr(answer, "code", None) == "jurisdiction_mismatch":
            held = str(getattr(answer, "jurisdiction", None) or "?")
            message = f"{issuer} is accredited for {type_name} in {held}, not in {state}"
            details = {**about, "issuing_state": state, "jurisdiction": held}
            return Finding("jurisdiction_mismatch", False, message, qid, details)
        if not answer.ok:
            message = f"{issuer} is not accredited: {answer.reason}"
            details = {**about, "reason": str(answer.reason)}
            return Finding("issuer_not_accredited", False, message, qid, details)
        message = f"{issuer} is accredited for {type_name}"
        return Finding("issuer_accredited", True, message, qid, about)


_SHOWN_FORMAT = {"dc+sd-jwt": "SD-JWT VC", "jwt_vc_json": "vp+jwt", "ldp_vc": "JSON"}


def _json_value(value: Any) -> Any:
    """An mdoc element value as JSON shows it: dates in ISO 8601, bytes in base64url."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return b64url_encode(value)
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def _wanted_types(query: CredentialQuery) -> list[Any]:
    """The types a query asks for: its ``vct`` values, or its first ``type`` values."""
    if query.format == "dc+sd-jwt":
        return list(query.meta.get("vct_values") or [])
    return list((query.meta.get("type_values") or [[]])[0])


def _failure_findings(result: VerificationResult, qid: str) -> list[Finding]:
    """Step 3's refusal: one finding per failed check, with its stable code."""
    return [
        Finding(
            check.code,
            False,
            f"{check.name}: {check.message}",
            qid,
            {"check": check.name, "reason": check.message},
        )
        for check in result.failures
    ]


def _check_type(
    result: VerificationResult, query: CredentialQuery, wanted: list[Any]
) -> tuple[VerificationResult, str] | Finding:
    """Step 4: the one embedded credential and its vocabulary type, read from the verified
    typed fields; for a JSON or vp+jwt presentation, bound to the presentation's holder."""
    qid = query.id
    if len(result.credentials) != 1:
        return Finding(
            "type_mismatch", False, "no credential embedded", qid, {"variant": "no_credential"}
        )
    credential = result.credentials[0]
    if query.format == "dc+sd-jwt":
        if credential.vct not in wanted:
            details = {"presented": str(credential.vct), "type_name": _type_for_vct(wanted[0])}
            return Finding("type_mismatch", False, f"not a {credential.vct}", qid, details)
        type_name = _type_for_vct(credential.vct)
    else:
        if not wanted or not set(wanted) <= set(credential.types):
            return Finding(
                "type_mismatch",
                False,
                f"not a {wanted[-1] if wanted else 'credential'}",
                qid,
                {"presented": list(credential.types), "type_name": wanted[-1] if wanted else None},
            )
        type_name = wanted[-1]
        if result.holder is None or not names_same_key(credential.subject, result.holder):
            message = "the credential is bound to another holder"
            return Finding("holder_mismatch", False, message, qid)
    if type_name is None:
        return Finding("type_unknown", False, "credential type not in the vocabulary", qid)
    return credential, type_name


def issuing_state(claims: Mapping[str, Any]) -> str | None:
    """The credential's issuing state (``issuingState``, an ISO 3166-1 alpha-2 code), or
    ``None`` when it names none or something else: what the issuer's accreditation must
    cover."""
    state = claims.get("issuingState")
    return state if isinstance(state, str) and _COUNTRY.fullmatch(state) else None


def policy_key(query_id: str) -> str:
    """The policy-level query id (``work`` for ``work_sd``, ``work_di`` and ``work_jwt``)."""
    return query_id.rsplit("_", 1)[0] if query_id.endswith(("_sd", "_di", "_jwt")) else query_id


def _type_for_vct(vct: Any) -> str | None:
    if not isinstance(vct, str):
        return None
    try:
        return schemas.type_for_vct(vct)
    except ValueError:
        return None
