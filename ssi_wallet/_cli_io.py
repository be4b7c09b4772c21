"""Reading and writing for the command line: bounded input, JSON output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from did_methods._wire.json import loads_object

__all__ = ["MAX_INPUT", "emit_json", "read_input", "read_json_object"]

#: The most any command reads from one file or from stdin.
MAX_INPUT = 4 * 1024 * 1024


def read_input(source: str | Path, what: str, *, max_bytes: int = MAX_INPUT) -> str:
    """``source`` (a path, or ``-`` for stdin) as UTF-8 text, at most ``max_bytes`` bytes.

    Raises :class:`click.UsageError` (exit 2) when it cannot be read, is too
    large or is not UTF-8.
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


def emit_json(data: Any) -> None:
    """Print ``data`` as indented JSON."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))
