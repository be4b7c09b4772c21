"""The fast base64url codec in credentials._jws agrees with the strict shared one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from credentials._jws import b64d, b64e
from did_methods.encoding import b64url_decode, b64url_encode
from did_methods.errors import ParseError


@given(st.binary(max_size=200))
def test_encode_agrees(data: bytes) -> None:
    assert b64e(data) == b64url_encode(data)
    assert b64d(b64e(data)) == data


@given(st.text(alphabet="AQgwBz09_-=+/ \n\x00é", max_size=12) | st.text(max_size=12))
def test_decode_accepts_and_refuses_the_same_text(text: str) -> None:
    try:
        expected: bytes | None = b64url_decode(text)
    except ParseError:
        expected = None
    try:
        got: bytes | None = b64d(text)
    except ParseError:
        got = None
    assert got == expected
