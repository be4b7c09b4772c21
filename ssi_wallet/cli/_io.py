"""Reading and writing for the command line: bounded input, JSON output."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from did_methods._wire.files import write_private
from did_methods._wire.json import loads_object
from did_methods._wire.text import safe_json, safe_lines
from did_methods.errors import OutputFileError

__all__ = [
    "MAX_INPUT",
    "echo_safe",
    "emit",
    "emit_json",
    "force_option",
    "progress_bar",
    "read_bytes",
    "read_input",
    "read_json_object",
    "write_out",
]

#: The most any command reads from one file or from stdin.
MAX_INPUT = 4 * 1024 * 1024


def read_bytes(source: str | Path, what: str, *, max_bytes: int = MAX_INPUT) -> bytes:
    """``source`` (a path, or ``-`` for stdin), at most ``max_bytes`` bytes.

    Raises :class:`click.UsageError` (exit 2) when it cannot be read or is too large.
    """
    if str(source) == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
    else:
        try:
            with open(Path(source), "rb") as fh:
                data = fh.read(max_bytes + 1)
        except OSError as exc:
            raise click.UsageError(f"cannot read {what} {source}: {exc.strerror}") from exc
    if len(data) > max_bytes:
        raise click.UsageError(f"{what} {source} is larger than {max_bytes} bytes")
    return data


def read_input(source: str | Path, what: str, *, max_bytes: int = MAX_INPUT) -> str:
    """``source`` (a path, or ``-`` for stdin) as UTF-8 text, at most ``max_bytes`` bytes.

    Raises :class:`click.UsageError` (exit 2) when it cannot be read, is too
    large or is not UTF-8.
    """
    data = read_bytes(source, what, max_bytes=max_bytes)
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise click.UsageError(f"{what} {source} is not UTF-8 text") from exc


def read_json_object(
    source: str | Path, what: str, *, max_bytes: int = MAX_INPUT
) -> dict[str, Any]:
    """``source`` read as :func:`read_input` does, parsed by the library's strict JSON reader.

    Raises :class:`click.UsageError` for a file that cannot be read and
    :class:`~did_methods.errors.JSONError` (exit 2) for anything but a JSON
    object within the reader's bounds (size, nesting, duplicate names,
    non-finite numbers, lone surrogates).
    """
    text = read_input(source, what, max_bytes=max_bytes)
    return loads_object(text, what=f"{what} {source}", max_bytes=max_bytes)


def emit_json(
    data: Any,
    *,
    err: bool = False,
    sort_keys: bool = False,
    default: Callable[[Any], Any] | None = None,
) -> None:
    """Print ``data`` as indented JSON, unsafe characters (controls, bidi
    overrides, lone surrogates) written as JSON escapes."""
    click.echo(safe_json(data, sort_keys=sort_keys, default=default), err=err)


def emit(as_json: bool, data: Any, text: str | None = None, *, sort_keys: bool = False) -> None:
    """The one way a command prints its result: ``data`` as JSON under ``--json``
    (or when there is no human ``text``), else ``text``; both escaped."""
    if as_json or text is None:
        emit_json(data, sort_keys=sort_keys)
    else:
        echo_safe(text)


def echo_safe(text: str, *, err: bool = False) -> None:
    """Print ``text`` (which may quote outside input) with control and bidi
    characters escaped on every line."""
    click.echo(safe_lines(text), err=err)


#: The ``--force`` flag of every command that writes ``--out``.
force_option = click.option(
    "--force",
    is_flag=True,
    help="Replace an existing output file (atomically; never through a symbolic link).",
)


def write_out(path: Path, data: str | bytes, *, force: bool = False, mode: int = 0o600) -> None:
    """Write an output file (mode 0600 unless ``mode``): created exclusively, never
    through a symbolic link, flushed to disk; ``force`` replaces an existing
    regular file atomically.

    Raises :class:`~did_methods.errors.OutputFileError` (exit 2, its code
    ``exists``, ``symlink``, ``not_a_file`` or ``io``) when the file exists
    (without ``force``), is a link or not a regular file, or cannot be written.
    """
    try:
        write_private(path, data, force=force, mode=mode)
    except OutputFileError as exc:
        if exc.code != "exists":
            raise
        raise OutputFileError("exists", f"{exc.message} (add --force to replace it)") from exc


@contextmanager
def progress_bar(label: str, enabled: bool = True) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr, as ``progress(done, total)``; None (no bar) unless
    ``enabled`` and stderr is a terminal, so pipes and logs never see one."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
