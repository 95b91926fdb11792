"""The stages of pass one, each a function of a frame: prepare → node keys.

Every stage takes a frame, the run's Job and the file row number of the frame's first
row, and returns a frame with the same rows in the same order. An engine (run.py) decides
how frames are read and fed through them; the stages do not know. Pass one's frames go to
a spool (spool.py); who each row is comes after the graph has seen the whole file
(settle.py).

A row is rejected before the graph when it has no usable identifier: its reason is then
the first of its identifier errors (email, phone, MAID order), or "no_identifier" when
every identifier cell was empty; or "invalid_action" for an action other than add/delete.
"""

from __future__ import annotations

import polars as pl

from resolver import kinds as k
from resolver.pipeline.columns import segment_and_action, segment_invalid
from resolver.pipeline.identity import KEY_COLUMNS, node_keys
from resolver.pipeline.job import Job, Stage
from resolver.pipeline.prepare import prepare

SPOOL_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.UInt64(),
    **{c: pl.UInt64() for c in KEY_COLUMNS},
    "rejected": pl.String(),
    "email_sha256": pl.String(),
    "phone_sha256": pl.String(),
    "maid_sha256": pl.String(),
    "maid_type": pl.String(),
    "email_error": pl.String(),
    "phone_error": pl.String(),
    "maid_error": pl.String(),
    "segments": pl.List(pl.String()),
    "action": pl.String(),
}


def prepare_stage(raw: pl.DataFrame, job: Job, first_row: int) -> pl.DataFrame:
    """Match keys, errors and node hashes; segments and action."""
    opts = job.options
    prepared = prepare(
        raw,
        job.columns.identifiers,
        region=opts.region,
        profile=opts.profile,
        nodes="all",
        maid_type=opts.maid_type,
    )
    found = raw.select(segment_and_action(job.columns)).with_columns(segment_invalid())
    return prepared.hstack(found)


def key_stage(frame: pl.DataFrame, job: Job, first_row: int) -> pl.DataFrame:
    """Row numbers, node keys and the reject reason known before the graph (SPOOL_SCHEMA)."""
    rows = pl.int_range(first_row, first_row + frame.height, dtype=pl.UInt64)
    usable = pl.any_horizontal(pl.col(c).is_not_null() for c in k.NODE_COLUMNS)
    first_error = pl.coalesce(*(pl.col(c) for c in k.ERROR_COLUMNS))
    rejected = (
        pl.when(pl.col("action") == k.INVALID_ACTION)
        .then(pl.lit(k.INVALID_ACTION))
        .when(pl.col("segment_invalid"))
        .then(pl.lit(k.INVALID_SEGMENT))
        .when(usable)
        .then(None)
        .otherwise(pl.coalesce(first_error, pl.lit(k.NO_IDENTIFIER)))
    )
    frame = frame.with_columns(rows.alias("row"), rejected.alias("rejected"))
    frame = frame.hstack(node_keys(frame, job.node_key))
    return frame.with_columns(pl.col("action").replace(k.INVALID_ACTION, None)).select(
        list(SPOOL_SCHEMA)
    )


def match_key_stage(raw: pl.DataFrame, job: Job, first_row: int) -> pl.DataFrame:
    """Match keys and errors only, for the families the file has (no keys needed)."""
    opts = job.options
    prepared = prepare(
        raw, job.columns.identifiers, region=opts.region, profile=opts.profile, nodes="none"
    )
    families = job.families
    return prepared.select(
        *(f"{fam}_sha256" for fam in families), *(f"{fam}_error" for fam in families)
    )


RESOLVE_STAGES: tuple[Stage, ...] = (prepare_stage, key_stage)
HASH_STAGES: tuple[Stage, ...] = (match_key_stage,)
