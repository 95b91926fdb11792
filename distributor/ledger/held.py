"""What a destination holds, as pure data: (person_key, id_type, id, uncertain) rows, and
how a run's outcomes change it. No I/O here; the ledger reads and writes the snapshots.

Per plan row a run ends in one of: `acked` (known applied), `unknown` (sent, failed, or
errored after it may have been applied), `errored` (known not applied) or `planned`
(never sent). Folding applies acked rows, marks unknown rows `uncertain` (the planner
deletes or re-sends those), and leaves the rest as they were.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import polars as pl

from distributor.destinations.base import ID_COLUMNS
from distributor.plan import ID_TYPE, KEY

HELD_SCHEMA = pl.Schema(
    {KEY: pl.Binary(), "id_type": ID_TYPE, "id": pl.Utf8(), "uncertain": pl.Boolean()}
)


def empty_held() -> pl.DataFrame:
    return pl.DataFrame(schema=HELD_SCHEMA)


def row_states(rows: int, leaves: Iterable[tuple[int, int, str, str]]) -> np.ndarray[Any, Any]:
    """Per plan row, from its batch leaves (start, end, state, applied): 'acked',
    'unknown', 'errored' (known not applied) or 'planned'."""
    states = np.full(rows, "planned", dtype="<U8")
    for start, end, state, applied in leaves:
        if state in ("sent", "failed") or (state == "errored" and applied == "unknown"):
            state = "unknown"
        states[start:end] = state
    return states


def outcomes(plan_rows: pl.DataFrame, states: np.ndarray[Any, Any]) -> pl.DataFrame:
    """The plan's identifiers that were acked or may have been applied, one per row
    (person_key, action, state, id_type, id)."""
    done = plan_rows.with_columns(pl.Series("state", states)).filter(
        pl.col("state").is_in(["acked", "unknown"])
    )
    long = done.unpivot(
        index=[KEY, "action", "state"],
        on=list(ID_COLUMNS),
        variable_name="id_type",
        value_name="id",
    ).drop_nulls("id")
    return long.with_columns(pl.col("id_type").cast(ID_TYPE))


def apply_outcomes(held: pl.DataFrame, long: pl.DataFrame) -> pl.DataFrame:
    """held after a run's identifiers with their `state` and `action`."""
    keys = ["id_type", "id"]
    touched = long.filter(pl.col("state").is_in(["acked", "unknown"]))
    # Every touched id gets a fresh record below; acked deletes get none.
    kept = held.join(touched.select(keys), on=keys, how="anti")
    fresh = touched.filter(~((pl.col("state") == "acked") & (pl.col("action") == "delete")))
    fresh = fresh.select(KEY, *keys, (pl.col("state") == "unknown").alias("uncertain"))
    return pl.concat([kept, fresh.cast(HELD_SCHEMA)], how="vertical").cast(HELD_SCHEMA)
