"""Old names kept for one release after a rename, each warning where it is used.

A renamed attribute stays readable under its old name as a property whose getter
calls :func:`warn_renamed` and returns the new attribute; a renamed module-level
name is served by the module's ``__getattr__`` the same way. Both go in the
release after the rename.
"""

from __future__ import annotations

import warnings

__all__ = ["warn_renamed"]


def warn_renamed(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn (``DeprecationWarning``) that ``old`` is now ``new``.

    ``stacklevel`` 3 points at the caller of the property or ``__getattr__``
    that calls this.
    """
    warnings.warn(
        f"{old} is deprecated and goes in the next release: use {new}",
        DeprecationWarning,
        stacklevel=stacklevel,
    )
