"""A run: open a file, detect its columns, and take its chunks through the stages on an
engine, counting as they pass. The flow is read → columns → prepare (normalize, hash) →
identity → derive; the stages (derive.py) are functions of frames, and the engine decides
how frames are read and fed through them.

`LocalEngine` runs on this machine with Polars: chunks of `chunk_rows` rows (memory stays
bounded whatever the file's size), the next one read on a thread while the current one is
computed. A second engine (Spark, say) implements `Engine.run` for the same stages.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Protocol

import polars as pl

from resolver.keys import KeyRing
from resolver.pipeline.columns import detect_columns
from resolver.pipeline.derive import HASH_STAGES, RESOLVE_STAGES
from resolver.pipeline.job import Job, ResolveOptions, Stage
from resolver.pipeline.normalize import check_region
from resolver.pipeline.profiles import get_profile
from resolver.pipeline.read import Source, open_source, prefetch, read_chunks
from resolver.pipeline.report import Progress, ResolveReport, Tally


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

    def __enter__(self) -> Resolution:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()

    def chunks(self, progress: Progress | None = None) -> Iterator[pl.DataFrame]:
        """Resolved chunks in file order (derive.CHUNK_SCHEMA columns)."""
        if not self.job.partner_key:
            raise ValueError("resolving needs a keyring and a partner")
        tally = Tally(self.report, self.job.families)
        yield from self._drive(RESOLVE_STAGES, tally.resolved, tally, progress)

    def hashed(self, progress: Progress | None = None) -> Iterator[pl.DataFrame]:
        """Match keys and errors only (the `hash` command): no key needed."""
        tally = Tally(self.report, self.job.families)
        yield from self._drive(HASH_STAGES, tally.identifiers, tally, progress)

    def _drive(
        self,
        stages: Sequence[Stage],
        count: Callable[[pl.DataFrame], None],
        tally: Tally,
        progress: Progress | None,
    ) -> Iterator[pl.DataFrame]:
        started = time.perf_counter()
        try:
            for chunk in self._engine.run(self.source, self.job, stages):
                count(chunk)
                if progress is not None:
                    progress(chunk.height)
                yield chunk
        finally:
            self.close()
        tally.finish(time.perf_counter() - started)


def resolve_file(
    path: Path,
    *,
    partner: str | None,
    keyring: KeyRing | None,
    options: ResolveOptions | None = None,
    engine: Engine | None = None,
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
    node_key, partner_key = "", b""
    if keyring is not None:
        node_key = keyring.node_hmac_key
        partner_key = keyring.partner_id_key(partner) if partner is not None else b""
    job = Job(columns=columns, options=options, node_key=node_key, partner_key=partner_key)
    resolution = Resolution(source, job, stack, engine or LocalEngine())
    resolution.report.partner = partner
    return resolution
