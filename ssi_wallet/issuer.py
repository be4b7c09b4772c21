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
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Final, Literal

from credentials import schemas
from credentials.data_integrity import (
    ECDSA_JCS_2019,
    ECDSA_RDFC_2019,
    EDDSA_JCS_2022,
    EDDSA_RDFC_2022,
    add_proof,
)
from credentials.jcs import canonicalize
from credentials.jose import issue_vc_jwt
from credentials.jwt_vc import CREDENTIALS_V1_CONTEXT, issue_jwt_vc
from credentials.model import Credential
from credentials.sd_jwt import issue_sd_jwt
from credentials.status_list import (
    MIN_ENTRIES,
    StatusList,
    check_status_entries,
    make_status_list_credential,
    status_entry,
)
from credentials.token_status_list import (
    TokenStatus,
    TokenStatusList,
    make_status_list_token,
    status_claim,
)
from did_methods._wire.dates import Clock, system_clock
from did_methods.errors import ParseError, PolicyError, SSIWalletError, StoreError
from did_methods.http import FetchError
from did_methods.keys import KeyType, PrivateKey, PublicKey, RandBytes
from did_methods.methods.key import did_key_from_public_key, public_key_from_did_key
from ledger.entry import Entry
from ledger.facade import Ledger
from ledger.log import BeforeCommit
from ledger.registry import Signer
from ledger.store import StoreWriter
from ssi_wallet._issuer_store import IdentityRow, IndexPermutation, IssuerSql, ListRow

__all__ = [
    "SUITES_OF_FORMAT",
    "CredentialFormat",
    "IssuedCredential",
    "Issuer",
    "StatusBoard",
    "StatusListInfo",
    "StatusRef",
    "StatusTarget",
]

#: Formats :meth:`Issuer.issue` produces.
CredentialFormat = Literal["sd-jwt", "di-eddsa", "di-ecdsa", "vc-jwt", "jwt_vc_json"]

#: The Data Integrity cryptosuites each ``di-*`` format secures with, the default first.
SUITES_OF_FORMAT: Final[Mapping[str, tuple[str, ...]]] = {
    "di-eddsa": (EDDSA_JCS_2022, EDDSA_RDFC_2022),
    "di-ecdsa": (ECDSA_JCS_2019, ECDSA_RDFC_2019),
}

_VC_V2 = "https://www.w3.org/ns/credentials/v2"


def _data_model_1_1(credential: Mapping[str, Any]) -> dict[str, Any]:
    """The statements of a credential we built, in the VC Data Model 1.1 shape.

    What ``jwt_vc_json`` (OpenID4VCI 1.0 A.1.1) carries: the 1.1 base context,
    ``issuanceDate``/``expirationDate`` for ``validFrom``/``validUntil``; type,
    issuer, subject, schema and status entries as they are.
    """
    out = {k: v for k, v in credential.items() if k not in ("validFrom", "validUntil")}
    out["@context"] = [CREDENTIALS_V1_CONTEXT, *credential["@context"][1:]]
    out["issuanceDate"] = credential["validFrom"]
    if "validUntil" in credential:
        out["expirationDate"] = credential["validUntil"]
    return out


_PURPOSES = ("revocation", "suspension")
_LIST_TTL = timedelta(minutes=5)
_LIST_VALIDITY = timedelta(days=1)
#: How :meth:`Issuer.issue_many` notes which pair failed (``"<this> N of TOTAL"``).
_ITEM_NOTE = "issue_many: item"
#: Status positions a process reserves at a time for single issues.
_BLOCK = 256
#: Bulk calls report progress every this many credentials (and at the end).
_PROGRESS_EVERY = 256


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


def _stamp(moment: datetime) -> str:
    return _stamp_second(math.floor(moment.timestamp()))


@lru_cache(maxsize=64)
def _stamp_second(second: int) -> str:
    # Bulk issuance stamps thousands of credentials within the same second.
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))


@dataclass(frozen=True, slots=True)
class StatusRef:
    """Where a credential's status lives: status list set ``list`` (0, 1, ...) and the
    ``index`` in it. Written ``"list:index"`` (:meth:`parse` also reads a bare
    index as list 0)."""

    list: int
    index: int

    def __str__(self) -> str:
        return f"{self.list}:{self.index}"

    @classmethod
    def parse(cls, text: str) -> StatusRef:
        """Read ``"list:index"`` or ``"index"``; raise :class:`ParseError` otherwise."""
        head, colon, tail = text.strip().partition(":")
        parts = (head, tail) if colon else ("0", head)
        if not all(p.isascii() and p.isdigit() and len(p) <= 12 for p in parts):
            raise ParseError(f"a status reference is LIST:INDEX or INDEX, not {text[:40]!r}")
        return cls(int(parts[0]), int(parts[1]))


@dataclass(frozen=True, slots=True)
class StatusListInfo:
    """One status list set at a glance: its ``number``, ``length``, how many indexes
    were ``dealt`` (reserved for credentials), how many are ``revoked`` and
    ``suspended``, and the ``urls`` of its documents by purpose."""

    number: int
    length: int
    dealt: int
    revoked: int
    suspended: int
    urls: dict[str, str]


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """A credential the issuer made: the secured form and where its status lives.

    ``status_index`` is its index in status list set ``status_list`` (both
    ``None`` for a credential issued without status); :attr:`status` joins them.
    """

    credential: str | dict[str, Any]
    type: str
    format: CredentialFormat
    status_index: int | None
    status_list: int | None = None

    @property
    def status(self) -> StatusRef | None:
        """The credential's :class:`StatusRef`, to revoke, suspend or reinstate it."""
        if self.status_index is None:
            return None
        return StatusRef(self.status_list or 0, self.status_index)

    def serialise(self) -> str:
        """The credential as text (JSON for Data Integrity)."""
        if isinstance(self.credential, str):
            return self.credential
        return json.dumps(self.credential, ensure_ascii=False)


#: What :meth:`Issuer.revoke` and its siblings accept: a :class:`StatusRef`, an
#: :class:`IssuedCredential`, or a bare index in list 0.
StatusTarget = StatusRef | IssuedCredential | int

_Action = Literal["revoke", "suspend", "reinstate"]
_TOUCHES: dict[str, tuple[str, ...]] = {
    "revoke": ("revocation", "token"),
    "suspend": ("suspension", "token"),
    "reinstate": ("suspension", "token"),
}


class _ListSet:
    """One status list set in memory: the revocation and suspension bitstrings, the
    Token Status List derived from them, and the index permutation."""

    __slots__ = ("allocated", "number", "permutation", "revocation", "seed", "suspension", "token")

    def __init__(
        self, row: ListRow, length: int, permutation: IndexPermutation | None = None
    ) -> None:
        self.number = row.number
        self.seed = row.seed
        self.allocated = row.allocated
        self.permutation = permutation or IndexPermutation(row.seed, length)
        self.load(row, length)

    def load(self, row: ListRow, length: int) -> None:
        if row.revocation:
            self.revocation = StatusList.from_bytes(row.revocation, min_entries=length)
            self.suspension = StatusList.from_bytes(row.suspension, min_entries=length)
        else:
            self.revocation = StatusList(length)
            self.suspension = StatusList(length)
        # SD-JWT VCs carry an IETF Token Status List reference (2 bits: valid,
        # invalid, suspended) at the same index as the W3C lists.
        self.token = TokenStatusList(length, bits=2)
        for index in self.suspension.set_indices():
            self.token.set(index, TokenStatus.SUSPENDED)
        for index in self.revocation.set_indices():
            self.token.set(index, TokenStatus.INVALID)

    def apply(self, action: _Action, index: int) -> None:
        if action == "revoke":
            self.revocation.set(index)
            self.token.set(index, TokenStatus.INVALID)
        elif action == "suspend":
            self.suspension.set(index)
            if self.token.get(index) != TokenStatus.INVALID:
                self.token.set(index, TokenStatus.SUSPENDED)
        else:
            self.suspension.clear(index)
            if self.token.get(index) == TokenStatus.SUSPENDED:
                self.token.clear(index)

    def row(self, version: int) -> ListRow:
        return ListRow(
            self.number,
            self.seed,
            self.allocated,
            self.revocation.to_bytes(),
            self.suspension.to_bytes(),
            version,
        )


class _Conflict(Exception):
    """Another process changed a list between our read and our write: retry."""


class Issuer:
    """A credential issuer with its key, DID and status lists.

    Build with :meth:`create` (a new issuer) or :meth:`open` (one created
    before on the same ledger database). ``status_base`` is the URL prefix
    its status list credentials are published under; ``board`` where they
    are published. On a ledger in a SQLite or PostgreSQL database the
    issuer's identity, status lists and published list documents are kept in
    that database (see :mod:`ssi_wallet._issuer_store`), so a restarted
    process carries on where the last one stopped; otherwise they live in
    memory. Status list sets rotate: when one is full a new one is started,
    so an issuer has no cap on the credentials it issues. Safe to share
    between threads.

    ``clock`` (a :data:`~did_methods._wire.dates.Clock`) dates what it issues
    and publishes; ``randbytes`` (``os.urandom`` by default) makes its key,
    the seeds that scatter status-list positions and SD-JWT salts. Both are
    replaceable so tests and reproducible runs need no patching.
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
        clock: Clock = system_clock,
        randbytes: RandBytes = os.urandom,
        list_length: int = MIN_ENTRIES,
    ) -> None:
        self._key = key
        self.did = did
        self.verification_method = verification_method
        self.name = name
        self.status_base = status_base.rstrip("/")
        self.board = board
        self._ledger = ledger
        self._clock = clock
        self._randbytes = randbytes
        self._length = list_length
        self._persistent = False
        self._lock = threading.RLock()
        self._sets: dict[int, _ListSet] = {
            0: _ListSet(ListRow(0, randbytes(32), 0, b"", b"", 0), list_length)
        }
        self._versions: dict[int, int] = {0: 0}
        # Positions [_next, _limit) of list _current are reserved for this process.
        self._current = 0
        self._next = 0
        self._limit = 0

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
        clock: Clock = system_clock,
        randbytes: RandBytes = os.urandom,
    ) -> Issuer:
        """Create a new issuer: a fresh key (or ``key``) and its DID.

        With a ``ledger`` (a :class:`ledger.facade.Ledger`) the DID is a
        ``did:ledger`` created on it, and on a SQLite or PostgreSQL ledger the
        issuer is recorded in its database for :meth:`open`; without, a
        ``did:key`` issuer that lives in memory. The first status lists are
        published (and anchored on the ledger). Raises
        :class:`~did_methods.errors.StoreError` when the database fails.
        """
        key = key or PrivateKey.generate(key_type, randbytes=randbytes)
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
            randbytes=randbytes,
        )
        if ledger is not None:
            with ledger.log.store.write() as writer:
                if writer.dialect != "memory":
                    sql = IssuerSql(writer)
                    sql.ensure_schema()
                    sql.insert_identity(
                        IdentityRow(
                            did, key.public_key.to_multikey(), method, name, base, issuer._length
                        ),
                        int(clock().timestamp() * 1000),
                    )
                    sql.insert_list(did, issuer._sets[0].row(0))
                    issuer._persistent = True
        issuer.publish_status()
        return issuer

    @classmethod
    def open(
        cls,
        ledger: Ledger,
        *,
        key: PrivateKey,
        did: str | None = None,
        board: StatusBoard | None = None,
        clock: Clock = system_clock,
        randbytes: RandBytes = os.urandom,
    ) -> Issuer:
        """Reopen an issuer that :meth:`create` recorded in ``ledger``'s database.

        The issuer is found by ``did``, or else by ``key``'s public key; its
        status lists are restored and its last published list documents are
        put on ``board`` again (a fresh :class:`StatusBoard` by default), so
        verifiers see the bytes anchored on the ledger. Raises
        :class:`~did_methods.errors.PolicyError` when no issuer (or more than
        one) matches, or ``key`` is not the recorded key, and
        :class:`~did_methods.errors.StoreError` for a database without SQL
        (an in-memory ledger) or of another layout version.
        """
        public = key.public_key.to_multikey()
        with ledger.log.store.write() as writer:
            sql = IssuerSql(writer)
            sql.ensure_schema()
            found = sql.identities(did=did, public_key=public)
            if len(found) != 1:
                what = f"the DID {did}" if did is not None else "this key"
                if not found:
                    raise PolicyError(
                        f"this ledger's database records no issuer with {what}: "
                        "create one with Issuer.create"
                    )
                raise PolicyError(f"several issuers use {what}: name one with did=")
            row = found[0]
            if row.public_key != public:
                raise PolicyError(f"the key given is not the recorded key of {row.did}")
            lists = sql.lists(row.did)
            documents = sql.documents(row.did)
        issuer = cls(
            key,
            row.did,
            row.verification_method,
            name=row.name,
            status_base=row.status_base,
            board=board or StatusBoard(),
            ledger=ledger,
            clock=clock,
            randbytes=randbytes,
            list_length=row.list_length,
        )
        issuer._persistent = True
        issuer._sets = {r.number: _ListSet(r, row.list_length) for r in lists}
        issuer._versions = {r.number: r.version for r in lists}
        for url, data in documents:
            issuer.board.publish(url, data)
        return issuer

    def close(self) -> None:
        """Hand back the status positions this process reserved and did not use.

        Optional (unused reservations are only skipped, never dealt twice),
        but it keeps lists dense when many short processes issue a few
        credentials each. The issuer may be used again afterwards.
        """
        with self._lock:
            if not self._persistent or self._next >= self._limit or self._ledger is None:
                return
            with self._ledger.log.store.write() as writer:
                sql = IssuerSql(writer)
                last = sql.last_list(self.did)
                # Only when no other process reserved after us.
                if last is not None and last == (self._current, self._limit):
                    sql.set_allocated(self.did, self._current, self._next)
                    self._sets[self._current].allocated = self._next
            self._limit = self._next

    def signer(self) -> Signer:
        """This issuer acting on the ledger (accrediting others, anchoring status lists)."""
        return Signer(self._key, self.verification_method)

    @property
    def public_key(self) -> PublicKey:
        """The issuer's signing public key."""
        return self._key.public_key

    @property
    def list_length(self) -> int:
        """Entries in each status list (a new list set starts when one is full)."""
        return self._length

    def list_numbers(self) -> tuple[int, ...]:
        """The status list sets this issuer has started, in order."""
        with self._lock:
            return tuple(sorted(self._sets))

    # -- status indexes -------------------------------------------------------------------

    def _reserve(self, count: int) -> list[StatusRef]:
        refs: list[StatusRef] = []
        with self._lock:
            while count > 0:
                if self._next >= self._limit:
                    self._refill(count)
                take = min(count, self._limit - self._next)
                index = self._sets[self._current].permutation.index
                number = self._current
                refs.extend(
                    StatusRef(number, index(p)) for p in range(self._next, self._next + take)
                )
                self._next += take
                count -= take
        return refs

    def _refill(self, wanted: int) -> None:
        block = max(wanted, _BLOCK)
        started: list[int] = []
        if self._persistent and self._ledger is not None:
            row: ListRow | None = None
            with self._ledger.log.store.write() as writer:
                sql = IssuerSql(writer)
                last = sql.last_list(self.did)
                if last is None:
                    raise StoreError(f"the issuer tables hold no status list of {self.did}")
                number, allocated = last
                if allocated >= self._length:
                    number, allocated = number + 1, 0
                    row = ListRow(number, self._randbytes(32), 0, b"", b"", 0)
                    sql.insert_list(self.did, row)
                    started.append(number)
                elif number not in self._sets:
                    row = sql.lists(self.did, [number])[0]
                stop = min(self._length, allocated + block)
                sql.set_allocated(self.did, number, stop)
            if row is not None:
                self._sets[number] = _ListSet(row, self._length)
                self._versions[number] = row.version
        else:
            number = max(self._sets)
            allocated = self._sets[number].allocated
            if allocated >= self._length:
                number, allocated = number + 1, 0
                self._sets[number] = _ListSet(
                    ListRow(number, self._randbytes(32), 0, b"", b"", 0), self._length
                )
                self._versions[number] = 0
                started.append(number)
            stop = min(self._length, allocated + block)
        self._sets[number].allocated = stop
        self._current, self._next, self._limit = number, allocated, stop
        if started:
            # A new list set is published (and anchored) before any credential points at it.
            self._publish(self._sets[n] for n in started)

    def status_url(self, purpose: str, list_number: int = 0) -> str:
        """Where the status list of ``purpose`` of list set ``list_number`` is published
        (``token``: the Status List Token)."""
        if list_number == 0:
            return f"{self.status_base}/{purpose}"
        return f"{self.status_base}/{list_number}/{purpose}"

    # -- issuing --------------------------------------------------------------------------

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
        ``did:key`` subject). ``format`` ``vc-jwt`` is a VC Data Model 2.0
        VC-JOSE ``vc+jwt``; ``jwt_vc_json`` the VC Data Model 1.1 JWT that
        OpenID4VCI names so (:mod:`credentials.jwt_vc`: ``sub`` is the subject,
        ``nbf``/``exp`` the validity period). With ``with_status`` it gets the next free
        index of the current status list set (a new set is started when it
        is full).
        """
        ref = self._reserve(1)[0] if with_status else None
        return self._issue(
            type_name, subject, claims, format, valid_from, valid_until, holder_key, ref
        )

    @staticmethod
    def failed_item(error: BaseException) -> int | None:
        """The number (1 for the first) of the pair :meth:`issue_many` failed at,
        read from the error it raised; None for any other error."""
        for note in getattr(error, "__notes__", ()):
            if isinstance(note, str) and note.startswith(_ITEM_NOTE):
                head = note[len(_ITEM_NOTE) :].split()
                if head and head[0].isdigit():
                    return int(head[0])
        return None

    def issue_many(
        self,
        type_name: str,
        subjects: Sequence[tuple[str, Mapping[str, Any]]],
        *,
        format: CredentialFormat = "sd-jwt",
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[IssuedCredential]:
        """Issue one credential of ``type_name`` per ``(subject DID, claims)`` pair, with status.

        The status indexes are reserved in one database write. Raises as
        :meth:`issue`, at the first bad pair, with a note ``"issue_many: item
        N of TOTAL"`` (1-based) on the exception: the credentials before it
        were made (and their indexes are used), none after. ``progress(done,
        total)`` is called as credentials are made.
        """
        total = len(subjects)
        refs = self._reserve(total)
        out: list[IssuedCredential] = []
        for done, ((subject, claims), ref) in enumerate(zip(subjects, refs, strict=True), 1):
            try:
                issued = self._issue(
                    type_name, subject, claims, format, valid_from, valid_until, None, ref
                )
            except SSIWalletError as exc:
                exc.add_note(f"{_ITEM_NOTE} {done} of {total}")
                raise
            out.append(issued)
            if progress is not None and (done % _PROGRESS_EVERY == 0 or done == total):
                progress(done, total)
        return out

    def _issue(
        self,
        type_name: str,
        subject: str,
        claims: Mapping[str, Any],
        format: CredentialFormat,
        valid_from: datetime | None,
        valid_until: datetime | None,
        holder_key: PublicKey | None,
        ref: StatusRef | None,
    ) -> IssuedCredential:
        now = self._clock()
        start = valid_from or now
        subject_claims = {"id": subject, **dict(claims)}
        if valid_until is None and isinstance(claims.get("expiryDate"), str):
            try:
                valid_until = datetime.fromisoformat(claims["expiryDate"] + "T23:59:59+00:00")
            except ValueError:
                valid_until = None  # the schema check below reports the bad date
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
        if ref is not None:
            credential["credentialStatus"] = [
                status_entry(self.status_url(p, ref.list), ref.index, p) for p in _PURPOSES
            ]
        schemas.validate_credential(credential)
        secured: str | dict[str, Any]
        if format == "sd-jwt":
            secured = self._issue_sd_jwt(type_name, credential, holder_key, start, valid_until, ref)
        elif format == "jwt_vc_json":
            secured = issue_jwt_vc(
                _data_model_1_1(credential), self._key, kid=self.verification_method, now=now
            )
        else:
            secured = self._secure(credential, format, now)
        if ref is None:
            return IssuedCredential(secured, type_name, format, None)
        return IssuedCredential(secured, type_name, format, ref.index, ref.list)

    def issue_credential(
        self,
        credential: Mapping[str, Any],
        *,
        format: Literal["di-eddsa", "di-ecdsa", "vc-jwt"],
        with_status: bool = True,
        cryptosuite: str | None = None,
    ) -> IssuedCredential:
        """Secure a VC Data Model 2.0 credential given whole, as a VC API issuer does.

        Unlike :meth:`issue`, the credential need not be of the immigration
        vocabulary: it is checked against the data model only. Its
        ``issuer`` must be this issuer's DID (raises
        :class:`~did_methods.errors.PolicyError` otherwise). Unless it
        carries a ``credentialStatus`` of its own, revocation and suspension
        entries at the next free index of the current status list set are
        added when ``with_status``. Raises
        :class:`~credentials.errors.ValidationError` for a credential that
        breaks the data model or carries a malformed Bitstring Status List
        entry (a non-integer ``statusListIndex``, ...). ``cryptosuite`` picks
        the Data Integrity suite of a ``di-*`` format: ``eddsa-jcs-2022``
        (default) or ``eddsa-rdfc-2022`` for ``di-eddsa``, ``ecdsa-jcs-2019``
        (default) or ``ecdsa-rdfc-2019`` for ``di-ecdsa`` (the rdfc suites need
        the ``rdf`` extra); any other raises :class:`PolicyError`.
        """
        document = dict(credential)
        named = document.get("issuer")
        named_id = named.get("id") if isinstance(named, Mapping) else named
        if named_id != self.did:
            raise PolicyError(f"this issuer signs as {self.did}, not as {named_id!r}")
        parsed = Credential.from_json(document)
        check_status_entries(document)
        if format not in ("di-eddsa", "di-ecdsa", "vc-jwt"):
            raise ParseError(f"unknown format {format!r}: di-eddsa, di-ecdsa or vc-jwt")
        ref = None
        if with_status and "credentialStatus" not in document:
            ref = self._reserve(1)[0]
            document["credentialStatus"] = [
                status_entry(self.status_url(p, ref.list), ref.index, p) for p in _PURPOSES
            ]
        if cryptosuite is not None and cryptosuite not in SUITES_OF_FORMAT.get(format, ()):
            raise PolicyError(f"format {format} does not secure with {cryptosuite[:64]!r}")
        secured = self._secure(document, format, self._clock(), cryptosuite)
        if ref is None:
            return IssuedCredential(secured, parsed.types[-1], format, None)
        return IssuedCredential(secured, parsed.types[-1], format, ref.index, ref.list)

    def _secure(
        self,
        credential: Mapping[str, Any],
        format: str,
        now: datetime,
        cryptosuite: str | None = None,
    ) -> str | dict[str, Any]:
        if format == "vc-jwt":
            return issue_vc_jwt(credential, self._key, kid=self.verification_method, now=now)
        if format in ("di-eddsa", "di-ecdsa"):
            wanted = KeyType.ED25519 if format == "di-eddsa" else KeyType.P256
            if self._key.key_type is not wanted and not (
                format == "di-ecdsa" and self._key.key_type is KeyType.P384
            ):
                raise PolicyError(f"{format} needs a {wanted.value} issuer key")
            return add_proof(
                credential,
                self._key,
                verification_method=self.verification_method,
                created=now,
                cryptosuite=cryptosuite,
            )
        raise ParseError(f"unknown format {format!r}: sd-jwt, di-eddsa, di-ecdsa or vc-jwt")

    def _issue_sd_jwt(
        self,
        type_name: str,
        credential: Mapping[str, Any],
        holder_key: PublicKey | None,
        start: datetime,
        valid_until: datetime | None,
        ref: StatusRef | None,
    ) -> str:
        subject = dict(credential["credentialSubject"])
        holder = subject.pop("id")
        if holder_key is None and holder.startswith("did:key:"):
            holder_key = public_key_from_did_key(holder)
        _, disclosable = schemas.sd_jwt_disclosure_policy(type_name)
        claims = {"sub": holder, **subject}
        status = None
        if ref is not None:
            status = status_claim(self.status_url("token", ref.list), ref.index)
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
            now=self._clock(),
            randbytes=self._randbytes,
        )

    # -- status ---------------------------------------------------------------------------

    def revoke(self, target: StatusTarget) -> None:
        """Revoke a credential for good (see :meth:`revoke_many`)."""
        self.revoke_many([target])

    def suspend(self, target: StatusTarget) -> None:
        """Suspend a credential (see :meth:`suspend_many`)."""
        self.suspend_many([target])

    def reinstate(self, target: StatusTarget) -> None:
        """Lift a credential's suspension (see :meth:`reinstate_many`)."""
        self.reinstate_many([target])

    def revoke_many(
        self,
        targets: Iterable[StatusTarget],
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Revoke credentials for good; republish each touched list once.

        A target is a :class:`StatusRef`, an :class:`IssuedCredential` or a
        bare index in list set 0. The changed lists are signed, published
        and anchored on the ledger in ONE append (one transaction, one entry
        per changed list document), together with the lists' rows in the
        database: all of it happens or none. Returns how many targets were
        given. Raises :class:`~did_methods.errors.PolicyError` for an index
        that this issuer never dealt (nothing is changed then).
        ``progress(done, total)`` is called as the targets are checked and
        set, and once more (``total, total``) when the lists are published.
        """
        return self._change(targets, "revoke", progress)

    def suspend_many(
        self,
        targets: Iterable[StatusTarget],
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Suspend credentials; as :meth:`revoke_many`."""
        return self._change(targets, "suspend", progress)

    def reinstate_many(
        self,
        targets: Iterable[StatusTarget],
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Lift suspensions; as :meth:`revoke_many`. A revoked credential stays revoked."""
        return self._change(targets, "reinstate", progress)

    def _target(self, target: StatusTarget) -> StatusRef:
        if isinstance(target, IssuedCredential):
            ref = target.status
            if ref is None:
                raise PolicyError("this credential was issued without a status")
            return ref
        if isinstance(target, StatusRef):
            return target
        if isinstance(target, int) and not isinstance(target, bool):
            return StatusRef(0, target)
        raise ParseError(
            "a status target is a StatusRef, an IssuedCredential or an int, "
            f"not {type(target).__name__}"
        )

    def _change(
        self,
        targets: Iterable[StatusTarget],
        action: _Action,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        refs = [self._target(t) for t in targets]
        by_list: dict[int, list[int]] = {}
        for ref in refs:
            by_list.setdefault(ref.list, []).append(ref.index)
        if not refs:
            return 0
        total = len(refs)
        with self._lock:
            for _ in range(8):
                sets = self._fresh_sets(sorted(by_list))
                done = 0
                for number, indexes in by_list.items():
                    self._check_dealt(sets[number], indexes)
                    for index in indexes:
                        sets[number].apply(action, index)
                        done += 1
                        if progress is not None and done % _PROGRESS_EVERY == 0:
                            progress(done, total)
                try:
                    self._publish(sets.values(), _TOUCHES[action])
                except _Conflict:
                    continue
                if progress is not None:
                    progress(total, total)
                return total
        raise StoreError("the status lists kept changing under this process: try again")

    def _check_dealt(self, status_set: _ListSet, indexes: Iterable[int]) -> None:
        position = status_set.permutation.position
        for index in indexes:
            if not (0 <= index < self._length) or position(index) >= status_set.allocated:
                raise PolicyError(
                    f"status index {status_set.number}:{index} was never dealt by this issuer"
                )

    def _all_numbers(self) -> list[int]:
        """Every list set number, those other processes started included."""
        if self._persistent and self._ledger is not None:
            with self._ledger.log.store.write() as writer:
                last = IssuerSql(writer).last_list(self.did)
            if last is not None:
                return list(range(last[0] + 1))
        return sorted(self._sets)

    def _fresh_sets(self, numbers: Sequence[int]) -> dict[int, _ListSet]:
        """Copies of list sets ``numbers``, as the database holds them now."""
        rows: dict[int, ListRow] = {}
        if self._persistent and self._ledger is not None:
            with self._ledger.log.store.write() as writer:
                rows = {r.number: r for r in IssuerSql(writer).lists(self.did, numbers)}
        out: dict[int, _ListSet] = {}
        for number in numbers:
            known = self._sets.get(number)
            row = rows.get(number)
            if row is None:
                if known is None:
                    raise PolicyError(f"{self.did} has no status list set {number}")
                row = known.row(self._versions[number])
            permutation = known.permutation if known is not None else None
            out[number] = _ListSet(row, self._length, permutation)
            self._versions[number] = row.version
        return out

    def status_of(self, target: StatusTarget) -> Literal["valid", "revoked", "suspended"]:
        """The status of one credential as the database (or memory) holds it now.

        Raises as :meth:`revoke_many` for a target this issuer never dealt.
        """
        ref = self._target(target)
        with self._lock:
            status_set = self._fresh_sets([ref.list])[ref.list]
        self._check_dealt(status_set, [ref.index])
        if status_set.revocation.is_set(ref.index):
            return "revoked"
        if status_set.suspension.is_set(ref.index):
            return "suspended"
        return "valid"

    def status_lists(self) -> list[StatusListInfo]:
        """A summary of every status list set, as the database (or memory) holds it now."""
        with self._lock:
            sets = self._fresh_sets(self._all_numbers())
        return [
            StatusListInfo(
                number=s.number,
                length=self._length,
                dealt=s.allocated,
                revoked=sum(1 for _ in s.revocation.set_indices()),
                suspended=sum(1 for _ in s.suspension.set_indices()),
                urls={p: self.status_url(p, s.number) for p in ("token", *_PURPOSES)},
            )
            for s in sets.values()
        ]

    def publish_status(self) -> dict[str, bytes]:
        """Sign every status list, publish them and anchor their digests on the ledger.

        Per list set, two W3C Bitstring Status List credentials (revocation,
        suspension) for Data Integrity and VC-JOSE credentials, and one IETF
        Status List Token for SD-JWT VCs; all anchored in one append. Run it
        before the published lists expire (they are valid for a day). Returns
        the published bytes by URL.
        """
        with self._lock:
            for _ in range(8):
                sets = self._fresh_sets(self._all_numbers())
                try:
                    return self._publish(sets.values())
                except _Conflict:
                    continue
        raise StoreError("the status lists kept changing under this process: try again")

    def _publish(
        self, sets: Iterable[_ListSet], purposes: Sequence[str] = ("token", *_PURPOSES)
    ) -> dict[str, bytes]:
        """Sign ``purposes`` of each set, then record, anchor and publish them atomically.

        With a database, each set's row is written with its version bumped,
        after checking nobody wrote since we read it (else :class:`_Conflict`,
        nothing written), in the same transaction as the anchor entries.
        """
        sets = list(sets)
        now = self._clock()
        documents: list[tuple[str, bytes]] = []
        for status_set in sets:
            documents.extend(self._sign(status_set, purposes, now))
        if self._ledger is not None:
            hook = self._recorder(sets, documents) if self._persistent else None
            self._ledger.status_lists.anchor_status_lists(
                documents, issuer=self.did, signer=self.signer(), before_commit=hook
            )
        for status_set in sets:
            self._sets[status_set.number] = status_set
            if self._persistent:
                self._versions[status_set.number] += 1
        for url, data in documents:
            self.board.publish(url, data)
        return dict(documents)

    def _recorder(
        self, sets: Sequence[_ListSet], documents: Sequence[tuple[str, bytes]]
    ) -> BeforeCommit:
        versions = {s.number: self._versions[s.number] for s in sets}

        def record(writer: StoreWriter, entries: Sequence[Entry]) -> None:
            sql = IssuerSql(writer)
            current = {r.number: r.version for r in sql.lists(self.did, sorted(versions))}
            if current != versions:
                raise _Conflict()
            for status_set in sets:
                row = status_set.row(versions[status_set.number] + 1)
                sql.save_bits(self.did, row)
            sql.save_documents(self.did, documents)

        return record

    def _sign(
        self, status_set: _ListSet, purposes: Sequence[str], now: datetime
    ) -> list[tuple[str, bytes]]:
        out: list[tuple[str, bytes]] = []
        if "token" in purposes:
            url = self.status_url("token", status_set.number)
            token = make_status_list_token(
                status_set.token,
                uri=url,
                key=self._key,
                kid=self.verification_method,
                issued_at=now,
                expires_at=now + _LIST_VALIDITY,
                ttl=_LIST_TTL,
            ).encode("ascii")
            out.append((url, token))
        for purpose in _PURPOSES:
            if purpose not in purposes:
                continue
            url = self.status_url(purpose, status_set.number)
            status_list = (
                status_set.revocation if purpose == "revocation" else status_set.suspension
            )
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
            out.append((url, canonicalize(signed)))
        return out
