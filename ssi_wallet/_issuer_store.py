"""The issuer's back-office state in the ledger's database, and how status indexes are dealt.

Tables (prefixed ``issuer_``, beside the log's ``ledger_`` and the vault's
``vault_`` tables; ``issuer_meta.schema_version`` versions the layout):

* ``issuer_identities``: one row per issuer: DID, verification method, public
  key (Multikey), name, status URL base and list length. No private key: the
  caller brings it to :meth:`~ssi_wallet.Issuer.open`.
* ``issuer_status_lists``: one row per status list set (revocation,
  suspension and the Token Status List share an index space): its number, the
  secret seed of its index permutation, how many positions are handed out
  (``allocated``), the revocation and suspension bitstrings and a ``version``
  bumped at every change (a write checks it, so two processes never lose each
  other's changes).
* ``issuer_documents``: the last published bytes of each status list document,
  so a reopened issuer serves exactly what is anchored on the ledger.

Indexes are dealt through a keyed pseudo-random permutation of the list
(:class:`IndexPermutation`): the ``n``-th credential of a list gets
``permutation(n)``, so an index says nothing about when a credential was
issued (the herd privacy the Bitstring Status List spec asks for), the whole
list can be used, and the persistent state of allocation is one counter.
A process reserves positions in blocks; positions reserved and never used are
skipped, never dealt twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from did_methods.errors import StoreError
from ledger.errors import LedgerStoreError
from ledger.store import StoreWriter

__all__ = [
    "ISSUER_SCHEMA_VERSION",
    "IdentityRow",
    "IndexPermutation",
    "IssuerSql",
    "ListRow",
]

#: Version of the issuer tables' layout (``issuer_meta.schema_version``).
ISSUER_SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS {p}issuer_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS {p}issuer_identities (
    did TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    verification_method TEXT NOT NULL,
    name TEXT NOT NULL,
    status_base TEXT NOT NULL,
    list_length INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS issuer_identities_key ON {p}issuer_identities (public_key);
CREATE TABLE IF NOT EXISTS {p}issuer_status_lists (
    did TEXT NOT NULL REFERENCES {p}issuer_identities (did),
    list_no INTEGER NOT NULL,
    seed BLOB NOT NULL,
    allocated INTEGER NOT NULL,
    revocation BLOB NOT NULL,
    suspension BLOB NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (did, list_no)
);
CREATE TABLE IF NOT EXISTS {p}issuer_documents (
    url TEXT PRIMARY KEY,
    did TEXT NOT NULL REFERENCES {p}issuer_identities (did),
    data BLOB NOT NULL
)
"""

_ROUNDS = 4


class IndexPermutation:
    """A keyed pseudo-random permutation of ``range(length)``: a 4-round Feistel
    network over the smallest even number of bits that holds ``length``, with
    cycle walking. Each round's function is a table of ``2**(bits/2)`` BLAKE2b
    outputs keyed by ``seed``, built once, so a lookup is a few table reads."""

    __slots__ = ("_half", "_length", "_mask", "_tables")

    def __init__(self, seed: bytes, length: int) -> None:
        bits = max(2, (length - 1).bit_length())
        bits += bits % 2
        self._half = bits // 2
        self._mask = (1 << self._half) - 1
        self._length = length
        size = 1 << self._half
        self._tables: list[list[int]] = []
        for r in range(_ROUNDS):
            stream = hashlib.shake_256(b"ssi-wallet status index" + bytes([r]) + seed).digest(
                4 * size
            )
            self._tables.append(
                [int.from_bytes(stream[4 * i : 4 * i + 4], "big") & self._mask for i in range(size)]
            )

    def _forward(self, x: int) -> int:
        half, mask = self._half, self._mask
        left, right = x >> half, x & mask
        for table in self._tables:
            left, right = right, left ^ table[right]
        return (left << half) | right

    def _backward(self, y: int) -> int:
        half, mask = self._half, self._mask
        left, right = y >> half, y & mask
        for table in reversed(self._tables):
            left, right = right ^ table[left], left
        return (left << half) | right

    def index(self, position: int) -> int:
        """The list index dealt at ``position`` (0 <= position < length)."""
        y = self._forward(position)
        while y >= self._length:
            y = self._forward(y)
        return y

    def position(self, index: int) -> int:
        """The position at which ``index`` is dealt (the inverse of :meth:`index`)."""
        x = self._backward(index)
        while x >= self._length:
            x = self._backward(x)
        return x


@dataclass(frozen=True, slots=True)
class IdentityRow:
    """An issuer as its row records it."""

    did: str
    public_key: str
    verification_method: str
    name: str
    status_base: str
    list_length: int


@dataclass(frozen=True, slots=True)
class ListRow:
    """A status list set as its row records it."""

    number: int
    seed: bytes
    allocated: int
    revocation: bytes
    suspension: bytes
    version: int


class IssuerSql:
    """The issuer tables inside one write transaction of the ledger's store.

    Statements are written with ``?`` placeholders and ``{p}`` before table
    names; this rewrites them for the store's dialect (SQLite or PostgreSQL).
    Raises :class:`~did_methods.errors.StoreError` for a store without SQL
    (the memory store) and when a statement fails.
    """

    __slots__ = ("_pg", "_prefix", "_writer")

    def __init__(self, writer: StoreWriter) -> None:
        if writer.dialect not in ("sqlite", "postgresql"):
            raise StoreError(f"the issuer needs a SQL store, not a {writer.dialect!r} store")
        self._writer = writer
        self._pg = writer.dialect == "postgresql"
        self._prefix = writer.table_prefix

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement; return its rows."""
        sql = sql.replace("{p}", self._prefix)
        if self._pg:
            sql = sql.replace("?", "%s")
        try:
            return self._writer.execute(sql, params)
        except LedgerStoreError as exc:
            raise StoreError(f"issuer tables: {exc}") from exc

    def ensure_schema(self) -> None:
        """Create the tables if missing; refuse a layout of another version."""
        schema = _SCHEMA
        if self._pg:
            schema = schema.replace("BLOB", "BYTEA").replace("INTEGER", "BIGINT")
        # The index name is unqualified in PostgreSQL (it lives in its table's schema).
        for statement in schema.split(";"):
            self.run(statement)
        rows = self.run("SELECT value FROM {p}issuer_meta WHERE key = 'schema_version'")
        if not rows:
            self.run(
                "INSERT INTO {p}issuer_meta (key, value) VALUES ('schema_version', ?)",
                (str(ISSUER_SCHEMA_VERSION),),
            )
        elif rows[0][0] != str(ISSUER_SCHEMA_VERSION):
            raise StoreError(
                f"the issuer tables are of layout version {rows[0][0]}, "
                f"this library reads {ISSUER_SCHEMA_VERSION}"
            )

    def insert_identity(self, row: IdentityRow, created_ms: int) -> None:
        """Record a new issuer."""
        self.run(
            "INSERT INTO {p}issuer_identities (did, public_key, verification_method, name, "
            "status_base, list_length, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                row.did,
                row.public_key,
                row.verification_method,
                row.name,
                row.status_base,
                row.list_length,
                created_ms,
            ),
        )

    def identities(self, *, did: str | None, public_key: str | None) -> list[IdentityRow]:
        """The issuers recorded under ``did`` or, without it, under ``public_key``."""
        select = (
            "SELECT did, public_key, verification_method, name, status_base, list_length "
            "FROM {p}issuer_identities WHERE "
        )
        if did is not None:
            rows = self.run(select + "did = ?", (did,))
        else:
            rows = self.run(select + "public_key = ? ORDER BY did", (public_key,))
        return [IdentityRow(r[0], r[1], r[2], r[3], r[4], int(r[5])) for r in rows]

    def lists(self, did: str, numbers: Sequence[int] | None = None) -> list[ListRow]:
        """The status list sets of ``did`` (all, or those ``numbers``), by number."""
        sql = (
            "SELECT list_no, seed, allocated, revocation, suspension, version "
            "FROM {p}issuer_status_lists WHERE did = ?"
        )
        params: list[Any] = [did]
        if numbers is not None:
            sql += " AND list_no IN (" + ", ".join("?" for _ in numbers) + ")"
            params.extend(numbers)
        rows = self.run(sql + " ORDER BY list_no", params)
        return [
            ListRow(int(r[0]), bytes(r[1]), int(r[2]), bytes(r[3]), bytes(r[4]), int(r[5]))
            for r in rows
        ]

    def last_list(self, did: str) -> tuple[int, int] | None:
        """``(number, allocated)`` of ``did``'s newest status list set, or ``None``."""
        rows = self.run(
            "SELECT list_no, allocated FROM {p}issuer_status_lists WHERE did = ? "
            "ORDER BY list_no DESC LIMIT 1",
            (did,),
        )
        return (int(rows[0][0]), int(rows[0][1])) if rows else None

    def insert_list(self, did: str, row: ListRow) -> None:
        """Record a new status list set."""
        self.run(
            "INSERT INTO {p}issuer_status_lists (did, list_no, seed, allocated, revocation, "
            "suspension, version) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (did, row.number, row.seed, row.allocated, row.revocation, row.suspension, row.version),
        )

    def set_allocated(self, did: str, number: int, allocated: int) -> None:
        """Move a list's allocation counter."""
        self.run(
            "UPDATE {p}issuer_status_lists SET allocated = ? WHERE did = ? AND list_no = ?",
            (allocated, did, number),
        )

    def save_bits(self, did: str, row: ListRow) -> None:
        """Write a list's bitstrings and version (the caller checked the old version)."""
        self.run(
            "UPDATE {p}issuer_status_lists SET revocation = ?, suspension = ?, version = ? "
            "WHERE did = ? AND list_no = ?",
            (row.revocation, row.suspension, row.version, did, row.number),
        )

    def documents(self, did: str) -> list[tuple[str, bytes]]:
        """The last published status documents of ``did``: ``(url, bytes)``."""
        rows = self.run("SELECT url, data FROM {p}issuer_documents WHERE did = ?", (did,))
        return [(str(r[0]), bytes(r[1])) for r in rows]

    def save_documents(self, did: str, documents: Sequence[tuple[str, bytes]]) -> None:
        """Record the bytes just published at each URL."""
        for url, data in documents:
            self.run("DELETE FROM {p}issuer_documents WHERE url = ?", (url,))
            self.run(
                "INSERT INTO {p}issuer_documents (url, did, data) VALUES (?, ?, ?)",
                (url, did, data),
            )
