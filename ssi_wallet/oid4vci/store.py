"""Where an issuer keeps its protocol state: offers, codes, tokens, nonces, transactions.

The protocol core never holds state itself; it tells a :class:`StateStore`
what to keep, for how long, and what to take away. Every record has a kind
(``offer``, ``pre_auth_code``, ``c_nonce``, ...), a key (a random string the
core made) and an expiry in Unix seconds. :meth:`StateStore.take` reads and
removes in one step, which is what makes codes and nonces single-use even
when two requests race.

:class:`MemoryStateStore` is the in-memory store of one process: bounded per
kind (the oldest record goes first when a kind is full, so a flood of nonce
requests can push out nonces but never grows memory), expired records are
never returned.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Final, Protocol, runtime_checkable

__all__ = ["MemoryStateStore", "StateStore"]

#: Records of one kind a :class:`MemoryStateStore` keeps by default.
DEFAULT_MAX_PER_KIND: Final = 100_000


@runtime_checkable
class StateStore(Protocol):
    """Records with a kind, a key, a JSON-like value and an expiry (Unix seconds)."""

    def put(self, kind: str, key: str, value: Mapping[str, Any], *, expires_at: float) -> None:
        """Keep ``value`` under ``(kind, key)`` until ``expires_at`` (replacing any record)."""
        ...

    def get(self, kind: str, key: str, *, now: float) -> dict[str, Any] | None:
        """The record, or None when there is none or it expired."""
        ...

    def take(self, kind: str, key: str, *, now: float) -> dict[str, Any] | None:
        """Remove the record and return it (None when absent or expired): single use."""
        ...

    def delete(self, kind: str, key: str) -> None:
        """Forget the record, if any."""
        ...


class MemoryStateStore:
    """A :class:`StateStore` in memory, bounded per kind, safe to share between threads."""

    def __init__(self, *, max_per_kind: int = DEFAULT_MAX_PER_KIND) -> None:
        if max_per_kind < 1:
            raise ValueError("max_per_kind must be positive")
        self._max = max_per_kind
        self._lock = threading.Lock()
        self._kinds: dict[str, OrderedDict[str, tuple[float, dict[str, Any]]]] = {}

    def __len__(self) -> int:
        with self._lock:
            return sum(len(records) for records in self._kinds.values())

    def put(self, kind: str, key: str, value: Mapping[str, Any], *, expires_at: float) -> None:
        """Keep a copy of ``value``; the oldest record of the kind goes when it is full."""
        with self._lock:
            records = self._kinds.setdefault(kind, OrderedDict())
            records.pop(key, None)
            records[key] = (float(expires_at), dict(value))
            while len(records) > self._max:
                records.popitem(last=False)

    def get(self, kind: str, key: str, *, now: float) -> dict[str, Any] | None:
        """A copy of the record, unless absent or expired (an expired one is dropped)."""
        with self._lock:
            records = self._kinds.get(kind)
            found = records.get(key) if records is not None else None
            if found is None or records is None:
                return None
            if found[0] <= now:
                del records[key]
                return None
            return dict(found[1])

    def take(self, kind: str, key: str, *, now: float) -> dict[str, Any] | None:
        """Remove and return the record, unless absent or expired."""
        with self._lock:
            records = self._kinds.get(kind)
            found = records.pop(key, None) if records is not None else None
        if found is None or found[0] <= now:
            return None
        return found[1]

    def delete(self, kind: str, key: str) -> None:
        """Forget the record, if any."""
        with self._lock:
            records = self._kinds.get(kind)
            if records is not None:
                records.pop(key, None)
