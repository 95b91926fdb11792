"""What a distribution run reports: entered, synced, not synced (no id the destination
accepts), pending and errored people, and identifiers still to delete (held, or maybe held,
by the destination but no longer wanted), from the segment's members, the ledger's record
of what the destination holds, and the identifiers the run gave up on.

A run's status: `done` when every member that can be synced is and nothing is left to
delete; `partial` when it finished otherwise (errored or pending: sync again); `stopped`
(the token), `audience gone`, `interrupted`, or `dry-run`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl

from distributor.destinations.base import ID_COLUMNS
from distributor.ledger import HELD_SCHEMA
from distributor.plan import KEY, Plan, to_long


@dataclass(frozen=True)
class Counts:
    entered: int
    synced: int
    not_synced: int
    pending: int
    errored: int
    pending_deletes: int = 0

    @property
    def complete(self) -> bool:
        return self.pending == self.errored == self.pending_deletes == 0


@dataclass(frozen=True)
class RunReport:
    segment: str
    account: str
    audience_id: str | None
    audience_name: str
    status: str  # done | partial | stopped | audience gone | interrupted | dry-run
    entered: int
    synced: int
    not_synced: int
    pending: int
    errored: int
    cover_num: int
    pending_deletes: int
    deletes: int
    adds: int
    batches: int
    requests: int = 0
    message: str | None = None
    # Identifiers by type (plan column) the platform acknowledged adding and deleting in
    # this run (a dry run: the ones it would send).
    ids_added: dict[str, int] = field(default_factory=dict)
    ids_deleted: dict[str, int] = field(default_factory=dict)
    # failed calls by the platform's code, HTTP status or kind (retried ones included)
    errors_by_code: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def complete(self) -> bool:
        """Every member that can be synced is, and nothing is left to delete."""
        return self.status == "done"


def ids_by_type(plan: Plan, action: str, acked: pl.Series | None = None) -> dict[str, int]:
    """Identifiers per type in the plan's rows of `action` (only `acked` rows if given)."""
    rows = plan.rows if acked is None else plan.rows.filter(acked)
    if rows.is_empty():
        return {}
    counts = rows.filter(pl.col("action") == action).select(pl.col(c).count() for c in ID_COLUMNS)
    return {c: n for c, n in counts.row(0, named=True).items() if n}


def errored_ids(plan: Plan, ranges: list[tuple[int, int]]) -> pl.DataFrame:
    """The identifiers of the plan rows in `ranges` (the batches that errored)."""
    parts = [plan.rows.slice(start, end - start) for start, end in ranges]
    return to_long(pl.concat(parts) if parts else plan.rows.clear())


def count(
    current: pl.DataFrame, held: pl.DataFrame | None, errored: pl.DataFrame | None = None
) -> Counts:
    """Per person of `current`: synced when the destination definitely holds every id of
    theirs it accepts, errored when one of them was given up on, pending otherwise; and
    the ids the destination may hold that are no longer wanted (deletes still to send).
    Ids are joined on (the id type's physical code, id): a third faster than on the Enum."""
    has_id = pl.any_horizontal([pl.col(c).is_not_null() for c in ID_COLUMNS])
    persons = current.get_column(KEY).n_unique()
    accepted = current.filter(has_id)
    held = held if held is not None else pl.DataFrame(schema=HELD_SCHEMA)
    wanted = _coded(to_long(accepted))
    on_platform = _coded(held)
    # Repeated ids only repeat rows of the left joins below; all() and any() are the same.
    definite = on_platform.filter(~pl.col("uncertain")).select(_KEYS)
    bad = _coded(errored).select(_KEYS) if errored is not None else definite.clear()
    per_person = (
        wanted.join(definite.with_columns(pl.lit(True).alias("_held")), on=_KEYS, how="left")
        .join(bad.with_columns(pl.lit(True).alias("_bad")), on=_KEYS, how="left")
        .group_by(KEY)
        .agg(
            pl.col("_held").fill_null(False).all().alias("synced"),
            pl.col("_bad").fill_null(False).any().alias("bad"),
        )
    )
    with_ids = per_person.height
    synced = int(per_person["synced"].sum())
    errored_people = int(per_person.filter(~pl.col("synced") & pl.col("bad")).height)
    leaving = on_platform.join(wanted, on=_KEYS, how="anti").select(_KEYS).unique().height
    return Counts(
        entered=persons,
        synced=synced,
        not_synced=persons - with_ids,
        pending=with_ids - synced - errored_people,
        errored=errored_people,
        pending_deletes=leaving,
    )


_KEYS = ["_t", "id"]


def _coded(long: pl.DataFrame) -> pl.DataFrame:
    return long.with_columns(pl.col("id_type").to_physical().alias("_t"))
