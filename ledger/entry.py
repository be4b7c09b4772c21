"""Ledger entries: typed, signed by their submitter, chained by hash, encoded as deterministic CBOR.

An entry is what the log stores at one index. It carries no personal data: the
``payload`` is a short typed record or, for anything about a person, a
commitment (a keyed hash) whose record lives in the off-chain vault.

Who signs what
--------------
The submitter signs *before* the log sees the entry, so it cannot know the
index or the hash of the previous entry (other submitters may append first).
It therefore signs ``(kind, payload, submitter, timestamp)``; the log adds
``index`` and ``prev_hash``. The chain is still bound end to end: the chain
hash of an entry is SHA-256 of its *full* encoding (signature, index and
``prev_hash`` included) and the Merkle leaf is that same full encoding, so a
signed checkpoint commits to every byte of every entry.

Encoding
--------
The full encoding is a CBOR map (RFC 8949) with seven one-letter text keys,
in deterministic order (section 4.2.1: keys sorted by their encoded bytes)::

    {"g": signature, "h": prev_hash, "i": index, "k": kind,
     "p": payload, "s": submitter, "t": timestamp}

with the shortest heads and definite lengths, exactly what
``cbor2.dumps(..., canonical=True)`` produces. The bytes the submitter signs are
:data:`SIGNING_CONTEXT` followed by the deterministic CBOR map
``{"k": kind, "p": payload, "s": submitter, "t": timestamp}``; the context
string keeps an entry signature from being valid in any other protocol.

``timestamp`` is the submitter's clock in Unix milliseconds (UTC), an integer.

Identity
--------
An entry's *identity* is SHA-256 of the bytes its submitter signed
(:func:`entry_identity`). A log holds each identity at most once: a signed
entry replayed at a later position is refused (``duplicate_entry``).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cbor2

from did_methods._wire.dates import Clock, read_clock, system_clock, to_unix_ms
from did_methods.errors import ParseError, VerificationError
from did_methods.keys import PrivateKey, PublicKey
from ledger._merkle import hash_leaf
from ledger.errors import EntryError

__all__ = [
    "ABSOLUTE_MAX_PAYLOAD",
    "DEFAULT_MAX_PAYLOAD",
    "GENESIS_PREV_HASH",
    "HASH_SIZE",
    "MAX_KIND_LENGTH",
    "MAX_SIGNATURE_LENGTH",
    "MAX_SUBMITTER_LENGTH",
    "SIGNING_CONTEXT",
    "Clock",
    "Entry",
    "EntryDraft",
    "EntryError",
    "SignedDraft",
    "entry_identity",
    "unix_ms",
]

#: Bytes of a SHA-256 hash: ``prev_hash`` and chain hashes.
HASH_SIZE = 32
#: ``prev_hash`` of the entry at index 0.
GENESIS_PREV_HASH = bytes(HASH_SIZE)
#: Default bound on ``payload`` when decoding and appending (64 KiB).
DEFAULT_MAX_PAYLOAD = 64 * 1024
#: Hard bound on ``payload`` whatever a caller configures (1 MiB).
ABSOLUTE_MAX_PAYLOAD = 1024 * 1024
#: Longest ``kind`` (ASCII characters).
MAX_KIND_LENGTH = 64
#: Longest ``submitter`` DID URL (ASCII characters).
MAX_SUBMITTER_LENGTH = 2048
#: Longest signature (bytes); ECDSA P-384 ``r || s`` is 96.
MAX_SIGNATURE_LENGTH = 512
#: Prefix of the bytes a submitter signs (domain separation).
SIGNING_CONTEXT = b"ssi-wallet ledger entry v1\n"

_MAX_INDEX = 2**63 - 1
_MAX_TIMESTAMP = 2**53 - 1
# Room for everything but the payload in an encoding: keys, heads, kind,
# submitter, signature, hashes and integers.
_OVERHEAD = 16 + MAX_KIND_LENGTH + MAX_SUBMITTER_LENGTH + MAX_SIGNATURE_LENGTH + 2 * HASH_SIZE + 32
_KIND_RE = re.compile(r"[a-z0-9][a-z0-9._:-]*")
_SUBMITTER_RE = re.compile(r"did:[\x21-\x7e]+")
_KEYS = ("g", "h", "i", "k", "p", "s", "t")

#: Reads the time as entries store it, Unix milliseconds: what the log and the
#: registries call internally, made from a public :data:`Clock` by :func:`ms_clock`.
MsClock = Callable[[], int]


def entry_identity(encoded: bytes) -> bytes:
    """The identity of the stored entry ``encoded``: SHA-256 of what its submitter signed.

    Two entries with the same kind, payload, submitter and timestamp have one
    identity whatever their index, ``prev_hash`` or signature bytes (an ECDSA
    signature can be re-made): the log stores each identity once and refuses
    the second with ``duplicate_entry``. Raises :class:`EntryError` for bytes
    that are not an entry.
    """
    return Entry.decode(encoded, max_payload=ABSOLUTE_MAX_PAYLOAD).identity()


def unix_ms() -> int:
    """The system clock in Unix milliseconds.

    Deprecated as a ``clock`` argument (it was the default before the clocks
    became :data:`~did_methods._wire.dates.Clock`, returning an aware
    datetime): passing it still works, with a :class:`DeprecationWarning`.
    """
    return time.time_ns() // 1_000_000


def ms_clock(clock: Clock) -> MsClock:
    """``clock`` read as Unix milliseconds, the unit of an entry's timestamp.

    A legacy clock returning an int is taken as Unix milliseconds (the unit
    the ledger's clocks had), with a :class:`DeprecationWarning`.
    """
    if clock is system_clock:
        return unix_ms  # the same instant, without building a datetime per entry

    def read() -> int:
        return to_unix_ms(read_clock(clock, legacy="ms"))

    return read


# -- field checks ------------------------------------------------------------------


def _check_common(
    kind: object, payload: object, submitter: object, timestamp: object, signature: object
) -> None:
    _check_kind(kind)
    _check_payload(payload, ABSOLUTE_MAX_PAYLOAD)
    _check_submitter(submitter)
    if type(timestamp) is not int or not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise EntryError("timestamp must be an integer number of Unix milliseconds >= 0")
    if type(signature) is not bytes or not 0 < len(signature) <= MAX_SIGNATURE_LENGTH:
        raise EntryError(f"signature must be 1 to {MAX_SIGNATURE_LENGTH} bytes")


def _check_submitter(submitter: object) -> None:
    if type(submitter) is not str or not 0 < len(submitter) <= MAX_SUBMITTER_LENGTH:
        raise EntryError(f"submitter must be a DID URL of at most {MAX_SUBMITTER_LENGTH} chars")
    if _SUBMITTER_RE.fullmatch(submitter) is None:
        raise EntryError("submitter must be a printable ASCII DID URL starting with 'did:'")


def _check_kind(kind: object) -> None:
    if type(kind) is not str or not 0 < len(kind) <= MAX_KIND_LENGTH:
        raise EntryError(f"kind must be a string of 1 to {MAX_KIND_LENGTH} characters")
    if _KIND_RE.fullmatch(kind) is None:
        raise EntryError(f"kind must match [a-z0-9][a-z0-9._:-]*: {kind!r}")


def _check_payload(payload: object, max_payload: int) -> None:
    if type(payload) is not bytes:
        raise EntryError("payload must be bytes")
    if len(payload) > max_payload:
        raise EntryError(f"payload is {len(payload)} bytes, more than the bound {max_payload}")


def _cbor_head(major: int, value: int) -> bytes:
    # A shortest-form CBOR head (RFC 8949 4.2.1) of major type ``major << 5``
    # carrying ``0 <= value < 2**64``, as cbor2 emits it.
    if value < 24:
        return bytes((major | value,))
    if value < 0x100:
        return bytes((major | 24, value))
    if value < 0x10000:
        return bytes((major | 25,)) + value.to_bytes(2, "big")
    if value < 0x100000000:
        return bytes((major | 26,)) + value.to_bytes(4, "big")
    return bytes((major | 27,)) + value.to_bytes(8, "big")


def _signing_input(kind: str, payload: bytes, submitter: str, timestamp: int) -> bytes:
    # SIGNING_CONTEXT and the deterministic map {k, p, s, t} (keys in this order,
    # shortest heads, definite lengths), written out directly: byte for byte what
    # cbor2.dumps(..., canonical=True) gives (tested), at a third less cost on
    # the append path. Callers pass checked fields: text, bytes, 0 <= timestamp < 2**64.
    k = kind.encode()
    s = submitter.encode()
    return b"".join(
        (
            SIGNING_CONTEXT,
            b"\xa4\x61k",
            _cbor_head(0x60, len(k)),
            k,
            b"\x61p",
            _cbor_head(0x40, len(payload)),
            payload,
            b"\x61s",
            _cbor_head(0x60, len(s)),
            s,
            b"\x61t",
            _cbor_head(0, timestamp),
        )
    )


def _head_len(value: int) -> int:
    # Length of a shortest-form CBOR head carrying ``value`` (RFC 8949 4.2.1).
    if value < 24:
        return 1
    if value < 0x100:
        return 2
    if value < 0x10000:
        return 3
    if value < 0x100000000:
        return 5
    return 9


# -- drafts ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """What a submitter wants logged: a ``kind`` and a ``payload`` (no personal data).

    Raises :class:`EntryError` when ``kind`` is not a short lower-case ASCII
    name or ``payload`` is not bytes within the hard bound.
    """

    kind: str
    payload: bytes

    def __post_init__(self) -> None:
        _check_kind(self.kind)
        _check_payload(self.payload, ABSOLUTE_MAX_PAYLOAD)

    def sign(
        self, private_key: PrivateKey, submitter: str, *, now: Clock = system_clock
    ) -> SignedDraft:
        """Sign this draft as ``submitter`` (the DID URL of ``private_key``) at ``now()``.

        ``now`` is a :data:`~did_methods._wire.dates.Clock`; the entry's
        timestamp is its instant in whole Unix milliseconds.

        The signature covers kind, payload, submitter and timestamp; the log
        adds index and ``prev_hash`` when it appends. Raises :class:`EntryError`
        for a malformed submitter, and :class:`UnsupportedError` for a key that
        cannot sign.
        """
        if type(submitter) is not str:
            raise EntryError("submitter must be a string")
        try:
            timestamp = ms_clock(now)()
        except (ParseError, OverflowError, ValueError) as exc:
            raise EntryError(f"now() is not an instant: {exc}") from exc
        # Checked before signing: nothing malformed is ever signed.
        _check_submitter(submitter)
        if not 0 <= timestamp <= _MAX_TIMESTAMP:
            raise EntryError("timestamp must be an integer number of Unix milliseconds >= 0")
        signature = private_key.sign(_signing_input(self.kind, self.payload, submitter, timestamp))
        return SignedDraft(self.kind, self.payload, submitter, timestamp, signature)


@dataclass(frozen=True, slots=True)
class SignedDraft:
    """An entry signed by its submitter, not yet placed in a log.

    Build one with :meth:`EntryDraft.sign`, or directly when the signature was
    made elsewhere (it is checked by :meth:`verify_signature` and by the log).
    Raises :class:`EntryError` for a malformed field.
    """

    kind: str
    payload: bytes
    submitter: str
    timestamp: int
    signature: bytes

    def __post_init__(self) -> None:
        _check_common(self.kind, self.payload, self.submitter, self.timestamp, self.signature)

    def signing_input(self) -> bytes:
        """The exact bytes the submitter signed."""
        return _signing_input(self.kind, self.payload, self.submitter, self.timestamp)

    def identity(self) -> bytes:
        """The entry's identity: SHA-256 of :meth:`signing_input` (see :func:`entry_identity`)."""
        return hashlib.sha256(self.signing_input()).digest()

    def verify_signature(self, public_key: PublicKey) -> None:
        """Check the submitter's signature; raise ``VerificationError('signature_invalid')``."""
        _verify(public_key, self.signature, self.signing_input())


def _verify(public_key: PublicKey, signature: bytes, message: bytes) -> None:
    try:
        public_key.verify(signature, message)
    except VerificationError:
        raise
    except Exception as exc:  # an X25519 key, or a backend error: never leak it raw
        raise VerificationError("signature_invalid", f"cannot verify with this key: {exc}") from exc


# -- entries -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of the log, at ``index``, chained to the entry before by ``prev_hash``.

    Guarantees: every field has the type, size and syntax of the format
    (raises :class:`EntryError` otherwise); :meth:`encode` is deterministic and
    :meth:`decode` accepts exactly the bytes :meth:`encode` produces.
    The signature is *not* checked when an entry is built or decoded: call
    :meth:`verify_signature` (the log and the audit do).
    """

    index: int
    kind: str
    payload: bytes
    submitter: str
    timestamp: int
    prev_hash: bytes
    signature: bytes

    def __post_init__(self) -> None:
        if type(self.index) is not int or not 0 <= self.index <= _MAX_INDEX:
            raise EntryError("index must be an integer in [0, 2**63)")
        if type(self.prev_hash) is not bytes or len(self.prev_hash) != HASH_SIZE:
            raise EntryError(f"prev_hash must be {HASH_SIZE} bytes")
        _check_common(self.kind, self.payload, self.submitter, self.timestamp, self.signature)

    @classmethod
    def from_draft(cls, draft: SignedDraft, *, index: int, prev_hash: bytes) -> Entry:
        """Place a signed draft at ``index`` after the entry whose chain hash is ``prev_hash``.

        Raises :class:`EntryError` for a bad ``index`` or ``prev_hash``, or a
        ``draft`` that is not a :class:`SignedDraft`. The draft's own fields
        were checked when it was built, so they are not checked again.
        """
        if type(draft) is not SignedDraft:
            if not isinstance(draft, SignedDraft):
                raise EntryError("from_draft needs a SignedDraft")
            # A subclass may have changed how it is built: check every field.
            return cls(
                index,
                draft.kind,
                draft.payload,
                draft.submitter,
                draft.timestamp,
                prev_hash,
                draft.signature,
            )
        if type(index) is not int or not 0 <= index <= _MAX_INDEX:
            raise EntryError("index must be an integer in [0, 2**63)")
        if type(prev_hash) is not bytes or len(prev_hash) != HASH_SIZE:
            raise EntryError(f"prev_hash must be {HASH_SIZE} bytes")
        return _placed(draft, index, prev_hash)

    def encode(self) -> bytes:
        """The deterministic CBOR encoding: the Merkle leaf data and the input of the chain hash."""
        return _encode(self)

    def chain_hash(self) -> bytes:
        """SHA-256 of :meth:`encode`: the ``prev_hash`` of the next entry."""
        return hashlib.sha256(_encode(self)).digest()

    def leaf_hash(self) -> bytes:
        """The RFC 9162 leaf hash of :meth:`encode` (SHA-256 of ``0x00`` and the
        encoding): what an inclusion proof of this entry starts from."""
        return hash_leaf(_encode(self))

    def signing_input(self) -> bytes:
        """The exact bytes the submitter signed (see the module docstring)."""
        return _signing_input(self.kind, self.payload, self.submitter, self.timestamp)

    def identity(self) -> bytes:
        """The entry's identity: SHA-256 of :meth:`signing_input` (see :func:`entry_identity`).

        A log holds each identity at most once, so a signed statement cannot be
        replayed at a later position.
        """
        return hashlib.sha256(self.signing_input()).digest()

    def draft(self) -> SignedDraft:
        """The submitter's signed part of this entry."""
        return SignedDraft(self.kind, self.payload, self.submitter, self.timestamp, self.signature)

    def verify_signature(self, public_key: PublicKey) -> None:
        """Check the submitter's signature; raise ``VerificationError('signature_invalid')``."""
        _verify(public_key, self.signature, self.signing_input())

    @classmethod
    def decode(cls, data: bytes, *, max_payload: int = DEFAULT_MAX_PAYLOAD) -> Entry:
        """Decode an entry, accepting only its deterministic encoding.

        Rejects, with :class:`EntryError`: more than ``max_payload`` payload
        bytes (checked on the raw size before any parsing), anything but the
        seven-key map in deterministic order, wrong types (a bool is not an
        integer), tags, indefinite lengths, non-shortest heads, duplicate keys
        and trailing bytes.
        """
        return cls(*_decode_fields(data, max_payload))


_new_object = object.__new__
_set_field = object.__setattr__


def _placed(draft: SignedDraft, index: int, prev_hash: bytes) -> Entry:
    # An Entry built without __post_init__: for an exact SignedDraft (whose
    # fields its own __post_init__ checked, and which is frozen) and an index
    # and prev_hash the caller has checked. Every field the format allows in
    # a draft is allowed in an entry, so the result is an Entry that the
    # checking constructor would have accepted.
    entry: Entry = _new_object(Entry)
    _set_field(entry, "index", index)
    _set_field(entry, "kind", draft.kind)
    _set_field(entry, "payload", draft.payload)
    _set_field(entry, "submitter", draft.submitter)
    _set_field(entry, "timestamp", draft.timestamp)
    _set_field(entry, "prev_hash", prev_hash)
    _set_field(entry, "signature", draft.signature)
    return entry


def _encode(entry: Entry) -> bytes:
    return cbor2.dumps(
        {
            "g": entry.signature,
            "h": entry.prev_hash,
            "i": entry.index,
            "k": entry.kind,
            "p": entry.payload,
            "s": entry.submitter,
            "t": entry.timestamp,
        }
    )


def _decode_fields(data: bytes, max_payload: int) -> tuple[int, str, bytes, str, int, bytes, bytes]:
    """Strictly decode an encoding to ``(index, kind, payload, submitter, timestamp, prev_hash,
    signature)``; the field syntax is left to :class:`Entry`."""
    if type(data) is not bytes:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise EntryError("an encoded entry must be bytes")
        data = bytes(data)
    if len(data) > max_payload + _OVERHEAD:
        raise EntryError(f"encoded entry of {len(data)} bytes exceeds the bound")
    if not data or data[0] != 0xA7:  # a definite map of 7 pairs
        raise EntryError("an entry is a CBOR map of exactly seven pairs")
    try:
        obj: Any = cbor2.loads(data)
    except Exception as exc:  # cbor2 raises many types on hostile input
        raise EntryError(f"not well-formed CBOR: {exc}") from None
    if type(obj) is not dict or tuple(obj) != _KEYS:
        raise EntryError("an entry map must have exactly the keys g,h,i,k,p,s,t in this order")
    sig, prev, index, kind, payload, submitter, ts = obj.values()
    if (  # exact types: a bool is not an int
        type(sig) is not bytes
        or type(prev) is not bytes
        or type(index) is not int
        or type(kind) is not str
        or type(payload) is not bytes
        or type(submitter) is not str
        or type(ts) is not int
    ):
        raise EntryError("an entry field has the wrong CBOR type")
    if len(payload) > max_payload:
        raise EntryError(f"payload is {len(payload)} bytes, more than the bound {max_payload}")
    if index < 0 or ts < 0 or index > _MAX_INDEX or ts > _MAX_TIMESTAMP:
        raise EntryError("index or timestamp out of range")
    sig_n = len(sig)
    if len(prev) != HASH_SIZE or not 0 < sig_n <= MAX_SIGNATURE_LENGTH:
        raise EntryError("prev_hash or signature has the wrong length")
    # Deterministic-encoding check without re-encoding: each item of any
    # encoding is at least as long as its shortest form (tags, indefinite
    # lengths and long heads only add bytes), so a total length equal to the
    # shortest length means every item is in shortest form and nothing
    # trails. Key order and uniqueness were checked above; text heads count
    # UTF-8 bytes. A test compares this with cbor2's canonical re-encoding.
    # ASCII text (every valid kind and submitter) has as many UTF-8 bytes as
    # characters; isascii() avoids encoding on the hot path.
    kind_n = len(kind) if kind.isascii() else len(kind.encode())
    sub_n = len(submitter) if submitter.isascii() else len(submitter.encode())
    pay_n = len(payload)
    expected = (
        49  # map head, seven one-letter keys (2 bytes each), prev_hash with its head
        + sig_n
        + (2 if 24 <= sig_n < 0x100 else _head_len(sig_n))
        + _head_len(index)
        + kind_n
        + (1 if kind_n < 24 else _head_len(kind_n))
        + pay_n
        + _head_len(pay_n)
        + sub_n
        + (2 if 24 <= sub_n < 0x100 else _head_len(sub_n))
        + (9 if ts >= 0x100000000 else _head_len(ts))
    )
    if expected != len(data):
        raise EntryError("not the deterministic CBOR encoding of an entry")
    return index, kind, payload, submitter, ts, prev, sig
