"""Graphs written as rows of named identifiers: "e…" emails, "p…" phones, "m…" MAIDs.

state, names = build([("e1", "p1"), ("e2", "p1")])
persons(state, names) == {frozenset({"e1"}), frozenset({"e2"}), frozenset({"p1"})}
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np

from resolver.graph.rules import GraphRules
from resolver.graph.state import GraphState
from resolver.graph.update import Change, FileNodes, apply

KIND = {"e": 0, "p": 1, "m": 2}
Row = Sequence[str]


def key(name: str) -> tuple[int, int]:
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big"), int.from_bytes(digest[8:16], "big")


def file_nodes(rows: Iterable[Row], junk: Iterable[str] = ()) -> tuple[FileNodes, list[str]]:
    """A file of rows as the graph takes it; returns it and its names by position."""
    rows = [list(r) for r in rows]
    names = sorted({n for r in rows for n in r})
    at = {n: i for i, n in enumerate(names)}
    a, b = [], []
    for row in rows:
        for i, x in enumerate(row):
            for y in row[i + 1 :]:
                a.append(at[x])
                b.append(at[y])
    keys = [key(n) for n in names]
    nodes = FileNodes(
        np.array([k[0] for k in keys], dtype=np.uint64),
        np.array([k[1] for k in keys], dtype=np.uint64),
        np.array([KIND[n[0]] for n in names], dtype=np.uint8),
        np.array([n in set(junk) for n in names], dtype=bool),
        np.array(a, dtype=np.int32),
        np.array(b, dtype=np.int32),
    )
    return nodes, names


def add(
    state: GraphState,
    names: dict[str, int],
    rows: Iterable[Row],
    junk: Iterable[str] = (),
    rules: GraphRules | None = None,
) -> Change:
    """Apply a file to `state`; `names` learns the node id of every name."""
    nodes, order = file_nodes(rows, junk)
    change = apply(state, nodes, rules or GraphRules())
    names.update({n: int(change.ids[i]) for i, n in enumerate(order)})
    return change


def build(
    rows: Iterable[Row], junk: Iterable[str] = (), rules: GraphRules | None = None
) -> tuple[GraphState, dict[str, int]]:
    state, names = GraphState(), {}  # type: ignore[var-annotated]
    add(state, names, rows, junk, rules)
    return state, names


def persons(state: GraphState, names: dict[str, int]) -> set[frozenset[str]]:
    """The persons, as sets of names (blocklisted identifiers belong to none)."""
    by_pid: dict[int, set[str]] = {}
    for name, node in names.items():
        pid = int(state.pid[node])
        if pid >= 0:
            by_pid.setdefault(pid, set()).add(name)
    return {frozenset(v) for v in by_pid.values()}


def pid_of(state: GraphState, names: dict[str, int], name: str) -> int:
    return int(state.pid[names[name]])


def partition(state: GraphState) -> list[int]:
    """Each node's person as the smallest node id in it (-1: none): comparable across
    graphs that number persons differently."""
    smallest: dict[int, int] = {}
    for node, pid in enumerate(state.pid.tolist()):
        if pid >= 0:
            smallest.setdefault(pid, node)
    return [smallest[p] if p >= 0 else -1 for p in state.pid.tolist()]
