"""The wallet file at scale: index lookups only, lazy opening, layout migration, passphrase.

A spy on the SQLite connection records every statement a call runs and asks
SQLite for its query plan: no statement of ``store`` or ``answer`` may scan a
table (a plan step ``SCAN`` over ``items``, ``credentials`` or
``credential_tags``), and the work per call (SQLite virtual machine steps and
records opened) must not grow with the number of credentials held.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from instants import day_from_today
from vector_files import VECTORS

from credentials import schemas
from ssi_wallet import Holder, Issuer, policies
from ssi_wallet._wallet_store import (
    LAYOUT,
    NotAWalletError,
    WalletIntegrityError,
    WalletLockedError,
    WalletStore,
)
from ssi_wallet.request import PresentationRequest

V1 = VECTORS / "wallet-v1"
PASSPHRASE = "correct horse battery staple"
AUDIENCE = "did:web:clinic.example"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def v1_copy(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    target = tmp_path / "amina.wallet"
    shutil.copyfile(V1 / "amina.wallet", target)
    expected = json.loads((V1 / "expected.json").read_text(encoding="utf-8"))
    return target, expected


def claims(type_name: str) -> dict[str, Any]:
    subject = schemas.example_subject(type_name)
    subject.pop("id")
    if "expiryDate" in subject:
        subject["issueDate"] = day_from_today(-30)
        subject["expiryDate"] = day_from_today(3650)  # kept for years
    return subject


@pytest.fixture(scope="module")
def ministry() -> Issuer:
    return Issuer.create(name="Migration Department")


@pytest.fixture(scope="module")
def fillers(ministry: Issuer) -> list[Any]:
    """Signed credentials of types a right-to-work request does not ask for."""
    subject = "did:key:z6MkhFgqshXyf3xptSNBWCAeF2QXJ2goyBwrUrb8b6bX9Snw"
    out = []
    for type_name, fmt in (
        ("Visa", "sd-jwt"),
        ("QualificationCredential", "di-eddsa"),
        ("ResidencePermit", "vc-jwt"),
        ("PersonIdentificationData", "sd-jwt"),
    ):
        out.append(ministry.issue(type_name, subject=subject, claims=claims(type_name), format=fmt))
    return out


def fill(holder: Holder, fillers: list[Any], count: int) -> None:
    batch = [fillers[i % len(fillers)] for i in range(count)]
    holder.store_many(batch, verify_now=False)


class Spy:
    """Counts statements, SQLite VM steps and the tables scanned by a connection's statements."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.statements: list[str] = []
        self.steps = 0

    def __enter__(self) -> Spy:
        self.conn.set_trace_callback(self.statements.append)

        def step() -> int:
            self.steps += 1
            return 0

        self.conn.set_progress_handler(step, 1)
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.set_trace_callback(None)
        self.conn.set_progress_handler(None, 1)

    def scans(self) -> list[str]:
        found = []
        for sql in self.statements:
            head = sql.lstrip().split(None, 1)[0].upper()
            if head not in ("SELECT", "INSERT", "DELETE", "UPDATE"):
                continue
            for row in self.conn.execute("EXPLAIN QUERY PLAN " + sql):
                detail = str(row[-1])
                if detail.startswith("SCAN") and any(
                    t in detail for t in ("items", "credentials", "credential_tags")
                ):
                    found.append(f"{detail}  <-  {sql[:120]}")
        return found


def spy(holder: Holder) -> Spy:
    return Spy(holder._store._conn)


def work_request() -> PresentationRequest:
    return PresentationRequest.for_policy(policies.right_to_work(sector="Q86"), audience=AUDIENCE)


def wallet_with_permit(
    tmp_path: Path, ministry: Issuer, fillers: list[Any], size: int, name: str
) -> Holder:
    holder = Holder.create(tmp_path / name, passphrase=PASSPHRASE)
    fill(holder, fillers, size)
    holder.store(ministry.issue("WorkPermit", subject=holder.did, claims=claims("WorkPermit")))
    return holder


# -- no table scans, constant work ----------------------------------------------------


def test_store_and_answer_run_no_table_scan(
    tmp_path: Path, ministry: Issuer, fillers: list[Any]
) -> None:
    holder = wallet_with_permit(tmp_path, ministry, fillers, 300, "a.wallet")
    permit = ministry.issue("WorkPermit", subject=holder.did, claims=claims("WorkPermit"))
    with spy(holder) as s:
        holder.store(permit)
        holder.answer(work_request(), consent=lambda ask: True)
    assert s.statements, "the spy saw no statement"
    assert not any("MAX(" in sql.upper() for sql in s.statements)
    assert s.scans() == []
    holder.close()


def test_work_per_store_and_answer_does_not_grow_with_the_wallet(
    tmp_path: Path, ministry: Issuer, fillers: list[Any]
) -> None:
    steps: dict[int, tuple[int, int, int]] = {}
    for size in (100, 3000):
        holder = wallet_with_permit(tmp_path, ministry, fillers, size, f"w{size}.wallet")
        permit = ministry.issue("WorkPermit", subject=holder.did, claims=claims("WorkPermit"))
        with spy(holder) as store_spy:
            holder.store(permit, verify_now=False)
        with spy(holder) as answer_spy:
            holder.answer(work_request(), consent=lambda ask: True)
        steps[size] = (store_spy.steps, answer_spy.steps, len(answer_spy.statements))
        holder.close()
    small, large = steps[100], steps[3000]
    # 30 times the credentials: the same statements and at most a few more VM steps.
    assert large[2] == small[2]
    assert large[0] <= small[0] * 1.2 + 20
    assert large[1] <= small[1] * 1.2 + 20


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The associated data of every sealed value the wallet opens, in order."""
    seen: list[str] = []
    original = WalletStore._open

    def counting(self: WalletStore, sealed: bytes, ad: str, what: str) -> Any:
        seen.append(ad)
        return original(self, sealed, ad, what)

    monkeypatch.setattr(WalletStore, "_open", counting)
    return seen


def test_answer_opens_only_the_candidates(
    tmp_path: Path, ministry: Issuer, fillers: list[Any], opened: list[str]
) -> None:
    holder = wallet_with_permit(tmp_path, ministry, fillers, 400, "lazy.wallet")
    opened.clear()
    holder.answer(work_request(), consent=lambda ask: True)
    # The permit's head, claims and raw part: none of the 400 other credentials.
    assert len([a for a in opened if a.startswith("2|credentials|")]) <= 6
    opened.clear()
    summaries = holder.summaries()
    assert len(summaries) == 401
    assert all(a.endswith("|head") for a in opened)
    holder.close()


def test_open_decrypts_only_the_key(
    tmp_path: Path, ministry: Issuer, fillers: list[Any], opened: list[str]
) -> None:
    holder = wallet_with_permit(tmp_path, ministry, fillers, 50, "open.wallet")
    holder.close()
    opened.clear()
    again = Holder.open(tmp_path / "open.wallet", passphrase=PASSPHRASE)
    assert opened == ["2|items|key|holder"]
    again.close()


def test_delete_leaves_no_index_rows(tmp_path: Path, ministry: Issuer) -> None:
    holder = Holder.create(tmp_path / "d.wallet", passphrase=PASSPHRASE)
    stored = holder.store(
        ministry.issue("WorkPermit", subject=holder.did, claims=claims("WorkPermit"))
    )
    holder.delete(stored.id)
    conn = holder._store._conn
    assert conn.execute("SELECT COUNT(*) FROM credential_tags").fetchone() == (0,)
    assert conn.execute("SELECT COUNT(*) FROM credentials").fetchone() == (0,)
    holder.close()


def test_answer_picks_the_oldest_fitting_credential(tmp_path: Path, ministry: Issuer) -> None:
    holder = Holder.create(":memory:", passphrase=PASSPHRASE)
    first, second = holder.store_many(
        [
            ministry.issue("WorkPermit", subject=holder.did, claims=claims("WorkPermit"))
            for _ in range(2)
        ]
    )
    found = holder.find(work_request())
    assert found.ok
    assert found.matches["work_sd"].credential_ids == (first.id,)
    holder.delete(first.id)
    assert holder.find(work_request()).matches["work_sd"].credential_ids == (second.id,)


# -- layout 1: the committed vector ---------------------------------------------------


def test_v1_vector_reads_without_altering_the_file(tmp_path: Path) -> None:
    path, expected = v1_copy(tmp_path)
    before = digest(path)
    holder = Holder.open(path, passphrase=expected["passphrase"], read_only=True)
    assert holder.did == expected["did"]
    assert holder.export() == expected["export"]
    with pytest.raises(WalletIntegrityError) as err:
        holder.erase_history()
    assert err.value.code == "read_only"
    holder.close()
    assert digest(path) == before
    assert sorted(os.listdir(tmp_path)) == ["amina.wallet"]


def test_v1_vector_migrates_in_place_and_answers(tmp_path: Path) -> None:
    path, expected = v1_copy(tmp_path)
    holder = Holder.open(path, passphrase=expected["passphrase"])
    assert holder.export() == expected["export"]
    presentation = holder.answer(work_request(), consent=lambda ask: True)
    assert "work_sd" in presentation.vp_token
    holder.close()
    conn = sqlite3.connect(path)
    meta = dict(conn.execute("SELECT k, v FROM meta"))
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert meta["layout"] == str(LAYOUT).encode()
    assert {"credentials", "credential_tags", "items"} <= tables
    again = Holder.open(path, passphrase=expected["passphrase"], read_only=True)
    assert [c.to_json() for c in again.credentials()] == expected["export"]["credentials"]
    assert len(again.history()) == len(expected["export"]["history"]) + 1
    again.close()


def test_v1_migration_with_a_damaged_row_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path, expected = v1_copy(tmp_path)
    conn = sqlite3.connect(path)
    (ct,) = conn.execute("SELECT ct FROM items WHERE kind = 'credential'").fetchone()
    conn.execute("UPDATE items SET ct = ? WHERE ct = ?", (ct[:40] + b"\x00" + ct[41:], ct))
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(WalletIntegrityError) as err:
        Holder.open(path, passphrase=expected["passphrase"])
    assert err.value.code == "record_tampered"
    assert digest(path) == before


def test_v1_vector_with_a_wrong_passphrase(tmp_path: Path) -> None:
    path, _ = v1_copy(tmp_path)
    before = digest(path)
    with pytest.raises(WalletLockedError) as err:
        Holder.open(path, passphrase="not it")
    assert err.value.code == "wrong_passphrase"
    assert digest(path) == before


# -- read-only opening and other kinds of file ----------------------------------------


def test_read_only_open_of_a_layout_2_wallet_creates_no_file(tmp_path: Path) -> None:
    path = tmp_path / "w.wallet"
    Holder.create(path, passphrase=PASSPHRASE).close()
    before = digest(path)
    holder = Holder.open(path, passphrase=PASSPHRASE, read_only=True)
    assert holder.summaries() == []
    with pytest.raises(WalletIntegrityError) as err:
        holder.store({"type": ["VerifiableCredential"]}, verify_now=False)
    assert err.value.code == "read_only"
    holder.close()
    assert digest(path) == before
    assert sorted(os.listdir(tmp_path)) == ["w.wallet"]


@pytest.mark.parametrize("read_only", [True, False])
def test_a_ledger_database_is_not_a_wallet(tmp_path: Path, read_only: bool) -> None:
    from did_methods import PrivateKey
    from ledger.facade import Ledger

    db = tmp_path / "registry.db"
    Ledger.open(db, key=PrivateKey.generate()).close()
    before = digest(db)
    with pytest.raises(NotAWalletError) as err:
        Holder.open(db, passphrase=PASSPHRASE, read_only=read_only)
    assert err.value.code == "not_a_wallet"
    assert digest(db) == before


def test_a_newer_layout_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.wallet"
    Holder.create(path, passphrase=PASSPHRASE).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET v = x'39' WHERE k = 'layout'")
    conn.commit()
    conn.close()
    with pytest.raises(NotAWalletError) as err:
        Holder.open(path, passphrase=PASSPHRASE)
    assert err.value.code == "layout_unsupported"


# -- passphrase -----------------------------------------------------------------------


def test_change_passphrase(tmp_path: Path, ministry: Issuer) -> None:
    path = tmp_path / "w.wallet"
    holder = Holder.create(path, passphrase=PASSPHRASE)
    stored = holder.store(
        ministry.issue("WorkPermit", subject=holder.did, claims=claims("WorkPermit"))
    )
    with pytest.raises(WalletLockedError) as err:
        holder.change_passphrase("wrong", "new one")
    assert err.value.code == "wrong_passphrase"
    holder.change_passphrase(PASSPHRASE, "new one")
    holder.close()
    with pytest.raises(WalletLockedError) as err:
        Holder.open(path, passphrase=PASSPHRASE)
    assert err.value.code == "wrong_passphrase"
    again = Holder.open(path, passphrase="new one")
    assert again.credential(stored.id) == stored
    again.close()


def test_the_spy_sees_a_scan(tmp_path: Path) -> None:
    holder = Holder.create(tmp_path / "s.wallet", passphrase=PASSPHRASE)
    with spy(holder) as s:
        holder.summaries()  # lists every credential: a scan, and the spy must say so
    assert any("credentials" in found for found in s.scans())
    holder.close()


def test_rekey_reseals_everything_under_a_fresh_key(
    tmp_path: Path, ministry: Issuer, fillers: list[Any]
) -> None:
    path = tmp_path / "w.wallet"
    holder = wallet_with_permit(tmp_path, ministry, fillers, 20, "w.wallet")
    holder.answer(work_request(), consent=lambda ask: True)
    before = holder.export()
    holder.close()
    old_copy = tmp_path / "old-copy.wallet"
    shutil.copyfile(path, old_copy)
    holder = Holder.open(path, passphrase=PASSPHRASE)
    with pytest.raises(WalletLockedError):
        holder.change_passphrase("wrong", "new one", rekey=True)
    holder.change_passphrase(PASSPHRASE, "new one", rekey=True)
    assert holder.export() == before
    assert holder.find(work_request()).ok  # the blind index was rebuilt
    later = holder.store(
        ministry.issue("WorkPermit", subject=holder.did, claims=claims("WorkPermit"))
    )
    holder.close()
    again = Holder.open(path, passphrase="new one", read_only=True)
    assert again.credential(later.id) == later
    assert again.export()["history"] == before["history"]
    again.close()
    # Whoever kept the old copy and knows the old passphrase: its key envelope
    # opens, its data key opens no record of the rekeyed file.
    conn = sqlite3.connect(old_copy)
    meta = dict(conn.execute("SELECT k, v FROM meta WHERE k IN ('kdf', 'wrapped_key')"))
    conn.close()
    conn = sqlite3.connect(path)
    conn.executemany("UPDATE meta SET v = ? WHERE k = ?", [(v, k) for k, v in meta.items()])
    conn.commit()
    conn.close()
    with pytest.raises(WalletIntegrityError) as err:
        Holder.open(path, passphrase=PASSPHRASE)
    assert err.value.code == "record_tampered"
