"""The compiled kernels of the linking rules (numba): pairs seen together, the MAID
choices, joins to one group, degrees, neighbours of a kind, unchanged persons. Import
through `kernels`, which falls back without numba; the general passes are in `_jit.py`."""

from __future__ import annotations

import numpy as np
from numba import njit

_jit = njit(cache=True, nogil=True, boundscheck=False)


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


@_jit
def beside_kind(kind, src, dst, k, wanted):
    """`levels.beside`: a row (y, x) for each edge from a kind-k node y to a node x of a
    kind `wanted` marks; the edges as src → dst first, then as dst → src, in edge order."""
    forward = 0
    backward = 0
    for e in range(len(src)):
        ks, kd = kind[src[e]], kind[dst[e]]
        forward += ks == k and wanted[kd]
        backward += kd == k and wanted[ks]
    y = np.empty(forward + backward, dtype=np.int32)
    x = np.empty(forward + backward, dtype=np.int32)
    f, b = 0, forward
    for e in range(len(src)):
        ks, kd = kind[src[e]], kind[dst[e]]
        if ks == k and wanted[kd]:
            y[f], x[f] = src[e], dst[e]
            f += 1
        if kd == k and wanted[ks]:
            y[b], x[b] = dst[e], src[e]
            b += 1
    return y, x


@_jit
def pairs_seen(kind, src, dst, start):
    """`levels.pair_counts`' pairs: for each node seen with two or more emails (kind 0),
    or phones (1), every pair of them as an int64 key a << 32 | b (a < b), once per node
    that sees both. Rows of a (node, kind) group are gathered by a counting sort whose
    table `start` comes in as 2 * len(kind) + 1 zeros (int32 when the rows fit)."""
    n = len(kind)
    seen = np.zeros(2 * n, dtype=np.uint8)  # per (node, kind): 0, 1, or 2 for two or more
    for e in range(len(src)):
        s, d = src[e], dst[e]
        if kind[d] < 2 and seen[2 * s + kind[d]] < 2:
            seen[2 * s + kind[d]] += 1
        if kind[s] < 2 and seen[2 * d + kind[s]] < 2:
            seen[2 * d + kind[s]] += 1
    for e in range(len(src)):
        s, d = src[e], dst[e]
        if kind[d] < 2 and seen[2 * s + kind[d]] == 2:
            start[2 * s + kind[d] + 1] += 1
        if kind[s] < 2 and seen[2 * d + kind[s]] == 2:
            start[2 * d + kind[s] + 1] += 1
    total = 0
    for g in range(2 * n):
        size = np.int64(start[g + 1])
        total += size * (size - 1) // 2
        start[g + 1] += start[g]
    members = np.empty(start[2 * n], dtype=np.int32)
    for e in range(len(src)):  # start[g] moves to the end of group g
        s, d = src[e], dst[e]
        if kind[d] < 2 and seen[2 * s + kind[d]] == 2:
            members[start[2 * s + kind[d]]] = d
            start[2 * s + kind[d]] += 1
        if kind[s] < 2 and seen[2 * d + kind[s]] == 2:
            members[start[2 * d + kind[s]]] = s
            start[2 * d + kind[s]] += 1
    return _each_pair(members, start, total)


@_jit
def _each_pair(members, end, total):
    """Every pair of members of each group g (members[end[g - 1]:end[g]]) as an int64 key
    a << 32 | b, a < b; `total` of them."""
    out = np.empty(total, dtype=np.int64)
    k = 0
    begin = 0
    for g in range(len(end) - 1):
        for p in range(begin, end[g]):
            for q in range(p + 1, end[g]):
                a, b = np.int64(members[p]), np.int64(members[q])
                out[k] = (a << 32) | b if a < b else (b << 32) | a
                k += 1
        begin = end[g]
    return out


@_jit
def holds(kind, code, group, k, linked):
    """`levels.holds`: per group label, whether a member of kind k has code `linked`."""
    out = np.zeros(len(kind), dtype=np.bool_)
    for i in range(len(kind)):
        if kind[i] == k and code[i] == linked:
            out[group[i]] = True
    return out


@_jit
def over_degree(kind, code, src, dst, blocked, max_links):
    """`link.degree_shared`: nodes seen with more than `max_links` distinct nodes of one
    kind whose code is not `blocked` (edges are unique). Counts per kind are kept only for
    nodes whose whole degree is over, numbered in `slot`."""
    n = len(kind)
    slot = np.zeros(n, dtype=np.int32)  # the degree first, then the number of a busy node
    for e in range(len(src)):
        if code[dst[e]] != blocked:
            slot[src[e]] += 1
        if code[src[e]] != blocked:
            slot[dst[e]] += 1
    busy = 0
    marks = np.zeros((n + 7) // 8, dtype=np.uint8)  # the busy nodes: small enough to cache
    for v in range(n):
        if slot[v] > max_links:
            slot[v] = busy
            busy += 1
            marks[v >> 3] |= np.uint8(1 << (v & 7))
        else:
            slot[v] = -1
    shared = np.zeros(n, dtype=np.bool_)
    if busy == 0:
        return shared
    counts = np.zeros(busy * 4, dtype=np.int32)  # per busy node, per kind (kinds < 4)
    for e in range(len(src)):
        s, d = src[e], dst[e]
        if (marks[s >> 3] >> (s & 7)) & 1 and code[d] != blocked:
            counts[slot[s] * 4 + kind[d]] += 1
        if (marks[d >> 3] >> (d & 7)) & 1 and code[s] != blocked:
            counts[slot[d] * 4 + kind[s]] += 1
    for v in range(n):
        if slot[v] >= 0:
            for j in range(4):
                if counts[slot[v] * 4 + j] > max_links:
                    shared[v] = True
    return shared


@_jit
def numbered(space, at, kept_label, kept_old, next_pid):
    """`stable._numbered`: per label, fresh (a changed person, `at`, that kept no pid)
    and its pid: new ones from `next_pid` in label order, else the old pid it kept."""
    fresh = np.zeros(space, dtype=np.bool_)
    for v in at:
        fresh[v] = True
    for v in kept_label:
        fresh[v] = False
    rank = np.empty(space, dtype=np.int64)
    running = np.int64(next_pid - 1)
    for v in range(space):
        running += fresh[v]
        rank[v] = running
    for i in range(len(kept_label)):
        rank[kept_label[i]] = kept_old[i]
    return fresh, rank


@_jit
def put_ranks(pid, live, label, rank):
    """pid[i] = rank[label[i]] where live[i]."""
    for i in range(len(pid)):
        if live[i]:
            pid[i] = rank[label[i]]
