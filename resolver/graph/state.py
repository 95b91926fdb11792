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

from resolver.graph import kernels
from resolver.graph.components import ID, Ids
from resolver.graph.levels import ERASED  # noqa: F401  (a forgotten identifier's slot)

U64 = NDArray[np.uint64]
ARRAYS = ("hi", "lo", "kind", "base", "code", "raw", "pid", "mtype", "src", "dst")


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
    # per array name, the buffer it starts (see _append); an array replaced by another
    # simply stops starting its buffer
    _room: dict[str, NDArray] = field(  # type: ignore[type-arg]
        default_factory=dict, repr=False, compare=False
    )
    # the key index (see _indexed) and how many nodes it holds; nodes only ever append
    _index: tuple[Ids, int] = field(
        default_factory=lambda: (_empty(ID), 0), repr=False, compare=False
    )
    _scratch: Ids = field(default_factory=lambda: _empty(ID), repr=False, compare=False)

    @property
    def nodes(self) -> int:
        return len(self.kind)

    @property
    def edges(self) -> int:
        return len(self.src)

    def lookup(self, hi: U64, lo: U64) -> Ids:
        """The node id of each key, or -1 for a key the graph does not hold. A large
        graph keeps a hash index of its keys (`_index`); a small one joins: it filters
        the graph's keys by `hi` first, so the join is only as big as the query."""
        if kernels.wanted(self.nodes):
            table = self._indexed()
            self.scratch()  # made with the index, once a load, not by the first update
            ids = np.empty(len(hi), dtype=ID)
            pieces = [
                (table, self.hi, self.lo, hi[a:b], lo[a:b], ids[a:b])
                for a, b in kernels.cuts(len(hi))
            ]
            kernels.across_cores("index_find", pieces)
            return ids
        query = pl.DataFrame({"hi": hi, "lo": lo}).with_row_index("at")
        known = pl.DataFrame({"hi": self.hi, "lo": self.lo}).with_row_index("id")
        known = known.filter(pl.col("hi").is_in(query.get_column("hi").implode()))
        found = query.join(known, on=["hi", "lo"], how="left")
        ids = np.full(len(hi), -1, dtype=ID)
        hit = found.filter(pl.col("id").is_not_null())
        ids[hit.get_column("at").to_numpy()] = hit.get_column("id").to_numpy()
        return ids

    def _indexed(self) -> Ids:
        """The hash index of the node keys (node ids in an open-addressing table at most
        half full), made at the first lookup of a large graph and brought up to date
        with the nodes added since: 0.5 GiB at 53M nodes, where a join of a file's 11M
        keys against the graph's took 2.4 s and the index takes 0.6 s."""
        table, done = self._index
        if len(table) == 0 or 2 * self.nodes > len(table):
            size = 1 << max(20, (2 * self.nodes - 1).bit_length())
            table, done = np.full(size, -1, dtype=ID), 0
        kernels.use("index_add")(table, self.hi, self.lo, done, self.nodes)
        self._index = (table, self.nodes)
        return table

    def add_nodes(self, hi: U64, lo: U64, kind: NDArray[np.uint8], base: NDArray[np.uint8]) -> Ids:
        """Append nodes (linking as themselves, no person yet); returns their ids."""
        self.add_keys(hi, lo)
        return self.add_rows(kind, base)

    def add_keys(self, hi: U64, lo: U64) -> None:
        """The first half of `add_nodes`, which an update may do beside its other work:
        nothing reads the keys until the next lookup."""
        self.hi = self._append("hi", hi)
        self.lo = self._append("lo", lo)

    def add_rows(self, kind: NDArray[np.uint8], base: NDArray[np.uint8]) -> Ids:
        """The second half of `add_nodes`: everything but the keys."""
        first = self.nodes
        ids = np.arange(first, first + len(kind), dtype=ID)
        self.kind = self._append("kind", kind)
        self.base = self._append("base", base)
        self.code = self._append("code", base)
        self.raw = self._append("raw", ids)
        self.pid = self._append("pid", -1, len(kind))
        self.mtype = self._append("mtype", 0, len(kind))
        return ids

    def scratch(self) -> Ids:
        """A node-long int32 array, all -1, kept between updates (at 53M nodes, 0.2 GiB
        that each update allocated and filled anew); whoever writes into it puts -1 back
        before the next use. It grows with a quarter to spare."""
        if len(self._scratch) < self.nodes:
            self._scratch = np.full(self.nodes + self.nodes // 4, -1, dtype=ID)
        return self._scratch

    def add_edges(self, src: Ids, dst: Ids) -> None:
        self.src = self._append("src", src)
        self.dst = self._append("dst", dst)

    def reserve(self) -> None:
        """Room behind every array for as much again (what loading a graph does, so the
        files after it append in place)."""
        for name in ARRAYS:
            current = getattr(self, name)
            room = self._room.get(name)
            if room is None or len(room) < 2 * len(current) or not _starts(current, room):
                setattr(self, name, self._regrow(name, current, len(current))[: len(current)])

    def _append(
        self,
        name: str,
        values: NDArray | int,  # type: ignore[type-arg]
        count: int | None = None,
    ) -> NDArray:  # type: ignore[type-arg]
        """The array `name` with `values` after it (or `count` times the one value).
        Appends go into spare room kept
        behind the array (twice what is needed when it grows): a file then writes only
        its own nodes and edges, where copying every array of a 53M-node graph took 2.3
        s of a 30 s update. Room never written is address space only, not memory."""
        current = getattr(self, name)
        n = len(current)
        k = count if count is not None else len(values)  # type: ignore[arg-type]
        room = self._room.get(name)
        if room is None or len(room) < n + k or not _starts(current, room):
            room = self._regrow(name, current, n + k)
        room[n : n + k] = values
        return room[: n + k]

    def _regrow(self, name: str, current: NDArray, size: int) -> NDArray:  # type: ignore[type-arg]
        """A new buffer for `name` that starts with `current` and holds 2 * size."""
        room = np.empty(2 * size, dtype=current.dtype)
        room[: len(current)] = current
        self._room[name] = room
        return room

    def person_nodes(self, pid: int) -> Ids:
        return np.flatnonzero(self.pid == pid).astype(ID)


def _starts(array: NDArray, buffer: NDArray) -> bool:  # type: ignore[type-arg]
    """Whether `array` is a view of the first elements of `buffer`."""
    return array.base is buffer and array.ctypes.data == buffer.ctypes.data
