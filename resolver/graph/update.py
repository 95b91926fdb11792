"""Changing a graph: a file's new edges (incremental), or everything again (rebuild).

An update finds the raw components its new edges touch (and those of identifiers that
just became shared), links exactly those again with `link.link`, and gives the persons
there stable pids (`stable.assign`); every other node keeps its person untouched. Because
every rule looks no further than a raw component, this equals a rebuild on the same edges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import polars as pl
from numpy.typing import NDArray

from resolver.graph.components import ID, Ids, dense, distinct, mask
from resolver.graph.levels import BLOCKED, ERASED, LINKED, SHARED
from resolver.graph.link import degree_shared, link
from resolver.graph.rules import GraphRules
from resolver.graph.stable import EVENT_SCHEMA, assign
from resolver.graph.state import U64, GraphState


@dataclass(frozen=True)
class FileNodes:
    """A file's distinct node keys (hi, lo), their kinds and blocklist marks, the edges
    between them as positions into those keys, and the MAID types the file gives (0:
    none; a type given replaces the one a node had)."""

    hi: U64
    lo: U64
    kind: NDArray[np.uint8]
    junk: NDArray[np.bool_]
    a: Ids
    b: Ids
    mtype: NDArray[np.uint8] | None = None


@dataclass
class Change:
    """What an update or rebuild did (counts, never keys)."""

    ids: Ids = field(default_factory=lambda: np.empty(0, dtype=ID))  # per file key
    nodes_added: int = 0
    edges_added: int = 0
    newly_shared: int = 0
    relinked: int = 0  # nodes whose persons were computed again
    refused_links: int = 0
    over_limits: int = 0
    persons_created: int = 0
    events: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=EVENT_SCHEMA))

    def then(self, later: Change) -> Change:
        """This change followed by `later` (a rebuild, then a file): later's ids, the sums
        of the counts, both changes' events."""
        return Change(
            ids=later.ids,
            nodes_added=self.nodes_added + later.nodes_added,
            edges_added=self.edges_added + later.edges_added,
            newly_shared=self.newly_shared + later.newly_shared,
            relinked=self.relinked + later.relinked,
            refused_links=self.refused_links + later.refused_links,
            over_limits=self.over_limits + later.over_limits,
            persons_created=self.persons_created + later.persons_created,
            events=pl.concat([self.events, later.events]),
        )

    def counts(self) -> dict[str, int]:
        per = self.events.get_column("event").value_counts()
        by_event = dict(per.iter_rows())
        return {
            "nodes_added": self.nodes_added,
            "edges_added": self.edges_added,
            "newly_shared": self.newly_shared,
            "relinked": self.relinked,
            "refused_links": self.refused_links,
            "over_limits": self.over_limits,
            "persons_created": self.persons_created,
            "merged": int(by_event.get("merged", 0)),
            "split": int(by_event.get("split", 0)),
            "retired": int(by_event.get("retired", 0)),
        }


def apply(state: GraphState, file: FileNodes, rules: GraphRules) -> Change:
    """Add a file's nodes and edges to `state` (in place) and relink what they touch."""
    ids = state.lookup(file.hi, file.lo)
    new = ids < 0
    base = np.where(file.junk[new], BLOCKED, LINKED).astype(np.uint8)
    ids[new] = state.add_nodes(file.hi[new], file.lo[new], file.kind[new], base)
    if file.mtype is not None:
        typed = file.mtype > 0
        state.mtype[ids[typed]] = file.mtype[typed]
    src, dst, near = _new_edges(state, ids[file.a], ids[file.b])
    touched = np.flatnonzero(mask(state.nodes, src) | mask(state.nodes, dst)).astype(ID)
    old_raw = state.raw[touched]
    shared = _newly_shared(state, touched, near, (src, dst), rules.max_links)
    state.add_edges(src, dst)
    state.base[shared] = SHARED
    affected = np.zeros(state.nodes, dtype=bool)
    affected[old_raw] = True
    region = np.flatnonzero(affected[state.raw] | mask(state.nodes, ids[new]))
    change = relink(state, region.astype(ID), rules, "oldest")
    change.ids, change.nodes_added, change.edges_added = ids, int(new.sum()), len(src)
    change.newly_shared = len(shared)
    return change


def _new_edges(state: GraphState, a: Ids, b: Ids) -> tuple[Ids, Ids, NDArray[np.intp]]:
    """The file's edges (a, b) as unique pairs src < dst that the graph lacks, and the
    positions of the graph's edges beside any node of the file's edges."""
    keep = (a != b) & (a >= 0) & (b >= 0)
    lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    pairs = distinct(lo.astype(np.int64) << 32 | hi.astype(np.int64))
    ends = mask(state.nodes, (pairs >> 32).astype(ID)) | mask(
        state.nodes, (pairs & 0xFFFFFFFF).astype(ID)
    )
    near = np.flatnonzero(ends[state.src] | ends[state.dst])
    known = state.src[near].astype(np.int64) << 32 | state.dst[near].astype(np.int64)
    pairs = pairs[~np.isin(pairs, known, assume_unique=True)]
    return (pairs >> 32).astype(ID), (pairs & 0xFFFFFFFF).astype(ID), near


def _newly_shared(
    state: GraphState, touched: Ids, near: NDArray[np.intp], new: tuple[Ids, Ids], max_links: int
) -> Ids:
    """Touched linking nodes now seen with more than `max_links` of one other kind.
    `near` (the graph's edges beside the file's nodes, a superset of those beside the
    touched ones) and the `new` edges hold every edge of a touched node."""
    src = np.concatenate([state.src[near], new[0]])
    dst = np.concatenate([state.dst[near], new[1]])
    local, inverse = dense(np.concatenate([src, dst]), state.nodes)
    m = len(src)
    over = degree_shared(
        state.kind[local],
        state.base[local],
        inverse[:m],
        inverse[m:],
        max_links,
    )
    found = local[over]
    shared: Ids = found[
        np.isin(found, touched, assume_unique=True) & (state.base[found] == LINKED)
    ].astype(ID)
    return shared


def relink(
    state: GraphState,
    region: Ids | None,
    rules: GraphRules,
    prefer: Literal["oldest", "overlap"],
) -> Change:
    """Link the nodes of `region` (whole raw components; None: the whole graph) again,
    in place."""
    if region is None or len(region) == state.nodes:
        linking = link(state.kind, state.base, state.src, state.dst, rules)
        state.code, state.raw = linking.code, linking.raw  # the old ones go before assign
        settled = assign(state.pid, linking.person, state.next_pid, prefer, reuse=True)
        state.pid = settled.pid
    else:
        inside = mask(state.nodes, region)
        edge = inside[state.src] & inside[state.dst]
        del inside
        position = np.full(state.nodes, -1, dtype=ID)
        position[region] = np.arange(len(region), dtype=ID)
        src, dst = position[state.src[edge]], position[state.dst[edge]]
        del edge, position
        linking = link(state.kind[region], state.base[region], src, dst, rules)
        del src, dst
        label = np.where(linking.person >= 0, region[np.maximum(linking.person, 0)], -1)
        settled = assign(state.pid[region], label.astype(ID), state.next_pid, prefer)
        state.code[region] = linking.code
        state.raw[region] = region[linking.raw]
        state.pid[region] = settled.pid
    state.next_pid = settled.next_pid
    return Change(
        relinked=state.nodes if region is None else len(region),
        refused_links=linking.refused_links,
        over_limits=linking.over_limits,
        persons_created=settled.created,
        events=settled.events,
    )


def rebuild(state: GraphState, junk: NDArray[np.bool_], rules: GraphRules) -> Change:
    """Everything again from the edges: blocklist, shared, links; pids by overlap."""
    erased = state.base == ERASED
    state.base = np.where(erased, ERASED, np.where(junk, BLOCKED, LINKED)).astype(np.uint8)
    shared = degree_shared(state.kind, state.base, state.src, state.dst, rules.max_links)
    state.base[shared & (state.base == LINKED)] = SHARED
    # the nodes to link: all but the erased (no list of them when that is every node)
    region = np.flatnonzero(~erased).astype(ID) if erased.any() else None
    del erased, shared
    change = relink(state, region, rules, "overlap")
    state.rules_version = rules.version
    return change
