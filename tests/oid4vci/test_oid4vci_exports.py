"""The public surface of ssi_wallet.oid4vci: exported names resolve, nothing else is public."""

from __future__ import annotations

import ssi_wallet.oid4vci as package


def test_exports_resolve_and_are_unique() -> None:
    names = package.__all__
    assert len(set(names)) == len(names)
    for name in names:
        assert getattr(package, name) is not None


def test_public_attributes_are_exported() -> None:
    public = {
        n
        for n in vars(package)
        if not n.startswith("_")
        and n
        not in {
            "attestation",
            "encryption",
            "errors",
            "metadata",
            "proofs",
            "service",
            "signed_metadata",
            "store",
            "wallet",
            "local",
            "sqlite_store",
            "annotations",
        }
    }
    assert public == set(package.__all__)
