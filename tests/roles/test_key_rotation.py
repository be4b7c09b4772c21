"""Key rotation on did:ledger with real credentials (issue 5): old proofs verify as of their
signing time, not against the latest document; new credentials verify with the new key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from credentials import schemas
from credentials.verify import verify
from did_methods import KeyType, PrivateKey
from ledger.facade import Ledger
from ledger.registry import Signer


def test_rotation_with_data_integrity_credentials() -> None:
    now = [datetime(2026, 3, 1, 9, 0, tzinfo=UTC)]
    ledger = Ledger.open(":memory:", key=PrivateKey.generate(), clock=lambda: now[0])
    old_key = PrivateKey.generate(KeyType.ED25519)
    did = ledger.dids.create(old_key).did
    resolver = ledger.resolver()
    credential = schemas.example_credential("ResidencePermit", issuer=did)
    credential["credentialSubject"].pop("id")
    signed_at = now[0]
    from credentials.data_integrity import add_proof

    old = add_proof(credential, old_key, verification_method=f"{did}#key-1", created=signed_at)
    assert verify(old, resolver=resolver, now=signed_at).ok

    now[0] += timedelta(days=30)
    new_key = PrivateKey.generate(KeyType.ED25519)
    ledger.dids.rotate_key(did, Signer(old_key, f"{did}#key-1"), new_key.public_key)
    resolver.clear_cache()
    later = now[0] + timedelta(minutes=1)

    # Against the latest document the old key is gone: the old credential fails.
    latest = verify(old, resolver=resolver, now=later)
    assert not latest.ok
    assert latest.codes == ("verification_method_unresolvable",)

    # Resolved as of its signing time, it verifies.
    assert verify(old, resolver=resolver.at(signed_at), now=later).ok

    # A credential signed with the new key verifies against the latest document...
    fresh = add_proof(credential, new_key, verification_method=f"{did}#key-2", created=later)
    assert verify(fresh, resolver=resolver, now=later).ok
    # ...and not as of a time before the rotation.
    assert not verify(fresh, resolver=resolver.at(signed_at), now=later).ok
