"""The resolver: error codes, cache bounds and expiry, dereferencing, proof purposes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from did_methods import (
    DID,
    DIDDocument,
    KeyType,
    PrivateKey,
    ResolutionError,
    ResolutionResult,
    Resolver,
    SSIWalletError,
    VerificationError,
    VerificationMethod,
    did_key_from_public_key,
)
from did_methods.methods.jwk import JwkMethod
from did_methods.methods.key import KeyMethod


class CountingMethod:
    """An in-memory DID method that counts its calls and can be told to fail."""

    name = "mem"

    def __init__(self) -> None:
        self.calls = 0
        self.docs: dict[str, DIDDocument] = {}
        self.deactivated: set[str] = set()

    def add(self, did: str, key: PrivateKey, purposes: tuple[str, ...]) -> str:
        vm = VerificationMethod.from_public_key(key.public_key, controller=did, id=f"{did}#k1")
        self.docs[did] = DIDDocument.build(
            did, verification_methods=(vm,), relationships={p: (vm.id,) for p in purposes}
        )
        return vm.id

    def resolve(self, did: DID, options: Mapping[str, Any]) -> ResolutionResult:
        self.calls += 1
        doc = self.docs.get(str(did))
        if doc is None:
            raise ResolutionError("notFound", f"{did} is unknown")
        meta = {"deactivated": True} if str(did) in self.deactivated else {}
        return ResolutionResult.found(doc, document_metadata=meta)


def test_error_codes() -> None:
    r = Resolver([KeyMethod()])
    assert r.resolve("not a did").error == "invalidDid"
    assert r.resolve("did:nope:123").error == "methodNotSupported"
    key_did = did_key_from_public_key(PrivateKey.generate().public_key)
    assert r.resolve(key_did, accept="application/cbor").error == "representationNotSupported"
    ld = r.resolve(key_did, accept="application/did+ld+json")
    assert ld.error is None
    assert ld.did_resolution_metadata["contentType"] == "application/did+ld+json"
    mem = CountingMethod()
    r.register(mem)
    assert r.resolve("did:mem:x").error == "notFound"
    with pytest.raises(ResolutionError) as err:
        r.resolve_document("did:mem:x")
    assert err.value.code == "notFound"
    assert r.resolve("did:mem:x").to_json()["didDocument"] is None


def test_cache_hits_expiry_and_size_bound() -> None:
    now = [0.0]
    mem = CountingMethod()
    r = Resolver([mem], cache_size=2, cache_ttl=10.0, clock=lambda: now[0])
    for name in ("a", "b", "c"):
        mem.add(f"did:mem:{name}", PrivateKey.generate(), ("assertionMethod",))
    r.resolve("did:mem:a")
    r.resolve("did:mem:a")
    assert mem.calls == 1
    now[0] = 11.0
    r.resolve("did:mem:a")
    assert mem.calls == 2  # expired
    r.resolve("did:mem:b")
    r.resolve("did:mem:c")  # evicts a (least recently used)
    r.resolve("did:mem:a")
    assert mem.calls == 5
    r.resolve("did:mem:a", no_cache=True)
    assert mem.calls == 6
    r.resolve("did:mem:unknown")
    r.resolve("did:mem:unknown")
    assert mem.calls == 8  # errors are not cached


def test_verification_method_checks_purpose() -> None:
    mem = CountingMethod()
    r = Resolver([mem])
    key = PrivateKey.generate(KeyType.P256)
    vm_id = mem.add("did:mem:issuer", key, ("authentication",))
    assert r.verification_method(vm_id, "authentication").public_key == key.public_key
    with pytest.raises(VerificationError) as err:
        r.verification_method(vm_id, "assertionMethod")
    assert err.value.code == "key_not_authorised"
    with pytest.raises(ResolutionError) as rerr:
        r.verification_method("did:mem:issuer#k2", "authentication")
    assert rerr.value.code == "notFound"
    with pytest.raises(ResolutionError):
        r.verification_method("did:mem:issuer", "authentication")
    with pytest.raises(VerificationError):
        r.verification_method(vm_id, "signing")


def test_deactivated_dids_do_not_yield_keys() -> None:
    mem = CountingMethod()
    r = Resolver([mem])
    vm_id = mem.add("did:mem:gone", PrivateKey.generate(), ("assertionMethod",))
    mem.deactivated.add("did:mem:gone")
    assert r.resolve("did:mem:gone").deactivated
    with pytest.raises(ResolutionError) as err:
        r.verification_method(vm_id, "assertionMethod")
    assert err.value.code == "deactivated"


def test_dereference() -> None:
    r = Resolver([KeyMethod(), JwkMethod()])
    key = PrivateKey.generate()
    did = did_key_from_public_key(key.public_key)
    assert isinstance(r.dereference(did), DIDDocument)
    vm = r.dereference(f"{did}#{key.public_key.to_multikey()}")
    assert isinstance(vm, VerificationMethod)
    assert vm.public_key == key.public_key
    for bad, code in [
        (f"{did}#nope", "notFound"),
        ("did:key:", "invalidDidUrl"),
        (f"{did}/path", "notFound"),
    ]:
        with pytest.raises(ResolutionError) as err:
            r.dereference(bad)
        assert err.value.code == code


def test_method_returning_wrong_document_is_an_error() -> None:
    class Liar(CountingMethod):
        def resolve(self, did: DID, options: Mapping[str, Any]) -> ResolutionResult:
            return ResolutionResult.found(next(iter(self.docs.values())))

    liar = Liar()
    liar.add("did:mem:real", PrivateKey.generate(), ("assertionMethod",))
    r = Resolver([liar])
    assert r.resolve("did:mem:other").error == "internalError"


@given(st.text(max_size=200))
def test_property_resolve_never_raises_on_arbitrary_text(text: str) -> None:
    resolver = Resolver([KeyMethod(), JwkMethod()])
    result = resolver.resolve(text)
    assert result.error is not None or result.did_document is not None
    try:
        resolver.dereference(text)
    except SSIWalletError:
        pass


@given(
    st.sampled_from(["did:key:z", "did:jwk:", "did:key:z6Mk", "did:jwk:eyJ"]),
    st.text(alphabet="abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ123456789_-", max_size=80),
)
def test_property_method_specific_ids_resolve_or_fail_cleanly(prefix: str, tail: str) -> None:
    result = Resolver([KeyMethod(), JwkMethod()]).resolve(prefix + tail)
    assert result.error in (None, "invalidDid")


def test_verification_methods_are_cached_with_the_same_bounds() -> None:
    now = [0.0]
    mem = CountingMethod()
    r = Resolver([mem], cache_ttl=10.0, clock=lambda: now[0])
    vm_id = mem.add("did:mem:issuer", PrivateKey.generate(), ("assertionMethod",))
    first = r.verification_method(vm_id, "assertionMethod")
    assert r.verification_method(vm_id, "assertionMethod") is first
    assert mem.calls == 1
    with pytest.raises(VerificationError):  # refusals are never cached as successes
        r.verification_method(vm_id, "authentication")
    assert mem.calls == 1  # the refusal came from the cached document
    now[0] = 11.0
    r.verification_method(vm_id, "assertionMethod")
    assert mem.calls == 2
    r.clear_cache()
    r.verification_method(vm_id, "assertionMethod")
    assert mem.calls == 3
