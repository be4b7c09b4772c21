"""Strict byte/text encodings used across the standards: base64url and multibase.

Every decoder here is strict: it accepts exactly one spelling of a value (no
padding, no whitespace, no non-canonical trailing bits), so that
``decode(encode(x)) == x`` *and* ``encode(decode(s)) == s``. Inputs are bounded
in length before any decoding work (base58 decoding is quadratic).

:func:`b64url_encode` and :func:`b64url_decode` are the kernel's
(:mod:`did_methods._wire.b64`), re-exported here as public API.
"""

from __future__ import annotations

import functools
import re

from did_methods._wire.b64 import b64url_decode, b64url_encode
from did_methods.errors import ParseError

__all__ = [
    "MAX_MULTIBASE_LENGTH",
    "b64url_decode",
    "b64url_encode",
    "base58btc_decode",
    "base58btc_encode",
    "multibase_decode",
    "multibase_encode",
    "varint_decode",
    "varint_encode",
]

_B58_RE = re.compile(r"[1-9A-HJ-NP-Za-km-z]*")

#: Longest multibase string we decode (base58 decoding is O(n^2)); large enough
#: for any key or signature we use (an RSA-4096 key would not fit, by design).
MAX_MULTIBASE_LENGTH = 4096


_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
# Signatures and keys are encoded on hot paths (Data Integrity proofValue, did:key),
# so digits go ten at a time: one big-integer division per 58**10, then table
# lookups of digit pairs, instead of one big-integer division per digit; decoding
# merges all digits in a few whole-integer steps (see _merge_levels).
_PAIRS = tuple(a + b for a in _B58_ALPHABET for b in _B58_ALPHABET)
_B58_DIGITS = bytes.maketrans(_B58_ALPHABET.encode("ascii"), bytes(range(58)))
_CHUNK = 58**10
_PAIR = 58**2


@functools.lru_cache(maxsize=16)
def _merge_levels(size: int) -> tuple[tuple[int, int, int], ...]:
    """The lane merges that turn ``size`` base58 digits, one per byte, into their value.

    Lanes of ``width`` bits hold the value of ``width // 8`` consecutive
    digits; a level merges lane pairs into lanes twice as wide. A merged
    lane's value is below ``58**(2 * width // 8)``, which fits in ``2 *
    width`` bits because 58 < 256, and the multiplication by ``weight`` =
    ``58**(width // 8)`` of a masked lane never reaches the next lane
    (masked lanes alternate with empty ones), so the lanes never interfere.
    ``size`` is a power of two (digit counts are rounded up to one: missing
    digits in front count as zeros), so at most log2(MAX_MULTIBASE_LENGTH) + 1
    entries are ever cached.
    """
    levels = []
    width, weight = 8, 58
    while width < 8 * size:
        lane = b"\0" * (width // 8) + b"\xff" * (width // 8)
        levels.append((width, int.from_bytes(lane * (size * 8 // (2 * width)), "big"), weight))
        width, weight = width * 2, weight * weight
    return tuple(levels)


def base58btc_encode(data: bytes) -> str:
    """Encode bytes in the Bitcoin base58 alphabet (no multibase prefix)."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    n = int.from_bytes(data, "big")
    chunks: list[str] = []
    while n:
        n, chunk = divmod(n, _CHUNK)
        c4, p4 = divmod(chunk, _PAIR)
        c3, p3 = divmod(c4, _PAIR)
        c2, p2 = divmod(c3, _PAIR)
        p0, p1 = divmod(c2, _PAIR)
        chunks.append(_PAIRS[p0] + _PAIRS[p1] + _PAIRS[p2] + _PAIRS[p3] + _PAIRS[p4])
    digits = "".join(reversed(chunks)).lstrip("1")
    return "1" * zeros + digits


def base58btc_decode(text: str) -> bytes:
    """Decode Bitcoin-alphabet base58 text (no multibase prefix), bounded in length."""
    if not isinstance(text, str):
        raise ParseError(f"base58 value must be a string, not {type(text).__name__}")
    if len(text) > MAX_MULTIBASE_LENGTH:
        raise ParseError(f"base58 value is longer than {MAX_MULTIBASE_LENGTH} characters")
    if not _B58_RE.fullmatch(text):
        raise ParseError("base58 value has characters outside the base58btc alphabet")
    digits = text.encode("ascii").translate(_B58_DIGITS)
    # All digits at once (see _merge_levels): the digit bytes read as one big
    # integer are 8-bit lanes; each level merges neighbouring lanes pairwise
    # (high * 58**k + low) with a shift, two masks, a multiplication and an
    # addition on the whole integer, so the work is a handful of big-integer
    # operations per doubling instead of Python arithmetic per digit.
    n = int.from_bytes(digits, "big")
    for width, mask, weight in _merge_levels(1 << max(len(digits) - 1, 0).bit_length()):
        n = ((n >> width) & mask) * weight + (n & mask)
    zeros = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * zeros + body


def multibase_encode(data: bytes) -> str:
    """Encode bytes as a multibase base58btc string (prefix ``z``)."""
    return "z" + base58btc_encode(data)


def multibase_decode(text: str) -> bytes:
    """Decode a multibase string; only base58btc (``z``) is accepted.

    Raises :class:`ParseError` for any other base, bad characters or an
    over-long value.
    """
    if not isinstance(text, str) or not text:
        raise ParseError("multibase value must be a non-empty string")
    if text[0] != "z":
        raise ParseError(f"unsupported multibase prefix {text[0]!r}: only base58btc 'z'")
    return base58btc_decode(text[1:])


def varint_encode(value: int) -> bytes:
    """Unsigned LEB128 varint, as multicodec uses it."""
    if value < 0:
        raise ValueError("varint must be non-negative")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def varint_decode(data: bytes) -> tuple[int, int]:
    """Decode a minimal unsigned varint (at most 9 bytes) at the start of ``data``.

    Returns ``(value, length_in_bytes)``; raises :class:`ParseError` when the
    varint is truncated, over-long or not minimally encoded.
    """
    value = 0
    for i, byte in enumerate(data[:9]):
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if i > 0 and byte == 0:
                raise ParseError("varint is not minimally encoded")
            return value, i + 1
    raise ParseError("truncated or over-long varint")
