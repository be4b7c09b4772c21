"""The Python examples in docs/token-status-list.md run and print what the page says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "token-status-list.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", PAGE.read_text(encoding="utf-8"), re.S | re.M)


def test_the_page_has_examples() -> None:
    assert len(BLOCKS) >= 6


def test_examples_print_what_the_page_says() -> None:
    namespace: dict[str, object] = {}
    for number, block in enumerate(BLOCKS):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, f"{PAGE.name} block {number}", "exec"), namespace)
        # the expected output is written as "# ..." lines in the block
        expected = [line[2:] for line in block.splitlines() if line.startswith("# ")]
        printed = out.getvalue().splitlines()
        assert printed == expected, f"block {number}"
