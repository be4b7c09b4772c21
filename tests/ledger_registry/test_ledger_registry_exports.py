"""ledger.registry's public surface is pinned: every name resolves, nothing public is missing."""

from __future__ import annotations

import ledger.registry as registry

EXPECTED = {
    "EU_MEMBER_STATES", "KIND_ACCREDIT", "KIND_ANCHOR", "KIND_CREATE", "KIND_DEACTIVATE",
    "KIND_REVOKE", "KIND_UPDATE", "MAX_CHAIN_DEPTH", "Accreditation", "AccreditationAnswer",
    "DIDVersion", "EntryProof", "LedgerMethod", "LogFollower", "RegistryError",
    "RegistryRejected", "Signer", "StatusAnchor", "StatusListRegistry", "TrustedIssuerRegistry",
    "check_template", "covers_jurisdiction", "default_template",
}  # fmt: skip


def test_registry_exports_are_pinned() -> None:
    assert set(registry.__all__) == EXPECTED
    assert len(registry.__all__) == len(set(registry.__all__))
    for name in registry.__all__:
        assert getattr(registry, name) is not None


def test_public_registry_names_are_exported() -> None:
    public = {
        name
        for name, value in vars(registry).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("ledger.")
    }
    assert public <= set(registry.__all__)


def test_facade_exports() -> None:
    import ledger.facade as facade

    assert set(facade.__all__) == {"DEFAULT_ORIGIN", "Ledger"}
    states = registry.EU_MEMBER_STATES
    assert len(states) == 27 and "EU" not in states and "GR" in states
