"""Each package's ``__all__`` is pinned, literally: its public surface changes only here.

The four packages export their recipes (see docs/architecture.md, "The public
surface"); sharp tools stay in the modules named for their standard
(``credentials.jose``, ``credentials.sd_jwt``, ``ledger.proofs``, ...). Adding a
name to a package's ``__init__`` means adding it below, in the same order, as a
deliberate decision; every name must resolve, and nothing public in the package
namespace may be left out of ``__all__``.
"""

from __future__ import annotations

import importlib

import pytest

DID_METHODS = [
    "DID", "DIDURL", "FETCH_ERROR_CODES", "DIDDocument", "DIDMethod", "DuplicateKeyError",
    "FetchError", "Fetcher", "HttpFetcher", "InputTooLargeError", "InvalidDID",
    "InvalidDocument", "InvalidKey", "JSONError", "JwkMethod", "KeyFileError", "KeyMethod",
    "KeyType", "OutputFileError", "ParseError", "PinnedResolver", "PolicyError", "PrivateKey",
    "PublicKey", "ResolutionError", "ResolutionResult", "Resolver", "SSIWalletError",
    "SecretCopyError", "Service", "StaticFetcher", "StoreError", "UnsupportedError",
    "VerificationError", "VerificationMethod", "WebMethod", "did_jwk_document",
    "did_jwk_from_jwk", "did_key_document", "did_key_from_public_key", "did_web_to_url",
    "public_key_from_did_key", "read_key_file", "write_key_file",
]  # fmt: skip

CREDENTIALS = [
    "CREDENTIALS_V2_CONTEXT", "BarcodeError", "CanonicalizationError", "Check", "CheckStatus",
    "ClaimPathError", "Credential", "CredentialFormat", "DuplicateKeyError",
    "InputTooLargeError", "IssueFormat", "IssuerKeys", "JSONError", "KeySetError", "Kind",
    "Presentation", "PresentationFormat", "SchemaValidationError", "SdJwtError",
    "StatusCheckError", "StatusList", "StatusListError", "StatusResolvers",
    "TokenStatusCheckError", "TokenStatusList", "TokenStatusListError",
    "UnknownCredentialTypeError", "VCJoseError", "ValidationError", "VerificationResult",
    "encode_barcode", "issue", "issue_sd_jwt", "make_status_list_credential",
    "make_status_list_token", "present", "qr_png", "qr_svg", "status_claim", "status_entry",
    "verify", "verify_credential", "verify_presentation",
]  # fmt: skip

LEDGER = [
    "DEFAULT_MAX_PAYLOAD", "GENESIS_PREV_HASH", "SIGNING_CONTEXT", "AuditReport", "Checkpoint",
    "CheckpointError", "ConsistencyProof", "CosignatureVerifier", "Entry", "EntryDraft",
    "EntryError", "EntryNotFound", "EntryRejected", "InclusionProof", "IntegrityError",
    "JSONFileWitnessState", "KeyLookup", "Ledger", "LedgerError", "LedgerKeyMismatch",
    "LedgerStoreError", "Log", "MemoryStore", "MemoryWitnessState", "NotALedgerError",
    "NoteSigner", "NoteVerifier", "PostgresStore", "ProofError", "SQLiteStore", "SignedDraft",
    "SignedNote", "SplitViewError", "SplitViewEvidence", "Store", "StoredCheckpoint",
    "TreeSizeError", "Witness", "WitnessState", "detect_split_view", "did_key_lookup",
    "open_store", "resolver_key_lookup", "sign_checkpoint", "verify_checkpoint",
    "verify_consistency", "verify_cosigned_checkpoint", "verify_inclusion", "verify_note",
]  # fmt: skip

SSI_WALLET = [
    "ConsentRequest", "CredentialAuthorisationVerifier", "CredentialFormat",
    "CredentialSummary", "DCQLError", "DCQLMatch", "DCQLQuery", "DisclosedClaims",
    "DisclosureRecord", "Finding", "Holder", "IssuedCredential", "Issuer", "NotAWalletError",
    "OtherWalletError", "Policy", "PresentationRequest", "PresentationResponse", "Report",
    "RestoreResult", "StatusBoard", "StatusRef", "StoredCredential", "TrustRegistry",
    "UnsafeTrustAnyIssuer", "Verifier", "WalletBackupError", "WalletIntegrityError",
    "WalletLockedError", "policies",
]  # fmt: skip

PINNED = {
    "did_methods": DID_METHODS,
    "credentials": CREDENTIALS,
    "ledger": LEDGER,
    "ssi_wallet": SSI_WALLET,
}


@pytest.mark.parametrize("name", list(PINNED))
def test_all_is_exactly_the_pinned_list(name: str) -> None:
    module = importlib.import_module(name)
    assert list(module.__all__) == PINNED[name]


@pytest.mark.parametrize("name", list(PINNED))
def test_all_is_sorted_constants_first_and_unique(name: str) -> None:
    exported = PINNED[name]
    assert len(set(exported)) == len(exported)
    assert exported == sorted(exported, key=lambda n: (not n.isupper(), n))


@pytest.mark.parametrize("name", list(PINNED))
def test_all_names_resolve(name: str) -> None:
    module = importlib.import_module(name)
    for attr in module.__all__:
        assert getattr(module, attr) is not None, f"{name}.{attr} is in __all__ but missing"


@pytest.mark.parametrize("name", list(PINNED))
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


def test_sharp_tools_are_not_recipes() -> None:
    """A format's own verifier, unverified decoding and raw canonicalisation stay in
    their modules: from the package, a caller reaches the pinned calls first."""
    import credentials

    for tool in (
        "verify_vc_jwt",
        "verify_sd_jwt",
        "verify_proof",
        "decode_barcode",
        "canonicalize",
    ):
        assert tool not in credentials.__all__
    for recipe in ("verify_credential", "verify_presentation", "issue", "IssuerKeys"):
        assert recipe in credentials.__all__
