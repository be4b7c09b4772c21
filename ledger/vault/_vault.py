"""The vault: personal data off the log, crypto-shredding erasure, and the GDPR rights.

The vault's tables live in the ledger store's database (one SQLite file, or
the store's PostgreSQL schema), and every vault write that goes with a log
entry runs INSIDE the log's append transaction (the store's
:meth:`~ledger.store.StoreWriter.execute`, through the ``before_commit`` hook
of :meth:`~ledger.log.Log.append_batch`):

* a put or rectification appends its commitment and stores the sealed record
  (and the subject's data key, if new) in ONE transaction;
* an erasure appends its tombstones and deletes the ciphertexts, their
  commitment keys and, when no record is left, the subject's data key, in
  ONE transaction (per 1,000 record versions); then it compacts the files;
* a release, refusal or access event is logged with its row the same way.

A crash (kill -9) therefore leaves all of a write or none of it: no half
record, no orphaned key, and no commitment on the log without its record or
a tombstone. The tombstone *replay* remains, for backups: a restore replays
every tombstone on the log against the restored tables, so a backup taken
before an erasure cannot bring the erased data back (it also runs at every
open, where it finds nothing left to do unless the tables were restored or
written by an older version).
"""

from __future__ import annotations

import hmac
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from did_methods._wire.dates import Clock, system_clock
from did_methods._wire.json import loads
from did_methods.encoding import b64url_encode
from did_methods.errors import ParseError, SSIWalletError
from did_methods.keys import PrivateKey
from ledger.entry import Entry, EntryDraft, SignedDraft, ms_clock
from ledger.log import Log, refuse_unowned_log
from ledger.proofs import InclusionProof
from ledger.store._base import StoreWriter
from ledger.vault._canonical import check_record, parse_json
from ledger.vault._store import (
    CompactReport,
    ErasedRow,
    EventRow,
    RecordRow,
    SubjectRow,
    VaultBackend,
    VaultTxn,
)
from ledger.vault.backup import BackupOrigin, restore_backup, write_backup
from ledger.vault.crypto import (
    COMMITMENT_KEY_SIZE,
    DATA_KEY_SIZE,
    NONCE_SIZE,
    KeyProvider,
    RandBytes,
    commit,
    open_record,
    seal_record,
    subject_tag,
)
from ledger.vault.errors import (
    MasterKeyError,
    NotAVaultError,
    RecordNotFound,
    ReleaseRefused,
    SubjectNotFound,
    VaultError,
    VaultStoreError,
)
from ledger.vault.policy import (
    AUTHORISATION_KINDS,
    DEFAULT_POLICY,
    Authorisation,
    AuthorisationVerifier,
    PolicyDecision,
    Principal,
    RecordInfo,
    ReleasePolicy,
    ReleaseRequest,
)
from ledger.vault.proof import (
    KIND_ACCESS,
    KIND_COMMIT,
    KIND_REFUSAL,
    KIND_RELEASE,
    KIND_TOMBSTONE,
    REF_SIZE,
    RecordProof,
    decode_payload,
    encode_payload,
)

__all__ = [
    "AccessEvent",
    "ErasedRecord",
    "ErasureReceipt",
    "RecordReceipt",
    "Release",
    "StoredRecord",
    "SubjectAccess",
    "Vault",
    "VaultCheck",
]

_MAX_SUBJECT_ID = 256
_INDEX_CONTEXT = b"index-key"
_ID_AAD = b"ssi-wallet vault subject id v1\x00"
_TOMBSTONE_BATCH = 1000


def _check_subject_id(subject_id: object) -> str:
    if not isinstance(subject_id, str) or not 0 < len(subject_id) <= _MAX_SUBJECT_ID:
        raise ParseError(f"a subject id is a string of 1 to {_MAX_SUBJECT_ID} characters")
    if any(ord(c) < 0x20 for c in subject_id):
        raise ParseError("a subject id must not contain control characters")
    try:
        subject_id.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ParseError("a subject id must be valid Unicode text") from exc
    return subject_id


def _check_record_id(record_id: object) -> str:
    if not isinstance(record_id, str) or not 0 < len(record_id) <= 64 or not record_id.isascii():
        raise ParseError("a record id is an ASCII string of 1 to 64 characters")
    return record_id


# -- results -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordReceipt:
    """What :meth:`Vault.put` and :meth:`Vault.rectify` stored.

    ``ref`` and ``commitment`` are what the log entry at ``log_index`` holds.
    """

    record_id: str
    version: int
    ref: bytes
    commitment: bytes
    log_index: int


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """One record version as the vault holds it, decrypted, with its log commitment.

    ``state`` is ``current`` or ``superseded`` (by a rectification);
    ``entry`` is the encoded ``vault.commit`` log entry and ``inclusion`` its
    inclusion proof in the tree of the log's size when it was read.
    """

    record_id: str
    version: int
    state: str
    record: Mapping[str, Any]
    minor: bool
    restricted: bool
    created_ms: int
    ref: bytes
    commitment: bytes
    commitment_key: bytes = field(repr=False)
    log_index: int
    entry: bytes = field(repr=False)
    inclusion: InclusionProof | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The export form of this record (keys in camelCase, bytes in base64url)."""
        return {
            "recordId": self.record_id,
            "version": self.version,
            "state": self.state,
            "minor": self.minor,
            "restricted": self.restricted,
            "createdMs": self.created_ms,
            "record": dict(self.record),
            "commitment": {
                "ref": b64url_encode(self.ref),
                "commitment": b64url_encode(self.commitment),
                "commitmentKey": b64url_encode(self.commitment_key),
                "logIndex": self.log_index,
                "entry": b64url_encode(self.entry),
                "inclusionProof": None if self.inclusion is None else self.inclusion.to_json(),
            },
        }


@dataclass(frozen=True, slots=True)
class ErasedRecord:
    """A record version that was erased: only ids and the tombstone's place in the log remain."""

    record_id: str
    version: int
    erased_ms: int
    commit_index: int
    tombstone_index: int
    tombstone_entry: bytes = field(repr=False)
    tombstone_inclusion: InclusionProof | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The export form of this erasure."""
        return {
            "recordId": self.record_id,
            "version": self.version,
            "erasedMs": self.erased_ms,
            "commitIndex": self.commit_index,
            "tombstone": {
                "logIndex": self.tombstone_index,
                "entry": b64url_encode(self.tombstone_entry),
                "inclusionProof": None
                if self.tombstone_inclusion is None
                else self.tombstone_inclusion.to_json(),
            },
        }


@dataclass(frozen=True, slots=True)
class AccessEvent:
    """A logged release, refusal or access of a subject's records (the event, decrypted)."""

    log_index: int
    event: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The export form: the event with its log index."""
        return {"logIndex": self.log_index, **self.event}


@dataclass(frozen=True, slots=True)
class SubjectAccess:
    """Everything the vault holds about one subject (GDPR article 15).

    ``status`` is ``active`` (live records exist) or ``erased`` (only erasure
    markers remain). Proofs are for the tree of ``log_size`` entries, whose
    root is ``log_root``.
    """

    subject_id: str
    status: str
    records: tuple[StoredRecord, ...]
    erased: tuple[ErasedRecord, ...]
    events: tuple[AccessEvent, ...]
    log_size: int
    log_root: bytes

    def to_json(self) -> dict[str, Any]:
        """The machine-readable export (article 20): one JSON object."""
        return {
            "type": "VaultSubjectExport",
            "version": 1,
            "subject": self.subject_id,
            "status": self.status,
            "log": {"size": self.log_size, "root": b64url_encode(self.log_root)},
            "records": [r.to_json() for r in self.records],
            "erased": [e.to_json() for e in self.erased],
            "accessLog": [e.to_json() for e in self.events],
        }


@dataclass(frozen=True, slots=True)
class Release:
    """Records released to a principal, after every check passed and the release was logged."""

    principal: Principal
    purpose: str
    records: tuple[StoredRecord, ...]
    log_index: int
    authorisation: Authorisation | None = None


@dataclass(frozen=True, slots=True)
class ErasureReceipt:
    """What :meth:`Vault.erase` did.

    ``tombstones`` are the log indices of the tombstones appended (one per
    record version erased); ``subject_erased`` is true when the subject's
    data key is gone (no record of it remains); ``compaction`` says whether
    the database files were cleaned of the erased bytes.
    """

    tombstones: tuple[int, ...]
    subject_erased: bool
    compaction: CompactReport


@dataclass(frozen=True, slots=True)
class VaultCheck:
    """The outcome of :meth:`Vault.check`. Ask ``check.ok``; not a truth value."""

    ok: bool
    subjects: int
    records: int
    erased: int
    events: int
    problems: tuple[str, ...]

    def __bool__(self) -> bool:
        raise TypeError("ask check.ok; a VaultCheck is not a truth value")


# -- the vault ----------------------------------------------------------------------


class Vault:
    """Personal records off the log, each committed on it, erasable for real.

    ``log`` is the ledger's log (sharing the database with ``backend``);
    ``master_key`` wraps the data keys (a :class:`~ledger.vault.crypto.MasterKey`
    or any :class:`~ledger.vault.crypto.KeyProvider`); ``signer`` signs the
    vault's log entries as ``submitter`` (default: the signer's did:key URL).
    Without a signer the vault can only be read. ``policy`` decides releases
    by role and purpose; ``authorisation_verifier`` checks the credentials that
    unlock a minor's records. ``clock`` (a callable returning an aware
    datetime) says when, ``randbytes`` gives keys, nonces and references.

    Opening a vault creates its tables if needed, checks the master key
    (raises :class:`~ledger.vault.errors.MasterKeyError` for another key),
    checks that the log's store holds these same tables (the vault's writes
    join the log's transactions; raises
    :class:`~ledger.vault.errors.VaultStoreError` otherwise, e.g. for a log in
    a :class:`~ledger.store.MemoryStore`) and replays any erasure tombstone the
    tables have not applied yet.
    """

    def __init__(
        self,
        log: Log,
        backend: VaultBackend,
        *,
        master_key: KeyProvider,
        signer: PrivateKey | None = None,
        submitter: str | None = None,
        policy: ReleasePolicy = DEFAULT_POLICY,
        authorisation_verifier: AuthorisationVerifier | None = None,
        clock: Clock = system_clock,
        randbytes: RandBytes = os.urandom,
    ) -> None:
        """Open the vault (see the class docstring)."""
        if not isinstance(master_key, KeyProvider):
            raise MasterKeyError("master_key must be a KeyProvider (wrap, unwrap, key_id)")
        self._log = log
        self._backend = backend
        self._mk = master_key
        self._signer = signer
        if signer is not None and submitter is None:
            from did_methods.methods.key import did_key_from_public_key

            did = did_key_from_public_key(signer.public_key)
            submitter = f"{did}#{did.removeprefix('did:key:')}"
        self._submitter = submitter
        self._policy = policy
        self._verifier = authorisation_verifier
        self._clock = clock
        self._now_ms = ms_clock(clock)
        self._rand = randbytes
        self._read_only = bool(backend.read_only)
        if self._read_only and signer is not None:
            raise VaultError("a vault opened read-only signs nothing: open it without a signer")
        self._index_key = self._load_meta()
        if self._read_only:
            self._check_replayed()
            return
        self._check_shared_store()
        self.replay()

    @classmethod
    def open(
        cls,
        target: str | os.PathLike[str],
        *,
        master_key: KeyProvider,
        origin: str | None = None,
        schema: str = "ssi_ledger",
        create: bool = True,
        read_only: bool = False,
        **options: Any,
    ) -> Vault:
        """Open the ledger and the vault sharing one store.

        ``create=False`` opens an existing vault only: a target that holds no
        ledger raises :class:`~ledger.errors.NotALedgerError`, a ledger without
        the vault's tables :class:`~ledger.vault.errors.NotAVaultError`, and
        nothing is created in either case. ``read_only=True`` opens both
        read-only (SQLite ``mode=ro``, read-only PostgreSQL sessions): nothing is
        created or written, not even an access event (give no ``signer``), and
        the files are left byte for byte as they were; a vault with an erasure
        on the log not yet applied raises :class:`VaultStoreError` then.

        ``target`` is a SQLite file path (the default store) or a PostgreSQL
        DSN (``postgresql://...``). ``origin`` names the log; by default the
        origin already recorded in the store, else :data:`DEFAULT_ORIGIN`.
        Other keyword arguments go to :class:`Vault` (``signer``, ``policy``,
        ...) or, for ``checkpoint_signer`` and ``adopt``, to the
        :class:`~ledger.log.Log` (which also gets ``clock``): a
        ``checkpoint_signer`` given to a log that holds entries but no
        operator raises :class:`~ledger.errors.LedgerKeyMismatch`
        (``operator_unknown``) unless ``adopt=True`` makes its key the log's
        operator for good.
        Raises :class:`~ledger.errors.LedgerStoreError` or
        :class:`~ledger.vault.errors.VaultStoreError` when the store cannot
        be opened.
        """
        text = os.fspath(target)
        checkpoint_signer = options.pop("checkpoint_signer", None)
        adopt = bool(options.pop("adopt", False))
        backend: VaultBackend
        if text.startswith(("postgresql://", "postgres://")):
            from ledger.store.postgres import PostgresStore
            from ledger.vault.postgres import PostgresVaultBackend

            store: Any = PostgresStore(text, schema=schema, create=create, read_only=read_only)
            make_backend: Any = lambda: PostgresVaultBackend(  # noqa: E731
                text, schema=schema, create=create, read_only=read_only
            )
        else:
            from ledger.store.sqlite import SQLiteStore
            from ledger.vault._backend import SQLiteVaultBackend

            store = SQLiteStore(text, create=create, read_only=read_only)
            make_backend = lambda: SQLiteVaultBackend(  # noqa: E731
                text, create=create, read_only=read_only
            )
        try:
            if checkpoint_signer is not None and not adopt:
                # Before the vault's tables are made: a refused opening writes nothing.
                refuse_unowned_log(store)
            backend = make_backend()
        except BaseException:
            store.close()
            raise
        try:
            name = origin or store.origin() or DEFAULT_ORIGIN
            clock = options.get("clock", system_clock)
            log = Log(store, origin=name, signer=checkpoint_signer, clock=clock, adopt=adopt)
            return cls(log, backend, master_key=master_key, **options)
        except BaseException:
            backend.close()
            store.close()
            raise

    @property
    def log(self) -> Log:
        """The log this vault commits to."""
        return self._log

    @property
    def backend(self) -> VaultBackend:
        """Where the vault's tables live."""
        return self._backend

    def close(self) -> None:
        """Close the vault's connection and the log's store."""
        self._backend.close()
        self._log.store.close()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- keys --------------------------------------------------------------------

    def _load_meta(self) -> bytes:
        if self._read_only:
            with self._backend.read() as txn:
                meta = txn.meta()
            if "index_key" not in meta:
                raise NotAVaultError("the vault tables hold no vault yet: open it writable once")
            if meta.get("master_key_id") != self._mk.key_id.encode():
                raise MasterKeyError(
                    "this vault was made with master key "
                    f"{meta.get('master_key_id', b'?').decode()}, not {self._mk.key_id}"
                )
            self._vault_id = meta.get("vault_id", b"").decode()
            return self._mk.unwrap(meta["index_key"], context=_INDEX_CONTEXT)
        with self._backend.transaction() as txn:
            meta = txn.meta()
            if "index_key" not in meta:
                index_key = self._rand(DATA_KEY_SIZE)
                rows = [
                    ("master_key_id", self._mk.key_id.encode()),
                    ("index_key", self._mk.wrap(index_key, context=_INDEX_CONTEXT)),
                    ("replayed_upto", str(self._log.size).encode()),
                    ("vault_id", self._rand(16).hex().encode()),
                ]
                for key, value in rows:
                    txn.set_meta(key, value)
                self._vault_id = rows[-1][1].decode()
                return index_key
            if meta.get("master_key_id") != self._mk.key_id.encode():
                raise MasterKeyError(
                    "this vault was made with master key "
                    f"{meta.get('master_key_id', b'?').decode()}, not {self._mk.key_id}"
                )
            if "vault_id" not in meta:
                # A vault made before vaults had ids gets one now (backups name it).
                meta["vault_id"] = self._rand(16).hex().encode()
                txn.set_meta("vault_id", meta["vault_id"])
        self._vault_id = meta["vault_id"].decode()
        return self._mk.unwrap(meta["index_key"], context=_INDEX_CONTEXT)

    @property
    def vault_id(self) -> str:
        """This vault's random id (hex), which its backups carry."""
        return self._vault_id

    def _check_shared_store(self) -> None:
        # The wrapped index key is random per vault: seeing the same bytes through
        # the log store's transaction proves both reach the same tables.
        from ledger.errors import LedgerStoreError

        with self._backend.read() as txn:
            mine = txn.meta().get("index_key")
        try:
            with self._log.store.write() as writer, self._backend.join(writer) as joined:
                theirs = joined.meta().get("index_key")
        except LedgerStoreError as exc:
            raise VaultStoreError(f"the log's store cannot hold the vault: {exc}") from exc
        if theirs is None or theirs != mine:
            raise VaultStoreError("the log's store and the vault backend are not one database")

    def _tag(self, subject_id: str) -> bytes:
        return subject_tag(self._index_key, _check_subject_id(subject_id))

    def _data_key(self, tag: bytes, wrapped: bytes) -> bytes:
        return self._mk.unwrap(bytes(wrapped), context=b"subject:" + tag)

    # -- log writes -----------------------------------------------------------------

    def _sign(self, kind: str, payload: bytes) -> SignedDraft:
        if self._signer is None or self._submitter is None:
            raise VaultError("this vault has no signer: it cannot write to the log")
        return EntryDraft(kind, payload).sign(self._signer, self._submitter, now=self._clock)

    # -- the rights: store, rectify ----------------------------------------------------

    def put(
        self, subject_id: str, record: Mapping[str, Any], *, minor: bool = False
    ) -> RecordReceipt:
        """Store a new record (a JSON object) for ``subject_id``; commit it on the log.

        ``minor`` flags the record of a minor: it is then released only on a
        verified authorisation. Raises :class:`~did_methods.errors.ParseError`
        for a bad subject id or record, :class:`VaultError` without a signer,
        and store errors (after which nothing is in the vault).
        """
        tag = self._tag(subject_id)
        _, canonical = check_record(record)
        record_id = "rec-" + b64url_encode(self._rand(12))
        return self._store_version(
            subject_id, tag, record_id, 1, canonical, minor=minor, restricted=False, supersede=None
        )

    def _store_version(
        self,
        subject_id: str,
        tag: bytes,
        record_id: str,
        version: int,
        canonical: bytes,
        *,
        minor: bool,
        restricted: bool,
        supersede: bytes | None,
        erase_superseded: bool = False,
    ) -> RecordReceipt:
        ref = self._rand(REF_SIZE)
        ck = self._rand(COMMITMENT_KEY_SIZE)
        if len(ref) != REF_SIZE or len(ck) != COMMITMENT_KEY_SIZE:
            raise VaultError("randbytes returned the wrong number of bytes")
        commitment = commit(ck, canonical)
        drafts = [self._sign(KIND_COMMIT, encode_payload(ref, commitment))]
        if erase_superseded and supersede is not None:
            drafts.append(self._sign(KIND_TOMBSTONE, encode_payload(supersede)))
        now = self._now_ms()

        def write(writer: StoreWriter, entries: Sequence[Entry]) -> None:
            # Inside the log's transaction: the commitment (and the tombstone of the
            # superseded version) commit with the sealed record, or nothing does.
            with self._backend.join(writer) as txn:
                write_version(txn, entries)

        def write_version(txn: VaultTxn, entries: Sequence[Entry]) -> None:
            wrapped_key = txn.subject_key(tag)
            if wrapped_key is not None:
                data_key = self._data_key(tag, wrapped_key)
            else:
                data_key = self._rand(DATA_KEY_SIZE)
                wrapped = self._mk.wrap(data_key, context=b"subject:" + tag)
                id_nonce = self._rand(NONCE_SIZE)
                sealed_id = id_nonce + _aesgcm(data_key).encrypt(
                    id_nonce, subject_id.encode("utf-8"), _ID_AAD + tag
                )
                txn.add_subject(SubjectRow(tag, wrapped, sealed_id, now))
            if supersede is not None and not txn.supersede(supersede):
                raise VaultError(f"record {record_id} changed meanwhile; rectify again")
            nonce, ciphertext = seal_record(
                data_key,
                subject_id=subject_id,
                record_id=record_id,
                version=version,
                commitment_key=ck,
                canonical=canonical,
                randbytes=self._rand,
            )
            txn.add_record(
                RecordRow(
                    ref,
                    tag,
                    record_id,
                    version,
                    nonce,
                    ciphertext,
                    commitment,
                    entries[0].index,
                    now,
                    minor,
                    restricted,
                    False,
                )
            )
            if len(entries) > 1:
                assert supersede is not None
                _apply_tombstones(txn, [(supersede, entries[1].index)], now, [tag])

        entries = self._log.append_batch(drafts, before_commit=write)
        return RecordReceipt(record_id, version, ref, commitment, entries[0].index)

    def rectify(
        self,
        subject_id: str,
        record_id: str,
        record: Mapping[str, Any],
        *,
        erase_previous: bool = False,
    ) -> RecordReceipt:
        """Store a corrected version of ``record_id`` (GDPR article 16); it supersedes the
        current one, which stays (flagged ``superseded``) unless ``erase_previous``.

        The new version, its commitment and (with ``erase_previous``) the old
        version's tombstone and erasure are written in one transaction; the
        files are then compacted. Raises
        :class:`~ledger.vault.errors.RecordNotFound` when the subject has no
        current version of that record.
        """
        tag = self._tag(subject_id)
        _check_record_id(record_id)
        _, canonical = check_record(record)
        with self._backend.read() as txn:
            rows = txn.records(tag, record_id=record_id, current_only=True)
            top = txn.max_erased_version(record_id)
        if not rows:
            raise RecordNotFound(f"the subject has no current record {record_id}")
        old = rows[0]
        version = max(old.version, top) + 1
        receipt = self._store_version(
            subject_id,
            tag,
            record_id,
            version,
            canonical,
            minor=old.minor,
            restricted=old.restricted,
            supersede=old.ref,
            erase_superseded=erase_previous,
        )
        if erase_previous:
            self._backend.compact()
        return receipt

    def restrict(self, subject_id: str, *, record_id: str | None = None, lift: bool = False) -> int:
        """Freeze the subject's records (or one record, all versions) from release
        (GDPR article 18), or ``lift`` the restriction. Returns how many record
        versions changed. Raises :class:`~ledger.vault.errors.SubjectNotFound`
        when there is nothing to restrict.
        """
        tag = self._tag(subject_id)
        if record_id is not None:
            _check_record_id(record_id)
        with self._backend.transaction() as txn:
            found = txn.set_restricted(tag, record_id, not lift)
            if not found:
                raise SubjectNotFound("no live record of that subject to restrict")
        return found

    # -- erasure -------------------------------------------------------------------

    def erase(
        self,
        subject_id: str,
        *,
        record_id: str | None = None,
        version: int | None = None,
        compact: bool = True,
    ) -> ErasureReceipt:
        """Erase the subject (GDPR article 17): every record version, or only ``record_id``
        (and only ``version`` of it, if given).

        Appends one tombstone per record version (naming only its opaque
        reference) and, in the same transaction, deletes the ciphertexts and
        their commitment keys, and the subject's data key when no record of it
        remains; then compacts the database files. Each transaction covers up
        to 1,000 record versions: a crash between two leaves the first ones
        erased and the rest intact, and erasing again finishes the job.
        Erasing what is already erased returns a receipt with no tombstones.
        Raises :class:`~ledger.vault.errors.SubjectNotFound` when the vault
        never held that subject (or record).

        ``compact=False`` skips the compaction (on PostgreSQL ``VACUUM (FULL)``
        rewrites the vault tables, so erase a batch, then call :meth:`compact`
        once); until then the deleted bytes may remain in the database files.
        """
        tag = self._tag(subject_id)
        if record_id is not None:
            _check_record_id(record_id)
        only = int(version) if record_id is not None and version is not None else None
        with self._backend.read() as txn:
            refs = [r.ref for r in txn.records(tag, record_id=record_id, version=only)]
            done = txn.erased(tag, record_id=record_id)
        if not refs and not done:
            raise SubjectNotFound("the vault holds no such subject or record")
        tombstones: list[int] = []
        for start in range(0, len(refs), _TOMBSTONE_BATCH):
            batch = refs[start : start + _TOMBSTONE_BATCH]
            drafts = [self._sign(KIND_TOMBSTONE, encode_payload(ref)) for ref in batch]
            now = self._now_ms()

            def apply(
                writer: StoreWriter,
                entries: Sequence[Entry],
                batch: list[bytes] = batch,
                now: int = now,
            ) -> None:
                # The tombstones and the deletions they stand for commit together.
                pairs = [(ref, e.index) for ref, e in zip(batch, entries, strict=True)]
                with self._backend.join(writer) as txn:
                    _apply_tombstones(txn, pairs, now, [tag])

            tombstones += [e.index for e in self._log.append_batch(drafts, before_commit=apply)]
        # Tombstones appended by others (another process's vault) since the last replay.
        self.replay()
        compaction = (
            self._backend.compact()
            if compact
            else CompactReport(False, "compaction deferred: call Vault.compact()")
        )
        with self._backend.read() as txn:
            left = txn.subject_key(tag)
        return ErasureReceipt(tuple(tombstones), left is None, compaction)

    def _check_replayed(self) -> None:
        # A read-only vault cannot apply tombstones: it refuses to open over a record
        # that an erasure on the log has not removed yet (it would show erased data).
        with self._backend.read() as txn:
            recorded = txn.meta().get("replayed_upto")
            upto = int(recorded.decode()) if recorded is not None else 0
            size = self._log.size
            for entry in self._log.range(min(upto, size), size):
                if entry.kind != KIND_TOMBSTONE:
                    continue
                try:
                    ref, _ = decode_payload(entry.kind, entry.payload)
                except ParseError:
                    continue
                if txn.record(ref) is not None:
                    raise VaultStoreError(
                        "an erasure on the log is not applied to the vault yet: "
                        "open it writable once (it is applied then)"
                    )

    def replay(self) -> int:
        """Apply every erasure tombstone on the log that the vault tables have not applied.

        Runs when a vault opens, after every erasure and after a restore.
        Returns how many record versions it removed.
        """
        with self._backend.transaction() as txn:
            return self._replay_in(txn)

    def _replay_in(self, txn: VaultTxn, *, start: int | None = None) -> int:
        # From the recorded position, or from ``start`` (a restore replays the whole log).
        recorded = txn.meta().get("replayed_upto")
        upto = int(recorded.decode()) if recorded is not None else 0
        if start is not None:
            upto = start
        size = self._log.size
        if upto >= size:
            return 0
        removed = 0
        tags: set[bytes] = set()
        now = self._now_ms()
        for entry in self._log.range(upto, size):
            if entry.kind != KIND_TOMBSTONE:
                continue
            try:
                ref, _ = decode_payload(entry.kind, entry.payload)
            except ParseError:
                continue  # not one of ours: a vault never writes a malformed tombstone
            found = txn.record(ref)
            if found is None:
                continue
            txn.erase_record(ref, entry.index, now)
            tags.add(found.tag)
            removed += 1
        for tag in tags:
            # No record left: the data key goes too (crypto-shredding).
            txn.drop_subject_if_empty(tag)
        if recorded is not None:
            txn.set_meta("replayed_upto", str(size).encode())
        return removed

    def compact(self) -> CompactReport:
        """Clean the database files of deleted bytes again (if an erasure's compaction was busy)."""
        return self._backend.compact()

    # -- reading -------------------------------------------------------------------

    def _read_subject(
        self, subject_id: str, tag: bytes, *, current_only: bool, record_id: str | None = None
    ) -> tuple[list[StoredRecord], list[ErasedRow]]:
        if record_id is not None:
            _check_record_id(record_id)
        with self._backend.read() as txn:
            wrapped_key = txn.subject_key(tag)
            rows = txn.records(tag, record_id=record_id, current_only=current_only)
            erased = txn.erased(tag)
        records: list[StoredRecord] = []
        if rows:
            if wrapped_key is None:
                raise VaultStoreError("records without their subject's data key")
            data_key = self._data_key(tag, wrapped_key)
            for row in rows:
                rid, ver, cmt, idx = row.record_id, row.version, row.commitment, row.log_index
                ck, canonical = open_record(
                    data_key,
                    subject_id=subject_id,
                    record_id=rid,
                    version=ver,
                    nonce=row.nonce,
                    ciphertext=row.ciphertext,
                )
                if not hmac.compare_digest(commit(ck, canonical), cmt):
                    raise VaultStoreError(f"record {rid} v{ver} does not match its commitment")
                entry = self._log.get(idx)
                if entry.kind != KIND_COMMIT or decode_payload(entry.kind, entry.payload) != (
                    row.ref,
                    cmt,
                ):
                    raise VaultStoreError(f"log entry {idx} is not the commitment of {rid} v{ver}")
                records.append(
                    StoredRecord(
                        record_id=rid,
                        version=ver,
                        state="superseded" if row.superseded else "current",
                        record=parse_json(bytes(canonical)),
                        minor=row.minor,
                        restricted=row.restricted,
                        created_ms=row.created_ms,
                        ref=row.ref,
                        commitment=cmt,
                        commitment_key=ck,
                        log_index=idx,
                        entry=entry.encode(),
                    )
                )
        return records, erased

    def _with_proofs(self, records: Sequence[StoredRecord], size: int) -> tuple[StoredRecord, ...]:
        out = []
        for r in records:
            proof = self._log.prove_inclusion(r.log_index, size)
            out.append(
                StoredRecord(
                    r.record_id,
                    r.version,
                    r.state,
                    r.record,
                    r.minor,
                    r.restricted,
                    r.created_ms,
                    r.ref,
                    r.commitment,
                    r.commitment_key,
                    r.log_index,
                    r.entry,
                    proof,
                )
            )
        return tuple(out)

    def access(self, subject_id: str, *, log_event: bool = True) -> SubjectAccess:
        """Everything the vault holds about ``subject_id`` (GDPR article 15), with proofs.

        Live records come decrypted, each checked against its commitment and
        log entry, with an inclusion proof; erased ones as erasure markers with
        their tombstone's inclusion proof (``status == "erased"`` when nothing
        else remains); the subject's access log with them. This is the
        controller answering the subject's request (restricted and minors'
        records included): when the vault has a signer and ``log_event`` is
        true, the access itself is logged first.

        Raises :class:`~ledger.vault.errors.SubjectNotFound` when the vault
        never held the subject.
        """
        return self._access(subject_id, log_event=log_event, purpose="access")

    def _access(self, subject_id: str, *, log_event: bool, purpose: str) -> SubjectAccess:
        tag = self._tag(subject_id)
        records, erased_rows = self._read_subject(subject_id, tag, current_only=False)
        if not records and not erased_rows:
            raise SubjectNotFound("the vault holds nothing about that subject")
        if log_event and self._signer is not None:
            self._log_event(
                tag,
                KIND_ACCESS,
                {
                    "type": "subject-access",
                    "principal": None,
                    "purpose": purpose,
                    "code": "allowed",
                    "records": [[r.record_id, r.version] for r in records],
                    "authorisation": None,
                },
            )
        size = self._log.size
        erased = []
        for row in erased_rows:
            entry = self._log.get(row.tombstone_index)
            erased.append(
                ErasedRecord(
                    row.record_id,
                    row.version,
                    row.erased_ms,
                    row.commit_index,
                    row.tombstone_index,
                    entry.encode(),
                    self._log.prove_inclusion(row.tombstone_index, size),
                )
            )
        with self._backend.read() as txn:
            events = txn.events(tag)
        return SubjectAccess(
            subject_id=subject_id,
            status="active" if records else "erased",
            records=self._with_proofs(records, size),
            erased=tuple(erased),
            events=tuple(
                AccessEvent(e.log_index, loads(e.event, what="access event")) for e in events
            ),
            log_size=size,
            log_root=self._log.root(size),
        )

    def export(self, subject_id: str) -> bytes:
        """The subject's data as one machine-readable JSON file (GDPR article 20).

        The content of :meth:`access` (records, proofs, erasures, access log),
        as UTF-8 JSON. Raises as :meth:`access`.
        """
        data = self._access(subject_id, log_event=True, purpose="portability").to_json()
        return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()

    def prove_record(
        self,
        subject_id: str,
        record_id: str,
        *,
        version: int | None = None,
        checkpoint: str | None = None,
    ) -> RecordProof:
        """A :class:`~ledger.vault.proof.RecordProof` that this record version (default: the
        current one) is what was committed, for :func:`~ledger.vault.verify_record_proof`.

        ``checkpoint`` is a signed checkpoint note covering the commitment;
        by default the newest stored checkpoint that covers it. Raises
        :class:`~ledger.vault.errors.RecordNotFound` and
        :class:`VaultError` when no stored checkpoint covers the entry yet.
        """
        tag = self._tag(subject_id)
        records, _ = self._read_subject(subject_id, tag, current_only=False, record_id=record_id)
        chosen = [
            r
            for r in records
            if (r.version == version if version is not None else r.state == "current")
        ]
        if not chosen:
            raise RecordNotFound(f"the subject has no such version of {record_id}")
        record = chosen[0]
        if checkpoint is None:
            for stored in self._log.checkpoints(limit=1000):
                if stored.size > record.log_index:
                    checkpoint, size = stored.note, stored.size
                    break
            else:
                raise VaultError("no stored checkpoint covers the record yet: sign one first")
        else:
            from ledger.checkpoint import Checkpoint, SignedNote

            size = Checkpoint.parse(SignedNote.parse(checkpoint).text).size
        if size <= record.log_index:
            raise VaultError("the checkpoint does not cover the record's commitment")
        return RecordProof(
            record.record,
            record.commitment_key,
            record.entry,
            self._log.prove_inclusion(record.log_index, size),
            checkpoint,
        )

    # -- release to principals -------------------------------------------------------

    def release(
        self,
        subject_id: str,
        *,
        principal: Principal,
        purpose: str,
        authorisation: object = None,
        record_id: str | None = None,
    ) -> Release:
        """Release the subject's current records (or one record) to ``principal`` for ``purpose``.

        Steps: (1) the records exist and are not erased; (2) the policy allows
        the principal's role and the purpose; (3) none is restricted; (4) a
        minor's record needs ``authorisation`` that the authorisation verifier
        verifies for this subject and principal, valid now; then (5) the
        release is logged as a commitment and the records returned. Every
        refusal is logged too, then raised as
        :class:`~ledger.vault.errors.ReleaseRefused` with its stable ``code``.
        Needs a signer (raises :class:`VaultError` without one).
        """
        if not isinstance(principal, Principal):
            raise ParseError("principal must be a Principal")
        if not isinstance(purpose, str) or not 0 < len(purpose) <= 256:
            raise ParseError("purpose must be a string of 1 to 256 characters")
        if self._signer is None:
            raise VaultError("this vault has no signer: releases must be logged")
        tag = self._tag(subject_id)
        records, erased = self._read_subject(
            subject_id, tag, current_only=True, record_id=record_id
        )
        event: dict[str, Any] = {
            "principal": {"id": principal.id, "role": principal.role.value},
            "purpose": purpose,
            "records": [[r.record_id, r.version] for r in records],
            "authorisation": None,
        }

        def refuse(code: str, reason: str) -> ReleaseRefused:
            index = self._log_event(tag, KIND_REFUSAL, {**event, "type": "refusal", "code": code})
            return ReleaseRefused(code, reason, index)

        # Step 1.
        if not records:
            code = "erased" if erased else "not_found"
            raise refuse(code, f"no record to release ({code})")
        # Step 2.
        request = ReleaseRequest(
            principal,
            purpose,
            subject_id,
            tuple(RecordInfo(r.record_id, r.version, r.minor, r.restricted) for r in records),
        )
        try:
            decision = self._policy.decide(request)
        except SSIWalletError as exc:
            decision = PolicyDecision.refuse("policy_error", str(exc))
        if not isinstance(decision, PolicyDecision) or not decision.ok:
            code = decision.code if isinstance(decision, PolicyDecision) else "policy_error"
            reason = decision.reason if isinstance(decision, PolicyDecision) else "bad decision"
            raise refuse(code, reason)
        # Step 3.
        if any(r.restricted for r in records):
            raise refuse("restricted", "a record asked for is restricted from release")
        # Step 4.
        granted: Authorisation | None = None
        if any(r.minor for r in records):
            if authorisation is None:
                raise refuse(
                    "authorisation_required",
                    "a minor's record needs a GuardianshipAuthorisation or a prosecutor's "
                    "authorisation",
                )
            if self._verifier is None:
                raise refuse("no_authorisation_verifier", "no authorisation verifier is configured")
            now = self._now_ms()
            try:
                granted = self._verifier.verify(
                    authorisation, subject_id=subject_id, principal=principal, now_ms=now
                )
                problem = _check_grant(granted, subject_id, principal, now)
            except SSIWalletError as exc:
                problem = f"the authorisation does not verify: {exc}"
            if problem is not None:
                raise refuse("authorisation_invalid", problem)
            assert granted is not None
            event["authorisation"] = {"kind": granted.kind, "issuer": granted.issuer}
        # Step 5.
        index = self._log_event(tag, KIND_RELEASE, {**event, "type": "release", "code": "allowed"})
        return Release(principal, purpose, tuple(records), index, granted)

    def _log_event(self, tag: bytes, kind: str, event: Mapping[str, Any]) -> int:
        body = {**event, "at": self._now_ms()}
        _, canonical = check_record(body)
        ref = self._rand(REF_SIZE)
        ck = self._rand(COMMITMENT_KEY_SIZE)
        draft = self._sign(kind, encode_payload(ref, commit(ck, canonical)))

        def write(writer: StoreWriter, entries: Sequence[Entry]) -> None:
            with self._backend.join(writer) as txn:
                txn.add_event(EventRow(ref, tag, entries[0].index, ck, canonical))

        return self._log.append(draft, before_commit=write).index

    # -- backup and restore ----------------------------------------------------------

    def backup(self, path: str | os.PathLike[str], *, force: bool = False) -> Path:
        """Write an encrypted backup of the vault to a new file (mode 0600).

        The file holds every vault row and the backup's origin (the log's
        origin and ledger id, and the vault's id), sealed with AES-256-GCM
        under a fresh backup key wrapped by the master key
        (:mod:`ledger.vault.backup`). Raises :class:`VaultError` when the file
        exists (unless ``force``: then it is replaced atomically) or is a
        symbolic link.
        """
        return write_backup(
            self._backend,
            path,
            origin=self._origin(),
            master_key=self._mk,
            created_ms=self._now_ms(),
            randbytes=self._rand,
            force=force,
        )

    def restore(self, path: str | os.PathLike[str]) -> int:
        """Merge a backup of this vault into its tables, then replay every erasure on the log.

        Only a backup of this vault is taken: its origin (the log's origin and
        ledger id, the vault's id) must be this vault's, else
        :class:`~ledger.vault.errors.BackupRefused` (``backup_other_ledger``,
        ``backup_other_vault``) and nothing changes. Restoring never removes
        what the vault holds: rows of the backup the vault lacks are added,
        rows it has are kept as they are. It never brings back what this
        vault erased: a record version erased here, and every record of a
        subject erased here, stays erased, and every tombstone on the log is
        replayed against what was added. One transaction, then the files are
        compacted. Returns how many of the backup's record versions stayed
        erased. Raises :class:`~ledger.vault.errors.RecordError` for a file
        that is not a backup and :class:`~ledger.vault.errors.MasterKeyError`
        for one made under another master key.
        """
        return restore_backup(
            self._backend,
            path,
            origin=self._origin(),
            master_key=self._mk,
            replay=lambda txn: self._replay_in(txn, start=0),
        )

    def _origin(self) -> BackupOrigin:
        from ledger.store._base import META_LEDGER_ID

        return BackupOrigin(self._log.origin, self._log.store.meta(META_LEDGER_ID), self._vault_id)

    # -- consistency ---------------------------------------------------------------

    def check(self) -> VaultCheck:
        """Check the tables against each other and the log (used after crashes, in tests).

        Every subject key unwraps and has at least one record; every record
        opens under its subject's key, matches its commitment and its
        ``vault.commit`` log entry; no record has a tombstone on the log that
        was replayed; every event matches its log entry.
        """
        problems: list[str] = []
        with self._backend.read() as txn:
            subjects = txn.subjects()
            records = txn.records()
            erased = txn.erased()
            events = txn.events()
        keys: dict[bytes, tuple[bytes, str]] = {}
        for tag, wrapped, sealed, _ in subjects:
            try:
                data_key = self._data_key(tag, wrapped)
                sid = _aesgcm(data_key).decrypt(
                    sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], _ID_AAD + tag
                )
                if subject_tag(self._index_key, sid.decode()) != tag:
                    raise VaultError("tag mismatch")
                keys[tag] = (data_key, sid.decode())
            except Exception as exc:  # a wrong key, a changed row: report, never raise
                problems.append(f"subject key {tag.hex()[:12]} does not open: {exc}")
        with_records: set[bytes] = set()
        erased_refs = {r.ref for r in erased}
        for ref, tag, rid, ver, nonce, ct, cmt, idx, *_ in records:
            with_records.add(tag)
            if ref in erased_refs:
                problems.append(f"record {rid} v{ver} is both live and erased")
            if tag not in keys:
                problems.append(f"record {rid} v{ver} has no usable subject key")
                continue
            try:
                ck, canonical = open_record(
                    keys[tag][0],
                    subject_id=keys[tag][1],
                    record_id=rid,
                    version=ver,
                    nonce=nonce,
                    ciphertext=ct,
                )
                if commit(ck, canonical) != cmt:
                    problems.append(f"record {rid} v{ver} does not match its commitment")
                entry = self._log.get(idx)
                if decode_payload(entry.kind, entry.payload) != (ref, cmt):
                    problems.append(f"record {rid} v{ver}: log entry {idx} is another commitment")
            except SSIWalletError as exc:
                problems.append(f"record {rid} v{ver}: {exc}")
        for tag in keys:
            if tag not in with_records:
                problems.append(f"subject key {tag.hex()[:12]} has no record (orphaned key)")
        for ref, _, idx, ck, body in events:
            try:
                entry = self._log.get(idx)
                got = decode_payload(entry.kind, entry.payload)
                if got != (ref, commit(ck, body)):
                    problems.append(f"event at {idx} does not match its log entry")
            except SSIWalletError as exc:
                problems.append(f"event at {idx}: {exc}")
        return VaultCheck(
            not problems, len(subjects), len(records), len(erased), len(events), tuple(problems)
        )


def _apply_tombstones(
    txn: VaultTxn, pairs: Sequence[tuple[bytes, int]], now: int, tags: Sequence[bytes]
) -> None:
    """Erase each record version ``ref`` whose tombstone is at ``index`` (``pairs``), then the
    data key of each subject in ``tags`` left without a record (crypto-shredding)."""
    for ref, index in pairs:
        # A version already erased (by a concurrent erasure) is absent: nothing happens.
        txn.erase_record(ref, index, now)
    for tag in tags:
        txn.drop_subject_if_empty(tag)


#: The log origin used when neither the caller nor the store names one.
DEFAULT_ORIGIN = "ssi-wallet.local/ledger"


def _aesgcm(key: bytes) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key)


def _check_grant(granted: object, subject_id: str, principal: Principal, now: int) -> str | None:
    if not isinstance(granted, Authorisation):
        return "the verifier did not return an Authorisation"
    if granted.kind not in AUTHORISATION_KINDS:
        return f"{granted.kind!r} does not authorise the release of a minor's record"
    if granted.subject_id != subject_id:
        return "the authorisation is for another child"
    if granted.principal_id != principal.id:
        return "the authorisation is for another guardian or office"
    if granted.valid_until_ms is not None and granted.valid_until_ms < now:
        return "the authorisation has expired"
    return None
