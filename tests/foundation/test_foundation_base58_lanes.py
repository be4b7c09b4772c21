"""base58btc decoding merges digits lane by lane: checked against the ``base58`` package."""

from __future__ import annotations

import base58
from hypothesis import given, settings
from hypothesis import strategies as st

from did_methods.encoding import base58btc_decode, base58btc_encode

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_decode_inverts_encode_and_matches_base58(data: bytes) -> None:
    text = base58btc_encode(data)
    assert text == base58.b58encode(data).decode("ascii")
    assert base58btc_decode(text) == data


@settings(max_examples=200)
@given(st.text(alphabet=_ALPHABET, max_size=400))
def test_any_digit_string_decodes_as_base58_does(text: str) -> None:
    assert base58btc_decode(text) == base58.b58decode(text)


def test_lengths_around_every_power_of_two() -> None:
    # the lanes are rounded up to a power of two digits: check both sides of each
    for size in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096):
        for length in {max(size - 1, 0), size, min(size + 1, 4096)}:
            for text in ("z" * length, "1" * length, ("2" + "z" * length)[:length]):
                assert base58btc_decode(text) == base58.b58decode(text)
