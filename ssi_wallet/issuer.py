"""The issuer: a migration authority that signs permits and manages their status.

An :class:`Issuer` owns a key pair and a DID (anchored on the ledger as a
``did:ledger`` when given a :class:`~ledger.facade.Ledger`, else a
``did:key``), issues the immigration vocabulary's credentials in every format
(SD-JWT VC by default, Data Integrity, ``vc+jwt``), validates each against its
JSON Schema before signing, gives each a random index in its revocation and
suspension status lists, and publishes those lists (signed, and anchored on the
ledger) through a :class:`StatusBoard`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from credentials import schemas
from credentials.data_integrity import add_proof
from credentials.jcs import canonicalize
from credentials.jose import issue_vc_jwt
from credentials.model import Credential
from credentials.sd_jwt import issue_sd_jwt
from credentials.status_list import StatusList, make_status_list_credential, status_entry
from credentials.token_status_list import (
    TokenStatus,
    TokenStatusList,
    make_status_list_token,
    status_claim,
)
from did_methods.errors import ParseError, PolicyError
from did_methods.http import FetchError
from did_methods.keys import KeyType, PrivateKey, PublicKey
from did_methods.methods.key import did_key_from_public_key, public_key_from_did_key
from ledger.facade import Ledger
from ledger.registry import Signer

__all__ = ["CredentialFormat", "IssuedCredential", "Issuer", "StatusBoard"]

#: Formats :meth:`Issuer.issue` produces.
CredentialFormat = Literal["sd-jwt", "di-eddsa", "di-ecdsa", "vc-jwt"]

_VC_V2 = "https://www.w3.org/ns/credentials/v2"
_PURPOSES = ("revocation", "suspension")
_LIST_TTL = timedelta(minutes=5)
_LIST_VALIDITY = timedelta(days=1)


class StatusBoard:
    """Where status list credentials are published, and a :class:`~did_methods.http.Fetcher`.

    An in-memory map from URL to bytes: the issuer publishes into it and a
    verifier fetches from it with no network, which is what an offline border
    post or a test needs. Serve :meth:`get` over HTTP for online use.
    """

    def __init__(self) -> None:
        self._documents: dict[str, bytes] = {}

    def publish(self, url: str, data: bytes) -> None:
        """Publish (or replace) the document at ``url``."""
        self._documents[url] = bytes(data)

    def get(self, url: str) -> bytes | None:
        """The document published at ``url``, if any."""
        return self._documents.get(url)

    def documents(self) -> dict[str, bytes]:
        """Every published document by URL (a copy), e.g. to copy them to a web server."""
        return dict(self._documents)

    def fetch(self, url: str, *, max_bytes: int, timeout: float, accept: str) -> bytes:
        """The Fetcher protocol: the published bytes, or a ``FetchError``."""
        data = self._documents.get(url)
        if data is None:
            raise FetchError("http_status", f"nothing is published at {url}", url=url, status=404)
        if len(data) > max_bytes:
            raise FetchError("too_large", f"{url} is larger than {max_bytes} bytes", url=url)
        return data


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """A credential the issuer made: the secured form and its status indices."""

    credential: str | dict[str, Any]
    type: str
    format: CredentialFormat
    status_index: int | None

    def serialise(self) -> str:
        """The credential as text (JSON for Data Integrity)."""
        if isinstance(self.credential, str):
            return self.credential
        return json.dumps(self.credential, ensure_ascii=False)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Issuer:
    """A credential issuer with its key, DID and status lists.

    Build with :meth:`create`. ``status_base`` is the URL prefix its status
    list credentials are published under; ``board`` where they are published.
    """

    def __init__(
        self,
        key: PrivateKey,
        did: str,
        verification_method: str,
        *,
        name: str,
        status_base: str,
        board: StatusBoard,
        ledger: Ledger | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._key = key
        self.did = did
        self.verification_method = verification_method
        self.name = name
        self.status_base = status_base.rstrip("/")
        self.board = board
        self._ledger = ledger
        self._clock = clock
        self._lists = {p: StatusList() for p in _PURPOSES}
        # SD-JWT VCs carry an IETF Token Status List reference (2 bits: valid,
        # invalid, suspended) at the same index as the W3C lists.
        self._token_list = TokenStatusList(self._lists["revocation"].length, bits=2)
        self._used: set[int] = set()

    @classmethod
    def create(
        cls,
        ledger: Ledger | None = None,
        *,
        name: str,
        key: PrivateKey | None = None,
        key_type: KeyType = KeyType.ED25519,
        status_base: str | None = None,
        board: StatusBoard | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> Issuer:
        """Create an issuer: a fresh key (or ``key``) and its DID.

        With a ``ledger`` (a :class:`ledger.facade.Ledger`) the DID is a
        ``did:ledger`` created on it; without, a ``did:key``.
        """
        key = key or PrivateKey.generate(key_type)
        if ledger is not None:
            version = ledger.dids.create(key)
            did = version.did
            method = f"{did}#key-1"
        else:
            did = did_key_from_public_key(key.public_key)
            method = f"{did}#{key.public_key.to_multikey()}"
        base = status_base or f"https://status.example/{did.rsplit(':', 1)[-1][:24]}"
        issuer = cls(
            key,
            did,
            method,
            name=name,
            status_base=base,
            board=board or StatusBoard(),
            ledger=ledger,
            clock=clock,
        )
        issuer.publish_status()
        return issuer

    def signer(self) -> Signer:
        """This issuer acting on the ledger (accrediting others, anchoring status lists)."""
        return Signer(self._key, self.verification_method)

    @property
    def public_key(self) -> PublicKey:
        """The issuer's signing public key."""
        return self._key.public_key

    # -- issuing --------------------------------------------------------------------------

    def _new_index(self) -> int:
        length = self._lists["revocation"].length
        if len(self._used) >= length // 2:
            raise PolicyError("status list is half full: start a new list before issuing more")
        while True:
            index = secrets.randbelow(length)
            if index not in self._used:
                self._used.add(index)
                return index

    def status_url(self, purpose: str) -> str:
        """Where the status list of ``purpose`` is published (``token``: the Status List Token)."""
        return f"{self.status_base}/{purpose}"

    def issue(
        self,
        type_name: str,
        *,
        subject: str,
        claims: Mapping[str, Any],
        format: CredentialFormat = "sd-jwt",
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        holder_key: PublicKey | None = None,
        with_status: bool = True,
    ) -> IssuedCredential:
        """Issue a credential of a vocabulary type to ``subject`` (the holder's DID).

        ``claims`` are the subject's claims (without ``id``). The credential
        is validated against the type's JSON Schema before signing (raises
        :class:`~credentials.schemas.SchemaValidationError` listing every
        violation). ``valid_until`` defaults to the end of ``expiryDate``.
        For SD-JWT VC, the personal claims are selectively disclosable and the
        credential is bound to ``holder_key`` (default: the key of a
        ``did:key`` subject).
        """
        now = self._clock()
        start = valid_from or now
        subject_claims = {"id": subject, **dict(claims)}
        if valid_until is None and isinstance(claims.get("expiryDate"), str):
            valid_until = datetime.fromisoformat(claims["expiryDate"] + "T23:59:59+00:00")
        credential: dict[str, Any] = {
            "@context": [_VC_V2, schemas.CONTEXT_URL],
            "type": ["VerifiableCredential", type_name],
            "issuer": self.did,
            "validFrom": _stamp(start),
        }
        if valid_until is not None:
            credential["validUntil"] = _stamp(valid_until)
        credential["credentialSubject"] = subject_claims
        credential["credentialSchema"] = schemas.credential_schema(type_name)
        index = self._new_index() if with_status else None
        if index is not None:
            credential["credentialStatus"] = [
                status_entry(self.status_url(p), index, p) for p in _PURPOSES
            ]
        schemas.validate_credential(credential)
        secured: str | dict[str, Any]
        if format == "sd-jwt":
            secured = self._issue_sd_jwt(type_name, credential, holder_key, start, valid_until)
        else:
            secured = self._secure(credential, format, now)
        return IssuedCredential(secured, type_name, format, index)

    def issue_credential(
        self,
        credential: Mapping[str, Any],
        *,
        format: Literal["di-eddsa", "di-ecdsa", "vc-jwt"],
        with_status: bool = True,
    ) -> IssuedCredential:
        """Secure a VC Data Model 2.0 credential given whole, as a VC API issuer does.

        Unlike :meth:`issue`, the credential need not be of the immigration
        vocabulary: it is checked against the data model only. Its
        ``issuer`` must be this issuer's DID (raises
        :class:`~did_methods.errors.PolicyError` otherwise). Unless it
        carries a ``credentialStatus`` of its own, revocation and suspension
        entries at a fresh random index are added when ``with_status``.
        Raises :class:`~credentials.errors.ValidationError` for a credential
        that breaks the data model.
        """
        document = dict(credential)
        named = document.get("issuer")
        named_id = named.get("id") if isinstance(named, Mapping) else named
        if named_id != self.did:
            raise PolicyError(f"this issuer signs as {self.did}, not as {named_id!r}")
        parsed = Credential.from_json(document)
        if format not in ("di-eddsa", "di-ecdsa", "vc-jwt"):
            raise ParseError(f"unknown format {format!r}: di-eddsa, di-ecdsa or vc-jwt")
        index = None
        if with_status and "credentialStatus" not in document:
            index = self._new_index()
            document["credentialStatus"] = [
                status_entry(self.status_url(p), index, p) for p in _PURPOSES
            ]
        secured = self._secure(document, format, self._clock())
        return IssuedCredential(secured, parsed.types[-1], format, index)

    def _secure(
        self, credential: Mapping[str, Any], format: str, now: datetime
    ) -> str | dict[str, Any]:
        if format == "vc-jwt":
            return issue_vc_jwt(
                credential, self._key, kid=self.verification_method, now=now.timestamp()
            )
        if format in ("di-eddsa", "di-ecdsa"):
            wanted = KeyType.ED25519 if format == "di-eddsa" else KeyType.P256
            if self._key.key_type is not wanted and not (
                format == "di-ecdsa" and self._key.key_type is KeyType.P384
            ):
                raise PolicyError(f"{format} needs a {wanted.value} issuer key")
            return add_proof(
                credential, self._key, verification_method=self.verification_method, created=now
            )
        raise ParseError(f"unknown format {format!r}: sd-jwt, di-eddsa, di-ecdsa or vc-jwt")

    def _issue_sd_jwt(
        self,
        type_name: str,
        credential: Mapping[str, Any],
        holder_key: PublicKey | None,
        start: datetime,
        valid_until: datetime | None,
    ) -> str:
        subject = dict(credential["credentialSubject"])
        holder = subject.pop("id")
        if holder_key is None and holder.startswith("did:key:"):
            holder_key = public_key_from_did_key(holder)
        _, disclosable = schemas.sd_jwt_disclosure_policy(type_name)
        claims = {"sub": holder, **subject}
        status = None
        if "credentialStatus" in credential:
            index = int(credential["credentialStatus"][0]["statusListIndex"])
            status = status_claim(self.status_url("token"), index)
        return issue_sd_jwt(
            claims,
            self._key,
            issuer=self.did,
            kid=self.verification_method,
            vct=schemas.vct(type_name),
            disclosable=[c for c in disclosable if c in subject],
            holder_key=holder_key,
            status=status,
            nbf=int(start.timestamp()),
            exp=int(valid_until.timestamp()) if valid_until is not None else None,
            now=self._clock().timestamp(),
        )

    # -- status ---------------------------------------------------------------------------

    def revoke(self, index: int) -> None:
        """Revoke the credential at status ``index`` for good, and republish."""
        self._lists["revocation"].set(index)
        self._token_list.set(index, TokenStatus.INVALID)
        self.publish_status()

    def suspend(self, index: int) -> None:
        """Suspend the credential at status ``index``, and republish."""
        self._lists["suspension"].set(index)
        if self._token_list.get(index) != TokenStatus.INVALID:
            self._token_list.set(index, TokenStatus.SUSPENDED)
        self.publish_status()

    def reinstate(self, index: int) -> None:
        """Lift a suspension, and republish."""
        self._lists["suspension"].clear(index)
        if self._token_list.get(index) == TokenStatus.SUSPENDED:
            self._token_list.clear(index)
        self.publish_status()

    def publish_status(self) -> dict[str, bytes]:
        """Sign the status lists, publish them and anchor their digests on the ledger.

        Two W3C Bitstring Status List credentials (revocation, suspension) for
        Data Integrity and VC-JOSE credentials, and one IETF Status List Token
        for SD-JWT VCs. Returns the published bytes by URL.
        """
        now = self._clock()
        out: dict[str, bytes] = {}
        token_url = self.status_url("token")
        token = make_status_list_token(
            self._token_list,
            uri=token_url,
            key=self._key,
            kid=self.verification_method,
            issued_at=now,
            expires_at=now + _LIST_VALIDITY,
            ttl=_LIST_TTL,
        ).encode("ascii")
        self.board.publish(token_url, token)
        out[token_url] = token
        for purpose, status_list in self._lists.items():
            url = self.status_url(purpose)
            unsigned = make_status_list_credential(
                status_list,
                id=url,
                issuer=self.did,
                purpose=purpose,
                valid_from=now - timedelta(minutes=1),
                valid_until=now + _LIST_VALIDITY,
                ttl=_LIST_TTL,
            )
            signed = add_proof(
                unsigned, self._key, verification_method=self.verification_method, created=now
            )
            data = canonicalize(signed)
            self.board.publish(url, data)
            if self._ledger is not None:
                self._ledger.status_lists.anchor_status_list(
                    url, data, issuer=self.did, signer=self.signer()
                )
            out[url] = data
        if self._ledger is not None:
            self._ledger.status_lists.anchor_status_list(
                token_url, token, issuer=self.did, signer=self.signer()
            )
        return out
