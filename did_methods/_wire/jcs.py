"""The one RFC 8785 JSON Canonicalization Scheme (JCS) every package uses.

:func:`canonicalize` turns a JSON value (``dict``/``list``/``tuple``/``str``/
``int``/``float``/``bool``/``None``) into the one byte string RFC 8785 allows:
no whitespace, object members sorted by the UTF-16 code units of their names,
strings escaped minimally, numbers written as ECMAScript writes a double.
``credentials.jcs`` re-exports it as public API; the vault
(``ledger.vault._canonical``) calls it with ``safe_integers=True`` and its own
depth and size bounds.

Two paths produce the same bytes:

* a *fast path* hands the value to the standard library's C JSON encoder. It is
  taken only after one scan has shown that the encoder's output is already
  canonical: every key sorts the same by code point as by UTF-16 code unit
  (no key holds a character at or above U+E000), and every float prints the
  same under Python's ``repr`` as under ECMAScript (non-integral and between
  1e-4 and 1e16);
* an *exact path* writes everything itself (including the ECMAScript number
  formatter) and handles whatever the fast path declines.

The test suite checks the two against each other and against the ``rfc8785``
package and the published JCS vectors. Errors are
:class:`~did_methods.errors.CanonicalizationError`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from did_methods._wire.json import MAX_SAFE_INT
from did_methods.errors import CanonicalizationError

__all__ = ["MAX_DEPTH", "canonicalize", "format_number"]

#: Deepest nesting of arrays and objects that we canonicalise or parse.
MAX_DEPTH = 256

# I-JSON (RFC 7493) and RFC 8785: numbers are IEEE-754 doubles, so integers
# beyond 2**53 - 1 would silently lose precision in every other implementation.
_MAX_SAFE_INT = MAX_SAFE_INT

_encode_string = json.encoder.encode_basestring  # JCS string escaping == stdlib's, non-ASCII kept


def _refuse(value: Any) -> Any:
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _make_fast_encoder() -> Callable[[Any], str]:
    # The C encoder built once (json.dumps builds one per call); pure-Python
    # interpreters without it get the equivalent JSONEncoder.
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is not None:
        native = make(None, _refuse, _encode_string, None, ":", ",", True, False, False)

        def encode(value: Any) -> str:
            return "".join(native(value, 0))

        return encode
    return json.JSONEncoder(  # pragma: no cover - CPython always has the C encoder
        ensure_ascii=False,
        allow_nan=False,
        check_circular=False,
        sort_keys=True,
        separators=(",", ":"),
        default=_refuse,
    ).encode


_fast_encode = _make_fast_encoder()


# --------------------------------------------------------------------------------
# numbers


def format_number(value: float | int, *, safe_integers: bool = False) -> str:
    """Serialise a number as ECMAScript ``Number.prototype.toString`` does (RFC 8785 3.2.2.3).

    The digits are the shortest that round-trip to the same double; fixed
    notation is used for magnitudes in [1e-6, 1e21), exponent notation
    (``1e+21``, ``1.5e-7``) otherwise; ``-0`` is written ``0``. Raises
    :class:`CanonicalizationError` for NaN, infinities and integers outside
    +-(2**53 - 1). With ``safe_integers``, also for an integral float beyond
    +-(2**53 - 1) and below 1e21: written without an exponent, it would read back
    as an integer outside the I-JSON range (the vault's records refuse it).
    """
    if type(value) is int or (isinstance(value, int) and not isinstance(value, bool)):
        if -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
            return int.__repr__(int(value))
        raise CanonicalizationError(f"integer {value} is outside the IEEE-754 safe range")
    if not isinstance(value, float):
        raise CanonicalizationError(f"not a number: {type(value).__name__}")
    if not math.isfinite(value):
        raise CanonicalizationError(f"{value!r} is not a JSON number")
    if value == 0.0:
        return "0"
    if safe_integers and _MAX_SAFE_INT < abs(value) < 1e21 and value.is_integer():
        raise CanonicalizationError("integral numbers must be within +-(2**53 - 1) (I-JSON)")
    # Python's repr gives the shortest round-tripping digits (closest on ties),
    # the same digits ECMAScript requires; only the layout differs.
    text = float.__repr__(value)  # not repr(): a subclass may override it
    sign = ""
    if text[0] == "-":
        sign, text = "-", text[1:]
    mantissa, _, exp_text = text.partition("e")
    exponent = int(exp_text) if exp_text else 0
    int_part, _, frac_part = mantissa.partition(".")
    if int_part == "0":
        stripped = frac_part.lstrip("0")
        point = exponent - (len(frac_part) - len(stripped))
        digits = stripped
    else:
        point = len(int_part) + exponent
        digits = int_part + frac_part
    digits = digits.rstrip("0")
    # value = 0.<digits> * 10**point, i.e. ECMAScript's k = len(digits), n = point
    k, n = len(digits), point
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        exp_out = f"e+{e}" if e >= 0 else f"e-{-e}"
        out = (digits if k == 1 else digits[0] + "." + digits[1:]) + exp_out
    return sign + out


def _float_is_fast(value: float) -> bool:
    """True when ``repr(value)`` is already the ECMAScript spelling."""
    magnitude = abs(value)
    return 1e-4 <= magnitude < 1e16 and not value.is_integer()


# --------------------------------------------------------------------------------
# canonicalisation


def canonicalize(value: Any, *, max_depth: int = MAX_DEPTH, safe_integers: bool = False) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of a JSON value.

    Accepts ``dict`` (or any ``Mapping``) with ``str`` keys, ``list``/``tuple``,
    ``str``, ``int`` (within +-(2**53 - 1)), finite ``float``, ``bool`` and
    ``None``. Raises :class:`CanonicalizationError` for anything else, for
    NaN/infinities, lone surrogates, non-string keys, and nesting deeper than
    ``max_depth`` (which also stops reference cycles). ``safe_integers`` also
    refuses an integral float that would print as an unsafe integer (see
    :func:`format_number`); the fast path never meets one, as it declines every
    integral float.
    """
    if _scan(value, max_depth):
        try:
            text = _fast_encode(value)
        except (TypeError, ValueError) as exc:  # pragma: no cover - the scan rules these out
            raise CanonicalizationError(f"cannot canonicalise: {exc}") from exc
    else:
        parts: list[str] = []
        try:
            _write(value, parts, max_depth, safe_integers)
        except RecursionError as exc:
            raise CanonicalizationError("nesting too deep for this interpreter") from exc
        text = "".join(parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalizationError("a string holds a lone surrogate (not Unicode text)") from exc


def _scan(root: Any, max_depth: int) -> bool:
    """Say whether the C encoder's output for ``root`` is already canonical.

    Returns False at the first thing the fast path cannot promise (a key that
    may sort differently, a float ``repr`` would spell differently, a subclass,
    a value JCS refuses, nesting at the bound); the exact path then decides,
    and raises where RFC 8785 refuses. Nesting is bounded, so a reference
    cycle stops at ``max_depth``.
    """
    try:
        return _scan_members((root,), max_depth + 1)
    except RecursionError:
        return False


def _scan_members(members: Iterable[Any], depth_left: int) -> bool:
    # recursive on purpose: measured faster than an explicit stack here
    if depth_left <= 0:
        return False
    for item in members:
        kind = type(item)
        if kind is str:
            continue
        if kind is dict:
            try:
                keys = "".join(item)  # one C call proves every key is a str
            except TypeError:
                return False
            if not keys.isascii() and max(keys) >= "\ue000":
                return False  # code point order and UTF-16 order may disagree
            if not _scan_members(item.values(), depth_left - 1):
                return False
        elif kind is list or kind is tuple:
            if not _scan_members(item, depth_left - 1):
                return False
        elif kind is int:
            if not -_MAX_SAFE_INT <= item <= _MAX_SAFE_INT:
                return False
        elif kind is float:
            if not _float_is_fast(item):
                return False
        elif kind is not bool and item is not None:
            return False
    return True


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _write(value: Any, out: list[str], depth_left: int, safe_integers: bool = False) -> None:
    """The exact path: append the canonical text of ``value`` to ``out``.

    Called only after :func:`_scan` has accepted ``value``, so the depth and
    type checks here are a second line of defence.
    """
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        # str.__str__, not str(): a str subclass (e.g. a str Enum) may override __str__
        out.append(_encode_string(str.__str__(value)))
    elif isinstance(value, int | float):
        out.append(format_number(value, safe_integers=safe_integers))
    elif isinstance(value, Mapping):
        if depth_left <= 0:
            raise CanonicalizationError("nesting too deep")
        for key in value:
            if not isinstance(key, str):
                raise CanonicalizationError(
                    f"object keys must be strings, not {type(key).__name__}"
                )
        out.append("{")
        first = True
        for key in sorted(value, key=_utf16_key):
            if not first:
                out.append(",")
            first = False
            out.append(_encode_string(str.__str__(key)))
            out.append(":")
            _write(value[key], out, depth_left - 1, safe_integers)
        out.append("}")
    elif isinstance(value, list | tuple):
        if depth_left <= 0:
            raise CanonicalizationError("nesting too deep")
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out, depth_left - 1, safe_integers)
        out.append("]")
    else:
        raise CanonicalizationError(f"not a JSON value: {type(value).__name__}")
