"""The Ledger facade on SQLite, in memory and (when configured) on PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from ledger_registry_support import FakeClock
from pg_support import pg_drop_schema, pg_dsn

from did_methods.errors import ResolutionError
from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.key import did_key_from_public_key
from ledger.checkpoint import verify_checkpoint
from ledger.errors import LedgerError
from ledger.facade import Ledger
from ledger.registry import Signer


@pytest.fixture(params=["sqlite", "memory", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str | None]]:
    """(target, schema): where to open the ledger."""
    if request.param == "sqlite":
        yield str(tmp_path / "ledger.db"), None
    elif request.param == "memory":
        yield ":memory:", None
    else:
        dsn = pg_dsn()
        schema = f"facade_{secrets.token_hex(6)}"
        yield dsn, schema
        pg_drop_schema(dsn, schema)


def test_the_whole_facade(target: tuple[str, str | None]) -> None:
    where, schema = target
    clock = FakeClock()
    operator = PrivateKey.generate(KeyType.ED25519)
    with Ledger.open(where, key=operator, clock=clock, schema=schema, origin="f.example/l") as led:
        assert led.origin == "f.example/l"
        assert led.issuers.root == did_key_from_public_key(operator.public_key)
        # A did:ledger issuer, accredited by the operator (the root), anchoring a status list.
        issuer_key = PrivateKey.generate(KeyType.ED25519)
        issuer = led.dids.create(issuer_key).did
        signer = Signer(issuer_key, f"{issuer}#key-1")
        led.accredit(issuer, types=["ResidencePermit"], by=operator, jurisdiction="LT")
        led.status_lists.anchor_status_list(
            "https://lt.example/status/1", b"list", issuer=issuer, signer=signer
        )
        entry = led.append("note", b"no personal data here")
        assert led.log.get(entry.index).payload == b"no personal data here"
        at = clock.advance(seconds=1)
        assert led.was_accredited(issuer, "ResidencePermit", at).ok
        resolver = led.resolver()
        assert resolver.resolve_document(issuer).id == issuer
        did_key = did_key_from_public_key(issuer_key.public_key)
        assert resolver.resolve_document(did_key).id == did_key
        note = led.checkpoint()
        assert led.verifier is not None
        assert verify_checkpoint(note, [led.verifier]).size == led.log.size == 4
        report = led.audit(signatures=True)
        assert report.ok and report.size == 4 and report.signatures_checked
    if where == ":memory:":
        return
    # Reopened, the indexes are rebuilt from the log.
    with Ledger.open(where, key=operator, clock=clock, schema=schema, origin="f.example/l") as led:
        assert led.dids.latest(issuer).version_id == "1"
        assert led.was_accredited(issuer, "ResidencePermit", at).ok
        assert led.status_lists.check_status_list_current("https://lt.example/status/1", b"list")
        assert led.audit().ok


def test_without_a_key() -> None:
    with Ledger.open(":memory:") as led:
        with pytest.raises(LedgerError):
            _ = led.issuers
        with pytest.raises(LedgerError):
            led.checkpoint()
        with pytest.raises(LedgerError):
            led.append("note", b"x")
        assert led.verifier is None
        with pytest.raises(ResolutionError):
            led.resolver().resolve_document("did:ledger:" + "2" * 44)
    # A trust root other than the operator.
    root = PrivateKey.generate(KeyType.P256)
    root_did = did_key_from_public_key(root.public_key)
    with Ledger.open(":memory:", trust_root=root_did) as led:
        subject = did_key_from_public_key(PrivateKey.generate(KeyType.ED25519).public_key)
        acc = led.accredit(subject, types=["Visa"], by=root, jurisdiction="EU")
        assert acc.accreditor == root_did


def test_trust_root_is_the_bound_one_or_none(tmp_path: Path) -> None:
    operator = PrivateKey.generate(KeyType.ED25519)
    path = str(tmp_path / "l.db")
    with Ledger.open(path, key=operator) as led:
        assert led.trust_root == did_key_from_public_key(operator.public_key)
    with Ledger.open(path, read_only=True) as led:  # recorded in the store
        assert led.trust_root == did_key_from_public_key(operator.public_key)
    other = did_key_from_public_key(PrivateKey.generate(KeyType.ED25519).public_key)
    with Ledger.open(":memory:", trust_root=other) as led:
        assert led.trust_root == other
    with Ledger.open(":memory:") as led:
        assert led.trust_root is None
