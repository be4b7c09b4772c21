"""Reading and writing for the command line: bounded input, JSON output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

__all__ = ["MAX_INPUT", "emit_json", "read_input"]

#: The most any command reads from one file or from stdin.
MAX_INPUT = 4 * 1024 * 1024


def read_input(source: str | Path, what: str) -> str:
    """``source`` (a path, or ``-`` for stdin) as UTF-8 text, at most :data:`MAX_INPUT` bytes.

    Raises :class:`click.UsageError` (exit 2) when it cannot be read, is too
    large or is not UTF-8.
    """
    if str(source) == "-":
        data = sys.stdin.buffer.read(MAX_INPUT + 1)
    else:
        try:
            with open(Path(source), "rb") as fh:
                data = fh.read(MAX_INPUT + 1)
        except OSError as exc:
            raise click.UsageError(f"cannot read {what} {source}: {exc.strerror}") from exc
    if len(data) > MAX_INPUT:
        raise click.UsageError(f"{what} {source} is larger than {MAX_INPUT} bytes")
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise click.UsageError(f"{what} {source} is not UTF-8 text") from exc


def emit_json(data: Any) -> None:
    """Print ``data`` as indented JSON."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))
