"""Reading partner files: CSV, TSV, gzip'd CSV/TSV and Parquet, in chunks.

The format comes from the content (gzip and Parquet magic bytes) and the name (.tsv);
the delimiter of text files from the name or the header line (`,`, tab, `;` or `|`);
spreadsheets, JSON, archives and other binary files are refused with a message saying
what the file looks like. Every column is read as
text. Before any row is used, a vectorized validation pass over the file's lines finds
invalid UTF-8, over-long lines and ragged rows, so a malformed file fails as a whole with
the line and column of the first problem, never a value.

`content_blocks` is the one gunzip of the project: it enforces the size, decompressed-size
and expansion-ratio limits for the reader and for the inbox's content digest alike.
"""

from __future__ import annotations

import gzip
import os
import stat
import tempfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv

from resolver.errors import SYSTEM_FAULTS, InputError
from resolver.pipeline.dialect import detect_separator, refuse_other_formats, split_header
from resolver.pipeline.parquet import parquet_chunks, parquet_headers, parquet_rows, rechunk
from resolver.pipeline.streams import Counted

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
_LINE_SEP = "\x00"  # a byte no text file uses: each physical line becomes one field
_BLOCK = 1 << 22
# pyarrow parses text in blocks this big (at least twice the longest line): 4 MiB parses as
# fast as 16 MiB here, and a watcher sees the file go by in smaller steps.
_CSV_BLOCK = 4 << 20


@dataclass(frozen=True)
class ReadLimits:
    """What a file may be: longest line, largest size (compressed) and, for gzip, largest
    decompressed size and expansion ratio. None: no limit."""

    max_line_bytes: int = 65536
    max_file_bytes: int | None = None
    max_decompressed_bytes: int | None = None
    max_compression_ratio: float | None = None


@dataclass(frozen=True)
class Source:
    """An opened input: its format, delimiter, headers, a path to read and its limits."""

    path: Path  # the file as given (for messages)
    data: Path  # what is read: the file itself, or its decompressed copy
    format: str  # "csv" | "parquet"
    separator: str
    headers: tuple[str, ...]
    limits: ReadLimits = ReadLimits()
    # Told how much was read, as it is read (on the reading thread): bytes of `data` for
    # text, rows for Parquet. See `progress_total`.
    on_read: Callable[[int], None] | None = None

    def progress_total(self) -> tuple[int, str]:
        """How much reading there is, and in what: bytes of text, rows of Parquet."""
        if self.format == "parquet":
            return parquet_rows(self.data), "rows"
        return self.data.stat().st_size, "bytes"


def sniff_format(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head == PARQUET_MAGIC:
        return "parquet"
    return "text"


@contextmanager
def open_regular(path: Path, name: str | Path) -> Iterator[IO[bytes]]:
    """Open a regular file for reading without following a link or blocking on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno in SYSTEM_FAULTS:
            raise
        message = f"cannot open the file ({exc.strerror})"
        raise InputError("unreadable", name, message) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise InputError("not_regular_file", name, "only regular files are accepted")
        yield handle


def content_blocks(raw: IO[bytes], limits: ReadLimits, name: str | Path) -> Iterator[bytes]:
    """The file's content in blocks, decompressed when it is gzip, within `limits`."""
    size = os.fstat(raw.fileno()).st_size
    if limits.max_file_bytes is not None and size > limits.max_file_bytes:
        raise InputError("too_large", name, f"the file exceeds {limits.max_file_bytes} bytes")
    gzipped = raw.read(2) == GZIP_MAGIC
    raw.seek(0)
    if not gzipped:
        while block := raw.read(_BLOCK):
            yield block
        return
    ceiling = min(
        limits.max_decompressed_bytes or float("inf"),
        (limits.max_compression_ratio or float("inf")) * max(size, 1),
    )
    total = 0
    try:
        with gzip.GzipFile(fileobj=raw) as stream:
            while block := stream.read(_BLOCK):
                total += len(block)
                if total > ceiling:
                    message = "the gzip file expands beyond the configured limits"
                    raise InputError("decompression_bomb", name, message)
                yield block
    except (OSError, EOFError, zlib.error) as exc:
        message = f"not a valid gzip file ({type(exc).__name__})"
        raise InputError("unreadable", name, message) from None


@contextmanager
def open_source(
    path: Path, limits: ReadLimits = ReadLimits(), tmpdir: Path | None = None
) -> Iterator[Source]:
    """Open and validate an input file; gzip is decompressed to a private temp file that
    is removed on exit. Raises InputError for unreadable or malformed files."""
    path = Path(path)
    try:
        kind = sniff_format(path)
        size = path.stat().st_size
    except OSError as exc:
        raise InputError("unreadable", path, f"cannot read the file ({exc.strerror})") from None
    if limits.max_file_bytes is not None and size > limits.max_file_bytes:
        raise InputError("too_large", path, f"the file exceeds {limits.max_file_bytes} bytes")
    if kind == "parquet":
        yield Source(path, path, "parquet", ",", parquet_headers(path), limits)
        return
    if kind == "gzip":
        with _gunzip(path, limits, tmpdir) as plain:
            yield replace(_text_source(path, plain, limits.max_line_bytes), limits=limits)
        return
    yield replace(_text_source(path, path, limits.max_line_bytes), limits=limits)


@contextmanager
def _gunzip(path: Path, limits: ReadLimits, tmpdir: Path | None) -> Iterator[Path]:
    fd, name = tempfile.mkstemp(prefix=".tessera-", suffix=".csv", dir=tmpdir)
    plain = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, path.open("rb") as raw:
            for block in content_blocks(raw, limits, path):
                out.write(block)
        yield plain
    finally:
        plain.unlink(missing_ok=True)


def _text_source(path: Path, data: Path, max_line_bytes: int) -> Source:
    refuse_other_formats(data, path)
    lines = _line_stats(data, max_line_bytes, path)
    header = lines["header"]
    separator = detect_separator(path, header)
    return Source(path, data, "csv", separator, split_header(header, separator))


def _scan_lines(data: Path) -> pl.LazyFrame:
    return pl.scan_csv(
        data,
        has_header=False,
        separator=_LINE_SEP,
        quote_char=None,
        encoding="utf8-lossy",
        new_columns=["line"],
        infer_schema=False,
        truncate_ragged_lines=True,
    ).with_row_index("index", offset=1)


def _check_nul(data: Path, path: Path) -> None:
    """NUL bytes are not text (and would split lines for the scanner): refuse the file,
    naming the line of the first one. One pass of 16 MiB reads (~4 GB/s here)."""
    buffer = bytearray(1 << 24)
    offset = 0
    with data.open("rb", buffering=0) as handle:
        while size := handle.readinto(buffer):
            at = buffer.find(b"\x00", 0, size)
            if at >= 0:
                line = _count_lines(data, offset + at) + 1
                message = "the file contains NUL bytes (binary data?)"
                raise InputError("nul_byte", path, message, line=line)
            offset += size


def _count_lines(data: Path, end: int) -> int:
    """Newlines before byte `end` (error path only)."""
    count = 0
    with data.open("rb") as handle:
        while end > 0 and (block := handle.read(min(1 << 24, end))):
            count += block.count(b"\n")
            end -= len(block)
    return count


def _line_stats(data: Path, max_line_bytes: int, path: Path) -> dict[str, str]:
    if data.stat().st_size == 0:
        raise InputError("empty_file", path, "the file is empty")
    _check_nul(data, path)
    lines = _scan_lines(data)
    first_bad = lines.select(
        pl.col("index")
        .filter(pl.col("line").str.contains("\ufffd", literal=True))
        .min()
        .alias("utf8"),
        pl.col("index").filter(pl.col("line").str.len_bytes() > max_line_bytes).min().alias("long"),
        pl.col("line").first().alias("header"),
    ).collect(engine="streaming")
    row = first_bad.row(0, named=True)
    if row["utf8"] is not None:
        raise InputError("invalid_utf8", path, "the file is not valid UTF-8", line=row["utf8"])
    if row["long"] is not None:
        raise InputError(
            "line_too_long", path, f"a line is longer than {max_line_bytes} bytes", line=row["long"]
        )
    if row["header"] is None:
        raise InputError("empty_file", path, "the file has no header line")
    return {"header": str(row["header"])}


def _check_ragged(data: Path, separator: str, expected: int, path: Path) -> None:
    """Rows whose field count differs from the header's (quote-aware, vectorized). Files
    with fields spanning lines are left to the CSV parser, which rejects extra fields."""
    line = pl.col("line")
    unquoted = line.str.replace_all(r'"(?:[^"]|"")*"', "")
    fields = unquoted.str.count_matches(separator, literal=True) + 1
    odd_quotes = (line.str.count_matches('"', literal=True) % 2) == 1
    stats = (
        _scan_lines(data)
        .select(
            odd_quotes.any().alias("multiline"),
            pl.col("index")
            .filter((fields != expected) & (line.str.strip_chars() != ""))
            .first()
            .alias("bad"),
            fields.filter((fields != expected) & (line.str.strip_chars() != ""))
            .first()
            .alias("count"),
        )
        .collect()
        .row(0, named=True)
    )
    if stats["multiline"] or stats["bad"] is None:
        return
    found = int(stats["count"])
    raise InputError(
        "ragged_row",
        path,
        f"row has {found} fields, the header has {expected}",
        line=int(stats["bad"]),
        column=min(found, expected) + 1,
    )


def read_chunks(
    source: Source, chunk_rows: int, columns: Sequence[str] | None = None
) -> Iterator[pl.DataFrame]:
    """The file's data rows as String columns, in order, `chunk_rows` at a time, streamed
    (pyarrow's incremental readers) so memory does not grow with the file. Parquet reads
    only `columns` (all when None) and within the source's limits (parquet.py)."""
    if source.format == "parquet":
        size = max(source.path.stat().st_size, 1)
        limits = source.limits
        byte_limit = min(
            limits.max_decompressed_bytes or float("inf"),
            (limits.max_compression_ratio or float("inf")) * size,
        )
        for chunk in parquet_chunks(
            source.data, chunk_rows, columns, limits.max_line_bytes, byte_limit
        ):
            if source.on_read is not None:
                source.on_read(chunk.height)
            yield chunk
        return
    try:
        yield from _csv_chunks(source, chunk_rows)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        raise _locate(source) from None


def _csv_chunks(source: Source, chunk_rows: int) -> Iterator[pl.DataFrame]:
    names = [f"c{i}" for i in range(len(source.headers))]
    data: Path | Counted = source.data
    if source.on_read is not None:
        data = Counted(source.data, source.on_read)
    reader = pacsv.open_csv(
        data,
        read_options=pacsv.ReadOptions(
            block_size=max(_CSV_BLOCK, 2 * source.limits.max_line_bytes),
            skip_rows=1,
            column_names=names,
            encoding="utf8",
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=source.separator, quote_char='"', double_quote=True, newlines_in_values=True
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    rename = dict(zip(names, source.headers, strict=True))
    frames = (_frame(batch).rename(rename) for batch in reader)
    try:
        yield from rechunk(frames, chunk_rows)
    finally:
        if isinstance(data, Counted):
            data.close()


def _frame(batch: pa.RecordBatch) -> pl.DataFrame:
    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _locate(source: Source) -> InputError:
    """Find the first malformed row of a file the CSV parser refused (error path only: the
    parser's own message may quote the row, so it is never shown)."""
    try:
        _check_ragged(source.data, source.separator, len(source.headers), source.path)
    except InputError as exc:
        return exc
    return InputError(
        "malformed_csv",
        source.path,
        "the CSV structure is malformed (unbalanced quotes or ragged rows)",
    )
