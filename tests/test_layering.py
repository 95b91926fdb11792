"""The import direction is config <- resolver <- distributor, and nothing goes upward."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"config": {"resolver", "distributor"}, "resolver": {"distributor"}}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_upward_imports(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in _imports(path) & FORBIDDEN[package]
    ]
    assert offenders == []


def test_distributor_uses_only_the_resolvers_public_face() -> None:
    """The distributor reads what the resolver stored through `resolver`'s `__all__`."""
    import resolver

    offenders = []
    for path in sorted((ROOT / "distributor").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("resolver"):
                if node.module != "resolver":
                    offenders.append(f"{path.relative_to(ROOT)} imports {node.module}")
                offenders += [
                    f"{path.relative_to(ROOT)} imports resolver.{alias.name}"
                    for alias in node.names
                    if alias.name not in resolver.__all__
                ]
    assert offenders == []
