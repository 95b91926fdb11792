"""What a distribution run reports: entered, synced, not synced (no id the destination
accepts), pending and errored people, from the segment's members, the ledger's record of
what the destination holds, and the rows the run gave up on."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from distributor.ledger import HELD_SCHEMA, Distribution
from distributor.plan import ID_COLS, KEY, Plan, to_long


@dataclass(frozen=True)
class RunReport:
    segment: str
    account: str
    audience_id: str | None
    audience_name: str
    status: str  # done | dry-run | stopped
    entered: int
    synced: int
    not_synced: int
    pending: int
    errored: int
    cover_num: int
    deletes: int
    adds: int
    batches: int
    requests: int = 0
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def errored_ids(result: Plan, ranges: list[tuple[int, int]]) -> pl.DataFrame:
    parts = [result.rows.slice(start, end - start) for start, end in ranges]
    if not parts:
        return to_long(result.rows.clear())
    return to_long(pl.concat(parts))


def run_report(
    segment: str,
    account: str,
    dist: Distribution | None,
    name: str,
    status: str,
    current: pl.DataFrame,
    held: pl.DataFrame | None,
    result: Plan,
    errored_ids: pl.DataFrame | None = None,
    cover: int = 0,
    requests: int = 0,
    message: str | None = None,
) -> RunReport:
    has_id = pl.any_horizontal([pl.col(c).is_not_null() for c in ID_COLS])
    persons = current.select(KEY).unique().height
    accepted = current.filter(has_id)
    long = to_long(accepted)
    keys = ["id_type", "id"]
    held = held if held is not None else pl.DataFrame(schema=HELD_SCHEMA)
    definite = held.filter(~pl.col("uncertain")).select(keys).unique()
    bad = errored_ids.select(keys).unique() if errored_ids is not None else definite.clear()
    per_person = (
        long.join(definite.with_columns(pl.lit(True).alias("_held")), on=keys, how="left")
        .join(bad.with_columns(pl.lit(True).alias("_bad")), on=keys, how="left")
        .group_by(KEY)
        .agg(
            pl.col("_held").fill_null(False).all().alias("synced"),
            pl.col("_bad").fill_null(False).any().alias("bad"),
        )
    )
    with_ids = accepted.select(KEY).unique().height
    synced = int(per_person["synced"].sum())
    errored = int(per_person.filter(~pl.col("synced") & pl.col("bad")).height)
    return RunReport(
        segment=segment,
        account=account,
        audience_id=dist.audience_id if dist else None,
        audience_name=name,
        status=status,
        entered=persons,
        synced=synced,
        not_synced=persons - with_ids,
        pending=with_ids - synced - errored,
        errored=errored,
        cover_num=cover,
        deletes=result.count("delete"),
        adds=result.count("add"),
        batches=len(result.batches),
        requests=requests,
        message=message,
    )
