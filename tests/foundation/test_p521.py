"""P-521 keys (ES512): did:key and did:jwk, JWK and Multikey, and where they are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from credentials import data_integrity
from credentials.schemas import example_credential
from did_methods.errors import UnsupportedError
from did_methods.keys import KeyType, PrivateKey, PublicKey
from did_methods.methods.key import did_key_from_public_key, public_key_from_did_key
from did_methods.resolver import Resolver
from ssi_wallet.cli import cli


def test_parse_names_and_alg() -> None:
    assert KeyType.parse("p521") is KeyType.parse("P-521") is KeyType.P521
    assert KeyType.P521.jws_alg == "ES512" and KeyType.P521.can_sign


def test_generated_keys_are_valid_scalars_and_round_trip() -> None:
    for _ in range(20):  # rejection sampling: clearing the top 7 bits makes it cheap
        key = PrivateKey.generate(KeyType.P521)
        pub = key.public_key
        assert len(pub.raw) == 67 and pub.raw[0] in (2, 3)
        assert PublicKey.from_multikey(pub.to_multikey()) == pub
        assert PublicKey.from_jwk(pub.to_jwk()) == pub
        assert PrivateKey.from_jwk(key.private_jwk()).public_key == pub
        assert pub.to_multikey().startswith("z2J9")
        signature = key.sign(b"permit")
        assert len(signature) == 132
        pub.verify(signature, b"permit")


def test_a_fixed_source_that_never_fits_is_refused() -> None:
    from did_methods.errors import InvalidKey

    with pytest.raises(InvalidKey, match="no valid scalar"):
        PrivateKey.generate(KeyType.P521, randbytes=lambda n: b"\xff" * n)


def test_did_key_and_did_jwk_resolve() -> None:
    key = PrivateKey.generate(KeyType.P521)
    did = did_key_from_public_key(key.public_key)
    assert public_key_from_did_key(did) == key.public_key
    doc = Resolver.default().resolve_document(did)
    (vm,) = doc.verification_methods_for("assertionMethod")
    assert vm.public_key == key.public_key


def test_data_integrity_refuses_p521_clearly() -> None:
    # ecdsa-jcs-2019 defines P-256 and P-384 only (VC DI ECDSA, "Algorithms").
    key = PrivateKey.generate(KeyType.P521)
    did = did_key_from_public_key(key.public_key)
    document = {**example_credential("WorkPermit"), "issuer": did}
    for suite in (None, data_integrity.ECDSA_JCS_2019):
        with pytest.raises(UnsupportedError, match="P-521"):
            data_integrity.add_proof(
                document,
                key,
                verification_method=f"{did}#{did.removeprefix('did:key:')}",
                cryptosuite=suite,
            )


def test_cli_creates_a_p521_did_key(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["did", "create", "--key-type", "p521", "--key-file", str(tmp_path / "k.jwk")]
    )
    assert result.exit_code == 0, result.output
    did = result.output.strip().splitlines()[-1]
    assert did.startswith("did:key:z2J9")
    jwk = json.loads((tmp_path / "k.jwk").read_text())
    assert jwk["crv"] == "P-521"
