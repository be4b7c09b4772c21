"""A shared world for the attack tests: a ledger, an accredited ministry, an attacker.

* ``ministry``: an :class:`~ssi_wallet.issuer.Issuer` with a ``did:ledger``,
  accredited on the ledger for WorkPermit, ResidencePermit and
  GuardianshipAuthorisation; its key is held here so that tests can sign
  what a real ministry would never sign (a list of the wrong type, ...);
* ``rogue``: another issuer on the same ledger, accredited for nothing;
* ``attacker``: a bare ``did:key`` with its key, able to sign anything in its
  own name and to serve anything at any URL of the status server;
* ``wallet``: the holder (Amina), a :class:`~ssi_wallet.holder.Holder`.

Status lists are served over real HTTP on 127.0.0.1 by :class:`StatusServer`:
the issuers publish into their boards, the server serves what the boards hold
unless a test planted another body at that path (``server.plant``), as a
compromised status host would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _live_server import StaticServer

from credentials import schemas
from credentials.barcode import encode_barcode
from credentials.data_integrity import add_proof
from credentials.jose import issue_vc_jwt, issue_vp_jwt
from credentials.sd_jwt import issue_sd_jwt, present
from did_methods import PrivateKey, did_key_from_public_key
from did_methods.http import HttpFetcher
from ledger.facade import Ledger
from ssi_wallet import Holder, Issuer, PresentationRequest, PresentationResponse, Verifier, policies
from ssi_wallet.issuer import StatusBoard
from ssi_wallet.replay import ReplayStore
from ssi_wallet.verifier import Report

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
AUDIENCE = "did:web:employer.example"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
ACCREDITED = ["WorkPermit", "ResidencePermit", "GuardianshipAuthorisation"]


class StatusServer(StaticServer):
    """Serves the issuers' boards over HTTP on 127.0.0.1; ``plant`` overrides a path."""

    def __init__(self) -> None:
        self.boards: list[StatusBoard] = []
        super().__init__(fallback=self.body)

    def body(self, path: str) -> bytes | None:
        for board in self.boards:
            found = board.get(self.base + path)
            if found is not None:
                return found
        return None

    def plant(self, url: str, body: bytes | str | Mapping[str, Any]) -> None:
        """Serve ``body`` at ``url`` instead of what the issuer published."""
        assert url.startswith(self.base), url
        if isinstance(body, Mapping):
            body = json.dumps(body)
        self.put(url[len(self.base) :], body)


@dataclass
class Party:
    """Someone with a did:key: the attacker, or another holder."""

    key: PrivateKey
    did: str

    @classmethod
    def new(cls) -> Party:
        key = PrivateKey.generate()
        return cls(key, did_key_from_public_key(key.public_key))

    @property
    def vm(self) -> str:
        return f"{self.did}#{self.key.public_key.to_multikey()}"


@dataclass
class World:
    tmp: Path
    now: list[datetime]
    root: PrivateKey
    ledger: Ledger
    ministry_key: PrivateKey
    ministry: Issuer
    rogue: Issuer
    attacker: Party
    wallet: Holder
    server: StatusServer

    def fetcher(self) -> HttpFetcher:
        return HttpFetcher(allow_http=True, allow_private=True)

    def verifier(self, *, with_status: bool = True, replay: ReplayStore | None = None) -> Verifier:
        return Verifier(
            self.ledger,
            audience=AUDIENCE,
            clock=lambda: self.now[0],
            status_fetcher=self.fetcher() if with_status else None,
            replay=replay,
        )

    def issue(
        self,
        type_name: str = "WorkPermit",
        fmt: Any = "sd-jwt",
        *,
        issuer: Issuer | None = None,
        subject: str | None = None,
        **claims: Any,
    ) -> Any:
        body = subject_claims(type_name)
        body.update(claims)
        return (issuer or self.ministry).issue(
            type_name, subject=subject or self.wallet.did, claims=body, format=fmt
        )

    def ask(self, verifier: Verifier, policy: policies.Policy | None = None) -> PresentationRequest:
        return verifier.request(policy or policies.right_to_work())

    def answer(self, request: PresentationRequest) -> PresentationResponse:
        return self.wallet.answer(request, consent=lambda _: True, now=self.now[0])

    def check(
        self, verifier: Verifier, request: PresentationRequest, slot: str, item: Any
    ) -> Report:
        """Send ``item`` alone in ``slot`` of an answer to ``request``."""
        answer = PresentationResponse({slot: [item]}, request.nonce, request.audience)
        return verifier.check(answer, request)

    # -- what the attacker can make --------------------------------------------------------

    def attacker_vp(
        self,
        request: PresentationRequest,
        *,
        credentials: list[Any] | None = None,
        signer: Party | None = None,
        **members: Any,
    ) -> dict[str, Any]:
        """A Data Integrity VP signed by ``signer`` (default: the attacker) for ``request``."""
        party = signer or self.attacker
        vp: dict[str, Any] = {
            "@context": [VC_V2],
            "type": ["VerifiablePresentation"],
            "holder": party.did,
            **members,
        }
        if credentials is not None:
            vp["verifiableCredential"] = credentials
        return add_proof(
            vp,
            party.key,
            verification_method=party.vm,
            proof_purpose="authentication",
            challenge=request.nonce,
            domain=request.audience,
            created=self.now[0],
        )

    def attacker_vc(
        self, type_name: str = "WorkPermit", *, issuer: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        """A credential signed by the attacker's key, naming ``issuer`` (default: itself)."""
        body = subject_claims(type_name)
        credential = {
            "@context": [VC_V2, schemas.CONTEXT_URL],
            "type": ["VerifiableCredential", type_name],
            "issuer": issuer or self.attacker.did,
            "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": self.wallet.did, **body},
            **extra,
        }
        return add_proof(
            credential, self.attacker.key, verification_method=self.attacker.vm, created=self.now[0]
        )

    def attacker_vc_jwt(self, type_name: str = "WorkPermit", *, issuer: str | None = None) -> str:
        body = subject_claims(type_name)
        credential = {
            "@context": [VC_V2, schemas.CONTEXT_URL],
            "type": ["VerifiableCredential", type_name],
            "issuer": issuer or self.attacker.did,
            "credentialSubject": {"id": self.attacker.did, **body},
        }
        kid = self.attacker.vm if issuer is None else f"{issuer}#key-1"
        return issue_vc_jwt(credential, self.attacker.key, kid=kid, now=self.now[0])

    def attacker_vp_jwt(
        self, request: PresentationRequest, credentials: list[str] = (), **members: Any
    ) -> str:
        base = {"@context": [VC_V2], "type": ["VerifiablePresentation"], **members}
        return issue_vp_jwt(
            base,
            self.attacker.key,
            kid=self.attacker.vm,
            credentials=list(credentials),
            nonce=request.nonce,
            audience=request.audience,
            now=self.now[0],
        )

    def attacker_sd_jwt(
        self, request: PresentationRequest, *, issuer: str | None = None, vct: str | None = None
    ) -> str:
        """An SD-JWT VC + KB-JWT the attacker signs, naming ``issuer`` (default: itself)."""
        claims = {"sub": self.attacker.did, **subject_claims("WorkPermit")}
        token = issue_sd_jwt(
            claims,
            self.attacker.key,
            issuer=issuer or self.attacker.did,
            kid=self.attacker.vm if issuer is None else f"{issuer}#key-1",
            vct=vct or schemas.vct("WorkPermit"),
            holder_key=self.attacker.key.public_key,
            now=self.now[0],
        )
        return present(
            token,
            list(claims),
            holder_key=self.attacker.key,
            nonce=request.nonce,
            audience=request.audience,
            now=self.now[0],
        )

    def attacker_barcode(self, **claims: Any) -> str:
        """A ``VC1:`` barcode signed by the attacker whose claims say what it likes."""
        return encode_barcode(
            claims,
            self.attacker.key,
            kid=self.attacker.vm,
            issuer=self.attacker.did,
            iat=self.now[0],
            exp=self.now[0] + timedelta(days=30),
        )


def subject_claims(type_name: str) -> dict[str, Any]:
    claims = schemas.example_subject(type_name, now=NOW)  # current in the world's time
    claims.pop("id", None)
    return claims


def make_world(tmp: Path) -> Iterator[World]:
    now = [NOW]
    server = StatusServer()
    root = PrivateKey.generate()
    ledger = Ledger.open(tmp / "registry.db", key=root, clock=lambda: now[0])
    ministry_key = PrivateKey.generate()
    ministry = Issuer.create(
        ledger,
        name="Migration Department",
        key=ministry_key,
        status_base=f"{server.base}/ministry",
        clock=lambda: now[0],
    )
    ledger.accredit(ministry.did, types=ACCREDITED, by=root, jurisdiction="DE")
    rogue = Issuer.create(
        ledger, name="Rogue office", status_base=f"{server.base}/rogue", clock=lambda: now[0]
    )
    server.boards += [ministry.board, rogue.board]
    wallet = Holder.create(
        ":memory:",
        passphrase="amina's passphrase",
        resolver=ledger.resolver(),
        clock=lambda: now[0],
    )
    try:
        yield World(
            tmp, now, root, ledger, ministry_key, ministry, rogue, Party.new(), wallet, server
        )
    finally:
        server.close()
        ledger.close()
