"""The end-to-end immigration scenario that ``ssi-wallet demo`` narrates.

Everything runs for real, in memory or in a temporary directory: keys are
generated, DIDs resolved, signatures made and checked.
"""

from __future__ import annotations

from collections.abc import Callable

from did_methods.keys import KeyType, PrivateKey
from did_methods.methods.key import did_key_from_public_key
from did_methods.resolver import Resolver

__all__ = ["run_demo"]


def run_demo(say: Callable[[str], None] = print) -> None:
    """Run the scenario, reporting each step through ``say``.

    Raises an :class:`~did_methods.errors.SSIWalletError` if any step fails.
    """
    resolver = Resolver.default()
    ministry_key = PrivateKey.generate(KeyType.ED25519)
    ministry = did_key_from_public_key(ministry_key.public_key)
    migrant_key = PrivateKey.generate(KeyType.P256)
    migrant = did_key_from_public_key(migrant_key.public_key)
    say(f"1. The Migration Department creates its DID:   {ministry}")
    say(f"2. Amina's wallet creates her DID (P-256):     {migrant}")

    document = resolver.resolve_document(migrant)
    agreement = document.verification_methods_for("keyAgreement")
    say(
        f"3. Anyone resolves Amina's DID: {len(document.verification_method)} key(s), "
        f"{len(agreement)} for key agreement"
    )

    statement = f"{ministry} acknowledges the application of {migrant}".encode()
    signature = ministry_key.sign(statement)
    vm_id = resolver.resolve_document(ministry).verification_methods_for("assertionMethod")[0].id
    method = resolver.verification_method(vm_id, "assertionMethod")
    method.public_key.verify(signature, statement)
    say("4. The ministry signs an acknowledgement; an employer resolves the ministry's DID,")
    say("   checks the key is authorised for assertions, and the signature verifies.")
    say("Demo complete.")
