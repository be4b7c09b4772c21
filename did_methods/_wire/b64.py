"""The one base64url and base64 codec (RFC 4648) every package uses; strict on input.

Signed data must read one way only, so each decoder accepts exactly one spelling
of a value, and ``encode(decode(s)) == s`` as well as ``decode(encode(x)) == x``:

* :func:`b64url_decode`: unpadded base64url (RFC 4648 section 5, as JOSE, SD-JWT,
  JWK and multibase ``u`` use it): no padding, no whitespace, nothing outside
  the alphabet, no impossible length, no non-zero trailing bits;
* :func:`b64_decode`: padded standard base64 (RFC 4648 section 4, as C2SP
  checkpoints, signed notes and Merkle proofs use it): padding exactly where
  the length needs it, no whitespace, nothing outside the alphabet, no
  non-zero trailing bits.

Both raise :class:`~did_methods.errors.ParseError` (stable messages); callers
with a more specific error wrap it. Neither is lenient: where a standard asks
for lenient decoding, the caller says so by name at that place.

Canonicity is checked on the last character alone (the only one that can carry
unused bits), so decoding costs one C call and no re-encoding.
"""

from __future__ import annotations

import binascii

from did_methods.errors import ParseError

__all__ = ["b64_decode", "b64_encode", "b64url_bytes", "b64url_decode", "b64url_encode"]

_b2a = binascii.b2a_base64
_TO_URL = bytes.maketrans(b"+/", b"-_")
_FROM_URL = bytes.maketrans(b"-_", b"+/")
# Last characters whose unused low bits are zero: the only canonical endings
# when the data length is 2 (4 unused bits) or 3 (2 unused bits) modulo 4.
_CANONICAL_LAST = {2: frozenset("AQgw"), 3: frozenset("AEIMQUYcgkosw048")}


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url (RFC 4648 section 5) of ``data``."""
    return _b2a(data, newline=False).translate(_TO_URL).rstrip(b"=").decode("ascii")


def b64url_bytes(data: bytes) -> bytes:
    """:func:`b64url_encode` as ASCII bytes, for callers that hash the encoding."""
    return _b2a(data, newline=False).translate(_TO_URL).rstrip(b"=")


def b64url_decode(text: str, *, max_length: int | None = None) -> bytes:
    """Decode unpadded base64url strictly.

    Raises :class:`ParseError` for a non-string, text longer than
    ``max_length`` characters, padding, characters outside the alphabet, an
    impossible length, or non-zero trailing bits.
    """
    if not isinstance(text, str):
        raise ParseError(f"base64url value must be a string, not {type(text).__name__}")
    if max_length is not None and len(text) > max_length:
        raise ParseError(f"base64url value is longer than {max_length} characters")
    # Characters of the other base64 alphabet and padding must not slip through
    # the translation below; strict_mode refuses everything else.
    if not text.isascii() or "+" in text or "/" in text or "=" in text:
        raise ParseError("base64url value has characters outside the base64url alphabet")
    rest = len(text) % 4
    if rest == 1:
        raise ParseError("base64url value has an impossible length")
    if rest and text[-1] not in _CANONICAL_LAST[rest]:
        raise ParseError("base64url value has non-zero trailing bits (non-canonical)")
    try:
        return binascii.a2b_base64(
            text.encode("ascii").translate(_FROM_URL) + b"=" * (-rest % 4), strict_mode=True
        )
    except binascii.Error as exc:
        raise ParseError("base64url value has characters outside the base64url alphabet") from exc


def b64_encode(data: bytes) -> str:
    """Padded standard base64 (RFC 4648 section 4) of ``data``."""
    return _b2a(data, newline=False).decode("ascii")


def b64_decode(text: str, *, max_length: int | None = None) -> bytes:
    """Decode padded standard base64 strictly.

    Raises :class:`ParseError` for a non-string, text longer than
    ``max_length`` characters, characters outside the alphabet (whitespace
    included), missing or misplaced padding (``not standard base64``), or
    non-zero trailing bits (``not canonical base64``).
    """
    if not isinstance(text, str):
        raise ParseError(f"base64 value must be a string, not {type(text).__name__}")
    if max_length is not None and len(text) > max_length:
        raise ParseError(f"base64 value is longer than {max_length} characters")
    if not text.isascii() or len(text) % 4:
        raise ParseError("not standard base64")
    try:
        raw = binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error as exc:
        raise ParseError("not standard base64") from exc
    pad = 2 if text.endswith("==") else 1 if text.endswith("=") else 0
    if pad and text[-1 - pad] not in _CANONICAL_LAST[4 - pad]:
        raise ParseError("not canonical base64")
    return raw
