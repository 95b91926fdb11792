"""Connected components over dense integer node ids, labelled by their smallest node.

Labelling a component by its smallest node id (rather than scipy's arbitrary label
order) makes labels comparable between a full rebuild and an incremental update of the
same edges, and lets a label double as a node id. Node ids and labels are int32 (a
partner's graph holds fewer than 2^31 identifiers), which halves the memory of 100M edges.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from resolver.graph import kernels

try:  # the kernel behind connected_components(directed=False); see _labels
    from scipy.sparse.csgraph._traversal import (
        _connected_components_undirected as _undirected,
    )
except ImportError:  # pragma: no cover - another scipy
    _undirected = None

Ids = NDArray[np.int32]
ID = np.int32
N = TypeVar("N", bound=np.integer)


def components(n: int, src: NDArray[np.integer], dst: NDArray[np.integer]) -> Ids:
    """Per node 0..n-1, the smallest node id of its component over the edges (src, dst)."""
    if kernels.wanted(len(src)):
        found: Ids = kernels.use("smallest_components")(n, src, dst)
        return found
    labels = np.arange(n, dtype=ID)
    if len(src) == 0:
        return labels
    if 4 * len(src) < n:  # few edges: work on the nodes they touch only
        touched, local = dense(np.concatenate([src, dst]), n)
        m = len(src)
        labels[touched] = touched[_smallest(len(touched), local[:m], local[m:])]
        return labels
    return _smallest(n, src, dst)


def _labels(n: int, src: NDArray[np.integer], dst: NDArray[np.integer]) -> tuple[int, Ids]:
    """scipy's connected components (component numbers in order of each one's smallest
    node). Its public function copies the graph's weights to float64 and builds the
    transpose with float64 weights too: 4.4 GiB beside 100M edges. Its undirected kernel
    needs only the two index structures, so it is called directly when scipy has it
    (same labels; tests/resolver/graph/test_components.py compares), the public one otherwise."""
    ones = np.ones(len(src), dtype=np.int8)
    forward = csr_matrix((ones, (src, dst)), shape=(n, n))
    if _undirected is None or forward.indices.dtype != ID:
        count, found = connected_components(forward, directed=False)
        return int(count), found.astype(ID, copy=False)
    backward = csr_matrix((ones, (dst, src)), shape=(n, n))
    del ones
    out, into = (forward.indices, forward.indptr), (backward.indices, backward.indptr)
    del forward, backward  # and their int8 weights
    labels = np.full(n, -1, dtype=ID)
    count = _undirected(*out, *into, labels)
    return int(count), labels


def _smallest(n: int, src: NDArray[np.integer], dst: NDArray[np.integer]) -> Ids:
    count, labels = _labels(n, src, dst)
    # scipy numbers components as it meets them scanning nodes 0..n-1, so a component's
    # smallest node is where its label first appears: a running maximum finds them all
    seen = np.maximum.accumulate(labels)
    first = np.flatnonzero(np.concatenate([[True], labels[1:] > seen[:-1]]))
    if len(first) == count and (labels[first] == np.arange(count)).all():
        smallest = first.astype(ID)
    else:  # another numbering: the slow, general way
        smallest = np.full(count, n, dtype=ID)
        np.minimum.at(smallest, labels, np.arange(n, dtype=ID))
    out: Ids = smallest[labels]
    return out


def distinct(values: NDArray[N]) -> NDArray[N]:
    """The sorted distinct values of an integer array. numpy 2.4's `np.unique` hashes
    integers, about 25 times slower than sorting at 20M values (27 s against 1 s here)."""
    ordered = sort(values)
    if len(ordered) < 2:
        return ordered
    out: NDArray[N] = ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])]
    return out


def distinct_counts(values: NDArray[N]) -> tuple[NDArray[N], NDArray[np.int64]]:
    """The sorted distinct values and how often each occurs."""
    ordered = sort(values)
    if len(ordered) == 0:
        return ordered, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    return ordered[starts], np.diff(np.append(starts, len(ordered)))


def sort(values: NDArray[N]) -> NDArray[N]:
    """Sorted values. Polars sorts large arrays on both cores, and about 3.5 times
    quicker than `np.sort` on one (11M int64: 0.32 s against 1.1 s here)."""
    if len(values) < kernels.SMALL:
        return np.sort(values)
    out: NDArray[N] = pl.Series(values).sort().to_numpy()
    return out


def tally(n: int, ids: NDArray[np.integer], out: Ids | None = None) -> Ids:
    """How often each of 0..n-1 occurs in `ids` (added to `out` when given), in int32:
    half the memory of np.bincount's int64, and quicker with an int32 one (1.6 s against
    2.9 s for 50M ids over 88M nodes here; a Python 1 takes ufunc.at's slow path)."""
    counts = np.zeros(n, dtype=ID) if out is None else out
    if kernels.wanted(len(ids)):
        kernels.use("tally")(counts, ids)
    else:
        np.add.at(counts, ids, ID(1))
    return counts


def mask(n: int, ids: NDArray[np.integer]) -> NDArray[np.bool_]:
    """A boolean array over 0..n-1, true at `ids`."""
    out = np.zeros(n, dtype=bool)
    out[ids] = True
    return out


def dense(ids: NDArray[np.integer], n: int) -> tuple[Ids, Ids]:
    """The distinct ids (0 <= id < n), sorted, and each id's position among them: a mask
    over 0..n-1 and a running count, no sort."""
    present = mask(n, ids)
    rank = np.cumsum(present, dtype=ID)  # ids < 2^31
    rank -= 1
    return np.flatnonzero(present).astype(ID), rank[ids]


def merge(labels: Ids, a: NDArray[np.integer], b: NDArray[np.integer]) -> Ids:
    """Labels after also joining the groups labelled a[i] and b[i] (labels are node ids)."""
    if len(a) == 0:
        return labels
    joined = components(len(labels), a, b)
    return joined[labels]


def canonical(labels: Ids) -> Ids:
    """Relabel every group by its smallest member."""
    if kernels.wanted(len(labels)):
        found: Ids = kernels.use("canonical")(labels)
        return found
    n = len(labels)
    smallest = np.full(n, n, dtype=ID)
    np.minimum.at(smallest, labels, np.arange(n, dtype=ID))
    out: Ids = smallest[labels]
    return out
