"""Canonical JSON for vault records (RFC 8785, JCS), and a strict, bounded JSON reader.

Both are the kernel's (:mod:`did_methods._wire.jcs`, :mod:`did_methods._wire.json`),
the same functions ``credentials`` uses, with the vault's bounds: records nest at
most :data:`MAX_DEPTH` deep, are at most :data:`MAX_RECORD_BYTES` long, and hold
no integral float beyond +-(2**53 - 1) (``safe_integers``: its canonical form
would read back as an integer outside the I-JSON range). Every refusal is a
:class:`~ledger.vault.errors.RecordError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from did_methods._wire.jcs import canonicalize
from did_methods._wire.json import loads
from did_methods.errors import CanonicalizationError, JSONError
from ledger.vault.errors import RecordError

__all__ = ["MAX_DEPTH", "MAX_RECORD_BYTES", "canonical_json", "check_record", "parse_json"]

#: Largest canonical record, in bytes (64 KiB).
MAX_RECORD_BYTES = 64 * 1024
#: Deepest nesting of arrays and objects in a record.
MAX_DEPTH = 32


def canonical_json(value: object, *, max_bytes: int = MAX_RECORD_BYTES) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``value``.

    Raises :class:`~ledger.vault.errors.RecordError` for a value JSON cannot
    carry (a non-string key, NaN, a lone surrogate, an integer beyond the
    I-JSON range, another type), nesting deeper than :data:`MAX_DEPTH`, or a
    result longer than ``max_bytes``.
    """
    try:
        data = canonicalize(value, max_depth=MAX_DEPTH, safe_integers=True)
    except CanonicalizationError as exc:
        raise RecordError(str(exc)) from exc
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
