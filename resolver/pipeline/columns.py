"""Columns: which input columns hold which identifier kinds, and the segment and action
columns read from them.

Headers are matched case-insensitively after folding spaces, dashes and dots to "_";
a partner's own aliases (config [partners.NAME] aliases = { "e-mail addr" = "email" })
extend the built-in table. Columns that match nothing are ignored and reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from resolver import kinds as k
from resolver.errors import InputError
from resolver.segments.names import MAX_NAME

ALIASES: dict[str, str] = {
    **dict.fromkeys(["email", "e_mail", "email_address", "emailaddress", "mail"], k.EMAIL),
    **dict.fromkeys(
        [
            "email_sha256",
            "hashed_email",
            "sha256_email",
            "email_lc_sha256",
            "email_hash",
            "hashed_email_sha256",
            "em_sha256",
        ],
        k.EMAIL_SHA256,
    ),
    **dict.fromkeys(
        [
            "phone",
            "phone_number",
            "phonenumber",
            "mobile",
            "mobile_number",
            "msisdn",
            "tel",
            "telephone",
        ],
        k.PHONE,
    ),
    **dict.fromkeys(["phone_sha256", "hashed_phone", "sha256_phone", "phone_hash"], k.PHONE_SHA256),
    **dict.fromkeys(
        ["maid", "device_id", "mobile_ad_id", "adid", "ad_id", "mobile_advertiser_id"], k.MAID
    ),
    "idfa": k.IDFA,
    **dict.fromkeys(["gaid", "aaid", "google_ad_id", "android_ad_id"], k.GAID),
    **dict.fromkeys(["segment", "segments", "audience", "audiences"], k.SEGMENT),
    "action": k.ACTION,
}


def _safe_name(header: str, position: int) -> str:
    """A header fit for reports: one that looks like data (a headerless file) is redacted."""
    if "@" in header or len(re.findall(r"[0-9]", header)) >= 6 or len(header) > 64:
        return f"#{position}"
    return header


def fold(header: str) -> str:
    """Case- and punctuation-insensitive form of a header."""
    return re.sub(r"[\s.\-]+", "_", header.strip().lstrip("\ufeff").lower()).strip("_")


@dataclass(frozen=True)
class ColumnMap:
    """Detected kinds -> source column names, plus the columns that were ignored."""

    kinds: Mapping[str, str]
    ignored: tuple[str, ...] = field(default_factory=tuple)

    @property
    def identifiers(self) -> dict[str, str]:
        return {kind: col for kind, col in self.kinds.items() if kind in k.IDENTIFIER_KINDS}


def detect_columns(
    headers: Iterable[str], file: Path | str, aliases: Mapping[str, str] | None = None
) -> ColumnMap:
    """Map headers to kinds; InputError when no identifier column exists or a kind repeats."""
    table = dict(ALIASES)
    for alias, target in (aliases or {}).items():
        if target not in ALIASES.values():
            raise InputError("bad_alias", file, f"alias for unknown kind {target!r}")
        table[fold(alias)] = target
    found: dict[str, str] = {}
    ignored: list[str] = []
    for position, header in enumerate(headers, start=1):
        detected = table.get(fold(header))
        if detected is None:
            ignored.append(_safe_name(header, position))
            continue
        kind = detected
        if kind in found:
            raise InputError(
                "duplicate_column",
                file,
                f"two columns hold {kind} ({found[kind]!r} and {header!r})",
                line=1,
                column=position,
            )
        found[kind] = header
    columns = ColumnMap(kinds=found, ignored=tuple(ignored))
    if not columns.identifiers:
        raise InputError(
            "no_identifier_column",
            file,
            "no identifier column (expected a header such as email, "
            "email_sha256, phone, phone_sha256, maid, idfa or gaid)",
            line=1,
        )
    return columns


def segment_and_action(columns: ColumnMap) -> list[pl.Expr]:
    """`segments` (a list: `a|b` names two, blanks dropped) and `action` ("add", "delete",
    null when blank, or kinds.INVALID_ACTION for anything else), from a raw frame."""
    return [_segments(columns), _action(columns)]


def segment_invalid() -> pl.Expr:
    """`segment_invalid`, from the `segments` column: a name names.check_name refuses
    (the row is rejected as kinds.INVALID_SEGMENT)."""
    folded = pl.element().str.replace_all(r"\s+", " ").str.strip_chars()
    bad = (folded.str.len_chars() > MAX_NAME) | folded.str.contains(r"[\x00-\x1f]")
    return pl.col("segments").list.eval(bad).list.any().alias("segment_invalid")


def _segments(columns: ColumnMap) -> pl.Expr:
    name = columns.kinds.get(k.SEGMENT)
    if name is None:
        return pl.repeat([], pl.len(), dtype=pl.List(pl.String)).alias("segments")
    return (
        pl.col(name)
        .fill_null("")
        .str.split("|")
        .list.eval(pl.element().str.strip_chars().filter(pl.element() != ""))
        .alias("segments")
    )


def _action(columns: ColumnMap) -> pl.Expr:
    name = columns.kinds.get(k.ACTION)
    if name is None:
        return pl.repeat(None, pl.len(), dtype=pl.String).alias("action")
    value = pl.col(name).str.strip_chars().str.to_lowercase()
    return (
        pl.when(value.is_null() | (value == ""))
        .then(None)
        .when(value.is_in(["add", "delete"]))
        .then(value)
        .otherwise(pl.lit(k.INVALID_ACTION))
        .alias("action")
    )
