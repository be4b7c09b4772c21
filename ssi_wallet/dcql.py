"""DCQL, the Digital Credentials Query Language of OpenID for Verifiable Presentations 1.0.

A verifier states what it needs as a DCQL query; a wallet matches the query
against the credentials it holds and learns, for each credential query, which
credentials fit and which claims to disclose. This module is pure: it parses
and validates queries (:meth:`DCQLQuery.parse`) and evaluates them
(:func:`match`) over any credentials that expose the :class:`Candidate`
shape.

Supported credential formats: ``dc+sd-jwt`` (``meta.vct_values``),
``ldp_vc`` and ``jwt_vc_json`` (``meta.type_values``), and ``mso_mdoc``
(appendix B.2: ``meta.doctype_value`` is required; each claims path is
``[namespace, data element identifier]``, and a claim may say
``intent_to_retain``). Claims path pointers follow section 7: a string selects
an object member, a non-negative integer an array element, ``null`` every
element of an array.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Protocol

from did_methods._wire.renamed import warn_renamed
from did_methods.errors import ParseError

__all__ = [
    "FORMATS",
    "Candidate",
    "ClaimsQuery",
    "CredentialQuery",
    "CredentialSetQuery",
    "DCQLError",
    "DCQLMatch",
    "DCQLQuery",
    "QueryMatch",
    "match",
    "select",
]

#: The credential formats this implementation understands.
FORMATS = ("dc+sd-jwt", "ldp_vc", "jwt_vc_json", "mso_mdoc")

_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")
_MAX_QUERIES = 64
_MAX_CLAIMS = 256
_MAX_PATH = 32
_MAX_VALUES = 256

PathElement = str | int | None


class DCQLError(ParseError):
    """A DCQL query that is malformed or breaks the specification's rules."""


def _fail(where: str, message: str) -> DCQLError:
    return DCQLError(f"DCQL {where}: {message}")


def _query_id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        raise _fail(where, "id must be 1-128 characters of A-Z a-z 0-9 _ -")
    return value


def _nonempty_list(value: Any, where: str, limit: int) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise _fail(where, "must be a non-empty array")
    if len(value) > limit:
        raise _fail(where, f"has more than {limit} entries")
    return value


@dataclass(frozen=True, slots=True)
class ClaimsQuery:
    """One requested claim: a claims path and, optionally, acceptable values.

    ``intent_to_retain`` (``mso_mdoc`` only, appendix B.2) says whether the
    verifier means to keep the value; None when the query does not say.
    """

    path: tuple[PathElement, ...]
    id: str | None = None
    values: tuple[str | int | bool, ...] | None = None
    intent_to_retain: bool | None = None

    @classmethod
    def parse(cls, data: Any, where: str) -> ClaimsQuery:
        """Validate a claims query object."""
        if not isinstance(data, Mapping):
            raise _fail(where, "must be an object")
        claim_id = _query_id(data["id"], where) if "id" in data else None
        path: list[PathElement] = []
        for element in _nonempty_list(data.get("path"), f"{where}.path", _MAX_PATH):
            if isinstance(element, bool) or not (
                element is None
                or isinstance(element, str)
                or (isinstance(element, int) and element >= 0)
            ):
                raise _fail(
                    f"{where}.path", "elements must be strings, non-negative integers or null"
                )
            path.append(element)
        values = None
        if "values" in data:
            raw = _nonempty_list(data["values"], f"{where}.values", _MAX_VALUES)
            if not all(isinstance(v, str | int | bool) for v in raw):
                raise _fail(f"{where}.values", "values must be strings, integers or booleans")
            values = tuple(raw)
        retain = data.get("intent_to_retain")
        if retain is not None and not isinstance(retain, bool):
            raise _fail(where, "intent_to_retain must be a boolean")
        return cls(tuple(path), claim_id, values, retain)

    def to_json(self) -> dict[str, Any]:
        """The query's JSON form."""
        out: dict[str, Any] = {"path": list(self.path)}
        if self.id is not None:
            out["id"] = self.id
        if self.values is not None:
            out["values"] = list(self.values)
        if self.intent_to_retain is not None:
            out["intent_to_retain"] = self.intent_to_retain
        return out


@dataclass(frozen=True, slots=True)
class CredentialQuery:
    """A request for one credential (or several, when ``multiple``)."""

    id: str
    format: str
    meta: Mapping[str, Any]
    claims: tuple[ClaimsQuery, ...] | None = None
    claim_sets: tuple[tuple[str, ...], ...] | None = None
    multiple: bool = False
    require_cryptographic_holder_binding: bool = True
    trusted_authorities: tuple[Mapping[str, Any], ...] | None = None

    @classmethod
    def parse(cls, data: Any, where: str) -> CredentialQuery:
        """Validate a credential query object."""
        if not isinstance(data, Mapping):
            raise _fail(where, "must be an object")
        query_id = _query_id(data.get("id"), where)
        fmt = data.get("format")
        if fmt not in FORMATS:
            raise _fail(where, f"format must be one of {', '.join(FORMATS)}")
        meta = data.get("meta", {})
        if not isinstance(meta, Mapping):
            raise _fail(f"{where}.meta", "must be an object")
        if fmt == "dc+sd-jwt" and "vct_values" in meta:
            vcts = _nonempty_list(meta["vct_values"], f"{where}.meta.vct_values", _MAX_VALUES)
            if not all(isinstance(v, str) for v in vcts):
                raise _fail(f"{where}.meta.vct_values", "must be strings")
        if fmt == "mso_mdoc" and not isinstance(meta.get("doctype_value"), str):
            raise _fail(f"{where}.meta", "doctype_value (a string) is required for mso_mdoc")
        if fmt in ("ldp_vc", "jwt_vc_json") and "type_values" in meta:
            groups = _nonempty_list(meta["type_values"], f"{where}.meta.type_values", _MAX_VALUES)
            for group in groups:
                if not isinstance(group, list) or not all(isinstance(t, str) for t in group):
                    raise _fail(f"{where}.meta.type_values", "must be arrays of strings")
        claims = None
        if "claims" in data:
            raw_claims = _nonempty_list(data["claims"], f"{where}.claims", _MAX_CLAIMS)
            claims = tuple(
                ClaimsQuery.parse(c, f"{where}.claims[{i}]") for i, c in enumerate(raw_claims)
            )
            if fmt == "mso_mdoc" and any(
                len(c.path) != 2 or not all(isinstance(e, str) for e in c.path) for c in claims
            ):
                raise _fail(f"{where}.claims", "mso_mdoc paths are [namespace, element identifier]")
            ids = [c.id for c in claims if c.id is not None]
            if len(set(ids)) != len(ids):
                raise _fail(f"{where}.claims", "claim ids must be unique")
        claim_sets = None
        if "claim_sets" in data:
            if claims is None or any(c.id is None for c in claims):
                raise _fail(f"{where}.claim_sets", "needs claims that all have an id")
            known = {c.id for c in claims}
            sets = []
            for option in _nonempty_list(data["claim_sets"], f"{where}.claim_sets", _MAX_CLAIMS):
                option_ids = _nonempty_list(option, f"{where}.claim_sets[]", _MAX_CLAIMS)
                if not all(isinstance(i, str) and i in known for i in option_ids):
                    raise _fail(f"{where}.claim_sets", "names a claim id that is not in claims")
                sets.append(tuple(option_ids))
            claim_sets = tuple(sets)
        multiple = data.get("multiple", False)
        binding = data.get("require_cryptographic_holder_binding", True)
        if not isinstance(multiple, bool) or not isinstance(binding, bool):
            raise _fail(where, "multiple and require_cryptographic_holder_binding must be booleans")
        authorities = None
        if "trusted_authorities" in data:
            raw_auth = _nonempty_list(
                data["trusted_authorities"], f"{where}.trusted_authorities", 64
            )
            for auth in raw_auth:
                if not (
                    isinstance(auth, Mapping)
                    and isinstance(auth.get("type"), str)
                    and isinstance(auth.get("values"), list)
                    and auth["values"]
                    and all(isinstance(v, str) for v in auth["values"])
                ):
                    raise _fail(
                        f"{where}.trusted_authorities", "entries need a type and string values"
                    )
            authorities = tuple(dict(a) for a in raw_auth)
        return cls(query_id, fmt, dict(meta), claims, claim_sets, multiple, binding, authorities)

    def to_json(self) -> dict[str, Any]:
        """The query's JSON form."""
        out: dict[str, Any] = {"id": self.id, "format": self.format, "meta": dict(self.meta)}
        if self.claims is not None:
            out["claims"] = [c.to_json() for c in self.claims]
        if self.claim_sets is not None:
            out["claim_sets"] = [list(s) for s in self.claim_sets]
        if self.multiple:
            out["multiple"] = True
        if not self.require_cryptographic_holder_binding:
            out["require_cryptographic_holder_binding"] = False
        if self.trusted_authorities is not None:
            out["trusted_authorities"] = [dict(a) for a in self.trusted_authorities]
        return out


@dataclass(frozen=True, slots=True)
class CredentialSetQuery:
    """Alternatives: any one ``options`` entry (a list of credential query ids) satisfies it."""

    options: tuple[tuple[str, ...], ...]
    required: bool = True

    def to_json(self) -> dict[str, Any]:
        """The query's JSON form."""
        return {"options": [list(o) for o in self.options], "required": self.required}


@dataclass(frozen=True, slots=True)
class DCQLQuery:
    """A whole DCQL query: credential queries and, optionally, credential sets."""

    credentials: tuple[CredentialQuery, ...]
    credential_sets: tuple[CredentialSetQuery, ...] | None = None

    @classmethod
    def parse(cls, data: Any) -> DCQLQuery:
        """Validate a DCQL query (its JSON object form); raise :class:`DCQLError`."""
        if not isinstance(data, Mapping):
            raise _fail("query", "must be an object")
        raw = _nonempty_list(data.get("credentials"), "credentials", _MAX_QUERIES)
        queries = tuple(CredentialQuery.parse(q, f"credentials[{i}]") for i, q in enumerate(raw))
        ids = [q.id for q in queries]
        if len(set(ids)) != len(ids):
            raise _fail("credentials", "credential query ids must be unique")
        sets = None
        if "credential_sets" in data:
            sets_list = []
            for i, entry in enumerate(
                _nonempty_list(data["credential_sets"], "credential_sets", 64)
            ):
                where = f"credential_sets[{i}]"
                if not isinstance(entry, Mapping):
                    raise _fail(where, "must be an object")
                options = []
                for option in _nonempty_list(entry.get("options"), f"{where}.options", 64):
                    option_ids = _nonempty_list(option, f"{where}.options[]", _MAX_QUERIES)
                    if not all(isinstance(i, str) and i in ids for i in option_ids):
                        raise _fail(where, "names a credential query id that does not exist")
                    options.append(tuple(option_ids))
                required = entry.get("required", True)
                if not isinstance(required, bool):
                    raise _fail(where, "required must be a boolean")
                sets_list.append(CredentialSetQuery(tuple(options), required))
            sets = tuple(sets_list)
        return cls(queries, sets)

    def to_json(self) -> dict[str, Any]:
        """The query's JSON form."""
        out: dict[str, Any] = {"credentials": [q.to_json() for q in self.credentials]}
        if self.credential_sets is not None:
            out["credential_sets"] = [s.to_json() for s in self.credential_sets]
        return out


class Candidate(Protocol):
    """What the matcher needs to know of a stored credential."""

    @property
    def id(self) -> str:
        """The wallet's id for this credential."""

    @property
    def format(self) -> str:
        """``dc+sd-jwt``, ``ldp_vc``, ``jwt_vc_json`` or ``mso_mdoc``."""

    @property
    def types(self) -> tuple[str, ...]:
        """The VC ``type`` values, or the SD-JWT VC ``vct`` (mdoc ``docType``) as a one-tuple."""

    @property
    def claims(self) -> Mapping[str, Any]:
        """Every claim the holder could disclose (for SD-JWT, the fully processed payload)."""

    @property
    def issuer(self) -> str:
        """The issuer's identifier."""


def select(document: Any, path: Sequence[PathElement]) -> list[Any]:
    """Evaluate a claims path pointer (section 7); ``[]`` when nothing is selected."""
    current = [document]
    for element in path:
        nxt: list[Any] = []
        for node in current:
            if element is None:
                if isinstance(node, list):
                    nxt.extend(node)
            elif isinstance(element, str):
                if isinstance(node, Mapping) and element in node:
                    nxt.append(node[element])
            elif isinstance(node, list) and element < len(node):
                nxt.append(node[element])
        if not nxt:
            return []
        current = nxt
    return current


def _claim_ok(candidate: Candidate, claim: ClaimsQuery) -> bool:
    found = select(candidate.claims, claim.path)
    if not found:
        return False
    if claim.values is None:
        return True
    # Strict equality: the boolean true is not the integer 1.
    return any(type(v) is type(x) and v == x for v in found for x in claim.values)


def _meta_ok(query: CredentialQuery, candidate: Candidate) -> bool:
    if candidate.format != query.format:
        return False
    if query.format == "mso_mdoc":
        return bool(candidate.types) and candidate.types[0] == query.meta.get("doctype_value")
    if query.format == "dc+sd-jwt":
        vcts = query.meta.get("vct_values")
        return vcts is None or (bool(candidate.types) and candidate.types[0] in vcts)
    groups = query.meta.get("type_values")
    if groups is None:
        return True
    types = set(candidate.types)
    return any(set(group) <= types for group in groups)


def _authority_ok(query: CredentialQuery, candidate: Candidate) -> bool:
    if query.trusted_authorities is None:
        return True
    # Issuer identifiers (DIDs) are matched for the types whose values name issuers.
    return any(candidate.issuer in auth["values"] for auth in query.trusted_authorities)


@dataclass(frozen=True, slots=True)
class QueryMatch:
    """The credentials that satisfy one credential query, and the claims to disclose."""

    query_id: str
    credential_ids: tuple[str, ...]
    claims: tuple[tuple[PathElement, ...], ...]

    @property
    def ok(self) -> bool:
        """True when at least one credential fits."""
        return bool(self.credential_ids)

    @property
    def satisfied(self) -> bool:
        """Deprecated spelling of :attr:`ok` (warns; goes in the next release)."""
        warn_renamed("QueryMatch.satisfied", "QueryMatch.ok")
        return self.ok


@dataclass(frozen=True, slots=True)
class DCQLMatch:
    """The result of matching a query: per-query matches and the overall answer.

    ``ok`` is the answer (every required query can be answered); not a truth value.
    """

    matches: Mapping[str, QueryMatch]
    ok: bool
    selected: tuple[str, ...] = field(default=())
    missing: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        raise TypeError("a DCQLMatch is not a boolean: use .ok")

    @property
    def satisfied(self) -> bool:
        """Deprecated spelling of :attr:`ok` (warns; goes in the next release)."""
        warn_renamed("DCQLMatch.satisfied", "DCQLMatch.ok")
        return self.ok


def _match_one(query: CredentialQuery, candidates: Iterable[Candidate]) -> QueryMatch:
    options: list[tuple[ClaimsQuery, ...]]
    if query.claims is None:
        options = [()]
    elif query.claim_sets is None:
        options = [query.claims]
    else:
        by_id = {c.id: c for c in query.claims}
        options = [tuple(by_id[i] for i in option) for option in query.claim_sets]
    fits = [c for c in candidates if _meta_ok(query, c) and _authority_ok(query, c)]
    # The first claim-set option (in the verifier's order of preference) that some
    # credential satisfies wins; within it every claim must be present.
    for option in options:
        # Lazily: for a single credential, the claims of later candidates are never read.
        fitting = (c.id for c in fits if all(_claim_ok(c, claim) for claim in option))
        chosen = list(fitting) if query.multiple else list(islice(fitting, 1))
        if chosen:
            ids = tuple(chosen if query.multiple else chosen[:1])
            return QueryMatch(query.id, ids, tuple(claim.path for claim in option))
    return QueryMatch(query.id, (), ())


def match(query: DCQLQuery, candidates: Iterable[Candidate]) -> DCQLMatch:
    """Match ``query`` against the holder's credentials.

    Without ``credential_sets`` every credential query must be satisfied; with
    them, every *required* set needs one option whose queries are all
    satisfied (the first such option is selected), and optional sets
    contribute when they can. ``selected`` lists the credential query ids to
    answer; ``missing`` the required ones that cannot be.
    """
    pool = list(candidates)
    matches = {q.id: _match_one(q, pool) for q in query.credentials}
    if query.credential_sets is None:
        missing = tuple(qid for qid, m in matches.items() if not m.ok)
        return DCQLMatch(matches, not missing, tuple(matches) if not missing else (), missing)
    selected: list[str] = []
    missing_list: list[str] = []
    for cset in query.credential_sets:
        option = next((o for o in cset.options if all(matches[i].ok for i in o)), None)
        if option is not None:
            selected.extend(i for i in option if i not in selected)
        elif cset.required:
            missing_list.extend(i for i in cset.options[0] if not matches[i].ok)
    return DCQLMatch(matches, not missing_list, tuple(selected), tuple(missing_list))
