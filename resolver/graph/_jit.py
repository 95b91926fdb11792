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
    """The positions i (ascending, int32) where bit values[i] is set: one pass, into room
    for every position (only what is written is ever touched), so a view of it."""
    out = np.empty(len(values), dtype=np.int32)
    k = 0
    for i in range(len(values)):
        if _bit(bits, values[i]):
            out[k] = i
            k += 1
    return out[:k]


@_jit
def beside(bits, src, dst):
    """The edges (ascending positions, int64) with either end's bit set, as `marked`."""
    out = np.empty(len(src), dtype=np.int64)
    k = 0
    for i in range(len(src)):
        if _bit(bits, src[i]) | _bit(bits, dst[i]):
            out[k] = i
            k += 1
    return out[:k]


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
def _first_places(keys, n):
    """A counting sort's table: per key value v in 0..n-1, how many keys are below it
    (the place its first key takes), and n + 1 at the end."""
    start = np.zeros(n + 1, dtype=np.int64)
    for i in range(len(keys)):
        start[keys[i] + 1] += 1
    for v in range(n):
        start[v + 1] += start[v]
    return start


@_jit
def counting_order(keys, n):
    """The stable order (int32 positions) of `keys` (each in 0..n-1): a counting sort,
    two passes where a comparison sort of 11M keys takes several."""
    start = _first_places(keys, n)
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
def inverse(order):
    """at[order[i]] = i: the number `order` gives each node."""
    at = np.empty(len(order), dtype=np.int32)
    for i in range(len(order)):
        at[order[i]] = i
    return at


@_jit
def count_keys(at, src, counts):
    """`link._renumbered`, one piece of the edges: counts[v] += 1 for each edge whose first
    end becomes v (at[src])."""
    for e in range(len(src)):
        counts[at[src[e]]] += 1


@_jit
def cursors(counts):
    """The counts of each piece (rows) turned, in place, into where the piece's first edge
    of each key goes: every key's edges in piece order, so the sort stays stable."""
    running = 0
    for v in range(counts.shape[1]):
        for p in range(counts.shape[0]):
            c = counts[p, v]
            counts[p, v] = running
            running += c


@_jit
def place_edges(at, src, dst, cursor, out_src, out_dst):
    """One piece's edges, renumbered by `at`, into their places (its row of `cursors`)."""
    for e in range(len(src)):
        s = at[src[e]]
        p = cursor[s]
        out_src[p] = s
        out_dst[p] = at[dst[e]]
        cursor[s] = p + 1


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
def grouped(labels):
    """`link.by_component`: the stable order of `labels` (each in 0..n-1) by a counting
    sort, and where each label's run begins in that order."""
    n = len(labels)
    start = _first_places(labels, n)
    starts = np.zeros(n, dtype=np.bool_)
    for v in range(n):
        if start[v + 1] > start[v]:
            starts[start[v]] = True
    order = np.empty(n, dtype=np.int32)
    for i in range(n):
        v = labels[i]
        order[start[v]] = i
        start[v] += 1
    return order, starts


@_jit
def take(values, at, out):
    """out[i] = values[at[i]] (numpy's gather casts int32 positions to intp first, on
    a slower path)."""
    for i in range(len(at)):
        out[i] = values[at[i]]


@_jit
def unpermute(order, values):
    """`link._unpermute`: out[order[i]] = values[i]."""
    out = np.empty_like(values)
    for i in range(len(order)):
        out[order[i]] = values[i]
    return out


@_jit
def persons_back(order, local):
    """`link.link`'s persons in the caller's numbers: out[order[i]] is order[local[i]],
    or -1 where local[i] is."""
    out = np.empty(len(order), dtype=np.int32)
    for i in range(len(order)):
        p = local[i]
        out[order[i]] = order[p] if p >= 0 else -1
    return out


@_jit
def live_edges(code, src, dst, linked):
    """The edges (src, dst) whose two ends' codes are `linked`."""
    count = 0
    for e in range(len(src)):
        if code[src[e]] == linked and code[dst[e]] == linked:
            count += 1
    out_src = np.empty(count, dtype=np.int32)
    out_dst = np.empty(count, dtype=np.int32)
    k = 0
    for e in range(len(src)):
        if code[src[e]] == linked and code[dst[e]] == linked:
            out_src[k] = src[e]
            out_dst[k] = dst[e]
            k += 1
    return out_src, out_dst


@_jit
def fill_at(out, at, value):
    """out[at[i]] = value for every i."""
    for i in range(len(at)):
        out[at[i]] = value
