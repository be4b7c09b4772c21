"""Shared test settings: a hypothesis profile sized for CI."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci")

# Kept importable from here for older test modules; new ones import vector_files.
from vector_files import VECTORS, load_vector  # noqa: E402

__all__ = ["VECTORS", "load_vector"]
