"""JSON Schemas, the JSON-LD context and display metadata of the immigration vocabulary.

Ten credential types (:data:`CREDENTIAL_TYPES`), each with a JSON Schema
(draft 2020-12) that validates the whole VC Data Model 2.0 credential: the
``@context`` (the VC v2 context first, and ours, :data:`CONTEXT_URL`), ``type``,
``issuer``, ``validFrom``/``validUntil`` and a ``credentialSubject`` whose claims
are closed (``additionalProperties: false``) and typed (dates, ISO 3166-1
country codes, ICAO nationality codes, NACE and ISCO codes, ...).

* Issuing: :func:`validate_credential` raises :class:`SchemaValidationError`
  listing *every* violation (JSON-Pointer path and message).
* Verifying: :func:`check_schema` returns the ``schema``
  :class:`~credentials.result.Check` for the credential's ``credentialSchema``
  entries; only our own schema ids are honoured (``schema_unknown`` otherwise),
  so verification never fetches a schema from a URL an attacker chose.
* Display: :func:`display_name` and :func:`claim_label` in the 14 languages of
  :data:`LANGUAGES`, falling back to English.
* SD-JWT VC: :func:`vct` and :func:`sd_jwt_disclosure_policy`.

All schemas and labels are package data (``credentials/vocabulary/``); nothing
is fetched from the network.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from credentials._schema_compile import Predicate, UnsupportedSchema, compile_schema
from credentials.errors import ValidationError
from credentials.result import Check
from credentials.vocabulary import read_json
from did_methods._wire.dates import instant
from did_methods.errors import ParseError

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError as _JSValidationError

__all__ = [
    "CONTEXT_URL",
    "CREDENTIAL_TYPES",
    "LANGUAGES",
    "MAX_DEPTH",
    "MAX_NODES",
    "SchemaValidationError",
    "UnknownCredentialTypeError",
    "check_schema",
    "claim_label",
    "claim_names",
    "context_document",
    "credential_schema",
    "display_name",
    "example_credential",
    "example_subject",
    "schema_for",
    "schema_id",
    "sd_jwt_disclosure_policy",
    "type_for_schema_id",
    "type_for_vct",
    "validate_credential",
    "vct",
]

_TYPES: Final[Mapping[str, Any]] = read_json("types.json")["types"]
_DISPLAY: Final[Mapping[str, Any]] = read_json("display.json")

#: Our JSON-LD context URL (the document ships as ``vocabulary/context-v1.json``).
CONTEXT_URL: Final[str] = read_json("types.json")["context"]

#: The credential types of the immigration vocabulary, in a stable order.
CREDENTIAL_TYPES: Final[tuple[str, ...]] = tuple(_TYPES)

#: The languages every credential name and claim label is translated into.
LANGUAGES: Final[tuple[str, ...]] = tuple(_DISPLAY["languages"])

#: Bounds on a credential before it is validated: nesting depth, and the number
#: of JSON values (objects, arrays, strings, numbers...) in it.
MAX_DEPTH: Final = 32
MAX_NODES: Final = 20_000
_MAX_STRING: Final = 65_536

_VC_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
_DATETIME_RE: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)
_DATE_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


class UnknownCredentialTypeError(ParseError):
    """A type name (or schema id, or vct) that is not in the immigration vocabulary."""

    def __init__(self, name: object) -> None:
        super().__init__(f"{name!r} is not a credential type of the immigration vocabulary")
        self.name = name


class SchemaValidationError(ValidationError):
    """A credential does not conform to its immigration-vocabulary schema.

    ``errors`` lists every violation as ``(path, message)``, ``path`` a JSON
    Pointer into the credential (``/credentialSubject/birthDate``).
    """


# --------------------------------------------------------------------------- lookups


def _check_type(type_name: object) -> str:
    if not isinstance(type_name, str) or type_name not in _TYPES:
        raise UnknownCredentialTypeError(type_name)
    return type_name


@cache
def _schema(type_name: str) -> Mapping[str, Any]:
    loaded: dict[str, Any] = read_json(_TYPES[type_name]["schema"])
    return loaded


def schema_for(type_name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``type_name``, as a fresh copy.

    Raises :class:`UnknownCredentialTypeError` for a type we do not define.
    """
    return copy.deepcopy(dict(_schema(_check_type(type_name))))


def schema_id(type_name: str) -> str:
    """The stable URL that names the schema of ``type_name`` in ``credentialSchema.id``."""
    return str(_TYPES[_check_type(type_name)]["schemaId"])


def credential_schema(type_name: str) -> dict[str, str]:
    """The ``credentialSchema`` entry to put in an issued credential of ``type_name``."""
    return {"id": schema_id(type_name), "type": "JsonSchema"}


def type_for_schema_id(url: str) -> str:
    """The credential type whose schema id is ``url``, or :class:`UnknownCredentialTypeError`."""
    for name, info in _TYPES.items():
        if info["schemaId"] == url:
            return name
    raise UnknownCredentialTypeError(url)


def vct(type_name: str) -> str:
    """The SD-JWT VC ``vct`` (verifiable credential type) URL of ``type_name``."""
    return str(_TYPES[_check_type(type_name)]["vct"])


def type_for_vct(value: str) -> str:
    """The credential type whose ``vct`` is ``value``, or :class:`UnknownCredentialTypeError`."""
    for name, info in _TYPES.items():
        if info["vct"] == value:
            return name
    raise UnknownCredentialTypeError(value)


def claim_names(type_name: str) -> tuple[str, ...]:
    """Every claim ``credentialSubject`` may hold for ``type_name`` (``id`` included)."""
    subject = _schema(_check_type(type_name))["$defs"]["subject"]
    return tuple(subject["properties"])


def context_document() -> dict[str, Any]:
    """Our JSON-LD context document (the one :data:`CONTEXT_URL` names), as a fresh copy."""
    loaded: dict[str, Any] = read_json("context-v1.json")
    return loaded


def sd_jwt_disclosure_policy(type_name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Default SD-JWT VC disclosure split of ``type_name``'s subject claims.

    Returns ``(always_disclosed, selectively_disclosable)``: the first holds
    facts about the document (number, issuing state and authority, dates,
    permit category and conditions a verifier checks); the second every
    personal claim (names, birth date, nationality, employer, address,
    protection grounds, ...), which the holder discloses one by one. The two
    are disjoint and together cover :func:`claim_names`. ``iss``, ``vct``,
    ``iat``/``nbf``/``exp`` and ``status`` are SD-JWT claims outside the
    subject and are always disclosed.
    """
    always = tuple(_TYPES[_check_type(type_name)]["alwaysDisclosed"])
    rest = tuple(name for name in claim_names(type_name) if name not in always)
    return always, rest


#: The dates of the document itself in a sample, moved to stay current, and the
#: minor's birth date of a guardianship (the minor stays a minor for the whole
#: document); the holder's ``birthDate`` and an ``awardDate`` stay put.
_DOCUMENT_DATES: Final = (
    "applicationDate",
    "decisionDate",
    "issueDate",
    "startDate",
    "expiryDate",
    "minorBirthDate",
)


def example_subject(type_name: str, *, now: datetime | None = None) -> dict[str, Any]:
    """Realistic sample ``credentialSubject`` claims of ``type_name`` (fictional people),
    current at ``now`` (an aware datetime; default: the clock).

    The document's own dates (``issueDate``, ``expiryDate``, and ``startDate``,
    ``decisionDate``, ``applicationDate`` where the type has them) are moved
    together, by whole days, so that ``now`` falls halfway through the
    document's validity: a sample never expires, whenever it is read (one
    written with fixed dates did, and what was issued from it stopped
    verifying). The spans between them are kept; the holder's own dates are
    not moved, the birth date of a guardianship's minor is. Raises
    :class:`~did_methods.errors.ParseError` for a naive or non-time ``now``.
    """
    examples: dict[str, dict[str, Any]] = read_json("examples.json")
    subject = examples[_check_type(type_name)]
    if "issueDate" in subject and "expiryDate" in subject:
        issued = date.fromisoformat(subject["issueDate"])
        half = (date.fromisoformat(subject["expiryDate"]) - issued).days // 2
        shift = instant(now).date() - (issued + timedelta(days=half))
        for name in _DOCUMENT_DATES:
            if name in subject:
                subject[name] = (date.fromisoformat(subject[name]) + shift).isoformat()
    return subject


def example_credential(
    type_name: str,
    *,
    issuer: str = "did:example:migration-authority",
    valid_from: str = "2026-01-01T00:00:00Z",
    valid_until: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """An unsigned VC Data Model 2.0 credential of ``type_name`` around :func:`example_subject`
    (current at ``now``, default: the clock).

    It conforms to the type's schema; ``validUntil`` defaults to the end of
    the subject's ``expiryDate`` when it has one.
    """
    subject = example_subject(type_name, now=now)
    credential: dict[str, Any] = {
        "@context": [_VC_CONTEXT, CONTEXT_URL],
        "type": ["VerifiableCredential", type_name],
        "issuer": issuer,
        "validFrom": valid_from,
    }
    if valid_until is None and "expiryDate" in subject:
        valid_until = f"{subject['expiryDate']}T23:59:59Z"
    if valid_until is not None:
        credential["validUntil"] = valid_until
    credential["credentialSubject"] = subject
    credential["credentialSchema"] = credential_schema(type_name)
    return credential


# --------------------------------------------------------------------------- display


def _language(lang: object) -> str:
    if not isinstance(lang, str):
        return "en"
    base = lang.replace("_", "-").split("-", 1)[0].lower()
    return base if base in LANGUAGES else "en"


def display_name(type_name: str, lang: str = "en") -> str:
    """The name of credential type ``type_name`` in ``lang`` (BCP 47; English fallback).

    Raises :class:`UnknownCredentialTypeError` for a type we do not define.
    """
    names: Mapping[str, str] = _DISPLAY["credentials"][_check_type(type_name)]
    return names[_language(lang)]


def claim_label(type_name: str, claim: str, lang: str = "en") -> str:
    """The label of ``claim`` in ``lang`` (BCP 47; English fallback), for ``type_name`` or ``"*"``.

    A type may refine a generic label (a guardianship's ``familyName`` is the
    guardian's); ``"*"`` asks for the generic one. A claim outside the
    vocabulary is returned as its own name. Raises
    :class:`UnknownCredentialTypeError` for an unknown ``type_name``.
    """
    claims: Mapping[str, Mapping[str, Mapping[str, str]]] = _DISPLAY["claims"]
    if type_name != "*":
        _check_type(type_name)
        override = claims.get(type_name, {}).get(claim)
        if override is not None:
            return override[_language(lang)]
    labels = claims["*"].get(claim)
    if labels is None:
        return claim
    return labels[_language(lang)]


# --------------------------------------------------------------------------- validation


def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True  # format only constrains strings
    if not _DATETIME_RE.fullmatch(value):
        return False
    text = value.replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # keep at most microseconds for fromisoformat
        digits = re.match(r"[0-9]+", rest)
        assert digits is not None
        text = f"{head}.{digits.group()[:6]}{rest[digits.end() :]}"
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_RE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


@cache
def _validator(type_name: str) -> Draft202012Validator:
    # jsonschema is imported here, not with the module: with the compiled predicates
    # it runs only to explain a credential that fails, so most processes never load it.
    from jsonschema import Draft202012Validator, FormatChecker

    # Our own checker, so results do not depend on which optional format packages
    # (rfc3339-validator, ...) happen to be installed.
    formats = FormatChecker(formats=())
    formats.checks("date-time")(_is_datetime)
    formats.checks("date")(_is_date)
    return Draft202012Validator(dict(_schema(type_name)), format_checker=formats)


@cache
def _conforms(type_name: str) -> Predicate | None:
    """The type's schema compiled once into a yes/no predicate (``None``: not compilable).

    jsonschema resolves references and builds validators on every call; the
    compiled predicate answers the common case (a valid credential) without
    that, and jsonschema runs only to list the violations of an invalid one.
    """
    try:
        return compile_schema(_schema(type_name), {"date-time": _is_datetime, "date": _is_date})
    except UnsupportedSchema:
        return None


def _pointer(parts: Iterable[object]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _within_bounds(instance: object) -> bool:
    """The fast yes of :func:`_bound`: no paths built, plain types checked first, and
    leaves checked where they are found instead of going through the stack."""
    stack: list[tuple[object, int]] = [(instance, 0)]
    nodes = 0
    leaf = (int, float, bool, type(None))
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH:
            return False
        kind = type(node)
        if kind is dict:
            children: Iterable[object] = node.values()  # type: ignore[attr-defined]
            try:
                "".join(node)  # type: ignore[arg-type] # one C call: every key is a str
            except TypeError:
                return False
        elif kind is list:
            children = node  # type: ignore[assignment]
        elif kind is str:
            if len(node) > _MAX_STRING:  # type: ignore[arg-type]
                return False
            continue
        elif kind in leaf:
            continue
        else:
            return False  # anything unusual (subclasses included) takes the careful path
        for child in children:
            child_kind = type(child)
            if child_kind is str:
                nodes += 1
                if len(child) > _MAX_STRING:  # type: ignore[arg-type]
                    return False
            elif child_kind in leaf:
                nodes += 1
            else:
                stack.append((child, depth + 1))
        if nodes > MAX_NODES:
            return False
    return nodes <= MAX_NODES


def _bound(instance: object) -> list[tuple[str, str]]:
    """Reject what is too big, too deep or not JSON, before jsonschema sees it."""
    if _within_bounds(instance):
        return []
    stack: list[tuple[object, int, str]] = [(instance, 0, "")]
    nodes = 0
    while stack:
        node, depth, path = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            return [("", f"the credential has more than {MAX_NODES} values")]
        if depth > MAX_DEPTH:
            return [(path, f"the credential nests deeper than {MAX_DEPTH}")]
        if isinstance(node, Mapping):
            for key, value in node.items():
                if not isinstance(key, str):
                    return [(path, "object keys must be strings")]
                stack.append((value, depth + 1, f"{path}/{_pointer([key])[1:]}"))
        elif isinstance(node, list | tuple):
            stack.extend((v, depth + 1, f"{path}/{i}") for i, v in enumerate(node))
        elif isinstance(node, str):
            if len(node) > _MAX_STRING:
                return [(path, f"a string is longer than {_MAX_STRING} characters")]
        elif node is not None and not isinstance(node, bool | int | float):
            return [(path, f"{type(node).__name__} is not a JSON value")]
    return []


def _date_field(subject: Mapping[str, Any], name: str) -> date | None:
    value = subject.get(name)
    if isinstance(value, str) and _is_date(value) and _DATE_RE.fullmatch(value):
        return date.fromisoformat(value)
    return None


def _semantic_errors(type_name: str, subject: object) -> list[tuple[str, str]]:
    """Rules JSON Schema cannot state: the order of dates, a minor being a minor."""
    if not isinstance(subject, Mapping):
        return []
    errors: list[tuple[str, str]] = []
    base = "/credentialSubject"
    issued = _date_field(subject, "issueDate")
    expires = _date_field(subject, "expiryDate")
    born = _date_field(subject, "birthDate")
    if issued and expires and expires < issued:
        errors.append((f"{base}/expiryDate", "expiryDate is before issueDate"))
    if born and issued and born > issued:
        errors.append((f"{base}/birthDate", "birthDate is after issueDate"))
    start = _date_field(subject, "startDate")
    if start and expires and start > expires:
        errors.append((f"{base}/startDate", "startDate is after expiryDate"))
    minor_born = _date_field(subject, "minorBirthDate")
    if type_name == "GuardianshipAuthorisation" and minor_born and issued:
        eighteen = _add_years(minor_born, 18)
        if issued >= eighteen:
            errors.append((f"{base}/minorBirthDate", "the person is not a minor on issueDate"))
        if expires and expires > eighteen:
            errors.append((f"{base}/expiryDate", "expiryDate is after the minor turns 18"))
    return errors


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _errors_for(type_name: str, credential: Mapping[str, Any]) -> list[tuple[str, str]]:
    conforms = _conforms(type_name)
    if conforms is not None and conforms(credential):
        return sorted(set(_semantic_errors(type_name, credential.get("credentialSubject"))))
    found: list[tuple[str, str]] = []
    error: _JSValidationError
    for error in _validator(type_name).iter_errors(credential):
        message = error.message
        allowed = error.validator_value
        if error.validator == "enum" and isinstance(allowed, list) and len(allowed) > 12:
            # a 250-code country list helps nobody reading the error
            message = f"{error.instance!r} is not one of the {len(allowed)} allowed codes"
        found.append((_pointer(error.absolute_path), message))
    found.extend(_semantic_errors(type_name, credential.get("credentialSubject")))
    return sorted(set(found))


def _types(credential: Mapping[str, Any]) -> list[str]:
    raw = credential.get("type")
    values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return [t for t in values if isinstance(t, str) and t in _TYPES]


def validate_credential(credential: Mapping[str, Any]) -> None:
    """Check an (unsigned or signed) credential against its vocabulary schemas, for issuing.

    The schemas used are those of every vocabulary type in ``type`` and every
    schema its ``credentialSchema`` names (which must all be ours). Raises
    :class:`SchemaValidationError` listing every violation, including when the
    credential names no vocabulary type or is too large or deep to validate.
    """
    if not isinstance(credential, Mapping):
        raise SchemaValidationError([("", "a credential must be a JSON object")])
    bounded = _bound(credential)
    if bounded:
        raise SchemaValidationError(bounded)
    types = _types(credential)
    if not types:
        raise SchemaValidationError(
            [("/type", "the credential names no type of the immigration vocabulary")]
        )
    errors: list[tuple[str, str]] = []
    # the schemas its credentialSchema names must be ours too, or verifiers
    # (check_schema) will refuse the credential
    raw = credential.get("credentialSchema", [])
    for position, entry in enumerate(raw if isinstance(raw, list) else [raw]):
        entry_id = entry.get("id") if isinstance(entry, Mapping) else None
        try:
            types.append(type_for_schema_id(entry_id))  # type: ignore[arg-type]
        except UnknownCredentialTypeError:
            where = "/credentialSchema" + (f"/{position}" if isinstance(raw, list) else "")
            errors.append((where, "not a JsonSchema of the immigration vocabulary"))
    for type_name in dict.fromkeys(types):
        errors.extend(_errors_for(type_name, credential))
    if errors:
        raise SchemaValidationError(sorted(set(errors)))


def check_schema(credential: Mapping[str, Any]) -> Check:
    """The ``schema`` check of verification: the credential conforms to its ``credentialSchema``.

    Skipped when the credential has no ``credentialSchema``. Each entry must
    be of type ``JsonSchema`` with one of our schema ids; others fail with
    ``schema_unknown`` (we never fetch schemas from URLs). Violations fail
    with ``schema_violation``; ``details["errors"]`` lists every one as
    ``{"path", "message"}``. Never raises for bad input.
    """
    if not isinstance(credential, Mapping) or "credentialSchema" not in credential:
        return Check.skipped("schema", "the credential names no credentialSchema")
    raw = credential["credentialSchema"]
    entries = raw if isinstance(raw, list) else [raw]
    if not entries or len(entries) > 8:
        return Check.failed("schema", "schema_unknown", "credentialSchema must list 1 to 8 schemas")
    type_names: list[str] = []
    for entry in entries:
        entry_id = entry.get("id") if isinstance(entry, Mapping) else None
        entry_type = entry.get("type") if isinstance(entry, Mapping) else None
        if entry_type != "JsonSchema" or not isinstance(entry_id, str):
            return Check.failed(
                "schema",
                "schema_unknown",
                f"unsupported credentialSchema entry (type {entry_type!r})",
            )
        try:
            type_names.append(type_for_schema_id(entry_id))
        except UnknownCredentialTypeError:
            return Check.failed(
                "schema", "schema_unknown", f"the schema {entry_id} is not one we know"
            )
    bounded = _bound(credential)
    if bounded:
        return Check.failed(
            "schema",
            "schema_violation",
            bounded[0][1],
            errors=[{"path": p, "message": m} for p, m in bounded],
        )
    errors: list[tuple[str, str]] = []
    for type_name in dict.fromkeys(type_names):
        errors.extend(_errors_for(type_name, credential))
    if errors:
        listed = sorted(set(errors))
        first_path, first_message = listed[0]
        return Check.failed(
            "schema",
            "schema_violation",
            f"{len(listed)} schema violation(s), first at {first_path or '/'}: {first_message}",
            errors=[{"path": p, "message": m} for p, m in listed],
        )
    return Check.passed(
        "schema", "conforms to the " + ", ".join(dict.fromkeys(type_names)) + " schema"
    )
