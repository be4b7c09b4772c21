"""Who may receive which record, for what purpose: principals, roles and release policies.

Every release from the vault to a principal goes through three gates, in
this order (the vault enforces 2 and 3 whatever policy is installed):

1. the :class:`ReleasePolicy` (by default :data:`DEFAULT_POLICY`, a
   declarative table of role -> allowed purposes) accepts the principal's
   role and the stated purpose;
2. no record asked for is restricted (GDPR article 18);
3. a record flagged as a minor's is released only when the caller presents
   an authorisation (a GuardianshipAuthorisation or a prosecutor's
   authorisation credential) that the injected :class:`AuthorisationVerifier`
   verifies for this subject and this principal, and that is valid now.

``ledger`` never imports ``credentials``: the verifier is an interface, and
``ssi_wallet`` wires the credential verifier into it.

Principals are authenticated by the caller (a login, mutual TLS, a signed
request); the vault takes the principal it is given.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from did_methods._wire.renamed import warn_renamed
from did_methods.errors import ParseError

__all__ = [
    "AUTHORISATION_KINDS",
    "DEFAULT_POLICY",
    "Authorisation",
    "AuthorisationVerifier",
    "DeclarativePolicy",
    "PolicyDecision",
    "Principal",
    "RecordInfo",
    "ReleasePolicy",
    "ReleaseRequest",
    "Role",
    "Rule",
]

#: The credential types that authorise the release of a minor's record.
AUTHORISATION_KINDS = frozenset({"GuardianshipAuthorisation", "ProsecutorAuthorisation"})
_MAX_TEXT = 256


class Role(enum.Enum):
    """The kinds of principals a vault knows."""

    ISSUING_AUTHORITY = "issuing-authority"
    MINISTRY = "ministry"
    NGO = "ngo"
    SUBJECT = "subject"

    @classmethod
    def parse(cls, text: str) -> Role:
        """The role named ``text``; raise :class:`~did_methods.errors.ParseError` otherwise."""
        for role in cls:
            if role.value == text:
                return role
        raise ParseError(f"unknown role {text[:40]!r}; one of {[r.value for r in cls]}")


def _check_text(value: object, what: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_TEXT:
        raise ParseError(f"{what} must be a string of 1 to {_MAX_TEXT} characters")
    if any(ord(c) < 0x20 for c in value):
        raise ParseError(f"{what} must not contain control characters")
    return value


@dataclass(frozen=True, slots=True)
class Principal:
    """Someone asking for a release: an ``id`` (a DID, an agency code) and a :class:`Role`.

    A principal of role ``SUBJECT`` is the data subject whose id is ``id``.
    Raises :class:`~did_methods.errors.ParseError` for an empty or oversized id.
    """

    id: str
    role: Role

    def __post_init__(self) -> None:
        _check_text(self.id, "principal id")
        if not isinstance(self.role, Role):
            raise ParseError("role must be a Role")


@dataclass(frozen=True, slots=True)
class RecordInfo:
    """What a policy may know of a record asked for: ids and flags, never its content."""

    record_id: str
    version: int
    minor: bool
    restricted: bool


@dataclass(frozen=True, slots=True)
class ReleaseRequest:
    """One request for a subject's records, as the policy sees it."""

    principal: Principal
    purpose: str
    subject_id: str
    records: tuple[RecordInfo, ...]


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """A policy's answer. Ask ``decision.ok``; a decision is not a truth value.

    ``code`` is stable (``allowed``, ``role_not_allowed``, ``purpose_not_allowed``,
    ``not_own_record`` or a custom policy's code); ``reason`` explains it.
    """

    ok: bool
    code: str
    reason: str

    def __bool__(self) -> bool:
        raise TypeError("ask decision.ok; a PolicyDecision is not a truth value")

    @property
    def allowed(self) -> bool:
        """Deprecated spelling of :attr:`ok` (warns; goes in the next release)."""
        warn_renamed("PolicyDecision.allowed", "PolicyDecision.ok")
        return self.ok

    @classmethod
    def allow(cls, reason: str = "allowed by policy") -> PolicyDecision:
        """An allowing decision."""
        return cls(True, "allowed", reason)

    @classmethod
    def refuse(cls, code: str, reason: str) -> PolicyDecision:
        """A refusing decision with a stable ``code``."""
        return cls(False, code, reason)


@runtime_checkable
class ReleasePolicy(Protocol):
    """Decides whether a principal may receive a subject's records for a purpose.

    Must not raise for any well-formed request; return a refusing
    :class:`PolicyDecision` instead.
    """

    def decide(self, request: ReleaseRequest) -> PolicyDecision:
        """Allow or refuse ``request``."""
        ...


@dataclass(frozen=True, slots=True)
class Rule:
    """One line of a declarative policy: ``role`` may receive records for ``purposes``.

    ``own_records_only`` (for the subject role) limits it to the principal's
    own records (principal id equal to the subject id).
    """

    role: Role
    purposes: frozenset[str]
    own_records_only: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.role, Role) or not isinstance(self.purposes, frozenset):
            raise ParseError("a rule is a Role and a frozenset of purposes")
        for purpose in self.purposes:
            _check_text(purpose, "purpose")


@dataclass(frozen=True, slots=True)
class DeclarativePolicy:
    """A :class:`ReleasePolicy` given as data: a tuple of :class:`Rule`.

    A request is allowed when some rule names the principal's role and the
    purpose (and, for ``own_records_only``, the subject is the principal);
    otherwise it is refused with ``role_not_allowed`` (no rule for the role),
    ``purpose_not_allowed`` or ``not_own_record``.
    """

    rules: tuple[Rule, ...]

    def decide(self, request: ReleaseRequest) -> PolicyDecision:
        """Apply the rules (see the class docstring)."""
        role_rules = [r for r in self.rules if r.role is request.principal.role]
        if not role_rules:
            return PolicyDecision.refuse(
                "role_not_allowed", f"no rule lets a {request.principal.role.value} receive records"
            )
        purpose_rules = [r for r in role_rules if request.purpose in r.purposes]
        if not purpose_rules:
            return PolicyDecision.refuse(
                "purpose_not_allowed",
                f"a {request.principal.role.value} may not receive records for "
                f"{request.purpose[:60]!r}",
            )
        for rule in purpose_rules:
            if not rule.own_records_only or request.principal.id == request.subject_id:
                return PolicyDecision.allow(
                    f"a {rule.role.value} may receive records for {request.purpose!r}"
                )
        return PolicyDecision.refuse("not_own_record", "a subject may receive only its own records")

    def to_json(self) -> list[dict[str, Any]]:
        """The rules as JSON: ``[{"role": ..., "purposes": [...], "ownRecordsOnly": bool}]``."""
        return [
            {
                "role": r.role.value,
                "purposes": sorted(r.purposes),
                "ownRecordsOnly": r.own_records_only,
            }
            for r in self.rules
        ]

    @classmethod
    def from_json(cls, data: object) -> DeclarativePolicy:
        """Parse :meth:`to_json` output; raise :class:`~did_methods.errors.ParseError`."""
        if not isinstance(data, Sequence) or isinstance(data, str) or len(data) > 256:
            raise ParseError("a policy is a list of at most 256 rules")
        rules: list[Rule] = []
        for item in data:
            if not isinstance(item, Mapping) or set(item) - {"role", "purposes", "ownRecordsOnly"}:
                raise ParseError("a rule has role, purposes and optionally ownRecordsOnly")
            purposes = item.get("purposes")
            own = item.get("ownRecordsOnly", False)
            role = item.get("role")
            if not isinstance(role, str) or not isinstance(own, bool):
                raise ParseError("role must be a string and ownRecordsOnly a boolean")
            if not isinstance(purposes, list) or len(purposes) > 256:
                raise ParseError("purposes must be a list of at most 256 strings")
            rules.append(Rule(Role.parse(role), frozenset(purposes), own))
        return cls(tuple(rules))

    @classmethod
    def of(cls, table: Mapping[Role, Iterable[str]]) -> DeclarativePolicy:
        """Build a policy from ``{role: purposes}``; the subject role gets ``own_records_only``."""
        return cls(
            tuple(Rule(role, frozenset(p), role is Role.SUBJECT) for role, p in table.items())
        )


#: The default policy. Purposes are short names; a deployment replaces this
#: table with its legal bases (GDPR article 6) per role.
DEFAULT_POLICY = DeclarativePolicy.of(
    {
        Role.ISSUING_AUTHORITY: (
            "issuance",
            "status-verification",
            "rectification",
            "legal-obligation",
        ),
        Role.MINISTRY: ("integration-services", "social-security", "legal-obligation"),
        Role.NGO: ("humanitarian-assistance", "family-reunification"),
        Role.SUBJECT: ("access", "portability"),
    }
)


@dataclass(frozen=True, slots=True)
class Authorisation:
    """What an :class:`AuthorisationVerifier` verified: who may see whose minor's records.

    ``kind`` is one of :data:`AUTHORISATION_KINDS`; ``subject_id`` is the minor;
    ``principal_id`` the guardian or prosecutor's office it authorises;
    ``issuer`` who issued it; it is valid until ``valid_until_ms`` (Unix ms,
    ``None`` for no end).
    """

    kind: str
    subject_id: str
    principal_id: str
    issuer: str
    valid_until_ms: int | None = None


@runtime_checkable
class AuthorisationVerifier(Protocol):
    """Verifies an authorisation credential presented for a minor's records.

    ``authorisation`` is whatever the caller presented (a credential as JSON,
    a compact JWS, an SD-JWT...). Return the :class:`Authorisation` it proves,
    after checking its signature, issuer accreditation, status and validity at
    ``now_ms``; raise :class:`~did_methods.errors.VerificationError` (any
    code) when it does not verify. ``ssi_wallet`` wires the ``credentials``
    verifier into this interface.
    """

    def verify(
        self, authorisation: object, *, subject_id: str, principal: Principal, now_ms: int
    ) -> Authorisation:
        """Verify ``authorisation`` for ``subject_id`` and ``principal`` at ``now_ms``."""
        ...
