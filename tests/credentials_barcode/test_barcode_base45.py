"""Base45 (RFC 9285): the RFC's examples exactly, strict rejection, and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vector_files import load_vector

from credentials import base45
from did_methods.errors import ParseError

VECTORS = load_vector("base45-rfc9285/rfc9285-examples.json")


def test_alphabet_is_the_rfc_table() -> None:
    assert VECTORS["alphabet"] == base45.ALPHABET
    assert len(base45.ALPHABET) == 45 == len(set(base45.ALPHABET))


@pytest.mark.parametrize("case", VECTORS["encode"], ids=lambda c: c["input_ascii"])
def test_rfc_encode_examples(case: dict[str, str]) -> None:
    data = bytes.fromhex(case["input_hex"])
    assert data == case["input_ascii"].encode("ascii")
    assert base45.encode(data) == case["base45"]
    assert base45.decode(case["base45"]) == data


@pytest.mark.parametrize("case", VECTORS["decode"], ids=lambda c: c["base45"])
def test_rfc_decode_examples(case: dict[str, str]) -> None:
    assert base45.decode(case["base45"]) == bytes.fromhex(case["output_hex"])
    assert base45.encode(bytes.fromhex(case["output_hex"])) == case["base45"]


@pytest.mark.parametrize("case", VECTORS["decode_must_fail"], ids=lambda c: c["base45"])
def test_rfc_decode_rejections(case: dict[str, str]) -> None:
    with pytest.raises(base45.Base45Error):
        base45.decode(case["base45"])


def test_ggw_is_rejected_for_its_value() -> None:
    with pytest.raises(base45.Base45Error, match="65536"):
        base45.decode("GGW")


@pytest.mark.parametrize(
    "text",
    ["A", "ABCD", "BB8B", ":::", "ZZ", "6Y", "BB8\n", "bb8", "BB8=", "\u00c4B8", "BB\u20148"],
)
def test_strict_rejections(text: str) -> None:
    # lengths 3n+1, triplets > 65535, final pairs > 255 ("6Y" = 6 + 34*45 = 1536),
    # and characters outside the alphabet (newline, lower case, '=', non-ASCII)
    with pytest.raises(base45.Base45Error):
        base45.decode(text)


def test_edge_values() -> None:
    assert base45.decode("") == b""
    assert base45.encode(b"") == ""
    assert base45.decode("U5") == b"\xff"  # 30 + 5*45 = 255, the largest pair
    assert base45.encode(b"\x00\x00") == "000"
    assert base45.decode("FGW") == b"\xff\xff"


def test_length_bound_and_types() -> None:
    with pytest.raises(base45.Base45Error, match="longer"):
        base45.decode("000" * 10, max_length=29)
    assert base45.decode("000" * 10, max_length=30) == bytes(20)
    with pytest.raises(base45.Base45Error):
        base45.decode(b"BB8")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        base45.encode("AB")  # type: ignore[arg-type]


def _reference_decode(text: str) -> bytes:
    """A literal reading of RFC 9285 Section 4.2, to check the fast decoder."""
    values = [base45.ALPHABET.index(c) for c in text]
    out = b""
    while len(values) >= 3:
        c, d, e = values[:3]
        out += (c + d * 45 + e * 45 * 45).to_bytes(2, "big")
        values = values[3:]
    if values:
        c, d = values
        out += bytes([c + d * 45])
    return out


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_round_trip(data: bytes) -> None:
    text = base45.encode(data)
    assert len(text) == 3 * (len(data) // 2) + 2 * (len(data) % 2)
    assert all(c in base45.ALPHABET for c in text)
    assert base45.decode(text) == data
    assert _reference_decode(text) == data


@settings(max_examples=200)
@given(st.text(alphabet=base45.ALPHABET, max_size=60))
def test_any_alphabet_text_decodes_canonically_or_is_refused(text: str) -> None:
    try:
        data = base45.decode(text)
    except base45.Base45Error:
        return
    # a string that decodes is the one and only encoding of its bytes
    assert base45.encode(data) == text


@settings(max_examples=200)
@given(st.text(max_size=80))
def test_arbitrary_text_raises_only_parse_errors(text: str) -> None:
    try:
        base45.decode(text)
    except ParseError:
        pass
