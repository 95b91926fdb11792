"""A partner's identity graph in memory: per node, per edge, as numpy arrays.

Nodes have dense ids 0..n-1 in the order they were first seen, and keep them for good
(a refresh only looks up its own keys; a rebuild recomputes persons, never ids). Per node:
its 128-bit node key (hi, lo: the first 16 bytes of the HMAC node key), kind (email 0,
phone 1, MAID 2), `base` (what the identifier itself is: linking, blocklisted, shared, or
erased), `code` (why it stops linking, base plus the bridge rule), `raw` (its raw
component, for incremental updates), `pid` (its person's durable id; -1: none) and, for
a MAID, `mtype` (1 IDFA, 2 GAID, 0 not known: sent as both).
Edges are unique pairs src < dst.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
from numpy.typing import NDArray

from resolver.graph.components import ID, Ids
from resolver.graph.levels import ERASED  # noqa: F401  (a forgotten identifier's slot)

U64 = NDArray[np.uint64]


def _empty(dtype: type) -> NDArray:  # type: ignore[type-arg]
    return np.empty(0, dtype=dtype)


@dataclass
class GraphState:
    hi: U64 = field(default_factory=lambda: _empty(np.uint64))
    lo: U64 = field(default_factory=lambda: _empty(np.uint64))
    kind: NDArray[np.uint8] = field(default_factory=lambda: _empty(np.uint8))
    base: NDArray[np.uint8] = field(default_factory=lambda: _empty(np.uint8))
    code: NDArray[np.uint8] = field(default_factory=lambda: _empty(np.uint8))
    raw: Ids = field(default_factory=lambda: _empty(ID))
    pid: NDArray[np.int64] = field(default_factory=lambda: _empty(np.int64))
    mtype: NDArray[np.uint8] = field(default_factory=lambda: _empty(np.uint8))
    src: Ids = field(default_factory=lambda: _empty(ID))
    dst: Ids = field(default_factory=lambda: _empty(ID))
    next_pid: int = 0
    rules_version: str = ""

    @property
    def nodes(self) -> int:
        return len(self.kind)

    @property
    def edges(self) -> int:
        return len(self.src)

    def lookup(self, hi: U64, lo: U64) -> Ids:
        """The node id of each key, or -1 for a key the graph does not hold. Filters the
        graph's keys by `hi` first, so the join is only as big as the query."""
        query = pl.DataFrame({"hi": hi, "lo": lo}).with_row_index("at")
        known = pl.DataFrame({"hi": self.hi, "lo": self.lo}).with_row_index("id")
        known = known.filter(pl.col("hi").is_in(query.get_column("hi").implode()))
        found = query.join(known, on=["hi", "lo"], how="left")
        ids = np.full(len(hi), -1, dtype=ID)
        hit = found.filter(pl.col("id").is_not_null())
        ids[hit.get_column("at").to_numpy()] = hit.get_column("id").to_numpy()
        return ids

    def add_nodes(self, hi: U64, lo: U64, kind: NDArray[np.uint8], base: NDArray[np.uint8]) -> Ids:
        """Append nodes (linking as themselves, no person yet); returns their ids."""
        first = self.nodes
        ids = np.arange(first, first + len(hi), dtype=ID)
        self.hi = np.concatenate([self.hi, hi])
        self.lo = np.concatenate([self.lo, lo])
        self.kind = np.concatenate([self.kind, kind])
        self.base = np.concatenate([self.base, base])
        self.code = np.concatenate([self.code, base])
        self.raw = np.concatenate([self.raw, ids])
        self.pid = np.concatenate([self.pid, np.full(len(hi), -1, dtype=np.int64)])
        self.mtype = np.concatenate([self.mtype, np.zeros(len(hi), dtype=np.uint8)])
        return ids

    def add_edges(self, src: Ids, dst: Ids) -> None:
        self.src = np.concatenate([self.src, src])
        self.dst = np.concatenate([self.dst, dst])

    def person_nodes(self, pid: int) -> Ids:
        return np.flatnonzero(self.pid == pid).astype(ID)
