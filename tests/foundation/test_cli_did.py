"""``ssi-wallet did create|resolve`` through the real console entry point."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from did_methods import read_key_file


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ssi_wallet", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.mark.parametrize(
    ("method", "key_type"),
    [("key", "ed25519"), ("key", "p256"), ("jwk", "p256"), ("key", "x25519")],
)
def test_did_create_then_resolve(tmp_path: Path, method: str, key_type: str) -> None:
    key_file = tmp_path / "issuer.jwk"
    created = run(
        "did", "create", "--method", method, "--key-type", key_type, "--key-file", str(key_file)
    )
    assert created.returncode == 0, created.stderr
    did = created.stdout.strip()
    assert did.startswith(f"did:{method}:")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = read_key_file(key_file)
    resolved = run("did", "resolve", did)
    assert resolved.returncode == 0, resolved.stderr
    result = json.loads(resolved.stdout)
    assert result["didDocument"]["id"] == did
    assert result["didResolutionMetadata"]["contentType"] == "application/did+json"
    keys = [vm.get("publicKeyMultibase") for vm in result["didDocument"]["verificationMethod"]]
    if method == "key":
        assert key.public_key.to_multikey() in keys


def test_did_create_refuses_to_overwrite(tmp_path: Path) -> None:
    key_file = tmp_path / "k.jwk"
    assert run("did", "create", "--key-file", str(key_file)).returncode == 0
    again = run("did", "create", "--key-file", str(key_file))
    assert again.returncode == 2  # "already exists" exits 2 everywhere (issue 15 item 5)
    assert "refusing to overwrite" in again.stderr


def test_encrypted_key_file_from_env(tmp_path: Path) -> None:
    import os

    key_file = tmp_path / "k.json"
    env = dict(os.environ, KEY_PASS="s3cret passphrase")
    done = run(
        "did", "create", "--key-file", str(key_file), "--passphrase-env", "KEY_PASS", env=env
    )
    assert done.returncode == 0, done.stderr
    assert "ciphertext" in json.loads(key_file.read_text())
    assert read_key_file(key_file, passphrase="s3cret passphrase").public_key is not None


def test_resolve_exit_codes() -> None:
    not_found = run("did", "resolve", "did:example:123")
    assert not_found.returncode == 1
    assert "methodNotSupported" in not_found.stderr
    assert json.loads(not_found.stdout)["didResolutionMetadata"]["error"] == "methodNotSupported"
    malformed = run("did", "resolve", "did:key:")
    assert malformed.returncode == 2
    assert "invalidDid" in malformed.stderr
    bad_key = run("did", "resolve", "did:key:z6MkTooShort")
    assert bad_key.returncode == 2


def test_usage_errors_exit_2_and_help_everywhere() -> None:
    assert run("did", "create").returncode == 2  # --key-file missing
    assert run("did", "create", "--key-type", "rsa", "--key-file", "x").returncode == 2
    for args in (
        ["--help"],
        ["did", "--help"],
        ["did", "create", "--help"],
        ["did", "resolve", "--help"],
    ):
        shown = run(*args)
        assert shown.returncode == 0
        assert "Usage:" in shown.stdout
