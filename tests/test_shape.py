"""The shape the codebase keeps (issue: reshape the house): no module over 400 lines, no
function over 40, no signature over 6 parameters (self and cls aside) outside click
commands; dataclass constructors are generated, so they never appear here."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("config", "resolver", "distributor", "benchmarks")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 40
MAX_PARAMETERS = 6

Function = ast.FunctionDef | ast.AsyncFunctionDef


def _sources(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _functions(path: Path) -> Iterator[Function]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _is_click_command(node: Function) -> bool:
    return any(
        "click" in ast.unparse(d) or "pass_state" in ast.unparse(d) for d in node.decorator_list
    )


def _parameters(node: Function) -> int:
    args = node.args
    names = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
    names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    return len([n for n in names if n not in ("self", "cls")])


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"


def test_no_module_over_400_lines() -> None:
    long = [
        f"{path.relative_to(ROOT)} ({n} lines)"
        for path in _sources(*PACKAGES, "tests")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert long == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_function_over_40_lines(package: str) -> None:
    long = [
        f"{_where(path, node)} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path in _sources(package)
        for node in _functions(path)
        if node.end_lineno is not None and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_signature_over_6_parameters(package: str) -> None:
    wide = [
        f"{_where(path, node)} {node.name} ({_parameters(node)} parameters)"
        for path in _sources(package)
        for node in _functions(path)
        if _parameters(node) > MAX_PARAMETERS and not _is_click_command(node)
    ]
    assert wide == []
