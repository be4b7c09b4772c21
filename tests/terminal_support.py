"""Running the command line with stderr on a pseudo-terminal, as a user's shell has it.

Imported by name (``tests`` is on the path): keep this file name unique.
"""

from __future__ import annotations

import os
import subprocess
import sys


def run_with_terminal_stderr(
    args: list[str], *, timeout: float = 120
) -> tuple[subprocess.CompletedProcess[str], str]:
    """``python -m ssi_wallet ARGS`` with stdout piped and stderr on a pty; the result
    and everything written to the terminal."""
    import pty

    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ssi_wallet", *args],
            stdout=subprocess.PIPE,
            stderr=follower,
            timeout=timeout,
            text=True,
            check=False,
        )
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    return done, b"".join(chunks).decode("utf-8", "replace")
