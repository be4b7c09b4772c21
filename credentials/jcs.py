"""RFC 8785 JSON Canonicalization Scheme (JCS) and a strict JSON reader.

The public names of the library's one JCS, which lives in the private kernel
(:mod:`did_methods._wire.jcs`, so that ``ledger`` uses the same function
without importing ``credentials``): :func:`canonicalize` and
:func:`format_number` here *are* the kernel's functions.

:func:`canonicalize` turns a JSON value (``dict``/``list``/``tuple``/``str``/
``int``/``float``/``bool``/``None``) into the one byte string RFC 8785 allows:
no whitespace, object members sorted by the UTF-16 code units of their names,
strings escaped minimally, numbers written as ECMAScript writes a double.

Two paths produce the same bytes (a fast one through the standard library's C
encoder, taken only when its output is already canonical, and an exact one);
the kernel module says how.

:func:`loads_strict` reads JSON text the way signed data must be read: one
spelling per document, so duplicate member names, ``NaN``/``Infinity``, lone
surrogates, a byte-order mark and non-UTF-8 bytes are refused, and size and
nesting are bounded before they can cost anything.
"""

from __future__ import annotations

from typing import Any

from did_methods._wire.jcs import MAX_DEPTH, canonicalize, format_number
from did_methods._wire.json import loads

__all__ = [
    "MAX_DEPTH",
    "MAX_JSON_BYTES",
    "canonicalize",
    "format_number",
    "loads_strict",
]

#: Default bound on JSON text given to :func:`loads_strict` (bytes of UTF-8).
MAX_JSON_BYTES = 4 * 1024 * 1024


def loads_strict(
    data: str | bytes | bytearray,
    *,
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """Parse one JSON text strictly (RFC 8259 with I-JSON's restrictions).

    The library's one reader (:func:`did_methods._wire.json.loads`) with this
    module's bounds. Bytes must be UTF-8 without a byte-order mark. Raises
    :class:`InputTooLargeError` when the text exceeds ``max_bytes`` (UTF-8
    bytes) or nests deeper than ``max_depth``; :class:`DuplicateKeyError` for a
    repeated object member; :class:`JSONError` for any other syntax or encoding
    error, ``NaN``/``Infinity``, numbers that overflow a double, and lone
    surrogates (raw or escaped). All are :class:`~credentials.errors.ParseError`.

    Integers within +-(2**53 - 1) are returned as ``int``; larger integer
    literals are read as the nearest ``float``, as RFC 8785 reads every number.
    """
    return loads(data, max_bytes=max_bytes, max_depth=max_depth)
