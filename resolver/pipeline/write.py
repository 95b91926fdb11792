"""Writing results: CSV or Parquet chosen by extension, streamed chunk by chunk on a
thread, and published atomically (state.atomic). CSV cells a spreadsheet would run as a
formula are prefixed with "'"."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Protocol

import polars as pl
import pyarrow.parquet as pq

from resolver.state.atomic import atomic_file

# A cell a spreadsheet would run as a formula starts with one of these.
_FORMULA_START = r"^[=+\-@\t\r]"


class ChunkWriter(Protocol):
    def write(self, frame: pl.DataFrame) -> None: ...


class _FileWriter(ChunkWriter, Protocol):
    def close(self, empty: Mapping[str, pl.DataType] | None) -> None: ...


def output_format(path: Path, default: str = "csv") -> str:
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        return "parquet"
    if suffix in {".csv", ".txt"}:
        return "csv"
    return default


def escape_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix "'" to string cells that spreadsheets would evaluate."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(_FORMULA_START))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


class _CsvWriter:
    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self._header = True

    def write(self, frame: pl.DataFrame) -> None:
        escape_formulas(frame).write_csv(self._handle, include_header=self._header)
        self._header = False

    def close(self, empty: Mapping[str, pl.DataType] | None) -> None:
        """A file that got no rows still gets its header."""
        if self._header and empty:
            pl.DataFrame(schema=empty).write_csv(self._handle)


class _ParquetWriter:
    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self._writer: pq.ParquetWriter | None = None

    def write(self, frame: pl.DataFrame) -> None:
        table = frame.to_arrow()
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._handle, table.schema, compression="zstd")
        self._writer.write_table(table)

    def close(self, empty: Mapping[str, pl.DataType] | None) -> None:
        """A file that got no rows still gets its schema."""
        if self._writer is None and empty:
            schema = pl.DataFrame(schema=empty).to_arrow().schema
            self._writer = pq.ParquetWriter(self._handle, schema, compression="zstd")
        if self._writer is not None:
            self._writer.close()


class _Background:
    """Writes on a thread, one chunk behind: encoding and writing a chunk (Polars and
    pyarrow release the GIL) overlap with computing the next. Errors surface on the
    next call or at the end."""

    def __init__(self, inner: ChunkWriter) -> None:
        self._inner = inner
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tessera-write")
        self._pending: Future[None] | None = None

    def write(self, frame: pl.DataFrame) -> None:
        self.wait()
        self._pending = self._pool.submit(self._inner.write, frame)

    def wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)


@contextmanager
def chunk_writer(
    path: Path, fmt: str | None = None, empty_schema: Mapping[str, pl.DataType] | None = None
) -> Iterator[ChunkWriter]:
    """Stream DataFrames to `path` (CSV or Parquet), published atomically on success."""
    fmt = fmt or output_format(path)
    with atomic_file(path) as handle:
        inner: _FileWriter = _ParquetWriter(handle) if fmt == "parquet" else _CsvWriter(handle)
        background = _Background(inner)
        try:
            yield background
        finally:
            background.close()
        inner.close(empty_schema)
