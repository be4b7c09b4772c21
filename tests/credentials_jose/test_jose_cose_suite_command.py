"""The command the W3C vc-jose-cose suite runs per test (conformance/w3c/jose_cose_cli.py).

It is called as the suite calls its container (``docker compose -f F run --rm IMPL FN
--input /tests/input/... --key /tests/input/... --feature ... --output /tests/output/...``)
and answers ``{"result": "success" | "failure", ...}``; a key file is a ``JsonWebKey``
verification method of an https controller with its ``secretKeyJwk``, as the suite's.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from did_methods.keys import KeyType, PrivateKey

HERE = Path(__file__).resolve().parents[2] / "conformance" / "w3c" / "jose_cose_cli.py"
spec = importlib.util.spec_from_file_location("jose_cose_cli", HERE)
assert spec is not None and spec.loader is not None
cli = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cli)

ISSUER = "https://example.issuer/vc-jose-cose"


def _key_file(inputs: Path, name: str, key: PrivateKey) -> None:
    public = {**key.public_key.to_jwk(), "kid": key.public_key.jwk_thumbprint()}
    (inputs / name).write_text(
        json.dumps(
            {
                "id": f"{ISSUER}#{name}",
                "type": "JsonWebKey",
                "controller": ISSUER,
                "publicKeyJwk": public,
                "secretKeyJwk": {**key.private_jwk(), "kid": public["kid"]},
            }
        )
    )


def _run(suite: Path, fn: str, source: str, key: str, feature: str, number: int) -> Any:
    docker = [str(suite), "compose", "-f", "x.yml", "run", "--rm", "ssi-wallet", fn]
    paths = ["--input", f"/tests/input/{source}", "--key", f"/tests/input/{key}"]
    cli.main([*docker, *paths, "--feature", feature, "--output", f"/tests/output/{number}.json"])
    return json.loads((suite / "tests" / "output" / f"{number}.json").read_text())


def test_issue_then_verify_through_the_suites_command(tmp_path: Path) -> None:
    inputs = tmp_path / "tests" / "input"
    inputs.mkdir(parents=True)
    _key_file(inputs, "vm-p521.json", PrivateKey.generate(KeyType.P521))
    _key_file(inputs, "vm-other.json", PrivateKey.generate(KeyType.ED25519))
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": ISSUER,
        "credentialSubject": {"id": "did:example:123"},
    }
    (inputs / "credential.json").write_text(json.dumps(credential))
    issued = _run(tmp_path, "issue", "credential.json", "vm-p521.json", "credential_jose", 1)
    assert issued["result"] == "success"
    (inputs / "credential.txt").write_text(issued["data"])
    verified = _run(tmp_path, "verify", "credential.txt", "vm-other.json", "credential_jose", 2)
    assert verified == {"result": "success", "data": ""}
    # a flipped signature, and an unsecured credential, fail; COSE is not claimed
    token = issued["data"]
    (inputs / "bad.txt").write_text(token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB"))
    assert _run(tmp_path, "verify", "bad.txt", "vm-p521.json", "credential_jose", 3) == {
        "result": "failure",
        "data": "signature_invalid",
    }
    unsecured = _run(tmp_path, "verify", "credential.json", "vm-p521.json", "credential_jose", 4)
    assert unsecured["result"] == "failure"
    cose = _run(tmp_path, "verify", "credential.txt", "vm-p521.json", "credential_cose", 5)
    assert cose["result"] == "indeterminate"
