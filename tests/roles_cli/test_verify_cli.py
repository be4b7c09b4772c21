"""``ssi-wallet verify`` with a ledger, on a wallet's answer, with dates as dates (issue 15
item 3).

A real SQLite ledger (and, when ``SSI_WALLET_TEST_POSTGRES_DSN`` is set, a
PostgreSQL one) holds an accredited office, an office without accreditation
and one accredited for another state; credentials they issue are verified with
``--db``/``--dsn`` (trust checked), without (a line says it was not), and a
wallet's answer made by ``verifier request`` and ``wallet answer`` is verified
as it was written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pg_support import pg_drop_schema, pg_dsn

from credentials import schemas
from did_methods.keys import PrivateKey
from ledger.facade import Ledger
from ssi_wallet import Issuer
from ssi_wallet.cli import cli

PW = "correct horse battery staple"
EPOCH = re.compile(r"\b1[0-9]{9}\b")  # seconds since 1970 in this century


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"PW": PW}, catch_exceptions=False)


def claims(type_name: str, state: str = "DE") -> dict[str, Any]:
    subject = schemas.example_subject(type_name)
    subject.pop("id")
    subject["issuingState"] = state
    today = datetime.now(UTC).date()
    subject["issueDate"] = (today - timedelta(days=3)).isoformat()
    subject["expiryDate"] = (today + timedelta(days=300)).isoformat()
    return subject


def build(target: str, folder: Path) -> dict[str, Any]:
    """A ledger at ``target`` with three offices, and a credential file from each."""
    root = PrivateKey.generate()
    ledger = Ledger.open(target, key=root)
    try:
        office = Issuer.create(ledger, name="Ausländerbehörde Leipzig")
        ledger.accredit(office.did, types=["WorkPermit"], by=root, jurisdiction="DE")
        stranger = Issuer.create(ledger, name="Not accredited")
        holder = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
        files = {}
        for name, issuer, state in (
            ("good", office, "DE"),
            ("stranger", stranger, "DE"),
            ("elsewhere", office, "AT"),
        ):
            issued = issuer.issue(
                "WorkPermit",
                subject=holder,
                claims=claims("WorkPermit", state),
                format="di-eddsa",
                with_status=False,
            )
            path = folder / f"{name}.json"
            path.write_text(json.dumps(issued.credential), encoding="utf-8")
            files[name] = path
        return {"office": office.did, "stranger": stranger.did, "root": root, **files}
    finally:
        ledger.close()


@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("verify")
    world = build(str(folder / "registry.db"), folder)
    world["db"] = folder / "registry.db"
    return world


def test_an_accredited_issuer_is_checked_on_the_ledger(sqlite_world: dict[str, Any]) -> None:
    done = run("verify", str(sqlite_world["good"]), "--db", str(sqlite_world["db"]))
    assert done.exit_code == 0, done.output
    line = f"[ok  ] issuer_trust: {sqlite_world['office']} is accredited for Work permit in DE"
    assert line in done.output
    assert not EPOCH.search(done.output)


@pytest.mark.parametrize(
    ("name", "code"),
    [("stranger", "issuer_not_accredited"), ("elsewhere", "jurisdiction_mismatch")],
)
def test_an_issuer_without_the_right_accreditation_is_refused(
    sqlite_world: dict[str, Any], name: str, code: str
) -> None:
    done = run("verify", str(sqlite_world[name]), "--db", str(sqlite_world["db"]), "--json")
    assert done.exit_code == 1, done.output
    report = json.loads(done.output)
    assert report["ok"] is False
    trust = [c for c in report["checks"] if c["name"] == "issuer_trust"]
    assert [c["code"] for c in trust] == [code]


def test_without_a_ledger_one_line_says_trust_was_not_checked(tmp_path: Path) -> None:
    key = tmp_path / "ministry.jwk"
    assert run("did", "create", "--key-file", str(key)).exit_code == 0
    subject = tmp_path / "subject.json"
    subject.write_text(run("issue", "--type", "WorkPermit", "--example-subject").output)
    permit = tmp_path / "permit.txt"
    made = run("issue", "--type", "WorkPermit", "--subject-file", str(subject), "--key-file",
               str(key), "--out", str(permit))  # fmt: skip
    assert made.exit_code == 0, made.output
    done = run("verify", str(permit))
    assert done.exit_code == 0, done.output
    lines = [line for line in done.output.splitlines() if "issuer trust was not checked" in line]
    assert len(lines) == 1 and "[skip] issuer_trust" in lines[0] and "--db" in lines[0]
    # dates as dates: the validity line names the ISO 8601 instant, never epoch seconds
    assert re.search(
        r"validity_period: valid at the given time \(until \d{4}-\d\d-\d\dT", done.output
    )
    assert not EPOCH.search(done.output)


def test_a_wallet_answer_verifies_as_written(tmp_path: Path) -> None:
    wallet, db = str(tmp_path / "amina.wallet"), tmp_path / "registry.db"
    created = run("wallet", "create", "--wallet", wallet, "--passphrase-env", "PW")
    assert created.exit_code == 0, created.output
    root = PrivateKey.generate()
    with Ledger.open(db, key=root) as ledger:
        office = Issuer.create(ledger, name="Ausländerbehörde Leipzig")
        ledger.accredit(office.did, types=["WorkPermit"], by=root, jurisdiction="DE")
        issued = office.issue(
            "WorkPermit", subject=created.output.strip(), claims=claims("WorkPermit"),
            with_status=False,
        )  # fmt: skip
    permit = tmp_path / "permit.txt"
    permit.write_text(issued.credential, encoding="utf-8")
    stored = run("wallet", "store", "--wallet", wallet, "--passphrase-env", "PW", str(permit),
                 "--db", str(db))  # fmt: skip
    assert stored.exit_code == 0, stored.output
    request, answer = tmp_path / "request.json", tmp_path / "answer.json"
    asked = run("verifier", "request", "--policy", "right_to_work", "--sector", "Q86",
                "--audience", "did:web:clinic.example", "--unsafe-stateless",
                "--out", str(request))  # fmt: skip
    assert asked.exit_code == 0, asked.output
    answered = run("wallet", "answer", "--wallet", wallet, "--passphrase-env", "PW", "--yes",
                   str(request), "--out", str(answer))  # fmt: skip
    assert answered.exit_code == 0, answered.output
    nonce = json.loads(request.read_text(encoding="utf-8"))["nonce"]

    expected = ["--nonce", nonce, "--audience", "did:web:clinic.example", "--db", str(db)]
    done = run("verify", str(answer), *expected)
    assert done.exit_code == 0, done.output
    assert "VALID answer for did:web:clinic.example" in done.output
    assert "[ok  ] holder_binding" in done.output and "[ok  ] issuer_trust" in done.output
    assert "taken from the answer itself" not in done.output

    own = run("verify", str(answer), "--db", str(db), "--json")
    assert own.exit_code == 0, own.output
    report = json.loads(own.output)
    assert report["kind"] == "answer" and report["self_bound"] is True
    assert [p["query"] for p in report["presentations"]] == ["work_sd"]

    replayed = run("verify", str(answer), "--nonce", "another", "--audience",
                   "did:web:clinic.example", "--db", str(db))  # fmt: skip
    assert replayed.exit_code == 1
    assert "[FAIL] holder_binding" in replayed.output

    untrusted = run("verify", str(answer), *expected[:4])
    assert untrusted.exit_code == 1  # a did:ledger issuer needs the ledger to resolve
    assert not EPOCH.search(done.output + own.output)


def test_malformed_ledger_options(sqlite_world: dict[str, Any], tmp_path: Path) -> None:
    text = tmp_path / "not-a-db.db"
    text.write_text("just text\n" * 50, encoding="utf-8")
    good = str(sqlite_world["good"])
    for args in (
        ["--db", str(text)],
        ["--db", str(sqlite_world["db"]), "--dsn", "postgresql://x@127.0.0.1/y"],
        ["--dsn", "mysql://x"],
        ["--trust-root", "did:key:z6Mk"],
        ["--db", str(tmp_path / "missing.db")],
    ):
        done = CliRunner().invoke(cli, ["verify", good, *args])
        assert done.exit_code == 2, (args, done.output, done.exception)
        assert "Traceback" not in done.output
    assert not (tmp_path / "missing.db").exists()


@pytest.fixture
def pg_world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    dsn = pg_dsn()
    pg_drop_schema(dsn, "ssi_ledger")
    world = build(dsn, tmp_path)
    world["dsn"] = dsn
    yield world
    pg_drop_schema(dsn, "ssi_ledger")


def test_dsn_checks_trust_on_postgresql(pg_world: dict[str, Any]) -> None:
    done = run("verify", str(pg_world["good"]), "--dsn", pg_world["dsn"])
    assert done.exit_code == 0, done.output
    assert "[ok  ] issuer_trust:" in done.output
    done = run("verify", str(pg_world["stranger"]), "--dsn", pg_world["dsn"], "--json")
    assert done.exit_code == 1
    assert "issuer_not_accredited" in done.output
