"""The holder: a migrant's wallet, encrypted at rest, that shows exactly what is asked.

A :class:`Holder` keeps its key pair and credentials in an encrypted wallet
file, matches a verifier's DCQL request against what it holds, asks the
person for consent with a plain account of what would be disclosed, and
answers with presentations bound to the verifier's nonce and audience.
Every disclosure is remembered, so the person can see who saw what.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from credentials import schemas
from credentials.data_integrity import add_proof
from credentials.jose import issue_vp_jwt as issue_vc_jose_vp
from credentials.jws import dumps
from credentials.jwt_vc import decode_jwt_vc, is_jwt_vc, issue_jwt_vp
from credentials.result import VerificationResult
from credentials.sd_jwt import SdJwt, present
from credentials.verify import CredentialFormat, verify_credential
from did_methods._wire.dates import Clock, instant, system_clock
from did_methods._wire.files import write_private
from did_methods._wire.json import loads
from did_methods._wire.text import safe_text
from did_methods.encoding import b64url_decode
from did_methods.errors import JSONError, ParseError, PolicyError, VerificationError
from did_methods.keys import KeyType, PrivateKey, PublicKey, RandBytes
from did_methods.methods.key import did_key_from_public_key
from did_methods.methods.self_certifying import self_certifying_key
from did_methods.resolver import Resolver
from ssi_wallet._wallet_backup import (
    BackupContent,
    OtherWalletError,
    WalletBackupError,
    read_backup,
    seal_backup,
)
from ssi_wallet._wallet_store import WalletIntegrityError, WalletStore
from ssi_wallet.dcql import DCQLMatch, DCQLQuery, PathElement, match
from ssi_wallet.issuer import IssuedCredential
from ssi_wallet.request import PresentationRequest, PresentationResponse
from ssi_wallet.transaction_data import (
    MAX_ITEMS,
    TransactionData,
    TransactionDataError,
    bind_transaction_data,
    kb_claims,
    parse_transaction_data,
)

__all__ = [
    "ConsentRequest",
    "CredentialSummary",
    "DisclosureRecord",
    "Holder",
    "HolderMismatchError",
    "RestoreResult",
    "StoredCredential",
    "WeakPassphraseError",
    "check_passphrase_strength",
]

_VC_V2 = "https://www.w3.org/ns/credentials/v2"
_MAX_CREDENTIAL = 1_000_000
# Item ids of keys that bind one credential each ("key" kind; the holder's own is "holder").
_BOUND_KEY = "credential:"

#: The least a passphrase a person chooses must have: this many characters ...
MIN_PASSPHRASE_CHARS = 12
#: ... of which this many different ones (so no ``aaaaaaaaaaaa`` or ``121212121212``).
MIN_PASSPHRASE_DISTINCT = 6


class HolderMismatchError(VerificationError):
    """A credential is bound to another holder: its confirmation key (SD-JWT VC ``cnf``)
    is not this wallet's key, or its ``credentialSubject.id`` is not this wallet's DID.

    ``code`` ``holder_mismatch``. The wallet could never present it: a verifier
    refuses a presentation it cannot bind to the credential.
    """

    def __init__(self, message: str) -> None:
        super().__init__("holder_mismatch", message)


class WeakPassphraseError(ParseError):
    """A new passphrase is too weak (``code`` ``weak_passphrase``); see
    :func:`check_passphrase_strength` for the rule."""

    code = "weak_passphrase"


def check_passphrase_strength(passphrase: str) -> None:
    """Refuse a passphrase a person chose that is too easy to guess.

    The rule: at least :data:`MIN_PASSPHRASE_CHARS` (12) characters, of which
    at least :data:`MIN_PASSPHRASE_DISTINCT` (6) are different; no rule on
    character classes (length is what makes a passphrase strong: four or five
    words will do). The command line applies it to every passphrase it sets
    (``wallet create``, ``wallet passphrase``, a backup's passphrase); the
    library leaves it to the application, which may have its own policy.
    Raises :class:`WeakPassphraseError` (a ``ParseError``, exit 2 on the
    command line).
    """
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise WeakPassphraseError(
            f"weak_passphrase: a passphrase needs at least {MIN_PASSPHRASE_CHARS} characters "
            f"(this one has {len(passphrase)}); a few words will do"
        )
    if len(set(passphrase)) < MIN_PASSPHRASE_DISTINCT:
        raise WeakPassphraseError(
            f"weak_passphrase: a passphrase needs at least {MIN_PASSPHRASE_DISTINCT} different "
            "characters"
        )


@dataclass(frozen=True, slots=True)
class StoredCredential:
    """A credential in the wallet, with the full view of its claims for matching.

    ``format`` is the DCQL format (``dc+sd-jwt``, ``ldp_vc`` or
    ``jwt_vc_json`` for a JWT-secured W3C credential: a VC Data Model 1.1 JWT,
    or a VC-JOSE ``vc+jwt``); ``claims`` is everything the holder could
    disclose (for SD-JWT, the payload with every disclosure applied; for a
    VC Data Model 1.1 JWT, the credential its claims decode to);
    ``raw`` is the credential as issued.
    """

    id: str
    format: str
    types: tuple[str, ...]
    issuer: str
    claims: Mapping[str, Any]
    raw: str | Mapping[str, Any]
    stored_at: str

    def to_json(self) -> dict[str, Any]:
        """The wallet's storage form."""
        return {
            "id": self.id,
            "format": self.format,
            "types": list(self.types),
            "issuer": self.issuer,
            "claims": dict(self.claims),
            "raw": self.raw if isinstance(self.raw, str) else dict(self.raw),
            "stored_at": self.stored_at,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StoredCredential:
        """Read the storage form back."""
        return cls(
            data["id"],
            data["format"],
            tuple(data["types"]),
            data["issuer"],
            data["claims"],
            data["raw"],
            data["stored_at"],
        )


# What a consent prompt shows of the request's own words, at most.
_MAX_SHOWN_VERIFIER = 200
_MAX_SHOWN_PURPOSE = 500


@dataclass(frozen=True, slots=True)
class CredentialSummary:
    """What a listing shows of a stored credential: no claims, nothing personal.

    Read from the credential's sealed head only, so listing a wallet never
    opens the claims or the credential as issued.
    """

    id: str
    format: str
    types: tuple[str, ...]
    issuer: str
    stored_at: str

    @classmethod
    def from_head(cls, head: Mapping[str, Any]) -> CredentialSummary:
        """Read a stored head (``id``, ``format``, ``types``, ``issuer``, ``stored_at``)."""
        return cls(
            str(head["id"]),
            str(head["format"]),
            tuple(str(t) for t in head["types"]),
            str(head["issuer"]),
            str(head["stored_at"]),
        )


class _Candidate:
    """A stored credential as the matcher sees it: the head opened, the claims on first use."""

    __slots__ = ("_claims", "_store", "format", "id", "issuer", "types")

    def __init__(self, store: WalletStore, head: Mapping[str, Any]) -> None:
        summary = CredentialSummary.from_head(head)
        self._store = store
        self.id = summary.id
        self.format = summary.format
        self.types = summary.types
        self.issuer = summary.issuer
        self._claims: Mapping[str, Any] | None = None

    @property
    def claims(self) -> Mapping[str, Any]:
        if self._claims is None:
            self._claims = self._store.credential_part(self.id, "claims")
        return self._claims


def _query_tags(query: DCQLQuery) -> list[str]:
    """The blind-index names under which the credentials a query can match are filed.

    Per credential query: the asked SD-JWT VC types (``vct_values``), or for
    W3C formats one type of each ``type_values`` group (the last one that is
    not the generic ``VerifiableCredential``: a credential with every type of
    the group carries it); otherwise the whole format.
    """
    tags: list[str] = []
    for q in query.credentials:
        if q.format == "dc+sd-jwt" and q.meta.get("vct_values") is not None:
            tags.extend(f"{q.format}|{v}" for v in q.meta["vct_values"])
            continue
        groups = q.meta.get("type_values") if q.format != "dc+sd-jwt" else None
        if groups is None:
            tags.append(q.format)
            continue
        for group in groups:
            specific = [t for t in group if t != "VerifiableCredential"]
            tags.append(f"{q.format}|{specific[-1]}" if specific else q.format)
    return tags


@dataclass(frozen=True, slots=True)
class ConsentRequest:
    """What the holder is asked to agree to before anything is disclosed.

    ``disclosures`` maps each credential id to the claim paths that would be
    revealed; ``whole`` lists the credentials that can only be shown whole
    (Data Integrity and VC-JOSE credentials have no selective disclosure).
    """

    verifier: str
    purpose: str
    disclosures: Mapping[str, tuple[tuple[PathElement, ...], ...]]
    whole: tuple[str, ...]
    credentials: Mapping[str, StoredCredential] = field(repr=False)
    #: Per SD-JWT VC, the claims its issuer left in clear: every presentation
    #: shows them, whatever was asked (``sub``, the holder's DID, among them).
    always_shown: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Transactions the verifier asks the person to authorise with the presentation
    #: (OpenID4VP transaction data), each bound to one SD-JWT VC's key binding.
    transaction_data: tuple[TransactionData, ...] = ()

    def describe(self, language: str = "en") -> str:
        """A plain-language account of the request, with the vocabulary's names and labels.

        Everything the request chose (who asks, why, the claim names) is shown
        with control, bidirectional and invisible characters escaped
        (``\\u202e``), so a request cannot hide or reorder what is disclosed.
        """
        verifier = safe_text(self.verifier, max_chars=_MAX_SHOWN_VERIFIER)
        lines = [f"{verifier} asks: {safe_text(self.purpose, max_chars=_MAX_SHOWN_PURPOSE)}"]
        for cred_id, paths in self.disclosures.items():
            cred = self.credentials.get(cred_id)  # none for an mdoc shown over OpenID4VP
            type_name = None if cred is None else _vocabulary_type(cred)
            fmt = "mso_mdoc" if cred is None else cred.format
            kind = safe_text(schemas.display_name(type_name, language) if type_name else fmt)
            if cred_id in self.whole:
                lines.append(f"  - your {kind}, shown in full")
                continue
            shown = [safe_text(_label(type_name, path, language)) for path in paths]
            lines.append(f"  - from your {kind}: {', '.join(shown) or 'no claims'}")
            plain = [
                "your DID" if name == "sub" else safe_text(_label(type_name, (name,), language))
                for name in self.always_shown.get(cred_id, ())
            ]
            if plain:
                lines.append(f"    and, always shown with it: {', '.join(plain)}")
        for item in self.transaction_data:
            details = ", ".join(
                f"{safe_text(k, max_chars=40)}={safe_text(dumps(v).decode(), max_chars=120)}"
                for k, v in list(item.details.items())[:12]
            )
            lines.append(
                f"  - and you authorise: {safe_text(item.type, max_chars=80)}"
                + (f" ({details})" if details else "")
            )
        return "\n".join(lines)


def _transaction_data(
    request: PresentationRequest, per_query: Mapping[str, Sequence[str]]
) -> tuple[tuple[TransactionData, ...], dict[str, list[TransactionData]]]:
    """The request's transaction data (``extra["transaction_data"]``, the strings as
    received), read again here, and which presented query binds each item. Raises
    :class:`PolicyError` (``cannot_satisfy``) for an item that is malformed or that no
    presented SD-JWT VC can authorise."""
    raw = request.extra.get("transaction_data")
    if raw is None:
        return (), {}
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_ITEMS:
        raise PolicyError(f"cannot_satisfy: transaction data is a list of 1 to {MAX_ITEMS} items")
    try:
        items = tuple(parse_transaction_data(r, request.query) for r in raw)
        bound = bind_transaction_data(items, list(per_query))
    except TransactionDataError as exc:
        raise PolicyError(f"cannot_satisfy: {exc}") from exc
    return items, bound


def _vocabulary_type(cred: StoredCredential) -> str | None:
    for value in reversed(cred.types):
        if value in schemas.CREDENTIAL_TYPES:
            return value
        try:
            return schemas.type_for_vct(value)
        except ValueError:
            continue
    return None


def _label(type_name: str | None, path: Sequence[PathElement], language: str) -> str:
    names = [str(p) for p in path if p is not None and p != "credentialSubject"]
    if type_name is not None and len(names) == 1:
        return schemas.claim_label(type_name, names[0], language)
    return ".".join(names)


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What a restore added; what the wallet already had is never removed or replaced."""

    holder: str
    credentials_added: int
    history_added: int
    already_present: int


@dataclass(frozen=True, slots=True)
class DisclosureRecord:
    """One past disclosure: to whom, when, why, and which claims of which credentials.

    ``disclosed`` maps each credential id to the claim paths the verifier was
    shown: those it asked for and, for an SD-JWT VC, the claims its issuer
    left in clear (``["sub"]``, ``["documentNumber"]``, ...), which every
    presentation shows.
    """

    at: str
    verifier: str
    purpose: str
    nonce: str
    disclosed: Mapping[str, list[list[PathElement]]]

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "at": self.at,
            "verifier": self.verifier,
            "purpose": self.purpose,
            "nonce": self.nonce,
            "disclosed": {k: [list(p) for p in v] for k, v in self.disclosed.items()},
        }


def _now_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _jwt_payload(token: str) -> Mapping[str, Any]:
    try:
        payload = loads(
            b64url_decode(token.split(".")[1], max_length=_MAX_CREDENTIAL),
            what="credential JWT payload",
        )
    except JSONError:
        raise
    except (IndexError, ParseError) as exc:
        raise ParseError("credential is not a compact JWS") from exc
    if not isinstance(payload, dict):
        raise ParseError("credential JWT payload is not a JSON object")
    return payload


class Holder:
    """A wallet: :meth:`create` a new file (or ``":memory:"``) or :meth:`open` one."""

    def __init__(
        self,
        store: WalletStore,
        key: PrivateKey,
        *,
        resolver: Resolver | None = None,
        clock: Clock = system_clock,
        randbytes: RandBytes = secrets.token_bytes,
    ) -> None:
        """``clock`` dates what the wallet records and signs when no ``now`` is given;
        ``randbytes`` makes its record ids (both replaceable for tests)."""
        self._store = store
        self._key = key
        self._clock = clock
        self._randbytes = randbytes
        self.did = did_key_from_public_key(key.public_key)
        self._resolver = resolver or Resolver.default()

    # -- lifecycle ----------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        *,
        passphrase: str,
        key_type: KeyType = KeyType.ED25519,
        resolver: Resolver | None = None,
        clock: Clock = system_clock,
        randbytes: RandBytes = secrets.token_bytes,
    ) -> Holder:
        """Create a wallet file (mode 0600) with a fresh key pair (from ``randbytes``)."""
        store = WalletStore.create(path, passphrase)
        key = PrivateKey.generate(key_type, randbytes=randbytes)
        store.put("key", "holder", key.private_jwk())
        return cls(store, key, resolver=resolver, clock=clock, randbytes=randbytes)

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        passphrase: str,
        resolver: Resolver | None = None,
        read_only: bool = False,
        clock: Clock = system_clock,
        randbytes: RandBytes = secrets.token_bytes,
    ) -> Holder:
        """Open a wallet file; nothing but the holder's key is decrypted.

        ``read_only`` never alters the file (every write then raises
        ``WalletIntegrityError`` with code ``read_only``). Raises
        ``WalletLockedError`` (code ``wrong_passphrase``) on a wrong
        passphrase and ``NotAWalletError`` (a ``ParseError``) for a file of
        another kind.
        """
        store = WalletStore.open(path, passphrase, read_only=read_only)
        try:
            keys = dict(store.items("key"))
            if "holder" not in keys:
                raise WalletIntegrityError("record_tampered", "the wallet holds no holder key")
            key = PrivateKey.from_jwk(keys["holder"])
        except BaseException:
            store.close()
            raise
        return cls(store, key, resolver=resolver, clock=clock, randbytes=randbytes)

    @classmethod
    def from_backup(
        cls,
        backup: str | os.PathLike[str],
        path: str | os.PathLike[str],
        *,
        passphrase: str,
        backup_passphrase: str | None = None,
        resolver: Resolver | None = None,
        clock: Clock = system_clock,
        randbytes: RandBytes = secrets.token_bytes,
    ) -> Holder:
        """Create the wallet file ``path`` (which must not exist) from a backup.

        The new wallet has the backup's key, credentials and history, and is
        protected by ``passphrase``; the backup opens with
        ``backup_passphrase`` (default: the same). Raises the errors of
        :meth:`restore`; on any error no file is left behind.
        """
        content = read_backup(Path(backup), backup_passphrase or passphrase)
        key = _backup_key(content)
        store = WalletStore.create(path, passphrase)
        try:
            store.put("key", "holder", key.private_jwk())
            holder = cls(store, key, resolver=resolver, clock=clock, randbytes=randbytes)
            holder._merge(content)
        except BaseException:
            store.close()
            if str(path) != ":memory:":
                for name in (str(path), f"{path}-wal", f"{path}-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(name)
            raise
        return holder

    def backup(self, path: str | os.PathLike[str], *, passphrase: str, force: bool = False) -> Path:
        """Write the whole wallet (key, credentials, history) sealed to a private file.

        ``passphrase`` protects the backup (the wallet's own is the usual
        choice). The file (mode 0600) is created exclusively and never
        through a symbolic link; ``force`` replaces an existing regular file
        atomically. Raises ``OutputFileError`` (``exists``, ``symlink``,
        ``not_a_file``, ``io``); the wallet is only read.
        """
        return write_private(path, self.backup_bytes(passphrase=passphrase), force=force)

    def backup_bytes(self, *, passphrase: str) -> bytes:
        """The bytes of a backup file of the whole wallet, sealed under ``passphrase``."""
        keys = dict(self._store.items("key"))
        content = BackupContent(
            self.did,
            keys["holder"],
            tuple(self._store.credential_values()),
            tuple(self._store.items("history")),
            tuple(
                (i.removeprefix(_BOUND_KEY), k) for i, k in keys.items() if i.startswith(_BOUND_KEY)
            ),
        )
        return seal_backup(content, passphrase)

    def restore(
        self,
        backup: str | os.PathLike[str],
        *,
        passphrase: str,
        allow_other_wallet: bool = False,
    ) -> RestoreResult:
        """Add what a backup holds and this wallet lacks, in one write.

        Nothing the wallet holds is removed or replaced: a record whose id is
        already here is kept as it is. A backup of another wallet (another
        holder key) raises ``OtherWalletError`` (``other_wallet``) unless
        ``allow_other_wallet``; its credentials are then added and this
        wallet keeps its own key. Raises ``WalletLockedError``
        (``wrong_passphrase``) and ``WalletBackupError`` (``not_a_backup``,
        ``backup_tampered``, ``backup_malformed``, ``backup_too_large``).
        """
        content = read_backup(Path(backup), passphrase)
        _backup_key(content)
        if content.holder != self.did and not allow_other_wallet:
            raise OtherWalletError(
                "other_wallet",
                f"the backup is of the wallet of {content.holder}, not of {self.did}",
            )
        return self._merge(content)

    def _merge(self, content: BackupContent) -> RestoreResult:
        have_credentials = self._store.credential_ids()
        have_history = self._store.item_ids("history")
        credentials = {c["id"]: c for c in content.credentials if c["id"] not in have_credentials}
        history = {i: v for i, v in content.history if i not in have_history}
        # a credential's own key comes back with it (never for one this wallet holds already)
        bound = [(_BOUND_KEY + i, k) for i, k in content.bound_keys if i in credentials]
        self._store.merge(credentials.values(), {"history": history.items(), "key": bound})
        kept = len(content.credentials) + len(content.history) - len(credentials) - len(history)
        return RestoreResult(content.holder, len(credentials), len(history), kept)

    def change_passphrase(self, old: str, new: str, *, rekey: bool = False) -> None:
        """Protect the wallet with ``new`` from now on; ``old`` must be the current one.

        Raises ``WalletLockedError`` (``wrong_passphrase``) when ``old`` is
        wrong. Without ``rekey`` the data key stays (one small write): a copy
        of the file taken before the change still opens with the old
        passphrase, and its key would open what is written later. ``rekey``
        reseals every record under a fresh data key in one transaction (time
        grows with the wallet), for when the old passphrase may be known.
        """
        self._store.change_passphrase(old, new, rekey=rekey)

    def close(self) -> None:
        """Close the wallet file."""
        self._store.close()

    def __enter__(self) -> Holder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def public_key(self) -> PublicKey:
        """The holder's public key (its private key never leaves the wallet)."""
        return self._key.public_key

    # -- credentials --------------------------------------------------------------------

    def store(
        self,
        credential: str | Mapping[str, Any] | IssuedCredential,
        *,
        verify_now: bool = True,
    ) -> StoredCredential:
        """Keep a credential; by default verify it first (signature, issuer key, validity).

        Accepts an SD-JWT VC (``...~``), a ``jwt_vc_json`` (VC Data Model 1.1
        JWT) or ``vc+jwt`` compact JWS, a
        credential secured with a Data Integrity proof (dict or JSON text), or
        what :meth:`Issuer.issue <ssi_wallet.issuer.Issuer.issue>` returned.
        Raises :class:`VerificationError` when verification fails,
        :class:`HolderMismatchError` (one of them) when the credential is bound
        to another holder's key or DID, and :class:`ParseError` when the
        credential cannot be read or is no credential (its syntax check
        fails). ``verify_now=False`` (a trusted bulk import) skips both
        checks; a credential bound to another holder is then kept but never
        offered in an answer.
        """
        stored = self._prepare(credential, verify_now)
        self._store.put_credential(stored.to_json())
        return stored

    def store_many(
        self,
        credentials: Iterable[str | Mapping[str, Any] | IssuedCredential],
        *,
        verify_now: bool = True,
        keys: Sequence[PrivateKey | None] | None = None,
    ) -> list[StoredCredential]:
        """Keep many credentials in one write (all or none), each checked as :meth:`store` does.

        ``keys`` (one per credential, or None) are the private keys credentials
        are bound to when that is not the holder's own key, as a batch issuance
        binds each instance to a key of its own (OpenID4VCI): they are sealed
        in the wallet with their credential, and used when it is presented.
        """
        credentials = list(credentials)
        if keys is None:
            prepared = [self._prepare(c, verify_now) for c in credentials]
            self._store.put_credentials(c.to_json() for c in prepared)
            return prepared
        if len(keys) != len(credentials):
            raise ParseError("give one key (or None) per credential")
        prepared = [self._prepare(c, verify_now, k) for c, k in zip(credentials, keys, strict=True)]
        bound = [
            (_BOUND_KEY + c.id, k.private_jwk())
            for c, k in zip(prepared, keys, strict=True)
            if k is not None
        ]
        self._store.merge([c.to_json() for c in prepared], {"key": bound})
        return prepared

    def _binding_key(self, credential_id: str) -> PrivateKey:
        """The key a credential is bound to: its own (batch issuance), else the holder's."""
        jwk = self._store.get_item("key", _BOUND_KEY + credential_id)
        return self._key if jwk is None else PrivateKey.from_jwk(jwk)

    def _prepare(
        self,
        credential: str | Mapping[str, Any] | IssuedCredential,
        verify_now: bool,
        key: PrivateKey | None = None,
    ) -> StoredCredential:
        if isinstance(credential, IssuedCredential):
            credential = credential.credential
        if isinstance(credential, str) and len(credential) > _MAX_CREDENTIAL:
            raise ParseError("credential is too large")
        text = credential.strip() if isinstance(credential, str) else None
        if text is not None and text.startswith("{"):
            credential = loads(text, what="credential", max_bytes=_MAX_CREDENTIAL)
            text = None
        claims: Mapping[str, Any]
        if text is not None and "~" in text:
            fmt = "dc+sd-jwt"
            sd = SdJwt.parse(text)
            full = str(sd).rsplit("~", 1)[0] + "~"  # drop any KB-JWT: the wallet adds its own
            if verify_now:
                result = self._verify(full, fmt)
                self._require(result)
                # _require lets a failed status check through (status is asked at
                # presentation), and a result with a failed check keeps the processed
                # payload, whose signature and disclosures held, as unverified_document.
                claims = dict(result.document or result.unverified_document or {})
            else:
                claims = dict(sd.unverified_payload)
            types: tuple[str, ...] = (str(claims.get("vct", sd.unverified_payload.get("vct", ""))),)
            issuer = str(claims.get("iss", sd.unverified_payload.get("iss", "")))
            raw: str | Mapping[str, Any] = full
        elif text is not None:
            fmt = "jwt_vc_json"
            claims = _jwt_payload(text)
            if is_jwt_vc(claims) == "credential":
                # a VC Data Model 1.1 JWT: kept as the credential it decodes to
                claims = self._decoded_jwt_vc(text, claims, verify_now)
            elif verify_now:
                self._require(self._verify(text, fmt))
            types = tuple(claims.get("type", ()))
            issuer = _issuer_of(claims)
            raw = text
        elif isinstance(credential, Mapping):
            fmt = "ldp_vc"
            if verify_now:
                self._require(self._verify(credential, fmt))
            claims = dict(credential)
            raw_types = credential.get("type", ())
            types = tuple([raw_types] if isinstance(raw_types, str) else raw_types)
            issuer = _issuer_of(credential)
            raw = dict(credential)
        else:
            raise ParseError("a credential is an SD-JWT, a vc+jwt or a JSON object with a proof")
        if verify_now:
            mismatch = self._bound_elsewhere(fmt, claims, (key or self._key).public_key)
            if mismatch is not None:
                raise HolderMismatchError(f"not stored: {mismatch}")
        return StoredCredential(
            "urn:uuid:" + _uuid4(self._randbytes),
            fmt,
            types,
            issuer,
            claims,
            raw,
            _now_text(self._clock()),
        )

    def _decoded_jwt_vc(
        self, text: str, payload: Mapping[str, Any], verify_now: bool
    ) -> dict[str, Any]:
        """The credential a ``jwt_vc_json`` (VC Data Model 1.1 JWT) decodes to; verified first."""
        if verify_now:
            result = self._verify(text, "jwt_vc_json")
            self._require(result)
            # _require lets a failed status check through; the decoded credential
            # (signature held) is then the result's unverified_document
            return dict(result.document or result.unverified_document or {})
        try:
            return decode_jwt_vc(payload)
        except VerificationError as exc:
            raise ParseError(f"{exc.code}: not stored: {exc.message}") from exc

    def _verify(self, credential: str | Mapping[str, Any], fmt: str) -> VerificationResult:
        # pinned: a credential (never a presentation) of the format it looks like
        formats: dict[str, CredentialFormat] = {
            "dc+sd-jwt": "dc+sd-jwt",
            "jwt_vc_json": "jwt_vc_json",
            "ldp_vc": "ldp_vc",
        }
        pinned: list[CredentialFormat] = [formats[fmt]]
        if fmt == "dc+sd-jwt":
            pinned.append("vc+sd-jwt")
        return verify_credential(
            credential,
            formats=pinned,
            credential_type=None,
            resolver=self._resolver,
            now=instant(None, clock=self._clock),
        )

    def _bound_elsewhere(
        self, fmt: str, claims: Mapping[str, Any], own: PublicKey | None = None
    ) -> str | None:
        """Why a credential with these claims is bound to another holder, or ``None``.

        An SD-JWT VC is bound by its confirmation key (``cnf.jwk``); a W3C
        credential by its subjects' ids, one of which must be the DID of the
        key. ``own`` is the key the wallet holds for this credential (its own
        key after a batch issuance), by default the holder's. A credential that
        names no binding is not judged here.
        """
        own = own or self._key.public_key
        did = did_key_from_public_key(own)
        if fmt == "dc+sd-jwt":
            cnf = claims.get("cnf")
            jwk = cnf.get("jwk") if isinstance(cnf, Mapping) else None
            if jwk is None:
                return None
            try:
                key = PublicKey.from_jwk(jwk) if isinstance(jwk, Mapping) else None
            except (ParseError, ValueError):
                key = None
            if key is None:
                return "its confirmation key (cnf.jwk) cannot be read"
            if key.to_multikey() != own.to_multikey():
                return "it is bound to another holder's key (cnf.jwk is not this wallet's key)"
            return None
        subjects = claims.get("credentialSubject")
        listed = subjects if isinstance(subjects, list) else [subjects]
        ids = [str(s["id"]) for s in listed if isinstance(s, Mapping) and "id" in s]
        # the subject is this wallet's did:key, or a did:key / did:jwk of the key it holds
        if ids and did not in ids and not any(did_names_key(i, own) for i in ids):
            return f"it is about {safe_text(ids[0], max_chars=120)}, not this wallet's DID"
        return None

    @staticmethod
    def _require(result: Any) -> None:
        # Status is the verifier's question, asked at presentation time: a wallet
        # stores a credential whose status it cannot fetch right now.
        failures = [c for c in result.failures if c.name != "status"]
        if failures and failures[0].name == "syntax":  # not a credential at all
            raise ParseError(f"{failures[0].code}: not stored: {failures[0].message}")
        if failures:
            raise VerificationError(failures[0].code, f"not stored: {failures[0].message}")

    def credentials(self) -> list[StoredCredential]:
        """Every stored credential with its claims, oldest first (opens every record)."""
        return [StoredCredential.from_json(v) for v in self._store.credential_values()]

    def summaries(self) -> list[CredentialSummary]:
        """Every stored credential's summary, oldest first (no claims are opened)."""
        return [CredentialSummary.from_head(row.head) for row in self._store.heads()]

    def credential(self, credential_id: str) -> StoredCredential:
        """One stored credential by id; raises :class:`PolicyError` when there is none."""
        try:
            head = self._store.credential_part(credential_id, "head")
        except KeyError:
            raise PolicyError(f"no credential {credential_id} in this wallet") from None
        if head.get("id") != credential_id:
            raise WalletIntegrityError(
                "record_tampered", f"credential {credential_id} names another id"
            )
        return StoredCredential.from_json(
            {
                **head,
                "claims": self._store.credential_part(credential_id, "claims"),
                "raw": self._store.credential_part(credential_id, "raw"),
            }
        )

    def delete(self, credential_id: str) -> None:
        """Delete one credential (its row is overwritten on disk)."""
        if not self._store.delete_credential(credential_id):
            raise PolicyError(f"no credential {credential_id} in this wallet")
        self._store.delete("key", _BOUND_KEY + credential_id)

    def find(self, request: PresentationRequest) -> DCQLMatch:
        """Which stored credentials satisfy a request (no disclosure happens).

        Only the credentials filed under the request's formats and types are
        read (a blind-index lookup): their heads and claims (to leave out a
        credential bound to another holder, which could never be presented).
        """
        tags = _query_tags(request.query)
        candidates = [_Candidate(self._store, r.head) for r in self._store.heads(tags)]
        bound = {i.removeprefix(_BOUND_KEY) for i in self._store.item_ids("key")}
        # One credential bound to another holder (kept by a trusted import or a
        # restore of another wallet's backup) is never offered: it would only
        # make the verifier refuse an answer another credential could give.
        return match(
            request.query,
            [
                c
                for c in candidates
                if self._bound_elsewhere(
                    c.format,
                    c.claims,
                    self._binding_key(c.id).public_key if c.id in bound else None,
                )
                is None
            ],
        )

    # -- presenting ---------------------------------------------------------------------

    def answer(
        self,
        request: PresentationRequest,
        *,
        consent: Callable[[ConsentRequest], bool],
        now: datetime | None = None,
    ) -> PresentationResponse:
        """Answer a verifier's request, after the person consents.

        Matches the request's DCQL query, asks ``consent`` with a
        :class:`ConsentRequest`, and returns the presentations (each bound to
        the request's nonce and audience). Raises :class:`PolicyError` when the
        wallet cannot satisfy the request (code in the message) or the person
        declines; nothing is disclosed or recorded then. ``now`` (default: the
        wallet's clock) is when the presentations are signed.
        """
        moment = instant(now, clock=self._clock)
        if request.expires_at is not None and moment.timestamp() > request.expires_at:
            raise PolicyError("request_expired: the verifier's request has expired")
        found = self.find(request)
        if not found.ok:
            raise PolicyError(f"cannot_satisfy: no credential fits {', '.join(found.missing)}")
        plan: dict[str, tuple[tuple[PathElement, ...], ...]] = {}
        per_query: dict[str, list[str]] = {}
        for query_id in found.selected:
            qm = found.matches[query_id]
            per_query[query_id] = list(qm.credential_ids)
            for cid in qm.credential_ids:
                plan[cid] = tuple(dict.fromkeys((*plan.get(cid, ()), *qm.claims)))
        chosen = {cid: self.credential(cid) for cid in plan}
        whole = tuple(cid for cid in plan if chosen[cid].format != "dc+sd-jwt")
        items, bound = _transaction_data(request, per_query)
        ask = ConsentRequest(
            request.audience,
            request.purpose,
            plan,
            whole,
            chosen,
            {cid: _always_shown(chosen[cid], plan[cid]) for cid in plan},
            items,
        )
        if consent(ask) is not True:
            raise PolicyError("consent_refused: the holder declined the request")
        vp_token: dict[str, list[Any]] = {}
        for query_id, cids in per_query.items():
            extra = kb_claims(bound[query_id]) if query_id in bound else None
            vp_token[query_id] = [
                self._present(chosen[cid], plan[cid], request, moment, extra) for cid in cids
            ]
        # What the verifier sees: the claims asked for and those always shown with them.
        record = DisclosureRecord(
            _now_text(moment),
            request.audience,
            request.purpose,
            request.nonce,
            {
                cid: [list(p) for p in paths] + [[name] for name in ask.always_shown.get(cid, ())]
                for cid, paths in plan.items()
            },
        )
        self._store.put(
            "history", f"{time.time_ns():020d}-{_uuid4(self._randbytes)}", record.to_json()
        )
        return PresentationResponse(vp_token, request.nonce, request.audience)

    def _present(
        self,
        cred: StoredCredential,
        paths: Sequence[tuple[PathElement, ...]],
        request: PresentationRequest,
        now: datetime,
        extra_kb_claims: Mapping[str, Any] | None = None,
    ) -> Any:
        key = self._binding_key(cred.id)
        if cred.format == "dc+sd-jwt":
            assert isinstance(cred.raw, str)
            disclose = _expand(cred.claims, paths)
            return present(
                cred.raw,
                disclose,
                holder_key=key,
                nonce=request.nonce,
                audience=request.audience,
                now=now,
                kb_claims=extra_kb_claims,
            )
        if extra_kb_claims:  # pragma: no cover - _transaction_data binds SD-JWT VCs only
            raise PolicyError("cannot_satisfy: only an SD-JWT VC can bind transaction data")
        did = did_key_from_public_key(key.public_key)
        vm = f"{did}#{key.public_key.to_multikey()}"
        if cred.format == "jwt_vc_json" and isinstance(cred.raw, str):
            subject = _subject_id(cred.claims)
            bound = did_names_key(subject, key.public_key) if subject is not None else None
            if bound is not None and is_jwt_vc(_jwt_payload(cred.raw)) == "credential":
                # OpenID4VP B.1.3.1: a VC Data Model 1.1 presentation JWT, signed
                # by the subject (sub) the credential names: holder binding
                return issue_jwt_vp(
                    [cred.raw],
                    key,
                    kid=bound,
                    nonce=request.nonce,
                    audience=request.audience,
                    now=now,
                )
        if cred.format == "jwt_vc_json":
            assert isinstance(cred.raw, str)
            return issue_vc_jose_vp(
                None,
                key,
                kid=vm,
                credentials=[cred.raw],
                nonce=request.nonce,
                audience=request.audience,
                now=now,
            )
        presentation = {
            "@context": [_VC_V2],
            "type": ["VerifiablePresentation"],
            "holder": did,
            "verifiableCredential": [cred.raw],
        }
        return add_proof(
            presentation,
            key,
            verification_method=vm,
            proof_purpose="authentication",
            challenge=request.nonce,
            domain=request.audience,
            created=now,
        )

    # -- the person's own view ----------------------------------------------------------

    def history(self) -> list[DisclosureRecord]:
        """Every disclosure made, oldest first: who saw what, when and why."""
        return [
            DisclosureRecord(d["at"], d["verifier"], d["purpose"], d["nonce"], d["disclosed"])
            for _, d in self._store.items("history")
        ]

    def export(self) -> dict[str, Any]:
        """All the person's data in one machine-readable object (GDPR article 20).

        The private key is not included.
        """
        return {
            "holder": self.did,
            "credentials": [c.to_json() for c in self.credentials()],
            "history": [r.to_json() for r in self.history()],
        }

    def erase_history(self) -> int:
        """Forget the disclosure history; returns how many records went."""
        return self._store.delete("history")


# Claims of an SD-JWT VC that are about the token, not the person: never listed.
_SD_JWT_REGISTERED = frozenset(
    {"iss", "iat", "nbf", "exp", "vct", "vct#integrity", "cnf", "status", "_sd", "_sd_alg"}
)


def _always_shown(
    cred: StoredCredential, asked: Sequence[Sequence[PathElement]]
) -> tuple[str, ...]:
    """The clear claims of an SD-JWT VC beyond the ones asked for (empty for other formats)."""
    if cred.format != "dc+sd-jwt" or not isinstance(cred.raw, str):
        return ()
    names = {str(path[0]) for path in asked if path}
    payload = SdJwt.parse(cred.raw).unverified_payload
    return tuple(n for n in payload if n not in _SD_JWT_REGISTERED and n not in names)


def _backup_key(content: BackupContent) -> PrivateKey:
    """The backup's holder key, checked against the DID it names."""
    try:
        key = PrivateKey.from_jwk(content.key)
    except (ParseError, ValueError) as exc:
        raise WalletBackupError(
            "backup_malformed", "the backup's holder key is unreadable"
        ) from exc
    if did_key_from_public_key(key.public_key) != content.holder:
        raise WalletBackupError("backup_malformed", "the backup's key is not its holder's")
    return key


def did_names_key(did: Any, key: PublicKey) -> str | None:
    """The verification method by which ``did`` names ``key``, or None.

    A ``did:key`` or ``did:jwk`` *is* its key: either of ``key`` names it (as
    ``did:key:z...#z...`` or ``did:jwk:...#0``). Any other DID, or a DID of
    another key, gives None; nothing is fetched.
    """
    named = self_certifying_key(did)
    if named is None or named[0].to_multikey() != key.to_multikey():
        return None
    return named[1]


def _subject_id(claims: Mapping[str, Any]) -> str | None:
    subject = claims.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    ident = subject.get("id") if isinstance(subject, Mapping) else None
    return ident if isinstance(ident, str) else None


def _issuer_of(document: Mapping[str, Any]) -> str:
    issuer = document.get("issuer", document.get("iss", ""))
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id", "")
    return str(issuer)


def _uuid4(randbytes: RandBytes) -> str:
    import uuid

    return str(uuid.UUID(bytes=randbytes(16), version=4))


def _expand(claims: Any, paths: Iterable[Sequence[PathElement]]) -> list[tuple[str | int, ...]]:
    """DCQL paths (with ``null`` wildcards) as concrete claim paths for SD-JWT presentation."""
    out: list[tuple[str | int, ...]] = []

    def walk(node: Any, rest: Sequence[PathElement], prefix: tuple[str | int, ...]) -> None:
        if not rest:
            out.append(prefix)
            return
        head, tail = rest[0], rest[1:]
        if head is None:
            if isinstance(node, list):
                for i, item in enumerate(node):
                    walk(item, tail, (*prefix, i))
        elif isinstance(head, str):
            if isinstance(node, Mapping) and head in node:
                walk(node[head], tail, (*prefix, head))
        elif isinstance(node, list) and head < len(node):
            walk(node[head], tail, (*prefix, head))

    for path in paths:
        walk(claims, path, ())
    return [p for p in dict.fromkeys(out) if p]
