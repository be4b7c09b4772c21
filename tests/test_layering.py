"""The four packages import only downwards, and never another package's private modules.

did_methods -> credentials | ledger -> ssi_wallet: a package imports itself and the
packages beneath it; ``credentials`` and ``ledger`` never import each other, and
``did_methods`` imports none of the others. Across packages only public modules
and public names are imported, except the private kernel ``did_methods._wire``,
which every layer shares. Checked two ways: statically, every ``import`` statement
of every module (relative imports resolved, imports inside functions included);
and at run time, importing each package loads nothing of a higher one.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: What each package may import (itself included).
ALLOWED = {
    "did_methods": {"did_methods"},
    "credentials": {"did_methods", "credentials"},
    "ledger": {"did_methods", "ledger"},
    "ssi_wallet": {"did_methods", "credentials", "ledger", "ssi_wallet"},
}
KERNEL = "did_methods._wire"
#: Private imports across packages allowed for a while. Whoever adds one names it here
#: with what removes it; the test fails while a listed import no longer exists, so the
#: list only shrinks.
KNOWN_PRIVATE: set[tuple[str, str, str | None]] = set()


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, str | None]]:
    """(imported module, imported name or None) for every import in ``path``."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found += [(target, alias.name) for alias in node.names]
    return found


def _edges() -> list[tuple[str, str, str | None]]:
    edges = []
    for package in ALLOWED:
        for path in sorted((ROOT / package).rglob("*.py")):
            edges += [(_module_name(path), target, name) for target, name in _imports(path)]
    return edges


EDGES = _edges()


def test_the_walk_sees_every_package() -> None:
    importers = {source.split(".")[0] for source, _, _ in EDGES}
    assert importers == set(ALLOWED)
    # the relative-import resolution, on a known module of each kind
    assert ("ledger.vault", "ledger.vault.memory", "MemoryVaultBackend") in EDGES
    assert ("credentials.jws", "credentials._jws", "CompactJWS") in EDGES


def test_no_upward_or_sideways_imports() -> None:
    bad = [
        f"{source} imports {target}"
        for source, target, _ in EDGES
        if target.split(".")[0] in ALLOWED
        and target.split(".")[0] not in ALLOWED[source.split(".")[0]]
    ]
    assert not bad, "\n".join(bad)


def _private(target: str, name: str | None) -> bool:
    if target == KERNEL or target.startswith(KERNEL + "."):
        return False
    if any(part.startswith("_") for part in target.split(".")):
        return True
    return name is not None and name.startswith("_")


def test_no_private_imports_across_packages() -> None:
    crossing = {
        (source, target, name)
        for source, target, name in EDGES
        if target.split(".")[0] in ALLOWED
        and target.split(".")[0] != source.split(".")[0]
        and _private(target, name)
    }
    new = sorted(crossing - KNOWN_PRIVATE, key=str)
    assert not new, "private imports across packages:\n" + "\n".join(map(str, new))
    gone = sorted(KNOWN_PRIVATE - crossing)
    assert not gone, f"no longer imported, delete from KNOWN_PRIVATE: {gone}"


@pytest.mark.parametrize("package", list(ALLOWED))
def test_importing_a_package_loads_no_higher_one(package: str) -> None:
    code = f"import sys, json, {package}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    loaded = {name.split(".")[0] for name in json.loads(out.stdout)}
    higher = (set(ALLOWED) - ALLOWED[package]) & loaded
    assert not higher, f"importing {package} loaded {sorted(higher)}"


def test_the_public_jws_module_is_the_private_core() -> None:
    """Upper packages import ``credentials.jws``; its names are ``credentials._jws``'s
    own objects, so there is still one JWS implementation."""
    import credentials._jws as core
    import credentials.jws as public

    for name in public.__all__:
        assert getattr(public, name) is getattr(core, name), name
