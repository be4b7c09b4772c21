"""The Python examples in the credentials docs run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["canonical-json.md", "data-integrity.md", "credentials.md"]


@pytest.mark.parametrize("page", PAGES)
def test_doc_examples_run(page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, f"{page} has no Python examples"
    monkeypatch.chdir(ROOT)  # examples read tests/vectors/... relative to the repository
    namespace: dict[str, object] = {"__name__": f"docs_{page}"}
    exec(compile("\n".join(blocks), page, "exec"), namespace)
