"""Entries: deterministic CBOR, strict decoding, signatures, field bounds."""

from __future__ import annotations

import hashlib

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st
from ledger_store_support import Submitter

from did_methods._wire.dates import from_unix_ms
from did_methods.errors import SSIWalletError, VerificationError
from did_methods.keys import KeyType, PrivateKey
from ledger.entry import (
    GENESIS_PREV_HASH,
    SIGNING_CONTEXT,
    Entry,
    EntryDraft,
    SignedDraft,
)
from ledger.errors import EntryError

kinds = st.from_regex(r"[a-z0-9][a-z0-9._:-]{0,63}", fullmatch=True)
submitters = st.from_regex(r"did:[a-z]{1,8}:[A-Za-z0-9.#_-]{1,200}", fullmatch=True)
hashes = st.binary(min_size=32, max_size=32)


@st.composite
def entries(draw: st.DrawFn) -> Entry:
    return Entry(
        index=draw(st.integers(0, 2**63 - 1)),
        kind=draw(kinds),
        payload=draw(st.binary(max_size=600)),
        submitter=draw(submitters),
        timestamp=draw(st.integers(0, 2**53 - 1)),
        prev_hash=draw(hashes),
        signature=draw(st.binary(min_size=1, max_size=512)),
    )


@given(entries())
def test_encoding_is_cbor_core_deterministic_and_round_trips(entry: Entry) -> None:
    data = entry.encode()
    # RFC 8949 4.2: exactly what a canonical encoder produces from the same map.
    assert data == cbor2.dumps(cbor2.loads(data), canonical=True)
    assert Entry.decode(data, max_payload=1000) == entry
    assert entry.chain_hash() == hashlib.sha256(data).digest()


@given(entries())
def test_signing_input_is_context_and_canonical_map(entry: Entry) -> None:
    expected = SIGNING_CONTEXT + cbor2.dumps(
        {"k": entry.kind, "p": entry.payload, "s": entry.submitter, "t": entry.timestamp},
        canonical=True,
    )
    assert entry.signing_input() == expected
    assert entry.draft().signing_input() == expected


@given(entries(), st.data())
def test_decode_accepts_only_the_deterministic_encoding(entry: Entry, data: st.DataObject) -> None:
    """Mutations (flipped byte, truncation, trailing garbage, re-encodings) are refused
    unless they are again the deterministic encoding of an entry."""
    good = entry.encode()
    choice = data.draw(st.sampled_from(["flip", "truncate", "append", "insert", "delete"]))
    pos = data.draw(st.integers(0, len(good) - 1))
    if choice == "flip":
        bad = good[:pos] + bytes([good[pos] ^ data.draw(st.integers(1, 255))]) + good[pos + 1 :]
    elif choice == "truncate":
        bad = good[:pos]
    elif choice == "append":
        bad = good + data.draw(st.binary(min_size=1, max_size=8))
    elif choice == "insert":
        bad = good[:pos] + data.draw(st.binary(min_size=1, max_size=4)) + good[pos:]
    else:
        bad = good[:pos] + good[pos + 1 :]
    try:
        decoded = Entry.decode(bad, max_payload=1000)
    except EntryError:
        return
    # Accepted: then it must be canonical, i.e. exactly its own encoding.
    assert decoded.encode() == bad
    assert bad == cbor2.dumps(cbor2.loads(bad), canonical=True)


def _as_map(entry: Entry) -> dict[str, object]:
    return {
        "g": entry.signature,
        "h": entry.prev_hash,
        "i": entry.index,
        "k": entry.kind,
        "p": entry.payload,
        "s": entry.submitter,
        "t": entry.timestamp,
    }


def _sample() -> Entry:
    return Entry(
        300, "did.update", b"x" * 30, "did:key:abc", 1_700_000_000_000, b"\x01" * 32, b"s" * 64
    )


def test_named_non_canonical_forms_are_refused() -> None:
    entry = _sample()
    good = entry.encode()
    fields = _as_map(entry)
    # Keys out of order (same length, same items).
    reordered = cbor2.dumps(dict(reversed(list(fields.items()))))
    # An integer with a longer head than needed: index 300 as a 4-byte argument.
    long_head = good.replace(b"\x61i\x19\x01\x2c", b"\x61i\x1a\x00\x00\x01\x2c")
    # A tagged value (tag 2 bignum for the index).
    tagged = good.replace(b"\x61i\x19\x01\x2c", b"\x61i\xc2\x42\x01\x2c")
    # An indefinite-length byte string for the payload.
    indefinite = good.replace(b"\x58\x1e" + b"x" * 30, b"\x5f\x58\x1e" + b"x" * 30 + b"\xff")
    # A duplicate key (8 pairs with the map header saying 7 is malformed; say 8).
    duplicate = b"\xa8" + good[1:] + b"\x61t\x01"
    bool_index = cbor2.dumps({**fields, "i": True})
    float_ts = cbor2.dumps({**fields, "t": 1.5})
    for bad in (reordered, long_head, tagged, indefinite, duplicate, bool_index, float_ts):
        assert bad != good
        with pytest.raises(EntryError):
            Entry.decode(bad)
    missing = {k: v for k, v in fields.items() if k != "t"}
    extra = {**fields, "x": 1}
    for obj in (missing, extra, [1, 2], "text", 7):
        with pytest.raises(EntryError):
            Entry.decode(cbor2.dumps(obj))


def test_payload_bound_is_checked_before_parsing() -> None:
    entry = Entry(0, "k", b"z" * 2000, "did:key:abc", 1, GENESIS_PREV_HASH, b"s")
    assert Entry.decode(entry.encode(), max_payload=2000) == entry
    with pytest.raises(EntryError, match="bound"):
        Entry.decode(entry.encode(), max_payload=1999)
    with pytest.raises(EntryError, match="exceeds the bound"):
        Entry.decode(b"\xa7" + b"\x00" * 100_000)


@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_entry_error(data: bytes) -> None:
    try:
        entry = Entry.decode(data)
    except EntryError:
        return
    assert entry.encode() == data


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.binary() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(max_size=2), inner),
        max_leaves=20,
    )
)
def test_arbitrary_cbor_raises_only_entry_error(obj: object) -> None:
    with pytest.raises(EntryError):
        Entry.decode(cbor2.dumps(obj))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("index", -1),
        ("index", 2**63),
        ("index", True),
        ("kind", ""),
        ("kind", "Upper"),
        ("kind", "k" * 65),
        ("kind", "sp ace"),
        ("payload", "text"),
        ("payload", b"x" * (1024 * 1024 + 1)),
        ("submitter", "not-a-did"),
        ("submitter", "did:key:" + "a" * 2048),
        ("submitter", "did:key:caf\u00e9"),
        ("timestamp", -1),
        ("timestamp", 2**53),
        ("timestamp", 1.0),
        ("prev_hash", b"\x00" * 31),
        ("signature", b""),
        ("signature", b"s" * 513),
    ],
)
def test_fields_are_validated(field: str, value: object) -> None:
    good = _as_map(_sample())
    names = {
        "index": "i",
        "kind": "k",
        "payload": "p",
        "submitter": "s",
        "timestamp": "t",
        "prev_hash": "h",
        "signature": "g",
    }
    args = {
        "index": good["i"],
        "kind": good["k"],
        "payload": good["p"],
        "submitter": good["s"],
        "timestamp": good["t"],
        "prev_hash": good["h"],
        "signature": good["g"],
    }
    args[field] = value
    with pytest.raises(EntryError):
        Entry(**args)  # type: ignore[arg-type]
    # The same value smuggled into an encoding is refused by decode too.
    try:
        data = cbor2.dumps({**good, names[field]: value})
    except Exception:
        return
    with pytest.raises(EntryError):
        Entry.decode(data)


def test_sign_and_verify(alice: Submitter, bob: Submitter) -> None:
    draft = EntryDraft("status.anchor", b"\x01" * 32).sign(
        alice.key, alice.did_url, now=lambda: from_unix_ms(42)
    )
    assert draft.timestamp == 42
    draft.verify_signature(alice.key.public_key)
    entry = Entry.from_draft(draft, index=0, prev_hash=GENESIS_PREV_HASH)
    entry.verify_signature(alice.key.public_key)
    with pytest.raises(VerificationError) as info:
        entry.verify_signature(bob.key.public_key)
    assert info.value.code == "signature_invalid"
    # Changing any signed field breaks the signature.
    for changed in (
        SignedDraft("status.other", draft.payload, draft.submitter, 42, draft.signature),
        SignedDraft(draft.kind, b"\x02" * 32, draft.submitter, 42, draft.signature),
        SignedDraft(draft.kind, draft.payload, bob.did_url, 42, draft.signature),
        SignedDraft(draft.kind, draft.payload, draft.submitter, 43, draft.signature),
    ):
        with pytest.raises(VerificationError):
            changed.verify_signature(alice.key.public_key)


def test_p256_submitters_sign_too() -> None:
    key = PrivateKey.generate(KeyType.P256)
    draft = EntryDraft("k", b"p").sign(key, "did:example:p256#k1")
    assert len(draft.signature) == 64
    draft.verify_signature(key.public_key)


def test_x25519_key_cannot_verify_and_says_so(alice: Submitter) -> None:
    draft = alice.drafts(1)[0]
    with pytest.raises(VerificationError):
        draft.verify_signature(alice.key.public_key.to_x25519())
    with pytest.raises(SSIWalletError):
        EntryDraft("k", b"p").sign(alice.key.to_x25519(), alice.did_url)


def test_draft_validation() -> None:
    with pytest.raises(EntryError):
        EntryDraft("Bad Kind", b"")
    with pytest.raises(EntryError):
        EntryDraft("k", "not bytes")  # type: ignore[arg-type]
    key = PrivateKey.generate()
    with pytest.raises(EntryError):
        EntryDraft("k", b"").sign(key, "no-did")


@given(
    st.text(max_size=30),
    st.text(max_size=300),
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**64 - 1),
    st.binary(max_size=300),
    st.booleans(),
)
def test_length_check_is_exact_for_any_text(
    kind: str, submitter: str, index: int, ts: int, sig: bytes, canonical: bool
) -> None:
    """The raw field decoder (before field syntax) accepts only canonical bytes, also for
    non-ASCII text and values at every head size."""
    from ledger.entry import _decode_fields

    fields = {"g": sig, "h": b"\x00" * 32, "i": index, "k": kind, "p": b"", "s": submitter, "t": ts}
    data = cbor2.dumps(fields, canonical=True)
    variants = [data, data + b"\x00"]
    if not canonical:  # the same map with a needlessly long head for the payload
        variants.append(data.replace(b"\x61p\x40", b"\x61p\x58\x00", 1))
    for candidate in variants:
        try:
            _decode_fields(candidate, 1000)
        except EntryError:
            continue
        assert candidate == cbor2.dumps(cbor2.loads(candidate), canonical=True)
