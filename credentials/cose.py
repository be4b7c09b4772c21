"""COSE_Sign1 (RFC 9052 Section 4.2) over strict, bounded CBOR.

A COSE_Sign1 message is the CBOR array ``[protected, unprotected, payload,
signature]``, usually under tag 18: ``protected`` is a byte string wrapping a
CBOR map of header parameters (signed), ``unprotected`` a plain map (not
signed), ``payload`` a byte string and ``signature`` the raw signature over
the ``Sig_structure``::

    ["Signature1", protected, external_aad, payload]

Algorithms (the COSE registry's numbers): EdDSA (``-8``, Ed25519; the
fully-specified ``Ed25519`` ``-19`` is accepted on verification too), ES256
(``-7``, P-256 with SHA-256), ES384 (``-35``, P-384 with SHA-384) and ES512
(``-36``, P-521 with SHA-512). ECDSA
signatures are the fixed-length ``r || s`` COSE prescribes, not DER.

Reading is strict and bounded, because a barcode comes from anyone with a
printer: :func:`decode_cbor` first walks the encoded item itself and refuses,
before ``cbor2`` sees a byte, anything longer than ``max_bytes``, nested
deeper than ``max_depth``, holding more than ``max_items`` items, declaring a
length the input cannot hold, using indefinite lengths (unless asked), tags,
``undefined`` or other simple values, map keys that are not integers or
text, duplicate keys, or trailing bytes. What is left is plain data (integers, floats,
strings, bytes, booleans, null, arrays, maps), which ``cbor2`` then decodes;
any error it still raises is translated into :class:`CoseError`. The only
tags accepted are the message's own leading tag 18 (COSE_Sign1), optionally
inside tag 61 (CWT), which :meth:`CoseSign1.parse` strips first.

``kid`` may sit in the protected or the unprotected header. When both carry
one, the protected value wins: it is the signed one. (The EU Digital COVID
Certificate test data relies on this, though RFC 9052 Section 3 asks
senders not to repeat a label; ``kid`` is the only label we let repeat.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import cbor2

from did_methods.errors import ParseError, UnsupportedError, VerificationError
from did_methods.keys import KeyType, PrivateKey, PublicKey

__all__ = [
    "ALG_ED25519",
    "ALG_EDDSA",
    "ALG_ES256",
    "ALG_ES384",
    "ALG_ES512",
    "DEFAULT_ALGORITHMS",
    "HEADER_ALG",
    "HEADER_CONTENT_TYPE",
    "HEADER_CRIT",
    "HEADER_KID",
    "MAX_DEPTH",
    "MAX_ITEMS",
    "MAX_MESSAGE_BYTES",
    "TAG_COSE_SIGN1",
    "TAG_CWT",
    "CoseError",
    "CoseSign1",
    "decode_cbor",
    "sig_structure",
]

#: COSE algorithm identifiers (IANA "COSE Algorithms").
ALG_EDDSA: Final = -8
ALG_ED25519: Final = -19
ALG_ES256: Final = -7
ALG_ES384: Final = -35
ALG_ES512: Final = -36

#: The algorithms :meth:`CoseSign1.verify` accepts unless told otherwise.
DEFAULT_ALGORITHMS: Final = frozenset({ALG_EDDSA, ALG_ED25519, ALG_ES256, ALG_ES384, ALG_ES512})

#: Common header parameter labels (RFC 9052 Section 3.1).
HEADER_ALG: Final = 1
HEADER_CRIT: Final = 2
HEADER_CONTENT_TYPE: Final = 3
HEADER_KID: Final = 4

#: CBOR tags: COSE_Sign1 (RFC 9052) and CWT (RFC 8392).
TAG_COSE_SIGN1: Final = 18
TAG_CWT: Final = 61

#: Default bounds for :func:`decode_cbor` and :meth:`CoseSign1.parse`.
MAX_MESSAGE_BYTES: Final = 64 * 1024
MAX_DEPTH: Final = 16
MAX_ITEMS: Final = 4096

_KEY_TYPE_OF_ALG: Final[Mapping[int, KeyType]] = {
    ALG_EDDSA: KeyType.ED25519,
    ALG_ED25519: KeyType.ED25519,
    ALG_ES256: KeyType.P256,
    ALG_ES384: KeyType.P384,
    ALG_ES512: KeyType.P521,
}
_ALG_OF_KEY_TYPE: Final[Mapping[KeyType, int]] = {
    KeyType.ED25519: ALG_EDDSA,
    KeyType.P256: ALG_ES256,
    KeyType.P384: ALG_ES384,
    KeyType.P521: ALG_ES512,
}
# Labels whose meaning we know, so a ``crit`` list naming only these is fine.
_UNDERSTOOD: Final = frozenset({HEADER_ALG, HEADER_CRIT, HEADER_CONTENT_TYPE, HEADER_KID})


class CoseError(ParseError):
    """Bytes that are not a COSE_Sign1 message we accept: bad, oversized or unsupported CBOR."""


# -- strict CBOR ------------------------------------------------------------------------


class _Scan:
    """One bounded walk over an encoded CBOR item (RFC 8949 Section 3)."""

    __slots__ = ("data", "indefinite", "items", "max_depth", "max_items", "tags", "undefined")

    def __init__(
        self,
        data: bytes,
        max_depth: int,
        max_items: int,
        indefinite: bool,
        tags: frozenset[int] = frozenset(),
        undefined: bool = False,
    ) -> None:
        self.data = data
        self.max_depth = max_depth
        self.max_items = max_items
        self.indefinite = indefinite
        self.tags = tags
        self.undefined = undefined
        self.items = 0

    def head(self, pos: int) -> tuple[int, int, int, int]:
        """(major type, additional info, argument, position after the head).

        The argument of an indefinite-length head (info 31) is -1.
        """
        data = self.data
        if pos >= len(data):
            raise CoseError("CBOR ends in the middle of an item")
        first = data[pos]
        major, info = first >> 5, first & 0x1F
        pos += 1
        if info < 24:
            return major, info, info, pos
        if info <= 27:
            size = 1 << (info - 24)
            if pos + size > len(data):
                raise CoseError("CBOR ends in the middle of an item head")
            return major, info, int.from_bytes(data[pos : pos + size], "big"), pos + size
        if info == 31 and major in (2, 3, 4, 5, 7):
            if not self.indefinite:
                raise CoseError("indefinite-length CBOR items are not accepted")
            return major, info, -1, pos
        raise CoseError(f"malformed CBOR head 0x{first:02x}")

    def count(self, n: int, pos: int) -> None:
        # Every item takes at least one byte, so a declared count larger than
        # what is left is a lie we can refuse before allocating anything.
        if n > len(self.data) - pos:
            raise CoseError("CBOR container declares more items than the input holds")
        self.items += n
        if self.items > self.max_items:
            raise CoseError(f"CBOR holds more than {self.max_items} items")

    def at_break(self, pos: int) -> bool:
        if pos >= len(self.data):
            raise CoseError("CBOR ends inside an indefinite-length item")
        return self.data[pos] == 0xFF

    def item(self, pos: int, depth: int) -> int:
        """Check the item at ``pos``; return the position after it."""
        major, info, arg, pos = self.head(pos)
        if major in (0, 1):
            return pos
        if major in (2, 3):
            if arg >= 0:
                if arg > len(self.data) - pos:
                    raise CoseError("CBOR string is longer than the input")
                return pos + arg
            while not self.at_break(pos):  # chunks: definite strings of the same type
                self.count(1, pos)
                chunk_major, _, size, pos = self.head(pos)
                if chunk_major != major or size < 0 or size > len(self.data) - pos:
                    raise CoseError("malformed chunk in an indefinite-length CBOR string")
                pos += size
            return pos + 1
        if major == 6:
            if arg not in self.tags:
                raise CoseError(f"CBOR tag {arg} is not accepted here")
            if depth >= self.max_depth:
                raise CoseError(f"CBOR is nested deeper than {self.max_depth} levels")
            self.count(1, pos)
            return self.item(pos, depth + 1)
        if major == 7:
            if info in (20, 21, 22, 25, 26, 27):  # false, true, null, floats
                return pos
            if info == 23 and self.undefined:
                return pos
            if info == 31:
                raise CoseError("CBOR break outside an indefinite-length item")
            raise CoseError("CBOR simple values other than false, true and null are refused")
        if depth >= self.max_depth:
            raise CoseError(f"CBOR is nested deeper than {self.max_depth} levels")
        if major == 4:
            if arg < 0:
                while not self.at_break(pos):
                    self.count(1, pos)
                    pos = self.item(pos, depth + 1)
                return pos + 1
            self.count(arg, pos)
            for _ in range(arg):
                pos = self.item(pos, depth + 1)
            return pos
        # major 5: a map
        seen: set[int | str] = set()
        if arg >= 0:
            self.count(2 * arg, pos)
        while (arg < 0 and not self.at_break(pos)) or len(seen) < arg:
            if arg < 0:
                self.count(2, pos)
            key, pos = self.key(pos)
            if key in seen:
                raise CoseError(f"CBOR map repeats the key {key!r}")
            seen.add(key)
            pos = self.item(pos, depth + 1)
        return pos + 1 if arg < 0 else pos

    def key(self, pos: int) -> tuple[int | str, int]:
        major, _, arg, after = self.head(pos)
        if major == 0:
            return arg, after
        if major == 1:
            return -1 - arg, after
        if major == 3 and arg >= 0:
            if arg > len(self.data) - after:
                raise CoseError("CBOR string is longer than the input")
            raw = self.data[after : after + arg]
            try:
                return raw.decode("utf-8"), after + arg
            except UnicodeDecodeError:
                raise CoseError("CBOR text key is not UTF-8") from None
        raise CoseError("CBOR map keys must be integers or definite-length text")


def decode_cbor(
    data: bytes,
    *,
    max_bytes: int = MAX_MESSAGE_BYTES,
    max_depth: int = MAX_DEPTH,
    max_items: int = MAX_ITEMS,
    allow_indefinite: bool = False,
    allow_tags: frozenset[int] = frozenset(),
    allow_undefined: bool = False,
) -> Any:
    """Decode one CBOR data item strictly, within the given bounds.

    Returns plain Python data: ``int``, ``float``, ``str``, ``bytes``,
    ``bool``, ``None``, ``list`` and ``dict`` (keys ``int`` or ``str``).
    Raises :class:`CoseError` for input that is not bytes, is longer than
    ``max_bytes``, is malformed or truncated, has trailing bytes, nests deeper
    than ``max_depth``, holds more than ``max_items`` items, or uses anything
    outside that plain subset (tags, indefinite lengths, ``undefined``, other
    simple values, non-integer non-text map keys, duplicate keys, invalid UTF-8).
    Indefinite-length strings, arrays and maps are refused unless
    ``allow_indefinite`` is true (COSE messages never need them). Tags are
    refused unless listed in ``allow_tags``; an allowed tag counts as one item
    and one level of nesting, and ``cbor2`` decodes it (its semantic decoders
    for dates, else a :class:`cbor2.CBORTag`). ``undefined`` is refused
    unless ``allow_undefined`` (it then decodes as ``cbor2.undefined``).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CoseError(f"CBOR input must be bytes, not {type(data).__name__}")
    raw = bytes(data)
    if len(raw) > max_bytes:
        raise CoseError(f"CBOR input is longer than {max_bytes} bytes")
    scan = _Scan(
        raw, max_depth, max_items, allow_indefinite, frozenset(allow_tags), allow_undefined
    )
    end = scan.item(0, 0)
    if end != len(raw):
        raise CoseError("trailing bytes after the CBOR item")
    # The walk above already enforced depth, lengths and duplicate keys, so
    # no decoder option is needed (the ones cbor2 6 offers for them are
    # missing from the cbor2 5.x our dependency range allows).
    try:
        return cbor2.loads(raw)
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise CoseError(f"invalid CBOR: {exc}") from exc


def _strip_tags(data: bytes) -> bytes:
    """Remove an optional leading tag 61 (CWT) and then an optional tag 18 (COSE_Sign1)."""
    scan = _Scan(data, 0, 0, False)
    pos = 0
    for allowed in (TAG_CWT, TAG_COSE_SIGN1):
        if pos < len(data) and data[pos] >> 5 == 6:
            _, _, tag, after = scan.head(pos)
            if tag == allowed:
                pos = after
            elif tag != TAG_COSE_SIGN1:
                raise CoseError(f"CBOR tag {tag} is not a COSE_Sign1 or CWT tag")
    return data[pos:]


# -- COSE_Sign1 -------------------------------------------------------------------------


def sig_structure(protected: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """The encoded ``Sig_structure`` for COSE_Sign1 (RFC 9052 Section 4.4): what is signed."""
    return cbor2.dumps(["Signature1", bytes(protected), bytes(external_aad), bytes(payload)])


def _header_map(value: Any, where: str) -> dict[int | str, Any]:
    if not isinstance(value, dict):
        raise CoseError(f"the {where} header must be a map")
    return value


def _check_headers(
    protected: Mapping[int | str, Any], unprotected: Mapping[int | str, Any]
) -> None:
    both = set(protected) & set(unprotected)
    if both - {HEADER_KID}:
        raise CoseError(f"header labels {sorted(map(str, both))} are both protected and not")
    if HEADER_CRIT in unprotected:
        raise CoseError("'crit' must be a protected header")
    for header in (protected, unprotected):
        alg = header.get(HEADER_ALG)
        if HEADER_ALG in header and (isinstance(alg, bool) or not isinstance(alg, int | str)):
            raise CoseError("'alg' must be an integer or text")
        if HEADER_KID in header and not isinstance(header[HEADER_KID], bytes):
            raise CoseError("'kid' must be a byte string")
        cty = header.get(HEADER_CONTENT_TYPE)
        if HEADER_CONTENT_TYPE in header and not (
            isinstance(cty, str)
            or (isinstance(cty, int) and not isinstance(cty, bool) and cty >= 0)
        ):
            raise CoseError("'content type' must be an unsigned integer or text")
    if HEADER_CRIT in protected:
        crit = protected[HEADER_CRIT]
        if not isinstance(crit, list) or not crit:
            raise CoseError("'crit' must be a non-empty array of labels")
        for label in crit:
            if label not in protected:
                raise CoseError(f"'crit' names {label!r}, which the protected header lacks")
            if label not in _UNDERSTOOD:
                raise CoseError(f"'crit' names the header {label!r}, which we do not understand")


@dataclass(frozen=True, slots=True)
class CoseSign1:
    """A parsed, *unverified* COSE_Sign1 message.

    ``protected_bytes`` are the signed header bytes exactly as received
    (they enter the ``Sig_structure`` as they are); ``protected`` is their
    decoded map; ``unprotected`` the unsigned map; ``payload`` and
    ``signature`` the raw byte strings. Build one with :meth:`parse` or
    :meth:`sign`; check it with :meth:`verify`.
    """

    protected_bytes: bytes
    protected: Mapping[int | str, Any]
    unprotected: Mapping[int | str, Any]
    payload: bytes
    signature: bytes

    @classmethod
    def parse(
        cls,
        data: bytes,
        *,
        max_bytes: int = MAX_MESSAGE_BYTES,
        max_depth: int = MAX_DEPTH,
        max_items: int = MAX_ITEMS,
    ) -> CoseSign1:
        """Parse a COSE_Sign1 message, tagged (18, optionally inside CWT tag 61) or untagged.

        Raises :class:`CoseError` for anything that is not a well-formed
        COSE_Sign1 within the bounds (see :func:`decode_cbor`), for header
        parameters of the wrong type, labels repeated across the buckets
        (except ``kid``), an unprotected or unknown ``crit`` entry, and a
        detached (``nil``) payload, which barcodes never use.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise CoseError(f"a COSE message must be bytes, not {type(data).__name__}")
        raw = bytes(data)
        if len(raw) > max_bytes:
            raise CoseError(f"COSE message is longer than {max_bytes} bytes")

        def strict(item: bytes) -> Any:
            return decode_cbor(item, max_bytes=max_bytes, max_depth=max_depth, max_items=max_items)

        message = strict(_strip_tags(raw))
        if not isinstance(message, list) or len(message) != 4:
            raise CoseError("a COSE_Sign1 message is an array of four items")
        protected_bytes, unprotected, payload, signature = message
        if not isinstance(protected_bytes, bytes):
            raise CoseError("the protected header must be a byte string")
        protected = _header_map(strict(protected_bytes), "protected") if protected_bytes else {}
        unprotected = _header_map(unprotected, "unprotected")
        if payload is None:
            raise CoseError("detached payloads are not supported")
        if not isinstance(payload, bytes):
            raise CoseError("the payload must be a byte string")
        if not isinstance(signature, bytes):
            raise CoseError("the signature must be a byte string")
        _check_headers(protected, unprotected)
        return cls(protected_bytes, protected, unprotected, payload, signature)

    @classmethod
    def sign(
        cls,
        payload: bytes,
        key: PrivateKey,
        *,
        kid: bytes | None = None,
        kid_protected: bool = True,
        content_type: int | str | None = None,
        external_aad: bytes = b"",
    ) -> CoseSign1:
        """Sign ``payload`` with ``key``; ``alg`` (from the key type) goes in the protected header.

        ``kid``, when given, goes in the protected header (or, with
        ``kid_protected=False``, the unprotected one). Raises
        :class:`~did_methods.errors.UnsupportedError` for a key that cannot sign
        and :class:`TypeError` for non-bytes ``payload``/``kid``.
        """
        if not isinstance(payload, bytes):
            raise TypeError("the payload must be bytes")
        if kid is not None and not isinstance(kid, bytes):
            raise TypeError("kid must be bytes")
        alg = _ALG_OF_KEY_TYPE.get(key.key_type)
        if alg is None:
            raise UnsupportedError(f"{key.key_type.value} keys cannot sign COSE messages")
        protected: dict[int | str, Any] = {HEADER_ALG: alg}
        unprotected: dict[int | str, Any] = {}
        if content_type is not None:
            protected[HEADER_CONTENT_TYPE] = content_type
        if kid is not None:
            (protected if kid_protected else unprotected)[HEADER_KID] = kid
        protected_bytes = cbor2.dumps(protected, canonical=True)
        signature = key.sign(sig_structure(protected_bytes, payload, external_aad))
        return cls(protected_bytes, protected, unprotected, payload, signature)

    @property
    def alg(self) -> int | str | None:
        """The ``alg`` header (protected first), or None when neither header has one."""
        value = self.protected.get(HEADER_ALG, self.unprotected.get(HEADER_ALG))
        return value if isinstance(value, int | str) else None

    @property
    def kid(self) -> bytes | None:
        """The key identifier: the protected ``kid`` if present, else the unprotected one."""
        value = self.protected.get(HEADER_KID, self.unprotected.get(HEADER_KID))
        return value if isinstance(value, bytes) else None

    def to_be_signed(self, external_aad: bytes = b"") -> bytes:
        """The bytes the signature covers: the encoded ``Sig_structure``."""
        return sig_structure(self.protected_bytes, self.payload, external_aad)

    def encode(self, *, tag: bool = True) -> bytes:
        """Encode the message as CBOR, under tag 18 unless ``tag`` is False."""
        body = [self.protected_bytes, dict(self.unprotected), self.payload, self.signature]
        return cbor2.dumps(cbor2.CBORTag(TAG_COSE_SIGN1, body) if tag else body)

    def verify(
        self,
        key: PublicKey,
        *,
        external_aad: bytes = b"",
        algorithms: frozenset[int] = DEFAULT_ALGORITHMS,
    ) -> bytes:
        """Check the signature with ``key``; return the payload or raise.

        The algorithm is checked against ``algorithms`` and against the key
        type before any cryptography runs. Raises
        :class:`~did_methods.errors.VerificationError` with code
        ``alg_not_allowed`` (missing or not allow-listed ``alg``),
        ``key_type_mismatch`` (``alg`` needs another key type) or
        ``signature_invalid``.
        """
        alg = self.alg
        if not isinstance(alg, int) or alg not in algorithms or alg not in _KEY_TYPE_OF_ALG:
            raise VerificationError("alg_not_allowed", f"COSE algorithm {alg!r} is not allowed")
        if _KEY_TYPE_OF_ALG[alg] is not key.key_type:
            raise VerificationError(
                "key_type_mismatch",
                f"COSE algorithm {alg} needs a {_KEY_TYPE_OF_ALG[alg].value} key, "
                f"not {key.key_type.value}",
            )
        key.verify(self.signature, self.to_be_signed(external_aad))
        return self.payload
