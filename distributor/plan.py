"""Pure planning: what the destination holds and what the segment wants, in, a list of
batches out (deletes first, then adds, each at most `batch_size` rows).

The diff is taken per identifier, (id_type, id), because that is what a platform audience
is: two persons sharing an email share one membership. Rows are then rebuilt per person,
so a batch row carries one person's ids positionally under the batch's id_schema. Rows are
sorted by which ids they carry, so most batches use one schema and few `{}` placeholders.
Everything is Polars joins and pivots; Python only loops over batches.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl

from distributor.destinations.base import ID_COLUMNS, Action

KEY = "person_key"
ID_TYPE = pl.Enum(list(ID_COLUMNS))
ACTIONS: tuple[Action, Action] = ("delete", "add")


@dataclass(frozen=True)
class Batch:
    """Rows [start, end) of Plan.rows, all of one action; id_schema names plan columns."""

    index: int
    action: Action
    start: int
    end: int
    id_schema: tuple[str, ...]

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Plan:
    """rows: action, person_key and the id columns (null where the row has no id of that
    type); batches index into rows, every delete batch before every add batch."""

    rows: pl.DataFrame
    batches: tuple[Batch, ...]

    def count(self, action: Action) -> int:
        return sum(b.size for b in self.batches if b.action == action)

    def ids(self, action: Action) -> int:
        """Identifiers (not rows) the plan sends with this action."""
        part = self.rows.filter(pl.col("action") == action)
        return int(sum(part[c].count() for c in ID_COLUMNS))

    def columns(self, batch: Batch) -> list[list[str | None]]:
        """The batch's ids, one list per id_schema entry, row-aligned."""
        return [self.batch_ids(batch)[c].to_list() for c in batch.id_schema]

    def batch_ids(self, batch: Batch) -> pl.DataFrame:
        """The batch's id columns in id_schema order (null where a row has none)."""
        return self.rows.slice(batch.start, batch.size).select(batch.id_schema)

    def sub_batch(self, batch: Batch, start: int, end: int) -> Batch:
        """Rows [start, end) of a batch, with the schema that range needs."""
        part = self.rows.slice(start, end - start)
        schema = tuple(c for c in ID_COLUMNS if part[c].null_count() < part.height)
        return replace(batch, start=start, end=end, id_schema=schema)


def empty_members() -> pl.DataFrame:
    return pl.DataFrame(schema={KEY: pl.Binary, **dict.fromkeys(ID_COLUMNS, pl.Utf8)})


def _sha256(column: str) -> pl.Expr:
    """A match key as TikTok takes it (64 lowercase hex), else null: never sent."""
    value = pl.col(column).cast(pl.Utf8).str.to_lowercase()
    return pl.when(value.str.contains(r"^[0-9a-f]{64}$")).then(value).otherwise(None)


def current_from_members(members: pl.DataFrame) -> pl.DataFrame:
    """Segment members (email_sha256, phone_sha256, maid_sha256 + maid_type) as plan
    columns: a MAID becomes IDFA_SHA256 or AAID_SHA256 by its type, and one of no known
    type (an untyped `maid` column) both, since either platform's device may hold it."""
    maid = _sha256("maid_sha256")
    kind = pl.col("maid_type").str.to_lowercase()
    untyped = kind.is_null()
    return members.select(
        pl.col(KEY).cast(pl.Binary),
        _sha256("email_sha256").alias("email_sha256"),
        _sha256("phone_sha256").alias("phone_sha256"),
        pl.when((kind == "idfa") | untyped).then(maid).cast(pl.Utf8).alias("idfa_sha256"),
        pl.when(kind.is_in(["gaid", "aaid"]) | untyped)
        .then(maid)
        .cast(pl.Utf8)
        .alias("aaid_sha256"),
    )


def to_long(wide: pl.DataFrame) -> pl.DataFrame:
    """person_key, id_type, id: one row per identifier present."""
    present = [c for c in ID_COLUMNS if c in wide.columns]
    if wide.height == 0 or not present:
        return pl.DataFrame(schema={KEY: pl.Binary, "id_type": ID_TYPE, "id": pl.Utf8})
    return (
        wide.select(KEY, *present)
        .unpivot(index=KEY, on=present, variable_name="id_type", value_name="id")
        .drop_nulls("id")
        .with_columns(pl.col("id_type").cast(ID_TYPE))
    )


def to_wide(long: pl.DataFrame) -> pl.DataFrame:
    """Long identifiers back to rows: one row per person and rank, so a person with two
    ids of one type (possible in a ledger) takes two rows."""
    if long.height == 0:
        return empty_members()
    # Usual case, one id per person and type: a group-by (about 9x faster than a pivot).
    lists = long.group_by(KEY).agg(
        pl.col("id").filter(pl.col("id_type") == c).alias(c) for c in ID_COLUMNS
    )
    widest = lists.select(pl.max_horizontal(pl.col(c).list.len() for c in ID_COLUMNS).max()).item()
    if widest <= 1:
        return lists.select(KEY, *(pl.col(c).list.first().alias(c) for c in ID_COLUMNS))
    ranked = long.select(KEY, "id_type", "id").with_columns(
        pl.int_range(pl.len()).over(KEY, "id_type").alias("_rank"),
        pl.col("id_type").cast(pl.Utf8),
    )
    wide = ranked.pivot(on="id_type", index=[KEY, "_rank"], values="id")
    missing = [pl.lit(None, pl.Utf8).alias(c) for c in ID_COLUMNS if c not in wide.columns]
    return wide.with_columns(missing).select(KEY, *ID_COLUMNS)


def diff(held: pl.DataFrame, current: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Identifier-level diff of long frames. `held` may carry a boolean `uncertain` column
    (sent, outcome unknown): those ids are deleted if no longer wanted and re-added if
    wanted, since either may be what the destination holds."""
    pair = ["id_type", "id"]
    uncertain = pl.col("uncertain") if "uncertain" in held.columns else pl.lit(False)
    # Join on the Enum's physical code (a third faster than on the Enum), anti-join first
    # and de-duplicate after: shared ids are rare and the diff is small.
    keys = ["_t", "id"]
    code = pl.col("id_type").to_physical().alias("_t")
    held_keys = held.with_columns(code)
    current_keys = current.with_columns(code)
    deletes = held_keys.join(current_keys.select(keys), on=keys, how="anti")
    deletes = deletes.unique(keys, keep="first", maintain_order=True)
    # An id with any uncertain record is uncertain: it is re-added if wanted.
    unsure = held_keys.filter(uncertain).select(keys)
    definite = held_keys.select(keys).join(unsure, on=keys, how="anti")
    adds = current_keys.join(definite, on=keys, how="anti")
    adds = adds.unique(keys, keep="first", maintain_order=True)
    return deletes.select(KEY, *pair), adds.select(KEY, *pair)


def _ordered_rows(long: pl.DataFrame, action: Action) -> pl.DataFrame:
    wide = to_wide(long)
    shape = pl.sum_horizontal(
        [pl.col(c).is_not_null().cast(pl.Int32) * (1 << i) for i, c in enumerate(ID_COLUMNS)]
    )
    # The key's first 8 bytes as an integer sort much faster than the binary; the full
    # key and the ids break the (rare) ties, so the order is deterministic.
    prefix = pl.col(KEY).bin.slice(0, 8).bin.reinterpret(dtype=pl.UInt64, endianness="big")
    return (
        wide.with_columns(shape.alias("_shape"), prefix.alias("_prefix"))
        .sort(
            "_shape",
            "_prefix",
            KEY,
            *ID_COLUMNS,
            descending=[True, False, False, *[False] * len(ID_COLUMNS)],
        )
        .select(pl.lit(action).alias("action"), KEY, *ID_COLUMNS)
    )


def _batches(rows: pl.DataFrame, batch_size: int) -> list[Batch]:
    if rows.height == 0:
        return []
    stats = (
        rows.with_row_index("_row")
        .with_columns((pl.col("_row") // batch_size).alias("_batch"))
        .group_by("_batch", maintain_order=True)
        .agg(
            pl.col("action").first(),
            pl.col("_row").min().alias("start"),
            (pl.col("_row").max() + 1).alias("end"),
            *[pl.col(c).is_not_null().any() for c in ID_COLUMNS],
        )
    )
    return [
        Batch(0, rec["action"], rec["start"], rec["end"], tuple(c for c in ID_COLUMNS if rec[c]))
        for rec in stats.iter_rows(named=True)
    ]


def plan_long(held: pl.DataFrame, current: pl.DataFrame, batch_size: int) -> Plan:
    """Plan from long frames (person_key, id_type, id[, uncertain])."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    deletes, adds = diff(held, current)
    delete_rows = _ordered_rows(deletes, "delete")
    add_rows = _ordered_rows(adds, "add")
    batches = _batches(delete_rows, batch_size) + [
        replace(b, start=b.start + delete_rows.height, end=b.end + delete_rows.height)
        for b in _batches(add_rows, batch_size)
    ]
    rows = pl.concat([delete_rows, add_rows], how="vertical")
    numbered = tuple(replace(b, index=i) for i, b in enumerate(batches))
    return Plan(rows=rows, batches=numbered)


def plan(held: pl.DataFrame, current: pl.DataFrame, batch_size: int = 10_000) -> Plan:
    """Plan from wide frames (person_key + id columns): what the destination holds per
    person, and the segment's current members."""
    return plan_long(to_long(held), to_long(current), batch_size)
