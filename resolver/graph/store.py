"""A home's identity graphs on disk: store/graph/<partner>/, one folder per partner.

nodes/n<first>-g<gen>.parquet  node keys (hi, lo) of ids first.. (from the file that saw
                               them first, or from a compaction)
keys/k<first>-g<gen>.bin       their destination match keys, sealed
edges/e<generation>.parquet   the edges a generation added (src, dst)
state/s<generation>.parquet   per node: kind, base, code, raw, pid, mtype (the whole graph)
events/v<generation>.parquet  merged, split and retired pids of a generation
tombstones/t<generation>.parquet   node keys erased by `resolver forget` (hi, lo)

Every file is written tmp → fsync → rename and never changed; the control database's
graph tables (state/graphdb.py) are the manifest, so a crash leaves orphans, never a torn
graph, and `sweep` removes them. A partner's graph changes under its lock (`.lock`).
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from resolver.errors import StoreError
from resolver.graph.state import GraphState
from resolver.graph.update import Change
from resolver.state.atomic import private_dir, write_atomic
from resolver.state.graphdb import COMMITTED, PENDING, Generation, GraphDB, Part
from resolver.state.seal import Sealer

STATE_COLUMNS = ("kind", "base", "code", "raw", "pid", "mtype")
KEYS_SCHEMA = {"match": pl.Binary()}


@dataclass(frozen=True)
class Staged:
    """What one change adds to a partner's graph on disk (see GraphStore.stage)."""

    cause: str
    file_id: int | None
    first_new: int  # nodes from here on are new
    edges_from: int  # edges from here on are new
    match: pl.DataFrame | None  # match keys of the new nodes, in id order
    compact: bool = False  # rewrite every part (erasure), dropping the old ones
    tombstones: pl.DataFrame | None = None  # a new set of tombstones replacing the old
    pending: bool | None = None  # recorded pending (default: for a file's change)


def _bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", compression_level=1)
    return buffer.getvalue()


class GraphStore:
    def __init__(self, store_root: Path, db: GraphDB) -> None:
        self.root = store_root
        self.db = db

    def folder(self, partner: str) -> Path:
        return self.root / "graph" / partner

    @contextmanager
    def lock(self, partner: str) -> Iterator[None]:
        """One change of a partner's graph at a time (waits for the holder)."""
        folder = private_dir(self.folder(partner))
        fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    # -- reading --------------------------------------------------------------------

    def load(
        self, partner: str, generation: Generation | None = None, *, keys: bool = True
    ) -> GraphState:
        """The graph at a generation (default: the latest committed; empty if none).
        `keys=False` leaves out node keys and edges (enough to resolve persons)."""
        gen = generation or self.db.current(partner)
        if gen is None:
            return GraphState()
        state = self._read_state(partner, gen)
        state.next_pid, state.rules_version = gen.next_pid, gen.rules_version
        if keys:
            state.hi, state.lo = self._read_keys(partner, gen)
            state.src, state.dst = self._read_edges(partner, gen)
            state.reserve()  # the files after this one append in place
        return state

    def _frames(self, partner: str, gen: Generation, kind: str) -> list[pl.DataFrame]:
        try:
            return [
                pl.read_parquet(self.root / p.path)
                for p in self.db.parts(partner, gen.generation, kind)
            ]
        except (OSError, pl.exceptions.ComputeError) as exc:
            raise StoreError(f"the {kind} of {partner}'s graph are unreadable") from exc

    def _read_state(self, partner: str, gen: Generation) -> GraphState:
        frames = self._frames(partner, gen, "state")
        if len(frames) != 1 or frames[0].height != gen.nodes:
            raise StoreError(
                f"the state of {partner}'s graph (generation {gen.generation}) is missing"
            )
        frame = frames[0]
        arrays = {c: frame.get_column(c).to_numpy() for c in STATE_COLUMNS}
        return GraphState(
            kind=arrays["kind"].astype(np.uint8),
            base=arrays["base"].astype(np.uint8),
            code=arrays["code"].astype(np.uint8),
            raw=arrays["raw"].astype(np.int32),
            pid=arrays["pid"].astype(np.int64),
            mtype=arrays["mtype"].astype(np.uint8),
            hi=np.zeros(gen.nodes, dtype=np.uint64),
            lo=np.zeros(gen.nodes, dtype=np.uint64),
        )

    def _read_keys(self, partner: str, gen: Generation) -> tuple[np.ndarray, np.ndarray]:
        frames = self._frames(partner, gen, "nodes")
        nodes = (
            pl.concat(frames)
            if frames
            else pl.DataFrame(schema={"hi": pl.UInt64(), "lo": pl.UInt64()})
        )
        if nodes.height != gen.nodes:
            raise StoreError(f"the node keys of {partner}'s graph are incomplete")
        # views of the frame, read-only: `reserve` copies them into arrays a change writes
        return nodes.get_column("hi").to_numpy(), nodes.get_column("lo").to_numpy()

    def _read_edges(self, partner: str, gen: Generation) -> tuple[np.ndarray, np.ndarray]:
        frames = self._frames(partner, gen, "edges")
        if not frames:
            return np.empty(0, np.int32), np.empty(0, np.int32)
        edges = pl.concat(frames)
        if edges.height != gen.edges:
            raise StoreError(f"the edges of {partner}'s graph are incomplete")
        return edges.get_column("src").to_numpy(), edges.get_column("dst").to_numpy()

    def match_keys(
        self, partner: str, gen: Generation, sealer: Sealer, wanted: np.ndarray
    ) -> pl.DataFrame:
        """(node, match) of the wanted node ids (a sorted array)."""
        out = []
        for part in self.db.parts(partner, gen.generation, "keys"):
            inside = wanted[(wanted >= part.first) & (wanted < part.first + part.count)]
            if len(inside) == 0:
                continue
            blob = (self.root / part.path).read_bytes()
            frame = sealer.open_frame(blob, f"{partner}/graph/keys/{part.first}")
            picked = frame.gather(pl.Series(inside - part.first))
            out.append(picked.with_columns(pl.Series("node", inside.astype(np.int32))))
        if not out:
            return pl.DataFrame(schema={"node": pl.Int32(), **KEYS_SCHEMA})
        return pl.concat(out).select("node", *KEYS_SCHEMA)

    def frame(self, partner: str, gen: Generation, kind: str) -> pl.DataFrame:
        """Every part of a kind (events, tombstones) at a generation, stacked."""
        frames = self._frames(partner, gen, kind)
        return pl.concat(frames) if frames else pl.DataFrame()

    # -- writing --------------------------------------------------------------------

    def stage(
        self, partner: str, state: GraphState, change: Change, staged: Staged, sealer: Sealer
    ) -> Generation:
        """Write a change's parts durably and record its generation: pending for a file
        (committed with the file), committed at once otherwise."""
        current = self.db.current(partner)
        number = 1 if current is None else current.generation + 1
        parts = self._write_parts(partner, state, change, staged, sealer, number)
        record = Generation(
            partner=partner,
            generation=number,
            status=PENDING if _pending(staged) else COMMITTED,
            cause=staged.cause,
            file_id=staged.file_id,
            nodes=state.nodes,
            edges=state.edges,
            next_pid=state.next_pid,
            rules_version=state.rules_version,
            counts=_json(change.counts()),
            created=time.time(),
        )
        drops = self._drops(partner, current, staged)
        self.db.add(record, parts, drops)
        return record

    def _drops(self, partner: str, current: Generation | None, staged: Staged) -> list[str]:
        if current is None:
            return []
        kinds = ["state"]
        if staged.compact:
            kinds += ["nodes", "keys", "edges"]
        if staged.compact or staged.tombstones is not None:
            kinds.append("tombstones")
        return [p.path for kind in kinds for p in self.db.parts(partner, current.generation, kind)]

    def _write_parts(
        self,
        partner: str,
        state: GraphState,
        change: Change,
        staged: Staged,
        sealer: Sealer,
        number: int,
    ) -> list[Part]:
        first, start = (0, 0) if staged.compact else (staged.first_new, staged.edges_from)
        parts = [self._write_state(partner, state, number)]
        if state.nodes > first:
            stem = f"nodes/n{first:010d}-g{number:08d}"
            parts.append(self._write(partner, stem, _node_frame(state, first), "nodes", first))
            count = state.nodes - first
            parts.append(self._write_keys(partner, staged, (first, number), count, sealer))
        if state.edges > start:
            edges = pl.DataFrame({"src": state.src[start:], "dst": state.dst[start:]})
            parts.append(self._write(partner, f"edges/e{number:08d}", edges, "edges"))
        if not change.events.is_empty():
            parts.append(self._write(partner, f"events/v{number:08d}", change.events, "events"))
        if staged.tombstones is not None and not staged.tombstones.is_empty():
            kept = staged.tombstones.select("hi", "lo").unique()
            parts.append(self._write(partner, f"tombstones/t{number:08d}", kept, "tombstones"))
        return parts

    def _write(
        self, partner: str, stem: str, frame: pl.DataFrame, kind: str, first: int = 0
    ) -> Part:
        path = f"graph/{partner}/{stem}.parquet"
        target = self.root / path
        private_dir(target.parent)
        write_atomic(target, _bytes(frame))
        return Part(kind, path, first, frame.height)

    def _write_state(self, partner: str, state: GraphState, number: int) -> Part:
        frame = pl.DataFrame({c: getattr(state, c) for c in STATE_COLUMNS})
        return self._write(partner, f"state/s{number:08d}", frame, "state")

    def _write_keys(
        self, partner: str, staged: Staged, at: tuple[int, int], count: int, sealer: Sealer
    ) -> Part:
        match = staged.match if staged.match is not None else pl.DataFrame(schema=KEYS_SCHEMA)
        if match.height != count:
            raise StoreError(f"match keys for {count} new identifiers of {partner} are missing")
        first, number = at
        path = f"graph/{partner}/keys/k{first:010d}-g{number:08d}.bin"
        private_dir((self.root / path).parent)
        write_atomic(self.root / path, sealer.seal_frame(match, f"{partner}/graph/keys/{first}"))
        return Part("keys", path, first, count)

    def all_match_keys(self, partner: str, gen: Generation, sealer: Sealer) -> pl.DataFrame:
        """Every node's match key at a generation, in id order (for a compaction)."""
        frames = [
            sealer.open_frame((self.root / p.path).read_bytes(), f"{partner}/graph/keys/{p.first}")
            for p in self.db.parts(partner, gen.generation, "keys")
        ]
        return pl.concat(frames) if frames else pl.DataFrame(schema=KEYS_SCHEMA)

    # -- housekeeping -----------------------------------------------------------------

    def discard(self, partner: str, generation: int) -> None:
        for path in self.db.discard(partner, generation):
            (self.root / path).unlink(missing_ok=True)

    def sweep(self, partner: str) -> int:
        """Under the partner's lock: remove the parts a committed generation dropped and
        the files no generation names (a change a crash cut short)."""
        removed = 0
        current = self.db.current(partner)
        if current is not None:
            for path in self.db.obsolete(partner, current.generation):
                (self.root / path).unlink(missing_ok=True)
                removed += 1
        known = self.db.known_paths()
        folder = self.folder(partner)
        for item in sorted(folder.rglob("*")) if folder.exists() else []:
            rel = item.relative_to(self.root).as_posix()
            if item.is_file() and item.name != ".lock" and rel not in known:
                item.unlink()
                removed += 1
        return removed


def _pending(staged: Staged) -> bool:
    return staged.cause == "file" if staged.pending is None else staged.pending


def _node_frame(state: GraphState, first: int) -> pl.DataFrame:
    return pl.DataFrame({"hi": state.hi[first:], "lo": state.lo[first:]})


def _json(counts: dict[str, int]) -> str:
    return json.dumps(counts, sort_keys=True)
