"""Presentation requests and presentations, in the shape of OpenID for Verifiable Presentations.

A :class:`PresentationRequest` carries a DCQL query, a fresh ``nonce`` and the
verifier's ``audience`` (its client identifier), so a presentation made for one
verifier and one moment cannot be replayed to another. A :class:`PresentationResponse`
carries the ``vp_token``: for each credential query id, the presentations that
answer it. (``Presentation``, its old name, is a deprecated alias until the next
release: it clashed with :class:`credentials.Presentation`, the W3C data model.)
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from did_methods._wire.b64 import b64url_encode
from did_methods._wire.dates import instant, is_numeric_date
from did_methods._wire.json import loads_object
from did_methods._wire.renamed import warn_renamed
from did_methods.errors import ParseError
from did_methods.keys import RandBytes
from ssi_wallet.dcql import DCQLQuery

if TYPE_CHECKING:
    from ssi_wallet.policies import Policy

__all__ = ["PresentationRequest", "PresentationResponse"]

_MAX_JSON = 4_000_000
_KNOWN = frozenset({"dcql_query", "nonce", "client_id", "purpose", "policy", "iat", "exp"})
_MAX_EXTRA = 32
#: How long a request made by :meth:`PresentationRequest.for_policy` stays answerable.
DEFAULT_TTL = 600


def _loads(data: str | bytes | Mapping[str, Any], what: str) -> Mapping[str, Any]:
    if isinstance(data, Mapping):
        return data
    return loads_object(data, what=what, max_bytes=_MAX_JSON)


@dataclass(frozen=True, slots=True)
class PresentationRequest:
    """What a verifier asks for: a DCQL query, bound to a nonce and an audience.

    ``extra`` holds any other members (``policy_args`` for one); they survive
    :meth:`to_json` and :meth:`from_json`.
    """

    query: DCQLQuery
    nonce: str
    audience: str
    purpose: str = ""
    policy: str | None = None
    issued_at: int = 0
    expires_at: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @staticmethod
    def new_nonce(randbytes: RandBytes = secrets.token_bytes) -> str:
        """A fresh 128-bit nonce, base64url, from ``randbytes`` (default: ``secrets``)."""
        raw = randbytes(16)
        if not isinstance(raw, bytes) or len(raw) != 16:
            raise ParseError("randbytes(16) must return 16 bytes")
        return b64url_encode(raw)

    @classmethod
    def for_policy(
        cls,
        policy: Policy,
        *,
        audience: str,
        purpose: str | None = None,
        ttl: int = DEFAULT_TTL,
        now: datetime | None = None,
        randbytes: RandBytes = secrets.token_bytes,
        formats: Sequence[str] | None = None,
    ) -> PresentationRequest:
        """A fresh request for ``policy``: its DCQL query, a new nonce, ``audience``.

        The policy's name and parameters travel in the request (``policy``,
        ``policy_args``), so whoever keeps the request can rebuild the policy
        with :func:`ssi_wallet.policies.by_name`. It is issued at ``now`` (default:
        the clock) and expires ``ttl`` seconds later; its nonce comes from ``randbytes``.
        ``formats`` chooses the credential formats asked for (see
        :meth:`~ssi_wallet.policies.Policy.query`; default: SD-JWT VC, then Data Integrity).
        Raises :class:`~did_methods.errors.ParseError` for an empty or blank ``audience``.
        """
        if not isinstance(audience, str) or not audience.strip() or audience != audience.strip():
            raise ParseError("the audience (the verifier's identifier) is empty or padded")
        issued = int(instant(now).timestamp())
        return cls(
            policy.query() if formats is None else policy.query(formats),
            cls.new_nonce(randbytes),
            audience,
            purpose or policy.purpose,
            policy.name,
            issued,
            issued + ttl,
            {"policy_args": dict(policy.params)},
        )

    def to_json(self) -> dict[str, Any]:
        """The request as a JSON object (``dcql_query``, ``nonce``, ``client_id``, ...)."""
        out: dict[str, Any] = {k: v for k, v in self.extra.items() if k not in _KNOWN}
        out |= {
            "dcql_query": self.query.to_json(),
            "nonce": self.nonce,
            "client_id": self.audience,
            "purpose": self.purpose,
            "iat": self.issued_at,
        }
        if self.policy is not None:
            out["policy"] = self.policy
        if self.expires_at is not None:
            out["exp"] = self.expires_at
        return out

    @classmethod
    def from_json(cls, data: str | bytes | Mapping[str, Any]) -> PresentationRequest:
        """Read a request; raise :class:`ParseError` (or ``DCQLError``) when malformed."""
        obj = _loads(data, "presentation request")
        nonce, audience = obj.get("nonce"), obj.get("client_id")
        if not isinstance(nonce, str) or not 16 <= len(nonce) <= 256:
            raise ParseError("a presentation request needs a nonce of 16 to 256 characters")
        if not isinstance(audience, str) or not audience:
            raise ParseError("a presentation request needs a client_id")
        purpose = obj.get("purpose", "")
        policy = obj.get("policy")
        iat, exp = obj.get("iat", 0), obj.get("exp")
        if not isinstance(purpose, str) or (policy is not None and not isinstance(policy, str)):
            raise ParseError("purpose and policy must be strings")
        if not is_numeric_date(iat) or not isinstance(iat, int):
            raise ParseError("iat must be an integer NumericDate")
        if exp is not None and (not is_numeric_date(exp) or not isinstance(exp, int)):
            raise ParseError("exp must be an integer NumericDate")
        extra = {k: v for k, v in obj.items() if k not in _KNOWN}
        if len(extra) > _MAX_EXTRA:
            raise ParseError(f"a presentation request carries more than {_MAX_EXTRA} extra members")
        query = DCQLQuery.parse(obj.get("dcql_query"))
        return cls(query, nonce, audience, purpose, policy, iat, exp, extra)


@dataclass(frozen=True, slots=True)
class PresentationResponse:
    """A wallet's answer to a :class:`PresentationRequest` (OpenID4VP's response).

    ``vp_token`` maps credential query ids to presentations; ``nonce`` and
    ``audience`` say which request it answers. Not to be confused with
    :class:`credentials.Presentation`, the W3C verifiable presentation (one of the
    things a ``vp_token`` can carry).
    """

    vp_token: Mapping[str, list[Any]]
    nonce: str
    audience: str

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "vp_token": {k: list(v) for k, v in self.vp_token.items()},
            "nonce": self.nonce,
            "client_id": self.audience,
        }

    @classmethod
    def from_json(cls, data: str | bytes | Mapping[str, Any]) -> PresentationResponse:
        """Read a presentation; raise :class:`ParseError` when malformed."""
        obj = _loads(data, "presentation")
        token = obj.get("vp_token")
        if not isinstance(token, Mapping) or not all(
            isinstance(k, str) and isinstance(v, list) and v for k, v in token.items()
        ):
            raise ParseError("vp_token must map query ids to non-empty arrays")
        nonce, audience = obj.get("nonce", ""), obj.get("client_id", "")
        if not isinstance(nonce, str) or not isinstance(audience, str):
            raise ParseError("nonce and client_id must be strings")
        return cls({k: list(v) for k, v in token.items()}, nonce, audience)


def __getattr__(name: str) -> Any:
    if name == "Presentation":  # deprecated alias, removed in the next release
        warn_renamed("ssi_wallet.request.Presentation", "PresentationResponse")
        return PresentationResponse
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
