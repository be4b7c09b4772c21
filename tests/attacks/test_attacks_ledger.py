"""Attacks on the ledger (issue 10, items 5 and 10): replays, back-dating, rotated-out keys,
revoked delegates, re-keying, and read-only commands that write. Each test names the attack
and asserts the exact refusal code.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from attacks_ledger_support import (
    MINUTE_MS,
    ORIGIN,
    SKEW_MS,
    STORES,
    Clock,
    ForgetfulStore,
    ed25519,
    files_state,
    foreign_sqlite,
    hostile_log,
    needs_pg,
    open_ledger,
    pg_drop,
    pg_dsn,
    pg_schema,
    pg_schema_exists,
    signed,
    table_names,
)
from click.testing import CliRunner

from did_methods.keyfile import write_key_file
from did_methods.keys import KeyType, PrivateKey
from ledger import Ledger, Log, SQLiteStore, open_store
from ledger.entry import EntryDraft
from ledger.errors import EntryRejected, LedgerKeyMismatch, LedgerStoreError, NotALedgerError
from ledger.facade import Ledger as FacadeLedger
from ledger.registry import RegistryRejected, Signer
from ledger.registry.trusted_issuers import KIND_ACCREDIT, KIND_REVOKE
from ledger.store import MemoryStore
from ssi_wallet.cli import cli

TYPES = ["WorkPermit"]


def _accredit_payload(
    subject: str, valid_from: int, *, delegate: bool = False
) -> dict[str, object]:
    return {
        "v": 1,
        "subject": subject,
        "types": TYPES,
        "jurisdiction": "LT",
        "validFrom": valid_from,
        "validUntil": None,
        "delegate": delegate,
    }


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _key_file(path: Path, key: PrivateKey | None = None) -> Path:
    write_key_file(path, key or ed25519())
    return path


# -- replays (duplicate_entry) ------------------------------------------------------------


@pytest.mark.parametrize("kind", STORES)
def test_replayed_entry_is_refused_on_every_store(kind: str, tmp_path: Path) -> None:
    clock, root = Clock(), ed25519()
    with open_ledger(kind, tmp_path, clock, root) as led:
        entry = led.append("test.data", b"once")
        with pytest.raises(EntryRejected) as raised:
            led.log.append(entry.draft())
        assert raised.value.code == "duplicate_entry"
        assert led.log.size == 1


@pytest.mark.parametrize("kind", STORES)
def test_replay_inside_one_batch_is_refused_and_nothing_is_written(
    kind: str, tmp_path: Path
) -> None:
    clock, root = Clock(), ed25519()
    with open_ledger(kind, tmp_path, clock, root) as led:
        submitter = Signer.for_did_key(root).submitter
        draft = EntryDraft("test.data", b"twice").sign(root, submitter, now=clock)
        other = EntryDraft("test.data", b"other").sign(root, submitter, now=clock)
        with pytest.raises(EntryRejected) as raised:
            led.log.append_batch([draft, other, draft])
        assert (raised.value.code, raised.value.position) == ("duplicate_entry", 2)
        assert led.log.size == 0


@pytest.mark.parametrize("kind", STORES)
def test_replayed_accreditation_after_revocation_does_not_reaccredit(
    kind: str, tmp_path: Path
) -> None:
    clock, root = Clock(), ed25519()
    office = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    with open_ledger(kind, tmp_path, clock, root) as led:
        acc = led.accredit(office, types=TYPES, by=root, jurisdiction="LT")
        original = led.log.get(acc.id).draft()
        clock.advance(minutes=1)
        led.issuers.revoke(acc, by=root)
        clock.advance(minutes=1)
        with pytest.raises(EntryRejected) as raised:
            led.log.append(original)  # within the skew window: the old attack
        assert raised.value.code == "duplicate_entry"
        assert not led.was_accredited(office, "WorkPermit", clock.now).ok


def test_replay_smuggled_in_by_the_operator_is_ignored_by_readers() -> None:
    # A compromised operator whose store does not keep identities appends the replay.
    clock, root = Clock(), ed25519()
    office = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    store = ForgetfulStore()
    led = Ledger(store, origin=ORIGIN, key=root, clock=clock)
    acc = led.accredit(office, types=TYPES, by=root, jurisdiction="LT")
    original = led.log.get(acc.id).draft()
    clock.advance(minutes=1)
    led.issuers.revoke(acc, by=root)
    clock.advance(minutes=1)
    replay = hostile_log(store).append(original)
    problem = led.issuers.rejection(replay.index)
    assert isinstance(problem, RegistryRejected) and problem.code == "duplicate_entry"
    assert not led.was_accredited(office, "WorkPermit", clock.now).ok
    # A fresh reader of the same log judges it the same way.
    reader = Ledger(store, origin=ORIGIN, trust_root=led.issuers.root, clock=clock)
    assert not reader.was_accredited(office, "WorkPermit", clock.now).ok
    assert reader.issuers.rejection(replay.index).code == "duplicate_entry"  # type: ignore[union-attr]


def test_reencoded_signature_is_the_same_entry() -> None:
    # ECDSA signatures can be re-made: the identity is what was signed, not the signature.
    clock = Clock()
    key = PrivateKey.generate(KeyType.P256)
    log = Log(MemoryStore(), origin=ORIGIN, clock=clock)
    submitter = Signer.for_did_key(key).submitter
    first = EntryDraft("test.data", b"same").sign(key, submitter, now=clock)
    second = EntryDraft("test.data", b"same").sign(key, submitter, now=clock)
    assert first.signature != second.signature and first.identity() == second.identity()
    log.append(first)
    with pytest.raises(EntryRejected) as raised:
        log.append(second)
    assert raised.value.code == "duplicate_entry"


# -- back-dating (backdated) ----------------------------------------------------------------


def test_backdated_entry_beyond_the_window_is_refused_by_the_log() -> None:
    clock, key = Clock(), ed25519()
    log = Log(MemoryStore(), origin=ORIGIN, clock=clock)
    submitter = Signer.for_did_key(key).submitter
    log.append(
        EntryDraft("test.data", b"late").sign(key, submitter, now=lambda: clock.at(9 * MINUTE_MS))
    )
    early = EntryDraft("test.data", b"early").sign(
        key, submitter, now=lambda: clock.at(-9 * MINUTE_MS)
    )
    with pytest.raises(EntryRejected) as raised:
        log.append(early)
    assert raised.value.code == "backdated"


def test_backdated_entry_far_in_the_past_is_refused_by_the_clock() -> None:
    clock, key = Clock(), ed25519()
    log = Log(MemoryStore(), origin=ORIGIN, clock=clock)
    submitter = Signer.for_did_key(key).submitter
    old = EntryDraft("test.data", b"old").sign(key, submitter, now=lambda: clock.at(-2 * SKEW_MS))
    with pytest.raises(EntryRejected) as raised:
        log.append(old)
    assert raised.value.code == "timestamp_skew"


def test_backdated_revocation_written_by_the_operator_does_not_change_the_past() -> None:
    clock, root = Clock(), ed25519()
    office = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    store = MemoryStore()
    led = Ledger(store, origin=ORIGIN, key=root, clock=clock)
    acc = led.accredit(office, types=TYPES, by=root, jurisdiction="LT")
    past = clock.at(30 * MINUTE_MS)
    clock.advance(hours=1)
    led.append("test.tick", b"an hour later")  # log time moves on
    before = led.was_accredited(office, "WorkPermit", past).ok
    assert before is True
    # The root's own key, back-dating a revocation 40 minutes: written straight to the log.
    draft = signed(
        Signer.for_did_key(root), KIND_REVOKE, {"v": 1, "accreditation": acc.id},
        clock.ms - 40 * MINUTE_MS,
    )  # fmt: skip
    entry = hostile_log(store).append(draft)
    problem = led.issuers.rejection(entry.index)
    assert isinstance(problem, RegistryRejected) and problem.code == "backdated"
    assert led.was_accredited(office, "WorkPermit", past).ok is True
    # Through the honest log the same draft never gets in at all.
    late = {"v": 1, "accreditation": acc.id}
    with pytest.raises(EntryRejected) as raised:
        led.log.append(
            signed(Signer.for_did_key(root), KIND_REVOKE, late, clock.ms - 41 * MINUTE_MS)
        )
    assert raised.value.code == "timestamp_skew"


def test_backdated_accreditation_written_by_the_operator_counts_for_nothing() -> None:
    clock, root = Clock(), ed25519()
    office = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    store = MemoryStore()
    led = Ledger(store, origin=ORIGIN, key=root, clock=clock)
    led.append("test.tick", b"start")
    clock.advance(hours=2)
    led.append("test.tick", b"two hours later")
    then = clock.ms - 90 * MINUTE_MS
    draft = signed(Signer.for_did_key(root), KIND_ACCREDIT, _accredit_payload(office, then), then)
    entry = hostile_log(store).append(draft)
    assert led.issuers.rejection(entry.index).code == "backdated"  # type: ignore[union-attr]
    assert not led.was_accredited(office, "WorkPermit", clock.at(-60 * MINUTE_MS)).ok


# -- rotated-out keys and revoked delegates ------------------------------------------------


def _delegate_ledger(clock: Clock, root: PrivateKey) -> tuple[Ledger, str, PrivateKey]:
    led = Ledger(MemoryStore(), origin=ORIGIN, key=root, clock=clock)
    k1 = ed25519()
    did = led.dids.create(k1).did
    clock.advance(minutes=1)
    led.accredit(did, types=TYPES, by=root, jurisdiction="LT", delegate=True)
    clock.advance(minutes=1)
    return led, did, k1


def test_rotated_out_key_cannot_append_a_backdated_accreditation() -> None:
    clock, root = Clock(), ed25519()
    led, did, k1 = _delegate_ledger(clock, root)
    clock.advance(minutes=5)
    led.dids.rotate_key(did, Signer(k1, f"{did}#key-1"), ed25519().public_key)
    clock.advance(minutes=1)
    victim = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    # The stolen old key signs "before" the rotation (inside the skew window).
    when = clock.ms - 4 * MINUTE_MS
    draft = signed(Signer(k1, f"{did}#key-1"), KIND_ACCREDIT, _accredit_payload(victim, when), when)
    entry = led.log.append(draft)  # the log takes it: the did:key signature is good
    problem = led.issuers.rejection(entry.index)
    assert isinstance(problem, RegistryRejected) and problem.code == "key_rotated_out"
    assert not led.was_accredited(victim, "WorkPermit", clock.now).ok
    assert not led.was_accredited(victim, "WorkPermit", clock.at(-3 * MINUTE_MS)).ok


def test_rotated_out_key_is_refused_before_anything_is_appended() -> None:
    clock, root = Clock(), ed25519()
    led, did, k1 = _delegate_ledger(clock, root)
    led.dids.rotate_key(did, Signer(k1, f"{did}#key-1"), ed25519().public_key)
    size = led.log.size
    with pytest.raises(RegistryRejected) as raised:
        led.accredit(
            "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            types=TYPES, by=Signer(k1, f"{did}#key-1"), jurisdiction="LT",
        )  # fmt: skip
    assert raised.value.code == "key_rotated_out"
    assert led.log.size == size


def test_rotated_out_key_cannot_update_the_did() -> None:
    clock, root = Clock(), ed25519()
    led, did, k1 = _delegate_ledger(clock, root)
    led.dids.rotate_key(did, Signer(k1, f"{did}#key-1"), ed25519().public_key)
    from ledger.registry.did_method import KIND_UPDATE

    latest = led.dids.latest(did)
    evil = led.dids.template(did)
    evil["verificationMethod"][0]["publicKeyMultibase"] = ed25519().public_key.to_multikey()
    payload = {"v": 1, "did": did, "prev": latest.version_id, "prevDigest": latest.digest,
               "document": evil}  # fmt: skip
    entry = led.log.append(Signer(k1, f"{did}#key-1").sign(KIND_UPDATE, payload, now=clock))
    problem = led.dids.rejection(entry.index)
    assert isinstance(problem, RegistryRejected) and problem.code == "key_rotated_out"
    assert led.dids.latest(did).version_id == latest.version_id


def test_revoked_delegate_cannot_append_a_backdated_accreditation() -> None:
    clock, root = Clock(), ed25519()
    delegate = ed25519()
    delegate_did = Signer.for_did_key(delegate).did
    led = Ledger(MemoryStore(), origin=ORIGIN, key=root, clock=clock)
    acc = led.accredit(delegate_did, types=TYPES, by=root, jurisdiction="LT", delegate=True)
    clock.advance(minutes=5)
    led.issuers.revoke(acc, by=root)
    clock.advance(minutes=1)
    victim = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    when = clock.ms - 3 * MINUTE_MS  # "before" the revocation's timestamp
    draft = signed(
        Signer.for_did_key(delegate), KIND_ACCREDIT, _accredit_payload(victim, when), when
    )
    entry = led.log.append(draft)
    problem = led.issuers.rejection(entry.index)
    assert isinstance(problem, RegistryRejected) and problem.code == "delegate_revoked"
    assert not led.was_accredited(victim, "WorkPermit", clock.at(-2 * MINUTE_MS)).ok


def test_revoked_delegate_is_refused_before_anything_is_appended() -> None:
    clock, root = Clock(), ed25519()
    delegate = ed25519()
    led = Ledger(MemoryStore(), origin=ORIGIN, key=root, clock=clock)
    acc = led.accredit(Signer.for_did_key(delegate).did, types=TYPES, by=root,
                       jurisdiction="LT", delegate=True)  # fmt: skip
    clock.advance(minutes=1)
    led.issuers.revoke(acc, by=root)
    with pytest.raises(RegistryRejected) as raised:
        led.accredit("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
                     types=TYPES, by=delegate, jurisdiction="LT")  # fmt: skip
    assert raised.value.code == "delegate_revoked"


def test_delegated_accreditation_made_before_revocation_still_answers_for_its_past() -> None:
    clock, root = Clock(), ed25519()
    delegate = ed25519()
    victim = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    led = Ledger(MemoryStore(), origin=ORIGIN, key=root, clock=clock)
    acc = led.accredit(Signer.for_did_key(delegate).did, types=TYPES, by=root,
                       jurisdiction="LT", delegate=True)  # fmt: skip
    clock.advance(minutes=1)
    led.accredit(victim, types=TYPES, by=delegate, jurisdiction="LT")
    during = clock.at(MINUTE_MS)
    clock.advance(minutes=5)
    led.issuers.revoke(acc, by=root)
    assert led.was_accredited(victim, "WorkPermit", during).ok
    assert not led.was_accredited(victim, "WorkPermit", clock.now).ok


# -- re-keying (checkpoint_key_mismatch, trust_root_mismatch) -------------------------------


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=needs_pg)])
def test_reopening_with_another_key_is_refused(kind: str, tmp_path: Path) -> None:
    clock, root, other = Clock(), ed25519(), ed25519()
    if kind == "sqlite":
        target: str = str(tmp_path / "ledger.db")
        extra: dict[str, str] = {}
    else:
        target, extra = pg_dsn() or "", {"schema": pg_schema()}
    try:
        with FacadeLedger.open(target, key=root, origin=ORIGIN, clock=clock, **extra) as led:
            led.checkpoint()
        with pytest.raises(LedgerKeyMismatch) as raised:
            FacadeLedger.open(target, key=other, origin=ORIGIN, clock=clock, **extra)
        assert raised.value.code == "checkpoint_key_mismatch"
        with FacadeLedger.open(target, key=root, origin=ORIGIN, clock=clock, **extra) as led:
            assert led.issuers.root == Signer.for_did_key(root).did
    finally:
        if "schema" in extra:
            pg_drop(extra["schema"])


def test_reopening_with_another_trust_root_is_refused(tmp_path: Path) -> None:
    clock, root = Clock(), PrivateKey.generate(KeyType.P256)  # signs no checkpoint
    path = tmp_path / "ledger.db"
    with FacadeLedger.open(path, key=root, origin=ORIGIN, clock=clock):
        pass
    with pytest.raises(LedgerKeyMismatch) as raised:
        FacadeLedger.open(path, key=PrivateKey.generate(KeyType.P256), origin=ORIGIN)
    assert raised.value.code == "trust_root_mismatch"
    # A reader that names no root gets the recorded one, not "no trust root".
    with FacadeLedger.open(path, origin=ORIGIN, read_only=True) as reader:
        assert reader.issuers.root == Signer.for_did_key(root).did


def test_log_made_before_keys_were_recorded_keeps_its_checkpoint_key(tmp_path: Path) -> None:
    clock, root = Clock(), ed25519()
    path = tmp_path / "ledger.db"
    with FacadeLedger.open(path, key=root, origin=ORIGIN, clock=clock) as led:
        led.checkpoint()
    with sqlite3.connect(path) as conn:  # as an older version left it
        conn.execute("DELETE FROM ledger_meta WHERE key = 'checkpoint_key'")
    conn.close()
    with pytest.raises(LedgerKeyMismatch) as raised:
        FacadeLedger.open(path, key=ed25519(), origin=ORIGIN)
    assert raised.value.code == "checkpoint_key_mismatch"


def test_cli_init_with_another_key_refuses_and_same_key_is_idempotent(tmp_path: Path) -> None:
    db = str(tmp_path / "log.db")
    key = str(_key_file(tmp_path / "op.jwk"))
    other = str(_key_file(tmp_path / "other.jwk"))
    assert _cli("ledger", "init", "--db", db, "--key-file", key)[0] == 0
    assert _cli("ledger", "init", "--db", db, "--key-file", key)[0] == 0
    code, output = _cli("ledger", "init", "--db", db, "--key-file", other)
    assert code == 1 and "checkpoint_key_mismatch" in output
    code, output = _cli("ledger", "checkpoint", "--db", db, "--key-file", other)
    assert code == 1 and "checkpoint_key_mismatch" in output


# -- read-only opening never writes (not_a_ledger) -----------------------------------------


def _ledger_file(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.db"
    with FacadeLedger.open(path, key=ed25519(), origin=ORIGIN) as led:
        led.append("test.data", b"x")
        led.checkpoint()
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["ledger", "audit"],
        ["ledger", "get", "0"],
        ["ledger", "checkpoint"],
        ["ledger", "prove-inclusion", "0"],
        ["ledger", "prove-consistency", "1"],
        ["ledger", "did", "resolve", "did:ledger:1111111111111111111111111111111111111111"],
    ],
)
def test_read_only_commands_leave_another_kind_of_sqlite_file_byte_identical(
    tmp_path: Path, command: list[str]
) -> None:
    wallet = foreign_sqlite(tmp_path / "some.wallet")
    before = files_state(wallet)
    cut = 3 if command[1] == "did" else 2
    code, output = _cli(*command[:cut], "--db", str(wallet), *command[cut:])
    assert code == 2 and "not a ledger" in output
    assert files_state(wallet) == before
    assert table_names(wallet) == {"items"}


def test_read_only_commands_leave_a_ledger_byte_identical(tmp_path: Path) -> None:
    path = _ledger_file(tmp_path)
    SQLiteStore(path).close()  # settle the WAL into the file before hashing
    before = files_state(path)
    for command in (["audit"], ["get", "0"], ["checkpoint"], ["prove-inclusion", "0"]):
        code, _ = _cli("ledger", command[0], "--db", str(path), *command[1:])
        assert code == 0, command
    assert files_state(path)[0] == before[0]


def test_get_on_an_empty_file_neither_creates_nor_alters_it(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    code, output = _cli("ledger", "get", "--db", str(empty), "0")
    assert code == 2 and "not a ledger" in output
    assert empty.read_bytes() == b""
    assert not Path(str(empty) + "-wal").exists()


def test_text_file_is_not_a_ledger_in_any_mode(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_bytes(b"these are notes, not a database\n" * 64)
    before = files_state(text)
    for read_only in (True, False):
        with pytest.raises(NotALedgerError) as raised:
            SQLiteStore(text, read_only=read_only)
        assert raised.value.code == "not_a_ledger"
    code, _ = _cli(
        "ledger", "init", "--db", str(text), "--key-file", str(_key_file(tmp_path / "k"))
    )
    assert code == 2
    assert files_state(text) == before


def test_writes_to_another_kind_of_file_are_refused_untouched(tmp_path: Path) -> None:
    wallet = foreign_sqlite(tmp_path / "some.wallet")
    key = str(_key_file(tmp_path / "op.jwk"))
    before = files_state(wallet)
    for command in (
        ["ledger", "append", "--db", str(wallet), "--key-file", key, "--data", "x"],
        ["ledger", "init", "--db", str(wallet), "--key-file", key],
        ["ledger", "did", "create", "--db", str(wallet), "--key-file", key],
    ):
        code, output = _cli(*command)
        assert code == 2 and "not a ledger" in output, command
    assert files_state(wallet) == before


def test_library_read_only_opening_refuses_another_kind_of_file(tmp_path: Path) -> None:
    wallet = foreign_sqlite(tmp_path / "some.wallet")
    before = files_state(wallet)
    with pytest.raises(NotALedgerError):
        FacadeLedger.open(wallet, read_only=True)
    with pytest.raises(NotALedgerError):
        open_store(str(wallet), create=False)
    with pytest.raises(NotALedgerError):
        open_store(str(tmp_path / "missing.db"), read_only=True)
    assert not (tmp_path / "missing.db").exists()
    assert files_state(wallet) == before


def test_read_only_store_refuses_every_write(tmp_path: Path) -> None:
    path = _ledger_file(tmp_path)
    key = ed25519()
    draft = EntryDraft("test.data", b"y").sign(key, Signer.for_did_key(key).submitter)
    before = files_state(path)
    with FacadeLedger.open(path, origin=ORIGIN, read_only=True) as reader:
        with pytest.raises(LedgerStoreError):
            reader.log.append(draft)
        with pytest.raises(LedgerStoreError):
            reader.log.store.bind_origin("another.example/log")
        assert reader.log.size == 1
    assert files_state(path)[0] == before[0]


@needs_pg
def test_postgres_read_only_opening_creates_no_schema() -> None:
    schema = pg_schema()
    try:
        with pytest.raises(NotALedgerError):
            FacadeLedger.open(pg_dsn() or "", schema=schema, read_only=True)
        assert not pg_schema_exists(schema)
        from ledger.store.postgres import PostgresStore

        with pytest.raises(NotALedgerError):
            PostgresStore(pg_dsn() or "", schema=schema, create=False)
        assert not pg_schema_exists(schema)
    finally:
        pg_drop(schema)


@needs_pg
def test_postgres_read_only_opening_reads_and_refuses_writes() -> None:
    schema, root, clock = pg_schema(), ed25519(), Clock()
    dsn = pg_dsn() or ""
    try:
        with FacadeLedger.open(dsn, key=root, origin=ORIGIN, clock=clock, schema=schema) as led:
            led.append("test.data", b"x")
        with FacadeLedger.open(dsn, origin=ORIGIN, schema=schema, read_only=True) as reader:
            assert reader.log.size == 1
            draft = EntryDraft("test.data", b"y").sign(root, Signer.for_did_key(root).submitter)
            with pytest.raises(LedgerStoreError):
                reader.log.append(draft)
            with pytest.raises(LedgerStoreError), reader.log.store.write():
                pass
            assert reader.log.size == 1
    finally:
        pg_drop(schema)


# -- the layout upgrade --------------------------------------------------------------------


def _as_version_1(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE ledger_identities")
        conn.execute("DELETE FROM ledger_meta WHERE key = 'ledger_id'")
        conn.execute("UPDATE ledger_meta SET value = '1' WHERE key = 'schema_version'")
    conn.close()


def test_version_1_file_is_read_as_is_and_upgraded_when_written(tmp_path: Path) -> None:
    clock, root = Clock(), ed25519()
    path = tmp_path / "ledger.db"
    with FacadeLedger.open(path, key=root, origin=ORIGIN, clock=clock) as led:
        entry = led.append("test.data", b"old")
    _as_version_1(path)
    SQLiteStore(path, read_only=True).close()
    before = files_state(path)
    with FacadeLedger.open(path, origin=ORIGIN, read_only=True) as reader:
        assert reader.log.get(0) == entry
    assert files_state(path)[0] == before[0]
    assert "ledger_identities" not in table_names(path)
    with FacadeLedger.open(path, key=root, origin=ORIGIN, clock=clock) as led:
        assert "ledger_identities" in table_names(path)
        with pytest.raises(EntryRejected) as raised:
            led.log.append(entry.draft())  # the upgrade filled in the old entries
        assert raised.value.code == "duplicate_entry"


def test_ledger_id_is_recorded_once_per_log(tmp_path: Path) -> None:
    a = _ledger_file(tmp_path)
    store = SQLiteStore(a)
    first = store.meta("ledger_id")
    store.close()
    b = tmp_path / "b.db"
    other = SQLiteStore(b)
    assert first and other.meta("ledger_id") and other.meta("ledger_id") != first
    other.close()
    again = SQLiteStore(a)
    assert again.meta("ledger_id") == first
    again.close()


def test_replayed_status_anchor_cannot_roll_a_status_list_back() -> None:
    clock, root, issuer = Clock(), ed25519(), ed25519()
    did = Signer.for_did_key(issuer).did
    url = "https://issuer.example/status/1"
    led = Ledger(MemoryStore(), origin=ORIGIN, key=root, clock=clock)
    first = led.status_lists.anchor_status_list(url, b"list: nobody revoked", issuer=did,
                                                signer=issuer)  # fmt: skip
    clock.advance(minutes=1)
    revoked = led.status_lists.anchor_status_list(url, b"list: one revoked", issuer=did,
                                                  signer=issuer)  # fmt: skip
    clock.advance(minutes=1)
    with pytest.raises(EntryRejected) as raised:
        led.log.append(led.log.get(first.index).draft())  # the old list, un-revoking
    assert raised.value.code == "duplicate_entry"
    assert led.status_lists.current(url) == revoked


def test_same_status_list_published_again_in_one_instant_is_a_new_anchor() -> None:
    clock, root, issuer = Clock(), ed25519(), ed25519()
    did = Signer.for_did_key(issuer).did
    url = "https://issuer.example/status/1"
    led = Ledger(MemoryStore(), origin=ORIGIN, key=root, clock=clock)
    a = led.status_lists.anchor_status_list(url, b"v0", issuer=did, signer=issuer)
    b = led.status_lists.anchor_status_list(url, b"v1", issuer=did, signer=issuer)
    c = led.status_lists.anchor_status_list(url, b"v0", issuer=did, signer=issuer)
    assert (a.digest, c.digest) == (a.digest, a.digest) and b.digest != a.digest
    assert c.index > b.index and c.time_ms > b.time_ms  # signed anew, never a replay
    assert led.status_lists.current(url) == c


@needs_pg
def test_postgres_version_1_schema_is_upgraded_when_written() -> None:
    import psycopg

    clock, root, schema = Clock(), ed25519(), pg_schema()
    dsn = pg_dsn() or ""
    try:
        with FacadeLedger.open(dsn, key=root, origin=ORIGIN, clock=clock, schema=schema) as led:
            entry = led.append("test.data", b"old")
        with psycopg.connect(dsn, autocommit=True) as conn:  # as an older version left it
            conn.execute(f"DROP TABLE {schema}.ledger_identities")
            conn.execute(f"DELETE FROM {schema}.ledger_meta WHERE key = 'ledger_id'")
            conn.execute(
                f"UPDATE {schema}.ledger_meta SET value = '1' WHERE key = 'schema_version'"
            )
        with FacadeLedger.open(dsn, origin=ORIGIN, schema=schema, read_only=True) as reader:
            assert reader.log.get(0) == entry  # read as it is, not upgraded
            assert reader.log.store.meta("ledger_id") is None
        with FacadeLedger.open(dsn, key=root, origin=ORIGIN, clock=clock, schema=schema) as led:
            assert led.log.store.meta("ledger_id")
            with pytest.raises(EntryRejected) as raised:
                led.log.append(entry.draft())
            assert raised.value.code == "duplicate_entry"
    finally:
        pg_drop(schema)
