"""The W3C Verifiable Credentials Data Model 2.0: credentials and presentations as JSON.

:meth:`Credential.from_json` and :meth:`Presentation.from_json` validate the
JSON form against the data model's normative rules and collect *every*
violation into one :class:`~credentials.errors.ValidationError` (its
``errors`` is a tuple of ``(path, message)``), so an issuer's form or a
verifier's report can show them all at once. What is checked:

* ``@context``: present, an ordered set whose first item is
  ``https://www.w3.org/ns/credentials/v2``; later items are URLs or objects,
  and an inline object redefines no protected term (one of the base context's,
  or one an earlier inline context marks ``@protected``);
* ``type``: a string or a list of strings that includes
  ``VerifiableCredential`` (``VerifiablePresentation`` for presentations);
* ``id`` (when present): a single URL;
* ``issuer``: a URL, or an object whose ``id`` is a URL;
* ``credentialSubject``: an object or a non-empty list of objects, each with
  at least one claim, ``id`` a URL when present;
* ``validFrom`` / ``validUntil``: XML Schema ``dateTimeStamp`` (the time zone
  is required), and ``validFrom`` not after ``validUntil``;
* ``credentialStatus``, ``credentialSchema``, ``evidence``, ``termsOfUse``,
  ``refreshService``: an object or a list of objects, each with a ``type``;
  ``credentialSchema`` entries also need an ``id``; any ``id`` is a URL;
* ``name`` / ``description`` (also the issuer's): a string, a language value
  object (``@value``, ``@language``, ``@direction`` and nothing else) or a list
  of those;
* ``relatedResource``: objects, each with a unique ``id`` URL and a
  ``digestSRI`` or ``digestMultibase``;
* presentations: ``holder`` a URL or an object with an ``id`` URL;
  ``verifiableCredential`` an object or a list of objects (embedded
  credentials are validated when they are verified, one by one).

The data model is JSON-LD compatible, but nothing here expands JSON-LD: the
rules are checked on the JSON as it is, which is what the JCS-based
cryptosuites sign.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from credentials.errors import ParseError, ValidationError
from credentials.result import Check

__all__ = [
    "CREDENTIALS_V2_CONTEXT",
    "Credential",
    "Presentation",
    "check_validity_period",
    "parse_datetime",
]

#: The base context every VC Data Model 2.0 document starts with.
CREDENTIALS_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"

_VC_TYPE = "VerifiableCredential"
_VP_TYPE = "VerifiablePresentation"

# RFC 3986 absolute URI: a scheme, a colon, then something without whitespace.
_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+")
_MAX_URL = 8192

# XML Schema dateTimeStamp: the time zone is required (Z or +hh:mm / -hh:mm).
_DATETIME_RE = re.compile(
    r"(?P<year>-?[0-9]{4,})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?P<frac>\.[0-9]+)?"
    r"(?P<tz>Z|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)

# Properties that are "an object or a list of objects, each with a type";
# the second item says whether each also needs an id.
_TYPED_PROPERTIES = (
    ("credentialStatus", False),
    ("credentialSchema", True),
    ("evidence", False),
    ("termsOfUse", False),
    ("refreshService", False),
)
_MAX_LIST = 1024  # entries we look at in any one list property

# Terms the base context (https://www.w3.org/ns/credentials/v2, "@protected") defines
# and an inline context must not redefine; "id" and "type" (aliases of @id and @type)
# are left out, since restating them as such is no redefinition.
_BASE_CONTEXT_TERMS = (
    "VerifiableCredential",
    "VerifiablePresentation",
    "EnvelopedVerifiableCredential",
    "EnvelopedVerifiablePresentation",
    "DataIntegrityProof",
    "BitstringStatusListCredential",
    "BitstringStatusListEntry",
    "JsonSchema",
    "JsonSchemaCredential",
    "credentialSubject",
    "credentialStatus",
    "credentialSchema",
    "issuer",
    "holder",
    "validFrom",
    "validUntil",
    "evidence",
    "refreshService",
    "termsOfUse",
    "verifiableCredential",
    "proof",
    "name",
    "description",
    "relatedResource",
    "digestSRI",
    "digestMultibase",
    "mediaType",
)
_FROM_BASE = object()  # a base context definition: equal to no inline one

# A language value object's members (VC Data Model 2.0, 11.1 Language and Base Direction).
_LANGUAGE_VALUE_KEYS = frozenset({"@value", "@language", "@direction"})
# BCP 47 well-formedness, in the shape of its langtag production (primary language,
# extlang, script, region, variants, extensions, private use) or a private-use tag.
_LANGUAGE_TAG_RE = re.compile(
    r"(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"
    r"(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-[Xx](?:-[A-Za-z0-9]{1,8})+)?"
    r"|[Xx](?:-[A-Za-z0-9]{1,8})+",
    re.ASCII,
)
# Subresource Integrity hash expressions, space separated (base64 or base64url).
_SRI_RE = re.compile(
    r"sha(?:256|384|512)-[A-Za-z0-9+/_-]+={0,2}(?: sha(?:256|384|512)-[A-Za-z0-9+/_-]+={0,2})*"
)
_MULTIBASE_RE = re.compile(r"[uzm][A-Za-z0-9+/_-]+={0,2}")


def parse_datetime(text: Any) -> datetime:
    """Parse an XML Schema ``dateTimeStamp`` into an aware :class:`datetime`.

    The time zone is required. Fractions finer than a microsecond are
    truncated. Raises :class:`~credentials.errors.ParseError` for anything
    else, including dates Python cannot hold (years before 1 or after 9999)
    and the XML Schema spelling ``24:00:00``.
    """
    if not isinstance(text, str):
        raise ParseError(f"a dateTimeStamp must be a string, not {type(text).__name__}")
    if len(text) > 64:
        raise ParseError(f"{text[:64]!r}... is too long for a dateTimeStamp")
    return _parse_datetime(text)


# One verification reads the same validFrom/validUntil several times (data model,
# JWT claims, validity); datetimes are immutable, so parsed ones are shared.
@lru_cache(maxsize=1024)
def _parse_datetime(text: str) -> datetime:
    match = _DATETIME_RE.fullmatch(text)
    if match is None:
        raise ParseError(f"{text[:64]!r} is not an XML Schema dateTimeStamp (time zone required)")
    year = int(match["year"])
    if not 1 <= year <= 9999:
        raise ParseError(f"year {year} is outside the supported range 0001-9999")
    tz = match["tz"]
    if tz == "Z":
        zone: timezone = UTC
    else:
        hours, minutes = int(tz[1:3]), int(tz[4:6])
        if hours > 14 or minutes > 59 or (hours == 14 and minutes):
            raise ParseError(f"time zone offset {tz} is out of range")
        offset = timedelta(hours=hours, minutes=minutes)
        zone = timezone(-offset if tz[0] == "-" else offset)
    frac = match["frac"]
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    try:
        return datetime(
            year,
            int(match["month"]),
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"]),
            micro,
            tzinfo=zone,
        )
    except ValueError as exc:
        raise ParseError(f"{text!r} is not a valid date and time: {exc}") from exc


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= _MAX_URL and bool(_URL_RE.fullmatch(value))


class _Collector:
    """Collects (path, message) violations while a document is walked."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.errors.append((path, message))

    def url(self, value: Any, path: str) -> None:
        if not _is_url(value):
            self.add(path, "must be a URL")

    def datetime(self, doc: Mapping[str, Any], name: str) -> datetime | None:
        if name not in doc:
            return None
        try:
            return parse_datetime(doc[name])
        except ParseError as exc:
            self.add(f"/{name}", str(exc))
            return None

    def context(self, doc: Mapping[str, Any]) -> None:
        if "@context" not in doc:
            self.add("/@context", "is required")
            return
        ctx = doc["@context"]
        items = [ctx] if isinstance(ctx, str) else ctx
        if not isinstance(items, list) or not items:
            self.add("/@context", "must be a non-empty ordered set (a list)")
            return
        if items[0] != CREDENTIALS_V2_CONTEXT:
            self.add("/@context/0", f"the first context must be {CREDENTIALS_V2_CONTEXT}")
        # JSON-LD 1.1 protected terms: the base context protects its terms, and an
        # inline context with "@protected": true protects those it defines; a later
        # inline context that defines one of them differently is an error
        # (VC Data Model 2.0, 5.2.1: processors "produce an error when a JSON-LD
        # context redefines any term"). We see inline contexts only, not fetched ones.
        protected: dict[str, Any] | None = None  # built at the first inline context
        for i, item in enumerate(items[1:_MAX_LIST], start=1):
            if not (_is_url(item) or isinstance(item, Mapping)):
                self.add(f"/@context/{i}", "must be a URL or a context object")
                continue
            if not isinstance(item, Mapping):
                continue
            if protected is None:
                protected = dict.fromkeys(_BASE_CONTEXT_TERMS, _FROM_BASE)
            for term, definition in list(item.items())[:_MAX_LIST]:
                if term.startswith("@"):
                    continue
                if term in protected and protected[term] != definition:
                    self.add(
                        f"/@context/{i}/{term}",
                        "redefines a protected term (JSON-LD protected term redefinition)",
                    )
            if item.get("@protected") is True:
                for term, definition in list(item.items())[:_MAX_LIST]:
                    if not term.startswith("@"):
                        protected.setdefault(term, definition)

    def types(self, doc: Mapping[str, Any], required: str) -> tuple[str, ...]:
        if "type" not in doc:
            self.add("/type", "is required")
            return ()
        value = doc["type"]
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            self.add("/type", "must be a string or a non-empty list of strings")
            return ()
        found: list[str] = []
        for i, item in enumerate(items[:_MAX_LIST]):
            if isinstance(item, str) and item:
                found.append(item)
            else:
                self.add(f"/type/{i}", "must be a non-empty string")
        if required not in found:
            self.add("/type", f"must include {required}")
        return tuple(found)

    def entity(self, doc: Mapping[str, Any], name: str, *, required: bool) -> str | None:
        """A property that is a URL or an object with an ``id`` URL (issuer, holder)."""
        if name not in doc:
            if required:
                self.add(f"/{name}", "is required")
            return None
        value = doc[name]
        if isinstance(value, str):
            self.url(value, f"/{name}")
            return value if _is_url(value) else None
        if isinstance(value, Mapping):
            if "id" not in value:
                self.add(f"/{name}/id", "is required when the value is an object")
                return None
            self.url(value["id"], f"/{name}/id")
            ident = value["id"]
            return ident if _is_url(ident) else None
        self.add(f"/{name}", "must be a URL or an object with an id")
        return None

    def objects(self, doc: Mapping[str, Any], name: str) -> list[tuple[str, Mapping[str, Any]]]:
        """An object-or-list-of-objects property, as (path, object) pairs."""
        value = doc[name]
        if isinstance(value, Mapping):
            return [(f"/{name}", value)]
        if isinstance(value, list):
            if not value:
                self.add(f"/{name}", "must not be an empty list")
            out = []
            for i, item in enumerate(value[:_MAX_LIST]):
                if isinstance(item, Mapping):
                    out.append((f"/{name}/{i}", item))
                else:
                    self.add(f"/{name}/{i}", "must be an object")
            return out
        self.add(f"/{name}", "must be an object or a list of objects")
        return []

    def typed(self, doc: Mapping[str, Any], name: str, *, needs_id: bool) -> None:
        if name not in doc:
            return
        for path, obj in self.objects(doc, name):
            if "type" not in obj:
                self.add(f"{path}/type", "is required")
            else:
                kind = obj["type"]
                items = [kind] if isinstance(kind, str) else kind
                if (
                    not isinstance(items, list)
                    or not items
                    or not all(isinstance(t, str) and t for t in items)
                ):
                    self.add(f"{path}/type", "must be a string or a non-empty list of strings")
            if "id" in obj:
                self.url(obj["id"], f"{path}/id")
            elif needs_id:
                self.add(f"{path}/id", "is required")

    def text(self, doc: Mapping[str, Any], name: str, at: str = "") -> None:
        """``name``/``description``: a string, a language value object or a list of those.

        A language value object (VC Data Model 2.0, 11.1) holds ``@value`` (a
        string) and optionally ``@language`` (a BCP 47 tag) and ``@direction``
        (``ltr`` or ``rtl``), and nothing else.
        """
        if name not in doc:
            return
        value = doc[name]
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items[:_MAX_LIST]):
            path = f"{at}/{name}/{i}" if isinstance(value, list) else f"{at}/{name}"
            if isinstance(item, str):
                continue
            if not isinstance(item, Mapping):
                self.add(path, "must be a string, a language value object or a list of those")
                continue
            extra = sorted(set(item) - _LANGUAGE_VALUE_KEYS)
            if extra:
                self.add(path, f"a language value object holds no {', '.join(extra)[:120]}")
            if not isinstance(item.get("@value"), str):
                self.add(f"{path}/@value", "is required and must be a string")
            language = item.get("@language")
            if language is not None and not (
                isinstance(language, str) and _LANGUAGE_TAG_RE.fullmatch(language)
            ):
                self.add(f"{path}/@language", "must be a well-formed BCP 47 language tag")
            direction = item.get("@direction")
            if direction is not None and direction not in ("ltr", "rtl"):
                self.add(f"{path}/@direction", "must be ltr or rtl")

    def related_resources(self, doc: Mapping[str, Any]) -> None:
        """``relatedResource`` (VC Data Model 2.0, 5.3): objects with a unique ``id`` URL
        and at least a ``digestSRI`` or a ``digestMultibase``."""
        if "relatedResource" not in doc:
            return
        seen: set[str] = set()
        for path, resource in self.objects(doc, "relatedResource"):
            ident = resource.get("id")
            if ident is None:
                self.add(f"{path}/id", "is required")
            else:
                self.url(ident, f"{path}/id")
                if isinstance(ident, str):
                    if ident in seen:
                        self.add(f"{path}/id", "must be unique among the related resources")
                    seen.add(ident)
            if "digestSRI" not in resource and "digestMultibase" not in resource:
                self.add(path, "needs a digestSRI or a digestMultibase")
            sri = resource.get("digestSRI")
            if sri is not None and not (isinstance(sri, str) and _SRI_RE.fullmatch(sri)):
                self.add(f"{path}/digestSRI", "must be an SRI hash expression (sha384-...)")
            multibase = resource.get("digestMultibase")
            if multibase is not None and not (
                isinstance(multibase, str) and _MULTIBASE_RE.fullmatch(multibase)
            ):
                self.add(f"{path}/digestMultibase", "must be a multibase string")
            media = resource.get("mediaType")
            if media is not None and not isinstance(media, str):
                self.add(f"{path}/mediaType", "must be a string")

    def common(self, doc: Mapping[str, Any]) -> None:
        self.context(doc)
        if "id" in doc:
            self.url(doc["id"], "/id")
        self.text(doc, "name")
        self.text(doc, "description")
        self.related_resources(doc)


def _subject_ids(doc: Mapping[str, Any], c: _Collector) -> tuple[str, ...]:
    if "credentialSubject" not in doc:
        c.add("/credentialSubject", "is required")
        return ()
    ids: list[str] = []
    for path, subject in c.objects(doc, "credentialSubject"):
        if not subject:
            c.add(path, "must hold at least one claim")
        if "id" in subject:
            c.url(subject["id"], f"{path}/id")
            if _is_url(subject["id"]):
                ids.append(subject["id"])
    return tuple(ids)


_FastFields = tuple[
    str | None, tuple[str, ...], str, tuple[str, ...], datetime | None, datetime | None
]


def _fast_types(value: Any) -> bool:
    """A ``type`` value the collecting pass accepts (a non-empty list of non-empty strings)."""
    if isinstance(value, str):
        return bool(value)
    return (
        isinstance(value, list)
        and 0 < len(value) <= _MAX_LIST
        and all(isinstance(t, str) and t for t in value)
    )


def _fast_credential(data: Mapping[str, Any]) -> _FastFields | None:
    """The typed fields of a credential in the common, valid shape; None to fall back.

    A fast path for :meth:`Credential.from_json`: it accepts only documents
    that the collecting pass (:meth:`Credential._from_json_full`) accepts, with
    the same fields, and returns None for anything else (an error, or a shape
    it does not handle: inline contexts, language value objects,
    ``relatedResource``, lists longer than it looks at), so that the
    collecting pass decides and explains. Objects must be plain ``dict`` (as
    JSON reads them); other mappings take the collecting pass.
    ``tests/credentials_jose/test_jose_fast_path.py`` checks the two agree on
    mutated credentials.
    """
    ctx = data.get("@context")
    if (
        type(ctx) is not list
        or not 0 < len(ctx) <= _MAX_LIST
        or ctx[0] != CREDENTIALS_V2_CONTEXT
        or not all(_is_url(item) for item in ctx[1:])
    ):
        return None
    ident = data.get("id")
    if "id" in data and not _is_url(ident):
        return None
    if "relatedResource" in data:
        return None
    for name in ("name", "description"):
        if name in data and not isinstance(data[name], str):
            return None
    types = data.get("type")
    if type(types) is not list or not _fast_types(types) or _VC_TYPE not in types:
        return None
    issuer = data.get("issuer")
    if type(issuer) is dict:
        for name in ("name", "description"):
            if name in issuer and not isinstance(issuer[name], str):
                return None
        issuer = issuer.get("id")
    if not isinstance(issuer, str) or not _is_url(issuer):
        return None
    subjects = data.get("credentialSubject")
    if type(subjects) is dict:
        subjects = [subjects]
    elif type(subjects) is not list or not 0 < len(subjects) <= _MAX_LIST:
        return None
    subject_ids: list[str] = []
    for subject in subjects:
        if type(subject) is not dict or not subject:
            return None
        if "id" in subject:
            if not _is_url(subject["id"]):
                return None
            subject_ids.append(subject["id"])
    try:
        valid_from = parse_datetime(data["validFrom"]) if "validFrom" in data else None
        valid_until = parse_datetime(data["validUntil"]) if "validUntil" in data else None
    except ParseError:
        return None
    if valid_from and valid_until and valid_from > valid_until:
        return None
    for name, needs_id in _TYPED_PROPERTIES:
        if name not in data:
            continue
        value = data[name]
        items = [value] if type(value) is dict else value
        if type(items) is not list or not 0 < len(items) <= _MAX_LIST:
            return None
        for obj in items:
            if type(obj) is not dict or not _fast_types(obj.get("type")):
                return None
            if "id" in obj:
                if not _is_url(obj["id"]):
                    return None
            elif needs_id:
                return None
    return (
        ident if isinstance(ident, str) else None,
        tuple(types),
        issuer,
        tuple(subject_ids),
        valid_from,
        valid_until,
    )


@dataclass(frozen=True, slots=True)
class Credential:
    """A credential whose JSON form follows the VC Data Model 2.0.

    Built only by :meth:`from_json`. ``document`` is a read-only view of the
    JSON object it was built from (including any ``proof``); the other fields
    are what a verifier asks of it most often. Nothing here says the
    credential is authentic: that is what the securing formats check.
    """

    document: Mapping[str, Any]
    id: str | None
    types: tuple[str, ...]
    issuer: str
    subject_ids: tuple[str, ...]
    valid_from: datetime | None
    valid_until: datetime | None

    @classmethod
    def from_json(cls, data: Any) -> Credential:
        """Validate a credential's JSON object.

        Raises :class:`~credentials.errors.ValidationError` listing every
        violation of the data model found (see the module docstring).
        """
        if not isinstance(data, Mapping):
            raise ValidationError([("", "a credential must be a JSON object")])
        fast = _fast_credential(data)
        if fast is not None:
            return cls(MappingProxyType(dict(data)), *fast)
        return cls._from_json_full(data)

    @classmethod
    def _from_json_full(cls, data: Mapping[str, Any]) -> Credential:
        """:meth:`from_json` by the collecting pass alone (every violation listed)."""
        c = _Collector()
        c.common(data)
        types = c.types(data, _VC_TYPE)
        issuer = c.entity(data, "issuer", required=True)
        if isinstance(data.get("issuer"), Mapping):
            c.text(data["issuer"], "name", "/issuer")
            c.text(data["issuer"], "description", "/issuer")
        subjects = _subject_ids(data, c)
        valid_from = c.datetime(data, "validFrom")
        valid_until = c.datetime(data, "validUntil")
        if valid_from and valid_until and valid_from > valid_until:
            c.add("/validUntil", "is before validFrom")
        for name, needs_id in _TYPED_PROPERTIES:
            c.typed(data, name, needs_id=needs_id)
        if c.errors or issuer is None:
            raise ValidationError(c.errors or [("/issuer", "is required")])
        ident = data.get("id")
        return cls(
            MappingProxyType(dict(data)),
            ident if isinstance(ident, str) else None,
            types,
            issuer,
            subjects,
            valid_from,
            valid_until,
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON object (a shallow copy of :attr:`document`)."""
        return dict(self.document)

    def check_validity_period(self, now: datetime | None = None) -> Check:
        """The ``validity_period`` check at ``now``; see :func:`check_validity_period`."""
        return _validity_check(self.valid_from, self.valid_until, now)

    def typed_fields(self) -> dict[str, Any]:
        """The typed fields of a :class:`~credentials.result.VerificationResult` of kind
        credential (issuer, types, subject, claims, validity period).

        For a securing format to pass to ``VerificationResult.of`` once it has
        verified this credential; ``subject`` and ``claims`` only when the
        credential has exactly one subject (several would be ambiguous).
        """
        raw = self.document.get("credentialSubject")
        if isinstance(raw, list) and len(raw) == 1:
            raw = raw[0]
        subject: str | None = None
        claims: dict[str, Any] = {}
        if isinstance(raw, Mapping):
            ident = raw.get("id")
            subject = ident if isinstance(ident, str) else None
            claims = {k: v for k, v in raw.items() if k != "id"}
        return {
            "kind": "credential",
            "issuer": self.issuer,
            "types": self.types,
            "subject": subject,
            "claims": claims,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
        }


@dataclass(frozen=True, slots=True)
class Presentation:
    """A presentation whose JSON form follows the VC Data Model 2.0.

    ``credentials`` are the embedded credential objects as given (each is
    validated and verified on its own by :func:`credentials.verify.verify`).
    """

    document: Mapping[str, Any]
    id: str | None
    types: tuple[str, ...]
    holder: str | None
    credentials: tuple[Mapping[str, Any], ...]

    @classmethod
    def from_json(cls, data: Any) -> Presentation:
        """Validate a presentation's JSON object.

        Raises :class:`~credentials.errors.ValidationError` listing every
        violation found.
        """
        if not isinstance(data, Mapping):
            raise ValidationError([("", "a presentation must be a JSON object")])
        c = _Collector()
        c.common(data)
        types = c.types(data, _VP_TYPE)
        holder = c.entity(data, "holder", required=False)
        embedded: list[Mapping[str, Any]] = []
        if "verifiableCredential" in data:
            embedded = [obj for _, obj in c.objects(data, "verifiableCredential")]
        for name, needs_id in _TYPED_PROPERTIES[2:4]:  # evidence and termsOfUse apply
            c.typed(data, name, needs_id=needs_id)
        if c.errors:
            raise ValidationError(c.errors)
        ident = data.get("id")
        return cls(
            MappingProxyType(dict(data)),
            ident if isinstance(ident, str) else None,
            types,
            holder,
            tuple(embedded),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON object (a shallow copy of :attr:`document`)."""
        return dict(self.document)


def _validity_check(
    valid_from: datetime | None, valid_until: datetime | None, now: datetime | None
) -> Check:
    moment = datetime.now(UTC) if now is None else now
    if moment.tzinfo is None:
        raise TypeError("now must be an aware datetime")
    if valid_from is not None and moment < valid_from:
        return Check.failed(
            "validity_period",
            "not_yet_valid",
            f"not valid before {valid_from.isoformat()}",
            valid_from=valid_from.isoformat(),
        )
    if valid_until is not None and moment > valid_until:
        return Check.failed(
            "validity_period",
            "expired",
            f"expired at {valid_until.isoformat()}",
            valid_until=valid_until.isoformat(),
        )
    if valid_from is None and valid_until is None:
        return Check.passed("validity_period", "no validFrom or validUntil: always valid")
    return Check.passed("validity_period", "within validFrom and validUntil")


def check_validity_period(document: Mapping[str, Any], now: datetime | None = None) -> Check:
    """The ``validity_period`` check of a credential's JSON object at ``now`` (default: now).

    Fails with code ``not_yet_valid`` before ``validFrom`` and ``expired``
    after ``validUntil`` (both bounds inclusive: valid at the exact instant);
    fails with ``invalid_datetime`` when either is not a dateTimeStamp.
    Raises ``TypeError`` only for a naive ``now`` (a programming error).
    """
    bounds: list[datetime | None] = []
    for name in ("validFrom", "validUntil"):
        value = document.get(name) if isinstance(document, Mapping) else None
        if value is None:
            bounds.append(None)
            continue
        try:
            bounds.append(parse_datetime(value))
        except ParseError as exc:
            return Check.failed("validity_period", "invalid_datetime", f"{name}: {exc}")
    return _validity_check(bounds[0], bounds[1], now)
