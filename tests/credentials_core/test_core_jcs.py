"""RFC 8785 canonicalisation and the strict JSON reader."""

from __future__ import annotations

import json
import math
import struct
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials.errors import (
    CanonicalizationError,
    DuplicateKeyError,
    InputTooLargeError,
    JSONError,
    ParseError,
)
from credentials.jcs import canonicalize, format_number, loads_strict
from did_methods._wire.jcs import _write

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "jcs-rfc8785"
CASES = sorted(p.stem for p in (VECTORS / "input").glob("*.json"))


def _exact(value: Any) -> bytes:
    parts: list[str] = []
    _write(value, parts, 256)
    return "".join(parts).encode("utf-8")


@pytest.mark.parametrize("name", CASES)
def test_jcs_published_vectors_byte_for_byte(name: str) -> None:
    value = loads_strict((VECTORS / "input" / f"{name}.json").read_bytes())
    expected = (VECTORS / "output" / f"{name}.json").read_bytes()
    hex_text = (VECTORS / "outhex" / f"{name}.txt").read_text()
    assert canonicalize(value) == expected
    assert canonicalize(value) == bytes.fromhex("".join(hex_text.split()))
    assert _exact(value) == expected


def test_jcs_vector_set_is_complete() -> None:
    assert set(CASES) == {"arrays", "french", "structures", "unicode", "values", "weird"}


def _number_rows() -> list[tuple[str, str]]:
    rows = []
    appendix = (VECTORS / "rfc8785-appendixB-number-samples.csv").read_text().splitlines()
    for line in appendix[1:]:
        hex_ieee, expected = line.split(",")[:2]
        rows.append((hex_ieee, expected))
    for line in (VECTORS / "es6-number-samples.csv").read_text().splitlines():
        hex_ieee, expected = line.split(",")
        rows.append((hex_ieee, expected))
    return rows


@pytest.mark.parametrize(("hex_ieee", "expected"), _number_rows())
def test_jcs_number_samples(hex_ieee: str, expected: str) -> None:
    value = struct.unpack(">d", bytes.fromhex(hex_ieee.zfill(16)))[0]
    if not expected:  # NaN and Infinity must be refused
        with pytest.raises(CanonicalizationError):
            format_number(value)
        with pytest.raises(CanonicalizationError):
            canonicalize([value])
        return
    assert format_number(value) == expected
    assert canonicalize(value) == expected.encode()
    assert float(expected) == value or (value == 0 and float(expected) == 0)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (-0.0, "0"),
        (5.0, "5"),
        (0.5, "0.5"),
        (123e-20, "1.23e-18"),
        (2.0**60, "1152921504606847000"),
        (-(2**53) + 1, "-9007199254740991"),
    ],
)
def test_jcs_es6_layout_rules(value: float, text: str) -> None:
    assert format_number(value) == text
    assert canonicalize([value]) == f"[{text}]".encode()


@pytest.mark.parametrize(
    "bad",
    [
        math.nan,
        math.inf,
        -math.inf,
        2**53,
        -(2**53),
        {1: "x"},
        {None: 1},
        "\ud800",
        {"\udc00": 1},
        b"bytes",
        {1, 2},
        object(),
        [complex(1, 2)],
    ],
)
def test_jcs_refuses_non_json(bad: Any) -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize(bad)


def test_jcs_depth_bound_and_cycles() -> None:
    deep: Any = []
    for _ in range(300):
        deep = [deep]
    with pytest.raises(CanonicalizationError):
        canonicalize(deep)
    ok: Any = "x"
    for _ in range(256):
        ok = [ok]
    assert canonicalize(ok) == b"[" * 256 + b'"x"' + b"]" * 256
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(CanonicalizationError):
        canonicalize(cycle)
    loop: dict[str, Any] = {}
    loop["self"] = loop
    with pytest.raises(CanonicalizationError):
        canonicalize(loop)


def test_jcs_sorts_by_utf16_code_units_not_code_points() -> None:
    # U+1F600 is D83D DE00 in UTF-16, which sorts before U+FB01 (a BMP char above D800)
    value = {"\ufb01": 1, "\U0001f600": 2, "a": 3}
    assert canonicalize(value) == '{"a":3,"\U0001f600":2,"\ufb01":1}'.encode()
    assert canonicalize(value) == rfc8785.dumps(value)


def test_jcs_accepts_mappings_and_subclasses() -> None:
    value = OrderedDict([("b", (1, 2)), ("a", True)])
    assert canonicalize(value) == b'{"a":true,"b":[1,2]}'


# -- property tests -------------------------------------------------------------

_floats = st.floats(allow_nan=False, allow_infinity=False)
_ints = st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
_scalars = st.none() | st.booleans() | _ints | _floats | _text
json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_text, inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=200)
@given(json_values)
def test_jcs_matches_rfc8785_package(value: Any) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)


@settings(max_examples=200)
@given(json_values)
def test_jcs_fast_path_equals_exact_path(value: Any) -> None:
    assert canonicalize(value) == _exact(value)


@settings(max_examples=100)
@given(json_values)
def test_jcs_idempotent(value: Any) -> None:
    once = canonicalize(value)
    assert canonicalize(loads_strict(once)) == once


@settings(max_examples=100)
@given(st.dictionaries(_text, json_values, max_size=8), st.randoms(use_true_random=False))
def test_jcs_independent_of_key_order_and_whitespace(value: dict[str, Any], rnd: Any) -> None:
    items = list(value.items())
    rnd.shuffle(items)
    shuffled = dict(items)
    spaced = json.dumps(shuffled, indent=rnd.choice([None, 1, 4]), ensure_ascii=rnd.random() < 0.5)
    assert canonicalize(loads_strict(spaced)) == canonicalize(value)


@settings(max_examples=50)
@given(_floats)
def test_jcs_numbers_round_trip(value: float) -> None:
    assert float(format_number(value)) == value


# -- strict parsing -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"a": 1, "a": 2}', DuplicateKeyError),
        ('{"x": {"b": 1, "b": 1}}', DuplicateKeyError),
        ("[NaN]", JSONError),
        ("[Infinity]", JSONError),
        ("[-Infinity]", JSONError),
        ("[1e400]", JSONError),
        ('["\\ud800"]', JSONError),
        ('{"\\udc00": 1}', JSONError),
        ('["\\ud83d\\ud83d"]', JSONError),
        ("[1,]", JSONError),
        ("{'a': 1}", JSONError),
        ("[1] x", JSONError),
        ("", JSONError),
        ("[" + "9" * 5000 + "]", JSONError),
        (b"\xef\xbb\xbf{}", JSONError),
        (b'["\xff"]', JSONError),
        (b'["\xed\xa0\x80"]', JSONError),
        ("[" * 300 + "]" * 300, InputTooLargeError),
        ("[" * 100_000 + "]" * 100_000, InputTooLargeError),
    ],
)
def test_loads_strict_refuses(text: str | bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        loads_strict(text)


def test_loads_strict_accepts_and_bounds() -> None:
    assert loads_strict('{"a": ["\\ud83d\\ude00", 1.5, null, true]}') == {
        "a": ["\U0001f600", 1.5, None, True]
    }
    assert loads_strict(b" [1] ") == [1]
    with pytest.raises(InputTooLargeError):
        loads_strict("[1, 2, 3]", max_bytes=4)
    with pytest.raises(InputTooLargeError):
        loads_strict('["ééé"]', max_bytes=8)
    with pytest.raises(InputTooLargeError):
        loads_strict("[[[1]]]", max_depth=2)
    assert loads_strict("[[1]]", max_depth=2) == [[1]]
    with pytest.raises(JSONError):
        loads_strict('["\ud800"]')
    with pytest.raises(JSONError):
        loads_strict(42)  # type: ignore[arg-type]


@settings(max_examples=200)
@given(st.binary(max_size=64) | st.text(max_size=64))
def test_loads_strict_raises_only_parse_errors(data: bytes | str) -> None:
    try:
        value = loads_strict(data)
    except ParseError:
        return
    # whatever the strict reader accepts, JCS can serialise and read back
    assert loads_strict(canonicalize(value)) == value


def test_loads_strict_reads_large_integers_as_doubles() -> None:
    assert loads_strict("[9007199254740991]") == [9007199254740991]
    big = loads_strict("[295147905179352830000, 9007199254740993]")
    assert big == [2.0**68, 9007199254740992.0]
    assert canonicalize(big) == b"[295147905179352830000,9007199254740992]"


def test_jcs_subclasses_serialise_by_value() -> None:
    import enum

    class Colour(str, enum.Enum):  # noqa: UP042 - its str() is "Colour.RED", the point here
        RED = "red"

    class Size(enum.IntEnum):
        BIG = 3

    class Loud(float):
        def __repr__(self) -> str:
            return "LOUD"

    value = {Colour.RED: [Colour.RED, Size.BIG, Loud(0.5)]}
    assert canonicalize(value) == b'{"red":["red",3,0.5]}'


_fast_floats = st.floats(min_value=1e-4, max_value=1e15, allow_nan=False).filter(
    lambda x: not x.is_integer()
)
_fast_keys = st.text(st.characters(max_codepoint=0xDFFF, exclude_categories=["Cs"]), max_size=8)
_fast_values = st.recursive(
    st.none() | st.booleans() | _ints | _fast_floats | (_fast_floats.map(lambda x: -x)) | _text,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(_fast_keys, inner, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=200)
@given(_fast_values)
def test_jcs_fast_path_is_taken_and_exact(value: Any) -> None:
    from did_methods._wire.jcs import _scan

    assert _scan(value, 256)  # these values are all fast-path material
    assert canonicalize(value) == _exact(value) == rfc8785.dumps(value)


@settings(max_examples=100)
@given(
    st.dictionaries(
        st.text(st.sampled_from(["a", "\ue000", "\uffff", "\U0001f600", "\U00010000", "z"])),
        _ints,
        max_size=6,
    )
)
def test_jcs_keys_near_the_surrogate_range_sort_by_utf16(value: dict[str, int]) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)


# Characters where escaping or ordering could go wrong: every control character
# (RFC 8785 3.2.2.2: \b \f \n \r \t short forms, the rest \u00xx in lowercase hex),
# the quote and the backslash, DEL and U+2028/U+2029 (written as they are), the
# ends of the BMP below U+E000 (the fast path's key bound) and above it, and
# characters beyond U+FFFF (two UTF-16 code units).
_tricky_chars = st.sampled_from(
    [chr(c) for c in range(0x20)]
    + ['"', "\\", "/", "\x7f", "\x80", "\u2028", "\u2029", "\ud7ff"]
    + ["\ue000", "\uffff", "\U00010000", "\U0001f600", "\U0010ffff", "a", "A", "é"]
)
_tricky_text = st.text(_tricky_chars, max_size=10)
# keys from few characters, so that members often differ first at a character
# where UTF-16 order and code point order disagree (U+E000-U+FFFF vs U+10000-)
_tricky_keys = st.text(
    st.sampled_from(["a", '"', "\n", "\x00", "\ue000", "\uffff", "\U00010000", "\U0010ffff"]),
    max_size=3,
)
_tricky_values = st.recursive(
    st.none() | _ints | _tricky_text,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(_tricky_keys | _tricky_text, inner, max_size=6)
    ),
    max_leaves=20,
)


@settings(max_examples=300)
@given(_tricky_values)
def test_jcs_tricky_strings_and_keys_fast_exact_and_rfc8785_agree(value: Any) -> None:
    from did_methods._wire.jcs import _fast_encode, _scan

    canonical = canonicalize(value)
    assert canonical == _exact(value) == rfc8785.dumps(value)
    if _scan(value, 256):  # whenever the fast path is taken, the C encoder's text is it
        assert _fast_encode(value).encode("utf-8") == canonical


def test_jcs_escapes_every_control_character_as_rfc8785_3_2_2_2_says() -> None:
    short = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
    for code in range(0x20):
        char = chr(code)
        expected = short.get(char, f"\\u{code:04x}")
        assert canonicalize(char) == f'"{expected}"'.encode("ascii")
        assert canonicalize({char: 0}) == f'{{"{expected}":0}}'.encode("ascii")
    assert canonicalize('"\\/\x7f\u2028') == '"\\"\\\\/\x7f\u2028"'.encode()
