"""Structured verification results shared by every credential format.

A :class:`VerificationResult` is the list of checks that were run, each a
:class:`Check` with a stable ``code`` and a human ``message``. It is *not* a
boolean: ``bool(result)`` raises, so ``if verify(...):`` cannot silently
accept a forged credential. Ask ``result.valid``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Check", "CheckStatus", "VerificationResult"]

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
    ``di-ecdsa-jcs-2019``, ``vc+jwt``, ``vp+jwt``, ``dc+sd-jwt``, ...);
    ``document`` is the verified (for SD-JWT: processed) payload when the
    checks that make it trustworthy passed, else the unverified one for
    display. ``valid`` is true only when no check failed.
    """

    format: str
    checks: tuple[Check, ...]
    document: Mapping[str, Any] | None = None
    issuer: str | None = None

    @classmethod
    def of(
        cls,
        fmt: str,
        checks: Iterable[Check],
        *,
        document: Mapping[str, Any] | None = None,
        issuer: str | None = None,
    ) -> VerificationResult:
        """Build a result from an iterable of checks."""
        return cls(fmt, tuple(checks), document, issuer)

    @property
    def valid(self) -> bool:
        """True when at least one check ran and none failed."""
        return bool(self.checks) and all(c.status != "failed" for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        """The checks that failed, in the order they ran."""
        return tuple(c for c in self.checks if c.status == "failed")

    @property
    def codes(self) -> tuple[str, ...]:
        """The failure codes, in order (empty when valid)."""
        return tuple(c.code for c in self.failures)

    def check(self, name: str) -> Check | None:
        """The first check with this name, if it ran."""
        return next((c for c in self.checks if c.name == name), None)

    def __bool__(self) -> bool:
        raise TypeError("a VerificationResult is not a boolean: use result.valid")

    def to_json(self) -> dict[str, Any]:
        """JSON form for ``--json`` output and APIs."""
        return {
            "valid": self.valid,
            "format": self.format,
            "issuer": self.issuer,
            "checks": [c.to_json() for c in self.checks],
        }

    def explain(self) -> str:
        """A readable, multi-line account of every check."""
        mark = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip"}
        head = f"{'VALID' if self.valid else 'INVALID'} ({self.format})"
        lines = [head]
        lines += [f"  [{mark[c.status]}] {c.name}: {c.message}" for c in self.checks]
        return "\n".join(lines)
