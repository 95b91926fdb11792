"""The compiled kernels against the numpy paths on a graph of realistic shape (the graph
benchmark's generator: households, typos, junk, persons in random node order), and the
key index against the join it replaces."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
import pytest

from benchmarks.graph_bench import file_for, synthetic
from resolver.graph import kernels
from resolver.graph.levels import BLOCKED, BRIDGE, LINKED
from resolver.graph.rules import GraphRules
from resolver.graph.state import ARRAYS, GraphState
from resolver.graph.update import Change, apply, rebuild

PERSONS = 12_000


@pytest.fixture(autouse=True, scope="module")
def graph_paths() -> str:
    """Each test here picks its paths itself: once is enough (see conftest.py)."""
    return "both"


def _state(g: Any) -> GraphState:
    rng = np.random.default_rng(3)
    n = len(g.kind)
    base = np.where(g.junk, BLOCKED, LINKED).astype(np.uint8)
    return GraphState(
        hi=rng.integers(1, 2**63, n, dtype=np.uint64),
        lo=rng.integers(1, 2**63, n, dtype=np.uint64),
        kind=g.kind,
        base=base,
        code=base.copy(),
        raw=np.arange(n, dtype=np.int32),
        pid=np.full(n, -1, dtype=np.int64),
        mtype=np.zeros(n, dtype=np.uint8),
        src=g.src,
        dst=g.dst,
    )


def _on(path: str, monkeypatch: pytest.MonkeyPatch, step: Callable[[], Change]) -> Change:
    with monkeypatch.context() as m:
        m.setattr(kernels, "SMALL", 0 if path == "compiled" else 2**62)
        return step()


def _history(path: str, monkeypatch: pytest.MonkeyPatch) -> tuple[GraphState, list[Change]]:
    """A rebuild of a synthetic graph, then a file onto it, on one path."""
    g = synthetic(PERSONS, 11)
    state = _state(g)
    rules = GraphRules()
    first = _on(path, monkeypatch, lambda: rebuild(state, state.base == BLOCKED, rules))
    data = {"kind": g.kind, "junk": g.junk, "src": g.src, "dst": g.dst}
    file, named = file_for(data, PERSONS // 3, 19)
    file.hi[-len(named) :], file.lo[-len(named) :] = state.hi[named], state.lo[named]
    fresh = len(file.hi) - len(named)  # the file's new keys: unlike any of the graph's
    file.hi[:fresh] |= np.uint64(1)
    second = _on(path, monkeypatch, lambda: apply(state, file, rules))
    return state, [first, second]


def test_the_compiled_kernels_give_the_numpy_paths_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    plain, plain_changes = _history("numpy", monkeypatch)
    fast, fast_changes = _history("compiled", monkeypatch)
    for name in ARRAYS:
        assert np.array_equal(getattr(plain, name), getattr(fast, name)), name
    assert plain.next_pid == fast.next_pid
    for a, b in zip(plain_changes, fast_changes, strict=True):
        assert a.counts() == b.counts()
        assert a.events.equals(b.events)
        assert np.array_equal(a.ids, b.ids)
    # the graph is not trivial: merges, refusals and bridges all happened
    counts = fast_changes[1].counts()
    assert counts["nodes_added"] > 0
    assert counts["refused_links"] > 0
    assert (fast.code == BRIDGE).any()


def test_the_key_index_finds_what_the_join_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(8)
    n = 5_000
    state = GraphState()
    hi = rng.integers(1, 2**63, n, dtype=np.uint64)
    lo = rng.integers(1, 2**63, n, dtype=np.uint64)
    kind = np.zeros(n, dtype=np.uint8)
    state.add_nodes(hi, lo, kind, kind)
    query_hi = np.concatenate([hi[::3], rng.integers(1, 2**63, 500, dtype=np.uint64)])
    query_lo = np.concatenate([lo[::3], lo[:500]])  # a known lo with an unknown hi
    monkeypatch.setattr(kernels, "SMALL", 2**62)
    joined = state.lookup(query_hi, query_lo)
    monkeypatch.setattr(kernels, "SMALL", 0)
    assert np.array_equal(state.lookup(query_hi, query_lo), joined)
    assert (joined[: len(hi[::3])] == np.arange(0, n, 3)).all()
    assert (joined[len(hi[::3]) :] == -1).all()
    # nodes added after the index was made are found; an erased key (zeroed) is not
    more = state.add_nodes(hi[:10] ^ np.uint64(1), lo[:10], kind[:10], kind[:10])
    assert np.array_equal(state.lookup(hi[:10] ^ np.uint64(1), lo[:10]), more)
    state.hi[7], state.lo[7] = 0, 0
    assert state.lookup(hi[7:8], lo[7:8])[0] == -1
    # an index more than half full is made again, larger
    table = state._index[0]
    big = len(table)
    grown = rng.integers(1, 2**63, big, dtype=np.uint64)
    ids = state.add_nodes(grown, grown, np.zeros(big, np.uint8), np.zeros(big, np.uint8))
    assert np.array_equal(state.lookup(grown, grown), ids)
    assert len(state._index[0]) > big
    assert pl.Series(state._index[0]).filter(pl.Series(state._index[0]) >= 0).n_unique() == (
        state.nodes - 1  # every node but the erased one
    )
