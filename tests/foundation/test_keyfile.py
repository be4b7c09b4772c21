"""Key files: mode 0600, never overwritten, optional passphrase encryption."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from did_methods import InvalidKey, KeyFileError, KeyType, PrivateKey, read_key_file, write_key_file


@pytest.mark.parametrize("kt", list(KeyType))
def test_plain_key_file_round_trip(tmp_path: Path, kt: KeyType) -> None:
    key = PrivateKey.generate(kt)
    path = write_key_file(tmp_path / "k.jwk", key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_key_file(path) == key
    assert json.loads(path.read_text())["d"] == key.private_jwk()["d"]


def test_never_overwrites(tmp_path: Path) -> None:
    path = write_key_file(tmp_path / "k.jwk", PrivateKey.generate())
    before = path.read_bytes()
    with pytest.raises(KeyFileError):
        write_key_file(path, PrivateKey.generate())
    assert path.read_bytes() == before


def test_encrypted_key_file(tmp_path: Path) -> None:
    key = PrivateKey.generate(KeyType.P256)
    path = write_key_file(tmp_path / "k.json", key, passphrase="correct horse")
    text = path.read_text()
    assert key.private_jwk()["d"] not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_key_file(path, passphrase="correct horse") == key
    with pytest.raises(KeyFileError):
        read_key_file(path, passphrase="wrong")
    with pytest.raises(KeyFileError):
        read_key_file(path)


@pytest.mark.parametrize(
    "content", [b"", b"not json", b"[]", b'{"kty": "OKP"}', b"{" * 100, b"x" * 70_000]
)
def test_malformed_key_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(InvalidKey):
        read_key_file(path)


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError):
        read_key_file(tmp_path / "missing")
