"""Does a payload look like personal data? A guard for what people type into the log.

The ledger never holds personal data: an entry carries a commitment, the
record lives in the vault (see ``docs/gdpr.md``). An append-only log cannot
forget, so a name or a birth date typed into ``ssi-wallet ledger append`` by
mistake would stay there for good. :func:`personal_data_hints` says why a
payload looks personal, so a tool can refuse it before it is written:

* a label of a personal attribute followed by ``:`` or ``=``, or as a JSON
  member name (``name``, ``givenName``, ``birthDate``, ``dob``,
  ``nationality``, ``address``, ``email``, ``passportNumber``, ...);
* a calendar date without a time (``1990-03-14``, ``14.03.1990``,
  ``14/03/1990``): the shape of a birth date (timestamps such as
  ``2026-12-04T10:00:00Z`` are not);
* an e-mail address;
* two capitalised words in a row (``Amina Yusuf``, ``Amina YUSUF``; not two
  acronyms): the shape of a person's name.

It is a heuristic, written to err on the side of refusing: an institution's
name looks like a person's. It is no proof of absence either: hashes,
commitments and opaque identifiers pass, and so would personal data written
in lower case. The reasons never repeat the matched text, so an error message
does not copy the personal data into a terminal log.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["MAX_SCANNED", "personal_data_hints"]

#: Bytes of a payload that are scanned: an entry's payload bound
#: (``ledger.entry.DEFAULT_MAX_PAYLOAD``), so the scan of any payload is quick.
MAX_SCANNED: Final = 64 * 1024

_LABELS: Final = (
    "name",
    "fullname",
    "givenname",
    "firstname",
    "familyname",
    "lastname",
    "surname",
    "middlename",
    "birthname",
    "birthdate",
    "dateofbirth",
    "dob",
    "birthplace",
    "placeofbirth",
    "nationality",
    "citizenship",
    "sex",
    "gender",
    "address",
    "streetaddress",
    "postaladdress",
    "email",
    "phone",
    "telephone",
    "mobile",
    "passportnumber",
    "documentnumber",
    "personalnumber",
    "personalidentifier",
    "nationalid",
    "ssn",
)
# A label: a word (camelCase, snake_case, kebab-case or spaced) before ':' or '='.
_LABEL: Final = re.compile(r"""\b([A-Za-z][A-Za-z _-]{0,40}?)["']?[ \t]*[:=]""")
_DATE: Final = re.compile(
    r"(?<![\d.:/-])(?:(?:1[89]|20)\d\d-[01]\d-[0-3]\d(?![\dT])"
    r"|[0-3]?\d[./][01]?\d[./](?:1[89]|20)\d\d(?!\d))"
)
# Anchored at the start of a token and bounded, so a long run of word characters
# is scanned once, not once per position.
_EMAIL: Final = re.compile(
    r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,8}\.[A-Za-z]{2,24}"
)
_WORD: Final = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")


def _label_hints(text: str) -> list[str]:
    found: list[str] = []
    for match in _LABEL.finditer(text):
        label = re.sub(r"[ _-]", "", match.group(1)).lower()
        if label in _LABELS and label not in found:
            found.append(label)
    return found


def _looks_like_a_name(text: str) -> bool:
    run = 0
    end = -1
    titled = False  # the run holds a Title-case word (not only acronyms)
    for match in _WORD.finditer(text):
        word = match.group(0)
        title = len(word) >= 2 and word[0].isupper() and word[1:].islower()
        capitalised = title or (len(word) >= 2 and word.isupper())
        joined = run > 0 and text[end : match.start()] == " "
        run = (run + 1 if joined else 1) if capitalised else 0
        titled = (titled and joined and capitalised) or title if run else False
        end = match.end()
        if run >= 2 and titled:
            return True
    return False


def personal_data_hints(payload: bytes | str) -> tuple[str, ...]:
    """Why ``payload`` looks like personal data, one short reason each; empty when
    nothing does. Bytes are read as UTF-8 (undecodable bytes are skipped); only
    the first :data:`MAX_SCANNED` bytes are looked at."""
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    text = data[:MAX_SCANNED].decode("utf-8", "ignore")
    hints = [f"a personal-data label ({label})" for label in _label_hints(text)]
    if _DATE.search(text):
        hints.append("a calendar date without a time, as a birth date is written")
    if _EMAIL.search(text):
        hints.append("an e-mail address")
    if _looks_like_a_name(text):
        hints.append("capitalised words in a row, as a person's name is written")
    return tuple(hints)
