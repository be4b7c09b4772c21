"""The holder's wallet file: an SQLite database whose every row is encrypted.

Layout: ``meta`` holds the scrypt parameters, the salt and the wallet data key
wrapped (AES-256-GCM) under the passphrase-derived key; ``items`` holds
``(kind, id, nonce, ciphertext)`` rows, each sealed with the data key and with
``kind|id`` as associated data, so rows cannot be swapped. Nothing but row
counts and ids (random) is readable without the passphrase. ``secure_delete``
is on, so deleted rows are overwritten, and the journal is WAL with a
checkpoint after deletions.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from did_methods._wire.json import loads, loads_object
from did_methods.errors import JSONError, ParseError, SSIWalletError, StoreError

__all__ = ["WalletLockedError", "WalletStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    kind TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL,
    nonce BLOB NOT NULL, ct BLOB NOT NULL, PRIMARY KEY (kind, id));
"""
_SCRYPT_N = 2**15
_MAX_SCRYPT_N = 2**20
_WRAP_AD = b"ssi-wallet wallet key v1"


class WalletLockedError(SSIWalletError):
    """The wallet cannot be opened: wrong passphrase, or not a wallet file."""


def _kdf(passphrase: str, salt: bytes, n: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=8, p=1).derive(passphrase.encode("utf-8"))


class WalletStore:
    """Encrypted key-value rows in one SQLite file (or in memory for ``":memory:"``)."""

    def __init__(self, conn: sqlite3.Connection, data_key: bytes) -> None:
        self._conn = conn
        self._aead = AESGCM(data_key)
        self._lock = threading.Lock()

    @classmethod
    def create(cls, path: str | os.PathLike[str], passphrase: str) -> WalletStore:
        """Create a new wallet file; refuses to overwrite an existing one."""
        if str(path) != ":memory:" and Path(path).exists():
            raise StoreError(f"wallet {path} exists; refusing to overwrite it")
        if not passphrase:
            raise ParseError("a wallet needs a non-empty passphrase")
        conn = cls._connect(path)
        data_key = AESGCM.generate_key(bit_length=256)
        salt, nonce = os.urandom(16), os.urandom(12)
        wrapped = AESGCM(_kdf(passphrase, salt, _SCRYPT_N)).encrypt(nonce, data_key, _WRAP_AD)
        params = json.dumps({"n": _SCRYPT_N, "salt": salt.hex(), "nonce": nonce.hex()})
        with conn:
            conn.executemany(
                "INSERT INTO meta (k, v) VALUES (?, ?)",
                [("kdf", params.encode()), ("wrapped_key", wrapped)],
            )
        if str(path) != ":memory:":
            os.chmod(path, 0o600)
        return cls(conn, data_key)

    @classmethod
    def open(cls, path: str | os.PathLike[str], passphrase: str) -> WalletStore:
        """Open an existing wallet file; raise :class:`WalletLockedError` on a wrong passphrase."""
        if not Path(path).is_file():
            raise StoreError(f"no wallet at {path}")
        try:
            conn = cls._connect(path)
            rows = dict(conn.execute("SELECT k, v FROM meta").fetchall())
            params = loads_object(rows["kdf"], what="wallet key parameters")
            n = int(params["n"])
            if not 2 <= n <= _MAX_SCRYPT_N or n & (n - 1):
                raise WalletLockedError("wallet has out-of-range key derivation parameters")
            kek = _kdf(passphrase, bytes.fromhex(params["salt"]), n)
            data_key = AESGCM(kek).decrypt(
                bytes.fromhex(params["nonce"]), rows["wrapped_key"], _WRAP_AD
            )
        except (sqlite3.DatabaseError, KeyError, ValueError, TypeError, ParseError) as exc:
            raise WalletLockedError(f"{path} is not a wallet file") from exc
        except InvalidTag as exc:
            raise WalletLockedError("wrong passphrase for this wallet") from exc
        return cls(conn, data_key)

    @staticmethod
    def _connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
        conn = sqlite3.connect(str(path), check_same_thread=False)
        conn.execute("PRAGMA secure_delete = ON")
        if str(path) != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.executescript(_SCHEMA)
        return conn

    def _ad(self, kind: str, item_id: str) -> bytes:
        return f"{kind}|{item_id}".encode()

    def put(self, kind: str, item_id: str, value: Any) -> None:
        """Store (or replace) one JSON value, sealed."""
        nonce = os.urandom(12)
        ct = self._aead.encrypt(nonce, json.dumps(value).encode(), self._ad(kind, item_id))
        with self._lock, self._conn:
            seq = self._conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM items").fetchone()[0]
            self._conn.execute(
                "INSERT OR REPLACE INTO items (kind, id, seq, nonce, ct) VALUES (?, ?, ?, ?, ?)",
                (kind, item_id, seq, nonce, ct),
            )

    def items(self, kind: str) -> Iterator[tuple[str, Any]]:
        """Every ``(id, value)`` of a kind, in insertion order."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, nonce, ct FROM items WHERE kind = ? ORDER BY seq", (kind,)
            ).fetchall()
        for item_id, nonce, ct in rows:
            try:
                plain = self._aead.decrypt(nonce, ct, self._ad(kind, item_id))
            except InvalidTag as exc:
                raise StoreError(f"wallet row {kind}/{item_id} fails its integrity check") from exc
            try:
                value = loads(plain, what=f"wallet row {kind}/{item_id}", max_bytes=len(plain))
            except JSONError as exc:
                raise StoreError(f"wallet row {kind}/{item_id} is not strict JSON") from exc
            yield item_id, value

    def delete(self, kind: str, item_id: str | None = None) -> int:
        """Delete one row, or every row of a kind; returns how many went."""
        with self._lock, self._conn:
            if item_id is None:
                cur = self._conn.execute("DELETE FROM items WHERE kind = ?", (kind,))
            else:
                cur = self._conn.execute(
                    "DELETE FROM items WHERE kind = ? AND id = ?", (kind, item_id)
                )
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return cur.rowcount

    def close(self) -> None:
        """Close the file."""
        self._conn.close()
