"""The partners' graphs as the service uses them: one file at a time, under the partner's
lock, the latest generation kept in memory between files.

A data file: its keys are looked up, its edges applied (after a rebuild when the rules
changed since the graph was built), and the change staged as a pending generation that
commits with the file. An opt-out file only looks its identifiers up: it never adds to
the graph. Rows carrying an identifier erased by `forget` stay out of the graph, unless
the file's sidecar readmits them (`readmit_forgotten = true`), which lifts those
tombstones in the same generation.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from numpy.typing import NDArray

from resolver.graph.blocklist import NO_KEYS, blocked, blocklist_keys
from resolver.graph.persons import KeyScheme, person_keys
from resolver.graph.rules import GraphRules
from resolver.graph.state import GraphState
from resolver.graph.store import GraphStore, Staged
from resolver.graph.update import Change, apply, rebuild
from resolver.home import Home
from resolver.keys import KeyRing, encode_person_ids
from resolver.pipeline.settle import Settled
from resolver.pipeline.spool import Keyed, Spool
from resolver.state.control import Control
from resolver.state.graphdb import Generation, GraphDB
from resolver.state.seal import Sealer
from resolver.state.store import Store


@dataclass
class FileGraph:
    """A file's place in its partner's graph between processing and commit."""

    state: GraphState
    keyed: Keyed
    settled: Settled
    change: Change = field(default_factory=Change)
    generation: Generation | None = None  # pending; None for an opt-out file


class Graphs:
    def __init__(self, home: Home, control: Control, keyring: KeyRing) -> None:
        self.home = home
        self.control = control
        self.segment_store = Store(home.store)
        self.db = GraphDB(control.database)
        self.store = GraphStore(home.store, self.db)
        self.keyring = keyring
        self.rules = GraphRules.from_settings(home.settings.graph)
        self._cached: tuple[str, int, GraphState] | None = None

    def scheme(self, partner: str) -> KeyScheme:
        return KeyScheme(
            self.keyring.person_key_key(partner), self.keyring.derived_key_key(partner)
        )

    def sealer(self, partner: str) -> Sealer:
        return Sealer(self.keyring.partner_data_key(partner))

    def state(self, partner: str, generation: Generation | None = None) -> GraphState:
        """A generation's graph (default: the latest committed), from memory when it is
        the one the last file left."""
        gen = generation or self.db.current(partner)
        number = 0 if gen is None else gen.generation
        if self._cached is not None and self._cached[:2] == (partner, number):
            return self._cached[2]
        state = self.store.load(partner, gen)
        self._cached = (partner, number, state)
        return state

    def forget_cache(self) -> None:
        self._cached = None

    # -- a file -----------------------------------------------------------------------

    def take(
        self, partner: str, file_id: int, spool: Spool, readmit: bool, optout: bool
    ) -> FileGraph:
        """Look the file up in (and, for a data file, apply it to) the partner's graph."""
        state = self.state(partner)
        tombstones = self.tombstones(partner)
        junk = blocklist_keys(self.keyring.node_hmac_key)
        if optout:
            keyed = spool.keyed(junk, tombstones)
            ids = state.lookup(keyed.nodes.hi, keyed.nodes.lo) if state.nodes else _none(keyed)
            return FileGraph(state, keyed, Settled.of(state, ids, self.scheme(partner)))
        lifted: pl.DataFrame | None = None
        if readmit:  # the tombstones of what this file carries are lifted
            lifted, tombstones = tombstones, NO_KEYS
        keyed = spool.keyed(junk, tombstones)
        change = self._relink(state, partner)
        first_new, edges_from = state.nodes, state.edges
        change = change.then(apply(state, keyed.nodes, self.rules))
        added = np.flatnonzero(change.ids >= first_new)
        new: NDArray[np.int32] = added[np.argsort(change.ids[added])].astype(np.int32)
        kept = None if lifted is None else _without(lifted, keyed)
        match = spool.match_keys(keyed, new)
        staged = Staged("file", file_id, first_new, edges_from, match, tombstones=kept)
        generation = self.store.stage(partner, state, change, staged, self.sealer(partner))
        self._cached = (partner, generation.generation, state)
        settled = Settled.of(state, change.ids, self.scheme(partner))
        return FileGraph(state, keyed, settled, change, generation)

    def _relink(self, state: GraphState, partner: str) -> Change:
        """A rebuild first when the graph was built under other rules."""
        if state.nodes == 0 or state.rules_version == self.rules.version:
            state.rules_version = self.rules.version
            return Change()
        return rebuild(
            state,
            blocked(state.hi, state.lo, blocklist_keys(self.keyring.node_hmac_key)),
            self.rules,
        )

    def tombstones(self, partner: str) -> pl.DataFrame:
        current = self.db.current(partner)
        if current is None:
            return NO_KEYS
        found = self.store.frame(partner, current, "tombstones")
        return found if not found.is_empty() else NO_KEYS

    def discard(self, file_id: int) -> None:
        """Forget the pending generation of a file that is redone or set aside."""
        pending = self.db.pending_of(file_id)
        if pending is not None:
            self.store.discard(pending.partner, pending.generation)
            self.forget_cache()

    def committing(self, file_id: int) -> Callable[[sqlite3.Connection], None] | None:
        """What the file's commit transaction must also do: commit its generation."""
        pending = self.db.pending_of(file_id)
        if pending is None:
            return None
        return lambda db: GraphDB.mark_committed(db, pending.partner, pending.generation)

    def pending_state(self, partner: str, file_id: int) -> GraphState:
        """The graph a processed file's segments are computed with."""
        pending = self.db.pending_of(file_id)
        return self.state(partner, pending) if pending is not None else self.state(partner)

    def retired(self, partner: str, state: GraphState, change: Change) -> pl.DataFrame:
        """The person_ids (the partner's encoding) a change retired, and into which."""
        merged = change.events.filter(pl.col("event") == "merged")
        if merged.is_empty():
            return pl.DataFrame(
                schema={"retired_person_id": pl.String(), "survivor_person_id": pl.String()}
            )
        scheme, key = self.scheme(partner), self.keyring.partner_id_key(partner)
        ids = [
            encode_person_ids(person_keys(state, merged.get_column(c).to_numpy(), scheme), key)
            for c in ("pid", "other")
        ]
        return pl.DataFrame({"retired_person_id": ids[0], "survivor_person_id": ids[1]})


def _without(tombstones: pl.DataFrame, keyed: Keyed) -> pl.DataFrame:
    carried = pl.DataFrame({"hi": keyed.nodes.hi, "lo": keyed.nodes.lo})
    return tombstones.join(carried, on=["hi", "lo"], how="anti")


def _none(keyed: Keyed) -> np.ndarray:
    return np.full(len(keyed.nodes.hi), -1, dtype=np.int32)


def partner_graph(home: Home, partner: str) -> GraphState | None:
    """A partner's latest graph, to resolve a file against without changing it (None when
    the partner has none in this home)."""
    if not home.control_db.exists():
        return None
    with Control(home.control_db) as control:
        db = GraphDB(control.database)
        if db.current(partner) is None:
            return None
        return GraphStore(home.store, db).load(partner)
