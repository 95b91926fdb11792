"""From nodes to persons: which node a row is (its anchor), and person keys.

A row's anchor is its first identifier, in priority order (email, phone, MAID), that
links; a row whose identifiers are all shared or bridges is the person of its first
such identifier (each is a person of its own); a row whose identifiers are all
blocklisted has no person.

Person keys: a durable person (pid) of a partner's graph gets the keyed permutation of
its pid (resolver.keys.person_keys_of); a person made for one run only (a file resolved
outside a partner's graph, or a person `resolve` finds that the graph does not hold yet)
gets a key derived from its smallest node key, so the same file gives the same IDs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from resolver.graph.levels import BRIDGE, LINKED, SHARED
from resolver.graph.state import GraphState
from resolver.keys import derived_person_keys, person_keys_of
from resolver.kinds import NODE_ID_COLUMNS


@dataclass(frozen=True)
class KeyScheme:
    """pids below `durable` (all, when None) are durable persons of the graph."""

    maintained: bytes
    derived: bytes
    durable: int | None = None


def anchors(codes: NDArray[np.uint8], present: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Per row (rows × families), the column of its anchor identifier, or -1."""
    linking = present & (codes == LINKED)
    alone = present & ((codes == SHARED) | (codes == BRIDGE))
    first_linking = np.where(linking.any(axis=1), linking.argmax(axis=1), -1)
    first_alone = np.where(alone.any(axis=1), alone.argmax(axis=1), -1)
    return np.where(first_linking >= 0, first_linking, first_alone)


def person_keys(state: GraphState, pids: NDArray[np.int64], scheme: KeyScheme) -> pl.Series:
    """The person key of each pid (distinct pids >= 0), aligned with `pids`."""
    durable = np.ones(len(pids), dtype=bool)
    if scheme.durable is not None:
        durable = pids < scheme.durable
    out = pl.Series("person_key", [None] * len(pids), dtype=pl.Binary)
    if durable.any():
        index = pl.Series(np.flatnonzero(durable))
        out = out.scatter(index, person_keys_of(pids[durable], scheme.maintained))
    if not durable.all():
        index = pl.Series(np.flatnonzero(~durable))
        out = out.scatter(index, _derived(state, pids[~durable], scheme.derived))
    return out


def _derived(state: GraphState, pids: NDArray[np.int64], key: bytes) -> pl.Series:
    """Keys of one-run persons from each one's smallest node key."""
    wanted = np.isin(state.pid, pids)
    nodes = pl.DataFrame({"pid": state.pid[wanted], "hi": state.hi[wanted], "lo": state.lo[wanted]})
    smallest = nodes.sort("pid", "hi", "lo").unique("pid", keep="first")
    order = pl.DataFrame({"pid": pids}).join(smallest, on="pid", how="left", maintain_order="left")
    hi, lo = (order.get_column(c).fill_null(0).to_numpy() for c in ("hi", "lo"))
    return derived_person_keys(hi, lo, key)


class PersonIndex:
    """Who rows are, in one generation of a partner's graph: the anchor rule over node
    triples (email_node, phone_node, maid_node; null where a row has none)."""

    def __init__(self, state: GraphState) -> None:
        self.state = state

    def pids(self, triples: pl.DataFrame) -> NDArray[np.int64]:
        """The pid of each triple's row (-1: no person)."""
        if triples.height == 0:
            return np.empty(0, dtype=np.int64)
        columns = [triples.get_column(c).fill_null(-1).to_numpy() for c in NODE_ID_COLUMNS]
        nodes = np.stack(columns, axis=1).astype(np.int64)
        present = nodes >= 0
        safe = np.maximum(nodes, 0)
        codes = np.where(present, self.state.code[safe], 0).astype(np.uint8)
        anchor = anchors(codes, present)
        picked = np.take_along_axis(safe, np.maximum(anchor, 0)[:, None], axis=1)[:, 0]
        return np.where(anchor >= 0, self.state.pid[picked], -1)
