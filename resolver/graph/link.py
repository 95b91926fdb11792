"""Persons from identifiers seen together, within the guardrails (rules.py): pure arrays in,
arrays out. Node ids are dense 0..n-1; `kind` is each node's family index (email 0,
phone 1, MAID 2); edges are unique pairs. Everything is numpy and Polars over whole
arrays: the work grows with the edges, never with a Python loop over them.

Every rule looks no further than a node's raw component (the component over all edges
between nodes that are neither blocklisted nor shared), so linking a set of whole raw
components gives exactly what linking the whole graph gives for them: this is what makes
incremental updates equal to a full rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from resolver.graph import kernels
from resolver.graph import levels as lv
from resolver.graph.components import (
    ID,
    Ids,
    N,
    components,
    distinct_counts,
    merge,
    tally,
)
from resolver.graph.levels import BLOCKED, BRIDGE, EMAIL, ERASED, KINDS, LINKED, PHONE, SHARED
from resolver.graph.rules import GraphRules

# Why a node stops linking (uint8, stored with the node): LINKED when it links.
CODE_NAMES = {
    LINKED: "linked",
    BLOCKED: "blocklist",
    SHARED: "shared",
    BRIDGE: "bridge",
    ERASED: "erased",
}

Codes = lv.Codes
Mask = lv.Mask


@dataclass
class Linking:
    """person: the smallest node id of each node's person (-1: blocklisted, no person);
    code: why a node stops linking (LINKED when it links); raw: raw component labels.
    The counts say how often each edge rule fired."""

    person: Ids
    code: Codes
    raw: Ids
    refused_links: int = 0
    over_limits: int = 0


def degree_shared(kind: Codes, code: Codes, src: Ids, dst: Ids, max_links: int) -> Mask:
    """Nodes seen with more than `max_links` distinct non-blocklisted identifiers of one
    other kind. `src`, `dst` must hold every edge of the nodes asked about."""
    if kernels.wanted(len(src)):
        over: Mask = kernels.use("over_degree")(kind, code, src, dst, BLOCKED, max_links)
        return over
    n = len(kind)
    shared = np.zeros(n, dtype=bool)
    degree = tally(n, dst[code[src] != BLOCKED], tally(n, src[code[dst] != BLOCKED]))
    busy = degree > max_links  # only these can be over in one kind
    del degree
    if not busy.any():
        return shared
    sees, seen = code[dst] != BLOCKED, code[src] != BLOCKED  # src sees dst; dst sees src
    ends, others = lv.toward(src, dst, sees & busy[src], seen & busy[dst])
    key = ends.astype(np.int64) * KINDS + kind[others]
    found, counts = distinct_counts(key)
    shared[(found[counts > max_links] // KINDS).astype(np.int64)] = True
    return shared


def raw_components(code: Codes, src: Ids, dst: Ids) -> Ids:
    """Components over the edges whose two ends link (blocked and shared nodes alone)."""
    return components(len(code), *_live(code, src, dst))


def _live(code: Codes, src: Ids, dst: Ids) -> tuple[Ids, Ids]:
    """The edges whose two ends link."""
    if kernels.wanted(len(src)):
        found: tuple[Ids, Ids] = kernels.use("live_edges")(code, src, dst, LINKED)
        return found
    live = (code[src] == LINKED) & (code[dst] == LINKED)
    return src[live], dst[live]


def link(kind: Codes, code: Codes, src: Ids, dst: Ids, rules: GraphRules) -> Linking:
    """Persons, by kind in priority order (levels.py): emails that `witnesses` + 1
    identifiers are seen with are one person; a phone joins the person of its emails and
    is a bridge when they are two persons; phones that `witnesses` + 1 identifiers are seen
    with are one person unless that joins two persons' emails; a MAID joins the persons of
    its emails and phones unless two of them hold emails or two hold phones (then it keeps
    to the person of its best kind, or is a bridge when that is not one person). Then the
    limits. The steps after the raw components run on nodes renumbered by them
    (`by_component`)."""
    src, dst = _live(code, src, dst)
    n = len(kind)
    raw = components(n, src, dst)
    order, starts = by_component(raw)
    del raw  # rebuilt from `starts` at the end, which is a quarter of its size
    src, dst = _renumbered(order, src, dst)  # and by their first end, for locality
    local = _link(kind[order], code[order], src, dst, rules)
    del src, dst
    person = _persons_back(order, local.person)
    out_code = _unpermute(order, local.code)
    refused, over = local.refused_links, local.over_limits
    del local
    return Linking(person, out_code, _raw(order, starts), refused, over)


def _persons_back(order: Ids, found: Ids) -> Ids:
    """Persons in the local numbers (`found`, -1: none) back in the caller's, one
    graph-long array at a time."""
    if kernels.wanted(len(order)):
        back: Ids = kernels.use("persons_back")(order, found)
        return back
    none = found < 0
    found[none] = 0
    found = order[found]
    found[none] = -1
    del none
    return _unpermute(order, found)


def _unpermute(order: Ids, values: NDArray[N]) -> NDArray[N]:
    """Values listed in `order` back at their nodes: out[order[i]] = values[i]."""
    if kernels.wanted(len(order)):
        back: NDArray[N] = kernels.use("unpermute")(order, values)
        return back
    out = np.empty_like(values)
    out[order] = values
    return out


def by_component(raw: Ids) -> tuple[Ids, Mask]:
    """The nodes in order of their raw component, ascending within one (so the order of
    any two nodes of a component, which every rule's tie-break looks at, is kept), and
    where each component begins in that order. Node ids in first-seen order scatter a
    person over the whole graph, and every gather then misses the cache: linking in
    these numbers took a rebuild at 20M edges from 38.8 s to 27.2 s."""
    if kernels.wanted(len(raw)):
        found: tuple[Ids, Mask] = kernels.use("grouped")(raw)
        return found
    order = _order(raw, len(raw))
    starts = np.empty(len(raw), dtype=bool)
    starts[0:1] = True
    np.not_equal(raw[order[1:]], raw[order[:-1]], out=starts[1:])
    return order, starts


def _renumbered(order: Ids, src: Ids, dst: Ids) -> tuple[Ids, Ids]:
    """The edges in the numbers `order` gives (node order[i] becomes i), sorted by their
    first end (stable)."""
    if kernels.wanted(len(src)):
        return _renumbered_compiled(order, src, dst)
    n = len(order)
    at = np.empty(n, dtype=ID)
    at[order] = np.arange(n, dtype=ID)
    src = at[src]  # each step frees the array before it
    dst = at[dst]
    del at
    by_src = _order(src, n)
    return src[by_src], dst[by_src]


def _renumbered_compiled(order: Ids, src: Ids, dst: Ids) -> tuple[Ids, Ids]:
    """`_renumbered` as a counting sort on the cores at once: each piece of the edges
    counts its first ends, the counts become every piece's places, each piece places its
    edges (the same order as one pass: a key's edges of an earlier piece come first)."""
    at = kernels.use("inverse")(order)
    pieces = kernels.cuts(len(src))
    counts = np.zeros((len(pieces), len(order)), dtype=ID if len(src) < 2**31 else np.int64)
    kernels.across_cores(
        "count_keys", [(at, src[a:b], counts[p]) for p, (a, b) in enumerate(pieces)]
    )
    kernels.use("cursors")(counts)
    out_src, out_dst = np.empty_like(src), np.empty_like(dst)
    work = [
        (at, src[a:b], dst[a:b], counts[p], out_src, out_dst) for p, (a, b) in enumerate(pieces)
    ]
    kernels.across_cores("place_edges", work)
    return out_src, out_dst


def _order(keys: Ids, n: int) -> Ids:
    """The stable order of `keys` (each in 0..n-1), as int32 positions."""
    if kernels.wanted(len(keys)):
        found: Ids = kernels.use("counting_order")(keys, n)
        return found
    frame = pl.DataFrame({"key": keys}).with_row_index("at")
    return frame.sort("key", maintain_order=True).get_column("at").to_numpy().astype(ID)


def _raw(order: Ids, starts: Mask) -> Ids:
    """Raw component labels (each one's smallest node) back from `by_component`."""
    first = np.arange(len(order), dtype=ID)  # each node's component's first position
    first[~starts] = 0
    np.maximum.accumulate(first, out=first)
    return _unpermute(order, order[first])


def _link(kind: Codes, code: Codes, src: Ids, dst: Ids, rules: GraphRules) -> Linking:
    """`link` over live edges whose nodes are numbered by raw component."""
    n = len(kind)
    pairs = lv.pair_counts(kind, src, dst)
    emails, phones = (lv.witnessed(pairs, k, rules.witnesses) for k in (EMAIL, PHONE))
    del pairs

    def by_email() -> Ids:
        return merge(np.arange(n, dtype=ID), *emails)

    # the email stage is made again only if a person falls back to it (0.35 GiB at 88M)
    by_phone, bridges = lv.phones(kind, src, dst, by_email())
    code[bridges] = BRIDGE
    by_phone = lv.phone_pairs(kind, code, by_phone, phones)
    by_maid, bridges, refused = lv.maids(kind, src, dst, by_phone, code)
    code[bridges] = BRIDGE
    person, over = lv.within_limits(kind, by_maid, [by_phone, by_email], rules)
    person[(code == BLOCKED) | (code == ERASED)] = -1
    return Linking(person, code, np.empty(0, dtype=ID), refused, over)
