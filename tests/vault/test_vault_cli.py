"""ssi-wallet vault: init, put, get, export, rectify, restrict, erase, backup, restore, prove;
the ledger CLI audits the shared store clean after an erasure."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from click.testing import CliRunner

from ssi_wallet.cli import cli


def _run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, (args, result.output)
    return result.output


def test_vault_cli_end_to_end(tmp_path: Path) -> None:
    db, mk, key = tmp_path / "registry.db", tmp_path / "vault.key", tmp_path / "op.jwk"
    _run("did", "create", "--key-file", str(key))
    _run("ledger", "init", "--db", str(db), "--key-file", str(key))
    init = json.loads(_run("vault", "init", "--db", str(db), "--master-key-file", str(mk)))
    assert init["masterKeyCreated"] and stat.S_IMODE(mk.stat().st_mode) == 0o600
    again = json.loads(_run("vault", "init", "--db", str(db), "--master-key-file", str(mk)))
    assert not again["masterKeyCreated"] and again["masterKeyId"] == init["masterKeyId"]

    common = ["--db", str(db), "--master-key-file", str(mk)]
    record = tmp_path / "amina.json"
    record.write_text(json.dumps({"name": "Amina", "birthYear": 2009}))
    put = json.loads(
        _run(
            "vault",
            "put",
            *common,
            "--key-file",
            str(key),
            "--subject",
            "amina",
            "--file",
            str(record),
        )
    )
    got = json.loads(_run("vault", "get", *common, "--subject", "amina"))
    assert got["status"] == "active"
    assert [r["record"] for r in got["records"]] == [{"name": "Amina", "birthYear": 2009}]

    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps({"name": "Amina", "birthYear": 2008}))
    rect = json.loads(
        _run(
            "vault",
            "rectify",
            *common,
            "--key-file",
            str(key),
            "--subject",
            "amina",
            "--record-id",
            put["recordId"],
            "--file",
            str(fixed),
        )
    )
    assert rect["version"] == 2
    assert (
        json.loads(_run("vault", "restrict", *common, "--subject", "amina"))["recordVersions"] == 2
    )
    _run("ledger", "checkpoint", "--db", str(db), "--key-file", str(key))
    proof = json.loads(
        _run("vault", "prove", *common, "--subject", "amina", "--record-id", put["recordId"])
    )
    assert proof["record"] == {"name": "Amina", "birthYear": 2008}
    out = tmp_path / "export.json"
    _run("vault", "export", *common, "--subject", "amina", "--out", str(out))
    assert json.loads(out.read_text())["type"] == "VaultSubjectExport"
    backup = tmp_path / "vault.bak"
    _run("vault", "backup", *common, "--out", str(backup))

    erased = json.loads(
        _run("vault", "erase", *common, "--key-file", str(key), "--subject", "amina", "--yes")
    )
    assert erased["subjectErased"] and erased["filesCompacted"] and len(erased["tombstones"]) == 2
    assert "ok" in _run("ledger", "audit", "--db", str(db))
    restored = json.loads(_run("vault", "restore", *common, "--file", str(backup)))
    assert restored["erasedAgain"] == 2
    got = json.loads(_run("vault", "get", *common, "--subject", "amina"))
    assert got["status"] == "erased" and got["records"] == [] and len(got["erased"]) == 2
    _run("ledger", "audit", "--db", str(db))
    for path in (db, Path(f"{db}-wal")):
        if path.exists():
            assert b"Amina" not in path.read_bytes()


def test_vault_cli_errors_exit_nonzero(tmp_path: Path) -> None:
    db, mk, key = tmp_path / "registry.db", tmp_path / "vault.key", tmp_path / "op.jwk"
    _run("did", "create", "--key-file", str(key))
    _run("vault", "init", "--db", str(db), "--master-key-file", str(mk), "--key-file", str(key))
    # vault init with a key initialised the ledger too: the ledger CLI can audit it.
    assert "ok" in _run("ledger", "audit", "--db", str(db))
    common = ["--db", str(db), "--master-key-file", str(mk)]
    _run("vault", "get", *common, "--subject", "nobody", code=1)
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": 1, "a": 2}')
    _run(
        "vault",
        "put",
        *common,
        "--key-file",
        str(key),
        "--subject",
        "x",
        "--file",
        str(bad),
        code=2,
    )
    _run("vault", "get", "--master-key-file", str(mk), "--subject", "x", code=2)  # no store
    other = tmp_path / "other.key"
    _run("vault", "init", "--db", str(tmp_path / "b.db"), "--master-key-file", str(other))
    _run("vault", "get", "--db", str(db), "--master-key-file", str(other), "--subject", "x", code=1)
    _run(
        "vault",
        "get",
        "--db",
        str(tmp_path / "missing.db"),
        "--master-key-file",
        str(mk),
        "--subject",
        "x",
        code=2,
    )


def test_vault_cli_on_postgres(tmp_path: Path) -> None:
    import uuid

    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo
    from tests_vault_support import pg_dsn_or_skip

    dsn = pg_dsn_or_skip()
    name = "vault_cli_" + uuid.uuid4().hex[:10]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        params = conninfo_to_dict(dsn)
        params["dbname"] = name
        url = "postgresql://{user}@{host}:{port}/{dbname}".format(
            user=params.get("user", "postgres"),
            host=params.get("host", "127.0.0.1"),
            port=params.get("port", 5432),
            dbname=name,
        )
        assert make_conninfo(url)
        mk, key = tmp_path / "vault.key", tmp_path / "op.jwk"
        _run("did", "create", "--key-file", str(key))
        _run("ledger", "init", "--dsn", url, "--key-file", str(key))
        _run("vault", "init", "--dsn", url, "--master-key-file", str(mk))
        common = ["--dsn", url, "--master-key-file", str(mk)]
        record = tmp_path / "r.json"
        record.write_text('{"name": "Amina"}')
        _run(
            "vault",
            "put",
            *common,
            "--key-file",
            str(key),
            "--subject",
            "amina",
            "--file",
            str(record),
        )
        _run("vault", "erase", *common, "--key-file", str(key), "--subject", "amina", "--yes")
        got = json.loads(_run("vault", "get", *common, "--subject", "amina"))
        assert got["status"] == "erased"
        assert "ok" in _run("ledger", "audit", "--dsn", url)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_cli_reads_the_origin_from_the_store(tmp_path: Path) -> None:
    """A store bound by 'vault init' without a key has an origin but no checkpoint: the
    ledger CLI opens it under that origin, and 'vault init' with a key checkpoints it
    while it holds no entries; once it holds some, only 'ledger init --adopt' names an
    operator (no key becomes one by coming first)."""
    db, mk, key = tmp_path / "registry.db", tmp_path / "vault.key", tmp_path / "op.jwk"
    _run("did", "create", "--key-file", str(key))
    bare = json.loads(_run("vault", "init", "--db", str(db), "--master-key-file", str(mk)))
    assert not bare["ledgerCheckpointed"]
    origin = bare["origin"]
    out = _run("ledger", "checkpoint", "--db", str(db), code=2)
    assert "no checkpoint yet" in out
    # 'ledger init' under another name is refused with the stored one.
    out = _run(
        "ledger", "init", "--db", str(db), "--key-file", str(key), "--origin", "x.example/l", code=2
    )
    assert origin in out
    signed = json.loads(
        _run("vault", "init", "--db", str(db), "--master-key-file", str(mk), "--key-file", str(key))
    )
    assert signed["ledgerCheckpointed"] and signed["origin"] == origin
    appended = _run(
        "ledger", "append", "--db", str(db), "--key-file", str(key), "--data", "x", "--json"
    )
    assert json.loads(appended)
    _run("ledger", "checkpoint", "--db", str(db), "--key-file", str(key))
    note = json.loads(_run("ledger", "checkpoint", "--db", str(db), "--json"))
    assert note["origin"] == origin and note["size"] == 1
    # Another store: entries before any operator; a key given later is not taken as one.
    db2, mk2 = tmp_path / "other.db", tmp_path / "vault2.key"
    _run("vault", "init", "--db", str(db2), "--master-key-file", str(mk2))
    _run("ledger", "append", "--db", str(db2), "--key-file", str(key), "--data", "x")
    out = _run(
        "vault",
        "init",
        "--db",
        str(db2),
        "--master-key-file",
        str(mk2),
        "--key-file",
        str(key),
        code=1,
    )
    assert "operator_unknown" in out
    _run("ledger", "init", "--db", str(db2), "--key-file", str(key), "--adopt")
    note = json.loads(_run("ledger", "checkpoint", "--db", str(db2), "--json"))
    assert note["origin"] == origin and note["size"] == 1
    assert json.loads(_run("ledger", "audit", "--db", str(db), "--json"))["ok"]
