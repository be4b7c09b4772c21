"""DID and DID URL syntax (W3C DID Core 1.0, section 3).

``DID.parse`` and ``DIDURL.parse`` accept exactly the ABNF of DID Core and
RFC 3986 (path, query and fragment characters, percent-encoding with two hex
digits) and raise :class:`InvalidDID` for anything else. ``str()`` gives back
the same text, so ``parse(str(x)) == x``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from did_methods.errors import InvalidDID

__all__ = ["DID", "DIDURL", "MAX_DID_LENGTH"]

#: Longest DID or DID URL we parse; longer text is refused before any regex runs.
MAX_DID_LENGTH = 8192

_PCT = r"%[0-9A-Fa-f]{2}"
_IDCHAR = rf"(?:[A-Za-z0-9._-]|{_PCT})"
_METHOD = r"[a-z0-9]+"
_MSID = rf"(?:{_IDCHAR}*:)*{_IDCHAR}+"
_DID_RE = re.compile(rf"did:({_METHOD}):({_MSID})")
# RFC 3986 pchar = unreserved / pct-encoded / sub-delims / ":" / "@"
_PCHAR = rf"(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|{_PCT})"
_PATH_RE = re.compile(rf"(?:/{_PCHAR}*)*")
_QF_RE = re.compile(rf"(?:{_PCHAR}|[/?])*")


def _check_text(text: object, what: str) -> str:
    if not isinstance(text, str):
        raise InvalidDID(f"{what} must be a string, not {type(text).__name__}")
    if len(text) > MAX_DID_LENGTH:
        raise InvalidDID(f"{what} is longer than {MAX_DID_LENGTH} characters")
    return text


@dataclass(frozen=True, slots=True)
class DID:
    """A decentralised identifier: ``did:<method>:<method-specific-id>``."""

    method: str
    method_specific_id: str

    @classmethod
    def parse(cls, text: str) -> DID:
        """Parse a bare DID (no path, query or fragment); raise :class:`InvalidDID`."""
        return _parse_did(_check_text(text, "DID"))

    def __post_init__(self) -> None:
        if not re.fullmatch(_METHOD, self.method) or not re.fullmatch(
            _MSID, self.method_specific_id
        ):
            raise InvalidDID(f"not a valid DID: did:{self.method}:{self.method_specific_id}"[:100])

    def __str__(self) -> str:
        return f"did:{self.method}:{self.method_specific_id}"


@dataclass(frozen=True, slots=True)
class DIDURL:
    """A DID URL: a DID with an optional path, query and fragment.

    ``path`` is ``""`` or starts with ``/``; ``query`` and ``fragment`` are
    ``None`` when absent (``""`` when present but empty), without their
    leading ``?``/``#``.
    """

    did: DID
    path: str = ""
    query: str | None = None
    fragment: str | None = None

    @classmethod
    def parse(cls, text: str) -> DIDURL:
        """Parse a DID URL (a bare DID is a DID URL too); raise :class:`InvalidDID`."""
        return _parse_did_url(_check_text(text, "DID URL"))

    @classmethod
    def _parse(cls, text: str) -> DIDURL:
        rest, hash_, fragment = text.partition("#")
        rest, qmark, query = rest.partition("?")
        slash = rest.find("/")
        did_text, path = (rest, "") if slash < 0 else (rest[:slash], rest[slash:])
        return cls(
            DID.parse(did_text),
            path,
            query if qmark else None,
            fragment if hash_ else None,
        )

    def __post_init__(self) -> None:
        if not _PATH_RE.fullmatch(self.path):
            raise InvalidDID(f"invalid DID URL path: {self.path[:80]!r}")
        if self.query is not None and not _QF_RE.fullmatch(self.query):
            raise InvalidDID(f"invalid DID URL query: {self.query[:80]!r}")
        if self.fragment is not None and not _QF_RE.fullmatch(self.fragment):
            raise InvalidDID(f"invalid DID URL fragment: {self.fragment[:80]!r}")

    def __str__(self) -> str:
        out = str(self.did) + self.path
        if self.query is not None:
            out += "?" + self.query
        if self.fragment is not None:
            out += "#" + self.fragment
        return out

    @property
    def is_bare_did(self) -> bool:
        """True when there is no path, query or fragment."""
        return not self.path and self.query is None and self.fragment is None


# Verification parses the same few DIDs and DID URLs again and again; the values
# are immutable, so parsed ones are shared (errors are not cached).
@lru_cache(maxsize=4096)
def _parse_did(text: str) -> DID:
    match = _DID_RE.fullmatch(text)
    if match is None:
        raise InvalidDID(f"not a valid DID: {text[:80]!r}")
    return DID(match.group(1), match.group(2))


@lru_cache(maxsize=4096)
def _parse_did_url(text: str) -> DIDURL:
    return DIDURL._parse(text)
