"""The holder's wallet file: an SQLite database whose every record is sealed.

Layout 2 (``meta.layout = 2``)::

    meta             (k, v)           scrypt parameters and salt, the wallet data key
                                      wrapped (AES-256-GCM) under the passphrase-derived
                                      key, the layout version
    items            (seq, kind, id, sealed)
                                      the holder's key and the disclosure history; ``seq``
                                      is an INTEGER PRIMARY KEY AUTOINCREMENT, so a write
                                      never scans the table for the next number
    credentials      (seq, id, head, claims, raw)
                                      one row per credential, in three sealed parts: the
                                      head (format, types, issuer, when stored) that
                                      matching and listing read, the claims that a claims
                                      query reads, and the credential as issued, opened
                                      only to present or export it
    credential_tags  (tag, seq)       blind index: HMAC-SHA-256 (under a key derived from
                                      the data key) of ``format`` and of ``format|type``
                                      for each type, so a request finds its candidates
                                      with an index lookup instead of opening every row

Every sealed value is ``nonce || AES-256-GCM ciphertext`` under the data key,
with ``layout|table|id|part`` as associated data, so parts cannot be swapped
between rows, tables or wallets. Without the passphrase a reader learns the
row counts, the (random) ids and which credentials share a format or type
(equal tags), nothing else. ``secure_delete`` is on, so deleted rows are
overwritten, and the journal is WAL with a checkpoint after deletions.

Layout 1 (the first release: one ``items`` table of ``kind, id, seq, nonce,
ct`` with a ``MAX(seq)`` scan per write and every credential in one sealed
row) is migrated when opened for writing, in one transaction; opened for
reading, it is converted in memory and the file is left as it is. A file
opened for reading is never created or altered (``mode=ro``; ``immutable``
when no write-ahead log is in use, so not even a ``-wal`` file appears).

Errors carry a stable ``code``::

    WalletLockedError        wrong_passphrase
     └── NotAWalletError     not_a_wallet, truncated, layout_unsupported (also a ParseError)
    WalletIntegrityError     record_tampered, wallet_damaged, read_only (a StoreError)
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from did_methods._wire.json import loads, loads_object
from did_methods.errors import JSONError, ParseError, SSIWalletError, StoreError

__all__ = [
    "LAYOUT",
    "CredentialRow",
    "NotAWalletError",
    "WalletIntegrityError",
    "WalletLockedError",
    "WalletStore",
    "credential_parts",
]

#: The layout this code writes.
LAYOUT = 2

_SCHEMA = """
CREATE TABLE meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);
CREATE TABLE items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL, id TEXT NOT NULL, sealed BLOB NOT NULL,
    UNIQUE (kind, id));
CREATE TABLE credentials (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    head BLOB NOT NULL, claims BLOB NOT NULL, raw BLOB NOT NULL);
CREATE TABLE credential_tags (
    tag BLOB NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (tag, seq)) WITHOUT ROWID;
CREATE INDEX credential_tags_seq ON credential_tags (seq);
"""
_SCRYPT_N = 2**15
_MAX_SCRYPT_N = 2**20
_WRAP_AD = b"ssi-wallet wallet key v1"
_INDEX_INFO = b"ssi-wallet blind index key v2"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_NONCE = 12


class _CodedError(Exception):
    """An error with a stable machine-readable ``code``; the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class WalletLockedError(_CodedError, SSIWalletError):
    """The wallet cannot be opened with this passphrase (``code`` ``wrong_passphrase``)."""


class NotAWalletError(WalletLockedError, ParseError):
    """The file is not a wallet this code can read.

    ``code``: ``not_a_wallet`` (another kind of file: a ledger, random bytes,
    an empty file), ``truncated`` (shorter than its own header says),
    ``layout_unsupported`` (a wallet of a newer layout).
    """


class WalletIntegrityError(_CodedError, StoreError):
    """A wallet record failed its check, or a write was refused; nothing was written.

    ``code``: ``record_tampered`` (a sealed part does not open under this
    wallet's key with its row's id: altered, or moved from another row or
    wallet), ``wallet_damaged`` (SQLite cannot read the file), ``read_only``
    (a write to a wallet opened for reading), ``exists`` (create over a file).
    """


@dataclass(frozen=True, slots=True)
class CredentialRow:
    """A credential row as read for matching: its head opened, its other parts still sealed."""

    seq: int
    id: str
    head: Mapping[str, Any]


def credential_parts(
    value: Mapping[str, Any],
) -> tuple[dict[str, Any], Any, Any, tuple[str, ...]]:
    """Split a credential's storage form into head, claims, raw and its index tag names.

    The head holds what matching and listing read (``id``, ``format``,
    ``types``, ``issuer``, ``stored_at``); the tag names are ``format`` and
    ``format|type`` for every type.
    """
    head = {k: value[k] for k in ("id", "format", "types", "issuer", "stored_at")}
    fmt = str(value["format"])
    tags = (fmt, *(f"{fmt}|{t}" for t in value["types"]))
    return head, value["claims"], value["raw"], tags


def _kdf(passphrase: str, salt: bytes, n: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=8, p=1).derive(passphrase.encode("utf-8"))


def _wrap(passphrase: str, data_key: bytes) -> dict[str, bytes]:
    salt, nonce = os.urandom(16), os.urandom(_NONCE)
    wrapped = AESGCM(_kdf(passphrase, salt, _SCRYPT_N)).encrypt(nonce, data_key, _WRAP_AD)
    params = json.dumps({"n": _SCRYPT_N, "salt": salt.hex(), "nonce": nonce.hex()})
    return {"kdf": params.encode(), "wrapped_key": wrapped}


def _unwrap(meta: Mapping[str, bytes], passphrase: str) -> bytes:
    try:
        params = loads_object(meta["kdf"], what="wallet key parameters")
        n = int(params["n"])
        salt, nonce = bytes.fromhex(params["salt"]), bytes.fromhex(params["nonce"])
        wrapped = bytes(meta["wrapped_key"])
    except (KeyError, ValueError, TypeError) as exc:
        raise NotAWalletError("not_a_wallet", "the wallet's key envelope is unreadable") from exc
    if not 2 <= n <= _MAX_SCRYPT_N or n & (n - 1):
        raise NotAWalletError("not_a_wallet", "out-of-range key derivation parameters")
    try:
        return AESGCM(_kdf(passphrase, salt, n)).decrypt(nonce, wrapped, _WRAP_AD)
    except (InvalidTag, ValueError) as exc:
        raise WalletLockedError("wrong_passphrase", "wrong passphrase for this wallet") from exc


def _check_header(path: Path) -> None:
    """Refuse a file that is not SQLite, or shorter than its header says (truncated)."""
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
        size = path.stat().st_size
    except OSError as exc:
        raise NotAWalletError("not_a_wallet", f"cannot read {path}: {exc.strerror}") from exc
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise NotAWalletError("not_a_wallet", f"{path} is not a wallet file")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The in-header size is valid when the two change counters agree (SQLite file format 1.3).
    if header[24:28] == header[92:96] and size < page_size * pages:
        raise NotAWalletError("truncated", f"{path} is shorter than its header says")


class WalletStore:
    """Sealed records in one SQLite file (or in memory for ``":memory:"``).

    Build with :meth:`create` or :meth:`open`. Every write is one
    transaction; every read of a credential by id or by tag is an index
    lookup.
    """

    def __init__(self, conn: sqlite3.Connection, data_key: bytes, *, read_only: bool) -> None:
        self._conn = conn
        self._set_key(data_key)
        self._lock = threading.RLock()
        self.read_only = read_only

    # -- opening ------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike[str], passphrase: str) -> WalletStore:
        """Create a new wallet file (mode 0600); refuses to overwrite an existing one."""
        memory = str(path) == ":memory:"
        if not memory and os.path.lexists(path):
            raise WalletIntegrityError("exists", f"wallet {path} exists; refusing to overwrite it")
        if not passphrase:
            raise ParseError("a wallet needs a non-empty passphrase")
        data_key = AESGCM.generate_key(bit_length=256)
        meta = _wrap(passphrase, data_key)
        if not memory:
            # Created exclusively and private before SQLite writes a byte into it.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        try:
            conn = cls._connect(path)
        except BaseException:
            if not memory:
                os.unlink(path)
            raise
        try:
            cls._init_layout(conn, meta)
        except BaseException:
            conn.close()
            if not memory:
                for name in (str(path), f"{path}-wal", f"{path}-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(name)
            raise
        return cls(conn, data_key, read_only=False)

    @staticmethod
    def _init_layout(conn: sqlite3.Connection, meta: Mapping[str, bytes]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.executemany(
                "INSERT INTO meta (k, v) VALUES (?, ?)",
                [*meta.items(), ("layout", str(LAYOUT).encode())],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], passphrase: str, *, read_only: bool = False
    ) -> WalletStore:
        """Open an existing wallet file.

        ``read_only`` opens it without write access: the file is never
        altered (a layout 1 wallet is converted in memory). Raises
        :class:`NotAWalletError` for another kind of file,
        :class:`WalletLockedError` for a wrong passphrase.
        """
        target = Path(path)
        if not target.is_file():
            raise NotAWalletError("not_a_wallet", f"no wallet at {path}")
        _check_header(target)
        conn = cls._connect(target, read_only=True)
        try:
            meta, layout = cls._read_meta(conn, target)
            data_key = _unwrap(meta, passphrase)
            if layout == LAYOUT:
                if read_only:
                    return cls(conn, data_key, read_only=True)
                conn.close()
                return cls(cls._connect(target), data_key, read_only=False)
            if read_only:
                memory = cls._connect(":memory:")
                _migrate_v1(conn, memory, data_key, meta)
                conn.close()
                return cls(memory, data_key, read_only=True)
            conn.close()
            conn = cls._connect(target)
            _migrate_v1(conn, conn, data_key, meta)
            return cls(conn, data_key, read_only=False)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise NotAWalletError("not_a_wallet", f"{path} is not a readable wallet") from exc
        except BaseException:
            conn.close()
            raise

    @staticmethod
    def _read_meta(conn: sqlite3.Connection, path: Path) -> tuple[dict[str, bytes], int]:
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if not {"meta", "items"} <= tables:
            raise NotAWalletError("not_a_wallet", f"{path} is not a wallet file")
        try:
            rows = conn.execute("SELECT k, v FROM meta").fetchall()
        except sqlite3.DatabaseError as exc:
            raise NotAWalletError("not_a_wallet", f"{path} is not a wallet file") from exc
        meta = {str(k): bytes(v) if isinstance(v, bytes | memoryview) else v for k, v in rows}
        if "kdf" not in meta or "wrapped_key" not in meta:
            raise NotAWalletError("not_a_wallet", f"{path} is not a wallet file")
        raw_layout = meta.get("layout", b"1")
        try:
            layout = int(raw_layout)
        except (TypeError, ValueError) as exc:
            raise NotAWalletError("not_a_wallet", "unreadable layout version") from exc
        if layout not in (1, LAYOUT):
            raise NotAWalletError(
                "layout_unsupported", f"wallet layout {layout}; this version reads 1 and {LAYOUT}"
            )
        if layout == LAYOUT and not {"credentials", "credential_tags"} <= tables:
            raise NotAWalletError("not_a_wallet", f"{path} lacks the layout {LAYOUT} tables")
        return meta, layout

    @staticmethod
    def _connect(path: str | os.PathLike[str], *, read_only: bool = False) -> sqlite3.Connection:
        name = str(path)
        if read_only:
            # mode=ro never creates or writes the file; without a -wal file nobody is
            # writing, and immutable keeps SQLite from creating -wal and -shm beside it.
            wal = Path(name + "-wal").exists()
            uri = "file:" + quote(os.path.abspath(name)) + ("?mode=ro" if wal else "?immutable=1")
            return sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        conn = sqlite3.connect(name, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA secure_delete = ON")
        if name != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        return conn

    def close(self) -> None:
        """Close the file."""
        self._conn.close()

    # -- sealing ------------------------------------------------------------------------

    def _seal(self, value: Any, ad: str) -> bytes:
        """Seal ``value``; raises :class:`JSONError` when the wallet could not read it back.

        Whatever is sealed must open with the strict reader, so a value it
        would refuse (NaN, a lone surrogate, a number beyond a double, too
        deep, not JSON at all) is refused here, before anything is written.
        """
        try:
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            data = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise JSONError(
                "a value to store holds a lone surrogate", "json_lone_surrogate"
            ) from exc
        except (TypeError, ValueError, RecursionError) as exc:
            code = "json_number" if isinstance(exc, ValueError) else "json_type"
            raise JSONError(f"a value to store is not strict JSON: {exc}", code) from exc
        loads(data, what="a value to store", max_bytes=len(data))
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, data, ad.encode())

    def _open(self, sealed: bytes, ad: str, what: str) -> Any:
        try:
            if not isinstance(sealed, bytes):
                raise TypeError("a sealed part is a blob")
            plain = self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], ad.encode())
        except (InvalidTag, ValueError, TypeError) as exc:
            raise WalletIntegrityError(
                "record_tampered", f"wallet record {what} fails its integrity check"
            ) from exc
        try:
            return loads(plain, what=f"wallet record {what}", max_bytes=len(plain))
        except ParseError as exc:
            raise WalletIntegrityError(
                "record_malformed", f"wallet record {what} is not strict JSON"
            ) from exc

    def tag(self, name: str) -> bytes:
        """The blind index tag of ``name`` (a format, or ``format|type``)."""
        return hmac.new(self._index_key, name.encode("utf-8"), hashlib.sha256).digest()[:16]

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self.read_only:
            raise WalletIntegrityError("read_only", "this wallet was opened for reading")
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as exc:
                raise WalletIntegrityError("wallet_damaged", f"cannot write: {exc}") from exc
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                self._conn.execute("ROLLBACK")
                raise WalletIntegrityError("wallet_damaged", f"write failed: {exc}") from exc

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise WalletIntegrityError("wallet_damaged", f"cannot read: {exc}") from exc

    # -- items: the key and the history -------------------------------------------------

    def put(self, kind: str, item_id: str, value: Any) -> None:
        """Store (or replace) one JSON value of ``kind``, sealed."""
        sealed = self._seal(value, f"2|items|{kind}|{item_id}")
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO items (kind, id, sealed) VALUES (?, ?, ?)",
                (kind, item_id, sealed),
            )

    def put_many(self, kind: str, values: Iterable[tuple[str, Any]]) -> int:
        """Store many values of ``kind`` in one transaction; returns how many."""
        rows = [(kind, i, self._seal(v, f"2|items|{kind}|{i}")) for i, v in values]
        with self._write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO items (kind, id, sealed) VALUES (?, ?, ?)", rows
            )
        return len(rows)

    def items(self, kind: str) -> Iterator[tuple[str, Any]]:
        """Every ``(id, value)`` of a kind, in insertion order."""
        rows = self._read("SELECT id, sealed FROM items WHERE kind = ? ORDER BY seq", (kind,))
        for item_id, sealed in rows:
            yield item_id, self._open(sealed, f"2|items|{kind}|{item_id}", f"{kind}/{item_id}")

    def get_item(self, kind: str, item_id: str) -> Any | None:
        """One value of ``kind`` by id, or None (only that row is opened)."""
        rows = self._read("SELECT sealed FROM items WHERE kind = ? AND id = ?", (kind, item_id))
        if not rows:
            return None
        return self._open(rows[0][0], f"2|items|{kind}|{item_id}", f"{kind}/{item_id}")

    def item_ids(self, kind: str) -> set[str]:
        """The ids of a kind (nothing is opened)."""
        return {r[0] for r in self._read("SELECT id FROM items WHERE kind = ?", (kind,))}

    def delete(self, kind: str, item_id: str | None = None) -> int:
        """Delete one item, or every item of a kind; returns how many went."""
        with self._write() as conn:
            if item_id is None:
                cur = conn.execute("DELETE FROM items WHERE kind = ?", (kind,))
            else:
                cur = conn.execute("DELETE FROM items WHERE kind = ? AND id = ?", (kind, item_id))
        self._checkpoint()
        return cur.rowcount

    # -- credentials --------------------------------------------------------------------

    def put_credential(self, value: Mapping[str, Any]) -> None:
        """Store one credential (its storage form, see :func:`credential_parts`)."""
        self.put_credentials([value])

    def put_credentials(self, values: Iterable[Mapping[str, Any]]) -> int:
        """Store many credentials in one transaction; returns how many."""
        rows = self._credential_rows(values)
        with self._write() as conn:
            self._insert_credentials(conn, rows)
        return len(rows)

    def _credential_rows(
        self, values: Iterable[Mapping[str, Any]]
    ) -> list[tuple[str, bytes, bytes, bytes, list[bytes]]]:
        rows = []
        for value in values:
            head, claims, raw, tags = credential_parts(value)
            cid = str(head["id"])
            rows.append(
                (
                    cid,
                    self._seal(head, f"2|credentials|{cid}|head"),
                    self._seal(claims, f"2|credentials|{cid}|claims"),
                    self._seal(raw, f"2|credentials|{cid}|raw"),
                    [self.tag(t) for t in dict.fromkeys(tags)],
                )
            )
        return rows

    @staticmethod
    def _insert_credentials(
        conn: sqlite3.Connection, rows: Sequence[tuple[str, bytes, bytes, bytes, list[bytes]]]
    ) -> None:
        for cid, head_s, claims_s, raw_s, tags_b in rows:
            cur = conn.execute(
                "INSERT INTO credentials (id, head, claims, raw) VALUES (?, ?, ?, ?)",
                (cid, head_s, claims_s, raw_s),
            )
            conn.executemany(
                "INSERT INTO credential_tags (tag, seq) VALUES (?, ?)",
                [(t, cur.lastrowid) for t in tags_b],
            )

    def merge(
        self,
        credentials: Iterable[Mapping[str, Any]],
        items: Mapping[str, Iterable[tuple[str, Any]]],
    ) -> None:
        """Add credentials and items in one transaction (all or none); nothing is replaced.

        An id the wallet already holds raises and nothing is written: the
        caller filters those out first.
        """
        rows = self._credential_rows(credentials)
        sealed = [
            (kind, i, self._seal(v, f"2|items|{kind}|{i}"))
            for kind, values in items.items()
            for i, v in values
        ]
        with self._write() as conn:
            self._insert_credentials(conn, rows)
            conn.executemany("INSERT INTO items (kind, id, sealed) VALUES (?, ?, ?)", sealed)

    def credential_ids(self) -> set[str]:
        """Every credential id (nothing is opened)."""
        return {r[0] for r in self._read("SELECT id FROM credentials")}

    def heads(self, tags: Iterable[str] | None = None) -> list[CredentialRow]:
        """Credential heads in insertion order: all, or those carrying any of ``tags``.

        Only the heads are opened; with ``tags`` only the rows the blind
        index names are read.
        """
        if tags is None:
            rows = self._read("SELECT seq, id, head FROM credentials ORDER BY seq")
        else:
            blind = [self.tag(t) for t in dict.fromkeys(tags)]
            if not blind:
                return []
            marks = ", ".join("?" * len(blind))
            rows = self._read(
                "SELECT c.seq, c.id, c.head FROM credentials AS c WHERE c.seq IN "  # noqa: S608
                f"(SELECT seq FROM credential_tags WHERE tag IN ({marks})) ORDER BY c.seq",
                blind,
            )
        return [
            CredentialRow(seq, cid, self._open(head, f"2|credentials|{cid}|head", cid))
            for seq, cid, head in rows
        ]

    def credential_part(self, cid: str, part: str) -> Any:
        """The opened ``claims`` or ``raw`` part of one credential; ``KeyError`` if none."""
        if part not in ("head", "claims", "raw"):
            raise ValueError(f"no credential part {part!r}")
        rows = self._read(f"SELECT {part} FROM credentials WHERE id = ?", (cid,))  # noqa: S608
        if not rows:
            raise KeyError(cid)
        return self._open(rows[0][0], f"2|credentials|{cid}|{part}", cid)

    def credential_values(self) -> Iterator[dict[str, Any]]:
        """Every credential's full storage form, in insertion order (opens every part)."""
        rows = self._read("SELECT id, head, claims, raw FROM credentials ORDER BY seq")
        for cid, head, claims, raw in rows:
            value = dict(self._open(head, f"2|credentials|{cid}|head", cid))
            value["claims"] = self._open(claims, f"2|credentials|{cid}|claims", cid)
            value["raw"] = self._open(raw, f"2|credentials|{cid}|raw", cid)
            if value.get("id") != cid:
                raise WalletIntegrityError("record_tampered", f"credential {cid} names another id")
            yield value

    def delete_credential(self, cid: str) -> bool:
        """Delete one credential and its tags; ``False`` when there was none."""
        with self._write() as conn:
            row = conn.execute("SELECT seq FROM credentials WHERE id = ?", (cid,)).fetchone()
            if row is None:
                return False
            conn.execute("DELETE FROM credential_tags WHERE seq = ?", (row[0],))
            conn.execute("DELETE FROM credentials WHERE seq = ?", (row[0],))
        self._checkpoint()
        return True

    def _checkpoint(self) -> None:
        with self._lock:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- passphrase -----------------------------------------------------------------------

    def change_passphrase(self, old: str, new: str, *, rekey: bool = False) -> None:
        """Wrap the data key under ``new``, after checking ``old``.

        Without ``rekey`` the records stay sealed under the same data key: one
        small write whatever the wallet holds. With ``rekey`` every record is
        resealed under a fresh data key (and the blind index rebuilt under a
        key derived from it), in one transaction: a copy of the file taken
        before, opened with the old passphrase, then yields no key to anything
        written after. Raises :class:`WalletLockedError` when ``old`` is wrong.
        """
        if not new:
            raise ParseError("a wallet needs a non-empty passphrase")
        meta = {
            str(k): bytes(v) for k, v in self._read("SELECT k, v FROM meta WHERE k != 'layout'")
        }
        data_key = _unwrap(meta, old)
        fresh = WalletStore(self._conn, AESGCM.generate_key(bit_length=256), read_only=False)
        new_key = fresh._data_key if rekey else data_key
        with self._write() as conn:
            if rekey:
                self._reseal(conn, fresh)
            conn.executemany(
                "INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)", _wrap(new, new_key).items()
            )
        if rekey:
            self._set_key(new_key)
        self._checkpoint()

    def _set_key(self, data_key: bytes) -> None:
        self._data_key = data_key
        self._aead = AESGCM(data_key)
        self._index_key = hmac.new(data_key, _INDEX_INFO, hashlib.sha256).digest()

    def _reseal(self, conn: sqlite3.Connection, fresh: WalletStore) -> None:
        """Open every record with this store's key and seal it again with ``fresh``'s."""
        last = 0
        while True:
            rows = conn.execute(
                "SELECT seq, kind, id, sealed FROM items WHERE seq > ? ORDER BY seq LIMIT 500",
                (last,),
            ).fetchall()
            if not rows:
                break
            for seq, kind, item_id, sealed in rows:
                ad = f"2|items|{kind}|{item_id}"
                value = self._open(sealed, ad, f"{kind}/{item_id}")
                conn.execute(
                    "UPDATE items SET sealed = ? WHERE seq = ?", (fresh._seal(value, ad), seq)
                )
            last = rows[-1][0]
        conn.execute("DELETE FROM credential_tags")
        last = 0
        while True:
            rows = conn.execute(
                "SELECT seq, id, head, claims, raw FROM credentials WHERE seq > ? "
                "ORDER BY seq LIMIT 500",
                (last,),
            ).fetchall()
            if not rows:
                break
            for seq, cid, *parts in rows:
                opened = {
                    part: self._open(sealed, f"2|credentials|{cid}|{part}", cid)
                    for part, sealed in zip(("head", "claims", "raw"), parts, strict=True)
                }
                if opened["head"].get("id") != cid:
                    raise WalletIntegrityError(
                        "record_tampered", f"credential {cid} names another id"
                    )
                full = {**opened["head"], "claims": opened["claims"], "raw": opened["raw"]}
                _, _, _, tags = credential_parts(full)
                conn.execute(
                    "UPDATE credentials SET head = ?, claims = ?, raw = ? WHERE seq = ?",
                    (
                        *(
                            fresh._seal(opened[p], f"2|credentials|{cid}|{p}")
                            for p in ("head", "claims", "raw")
                        ),
                        seq,
                    ),
                )
                conn.executemany(
                    "INSERT INTO credential_tags (tag, seq) VALUES (?, ?)",
                    [(fresh.tag(t), seq) for t in dict.fromkeys(tags)],
                )
            last = rows[-1][0]


def _migrate_v1(
    source: sqlite3.Connection,
    target: sqlite3.Connection,
    data_key: bytes,
    meta: Mapping[str, bytes],
) -> None:
    """Reseal every layout 1 row into layout 2, in one transaction of ``target``.

    ``target`` is ``source`` itself (the file is migrated in place: the old
    tables are dropped in the same transaction that fills the new ones) or an
    in-memory database (a read-only open). A row that fails its check aborts
    the migration before anything is written, so the file stays as it was.
    """
    aead = AESGCM(data_key)
    rows = source.execute(
        "SELECT kind, id, CAST(nonce AS BLOB), CAST(ct AS BLOB) FROM items ORDER BY seq"
    ).fetchall()
    store = WalletStore(target, data_key, read_only=False)
    credentials: list[Mapping[str, Any]] = []
    others: list[tuple[str, str, bytes]] = []
    for kind, item_id, nonce, ct in rows:
        try:
            plain = aead.decrypt(nonce, ct, f"{kind}|{item_id}".encode())
            value = loads(plain, what=f"wallet row {kind}/{item_id}", max_bytes=len(plain))
        except (InvalidTag, ValueError, TypeError) as exc:
            raise WalletIntegrityError(
                "record_tampered", f"wallet record {kind}/{item_id} fails its integrity check"
            ) from exc
        if kind == "credential":
            if not isinstance(value, Mapping) or value.get("id") != item_id:
                raise WalletIntegrityError(
                    "record_tampered", f"credential {item_id} names another id"
                )
            credentials.append(value)
        else:
            others.append((kind, item_id, store._seal(value, f"2|items|{kind}|{item_id}")))
    sealed_credentials = store._credential_rows(credentials)
    in_place = source is target
    target.execute("BEGIN IMMEDIATE")
    try:
        if in_place:
            target.execute("DROP TABLE items")
            target.execute("DROP TABLE meta")
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                target.execute(statement)
        target.executemany(
            "INSERT INTO meta (k, v) VALUES (?, ?)",
            [("kdf", meta["kdf"]), ("wrapped_key", meta["wrapped_key"]), ("layout", b"2")],
        )
        target.executemany("INSERT INTO items (kind, id, sealed) VALUES (?, ?, ?)", others)
        store._insert_credentials(target, sealed_credentials)
        target.execute("COMMIT")
    except BaseException:
        target.execute("ROLLBACK")
        raise
