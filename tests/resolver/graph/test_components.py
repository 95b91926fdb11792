"""Connected components labelled by their smallest node, through scipy's undirected
kernel and through its public function, against a plain union-find."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolver.graph import components as cp

EDGES = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=80),
    )
)


def smallest_by_union_find(n: int, pairs: list[tuple[int, int]]) -> list[int]:
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = root(a), root(b)
        parent[max(ra, rb)] = min(ra, rb)  # the smaller root stays: roots are smallest
    return [root(x) for x in range(n)]


def arrays(pairs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    unique = sorted({(min(a, b), max(a, b)) for a, b in pairs if a != b})
    return (
        np.array([a for a, _ in unique], dtype=np.int32),
        np.array([b for _, b in unique], dtype=np.int32),
    )


@given(EDGES)
def test_the_kernel_labels_as_union_find_does(graph: tuple[int, list[tuple[int, int]]]) -> None:
    n, pairs = graph
    src, dst = arrays(pairs)
    expected = smallest_by_union_find(n, pairs)
    assert cp._smallest(n, src, dst).tolist() == expected
    assert cp.components(n, src, dst).tolist() == expected


@given(EDGES)
def test_the_public_function_labels_alike(graph: tuple[int, list[tuple[int, int]]]) -> None:
    n, pairs = graph
    src, dst = arrays(pairs)
    kernel = cp._smallest(n, src, dst)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(cp, "_undirected", None)
        public = cp._smallest(n, src, dst)
    assert public.dtype == kernel.dtype == np.int32
    assert public.tolist() == kernel.tolist()


def test_scipy_here_has_the_kernel() -> None:
    """The memory figures in the README assume the kernel is used."""
    assert cp._undirected is not None
