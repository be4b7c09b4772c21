"""Each package's __all__ is exactly its public surface, and every name in it resolves."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = ["did_methods", "credentials", "ledger", "ssi_wallet"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_resolve_and_are_sorted_unique(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} must declare __all__"
    assert len(set(exported)) == len(exported)
    for attr in exported:
        assert hasattr(module, attr), f"{name}.{attr} is in __all__ but missing"


@pytest.mark.parametrize("name", PACKAGES)
def test_public_attributes_are_exported(name: str) -> None:
    module = importlib.import_module(name)
    public = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_") and getattr(value, "__module__", "").startswith(name)
    }
    assert public <= set(module.__all__), (
        f"exported but not in __all__: {public - set(module.__all__)}"
    )


def test_did_methods_surface() -> None:
    import did_methods

    for attr in (
        "Resolver",
        "PrivateKey",
        "PublicKey",
        "KeyType",
        "DID",
        "DIDURL",
        "DIDDocument",
        "VerificationMethod",
        "SSIWalletError",
        "ParseError",
        "VerificationError",
        "ResolutionError",
        "HttpFetcher",
        "did_key_from_public_key",
    ):
        assert attr in did_methods.__all__
