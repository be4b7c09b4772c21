"""The verifier's sentences in every language of the vocabulary: loading and rendering.

``messages.json`` (shipped inside the package) holds, per language, templates
with named placeholders:

* ``headline``: ``accepted`` and ``refused``, each with ``{purpose}``;
* ``purposes``: a policy's purpose per purpose key (``right_to_work_sector``
  with ``{sector}``, ...);
* ``findings``: one sentence per finding code, or per ``code.variant`` when a
  finding's ``details`` name a ``variant`` (``region_allowed.any``).

Its ``parameters`` table says which parameters the code supplies for each key.
Three are derived here, in the language asked for, from the ones supplied:
``credential`` (the credential type's display name, from ``type_name``),
``claim_label`` (from ``claim``) and ``claim_labels`` (from ``claims``).

Rendering never raises and never shows a raw placeholder: a missing template,
a missing parameter or a malformed template yields ``None``, and the caller
falls back to English. Parameter values come from credentials, so they are
cleaned before they are shown: line breaks and other control characters
become spaces (a value cannot fake a line of the explanation), bidirectional
overrides are dropped, and each value is cut at :data:`MAX_VALUE` characters.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, Final

from credentials import schemas
from did_methods._wire.json import loads_object
from did_methods._wire.text import safe_text

__all__ = [
    "DERIVED",
    "LANGUAGES",
    "MAX_VALUE",
    "catalogue",
    "clean",
    "finding_text",
    "headline",
    "language",
    "placeholders",
    "render",
    "template_key",
]

#: Longest parameter value shown, in characters; longer ones end in an ellipsis.
MAX_VALUE: Final = 200

#: Parameters computed for a language from a supplied one: derived name -> source.
DERIVED: Final[Mapping[str, str]] = {
    "credential": "type_name",
    "claim_label": "claim",
    "claim_labels": "claims",
}

_FORMATTER: Final = string.Formatter()


@cache
def catalogue() -> Mapping[str, Any]:
    """The parsed ``messages.json``: ``languages``, ``parameters``, ``headline``,
    ``purposes`` and ``findings``. Read once; do not change what it returns."""
    text = resources.files("ssi_wallet").joinpath("messages.json").read_text(encoding="utf-8")
    data: Mapping[str, Any] = loads_object(text, what="messages.json")
    return data


#: The languages the verifier explains itself in (those of the vocabulary).
LANGUAGES: Final[tuple[str, ...]] = tuple(catalogue()["languages"])


def language(lang: object) -> str:
    """``lang`` (a BCP 47 tag such as ``de-AT``) reduced to one of :data:`LANGUAGES`,
    else ``"en"``. Never raises."""
    if not isinstance(lang, str):
        return "en"
    base = lang.replace("_", "-").split("-", 1)[0].lower()
    return base if base in LANGUAGES else "en"


def clean(value: Any) -> str:
    """``value`` as one safe line: lists joined with commas, control characters,
    bidirectional controls and invisible format characters escaped visibly
    (:func:`did_methods._wire.text.safe_text`), at most :data:`MAX_VALUE` characters."""
    listed = isinstance(value, (list, tuple))
    text = ", ".join(str(v)[: MAX_VALUE * 2] for v in value[:MAX_VALUE]) if listed else str(value)
    return safe_text(text, max_chars=MAX_VALUE)


def placeholders(template: str) -> frozenset[str] | None:
    """The named placeholders of ``template``, or ``None`` if it is malformed or uses
    anything but plain names (no positional fields, indexing, attributes,
    conversions or format specs)."""
    names: set[str] = set()
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError:
        return None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            return None
        names.add(name)
    return frozenset(names)


def _fill(template: str, params: Mapping[str, str]) -> str | None:
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError:
        return None
    parts: list[str] = []
    for literal, name, spec, conversion in parsed:
        parts.append(literal)
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion or name not in params:
            return None
        parts.append(params[name])
    return "".join(parts)


def _derive(details: Mapping[str, Any], lang: str) -> dict[str, str]:
    params = {k: clean(v) for k, v in details.items() if isinstance(k, str) and v is not None}
    type_name = details.get("type_name")
    if isinstance(type_name, str):
        try:
            params["credential"] = clean(schemas.display_name(type_name, lang))
            owner = type_name
        except ValueError:
            owner = "*"
    else:
        owner = "*"
    claim = details.get("claim")
    if isinstance(claim, str):
        params["claim_label"] = clean(schemas.claim_label(owner, claim, lang))
    claims = details.get("claims")
    if isinstance(claims, (list, tuple)):
        labels = [schemas.claim_label(owner, str(c), lang) for c in claims]
        params["claim_labels"] = clean(labels)
    return params


def template_key(code: str, details: Mapping[str, Any]) -> str:
    """The ``findings`` key for a finding: ``code``, or ``code.variant``."""
    variant = details.get("variant")
    return f"{code}.{variant}" if isinstance(variant, str) and variant else code


def render(code: str, details: Mapping[str, Any], lang: str) -> str | None:
    """The sentence for finding ``code`` with ``details`` in ``lang``, or ``None``
    when there is no template for it or a parameter it needs is missing."""
    templates: Mapping[str, str] = catalogue()["findings"].get(language(lang), {})
    template = templates.get(template_key(code, details))
    if not isinstance(template, str):
        return None
    return _fill(template, _derive(details, language(lang)))


def finding_text(code: str, details: Mapping[str, Any], message: str, lang: str) -> str:
    """The finding's sentence in ``lang``, else in English, else its own ``message``."""
    for candidate in (language(lang), "en"):
        text = render(code, details, candidate)
        if text is not None:
            return text
    return clean(message)


def _purpose(key: str | None, params: Mapping[str, Any], text: str, lang: str) -> str:
    if key is not None:
        values = {k: clean(v) for k, v in params.items() if isinstance(k, str)}
        for candidate in (lang, "en"):
            template = catalogue()["purposes"].get(candidate, {}).get(key)
            if isinstance(template, str):
                filled = _fill(template, values)
                if filled is not None:
                    return filled
    return clean(text)


def headline(
    ok: bool,
    purpose_key: str | None,
    purpose_params: Mapping[str, Any],
    purpose: str,
    lang: str,
) -> str:
    """The decision line (``ACCEPTED: right to work in sector Q86``) in ``lang``.

    The purpose is translated when ``purpose_key`` has a template (in ``lang``,
    else in English); otherwise ``purpose`` is shown as given.
    """
    lang = language(lang)
    which = "accepted" if ok else "refused"
    shown = _purpose(purpose_key, purpose_params, purpose, lang)
    for candidate in (lang, "en"):
        template = catalogue()["headline"].get(candidate, {}).get(which)
        if isinstance(template, str):
            filled = _fill(template, {"purpose": shown})
            if filled is not None:
                return filled
    return f"{which.upper()}: {shown}"
