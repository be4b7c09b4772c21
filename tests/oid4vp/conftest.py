"""Fixtures of the OpenID4VP tests (defined in oid4vp_world)."""

from oid4vp_world import now, world, world_once

__all__ = ["now", "world", "world_once"]
