"""A :class:`~ssi_wallet.oid4vci.store.StateStore` in a SQLite file, so an issuer survives restarts.

Offers, codes, tokens, nonces, transactions and the cases behind them live in
one table ``oid4vci_state (kind, key, value, expires_at)``. :meth:`SQLiteStateStore.take`
is one ``DELETE ... RETURNING`` statement, so a code or nonce is spent exactly
once even when several processes share the file. Cases hold the claims of the
person credentials are issued to: the file is created with mode 0600 and
``secure_delete`` is on, so a spent record leaves no bytes behind. Each kind is
bounded (``max_per_kind``): when it is full the oldest record goes;
:meth:`SQLiteStateStore.purge` drops every expired record.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Mapping
from typing import Any, Final

from did_methods._wire.json import loads
from did_methods.errors import SSIWalletError, StoreError
from ssi_wallet.oid4vci.store import DEFAULT_MAX_PER_KIND

__all__ = ["SQLiteStateStore"]

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS oid4vci_state (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (kind, key)
)
"""
#: Largest record value read back (bytes of JSON).
_MAX_VALUE: Final = 1 << 20


class SQLiteStateStore:
    """Protocol state in the SQLite file at ``path`` (created, mode 0600, if absent).

    Raises :class:`~did_methods.errors.StoreError` when the file cannot be
    opened or written. Safe to share between threads (one connection, a lock)
    and between processes (SQLite's locking; ``timeout`` seconds of waiting).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_per_kind: int = DEFAULT_MAX_PER_KIND,
        timeout: float = 30.0,
    ) -> None:
        if max_per_kind < 1:
            raise ValueError("max_per_kind must be positive")
        self._max = max_per_kind
        self._lock = threading.Lock()
        self.path = os.fspath(path)
        try:
            if not os.path.exists(self.path):
                os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            self._conn = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA secure_delete=ON")
            self._conn.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the issuer state file {self.path}: {exc}") from exc

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._conn.close()

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"the issuer state file failed: {exc}") from exc

    def put(self, kind: str, key: str, value: Mapping[str, Any], *, expires_at: float) -> None:
        """Keep ``value`` (replacing a record of the same key); a full kind drops its oldest."""
        text = json.dumps(dict(value), separators=(",", ":"), ensure_ascii=False)
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    (count,) = self._conn.execute(
                        "SELECT count(*) FROM oid4vci_state WHERE kind = ?", (kind,)
                    ).fetchone()
                    if count >= self._max:
                        self._conn.execute(
                            "DELETE FROM oid4vci_state WHERE rowid IN (SELECT rowid FROM "
                            "oid4vci_state WHERE kind = ? ORDER BY rowid LIMIT ?)",
                            (kind, count - self._max + 1),
                        )
                    self._conn.execute(
                        "INSERT OR REPLACE INTO oid4vci_state (kind, key, value, expires_at) "
                        "VALUES (?, ?, ?, ?)",
                        (kind, key, text, float(expires_at)),
                    )
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise StoreError(f"the issuer state file failed: {exc}") from exc

    def get(self, kind: str, key: str, *, now: float) -> dict[str, Any] | None:
        """The record, unless absent or expired."""
        rows = self._run(
            "SELECT value FROM oid4vci_state WHERE kind = ? AND key = ? AND expires_at > ?",
            (kind, key, now),
        )
        return _value(rows[0][0]) if rows else None

    def take(self, kind: str, key: str, *, now: float) -> dict[str, Any] | None:
        """Remove the record and return it (one statement: spent exactly once)."""
        rows = self._run(
            "DELETE FROM oid4vci_state WHERE kind = ? AND key = ? RETURNING value, expires_at",
            (kind, key),
        )
        if not rows or rows[0][1] <= now:
            return None
        return _value(rows[0][0])

    def purge(self, *, now: float) -> int:
        """Drop every expired record; returns how many went."""
        return len(self._run("DELETE FROM oid4vci_state WHERE expires_at <= ? RETURNING 1", (now,)))

    def delete(self, kind: str, key: str) -> None:
        """Forget the record, if any."""
        self._run("DELETE FROM oid4vci_state WHERE kind = ? AND key = ?", (kind, key))


def _value(text: str) -> dict[str, Any]:
    try:
        value = loads(text, what="an issuer state record", max_bytes=_MAX_VALUE)
    except SSIWalletError as exc:
        raise StoreError(f"the issuer state file holds an unreadable record: {exc}") from exc
    if not isinstance(value, dict):
        raise StoreError("the issuer state file holds a record that is not an object")
    return value
