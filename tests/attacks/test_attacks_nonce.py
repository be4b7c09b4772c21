"""Attacks on the verifier's nonces: every request is answered once, and only requests it made.

Each test names the attack and asserts the exact refusal code: ``replayed``
(a second answer to one request), ``nonce_unknown`` (a request the verifier
never made, however far its expiry), ``request_altered`` (an issued request
edited: expiry pushed back, purpose or query changed), ``request_expired``.
The stores are tested in memory, in the ledger's SQLite file (across a
restart), in a state file of their own, in PostgreSQL
(``SSI_WALLET_TEST_POSTGRES_DSN``), and through the command line across
separate invocations.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pg_support import pg_drop_schema, pg_dsn

from credentials import schemas
from did_methods import PrivateKey
from did_methods.errors import ParseError, StoreError
from ledger.facade import Ledger
from ssi_wallet import Holder, Issuer, PresentationRequest, PresentationResponse, Verifier, policies
from ssi_wallet.cli.verifier import status_file_name
from ssi_wallet.replay import (
    LedgerReplayStore,
    MemoryReplayStore,
    ReplayError,
    ReplayStore,
    SQLiteReplayStore,
    UnsafeStatelessRequests,
    consume_request,
    record_request,
    request_digest,
)

AUDIENCE = "did:web:clinic.example"
START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@dataclass
class World:
    ledger: Ledger
    ministry: Issuer
    wallet: Holder
    now: list[datetime]

    def verifier(self, **kw: Any) -> Verifier:
        kw.setdefault("status_fetcher", self.ministry.board)
        return Verifier(self.ledger, audience=AUDIENCE, clock=lambda: self.now[0], **kw)

    def answer(self, request: PresentationRequest) -> PresentationResponse:
        return self.wallet.answer(request, consent=lambda _: True, now=self.now[0])


def make_world(target: str | Path, **open_kw: Any) -> World:
    now = [START]
    root = PrivateKey.generate()
    ledger = Ledger.open(target, key=root, clock=lambda: now[0], **open_kw)
    ministry = Issuer.create(ledger, name="Ausländerbehörde Leipzig", clock=lambda: now[0])
    ledger.accredit(ministry.did, types=["WorkPermit"], by=root, jurisdiction="DE")
    wallet = Holder.create(
        ":memory:",
        passphrase="amina's passphrase",
        resolver=ledger.resolver(),
        clock=lambda: now[0],
    )
    claims = schemas.example_subject("WorkPermit", now=START)
    claims.pop("id")
    wallet.store(ministry.issue("WorkPermit", subject=wallet.did, claims=claims).credential)
    return World(ledger, ministry, wallet, now)


@pytest.fixture
def world() -> Iterator[World]:
    made = make_world(":memory:")
    yield made
    made.ledger.close()


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    """The DSN and a fresh schema name, dropped afterwards."""
    dsn, schema = pg_dsn(), f"t_{uuid.uuid4().hex[:16]}"
    yield dsn, schema
    pg_drop_schema(dsn, schema)


# -- through the verifier ------------------------------------------------------------


def test_the_same_presentation_twice_is_replayed(world: World) -> None:
    verifier = world.verifier()
    request = verifier.request(policies.right_to_work(sector="Q86"))
    presentation = world.answer(request)
    assert verifier.check(presentation, request).ok
    again = verifier.check(presentation, request)
    assert again.codes == ("replayed",)
    assert again.failures[0].details == {"variant": "used"}
    assert "answered already" in again.explain()


def test_a_replay_after_a_refusal_is_still_replayed(world: World) -> None:
    # The first check consumes the nonce whatever its outcome: no second try.
    verifier = world.verifier()
    request = verifier.request(policies.right_to_work(sector="F41"))
    presentation = world.answer(request)
    assert verifier.check(presentation, request).codes == ("sector_not_allowed",)
    assert verifier.check(presentation, request).codes == ("replayed",)


def test_an_unknown_nonce_with_a_far_future_expiry_is_refused(world: World) -> None:
    verifier = world.verifier()
    forged = PresentationRequest.for_policy(
        policies.right_to_work(), audience=AUDIENCE, ttl=10 * 365 * 86_400, now=world.now[0]
    )
    presentation = world.answer(forged)  # a genuine holder's answer to a forged request
    report = verifier.check(presentation, forged)
    assert report.codes == ("nonce_unknown",)
    assert not report.ok


def test_a_request_from_another_verifier_instance_is_unknown(world: World) -> None:
    # Each verifier keeps its own nonces unless told to share a store.
    request = world.verifier().request(policies.right_to_work())
    assert world.verifier().check(world.answer(request), request).codes == ("nonce_unknown",)


def test_a_request_whose_expiry_was_pushed_back_is_altered(world: World) -> None:
    verifier = world.verifier()
    request = verifier.request(policies.right_to_work())
    assert request.expires_at is not None
    world.now[0] += timedelta(hours=1)  # the genuine request has expired
    stretched = replace(request, expires_at=request.expires_at + 30 * 86_400)
    report = verifier.check(world.answer(stretched), stretched)
    assert report.codes == ("request_altered",)


@pytest.mark.parametrize(
    "edit",
    [
        lambda r: replace(r, purpose="just curious"),
        lambda r: replace(r, audience="did:web:elsewhere.example"),
        lambda r: replace(r, query=policies.right_to_reside().query()),
        lambda r: replace(r, policy="right_to_reside"),
        lambda r: replace(r, extra={"policy_args": {"sector": "F41"}}),
        lambda r: replace(r, issued_at=r.issued_at - 1),
    ],
    ids=["purpose", "audience", "query", "policy", "policy_args", "issued_at"],
)
def test_an_edited_request_is_altered_and_the_genuine_answer_still_counts(
    world: World, edit: Callable[[PresentationRequest], PresentationRequest]
) -> None:
    verifier = world.verifier()
    request = verifier.request(policies.right_to_work(sector="Q86"))
    edited = edit(request)
    presentation = PresentationResponse({"work_sd": ["x"]}, edited.nonce, edited.audience)
    assert verifier.check(presentation, edited).codes == ("request_altered",)
    # A refused edit does not burn the nonce: the holder's real answer is judged.
    assert verifier.check(world.answer(request), request).ok


def test_an_expired_request_is_refused_by_the_store_too(world: World) -> None:
    store = MemoryReplayStore()
    verifier = world.verifier(replay=store)
    request = verifier.request(policies.right_to_work())
    presentation = world.answer(request)
    world.now[0] += timedelta(minutes=11)
    assert verifier.check(presentation, request).codes == ("request_expired",)
    # The store judges by the expiry it recorded, whatever the request claims.
    with pytest.raises(ReplayError) as caught:
        consume_request(store, request, now=int(world.now[0].timestamp()))
    assert caught.value.code == "request_expired"


def test_stateless_checking_is_an_explicit_opt_out(world: World) -> None:
    unsafe = world.verifier(replay=UnsafeStatelessRequests())
    request = unsafe.request(policies.right_to_work())
    presentation = world.answer(request)
    assert unsafe.check(presentation, request).ok
    assert unsafe.check(presentation, request).ok  # what the name warns about
    # The default keeps nonces.
    safe = world.verifier()
    request = safe.request(policies.right_to_work())
    presentation = world.answer(request)
    assert safe.check(presentation, request).ok
    assert safe.check(presentation, request).codes == ("replayed",)


def test_every_nonce_refusal_renders_in_every_language(world: World) -> None:
    from ssi_wallet import _messages

    verifier = world.verifier()
    request = verifier.request(policies.right_to_work())
    presentation = world.answer(request)
    verifier.check(presentation, request)
    reports = [
        verifier.check(presentation, request),
        world.verifier().check(presentation, request),
        verifier.check(presentation, replace(request, purpose="edited")),
    ]
    assert [r.codes for r in reports] == [("replayed",), ("nonce_unknown",), ("request_altered",)]
    for report in reports:
        (finding,) = report.failures
        english = _messages.render(finding.code, finding.details, "en")
        for lang in _messages.LANGUAGES:
            text = _messages.render(finding.code, finding.details, lang)
            assert text is not None, (lang, finding.code)
            assert lang == "en" or text != english, (lang, finding.code)


# -- the stores ---------------------------------------------------------------------


def exercise(store: ReplayStore, now: int = 1_000) -> None:
    """The four refusals, then one success and a replay, on any store."""
    digest = b"\x01" * 32
    store.record("a" * 22, digest, now + 60, now=now)
    refusals = [
        ("b" * 22, digest, now),  # never recorded
        ("a" * 22, b"\x02" * 32, now),  # another request under that nonce
        ("a" * 22, digest, now + 61),  # after its expiry
    ]
    codes = []
    for nonce, asked, at in refusals:
        with pytest.raises(ReplayError) as caught:
            store.consume(nonce, asked, now=at)
        codes.append(caught.value.code)
    assert codes == ["nonce_unknown", "request_altered", "request_expired"]
    store.consume("a" * 22, digest, now=now + 1)
    with pytest.raises(ReplayError) as replayed:
        store.consume("a" * 22, digest, now=now + 2)
    assert replayed.value.code == "replayed"
    with pytest.raises(StoreError):
        store.record("a" * 22, digest, now + 60, now=now)  # a nonce is issued once


def test_memory_store_refuses_like_the_others() -> None:
    exercise(MemoryReplayStore())


def test_memory_store_is_bounded_and_forgets_the_oldest_first() -> None:
    store = MemoryReplayStore(max_entries=3)
    for i in range(5):
        store.record(f"nonce-{i:016d}", b"d", 2_000, now=1_000)
    assert len(store) == 3
    for i in (0, 1):  # forgotten: refused, never accepted
        with pytest.raises(ReplayError) as caught:
            store.consume(f"nonce-{i:016d}", b"d", now=1_001)
        assert caught.value.code == "nonce_unknown"
    store.consume("nonce-0000000000000004", b"d", now=1_001)


def test_memory_store_forgets_long_expired_requests() -> None:
    store = MemoryReplayStore()
    store.record("old-" + "x" * 18, b"d", 1_060, now=1_000)
    store.record("new-" + "x" * 18, b"d", 100_060, now=100_000)
    assert len(store) == 1


def test_ledger_store_in_a_sqlite_file_refuses_like_the_others(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "registry.db", key=PrivateKey.generate()) as ledger:
        exercise(LedgerReplayStore(ledger))


def test_state_file_refuses_like_the_others(tmp_path: Path) -> None:
    store = SQLiteReplayStore(tmp_path / "state.db")
    try:
        exercise(store)
    finally:
        store.close()


@pytest.mark.postgres
def test_postgres_backed_store_refuses_like_the_others(pg_schema: tuple[str, str]) -> None:
    dsn, schema = pg_schema
    with Ledger.open(dsn, key=PrivateKey.generate(), schema=schema) as ledger:
        exercise(LedgerReplayStore(ledger))


@pytest.mark.postgres
def test_postgres_ledger_verifier_refuses_a_replay_from_another_connection(
    pg_schema: tuple[str, str],
) -> None:
    dsn, schema = pg_schema
    world = make_world(dsn, schema=schema)
    try:
        first = world.verifier()  # the default: the ledger's own database
        request = first.request(policies.right_to_work())
        presentation = world.answer(request)
        assert first.check(presentation, request).ok
        with Ledger.open(dsn, schema=schema, trust_root=world.ledger.issuers.root) as again:
            other = Verifier(
                again, audience=AUDIENCE, status_fetcher=world.ministry.board,
                clock=lambda: world.now[0],
            )  # fmt: skip
            assert other.check(presentation, request).codes == ("replayed",)
            fresh = first.request(policies.right_to_work())  # made by one, checked by another
            assert other.check(world.answer(fresh), fresh).ok
    finally:
        world.ledger.close()


def test_restarted_ledger_backed_store_still_refuses_replays(tmp_path: Path) -> None:
    path = tmp_path / "registry.db"
    world = make_world(path)
    root = world.ledger.issuers.root
    verifier = world.verifier()
    answered = verifier.request(policies.right_to_work())
    presentation = world.answer(answered)
    assert verifier.check(presentation, answered).ok
    pending = verifier.request(policies.right_to_work())  # made before the restart
    pending_answer = world.answer(pending)
    world.ledger.close()

    with Ledger.open(path, trust_root=root) as reopened:
        restarted = Verifier(
            reopened, audience=AUDIENCE, status_fetcher=world.ministry.board,
            clock=lambda: world.now[0],
        )  # fmt: skip
        assert restarted.check(presentation, answered).codes == ("replayed",)
        assert restarted.check(pending_answer, pending).ok
        assert restarted.check(pending_answer, pending).codes == ("replayed",)
        assert reopened.audit().ok  # the nonces live beside the log, not in it


def race(stores: list[ReplayStore], threads: int = 8) -> list[str]:
    """One recorded nonce, consumed by ``threads`` threads at once over the stores."""
    stores[0].record("r" * 22, b"d", 2_000, now=1_000)
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def attempt(store: ReplayStore) -> None:
        barrier.wait()
        try:
            store.consume("r" * 22, b"d", now=1_001)
            result = "accepted"
        except ReplayError as exc:
            result = exc.code
        with lock:
            outcomes.append(result)

    workers = [
        threading.Thread(target=attempt, args=(stores[i % len(stores)],)) for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return sorted(outcomes)


def test_racing_replays_on_one_state_file_are_accepted_once(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    stores = [SQLiteReplayStore(path) for _ in range(4)]  # four connections, as four processes
    try:
        outcomes = race(list(stores))
    finally:
        for store in stores:
            store.close()
    assert outcomes == ["accepted"] + ["replayed"] * 7


@pytest.mark.postgres
def test_racing_replays_on_postgres_are_accepted_once(pg_schema: tuple[str, str]) -> None:
    dsn, schema = pg_schema
    ledgers = [Ledger.open(dsn, schema=schema) for _ in range(4)]
    try:
        outcomes = race([LedgerReplayStore(led) for led in ledgers])
    finally:
        for led in ledgers:
            led.close()
    assert outcomes == ["accepted"] + ["replayed"] * 7


def test_state_file_refuses_a_file_of_another_kind_and_leaves_it_alone(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_bytes(b"not a database, but long enough to be read as a header" * 4)
    wallet = tmp_path / "amina.wallet"
    Holder.create(wallet, passphrase="pw").close()
    for path in (text, wallet):
        before = path.read_bytes()
        with pytest.raises(StoreError):
            SQLiteReplayStore(path)
        assert path.read_bytes() == before


def test_a_ledger_opened_read_only_cannot_keep_nonces(tmp_path: Path) -> None:
    path = tmp_path / "registry.db"
    Ledger.open(path, key=PrivateKey.generate()).close()
    with Ledger.open(path, read_only=True) as ledger, pytest.raises(StoreError):
        LedgerReplayStore(ledger)


def test_a_request_without_expiry_cannot_be_recorded() -> None:
    request = PresentationRequest.for_policy(policies.right_to_work(), audience=AUDIENCE)
    with pytest.raises(ParseError):
        record_request(MemoryReplayStore(), replace(request, expires_at=None), now=0)


def test_the_digest_survives_json_and_changes_with_any_member() -> None:
    policy = policies.right_to_work(sector="Q86")
    request = PresentationRequest.for_policy(policy, audience=AUDIENCE)
    kept = PresentationRequest.from_json(json.dumps(request.to_json()))
    assert request_digest(kept) == request_digest(request)
    body = request.to_json()
    changed = {
        "dcql_query": policies.right_to_study().query().to_json(),
        "policy_args": {"sector": "F41"},
    }
    for name, value in body.items():
        if name not in changed:
            changed[name] = value + 1 if isinstance(value, int) else value + "x"
    assert set(changed) == set(body)
    for name, value in changed.items():
        edited = PresentationRequest.from_json({**body, name: value})
        assert request_digest(edited) != request_digest(request), name


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["record", "consume"]),
            st.integers(0, 3),  # which nonce
            st.booleans(),  # the right digest?
            st.integers(0, 200),  # seconds on from the start
        ),
        max_size=30,
    )
)
def test_any_sequence_accepts_each_nonce_at_most_once_and_only_as_issued(
    steps: list[tuple[str, int, bool, int]],
) -> None:
    store = MemoryReplayStore()
    issued: dict[int, int] = {}  # nonce -> expiry
    accepted: list[int] = []
    for action, which, right, at in steps:
        nonce, digest = f"nonce-{which:016d}", b"good" if right else b"evil"
        if action == "record":
            if which in issued or not right:
                continue
            store.record(nonce, digest, 1_000 + at + 60, now=1_000 + at)
            issued[which] = 1_000 + at + 60
            continue
        try:
            store.consume(nonce, digest, now=1_000 + at)
        except ReplayError as exc:
            assert exc.code in ("nonce_unknown", "request_altered", "replayed", "request_expired")
            continue
        assert right and which in issued and 1_000 + at <= issued[which]
        accepted.append(which)
    assert len(accepted) == len(set(accepted))


# -- the command line, across invocations --------------------------------------------


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ssi_wallet", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "WALLET_PW": "amina's long passphrase", **(env or {})},
    )


@pytest.fixture(scope="module")
def shell(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("nonce_cli")
    root = PrivateKey.generate()
    db = tmp / "registry.db"
    ledger = Ledger.open(db, key=root)
    ministry = Issuer.create(ledger, name="Ausländerbehörde Leipzig")
    ledger.accredit(ministry.did, types=["WorkPermit"], by=root, jurisdiction="DE")
    wallet = tmp / "amina.wallet"
    created = cli("wallet", "create", "--wallet", str(wallet), "--passphrase-env", "WALLET_PW")
    assert created.returncode == 0, created.stderr
    claims = schemas.example_subject("WorkPermit")
    claims.pop("id")
    today = datetime.now(UTC).date()
    claims["issueDate"] = (today - timedelta(days=3)).isoformat()
    claims["expiryDate"] = (today + timedelta(days=300)).isoformat()
    permit = tmp / "permit.txt"
    permit.write_text(
        ministry.issue("WorkPermit", subject=created.stdout.strip(), claims=claims).serialise()
    )
    opts = ["--wallet", str(wallet), "--passphrase-env", "WALLET_PW"]
    assert cli("wallet", "store", str(permit), "--db", str(db), *opts).returncode == 0
    statuses = tmp / "status"
    statuses.mkdir()
    for purpose in ("revocation", "suspension", "token"):
        url = ministry.status_url(purpose)
        (statuses / status_file_name(url)).write_bytes(ministry.board.get(url) or b"")
    yield {"tmp": tmp, "db": db, "root": ledger.issuers.root, "opts": opts, "statuses": statuses}
    ledger.close()


def cli_request(shell: dict[str, Any], name: str, *state: str) -> Path:
    out = shell["tmp"] / f"{name}.json"
    made = cli(
        "verifier", "request", "--policy", "right_to_work", "--audience", AUDIENCE,
        "--out", str(out), *state,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return out


def cli_answer(shell: dict[str, Any], request: Path) -> Path:
    out = request.with_suffix(".vp.json")
    done = cli("wallet", "answer", str(request), "--yes", "--out", str(out), *shell["opts"])
    assert done.returncode == 0, done.stderr
    return out


def cli_check(shell: dict[str, Any], request: Path, answer: Path, *state: str) -> Any:
    return cli(
        "verifier", "check", "--db", str(shell["db"]), "--trust-root", shell["root"],
        "--status-dir", str(shell["statuses"]), str(request), str(answer), *state,
    )  # fmt: skip


def test_cli_state_file_accepts_once_across_invocations(shell: dict[str, Any]) -> None:
    state = ["--state", str(shell["tmp"] / "verifier.state")]
    request = cli_request(shell, "once", *state)
    answer = cli_answer(shell, request)
    first = cli_check(shell, request, answer, *state)
    assert first.returncode == 0, first.stdout + first.stderr
    second = cli_check(shell, request, answer, *state)
    assert second.returncode == 1
    assert second.stdout.splitlines()[-1] == "codes: replayed"


def test_cli_state_may_live_in_the_ledger_file(shell: dict[str, Any]) -> None:
    state = ["--state", str(shell["db"])]
    request = cli_request(shell, "in-ledger", *state)
    answer = cli_answer(shell, request)
    assert cli_check(shell, request, answer, *state).returncode == 0
    replayed = cli_check(shell, request, answer, *state)
    assert replayed.stdout.splitlines()[-1] == "codes: replayed"
    with Ledger.open(shell["db"], read_only=True) as ledger:
        assert ledger.audit().ok


def test_cli_refuses_a_request_it_did_not_record_or_that_was_edited(shell: dict[str, Any]) -> None:
    state = ["--state", str(shell["tmp"] / "edited.state")]
    unrecorded = cli_request(shell, "unrecorded", "--unsafe-stateless")
    cli_request(shell, "warm-up", *state)  # the state file exists
    unknown = cli_check(shell, unrecorded, cli_answer(shell, unrecorded), *state)
    assert unknown.returncode == 1
    assert unknown.stdout.splitlines()[-1] == "codes: nonce_unknown"
    request = cli_request(shell, "edited", *state)
    body = json.loads(request.read_text())
    body["exp"] += 365 * 86_400
    request.write_text(json.dumps(body))
    altered = cli_check(shell, request, cli_answer(shell, request), *state)
    assert altered.returncode == 1
    assert altered.stdout.splitlines()[-1] == "codes: request_altered"


def test_cli_needs_a_state_or_the_explicit_opt_out(shell: dict[str, Any]) -> None:
    missing = cli("verifier", "request", "--policy", "right_to_work", "--audience", AUDIENCE)
    assert missing.returncode == 2
    assert "--state FILE" in missing.stderr
    request = cli_request(shell, "stateless", "--unsafe-stateless")
    answer = cli_answer(shell, request)
    assert cli_check(shell, request, answer).returncode == 2
    for _ in range(2):  # what the option's name warns about
        assert cli_check(shell, request, answer, "--unsafe-stateless").returncode == 0
    other = shell["tmp"] / "notes.txt"
    other.write_text("a text file, not a state file " * 10)
    wrong = cli_check(shell, request, answer, "--state", str(other))
    assert wrong.returncode == 2
    assert "Traceback" not in wrong.stderr
