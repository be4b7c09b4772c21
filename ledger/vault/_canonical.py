"""Canonical JSON for vault records (RFC 8785, JCS), and a strict, bounded JSON reader.

``ledger`` must not import ``credentials`` (which has the full RFC 8785
implementation), so the vault carries this small one. It covers the JSON a
record can hold: objects, arrays, strings, ``true``/``false``/``null``,
integers within the I-JSON range (``|n| <= 2**53 - 1``) and finite floats.

* object members are sorted by the UTF-16 code units of their names;
* strings are written as RFC 8785 section 3.2.2.2 says: ``"`` and ``\\``
  escaped, the control characters below U+0020 as ``\\b \\t \\n \\f \\r`` or
  ``\\u00xx`` (lower-case hex), everything else as UTF-8 (Python's
  ``json.dumps(..., ensure_ascii=False)`` does exactly this);
* numbers follow ECMAScript's ``Number.prototype.toString`` (section 3.2.2.3),
  built from Python's shortest round-trip ``repr`` (the same digits).

The tests check it against the ``rfc8785`` package with Hypothesis.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from did_methods._wire.json import loads
from did_methods.errors import JSONError
from ledger.vault.errors import RecordError

__all__ = ["MAX_DEPTH", "MAX_RECORD_BYTES", "canonical_json", "check_record", "parse_json"]

#: Largest canonical record, in bytes (64 KiB).
MAX_RECORD_BYTES = 64 * 1024
#: Deepest nesting of arrays and objects in a record.
MAX_DEPTH = 32
_MAX_SAFE_INT = 2**53 - 1


def _number(value: int | float) -> str:
    if isinstance(value, bool):  # pragma: no cover - callers dispatch bools first
        raise RecordError("a bool is not a number")
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            raise RecordError("integers must be within +-(2**53 - 1) (I-JSON)")
        return str(value)
    if not math.isfinite(value):
        raise RecordError("NaN and infinities are not JSON")
    if _MAX_SAFE_INT < abs(value) < 1e21 and value.is_integer():
        # Serialised without an exponent, it would read back as an integer
        # outside the I-JSON range, which records may not hold.
        raise RecordError("integral numbers must be within +-(2**53 - 1) (I-JSON)")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    text = repr(abs(value))
    mantissa, _, exp_text = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    # ``repr`` gives digits d1..dk and a decimal point position; n is where
    # ECMAScript puts the point: value = 0.d1..dk * 10**n.
    exponent = int(exp_text) if exp_text else 0
    lead_zeros = len(whole + frac) - len((whole + frac).lstrip("0"))
    n = len(whole) + exponent - lead_zeros
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        e_text = ("+" if e >= 0 else "-") + str(abs(e))
        out = digits + "e" + e_text if k == 1 else digits[0] + "." + digits[1:] + "e" + e_text
    return sign + out


def _string(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RecordError("strings must not hold lone surrogates") from exc
    return json.dumps(value, ensure_ascii=False)


def _write(value: object, out: list[str], depth: int) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int | float):
        out.append(_number(value))
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, Mapping):
        if depth >= MAX_DEPTH:
            raise RecordError(f"a record nests deeper than {MAX_DEPTH}")
        for key in value:
            if not isinstance(key, str):
                raise RecordError("object member names must be strings")
        out.append("{")
        for i, key in enumerate(
            sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass"))
        ):
            if i:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _write(value[key], out, depth + 1)
        out.append("}")
    elif isinstance(value, list | tuple):
        if depth >= MAX_DEPTH:
            raise RecordError(f"a record nests deeper than {MAX_DEPTH}")
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out, depth + 1)
        out.append("]")
    else:
        raise RecordError(f"{type(value).__name__} is not a JSON value")


def canonical_json(value: object, *, max_bytes: int = MAX_RECORD_BYTES) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``value``.

    Raises :class:`~ledger.vault.errors.RecordError` for a value JSON cannot
    carry (a non-string key, NaN, a lone surrogate, an integer beyond the
    I-JSON range, another type), nesting deeper than :data:`MAX_DEPTH`, or a
    result longer than ``max_bytes``.
    """
    out: list[str] = []
    _write(value, out, 0)
    data = "".join(out).encode("utf-8")
    if len(data) > max_bytes:
        raise RecordError(f"the canonical record is {len(data)} bytes, more than {max_bytes}")
    return data


def check_record(record: object) -> tuple[dict[str, Any], bytes]:
    """Validate a record (a JSON object) and return a plain copy with its canonical bytes.

    Raises :class:`~ledger.vault.errors.RecordError` when ``record`` is not a
    JSON object within the bounds of :func:`canonical_json`.
    """
    if not isinstance(record, Mapping):
        raise RecordError("a record is a JSON object")
    data = canonical_json(record)
    parsed: dict[str, Any] = loads(data, max_bytes=len(data), max_depth=MAX_DEPTH)
    return parsed, data


def parse_json(data: bytes | str, *, max_bytes: int = MAX_RECORD_BYTES) -> Any:
    """Parse JSON text strictly: size bound first, no duplicate names, no NaN/Infinity,
    nesting at most :data:`MAX_DEPTH`, numbers within the I-JSON range.

    Raises :class:`~ledger.vault.errors.RecordError` for anything else.
    """
    try:
        value = loads(data, what="record JSON", max_bytes=max_bytes, max_depth=MAX_DEPTH)
    except JSONError as exc:
        raise RecordError(f"not JSON: {exc}") from exc
    # Re-serialising checks depth, numbers and strings with the same rules.
    canonical_json(value, max_bytes=max(max_bytes, 1) * 2 + 64)
    return value
