"""Attacks through input: hostile JSON, text, files, numbers and secrets (issue 10, items 7 and 11).

Each test names one attack and asserts the exact refusal: the error class and
its stable ``code``. The library's one JSON reader is
:func:`did_methods._wire.json.loads`; every package reads through it.
"""

from __future__ import annotations

from typing import Any

import pytest

from did_methods._wire.json import MAX_SAFE_INT, loads, loads_object
from did_methods.errors import DuplicateKeyError, InputTooLargeError, JSONError, ParseError

# -- the strict JSON reader --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error", "code"),
    [
        ('{"exp": 1e400}', JSONError, "json_number"),
        ('{"exp": -1e400}', JSONError, "json_number"),
        ("[1.8e308]", JSONError, "json_number"),
        ("[NaN]", JSONError, "json_number"),
        ("[Infinity]", JSONError, "json_number"),
        ("[-Infinity]", JSONError, "json_number"),
        ("[" + "9" * 400 + "]", JSONError, "json_number"),
        ("[" + "9" * 100_000 + "]", JSONError, "json_number"),
        ('{"a": 1, "a": 2}', DuplicateKeyError, "json_duplicate_key"),
        ('{"a": {"b": 1, "b": 1}}', DuplicateKeyError, "json_duplicate_key"),
        ('["\\ud800"]', JSONError, "json_lone_surrogate"),
        ('{"\\udfff": 1}', JSONError, "json_lone_surrogate"),
        ('["\\ud83d\\ud83d"]', JSONError, "json_lone_surrogate"),
        ('["\ud800"]', JSONError, "json_lone_surrogate"),
        (b'["\xed\xa0\x80"]', JSONError, "json_encoding"),
        (b'["\xff"]', JSONError, "json_encoding"),
        (b"\xef\xbb\xbf{}", JSONError, "json_encoding"),
        ("\ufeff{}", JSONError, "json_encoding"),
        ("[" * 65 + "]" * 65, InputTooLargeError, "json_too_deep"),
        ('{"a":' * 65 + "1" + "}" * 65, InputTooLargeError, "json_too_deep"),
        ("[" * 100_000 + "]" * 100_000, InputTooLargeError, "json_too_deep"),
        ("[" * 1_000_000, InputTooLargeError, "json_too_deep"),
        ("", JSONError, "json_syntax"),
        ("   ", JSONError, "json_syntax"),
        ("[1,]", JSONError, "json_syntax"),
        ("{'a': 1}", JSONError, "json_syntax"),
        ("[1] x", JSONError, "json_syntax"),
        ("1 2", JSONError, "json_syntax"),
        ('["a\x00b"]', JSONError, "json_syntax"),
        ('["\x1b[2J"]', JSONError, "json_syntax"),
    ],
)
def test_strict_reader_refuses(text: str | bytes, error: type[JSONError], code: str) -> None:
    with pytest.raises(error) as caught:
        loads(text)
    assert type(caught.value) is error
    assert caught.value.code == code
    assert isinstance(caught.value, ParseError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize("data", [5, None, 1.5, memoryview(b"{}"), ["{}"], {"a": 1}])
def test_strict_reader_refuses_what_is_neither_text_nor_bytes(data: Any) -> None:
    with pytest.raises(JSONError) as caught:
        loads(data)
    assert caught.value.code == "json_type"


def test_strict_reader_bounds_size_before_decoding() -> None:
    with pytest.raises(InputTooLargeError) as caught:
        loads(b"[" + b"1," * 100 + b"1]", max_bytes=64)
    assert caught.value.code == "json_too_large"
    # the bound is in UTF-8 bytes, also for text: 3 characters, 6 bytes
    with pytest.raises(InputTooLargeError):
        loads('"éé"', max_bytes=5)
    assert loads('"éé"', max_bytes=6) == "éé"


def test_strict_reader_depth_is_exact_and_brackets_in_strings_do_not_count() -> None:
    assert loads("[" * 64 + "]" * 64) is not None
    # 300 brackets inside a string at depth 1 are text, not nesting
    assert loads('["' + "[" * 300 + '"]') == ["[" * 300]
    # closing brackets inside strings cannot hide real nesting either
    hidden = '["' + "]" * 100 + '",' + "[" * 70 + "]" * 70 + "]"
    with pytest.raises(InputTooLargeError) as caught:
        loads(hidden)
    assert caught.value.code == "json_too_deep"
    assert loads("[[1]]", max_depth=2) == [[1]]
    with pytest.raises(InputTooLargeError):
        loads("[[[1]]]", max_depth=2)


def test_strict_reader_reads_big_integers_as_ijson_doubles() -> None:
    assert loads(f"[{MAX_SAFE_INT}, {-MAX_SAFE_INT}]") == [MAX_SAFE_INT, -MAX_SAFE_INT]
    big = loads("[9007199254740993, 295147905179352830000]")
    assert big == [9007199254740992.0, 2.0**68]
    assert all(isinstance(v, float) for v in big)
    assert loads("[1e-400]") == [0.0]  # underflow is a finite double
    assert loads('{"a": [true, null, "\\ud83d\\ude00", 1.5]}') == {
        "a": [True, None, "\U0001f600", 1.5]
    }


def test_loads_object_requires_an_object() -> None:
    assert loads_object(b'{"a": 1}') == {"a": 1}
    for text in ("[1]", '"x"', "1", "null"):
        with pytest.raises(JSONError) as caught:
            loads_object(text)
        assert caught.value.code == "json_type"


def test_error_classes_are_shared_by_every_package() -> None:
    import credentials.errors as cred_errors

    assert cred_errors.JSONError is JSONError
    assert cred_errors.DuplicateKeyError is DuplicateKeyError
    assert cred_errors.InputTooLargeError is InputTooLargeError
