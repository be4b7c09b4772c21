"""Verification policies: what a verifier asks for, and the rule its decision follows.

A :class:`Policy` pairs a DCQL query (what to ask the wallet, and nothing
more) with a rule over what the wallet disclosed. Each rule returns
:class:`Finding` objects, so the verifier's report explains every yes and
every no. The recipes:

- :func:`right_to_work`: a work permit valid on a date, optionally for a
  sector (NACE code prefix) and region;
- :func:`right_to_reside`: a residence permit valid on a date;
- :func:`right_to_study`: a study permit valid on a date, optionally at an
  institution;
- :func:`international_protection`: a protection status valid on a date.

Each asks for one credential, in SD-JWT VC form (selective disclosure) or, as
an alternative the wallet may use, as a Data Integrity credential.

Every finding carries, beside its stable ``code`` and English ``message``, the
parameters its sentence needs in ``details`` (``until``, ``sector``,
``granted``, ``type_name``...), so a report can be explained in any language
of the vocabulary (``ssi_wallet/messages.json``); each recipe's purpose has a
``purpose_key`` and ``purpose_params`` for the same reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any

from credentials import schemas
from did_methods.errors import ParseError
from ssi_wallet import _messages
from ssi_wallet.dcql import DCQLQuery

__all__ = [
    "RECIPES",
    "DisclosedClaims",
    "Finding",
    "Policy",
    "by_name",
    "international_protection",
    "mdoc_document",
    "right_to_reside",
    "right_to_study",
    "right_to_work",
]

#: The disclosed subject claims per credential query id, as the rule sees them
#: (the verifier passes :class:`DisclosedClaims`, which are such mappings).
Disclosed = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True, slots=True, eq=False)
class DisclosedClaims(Mapping[str, Any]):
    """The subject claims one verified credential disclosed, and what that credential is.

    A read-only mapping of the claims (``claims["sector"]``), as a rule reads
    them, with the verified facts beside it: ``type_name`` the vocabulary type
    (``WorkPermit``) the credential was checked to be, ``issuer`` whose
    accreditation for that type was checked. Every value comes from the
    verified result, never from the presented document. Equal to any mapping
    with the same claims.
    """

    type_name: str
    issuer: str
    claims: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "claims", MappingProxyType(dict(self.claims)))

    def __getitem__(self, name: str) -> Any:
        return self.claims[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.claims)

    def __len__(self) -> int:
        return len(self.claims)

    def __repr__(self) -> str:
        return f"DisclosedClaims({self.type_name!r}, {self.issuer!r}, {dict(self.claims)!r})"


Rule = Callable[[Disclosed, datetime], list["Finding"]]


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason in a decision: a stable ``code``, whether it holds, and why.

    ``message`` is the English sentence; ``details`` holds the parameters that
    render it in other languages (see :meth:`explain`), and may name a
    ``variant`` of the code's sentence.
    """

    code: str
    ok: bool
    message: str
    query_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        out: dict[str, Any] = {"code": self.code, "ok": self.ok, "message": self.message}
        if self.query_id is not None:
            out["query"] = self.query_id
        if self.details:
            out["details"] = dict(self.details)
        return out

    def explain(self, language: str = "en") -> str:
        """The sentence in ``language`` (BCP 47), falling back to English when there is
        no template or a parameter is missing. Never raises."""
        return _messages.finding_text(self.code, self.details, self.message, language)


@dataclass(frozen=True, slots=True)
class Policy:
    """A named request-and-rule pair.

    ``types`` maps each credential query id to the vocabulary type it asks
    for; ``claims`` lists the subject claims requested (nothing else is
    asked); ``rule`` judges the disclosed claims at an instant. ``purpose``
    is the English purpose; ``purpose_key`` (a key of the ``purposes`` in
    ``messages.json``) and ``purpose_params`` translate it, and a policy
    without one shows ``purpose`` as written in every language.
    """

    name: str
    purpose: str
    types: Mapping[str, str]
    claims: tuple[str, ...]
    rule: Rule
    purpose_key: str | None = None
    purpose_params: Mapping[str, str] = field(default_factory=dict)
    #: The recipe's arguments as text, so :func:`by_name` can rebuild the policy.
    params: Mapping[str, str] = field(default_factory=dict)
    #: A DCQL query of the policy's own (JSON form), asked whatever ``formats`` say: how an
    #: ``mso_mdoc`` policy asks (:func:`mdoc_document`). ``None``: built from ``types``.
    dcql: Mapping[str, Any] | None = None

    def query(self, formats: Sequence[str] = ("dc+sd-jwt", "ldp_vc")) -> DCQLQuery:
        """The DCQL query: per type, one credential query per format, alternatives of one
        another in the order given (SD-JWT VC first, then Data Integrity, by default;
        ``jwt_vc_json``, a JWT-secured W3C credential, when asked). The query ids are the
        policy's id and a suffix: ``_sd``, ``_di``, ``_jwt``. A policy with its own
        ``dcql`` asks exactly that."""
        if self.dcql is not None:
            return DCQLQuery.parse(self.dcql)
        unknown = [f for f in formats if f not in _FORMAT_SUFFIX]
        if not formats or unknown:
            raise ParseError(f"formats must be among {', '.join(_FORMAT_SUFFIX)}")
        credentials: list[dict[str, Any]] = []
        options: list[list[str]] = []
        for query_id, type_name in self.types.items():
            for fmt in formats:
                qid = f"{query_id}_{_FORMAT_SUFFIX[fmt]}"
                if fmt == "dc+sd-jwt":
                    credentials.append(
                        {
                            "id": qid,
                            "format": fmt,
                            "meta": {"vct_values": [schemas.vct(type_name)]},
                            "claims": [{"path": [c]} for c in self.claims],
                        }
                    )
                else:
                    credentials.append(
                        {
                            "id": qid,
                            "format": fmt,
                            "meta": {"type_values": [["VerifiableCredential", type_name]]},
                            "claims": [{"path": ["credentialSubject", c]} for c in self.claims],
                        }
                    )
                options.append([qid])
        sets = [{"options": [o for o in options if o[0].startswith(q + "_")]} for q in self.types]
        return DCQLQuery.parse({"credentials": credentials, "credential_sets": sets})

    def evaluate(self, disclosed: Disclosed, at: datetime) -> list[Finding]:
        """Run the rule; every requested claim must have been disclosed first."""
        findings: list[Finding] = []
        for query_id, claims in disclosed.items():
            missing = [c for c in self.claims if c not in claims]
            if missing:
                details: dict[str, Any] = {"claims": missing}
                if query_id in self.types:
                    details["type_name"] = self.types[query_id]
                findings.append(
                    Finding(
                        "claims_missing",
                        False,
                        f"the presentation does not disclose {', '.join(missing)}",
                        query_id,
                        details,
                    )
                )
        if findings:
            return findings
        return self.rule(disclosed, at)


#: Per DCQL format, the suffix of a policy's credential query id.
_FORMAT_SUFFIX: Mapping[str, str] = {"dc+sd-jwt": "sd", "ldp_vc": "di", "jwt_vc_json": "jwt"}


def _params(**given: str | date | None) -> dict[str, str]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in given.items() if v}


def _day(value: Any, name: str) -> date:
    if not isinstance(value, str):
        raise ParseError(f"{name} is not a date")
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise ParseError(f"{name} is not a date: {value[:20]!r}") from exc


def _validity(
    claims: Mapping[str, Any], at: datetime, query_id: str, what: str, type_name: str
) -> Finding:
    on = at.astimezone(UTC).date()
    days: list[date] = []
    for name in ("issueDate", "expiryDate"):
        try:
            days.append(_day(claims.get(name), name))
        except ParseError as exc:
            details = {"type_name": type_name, "claim": name}
            return Finding("permit_dates_invalid", False, str(exc), query_id, details)
    start, end = days
    if on < start:
        return Finding(
            "permit_not_yet_valid",
            False,
            f"the {what} is valid only from {start}",
            query_id,
            {"type_name": type_name, "valid_from": str(start)},
        )
    if on > end:
        return Finding(
            "permit_expired",
            False,
            f"the {what} expired on {end}",
            query_id,
            {"type_name": type_name, "until": str(end)},
        )
    return Finding(
        "permit_valid",
        True,
        f"the {what} is valid until {end}",
        query_id,
        {"until": str(end), "type_name": type_name},
    )


def _single(disclosed: Disclosed) -> tuple[str, Mapping[str, Any]]:
    query_id, claims = next(iter(disclosed.items()))
    return query_id, claims


def _check_sector(sector: str | None) -> None:
    """Refuse a sector that is not a NACE code as the vocabulary writes them."""
    if sector is None:
        return
    prop = schemas.schema_for("WorkPermit")["$defs"]["subject"]["properties"]
    pattern = str(prop["sector"]["pattern"])
    if not re.fullmatch(pattern, sector):
        raise ParseError(
            f"sector {sector[:20]!r} is not a NACE code (a section letter A-U, then "
            "optionally division, group and class: Q, Q86, Q86.1, Q86.10)"
        )


def right_to_work(
    *, sector: str | None = None, region: str | None = None, on: date | None = None
) -> Policy:
    """May the holder work (in ``sector``, a NACE code or prefix such as ``Q86``; in ``region``)?

    Asks for the work permit's dates, category, sector, region and hours; no
    name, nationality, birth date or address. Raises
    :class:`~did_methods.errors.ParseError` for a ``sector`` that is not a code
    of the vocabulary (the WorkPermit schema's NACE pattern) or an empty ``region``.
    """
    _check_sector(sector)
    if region is not None and not region.strip():
        raise ParseError("the region is empty")

    def rule(disclosed: Disclosed, at: datetime) -> list[Finding]:
        moment = datetime.combine(on, datetime.min.time(), UTC) if on else at
        query_id, claims = _single(disclosed)
        findings = [_validity(claims, moment, query_id, "work permit", "WorkPermit")]
        granted = str(claims.get("sector", ""))
        if sector is not None:
            asked = {"granted": granted, "sector": sector}
            if granted.replace(".", "").startswith(sector.replace(".", "")):
                findings.append(
                    Finding(
                        "sector_allowed",
                        True,
                        f"work in sector {granted} is allowed",
                        query_id,
                        asked,
                    )
                )
            else:
                findings.append(
                    Finding(
                        "sector_not_allowed",
                        False,
                        f"the permit allows sector {granted}, not {sector}",
                        query_id,
                        asked,
                    )
                )
        if region is not None:
            allowed_region = str(claims.get("workRegion", ""))
            ok = allowed_region in ("", region) or region.startswith(allowed_region)
            details: dict[str, Any] = {"region": region, "granted": allowed_region}
            if not allowed_region:
                details["variant"] = "any"
            findings.append(
                Finding(
                    "region_allowed" if ok else "region_not_allowed",
                    ok,
                    f"the permit covers region {allowed_region or 'all regions'}",
                    query_id,
                    details,
                )
            )
        return findings

    purpose = "right to work" + (f" in sector {sector}" if sector else "")
    claims = ("issueDate", "expiryDate", "permitCategory", "sector", "workRegion", "maxWeeklyHours")
    return Policy(
        "right_to_work",
        purpose,
        {"work": "WorkPermit"},
        claims,
        rule,
        "right_to_work_sector" if sector else "right_to_work",
        {"sector": sector} if sector else {},
        _params(sector=sector, region=region, on=on),
    )


def right_to_reside(*, on: date | None = None) -> Policy:
    """May the holder reside here (a residence permit valid on ``on``, default now)?"""

    def rule(disclosed: Disclosed, at: datetime) -> list[Finding]:
        moment = datetime.combine(on, datetime.min.time(), UTC) if on else at
        query_id, claims = _single(disclosed)
        return [_validity(claims, moment, query_id, "residence permit", "ResidencePermit")]

    claims = ("issueDate", "expiryDate", "permitCategory", "issuingState")
    types = {"residence": "ResidencePermit"}
    return Policy(
        "right_to_reside",
        "right to reside",
        types,
        claims,
        rule,
        "right_to_reside",
        {},
        _params(on=on),
    )


def right_to_study(*, institution: str | None = None, on: date | None = None) -> Policy:
    """May the holder study (at ``institution``)?"""

    def rule(disclosed: Disclosed, at: datetime) -> list[Finding]:
        moment = datetime.combine(on, datetime.min.time(), UTC) if on else at
        query_id, claims = _single(disclosed)
        findings = [_validity(claims, moment, query_id, "study permit", "StudyPermit")]
        if institution is not None:
            named = str(claims.get("institutionName", ""))
            ok = named == institution
            details: dict[str, Any] = {"institution": institution, "named": named}
            if not named:
                details["variant"] = "none"
            findings.append(
                Finding(
                    "institution_matches" if ok else "institution_mismatch",
                    ok,
                    f"the permit names {named or 'no institution'}",
                    query_id,
                    details,
                )
            )
        return findings

    claims = ("issueDate", "expiryDate", "permitCategory", "institutionName")
    types = {"study": "StudyPermit"}
    return Policy(
        "right_to_study",
        "right to study",
        types,
        claims,
        rule,
        "right_to_study",
        {},
        _params(institution=institution, on=on),
    )


def international_protection(*, on: date | None = None) -> Policy:
    """Does the holder hold international protection valid on ``on``?"""

    def rule(disclosed: Disclosed, at: datetime) -> list[Finding]:
        moment = datetime.combine(on, datetime.min.time(), UTC) if on else at
        query_id, claims = _single(disclosed)
        type_name = "InternationalProtectionStatus"
        return [_validity(claims, moment, query_id, "protection status", type_name)]

    claims = ("issueDate", "expiryDate", "protectionType")
    types = {"protection": "InternationalProtectionStatus"}
    return Policy(
        "international_protection",
        "international protection",
        types,
        claims,
        rule,
        "international_protection",
        {},
        _params(on=on),
    )


#: The recipes by name, with the parameters each takes.
RECIPES: Mapping[str, tuple[Callable[..., Policy], frozenset[str]]] = {
    "right_to_work": (right_to_work, frozenset({"sector", "region", "on"})),
    "right_to_reside": (right_to_reside, frozenset({"on"})),
    "right_to_study": (right_to_study, frozenset({"institution", "on"})),
    "international_protection": (international_protection, frozenset({"on"})),
}
_MAX_PARAM = 256


def _no_rule(disclosed: Disclosed, at: datetime) -> list[Finding]:
    return []


def mdoc_document(
    doctype: str,
    elements: Mapping[str, Sequence[str]],
    *,
    purpose: str | None = None,
    query_id: str = "mdoc",
    name: str = "mdoc_document",
) -> Policy:
    """A policy asking for one ISO/IEC 18013-5 mdoc (``mso_mdoc``) of ``doctype``, disclosing
    ``elements`` (``{namespace: [element, ...]}``), over OpenID4VP.

    The query is DCQL ``mso_mdoc`` (``meta.doctype_value``, claim paths
    ``[namespace, element]``); the verifier's decision is the mdoc's own checks
    (issuer chain to its X.509 anchors, device signature over the session
    transcript, every element disclosed), with no further rule. ``name`` is the
    policy's name: the one an embedding program registers it under (a verifier
    service's ``extra_policies``), so a persisted transaction rebuilds it. Raises
    :class:`~did_methods.errors.ParseError` for an empty or malformed request.
    """
    claims = [
        {"path": [namespace, element]} for namespace, names in elements.items() for element in names
    ]
    if not claims:
        raise ParseError("an mdoc policy asks for at least one element")
    dcql = {
        "credentials": [
            {
                "id": query_id,
                "format": "mso_mdoc",
                "meta": {"doctype_value": doctype},
                "claims": claims,
            }
        ]
    }
    DCQLQuery.parse(dcql)  # malformed: refused here, not at request time
    return Policy(
        name,
        purpose or f"present your {doctype}",
        {query_id: doctype},
        (),
        _no_rule,
        dcql=dcql,
    )


def by_name(name: str, params: Mapping[str, Any] | None = None) -> Policy:
    """Rebuild a recipe from its name and its :attr:`Policy.params` (text values).

    A verifier that keeps only a request (which carries both) can judge the
    answer later. Raises :class:`~did_methods.errors.ParseError` for an
    unknown name, an unknown or malformed parameter.
    """
    if name not in RECIPES:
        raise ParseError(f"no policy named {str(name)[:40]!r} ({', '.join(RECIPES)})")
    make, allowed = RECIPES[name]
    given = dict(params or {})
    if not all(
        isinstance(k, str) and isinstance(v, str) and 0 < len(v) <= _MAX_PARAM
        for k, v in given.items()
    ):
        raise ParseError("policy parameters must map names to non-empty strings")
    unknown = set(given) - allowed
    if unknown:
        raise ParseError(f"{name} takes no {', '.join(sorted(unknown))}")
    kwargs: dict[str, Any] = dict(given)
    if "on" in kwargs:
        try:
            kwargs["on"] = date.fromisoformat(kwargs["on"])
        except ValueError as exc:
            raise ParseError(f"'on' is not a date: {kwargs['on'][:20]!r}") from exc
    return make(**kwargs)
