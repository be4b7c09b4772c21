"""Shared test fixtures and settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

VECTORS = Path(__file__).parent / "vectors"

settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci")


def load_vector(relative: str) -> Any:
    """Load a JSON vector file from tests/vectors."""
    return json.loads((VECTORS / relative).read_text(encoding="utf-8"))


@pytest.fixture
def vectors() -> Path:
    """The tests/vectors folder."""
    return VECTORS
