"""The import direction is config <- resolver <- distributor, and nothing goes upward; the
resolver's public face loads no CLI library; the distributor reads the resolver only
through that face; and the command lines catch only their packages' own error trees."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import distributor.errors
import resolver.errors
from config import SettingsError

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


@pytest.mark.parametrize("face", ["resolver", "config"])
def test_public_faces_load_no_cli_library(face: str) -> None:
    """Importing the resolver (as the distributor, a notebook or a job does) loads neither
    click nor rich. (httpx loads both for its own CLI, so the distributor cannot promise
    this; its modules outside cli/ still import neither.)"""
    code = f"import sys, {face}; print(sorted({{'click', 'rich'}} & set(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"


@pytest.mark.parametrize("package", ["resolver", "distributor"])
def test_only_the_cli_imports_click_and_rich(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        if "cli" not in path.relative_to(ROOT / package).parts
        for name in _imports(path) & {"click", "rich"}
    ]
    assert offenders == []


def _tree(module: object) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, Exception)
    }


@pytest.mark.parametrize("package", ["resolver", "distributor"])
def test_the_cli_catches_only_errors_of_the_trees(package: str) -> None:
    """No broad `except ValueError` or `except Exception` at the edge: what the command
    line reports as a clean error is what the packages raise on purpose."""
    allowed = _tree(resolver.errors) | _tree(distributor.errors) | {SettingsError.__name__}
    allowed |= {"KeyboardInterrupt"}
    caught = []
    for path in sorted((ROOT / package / "cli").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                names = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
                caught += [
                    f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(n)}"
                    for n in names
                    if ast.unparse(n).split(".")[-1] not in allowed
                ]
    assert caught == []


def test_the_error_trees_are_written_out() -> None:
    """Every error class of a package is named in its errors.py docstring."""
    for module in (resolver.errors, distributor.errors):
        doc = module.__doc__ or ""
        assert [name for name in _tree(module) if name not in doc] == [], module.__name__
