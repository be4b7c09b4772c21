"""The friendly front door: one :class:`Ledger` holding a log, its registries and a resolver.

::

    from ledger.facade import Ledger

    with Ledger.open("registry.db", key=operator_key) as ledger:   # SQLite; or a postgresql:// DSN
        ledger.accredit(ministry_did, types=["WorkPermit"], by=operator_key, jurisdiction="LT")
        ledger.issuers.was_accredited(ministry_did, "WorkPermit", now).ok
        note = ledger.checkpoint()

Everything here is a thin composition of :class:`ledger.log.Log`, the
registries of :mod:`ledger.registry`, :func:`ledger.audit.audit` and the
``did_methods`` resolver; use those directly for anything unusual.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING

from did_methods._wire.dates import Clock, system_clock
from did_methods.errors import SSIWalletError
from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.key import did_key_from_public_key
from did_methods.resolver import Resolver
from ledger.audit import AuditReport, Progress, audit
from ledger.checkpoint import NoteSigner, NoteVerifier
from ledger.entry import Entry, EntryDraft
from ledger.errors import LedgerError
from ledger.log import Log, bind_operator_value, did_key_lookup, refuse_unowned_log
from ledger.registry import (
    Accreditation,
    AccreditationAnswer,
    LedgerMethod,
    LogFollower,
    Signer,
    StatusListRegistry,
    TrustedIssuerRegistry,
)
from ledger.store import Store, open_store
from ledger.store._base import META_CHECKPOINT_KEY, META_TRUST_ROOT

if TYPE_CHECKING:
    from did_methods.http import Fetcher

__all__ = ["DEFAULT_ORIGIN", "Ledger"]

#: The origin (log name in checkpoints) used when none is given.
DEFAULT_ORIGIN = "ssi-wallet.local/ledger"


def _bind_trust_root(store: Store, root: str) -> str:
    # The store records the operator's root the first time a key is given; a later
    # opening with another operator key is refused (the registry would otherwise
    # silently trust another authority). An explicit trust_root is the caller's own
    # policy (a verifier may trust another root) and is neither recorded nor checked.
    bind_operator_value(store, META_TRUST_ROOT, root, "trust_root_mismatch")
    return root


def _registry_resolver(method: LedgerMethod, fetcher: Fetcher | None) -> Resolver:
    # The registries check actors' keys while reading the log, so by default
    # they resolve only methods that need no network: did:key, did:jwk and
    # did:ledger itself. did:web joins only when the caller hands a fetcher.
    from did_methods.methods.jwk import JwkMethod
    from did_methods.methods.key import KeyMethod

    resolver = Resolver([KeyMethod(), JwkMethod(), method], cache_size=256)
    if fetcher is not None:
        from did_methods.methods.web import WebMethod

        resolver.register(WebMethod(fetcher))
    return resolver


class Ledger:
    """A transparency log with the ``did:ledger`` method, the trusted issuer registry and
    status-list anchoring, opened on one store.

    ``key`` is the operator's private key: it signs checkpoints (Ed25519 only,
    under the key name ``origin``) and the entries of :meth:`append`, and,
    unless ``trust_root`` names another DID, its ``did:key`` is the root
    authority of the trusted issuer registry. ``clock`` (a callable returning
    an aware datetime) stamps every entry; ``randbytes`` makes DID nonces;
    ``fetcher`` lets the registries resolve ``did:web`` actors (over the network).

    The store records the operator's checkpoint key and trust root (its
    ``did:key``) the first time a ``key`` is given, and a ledger opened with
    neither ``key`` nor ``trust_root`` gets the recorded root. Raises
    :class:`~ledger.errors.LedgerKeyMismatch` (``checkpoint_key_mismatch``,
    ``trust_root_mismatch``) for an operator key other than the recorded one:
    a ledger is never re-keyed silently. (An explicit ``trust_root`` is the
    caller's own choice of authority and is not checked.) Raises
    :class:`~ledger.errors.LedgerStoreError` when the store cannot be opened
    or holds another log.

    A new, empty store takes the first ``key`` it is given as its operator. A
    store that already holds entries but has no operator (its entries were
    written or imported with no key) is not taken by whoever opens it first
    with a key: a ``key`` raises :class:`~ledger.errors.LedgerKeyMismatch`
    (``operator_unknown``, see :func:`ledger.log.refuse_unowned_log`) and
    nothing is written. ``adopt=True`` is the explicit way to make ``key``
    that log's operator: only the party that runs the log (the one who made
    or imported its entries) should adopt it, and the binding is for good:
    every later opening with another key is refused
    (``checkpoint_key_mismatch``, ``trust_root_mismatch``). ``adopt`` changes
    nothing on a store that has an operator or holds no entries.
    """

    def __init__(
        self,
        store: Store,
        *,
        origin: str = DEFAULT_ORIGIN,
        key: PrivateKey | None = None,
        trust_root: str | None = None,
        clock: Clock = system_clock,
        randbytes: Callable[[int], bytes] = os.urandom,
        fetcher: Fetcher | None = None,
        adopt: bool = False,
    ) -> None:
        if key is not None and not adopt:
            # One rule for the CLI and the library: before anything is written.
            refuse_unowned_log(store)
        if (
            key is not None
            and trust_root is None
            and store.meta(META_TRUST_ROOT) is not None
            and store.meta(META_CHECKPOINT_KEY) is None
            and not store.checkpoints(limit=1)
        ):
            # An operator with no checkpoint key (not Ed25519): the recorded root is
            # compared (never written) before the Log would bind this key as checkpoint
            # signer, so a key the root refuses does not stay behind as one.
            _bind_trust_root(store, did_key_from_public_key(key.public_key))
        self._key = key
        self._signer: NoteSigner | None = None
        if key is not None and key.key_type is KeyType.ED25519:
            self._signer = NoteSigner(origin, key)
        self._log = Log(store, origin=origin, signer=self._signer, clock=clock, adopt=adopt)
        self._clock = clock
        self._fetcher = fetcher
        self._follower = LogFollower(self._log, persist=True)
        self._dids = LedgerMethod(
            self._log, follower=self._follower, clock=clock, randbytes=randbytes
        )
        registry_resolver = _registry_resolver(self._dids, fetcher)
        root = trust_root
        if root is None and key is not None:
            # The operator's key makes the root: the store keeps it, and another
            # operator key is refused rather than silently trusted.
            root = _bind_trust_root(store, did_key_from_public_key(key.public_key))
        elif root is None:
            root = store.meta(META_TRUST_ROOT)
        self._issuers: TrustedIssuerRegistry | None = None
        if root is not None:
            self._issuers = TrustedIssuerRegistry(
                self._log, root, resolver=registry_resolver, follower=self._follower, clock=clock
            )
        self._status = StatusListRegistry(
            self._log, resolver=registry_resolver, follower=self._follower, clock=clock
        )

    @classmethod
    def open(
        cls,
        target: str | os.PathLike[str],
        *,
        key: PrivateKey | None = None,
        origin: str = DEFAULT_ORIGIN,
        trust_root: str | None = None,
        clock: Clock = system_clock,
        randbytes: Callable[[int], bytes] = os.urandom,
        fetcher: Fetcher | None = None,
        schema: str | None = None,
        read_only: bool = False,
        adopt: bool = False,
    ) -> Ledger:
        """Open a ledger: a path is a SQLite file (created if missing), ``postgresql://...``
        a PostgreSQL database (its tables in ``schema``, default ``ssi_ledger``),
        ``:memory:`` a throw-away in-memory store.

        ``read_only=True`` opens an existing ledger (a SQLite file, or a
        PostgreSQL schema in a read-only session) for reading only: no write
        lock is taken and nothing is created or changed, which is the cheap
        way for a verifier, an auditor or a proof server to open a log that
        another process appends to; the origin must be the one the store
        records, and anything that would write (appending, accrediting,
        checkpoints) raises :class:`~ledger.errors.LedgerStoreError`.

        ``adopt=True`` makes ``key`` the operator of a log that holds entries
        but has none (refused with ``operator_unknown`` otherwise); see the
        class docstring for it and the other arguments. Raises
        :class:`~ledger.errors.NotALedgerError` when ``read_only`` is asked
        of a target that holds no ledger (or holds something else, or is no
        SQLite file at all), and the constructor's errors.
        """
        text = os.fspath(target)
        store = open_store(text, read_only=read_only, schema=schema)
        try:
            return cls(
                store,
                origin=origin,
                key=key,
                trust_root=trust_root,
                clock=clock,
                randbytes=randbytes,
                fetcher=fetcher,
                adopt=adopt,
            )
        except BaseException:
            store.close()
            raise

    # -- parts ------------------------------------------------------------------------

    @property
    def log(self) -> Log:
        """The underlying append-only log."""
        return self._log

    @property
    def origin(self) -> str:
        """The log's name in its checkpoints."""
        return self._log.origin

    @property
    def dids(self) -> LedgerMethod:
        """The ``did:ledger`` method: create, update, deactivate, resolve."""
        return self._dids

    @property
    def trust_root(self) -> str | None:
        """The DID the trusted issuer registry starts from (given, bound by the
        operator's key, or recorded in the store), or None when there is none."""
        return None if self._issuers is None else self._issuers.root

    @property
    def issuers(self) -> TrustedIssuerRegistry:
        """The trusted issuer registry; raises :class:`LedgerError` without a trust root."""
        if self._issuers is None:
            raise LedgerError("this ledger has no trust root: open it with key= or trust_root=")
        return self._issuers

    @property
    def status_lists(self) -> StatusListRegistry:
        """Status-list anchoring."""
        return self._status

    @property
    def verifier(self) -> NoteVerifier | None:
        """The note verifier of the operator's checkpoint key (publish its ``vkey``), if any."""
        return None if self._signer is None else self._signer.verifier

    # -- recipes ----------------------------------------------------------------------

    def append(self, kind: str, payload: bytes) -> Entry:
        """Append one entry signed by the operator's key (as its ``did:key``).

        ``payload`` must hold no personal data (log a commitment instead).
        Raises :class:`LedgerError` without a key, and the log's errors.
        """
        if self._key is None:
            raise LedgerError("this ledger was opened without a key")
        signer = Signer.for_did_key(self._key)
        draft = EntryDraft(kind, payload).sign(self._key, signer.submitter, now=self._clock)
        return self._log.append(draft)

    def accredit(
        self,
        did: str,
        *,
        types: Iterable[str],
        by: PrivateKey | Signer,
        jurisdiction: str = "EU",
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
        delegate: bool = False,
    ) -> Accreditation:
        """Accredit ``did`` for credential ``types``; see
        :meth:`TrustedIssuerRegistry.accredit` (same arguments and errors)."""
        return self.issuers.accredit(
            did,
            types=types,
            jurisdiction=jurisdiction,
            by=by,
            valid_from=valid_from,
            valid_until=valid_until,
            delegate=delegate,
        )

    def was_accredited(
        self,
        did: str,
        credential_type: str,
        at: datetime,
        *,
        jurisdiction: str | None = None,
        evidence: bool = True,
    ) -> AccreditationAnswer:
        """See :meth:`TrustedIssuerRegistry.was_accredited`."""
        return self.issuers.was_accredited(
            did, credential_type, at, jurisdiction=jurisdiction, evidence=evidence
        )

    def resolver(self, *, fetcher: Fetcher | None = None, cache_ttl: float = 30.0) -> Resolver:
        """A resolver for did:key, did:jwk, did:web (HTTPS through ``fetcher``, default the
        safe :class:`~did_methods.http.HttpFetcher`) and this ledger's did:ledger.

        Results are cached for ``cache_ttl`` seconds (short by default, so a key
        rotation on the ledger is seen quickly; pass ``no_cache=True`` to
        :meth:`~did_methods.resolver.Resolver.resolve` to bypass the cache).
        """
        resolver = Resolver.default(fetcher=fetcher or self._fetcher, cache_ttl=cache_ttl)
        resolver.register(self._dids)
        return resolver

    def checkpoint(self) -> str:
        """Sign and store a checkpoint of the current tree; return the signed note.

        Raises :class:`LedgerError` when the ledger has no Ed25519 operator key.
        """
        return self._log.checkpoint()

    def audit(
        self,
        *,
        signatures: bool = False,
        checkpoint_note: str | None = None,
        progress: Progress | None = None,
    ) -> AuditReport:
        """Audit the whole log (see :func:`ledger.audit.audit`); ask ``report.ok``.

        The newest stored checkpoint is checked, with the operator's key when
        the ledger has one. ``signatures=True`` also verifies every entry
        signature of a ``did:key`` submitter (slower).
        """
        verifiers = [self._signer.verifier] if self._signer is not None else None
        if checkpoint_note is not None and verifiers is None:
            raise LedgerError("checking a checkpoint note needs the operator's key")
        return audit(
            self._log.store,
            checkpoint_note=checkpoint_note,
            verifiers=verifiers,
            key_lookup=did_key_lookup if signatures else None,
            progress=progress,
        )

    # -- lifetime ---------------------------------------------------------------------

    def close(self) -> None:
        """Close the store; the ledger must not be used afterwards."""
        try:
            self._log.store.close()
        except SSIWalletError:
            pass  # closing twice, or a connection already gone: nothing left to release

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
