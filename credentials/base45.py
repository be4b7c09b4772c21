"""Base45 (RFC 9285): bytes as text in the QR code alphanumeric alphabet.

Base45 writes every two bytes as three characters of the 45-character QR
alphanumeric set (``0-9``, ``A-Z``, space and ``$%*+-./:``), so a QR code can
hold the result in its dense alphanumeric mode. A trailing single byte
becomes two characters.

:func:`decode` is strict, as RFC 9285 Section 6 requires: it refuses any
character outside the alphabet (lower case included), a string whose length
leaves one character over, and any group whose value is too large for its
bytes (``GGW`` is 65536). Every valid string therefore decodes to exactly
one byte string, and :func:`encode` gives that string back.
"""

from __future__ import annotations

from typing import Final

from did_methods.errors import ParseError

__all__ = ["ALPHABET", "MAX_TEXT_LENGTH", "Base45Error", "decode", "encode"]

#: The 45 characters in value order (RFC 9285 Section 4.2).
ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

#: The default bound on the text :func:`decode` accepts: a QR code holds at
#: most 4296 alphanumeric characters, so this leaves room for several.
MAX_TEXT_LENGTH: Final = 65_536

_VALUE: Final = {c: i for i, c in enumerate(ALPHABET)}


class Base45Error(ParseError):
    """Text that is not valid base45: a foreign character, a bad length or value, or too long."""


def encode(data: bytes) -> str:
    """Encode ``data`` as base45 (RFC 9285 Section 4).

    Raises :class:`TypeError` when ``data`` is not bytes-like.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("base45 encodes bytes")
    raw = bytes(data)
    out: list[str] = []
    for i in range(0, len(raw) - 1, 2):
        n = raw[i] * 256 + raw[i + 1]
        c, n = n % 45, n // 45
        d, e = n % 45, n // 45
        out += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if len(raw) % 2:
        c, d = divmod(raw[-1], 45)
        out += (ALPHABET[d], ALPHABET[c])
    return "".join(out)


def decode(text: str, *, max_length: int = MAX_TEXT_LENGTH) -> bytes:
    """Decode base45 ``text`` (RFC 9285 Section 4.4); the inverse of :func:`encode`.

    Raises :class:`Base45Error` for a non-string, text longer than
    ``max_length`` characters, a character outside :data:`ALPHABET`, a length
    of the form ``3n + 1``, or a group whose value does not fit its bytes
    (a triplet above 65535, a final pair above 255).
    """
    if not isinstance(text, str):
        raise Base45Error(f"base45 input must be text, not {type(text).__name__}")
    if len(text) > max_length:
        raise Base45Error(f"base45 text is longer than {max_length} characters")
    if len(text) % 3 == 1:
        raise Base45Error(f"base45 text of length {len(text)} leaves one character over")
    try:
        values = [_VALUE[ch] for ch in text]
    except KeyError as exc:
        raise Base45Error(f"character {exc.args[0]!r} is not in the base45 alphabet") from None
    out = bytearray()
    for i in range(0, len(values), 3):
        group = values[i : i + 3]
        if len(group) == 3:
            n = group[0] + group[1] * 45 + group[2] * 2025
            if n > 0xFFFF:
                raise Base45Error(f"base45 group at {i} has value {n} > 65535")
            out += n.to_bytes(2, "big")
        else:
            n = group[0] + group[1] * 45
            if n > 0xFF:
                raise Base45Error(f"final base45 pair has value {n} > 255")
            out.append(n)
    return bytes(out)
