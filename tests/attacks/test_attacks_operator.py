"""Who operates a log, and what the issuer commands accept (issue 10, item 10 and the
holes its audit found): a log made without ``ledger init`` (or, in the library, without
a key) must not belong to the first key that comes along, from the CLI or the library
(``Ledger.open(..., adopt=True)`` is the explicit way); ``issuer init`` must not make a
second issuer of one key, and an accreditation must name a type of the vocabulary. Each
test asserts the exact code (``--json`` prints ``{"error": {"code": ...}}``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from attacks_ledger_support import files_state, pg_drop, pg_dsn, pg_schema
from click.testing import CliRunner

from did_methods.keyfile import write_key_file
from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.key import did_key_from_public_key
from ledger import Ledger
from ledger.checkpoint import NoteSigner, verify_note
from ledger.errors import LedgerKeyMismatch
from ledger.log import Log
from ledger.store import open_store
from ledger.store._base import META_CHECKPOINT_KEY, META_TRUST_ROOT
from ledger.vault import MasterKey, Vault
from ssi_wallet import Issuer
from ssi_wallet.cli import cli


def _cli(*args: str) -> tuple[int, Any]:
    # every vault command prints JSON already; the others are asked to
    extra = [] if args[0] == "vault" else ["--json"]
    result = CliRunner().invoke(cli, [*args, *extra], catch_exceptions=False)
    try:
        return result.exit_code, json.loads(result.stdout)
    except ValueError:
        return result.exit_code, result.stdout


def _code(body: Any) -> str:
    assert isinstance(body, dict) and "error" in body, body
    return str(body["error"]["code"])


def _key(path: Path) -> str:
    write_key_file(path, PrivateKey.generate())
    return str(path)


def _meta(db: Path) -> dict[str, str | None]:
    store = open_store(str(db), read_only=True)
    try:
        return {name: store.meta(name) for name in (META_CHECKPOINT_KEY, META_TRUST_ROOT)}
    finally:
        store.close()


@pytest.fixture
def unowned(tmp_path: Path) -> tuple[Path, str]:
    """A log that holds entries (an issuer's DID and status lists) but no operator:
    made by the library without a key, as an older ``issuer init`` made it."""
    db = tmp_path / "unowned.db"
    with Ledger.open(db) as led:
        did = Issuer.create(led, name="Ministry").did
    return db, did


def test_cli_init_on_a_log_without_operator_refuses_any_key(
    unowned: tuple[Path, str], tmp_path: Path
) -> None:
    db, _ = unowned
    before = files_state(db)
    code, body = _cli("ledger", "init", "--db", str(db), "--key-file", _key(tmp_path / "a.jwk"))
    assert code == 1 and _code(body) == "operator_unknown"
    assert files_state(db) == before
    assert _meta(db) == {META_CHECKPOINT_KEY: None, META_TRUST_ROOT: None}


def test_cli_checkpoint_on_a_log_without_operator_is_refused(
    unowned: tuple[Path, str], tmp_path: Path
) -> None:
    db, _ = unowned
    key = _key(tmp_path / "a.jwk")
    code, body = _cli("ledger", "checkpoint", "--db", str(db), "--key-file", key)
    assert code == 1 and _code(body) == "operator_unknown"
    assert _meta(db)[META_CHECKPOINT_KEY] is None


def test_cli_accredit_on_a_log_without_operator_does_not_make_a_trust_root(
    unowned: tuple[Path, str], tmp_path: Path
) -> None:
    db, did = unowned
    key = _key(tmp_path / "self-made-root.jwk")
    code, body = _cli("issuer", "accredit", "--db", str(db), "--key-file", key, "--did", did,
                      "--type", "WorkPermit", "--jurisdiction", "LT")  # fmt: skip
    assert code == 1 and _code(body) == "operator_unknown"
    assert _meta(db) == {META_CHECKPOINT_KEY: None, META_TRUST_ROOT: None}
    with Ledger.open(db, read_only=True) as led:
        assert led.log.size == 4


def test_cli_vault_init_with_a_key_on_a_log_without_operator_is_refused(
    unowned: tuple[Path, str], tmp_path: Path
) -> None:
    db, _ = unowned
    code, body = _cli("vault", "init", "--db", str(db), "--key-file", _key(tmp_path / "a.jwk"),
                      "--master-key-file", str(tmp_path / "mk.json"))  # fmt: skip
    assert code == 1 and _code(body) == "operator_unknown"
    assert _meta(db)[META_CHECKPOINT_KEY] is None


def test_cli_init_adopt_names_the_operator_once(unowned: tuple[Path, str], tmp_path: Path) -> None:
    db, _ = unowned
    first, second = _key(tmp_path / "first.jwk"), _key(tmp_path / "second.jwk")
    code, body = _cli("ledger", "init", "--db", str(db), "--key-file", first, "--adopt")
    assert code == 0 and body["size"] == 4
    # adopted once: --adopt never re-keys an operated log, the same key stays idempotent
    code, body = _cli("ledger", "init", "--db", str(db), "--key-file", second, "--adopt")
    assert code == 1 and _code(body) == "checkpoint_key_mismatch"
    code, body = _cli("ledger", "init", "--db", str(db), "--key-file", first)
    assert code == 0 and body["size"] == 4


def test_cli_append_by_a_submitter_never_makes_it_the_operator(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    operator, submitter = _key(tmp_path / "op.jwk"), _key(tmp_path / "sub.jwk")
    assert _cli("ledger", "init", "--db", str(db), "--key-file", operator)[0] == 0
    recorded = _meta(db)[META_CHECKPOINT_KEY]
    # another submitter appends (it used to be refused as if it re-keyed the log) ...
    code, body = _cli("ledger", "append", "--db", str(db), "--key-file", submitter,
                      "--kind", "test.data", "--data", "x1")  # fmt: skip
    assert code == 0 and body["count"] == 1
    # ... and the operator stays the one that init recorded
    assert _meta(db)[META_CHECKPOINT_KEY] == recorded
    code, body = _cli("ledger", "checkpoint", "--db", str(db), "--key-file", submitter)
    assert code == 1 and _code(body) == "checkpoint_key_mismatch"


def test_cli_issuer_init_needs_a_ledger_and_writes_no_key(tmp_path: Path) -> None:
    db, key = tmp_path / "none.db", tmp_path / "office.jwk"
    code, body = _cli("issuer", "init", "--db", str(db), "--key-file", str(key), "--name", "O")
    assert code == 2 and _code(body) == "usage" and "ledger init" in body["error"]["message"]
    assert not db.exists() and not key.exists()


def test_cli_issuer_init_twice_with_one_key_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    assert _cli("ledger", "init", "--db", str(db), "--key-file", _key(tmp_path / "op.jwk"))[0] == 0
    key = str(tmp_path / "office.jwk")
    code, body = _cli("issuer", "init", "--db", str(db), "--key-file", key, "--name", "Office")
    assert code == 0
    did = body["did"]
    with Ledger.open(db, read_only=True) as led:
        size = led.log.size
    for name in ("Office", "Another office"):
        code, body = _cli("issuer", "init", "--db", str(db), "--key-file", key, "--name", name)
        assert code == 2 and _code(body) == "issuer_exists" and did in body["error"]["message"]
    with Ledger.open(db, read_only=True) as led:
        assert led.log.size == size  # no second DID, no second status lists
    code, body = _cli("issuer", "status", "--db", str(db), "--key-file", key)
    assert code == 0 and body["did"] == did


@pytest.mark.parametrize(
    "type_name",
    [
        "NoSuchPermit",
        "workpermit",
        "WorkPermіt",  # CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I
        "WorkPermit\u200b",  # ZERO WIDTH SPACE
        "WorkPermit\x00",
        "VerifiableCredential",
    ],
)
def test_cli_accredit_refuses_a_type_outside_the_vocabulary(tmp_path: Path, type_name: str) -> None:
    db = tmp_path / "log.db"
    root = _key(tmp_path / "root.jwk")
    assert _cli("ledger", "init", "--db", str(db), "--key-file", root)[0] == 0
    code, body = _cli("issuer", "init", "--db", str(db), "--key-file", str(tmp_path / "o.jwk"),
                      "--name", "Office")  # fmt: skip
    did = body["did"]
    with Ledger.open(db, read_only=True) as led:
        size = led.log.size
    code, body = _cli("issuer", "accredit", "--db", str(db), "--key-file", root, "--did", did,
                      "--type", "WorkPermit", "--type", type_name)  # fmt: skip
    assert code == 2 and _code(body) == "unknown_credential_type"
    with Ledger.open(db, read_only=True) as led:
        assert led.log.size == size  # nothing written: an accreditation cannot be taken back


# -- the library: Ledger.open / Log refuse the same way (operator_unknown) -------------


@pytest.fixture(params=["sqlite", "postgres"])
def unowned_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Where a library log made with no key lives: ``Ledger.open`` keyword arguments
    (a SQLite file, or a fresh PostgreSQL schema), after an issuer wrote entries to it."""
    if request.param == "sqlite":
        where: dict[str, Any] = {"target": str(tmp_path / "unowned.db")}
    else:
        dsn = pg_dsn()
        if dsn is None:
            pytest.skip("needs SSI_WALLET_TEST_POSTGRES_DSN")
        where = {"target": dsn, "schema": pg_schema()}
    with Ledger.open(**where) as led:
        Issuer.create(led, name="Ministry")
        assert led.log.size > 0
    yield where
    if "schema" in where:
        pg_drop(where["schema"])


def _stored(where: dict[str, Any]) -> Any:
    """Everything the store holds: the SQLite files' bytes, or every row of every
    table of the PostgreSQL schema."""
    if "schema" not in where:
        return files_state(Path(where["target"]))
    import psycopg

    rows: dict[str, list[tuple[Any, ...]]] = {}
    with psycopg.connect(where["target"], autocommit=True) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (where["schema"],),
        ).fetchall()
        for (table,) in tables:
            got = conn.execute(f'SELECT * FROM "{where["schema"]}"."{table}"').fetchall()
            rows[table] = sorted(got, key=repr)
    assert rows, "the schema holds no tables"
    return rows


def _meta_of(where: dict[str, Any]) -> dict[str, str | None]:
    store = open_store(where["target"], read_only=True, schema=where.get("schema"))
    try:
        return {name: store.meta(name) for name in (META_CHECKPOINT_KEY, META_TRUST_ROOT)}
    finally:
        store.close()


@pytest.mark.parametrize("key_type", [KeyType.ED25519, KeyType.P256])
def test_library_open_with_a_key_on_a_log_without_operator_is_refused(
    unowned_target: dict[str, Any], key_type: KeyType
) -> None:
    before = _stored(unowned_target)
    with pytest.raises(LedgerKeyMismatch) as refused:
        Ledger.open(**unowned_target, key=PrivateKey.generate(key_type))
    assert refused.value.code == "operator_unknown"
    assert "adopt" in str(refused.value)
    assert _stored(unowned_target) == before
    assert _meta_of(unowned_target) == {META_CHECKPOINT_KEY: None, META_TRUST_ROOT: None}


def test_library_log_given_a_signer_on_a_log_without_operator_is_refused(
    unowned_target: dict[str, Any],
) -> None:
    before = _stored(unowned_target)
    store = open_store(unowned_target["target"], schema=unowned_target.get("schema"))
    try:
        origin = store.origin()
        assert origin is not None
        with pytest.raises(LedgerKeyMismatch) as refused:
            Log(store, origin=origin, signer=NoteSigner(origin, PrivateKey.generate()))
        assert refused.value.code == "operator_unknown"
    finally:
        store.close()
    assert _stored(unowned_target) == before


def test_library_adopt_binds_the_key_for_good(unowned_target: dict[str, Any]) -> None:
    operator, other = PrivateKey.generate(), PrivateKey.generate()
    with Ledger.open(**unowned_target, key=operator, adopt=True) as led:
        assert led.trust_root == did_key_from_public_key(operator.public_key)
        verifier = led.verifier
        assert verifier is not None
        note = led.checkpoint()
        _, held = verify_note(note, [verifier])
        assert held == (verifier,)
    assert _meta_of(unowned_target) == {
        META_CHECKPOINT_KEY: verifier.vkey,
        META_TRUST_ROOT: did_key_from_public_key(operator.public_key),
    }
    # The operator opens it again without adopting; anyone else is refused, even
    # when asking to adopt: adoption takes a log with no operator, never re-keys one.
    with Ledger.open(**unowned_target, key=operator) as led:
        assert led.trust_root == did_key_from_public_key(operator.public_key)
    for adopt in (False, True):
        before = _stored(unowned_target)
        with pytest.raises(LedgerKeyMismatch) as refused:
            Ledger.open(**unowned_target, key=other, adopt=adopt)
        assert refused.value.code == "checkpoint_key_mismatch"
        assert _stored(unowned_target) == before


def test_library_new_empty_log_takes_its_creators_key(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    creator = PrivateKey.generate()
    with Ledger.open(db, key=creator) as led:
        assert led.trust_root == did_key_from_public_key(creator.public_key)
        Issuer.create(led, name="Ministry")
    with pytest.raises(LedgerKeyMismatch) as refused:
        Ledger.open(db, key=PrivateKey.generate())
    assert refused.value.code == "checkpoint_key_mismatch"


def test_library_vault_with_a_checkpoint_signer_on_a_log_without_operator(
    unowned: tuple[Path, str],
) -> None:
    db, _ = unowned
    before = files_state(db)
    master = MasterKey.generate()
    store = open_store(str(db), read_only=True)
    origin = store.origin()
    store.close()
    assert origin is not None
    operator = NoteSigner(origin, PrivateKey.generate())
    with pytest.raises(LedgerKeyMismatch) as refused:
        Vault.open(db, master_key=master, checkpoint_signer=operator)
    assert refused.value.code == "operator_unknown"
    assert files_state(db) == before  # not even the vault's tables
    with Vault.open(db, master_key=master, checkpoint_signer=operator, adopt=True) as vault:
        vault.log.checkpoint()
    assert _meta(db)[META_CHECKPOINT_KEY] == operator.verifier.vkey


def test_library_key_refused_by_the_trust_root_is_not_left_as_checkpoint_signer(
    tmp_path: Path,
) -> None:
    # A P-256 operator records a trust root and no checkpoint key; another (Ed25519)
    # key is refused by the root and must not stay bound as the checkpoint signer
    # (a later Log or 'ledger checkpoint' with it would then be accepted).
    db = tmp_path / "p256.db"
    with Ledger.open(db, key=PrivateKey.generate(KeyType.P256)) as led:
        Issuer.create(led, name="Ministry")
    before = files_state(db)
    stranger = PrivateKey.generate()
    with pytest.raises(LedgerKeyMismatch) as refused:
        Ledger.open(db, key=stranger)
    assert refused.value.code == "trust_root_mismatch"
    assert files_state(db) == before
    assert _meta(db)[META_CHECKPOINT_KEY] is None
