"""Durable person IDs (pids) across a change of the graph, and the events it causes.

Given each node's old pid (-1: a new node) and its new person label, every new person
takes the pid of an old person whose nodes it holds: after an update, when persons merge,
the oldest pid survives (`prefer="oldest"`); after a rebuild, an old person's pid goes to
the new person holding most of its nodes (`prefer="overlap"`). A person whose node set did
not change always keeps its pid. A pid that no new person takes is *merged* into the person
holding most of its nodes (or *retired* when none is left); a new pid over nodes that had
one is a *split* of the person it holds most nodes of. A few matching rounds over
(label, pid, overlap) tables: no loop over persons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl
from numpy.typing import NDArray

from resolver.graph import kernels

Pids = NDArray[np.int64]
EVENT_SCHEMA = pl.Schema({"event": pl.String(), "pid": pl.Int64(), "other": pl.Int64()})
ROUNDS = 4


@dataclass
class Assignment:
    pid: Pids  # per node (-1 where the label is -1)
    next_pid: int
    events: pl.DataFrame  # event ("merged", "split", "retired"), pid, other (or null)
    created: int  # new pids, splits included


def assign(
    old: Pids,
    label: NDArray[np.int32],
    next_pid: int,
    prefer: Literal["oldest", "overlap"] = "oldest",
    reuse: bool = False,
) -> Assignment:
    """`reuse`: the new pids may be written over `old` (a whole graph's: 0.7 GB less)."""
    dirty = ~_unchanged(old, label)
    live = dirty & (label >= 0)
    space = int(label.max()) + 1 if live.any() else 0
    at = label[live]
    contested = np.zeros(space, dtype=bool)  # changed persons holding some old pid
    contested[label[live & (old >= 0)]] = True
    # only nodes holding an old pid or in a contested person go through the matching;
    # a person of new nodes alone is simply new
    sub = dirty & (old >= 0)
    if contested.any():
        sub[live] |= contested[at]
    nodes = pl.DataFrame({"old": old[sub], "label": label[sub]})
    pid = old if reuse else old.copy()  # `old` is not read after this
    pid[label < 0] = -1
    overlap = (
        nodes.filter((pl.col("old") >= 0) & (pl.col("label") >= 0))
        .group_by("label", "old")
        .len("n")
    )
    kept = _match(overlap, prefer)
    fresh, rank = _numbered(space, at, kept, next_pid)
    _put(pid, live, label, at, rank)
    del at
    created = int(fresh.sum())
    ours = overlap.select("label").unique()
    ours = ours.filter(pl.Series(fresh[ours.get_column("label").to_numpy()]))
    new = ours.select("label", pl.Series("pid", rank[ours.get_column("label").to_numpy()]))
    table = pl.concat([kept.select("label", pl.col("old").alias("pid")), new])
    events = _events(nodes, overlap, table, new)
    return Assignment(pid, next_pid + created, events, created)


def _put(
    pid: Pids, live: NDArray[np.bool_], label: NDArray[np.int32], at: NDArray[np.int32], rank: Pids
) -> None:
    """pid[live] = rank[at], where at is label[live]."""
    if kernels.wanted(len(at)):
        kernels.use("put_ranks")(pid, live, label, rank)
    else:
        pid[live] = rank[at]


def _numbered(
    space: int, at: NDArray[np.int32], kept: pl.DataFrame, next_pid: int
) -> tuple[NDArray[np.bool_], Pids]:
    """Per label: whether it is a changed person that kept no pid (fresh), and its pid: a
    new one for a fresh label, numbered in label order, else the old pid it kept. In
    place, as these are as long as the graph (0.7 GB each at 88M nodes)."""
    kept_label = kept.get_column("label").to_numpy()
    if kernels.wanted(len(at)):
        old = kept.get_column("old").to_numpy()
        found: tuple[NDArray[np.bool_], Pids] = kernels.use("numbered")(
            space, at, kept_label, old, next_pid
        )
        return found
    fresh = np.zeros(space, dtype=bool)
    fresh[at] = True
    fresh[kept_label] = False
    rank = np.cumsum(fresh, dtype=np.int64)
    rank += next_pid - 1
    rank[kept_label] = kept.get_column("old").to_numpy()
    return fresh, rank


def _unchanged(old: Pids, label: NDArray[np.int32]) -> NDArray[np.bool_]:
    """Nodes whose person is exactly the node set of one old pid (most of a graph after a
    file, all of it after a rebuild under the same rules): they keep it, and only the
    others go through the matching below, which gives them the same pids it would give
    them among all nodes (an unchanged person only ever bids for, and wins, its pid)."""
    if kernels.wanted(len(label)):
        found: NDArray[np.bool_] = kernels.use("unchanged")(old, label)
        return found
    n = len(label)
    held = old >= 0
    has = label >= 0
    if not held.any() or not has.any():
        return np.zeros(n, dtype=bool)
    # a label is changed when its nodes do not all hold one old pid (a new node holds
    # -1), a pid when its nodes do not all have one label (a node left out has -1): each
    # group's value at one of its members, compared with every member's
    one_old = np.full(int(label.max()) + 1, -1, dtype=np.int64)
    one_old[label[has]] = old[has]
    mixed_label = np.zeros(len(one_old), dtype=bool)
    mixed_label[label[has][one_old[label[has]] != old[has]]] = True
    one_label = np.full(int(old.max()) + 1, -1, dtype=np.int32)
    one_label[old[held]] = label[held]
    mixed_pid = np.zeros(len(one_label), dtype=bool)
    mixed_pid[old[held][one_label[old[held]] != label[held]]] = True
    both = has & held
    same = np.zeros(n, dtype=bool)
    same[both] = ~mixed_label[label[both]] & ~mixed_pid[old[both]]
    return same


def _match(overlap: pl.DataFrame, prefer: str) -> pl.DataFrame:
    """(label, old): which old pid each new person keeps."""
    kept = pl.DataFrame(schema={"label": pl.Int32(), "old": pl.Int64()})
    for _ in range(ROUNDS):
        open_ = overlap.join(kept, on="label", how="anti").join(kept, on="old", how="anti")
        if open_.is_empty():
            break
        if prefer == "oldest":  # each pid bids for its biggest share; the oldest bid wins
            bids = open_.sort(["old", "n", "label"], descending=[False, True, False])
            won = bids.unique("old", keep="first").sort("label", "old")
            won = won.unique("label", keep="first")
        else:  # each person bids for the pid it holds most of; the biggest bid wins
            bids = open_.sort(["label", "n", "old"], descending=[False, True, False])
            won = bids.unique("label", keep="first")
            won = won.sort(["old", "n", "label"], descending=[False, True, False]).unique("old")
        kept = pl.concat([kept, won.select(pl.col("label").cast(pl.Int32), "old")])
    return kept


def _events(
    nodes: pl.DataFrame, overlap: pl.DataFrame, table: pl.DataFrame, fresh: pl.DataFrame
) -> pl.DataFrame:
    """merged (pid → the survivor holding most of its nodes), retired (no node left),
    split (a new pid → the old pid it holds most nodes of)."""
    biggest = overlap.sort(["n", "label", "old"], descending=[True, False, False])
    olds = nodes.filter(pl.col("old") >= 0).select("old").unique()
    gone = olds.join(table.select(pl.col("pid").alias("old")), on="old", how="anti")
    home = biggest.unique("old", keep="first").join(table, on="label")
    merged = gone.join(home.select("old", pl.col("pid").alias("other")), on="old", how="left")
    merged = merged.select(
        pl.when(pl.col("other").is_null())
        .then(pl.lit("retired"))
        .otherwise(pl.lit("merged"))
        .alias("event"),
        pl.col("old").alias("pid"),
        "other",
    )
    source = biggest.unique("label", keep="first").join(fresh, on="label")
    split = source.select(pl.lit("split").alias("event"), "pid", pl.col("old").alias("other"))
    return pl.concat([merged, split]).cast(EVENT_SCHEMA).sort("event", "pid")
