"""The stages of a run, each a function of a frame: prepare → identity → derive.

Every stage takes a frame, the run's Job and the file row number of the frame's first
row, and returns a frame with the same rows in the same order. An engine (run.py) decides
how frames are read and fed through them; the stages do not know.

A row is rejected only when it has no usable identifier; its reject reason is then the
first of its identifier errors (email, phone, MAID order), or "no_identifier" when every
identifier cell was empty, or "invalid_action" for an action other than add/delete (such
a row gets no person). The partner sees `person_id`: the person key encrypted with the
partner's own key (resolver.keys), never the key itself.
"""

from __future__ import annotations

import polars as pl

from resolver import kinds as k
from resolver.keys import encode_person_ids
from resolver.pipeline.columns import segment_and_action
from resolver.pipeline.job import Job, Stage
from resolver.pipeline.prepare import prepare

CHUNK_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.UInt64(),
    "person_key": pl.Binary(),
    "person_id": pl.String(),
    "reject_reason": pl.String(),
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
OUTPUT_COLUMNS = ("row", "person_id", "reject_reason")  # what the partner gets back


def prepare_stage(raw: pl.DataFrame, job: Job, first_row: int) -> pl.DataFrame:
    """Match keys, errors and the identity rule's node hashes; segments and action."""
    opts = job.options
    prepared = prepare(
        raw,
        job.columns.identifiers,
        region=opts.region,
        profile=opts.profile,
        nodes=job.identity.nodes,
        maid_type=opts.maid_type,
    )
    return prepared.hstack(raw.select(segment_and_action(job.columns)))


def identity_stage(frame: pl.DataFrame, job: Job, first_row: int) -> pl.DataFrame:
    """The person key of each row; none for a row with an invalid action."""
    keys = job.identity.person_keys(frame, job.node_key)
    valid = pl.col("action").ne_missing(pl.lit(k.INVALID_ACTION))
    return frame.with_columns(pl.when(valid).then(keys).alias("person_key"))


def derive_stage(frame: pl.DataFrame, job: Job, first_row: int) -> pl.DataFrame:
    """Row numbers, reject reasons and the partner-facing person_id (CHUNK_SCHEMA)."""
    rows = pl.int_range(first_row, first_row + frame.height, dtype=pl.UInt64)
    frame = frame.with_columns(rows.alias("row"), _reject_reason())
    person_ids = encode_person_ids(frame.get_column("person_key"), job.partner_key)
    return frame.with_columns(
        person_ids.alias("person_id"), pl.col("action").replace(k.INVALID_ACTION, None)
    ).select(list(CHUNK_SCHEMA))


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


RESOLVE_STAGES: tuple[Stage, ...] = (prepare_stage, identity_stage, derive_stage)
HASH_STAGES: tuple[Stage, ...] = (match_key_stage,)


def _reject_reason() -> pl.Expr:
    first_error = pl.coalesce(*(pl.col(c) for c in k.ERROR_COLUMNS))
    return (
        pl.when(pl.col("person_key").is_not_null())
        .then(None)
        .when(pl.col("action") == k.INVALID_ACTION)
        .then(pl.lit(k.INVALID_ACTION))
        .otherwise(pl.coalesce(first_error, pl.lit(k.NO_IDENTIFIER)))
        .alias("reject_reason")
    )
