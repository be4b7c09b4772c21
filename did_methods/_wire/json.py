"""The one strict, bounded JSON reader that every package and the command line use.

Signed data and files from outside must read one way only, and must not cost
more than their size, so :func:`loads` refuses:

* input over ``max_bytes`` (UTF-8 bytes), checked before any decoding
  (``json_too_large``) and nesting deeper than ``max_depth`` (``json_too_deep``),
  both as :class:`~did_methods.errors.InputTooLargeError`; nesting far beyond the
  bound never reaches Python's recursion limit as a ``RecursionError``;
* an object naming a member twice (:class:`~did_methods.errors.DuplicateKeyError`);
* bytes that are not UTF-8, a byte-order mark, and lone surrogates, raw or
  escaped (``json_encoding``, ``json_lone_surrogate``);
* ``NaN``, ``Infinity`` and numbers beyond the IEEE-754 double range such as
  ``1e400`` (``json_number``): what a caller reads is always finite;
* anything else RFC 8259 forbids (``json_syntax``).

Numbers are read as I-JSON (RFC 7493) and RFC 8785 read them: integers within
``+-(2**53 - 1)`` stay exact ``int``; longer integer literals become the nearest
``float`` (so a 5000-digit integer costs nothing and is bounded by the double
range). Every error is a :class:`~did_methods.errors.JSONError` (a
``ParseError``, so also a ``ValueError``) with a stable ``code``; callers that
raise a more specific error wrap it (``raise RecordError(...) from exc``).

The common case stays fast: the C scanner reads the text, and the walk for
depth and escaped surrogates runs only when a cheap scan of the text shows it
could matter.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any, Final

from did_methods.errors import DuplicateKeyError, InputTooLargeError, JSONError

__all__ = ["MAX_DEPTH", "MAX_JSON_BYTES", "MAX_SAFE_INT", "loads", "loads_object"]

#: Default bound on the JSON text one call reads (bytes of UTF-8): 4 MiB.
MAX_JSON_BYTES: Final = 4 * 1024 * 1024
#: Default bound on the nesting of arrays and objects.
MAX_DEPTH: Final = 64
#: Largest integer magnitude read exactly (I-JSON); larger literals read as doubles.
MAX_SAFE_INT: Final = 2**53 - 1


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKeyError(key)
            seen.add(key)
    return obj


def _constant(name: str) -> Any:
    raise JSONError(f"{name} is not a JSON number", "json_number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONError(f"number {text[:40]} is beyond the IEEE-754 double range", "json_number")
    return value


def _int(text: str) -> int | float:
    if len(text) < 16:  # below 10**15 < 2**53
        return int(text)
    if len(text) <= 17:
        value = int(text)
        if -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            return value
    return _float(text)


# The hooks cost a Python call per number (as little as any pre-scan of the
# text for risky numbers costs), and keep every number finite and I-JSON.
_DECODER = json.JSONDecoder(
    object_pairs_hook=_pairs, parse_constant=_constant, parse_int=_int, parse_float=_float
)
# An escaped UTF-16 surrogate: only then can ASCII text decode to a lone surrogate.
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_SPACE = " \t\n\r"


def _scanner(decoder: json.JSONDecoder) -> Callable[[str, int], tuple[Any, int]]:
    # the decoder's C scanner (set up by JSONDecoder, undeclared in typeshed)
    return getattr(decoder, "scan_once")  # type: ignore[no-any-return]  # noqa: B009


_SCAN = _scanner(_DECODER)


def _text(data: str | bytes | bytearray, what: str, max_bytes: int) -> str:
    if isinstance(data, bytes | bytearray):
        if len(data) > max_bytes:
            raise InputTooLargeError(f"{what} is longer than {max_bytes} bytes")
        try:
            return bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONError(f"{what} is not UTF-8 (byte {exc.start})", "json_encoding") from exc
    if isinstance(data, str):
        if len(data) > max_bytes:
            raise InputTooLargeError(f"{what} is longer than {max_bytes} bytes")
        if not data.isascii():
            try:
                size = len(data.encode("utf-8"))
            except UnicodeEncodeError as exc:
                raise JSONError(f"{what} holds a lone surrogate", "json_lone_surrogate") from exc
            if size > max_bytes:
                raise InputTooLargeError(f"{what} is longer than {max_bytes} bytes")
        return str(data)
    raise JSONError(f"{what} must be text or bytes, not {type(data).__name__}", "json_type")


def _walk(root: Any, what: str, max_depth: int, depth: bool, strings: bool) -> None:
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            if depth and level >= max_depth:
                raise InputTooLargeError(f"{what} nests deeper than {max_depth}", "json_too_deep")
            if strings:
                for key in node:
                    _check_string(key, what)
            stack.extend((v, level + 1) for v in node.values())
        elif isinstance(node, list):
            if depth and level >= max_depth:
                raise InputTooLargeError(f"{what} nests deeper than {max_depth}", "json_too_deep")
            stack.extend((v, level + 1) for v in node)
        elif strings and isinstance(node, str):
            _check_string(node, what)


def _check_string(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise JSONError(f"{what} holds a lone surrogate escape", "json_lone_surrogate") from exc


def loads(
    data: str | bytes | bytearray,
    *,
    what: str = "JSON text",
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """Parse one JSON text strictly and within bounds; see the module docstring.

    ``what`` names the input in error messages ("key file", "JWS header").
    Raises :class:`~did_methods.errors.InputTooLargeError` (``json_too_large``,
    ``json_too_deep``), :class:`~did_methods.errors.DuplicateKeyError` or
    :class:`~did_methods.errors.JSONError`; never a ``json``, ``Unicode*`` or
    ``RecursionError``.
    """
    text = _text(data, what, max_bytes)
    if text[:1] == "\ufeff":
        raise JSONError(f"{what} must not start with a byte-order mark", "json_encoding")
    try:
        start = 0 if text[:1] not in _SPACE else len(text) - len(text.lstrip(_SPACE))
        value, end = _SCAN(text, start)
        if end != len(text) and text[end:].lstrip(_SPACE):
            raise JSONError(f"{what} is not valid JSON: extra data at {end}")
    except JSONError:
        raise
    except StopIteration as exc:
        raise JSONError(f"{what} is not valid JSON: expecting a value at {exc.value}") from None
    except json.JSONDecodeError as exc:
        raise JSONError(f"{what} is not valid JSON: {exc.msg} (position {exc.pos})") from None
    except RecursionError:
        raise InputTooLargeError(f"{what} nests deeper than {max_depth}", "json_too_deep") from None
    except (ValueError, OverflowError) as exc:  # pragma: no cover - the hooks bound numbers
        raise JSONError(f"{what} holds an invalid number: {exc}", "json_number") from None
    depth = text.count("[") + text.count("{") > max_depth
    strings = _ESCAPED_SURROGATE.search(text) is not None
    if depth or strings:
        _walk(value, what, max_depth, depth, strings)
    return value


def loads_object(
    data: str | bytes | bytearray,
    *,
    what: str = "JSON text",
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_DEPTH,
) -> dict[str, Any]:
    """:func:`loads`, and the value must be a JSON object (``json_type`` otherwise)."""
    value = loads(data, what=what, max_bytes=max_bytes, max_depth=max_depth)
    if not isinstance(value, dict):
        raise JSONError(f"{what} must be a JSON object", "json_type")
    return value
