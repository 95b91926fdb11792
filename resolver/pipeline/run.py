"""A run: open a file, detect its columns, and take its chunks through the stages on an
engine, counting as they pass. Pass one is read → columns → prepare (normalize, hash) →
node keys, into a spool; the graph then links the file's node keys; pass two settles
each row's person (settle.py). The stages (derive.py) are functions of frames, and the
engine decides how frames are read and fed through them.

`LocalEngine` runs on this machine with Polars: chunks of `chunk_rows` rows (memory stays
bounded whatever the file's size), the next one read on a thread while the current one is
computed. A second engine (Spark, say) implements `Engine.run` for the same stages.
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Protocol

import polars as pl

from resolver.graph.blocklist import NO_KEYS, blocked, blocklist_keys
from resolver.graph.persons import KeyScheme
from resolver.graph.rules import GraphRules
from resolver.graph.state import GraphState
from resolver.graph.update import apply, rebuild
from resolver.keys import KeyRing
from resolver.pipeline.columns import detect_columns
from resolver.pipeline.derive import HASH_STAGES, RESOLVE_STAGES
from resolver.pipeline.job import Job, ResolveOptions, Stage
from resolver.pipeline.normalize import check_region
from resolver.pipeline.profiles import get_profile
from resolver.pipeline.read import Source, open_source, read_chunks
from resolver.pipeline.report import Progress, ResolveReport, Tally
from resolver.pipeline.settle import Settled, settle
from resolver.pipeline.spool import Keyed, Spool
from resolver.pipeline.streams import prefetch
from resolver.state.seal import Sealer

Stop = Callable[[], None]  # raises to abandon a run between chunks


class Engine(Protocol):
    def run(self, source: Source, job: Job, stages: Sequence[Stage]) -> Iterator[pl.DataFrame]:
        """The file's rows, in order, in frames taken through every stage."""
        ...


class LocalEngine:
    """Polars on this machine, chunk by chunk, reading one chunk ahead on a thread."""

    def run(self, source: Source, job: Job, stages: Sequence[Stage]) -> Iterator[pl.DataFrame]:
        first_row = 1
        columns = list(job.columns.kinds.values())  # only these are read from Parquet
        for raw in prefetch(read_chunks(source, job.options.chunk_rows, columns)):
            frame = raw
            for stage in stages:
                frame = stage(frame, job, first_row)
            first_row += raw.height
            yield frame
            del frame, raw
            # Polars frames caught in reference cycles are only freed by the cycle
            # collector; without this, memory grows with every chunk.
            gc.collect()


class Resolution:
    """An opened input being resolved. Iterate `chunks()` (or `hashed()`) once; then read
    `report`. Closing it removes any decompressed copy."""

    def __init__(self, source: Source, job: Job, stack: ExitStack, engine: Engine) -> None:
        self.source = source
        self.job = job
        self._stack = stack
        self._engine = engine
        self.columns = dict(job.columns.kinds)
        self.report = ResolveReport(
            file=source.path.name,
            partner=None,
            profile=get_profile(job.options.profile).label,
            region=job.options.region,
            columns=dict(job.columns.kinds),
            ignored_columns=list(job.columns.ignored),
        )
        self._tally = Tally(self.report, job.families)
        self._started = time.perf_counter()

    def __enter__(self) -> Resolution:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()

    def spool(
        self, spool: Spool, progress: Progress | None = None, stop: Stop | None = None
    ) -> None:
        """Pass one: every chunk through prepare and the node keys into `spool`."""
        if not self.job.partner_key:
            raise ValueError("resolving needs a keyring and a partner")
        self._started = time.perf_counter()
        for chunk in self._drive(RESOLVE_STAGES, self._tally.identifiers, progress):
            if stop is not None:
                stop()
            spool.write(chunk)

    def settle(self, spool: Spool, keyed: Keyed, settled: Settled) -> Iterator[pl.DataFrame]:
        """Pass two: the spooled rows with their persons (settle.CHUNK_SCHEMA), counted."""
        for chunk in settle(spool, keyed, settled, self.job.partner_key):
            self._tally.persons(chunk)
            yield chunk
        self._tally.finish(time.perf_counter() - self._started)

    def chunks(
        self, progress: Progress | None = None, base: GraphState | None = None
    ) -> Iterator[pl.DataFrame]:
        """Both passes, with the persons of a graph of this file alone (or of `base` with
        this file applied in memory; persons `base` does not hold get one-run keys)."""
        state = base if base is not None else GraphState()
        scheme = replace(self.job.persons, durable=state.next_pid)
        junk = blocklist_keys(self.job.node_key)
        if state.nodes and state.rules_version != self.job.rules.version:
            rebuild(state, blocked(state.hi, state.lo, junk), self.job.rules)
        with tempfile.TemporaryDirectory(dir=self.job.options.tmpdir) as tmp:
            spool = Spool(Path(tmp) / "spool", Sealer(os.urandom(32)), "run")
            self.spool(spool, progress)
            if progress is not None:
                progress.begin("linking")
            keyed = spool.keyed(junk, NO_KEYS)
            change = apply(state, keyed.nodes, self.job.rules)
            self.report.graph = change.counts()
            settled = Settled.of(state, change.ids, scheme)
            if progress is not None:
                progress.begin("writing", self.report.rows, "rows")
            for chunk in self.settle(spool, keyed, settled):
                if progress is not None:
                    progress.advance(chunk.height)
                yield chunk

    def hashed(self, progress: Progress | None = None) -> Iterator[pl.DataFrame]:
        """Match keys and errors only (the `hash` command): no key needed."""
        self._started = time.perf_counter()
        yield from self._drive(HASH_STAGES, self._tally.identifiers, progress)
        self._tally.finish(time.perf_counter() - self._started)

    def _drive(
        self,
        stages: Sequence[Stage],
        count: Callable[[pl.DataFrame], None],
        progress: Progress | None,
    ) -> Iterator[pl.DataFrame]:
        source = self.source
        if progress is not None:
            total, unit = source.progress_total()
            progress.begin("reading", total, unit)
            source = replace(source, on_read=progress.advance)
        try:
            for chunk in self._engine.run(source, self.job, stages):
                count(chunk)
                if progress is not None:
                    progress.rows(chunk.height)
                yield chunk
        finally:
            self.close()


def resolve_file(
    path: Path,
    *,
    partner: str | None,
    keyring: KeyRing | None,
    options: ResolveOptions | None = None,
    engine: Engine | None = None,
    rules: GraphRules | None = None,
) -> Resolution:
    """Open, validate and detect the columns of a file; InputError if it is malformed.
    `keyring` and `partner` may be None only for `hashed()` (match keys, no IDs)."""
    options = options or ResolveOptions()
    options = replace(options, region=check_region(options.region))
    get_profile(options.profile)
    stack = ExitStack()
    try:
        source = stack.enter_context(open_source(Path(path), options.limits, options.tmpdir))
        columns = detect_columns(source.headers, source.path, options.aliases)
    except BaseException:
        stack.close()
        raise
    job = Job(columns=columns, options=options, rules=rules or GraphRules())
    if keyring is not None and partner is not None:
        job = replace(
            job,
            node_key=keyring.node_hmac_key,
            partner_key=keyring.partner_id_key(partner),
            persons=KeyScheme(keyring.person_key_key(partner), keyring.derived_key_key(partner)),
        )
    elif keyring is not None:
        job = replace(job, node_key=keyring.node_hmac_key)
    resolution = Resolution(source, job, stack, engine or LocalEngine())
    resolution.report.partner = partner
    return resolution
