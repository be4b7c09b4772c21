"""The strict JSON reader and compact writer of ``credentials._jws``: fast paths agree with json."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials._jws import dumps, encode_json, loads
from did_methods.errors import ParseError

_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200)
@given(_values, st.sampled_from(["", " ", "\n", "\t\r"]))
def test_loads_reads_what_json_reads(value: Any, space: str) -> None:
    text = space + json.dumps(value, ensure_ascii=False) + space
    assert loads(text) == json.loads(text)
    assert loads(text.encode("utf-8")) == json.loads(text)


@settings(max_examples=200)
@given(_values)
def test_encode_json_writes_what_json_writes(value: Any) -> None:
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    assert encode_json(value) == expected
    assert dumps(value) == expected.encode("utf-8")


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "x",
        "{",
        "[1,]",
        '{"a":1}x',
        '{"a":1} x',
        "1 2",
        '{"a":1,"a":2}',
        '[{"b":0,"b":0}]',
        "NaN",
        '{"a":-Infinity}',
    ],
)
def test_loads_refuses(text: str) -> None:
    with pytest.raises(ParseError):
        loads(text)


@pytest.mark.parametrize("value", [float("nan"), {1j: 0}, {"a": {1, 2}}, [object()]])
def test_dumps_refuses_what_json_cannot_hold(value: Any) -> None:
    with pytest.raises(ParseError):
        dumps(value)


def test_dumps_refuses_a_cycle() -> None:
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(ParseError):
        dumps(cycle)
    assert dumps([1]) == b"[1]"  # the shared encoder is still usable afterwards


@pytest.mark.parametrize("data", [5, None, memoryview(b"{}"), ["{}"]])
def test_loads_refuses_what_is_neither_text_nor_bytes(data: Any) -> None:
    with pytest.raises(ParseError):
        loads(data)


def test_loads_reads_str_subclasses_and_bytearrays() -> None:
    class Text(str):
        pass

    assert loads(Text('{"a":1}')) == {"a": 1}
    assert loads(bytearray(b"[1]")) == [1]
