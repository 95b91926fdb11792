"""The compiled kernels (numba); import through `kernels`, which falls back without numba.

Node ids and labels are int32 as everywhere in the graph; a bitmap holds node i at bit
i % 8 of byte i // 8.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_jit = njit(cache=True, nogil=True, boundscheck=False)


@_jit
def set_bits(out, ids):
    for i in range(len(ids)):
        v = ids[i]
        out[v >> 3] |= np.uint8(1 << (v & 7))


@_jit
def _bit(bits, v):
    return (bits[v >> 3] >> (v & 7)) & 1


@_jit
def marked(bits, values):
    """The positions i (ascending, int32) where bit values[i] is set."""
    count = 0
    for i in range(len(values)):
        count += _bit(bits, values[i])
    out = np.empty(count, dtype=np.int32)
    k = 0
    for i in range(len(values)):
        if _bit(bits, values[i]):
            out[k] = i
            k += 1
    return out


@_jit
def beside(bits, src, dst):
    """The edges (ascending positions, int64) with either end's bit set."""
    count = 0
    for i in range(len(src)):
        count += _bit(bits, src[i]) | _bit(bits, dst[i])
    out = np.empty(count, dtype=np.int64)
    k = 0
    for i in range(len(src)):
        if _bit(bits, src[i]) | _bit(bits, dst[i]):
            out[k] = i
            k += 1
    return out


@_jit
def smallest_components(n, src, dst):
    """Per node 0..n-1, the smallest node of its component: union-find where the smaller
    root always wins, so every root is its tree's smallest node, with path halving."""
    parent = np.arange(n, dtype=np.int32)
    for i in range(len(src)):
        a = src[i]
        b = dst[i]
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a < b:
            parent[b] = a
        elif b < a:
            parent[a] = b
    for i in range(n):  # parent[i] <= i, and every node below i already points at a root
        parent[i] = parent[parent[i]]
    return parent


@_jit
def counting_order(keys, n):
    """The stable order (int32 positions) of `keys` (each in 0..n-1): a counting sort,
    two passes where a comparison sort of 11M keys takes several."""
    start = np.zeros(n + 1, dtype=np.int64)
    for i in range(len(keys)):
        start[keys[i] + 1] += 1
    for v in range(n):
        start[v + 1] += start[v]
    out = np.empty(len(keys), dtype=np.int32)
    for i in range(len(keys)):
        v = keys[i]
        out[start[v]] = i
        start[v] += 1
    return out


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: spreads any key's bits


@_jit
def _shift(size):
    """64 - log2(size), for a table a power of two long: Fibonacci hashing's shift."""
    bits = 0
    while (1 << bits) < size:
        bits += 1
    return np.uint64(64 - bits)


@_jit
def _slot(hi, shift):
    return np.int64((hi * _GOLDEN) >> shift)


@_jit
def index_add(table, hi, lo, start, end):
    """Put nodes start..end-1 into the open-addressing table (int32 node ids, -1 empty,
    a power of two long, at most half full). A key of zero (an erased node's) is left
    out: no query may find it."""
    mask = len(table) - 1
    shift = _shift(len(table))
    for i in range(start, end):
        if hi[i] == 0 and lo[i] == 0:
            continue
        s = _slot(hi[i], shift)
        while table[s] >= 0:
            s = (s + 1) & mask
        table[s] = i


@_jit
def index_find(table, hi, lo, qhi, qlo, out):
    """out[j]: the node with key (qhi[j], qlo[j]), or -1."""
    mask = len(table) - 1
    shift = _shift(len(table))
    for j in range(len(qhi)):
        s = _slot(qhi[j], shift)
        found = -1
        while True:
            i = table[s]
            if i < 0:
                break
            if hi[i] == qhi[j] and lo[i] == qlo[j]:
                found = i
                break
            s = (s + 1) & mask
        out[j] = found


@_jit
def group_pairs(group, member):
    """For rows sorted by `group`: every pair of members of one group, as int64 keys
    (a << 32 | b, a < b; a pair once per group that holds it)."""
    total = 0
    start = 0
    for i in range(1, len(group) + 1):
        if i == len(group) or group[i] != group[start]:
            size = i - start
            total += size * (size - 1) // 2
            start = i
    out = np.empty(total, dtype=np.int64)
    k = 0
    start = 0
    for i in range(1, len(group) + 1):
        if i == len(group) or group[i] != group[start]:
            for p in range(start, i):
                for q in range(p + 1, i):
                    a = np.int64(member[p])
                    b = np.int64(member[q])
                    out[k] = (a << 32) | b if a < b else (b << 32) | a
                    k += 1
            start = i
    return out


@_jit
def maid_choices(y, g, kx, he, hp):
    """For distinct rows (y, g, kx) sorted so: per MAID y, its distinct y (ys), whether
    it may join all its groups (at most one group holding emails, one holding phones),
    how many groups its best kind of neighbour is in (homes) and the smallest (home);
    and per row, whether its MAID may join all."""
    groups = 0
    for i in range(len(y)):
        if i == 0 or y[i] != y[i - 1]:
            groups += 1
    ys = np.empty(groups, dtype=np.int32)
    together = np.empty(groups, dtype=np.bool_)
    homes = np.empty(groups, dtype=np.int32)
    home = np.empty(groups, dtype=np.int32)
    row_together = np.empty(len(y), dtype=np.bool_)
    start = 0
    at = 0
    for i in range(1, len(y) + 1):
        if i < len(y) and y[i] == y[start]:
            continue
        ys[at] = y[start]
        together[at], homes[at], home[at] = _maid(g[start:i], kx[start:i], he[start:i], hp[start:i])
        row_together[start:i] = together[at]
        at += 1
        start = i
    return ys, together, homes, home, row_together


@_jit
def _maid(g, kx, he, hp):
    """One MAID's rows (sorted by group, then kind): (together, homes, home)."""
    top = kx.min()
    with_email = 0
    with_phone = 0
    best = 0
    first = -1
    last = 0
    for r in range(len(g)):
        if r == 0 or g[r] != g[r - 1]:  # a group's rows are consecutive
            if he[r]:
                with_email += 1
            if hp[r]:
                with_phone += 1
        if kx[r] == top:
            if first < 0 or g[r] != g[last]:
                best += 1
                if first < 0:
                    first = g[r]
            last = r
    return with_email <= 1 and with_phone <= 1, best, first


@_jit
def renumbered(order, src, dst):
    """The edges in the node numbers `order` gives (node order[i] becomes i), sorted by
    their first end (stable): one counting sort instead of a chain of gathers."""
    n = len(order)
    at = np.empty(n, dtype=np.int32)
    for i in range(n):
        at[order[i]] = i
    start = np.zeros(n + 1, dtype=np.int64)
    for e in range(len(src)):
        start[at[src[e]] + 1] += 1
    for v in range(n):
        start[v + 1] += start[v]
    out_src = np.empty(len(src), dtype=np.int32)
    out_dst = np.empty(len(src), dtype=np.int32)
    for e in range(len(src)):
        s = at[src[e]]
        p = start[s]
        out_src[p] = s
        out_dst[p] = at[dst[e]]
        start[s] = p + 1
    return out_src, out_dst


@_jit
def join_one(y, g, group):
    """`levels.join_one`: per node, the one group it is beside (else its own), and
    whether it is beside several."""
    n = len(group)
    lo = np.full(n, n, dtype=np.int32)
    hi = np.full(n, -1, dtype=np.int32)
    for i in range(len(y)):
        v = y[i]
        lo[v] = min(lo[v], g[i])
        hi[v] = max(hi[v], g[i])
    several = np.empty(n, dtype=np.bool_)
    for v in range(n):
        several[v] = lo[v] < hi[v]
        if lo[v] != hi[v]:
            lo[v] = group[v]
    return lo, several


@_jit
def tally(counts, ids):
    """counts[v] += 1 for every v in ids (np.add.at's work, at a tenth of its time)."""
    for i in range(len(ids)):
        counts[ids[i]] += 1


@_jit
def canonical(labels):
    """Every group relabelled by its smallest member."""
    n = len(labels)
    smallest = np.full(n, n, dtype=np.int32)
    for i in range(n):
        v = labels[i]
        if i < smallest[v]:
            smallest[v] = i
    out = np.empty(n, dtype=np.int32)
    for i in range(n):
        out[i] = smallest[labels[i]]
    return out


@_jit
def localize(position, seen, inner, edges, src, dst):
    """Local numbers for `update.Near.of`, written into `position` (which comes in all
    -1, over the graph's nodes): the inner nodes 0.., then the other ends of their edges
    (ascending, found through the bitmap `seen`, which comes in all 0). Returns the
    graph node of each local one."""
    k = len(inner)
    for i in range(k):
        position[inner[i]] = i
    for e in range(len(edges)):
        for v in (src[edges[e]], dst[edges[e]]):
            if position[v] < 0:
                seen[v >> 3] |= np.uint8(1 << (v & 7))
    outer = 0
    for byte in range(len(seen)):
        if seen[byte]:
            for bit in range(8):
                outer += (seen[byte] >> bit) & 1
    ids = np.empty(k + outer, dtype=np.int32)
    ids[:k] = inner
    at = k
    for byte in range(len(seen)):
        if seen[byte]:
            for bit in range(8):
                if (seen[byte] >> bit) & 1:
                    position[byte * 8 + bit] = at
                    ids[at] = byte * 8 + bit
                    at += 1
    return ids


@_jit
def through(position, values, at):
    """position[values[at[i]]] for every i."""
    out = np.empty(len(at), dtype=np.int32)
    for i in range(len(at)):
        out[i] = position[values[at[i]]]
    return out


@_jit
def mapped(position, values):
    """position[values[i]] for every i."""
    out = np.empty(len(values), dtype=np.int32)
    for i in range(len(values)):
        out[i] = position[values[i]]
    return out
