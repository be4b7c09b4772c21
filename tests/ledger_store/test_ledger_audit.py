"""The stream audit: a clean log passes; each kind of tampering done directly in the
SQLite file or the PostgreSQL tables is found, at the first bad index."""

from __future__ import annotations

import dataclasses
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_store_support import FIXED, ORIGIN, Submitter, pg_drop_schema, pg_dsn

from ledger._merkle import CompactRange, hash_leaf
from ledger.audit import AuditReport, audit
from ledger.checkpoint import NoteSigner
from ledger.entry import Entry, EntryDraft
from ledger.errors import IntegrityError, LedgerError
from ledger.log import Log, did_key_lookup
from ledger.store import MemoryStore, SQLiteStore, Store

N = 40


class Database:
    """Raw SQL access to a store's tables, bypassing the store."""

    def __init__(self, backend: str, path: Path | None, dsn: str | None, schema: str) -> None:
        self.backend = backend
        self.path = path
        self.dsn = dsn
        self.schema = schema

    def open(self) -> Store:
        if self.backend == "sqlite":
            assert self.path is not None
            return SQLiteStore(self.path)
        from ledger.store import PostgresStore

        assert self.dsn is not None
        return PostgresStore(self.dsn, schema=self.schema)

    def sql(self, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
        if self.backend == "sqlite":
            conn = sqlite3.connect(self.path)
            try:
                rows = conn.execute(statement, params).fetchall()
                conn.commit()
                return rows
            finally:
                conn.close()
        import psycopg

        statement = statement.replace("?", "%s").replace("ledger_", f"{self.schema}.ledger_")
        with psycopg.connect(self.dsn, autocommit=True) as conn, conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []

    def entry(self, index: int) -> bytes:
        return bytes(self.sql("SELECT data FROM ledger_entries WHERE idx = ?", (index,))[0][0])

    def set_entry(self, index: int, data: bytes) -> None:
        self.sql("UPDATE ledger_entries SET data = ? WHERE idx = ?", (data, index))

    def set_node(self, level: int, index: int, value: bytes) -> None:
        self.sql(
            "UPDATE ledger_nodes SET hash = ? WHERE level = ? AND idx = ?", (value, level, index)
        )


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        yield Database("sqlite", tmp_path / "tamper.db", None, "")
        return
    dsn = pg_dsn()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        yield Database("postgres", None, dsn, schema)
    finally:
        pg_drop_schema(dsn, schema)


@pytest.fixture
def built(
    db: Database, alice: Submitter, bob: Submitter, note_signer: NoteSigner
) -> dict[str, Any]:
    """A log of N entries by two submitters with a checkpoint at N; tails recorded on the way."""
    store = db.open()
    log = Log(store, origin=ORIGIN, signer=note_signer)
    drafts = [
        d for pair in zip(alice.drafts(N // 2), bob.drafts(N // 2), strict=True) for d in pair
    ]
    tails = {}
    for start in range(0, N, 10):
        log.append_batch(drafts[start : start + 10])
        tails[start + 10] = store.tail()
    note = log.checkpoint()
    store.close()
    return {"tails": tails, "note": note, "signer": note_signer}


def run_audit(db: Database, **kwargs: Any) -> AuditReport:
    store = db.open()
    try:
        return audit(store, **kwargs)
    finally:
        store.close()


def assert_bad(report: AuditReport, index: int | None, words: str) -> None:
    assert report.ok is False, report
    assert report.first_bad_index == index, report
    assert words in (report.reason or ""), report
    with pytest.raises(IntegrityError) as info:
        report.raise_for_failure()
    assert info.value.index == index


def test_clean_log_audits_ok_with_everything_checked(db: Database, built: dict[str, Any]) -> None:
    seen: list[tuple[int, int]] = []
    report = run_audit(
        db,
        checkpoint_note=built["note"],
        verifiers=[built["signer"].verifier],
        key_lookup=did_key_lookup,
        progress=lambda done, total: seen.append((done, total)),
        page=7,
    )
    assert report.ok and report.size == N and report.checkpoint_size == N
    assert report.signatures_checked
    store = db.open()
    assert report.root == Log(store, origin=ORIGIN).root()
    store.close()
    assert seen[-1] == (N, N) and len(seen) == -(-N // 7)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    with pytest.raises(TypeError):
        bool(report)
    report.raise_for_failure()


def _changed(data: bytes, **changes: Any) -> bytes:
    return dataclasses.replace(Entry.decode(data), **changes).encode()


@pytest.mark.parametrize("keys", [True, False], ids=["with-signatures", "no-signatures"])
def test_changed_payload_names_the_entry(db: Database, built: dict[str, Any], keys: bool) -> None:
    db.set_entry(17, _changed(db.entry(17), payload=b"rewritten"))
    lookup = did_key_lookup if keys else None
    report = run_audit(db, key_lookup=lookup)
    assert_bad(report, 17, "signature" if keys else "changed after it was appended")


def test_changed_entry_with_its_leaf_node_fixed_up(db: Database, built: dict[str, Any]) -> None:
    new = _changed(db.entry(17), payload=b"rewritten")
    db.set_entry(17, new)
    db.set_node(0, 17, hash_leaf(new))
    # Without signatures the chain breaks at 18; with them entry 17 itself fails.
    assert_bad(run_audit(db), 18, "prev_hash")
    assert_bad(run_audit(db, key_lookup=did_key_lookup), 17, "signature")


def test_flipped_byte(db: Database, built: dict[str, Any]) -> None:
    data = bytearray(db.entry(5))
    data[-3] ^= 0x01  # inside the timestamp: still well-formed, so the chain catches it
    db.set_entry(5, bytes(data))
    assert_bad(run_audit(db), 5, "changed")
    data[0] = 0xA6  # no longer an entry at all
    db.set_entry(5, bytes(data))
    assert_bad(run_audit(db), 5, "malformed")


def test_deleted_entry(db: Database, built: dict[str, Any]) -> None:
    db.sql("DELETE FROM ledger_entries WHERE idx = 23")
    assert_bad(run_audit(db), 23, "missing")


def test_reordered_entries(db: Database, built: dict[str, Any]) -> None:
    a, b = db.entry(11), db.entry(12)
    db.set_entry(11, b)
    db.set_entry(12, a)
    assert_bad(run_audit(db), 11, "index 12")


def test_duplicated_entry(db: Database, built: dict[str, Any]) -> None:
    db.set_entry(31, db.entry(30))
    assert_bad(run_audit(db), 31, "index 30")


def test_replayed_entry_renumbered(db: Database, built: dict[str, Any]) -> None:
    """A copy of entry 3 re-indexed as 31 keeps a valid signature but breaks the chain."""
    db.set_entry(31, _changed(db.entry(3), index=31))
    assert_bad(run_audit(db, key_lookup=did_key_lookup), 31, "prev_hash")


def test_truncated_log(db: Database, built: dict[str, Any]) -> None:
    db.sql("DELETE FROM ledger_entries WHERE idx >= 30")
    assert_bad(run_audit(db), 30, "missing")


def test_truncated_log_with_tail_rewritten_is_caught_by_the_checkpoint(
    db: Database, built: dict[str, Any]
) -> None:
    db.sql("DELETE FROM ledger_entries WHERE idx >= 30")
    db.sql("DELETE FROM ledger_nodes WHERE (idx + 1) * (1 << level) > 30")
    old = built["tails"][30]
    db.sql(
        "UPDATE ledger_tail SET size = ?, last_hash = ?, border = ? WHERE id = 0",
        (old.size, old.last_hash, old.border_blob()),
    )
    assert_bad(run_audit(db), 30, "checkpoint commits to 40")


def test_tail_claiming_more_entries(db: Database, built: dict[str, Any]) -> None:
    border = bytes(db.sql("SELECT border FROM ledger_tail")[0][0]) + b"\x00" * 32
    db.sql("UPDATE ledger_tail SET size = 41, border = ? WHERE id = 0", (border,))
    assert_bad(run_audit(db), 40, "missing")


def test_changed_last_entry_is_caught_by_the_tail(db: Database, built: dict[str, Any]) -> None:
    db.set_entry(N - 1, _changed(db.entry(N - 1), payload=b"x"))
    assert_bad(run_audit(db), N - 1, "chain hash")


def test_tampered_stored_node(db: Database, built: dict[str, Any]) -> None:
    # 40 = 32 + 8: the root folds nodes (5, 0) and (3, 4).
    db.set_node(3, 4, b"\x11" * 32)
    assert_bad(run_audit(db), 32, "stored Merkle node (3, 4)")


def test_tampered_border(db: Database, built: dict[str, Any]) -> None:
    db.sql("UPDATE ledger_tail SET border = ? WHERE id = 0", (b"\x22" * 64,))
    assert_bad(run_audit(db), None, "border")


def test_rewritten_history_is_caught_only_by_the_checkpoint(
    db: Database, built: dict[str, Any], alice: Submitter
) -> None:
    """Every table rewritten consistently (a fork with valid signatures): only the
    signed checkpoint shows it."""
    fork = MemoryStore()
    log = Log(fork, origin=ORIGIN)
    log.append_batch(
        [EntryDraft("fork", str(i).encode()).sign(alice.key, alice.did_url) for i in range(N)]
    )
    db.sql("DELETE FROM ledger_entries")
    db.sql("DELETE FROM ledger_nodes")
    db.sql("DELETE FROM ledger_kinds")
    for index, data in fork.read_entries(0, N):
        db.sql("INSERT INTO ledger_entries (idx, data) VALUES (?, ?)", (index, data))
    for index, kind, ts in fork.read_kind_rows(0, N):
        db.sql(
            "INSERT INTO ledger_kinds (idx, kind, ts) VALUES (?, ?, ?)", (index, kind.decode(), ts)
        )
    cr = CompactRange.empty()
    nodes: list[tuple[int, int, bytes]] = []
    for _, data in fork.read_entries(0, N):
        cr = cr.append(hash_leaf(data), lambda node, h: nodes.append((node[0], node[1], h)))
    for level, index, h in nodes:
        db.sql("INSERT INTO ledger_nodes (level, idx, hash) VALUES (?, ?, ?)", (level, index, h))
    tail = fork.tail()
    db.sql(
        "UPDATE ledger_tail SET size = ?, last_hash = ?, border = ? WHERE id = 0",
        (tail.size, tail.last_hash, tail.border_blob()),
    )
    # Everything but the checkpoint is consistent.
    report = run_audit(db, key_lookup=did_key_lookup)
    assert_bad(report, None, "rewritten")
    # And a checkpoint from a witness (given out of band) catches it the same way.
    report = run_audit(db, checkpoint_note=built["note"], verifiers=[built["signer"].verifier])
    assert_bad(report, None, "rewritten")


def test_forged_checkpoint_signature(db: Database, built: dict[str, Any]) -> None:
    note = built["note"].replace(ORIGIN + "\n40\n", ORIGIN + "\n39\n")
    report = run_audit(db, checkpoint_note=note, verifiers=[built["signer"].verifier])
    assert_bad(report, None, "does not verify")
    db.sql("UPDATE ledger_checkpoints SET note = ?", (note,))
    assert_bad(run_audit(db, verifiers=[built["signer"].verifier]), None, "invalid")
    # Without verifiers the stored checkpoint is only parsed, and its root is wrong for 39.
    assert_bad(run_audit(db), None, "rewritten")


def test_checkpoint_note_needs_verifiers(db: Database, built: dict[str, Any]) -> None:
    with pytest.raises(LedgerError, match="verifiers"):
        run_audit(db, checkpoint_note=built["note"])


def test_audit_of_empty_and_memory_stores(alice: Submitter) -> None:
    store = MemoryStore()
    report = audit(store)
    assert report.ok and report.size == 0 and report.checkpoint_size is None
    Log(store, origin=ORIGIN).append_batch(alice.drafts(3))
    store._entries[1] = store._entries[2]
    assert_bad(audit(store), 1, "index 2")


def test_check_nodes_compares_every_stored_node(db: Database, built: dict[str, Any]) -> None:
    # (2, 3) covers leaves 12..15; it is not on the root's border of a 40-leaf tree,
    # so only the deep check sees it.
    db.set_node(2, 3, b"\x33" * 32)
    assert run_audit(db).ok
    assert_bad(run_audit(db, check_nodes=True, page=16), 12, "stored Merkle node (2, 3)")


def test_check_nodes_leaf_and_missing_node(db: Database, built: dict[str, Any]) -> None:
    db.set_node(0, 7, b"\x44" * 32)
    assert_bad(run_audit(db, check_nodes=True), 7, "leaf")
    db.set_node(0, 7, hash_leaf(db.entry(7)))
    assert run_audit(db, check_nodes=True).ok
    db.sql("DELETE FROM ledger_nodes WHERE level = 1 AND idx = 2")
    assert_bad(run_audit(db, check_nodes=True, page=3), 4, "stored Merkle node (1, 2)")


def test_check_nodes_reports_the_earlier_of_node_and_entry_findings(
    db: Database, built: dict[str, Any]
) -> None:
    db.set_node(0, 5, b"\x55" * 32)
    db.sql("DELETE FROM ledger_entries WHERE idx = 9")
    assert_bad(run_audit(db, check_nodes=True), 5, "leaf")
    assert_bad(run_audit(db), 9, "missing")


_FUZZ_DRAFTS = Submitter(5).drafts(12, tag="fuzz", at=FIXED)  # see test_ledger_log


@settings(max_examples=100)
@given(st.integers(0, 11), st.binary(max_size=400), st.booleans())
def test_audit_reports_arbitrary_stored_bytes_and_never_raises(
    index: int, junk: bytes, keys: bool
) -> None:
    store = MemoryStore()
    Log(store, origin=ORIGIN, clock=lambda: FIXED).append_batch(_FUZZ_DRAFTS)
    original = store._entries[index]
    store._entries[index] = junk
    report = audit(store, key_lookup=did_key_lookup if keys else None, check_nodes=True)
    if junk == original:
        assert report.ok
    else:
        assert not report.ok and report.first_bad_index in (index, index + 1)


# -- the kind index (ledger_kinds): step 6 ------------------------------------------------


def assert_kind_finding(report: AuditReport, index: int, code: str) -> None:
    assert report.ok is False, report
    assert report.code == code, report
    assert report.first_bad_index == index, report
    assert "ledger_kinds" in (report.reason or ""), report
    with pytest.raises(IntegrityError) as info:
        report.raise_for_failure()
    assert (info.value.index, info.value.code) == (index, code)


@pytest.mark.parametrize("page", [4096, 4])
def test_rewritten_kind_row(db: Database, built: dict[str, Any], page: int) -> None:
    """A compromised operator turns entry 23's kind into another: followers reading the
    index would skip it; the audit compares the row with the entry's own kind."""
    db.sql("UPDATE ledger_kinds SET kind = 'test.other' WHERE idx = 23")
    assert_kind_finding(run_audit(db, page=page), 23, "kind_index_mismatch")


@pytest.mark.parametrize("page", [4096, 4])
def test_rewritten_timestamp_row(db: Database, built: dict[str, Any], page: int) -> None:
    db.sql("UPDATE ledger_kinds SET ts = ts + 1 WHERE idx = 7")
    assert_kind_finding(run_audit(db, page=page), 7, "kind_index_mismatch")


@pytest.mark.parametrize(("index", "page"), [(15, 4096), (15, 4), (0, 4), (N - 1, 4), (N - 1, 3)])
def test_deleted_kind_row(db: Database, built: dict[str, Any], index: int, page: int) -> None:
    db.sql("DELETE FROM ledger_kinds WHERE idx = ?", (index,))
    assert_kind_finding(run_audit(db, page=page), index, "kind_index_missing")


@pytest.mark.parametrize("index", [N, N + 1000])
def test_extra_kind_row(db: Database, built: dict[str, Any], index: int) -> None:
    """A row for an index the log does not hold (it would also block the append there)."""
    db.sql("INSERT INTO ledger_kinds (idx, kind, ts) VALUES (?, 'test.entry', 1)", (index,))
    assert_kind_finding(run_audit(db), index, "kind_index_extra")


def test_kind_rows_of_entries_appended_during_the_audit_are_not_extra(
    db: Database, built: dict[str, Any], alice: Submitter
) -> None:
    """Entries (with their rows) appended after the audit read the tail are not extra."""
    store = db.open()
    try:
        log = Log(store, origin=ORIGIN)

        def append_once(done: int, total: int) -> None:
            if done == total and log.size == total:
                log.append_batch(alice.drafts(3, tag="late"))

        report = audit(store, progress=append_once)
        assert report.ok, report
        assert (report.size, log.size) == (N, N + 3)
    finally:
        store.close()


def test_the_earlier_of_entry_and_kind_row_findings_is_reported(
    db: Database, built: dict[str, Any]
) -> None:
    db.sql("UPDATE ledger_kinds SET kind = 'test.other' WHERE idx = 30")
    db.set_entry(10, _changed(db.entry(10), payload=b"changed"))
    report = run_audit(db, page=16)
    assert (report.first_bad_index, report.code) == (10, None), report
    db.set_entry(10, _changed(db.entry(10), payload=b"changed"))  # still changed
    db.sql("UPDATE ledger_kinds SET kind = 'test.other' WHERE idx = 3")
    assert_kind_finding(run_audit(db, page=16), 3, "kind_index_mismatch")


def test_a_kind_row_of_another_type_is_a_mismatch_not_a_crash(
    db: Database, built: dict[str, Any]
) -> None:
    """SQLite keeps what it is given: a timestamp stored as text or a kind as a blob."""
    if db.backend != "sqlite":
        pytest.skip("PostgreSQL's columns are typed")
    for statement in (
        "UPDATE ledger_kinds SET ts = 'soon' WHERE idx = 2",
        "UPDATE ledger_kinds SET ts = 2, kind = CAST('test.entry' AS BLOB) WHERE idx = 2",
    ):
        db.sql(statement)
        assert_kind_finding(run_audit(db), 2, "kind_index_mismatch")


def test_memory_store_kind_index_is_audited(alice: Submitter) -> None:
    store = MemoryStore()
    Log(store, origin=ORIGIN).append_batch(alice.drafts(5))
    assert audit(store).ok
    kind, ts = store._kinds[3]
    store._kinds[3] = ("test.other", ts)
    assert_kind_finding(audit(store), 3, "kind_index_mismatch")
    del store._kinds[3]
    assert_kind_finding(audit(store), 3, "kind_index_missing")
    store._kinds[3] = (kind, ts)
    store._kinds[9] = (kind, ts)
    assert_kind_finding(audit(store), 9, "kind_index_extra")


def _kinds_log(db: Database, alice: Submitter) -> None:
    store = db.open()
    log = Log(store, origin=ORIGIN)
    log.append_batch(alice.drafts(3, kind="test.grant"))
    log.append_batch(alice.drafts(1, kind="test.revoke", tag="r"))
    log.append_batch(alice.drafts(1, kind="test.grant", tag="g"))
    log.append_batch(alice.drafts(1, kind="test.revoke", tag="s"))
    store.close()


def _of_kinds(db: Database) -> Any:
    store = db.open()
    try:
        return Log(store, origin=ORIGIN).entries_of_kinds(0, 6, ["test.revoke"])
    finally:
        store.close()


@pytest.mark.parametrize(
    "tamper",
    [
        "DELETE FROM ledger_kinds WHERE idx = 4",  # the count no longer covers the range
        "UPDATE ledger_kinds SET ts = 0",  # times below the entries handed out
        "UPDATE ledger_kinds SET kind = 'test.grant' WHERE idx = 5",
    ],
    ids=["deleted", "times", "kind"],
)
def test_follower_reads_the_entries_when_the_index_contradicts_them(
    db: Database, alice: Submitter, tamper: str
) -> None:
    """What a follower can check cheaply (count, the rows it reads, their times) makes
    it read the range's entries (None); a kind rewritten to a kind it does not read
    hides the entry from it, and only the audit sees that."""
    _kinds_log(db, alice)
    found = _of_kinds(db)
    assert found is not None and [e.index for e, _ in found[0]] == [3, 5]
    db.sql(tamper)
    if "kind =" in tamper:
        found = _of_kinds(db)
        assert found is not None and [e.index for e, _ in found[0]] == [3]
        assert_kind_finding(run_audit(db), 5, "kind_index_mismatch")
    else:
        assert _of_kinds(db) is None
        assert run_audit(db).code in ("kind_index_missing", "kind_index_mismatch")
