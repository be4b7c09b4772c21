"""The vault's gate for minors' records: a verified ``GuardianshipAuthorisation``.

:class:`CredentialAuthorisationVerifier` implements the vault's
:class:`~ledger.vault.AuthorisationVerifier` with the ``credentials``
verifier, so a vault (in ``ledger``, which cannot import ``credentials``)
releases a minor's record only to the guardian a valid credential names. The
steps, each failing with its own ``VerificationError`` code:

1. the credential verifies: signature, key authorisation, validity at the
   instant of the request, status (fail closed), schema (``credential_invalid``
   carries the first failing check's code in its message);
2. it is a ``GuardianshipAuthorisation`` (``wrong_type``);
3. its issuer was accredited for that type at that instant
   (``issuer_not_accredited``);
4. it names this minor (``minorIdentifier``: ``subject_mismatch``) and this
   guardian (``credentialSubject.id``: ``principal_mismatch``);
5. its scope includes ``personal_data_access`` (``scope_insufficient``).

Prosecutor authorisations have no credential type in the vocabulary yet, so
this verifier never returns that kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from credentials.verify import verify
from did_methods.errors import VerificationError
from did_methods.http import Fetcher
from did_methods.resolver import Resolver
from ledger.vault import Authorisation, Principal
from ssi_wallet.verifier import TrustRegistry

__all__ = ["CredentialAuthorisationVerifier"]

_TYPE = "GuardianshipAuthorisation"
_SCOPE = "personal_data_access"


def _subject(document: Mapping[str, Any]) -> tuple[Mapping[str, Any], list[str], str]:
    """The claims, the types and the issuer of a verified credential in any format."""
    if "credentialSubject" in document:
        subject = document["credentialSubject"]
        types = document.get("type", [])
        issuer = document.get("issuer", "")
        if isinstance(issuer, Mapping):
            issuer = issuer.get("id", "")
        return (
            subject if isinstance(subject, Mapping) else {},
            list(types) if isinstance(types, list) else [types],
            str(issuer),
        )
    # SD-JWT VC: the processed payload carries the claims at the top level.
    claims = {k: v for k, v in document.items() if k != "sub"}
    claims["id"] = document.get("sub")
    vct = str(document.get("vct", ""))
    types = [_TYPE] if vct.endswith("/" + _TYPE) else [vct]
    return claims, types, str(document.get("iss", ""))


class CredentialAuthorisationVerifier:
    """Verifies guardianship credentials for :class:`ledger.vault.Vault` releases.

    ``trust`` answers accreditation questions (a :class:`ledger.facade.Ledger`);
    ``resolver`` resolves issuer DIDs (default: the trust registry's, if it has
    one); ``status_fetcher`` fetches status lists (without it a credential that
    has a status fails, as status fails closed).
    """

    def __init__(
        self,
        trust: TrustRegistry,
        *,
        resolver: Resolver | None = None,
        status_fetcher: Fetcher | None = None,
    ) -> None:
        self._trust = trust
        if resolver is None:
            make = getattr(trust, "resolver", None)
            resolver = make() if callable(make) else Resolver.default()
        self._resolver = resolver
        self._status_fetcher = status_fetcher

    def verify(
        self, authorisation: object, *, subject_id: str, principal: Principal, now_ms: int
    ) -> Authorisation:
        """Verify ``authorisation`` for the minor ``subject_id`` and ``principal`` at ``now_ms``."""
        now = datetime.fromtimestamp(now_ms / 1000, UTC)
        if not isinstance(authorisation, str | bytes | Mapping):
            raise VerificationError("credential_invalid", "the authorisation is not a credential")
        # 1. the credential itself
        try:
            result = verify(
                authorisation, resolver=self._resolver, now=now, status_fetcher=self._status_fetcher
            )
        except ValueError as exc:
            raise VerificationError("credential_invalid", f"unreadable credential: {exc}") from exc
        if not result.valid or result.document is None:
            first = result.failures[0] if result.failures else None
            reason = f"{first.code}: {first.message}" if first else "no document"
            raise VerificationError("credential_invalid", f"the authorisation fails: {reason}")
        claims, types, issuer = _subject(result.document)
        # 2. type
        if _TYPE not in types:
            raise VerificationError("wrong_type", f"not a {_TYPE}")
        # 3. accreditation
        answer = self._trust.was_accredited(issuer, _TYPE, now, evidence=False)
        if not answer.accredited:
            raise VerificationError("issuer_not_accredited", str(answer.reason))
        # 4. the minor and the guardian
        if claims.get("minorIdentifier") != subject_id:
            raise VerificationError("subject_mismatch", "the credential names another minor")
        if claims.get("id") != principal.id:
            raise VerificationError("principal_mismatch", "the credential names another guardian")
        # 5. scope
        scope = claims.get("scopeOfAuthority", [])
        if not isinstance(scope, list) or _SCOPE not in scope:
            raise VerificationError("scope_insufficient", f"the scope lacks {_SCOPE}")
        until = result.document.get("validUntil") or result.document.get("exp")
        until_ms = _ms(until)
        return Authorisation(_TYPE, subject_id, principal.id, issuer, until_ms)


def _ms(value: Any) -> int | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value * 1000)
    if isinstance(value, str):
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            return None
    return None
