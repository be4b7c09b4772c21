"""``ssi-wallet issuer``: each subcommand on a real SQLite ledger file (and PostgreSQL
when configured), each invocation a fresh Issuer.open as in separate processes."""

from __future__ import annotations

import csv
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from terminal_support import run_with_terminal_stderr

from credentials import schemas
from did_methods import PrivateKey
from did_methods.keyfile import read_key_file, write_key_file
from did_methods.methods.key import did_key_from_public_key
from ledger.facade import Ledger
from ssi_wallet import Holder, Issuer, Verifier, policies
from ssi_wallet.cli import cli

PG_ENV = "SSI_WALLET_TEST_POSTGRES_DSN"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    """The store options of every command."""
    if request.param == "sqlite":
        yield ["--db", str(tmp_path / "office.db")]
        return
    dsn = os.environ.get(PG_ENV)
    if not dsn:
        pytest.skip(f"PostgreSQL CLI tests need {PG_ENV}=postgresql://user@host:port/db")
    schema = f"issuer_cli_{secrets.token_hex(6)}"
    yield ["--dsn", dsn, "--schema", schema]
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _subject(holder: str) -> dict[str, Any]:
    subject = schemas.example_subject("WorkPermit")
    subject["id"] = holder
    subject["issuingState"] = "LT"  # where the office is accredited: the verifier checks it
    return subject


def _write_csv(path: Path, holders: list[str]) -> None:
    claims = schemas.example_subject("WorkPermit")
    claims.pop("id")
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["subject", *claims])
        for holder in holders:
            cells = [";".join(v) if isinstance(v, list) else str(v) for v in claims.values()]
            writer.writerow([holder, *cells])


def _init(store: list[str], tmp_path: Path) -> tuple[str, list[str]]:
    # The ledger and its operator come first (the operator's did:key is the trust root);
    # 'issuer init' never makes a ledger nobody operates.
    write_key_file(tmp_path / "root.key", PrivateKey.generate())
    result = invoke("ledger", "init", *store, "--key-file", str(tmp_path / "root.key"))
    assert result.exit_code == 0, result.output
    key_file = tmp_path / "ministry.key"
    result = invoke("issuer", "init", *store, "--key-file", str(key_file), "--name", "Ministry",
                    "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    did = json.loads(result.output)["did"]
    assert did.startswith("did:ledger:") and key_file.exists()
    return did, [*store, "--key-file", str(key_file)]


def test_every_subcommand_in_turn(store: list[str], tmp_path: Path) -> None:
    did, office = _init(store, tmp_path)
    # accredit: the root's key accredits the issuer
    root = read_key_file(tmp_path / "root.key")
    root_file = str(tmp_path / "root.key")
    result = invoke("issuer", "accredit", *store, "--key-file", root_file, "--did", did,
                    "--type", "WorkPermit", "--jurisdiction", "LT", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["types"] == ["WorkPermit"]
    # issue one from a subject file
    holder = Holder.create(":memory:", passphrase="p")
    (tmp_path / "subject.json").write_text(json.dumps(_subject(holder.did)), encoding="utf-8")
    result = invoke("issuer", "issue", *office, "--type", "WorkPermit",
                    "--subject-file", str(tmp_path / "subject.json"), "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    single = json.loads(result.output)
    assert single["subject"] == holder.did and single["status"].startswith("0:")
    # issue many from CSV, as JSON Lines
    holders = [did_key_from_public_key(PrivateKey.generate().public_key) for _ in range(4)]
    _write_csv(tmp_path / "permits.csv", holders)
    out = tmp_path / "permits.jsonl"
    csv_file = str(tmp_path / "permits.csv")
    result = invoke("issuer", "issue", *office, "--type", "WorkPermit",
                    "--from-csv", csv_file, "--out", str(out), "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["issued"] == 4
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["subject"] for line in lines] == holders
    statuses = {line["status"] for line in lines} | {single["status"]}
    assert len(statuses) == 5
    # revoke all four from the JSON Lines in one batch: two ledger entries
    result = invoke("issuer", "revoke", *office, "--from-file", str(out), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"action": "revoke", "count": 4, "ledgerEntries": 2}
    # suspend and reinstate the single one by its reference
    ref = single["status"]
    assert invoke("issuer", "suspend", *office, ref).exit_code == 0
    result = invoke("issuer", "status", *office, ref, lines[0]["status"], "--json")
    assert json.loads(result.output) == {ref: "suspended", lines[0]["status"]: "revoked"}
    assert invoke("issuer", "reinstate", *office, ref).exit_code == 0
    result = invoke("issuer", "status", *office, "--json")
    summary = json.loads(result.output)
    assert summary["did"] == did
    (only,) = summary["lists"]
    assert (only["dealt"], only["revoked"], only["suspended"]) == (5, 4, 0)
    result = invoke("issuer", "status", *office)
    assert "list 0: 5/131072 dealt, 4 revoked, 0 suspended" in result.output
    # publish writes the documents a web server serves
    result = invoke("issuer", "publish", *office, "--out-dir", str(tmp_path / "www"), "--json")
    assert result.exit_code == 0, result.output
    published = json.loads(result.output)["published"]
    assert {url.rsplit("/", 1)[1] for url in published} == {"revocation", "suspension", "token"}
    assert (tmp_path / "www" / "token").read_bytes().count(b".") == 2
    # A verifier on the same database accepts a credential issued by the command,
    # and refuses it once another invocation revoked it.
    target, schema = (store[1], store[3]) if store[0] == "--dsn" else (store[1], None)
    with Ledger.open(target, key=root, schema=schema) as ledger:
        wallet = Holder.create(":memory:", passphrase="p", resolver=ledger.resolver())
        (tmp_path / "amina.json").write_text(json.dumps(_subject(wallet.did)), encoding="utf-8")
        result = invoke("issuer", "issue", *office, "--type", "WorkPermit",
                        "--subject-file", str(tmp_path / "amina.json"), "--json")  # fmt: skip
        issued = json.loads(result.output)
        wallet.store(issued["credential"])
        assert _decide(ledger, tmp_path, wallet).ok
        assert invoke("issuer", "revoke", *office, issued["status"]).exit_code == 0
        assert "revoked" in _decide(ledger, tmp_path, wallet).codes
        wallet.close()


def _decide(ledger: Ledger, tmp_path: Path, wallet: Holder) -> Any:
    from did_methods.keyfile import read_key_file

    # The status lists as the database holds them, on a board a status server would serve.
    board = Issuer.open(ledger, key=read_key_file(tmp_path / "ministry.key")).board
    verifier = Verifier(ledger, audience="did:web:x.example", status_fetcher=board)
    request = verifier.request(policies.right_to_work())
    presentation = wallet.answer(request, consent=lambda _: True)
    return verifier.check(presentation, request)


def test_usage_errors_exit_2_and_refusals_exit_1(tmp_path: Path) -> None:
    _, office = _init(["--db", str(tmp_path / "office.db")], tmp_path)
    db = ["--db", str(tmp_path / "office.db")]
    # no store, both stores
    assert invoke("issuer", "status", "--key-file", str(tmp_path / "ministry.key")).exit_code == 2
    # a CSV naming a claim the type does not have
    (tmp_path / "bad.csv").write_text("subject,shoeSize\ndid:example:1,44\n", encoding="utf-8")
    result = invoke("issuer", "issue", *office, "--type", "WorkPermit",
                    "--from-csv", str(tmp_path / "bad.csv"))  # fmt: skip
    assert result.exit_code == 2 and "shoeSize" in result.output
    # a cell that is not of the claim's type
    (tmp_path / "bad2.csv").write_text("subject,maxWeeklyHours\ndid:example:1,many\n", "utf-8")
    result = invoke("issuer", "issue", *office, "--type", "WorkPermit",
                    "--from-csv", str(tmp_path / "bad2.csv"))  # fmt: skip
    assert result.exit_code == 2 and "row 2" in result.output
    # a schema violation names the path and signs nothing
    _write_csv(tmp_path / "ok.csv", ["did:example:1"])
    text = (tmp_path / "ok.csv").read_text(encoding="utf-8").replace("1994-03-12", "1994-13-12")
    (tmp_path / "bad3.csv").write_text(text, encoding="utf-8")
    result = invoke("issuer", "issue", *office, "--type", "WorkPermit",
                    "--from-csv", str(tmp_path / "bad3.csv"))  # fmt: skip
    assert result.exit_code == 2 and "birthDate" in result.output
    assert result.output.startswith("error: CSV row 2: ")
    # an unknown type, a malformed reference, no reference at all
    result = invoke("issuer", "issue", *office, "--type", "Passport", "--from-csv", "x.csv")
    assert result.exit_code == 2
    assert invoke("issuer", "revoke", *office, "zero:one").exit_code == 2
    assert invoke("issuer", "revoke", *office).exit_code == 2
    # an index never dealt: refused, exit 1
    result = invoke("issuer", "revoke", *office, "0:1")
    assert result.exit_code == 1 and "never dealt" in result.output
    # a key no issuer in this database uses: exit 1
    write_key_file(tmp_path / "other.key", PrivateKey.generate())
    result = invoke("issuer", "status", *db, "--key-file", str(tmp_path / "other.key"))
    assert result.exit_code == 1 and "no issuer" in result.output
    # a database that does not exist
    result = invoke("issuer", "status", "--db", str(tmp_path / "none.db"),
                    "--key-file", str(tmp_path / "ministry.key"))  # fmt: skip
    assert result.exit_code == 2


def test_every_option_has_help() -> None:
    from ssi_wallet.cli.issuer import issuer

    for name, command in issuer.commands.items():
        assert command.help, name
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"issuer {name} {param.opts}"


def test_bulk_work_shows_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    """issue --from-csv and a --from-file status change draw a bar on a terminal's stderr
    (the total, as rich's "done/total" column shows it); piped or with --json, none."""
    store = ["--db", str(tmp_path / "office.db")]
    _, office = _init(store, tmp_path)
    holders = [did_key_from_public_key(PrivateKey.generate().public_key) for _ in range(300)]
    _write_csv(tmp_path / "permits.csv", holders)
    out = tmp_path / "permits.jsonl"
    done, terminal = run_with_terminal_stderr(
        [
            "issuer",
            "issue",
            *office,
            "--type",
            "WorkPermit",
            "--format",
            "di-eddsa",
            "--from-csv",
            str(tmp_path / "permits.csv"),
            "--out",
            str(out),
        ]
    )
    assert done.returncode == 0, terminal
    assert "issuing" in terminal and "300/300" in terminal
    assert len(out.read_text(encoding="utf-8").splitlines()) == 300
    done, terminal = run_with_terminal_stderr(
        ["issuer", "suspend", *office, "--from-file", str(out)]
    )
    assert done.returncode == 0, terminal
    assert "suspending" in terminal and "300/300" in terminal
    assert "suspended 300 credential(s)" in done.stdout
    # --json: no bar on the terminal, only the JSON answer on stdout.
    done, terminal = run_with_terminal_stderr(
        ["issuer", "revoke", *office, "--from-file", str(out), "--json"]
    )
    assert done.returncode == 0, terminal
    assert "revoking" not in terminal and "300/300" not in terminal
    assert json.loads(done.stdout) == {"action": "revoke", "count": 300, "ledgerEntries": 2}
    # Piped (no terminal): the command says nothing on stderr.
    piped = invoke("issuer", "reinstate", *office, "--from-file", str(out))
    assert piped.exit_code == 0 and "reinstating" not in piped.output


def test_status_changes_report_progress(tmp_path: Path) -> None:
    root = PrivateKey.generate()
    with Ledger.open(tmp_path / "l.db", key=root) as ledger:
        office = Issuer.create(ledger, name="Ministry")
        refs = office._reserve(600)
        seen: list[tuple[int, int]] = []
        assert office.revoke_many(refs, progress=lambda d, t: seen.append((d, t))) == 600
        assert seen == [(256, 600), (512, 600), (600, 600)]
        seen.clear()
        office.suspend_many(refs[:3], progress=lambda d, t: seen.append((d, t)))
        assert seen == [(3, 3)]


def test_suspend_and_reinstate_answer_in_json(tmp_path: Path) -> None:
    _, office = _init(["--db", str(tmp_path / "office.db")], tmp_path)
    holder = Holder.create(":memory:", passphrase="p")
    (tmp_path / "subject.json").write_text(json.dumps(_subject(holder.did)), encoding="utf-8")
    result = invoke("issuer", "issue", *office, "--type", "WorkPermit",
                    "--subject-file", str(tmp_path / "subject.json"), "--json")  # fmt: skip
    ref = json.loads(result.output)["status"]
    for action, state in (("suspend", "suspended"), ("reinstate", "valid")):
        result = invoke("issuer", action, *office, ref, "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.output) == {"action": action, "count": 1, "ledgerEntries": 2}
        status = invoke("issuer", "status", *office, ref, "--json")
        assert json.loads(status.output) == {ref: state}
