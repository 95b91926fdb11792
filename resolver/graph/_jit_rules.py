"""The compiled kernels of the linking rules (numba): pairs seen together, the MAID
choices, joins to one group, degrees, unchanged persons. Import through `kernels`, which
falls back without numba; the general passes are in `_jit.py`."""

from __future__ import annotations

import numpy as np
from numba import njit

_jit = njit(cache=True, nogil=True, boundscheck=False)


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
def seen_degree(n, code, src, dst, blocked):
    """Per node, how many edges join it to a node whose code is not `blocked`."""
    degree = np.zeros(n, dtype=np.int32)
    for e in range(len(src)):
        if code[dst[e]] != blocked:
            degree[src[e]] += 1
        if code[src[e]] != blocked:
            degree[dst[e]] += 1
    return degree


@_jit
def unchanged(old, label):
    """`stable._unchanged`: the nodes whose person is exactly the node set of one old pid."""
    n = len(label)
    top_label = -1
    top_old = -1
    for i in range(n):
        top_label = max(top_label, label[i])
        top_old = max(top_old, old[i])
    same = np.zeros(n, dtype=np.bool_)
    if top_label < 0 or top_old < 0:
        return same
    one_old = np.full(top_label + 1, -1, dtype=np.int64)
    one_label = np.full(top_old + 1, -1, dtype=np.int32)
    for i in range(n):
        if label[i] >= 0:
            one_old[label[i]] = old[i]
        if old[i] >= 0:
            one_label[old[i]] = label[i]
    mixed_label = np.zeros(top_label + 1, dtype=np.bool_)
    mixed_pid = np.zeros(top_old + 1, dtype=np.bool_)
    for i in range(n):
        if label[i] >= 0 and one_old[label[i]] != old[i]:
            mixed_label[label[i]] = True
        if old[i] >= 0 and one_label[old[i]] != label[i]:
            mixed_pid[old[i]] = True
    for i in range(n):
        if label[i] >= 0 and old[i] >= 0:
            same[i] = not mixed_label[label[i]] and not mixed_pid[old[i]]
    return same
