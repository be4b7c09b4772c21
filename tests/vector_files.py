"""Paths to the published test vectors copied into tests/vectors (see each folder's SOURCES.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).parent / "vectors"


def load_vector(relative: str) -> Any:
    """Load a JSON vector file from tests/vectors."""
    return json.loads((VECTORS / relative).read_text(encoding="utf-8"))
