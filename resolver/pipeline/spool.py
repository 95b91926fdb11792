"""Pass one's output for one file, kept until its persons are known.

Who a row is depends on every row of the file (and on the partner's earlier files), so a
file is resolved in two passes: the first streams chunks through prepare and the node
keys into a spool, the graph then takes the file's node keys and edges, and the second
pass (settle.py) reads the spool back, part by part, with each row's person.

<folder>/rows-<n>.parquet   row, the node key halves, the MAID's type, the reject reason
                            known before the graph (a row with no usable identifier),
                            segments, action
<folder>/match-<n>.bin      the same rows' destination match keys, sealed (partner key)

The folder is private and removed once the file is settled.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from numpy.typing import NDArray

from resolver import kinds as k
from resolver.graph.update import FileNodes
from resolver.pipeline.derive import SPOOL_SCHEMA
from resolver.pipeline.identity import KEY_COLUMNS
from resolver.state.atomic import private_dir, write_atomic
from resolver.state.seal import Sealer

ROW_COLUMNS = ("row", *KEY_COLUMNS, "maid_type", "rejected", "segments", "action")
MAID_TYPES = {"idfa": 1, "gaid": 2}  # a node's MAID type as stored (0: not known)


@dataclass(frozen=True)
class Keyed:
    """The file's node keys: `nodes` (its distinct keys, edges and MAID types) for the graph; `grid`
    (rows × families) positions into those keys, -1 where a row has none; `forgotten`,
    rows that carry a forgotten identifier (left out of the graph whole); and, per
    distinct key, the row and family where it first occurs."""

    nodes: FileNodes
    grid: NDArray[np.int32]
    forgotten: NDArray[np.bool_]
    first_row: NDArray[np.int64]
    family: NDArray[np.uint8]


class Spool:
    def __init__(self, folder: Path, sealer: Sealer, label: str) -> None:
        self.folder = private_dir(folder)
        self.sealer = sealer
        self.label = label
        self.count = 0

    def write(self, chunk: pl.DataFrame) -> None:
        """Keep one pass-one chunk (its row, key, segment and action columns, and its
        match keys sealed)."""
        n = self.count
        buffer = io.BytesIO()
        chunk.select(ROW_COLUMNS).write_parquet(buffer, compression="lz4")
        write_atomic(self.folder / f"rows-{n:05d}.parquet", buffer.getvalue())
        match = chunk.select(*(pl.col(c).str.decode("hex").alias(c) for c in k.MATCH_COLUMNS))
        sealed = self.sealer.seal_frame(match, f"{self.label}/match/{n}")
        write_atomic(self.folder / f"match-{n:05d}.bin", sealed)
        self.count += 1

    def rows(self, n: int) -> pl.DataFrame:
        return pl.read_parquet(self.folder / f"rows-{n:05d}.parquet")

    def match(self, n: int) -> pl.DataFrame:
        blob = (self.folder / f"match-{n:05d}.bin").read_bytes()
        return self.sealer.open_frame(blob, f"{self.label}/match/{n}")

    def _all_rows(self, columns: list[str]) -> pl.DataFrame:
        parts = [self.folder / f"rows-{n:05d}.parquet" for n in range(self.count)]
        if not parts:
            return pl.DataFrame(schema={c: SPOOL_SCHEMA[c] for c in columns})
        return pl.scan_parquet(parts).select(columns).collect()

    def keyed(self, junk: pl.DataFrame, forgotten: pl.DataFrame) -> Keyed:
        """The file's distinct node keys and edges. `junk` holds blocklisted (hi, lo);
        rows carrying a key in `forgotten` are left out of the graph whole."""
        keys = self._all_rows([*KEY_COLUMNS, "maid_type"])
        rows = keys.height
        long = pl.concat(
            [
                keys.select(pl.col(f"{fam}_hi").alias("hi"), pl.col(f"{fam}_lo").alias("lo"))
                for fam in k.FAMILIES
            ]
        )
        long = long.with_columns(
            _member(long, forgotten).alias("gone"), _member(long, junk).alias("junk")
        )
        gone = long.get_column("gone").to_numpy().reshape(len(k.FAMILIES), rows)
        dropped = np.asarray(gone.any(axis=0), dtype=bool)
        kept = np.tile(~dropped, len(k.FAMILIES))
        pos = _dense(long.with_columns(pl.when(pl.Series(kept)).then(pl.col("hi")).alias("hi")))
        top = pos.max()
        distinct = 0 if top is None else int(top) + 1  # type: ignore[arg-type]
        first = _first_occurrence(pos, distinct)
        grid = pos.fill_null(-1).to_numpy().astype(np.int32).reshape(len(k.FAMILIES), rows).T
        a, b = _pairs(grid)
        mtype = _maid_types(grid[:, 2], keys.get_column("maid_type"), distinct)
        nodes = FileNodes(
            long.get_column("hi").fill_null(0).to_numpy()[first],  # no nulls: a null
            long.get_column("lo").fill_null(0).to_numpy()[first],  # would make floats
            (first // max(rows, 1)).astype(np.uint8),
            long.get_column("junk").to_numpy()[first],
            a,
            b,
            mtype,
        )
        return Keyed(nodes, grid, dropped, first % max(rows, 1), nodes.kind)

    def match_keys(self, keyed: Keyed, wanted: NDArray[np.int32]) -> pl.DataFrame:
        """The match key of each wanted distinct key (by position), from the first row
        carrying it: (match), in `wanted` order."""
        rows = keyed.first_row[wanted]
        family = keyed.family[wanted]
        want = pl.DataFrame({"at": np.arange(len(wanted)), "row": rows, "family": family})
        found = []
        start = 0
        for n in range(self.count):
            match = self.match(n)
            end = start + match.height
            here = want.filter((pl.col("row") >= start) & (pl.col("row") < end))
            if not here.is_empty():
                found.append(_pick(match, here, start))
            start = end
        schema = {"at": pl.Int64(), "match": pl.Binary()}
        picked = pl.concat(found) if found else pl.DataFrame(schema=schema)
        return picked.sort("at").select("match")


def _member(long: pl.DataFrame, keys: pl.DataFrame) -> pl.Expr:
    """Whether each (hi, lo) of `long` is one of `keys` (a small set)."""
    hit = long.join(
        keys.select("hi", "lo").unique().with_columns(pl.lit(True).alias("m")),
        on=["hi", "lo"],
        how="left",
        maintain_order="left",
    )
    return pl.lit(hit.get_column("m").fill_null(False))


def _dense(long: pl.DataFrame) -> pl.Series:
    """A dense position per distinct (hi, lo), null for a null key: ranks of hi, unless
    two keys share a hi (odds ~1e-5 at 30M keys), then of (hi, lo)."""
    pos = long.select(pl.col("hi").rank("dense").cast(pl.Int64) - 1).to_series().alias("p")
    clash = (
        long.with_columns(pos).drop_nulls("p").group_by("p").agg(pl.col("lo").n_unique().alias("n"))
    )
    if clash.filter(pl.col("n") > 1).is_empty():
        return pos
    valid = long.get_column("hi").is_not_null()
    ranked = long.filter(valid).select(pl.struct("hi", "lo").rank("dense").cast(pl.Int64) - 1)
    out = pl.Series("p", [None] * long.height, dtype=pl.Int64)
    return out.scatter(valid.arg_true(), ranked.to_series())


def _first_occurrence(pos: pl.Series, distinct: int) -> NDArray[np.int64]:
    """For each position, the index of its first occurrence in the long frame."""
    index = pos.is_not_null().arg_true().to_numpy().astype(np.int64)
    values = pos.drop_nulls().to_numpy().astype(np.int64)
    first = np.full(distinct, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, values, index)
    return first


def _maid_types(maids: NDArray[np.int32], types: pl.Series, distinct: int) -> NDArray[np.uint8]:
    """Per position, the MAID type the file's last typed row of it gives (0: none)."""
    code = types.replace_strict(MAID_TYPES, default=0, return_dtype=pl.UInt8).to_numpy()
    out = np.zeros(distinct, dtype=np.uint8)
    typed = (maids >= 0) & (code > 0)
    out[maids[typed]] = code[typed]  # a MAID typed both ways in one file: either
    return out


def _pairs(grid: NDArray[np.int32]) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """Edges between the identifiers each row carries (at most three per row)."""
    a, b = [], []
    for i, j in ((0, 1), (0, 2), (1, 2)):
        both = (grid[:, i] >= 0) & (grid[:, j] >= 0)
        a.append(grid[both, i])
        b.append(grid[both, j])
    return np.concatenate(a).astype(np.int32), np.concatenate(b).astype(np.int32)


def _pick(match: pl.DataFrame, here: pl.DataFrame, start: int) -> pl.DataFrame:
    index = pl.Series((here.get_column("row") - start).to_numpy())
    rows = match.gather(index).with_columns(here.get_column("family"), here.get_column("at"))
    column = pl.coalesce(
        *(
            pl.when(pl.col("family") == i).then(pl.col(f"{fam}_sha256"))
            for i, fam in enumerate(k.FAMILIES)
        )
    )
    return rows.select(pl.col("at").cast(pl.Int64), column.alias("match"))
