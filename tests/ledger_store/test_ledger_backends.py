"""Backend specifics: SQLite settings, schema versions, hostile column types, PostgreSQL set-up."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
from ledger_store_support import ORIGIN, Submitter, pg_drop_schema, pg_dsn

from ledger.audit import audit
from ledger.errors import LedgerStoreError
from ledger.log import Log
from ledger.store import MemoryStore, SQLiteStore, open_store


def test_sqlite_durability_and_erasure_settings(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    conn = store._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == b"wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
    store.close()


def test_sqlite_schema_version_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE ledger_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(LedgerStoreError, match="schema version"):
        SQLiteStore(path)


def test_sqlite_unopenable_path(tmp_path: Path) -> None:
    with pytest.raises(LedgerStoreError):
        SQLiteStore(tmp_path / "missing-dir" / "x.db")
    (tmp_path / "junk.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(LedgerStoreError):
        SQLiteStore(tmp_path / "junk.db")


def test_sqlite_shares_a_file_with_other_tables(tmp_path: Path, alice: Submitter) -> None:
    path = tmp_path / "shared.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE vault_records (id INTEGER PRIMARY KEY, blob BLOB)")
    store = SQLiteStore(path)
    Log(store, origin=ORIGIN).append_batch(alice.drafts(3))
    assert audit(store).ok
    store.close()


def test_sqlite_entry_with_a_changed_column_type_is_audited(
    tmp_path: Path, alice: Submitter
) -> None:
    path = tmp_path / "t.db"
    store = SQLiteStore(path)
    Log(store, origin=ORIGIN).append_batch(alice.drafts(12))
    store.close()
    with sqlite3.connect(path) as conn:
        # Same bytes, TEXT type: the content is unchanged, so the log still verifies.
        conn.execute("UPDATE ledger_entries SET data = CAST(data AS TEXT) WHERE idx = 4")
    store = SQLiteStore(path)
    assert audit(store).ok
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE ledger_entries SET data = 'hello' WHERE idx = 9")
        conn.execute("UPDATE ledger_entries SET data = X'FF00' WHERE idx = 10")
    store = SQLiteStore(path)
    report = audit(store)
    assert report.first_bad_index == 9 and "malformed" in (report.reason or "")
    store.close()


def test_open_store_picks_the_backend(tmp_path: Path) -> None:
    assert isinstance(open_store(":memory:"), MemoryStore)
    sqlite_store = open_store(str(tmp_path / "o.db"))
    assert isinstance(sqlite_store, SQLiteStore)
    sqlite_store.close()


@pytest.mark.postgres
def test_postgres_schema_is_created_once_and_version_checked() -> None:
    dsn = pg_dsn()
    from ledger.store import PostgresStore

    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        first = PostgresStore(dsn, schema=schema)
        second = PostgresStore(dsn, schema=schema)  # existing tables are reused
        assert first.tail() == second.tail()
        import psycopg

        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(
                f"UPDATE {schema}.ledger_meta SET value = '99' WHERE key = 'schema_version'"
            )
        with pytest.raises(LedgerStoreError, match="schema version"):
            PostgresStore(dsn, schema=schema)
        first.close()
        second.close()
    finally:
        pg_drop_schema(dsn, schema)


@pytest.mark.postgres
def test_postgres_bad_schema_name_and_unreachable_server() -> None:
    from ledger.store import PostgresStore

    with pytest.raises(LedgerStoreError, match="identifier"):
        PostgresStore("postgresql://nobody@127.0.0.1:1/none", schema="x; DROP TABLE y")
    with pytest.raises(LedgerStoreError, match="cannot open"):
        PostgresStore("postgresql://nobody@127.0.0.1:1/none", connect_timeout=1)
