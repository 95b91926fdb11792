"""Reading a partner's Parquet file within the same limits as gzip and CSV.

A Parquet file can be a bomb without compression: a few kilobytes whose two million rows
point at one 4 MiB dictionary string decode to terabytes. So columns are read as
dictionaries, every row's decoded size is computed from the dictionary's lengths before
anything is decoded, and a file is refused when a row is longer than `max_line_bytes` (a
row is a CSV line's worth) or the whole file decodes to more than `max_decompressed_bytes`
or `max_compression_ratio` times its size (each row counts at least one byte, as a CSV
line does, so a row-count bomb trips the same limit). Decoding then proceeds in slices of
at most DECODE_BUDGET bytes, so memory stays bounded whatever a row holds.

Only the columns the run uses are read, so an unrelated nested column is no concern. A
list column is read as its values joined by "|" (a segments list); a struct or map column
among the used ones is refused by name.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from resolver.errors import InputError

DECODE_BUDGET = 1 << 28  # decoded bytes materialized at once
READ_ROWS = 65_536  # rows pyarrow hands over at once (as dictionaries: small)
Lengths = np.ndarray[Any, np.dtype[np.int64]]


def parquet_headers(path: Path) -> tuple[str, ...]:
    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        message = f"not a valid Parquet file ({type(exc).__name__})"
        raise InputError("unreadable", path, message) from None
    return tuple(schema.names)


def parquet_rows(path: Path) -> int:
    """The rows the file's metadata declares (for progress: reading checks them)."""
    return int(pq.ParquetFile(path).metadata.num_rows)


def parquet_chunks(
    path: Path,
    chunk_rows: int,
    columns: Sequence[str] | None,
    line_limit: int,
    byte_limit: float,
) -> Iterator[pl.DataFrame]:
    """The file's rows as String columns, `chunk_rows` at a time (see the module doc);
    `byte_limit` is the most the whole file may decode to."""
    try:
        plain = pq.ParquetFile(path)
        _check_types(plain.schema_arrow, columns, path)
        parquet = pq.ParquetFile(path, read_dictionary=_text_leaves(plain, columns))
        yield from rechunk(_decoded(parquet, columns, path, line_limit, byte_limit), chunk_rows)
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        message = f"the Parquet file is corrupt or unreadable ({type(exc).__name__})"
        raise InputError("unreadable", path, message) from None


def _text_leaves(parquet: pq.ParquetFile, columns: Sequence[str] | None) -> list[str]:
    """The leaf paths (`segments.list.element` for a list) of the used text columns: read
    as dictionaries, so a repeated value is held once however many rows point at it."""
    schema = parquet.metadata.schema
    leaves = (schema.column(i) for i in range(len(schema)))
    return [
        leaf.path
        for leaf in leaves
        if leaf.physical_type in ("BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY")
        and (columns is None or leaf.path.split(".")[0] in columns)
    ]


def _check_types(schema: pa.Schema, columns: Sequence[str] | None, path: Path) -> None:
    for position, field in enumerate(schema, start=1):
        if columns is not None and field.name not in columns:
            continue
        kind = field.type
        if pa.types.is_struct(kind) or pa.types.is_map(kind) or pa.types.is_union(kind):
            message = "the column holds nested records; text, numbers and lists are read"
            raise InputError("unsupported_column", path, message, line=1, column=position)


def _decoded(
    parquet: pq.ParquetFile,
    columns: Sequence[str] | None,
    path: Path,
    line_limit: int,
    byte_limit: float,
) -> Iterator[pl.DataFrame]:
    total, first_row = 0, 2  # line 1 is the header's place
    for batch in parquet.iter_batches(batch_size=READ_ROWS, columns=columns):
        sizes = _row_sizes(batch)
        if len(sizes) and int(sizes.max()) > line_limit:
            line = first_row + int(sizes.argmax())
            message = f"a row is longer than {line_limit} bytes once decoded"
            raise InputError("line_too_long", path, message, line=line)
        total += int(sizes.sum()) + batch.num_rows
        if total > byte_limit:
            message = "the Parquet file decodes beyond the configured limits"
            raise InputError("decompression_bomb", path, message, line=first_row)
        yield from _in_slices(batch, sizes)
        first_row += batch.num_rows


def _row_sizes(batch: pa.RecordBatch) -> Lengths:
    sizes = np.zeros(batch.num_rows, dtype=np.int64)
    for column in batch.columns:
        sizes += _lengths(column)
    return sizes


def _lengths(array: pa.Array) -> Lengths:
    """Decoded bytes of each value (0 for null), without decoding a dictionary."""
    if pa.types.is_dictionary(array.type):
        per_value = _lengths(array.dictionary)
        indices = array.indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        found = per_value[indices] if len(per_value) else np.zeros(len(array), np.int64)
        return np.where(array.is_valid().to_numpy(zero_copy_only=False), found, 0)
    if pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
        values = _lengths(array.flatten())
        parents = pc.list_parent_indices(array).to_numpy(zero_copy_only=False)
        joined = np.bincount(parents, weights=values, minlength=len(array)).astype(np.int64)
        counts = pc.list_value_length(array).fill_null(0).to_numpy(zero_copy_only=False)
        separators = np.maximum(counts.astype(np.int64) - 1, 0)  # the "|" between them
        return np.asarray(joined + separators, dtype=np.int64)
    text = array if pa.types.is_string(array.type) else pc.cast(array, pa.string())
    lengths = pc.binary_length(text).fill_null(0).to_numpy(zero_copy_only=False)
    return np.asarray(lengths, dtype=np.int64)


def _in_slices(batch: pa.RecordBatch, sizes: Lengths) -> Iterator[pl.DataFrame]:
    """The batch decoded to text, in row slices of at most DECODE_BUDGET bytes."""
    ends = np.cumsum(sizes)
    start = 0
    while start < batch.num_rows:
        budget = (ends[start - 1] if start else 0) + DECODE_BUDGET
        stop = max(start + 1, int(np.searchsorted(ends, budget, side="right")))
        yield _text(batch.slice(start, stop - start))
        start = stop


def _text(batch: pa.RecordBatch) -> pl.DataFrame:
    columns = {name: _as_text(batch.column(name)) for name in batch.schema.names}
    frame = pl.from_arrow(pa.table(columns))
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(pl.all().cast(pl.String))


def _as_text(array: pa.Array) -> pa.Array:
    if pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
        flat = _as_text(array.flatten())
        rebuilt = pa.ListArray.from_arrays(_offsets(array), flat, mask=array.is_null())
        return pc.binary_join(rebuilt, "|")
    return pc.cast(array, pa.string())


def _offsets(array: pa.Array) -> pa.Array:
    """Offsets into the array's flattened values, starting at 0."""
    offsets = array.offsets
    return pc.subtract(offsets, offsets[0])


def rechunk(frames: Iterator[pl.DataFrame], chunk_rows: int) -> Iterator[pl.DataFrame]:
    """The same rows in frames of exactly `chunk_rows` (the last one fewer)."""
    pending: list[pl.DataFrame] = []
    size = 0
    for frame in frames:
        pending.append(frame)
        size += frame.height
        while size >= chunk_rows:
            whole = pl.concat(pending, rechunk=True)
            yield whole.slice(0, chunk_rows)
            rest = whole.slice(chunk_rows)
            pending, size = ([rest] if rest.height else []), rest.height
    if pending:
        yield pl.concat(pending, rechunk=True)
