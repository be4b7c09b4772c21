"""The status-list core: one bit array in both bit orders, one bounded inflate, one cache rule."""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials._status_core import (
    StatusListCoreError,
    cache_until,
    inflate_bounded,
    max_encoded_length,
)
from credentials.status_list import StatusList, StatusListError
from credentials.token_status_list import TokenStatusList, TokenStatusListError


def _reference_get(data: bytes, bits: int, index: int, msb_first: bool) -> int:
    """Bit by bit, as the specs describe it (W3C: MSB first; IETF: LSB first)."""
    value = 0
    for offset in range(bits):
        bit = index * bits + offset
        if msb_first:
            value = (value << 1) | ((data[bit >> 3] >> (7 - (bit & 7))) & 1)
        else:
            value |= ((data[bit >> 3] >> (bit & 7)) & 1) << offset
    return value


@settings(max_examples=60, deadline=None)
@given(bits=st.integers(1, 8), data=st.binary(min_size=1, max_size=64), seed=st.data())
def test_w3c_entries_read_and_write_as_the_spec_describes(
    bits: int, data: bytes, seed: st.DataObject
) -> None:

    listing = StatusList.from_bytes(data, bits_per_status=bits, min_entries=1)
    for index in seed.draw(st.lists(st.integers(0, listing.length - 1), max_size=20)):
        assert listing.get(index) == _reference_get(listing.to_bytes(), bits, index, msb_first=True)
        value = seed.draw(st.integers(0, (1 << bits) - 1))
        before = [listing.get(i) for i in (index - 1, index + 1) if 0 <= i < listing.length]
        listing.set(index, value)
        assert listing.get(index) == value
        after = [listing.get(i) for i in (index - 1, index + 1) if 0 <= i < listing.length]
        assert before == after  # neighbours (also across a byte boundary) untouched
        assert _reference_get(listing.to_bytes(), bits, index, msb_first=True) == value


@settings(max_examples=60, deadline=None)
@given(bits=st.sampled_from([1, 2, 4, 8]), data=st.binary(min_size=1, max_size=64), seed=st.data())
def test_ietf_entries_read_and_write_as_the_spec_describes(
    bits: int, data: bytes, seed: st.DataObject
) -> None:
    listing = TokenStatusList.from_bytes(data, bits=bits)
    for index in seed.draw(st.lists(st.integers(0, listing.size - 1), max_size=20)):
        assert listing.get(index) == _reference_get(
            listing.to_bytes(), bits, index, msb_first=False
        )
        value = seed.draw(st.integers(0, (1 << bits) - 1))
        listing.set(index, value)
        assert listing.get(index) == value
        assert _reference_get(listing.to_bytes(), bits, index, msb_first=False) == value


def test_both_encodings_raise_their_own_error_types_from_the_core() -> None:
    w3c = StatusList(131_072)
    with pytest.raises(StatusListError) as w3c_error:
        w3c.get(131_072)
    assert w3c_error.value.code == "index_out_of_range"
    ietf = TokenStatusList(16, bits=2)
    with pytest.raises(TokenStatusListError) as ietf_error:
        ietf.set(0, 4)
    assert ietf_error.value.code == "value_out_of_range"
    assert not isinstance(w3c_error.value, TokenStatusListError)
    assert isinstance(ietf_error.value, StatusListCoreError)


@pytest.mark.parametrize(
    ("container", "compress"),
    [("GZIP", lambda b: gzip.compress(b, mtime=0)), ("ZLIB", lambda b: zlib.compress(b, 9))],
)
def test_inflate_is_bounded_and_strict_for_each_container(container: str, compress: object) -> None:
    assert callable(compress)
    packed = compress(bytes(1000))
    assert inflate_bounded(
        packed, 1000, container=container, field="x", error=StatusListCoreError
    ) == bytes(1000)  # type: ignore[arg-type]
    cases = {
        "decompression_bomb": (packed, 999),
        "encoding_invalid": (packed[:-3], 1000),
    }
    for code, (blob, cap) in cases.items():
        with pytest.raises(StatusListCoreError) as caught:
            inflate_bounded(blob, cap, container=container, field="x", error=StatusListCoreError)  # type: ignore[arg-type]
        assert caught.value.code == code
    with pytest.raises(StatusListCoreError) as trailing:
        inflate_bounded(
            packed + b"\0", 1000, container=container, field="x", error=StatusListCoreError
        )  # type: ignore[arg-type]
    assert trailing.value.code == "encoding_invalid"
    # the other container's data is refused, not guessed
    other = zlib.compress(b"a") if container == "GZIP" else gzip.compress(b"a")
    with pytest.raises(StatusListCoreError):
        inflate_bounded(other, 1000, container=container, field="x", error=StatusListCoreError)  # type: ignore[arg-type]


def test_the_longest_incompressible_list_fits_the_text_bound() -> None:
    import os

    from did_methods.encoding import b64url_encode

    cap = 1 << 20
    noise = os.urandom(cap)
    for packed in (gzip.compress(noise, mtime=0), zlib.compress(noise, 9)):
        assert len(b64url_encode(packed)) <= max_encoded_length(cap)


def test_one_cache_rule_ttl_then_max_age_then_expiry() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    five = timedelta(minutes=5)
    assert cache_until(at, None, five) == at + five
    assert cache_until(at, timedelta(minutes=1), five) == at + timedelta(minutes=1)
    assert cache_until(at, timedelta(hours=1), five) == at + five
    assert cache_until(at, None, five, at + timedelta(seconds=30)) == at + timedelta(seconds=30)
    assert cache_until(at, timedelta(0), five) == at  # ttl 0: never served from cache
