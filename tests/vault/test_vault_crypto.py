"""Canonical JSON (checked against the rfc8785 package), master keys, sealing and commitments."""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from ledger.vault import MasterKey, MasterKeyError, RecordError, VaultError, canonical_json
from ledger.vault._canonical import parse_json
from ledger.vault.crypto import commit, open_record, seal_record, subject_tag

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_json = st.recursive(
    _scalars,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
    max_leaves=20,
)


def _unsafe_integral(value: object) -> bool:
    # Our one deliberate departure from RFC 8785: an integral float beyond 2**53 - 1
    # (below 1e21) is refused, as its canonical form reads back as an out-of-range integer.
    if isinstance(value, float):
        return 2**53 - 1 < abs(value) < 1e21 and value.is_integer()
    if isinstance(value, list):
        return any(_unsafe_integral(v) for v in value)
    if isinstance(value, dict):
        return any(_unsafe_integral(v) for v in value.values())
    return False


@given(_json)
def test_canonical_json_equals_rfc8785(value: object) -> None:
    if _unsafe_integral(value):
        with pytest.raises(RecordError, match="integral numbers"):
            canonical_json(value, max_bytes=1 << 20)
        return
    try:
        expected = rfc8785.dumps(value)
    except Exception:  # the reference refuses lone surrogates; so must we
        with pytest.raises(RecordError):
            canonical_json(value, max_bytes=1 << 20)
        return
    assert canonical_json(value, max_bytes=1 << 20) == expected


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_follow_ecmascript(value: float) -> None:
    if _unsafe_integral(value):
        with pytest.raises(RecordError, match="integral numbers"):
            canonical_json(value)
        return
    assert canonical_json(value) == rfc8785.dumps(value)


def test_canonical_json_known_answers() -> None:
    # RFC 8785 section 3.2.3's sorting example, and number forms of appendix B.
    assert canonical_json({"\u20ac": 1, "\r": 2, "1": 3, "\U0001f600": 4, "\u00f6": 5}) == (
        '{"\\r":2,"1":3,"\u00f6":5,"\u20ac":1,"\U0001f600":4}'.encode()
    )
    for number, text in [
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (-0.0, "0"),
        (333333333.33333329, "333333333.3333333"),
        (5e-324, "5e-324"),
    ]:
        assert canonical_json(number) == text.encode()


def test_canonical_json_refuses_what_json_cannot_carry() -> None:
    for bad in [math.nan, math.inf, 2**53, {1: "x"}, {"x": object()}, "\ud800", b"bytes"]:
        with pytest.raises(RecordError):
            canonical_json(bad)
    deep: object = "x"
    for _ in range(40):
        deep = [deep]
    with pytest.raises(RecordError):
        canonical_json(deep)


@pytest.mark.parametrize(
    "text",
    [b'{"a":1,"a":2}', b"NaN", b'{"a":Infinity}', b"[" * 5000, b"\xff", b'{"a":1}x', b"1" * 70000],
)
def test_parse_json_is_strict(text: bytes) -> None:
    with pytest.raises(RecordError):
        parse_json(text)


@given(st.binary(max_size=200))
def test_parse_json_on_arbitrary_bytes_raises_only_record_error(data: bytes) -> None:
    try:
        parse_json(data)
    except RecordError:
        pass


def test_master_key_file_env_and_wrapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = MasterKey.generate()
    path = key.write_file(tmp_path / "mk.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert MasterKey.from_file(path) == key
    with pytest.raises(MasterKeyError):
        key.write_file(path)  # never overwritten
    monkeypatch.setenv("VAULT_MK", key.to_text())
    assert MasterKey.from_env("VAULT_MK") == key
    from did_methods.encoding import b64url_encode

    monkeypatch.setenv("VAULT_MK", b64url_encode(key.secret))
    assert MasterKey.from_env("VAULT_MK").key_id == key.key_id
    with pytest.raises(MasterKeyError):
        MasterKey.from_env("VAULT_MK_UNSET")
    os.chmod(path, 0o644)
    with pytest.raises(MasterKeyError):
        MasterKey.from_file(path)
    for text in ["", "{}", '{"kty":"oct","k":"short"}', "not base64!", '{"kty":"RSA"}']:
        with pytest.raises(MasterKeyError):
            MasterKey.from_text(text)
    data_key = os.urandom(32)
    wrapped = key.wrap(data_key, context=b"subject:a")
    assert key.unwrap(wrapped, context=b"subject:a") == data_key
    with pytest.raises(MasterKeyError):
        key.unwrap(wrapped, context=b"subject:b")  # bound to its subject
    with pytest.raises(MasterKeyError):
        MasterKey.generate().unwrap(wrapped, context=b"subject:a")
    assert key.key_id != MasterKey.generate().key_id and key.secret.hex() not in repr(key)


def test_sealing_binds_subject_record_and_version_with_fresh_nonces() -> None:
    data_key, ck = os.urandom(32), os.urandom(32)
    canonical = b'{"birthYear":2009}'
    args = {"subject_id": "s1", "record_id": "rec-1", "version": 1}
    n1, c1 = seal_record(data_key, commitment_key=ck, canonical=canonical, **args)  # type: ignore[arg-type]
    n2, c2 = seal_record(data_key, commitment_key=ck, canonical=canonical, **args)  # type: ignore[arg-type]
    assert n1 != n2 and c1 != c2 and len(n1) == 12
    assert open_record(data_key, nonce=n1, ciphertext=c1, **args) == (ck, canonical)  # type: ignore[arg-type]
    for other in [{"subject_id": "s2"}, {"record_id": "rec-2"}, {"version": 2}]:
        with pytest.raises(VaultError):
            open_record(data_key, nonce=n1, ciphertext=c1, **{**args, **other})  # type: ignore[arg-type]
    with pytest.raises(VaultError):
        open_record(os.urandom(32), nonce=n1, ciphertext=c1, **args)  # type: ignore[arg-type]


def test_commitments_hide_low_entropy_values_and_tags_are_keyed() -> None:
    canonical = b'{"birthYear":2009}'
    seen = {commit(os.urandom(32), canonical) for _ in range(50)}
    assert len(seen) == 50
    # Without the key, trying every birth year does not find the commitment.
    target = commit(os.urandom(32), canonical)
    guesses = {commit(bytes(32), b'{"birthYear":%d}' % y) for y in range(1900, 2030)}
    assert target not in guesses
    k1, k2 = os.urandom(32), os.urandom(32)
    assert subject_tag(k1, "amina") == subject_tag(k1, "amina") != subject_tag(k2, "amina")


class KmsStandIn:
    """A KeyProvider that, like a KMS, never hands out its key: AES key wrap (RFC 3394)
    under a key derived per context, so a wrapped key only unwraps for its context."""

    def __init__(self) -> None:
        self._root = os.urandom(32)
        self.calls = 0

    @property
    def key_id(self) -> str:
        return "kms-test-key-1"

    def _kek(self, context: bytes) -> bytes:
        import hashlib
        import hmac

        return hmac.new(self._root, context, hashlib.sha256).digest()

    def wrap(self, key: bytes, *, context: bytes) -> bytes:
        from cryptography.hazmat.primitives.keywrap import aes_key_wrap

        self.calls += 1
        return aes_key_wrap(self._kek(context), key)

    def unwrap(self, wrapped: bytes, *, context: bytes) -> bytes:
        from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap

        self.calls += 1
        try:
            return aes_key_unwrap(self._kek(context), wrapped)
        except InvalidUnwrap as exc:
            raise MasterKeyError("does not unwrap") from exc


def test_a_kms_key_provider_plugs_in(open_sqlite_vault, tmp_path: Path) -> None:
    kms = KmsStandIn()
    vault = open_sqlite_vault(master_key=kms)
    receipt = vault.put("subject-1", {"name": "Amina"})
    assert vault.access("subject-1").records[0].record == {"name": "Amina"}
    assert kms.calls >= 2  # the index key and the subject's data key went through the KMS
    backup = vault.backup(tmp_path / "kms.bak")
    vault.erase("subject-1")
    vault.restore(backup)
    assert vault.access("subject-1").erased[0].record_id == receipt.record_id
    vault.close()
    with pytest.raises(MasterKeyError):
        open_sqlite_vault(master_key=MasterKey.generate())
    assert open_sqlite_vault(master_key=kms).access("subject-1").status == "erased"
