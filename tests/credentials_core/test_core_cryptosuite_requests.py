"""Asking to sign with a cryptosuite we do not implement names the cryptosuite, not the key.

VC Data Integrity 1.0, "Add Proof": an implementation that does not support the
requested cryptosuite cannot produce the proof (ecdsa-sd-2023 and bbs-2023 here; the
RDFC suites when PyLD, the `rdf` extra, is not installed). The refusal is
`cryptosuite_unsupported`, whatever the key; a known suite that does not fit the key is
`key_type_mismatch`.
"""

from __future__ import annotations

import sys

import pytest

from credentials.data_integrity import add_proof
from credentials.errors import UnsupportedError
from did_methods.keys import KeyType, PrivateKey

DOC = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]}


def _refusal(suite: str, key_type: KeyType) -> UnsupportedError:
    with pytest.raises(UnsupportedError) as info:
        add_proof(
            DOC,
            PrivateKey.generate(key_type),
            verification_method="did:example:a#k",
            cryptosuite=suite,
        )
    return info.value


@pytest.mark.parametrize(
    "suite, key_type",
    [("ecdsa-sd-2023", KeyType.P256), ("bbs-2023", KeyType.ED25519)],
)
def test_unimplemented_cryptosuite_is_cryptosuite_unsupported(
    suite: str, key_type: KeyType
) -> None:
    refusal = _refusal(suite, key_type)
    assert refusal.code == "cryptosuite_unsupported"
    assert suite in str(refusal)
    assert "key" not in str(refusal).split(":", 1)[0]


@pytest.mark.parametrize(
    "suite, key_type",
    [("eddsa-rdfc-2022", KeyType.ED25519), ("ecdsa-rdfc-2019", KeyType.P384)],
)
def test_rdfc_without_pyld_is_cryptosuite_unsupported(
    suite: str, key_type: KeyType, monkeypatch: pytest.MonkeyPatch
) -> None:
    from credentials import rdfc

    monkeypatch.setitem(sys.modules, "pyld", None)  # as if the rdf extra were not installed
    rdfc._pyld.cache_clear()
    try:
        assert not rdfc.rdf_available()
        refusal = _refusal(suite, key_type)
        assert refusal.code == "cryptosuite_unsupported"
        assert "ssi-wallet[rdf]" in str(refusal)
    finally:
        rdfc._pyld.cache_clear()


@pytest.mark.parametrize(
    "suite, key_type",
    [
        ("eddsa-jcs-2022", KeyType.P256),
        ("ecdsa-jcs-2019", KeyType.ED25519),
        ("eddsa-rdfc-2022", KeyType.P256),
        ("ecdsa-rdfc-2019", KeyType.ED25519),
    ],
)
def test_known_suite_with_the_wrong_key_is_key_type_mismatch(suite: str, key_type: KeyType) -> None:
    assert _refusal(suite, key_type).code == "key_type_mismatch"


def test_unsupported_error_keeps_a_default_code() -> None:
    assert UnsupportedError("something").code == "unsupported"
