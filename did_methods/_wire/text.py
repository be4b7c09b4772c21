"""Escaping of outside text before it reaches a terminal.

A request's ``client_id`` or ``purpose``, a claim name, a DID, an error
message quoting input: anything that came from outside may hold characters
that rewrite what a person sees. Control characters (C0, DEL, C1) move the
cursor, clear the screen or retitle the window; bidirectional embeddings,
overrides, isolates and marks (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F,
U+061C) reorder a line so that ``evil.example`` reads as ``elpmaxe.live``
(Trojan Source); line and paragraph separators split one field into two;
invisible format characters (U+200B, U+2060-U+2064, U+FEFF, U+FFF9-U+FFFB)
hide text; lone surrogates cannot even be encoded to print.

:func:`safe_text` writes each of them as a visible escape (``\\x1b``,
``\\u202e``), so the person sees that something was there. Zero-width
(non-)joiners (U+200C, U+200D) stay: Persian, Arabic and Indic text, and
emoji sequences, need them. :func:`safe_json` does the same for JSON output
with JSON's own ``\\uXXXX`` escapes, so the output still parses to the same
value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Final

__all__ = ["UNSAFE_CHARACTERS", "safe_json", "safe_json_text", "safe_lines", "safe_text"]

_BIDI_AND_FORMAT: Final = (
    "\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069"
    "\ufeff\ufff9-\ufffb\ud800-\udfff"
)
#: Every character :func:`safe_text` escapes, as a regular expression class.
UNSAFE_CHARACTERS: Final = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI_AND_FORMAT}]")
# In JSON text from json.dumps, C0 controls inside strings are escaped already
# and the raw newlines and spaces left are the layout.
_UNSAFE_IN_JSON: Final = re.compile(f"[\x7f-\x9f{_BIDI_AND_FORMAT}]")
_NAMED: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def safe_text(value: object, *, max_chars: int | None = None) -> str:
    """``value`` (``str()`` of it) with every unsafe character escaped visibly.

    With ``max_chars`` the result is cut to that many characters, ending in
    ``…``. Never raises; the result always encodes to UTF-8.
    """
    text = value if isinstance(value, str) else str(value)
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars]
        cut = True
    else:
        cut = False
    shown = UNSAFE_CHARACTERS.sub(_escape, text)
    if max_chars is not None and (cut or len(shown) > max_chars):
        shown = shown[: max(max_chars - 1, 0)] + "…"
    return shown


def safe_lines(text: str) -> str:
    """Multi-line ``text`` with each line made safe by :func:`safe_text`; the
    line breaks themselves (``\n``) stay."""
    return "\n".join(safe_text(line) for line in text.split("\n"))


def safe_json(
    value: Any,
    *,
    indent: int | None = 2,
    sort_keys: bool = False,
    default: Callable[[Any], Any] | None = None,
) -> str:
    """``value`` as JSON text for a terminal: non-ASCII kept, but every unsafe
    character (controls, bidi, invisible format characters, lone surrogates)
    written as a JSON ``\\uXXXX`` escape. The text parses to the same value.

    Raises ``TypeError``/``ValueError`` as :func:`json.dumps` does for values
    JSON cannot hold.
    """
    text = json.dumps(
        value, indent=indent, ensure_ascii=False, sort_keys=sort_keys, default=default
    )
    return safe_json_text(text)


def safe_json_text(text: str) -> str:
    """JSON ``text`` (as :func:`json.dumps` writes it, C0 controls escaped) with
    every other unsafe character written as a JSON ``\\uXXXX`` escape."""
    return _UNSAFE_IN_JSON.sub(_json_escape, text)
