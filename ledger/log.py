"""The append-only log: a hash chain of signed entries and an RFC 9162 Merkle tree over them.

:class:`Log` is the safe layer over a :class:`~ledger.store.Store`:

* :meth:`Log.append_batch` checks every draft (size, timestamp, the
  submitter's signature through ``key_lookup``) *before* it takes the store's
  write lock, then, in ONE transaction, reads the tail, places each draft at
  the next index after the previous entry's chain hash, writes the entries,
  the Merkle nodes they complete and the new tail, and runs the caller's
  ``before_commit`` hook (the vault writes its rows there). Concurrent
  appenders (in threads or processes) get one total order with no gap and no
  duplicate; a failure anywhere writes nothing.
* reads (:meth:`Log.get`, :meth:`Log.range`) decode strictly and check that
  the stored row is the one asked for;
* proofs read O(log n) stored nodes (:meth:`Log.prove_inclusion`,
  :meth:`Log.prove_consistency`), and :meth:`Log.checkpoint` signs a C2SP
  checkpoint of the current tree and keeps it in the store's history.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, cast

from did_methods._wire.dates import system_clock
from did_methods.errors import InvalidKey, SSIWalletError
from did_methods.keys import PublicKey
from ledger._merkle import HASH_SIZE, CompactRange, NodeID, fold, root_nodes
from ledger.entry import (
    ABSOLUTE_MAX_PAYLOAD,
    DEFAULT_MAX_PAYLOAD,
    SIGNING_CONTEXT,
    Clock,
    Entry,
    SignedDraft,
    _cbor_head,
    _placed,
    ms_clock,
)
from ledger.errors import (
    EntryNotFound,
    EntryRejected,
    IntegrityError,
    LedgerError,
    LedgerKeyMismatch,
    TreeSizeError,
)
from ledger.proofs import ConsistencyProof, InclusionProof, prove_consistency, prove_inclusion
from ledger.store._base import NodeRow, Store, StoredCheckpoint, StoreWriter, Tail

if TYPE_CHECKING:
    from did_methods.resolver import Resolver
    from ledger.checkpoint import NoteSigner

__all__ = [
    "DEFAULT_MAX_CLOCK_SKEW_MS",
    "BeforeCommit",
    "KeyLookup",
    "Log",
    "bind_checkpoint_key",
    "bind_operator_value",
    "did_key_lookup",
    "refuse_unowned_log",
    "resolver_key_lookup",
]

#: Resolves a submitter DID URL to the public key that must have signed its entries.
#: Raise any :class:`~did_methods.errors.SSIWalletError` when there is no such key.
KeyLookup = Callable[[str], PublicKey]

#: ``before_commit(writer, entries)``: runs inside an append's transaction, after the
#: entries are written; whatever it writes through ``writer`` commits with them, and
#: whatever it raises rolls everything back.
BeforeCommit = Callable[[StoreWriter, Sequence[Entry]], None]

#: How far (ms) a draft's timestamp may be from the log's clock, either way: 10 minutes.
DEFAULT_MAX_CLOCK_SKEW_MS = 10 * 60 * 1000

_LEAF_PREFIX = b"\x00"
#: How many levels at the top of the tree a :class:`Log` keeps in memory once read:
#: the frozen subtree roots every proof shares (at most ``2**12`` nodes for the
#: tree of any size; below them a proof's nodes differ from one leaf to the next).
_FROZEN_LEVELS = 11
#: A bound on the kept nodes: as the log grows the kept levels move up, and the
#: memory is dropped and refilled when it passes this (about 1 MB).
_FROZEN_MAX = 1 << 13
_MAX_BATCH = 100_000
_MAX_INDEX = 2**63 - 1


@lru_cache(maxsize=4096)
def did_key_lookup(submitter: str) -> PublicKey:
    """The key of a ``did:key`` submitter ``did:key:<mk>#<mk>`` (or the bare DID).

    did:key documents are derived from the DID itself, so this needs no I/O
    and its answers never change (hence the cache). Raises
    :class:`~did_methods.errors.InvalidKey` for anything else, including a
    fragment that names another key.
    """
    from did_methods.methods.key import public_key_from_did_key

    did, _, fragment = submitter.partition("#")
    if not did.startswith("did:key:"):
        raise InvalidKey(f"not a did:key submitter: {submitter[:80]!r}")
    msid = did[len("did:key:") :]
    if fragment and fragment != msid:
        raise InvalidKey("a did:key verification method's fragment must be the key itself")
    return public_key_from_did_key(did)


def resolver_key_lookup(resolver: Resolver, *, purpose: str = "assertionMethod") -> KeyLookup:
    """A :data:`KeyLookup` that dereferences the submitter through a DID ``resolver``.

    The verification method must be authorised for ``purpose`` in its
    controller's document; otherwise the lookup raises
    :class:`~did_methods.errors.VerificationError` (``key_not_authorised``).
    """

    def lookup(submitter: str) -> PublicKey:
        return resolver.verification_method(submitter, purpose).public_key

    return lookup


class _Prepared:
    """A checked draft with the parts of its encoding that do not depend on its position."""

    __slots__ = ("draft", "head", "identity", "tail")

    def __init__(self, draft: SignedDraft, signing_input: bytes) -> None:
        self.draft = draft
        self.identity = hashlib.sha256(signing_input).digest()
        # The full encoding is {g, h, i, k, p, s, t} in this key order; g comes
        # first, and k, p, s, t are exactly the pairs of the signed map.
        self.head = b"\xa7\x61g" + _cbor_head(0x40, len(draft.signature)) + draft.signature
        self.tail = signing_input[len(SIGNING_CONTEXT) + 1 :]


class Log:
    """An append-only, signed, hash-chained, Merkle-tree transparency log over a store.

    ``origin`` names the log in its checkpoints (C2SP: a schema-less URL such
    as ``ledger.example.org/registry``); the store is bound to it on first
    use. ``key_lookup`` maps a submitter DID URL to its key (default:
    :func:`did_key_lookup`; use :func:`resolver_key_lookup` for other
    methods). ``signer`` signs checkpoints. ``clock`` (a callable returning an
    aware datetime) says when.
    ``verify_signatures=False`` skips the submitter check on append (for a
    trusted bulk import whose signatures are verified by :func:`ledger.audit.audit`).

    The store records the checkpoint key the first time a ``signer`` is
    given; a later ``signer`` with another key raises
    :class:`~ledger.errors.LedgerKeyMismatch` (``checkpoint_key_mismatch``):
    a log is never re-keyed silently. A ``signer`` given to a log that holds
    entries but no checkpoint key yet raises ``operator_unknown``
    (:func:`refuse_unowned_log`) unless ``adopt=True``: adopting makes the
    signer's key the log's operator for good. Raises
    :class:`~ledger.errors.LedgerStoreError` when the store holds another log.
    """

    def __init__(
        self,
        store: Store,
        *,
        origin: str,
        key_lookup: KeyLookup = did_key_lookup,
        signer: NoteSigner | None = None,
        verify_signatures: bool = True,
        clock: Clock = system_clock,
        max_clock_skew_ms: int | None = DEFAULT_MAX_CLOCK_SKEW_MS,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
        adopt: bool = False,
    ) -> None:
        """Open the log kept in ``store`` (see the class docstring)."""
        if not isinstance(origin, str) or not origin or "\n" in origin:
            raise LedgerError("origin must be a non-empty single-line string")
        if signer is not None and not adopt:
            refuse_unowned_log(store)  # before anything is written, the origin included
        store.bind_origin(origin)
        if signer is not None:
            bind_checkpoint_key(store, signer)
        self._store = store
        self._origin = origin
        self._key_lookup = key_lookup
        self._signer = signer
        self._verify = verify_signatures
        self._clock = ms_clock(clock)
        self._skew = max_clock_skew_ms
        self._max_payload = max_payload
        # The newest timestamp in the log as of size _newest_at (read again when
        # another appender has written since).
        self._newest = 0
        self._newest_at = 0
        # Node hashes of perfect subtrees at the top of the tree, read once. A
        # perfect subtree's hash never changes once committed (the log only
        # appends), so a node read from the store stays true for every later size.
        self._frozen: dict[NodeID, bytes] = {}
        # The tree size whose border (the tail's perfect subtrees) was last kept.
        self._border_at = -1
        # Appends of this Log under way: while one is, nodes read are not kept (a
        # before_commit hook may read the transaction's own tree, which a failure
        # rolls back: those nodes must not outlive it).
        self._appending = 0

    # -- properties ------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The store this log reads and writes."""
        return self._store

    @property
    def origin(self) -> str:
        """The log's name in its checkpoints."""
        return self._origin

    @property
    def size(self) -> int:
        """The number of committed entries."""
        return self._store.tail().size

    def __len__(self) -> int:
        return self.size

    # -- appending -------------------------------------------------------------------

    def append(self, draft: SignedDraft, *, before_commit: BeforeCommit | None = None) -> Entry:
        """Append one signed draft; return the entry as stored. See :meth:`append_batch`."""
        return self.append_batch([draft], before_commit=before_commit)[0]

    def append_batch(
        self, drafts: Sequence[SignedDraft], *, before_commit: BeforeCommit | None = None
    ) -> list[Entry]:
        """Append signed drafts in order, all or none, in one store transaction.

        Steps: (1) each draft is a :class:`SignedDraft` within the payload
        bound; (2) its timestamp is within ``max_clock_skew_ms`` of the clock;
        (3) its signature verifies under ``key_lookup(submitter)``; then, in
        one transaction, (4) read the tail, and refuse a draft whose identity
        (:meth:`~ledger.entry.SignedDraft.identity`) the log holds or the
        batch repeats (``duplicate_entry``) and one timestamped more than
        ``max_clock_skew_ms`` before the newest entry (``backdated``),
        (5) chain and encode each entry, hash it into the Merkle tree,
        (6) write entries, identities, nodes and tail, (7) call
        ``before_commit(writer, entries)``, whose statements
        (:meth:`~ledger.store.StoreWriter.execute`) commit with the entries.

        Raises :class:`~ledger.errors.EntryRejected` (with ``position``) for a
        draft failing steps 1-3, :class:`~ledger.errors.LedgerStoreError`
        when the store fails, and whatever ``before_commit`` raises; in every
        case nothing was written.
        """
        if not 0 < len(drafts) <= _MAX_BATCH:
            raise LedgerError(f"a batch holds 1 to {_MAX_BATCH} drafts, not {len(drafts)}")
        prepared = self._check(drafts)
        with self._keeping_nothing(), self._store.write() as txn:
            # Step 4: the tail, read under the write lock; replays and back-dating.
            tail = txn.tail()
            identities = self._check_order(txn, tail, prepared)
            cr = CompactRange.from_hashes(tail.size, tail.border)
            prev = tail.last_hash
            index = tail.size
            encoded: list[bytes] = []
            nodes: list[NodeRow] = []
            entries: list[Entry] = []

            def on_node(node: NodeID, value: bytes) -> None:
                nodes.append((node[0], node[1], value))

            sha256 = hashlib.sha256
            leaves: list[bytes] = []
            for item in prepared:
                # Step 5: the encoding equals Entry.encode() (tested), built from parts.
                data = (
                    item.head
                    + b"\x61h\x58\x20"
                    + prev
                    + b"\x61i"
                    + _cbor_head(0, index)
                    + item.tail
                )
                encoded.append(data)
                leaves.append(sha256(_LEAF_PREFIX + data).digest())
                # The draft's fields were checked when it was built, and index and prev
                # are ours: an exact SignedDraft is placed without checking them again.
                d = item.draft
                if type(d) is SignedDraft and index <= _MAX_INDEX:
                    entries.append(_placed(d, index, prev))
                else:
                    entries.append(Entry.from_draft(d, index=index, prev_hash=prev))
                prev = sha256(data).digest()
                index += 1
            cr = cr.extend(leaves, on_node)
            # Step 6.
            txn.put_entries(tail.size, encoded)
            txn.put_identities(list(zip(identities, range(tail.size, index), strict=True)))
            txn.put_kinds([(e.index, e.kind, e.timestamp) for e in entries])
            txn.put_nodes(nodes)
            txn.set_tail(Tail(index, prev, cr.to_hashes()))
            # Step 7.
            if before_commit is not None:
                before_commit(txn, entries)
        newest = max(d.draft.timestamp for d in prepared)
        if self._newest_at == tail.size:
            self._newest, self._newest_at = max(self._newest, newest), index
        return entries

    def _check_order(
        self, txn: StoreWriter, tail: Tail, prepared: Sequence[_Prepared]
    ) -> list[bytes]:
        """Step 4: refuse replays and back-dated drafts; return the drafts' identities."""
        identities = [item.identity for item in prepared]
        seen: set[bytes] = set()
        stored = txn.existing_identities(identities)
        for position, identity in enumerate(identities):
            if identity in stored or identity in seen:
                raise EntryRejected(
                    "duplicate_entry",
                    "an entry with this identity is already in the log (a replay)",
                    position,
                )
            seen.add(identity)
        if self._skew is None:
            return identities
        newest = self._newest_timestamp(tail)
        for position, item in enumerate(prepared):
            timestamp = item.draft.timestamp
            if timestamp < newest - self._skew:
                raise EntryRejected(
                    "backdated",
                    f"timestamp {timestamp} is more than {self._skew} ms before the newest "
                    f"entry's ({newest})",
                    position,
                )
            newest = max(newest, timestamp)
        return identities

    def _newest_timestamp(self, tail: Tail) -> int:
        # Entries are never back-dated beyond the skew window, so the last entry's
        # timestamp is within that window of the newest; the cache makes a lone
        # appender read nothing.
        if tail.size == 0:
            return 0
        if self._newest_at != tail.size:
            rows = self._store.read_entries(tail.size - 1, 1)
            if rows:
                last = Entry.decode(rows[0][1], max_payload=ABSOLUTE_MAX_PAYLOAD).timestamp
                self._newest = max(self._newest, last) if self._newest_at else last
            self._newest_at = tail.size
        return self._newest

    def _check(self, drafts: Sequence[SignedDraft]) -> list[_Prepared]:
        now = self._clock() if self._skew is not None else 0
        keys: dict[str, PublicKey] = {}
        out: list[_Prepared] = []
        for position, draft in enumerate(drafts):
            # Step 1.
            if not isinstance(draft, SignedDraft):
                raise EntryRejected("malformed", "not a SignedDraft", position)
            if len(draft.payload) > self._max_payload:
                raise EntryRejected(
                    "payload_too_large",
                    f"payload of {len(draft.payload)} bytes exceeds {self._max_payload}",
                    position,
                )
            # Step 2.
            if self._skew is not None and abs(draft.timestamp - now) > self._skew:
                raise EntryRejected(
                    "timestamp_skew",
                    f"timestamp {draft.timestamp} is more than {self._skew} ms from {now}",
                    position,
                )
            message = draft.signing_input()
            # Step 3.
            if self._verify:
                key = keys.get(draft.submitter)
                if key is None:
                    try:
                        key = self._key_lookup(draft.submitter)
                    except SSIWalletError as exc:
                        raise EntryRejected(
                            "key_unknown", f"no key for {draft.submitter[:100]!r}: {exc}", position
                        ) from exc
                    keys[draft.submitter] = key
                try:
                    key.verify(draft.signature, message)
                except SSIWalletError as exc:
                    raise EntryRejected(
                        "signature_invalid",
                        f"signature of {draft.submitter[:100]!r}: {exc}",
                        position,
                    ) from exc
            out.append(_Prepared(draft, message))
        return out

    # -- reading ---------------------------------------------------------------------

    def get(self, index: int) -> Entry:
        """The entry at ``index``.

        Raises :class:`~ledger.errors.EntryNotFound` when ``index`` is not
        below :attr:`size` and :class:`~ledger.errors.IntegrityError` when the
        stored row is missing, malformed or not the entry at ``index``.
        """
        size = self.size
        if type(index) is not int or not 0 <= index < size:
            raise _not_found(index, size)
        return next(self.range(index, index + 1))

    def range(self, start: int = 0, end: int | None = None, *, page: int = 1024) -> Iterator[Entry]:
        """Stream entries ``start <= index < end`` (``end`` defaults to :attr:`size`).

        Reads ``page`` rows at a time, so memory stays bounded. Raises
        :class:`~ledger.errors.EntryNotFound` for a range outside the log and
        :class:`~ledger.errors.IntegrityError` for a missing or malformed row.
        """
        size = self.size
        stop = size if end is None else end
        if type(start) is not int or type(stop) is not int or not 0 <= start <= stop <= size:
            raise _not_found(start if stop <= size else stop, size)
        return self._iter(start, stop, max(1, page))

    def entries_of_kinds(
        self, start: int, stop: int, kinds: Iterable[str]
    ) -> tuple[list[tuple[Entry, int | None]], int | None] | None:
        """The entries of ``kinds`` among ``start <= index < stop`` without reading the others.

        Returns ``(rows, newest)``: ``rows`` holds each such entry, in log order,
        with the greatest timestamp of the range's entries before it (``None``
        for none), and ``newest`` is the greatest timestamp of the whole range
        (``None`` when it is empty). Returns ``None`` when the store cannot
        answer so (a layout without the kind table, opened read-only), when its
        kind record does not cover every entry of the range, or when a row it
        names is not an entry of those kinds at its index, or when the timestamps
        it gives contradict the entries it hands out (an entry's ``newest before``
        below an earlier handed entry's timestamp, or ``newest`` below any): the
        caller then reads the range with :meth:`range`, which reports a bad row.
        Rows of other kinds are not read: only :func:`ledger.audit.audit` compares
        every row of the kind index with its entry.
        """
        wanted = sorted(set(kinds))
        size = self.size
        if type(start) is not int or type(stop) is not int or not 0 <= start <= stop <= size:
            raise _not_found(start if stop <= size else stop, size)
        ask = getattr(self._store, "read_kinds", None)
        found = ask(start, stop, wanted) if callable(ask) else None
        if found is None or found.count != stop - start:
            return None
        out: list[tuple[Entry, int | None]] = []
        floor: int | None = None  # the greatest timestamp the rows read so far show
        last = start - 1
        for row_index, data, before in found.rows:
            if not last < row_index < stop:
                return None
            last = row_index
            try:
                entry = Entry.decode(data, max_payload=self._max_payload)
            except SSIWalletError:
                return None
            if entry.index != row_index or entry.kind not in wanted:
                return None
            # The index's timestamps must agree with the entries read: each is
            # among those "before" every later row of the range.
            if floor is not None and (before is None or before < floor):
                return None
            floor = entry.timestamp if before is None else max(before, entry.timestamp)
            out.append((entry, before))
        if floor is not None and (found.newest is None or found.newest < floor):
            return None
        return out, found.newest

    def _iter(self, start: int, stop: int, page: int) -> Iterator[Entry]:
        pos = start
        while pos < stop:
            rows = self._store.read_entries(pos, min(page, stop - pos))
            if not rows:
                raise IntegrityError("stored entry is missing", pos)
            for row_index, data in rows:
                if row_index != pos:
                    raise IntegrityError("stored entry is missing", pos)
                try:
                    entry = Entry.decode(data, max_payload=self._max_payload)
                except SSIWalletError as exc:
                    raise IntegrityError(f"stored entry is malformed: {exc}", pos) from exc
                if entry.index != pos:
                    raise IntegrityError(f"stored entry says it is at index {entry.index}", pos)
                yield entry
                pos += 1
                if pos >= stop:
                    return

    # -- the tree --------------------------------------------------------------------

    @contextmanager
    def _keeping_nothing(self) -> Iterator[None]:
        """Within: no node read is kept (see ``_appending``)."""
        self._appending += 1
        try:
            yield
        finally:
            self._appending -= 1

    def _read_nodes(self, ids: Sequence[NodeID], floor: int = 0) -> list[bytes]:
        """The stored hashes of ``ids``; those of levels ``>= floor`` are kept once read."""
        frozen = self._frozen
        kept = list(map(frozen.get, ids))
        if None not in kept:
            return cast("list[bytes]", kept)
        wanted = [node for node, value in zip(ids, kept, strict=True) if value is None]
        got = self._store.read_nodes(wanted)
        if len(got) != len(wanted) or None in got:
            for node, value in zip(wanted, got, strict=True):
                if value is None:
                    raise IntegrityError(f"Merkle node {node} is missing from the store")
        if not self._appending:  # (while appending, perhaps the transaction's own nodes)
            if len(frozen) >= _FROZEN_MAX:
                frozen.clear()
            for node, value in zip(wanted, got, strict=True):
                # only well-formed hashes: a bad one must fail every proof that reads it
                if node[0] >= floor and isinstance(value, bytes) and len(value) == HASH_SIZE:
                    frozen[node] = value
        if len(wanted) == len(ids):
            return cast("list[bytes]", got)
        fresh = iter(got)
        return [value if value is not None else next(fresh) for value in kept]  # type: ignore[misc]

    def _tail(self) -> Tail:
        """The committed tail; its border nodes join the kept ones when the size moved.

        The border is the tree's right edge as perfect subtrees (what the root
        folds): every proof in the current tree that crosses the edge folds some
        of them, so they need no read.
        """
        tail = self._store.tail()
        if tail.size != self._border_at and not self._appending:
            # (while appending, the tail may be the transaction's own: not kept)
            frozen = self._frozen
            if len(frozen) >= _FROZEN_MAX:
                frozen.clear()
            frozen.update(zip(root_nodes(tail.size), tail.border, strict=True))
            self._border_at = tail.size
        return tail

    def _reader(self, size: int) -> Callable[[Sequence[NodeID]], list[bytes]]:
        """A node reader for proofs in the tree of ``size``, keeping its top levels."""
        floor = max(1, size.bit_length() - _FROZEN_LEVELS)
        return lambda ids: self._read_nodes(ids, floor)

    def root(self, size: int | None = None) -> bytes:
        """The RFC 9162 root hash of the first ``size`` entries (default: all).

        The current root comes from the stored border; an older one folds
        O(log n) stored nodes. Raises :class:`~ledger.errors.TreeSizeError`
        for a size beyond the log.
        """
        tail = self._tail()
        if size is None or size == tail.size:
            return CompactRange.from_hashes(tail.size, tail.border).root()
        _check_size(size, tail.size)
        ids = root_nodes(size)
        if not ids:
            return CompactRange.empty().root()
        return fold(self._reader(size)(ids))

    def prove_inclusion(self, index: int, size: int | None = None) -> InclusionProof:
        """The inclusion proof of entry ``index`` in the tree of ``size`` entries (default: all).

        Reads O(log n) stored nodes. Raises
        :class:`~ledger.errors.TreeSizeError` unless ``0 <= index < size <=``
        :attr:`size`, and :class:`~ledger.errors.IntegrityError` for a
        missing node.
        """
        current = self._tail().size
        tree_size = current if size is None else size
        _check_size(tree_size, current)
        return prove_inclusion(index, tree_size, self._reader(tree_size))

    def prove_consistency(self, size1: int, size2: int | None = None) -> ConsistencyProof:
        """The consistency proof from the tree of ``size1`` entries to ``size2`` (default: all).

        Raises :class:`~ledger.errors.TreeSizeError` unless
        ``0 < size1 <= size2 <=`` :attr:`size` (or both are equal).
        """
        current = self._tail().size
        tree_size = current if size2 is None else size2
        _check_size(tree_size, current)
        return prove_consistency(size1, tree_size, self._reader(tree_size))

    # -- checkpoints -----------------------------------------------------------------

    def checkpoint(self, *, extensions: Sequence[str] = ()) -> str:
        """Sign a checkpoint of the current tree, store it in the history, return the note.

        Size and root are read inside one write transaction, so the
        checkpoint names a tree that exists. Raises
        :class:`~ledger.errors.LedgerError` when the log has no ``signer``.
        """
        from ledger.checkpoint import Checkpoint, sign_checkpoint

        if self._signer is None:
            raise LedgerError("this log has no checkpoint signer")
        with self._store.write() as txn:
            tail = txn.tail()
            root = CompactRange.from_hashes(tail.size, tail.border).root()
            body = Checkpoint(self._origin, tail.size, root, tuple(extensions))
            note = sign_checkpoint(body, self._signer)
            txn.put_checkpoint(StoredCheckpoint(tail.size, note, self._clock()))
        return note

    def checkpoints(self, *, limit: int = 100) -> list[StoredCheckpoint]:
        """The stored checkpoint history, newest first (at most ``limit``)."""
        return self._store.checkpoints(limit=limit)


def bind_checkpoint_key(store: Store, signer: NoteSigner) -> None:
    """Bind ``store`` to the checkpoint key of ``signer``, or raise if it has another.

    The key is recorded as its ``vkey`` (``checkpoint_key``). A store made
    before keys were recorded is bound to the key that signed its newest
    checkpoint: a ``signer`` whose key does not verify that checkpoint raises
    :class:`~ledger.errors.LedgerKeyMismatch` (``checkpoint_key_mismatch``).
    A read-only store is checked, never written.
    """
    from ledger.checkpoint import verify_note
    from ledger.store._base import META_CHECKPOINT_KEY

    vkey = signer.verifier.vkey
    if store.meta(META_CHECKPOINT_KEY) is None:
        latest = store.checkpoints(limit=1)
        if latest:
            try:
                verify_note(latest[0].note, [signer.verifier])
            except SSIWalletError as exc:
                raise LedgerKeyMismatch(
                    "checkpoint_key_mismatch",
                    "the log's checkpoints are signed by another key: it cannot be re-keyed",
                ) from exc
    bind_operator_value(store, META_CHECKPOINT_KEY, vkey, "checkpoint_key_mismatch")


def refuse_unowned_log(store: Store) -> None:
    """Refuse to make a key the operator of a log that holds entries but has none.

    A log gets its operator (the key that signs its checkpoints, whose
    ``did:key`` is the trust root) when it is made: a new, empty log takes
    the first key it is given. One made without a key (a
    :class:`~ledger.facade.Ledger` opened with no key, a bulk import, ``vault
    init`` without ``--key-file``) that already holds entries would otherwise
    belong to whoever first opens it with a key. This is the one rule for
    that case: :class:`Log` (given a ``signer``) and
    :class:`~ledger.facade.Ledger` (given a ``key``) call it before writing
    anything, and it raises :class:`~ledger.errors.LedgerKeyMismatch`
    (``operator_unknown``) unless the store records a checkpoint key or a
    trust root, or holds a checkpoint. Adopting such a log is an explicit
    act: ``adopt=True`` (``Log``, ``Ledger``, ``Vault.open``) or
    ``ssi-wallet ledger init --adopt``.
    """
    from ledger.store._base import META_CHECKPOINT_KEY, META_TRUST_ROOT

    if store.meta(META_CHECKPOINT_KEY) is not None or store.meta(META_TRUST_ROOT) is not None:
        return
    if store.checkpoints(limit=1):
        return
    size = store.tail().size
    if size:
        raise LedgerKeyMismatch(
            "operator_unknown",
            f"this log holds {size} entries but no operator key: it was made without one; "
            "make a key its operator only by adopting the log explicitly "
            "(Ledger.open(..., adopt=True) or 'ssi-wallet ledger init --adopt')",
        )


def bind_operator_value(store: Store, name: str, value: str, code: str) -> None:
    """Record ``value`` under ``name`` in ``store`` unless a value is recorded, and raise
    :class:`~ledger.errors.LedgerKeyMismatch` (``code``) when the recorded one differs."""
    recorded = store.meta(name)
    if recorded is None:
        recorded = store.bind_meta(name, value)
    if recorded != value:
        raise LedgerKeyMismatch(
            code,
            f"the log's {name} is {recorded[:120]}, not {value[:120]}: it cannot be re-keyed",
            recorded,
        )


def _check_size(size: int, current: int) -> None:
    if type(size) is not int or not 0 <= size <= current:
        raise TreeSizeError(f"tree size {size!r} is not between 0 and the log size {current}")


def _not_found(index: object, size: int) -> LedgerError:
    return EntryNotFound(f"no entry {index!r} in a log of {size} entries")
