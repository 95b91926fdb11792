"""The compiled kernels of an incremental update's neighbourhood (numba; `update.Near`):
local numbers, the edges inside a region, a file's new pairs. Import through `kernels`,
which falls back without numba; the general passes are in `_jit.py`."""

from __future__ import annotations

import numpy as np
from numba import njit

from resolver.graph._jit import _bit, _shift, _slot, set_bits

_jit = njit(cache=True, nogil=True, boundscheck=False)


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
    outer = _set_in(seen)
    ids = np.empty(k + len(outer), dtype=np.int32)
    ids[:k] = inner
    ids[k:] = outer
    for j in range(len(outer)):
        position[outer[j]] = k + j
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


@_jit
def inside(n, region, src, dst, also_src, also_dst):
    """`update._inside`: the edges with both ends in `region` (of nodes 0..n-1), then the
    edges `also`, as positions into `region`."""
    position = np.full(n, -1, dtype=np.int32)
    for i in range(len(region)):
        position[region[i]] = i
    count = 0
    for e in range(len(src)):
        if position[src[e]] >= 0 and position[dst[e]] >= 0:
            count += 1
    out_src = np.empty(count + len(also_src), dtype=np.int32)
    out_dst = np.empty(count + len(also_src), dtype=np.int32)
    k = 0
    for e in range(len(src)):
        if position[src[e]] >= 0 and position[dst[e]] >= 0:
            out_src[k] = position[src[e]]
            out_dst[k] = position[dst[e]]
            k += 1
    for e in range(len(also_src)):
        out_src[k + e] = position[also_src[e]]
        out_dst[k + e] = position[also_dst[e]]
    return out_src, out_dst


@_jit
def packed_pairs(keys, a, b):
    """`update.Near.new_edges`' pairs: keys[a[i]], keys[b[i]] as one int64 (lo << 32 |
    hi, lo < hi), for every i where they differ."""
    out = np.empty(len(a), dtype=np.int64)
    k = 0
    for i in range(len(a)):
        x = np.int64(keys[a[i]])
        y = np.int64(keys[b[i]])
        if x != y:
            out[k] = (x << 32) | y if x < y else (y << 32) | x
            k += 1
    return out[:k]


@_jit
def known_pairs(pairs, old, src, dst, inner):
    """For sorted `pairs` (a << 32 | b, a < b; repeats allowed): true at the first of
    each value whose b is below `old` and which is an edge (src, dst) with both ends
    below `inner`. A hash of those pairs (few: only two old nodes can be known), probed
    by each edge."""
    count = 0
    for i in range(len(pairs)):
        if (pairs[i] & 0xFFFFFFFF) < old and (i == 0 or pairs[i] != pairs[i - 1]):
            count += 1
    size = 2
    while size < 2 * count:
        size *= 2
    mask = size - 1
    shift = _shift(size)
    table = np.full(size, -1, dtype=np.int64)  # positions into pairs
    for i in range(len(pairs)):
        if (pairs[i] & 0xFFFFFFFF) < old and (i == 0 or pairs[i] != pairs[i - 1]):
            s = _slot(np.uint64(pairs[i]), shift)
            while table[s] >= 0:
                s = (s + 1) & mask
            table[s] = i
    hit = np.zeros(len(pairs), dtype=np.bool_)
    if count == 0:
        return hit
    for e in range(len(src)):
        s, d = np.int64(src[e]), np.int64(dst[e])
        if s < inner and d < inner:
            key = (s << 32) | d if s < d else (d << 32) | s
            slot = _slot(np.uint64(key), shift)
            while table[slot] >= 0:
                if pairs[table[slot]] == key:
                    hit[table[slot]] = True
                    break
                slot = (slot + 1) & mask
    return hit


@_jit
def unpacked(pairs, drop):
    """The sorted `pairs` as (src, dst) int32, each value once, but for those `drop` marks."""
    count = 0
    for i in range(len(pairs)):
        if not drop[i] and (i == 0 or pairs[i] != pairs[i - 1]):
            count += 1
    src = np.empty(count, dtype=np.int32)
    dst = np.empty(count, dtype=np.int32)
    k = 0
    for i in range(len(pairs)):
        if not drop[i] and (i == 0 or pairs[i] != pairs[i - 1]):
            src[k] = pairs[i] >> 32
            dst[k] = pairs[i] & 0xFFFFFFFF
            k += 1
    return src, dst


@_jit
def ends_of(n, src, dst):
    """The nodes (of 0..n-1, ascending, int32) at either end of the edges (src, dst)."""
    bits = np.zeros((n + 7) // 8, dtype=np.uint8)
    set_bits(bits, src)
    set_bits(bits, dst)
    return _set_in(bits)


@_jit
def region_of(raw, touched, ids, first_new):
    """`update.Near.region`: the inner nodes (ascending, int32) whose raw component holds
    a touched node, or whose graph id `ids` is `first_new` or above (new nodes)."""
    n = len(raw)
    bits = np.zeros((n + 7) // 8, dtype=np.uint8)
    for t in touched:
        v = raw[t]
        bits[v >> 3] |= np.uint8(1 << (v & 7))
    out = np.empty(n, dtype=np.int32)
    k = 0
    for i in range(n):
        if _bit(bits, raw[i]) or ids[i] >= first_new:
            out[k] = i
            k += 1
    return out[:k]


@_jit
def _set_in(bits):
    """The positions of the bits set (ascending, int32)."""
    count = 0
    for byte in bits:
        for bit in range(8):
            count += (byte >> bit) & 1
    out = np.empty(count, dtype=np.int32)
    k = 0
    for i in range(len(bits)):
        if bits[i]:
            for bit in range(8):
                if (bits[i] >> bit) & 1:
                    out[k] = i * 8 + bit
                    k += 1
    return out
