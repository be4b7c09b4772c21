"""The audit's fast path: a compiled entry layout matches only what the strict decoder accepts.

The audit matches entries shaped like ones it has already decoded strictly
against a regular expression of that shape (ledger.audit._layout). Whatever
such an expression matches must decode strictly to a valid entry with the
same index and prev_hash; here that is checked on valid encodings of every
head size and on arbitrary mutations of them.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from did_methods.errors import SSIWalletError
from ledger.audit import _Layouts, _uint_class, audit
from ledger.entry import (
    DEFAULT_MAX_PAYLOAD,
    Entry,
    _check_kind,
    _check_submitter,
    _decode_fields,
)
from ledger.store import MemoryStore

_kinds = st.from_regex(r"[a-z0-9][a-z0-9._:-]{0,63}", fullmatch=True)
_submitters = st.from_regex(r"did:[\x21-\x7e]{1,300}", fullmatch=True)
# Values at and around every boundary of a CBOR head: 23/24, 255/256, 65535/65536, 2**32.
_edges = [0, 1, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32]
_indices = st.sampled_from([*_edges, 2**53, 2**63 - 1]) | st.integers(0, 2**63 - 1)
_timestamps = st.sampled_from([*_edges, 2**53 - 1]) | st.integers(0, 2**53 - 1)
_lengths = st.sampled_from([0, 1, 23, 24, 255, 256, 300]) | st.integers(0, 400)


@st.composite
def _entries(draw: st.DrawFn) -> Entry:
    return Entry(
        index=draw(_indices),
        kind=draw(_kinds),
        payload=draw(_lengths.flatmap(lambda n: st.binary(min_size=n, max_size=n))),
        submitter=draw(_submitters),
        timestamp=draw(_timestamps),
        prev_hash=draw(st.binary(min_size=32, max_size=32)),
        signature=draw(st.binary(min_size=1, max_size=512)),
    )


def _strict(data: bytes) -> tuple[int, bytes, str, int] | None:
    try:
        index, kind, _, submitter, ts, prev, _ = _decode_fields(data, DEFAULT_MAX_PAYLOAD)
        _check_kind(kind)
        _check_submitter(submitter)
    except SSIWalletError:
        return None
    return index, prev, kind, ts


def _layout_of(entry: Entry) -> _Layouts:
    layouts = _Layouts()
    data = entry.encode()
    for _ in range(2):  # compiled on the second sighting
        layouts.learn(
            len(data),
            entry.index,
            entry.kind,
            entry.payload,
            entry.submitter,
            entry.timestamp,
            entry.signature,
        )
    return layouts


def _fast(layouts: _Layouts, data: bytes) -> tuple[int, bytes, str, int] | None:
    """What the audit's fast path takes from ``data``: index, prev_hash, kind and timestamp
    (the last two compared with the kind index)."""
    for layout in layouts.by_length.get(len(data), ()):
        match = layout(data)
        if match is not None:
            prev, index, kind, ts = match.groups()
            stamp = ts[0] if len(ts) == 1 else int.from_bytes(ts[1:], "big")
            return int.from_bytes(index, "big"), prev, kind.decode("ascii"), stamp
    return None


@settings(max_examples=150, deadline=None)
@given(_entries())
def test_a_layout_matches_its_entry(entry: Entry) -> None:
    layouts = _layout_of(entry)
    assert _fast(layouts, entry.encode()) == (
        entry.index,
        entry.prev_hash,
        entry.kind,
        entry.timestamp,
    )


@settings(max_examples=200, deadline=None)
@given(_entries(), st.randoms(use_true_random=False), st.integers(1, 4))
def test_a_layout_never_accepts_what_the_strict_decoder_refuses(
    entry: Entry, rng: random.Random, edits: int
) -> None:
    layouts = _layout_of(entry)
    data = bytearray(entry.encode())
    for _ in range(edits):
        at = rng.randrange(len(data))
        how = rng.randrange(3)
        if how == 0:
            data[at] = rng.randrange(256)
        elif how == 1:
            data[at] ^= 1 << rng.randrange(8)
        else:
            data[at : at + 1] = b""  # with the other edits, lengths can come back
            data.insert(rng.randrange(len(data) + 1), rng.randrange(256))
    mutated = bytes(data)
    fast = _fast(layouts, mutated)
    if fast is not None:
        assert _strict(mutated) == fast


@settings(max_examples=100, deadline=None)
@given(
    _entries(),
    _indices,
    _timestamps,
    st.binary(max_size=8) | st.just(None),
    st.sampled_from(["did:x:other", None]),
)
def test_a_layout_matches_other_entries_of_its_shape_exactly(
    entry: Entry, index: int, timestamp: int, noise: bytes | None, submitter: str | None
) -> None:
    """Another valid entry: matched, with its own index and prev_hash, exactly when it has
    the layout's shape (head classes and lengths)."""
    layouts = _layout_of(entry)
    other = Entry(
        index,
        entry.kind,
        # None: a payload of the same length (other bytes), else another one.
        bytes(reversed(entry.payload)) if noise is None else noise,
        entry.submitter if submitter is None else submitter,
        timestamp,
        entry.prev_hash,
        entry.signature,
    ).encode()
    same_shape = (
        _uint_class(index) == _uint_class(entry.index)
        and _uint_class(timestamp) == _uint_class(entry.timestamp)
        and (noise is None or len(noise) == len(entry.payload))
        and (submitter is None or len(submitter) == len(entry.submitter))
    )
    want = (index, entry.prev_hash, entry.kind, timestamp)
    assert _fast(layouts, other) == (want if same_shape else None)


def test_audit_reports_the_same_finding_with_and_without_the_fast_path() -> None:
    """A log of one layout: a changed index deep in it is found by the layout's check."""
    from did_methods.keys import PrivateKey
    from did_methods.methods.key import did_key_from_public_key
    from ledger.entry import EntryDraft
    from ledger.log import Log

    key = PrivateKey.generate(randbytes=lambda n: b"\x05" * n)
    did = did_key_from_public_key(key.public_key)
    submitter = f"{did}#{did.removeprefix('did:key:')}"
    store = MemoryStore()
    log = Log(store, origin="audit.test/log")
    log.append_batch(
        [EntryDraft("test.layout", b"%08d" % i).sign(key, submitter) for i in range(40)]
    )
    assert audit(store).ok
    # Entry 30 re-encoded with the index of entry 31: same layout, wrong index.
    wrong = log.get(30)
    forged = Entry(
        31,
        wrong.kind,
        wrong.payload,
        wrong.submitter,
        wrong.timestamp,
        wrong.prev_hash,
        wrong.signature,
    ).encode()
    store._entries[30] = forged
    fast = audit(store)
    assert not fast.ok and fast.first_bad_index == 30
    assert fast.reason == "the entry says it is at index 31"
    # The same finding from the strict path (every entry decoded, signatures checked).
    from ledger.log import did_key_lookup

    strict = audit(store, key_lookup=did_key_lookup)
    assert (strict.first_bad_index, strict.reason) == (fast.first_bad_index, fast.reason)
