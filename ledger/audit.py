"""Stream audit: verify a whole log from its store in constant memory, trusting nothing stored.

:func:`audit` reads the entries in pages and recomputes everything the log
promises; stored Merkle nodes and the stored tail are only *compared* with
what it recomputes, never used to compute. It stops at the first finding and
reports the first bad entry index and why.

Steps (numbered in the code):

1. read the recorded tail (size ``n``) and pick the checkpoint to check:
   the note given, verified with ``verifiers``; else the newest stored one
   (its signature verified when ``verifiers`` are given);
2. for each index ``i`` in ``0 .. n-1``: the row is present at ``i``; it
   decodes as the deterministic encoding of an entry; its ``index`` is ``i``;
   its ``prev_hash`` is the chain hash of entry ``i-1`` (zeros for 0); with a
   ``key_lookup``, its submitter's signature verifies; its leaf joins a
   compact range recomputed from scratch;
3. the recomputed chain hash of the last entry and the recomputed border
   equal the stored tail;
4. the stored Merkle nodes that fold to the root (those a proof reads for
   the whole tree) equal the recomputed ones; with ``check_nodes=True``,
   every stored node is compared, page by page, during step 2;
5. the checkpoint's size is at most ``n`` and its root equals the recomputed
   root of the first ``size`` entries;
6. the kind index (``ledger_kinds``, which registry followers read instead of
   the entries) holds, for every entry, exactly the kind and timestamp decoded
   from that entry's bytes in step 2 (compared page by page: code
   ``kind_index_mismatch``, or ``kind_index_missing`` for an entry without a
   row), and no row for an index the log does not hold (``kind_index_extra``).
   A store without a kind index (an older layout opened read-only) skips this.

A finding about the kind index carries a ``code`` (:data:`KIND_INDEX_CODES`);
findings about the entries, tree and checkpoint carry none.

A changed entry whose signature is not checked shows as a broken chain at
the next index; the audit then names the changed entry when its stored leaf
node disagrees with its bytes, else the next one (whose ``prev_hash`` changed).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from did_methods.errors import SSIWalletError
from did_methods.keys import PublicKey
from ledger._merkle import EMPTY_ROOT, fold, root_nodes
from ledger.checkpoint import Checkpoint, SignatureVerifier, SignedNote, verify_checkpoint
from ledger.entry import (
    DEFAULT_MAX_PAYLOAD,
    GENESIS_PREV_HASH,
    HASH_SIZE,
    _check_kind,
    _check_submitter,
    _decode_fields,
    _signing_input,
)
from ledger.errors import IntegrityError, LedgerError
from ledger.store._base import Store

__all__ = ["KIND_INDEX_CODES", "AuditReport", "Progress", "audit"]

#: ``progress(done, total)``: called after every page with entries examined so far.
Progress = Callable[[int, int], None]

_DEFAULT_PAGE = 4096
_MEMO = 4096  # distinct kinds / submitters remembered as valid
_NODE = b"\x01"
#: The codes of findings about the kind index (step 6 of the module docstring).
KIND_INDEX_CODES = frozenset(("kind_index_mismatch", "kind_index_missing", "kind_index_extra"))
_EXTRA_TRIES = 8  # tail re-reads while appends go on (see _no_extra_kinds)
_LEAF = b"\x00"


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The outcome of :func:`audit`. Ask ``report.ok``; a report is not a truth value.

    ``size`` is the log size recorded when the audit started (the entries it
    covers); ``first_bad_index`` and ``reason`` name the first finding
    (``first_bad_index`` is ``None`` when the finding is not about one entry,
    e.g. a checkpoint signature). ``root`` is the recomputed root of all
    ``size`` entries when the entries themselves were sound.
    ``checkpoint_size`` is the size of the checkpoint checked, if any, and
    ``signatures_checked`` says whether submitter signatures were verified.
    ``code`` names the kind of finding where it has one (the kind index's:
    :data:`KIND_INDEX_CODES`), else ``None``.
    """

    ok: bool
    size: int
    first_bad_index: int | None = None
    reason: str | None = None
    root: bytes | None = None
    checkpoint_size: int | None = None
    signatures_checked: bool = False
    code: str | None = None

    def __bool__(self) -> bool:
        raise TypeError("an AuditReport is not a truth value: use report.ok")

    def raise_for_failure(self) -> None:
        """Raise :class:`~ledger.errors.IntegrityError` (with index and reason) unless ok."""
        if not self.ok:
            raise IntegrityError(
                self.reason or "audit failed", self.first_bad_index, code=self.code
            )


class _Found(Exception):
    def __init__(self, index: int | None, reason: str, code: str | None = None) -> None:
        super().__init__(reason)
        self.index = index
        self.reason = reason
        self.code = code


def audit(
    store: Store,
    *,
    checkpoint_note: str | None = None,
    verifiers: Sequence[SignatureVerifier] | None = None,
    key_lookup: Callable[[str], PublicKey] | None = None,
    progress: Progress | None = None,
    page: int = _DEFAULT_PAGE,
    max_payload: int = DEFAULT_MAX_PAYLOAD,
    check_nodes: bool = False,
) -> AuditReport:
    """Verify the log in ``store`` end to end (see the module docstring for the steps).

    ``checkpoint_note`` (with ``verifiers``) is a checkpoint obtained out of
    band, e.g. from a witness; without it the newest stored checkpoint is
    checked. ``key_lookup`` makes the audit verify every submitter signature
    (slow: one signature check per entry). ``check_nodes`` also compares
    every stored Merkle node (about two per entry) with the recomputed one, so
    no proof the store could serve is wrong; by default only the nodes of the
    whole tree's root are compared. Memory stays bounded by ``page`` rows
    whatever the log size.

    Returns an :class:`AuditReport`; findings about the data never raise.
    Raises :class:`~ledger.errors.LedgerStoreError` when the store cannot be
    read, and :class:`~ledger.errors.LedgerError` for a ``checkpoint_note``
    without ``verifiers``.
    """
    if checkpoint_note is not None and not verifiers:
        raise LedgerError("a checkpoint_note can only be checked with verifiers")
    tail = store.tail()
    n = tail.size
    signatures = key_lookup is not None
    checkpoint: Checkpoint | None = None
    root: bytes | None = None
    try:
        # Step 1.
        checkpoint = _pick_checkpoint(store, checkpoint_note, verifiers)
        cp_size = -1 if checkpoint is None else checkpoint.size
        # Step 2 (and 6, page by page, when the store keeps a kind index).
        read_kinds = getattr(store, "read_kind_rows", None)
        if not callable(read_kinds) or read_kinds(0, 0) is None:
            read_kinds = None
        border, last_hash, cp_root = _stream(
            store,
            n,
            cp_size,
            key_lookup,
            progress,
            max(1, page),
            max_payload,
            check_nodes,
            read_kinds,
        )
        root = fold(border) if border else EMPTY_ROOT
        # Step 3.
        if last_hash != tail.last_hash:
            raise _Found(n - 1, "the stored tail's chain hash is not that of the last entry")
        if tuple(border) != tail.border:
            raise _Found(None, "the stored tail's Merkle border differs from the recomputed one")
        # Step 4.
        ids = root_nodes(n)
        stored = store.read_nodes(ids)
        for (level, index), got, want in zip(ids, stored, border, strict=True):
            if got != want:
                raise _Found(
                    index << level,
                    f"stored Merkle node ({level}, {index}) differs from the recomputed one",
                )
        # Step 5.
        if checkpoint is not None:
            if checkpoint.size > n:
                raise _Found(
                    n, f"the log has {n} entries but a checkpoint commits to {checkpoint.size}"
                )
            if cp_root != checkpoint.root_hash:
                raise _Found(
                    None,
                    f"the root of the first {checkpoint.size} entries differs from the "
                    "checkpoint's: the log was rewritten",
                )
        # Step 6 (the rows of the entries were compared in step 2).
        if read_kinds is not None:
            _no_extra_kinds(store, read_kinds, n)
    except _Found as found:
        return AuditReport(
            ok=False,
            size=n,
            first_bad_index=found.index,
            reason=found.reason,
            root=root,
            checkpoint_size=None if checkpoint is None else checkpoint.size,
            signatures_checked=signatures,
            code=found.code,
        )
    return AuditReport(
        ok=True,
        size=n,
        root=root,
        checkpoint_size=None if checkpoint is None else checkpoint.size,
        signatures_checked=signatures,
    )


def _pick_checkpoint(
    store: Store, note: str | None, verifiers: Sequence[SignatureVerifier] | None
) -> Checkpoint | None:
    if note is not None:
        assert verifiers  # checked by the caller
        try:
            return verify_checkpoint(note, verifiers)
        except SSIWalletError as exc:
            raise _Found(None, f"the given checkpoint does not verify: {exc}") from exc
    stored = store.checkpoints(limit=1)
    if not stored:
        return None
    try:
        if verifiers:
            return verify_checkpoint(stored[0].note, verifiers)
        return Checkpoint.parse(SignedNote.parse(stored[0].note).text)
    except SSIWalletError as exc:
        raise _Found(None, f"the newest stored checkpoint is invalid: {exc}") from exc


def _stream(
    store: Store,
    n: int,
    cp_size: int,
    key_lookup: Callable[[str], PublicKey] | None,
    progress: Progress | None,
    page: int,
    max_payload: int,
    check_nodes: bool,
    read_kinds: _ReadKinds | None,
) -> tuple[list[bytes], bytes, bytes | None]:
    """Step 2: return the recomputed border, last chain hash and root at ``cp_size``;
    with ``read_kinds``, step 6 for the entries (each page's kind rows compared)."""
    sha256 = hashlib.sha256
    decode = _decode_fields
    border: list[bytes] = []  # the compact range, largest subtree first
    prev = GENESIS_PREV_HASH
    prev_leaf = b""
    cp_root = EMPTY_ROOT if cp_size == 0 else None
    keys: dict[str, PublicKey] = {}
    good_kinds: set[str] = set()
    good_submitters: set[str] = set()
    fast = key_lookup is None
    layouts = _Layouts()
    by_length = layouts.by_length
    last: _Layout = _NEVER
    leaf_prefix, node_prefix = _LEAF, _NODE
    # With check_nodes, every node the tree gains is kept for one page and
    # compared with the stored one after the page.
    nodes: list[tuple[int, int, bytes]] | None = [] if check_nodes else None
    # With read_kinds, each entry's (index, kind, timestamp) is kept for one page and
    # compared with the kind index's rows after the page.
    seen: list[tuple[int, bytes, int]] | None = [] if read_kinds is not None else None
    pos = 0
    while pos < n:
        page_start = pos
        rows = store.read_entries(pos, min(page, n - pos))
        try:
            if not rows:
                raise _Found(pos, "the entry is missing from the store")
            for row_index, data in rows:
                if row_index != pos:
                    raise _Found(pos, f"the entry is missing (the next stored row is {row_index})")
                # Without signatures to check, only the index and prev_hash are needed:
                # an entry laid out as one seen before is matched in place by that
                # layout's expression; anything else (and every entry whose signature
                # is checked) is decoded strictly, which names what is wrong.
                match = None
                if fast and type(data) is bytes:
                    match = last(data)  # consecutive entries tend to share a layout
                    if match is None:
                        for layout in by_length.get(len(data), ()):
                            match = layout(data)
                            if match is not None:
                                last = layout
                                break
                if match is not None:
                    prev_hash, index_bytes, kind_bytes, ts_bytes = match.groups()
                    index = int.from_bytes(index_bytes, "big")
                    if seen is not None:  # the layout checked the timestamp's shortest form
                        ts = (
                            ts_bytes[0]
                            if len(ts_bytes) == 1
                            else int.from_bytes(ts_bytes[1:], "big")
                        )
                else:
                    try:
                        index, kind, payload, submitter, ts, prev_hash, sig = decode(
                            data, max_payload
                        )
                        # decode checked types and sizes; the text syntax is checked
                        # once per distinct value (logs repeat a few kinds and submitters).
                        if kind not in good_kinds:
                            _check_kind(kind)
                            if len(good_kinds) < _MEMO:
                                good_kinds.add(kind)
                        if submitter not in good_submitters:
                            _check_submitter(submitter)
                            if len(good_submitters) < _MEMO:
                                good_submitters.add(submitter)
                    except SSIWalletError as exc:
                        raise _Found(pos, f"the entry is malformed: {exc}") from None
                    if fast:
                        layouts.learn(len(data), index, kind, payload, submitter, ts, sig)
                    kind_bytes = kind.encode()
                if index != pos:
                    raise _Found(pos, f"the entry says it is at index {index}")
                leaf = sha256(leaf_prefix + data).digest()
                if prev_hash != prev:
                    # Entry pos-1 changed, or this entry's prev_hash did: the stored
                    # leaf of pos-1 (written at append) tells which, when intact.
                    if pos > 0 and len(prev_hash) == HASH_SIZE:
                        stored = store.read_nodes([(0, pos - 1)])[0]
                        if stored is not None and stored != prev_leaf:
                            raise _Found(pos - 1, "the entry was changed after it was appended")
                    raise _Found(pos, "prev_hash is not the chain hash of the previous entry")
                if key_lookup is not None:  # then the strict decoder ran: kind etc. are set
                    _check_signature(key_lookup, keys, pos, kind, payload, submitter, ts, sig)
                # Append the leaf to the compact range: each trailing one bit of pos
                # is a finished subtree of that level waiting for this right sibling.
                h = leaf
                m = pos
                if nodes is None:
                    while m & 1:
                        h = sha256(node_prefix + border.pop() + h).digest()
                        m >>= 1
                else:
                    nodes.append((0, pos, leaf))
                    level = 0
                    while m & 1:
                        h = sha256(node_prefix + border.pop() + h).digest()
                        m >>= 1
                        level += 1
                        nodes.append((level, pos >> level, h))
                border.append(h)
                if seen is not None:
                    seen.append((pos, kind_bytes, ts))
                prev = sha256(data).digest()
                prev_leaf = leaf
                pos += 1
                if pos == cp_size:
                    cp_root = fold(border)
                if pos >= n:
                    break
        except _Found as found:
            if nodes:  # a bad node earlier in this page comes first
                _compare_nodes(store, nodes, found.index)
            if seen:  # so does a bad kind row of an entry before the finding's
                assert read_kinds is not None
                _compare_kinds(read_kinds, page_start, seen, found.index)
            raise
        if nodes:
            _compare_nodes(store, nodes, None)
            nodes.clear()
        if seen:
            assert read_kinds is not None
            _compare_kinds(read_kinds, page_start, seen)
            seen.clear()
        if progress is not None:
            progress(pos, n)
    return border, prev, cp_root


# Shortest-form CBOR unsigned integers (RFC 8949 4.2.1) by head, as regular expressions
# over bytes: an index (captured, at most 2**63 - 1) and a timestamp (at most 2**53 - 1).
_INDEX_RE = {
    0x17: rb"([\x00-\x17])",
    0x18: rb"\x18([\x18-\xff])",
    0x19: rb"\x19([\x01-\xff].)",
    0x1A: rb"\x1a((?:[\x01-\xff].|\x00[\x01-\xff])..)",
    0x1B: rb"\x1b((?:[\x01-\x7f]...|\x00[\x01-\xff]..|\x00\x00[\x01-\xff].|\x00{3}[\x01-\xff])"
    rb"....)",
}
_TIMESTAMP_RE = {
    0x17: rb"[\x00-\x17]",
    0x18: rb"\x18[\x18-\xff]",
    0x19: rb"\x19[\x01-\xff].",
    0x1A: rb"\x1a(?:[\x01-\xff].|\x00[\x01-\xff])..",
    0x1B: rb"\x1b\x00(?:[\x01-\x1f]..|\x00[\x01-\xff].|\x00\x00[\x01-\xff])....",
}
_NEVER = re.compile(rb"(?!)").fullmatch  # a layout that matches nothing
_MAX_SHAPES = 64  # compiled layouts per audit (a compilation costs about 0.3 ms)
_SEEN_SHAPES = 4096  # layouts counted before compiling (compiled on the second sighting)

_Shape = tuple[int, int, int, int, int, int]
#: ``read_kind_rows(start, limit)`` of a store that keeps a kind index.
_ReadKinds = Callable[[int, int], "list[tuple[int, bytes | None, int | None]] | None"]
_Layout = Callable[[bytes], "re.Match[bytes] | None"]


def _uint_class(value: int) -> int:
    # The head byte of a shortest-form unsigned integer, with every value below 24 as 0x17.
    if value < 24:
        return 0x17
    if value < 0x100:
        return 0x18
    if value < 0x10000:
        return 0x19
    if value < 0x100000000:
        return 0x1A
    return 0x1B


def _bytes_head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes((major | n,))
    if n < 0x100:
        return bytes((major | 24, n))
    if n < 0x10000:
        return bytes((major | 25,)) + n.to_bytes(2, "big")
    return bytes((major | 26,)) + n.to_bytes(4, "big")


def _layout(shape: _Shape) -> _Layout:
    """A matcher of EXACTLY the deterministic encodings of valid entries of ``shape``.

    ``shape`` is ``(signature length, index head, kind length, payload length,
    submitter length, timestamp head)``, taken from an entry the strict decoder
    accepted, so every length is within its bound. The expression fixes every
    key, head and length; checks the kind's and submitter's syntax (entry.py's
    rules); the index and timestamp ranges and shortest forms; and captures
    ``prev_hash``, the index bytes, the kind and the timestamp (with its head).
    So whatever it matches, the strict decoder accepts, with the same index and
    prev_hash (a test checks this on mutated encodings).
    """
    sig_n, index_head, kind_n, pay_n, sub_n, ts_head = shape
    pattern = b"".join(
        (
            re.escape(b"\xa7\x61g" + _bytes_head(0x40, sig_n)),
            b".{%d}" % sig_n,
            re.escape(b"\x61h\x58\x20"),
            b"(.{32})",
            re.escape(b"\x61i"),
            _INDEX_RE[index_head],
            re.escape(b"\x61k" + _bytes_head(0x60, kind_n)),
            b"([a-z0-9][a-z0-9._:\\-]{%d})" % (kind_n - 1),
            re.escape(b"\x61p" + _bytes_head(0x40, pay_n)),
            b".{%d}" % pay_n,
            re.escape(b"\x61s" + _bytes_head(0x60, sub_n)),
            b"did:[\\x21-\\x7e]{%d}" % (sub_n - 4),
            re.escape(b"\x61t"),
            b"(" + _TIMESTAMP_RE[ts_head] + b")",
        )
    )
    return re.compile(pattern, re.DOTALL).fullmatch


class _Layouts:
    """The layouts of the entries seen so far, compiled once seen twice (bounded)."""

    __slots__ = ("by_length", "compiled", "seen")

    def __init__(self) -> None:
        self.by_length: dict[int, list[_Layout]] = {}
        self.seen: dict[_Shape, int] = {}
        self.compiled = 0

    def learn(
        self, size: int, index: int, kind: str, payload: bytes, submitter: str, ts: int, sig: bytes
    ) -> None:
        # Called with an entry the strict decoder accepted (kind and submitter are ASCII).
        if self.compiled >= _MAX_SHAPES or len(submitter) < 5:
            return
        shape: _Shape = (
            len(sig),
            _uint_class(index),
            len(kind),
            len(payload),
            len(submitter),
            _uint_class(ts),
        )
        count = self.seen.get(shape, 0)
        if count == 0:
            if len(self.seen) < _SEEN_SHAPES:
                self.seen[shape] = 1
            return
        if count == 1:
            self.seen[shape] = 2
            self.by_length.setdefault(size, []).append(_layout(shape))
            self.compiled += 1


def _compare_nodes(store: Store, nodes: list[tuple[int, int, bytes]], before: int | None) -> None:
    """Raise a finding for the stored node, among ``nodes``, that differs and covers the
    lowest leaf, if that leaf comes before ``before`` (``None``: any)."""
    stored = store.read_nodes([(level, index) for level, index, _ in nodes])
    first: tuple[int, int, int] | None = None
    for (level, index, want), got in zip(nodes, stored, strict=True):
        if got != want:
            start = index << level
            if first is None or start < first[0]:
                first = (start, level, index)
    if first is not None and (before is None or first[0] < before):
        start, level, index = first
        raise _Found(
            start,
            f"stored Merkle node ({level}, {index}) differs from the recomputed one"
            if level
            else "the stored Merkle leaf differs from the entry",
        )


def _compare_kinds(
    read_kinds: _ReadKinds,
    start: int,
    seen: list[tuple[int, bytes, int]],
    before: int | None = None,
) -> None:
    """Raise a finding for the first entry of ``seen`` (``(index, kind, timestamp)`` of
    consecutive entries from ``start``) whose kind index row is missing or differs, if
    it comes before ``before`` (``None``: any; an entry finding there comes first)."""
    stored = read_kinds(start, len(seen)) or []
    if stored == seen:
        return
    for i, want in enumerate(seen):
        got = stored[i] if i < len(stored) else None
        if got == want:
            continue
        index = want[0]
        if before is not None and index >= before:
            return
        if got is None or got[0] != index:
            raise _Found(
                index,
                "the kind index (ledger_kinds) has no row for the entry",
                "kind_index_missing",
            )
        said = (
            "a value of another type" if got[1] is None else repr(got[1].decode(errors="replace"))
        )
        raise _Found(
            index,
            f"the kind index (ledger_kinds) says kind {said} at {got[2]!r}, the entry "
            f"{want[1].decode()!r} at {want[2]!r}",
            "kind_index_mismatch",
        )


def _no_extra_kinds(store: Store, read_kinds: _ReadKinds, n: int) -> None:
    """Raise a finding for a kind index row at an index the log does not hold.

    Rows of entries appended since the audit began are not extra: the row is
    read before the tail, and a row and its entry's tail commit together, so a
    row at or past the re-read tail's size has no entry. After
    :data:`_EXTRA_TRIES` rows of entries appended meanwhile, the rest is left
    (those entries are not audited either).
    """
    start = n
    for _ in range(_EXTRA_TRIES):
        rows = read_kinds(start, 1)
        if not rows:
            return
        size = store.tail().size
        if rows[0][0] >= size:
            raise _Found(
                rows[0][0],
                f"the kind index (ledger_kinds) has a row at {rows[0][0]}, past the log's "
                f"{size} entries",
                "kind_index_extra",
            )
        start = size


def _check_signature(
    key_lookup: Callable[[str], PublicKey],
    keys: dict[str, PublicKey],
    pos: int,
    kind: str,
    payload: bytes,
    submitter: str,
    ts: int,
    sig: bytes,
) -> None:
    key = keys.get(submitter)
    if key is None:
        try:
            key = key_lookup(submitter)
        except SSIWalletError as exc:
            raise _Found(pos, f"the submitter's key cannot be found: {exc}") from None
        if len(keys) < 4096:  # bound the cache, not the audit
            keys[submitter] = key
    try:
        key.verify(sig, _signing_input(kind, payload, submitter, ts))
    except SSIWalletError as exc:
        raise _Found(pos, f"the submitter's signature does not verify: {exc}") from None
