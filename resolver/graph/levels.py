"""The steps of `link.link`, one per kind in priority order, over group labels.

A group label is a node id of one of the group's members; a step maps nodes to the
groups of earlier steps (a phone to its email's group) or merges groups (`components.
merge`, over the few labels involved), so only one component pass, the raw one, ever
runs over the whole graph.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import polars as pl
from numpy.typing import NDArray

from resolver.graph import kernels
from resolver.graph.components import (
    ID,
    Ids,
    canonical,
    components,
    distinct,
    distinct_counts,
    mask,
    merge,
    tally,
)
from resolver.graph.rules import GraphRules

EMAIL, PHONE, MAID = 0, 1, 2
KINDS = 3
LINKED, BLOCKED, SHARED, BRIDGE, ERASED = 0, 1, 2, 3, 4

Codes = NDArray[np.uint8]
Mask = NDArray[np.bool_]


def toward(src: Ids, dst: Ids, forward: Mask, backward: Mask) -> tuple[Ids, Ids]:
    """(y, x): the edges picked by `forward` as src → dst and by `backward` as dst → src,
    without first making every edge both ways (2 × 2E ids at 100M edges: 1.6 GB)."""
    k = int(np.count_nonzero(forward))
    m = k + int(np.count_nonzero(backward))
    y, x = np.empty(m, dtype=ID), np.empty(m, dtype=ID)
    np.compress(forward, src, out=y[:k])  # straight into place: no pieces to concatenate
    np.compress(backward, dst, out=y[k:])
    np.compress(forward, dst, out=x[:k])
    np.compress(backward, src, out=x[k:])
    return y, x


def pair_counts(kind: Codes, src: Ids, dst: Ids) -> pl.DataFrame:
    """(a, b, j, n): emails or phones a < b of kind j, with how many nodes are seen with
    both (only pairs some node is seen with)."""
    if kernels.wanted(len(src)):
        return _pair_counts(kind, src, dst)
    n, ks, kd = len(kind), kind[src], kind[dst]
    forward = np.zeros(len(src), dtype=bool)  # src is seen with dst and another of its kind
    backward = np.zeros(len(src), dtype=bool)  # the same, the other way round
    for k in (EMAIL, PHONE):  # nodes seen with two or more of kind k
        to_k, from_k = kd == k, ks == k
        seen = tally(n, dst[from_k], tally(n, src[to_k]))
        forward |= to_k & (seen[src] >= 2)
        backward |= from_k & (seen[dst] >= 2)
        del to_k, from_k, seen
    del ks, kd
    # only the rows of nodes seen with several of a kind are ever made
    ends, others = toward(src, dst, forward, backward)
    del forward, backward
    adj = pl.DataFrame({"z": ends, "a": others, "j": kind[others]}).lazy()
    del ends, others
    pairs = adj.join(adj, on=["z", "j"], suffix="_b").filter(pl.col("a") < pl.col("a_b"))
    counted = pairs.group_by("a", pl.col("a_b").alias("b"), "j").len("n")
    # streaming: the pairs are counted as the join makes them, never all held at once
    return counted.collect(engine="streaming")


def _pair_counts(kind: Codes, src: Ids, dst: Ids) -> pl.DataFrame:
    """`pair_counts` compiled (`_jit_rules.pairs_seen`, one kernel from the edges to the
    pairs): the same table (in another row order)."""
    rows = 2 * len(src)  # (node, neighbour) rows at most: an int32 table holds them
    start = np.zeros(2 * len(kind) + 1, dtype=ID if rows < 2**31 else np.int64)
    keys = kernels.use("pairs_seen")(kind, src, dst, start)
    del start
    found, counts = distinct_counts(keys)
    a = (found >> 32).astype(ID)
    return pl.DataFrame(
        {
            "a": a,
            "b": (found & 0xFFFFFFFF).astype(ID),
            "j": kind[a],
            "n": counts.astype(np.uint32),
        }
    )


def witnessed(pairs: pl.DataFrame, j: int, witnesses: int) -> tuple[Ids, Ids]:
    """Pairs of kind-j nodes that at least `witnesses` + 1 identifiers are seen with."""
    strong = pairs.filter((pl.col("j") == j) & (pl.col("n") >= 1 + witnesses))
    return _ids(strong, "a"), _ids(strong, "b")


def _ids(frame: pl.DataFrame, column: str) -> Ids:
    return frame.get_column(column).to_numpy().astype(ID)


def holds(kind: Codes, code: Codes, group: Ids, k: int) -> Mask:
    """Per group label: whether the group holds a linking identifier of kind k."""
    if kernels.wanted(len(kind)):
        found: Mask = kernels.use("holds")(kind, code, group, k, LINKED)
        return found
    out = np.zeros(len(kind), dtype=bool)
    out[group[(kind == k) & (code == LINKED)]] = True
    return out


def beside(kind: Codes, src: Ids, dst: Ids, k: int, others: tuple[int, ...]) -> tuple[Ids, Ids]:
    """(y, x): each kind-k node y with its neighbours x of the kinds in `others`."""
    wanted = np.zeros(KINDS, dtype=bool)
    wanted[list(others)] = True
    if kernels.wanted(len(src)):
        found: tuple[Ids, Ids] = kernels.use("beside_kind")(kind, src, dst, k, wanted)
        return found
    ks, kd = kind[src], kind[dst]
    return toward(src, dst, (ks == k) & wanted[kd], (kd == k) & wanted[ks])


def join_one(y: Ids, g: Ids, group: Ids) -> tuple[Ids, Mask]:
    """Labels after each node y beside exactly one group (rows y[i] beside g[i]) joins
    it, and which nodes are beside several groups. The smallest and largest group at each
    node tell one from several: ufunc.at, ten times quicker here than a hashed group-by
    (0.16 s against 1.55 s at 5M rows)."""
    if kernels.wanted(len(y)):
        out: tuple[Ids, Mask] = kernels.use("join_one")(y, g, group)
        return out
    n = len(group)
    lo = np.full(n, n, dtype=ID)
    hi = np.full(n, -1, dtype=ID)
    np.minimum.at(lo, y, g)
    np.maximum.at(hi, y, g)
    several = lo < hi
    np.copyto(lo, group, where=lo != hi)  # nodes beside no group, or several, keep theirs
    return lo, several


def phones(kind: Codes, src: Ids, dst: Ids, group: Ids) -> tuple[Ids, Ids]:
    """A phone joins the one group its emails are in; beside two groups it is a bridge.
    Returns the new labels and the bridges."""
    y, x = beside(kind, src, dst, PHONE, (EMAIL,))
    group, several = join_one(y, group[x], group)
    return group, np.flatnonzero(several).astype(ID)


def checked_merge(
    kind: Codes, code: Codes, group: Ids, pairs: tuple[Ids, Ids], kinds: tuple[int, ...]
) -> tuple[Ids, Mask]:
    """Labels after merging the groups of each pair (a[i], b[i]), except that no merge
    puts two groups holding one of `kinds` together: every pair of such a would-be group
    is dropped. Returns the labels and which pairs were kept."""
    a, b = pairs
    ga, gb = group[a], group[b]
    merged = components(len(kind), ga, gb)
    labels = distinct(np.concatenate([ga, gb]))
    bad = np.zeros(len(kind), dtype=bool)
    for k in kinds:
        holders = labels[holds(kind, code, group, k)[labels]]
        bad |= tally(len(kind), merged[holders]) > 1
    keep = ~bad[merged[ga]]
    return merge(group, ga[keep], gb[keep]), keep


def phone_pairs(kind: Codes, code: Codes, group: Ids, pairs: tuple[Ids, Ids]) -> Ids:
    """Phones that `witnesses` + 1 identifiers are seen with are one person, unless that
    puts two persons' emails together."""
    a, b = pairs
    linking = (code[a] == LINKED) & (code[b] == LINKED)
    return checked_merge(kind, code, group, (a[linking], b[linking]), (EMAIL,))[0]


def maids(kind: Codes, src: Ids, dst: Ids, group: Ids, code: Codes) -> tuple[Ids, Ids, int]:
    """A MAID joins every group its emails and phones are in when no two of those hold
    emails and no two hold phones; otherwise it keeps to the one group of its emails (or,
    with none, of its phones), and is a bridge when that is not one group either.
    Returns the new labels, the bridges and how many links to a group were refused."""
    y, x = beside(kind, src, dst, MAID, (EMAIL, PHONE))
    linking = code[x] == LINKED
    y = y[linking]
    x = x[linking]
    del linking
    g, kx = group[x], kind[x]
    del x
    group, several_at = join_one(y, g, group)
    rows = several_at[y]
    del several_at
    if not rows.any():
        return group, np.empty(0, dtype=ID), 0
    # (y, g, kx): a MAID beside several groups, one row per group and kind of neighbour
    if kernels.wanted(len(kind)) and len(kind) < 2**30:
        return _maids(kind, code, group, (y[rows], g[rows], kx[rows]))
    several = pl.DataFrame({"y": y[rows], "g": g[rows], "kx": kx[rows]}).unique()
    del y, g, kx, rows
    per = _maid_choices(several, kind, code, group)
    wide = several.join(per.filter("together").select("y"), on="y")
    wy, wg = _ids(wide, "y"), _ids(wide, "g")
    group, kept = checked_merge(kind, code, group, (wy, wg), (EMAIL, PHONE))
    joined = distinct(wy[kept])
    homes = per.filter((pl.col("homes") == 1) & ~pl.col("y").is_in(joined))
    home_y = _ids(homes, "y")
    group[home_y] = group[_ids(homes, "home")]
    bridges = _ids(per.filter(pl.col("homes") > 1), "y")
    refused = several.height - int(kept.sum()) - len(home_y)
    return group, bridges, refused


def _maids(
    kind: Codes, code: Codes, group: Ids, rows: tuple[Ids, Ids, Codes]
) -> tuple[Ids, Ids, int]:
    """The rest of `maids` for large graphs, compiled (`_jit.maid_choices`): the same
    choices from the distinct rows sorted by (y, g, kx), packed in one int64 each."""
    bits = max(1, (len(kind) - 1).bit_length())  # 2 * 30 + 2 bits fit an int64
    packed = rows[0].astype(np.int64) << (bits + 2) | rows[1].astype(np.int64) << 2 | rows[2]
    packed = distinct(packed)
    y = (packed >> (bits + 2)).astype(ID)
    g = ((packed >> 2) & ((1 << bits) - 1)).astype(ID)
    kx = (packed & 3).astype(np.uint8)
    he, hp = holds(kind, code, group, EMAIL)[g], holds(kind, code, group, PHONE)[g]
    ys, _, homes, home, row_together = kernels.use("maid_choices")(y, g, kx, he, hp)
    group, kept = checked_merge(
        kind, code, group, (y[row_together], g[row_together]), (EMAIL, PHONE)
    )
    joined = mask(len(kind), y[row_together][kept])
    alone = (homes == 1) & ~joined[ys]
    home_y = ys[alone]
    group[home_y] = group[home[alone]]
    refused = len(y) - int(kept.sum()) - len(home_y)
    return group, ys[homes > 1], refused


def _maid_choices(several: pl.DataFrame, kind: Codes, code: Codes, group: Ids) -> pl.DataFrame:
    """Per MAID beside several groups: whether it may join them all (together), and the
    groups of its best kind (homes, and the smallest, home)."""
    g = several.get_column("g").to_numpy()
    frame = several.with_columns(
        pl.Series("he", holds(kind, code, group, EMAIL)[g]),
        pl.Series("hp", holds(kind, code, group, PHONE)[g]),
        pl.col("kx").min().over("y").alias("top"),
    )
    best = pl.col("kx") == pl.col("top")
    return frame.group_by("y").agg(
        (
            (pl.col("g").filter("he").n_unique() <= 1) & (pl.col("g").filter("hp").n_unique() <= 1)
        ).alias("together"),
        pl.col("g").filter(best).n_unique().alias("homes"),
        pl.col("g").filter(best).min().alias("home"),
    )


def within_limits(
    kind: Codes, person: Ids, fallbacks: Sequence[Ids | Callable[[], Ids]], rules: GraphRules
) -> tuple[Ids, int]:
    """The persons of the last stage; one over a limit falls back to the groups of the
    stages before, latest first (MAID joins undone, then phone joins, then email joins)
    until it is within the limits. Returns canonical labels and how many persons were
    over. A stage may be a function making it, called only when someone falls back to it."""
    over = over_limits(kind, person, rules)
    count = int(over.sum())
    for stage in [*fallbacks, lambda: np.arange(len(kind), dtype=ID)]:
        if not over.any():
            break
        fallback = stage() if callable(stage) else stage
        person = np.where(over[person], fallback, person)
        del fallback
        over = over_limits(kind, person, rules)
    return canonical(person), count


def over_limits(kind: Codes, person: Ids, rules: GraphRules) -> Mask:
    """Per label: whether the group with that label breaks a limit."""
    n = len(kind)
    size = tally(n, person)
    over = size > rules.max_identifiers
    big = size > min(rules.limits)  # only these can be over in one kind
    if big.any():
        member = big[person]
        key = person[member].astype(np.int64) * KINDS + kind[member]
        found, counts = distinct_counts(key)
        limit = np.array(rules.limits)[found % KINDS]
        over[(found[counts > limit] // KINDS).astype(np.int64)] = True
    return np.asarray(over)
