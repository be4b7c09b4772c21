"""Structured verification results shared by every credential format.

A :class:`VerificationResult` is the list of checks that were run, each a
:class:`Check` with a stable ``code`` and a human ``message``. It is *not* a
boolean: ``bool(result)`` raises, so ``if verify(...):`` cannot silently
accept a forged credential. Ask ``result.ok``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal

from did_methods._wire.renamed import warn_renamed

__all__ = ["Check", "CheckStatus", "Kind", "VerificationResult"]

#: What a verified document is: a credential (an issuer's assertion, verified
#: with a key the issuer authorises for ``assertionMethod``) or a presentation
#: (a holder's answer, verified with an ``authentication`` key).
Kind = Literal["credential", "presentation"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})
# The typed fields and their empty values (see VerificationResult).
_UNVERIFIED: tuple[tuple[str, Any], ...] = (
    ("document", None),
    ("issuer", None),
    ("kind", None),
    ("types", ()),
    ("vct", None),
    ("subject", None),
    ("claims", _EMPTY),
    ("valid_from", None),
    ("valid_until", None),
    ("holder", None),
    ("credentials", ()),
)

#: ``passed``: the check ran and held; ``failed``: it ran and did not hold;
#: ``skipped``: it did not apply or was not asked for (e.g. no credentialStatus,
#: or holder binding without an expected nonce).
CheckStatus = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True, slots=True)
class Check:
    """One verification step and its outcome.

    ``name`` says which step (``syntax``, ``schema``, ``signature``,
    ``proof_purpose``, ``key_authorisation``, ``validity_period``, ``status``,
    ``holder_binding``, ...); ``code`` is stable and machine-readable (``ok``
    when passed, else e.g. ``signature_invalid``, ``expired``, ``revoked``).
    """

    name: str
    status: CheckStatus
    code: str
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def passed(cls, name: str, message: str, **details: Any) -> Check:
        """A check that held."""
        return cls(name, "passed", "ok", message, details)

    @classmethod
    def failed(cls, name: str, code: str, message: str, **details: Any) -> Check:
        """A check that did not hold, with its stable failure code."""
        return cls(name, "failed", code, message, details)

    @classmethod
    def skipped(cls, name: str, message: str, **details: Any) -> Check:
        """A check that did not apply or was not requested."""
        return cls(name, "skipped", "not_checked", message, details)

    def to_json(self) -> dict[str, Any]:
        """JSON form: ``{"name", "status", "code", "message"[, "details"]}``."""
        out: dict[str, Any] = {
            "name": self.name,
            "status": self.status,
            "code": self.code,
            "message": self.message,
        }
        if self.details:
            out["details"] = dict(self.details)
        return out


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """Every check run on one credential or presentation.

    ``format`` names the securing format (``di-eddsa-jcs-2022``,
    ``di-ecdsa-jcs-2019``, ``vc+jwt``, ``vp+jwt``, ``dc+sd-jwt``, ...).
    ``ok`` is true only when no check failed.

    ``document`` is the verified (for SD-JWT: processed) payload, set only
    when the result is ok; when a check failed it is ``None`` and
    ``unverified_document`` holds what the format could read (for display
    and diagnosis, never for a decision). The same rule holds for every
    format: a JSON credential or presentation, the payload of a ``vc+jwt`` or
    ``vp+jwt``, an SD-JWT's payload (processed when its disclosures held), a
    barcode's claims. ``unverified_document`` is ``None`` only when the input
    could not be read at all, or the result is ok.

    The typed fields say what was verified, in the same shape for every
    format, and are filled **only when the result is ok** (else they are
    empty: ``None``, ``()`` or ``{}``), so code that decides trust reads them
    and never ``document``:

    ``kind``
        ``"credential"`` or ``"presentation"``;
    ``issuer``
        the credential's issuer (the DID, or trust-list name, whose key signed
        it); never the holder of a presentation;
    ``types``
        the credential's types (VC Data Model ``type``; for an SD-JWT VC the
        vocabulary type of its ``vct``; empty for a barcode, which has none);
    ``vct``
        an SD-JWT VC's ``vct``;
    ``subject``
        the subject's identifier (``credentialSubject.id``, ``sub``);
    ``claims``
        the subject's claims, without ``id``;
    ``valid_from`` / ``valid_until``
        the validity period the credential states (aware datetimes);
    ``holder``
        a presentation's holder (a DID; ``None`` for an SD-JWT VC, which is
        bound to a key instead);
    ``credentials``
        a presentation's credentials, each an ok result of kind credential.
    """

    format: str
    checks: tuple[Check, ...]
    document: Mapping[str, Any] | None = None
    issuer: str | None = None
    kind: Kind | None = None
    types: tuple[str, ...] = ()
    vct: str | None = None
    subject: str | None = None
    claims: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    holder: str | None = None
    credentials: tuple[VerificationResult, ...] = ()
    unverified_document: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        # The typed fields and ``document`` say what was *verified*: however the
        # result is built (``of``, the constructor, ``dataclasses.replace``), a
        # result with a failed check carries none of them, and what it read is
        # kept only as ``unverified_document``.
        if not self.ok:
            if self.unverified_document is None:
                object.__setattr__(self, "unverified_document", self.document)
            for name, empty in _UNVERIFIED:
                object.__setattr__(self, name, empty)
        else:
            object.__setattr__(self, "unverified_document", None)

    @classmethod
    def of(
        cls,
        fmt: str,
        checks: Iterable[Check],
        *,
        document: Mapping[str, Any] | None = None,
        issuer: str | None = None,
        kind: Kind | None = None,
        types: Iterable[str] = (),
        vct: str | None = None,
        subject: str | None = None,
        claims: Mapping[str, Any] | None = None,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        holder: str | None = None,
        credentials: Iterable[VerificationResult] = (),
        unverified_document: Mapping[str, Any] | None = None,
    ) -> VerificationResult:
        """Build a result from an iterable of checks.

        ``document`` and the typed fields are kept only when every check held
        (``ok``): what a failed verification says about itself is not
        verified, so its ``document`` becomes ``unverified_document``.
        """
        ran = tuple(checks)
        return cls(
            fmt,
            ran,
            document,
            issuer,
            kind,
            tuple(types),
            vct,
            subject,
            MappingProxyType(dict(claims)) if claims else _EMPTY,
            valid_from,
            valid_until,
            holder,
            tuple(credentials),
            unverified_document,
        )

    def replace_checks(self, checks: Iterable[Check]) -> VerificationResult:
        """The same result with other checks; typed fields are dropped if one fails."""
        return VerificationResult.of(
            self.format,
            checks,
            document=self.document,
            issuer=self.issuer,
            kind=self.kind,
            types=self.types,
            vct=self.vct,
            subject=self.subject,
            claims=self.claims,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            holder=self.holder,
            credentials=self.credentials,
            unverified_document=self.unverified_document,
        )

    @property
    def ok(self) -> bool:
        """True when at least one check ran and none failed."""
        return bool(self.checks) and all(c.status != "failed" for c in self.checks)

    @property
    def valid(self) -> bool:
        """Deprecated spelling of :attr:`ok` (warns; goes in the next release)."""
        warn_renamed("VerificationResult.valid", "VerificationResult.ok")
        return self.ok

    @property
    def failures(self) -> tuple[Check, ...]:
        """The checks that failed, in the order they ran."""
        return tuple(c for c in self.checks if c.status == "failed")

    @property
    def codes(self) -> tuple[str, ...]:
        """The failure codes, in order (empty when ok)."""
        return tuple(c.code for c in self.failures)

    def check(self, name: str) -> Check | None:
        """The first check with this name, if it ran."""
        return next((c for c in self.checks if c.name == name), None)

    def __bool__(self) -> bool:
        raise TypeError("a VerificationResult is not a boolean: use result.ok")

    def to_json(self) -> dict[str, Any]:
        """JSON form for ``--json`` output and APIs."""
        out: dict[str, Any] = {
            "ok": self.ok,
            "format": self.format,
            "kind": self.kind,
            "issuer": self.issuer,
        }
        if self.kind == "presentation":
            out["holder"] = self.holder
        elif self.kind == "credential":
            out["types"] = list(self.types)
            if self.vct is not None:
                out["vct"] = self.vct
        out["checks"] = [c.to_json() for c in self.checks]
        return out

    def explain(self) -> str:
        """A readable, multi-line account of every check."""
        mark = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip"}
        head = f"{'VALID' if self.ok else 'INVALID'} ({self.format})"
        lines = [head]
        lines += [f"  [{mark[c.status]}] {c.name}: {c.message}" for c in self.checks]
        return "\n".join(lines)
