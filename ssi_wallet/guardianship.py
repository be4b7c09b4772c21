"""The vault's gate for minors' records: a verified ``GuardianshipAuthorisation``.

:class:`CredentialAuthorisationVerifier` implements the vault's
:class:`~ledger.vault.AuthorisationVerifier` with the ``credentials``
verifier, so a vault (in ``ledger``, which cannot import ``credentials``)
releases a minor's record only to the guardian a valid credential names. The
steps, each failing with its own ``VerificationError`` code:

1. the credential verifies through the pinned
   :func:`credentials.verify.verify_credential`: a *credential* (never a
   presentation, never a barcode's self-stated claims) in Data Integrity,
   ``vc+jwt`` or SD-JWT VC, signed by a key its issuer authorises for
   ``assertionMethod``, valid at the instant of the request, status (fail
   closed), schema (``format_unexpected`` for a barcode or another format,
   ``not_a_credential`` for a presentation; ``credential_invalid`` carries
   the first failing check's code in its message);
2. it is a ``GuardianshipAuthorisation`` by its verified type (``wrong_type``);
3. its verified issuer was accredited for that type at that instant
   (``issuer_not_accredited``), for a jurisdiction that covers its issuing
   state (``issuingState``: ``jurisdiction_mismatch``, ``jurisdiction_unknown``);
4. it names this minor (``minorIdentifier``: ``subject_mismatch``) and this
   guardian (its verified subject: ``principal_mismatch``);
5. its scope includes ``personal_data_access`` (``scope_insufficient``).

Issuer, type, subject and claims are read only from the verified result's
typed fields, never from the document.

Prosecutor authorisations have no credential type in the vocabulary yet, so
this verifier never returns that kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from credentials.verify import CredentialFormat, verify_credential
from did_methods.errors import VerificationError
from did_methods.http import Fetcher
from did_methods.resolver import Resolver
from ledger.vault import Authorisation, Principal
from ssi_wallet.verifier import TrustRegistry, issuing_state

__all__ = ["CredentialAuthorisationVerifier"]

_TYPE = "GuardianshipAuthorisation"
_SCOPE = "personal_data_access"
# Formats that state an issuer and a type: not barcodes, whose claims carry no type.
_FORMATS: tuple[CredentialFormat, ...] = ("ldp_vc", "jwt_vc_json", "dc+sd-jwt", "vc+sd-jwt")


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
        # per release, so that lists are judged at the instant of the request
        self._status_fetcher = status_fetcher

    def verify(
        self, authorisation: object, *, subject_id: str, principal: Principal, now_ms: int
    ) -> Authorisation:
        """Verify ``authorisation`` for the minor ``subject_id`` and ``principal`` at ``now_ms``."""
        now = datetime.fromtimestamp(now_ms / 1000, UTC)
        if not isinstance(authorisation, str | bytes | Mapping):
            raise VerificationError("credential_invalid", "the authorisation is not a credential")
        # 1. the credential itself, pinned: formats, kind credential, type
        try:
            result = verify_credential(
                authorisation,
                formats=_FORMATS,
                credential_type=_TYPE,
                resolver=self._resolver,
                status=self._status_fetcher,
                now=now,
            )
        except ValueError as exc:
            raise VerificationError("credential_invalid", f"unreadable credential: {exc}") from exc
        if not result.ok:
            first = result.failures[0]
            if first.code == "type_unexpected":
                raise VerificationError("wrong_type", f"not a {_TYPE}: {first.message}")
            if first.code in ("format_unexpected", "not_a_credential"):
                raise VerificationError(first.code, f"the authorisation: {first.message}")
            raise VerificationError(
                "credential_invalid", f"the authorisation fails: {first.code}: {first.message}"
            )
        # 2. type, as verified (verify_credential checked it; this is the rule itself)
        if result.kind != "credential" or _TYPE not in result.types:
            raise VerificationError("wrong_type", f"not a {_TYPE}")
        # 3. accreditation of the verified issuer
        issuer = result.issuer
        if not issuer:
            raise VerificationError("issuer_not_accredited", "the credential names no issuer")
        # ... where the credential says it was issued
        state = issuing_state(result.claims)
        if state is None:
            raise VerificationError("jurisdiction_unknown", "the credential names no issuing state")
        answer = self._trust.was_accredited(issuer, _TYPE, now, jurisdiction=state, evidence=False)
        if not answer.ok and getattr(answer, "code", None) == "jurisdiction_mismatch":
            raise VerificationError("jurisdiction_mismatch", str(answer.reason))
        if not answer.ok:
            raise VerificationError("issuer_not_accredited", str(answer.reason))
        # 4. the minor and the guardian
        claims = result.claims
        if claims.get("minorIdentifier") != subject_id:
            raise VerificationError("subject_mismatch", "the credential names another minor")
        if result.subject is None or result.subject != principal.id:
            raise VerificationError("principal_mismatch", "the credential names another guardian")
        # 5. scope
        scope = claims.get("scopeOfAuthority", [])
        if not isinstance(scope, list) or _SCOPE not in scope:
            raise VerificationError("scope_insufficient", f"the scope lacks {_SCOPE}")
        until = result.valid_until
        until_ms = None if until is None else int(until.timestamp() * 1000)
        return Authorisation(_TYPE, subject_id, principal.id, issuer, until_ms)
