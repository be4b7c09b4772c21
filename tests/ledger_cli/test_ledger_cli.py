"""``ssi-wallet ledger ...`` end to end through ``python -m ssi_wallet`` subprocesses."""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from terminal_support import run_with_terminal_stderr

from did_methods.keyfile import read_key_file
from ledger._merkle import hash_leaf
from ledger.checkpoint import NoteVerifier, verify_checkpoint
from ledger.entry import Entry
from ledger.proofs import ConsistencyProof, InclusionProof, verify_consistency, verify_inclusion
from ledger.witness import CosignatureVerifier, verify_cosigned_checkpoint

PG_ENV = "SSI_WALLET_TEST_POSTGRES_DSN"
LINES = 2500


def run(*args: str, check: int | None = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "ssi_wallet", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check is not None:
        assert done.returncode == check, (done.returncode, done.stdout, done.stderr)
    return done


def new_key(path: Path) -> str:
    return run("did", "create", "--key-file", str(path)).stdout.strip()


@pytest.fixture
def operator(tmp_path: Path) -> Path:
    key = tmp_path / "operator.jwk"
    new_key(key)
    return key


def _store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    if request.param == "sqlite":
        yield ["--db", str(tmp_path / "log.db")]
        return
    dsn = os.environ.get(PG_ENV)
    if not dsn:
        pytest.skip(f"PostgreSQL CLI tests need {PG_ENV}=postgresql://user@host:port/db")
    schema = f"cli_{secrets.token_hex(6)}"
    yield ["--dsn", dsn, "--schema", schema]
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


# the PostgreSQL round trip repeats the SQLite one over a server: a long test
@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    yield from _store(request, tmp_path)


@pytest.fixture(params=["sqlite"])
def sqlite_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    yield from _store(request, tmp_path)


def test_init_append_lines_get_prove_audit(
    tmp_path: Path, operator: Path, store: list[str]
) -> None:
    init = json.loads(run("ledger", "init", *store, "--key-file", str(operator), "--json").stdout)
    verifier = NoteVerifier.from_vkey(init["vkey"])
    assert init["size"] == 0
    lines = tmp_path / "lines.txt"
    lines.write_text("".join(f"record {i}\n" for i in range(LINES)), encoding="utf-8")
    appended = json.loads(
        run(
            "ledger", "append", *store, "--key-file", str(operator), "--kind", "test.line",
            "--lines", str(lines), "--batch", "700", "--json",
        ).stdout
    )  # fmt: skip
    assert appended == {"count": LINES, "first": 0, "last": LINES - 1, "size": LINES}
    one = json.loads(
        run(
            "ledger", "append", *store, "--key-file", str(operator), "--data", "hi", "--json"
        ).stdout
    )
    assert one["first"] == LINES

    got = json.loads(run("ledger", "get", *store, "1234", "--json").stdout)
    assert got["index"] == 1234 and got["kind"] == "test.line"
    assert got["payloadText"] == "record 1234"
    missing = run("ledger", "get", *store, str(LINES + 1), check=1)
    assert "no entry" in missing.stderr

    note = json.loads(
        run("ledger", "checkpoint", *store, "--key-file", str(operator), "--json").stdout
    )["note"]
    checkpoint = verify_checkpoint(note, [verifier], origin=init["origin"])
    assert checkpoint.size == LINES + 1
    # Without a key, the newest stored checkpoint is printed.
    assert run("ledger", "checkpoint", *store).stdout.strip() == note.strip()

    proof_out = json.loads(run("ledger", "prove-inclusion", *store, "1234", "--json").stdout)
    proof = InclusionProof.from_json(proof_out["proof"])
    leaf = hash_leaf(_entry_bytes(got))
    verify_inclusion(leaf, proof, checkpoint.root_hash)
    at_size = json.loads(
        run("ledger", "prove-inclusion", *store, "7", "--size", "100", "--json").stdout
    )
    assert at_size["proof"]["size"] == 100

    consistency = json.loads(run("ledger", "prove-consistency", *store, "1000", "--json").stdout)
    verify_consistency(
        ConsistencyProof.from_json(consistency["proof"]),
        _b64(consistency["root1"]),
        checkpoint.root_hash,
    )
    audit = run("ledger", "audit", *store, "--signatures", "--log-key", init["vkey"], "--json")
    report = json.loads(audit.stdout)
    assert report["ok"] is True and report["size"] == LINES + 1 and report["signaturesChecked"]


def _b64(text: str) -> bytes:
    import base64

    return base64.b64decode(text)


def _entry_bytes(got: dict[str, object]) -> bytes:
    """The full encoding printed by ``ledger get``, checked against the printed fields."""
    from did_methods.encoding import b64url_decode

    data = b64url_decode(str(got["entry"]))
    entry = Entry.decode(data)
    assert (entry.index, entry.kind, entry.submitter) == (
        got["index"],
        got["kind"],
        got["submitter"],
    )
    assert entry.prev_hash.hex() == got["prevHash"]
    assert _b64(str(got["leafHash"])) == hash_leaf(data)
    return data


def _log_of_lines(tmp_path: Path, operator: Path, sqlite_store: list[str], count: int) -> Path:
    """A new log (tmp_path/log.db, the sqlite_store's) of ``count`` appended lines."""
    run("ledger", "init", *sqlite_store, "--key-file", str(operator))
    lines = tmp_path / "lines.txt"
    lines.write_text("".join(f"{i}\n" for i in range(count)), encoding="utf-8")
    run("ledger", "append", *sqlite_store, "--key-file", str(operator), "--lines", str(lines))
    return tmp_path / "log.db"


def test_audit_names_the_first_tampered_index(
    tmp_path: Path, operator: Path, sqlite_store: list[str]
) -> None:
    db = _log_of_lines(tmp_path, operator, sqlite_store, 3000)
    run("ledger", "checkpoint", *sqlite_store, "--key-file", str(operator))
    assert "ok: 3000 entries intact" in run("ledger", "audit", *sqlite_store).stdout
    with sqlite3.connect(db) as conn:
        (data,) = conn.execute("SELECT data FROM ledger_entries WHERE idx = 2024").fetchone()
        forged = bytes(data).replace(b"2024", b"2025")
        assert forged != data
        conn.execute("UPDATE ledger_entries SET data = ? WHERE idx = 2024", (forged,))
    failed = run("ledger", "audit", *sqlite_store, check=1)
    assert "2024" in failed.stderr and "audit failed at entry 2024" in failed.stderr
    report = json.loads(run("ledger", "audit", *sqlite_store, "--json", check=1).stdout)
    assert report["ok"] is False and report["firstBadIndex"] == 2024
    assert report["code"] is None  # entry findings carry no code


def test_audit_reports_a_rewritten_kind_index_row_with_its_code(
    tmp_path: Path, operator: Path, sqlite_store: list[str]
) -> None:
    db = _log_of_lines(tmp_path, operator, sqlite_store, 20)
    assert "ok: 20 entries intact" in run("ledger", "audit", *sqlite_store).stdout
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE ledger_kinds SET kind = 'other.kind' WHERE idx = 12")
    failed = run("ledger", "audit", *sqlite_store, check=1)
    assert "audit failed at entry 12 (kind_index_mismatch)" in failed.stderr
    report = json.loads(run("ledger", "audit", *sqlite_store, "--json", check=1).stdout)
    assert (report["ok"], report["firstBadIndex"], report["code"]) == (
        False,
        12,
        "kind_index_mismatch",
    )


@pytest.mark.slow
def test_cosign_follows_the_log_and_refuses_a_fork(tmp_path: Path, operator: Path) -> None:
    db, fork = tmp_path / "log.db", tmp_path / "fork.db"
    witness_key, state = tmp_path / "witness.jwk", tmp_path / "witness-state.json"
    new_key(witness_key)
    init = run("ledger", "init", "--db", str(db), "--key-file", str(operator), "--json")
    vkey = json.loads(init.stdout)["vkey"]
    cosign = ("ledger", "cosign", "--witness-key", str(witness_key), "--log-key", vkey,
              "--state", str(state), "--name", "witness.example/w1")  # fmt: skip
    for n in range(3):
        run("ledger", "append", "--db", str(db), "--key-file", str(operator), "--data", f"e{n}")
        run("ledger", "checkpoint", "--db", str(db), "--key-file", str(operator))
        out = json.loads(run(*cosign, "--db", str(db), "--json").stdout)
        assert out["size"] == n + 1
    witness = CosignatureVerifier("witness.example/w1", read_key_file(witness_key).public_key)
    assert out["vkey"] == witness.vkey
    checkpoint = verify_cosigned_checkpoint(
        out["note"], [NoteVerifier.from_vkey(vkey)], [witness], quorum=1
    )
    assert checkpoint.size == 3
    # The same operator key signs a different history of the same log (a split view).
    run("ledger", "init", "--db", str(fork), "--key-file", str(operator))
    for n in range(4):
        run("ledger", "append", "--db", str(fork), "--key-file", str(operator), "--data", f"x{n}")
    run("ledger", "checkpoint", "--db", str(fork), "--key-file", str(operator))
    refused = run(*cosign, "--db", str(fork), check=1)
    assert "inconsistent" in refused.stderr
    # The state file still holds the checkpoint of the honest log, which still cosigns.
    assert json.loads(state.read_text(encoding="utf-8"))
    run("ledger", "append", "--db", str(db), "--key-file", str(operator), "--data", "e3")
    run("ledger", "checkpoint", "--db", str(db), "--key-file", str(operator))
    assert json.loads(run(*cosign, "--db", str(db), "--json").stdout)["size"] == 4
    # Another log key is not trusted.
    other = tmp_path / "other.jwk"
    new_key(other)
    untrusted = run("ledger", "cosign", "--db", str(db), "--witness-key", str(witness_key),
                    "--log-key", str(other), "--state", str(state), check=1)  # fmt: skip
    assert "no_trusted_signature" in untrusted.stderr


@pytest.mark.slow
def test_did_ledger_commands(tmp_path: Path, operator: Path) -> None:
    db = ["--db", str(tmp_path / "dids.db")]
    run("ledger", "init", *db, "--key-file", str(operator))
    key1, key2, stranger = tmp_path / "k1.jwk", tmp_path / "k2.jwk", tmp_path / "s.jwk"
    for k in (key1, key2, stranger):
        new_key(k)
    did = run(
        "ledger", "did", "create", *db, "--key-file", str(key1),
        "--service", "hub=LinkedDomains=https://hub.example",
    ).stdout.strip()  # fmt: skip
    assert did.startswith("did:ledger:")
    resolved = json.loads(run("ledger", "did", "resolve", *db, did).stdout)
    assert resolved["didDocument"]["service"][0]["id"] == f"{did}#hub"
    assert resolved["didDocumentMetadata"]["versionId"] == "1"
    refused = run("ledger", "did", "update", *db, did, "--key-file", str(stranger),
                  "--rotate-to", str(key2), check=1)  # fmt: skip
    assert "not a verification method" in refused.stderr
    rotated = json.loads(
        run("ledger", "did", "update", *db, did, "--key-file", str(key1), "--rotate-to", str(key2),
            "--remove-service", "hub", "--json").stdout
    )  # fmt: skip
    assert rotated["versionId"] == "2"
    latest = json.loads(run("ledger", "did", "resolve", *db, did).stdout)
    methods = latest["didDocument"]["verificationMethod"]
    assert [m["id"] for m in methods] == [f"{did}#key-2"]
    assert "service" not in latest["didDocument"]
    first = json.loads(run("ledger", "did", "resolve", *db, did, "--version-id", "1").stdout)
    assert first["didDocumentMetadata"]["nextVersionId"] == "2"
    run("ledger", "did", "update", *db, did, "--key-file", str(key1), "--add-service",
        "x=T=https://x.example", check=1)  # fmt: skip
    run("ledger", "did", "deactivate", *db, did, "--key-file", str(key2))
    gone = json.loads(run("ledger", "did", "resolve", *db, did).stdout)
    assert gone["didDocumentMetadata"]["deactivated"] is True
    assert run("ledger", "did", "resolve", *db, "did:ledger:" + "3" * 44, check=1).returncode == 1
    bad_time = run("ledger", "did", "resolve", *db, did, "--version-time", "soon", check=2)
    assert "invalidOptions" in bad_time.stderr


@pytest.mark.slow
def test_usage_errors_exit_2(tmp_path: Path, operator: Path) -> None:
    db = tmp_path / "u.db"
    assert "not exist" in run("ledger", "get", "--db", str(db), "0", check=2).stderr
    run("ledger", "audit", check=2)  # neither --db nor --dsn
    run("ledger", "audit", "--db", str(db), "--dsn", "postgresql://x/y", check=2)
    run("ledger", "init", "--db", str(db), "--key-file", str(operator))
    run("ledger", "append", "--db", str(db), "--key-file", str(operator), check=2)
    run("ledger", "append", "--db", str(db), "--key-file", str(operator), "--data", "a",
        "--file", str(operator), check=2)  # fmt: skip
    run("ledger", "append", "--db", str(db), "--key-file", str(operator), "--kind", "Bad Kind",
        "--data", "a", check=2)  # fmt: skip
    run(
        "ledger", "init", "--db", str(db), "--key-file", str(operator), "--origin", "other", check=2
    )
    p256 = tmp_path / "p256.jwk"
    run("did", "create", "--key-type", "p256", "--key-file", str(p256))
    run("ledger", "init", "--db", str(tmp_path / "v.db"), "--key-file", str(p256), check=2)
    run("ledger", "prove-inclusion", "--db", str(db), "5", check=1)  # the log is empty
    plain = tmp_path / "plain.db"
    sqlite3.connect(plain).close()
    run("ledger", "get", "--db", str(plain), "0", check=2)  # a store that was never initialised


def test_audit_shows_a_progress_bar_on_a_terminal(tmp_path: Path, operator: Path) -> None:
    db = str(tmp_path / "tty.db")
    run("ledger", "init", "--db", db, "--key-file", str(operator))
    run("ledger", "append", "--db", db, "--key-file", str(operator), "--data", "x")
    done, terminal = run_with_terminal_stderr(["ledger", "audit", "--db", db], timeout=60)
    assert done.returncode == 0 and "intact" in done.stdout
    assert "auditing" in terminal


@pytest.mark.slow
def test_oversized_input_is_a_usage_error_and_writes_nothing(
    tmp_path: Path, operator: Path
) -> None:
    db = str(tmp_path / "big.db")
    run("ledger", "init", "--db", db, "--key-file", str(operator))
    lines = tmp_path / "lines.txt"
    lines.write_bytes(b"short\n" * 10 + b"x" * 70_000 + b"\n")
    failed = run("ledger", "append", "--db", db, "--key-file", str(operator), "--lines",
                 str(lines), "--batch", "2", check=2)  # fmt: skip
    assert "line 11" in failed.stderr
    big = tmp_path / "big.bin"
    big.write_bytes(b"y" * 70_000)
    run("ledger", "append", "--db", db, "--key-file", str(operator), "--file", str(big), check=2)
    assert run("ledger", "get", "--db", db, "0", check=1).returncode == 1  # still empty
    run("ledger", "audit", "--db", db, "--log-key", "x+" * 300, check=2)
