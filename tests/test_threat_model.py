"""docs/threat-model.md names the tests that show each defence: every one must exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "threat-model.md"


def _test_sources() -> dict[str, str]:
    return {
        str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
        for p in (ROOT / "tests").rglob("*.py")
    }


def test_every_test_the_threat_model_names_exists() -> None:
    text = PAGE.read_text(encoding="utf-8")
    names = set(re.findall(r"`(test_[a-z0-9_]+)`", text))
    assert len(names) >= 60, "the page should name the tests behind its rows"
    defined = set()
    for source in _test_sources().values():
        defined.update(re.findall(r"^\s*def (test_[a-z0-9_]+)\(", source, re.M))
    assert sorted(names - defined) == []


def _files() -> list[str]:
    return [p.name for p in (ROOT / "tests").rglob("test_*.py")]


def test_every_path_the_threat_model_names_exists() -> None:
    text = PAGE.read_text(encoding="utf-8")
    paths = set(re.findall(r"`(tests/[A-Za-z0-9_./]+)`", text))
    files = set(re.findall(r"`(test_[a-z0-9_]+\.py)`", text))
    assert paths and files
    assert sorted(p for p in paths if not (ROOT / p).exists()) == []
    assert sorted(f for f in files if f not in _files()) == []
