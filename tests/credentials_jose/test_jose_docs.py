"""The examples in docs/vc-jose.md run as written."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).parents[2] / "docs" / "vc-jose.md"


def test_doc_examples_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert blocks
    namespace: dict[str, object] = {"__name__": "docs_example"}
    exec(compile("\n".join(blocks), str(DOC), "exec"), namespace)
    assert namespace["checked"].ok  # type: ignore[attr-defined]
