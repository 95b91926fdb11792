"""Every graph test runs twice: on the numpy paths, and with every compiled kernel
(resolver/graph/kernels.py) taken whatever the size, so both give the same answers. The
second pass is marked slow (CI runs it after the default run, which stays under its 10
minutes); test_kernels.py compares both paths in the default run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from resolver.graph import kernels


@pytest.fixture(
    autouse=True,
    scope="module",
    params=["numpy", pytest.param("compiled", marks=pytest.mark.slow)],
)
def graph_paths(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "compiled" and kernels._compiled() is None:
        pytest.fail("numba is a dependency: the compiled kernels must load here")
    saved = kernels.SMALL
    kernels.SMALL = 0 if request.param == "compiled" else 2**62
    try:
        yield request.param
    finally:
        kernels.SMALL = saved
