"""The immigration vocabulary's data files, shipped inside the package.

* ``schemas/<Type>.json``: one JSON Schema (draft 2020-12) per credential type,
  validating the whole VC Data Model 2.0 credential;
* ``context-v1.json``: our JSON-LD context, ``https://w3id.org/ssi-wallet/immigration/v1``,
  defining every credential type and claim;
* ``display.json``: credential names and claim labels in 14 languages;
* ``types.json``: per type, the schema file, its ``credentialSchema`` id, the
  SD-JWT VC ``vct`` and the claims always disclosed;
* ``examples.json``: realistic sample subjects (fictional people).

Use :mod:`credentials.schemas` rather than these files directly; it validates
and caches them. Nothing here is ever fetched from the network.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from did_methods._wire.json import loads

__all__ = ["read_json"]


@cache
def _read_text(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def read_json(name: str) -> Any:
    """Parse the packaged data file ``name`` (e.g. ``"schemas/Visa.json"``), freshly.

    Each call returns a new object, so callers may change it. Raises
    ``FileNotFoundError`` for a name that is not shipped.
    """
    return loads(_read_text(name), what=f"packaged file {name}")
