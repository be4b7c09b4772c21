"""Checking something you were handed, outside a verifier's session: issuer trust and answers.

:func:`credentials.verify.verify` says whether a credential or presentation is
intact (signature, disclosures, validity, binding, status). Whether its
issuer may issue it is a question for the trusted issuer registry on a
ledger; :func:`with_issuer_trust` asks it and adds the answer to the result as
an ``issuer_trust`` check, and :func:`without_issuer_trust` adds a skipped one
that says the question was not asked. :class:`Checking` runs both steps, on one
credential or presentation or on what a wallet sent back for a request (a
:class:`~ssi_wallet.request.PresentationResponse`: ``vp_token``, ``nonce``,
``client_id``), one presentation at a time.

A :class:`~ssi_wallet.verifier.Verifier` runs all of this (and the policy)
itself; these are for ``ssi-wallet verify`` and for code that holds one
credential and a ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from credentials import schemas
from credentials.data_integrity import MethodResolver
from credentials.result import Check, VerificationResult
from credentials.verify import StatusSource, verify
from did_methods._wire.renamed import warn_renamed
from ssi_wallet.request import PresentationResponse
from ssi_wallet.verifier import TrustRegistry, issuing_state

__all__ = [
    "AnswerResult",
    "Checking",
    "with_issuer_trust",
    "without_issuer_trust",
]

_CHECK = "issuer_trust"


def _type_name(result: VerificationResult) -> str | None:
    """The vocabulary type of a verified credential (from its vct or its types)."""
    if result.vct is not None:
        try:
            return schemas.type_for_vct(result.vct)
        except ValueError:
            return None
    return next((t for t in reversed(result.types) if t in schemas.CREDENTIAL_TYPES), None)


def _trust_check(
    credential: VerificationResult, registry: TrustRegistry, at: datetime, note: str
) -> Check:
    issuer = credential.issuer or ""
    type_name = _type_name(credential)
    if not issuer or type_name is None:
        shown = credential.vct or ", ".join(credential.types) or "?"
        return Check.failed(
            _CHECK,
            "type_unknown",
            f"{shown} is not a credential type of the vocabulary: no registry accredits it",
            issuer=issuer,
        )
    state = issuing_state(credential.claims)
    answer = registry.was_accredited(issuer, type_name, at, jurisdiction=state, evidence=False)
    label = schemas.display_name(type_name, "en")
    where = f" in {state}" if state else ""
    details = {"issuer": issuer, "type_name": type_name, "issuing_state": state}
    if answer.ok:
        return Check.passed(
            _CHECK, f"{issuer} is accredited for {label}{where} on the ledger{note}", **details
        )
    code = str(getattr(answer, "code", None) or "issuer_not_accredited")
    if code == "not_accredited":
        code = "issuer_not_accredited"
    return Check.failed(
        _CHECK,
        code,
        f"{issuer} is not accredited for {label}{where}: {answer.reason}{note}",
        **details,
    )


def with_issuer_trust(
    result: VerificationResult,
    registry: TrustRegistry,
    *,
    at: datetime | None = None,
    note: str = "",
) -> VerificationResult:
    """``result`` with one ``issuer_trust`` check per credential it holds (the result
    itself, or each credential of a presentation): was its issuer accredited on the
    registry at ``at`` (default now) for its type, in its issuing state?

    A failed check's code is ``issuer_not_accredited``, ``jurisdiction_mismatch``
    (accredited for another state) or ``type_unknown`` (not a vocabulary
    type). A result that did not verify is returned as it is: its issuer and
    claims are not to be trusted. ``note`` is appended to each check's message
    (such as which trust root was followed).
    """
    if not result.ok:
        return result
    moment = at or datetime.now(UTC)
    targets = result.credentials or (result,)
    added = [_trust_check(credential, registry, moment, note) for credential in targets]
    return result.replace_checks((*result.checks, *added))


def without_issuer_trust(result: VerificationResult, how: str) -> VerificationResult:
    """``result`` with a skipped ``issuer_trust`` check saying trust was not checked and
    ``how`` to check it (such as ``"give --db FILE or --dsn DSN"``); a result that did
    not verify is returned as it is."""
    if not result.ok:
        return result
    note = Check.skipped(_CHECK, f"issuer trust was not checked (is the issuer accredited?): {how}")
    return result.replace_checks((*result.checks, note))


@dataclass(frozen=True, slots=True)
class AnswerResult:
    """Every presentation of a wallet's answer, verified: ``results`` pairs each credential
    query id with its result, in the answer's order."""

    nonce: str
    audience: str
    results: tuple[tuple[str, VerificationResult], ...]
    #: True when the nonce and audience checked were the answer's own (none expected).
    self_bound: bool

    @property
    def ok(self) -> bool:
        """True when the answer holds presentations and every one verified."""
        return bool(self.results) and all(r.ok for _, r in self.results)

    @property
    def valid(self) -> bool:
        """Deprecated spelling of :attr:`ok` (warns; goes in the next release)."""
        warn_renamed("AnswerResult.valid", "AnswerResult.ok")
        return self.ok

    def __bool__(self) -> bool:
        raise TypeError("an AnswerResult is not a boolean: use .ok")

    def to_json(self) -> dict[str, Any]:
        """JSON form: ``ok``, ``kind`` (``answer``), ``nonce``, ``client_id``,
        ``self_bound`` and ``presentations`` (each a result with its ``query``)."""
        return {
            "ok": self.ok,
            "kind": "answer",
            "nonce": self.nonce,
            "client_id": self.audience,
            "self_bound": self.self_bound,
            "presentations": [{"query": qid, **r.to_json()} for qid, r in self.results],
        }

    def explain(self) -> str:
        """A readable account: one block per presentation."""
        lines = [f"{'VALID' if self.ok else 'INVALID'} answer for {self.audience}"]
        if self.self_bound:
            lines.append(
                "  (nonce and audience taken from the answer itself: the binding is intact, "
                "but only --nonce and --audience show it answers your request)"
            )
        for qid, result in self.results:
            lines.append(f"{qid}:")
            lines += ["  " + line for line in result.explain().splitlines()]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Checking:
    """How to check what one is handed: the resolver, the instant (``now``, default the
    clock), the ``nonce`` and ``audience`` a key binding or presentation proof must
    carry, the status source, and the trust registry (``registry``) to ask about each
    issuer; without one, ``trust_hint`` (when given) says how trust could be checked.
    ``trust_note`` is added to each trust check's message."""

    resolver: MethodResolver | None = None
    now: datetime | None = None
    nonce: str | None = None
    audience: str | None = None
    status_fetcher: StatusSource | None = None
    registry: TrustRegistry | None = None
    trust_hint: str | None = None
    trust_note: str = ""

    def verify(self, data: str | Mapping[str, Any]) -> VerificationResult:
        """:func:`credentials.verify.verify` of one credential or presentation, then its
        issuer trust (checked on the registry, or said not to be)."""
        result = verify(
            data,
            resolver=self.resolver,
            now=self.now,
            challenge=self.nonce,
            domain=self.audience,
            nonce=self.nonce,
            audience=self.audience,
            status_fetcher=self.status_fetcher,
        )
        if self.registry is not None:
            return with_issuer_trust(result, self.registry, at=self.now, note=self.trust_note)
        if self.trust_hint is not None:
            return without_issuer_trust(result, self.trust_hint)
        return result

    def verify_answer(self, answer: PresentationResponse | Mapping[str, Any] | str) -> AnswerResult:
        """Verify every presentation of a wallet's answer.

        Each must be bound to :attr:`nonce` and :attr:`audience` (the request's);
        when neither is set, the answer's own are used and the result says so
        (``self_bound``). Raises :class:`~did_methods.errors.ParseError` for a
        malformed answer.
        """
        parsed = (
            answer
            if isinstance(answer, PresentationResponse)
            else PresentationResponse.from_json(answer)
        )
        self_bound = self.nonce is None and self.audience is None
        bound = replace(
            self,
            nonce=parsed.nonce if self.nonce is None else self.nonce,
            audience=parsed.audience if self.audience is None else self.audience,
        )
        results = tuple(
            (qid, bound.verify(item)) for qid, items in parsed.vp_token.items() for item in items
        )
        return AnswerResult(parsed.nonce, parsed.audience, results, self_bound)
