"""`resolver forget`: a partner's right-to-erasure request, applied to its graph.

Every person holding any identifier of the request file is removed: their identifiers'
node keys and match keys are overwritten (the graph's parts are rewritten without them
and the old parts deleted), their edges dropped, their pids retired; the graph is then
rebuilt, since people who shared an identifier with them may link differently now.
Every segment of the partner loses the rows that carried them (a new version), so the
next sync deletes their match keys at every destination. Tombstones (the erased node
keys, and those of the request itself) keep a re-sent old file from bringing them back:
its rows that carry a tombstoned identifier are left out and reported as "forgotten",
until a file whose sidecar says `readmit_forgotten = true` brings them back on purpose.

Not covered here: sealed raw files kept for retention (`inbox.raw_retention_days`) keep
the request's identifiers until they expire, and the distributor's sealed history of
what it sent keeps their match keys until the deletes are sent.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from resolver.graph.blocklist import NO_KEYS, blocked, blocklist_keys
from resolver.graph.components import distinct
from resolver.graph.levels import ERASED
from resolver.graph.partner import Graphs
from resolver.graph.persons import PersonIndex
from resolver.graph.stable import EVENT_SCHEMA
from resolver.graph.state import GraphState
from resolver.graph.store import Staged
from resolver.graph.update import rebuild
from resolver.partners import resolve_options
from resolver.pipeline.run import resolve_file
from resolver.pipeline.spool import Spool
from resolver.segments.versions import erased_changes, follow_copies, new_versions, write_snapshots
from resolver.state.graphdb import GraphDB
from resolver.state.seal import Sealer


@dataclass
class Forgotten:
    """What an erasure did, in counts (the partner's report)."""

    file: str
    rows: int = 0
    identifiers_in_request: int = 0
    identifiers_found: int = 0
    persons: int = 0
    identifiers_erased: int = 0
    segments: dict[str, int] = field(default_factory=dict)  # name -> members removed
    generation: int | None = None


def forget(graphs: Graphs, partner: str, path: Path, options_tmp: Path) -> Forgotten:
    """Erase everyone the request file at `path` names (see the module docstring)."""
    result = Forgotten(file=path.name)
    with graphs.store.lock(partner):
        state = graphs.store.load(partner)
        keys = _request_keys(graphs, partner, path, options_tmp, result)
        ids = state.lookup(keys.get_column("hi").to_numpy(), keys.get_column("lo").to_numpy())
        found = ids[ids >= 0]
        pids = distinct(state.pid[found][state.pid[found] >= 0])
        erased = np.isin(state.pid, pids) if len(pids) else np.zeros(state.nodes, dtype=bool)
        erased[found] = True
        result.identifiers_found, result.persons = len(found), len(pids)
        result.identifiers_erased = int(erased.sum())
        if not erased.any():
            return result
        tombstones = pl.concat([graphs.tombstones(partner), keys, _keys_of(state, erased)]).unique()
        _stage(graphs, partner, state, (erased, pids), tombstones, result)
    return result


def _request_keys(
    graphs: Graphs, partner: str, path: Path, tmp: Path, result: Forgotten
) -> pl.DataFrame:
    """The node keys of every identifier in the request file (pass one only)."""
    options = resolve_options(graphs.home, partner, tmpdir=tmp)
    resolution = resolve_file(path, partner=partner, keyring=graphs.keyring, options=options)
    with tempfile.TemporaryDirectory(dir=tmp) as folder, resolution:
        spool = Spool(Path(folder) / "spool", Sealer(os.urandom(32)), "forget")
        resolution.spool(spool)
        keyed = spool.keyed(NO_KEYS, NO_KEYS)
    result.rows = resolution.report.rows
    result.identifiers_in_request = len(keyed.nodes.hi)
    return pl.DataFrame({"hi": keyed.nodes.hi, "lo": keyed.nodes.lo})


def _keys_of(state: GraphState, mask: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame({"hi": state.hi[mask], "lo": state.lo[mask]})


def _erase(state: GraphState, erased: np.ndarray) -> None:
    """Overwrite the erased nodes' keys and drop their edges; their slots stay empty."""
    state.hi[erased], state.lo[erased] = 0, 0
    state.base[erased] = state.code[erased] = ERASED
    state.mtype[erased] = 0
    keep = ~(erased[state.src] | erased[state.dst])
    state.src, state.dst = state.src[keep], state.dst[keep]


def _stage(
    graphs: Graphs,
    partner: str,
    state: GraphState,
    erasure: tuple[np.ndarray, np.ndarray],
    tombstones: pl.DataFrame,
    result: Forgotten,
) -> None:
    """The erased graph as a new generation (every part rewritten) and the segments'
    new versions, committed in one transaction; then the old parts are deleted."""
    erased, pids = erasure  # the node mask and the pids it removes
    current = graphs.db.current(partner)
    assert current is not None
    sealer = graphs.sealer(partner)
    match = graphs.store.all_match_keys(partner, current, sealer)
    match = match.with_columns(
        pl.when(pl.Series(erased)).then(pl.lit(b"", pl.Binary)).otherwise(pl.col("match"))
    )
    junk = blocked(state.hi, state.lo, blocklist_keys(graphs.keyring.node_hmac_key))
    before = PersonIndex(GraphState(code=state.code.copy(), pid=state.pid.copy()))
    _erase(state, erased)
    change = rebuild(state, junk & ~erased, graphs.rules)
    retired = pl.DataFrame({"event": "retired", "pid": pids, "other": None}, schema=EVENT_SCHEMA)
    change.events = pl.concat([change.events, retired])
    staged = Staged("forget", None, 0, 0, match, compact=True, tombstones=tombstones, pending=True)
    generation = graphs.store.stage(partner, state, change, staged, sealer)
    graphs.forget_cache()
    index = PersonIndex(state)
    indexes = (before, index)
    changes = erased_changes(graphs.control, graphs.segment_store, indexes, partner, erased)
    changes += follow_copies(graphs.control, graphs.segment_store, index, changes)
    write_snapshots(graphs.segment_store, f"g{generation.generation}-{partner}", changes)
    graphs.control.record_versions(
        new_versions(partner, changes),
        lambda db: GraphDB.mark_committed(db, partner, generation.generation),
    )
    result.segments = {c.name: c.removed for c in changes}
    result.generation = generation.generation
    graphs.store.sweep(partner)
