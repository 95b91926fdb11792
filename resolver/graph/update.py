"""Changing a graph: a file's new edges (incremental), or everything again (rebuild).

An update finds the raw components its new edges touch (and those of identifiers that
just became shared), links exactly those again with `link.link`, and gives the persons
there stable pids (`stable.assign`); every other node keeps its person untouched. Because
every rule looks no further than a raw component, this equals a rebuild on the same edges.
All of it happens inside the file's neighbourhood (`Near`), in local numbers: at 53M nodes,
passes over the whole graph are what an update of 10M edges spends its time on.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import polars as pl
from numpy.typing import NDArray

from resolver._alloc import reuse_freed_memory
from resolver.graph import kernels
from resolver.graph.components import ID, Ids, distinct, mask, sort
from resolver.graph.levels import BLOCKED, ERASED, LINKED, SHARED, Codes
from resolver.graph.link import Linking, degree_shared, link
from resolver.graph.rules import GraphRules
from resolver.graph.stable import EVENT_SCHEMA, Assignment, assign
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
    """Add a file's nodes and edges to `state` (in place) and relink what they touch.
    Everything after the lookup works on the file's neighbourhood (`Near`), which one
    pass over the graph's edges finds. Its many large temporaries reuse each other's
    memory (`reuse_freed_memory`)."""
    with reuse_freed_memory():
        return _apply(state, file, rules)


def _apply(state: GraphState, file: FileNodes, rules: GraphRules) -> Change:
    """The update; the appends nothing in it reads (keys, edges) go on beside the rest,
    on another core (mostly first touches of memory: 0.7 s at 10M edges)."""
    appends: list[Future[None]] = []
    try:
        return _update(state, file, rules, appends)
    finally:
        for done in appends:
            done.result()


def _update(
    state: GraphState, file: FileNodes, rules: GraphRules, appends: list[Future[None]]
) -> Change:
    ids = state.lookup(file.hi, file.lo)
    new = ids < 0
    base = np.where(file.junk[new], BLOCKED, LINKED).astype(np.uint8)
    first_new = state.nodes
    appends.append(kernels.meanwhile(state.add_keys, file.hi[new], file.lo[new]))
    ids[new] = state.add_rows(file.kind[new], base)
    if file.mtype is not None:
        typed = file.mtype > 0
        state.mtype[ids[typed]] = file.mtype[typed]
    near = Near.of(state, ids)
    src, dst = near.new_edges(file.a, file.b, first_new)
    touched = _ends(len(near.ids), src, dst)
    shared = near.newly_shared(touched, src, dst, rules.max_links)
    appends.append(kernels.meanwhile(state.add_edges, near.ids[src], near.ids[dst]))
    state.base[near.ids[shared]] = SHARED
    near.base[shared] = SHARED
    region = near.region(touched, first_new)
    edges = _inside(region, len(near.ids), near.src, near.dst, also=(src, dst))
    part = Subgraph(near.ids[region], near.kind[region], near.base[region], *edges)
    added, shared_count = len(src), len(shared)
    del near, edges, src, dst  # only `part` is needed to link
    change = _relink(state, part, rules, "oldest")
    change.ids, change.nodes_added, change.edges_added = ids, int(new.sum()), added
    change.newly_shared = shared_count
    return change


@dataclass
class Near:
    """A file's neighbourhood, numbered locally 0..len(ids)-1: the whole raw components
    of the file's nodes (first, in ascending node order), then the other ends of their
    edges (blocklisted, shared or erased nodes: an edge between two linking nodes never
    leaves a raw component), and every graph edge beside the components (src, dst, in
    local numbers). It holds every edge of every node of those components, so whatever
    a file changes is decided here."""

    ids: Ids  # graph node id of each local node
    inner: int  # local nodes below this are the components' own
    kind: Codes
    base: Codes
    raw: Ids  # an inner node's raw component label (a member), local
    src: Ids
    dst: Ids
    keys: Ids  # the local node of each of the file's keys

    @classmethod
    def of(cls, state: GraphState, file_ids: Ids) -> Near:
        inner, edges = _components_of(state, file_ids)
        if kernels.wanted(state.edges):
            return cls._compiled(state, file_ids, inner, edges)
        position = np.full(state.nodes, -1, dtype=ID)
        position[inner] = np.arange(len(inner), dtype=ID)
        src, dst = state.src[edges], state.dst[edges]
        del edges
        ends = np.concatenate([src, dst])
        outer = distinct(ends[position[ends] < 0])
        del ends
        position[outer] = np.arange(len(inner), len(inner) + len(outer), dtype=ID)
        ids = np.concatenate([inner, outer.astype(ID)])
        raw = position[state.raw[inner]]
        return cls(
            ids,
            len(inner),
            state.kind[ids],
            state.base[ids],
            raw,
            position[src],
            position[dst],
            position[file_ids],
        )

    @classmethod
    def _compiled(
        cls, state: GraphState, file_ids: Ids, inner: Ids, edges: NDArray[np.int64]
    ) -> Near:
        """`of` through the kernels, in the state's scratch positions."""
        position = state.scratch()
        seen = np.zeros((state.nodes + 7) // 8, dtype=np.uint8)
        ids = kernels.use("localize")(position, seen, inner, edges, state.src, state.dst)
        through = kernels.use("through")
        near = cls(
            ids,
            len(inner),
            kernels.take(state.kind, ids),
            kernels.take(state.base, ids),
            through(position, state.raw, inner),
            through(position, state.src, edges),
            through(position, state.dst, edges),
            kernels.use("mapped")(position, file_ids),
        )
        kernels.use("fill_at")(position, ids, -1)  # all -1 again, for the next file
        return near

    def new_edges(self, a: Ids, b: Ids, first_new: int) -> tuple[Ids, Ids]:
        """The file's edges (a, b: positions into its keys) as unique local pairs src <
        dst that the graph lacks (`first_new`: the graph id of the file's first new
        node). The file's nodes are inner nodes, numbered in graph order, so src < dst in
        local numbers is src < dst in the graph's too."""
        # only a pair of two old nodes can be known: the new ones are the last inner nodes
        old = int(np.searchsorted(self.ids[: self.inner], ID(first_new)))
        if kernels.wanted(len(a)):
            return self._new_compiled(a, b, old)
        la, lb = self.keys[a], self.keys[b]
        keep = la != lb
        lo, hi = np.minimum(la[keep], lb[keep]), np.maximum(la[keep], lb[keep])
        del la, lb, keep
        pairs = distinct(lo.astype(np.int64) << 32 | hi.astype(np.int64))
        both_old = np.flatnonzero((pairs & 0xFFFFFFFF) < old)
        inner = (self.src < self.inner) & (self.dst < self.inner)
        known = self.src[inner].astype(np.int64) << 32 | self.dst[inner].astype(np.int64)
        seen = both_old[_isin(pairs[both_old], known)]
        pairs = np.delete(pairs, seen)
        return (pairs >> 32).astype(ID), (pairs & 0xFFFFFFFF).astype(ID)

    def _new_compiled(self, a: Ids, b: Ids, old: int) -> tuple[Ids, Ids]:
        """`new_edges` through the kernels: the pairs packed on both cores, sorted, the
        known ones found by a hash of the few pairs of two old nodes."""
        pieces = [(self.keys, a[i:j], b[i:j]) for i, j in kernels.cuts(len(a))]
        pairs = sort(np.concatenate(kernels.across_cores("packed_pairs", pieces)))
        known = kernels.use("known_pairs")(pairs, old, self.src, self.dst, self.inner)
        found: tuple[Ids, Ids] = kernels.use("unpacked")(pairs, known)
        return found

    def newly_shared(self, touched: Ids, src: Ids, dst: Ids, max_links: int) -> Ids:
        """Touched linking nodes (local) now seen with more than `max_links` of one
        other kind, over the graph's edges here and the new ones (src, dst)."""
        over = degree_shared(
            self.kind,
            self.base,
            np.concatenate([self.src, src]),
            np.concatenate([self.dst, dst]),
            max_links,
        )
        found: Ids = touched[over[touched] & (self.base[touched] == LINKED)]
        return found

    def region(self, touched: Ids, first_new: int) -> Ids:
        """The local nodes to link again: the whole (old) raw components of the touched
        nodes, and every new node."""
        if kernels.wanted(self.inner):
            found: Ids = kernels.use("region_of")(self.raw, touched, self.ids, first_new)
            return found
        affected = mask(self.inner, self.raw[touched])
        new = self.ids[: self.inner] >= first_new
        return np.flatnonzero(affected[self.raw] | new).astype(ID)


def _ends(n: int, src: Ids, dst: Ids) -> Ids:
    """The nodes (of 0..n-1, ascending) at either end of the edges (src, dst)."""
    if kernels.wanted(len(src)):
        found: Ids = kernels.use("ends_of")(n, src, dst)
        return found
    return np.flatnonzero(mask(n, src) | mask(n, dst)).astype(ID)


def _isin(values: NDArray[np.int64], among: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Which of the distinct `values` occur in `among` (hashed by Polars on both cores
    when large; `np.isin` sorts both)."""
    if len(values) + len(among) < kernels.SMALL:
        return np.isin(values, among, assume_unique=True)
    found: NDArray[np.bool_] = pl.Series(values).is_in(pl.Series(among).implode()).to_numpy()
    return found


def _components_of(state: GraphState, file_ids: Ids) -> tuple[Ids, NDArray[np.int64]]:
    """The nodes of the raw components of `file_ids` (ascending), and the graph's edges
    beside them (ascending positions): the one pass over the graph's edges."""
    n = state.nodes
    if kernels.wanted(state.edges):
        bits = kernels.bits(n, state.raw[file_ids])
        at = kernels.cuts(n)
        found = kernels.across_cores("marked", [(bits, state.raw[a:b]) for a, b in at])
        inner = np.concatenate([part + a for part, (a, _) in zip(found, at, strict=True)])
        bits = kernels.bits(n, inner)
        at = kernels.cuts(state.edges)
        pieces = [(bits, state.src[a:b], state.dst[a:b]) for a, b in at]
        found = kernels.across_cores("beside", pieces)
        return inner, np.concatenate([part + a for part, (a, _) in zip(found, at, strict=True)])
    hit = mask(n, state.raw[file_ids])
    inner = np.flatnonzero(hit[state.raw]).astype(ID)
    hit = mask(n, inner)
    beside = hit[state.src]
    beside |= hit[state.dst]
    return inner, np.flatnonzero(beside)


def relink(
    state: GraphState,
    region: Ids | None,
    rules: GraphRules,
    prefer: Literal["oldest", "overlap"],
) -> Change:
    """Link the nodes of `region` (whole raw components, ascending; None: the whole
    graph) again, in place."""
    if region is None or len(region) == state.nodes:
        linking = link(state.kind, state.base, state.src, state.dst, rules)
        state.code, state.raw = linking.code, linking.raw  # the old ones go before assign
        settled = assign(state.pid, linking.person, state.next_pid, prefer, reuse=True)
        state.pid = settled.pid
        state.next_pid = settled.next_pid
        return _change(state.nodes, linking, settled)
    src, dst = _inside(region, state.nodes, state.src, state.dst)
    part = Subgraph(region, state.kind[region], state.base[region], src, dst)
    return _relink(state, part, rules, prefer)


def _inside(
    region: Ids, n: int, src: Ids, dst: Ids, also: tuple[Ids, Ids] | None = None
) -> tuple[Ids, Ids]:
    """The edges (src, dst over nodes 0..n-1) with both ends in `region` (ascending), and
    the edges `also`, known to be inside, as positions into `region`."""
    if kernels.wanted(len(src)):
        none = np.empty(0, dtype=ID)
        extra = (none, none) if also is None else also
        found: tuple[Ids, Ids] = kernels.use("inside")(n, region, src, dst, *extra)
        return found
    inside = mask(n, region)
    edge = inside[src] & inside[dst]
    del inside
    position = np.full(n, -1, dtype=ID)
    position[region] = np.arange(len(region), dtype=ID)
    if also is None:
        return position[src[edge]], position[dst[edge]]
    return (
        position[np.concatenate([src[edge], also[0]])],
        position[np.concatenate([dst[edge], also[1]])],
    )


@dataclass
class Subgraph:
    """Graph nodes (ascending) with their kinds and base codes, and the edges between
    them in positions into `nodes`."""

    nodes: Ids
    kind: Codes
    base: Codes
    src: Ids
    dst: Ids


def _relink(
    state: GraphState, part: Subgraph, rules: GraphRules, prefer: Literal["oldest", "overlap"]
) -> Change:
    """Link the nodes of `part` again and write the result back. Labels stay positions:
    their order is the nodes' order, which is all `assign` looks at."""
    linking = link(part.kind, part.base, part.src, part.dst, rules)
    region = part.nodes
    settled = assign(state.pid[region], linking.person, state.next_pid, prefer)
    state.code[region] = linking.code
    state.raw[region] = region[linking.raw]
    state.pid[region] = settled.pid
    state.next_pid = settled.next_pid
    return _change(len(region), linking, settled)


def _change(relinked: int, linking: Linking, settled: Assignment) -> Change:
    return Change(
        relinked=relinked,
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
