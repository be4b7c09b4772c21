"""The private kernel (``did_methods._wire``) is the one home of each wire primitive.

These tests pin that the public names and every package's callers are the
kernel's own function objects, not copies that could drift apart.
"""

from __future__ import annotations

import base64
import binascii

import pytest
from hypothesis import given
from hypothesis import strategies as st

import credentials._jws
import credentials.jcs
import did_methods.encoding
import ledger.checkpoint
import ledger.proofs
import ledger.vault._canonical as vault_canonical
import ledger.vault.crypto
import ledger.witness
from credentials.errors import CanonicalizationError as CredentialsCanonicalizationError
from did_methods._wire import b64, jcs, json
from did_methods.errors import CanonicalizationError, ParseError
from ledger.vault import RecordError, canonical_json


def test_one_jcs_for_credentials_and_the_vault() -> None:
    assert credentials.jcs.canonicalize is jcs.canonicalize
    assert credentials.jcs.format_number is jcs.format_number
    assert credentials.jcs.MAX_DEPTH == jcs.MAX_DEPTH
    assert vault_canonical.canonicalize is jcs.canonicalize
    assert vault_canonical.loads is json.loads
    assert CredentialsCanonicalizationError is CanonicalizationError


def test_the_vault_rules_are_options_of_the_one_jcs() -> None:
    record = {"b": [1.5, "\u20ac"], "a": {"\U0001f600": None, "\r": True}}
    assert canonical_json(record) == jcs.canonicalize(record)
    # the vault's one departure from RFC 8785, as a kernel option
    assert jcs.canonicalize(2.0**60) == b"1152921504606847000"
    with pytest.raises(CanonicalizationError, match="integral numbers"):
        jcs.canonicalize([2.0**60], safe_integers=True)
    with pytest.raises(RecordError, match="integral numbers"):
        canonical_json([2.0**60])
    # the vault's depth bound is the kernel's max_depth
    deep: object = 0
    for _ in range(vault_canonical.MAX_DEPTH):
        deep = [deep]
    assert canonical_json(deep) == jcs.canonicalize(deep)
    with pytest.raises(RecordError, match="nesting too deep"):
        canonical_json([deep])


def test_one_base64_codec() -> None:
    assert did_methods.encoding.b64url_encode is b64.b64url_encode
    assert did_methods.encoding.b64url_decode is b64.b64url_decode
    assert credentials._jws.b64e is b64.b64url_encode
    assert credentials._jws.b64d is b64.b64url_decode
    assert ledger.vault.crypto.b64url_decode is b64.b64url_decode
    for module in (ledger.checkpoint, ledger.proofs, ledger.witness):
        assert module.b64_decode is b64.b64_decode
        assert module.b64_encode is b64.b64_encode
        assert not hasattr(module, "base64")


_B64_TEXT = st.text(alphabet="ABCQgwz09+/=-_ \n\x00\u00e9", max_size=12) | st.text(max_size=12)


def _reference(text: str, url: bool) -> bytes | None:
    """The standard library's decoder plus the round trip: what "strict" means."""
    try:
        if url:
            if "=" in text:
                return None
            raw = base64.urlsafe_b64decode(text.encode("ascii") + b"=" * (-len(text) % 4))
            ok = base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == text
        else:
            raw = base64.b64decode(text.encode("ascii"), validate=True)
            ok = base64.b64encode(raw).decode() == text
    except (binascii.Error, ValueError):
        return None
    return raw if ok else None


@given(_B64_TEXT)
def test_strict_decoders_accept_exactly_the_canonical_spellings(text: str) -> None:
    for url, decode in ((True, b64.b64url_decode), (False, b64.b64_decode)):
        try:
            got: bytes | None = decode(text)
        except ParseError:
            got = None
        assert got == _reference(text, url), (url, text)


@given(st.binary(max_size=100))
def test_encoders_round_trip(data: bytes) -> None:
    assert b64.b64_encode(data) == base64.b64encode(data).decode()
    assert b64.b64url_encode(data) == base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    assert b64.b64url_bytes(data) == b64.b64url_encode(data).encode()
    assert b64.b64_decode(b64.b64_encode(data)) == data
    assert b64.b64url_decode(b64.b64url_encode(data)) == data


def test_decoders_refuse_with_parse_errors() -> None:
    for bad in ["QQ=", "QR==", "QQ==\n", " QQ==", "QQ==QQ==", "\u00e9AAA", "Q==="]:
        with pytest.raises(ParseError):
            b64.b64_decode(bad)
    for bad in ["QQ==", "QR", "Q", "a+b/", "AAAA\n"]:
        with pytest.raises(ParseError):
            b64.b64url_decode(bad)
    with pytest.raises(ParseError, match="longer than 4"):
        b64.b64url_decode("AAAAAAAA", max_length=4)
    with pytest.raises(ParseError, match="must be a string"):
        b64.b64_decode(b"QQ==")  # type: ignore[arg-type]
