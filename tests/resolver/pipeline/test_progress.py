"""Progress of a file: the bytes (or Parquet rows) reported as they are read, in steps
finer than a chunk, adding up to the whole; the phases of a run in order; the line a
watcher without a terminal gets."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import polars as pl
import pytest
from rich.console import Console

from resolver.cli.progress import _Lines
from resolver.keys import KeyRing
from resolver.pipeline.job import ResolveOptions
from resolver.pipeline.read import open_source, read_chunks
from resolver.pipeline.run import resolve_file


class Recorder:
    """A Progress that writes down what it is told."""

    def __init__(self) -> None:
        self.phases: list[tuple[str, int | None, str]] = []
        self.steps: dict[str, list[int]] = {}
        self.processed = 0

    def begin(self, phase: str, total: int | None = None, unit: str = "rows") -> None:
        self.phases.append((phase, total, unit))
        self.steps[phase] = []

    def advance(self, done: int) -> None:
        self.steps[self.phases[-1][0]].append(done)

    def rows(self, done: int) -> None:
        self.processed += done


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~14 MB of rows: a few of pyarrow's 4 MiB blocks, one 400,000-row chunk."""
    path = tmp_path_factory.mktemp("progress") / "big.csv"
    n = 350_000
    frame = pl.DataFrame({"email": [f"person{i}@example.com" for i in range(n)]})
    frame.with_columns(city=pl.lit("London")).write_csv(path)
    return path


def test_text_is_reported_in_bytes_as_it_is_read(big: Path) -> None:
    seen: list[int] = []
    with open_source(big) as source:
        total, unit = source.progress_total()
        chunks = list(read_chunks(dataclasses.replace(source, on_read=seen.append),
                                  400_000))  # fmt: skip
    assert (total, unit) == (big.stat().st_size, "bytes")
    assert len(chunks) == 1  # one chunk, yet the reading moved in steps
    assert len([n for n in seen if n]) >= 3
    assert sum(seen) == total


def test_parquet_is_reported_in_rows(tmp_path: Path) -> None:
    path = tmp_path / "people.parquet"
    pl.DataFrame({"email": [f"p{i}@example.com" for i in range(5_000)]}).write_parquet(
        path, row_group_size=1_000
    )
    seen: list[int] = []
    with open_source(path) as source:
        assert source.progress_total() == (5_000, "rows")
        watched = dataclasses.replace(source, on_read=seen.append)
        list(read_chunks(watched, 2_000))
    assert sum(seen) == 5_000


def test_a_run_goes_through_its_phases(big: Path) -> None:
    recorder = Recorder()
    options = ResolveOptions(chunk_rows=100_000)
    resolution = resolve_file(big, partner="acme", keyring=KeyRing(bytes(32)), options=options)
    rows = sum(chunk.height for chunk in resolution.chunks(recorder))
    assert [p for p, _, _ in recorder.phases] == ["reading", "linking", "writing"]
    assert recorder.phases[0][1:] == (big.stat().st_size, "bytes")
    assert recorder.phases[2][1:] == (rows, "rows")
    assert sum(recorder.steps["reading"]) == big.stat().st_size
    assert sum(recorder.steps["writing"]) == rows == recorder.processed == 350_000


def test_without_a_terminal_a_line_says_how_far_how_fast_and_how_long() -> None:
    out = io.StringIO()
    lines = _Lines(Console(file=out, width=200), "acme/big.csv", every=0.0)
    lines.begin("reading", 2_000_000_000, "bytes")
    lines.started -= 10  # ten seconds in
    lines.advance(500_000_000)
    (line,) = out.getvalue().splitlines()
    assert line.startswith("acme/big.csv: reading 500.0 MB of 2.0 GB, 25%, 50.0 MB/s")
    assert line.endswith("about 30 s left")
