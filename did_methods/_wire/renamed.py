"""Old names and shapes kept for one release, each warning where it is used.

A renamed attribute stays readable under its old name as a property whose getter
calls :func:`warn_renamed` and returns the new attribute; a renamed module-level
name is served by the module's ``__getattr__`` the same way. An old shape of an
argument (seconds for an instant, see :mod:`did_methods._wire.dates`) calls
:func:`warn_deprecated`. All go in the release after the change.

The warning is a :class:`~did_methods.errors.SSIWalletDeprecationWarning`,
attributed to the first frame outside the four packages: the user's line that
needs changing, however deep in the library the old shape is noticed (a clock
is read when a log appends, not where it was given). Python's default filters
show a ``DeprecationWarning`` only when it is attributed to ``__main__``, so a
warning attributed to a library line would never be seen by a script.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

from did_methods.errors import SSIWalletDeprecationWarning

__all__ = ["warn_deprecated", "warn_renamed"]

_ROOT = Path(__file__).parent.parent.parent
#: Source files under these folders are ours; a warning skips their frames.
_OURS = tuple(
    os.path.join(_ROOT / package, "")
    for package in ("did_methods", "credentials", "ledger", "ssi_wallet")
)


def _outside_stacklevel() -> int:
    """The ``stacklevel`` that names, for a ``warnings.warn`` made in the caller of
    this function, the first frame whose code is not in the four packages."""
    frame = sys._getframe(1)  # the function that calls warnings.warn: level 1
    level = 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_OURS):
        frame = frame.f_back
        level += 1
    return level


def warn_deprecated(message: str) -> None:
    """Warn (:class:`~did_methods.errors.SSIWalletDeprecationWarning`) with ``message``,
    at the first caller outside the four packages."""
    warnings.warn(message, SSIWalletDeprecationWarning, stacklevel=_outside_stacklevel())


def warn_renamed(old: str, new: str) -> None:
    """Warn (:class:`~did_methods.errors.SSIWalletDeprecationWarning`) that ``old`` is
    now ``new``, at the first caller outside the four packages."""
    warn_deprecated(f"{old} is deprecated and goes in the next release: use {new}")
