"""The graph store: generations on disk, pending until their file commits, and a sweep
that removes what no generation names (graph/store.py, state/graphdb.py)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from resolver.graph.state import GraphState
from resolver.graph.store import GraphStore, Staged
from resolver.graph.update import Change
from resolver.state.control import Control
from resolver.state.graphdb import Generation, GraphDB
from resolver.state.seal import Sealer
from tests.resolver.graph.support import add

SEALER = Sealer(bytes(32))


@pytest.fixture
def store(tmp_path: Path) -> GraphStore:
    control = Control(tmp_path / "state" / "resolver.db")
    return GraphStore(tmp_path / "store", GraphDB(control.database))


def _match(count: int) -> pl.DataFrame:
    return pl.DataFrame(
        {"match": [os.urandom(32) for _ in range(count)]}, schema={"match": pl.Binary}
    )


def _stage(
    store: GraphStore,
    state: GraphState,
    change: Change,
    cause: str,
    since: tuple[int, int],
    file_id: int | None = None,
) -> Generation:
    """Stage a change whose new nodes and edges start at `since`."""
    staged = Staged(cause, file_id, since[0], since[1], _match(state.nodes - since[0]))
    return store.stage("acme", state, change, staged, SEALER)


def _same(a: GraphState, b: GraphState) -> None:
    for name in ("hi", "lo", "kind", "base", "code", "raw", "pid", "mtype", "src", "dst"):
        assert getattr(a, name).tolist() == getattr(b, name).tolist(), name
    assert (a.next_pid, a.rules_version) == (b.next_pid, b.rules_version)


def test_a_files_generation_counts_only_once_committed(store: GraphStore) -> None:
    state, names = GraphState(rules_version="r1"), {}  # type: ignore[var-annotated]
    change = add(state, names, [("e1", "p1"), ("e2", "m2")])
    gen = _stage(store, state, change, "file", (0, 0), file_id=7)
    assert gen.status == "pending"
    assert store.db.current("acme") is None
    assert store.load("acme").nodes == 0
    with store.db.database.transaction() as db:
        GraphDB.mark_committed(db, "acme", gen.generation)
    _same(store.load("acme"), state)
    # the next file's generation: only its new nodes, keys and edges are written
    first, edges = state.nodes, state.edges
    change = add(state, names, [("e1", "m3")])
    second = _stage(store, state, change, "file", (first, edges), file_id=8)
    assert [p.count for p in store.db.parts("acme", second.generation, "nodes")] == [4, 1]
    store.discard("acme", second.generation)  # the file was set aside
    assert store.db.pending("acme") is None
    assert store.load("acme").nodes == 4


def test_match_keys_are_sealed_and_read_back_by_node(store: GraphStore, tmp_path: Path) -> None:
    state, names = GraphState(rules_version="r1"), {}  # type: ignore[var-annotated]
    change = add(state, names, [("e1", "p1", "m1")])
    match = _match(3)
    staged = Staged("rebuild", None, 0, 0, match)
    gen = store.stage("acme", state, change, staged, SEALER)
    found = store.match_keys("acme", gen, SEALER, np.array([0, 2]))
    assert found["match"].to_list() == [match["match"][0], match["match"][2]]
    blob = b"".join(p.read_bytes() for p in (tmp_path / "store").rglob("*") if p.is_file())
    assert all(m not in blob for m in match["match"].to_list())


def test_the_sweep_removes_unnamed_and_replaced_parts(store: GraphStore) -> None:
    state, names = GraphState(rules_version="r1"), {}  # type: ignore[var-annotated]
    change = add(state, names, [("e1", "p1")])
    _stage(store, state, change, "rebuild", (0, 0))
    first_state = store.db.parts("acme", 1, "state")[0].path
    _stage(store, state, Change(), "rebuild", (state.nodes, state.edges))
    orphan = store.folder("acme") / "nodes" / "n0000000099.parquet"
    orphan.write_bytes(b"left by a crash")
    with store.lock("acme"):
        removed = store.sweep("acme")
    assert removed == 2
    assert not orphan.exists()
    assert not (store.root / first_state).exists()
    _same(store.load("acme"), state)
