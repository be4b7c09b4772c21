"""TokenStatusList: the draft's examples byte for byte, bit order, round trips, bombs, fuzz."""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vector_files import load_vector

from credentials._jws import b64e
from credentials.token_status_list import (
    TokenStatus,
    TokenStatusList,
    TokenStatusListError,
    status_claim,
)

VECTORS = load_vector("token-status-list/spec-examples.json")


def _reference_get(data: bytes, bits: int, index: int) -> int:
    """The spec's bit order read literally: the array as one little-endian integer."""
    return (int.from_bytes(data, "little") >> (index * bits)) & ((1 << bits) - 1)


# ----------------------------------------------------------------- spec examples


@pytest.mark.parametrize("case", VECTORS["short"], ids=lambda c: c["name"])
def test_short_examples_encode_byte_for_byte(case: dict[str, Any]) -> None:
    statuses = case["statuses"]
    status_list = TokenStatusList(len(statuses), case["bits"])
    for index, value in enumerate(statuses):
        status_list.set(index, value)
    assert status_list.to_bytes() == bytes.fromhex(case["byte_array"])
    assert status_list.encode() == {"bits": case["bits"], "lst": case["lst"]}


@pytest.mark.parametrize("case", VECTORS["short"], ids=lambda c: c["name"])
def test_short_examples_decode(case: dict[str, Any]) -> None:
    decoded = TokenStatusList.decode({"bits": case["bits"], "lst": case["lst"]})
    assert decoded.to_bytes() == bytes.fromhex(case["byte_array"])
    assert decoded.size == len(case["statuses"])
    assert [decoded.get(i) for i in range(decoded.size)] == case["statuses"]


@pytest.mark.parametrize("case", VECTORS["long"], ids=lambda c: c["name"])
def test_appendix_test_vectors_decode(case: dict[str, Any]) -> None:
    decoded = TokenStatusList.decode({"bits": case["bits"], "lst": case["lst"]})
    assert decoded.bits == case["bits"]
    assert decoded.size == case["size"] == 2**20
    expected = {index: value for index, value in case["statuses"]}
    for index, value in expected.items():
        assert decoded.get(index) == value
    # every entry not listed is 0: compare the whole array with one built from the list
    rebuilt = TokenStatusList(case["size"], case["bits"])
    for index, value in expected.items():
        rebuilt.set(index, value)
    assert rebuilt == decoded


@pytest.mark.parametrize("case", VECTORS["long"], ids=lambda c: c["name"])
def test_appendix_test_vectors_encode_byte_for_byte(case: dict[str, Any]) -> None:
    status_list = TokenStatusList(case["size"], case["bits"])
    for index, value in case["statuses"]:
        status_list.set(index, value)
    assert status_list.encode() == {"bits": case["bits"], "lst": case["lst"]}


def test_bit_order_is_least_significant_first() -> None:
    # section 4: index 0 is bit 0 (the lowest) of byte 0; index 7 is its top bit
    one = TokenStatusList(16, 1)
    one.set(0)
    assert one.to_bytes() == b"\x01\x00"
    one.set(7)
    one.set(8)
    assert one.to_bytes() == b"\x81\x01"
    two = TokenStatusList(8, 2)
    two.set(1, TokenStatus.SUSPENDED)
    assert two.to_bytes() == b"\x08\x00"
    eight = TokenStatusList(2, 8)
    eight.set(1, 0xAB)
    assert eight.to_bytes() == b"\x00\xab"


def test_set_clear_and_neighbours() -> None:
    status_list = TokenStatusList(12, 4)
    status_list.set(5, 9)
    status_list.set(4, 15)
    status_list.set(6, 1)
    status_list.clear(4)
    assert [status_list.get(i) for i in (3, 4, 5, 6, 7)] == [0, 0, 9, 1, 0]


def test_unaligned_size_rounds_up_to_whole_bytes() -> None:
    status_list = TokenStatusList(10, 1)
    assert len(status_list.to_bytes()) == 2
    status_list.set(9)
    decoded = TokenStatusList.decode(status_list.encode())
    assert decoded.size == 16  # the wire format carries no length
    assert decoded.get(9) == 1


# ----------------------------------------------------------------- errors


@pytest.mark.parametrize("bits", [0, 3, 5, 16, True, "1", None, 1.0])
def test_bits_must_be_1_2_4_or_8(bits: object) -> None:
    with pytest.raises(TokenStatusListError) as info:
        TokenStatusList(8, bits)  # type: ignore[arg-type]
    assert info.value.code == "bits_invalid"
    with pytest.raises(TokenStatusListError) as info:
        TokenStatusList.decode({"bits": bits, "lst": "eNrbuRgAAhcBXQ"})
    assert info.value.code == "bits_invalid"


@pytest.mark.parametrize("index", [-1, 16, 2**70, True, 1.0, "0", None])
def test_index_out_of_range_is_a_typed_error(index: object) -> None:
    status_list = TokenStatusList(16, 1)
    calls: list[Callable[[Any], object]] = [status_list.get, status_list.set, status_list.clear]
    for call in calls:
        with pytest.raises(TokenStatusListError) as info:
            call(index)
        assert info.value.code == "index_out_of_range"


@pytest.mark.parametrize(("bits", "value"), [(1, 2), (2, 4), (4, 16), (8, 256), (8, -1), (1, True)])
def test_value_must_fit(bits: int, value: object) -> None:
    with pytest.raises(TokenStatusListError) as info:
        TokenStatusList(8, bits).set(0, value)  # type: ignore[arg-type]
    assert info.value.code == "value_out_of_range"


@pytest.mark.parametrize("size", [0, -5, True, 1.5, 2**40])
def test_size_is_checked(size: object) -> None:
    with pytest.raises(TokenStatusListError) as info:
        TokenStatusList(size)  # type: ignore[arg-type]
    assert info.value.code == "size_invalid"


@pytest.mark.parametrize(
    "lst",
    [
        "eNrbuRgAAhcBXQ==",  # padding
        "eNrbuRgAAhcBXR",  # non-canonical trailing bits
        "eNrbuRgAAhcBX",  # truncated stream
        "eNrbuRgAAhcB",  # truncated stream
        "eNrbuRgAAhcBXQAA",  # data after the stream
        b64e(zlib.compress(b"\xb9\xa3", wbits=31)),  # GZIP, not ZLIB
        b64e(zlib.compress(b"\xb9\xa3", wbits=-15)),  # raw DEFLATE, no ZLIB header
        "eNrbuRgAAhcBXQ+/",  # base64, not base64url
        "",
        "not base64 at all!",
    ],
)
def test_decode_is_strict(lst: str) -> None:
    with pytest.raises(TokenStatusListError) as info:
        TokenStatusList.decode({"bits": 1, "lst": lst})
    assert info.value.code == "encoding_invalid"


def test_decode_checks_the_adler32_trailer() -> None:
    compressed = bytearray(zlib.compress(b"\xb9\xa3", 9))
    compressed[-1] ^= 1
    with pytest.raises(TokenStatusListError) as info:
        TokenStatusList.decode({"bits": 1, "lst": b64e(bytes(compressed))})
    assert info.value.code == "encoding_invalid"


@pytest.mark.parametrize(
    "obj", [None, [], "eNrbuRgAAhcBXQ", {"bits": 1}, {"lst": "eNrbuRgAAhcBXQ"}]
)
def test_decode_needs_bits_and_lst(obj: Any) -> None:
    with pytest.raises(TokenStatusListError):
        TokenStatusList.decode(obj)


def test_decode_ignores_aggregation_uri() -> None:
    decoded = TokenStatusList.decode(
        {"bits": 1, "lst": "eNrbuRgAAhcBXQ", "aggregation_uri": "https://example.com/agg"}
    )
    assert decoded.to_bytes() == b"\xb9\xa3"


def test_decompression_bomb_is_refused_quickly() -> None:
    bomb = zlib.compress(bytes(64 * 1024 * 1024), 9)  # 64 MiB of zeros in ~64 KB
    start = time.perf_counter()
    with pytest.raises(TokenStatusListError) as info:
        TokenStatusList.decode({"bits": 1, "lst": b64e(bomb)}, max_decompressed=1024 * 1024)
    assert info.value.code == "decompression_bomb"
    assert time.perf_counter() - start < 2.0


def test_default_cap_refuses_a_bomb_beyond_16_mib() -> None:
    bomb = zlib.compress(bytes(17 * 1024 * 1024), 9)
    with pytest.raises(TokenStatusListError) as info:
        TokenStatusList.decode({"bits": 1, "lst": b64e(bomb)})
    assert info.value.code == "decompression_bomb"


def test_exactly_the_cap_is_accepted() -> None:
    data = bytes(4096)
    decoded = TokenStatusList.decode(
        {"bits": 8, "lst": b64e(zlib.compress(data, 9))}, max_decompressed=4096
    )
    assert decoded.size == 4096


# ----------------------------------------------------------------- status claim


def test_status_claim_shape_matches_the_spec_example() -> None:
    expected = VECTORS["referenced_token_status_example"]["status"]
    assert status_claim("https://example.com/statuslists/1", 0) == expected


@pytest.mark.parametrize(
    ("uri", "idx"),
    [
        ("https://example.com/1", -1),
        ("https://example.com/1", True),
        ("https://example.com/1", 1.0),
        ("not a uri", 0),
        ("", 0),
        ("https://example.com/" + "a" * 3000, 0),
        (None, 0),
    ],
)
def test_status_claim_refuses_bad_input(uri: Any, idx: Any) -> None:
    with pytest.raises(TokenStatusListError) as info:
        status_claim(uri, idx)
    assert info.value.code == "claim_invalid"


# ----------------------------------------------------------------- properties


@st.composite
def lists_with_values(draw: st.DrawFn) -> tuple[int, int, dict[int, int]]:
    bits = draw(st.sampled_from([1, 2, 4, 8]))
    size = draw(st.integers(min_value=1, max_value=4000))
    values = draw(
        st.dictionaries(
            st.integers(min_value=0, max_value=size - 1),
            st.integers(min_value=0, max_value=(1 << bits) - 1),
            max_size=60,
        )
    )
    return bits, size, values


@settings(max_examples=150)
@given(lists_with_values())
def test_round_trip_matches_a_literal_reference(case: tuple[int, int, dict[int, int]]) -> None:
    bits, size, values = case
    status_list = TokenStatusList(size, bits)
    for index, value in values.items():
        status_list.set(index, value)
    encoded = status_list.encode()
    decoded = TokenStatusList.decode(encoded)
    assert decoded == status_list
    data = decoded.to_bytes()
    for index in range(size):
        expected = values.get(index, 0)
        assert decoded.get(index) == expected == _reference_get(data, bits, index)
    assert TokenStatusList.decode(encoded).encode() == encoded  # deterministic


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200)
@given(
    st.one_of(
        _json,
        st.fixed_dictionaries({"bits": st.sampled_from([1, 2, 4, 8]), "lst": st.text(max_size=80)}),
        st.fixed_dictionaries(
            {
                "bits": st.sampled_from([1, 2, 4, 8]),
                "lst": st.binary(max_size=64).map(b64e),
            }
        ),
        st.fixed_dictionaries(
            {
                "bits": st.sampled_from([1, 2, 4, 8]),
                "lst": st.binary(max_size=64).map(lambda b: b64e(zlib.compress(b)[:-1] + b"\x00")),
            }
        ),
    )
)
def test_arbitrary_input_raises_only_our_error(obj: Any) -> None:
    try:
        decoded = TokenStatusList.decode(obj, max_decompressed=1 << 16)
    except TokenStatusListError:
        return
    assert decoded.bits in (1, 2, 4, 8)
    assert decoded.size == len(decoded.to_bytes()) * 8 // decoded.bits


@pytest.mark.parametrize("cap", [-1, -(1 << 30), 1.5, None])
def test_a_negative_cap_never_means_unlimited(cap: Any) -> None:
    # zlib treats max_length 0 as "no limit"; a cap of -1 must not get there
    bomb = {"bits": 1, "lst": b64e(zlib.compress(bytes(1 << 20), 9))}
    with pytest.raises(TokenStatusListError) as info:
        TokenStatusList.decode(bomb, max_decompressed=cap)
    assert info.value.code == "size_invalid"


def test_zero_cap_accepts_only_an_empty_list() -> None:
    empty = TokenStatusList.decode({"bits": 1, "lst": b64e(zlib.compress(b""))}, max_decompressed=0)
    assert empty.size == 0
    with pytest.raises(TokenStatusListError) as info:
        empty.get(0)
    assert info.value.code == "index_out_of_range"
    with pytest.raises(TokenStatusListError) as info:
        TokenStatusList.decode({"bits": 1, "lst": "eNrbuRgAAhcBXQ"}, max_decompressed=0)
    assert info.value.code == "decompression_bomb"
