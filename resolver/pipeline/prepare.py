"""Per row: node hashes, destination match keys and reject codes (contract C1).

`prepare` turns the identifier columns of a raw frame into, per family (email, phone,
MAID): the node hash (SHA-256 of the canonical form, what node keys are made of), the
match key (SHA-256 of the destination profile's form) and a reject code. Plaintext wins
when valid, then a pre-hashed value; a family's error shows only when neither is usable.
The work is staged in lazy passes (canonical forms, hashes, combination) so nothing is
computed twice, and node hashes only when asked for (`hash` needs match keys only).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import polars as pl

from resolver import kinds as k
from resolver.pipeline.hashing import sha256_hex, valid_sha256
from resolver.pipeline.normalize import (
    check_region,
    email_canonical,
    email_profile_form,
    maid_canonical,
    phone_e164,
    phone_profile_form,
    trim,
)
from resolver.pipeline.profiles import Profile, get_profile

# Which node hashes prepare computes: none (match keys only) or all of them.
NodeMode = Literal["none", "all"]


def prepare(
    df: pl.DataFrame,
    columns: Mapping[str, str],
    *,
    region: str,
    profile: str = "tiktok",
    nodes: NodeMode = "all",
    maid_type: str | None = None,
) -> pl.DataFrame:
    """The rows of `df`, in order, as `kinds.PREPARED_COLUMNS` (node columns null unless
    `nodes="all"`). `columns` maps input kinds to source column names; `maid_type` is the
    type of MAIDs under an untyped header (null, the default, when the partner did not
    say)."""
    spec = get_profile(profile)
    region = check_region(region)
    work = df.select([pl.col(name).cast(pl.String).alias(kind) for kind, name in columns.items()])
    if k.PHONE in columns:
        work = work.with_columns(phone_e164(work.get_column(k.PHONE), region).alias("_phone_c"))
    lazy = _staged(work, columns, spec, nodes, maid_type)
    return lazy.select(k.PREPARED_COLUMNS).collect()


def _staged(
    work: pl.DataFrame,
    columns: Mapping[str, str],
    spec: Profile,
    nodes: NodeMode,
    maid_type: str | None,
) -> pl.LazyFrame:
    """The lazy passes: canonical values, forms, hashes, combination."""
    maids = [kind for kind in k.MAID_KINDS if kind in columns]
    present = {"email": k.EMAIL in columns, "phone": k.PHONE in columns, "maid": bool(maids)}
    with_nodes = nodes != "none"
    return (
        work.lazy()
        .with_columns(_first_stage(columns, maids))
        .with_columns(
            *_email_stage(columns, spec),
            *_phone_stage(columns, spec),
            *_maid_stage(maids, maid_type),
        )
        .with_columns(_forms_stage(maids, spec))
        .with_columns(_hashes(present, nodes))
        .with_columns(
            *_combine("email", present["email"], k.EMAIL_SHA256 in columns, with_nodes),
            *_combine("phone", present["phone"], k.PHONE_SHA256 in columns, with_nodes),
            *_maid_combine(maids, with_nodes),
        )
    )


def _hashes(present: Mapping[str, bool], nodes: NodeMode) -> list[pl.Expr]:
    """SHA-256 of each family's canonical value (node) and profile form (match key)."""
    parts = ("c", "form") if nodes != "none" else ("form",)
    return [
        sha256_hex(pl.col(f"_{fam}_{part}")).alias(f"_{fam}_{part}_h")
        for fam in k.FAMILIES
        if present[fam]
        for part in parts
    ]


def _null() -> pl.Expr:
    return pl.lit(None, dtype=pl.String)


def _present(name: str) -> pl.Expr:
    return trim(pl.col(name)).str.len_bytes().fill_null(0) > 0


def _first_stage(columns: Mapping[str, str], maids: list[str]) -> list[pl.Expr]:
    """Per-column canonical values, computed once and referenced by later stages."""
    out = [maid_canonical(pl.col(kind)).alias(f"_maid_{kind}") for kind in maids]
    if k.EMAIL in columns:
        out.append(email_canonical(pl.col(k.EMAIL)).alias("_email_lc"))
    return out


def _email_stage(columns: Mapping[str, str], spec: Profile) -> list[pl.Expr]:
    out = []
    if k.EMAIL in columns:
        canonical = pl.col("_email_lc")
        form = email_profile_form(canonical, spec.email)
        # A canonical email whose profile form is empty (e.g. "+tag@x.com") is unusable.
        out += [
            pl.when(form.is_not_null()).then(canonical).alias("_email_c"),
            form.alias("_email_form"),
        ]
    if k.EMAIL_SHA256 in columns:
        out.append(valid_sha256(pl.col(k.EMAIL_SHA256)).alias("_email_pre"))
    return out


def _phone_stage(columns: Mapping[str, str], spec: Profile) -> list[pl.Expr]:
    out = []
    if k.PHONE in columns:
        out.append(phone_profile_form(pl.col("_phone_c"), spec.phone).alias("_phone_form"))
    if k.PHONE_SHA256 in columns:
        out.append(valid_sha256(pl.col(k.PHONE_SHA256)).alias("_phone_pre"))
    return out


def _maid_stage(present: list[str], untyped: str | None) -> list[pl.Expr]:
    """The first usable MAID column in MAID_KINDS order wins; the all-zero MAID is noted.
    A MAID from an untyped column gets the type `untyped` (null when unknown)."""
    if not present:
        return []
    canon = {kind: pl.col(f"_maid_{kind}") for kind in present}
    usable = {
        kind: canon[kind].is_not_null() & (canon[kind] != k.ALL_ZERO_MAID) for kind in present
    }
    value: pl.Expr = _null()
    mtype: pl.Expr = _null()
    for kind in reversed(present):
        label = pl.lit(untyped if kind == k.MAID else kind, dtype=pl.String)
        value = pl.when(usable[kind]).then(canon[kind]).otherwise(value)
        mtype = pl.when(usable[kind]).then(label).otherwise(mtype)
    any_zero = pl.any_horizontal(
        [(canon[kind] == k.ALL_ZERO_MAID).fill_null(False) for kind in present]
    )
    return [value.alias("_maid_c"), mtype.alias("maid_type"), any_zero.alias("_maid_zero")]


def _forms_stage(maids: list[str], spec: Profile) -> list[pl.Expr]:
    if not maids:
        return []
    value = pl.col("_maid_c")
    return [(value.str.to_uppercase() if spec.maid == "upper" else value).alias("_maid_form")]


_PLAIN_ERROR = {"email": k.INVALID_EMAIL, "phone": k.INVALID_PHONE}


def _combine(family: str, plain: bool, hashed: bool, nodes: bool) -> list[pl.Expr]:
    """Plaintext wins when valid, then the pre-hashed value; errors only when neither is.
    `plain`/`hashed`: the file has the plaintext/pre-hashed column of the family."""
    plain_error = _PLAIN_ERROR[family]
    node: pl.Expr = _null()
    match: pl.Expr = _null()
    error: pl.Expr = _null()
    source = k.EMAIL_SHA256 if family == "email" else k.PHONE_SHA256
    if hashed:
        pre = pl.col(f"_{family}_pre")
        node, match = pre, pre
        error = pl.when(_present(source) & pre.is_null()).then(pl.lit(k.INVALID_HASH))
    if plain:
        valid = pl.col(f"_{family}_c").is_not_null()
        plain_node = pl.col(f"_{family}_c_h") if nodes else _null()
        node = pl.when(valid).then(plain_node).otherwise(node)
        match = pl.when(valid).then(pl.col(f"_{family}_form_h")).otherwise(match)
        plain_bad = _present(family) & ~valid
        usable = valid | pl.col(f"_{family}_pre").is_not_null() if hashed else valid
        error = (
            pl.when(usable).then(_null()).when(plain_bad).then(pl.lit(plain_error)).otherwise(error)
        )
    return [
        node.alias(f"{family}_node"),
        match.alias(f"{family}_sha256"),
        error.alias(f"{family}_error"),
    ]


def _maid_combine(present: list[str], nodes: bool) -> list[pl.Expr]:
    if not present:
        return [_null().alias(c) for c in ("maid_node", "maid_sha256", "maid_type", "maid_error")]
    any_given = pl.any_horizontal([_present(kind) for kind in present])
    error = (
        pl.when(pl.col("_maid_c").is_not_null())
        .then(_null())
        .when(pl.col("_maid_zero"))
        .then(pl.lit(k.ZERO_MAID))
        .when(any_given)
        .then(pl.lit(k.INVALID_MAID))
    )
    node = pl.col("_maid_c_h") if nodes else _null()
    return [
        node.alias("maid_node"),
        pl.col("_maid_form_h").alias("maid_sha256"),
        error.alias("maid_error"),
    ]
