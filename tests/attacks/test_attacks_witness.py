"""Checkpoints and witnesses under attack (issue 10 audit): a quorum met by one witness,
cosignatures replayed, checkpoints signed by another key or for another log, a store whose
entries were cut off. Each test asserts the exact code.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from instants import utc

from did_methods.errors import VerificationError
from did_methods.keyfile import write_key_file
from did_methods.keys import KeyType, PrivateKey
from ledger import _merkle as m
from ledger.checkpoint import Checkpoint, NoteSigner, SignedNote, sign_checkpoint, verify_note
from ledger.witness import Witness, verify_cosigned_checkpoint
from ssi_wallet.cli import cli

ORIGIN = "registry.example/log"
LOG = NoteSigner(ORIGIN, PrivateKey.generate())
NOW = 1_780_000_000


def _clock() -> datetime:
    return utc(NOW)


def _note(size: int = 3, signer: NoteSigner = LOG, origin: str = ORIGIN) -> str:
    cr = m.CompactRange.empty()
    for i in range(size):
        cr = cr.append(m.hash_leaf(b"entry %d" % i), lambda *_: None)
    return sign_checkpoint(Checkpoint(origin, cr.size, cr.root()), signer)


def _witness(name: str, key: PrivateKey | None = None) -> Witness:
    return Witness(name, key or PrivateKey.generate(), logs={ORIGIN: [LOG.verifier]})


def test_one_witness_under_two_keys_is_one_vote() -> None:
    """Hole found in the audit: a witness trusted under its old and its new key (a key
    rotation) cosigned with both and met a quorum of two on its own."""
    old, new = _witness("w1.example"), _witness("w1.example")
    note = new.cosign(old.cosign(_note(), now=_clock), now=_clock)
    with pytest.raises(VerificationError) as raised:
        verify_cosigned_checkpoint(
            note, [LOG.verifier], [old.verifier, new.verifier], quorum=2, now=_clock
        )
    assert raised.value.code == "quorum_not_met"
    other = _witness("w2.example")
    both = other.cosign(note, now=_clock)
    verified = verify_cosigned_checkpoint(
        both, [LOG.verifier], [old.verifier, new.verifier, other.verifier], quorum=2, now=_clock
    )
    assert verified.size == 3


def test_the_same_cosignature_twice_is_one_vote() -> None:
    w1 = _witness("w1.example")
    cosigned = w1.cosign(_note(), now=_clock)
    doubled = cosigned.rstrip("\n") + "\n" + cosigned.rstrip("\n").splitlines()[-1] + "\n"
    with pytest.raises(VerificationError) as raised:
        verify_cosigned_checkpoint(doubled, [LOG.verifier], [w1.verifier], quorum=2, now=_clock)
    assert raised.value.code == "quorum_not_met"


def test_cosignature_moved_onto_another_checkpoint_fails() -> None:
    w1 = _witness("w1.example")
    line = w1.cosign(_note(3), now=_clock).rstrip("\n").splitlines()[-1]
    grafted = _note(4).rstrip("\n") + "\n" + line + "\n"
    with pytest.raises(VerificationError) as raised:
        verify_cosigned_checkpoint(grafted, [LOG.verifier], [w1.verifier], quorum=1, now=_clock)
    assert raised.value.code == "signature_invalid"


def test_cosignature_from_the_future_does_not_count() -> None:
    w1 = _witness("w1.example")
    ahead = w1.cosign(_note(), now=lambda: utc(NOW + 3600))
    with pytest.raises(VerificationError) as raised:
        verify_cosigned_checkpoint(ahead, [LOG.verifier], [w1.verifier], quorum=1, now=_clock)
    assert raised.value.code == "quorum_not_met"


def test_checkpoint_signed_by_another_key_under_the_logs_name() -> None:
    impostor = NoteSigner(ORIGIN, PrivateKey.generate())
    with pytest.raises(VerificationError) as raised:
        verify_note(_note(signer=impostor), [LOG.verifier])
    assert raised.value.code == "no_trusted_signature"


def test_witness_refuses_a_checkpoint_of_a_log_it_does_not_follow() -> None:
    other_log = NoteSigner("elsewhere.example/log", PrivateKey.generate())
    w1 = _witness("w1.example")
    with pytest.raises(VerificationError) as raised:
        w1.cosign(_note(signer=other_log, origin="elsewhere.example/log"), now=_clock)
    assert raised.value.code == "unknown_log"


def test_note_with_a_forged_signature_line_for_the_log_is_refused() -> None:
    note = SignedNote.parse(_note())
    text = note.to_text()
    body, _, sigs = text.partition("\n\n")
    name, key_and_sig = sigs.split(" ", 2)[1:]
    forged = body + "\n\n" + f"\u2014 {name} " + key_and_sig[:8] + "A" * 88 + "\n"
    with pytest.raises(VerificationError) as raised:
        verify_note(forged, [LOG.verifier])
    assert raised.value.code == "signature_invalid"


def test_audit_of_a_store_whose_last_entries_were_cut_off(tmp_path: Path) -> None:
    key = tmp_path / "op.jwk"
    write_key_file(key, PrivateKey(KeyType.ED25519, b"\x07" * 32))
    db = str(tmp_path / "log.db")

    def run(*args: str) -> tuple[int, str]:
        done = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        return done.exit_code, done.stdout

    assert run("ledger", "init", "--db", db, "--key-file", str(key))[0] == 0
    for i in range(4):
        assert run("ledger", "append", "--db", db, "--key-file", str(key), "--kind",
                   "test.data", "--data", f"x{i}")[0] == 0  # fmt: skip
    assert run("ledger", "checkpoint", "--db", db, "--key-file", str(key))[0] == 0
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM ledger_entries WHERE idx >= 2")
    code, out = run("ledger", "audit", "--db", db, "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False and report["firstBadIndex"] == 2
