"""Entry.from_draft: the trusted path (no second check of a draft's fields) builds exactly
the entry the checking constructor builds, and still refuses a bad index or prev_hash; the
hand-written signing input equals cbor2's canonical encoding at every head boundary."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from did_methods._wire.dates import from_unix_ms
from did_methods.keys import PrivateKey
from ledger.entry import SIGNING_CONTEXT, Entry, EntryDraft, SignedDraft
from ledger.errors import EntryError

kinds = st.from_regex(r"[a-z0-9][a-z0-9._:-]{0,63}", fullmatch=True)
submitters = st.from_regex(r"did:[a-z]{1,8}:[A-Za-z0-9.#_-]{1,200}", fullmatch=True)


@st.composite
def signed_drafts(draw: st.DrawFn) -> SignedDraft:
    return SignedDraft(
        draw(kinds),
        draw(st.binary(max_size=600)),
        draw(submitters),
        draw(st.integers(0, 2**53 - 1)),
        draw(st.binary(min_size=1, max_size=512)),
    )


@given(signed_drafts(), st.integers(0, 2**63 - 1), st.binary(min_size=32, max_size=32))
def test_from_draft_builds_what_the_checking_constructor_builds(
    draft: SignedDraft, index: int, prev_hash: bytes
) -> None:
    entry = Entry.from_draft(draft, index=index, prev_hash=prev_hash)
    checked = Entry(
        index,
        draft.kind,
        draft.payload,
        draft.submitter,
        draft.timestamp,
        prev_hash,
        draft.signature,
    )
    assert type(entry) is Entry
    assert entry == checked
    assert hash(entry) == hash(checked)
    assert entry.encode() == checked.encode()
    assert Entry.decode(entry.encode(), max_payload=1000) == entry
    assert entry.draft() == draft
    with pytest.raises(AttributeError):
        entry.index = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("index", "prev_hash"),
    [
        (-1, bytes(32)),
        (2**63, bytes(32)),
        (True, bytes(32)),
        (1.0, bytes(32)),
        ("1", bytes(32)),
        (0, bytes(31)),
        (0, bytes(33)),
        (0, bytearray(32)),
        (0, "0" * 32),
        (0, None),
    ],
)
def test_from_draft_refuses_a_bad_position(index: Any, prev_hash: Any) -> None:
    draft = SignedDraft("demo", b"x", "did:key:z6Mk#a", 1, b"\x01" * 64)
    with pytest.raises(EntryError):
        Entry.from_draft(draft, index=index, prev_hash=prev_hash)


def test_from_draft_refuses_what_is_not_a_signed_draft() -> None:
    entry = Entry(0, "demo", b"x", "did:key:z6Mk#a", 1, bytes(32), b"\x01" * 64)
    with pytest.raises(EntryError):
        Entry.from_draft(entry, index=0, prev_hash=bytes(32))  # type: ignore[arg-type]
    with pytest.raises(EntryError):
        Entry.from_draft(None, index=0, prev_hash=bytes(32))  # type: ignore[arg-type]


def test_from_draft_checks_every_field_of_a_subclassed_draft() -> None:
    # A subclass may build itself without the draft's checks: its fields are checked
    # again, so no malformed entry comes out of from_draft.
    class Lax(SignedDraft):
        __slots__ = ()

        def __post_init__(self) -> None:
            pass

    lax = Lax("NOT A KIND", b"x", "did:key:z6Mk#a", 1, b"\x01" * 64)
    with pytest.raises(EntryError):
        Entry.from_draft(lax, index=0, prev_hash=bytes(32))
    fine = Lax("demo", b"x", "did:key:z6Mk#a", 1, b"\x01" * 64)
    assert Entry.from_draft(fine, index=3, prev_hash=bytes(32)).index == 3


@pytest.mark.parametrize("payload_size", [0, 23, 24, 255, 256, 65535, 65536, 70000])
@pytest.mark.parametrize(
    "timestamp", [0, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**53 - 1]
)
def test_signing_input_heads_at_every_length_boundary(payload_size: int, timestamp: int) -> None:
    # The signing input is written out by hand: check it against cbor2's canonical
    # encoder where every head changes size.
    submitter = "did:key:" + "z" * (255 - len("did:key:"))
    for kind in ("k" * 23, "k" * 24, "k" * 64):
        draft = SignedDraft(kind, b"\x07" * payload_size, submitter, timestamp, b"\x01" * 64)
        expected = SIGNING_CONTEXT + cbor2.dumps(
            {"k": kind, "p": draft.payload, "s": submitter, "t": timestamp}, canonical=True
        )
        assert draft.signing_input() == expected


@pytest.mark.parametrize(
    ("submitter", "now"),
    [
        ("did:key:zé", from_unix_ms(1)),
        ("not a did", from_unix_ms(1)),
        ("did:key:\ud800", from_unix_ms(1)),
        ("did:key:z6Mk#a", from_unix_ms(-1)),  # before the epoch
    ],
)
def test_sign_refuses_malformed_fields_before_signing(submitter: str, now: datetime) -> None:
    key = PrivateKey.generate(randbytes=lambda n: b"\x03" * n)
    with pytest.raises(EntryError):
        EntryDraft("demo", b"x").sign(key, submitter, now=lambda: now)


def test_sign_refuses_a_legacy_clock_past_the_timestamp_range() -> None:
    # Only the deprecated shape (a clock returning Unix milliseconds) can name an
    # instant past what a datetime holds; it is refused all the same.
    key = PrivateKey.generate(randbytes=lambda n: b"\x03" * n)
    with pytest.deprecated_call(), pytest.raises(EntryError):
        EntryDraft("demo", b"x").sign(key, "did:key:z6Mk#a", now=lambda: 2**64)
