"""The segment catalogue: what the distributor reads of the resolver's segments.

    segments = Segments(home)
    segments.all()                       -> [SegmentInfo]
    segments.get("Sports fans")          -> SegmentInfo (names match ignoring case/spacing)
    segments.versions("Sports fans")     -> [VersionInfo]: members, added, removed, file
    segments.members("Sports fans")      -> person_key + the destination match keys
    segments.changes("Sports fans", 1, 2) -> who joined and who left between two versions
    segments.generation("Sports fans")   -> the partner's graph generation members reflect
    segments.commits("Sports fans", 4)   -> [Commit]: what changed them since generation 4
    segments.copy(name, new) / rename(name, new)

Members are persons of the partner's identity graph as it stands now: a version's member
rows are resolved through the latest graph, so a merge after the version was made counts.
Each member carries every match key the partner has for that person (one row per key),
plus the shared identifiers its rows carry; blocklisted junk never. The SHA-256 match keys
of the configured destination profile are decrypted in memory from the partner's sealed
graph for the caller; they are never written out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from resolver.errors import SegmentError
from resolver.graph.components import distinct
from resolver.graph.levels import BLOCKED, ERASED
from resolver.graph.persons import KeyScheme, PersonIndex, person_keys
from resolver.graph.state import GraphState
from resolver.graph.store import GraphStore
from resolver.home import Home
from resolver.kinds import FAMILIES, MATCH_COLUMNS, NODE_ID_COLUMNS
from resolver.pipeline.spool import MAID_TYPES
from resolver.segments.names import normalize_name
from resolver.segments.versions import copy_segment, rename_segment
from resolver.state.control import Control, SegmentRecord, VersionRecord
from resolver.state.graphdb import GraphDB
from resolver.state.seal import Sealer
from resolver.state.store import KEYS_SCHEMA, Store


@dataclass(frozen=True)
class SegmentInfo:
    name: str
    partner: str
    version: int
    members: int
    copy_of: str | None
    updated: float


@dataclass(frozen=True)
class VersionInfo:
    version: int
    members: int
    added: int
    removed: int
    file_id: int | None
    created: float


@dataclass(frozen=True)
class Commit:
    """A committed change of a partner's data (a file, an erasure, a rebuild): its graph
    generation, when it was committed, and the file that made it (None for the others).
    Every change to any segment's members of the partner is one."""

    generation: int
    committed: float
    file_id: int | None
    cause: str


class Segments:
    def __init__(self, home: Home) -> None:
        self.home = home
        self.control = Control(home.control_db)
        self.store = Store(home.store)
        self.graphs = GraphStore(home.store, GraphDB(self.control.database))
        self._graphs: dict[str, GraphState] = {}

    def close(self) -> None:
        self.control.close()

    def __enter__(self) -> Segments:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _record(self, name: str) -> SegmentRecord:
        record = self.control.segment(normalize_name(name))
        if record is None:
            raise SegmentError(
                f"there is no segment named {name!r}; `resolver status` lists the segments"
            )
        return record

    def _info(self, record: SegmentRecord) -> SegmentInfo:
        source = None
        if record.source_id is not None:
            source = self.control.segment_by_id(record.source_id).name
        return SegmentInfo(
            record.name, record.partner, record.version, record.members, source, record.updated
        )

    def all(self, partner: str | None = None) -> list[SegmentInfo]:
        return [self._info(record) for record in self.control.segments(partner)]

    def get(self, name: str) -> SegmentInfo:
        return self._info(self._record(name))

    def versions(self, name: str) -> list[VersionInfo]:
        return [_version(row) for row in self.control.versions(self._record(name).id)]

    def _rows(self, record: SegmentRecord, version: int | None) -> pl.DataFrame:
        version = record.version if version is None else version
        if version == 0:
            return self.store.members(None)
        row = self.control.version(record.id, version)
        if row is None:
            raise SegmentError(f"segment {record.name!r} has no version {version}")
        return self.store.members(row.path)

    def _graph(self, partner: str) -> GraphState:
        if partner not in self._graphs:
            self._graphs[partner] = self.graphs.load(partner, keys=False)
        return self._graphs[partner]

    def _scheme(self, partner: str) -> KeyScheme:
        ring = self.home.keyring()
        return KeyScheme(ring.person_key_key(partner), ring.derived_key_key(partner))

    def _member_pids(self, record: SegmentRecord, version: int | None) -> np.ndarray:
        rows = self._rows(record, version)
        pids = PersonIndex(self._graph(record.partner)).pids(rows)
        return distinct(pids[pids >= 0])

    def person_keys(self, name: str, version: int | None = None) -> pl.Series:
        """The person keys of a version's members (default: the latest), in today's graph."""
        record = self._record(name)
        pids = self._member_pids(record, version)
        return person_keys(self._graph(record.partner), pids, self._scheme(record.partner))

    def members(self, name: str, version: int | None = None) -> pl.DataFrame:
        """One row per member and match key: person_key (16 bytes) and one of
        email_sha256, phone_sha256, maid_sha256 (hex; the others null), maid_type ("idfa",
        "gaid" or null), for the members of the version (default: the latest): every
        identifier of each member person, and the shared ones its rows carry."""
        record = self._record(name)
        state = self._graph(record.partner)
        rows = self._rows(record, version)
        row_pids = PersonIndex(state).pids(rows)
        members = distinct(row_pids[row_pids >= 0])
        if len(members) == 0:
            return pl.DataFrame(schema=KEYS_SCHEMA)
        nodes = _member_nodes(state, members, rows, row_pids)
        return self._with_keys(record.partner, state, nodes)

    def _with_keys(self, partner: str, state: GraphState, nodes: pl.DataFrame) -> pl.DataFrame:
        """(node, pid) rows as person keys and match keys (KEYS_SCHEMA)."""
        current = self.graphs.db.current(partner)
        if current is None:
            return pl.DataFrame(schema=KEYS_SCHEMA)
        sealer = Sealer(self.home.keyring().partner_data_key(partner))
        wanted = distinct(nodes.get_column("node").to_numpy())
        keys = self.graphs.match_keys(partner, current, sealer, wanted)
        pids = distinct(nodes.get_column("pid").to_numpy())
        person = pl.DataFrame(
            {"pid": pids, "person_key": person_keys(state, pids, self._scheme(partner))}
        )
        frame = nodes.join(keys, on="node").join(person, on="pid")
        node = frame.get_column("node").to_numpy()
        frame = frame.with_columns(
            pl.Series("kind", state.kind[node]),
            pl.Series("mtype", state.mtype[node]).replace_strict(MAID_TYPE_NAMES, default=None),
        )
        return frame.select(
            "person_key",
            *(
                pl.when(pl.col("kind") == i).then(pl.col("match").bin.encode("hex")).alias(column)
                for i, column in enumerate(MATCH_COLUMNS)
            ),
            pl.when(pl.col("kind") == FAMILIES.index("maid"))
            .then(pl.col("mtype"))
            .alias("maid_type"),
        ).unique()

    def generation(self, name: str) -> int:
        """The committed graph generation of the segment's partner (0: none yet). Read it
        before `members`: members read after it reflect it or a later one."""
        current = self.graphs.db.current(self._record(name).partner)
        return 0 if current is None else current.generation

    def commits(self, name: str, after: int = 0, since: float = 0.0) -> list[Commit]:
        """The partner's commits after generation `after` and at or after time `since`,
        oldest first."""
        partner = self._record(name).partner
        return [
            Commit(g.generation, g.created, g.file_id, g.cause)
            for g in self.graphs.db.after(partner, after, since)
        ]

    def changes(self, name: str, old: int, new: int) -> tuple[pl.Series, pl.Series]:
        """(joined, left) person keys between two versions, in today's graph."""
        before, after = self.person_keys(name, old), self.person_keys(name, new)
        joined = after.filter(~after.is_in(before.implode()))
        left = before.filter(~before.is_in(after.implode()))
        return joined, left

    def copy(self, name: str, new_name: str) -> SegmentInfo:
        return self._info(copy_segment(self.control, name, new_name))

    def rename(self, name: str, new_name: str) -> SegmentInfo:
        return self._info(rename_segment(self.control, name, new_name))


def _version(row: VersionRecord) -> VersionInfo:
    return VersionInfo(row.version, row.members, row.added, row.removed, row.file_id, row.created)


MAID_TYPE_NAMES = {code: name for name, code in MAID_TYPES.items()}


def _member_nodes(
    state: GraphState, members: np.ndarray, rows: pl.DataFrame, row_pids: np.ndarray
) -> pl.DataFrame:
    """(node, pid): every sendable node of each member person, and each node its member
    rows carry (a shared identifier: sent for the rows that carry it)."""
    sendable = (state.base != BLOCKED) & (state.base != ERASED)
    own = np.flatnonzero(np.isin(state.pid, members) & sendable)
    frames = [pl.DataFrame({"node": own.astype(np.int32), "pid": state.pid[own]})]
    carried = rows.with_columns(pl.Series("pid", row_pids)).filter(pl.col("pid") >= 0)
    for column in NODE_ID_COLUMNS:
        part = carried.select(pl.col(column).alias("node"), "pid").drop_nulls("node")
        node = part.get_column("node").to_numpy()
        frames.append(part.filter(pl.Series(sendable[node])))
    return pl.concat(frames, how="vertical_relaxed").unique()
