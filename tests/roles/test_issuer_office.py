"""The issuer back office: an issuer kept in the ledger's database, rotating status
lists, and bulk status changes that cost one anchoring append."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from credentials import schemas
from did_methods import PrivateKey
from did_methods.errors import ParseError, PolicyError, StoreError
from did_methods.keyfile import write_key_file
from ledger.facade import Ledger
from ssi_wallet import Holder, Issuer, StatusRef, Verifier, policies
from ssi_wallet._issuer_store import IndexPermutation

PG_ENV = "SSI_WALLET_TEST_POSTGRES_DSN"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ORIGIN = "office.example/ledger"


def _clock() -> datetime:
    return NOW


def _claims() -> dict[str, Any]:
    claims = schemas.example_subject("WorkPermit", now=NOW)  # current at the test's clock
    claims.pop("id")
    claims["issuingState"] = "LT"  # where the office is accredited: the verifier checks it
    return claims


@pytest.fixture(params=["sqlite", "postgres"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str | None]]:
    """(target, PostgreSQL schema) of a ledger database."""
    if request.param == "sqlite":
        yield str(tmp_path / "office.db"), None
        return
    dsn = os.environ.get(PG_ENV)
    if not dsn:
        pytest.skip(f"PostgreSQL issuer tests need {PG_ENV}=postgresql://user@host:port/db")
    schema = f"office_{secrets.token_hex(6)}"
    yield dsn, schema
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _open(where: tuple[str, str | None], root: PrivateKey) -> Ledger:
    target, schema = where
    return Ledger.open(target, key=root, clock=_clock, schema=schema, origin=ORIGIN)


def _decide(ledger: Ledger, issuer: Issuer, wallet: Holder) -> Any:
    verifier = Verifier(
        ledger,
        audience="did:web:clinic.example",
        status_fetcher=issuer.board,
        clock=lambda: NOW,
    )
    request = verifier.request(policies.right_to_work())
    presentation = wallet.answer(request, consent=lambda _: True, now=NOW)
    return verifier.check(presentation, request)


def test_an_issuer_reopened_on_the_same_database_revokes_what_it_issued_before(
    where: tuple[str, str | None],
) -> None:
    root, key = PrivateKey.generate(), PrivateKey.generate()
    with _open(where, root) as ledger:
        ministry = Issuer.create(
            ledger, name="Migracijos departamentas", key=key, clock=lambda: NOW
        )
        ledger.accredit(ministry.did, types=["WorkPermit"], by=root, jurisdiction="LT")
        wallet = Holder.create(
            ":memory:", passphrase="pass", resolver=ledger.resolver(), clock=_clock
        )
        issued = ministry.issue("WorkPermit", subject=wallet.did, claims=_claims())
        wallet.store(issued.credential)
        assert _decide(ledger, ministry, wallet).ok
        did = ministry.did
    # A restart: new ledger and issuer objects on the same database.
    with _open(where, root) as ledger:
        reopened = Issuer.open(ledger, key=key, clock=lambda: NOW)
        assert reopened.did == did
        assert reopened.name == "Migracijos departamentas"
        # The restored board serves exactly the anchored bytes.
        url = reopened.status_url("token")
        data = reopened.board.get(url)
        assert data is not None
        ledger.status_lists.check_status_list_current(url, data)
        assert _decide(ledger, reopened, wallet).ok
        assert issued.status is not None
        reopened.revoke(issued.status)
        report = _decide(ledger, reopened, wallet)
        assert not report.ok
        assert "revoked" in report.codes
        # A second credential from the reopened issuer gets another index.
        again = reopened.issue("WorkPermit", subject=wallet.did, claims=_claims())
        assert again.status != issued.status
    wallet.close()


def test_an_issuer_reopened_in_a_new_process_revokes_and_the_verifier_sees_it(
    tmp_path: Path,
) -> None:
    db = tmp_path / "office.db"
    root, key = PrivateKey.generate(), PrivateKey.generate()
    with Ledger.open(db, key=root, clock=_clock, origin=ORIGIN) as ledger:
        ministry = Issuer.create(ledger, name="Ministry", key=key, clock=lambda: NOW)
        ledger.accredit(ministry.did, types=["WorkPermit"], by=root, jurisdiction="LT")
        wallet = Holder.create(
            ":memory:", passphrase="pass", resolver=ledger.resolver(), clock=_clock
        )
        issued = ministry.issue("WorkPermit", subject=wallet.did, claims=_claims())
        wallet.store(issued.credential)
        size = ledger.log.size
    script = textwrap.dedent(
        f"""
        import sys
        from datetime import datetime
        from did_methods.keyfile import read_key_file
        from ledger.facade import Ledger
        from ssi_wallet import Issuer
        from ssi_wallet.issuer import StatusRef
        key = read_key_file(sys.argv[1])
        with Ledger.open({str(db)!r}, origin={ORIGIN!r}) as ledger:
            now = datetime.fromisoformat(sys.argv[3])
            issuer = Issuer.open(ledger, key=key, clock=lambda: now)
            issuer.revoke(StatusRef.parse(sys.argv[2]))
        """
    )
    write_key_file(tmp_path / "issuer.key", key)
    args = [str(tmp_path / "issuer.key"), str(issued.status), NOW.isoformat()]
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    with Ledger.open(db, key=root, clock=_clock, origin=ORIGIN) as ledger:
        assert ledger.log.size == size + 2  # the revocation list and the token, once each
        # The verifier's process reads what the other process published.
        board_owner = Issuer.open(ledger, key=key, clock=lambda: NOW)
        report = _decide(ledger, board_owner, wallet)
        assert "revoked" in report.codes
    wallet.close()


def test_open_refuses_unknown_keys_and_memory_ledgers(tmp_path: Path) -> None:
    root, key = PrivateKey.generate(), PrivateKey.generate()
    with Ledger.open(tmp_path / "l.db", key=root, origin=ORIGIN) as ledger:
        Issuer.create(ledger, name="Ministry", key=key)
        with pytest.raises(PolicyError, match="no issuer"):
            Issuer.open(ledger, key=PrivateKey.generate())
        with pytest.raises(PolicyError, match="no issuer"):
            Issuer.open(ledger, key=key, did="did:ledger:unknown")
    with (
        Ledger.open(":memory:", key=root) as memory,
        pytest.raises(StoreError, match="SQL store"),
    ):
        Issuer.open(memory, key=key)


def test_index_permutation_is_a_permutation_and_its_inverse() -> None:
    for length in (1000, 131_072):
        perm = IndexPermutation(os.urandom(32), length)
        dealt = [perm.index(p) for p in range(length)]
        assert sorted(dealt) == list(range(length))
        assert all(perm.position(i) == p for p, i in enumerate(dealt[:5000]))
    # Not the identity, and another seed deals another order.
    first = [IndexPermutation(b"a" * 32, 131_072).index(p) for p in range(64)]
    second = [IndexPermutation(b"b" * 32, 131_072).index(p) for p in range(64)]
    assert first != list(range(64)) and first != second


def test_bulk_revoke_of_ten_thousand_appends_two_entries(tmp_path: Path) -> None:
    root, key = PrivateKey.generate(), PrivateKey.generate()
    with Ledger.open(tmp_path / "l.db", key=root, clock=_clock, origin=ORIGIN) as ledger:
        ministry = Issuer.create(ledger, name="Ministry", key=key, clock=lambda: NOW)
        refs = ministry._reserve(10_000)  # the indexes of 10,000 issued credentials
        assert len(set(refs)) == 10_000
        before = ledger.log.size
        assert ministry.revoke_many(refs) == 10_000
        # One append: the revocation list and the Status List Token of list set 0.
        assert ledger.log.size == before + 2
        urls = {ledger.log.get(i).payload for i in range(before, before + 2)}
        assert len(urls) == 2
        before = ledger.log.size
        ministry.suspend_many(refs[:5000])
        ministry.reinstate_many(refs[:5000])
        assert ledger.log.size == before + 4
    with Ledger.open(tmp_path / "l.db", key=root, clock=_clock, origin=ORIGIN) as ledger:
        reopened = Issuer.open(ledger, key=key)
        restored = reopened._sets[0]
        assert sum(1 for _ in restored.revocation.set_indices()) == 10_000
        assert all(restored.revocation.is_set(r.index) for r in refs)
        assert not any(True for _ in restored.suspension.set_indices())


def test_a_status_change_of_an_index_never_dealt_changes_nothing(tmp_path: Path) -> None:
    root = PrivateKey.generate()
    with Ledger.open(tmp_path / "l.db", key=root, clock=_clock, origin=ORIGIN) as ledger:
        ministry = Issuer.create(ledger, name="Ministry", clock=lambda: NOW)
        (dealt,) = ministry._reserve(1)
        other = next(i for i in range(1000) if i != dealt.index)
        before = ledger.log.size
        with pytest.raises(PolicyError, match="never dealt"):
            ministry.revoke_many([dealt, StatusRef(0, other)])
        with pytest.raises(PolicyError, match="no status list set 7"):
            ministry.revoke(StatusRef(7, 1))
        with pytest.raises(ParseError):
            ministry.revoke("3:4")  # type: ignore[arg-type]
        assert ledger.log.size == before
        assert not ministry._sets[0].revocation.is_set(dealt.index)


def test_status_ref_text_form() -> None:
    assert StatusRef.parse("2:77") == StatusRef(2, 77)
    assert StatusRef.parse("77") == StatusRef(0, 77)
    assert str(StatusRef(2, 77)) == "2:77"
    for bad in ("", "a:1", "1:", "-1", "1:2:3", "1e3"):
        with pytest.raises(ParseError):
            StatusRef.parse(bad)


def test_two_issuer_objects_on_one_database_deal_distinct_indexes_and_keep_both_changes(
    where: tuple[str, str | None],
) -> None:
    root, key = PrivateKey.generate(), PrivateKey.generate()
    with _open(where, root) as first_ledger, _open(where, root) as second_ledger:
        first = Issuer.create(first_ledger, name="Ministry", key=key, clock=lambda: NOW)
        second = Issuer.open(second_ledger, key=key, clock=lambda: NOW)
        a = first._reserve(300)
        b = second._reserve(300)
        assert not set(a) & set(b)
        first.revoke(a[0])
        second.revoke(b[0])  # reads the list again: first's revocation is kept
        first.close()
        second.close()
    with _open(where, root) as ledger:
        restored = Issuer.open(ledger, key=key)._sets[0]
        assert restored.revocation.is_set(a[0].index)
        assert restored.revocation.is_set(b[0].index)


def test_issue_many_reserves_once_and_reports_progress(tmp_path: Path) -> None:
    root = PrivateKey.generate()
    with Ledger.open(tmp_path / "l.db", key=root, clock=_clock, origin=ORIGIN) as ledger:
        ministry = Issuer.create(ledger, name="Ministry", clock=lambda: NOW)
        holders = [(Holder.create(":memory:", passphrase="p").did, _claims()) for _ in range(3)]
        seen: list[tuple[int, int]] = []
        issued = ministry.issue_many(
            "WorkPermit", holders, progress=lambda done, total: seen.append((done, total))
        )
        assert [i.format for i in issued] == ["sd-jwt"] * 3
        assert len({i.status for i in issued}) == 3
        assert seen[-1] == (3, 3)
        bad = {**_claims(), "birthDate": "1994-13-12"}
        with pytest.raises(schemas.SchemaValidationError) as caught:
            ministry.issue_many("WorkPermit", [holders[0], (holders[1][0], bad), holders[2]])
        assert "issue_many: item 2 of 3" in caught.value.__notes__


def test_two_hundred_thousand_credentials_from_one_issuer_rotate_lists(tmp_path: Path) -> None:
    root, key = PrivateKey.generate(), PrivateKey.generate()
    with Ledger.open(tmp_path / "l.db", key=root, clock=_clock, origin=ORIGIN) as ledger:
        ministry = Issuer.create(ledger, name="Ministry", key=key, clock=lambda: NOW)
        ledger.accredit(ministry.did, types=["WorkPermit"], by=root, jurisdiction="LT")
        # The fast path of issuing: the status indexes of 200,000 credentials.
        refs = ministry._reserve(200_000 - 2)
        assert len(set(refs)) == len(refs)
        per_list = {n: sum(1 for r in refs if r.list == n) for n in (0, 1)}
        assert per_list == {0: 131_072, 1: 200_000 - 2 - 131_072}
        assert ministry.list_numbers() == (0, 1)
        wallet = Holder.create(
            ":memory:", passphrase="pass", resolver=ledger.resolver(), clock=_clock
        )
        last = ministry.issue_many("WorkPermit", [(wallet.did, _claims())] * 2)
        assert {i.status_list for i in last} == {1}
        assert ministry.status_url("token", 1).endswith("/1/token")
        wallet.store(last[0].credential)
        assert _decide(ledger, ministry, wallet).ok
        ministry.revoke_many([last[0], refs[0]])
        assert "revoked" in _decide(ledger, ministry, wallet).codes
    with Ledger.open(tmp_path / "l.db", key=root, origin=ORIGIN) as ledger:
        reopened = Issuer.open(ledger, key=key)
        assert reopened.list_numbers() == (0, 1)
        more = reopened._reserve(10)
        assert all(r.list == 1 for r in more)
        assert not set(more) & set(refs)
    wallet.close()


def test_a_write_that_raced_another_process_is_retried_and_keeps_both(tmp_path: Path) -> None:
    root, key = PrivateKey.generate(), PrivateKey.generate()
    db = tmp_path / "l.db"
    with (
        Ledger.open(db, key=root, clock=_clock, origin=ORIGIN) as one,
        Ledger.open(db, key=root, clock=_clock, origin=ORIGIN) as two,
    ):
        first = Issuer.create(one, name="Ministry", key=key, clock=lambda: NOW)
        second = Issuer.open(two, key=key, clock=lambda: NOW)
        a, b = first._reserve(2)
        read = first._fresh_sets
        raced: list[bool] = []

        def read_then_race(numbers: Any) -> Any:
            sets = read(numbers)
            if not raced:  # between our read and our write, the other process revokes b
                raced.append(True)
                second.revoke(b)
            return sets

        first._fresh_sets = read_then_race  # type: ignore[method-assign]
        first.revoke(a)
        assert raced == [True]
    with Ledger.open(db, key=root, origin=ORIGIN) as ledger:
        reopened = Issuer.open(ledger, key=key)
        assert reopened.status_of(a) == "revoked" and reopened.status_of(b) == "revoked"
        # The published list (and its anchor) holds both revocations.
        assert reopened.status_lists()[0].revoked == 2


def test_an_issuer_in_memory_rotates_its_lists_too() -> None:
    ministry = Issuer.create(name="Ministry", clock=lambda: NOW)
    refs = ministry._reserve(131_072 + 5)
    assert ministry.list_numbers() == (0, 1)
    assert sum(1 for r in refs if r.list == 1) == 5
    url = ministry.status_url("revocation", 1)
    assert ministry.board.get(url) is not None  # published before any credential points at it
    ministry.revoke(refs[-1])
    assert ministry.status_of(refs[-1]) == "revoked"
    assert [info.revoked for info in ministry.status_lists()] == [0, 1]


@pytest.mark.slow
def test_two_hundred_thousand_signed_credentials_from_one_issuer(tmp_path: Path) -> None:
    """200,000 credentials, each schema-validated and signed, from one issuer kept in a
    SQLite ledger (issue 12, "Shown by"): the lists rotate at 131,072, every credential
    has its own status index, a bulk revoke of 10,000 across both list sets appends one
    entry per changed list document, and a verifier refuses the revoked ones."""
    root, key = PrivateKey.generate(), PrivateKey.generate()
    total, batch = 200_000, 10_000
    with Ledger.open(tmp_path / "l.db", key=root, clock=_clock, origin=ORIGIN) as ledger:
        ministry = Issuer.create(ledger, name="Ministry", key=key, clock=lambda: NOW)
        ledger.accredit(ministry.did, types=["WorkPermit"], by=root, jurisdiction="LT")
        wallet = Holder.create(
            ":memory:", passphrase="pass", resolver=ledger.resolver(), clock=_clock
        )
        refs: list[StatusRef] = []
        kept: list[Any] = []
        for _ in range(total // batch):
            issued = ministry.issue_many(
                "WorkPermit", [(wallet.did, _claims())] * batch, format="di-eddsa"
            )
            assert all(i.credential["proof"]["proofValue"] for i in issued)
            refs.extend(i.status for i in issued if i.status is not None)
            kept.append(issued[-1])  # one of each batch stays in memory
        assert len(refs) == len(set(refs)) == total
        assert ministry.list_numbers() == (0, 1)
        assert sum(1 for r in refs if r.list == 0) == ministry.list_length == 131_072
        # The last credential (list 1) and the first batch's (list 0) are accepted.
        for credential in (kept[0], kept[-1]):
            wallet.store(credential.credential)
        assert {c.status_list for c in (kept[0], kept[-1])} == {0, 1}
        assert _decide(ledger, ministry, wallet).ok
        # Revoke 10,000 spread over both list sets, the two kept ones among them.
        chosen = [*refs[:: total // batch][: batch - 2], kept[0].status, kept[-1].status]
        assert {r.list for r in chosen} == {0, 1}
        before = ledger.log.size
        assert ministry.revoke_many(chosen) == batch
        assert ledger.log.size == before + 4  # two lists (revocation + token) per set
        assert sum(info.revoked for info in ministry.status_lists()) == len(set(chosen))
        report = _decide(ledger, ministry, wallet)
        assert not report.ok and "revoked" in report.codes
    wallet.close()
