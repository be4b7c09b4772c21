"""The did:ledger method: create, rotate, services, deactivate, resolution by version and time."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_registry_support import FakeClock

from did_methods.errors import ResolutionError, VerificationError
from did_methods.keys import KeyType, PrivateKey
from ledger._merkle import hash_leaf
from ledger.checkpoint import Checkpoint, verify_checkpoint
from ledger.entry import EntryDraft
from ledger.errors import EntryRejected
from ledger.facade import Ledger
from ledger.proofs import verify_inclusion
from ledger.registry import (
    KIND_UPDATE,
    LedgerMethod,
    RegistryError,
    RegistryRejected,
    Signer,
)
from ledger.registry._common import decode_payload, encode_payload, rfc3339

MESSAGE_OLD = b"credential signed before the rotation"
MESSAGE_NEW = b"credential signed after the rotation"


def _new_did(ledger: Ledger) -> tuple[str, PrivateKey]:
    key = PrivateKey.generate(KeyType.ED25519)
    return ledger.dids.create(key).did, key


def test_create_derives_the_did_from_the_genesis_entry(ledger: Ledger) -> None:
    key = PrivateKey.generate(KeyType.ED25519)
    version = ledger.dids.create(
        key, services=[{"id": "#hub", "type": "Hub", "serviceEndpoint": "https://hub.example"}]
    )
    assert re.fullmatch(r"did:ledger:[1-9A-HJ-NP-Za-km-z]{40,50}", version.did)
    entry = ledger.log.get(version.index)
    assert entry.kind == "did-ledger.create"
    import hashlib

    from did_methods.encoding import base58btc_encode

    assert version.did == "did:ledger:" + base58btc_encode(hashlib.sha256(entry.payload).digest())
    # The same key makes a different DID each time (the nonce is part of the genesis).
    assert ledger.dids.create(key).did != version.did
    doc = ledger.resolver().resolve_document(version.did)
    assert doc.find(f"{version.did}#key-1").public_key == key.public_key  # type: ignore[union-attr]
    assert doc.find_service("#hub") is not None
    assert doc.is_authorised(f"{version.did}#key-1", "capabilityInvocation")


def test_key_rotation_old_signature_verifies_at_old_time_only(
    ledger: Ledger, clock: FakeClock
) -> None:
    did, old_key = _new_did(ledger)
    signed_at = clock.advance(minutes=5)
    old_signature = old_key.sign(MESSAGE_OLD)
    clock.advance(days=30)
    new_key = PrivateKey.generate(KeyType.ED25519)
    rotated = ledger.dids.rotate_key(did, Signer(old_key, f"{did}#key-1"), new_key.public_key)
    assert rotated.version_id == "2"
    clock.advance(minutes=1)
    new_signature = new_key.sign(MESSAGE_NEW)
    resolver = ledger.resolver()

    # At the time it was signed, the old key was the DID's assertion key.
    at_signing = resolver.verification_method(
        f"{did}#key-1", "assertionMethod", versionTime=rfc3339(int(signed_at.timestamp() * 1000))
    )
    at_signing.public_key.verify(old_signature, MESSAGE_OLD)

    # Against the latest version the old key is gone and no current key verifies.
    with pytest.raises(ResolutionError) as gone:
        resolver.verification_method(f"{did}#key-1", "assertionMethod")
    assert gone.value.code == "notFound"
    latest = resolver.resolve_document(did)
    for method in latest.verification_methods_for("assertionMethod"):
        with pytest.raises(VerificationError):
            method.public_key.verify(old_signature, MESSAGE_OLD)

    # New signatures verify with the new key, through the latest version.
    current = resolver.verification_method(f"{did}#key-2", "assertionMethod")
    current.public_key.verify(new_signature, MESSAGE_NEW)
    with pytest.raises(VerificationError):
        current.public_key.verify(new_signature, MESSAGE_OLD)

    # The DID URL form of versionTime works too (dereferencing).
    old_time = rfc3339(int(signed_at.timestamp() * 1000))
    vm = resolver.dereference(f"{did}?versionTime={old_time}#key-1")
    assert vm.public_key == old_key.public_key  # type: ignore[union-attr]


def test_resolution_metadata_for_every_version(ledger: Ledger, clock: FakeClock) -> None:
    did, key1 = _new_did(ledger)
    created = clock.ms
    clock.advance(hours=1)
    key2 = PrivateKey.generate(KeyType.ED25519)
    v2 = ledger.dids.rotate_key(did, Signer(key1, f"{did}#key-1"), key2.public_key)
    clock.advance(hours=1)
    v3 = ledger.dids.add_service(
        did,
        Signer(key2, f"{did}#key-2"),
        {"id": "#inbox", "type": "DIDCommMessaging", "serviceEndpoint": "https://x.example/in"},
    )
    resolver = ledger.resolver()
    first = resolver.resolve(did, versionId="1")
    assert first.error is None
    meta = first.did_document_metadata
    assert meta["versionId"] == "1"
    assert meta["created"] == rfc3339(created)
    assert "updated" not in meta
    assert meta["nextVersionId"] == "2"
    assert meta["nextUpdate"] == rfc3339(v2.time_ms)
    assert meta["deactivated"] is False
    latest = resolver.resolve(did)
    assert latest.did_document_metadata["versionId"] == "3"
    assert latest.did_document_metadata["updated"] == rfc3339(v3.time_ms)
    assert latest.did_document_metadata["created"] == rfc3339(created)
    assert "nextVersionId" not in latest.did_document_metadata
    assert latest.did_document is not None and latest.did_document.find_service("#inbox")
    # versionTime picks the version in force: just before v2, exactly at v2, after v3.
    assert (
        resolver.resolve(did, versionTime=rfc3339(v2.time_ms - 1)).did_document_metadata[
            "versionId"
        ]
        == "1"
    )
    assert (
        resolver.resolve(did, versionTime=rfc3339(v2.time_ms)).did_document_metadata["versionId"]
        == "2"
    )
    assert (
        resolver.resolve(did, versionTime="2999-01-01T00:00:00Z").did_document_metadata["versionId"]
        == "3"
    )
    # Before the DID existed, and unknown versions: notFound.
    assert resolver.resolve(did, versionTime=rfc3339(created - 1)).error == "notFound"
    assert resolver.resolve(did, versionId="4").error == "notFound"
    assert resolver.resolve(did, versionId="0").error == "notFound"
    assert resolver.resolve(did, versionTime="yesterday").error == "invalidOptions"
    assert resolver.resolve(did, versionTime="2026-01-01T00:00:00").error == "invalidOptions"
    assert resolver.resolve("did:ledger:" + "1" * 44).error == "notFound"
    assert resolver.resolve("did:ledger:abc").error == "invalidDid"
    # The service can be removed again.
    v4 = ledger.dids.remove_service(did, Signer(key2, f"{did}#key-2"), "inbox")
    assert not ledger.dids.version(did, version_id=v4.version_id).document().service


def test_inclusion_proof_of_the_defining_entry_verifies_against_a_checkpoint(
    ledger: Ledger,
) -> None:
    did, _ = _new_did(ledger)
    for n in range(5):
        ledger.append("filler", b"%d" % n)
    version = ledger.dids.latest(did)
    assert ledger.dids.metadata(version)["ledger"] == {"origin": ledger.origin, "index": 0}
    note = ledger.checkpoint()
    assert ledger.verifier is not None
    checkpoint: Checkpoint = verify_checkpoint(note, [ledger.verifier], origin=ledger.origin)
    proof = ledger.dids.prove(version)
    assert proof.proof.size == checkpoint.size
    assert proof.entry.index == version.index
    verify_inclusion(hash_leaf(proof.entry.encode()), proof.proof, checkpoint.root_hash)
    assert proof.verify(checkpoint.root_hash) == ledger.log.get(version.index)


def test_update_signed_by_a_key_not_in_the_current_version_is_refused(
    ledger: Ledger, clock: FakeClock
) -> None:
    did, key1 = _new_did(ledger)
    stranger = PrivateKey.generate(KeyType.ED25519)
    size = ledger.log.size
    with pytest.raises(RegistryRejected) as refused:
        ledger.dids.update(did, Signer(stranger, f"{did}#key-1"), ledger.dids.template(did))
    assert refused.value.code == "key_mismatch"
    assert ledger.log.size == size  # nothing was appended
    # After a rotation, the old key is no longer authorised.
    key2 = PrivateKey.generate(KeyType.ED25519)
    clock.advance(seconds=1)
    ledger.dids.rotate_key(did, Signer(key1, f"{did}#key-1"), key2.public_key)
    with pytest.raises(RegistryRejected) as stale:
        ledger.dids.update(did, Signer(key1, f"{did}#key-1"), ledger.dids.template(did))
    assert stale.value.code == "not_authorised"
    # An authentication-only key may not update either (capabilityInvocation is required).
    template = ledger.dids.template(did)
    key3 = PrivateKey.generate(KeyType.ED25519)
    template["verificationMethod"].append(
        {"id": "#auth", "type": "Multikey", "publicKeyMultibase": key3.public_key.to_multikey()}
    )
    template["authentication"] = ["#auth"]
    ledger.dids.update(did, Signer(key2, f"{did}#key-2"), template)
    with pytest.raises(RegistryRejected) as auth_only:
        ledger.dids.deactivate(did, Signer(key3, f"{did}#auth"))
    assert auth_only.value.code == "not_authorised"


def test_rogue_entries_written_straight_to_the_log_are_ignored(
    ledger: Ledger, clock: FakeClock
) -> None:
    did, key1 = _new_did(ledger)
    latest = ledger.dids.latest(did)
    attacker = PrivateKey.generate(KeyType.ED25519)
    evil = ledger.dids.template(did)
    evil["verificationMethod"][0]["publicKeyMultibase"] = attacker.public_key.to_multikey()
    payload = {"v": 1, "did": did, "prev": "1", "prevDigest": latest.digest, "document": evil}
    # 1. signed by the attacker, claiming to be #key-1.
    forged = Signer(attacker, f"{did}#key-1").sign(KIND_UPDATE, payload, now=clock)
    bad1 = ledger.log.append(forged)
    # 2. a correctly signed update naming a stale previous version (a replay).
    clock.advance(seconds=1)
    good = Signer(key1, f"{did}#key-1").sign(
        KIND_UPDATE, {**payload, "document": ledger.dids.template(did)}, now=clock
    )
    ledger.log.append(good)
    # The same signed entry again is refused by the log itself ...
    with pytest.raises(EntryRejected) as refused:
        ledger.log.append(good)
    assert refused.value.code == "duplicate_entry"
    # ... and re-signed later it names a stale version, which the registry ignores.
    clock.advance(seconds=1)
    again = Signer(key1, f"{did}#key-1").sign(
        KIND_UPDATE, {**payload, "document": ledger.dids.template(did)}, now=clock
    )
    replay = ledger.log.append(again)
    # 3. garbage payload of a registry kind.
    junk = EntryDraft(KIND_UPDATE, b"\xff\x00junk").sign(
        attacker, Signer.for_did_key(attacker).submitter, now=clock
    )
    bad3 = ledger.log.append(junk)
    assert ledger.dids.latest(did).version_id == "2"
    assert ledger.dids.latest(did).document().verification_method[0].public_key == (key1.public_key)
    problem1 = ledger.dids.rejection(bad1.index)
    assert isinstance(problem1, RegistryRejected) and problem1.code == "key_mismatch"
    problem2 = ledger.dids.rejection(replay.index)
    assert isinstance(problem2, RegistryRejected) and problem2.code == "stale_version"
    assert isinstance(ledger.dids.rejection(bad3.index), RegistryError)


def test_deactivation_ends_the_did(ledger: Ledger, clock: FakeClock) -> None:
    did, key = _new_did(ledger)
    clock.advance(hours=2)
    signer = Signer(key, f"{did}#key-1")
    gone = ledger.dids.deactivate(did, signer)
    assert gone.deactivated and gone.version_id == "2"
    resolver = ledger.resolver()
    result = resolver.resolve(did)
    assert result.error is None
    assert result.deactivated is True
    assert result.did_document_metadata["updated"] == rfc3339(gone.time_ms)
    with pytest.raises(ResolutionError) as raised:
        resolver.resolve_document(did)
    assert raised.value.code == "deactivated"
    # The version before deactivation is still there, for signatures made back then.
    old = resolver.resolve(did, versionId="1")
    assert old.deactivated is False and old.did_document_metadata["nextVersionId"] == "2"
    clock.advance(seconds=1)
    for attempt in (
        lambda: ledger.dids.update(did, signer, ledger.dids.template(did)),
        lambda: ledger.dids.deactivate(did, signer),
    ):
        with pytest.raises(RegistryRejected) as refused:
            attempt()
        assert refused.value.code == "deactivated"


def test_index_is_rebuilt_from_the_log_and_resolution_does_not_replay_it(tmp_path: Any) -> None:
    clock = FakeClock()
    key = PrivateKey.generate(KeyType.ED25519)
    path = tmp_path / "dids.db"
    with Ledger.open(path, key=key, clock=clock) as first:
        did = first.dids.create(key).did
        clock.advance(seconds=1)
        first.dids.rotate_key(did, Signer(key, f"{did}#key-1"), key.public_key)
        for n in range(300):
            first.append("filler", b"%d" % n)
    with Ledger.open(path, key=key, clock=clock) as second:
        assert second.dids.latest(did).version_id == "2"
        reads: list[int] = []
        store = second.log.store
        original = store.read_entries

        def counting(start: int, limit: int) -> list[tuple[int, bytes]]:
            reads.append(limit)
            return original(start, limit)

        store.read_entries = counting  # type: ignore[method-assign]
        resolver = second.resolver()
        for _ in range(20):
            assert resolver.resolve(did, no_cache=True).error is None
        assert reads == []  # answered from the index: no entry was read


def test_method_alone_on_a_log(tmp_path: Any) -> None:
    from did_methods.resolver import Resolver
    from ledger.log import Log
    from ledger.store import SQLiteStore

    log = Log(SQLiteStore(tmp_path / "m.db"), origin="m.example/log")
    method = LedgerMethod(log)
    key = PrivateKey.generate(KeyType.P256)
    did = method.create(key).did
    result = Resolver([method]).resolve(did)
    assert result.did_document is not None
    assert result.did_document.verification_method[0].public_key == key.public_key
    log.store.close()


def test_bad_templates_are_refused(ledger: Ledger) -> None:
    key = PrivateKey.generate(KeyType.ED25519)
    mk = key.public_key.to_multikey()
    vm = {"id": "#key-1", "type": "Multikey", "publicKeyMultibase": mk}
    bad: list[dict[str, Any]] = [
        {"verificationMethod": [vm]},  # no capabilityInvocation
        {"verificationMethod": [vm], "capabilityInvocation": ["#nope"]},
        {"verificationMethod": [{**vm, "type": "JsonWebKey2020"}],
         "capabilityInvocation": ["#key-1"]},
        {"verificationMethod": [{**vm, "id": "key-1"}], "capabilityInvocation": ["key-1"]},
        {"verificationMethod": [vm], "capabilityInvocation": ["#key-1"], "alsoKnownAs": ["x"]},
        {"verificationMethod": [vm, vm], "capabilityInvocation": ["#key-1"]},
        {"verificationMethod": [{**vm, "publicKeyMultibase": "zzz"}],
         "capabilityInvocation": ["#key-1"]},
    ]  # fmt: skip
    size = ledger.log.size
    for template in bad:
        with pytest.raises(RegistryError):
            ledger.dids.create(key, template=template)
    other = PrivateKey.generate(KeyType.ED25519)
    with pytest.raises(RegistryRejected):
        ledger.dids.create(other, template={"verificationMethod": [vm],
                                            "capabilityInvocation": ["#key-1"]})  # fmt: skip
    assert ledger.log.size == size


@settings(max_examples=150)
@given(st.binary(max_size=300))
def test_decode_payload_raises_only_registry_errors(data: bytes) -> None:
    try:
        value = decode_payload(data)
    except RegistryError:
        return
    assert encode_payload(value) == data


@settings(max_examples=100)
@given(version_time=st.text(max_size=60), version_id=st.text(max_size=20))
def test_resolution_options_never_crash(version_time: str, version_id: str) -> None:
    clock = FakeClock()
    with Ledger.open(":memory:", clock=clock) as led:
        did = led.dids.create(PrivateKey.generate(KeyType.ED25519)).did
        resolver = led.resolver()
        for options in ({"versionTime": version_time}, {"versionId": version_id}):
            result = resolver.resolve(did, **options)
            assert result.error in (None, "notFound", "invalidOptions")


def test_update_overtaken_by_a_concurrent_update_raises(
    ledger: Ledger, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    did, key = _new_did(ledger)
    signer = Signer(key, f"{did}#key-1")
    latest = ledger.dids.latest(did)
    clock.advance(seconds=1)
    racing = signer.sign(
        KIND_UPDATE,
        {"v": 1, "did": did, "prev": "1", "prevDigest": latest.digest,
         "document": ledger.dids.template(did)},
        now=clock,
    )  # fmt: skip
    log = ledger.log
    real_append = log.append

    def append_after_someone_else(draft: Any) -> Any:
        real_append(racing)  # another writer wins the race for version 2
        monkeypatch.setattr(log, "append", real_append)
        return real_append(draft)

    monkeypatch.setattr(log, "append", append_after_someone_else)
    with pytest.raises(RegistryRejected) as overtaken:
        ledger.dids.add_service(
            did, signer, {"id": "#s", "type": "T", "serviceEndpoint": "https://s.example"}
        )
    assert overtaken.value.code == "stale_version"
    assert ledger.dids.latest(did).version_id == "2"
    assert ledger.dids.latest(did).index == log.size - 2
