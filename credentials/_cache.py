"""A small thread-safe cache whose entries expire at a given instant and whose size is bounded.

Status lists and Status List Tokens are fetched, verified, then kept until
their ``ttl`` (or an upper bound) runs out: the resolver base of
:mod:`credentials._status_core` keeps both encodings' lists in it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import Generic, TypeVar

__all__ = ["ExpiringCache"]

V = TypeVar("V")


class ExpiringCache(Generic[V]):
    """At most ``max_items`` values by key, each until its own instant; least recently used out."""

    def __init__(self, max_items: int) -> None:
        self._items: OrderedDict[str, tuple[datetime, V]] = OrderedDict()
        self._max_items = max_items
        self._lock = threading.Lock()

    def get(self, key: str, now: datetime) -> V | None:
        """The value for ``key`` if it has not expired at ``now`` (an expired one is dropped)."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            until, value = found
            if now >= until:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return value

    def put(self, key: str, value: V, until: datetime) -> None:
        """Keep ``value`` for ``key`` until ``until``, evicting the least recently used."""
        with self._lock:
            self._items[key] = (until, value)
            self._items.move_to_end(key)
            while len(self._items) > self._max_items:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()
