"""Pass two: each spooled row with its person, once the graph has seen the whole file.

Per distinct node key of the file the graph says its node id, why it stops linking and
its person (`Settled`); a row becomes the person of its anchor (resolver.graph.persons),
and the partner sees that person's key encrypted with the partner's own key (person_id).
A row left out of the graph because it carries a forgotten identifier is rejected as
"forgotten"; one whose identifiers are all blocklisted as "blocked_identifier".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from resolver import kinds as k
from resolver.graph.components import distinct
from resolver.graph.persons import KeyScheme, anchors, person_keys
from resolver.graph.state import GraphState
from resolver.keys import encode_person_ids
from resolver.kinds import NODE_ID_COLUMNS
from resolver.pipeline.spool import Keyed, Spool

CHUNK_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.UInt64(),
    "person_key": pl.Binary(),
    "person_id": pl.String(),
    "reject_reason": pl.String(),
    **{c: pl.Int32() for c in NODE_ID_COLUMNS},
    "segments": pl.List(pl.String()),
    "action": pl.String(),
}
OUTPUT_COLUMNS = ("row", "person_id", "reject_reason")  # what the partner gets back


@dataclass(frozen=True)
class Settled:
    """Per distinct key of the file (by position): node id (-1: not in the graph), code
    and pid, each with one more entry at the end for "no key" (position -1); and the
    person keys of those pids (pid, person_key)."""

    node: NDArray[np.int32]
    code: NDArray[np.uint8]
    pid: NDArray[np.int64]
    keys: pl.DataFrame

    @classmethod
    def of(cls, state: GraphState, ids: NDArray[np.int32], scheme: KeyScheme) -> Settled:
        known = ids >= 0
        safe = np.maximum(ids, 0)
        code = np.where(known, state.code[safe] if state.nodes else 0, 0).astype(np.uint8)
        pid = np.where(known, state.pid[safe] if state.nodes else -1, -1)
        used = distinct(pid[pid >= 0])
        keys = pl.DataFrame({"pid": used, "person_key": person_keys(state, used, scheme)})
        return cls(
            np.append(ids, -1).astype(np.int32),
            np.append(code, 0).astype(np.uint8),
            np.append(pid, -1).astype(np.int64),
            keys,
        )


def settle(
    spool: Spool, keyed: Keyed, settled: Settled, partner_key: bytes
) -> Iterator[pl.DataFrame]:
    """The spooled rows, part by part, as CHUNK_SCHEMA frames."""
    start = 0
    for n in range(spool.count):
        rows = spool.rows(n)
        end = start + rows.height
        yield _settle_part(
            rows, keyed.grid[start:end], keyed.forgotten[start:end], settled, partner_key
        )
        start = end


def _settle_part(
    rows: pl.DataFrame,
    grid: NDArray[np.int32],
    forgotten: NDArray[np.bool_],
    settled: Settled,
    partner_key: bytes,
) -> pl.DataFrame:
    present = grid >= 0  # position -1 reads the "no key" entry at the end
    codes, nodes = settled.code[grid], settled.node[grid]
    anchor = anchors(codes, present)
    picked = np.take_along_axis(grid, np.maximum(anchor, 0)[:, None], axis=1)[:, 0]
    pid = np.where(anchor >= 0, settled.pid[picked], -1)
    pid = np.where(forgotten | rows.get_column("rejected").is_not_null().to_numpy(), -1, pid)
    frame = rows.with_columns(
        pl.Series("pid", pid),
        *(
            pl.Series(c, nodes[:, i]).replace(-1, None).cast(pl.Int32)
            for i, c in enumerate(NODE_ID_COLUMNS)
        ),
        pl.Series("forgotten", forgotten),
    )
    frame = frame.join(settled.keys, on="pid", how="left", maintain_order="left")
    reason = (
        pl.when(pl.col("rejected").is_not_null())
        .then(pl.col("rejected"))
        .when(pl.col("forgotten"))
        .then(pl.lit(k.FORGOTTEN))
        .when(pl.col("person_key").is_null())
        .then(pl.lit(k.BLOCKED_IDENTIFIER))
    )
    frame = frame.with_columns(
        reason.alias("reject_reason"),
        encode_person_ids(frame.get_column("person_key"), partner_key).alias("person_id"),
    )
    return frame.select(list(CHUNK_SCHEMA))
