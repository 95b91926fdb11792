"""GraphState's arrays: appends go into room kept behind them, and never lose a value."""

from __future__ import annotations

import numpy as np

from resolver.graph.levels import BLOCKED, LINKED
from resolver.graph.state import ARRAYS, GraphState


def _nodes(state: GraphState, k: int, start: int) -> np.ndarray:
    keys = np.arange(start, start + k, dtype=np.uint64)
    kind = (keys % 3).astype(np.uint8)
    base = np.where(keys % 5 == 0, BLOCKED, LINKED).astype(np.uint8)
    return state.add_nodes(keys, keys + np.uint64(1000), kind, base)


def _address(array: np.ndarray) -> int:
    return int(array.ctypes.data)


def test_appends_after_reserve_write_in_place_and_keep_every_value() -> None:
    state = GraphState()
    _nodes(state, 10, 0)
    state.add_edges(np.array([0, 1], dtype=np.int32), np.array([2, 3], dtype=np.int32))
    state.reserve()
    before = {name: _address(getattr(state, name)) for name in ARRAYS}
    ids = _nodes(state, 7, 10)
    state.add_edges(np.array([4], dtype=np.int32), np.array([15], dtype=np.int32))

    assert ids.tolist() == list(range(10, 17))
    assert {name: _address(getattr(state, name)) for name in ARRAYS} == before
    assert state.hi.tolist() == list(range(17))
    assert state.lo.tolist() == [i + 1000 for i in range(17)]
    assert state.kind.tolist() == [i % 3 for i in range(17)]
    assert state.raw.tolist() == list(range(17))
    assert (state.pid == -1).all()
    assert (state.mtype == 0).all()
    assert state.src.tolist() == [0, 1, 4]
    assert state.dst.tolist() == [2, 3, 15]


def test_an_array_replaced_by_another_grows_again_with_its_own_values() -> None:
    state = GraphState()
    _nodes(state, 6, 0)
    state.reserve()
    state.code = np.full(6, 7, dtype=np.uint8)  # as a rebuild replaces it
    state.pid[:] = np.arange(6)
    _nodes(state, 3, 6)

    assert state.code.tolist() == [7] * 6 + [LINKED, LINKED, LINKED]
    assert state.pid.tolist() == [0, 1, 2, 3, 4, 5, -1, -1, -1]


def test_lookup_finds_appended_keys() -> None:
    state = GraphState()
    _nodes(state, 5, 0)
    state.reserve()
    _nodes(state, 5, 5)
    found = state.lookup(
        np.array([7, 2, 99], dtype=np.uint64), np.array([1007, 1002, 1099], dtype=np.uint64)
    )
    assert found.tolist() == [7, 2, -1]
