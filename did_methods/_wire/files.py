"""The one writer of private files (keys, backups, exports, presentations).

:func:`write_private` creates the file exclusively (``O_CREAT | O_EXCL |
O_NOFOLLOW``, mode 0600), so it never truncates what is there and never
writes through a symbolic link planted at the path; the data is flushed with
``fsync`` before it returns, and the directory entry after it. With
``force=True`` an existing regular file is replaced atomically: the data goes
to a new temporary file in the same directory, which is then renamed over the
old name (a rename replaces the name, it does not follow a link); a symbolic
link, a directory or a device at the path is still refused. On any failure
nothing is left behind: no partial file, no temporary file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from did_methods.errors import OutputFileError

__all__ = ["write_private"]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def _fsync_dir(directory: Path) -> None:
    # Makes the new name durable; some file systems refuse, which costs only durability.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | _CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    os.fsync(fd)


def write_private(
    path: str | os.PathLike[str], data: bytes | str, *, force: bool = False, mode: int = 0o600
) -> Path:
    """Write ``data`` (text is UTF-8) to a new private file at ``path``; see the module docstring.

    Returns the path. Raises :class:`~did_methods.errors.OutputFileError` with
    ``code`` ``exists`` (without ``force``), ``symlink``, ``not_a_file`` or ``io``.
    """
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputFileError("io", f"cannot inspect {target}: {exc.strerror}") from exc
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            raise OutputFileError("symlink", f"{target} is a symbolic link; refusing to write")
        if not stat.S_ISREG(info.st_mode):
            raise OutputFileError("not_a_file", f"{target} is not a regular file")
        if not force:
            raise OutputFileError("exists", f"{target} exists; refusing to overwrite it")
        _replace(target, payload, mode)
        return target
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
    try:
        fd = os.open(target, flags, mode)
    except FileExistsError:
        # created (or linked) between the check and the open: never write through it
        raise OutputFileError("exists", f"{target} exists; refusing to overwrite it") from None
    except OSError as exc:
        raise OutputFileError("io", f"cannot create {target}: {exc.strerror}") from exc
    try:
        os.fchmod(fd, mode)
        _write_all(fd, payload)
    except OSError as exc:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(target)
        raise OutputFileError("io", f"cannot write {target}: {exc.strerror}") from exc
    os.close(fd)
    _fsync_dir(target.parent)
    return target


def _replace(target: Path, payload: bytes, mode: int) -> None:
    directory = target.parent
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputFileError("io", f"cannot create a file in {directory}: {exc.strerror}") from exc
    try:
        try:
            os.fchmod(fd, mode)
            _write_all(fd, payload)
        finally:
            os.close(fd)
        info = os.lstat(target)
        if stat.S_ISLNK(info.st_mode):
            raise OutputFileError("symlink", f"{target} is a symbolic link; refusing to write")
        os.replace(temp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise OutputFileError("io", f"cannot replace {target}: {exc.strerror}") from exc
        raise
    _fsync_dir(directory)
