"""Attacks on the holder's wallet file and its backups, each refused with its exact code.

An attacker here holds the file (a stolen phone, a synced copy, a backup on a
cloud drive), can edit it byte by byte or row by row, mixes rows and files of
two wallets, or knows the passphrase of a backup it crafted itself. Nothing it
does may be silently accepted: every refusal is a typed error with a stable
``code``, and nothing the victim's wallet held is lost.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from instants import day_from_today

from credentials import schemas
from did_methods import PrivateKey
from did_methods.errors import JSONError, OutputFileError
from ledger.facade import Ledger
from ssi_wallet import (
    Holder,
    Issuer,
    NotAWalletError,
    OtherWalletError,
    WalletBackupError,
    WalletIntegrityError,
    WalletLockedError,
    policies,
)
from ssi_wallet._wallet_backup import MAGIC, BackupContent, seal_backup
from ssi_wallet._wallet_store import _kdf
from ssi_wallet.request import PresentationRequest

PW = "correct horse battery staple"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


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


def make_wallet(path: Path, ministry: Issuer, *types: str) -> tuple[Holder, list[str]]:
    holder = Holder.create(path, passphrase=PW)
    ids = [
        holder.store(ministry.issue(t, subject=holder.did, claims=claims(t))).id
        for t in types or ("WorkPermit",)
    ]
    return holder, ids


def work_request() -> PresentationRequest:
    return PresentationRequest.for_policy(
        policies.right_to_work(sector="Q86"), audience="did:web:clinic.example"
    )


@pytest.fixture
def backup(tmp_path: Path, ministry: Issuer) -> tuple[Path, Holder]:
    holder, _ = make_wallet(tmp_path / "amina.wallet", ministry, "WorkPermit", "Visa")
    holder.answer(work_request(), consent=lambda ask: True)
    path = holder.backup(tmp_path / "amina.backup", passphrase=PW)
    return path, holder


def code_of(call: Callable[[], Any], kind: type[Exception]) -> str:
    with pytest.raises(kind) as err:
        call()
    return str(err.value.code)  # type: ignore[attr-defined]


def split(path: Path) -> tuple[dict[str, Any], bytes]:
    data = path.read_bytes()
    end = data.index(b"\n", len(MAGIC))
    return json.loads(data[len(MAGIC) : end]), data[end + 1 :]


def join(path: Path, header: dict[str, Any], sealed: bytes) -> None:
    path.write_bytes(MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + sealed)


def seal_payload(path: Path, payload: bytes, passphrase: str = PW) -> None:
    """A backup an attacker who knows the passphrase seals around any payload bytes."""
    key, salt, wrap_nonce, nonce = (
        AESGCM.generate_key(256),
        os.urandom(16),
        os.urandom(12),
        os.urandom(12),
    )
    wrapped = AESGCM(_kdf(passphrase, salt, 2**15)).encrypt(
        wrap_nonce, key, b"ssi-wallet backup key v1"
    )
    header = json.dumps(
        {
            "n": 2**15,
            "salt": salt.hex(),
            "wrap_nonce": wrap_nonce.hex(),
            "wrapped_key": wrapped.hex(),
            "nonce": nonce.hex(),
        },
        sort_keys=True,
    ).encode()
    path.write_bytes(MAGIC + header + b"\n" + AESGCM(key).encrypt(nonce, payload, MAGIC + header))


def restore_code(holder: Holder, path: Path, kind: type[Exception], pw: str = PW) -> str:
    before = sorted(s.id for s in holder.summaries())
    code = code_of(lambda: holder.restore(path, passphrase=pw), kind)
    assert sorted(s.id for s in holder.summaries()) == before  # nothing written
    return code


# -- backups: bytes changed on the way ------------------------------------------------


@pytest.mark.parametrize("where", [0, 17, -17, -1])
def test_flipped_byte_in_the_sealed_backup(backup: tuple[Path, Holder], where: int) -> None:
    path, holder = backup
    header, sealed = split(path)
    raw = bytearray(sealed)
    raw[where] ^= 0x01
    join(path, header, bytes(raw))
    assert restore_code(holder, path, WalletBackupError) == "backup_tampered"


def test_truncated_backup(backup: tuple[Path, Holder]) -> None:
    path, holder = backup
    path.write_bytes(path.read_bytes()[:-40])
    assert restore_code(holder, path, WalletBackupError) == "backup_tampered"


def test_backup_with_trailing_garbage(backup: tuple[Path, Holder]) -> None:
    path, holder = backup
    path.write_bytes(path.read_bytes() + b"\x00garbage")
    assert restore_code(holder, path, WalletBackupError) == "backup_tampered"


def test_backup_with_another_payload_nonce(backup: tuple[Path, Holder]) -> None:
    path, holder = backup
    header, sealed = split(path)
    header["nonce"] = os.urandom(12).hex()
    join(path, header, sealed)
    assert restore_code(holder, path, WalletBackupError) == "backup_tampered"


def test_backup_header_reordered_is_a_changed_header(backup: tuple[Path, Holder]) -> None:
    path, holder = backup
    header, sealed = split(path)
    path.write_bytes(
        MAGIC + json.dumps(header, indent=1).replace("\n", "").encode() + b"\n" + sealed
    )
    assert restore_code(holder, path, WalletBackupError) == "backup_tampered"


@pytest.mark.parametrize("field", ["salt", "wrapped_key", "wrap_nonce"])
def test_backup_key_envelope_altered(backup: tuple[Path, Holder], field: str) -> None:
    path, holder = backup
    header, sealed = split(path)
    value = bytearray(bytes.fromhex(header[field]))
    value[0] ^= 0x80
    header[field] = value.hex()
    join(path, header, sealed)
    assert restore_code(holder, path, WalletLockedError) == "wrong_passphrase"


@pytest.mark.parametrize("n", [2**14, 3 * 2**13, 2**40, 1, "32768", True])
def test_backup_scrypt_cost_altered(backup: tuple[Path, Holder], n: Any) -> None:
    path, holder = backup
    header, sealed = split(path)
    header["n"] = n
    join(path, header, sealed)
    expected = (
        (WalletLockedError, "wrong_passphrase")
        if n == 2**14
        else (
            WalletBackupError,
            "not_a_backup",
        )
    )
    assert restore_code(holder, path, expected[0]) == expected[1]


def test_backup_header_with_an_extra_member(backup: tuple[Path, Holder]) -> None:
    path, holder = backup
    header, sealed = split(path)
    header["holder"] = "did:key:z6Mkattacker"
    join(path, header, sealed)
    assert restore_code(holder, path, WalletBackupError) == "not_a_backup"


def test_backup_header_with_duplicate_members(backup: tuple[Path, Holder]) -> None:
    path, holder = backup
    header, sealed = split(path)
    text = json.dumps(header, sort_keys=True)
    text = text[:-1] + f', "nonce": "{os.urandom(12).hex()}"}}'
    path.write_bytes(MAGIC + text.encode() + b"\n" + sealed)
    assert restore_code(holder, path, WalletBackupError) == "not_a_backup"


def test_backup_magic_altered(backup: tuple[Path, Holder]) -> None:
    path, holder = backup
    data = path.read_bytes()
    path.write_bytes(b"SSI-WALLET-BACKUP 2\n" + data[len(MAGIC) :])
    assert restore_code(holder, path, WalletBackupError) == "not_a_backup"


def test_backup_without_a_header_line(backup: tuple[Path, Holder]) -> None:
    path, holder = backup
    path.write_bytes(MAGIC + b"{" + b" " * 5000)
    assert restore_code(holder, path, WalletBackupError) == "not_a_backup"


@pytest.mark.parametrize("content", [b"", os.urandom(4096), b"SQLite format 3\x00" + bytes(84)])
def test_other_files_are_not_backups(
    backup: tuple[Path, Holder], tmp_path: Path, content: bytes
) -> None:
    _, holder = backup
    other = tmp_path / "other.bin"
    other.write_bytes(content)
    assert restore_code(holder, other, WalletBackupError) == "not_a_backup"


def test_a_wallet_file_is_not_a_backup(backup: tuple[Path, Holder], tmp_path: Path) -> None:
    _, holder = backup
    assert restore_code(holder, tmp_path / "amina.wallet", WalletBackupError) == "not_a_backup"


def test_a_directory_is_not_a_backup(backup: tuple[Path, Holder], tmp_path: Path) -> None:
    _, holder = backup
    assert restore_code(holder, tmp_path, WalletBackupError) == "not_a_backup"


def test_backup_with_a_wrong_passphrase(backup: tuple[Path, Holder]) -> None:
    path, holder = backup
    assert restore_code(holder, path, WalletLockedError, pw="guess") == "wrong_passphrase"


# -- backups: crafted by someone who knows a passphrase -------------------------------


def test_another_wallets_backup_is_refused(
    backup: tuple[Path, Holder], tmp_path: Path, ministry: Issuer
) -> None:
    path, _ = backup
    victim, ids = make_wallet(tmp_path / "victim.wallet", ministry, "StudyPermit")
    assert restore_code(victim, path, OtherWalletError) == "other_wallet"
    assert [s.id for s in victim.summaries()] == ids


def test_a_backup_naming_the_victim_with_the_attackers_key(
    backup: tuple[Path, Holder], tmp_path: Path
) -> None:
    _, victim = backup
    attacker = PrivateKey.generate()
    forged = tmp_path / "forged.backup"
    forged.write_bytes(seal_backup(BackupContent(victim.did, attacker.private_jwk(), (), ()), PW))
    assert restore_code(victim, forged, WalletBackupError) == "backup_malformed"
    code = code_of(
        lambda: Holder.from_backup(forged, tmp_path / "new.wallet", passphrase=PW),
        WalletBackupError,
    )
    assert code == "backup_malformed"
    assert not (tmp_path / "new.wallet").exists()


@pytest.mark.parametrize(
    "payload",
    [
        b"not zlib at all",
        zlib.compress(b"not json"),
        zlib.compress(b"[]"),
        zlib.compress(b'{"holder": "x", "key": {}, "credentials": [], "history": [], "more": 1}'),
        zlib.compress(b'{"holder": 1, "key": {}, "credentials": [], "history": []}'),
        zlib.compress(b'{"holder": "x", "key": {}, "credentials": [{"id": 1}], "history": []}'),
        zlib.compress(b'{"holder": "x", "key": {}, "credentials": [], "history": [["a"]]}'),
        zlib.compress(b"[" * 100_000 + b"]" * 100_000),
        zlib.compress(b'{"holder": "\\ud800", "key": {}, "credentials": [], "history": []}'),
        zlib.compress(b'{"holder": "x", "key": {}, "credentials": [], "history": []}')[:-3],
    ],
    ids=[
        "not-zlib",
        "not-json",
        "array",
        "extra-member",
        "holder-type",
        "credential-shape",
        "history-shape",
        "deep",
        "lone-surrogate",
        "cut-stream",
    ],
)
def test_crafted_payloads_are_malformed(
    backup: tuple[Path, Holder], tmp_path: Path, payload: bytes
) -> None:
    _, holder = backup
    crafted = tmp_path / "crafted.backup"
    seal_payload(crafted, payload)
    assert restore_code(holder, crafted, WalletBackupError) == "backup_malformed"


def test_backup_never_overwrites_or_follows_a_link(
    backup: tuple[Path, Holder], tmp_path: Path
) -> None:
    path, holder = backup
    before = digest(path)
    assert code_of(lambda: holder.backup(path, passphrase=PW), OutputFileError) == "exists"
    assert digest(path) == before
    target = tmp_path / "elsewhere"
    link = tmp_path / "link.backup"
    link.symlink_to(target)
    for force in (False, True):
        code = code_of(
            lambda force=force: holder.backup(link, passphrase=PW, force=force), OutputFileError
        )
        assert code == "symlink"
    assert not target.exists()
    # --force replaces a regular file atomically, with a backup that restores.
    holder.backup(path, passphrase=PW, force=True)
    assert digest(path) != before
    assert holder.restore(path, passphrase=PW).already_present > 0


def test_restoring_an_old_backup_keeps_what_came_later(
    backup: tuple[Path, Holder], ministry: Issuer
) -> None:
    path, holder = backup
    later = holder.store(
        ministry.issue("StudyPermit", subject=holder.did, claims=claims("StudyPermit"))
    )
    history = len(holder.history())
    result = holder.restore(path, passphrase=PW)
    assert result.credentials_added == 0 and result.history_added == 0
    assert holder.credential(later.id) == later
    assert len(holder.history()) == history


# -- the wallet file ------------------------------------------------------------------


def test_wrong_passphrase(tmp_path: Path, ministry: Issuer) -> None:
    make_wallet(tmp_path / "w.wallet", ministry)[0].close()
    assert (
        code_of(lambda: Holder.open(tmp_path / "w.wallet", passphrase="guess"), WalletLockedError)
        == "wrong_passphrase"
    )


@pytest.mark.parametrize("read_only", [True, False])
def test_a_ledger_is_not_a_wallet_and_stays_untouched(tmp_path: Path, read_only: bool) -> None:
    db = tmp_path / "registry.db"
    Ledger.open(db, key=PrivateKey.generate()).close()
    before, files = digest(db), sorted(os.listdir(tmp_path))
    assert (
        code_of(lambda: Holder.open(db, passphrase=PW, read_only=read_only), NotAWalletError)
        == "not_a_wallet"
    )
    assert digest(db) == before and sorted(os.listdir(tmp_path)) == files


@pytest.mark.parametrize(
    "content", [b"", os.urandom(8192), b"SQLite format 3\x00" + os.urandom(84)]
)
def test_other_bytes_are_not_a_wallet(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.wallet"
    path.write_bytes(content)
    assert code_of(lambda: Holder.open(path, passphrase=PW), NotAWalletError) == "not_a_wallet"
    assert path.read_bytes() == content


def test_an_empty_sqlite_database_is_not_a_wallet(tmp_path: Path) -> None:
    path = tmp_path / "x.wallet"
    sqlite3.connect(path).execute("CREATE TABLE meta (k, v)").connection.close()
    before = digest(path)
    assert code_of(lambda: Holder.open(path, passphrase=PW), NotAWalletError) == "not_a_wallet"
    assert digest(path) == before


def test_truncated_wallet(tmp_path: Path, ministry: Issuer) -> None:
    path = tmp_path / "w.wallet"
    make_wallet(path, ministry, "WorkPermit", "Visa", "StudyPermit")[0].close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert code_of(lambda: Holder.open(path, passphrase=PW), NotAWalletError) == "truncated"


def edit(path: Path, *statements: tuple[str, tuple[Any, ...]]) -> None:
    conn = sqlite3.connect(path)
    for sql, params in statements:
        conn.execute(sql, params)
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("kdf", "code"),
    [
        ({"n": 2**40, "salt": "00", "nonce": "00" * 12}, "not_a_wallet"),
        ({"n": 3000, "salt": "00", "nonce": "00" * 12}, "not_a_wallet"),
        ({"salt": "00", "nonce": "00" * 12}, "not_a_wallet"),
        ("not json", "not_a_wallet"),
    ],
)
def test_damaged_key_parameters(tmp_path: Path, kdf: Any, code: str) -> None:
    path = tmp_path / "w.wallet"
    Holder.create(path, passphrase=PW).close()
    text = kdf if isinstance(kdf, str) else json.dumps(kdf)
    edit(path, ("UPDATE meta SET v = ? WHERE k = 'kdf'", (text.encode(),)))
    assert code_of(lambda: Holder.open(path, passphrase=PW), NotAWalletError) == code


def test_newer_layout(tmp_path: Path) -> None:
    path = tmp_path / "w.wallet"
    Holder.create(path, passphrase=PW).close()
    edit(path, ("UPDATE meta SET v = ? WHERE k = 'layout'", (b"3",)))
    assert code_of(lambda: Holder.open(path, passphrase=PW), NotAWalletError) == (
        "layout_unsupported"
    )


@pytest.mark.parametrize("part", ["head", "claims", "raw"])
def test_parts_swapped_between_two_credentials(tmp_path: Path, ministry: Issuer, part: str) -> None:
    path = tmp_path / "w.wallet"
    holder, (a, b) = make_wallet(path, ministry, "WorkPermit", "Visa")
    holder.close()
    conn = sqlite3.connect(path)
    (va,) = conn.execute(f"SELECT {part} FROM credentials WHERE id = ?", (a,)).fetchone()
    (vb,) = conn.execute(f"SELECT {part} FROM credentials WHERE id = ?", (b,)).fetchone()
    conn.execute(f"UPDATE credentials SET {part} = ? WHERE id = ?", (vb, a))
    conn.execute(f"UPDATE credentials SET {part} = ? WHERE id = ?", (va, b))
    conn.commit()
    conn.close()
    again = Holder.open(path, passphrase=PW)
    assert code_of(lambda: again.credential(a), WalletIntegrityError) == "record_tampered"
    assert code_of(again.export, WalletIntegrityError) == "record_tampered"


def test_a_credential_row_moved_from_another_wallet(tmp_path: Path, ministry: Issuer) -> None:
    mine, _ = make_wallet(tmp_path / "mine.wallet", ministry)
    theirs, (foreign,) = make_wallet(tmp_path / "theirs.wallet", ministry, "ResidencePermit")
    mine.close()
    theirs.close()
    conn = sqlite3.connect(tmp_path / "mine.wallet")
    conn.execute("ATTACH DATABASE ? AS other", (str(tmp_path / "theirs.wallet"),))
    conn.execute(
        "INSERT INTO credentials (id, head, claims, raw) "
        "SELECT id, head, claims, raw FROM other.credentials WHERE id = ?",
        (foreign,),
    )
    conn.commit()
    conn.close()
    again = Holder.open(tmp_path / "mine.wallet", passphrase=PW)
    assert code_of(lambda: again.credential(foreign), WalletIntegrityError) == "record_tampered"
    assert code_of(again.summaries, WalletIntegrityError) == "record_tampered"


def test_the_holder_key_of_another_wallet(tmp_path: Path, ministry: Issuer) -> None:
    make_wallet(tmp_path / "mine.wallet", ministry)[0].close()
    Holder.create(tmp_path / "theirs.wallet", passphrase=PW).close()
    conn = sqlite3.connect(tmp_path / "theirs.wallet")
    (sealed,) = conn.execute("SELECT sealed FROM items WHERE kind = 'key'").fetchone()
    conn.close()
    edit(tmp_path / "mine.wallet", ("UPDATE items SET sealed = ? WHERE kind = 'key'", (sealed,)))
    assert (
        code_of(lambda: Holder.open(tmp_path / "mine.wallet", passphrase=PW), WalletIntegrityError)
        == "record_tampered"
    )


def test_the_key_envelope_of_another_wallet(tmp_path: Path, ministry: Issuer) -> None:
    make_wallet(tmp_path / "mine.wallet", ministry)[0].close()
    Holder.create(tmp_path / "theirs.wallet", passphrase="theirs").close()
    conn = sqlite3.connect(tmp_path / "theirs.wallet")
    meta = dict(conn.execute("SELECT k, v FROM meta WHERE k IN ('kdf', 'wrapped_key')"))
    conn.close()
    edit(
        tmp_path / "mine.wallet",
        *[("UPDATE meta SET v = ? WHERE k = ?", (v, k)) for k, v in meta.items()],
    )
    path = tmp_path / "mine.wallet"
    assert code_of(lambda: Holder.open(path, passphrase=PW), WalletLockedError) == (
        "wrong_passphrase"
    )
    # The other wallet's passphrase unwraps the other data key: no row opens under it.
    assert code_of(lambda: Holder.open(path, passphrase="theirs"), WalletIntegrityError) == (
        "record_tampered"
    )


def test_history_rows_swapped(tmp_path: Path, ministry: Issuer) -> None:
    path = tmp_path / "w.wallet"
    holder, _ = make_wallet(path, ministry)
    for _ in range(2):
        holder.answer(work_request(), consent=lambda ask: True)
    holder.close()
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT seq, sealed FROM items WHERE kind = 'history'").fetchall()
    conn.execute("UPDATE items SET sealed = ? WHERE seq = ?", (rows[1][1], rows[0][0]))
    conn.commit()
    conn.close()
    again = Holder.open(path, passphrase=PW)
    assert code_of(again.history, WalletIntegrityError) == "record_tampered"


def test_a_renamed_credential_id(tmp_path: Path, ministry: Issuer) -> None:
    path = tmp_path / "w.wallet"
    holder, (cid,) = make_wallet(path, ministry)
    holder.close()
    edit(path, ("UPDATE credentials SET id = ? WHERE id = ?", ("urn:uuid:attacker", cid)))
    again = Holder.open(path, passphrase=PW)
    assert code_of(again.summaries, WalletIntegrityError) == "record_tampered"


def test_a_sealed_part_stored_as_text(tmp_path: Path, ministry: Issuer) -> None:
    path = tmp_path / "w.wallet"
    holder, (cid,) = make_wallet(path, ministry)
    holder.close()
    edit(path, ("UPDATE credentials SET head = 'plain text' WHERE id = ?", (cid,)))
    again = Holder.open(path, passphrase=PW)
    assert code_of(again.summaries, WalletIntegrityError) == "record_tampered"


def test_a_forged_index_entry_does_not_make_a_credential_fit(
    tmp_path: Path, ministry: Issuer
) -> None:
    path = tmp_path / "w.wallet"
    holder, _ = make_wallet(path, ministry, "Visa")
    holder.close()
    # File the visa under every tag a permit would have: the matcher still reads the head.
    conn = sqlite3.connect(path)
    (seq,) = conn.execute("SELECT seq FROM credentials").fetchone()
    conn.close()
    again = Holder.open(path, passphrase=PW)
    tags = [again._store.tag(f"dc+sd-jwt|{schemas.vct('WorkPermit')}"), again._store.tag("ldp_vc")]
    again.close()
    edit(path, *[("INSERT INTO credential_tags (tag, seq) VALUES (?, ?)", (t, seq)) for t in tags])
    again = Holder.open(path, passphrase=PW)
    assert not again.find(work_request()).ok


def test_writes_to_a_read_only_wallet(tmp_path: Path, ministry: Issuer) -> None:
    path = tmp_path / "w.wallet"
    holder, (cid,) = make_wallet(path, ministry)
    holder.close()
    before = digest(path)
    again = Holder.open(path, passphrase=PW, read_only=True)
    assert code_of(lambda: again.delete(cid), WalletIntegrityError) == "read_only"
    assert (
        code_of(
            lambda: again.answer(work_request(), consent=lambda ask: True), WalletIntegrityError
        )
        == "read_only"
    )
    assert code_of(lambda: again.change_passphrase(PW, "new"), WalletIntegrityError) == (
        "read_only"
    )
    again.close()
    assert digest(path) == before


def test_create_never_overwrites_nor_follows_a_link(tmp_path: Path) -> None:
    existing = tmp_path / "w.wallet"
    existing.write_bytes(b"precious")
    assert code_of(lambda: Holder.create(existing, passphrase=PW), WalletIntegrityError) == (
        "exists"
    )
    assert existing.read_bytes() == b"precious"
    link = tmp_path / "link.wallet"
    link.symlink_to(tmp_path / "target")
    assert code_of(lambda: Holder.create(link, passphrase=PW), WalletIntegrityError) == "exists"
    assert not (tmp_path / "target").exists()


def _deep() -> Any:
    value: Any = 1
    for _ in range(80):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("\ud800", "json_lone_surrogate"),
        (float("nan"), "json_number"),
        (10**400, "json_number"),
        (object(), "json_type"),
        (_deep(), "json_too_deep"),
    ],
    ids=["lone-surrogate", "nan", "huge-int", "not-json", "too-deep"],
)
def test_a_credential_the_wallet_could_not_read_back_is_not_stored(
    tmp_path: Path, ministry: Issuer, value: Any, code: str
) -> None:
    # Layout 1 sealed such values and then could no longer list or export the wallet.
    holder, ids = make_wallet(tmp_path / "w.wallet", ministry)
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "did:key:z6MkhFgqshXyf3xptSNBWCAeF2QXJ2goyBwrUrb8b6bX9Snw",
        "credentialSubject": {"claim": value},
    }
    assert code_of(lambda: holder.store(credential, verify_now=False), JSONError) == code
    assert [s.id for s in holder.summaries()] == ids
    assert len(holder.export()["credentials"]) == 1
