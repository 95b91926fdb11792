"""read -> normalize -> hash -> derive, chunk by chunk, with a report.

Each chunk of the input becomes a frame of node keys, a person key, the partner-facing
person_id, destination match keys and reject reasons (see `CHUNK_SCHEMA`). Memory stays
bounded by the chunk size whatever the file's size.

Person rule until the identity graph links identifiers: a row's person is its
highest-priority valid identifier (email, then phone, then MAID), and the person key is the
first 16 bytes of that identifier's node key, HMAC(K_node, family ":" sha256(canonical)).
Only that one node key is computed per row. A row is rejected only when it has no usable
identifier; its reject reason is then the first of its identifier errors (email, phone,
MAID order), or "no_identifier" when every identifier cell was empty, or "invalid_action"
for an action other than add/delete.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from resolver import kinds as k
from resolver.hashing import hex_to_binary, hmac_sha256_hex
from resolver.keys import KeyRing, encode_person_ids
from resolver.normalize import check_region, prepare
from resolver.profiles import get_profile
from resolver.reader import Source, open_source, prefetch, read_chunks
from resolver.schema import ColumnMap, detect_columns

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
INVALID_ACTION = "invalid_action"

Progress = Callable[[int], None]


@dataclass
class ResolveReport:
    """What a run did, in counts; never values."""

    file: str
    partner: str | None
    profile: str
    region: str
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    rows: int = 0
    resolved: int = 0
    rejected: int = 0
    valid: dict[str, int] = field(default_factory=dict)
    invalid: dict[str, dict[str, int]] = field(default_factory=dict)
    reject_reasons: dict[str, int] = field(default_factory=dict)
    distinct_persons: int = 0
    seconds: float = 0.0
    rows_per_second: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _families(columns: ColumnMap) -> list[str]:
    return sorted({k.FAMILY_OF[kind] for kind in columns.identifiers}, key=k.FAMILIES.index)


class Resolution:
    """An opened input being resolved. Iterate `chunks()` once; then read `report`."""

    def __init__(
        self,
        source: Source,
        columns: ColumnMap,
        stack: ExitStack,
        *,
        partner: str | None,
        keyring: KeyRing | None,
        region: str,
        profile: str,
        chunk_rows: int,
    ) -> None:
        self.source = source
        self._columns = columns
        self._stack = stack
        self._partner = partner
        self._keyring = keyring
        self._region = region
        self._profile = profile
        self._chunk_rows = chunk_rows
        self.columns = dict(columns.kinds)
        self.ignored_columns = list(columns.ignored)
        self.report = ResolveReport(
            file=source.path.name,
            partner=partner,
            profile=get_profile(profile).label,
            region=region,
            columns=dict(columns.kinds),
            ignored_columns=list(columns.ignored),
        )
        self._persons: list[pl.Series] = []
        self._node_key = keyring.node_hmac_key if keyring else ""
        self._partner_key = keyring.partner_id_key(partner) if keyring and partner else b""

    def __enter__(self) -> Resolution:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()

    def chunks(self, progress: Progress | None = None) -> Iterator[pl.DataFrame]:
        """Resolved chunks in file order (CHUNK_SCHEMA columns)."""
        started = time.perf_counter()
        offset = 0
        try:
            for raw in prefetch(read_chunks(self.source, self._chunk_rows)):
                chunk = self._resolve(raw, offset)
                offset += len(raw)
                self._count(chunk)
                if progress is not None:
                    progress(len(raw))
                yield chunk
                del chunk, raw
                # Polars frames caught in reference cycles are only freed by the cycle
                # collector; without this, memory grows with every chunk.
                gc.collect()
        finally:
            self.close()
        self._finish(time.perf_counter() - started)

    def hashed(self, progress: Progress | None = None) -> Iterator[pl.DataFrame]:
        """Match keys and errors only (the `hash` command): no key needed."""
        started = time.perf_counter()
        families = _families(self._columns)
        keep = [f"{fam}_sha256" for fam in families] + [f"{fam}_error" for fam in families]
        try:
            for raw in prefetch(read_chunks(self.source, self._chunk_rows)):
                prepared = prepare(
                    raw,
                    self._columns.identifiers,
                    region=self._region,
                    profile=self._profile,
                    nodes=False,
                )
                self._count_prepared(prepared, families)
                self.report.rows += len(raw)
                if progress is not None:
                    progress(len(raw))
                yield prepared.select(keep)
                del prepared, raw
                gc.collect()
        finally:
            self.close()
        self.report.seconds = time.perf_counter() - started
        self._rate()

    # -- derive ---------------------------------------------------------------------

    def _resolve(self, raw: pl.DataFrame, offset: int) -> pl.DataFrame:
        assert self._keyring is not None
        assert self._partner is not None
        prepared = prepare(
            raw, self._columns.identifiers, region=self._region, profile=self._profile, person=True
        )
        extra = raw.select(_segments(self._columns), _action(self._columns))
        node = pl.col("person_family") + ":" + pl.col("person_node")
        person_key = hex_to_binary(hmac_sha256_hex(node, self._node_key).str.slice(0, 32))
        frame = prepared.hstack(extra).with_columns(
            pl.when(pl.col("action") == INVALID_ACTION)
            .then(None)
            .otherwise(person_key)
            .alias("person_key"),
            pl.int_range(offset + 1, offset + len(raw) + 1, dtype=pl.UInt64).alias("row"),
        )
        frame = frame.with_columns(_reject_reason(frame))
        person_ids = encode_person_ids(frame.get_column("person_key"), self._partner_key)
        frame = frame.with_columns(
            person_ids.alias("person_id"), pl.col("action").replace(INVALID_ACTION, None)
        )
        return frame.select(list(CHUNK_SCHEMA))

    # -- report ---------------------------------------------------------------------

    def _count_prepared(self, prepared: pl.DataFrame, families: list[str]) -> None:
        for fam in families:
            valid = prepared.get_column(f"{fam}_sha256").is_not_null().sum()
            self.report.valid[fam] = self.report.valid.get(fam, 0) + int(valid)
            errors = prepared.get_column(f"{fam}_error").drop_nulls().value_counts()
            bucket = Counter(self.report.invalid.get(fam, {}))
            bucket.update(dict(errors.iter_rows()))
            if bucket:
                self.report.invalid[fam] = dict(bucket)

    def _count(self, chunk: pl.DataFrame) -> None:
        self.report.rows += len(chunk)
        self._count_prepared(chunk, _families(self._columns))
        reasons = Counter(self.report.reject_reasons)
        reasons.update(
            dict(chunk.get_column("reject_reason").drop_nulls().value_counts().iter_rows())
        )
        self.report.reject_reasons = dict(reasons)
        self.report.rejected = sum(reasons.values())
        self.report.resolved = self.report.rows - self.report.rejected
        # Distinct persons as the first 8 bytes of the key (a u64: 8 bytes a person instead
        # of a 16-byte binary plus offsets; a collision among 10^8 persons has odds ~3e-4).
        persons = (
            chunk.get_column("person_key")
            .drop_nulls()
            .bin.slice(0, 8)
            .bin.reinterpret(dtype=pl.UInt64, endianness="little")
            .unique()
        )
        self._persons = [pl.concat([*self._persons, persons]).unique()]

    def _finish(self, seconds: float) -> None:
        self.report.seconds = seconds
        self.report.distinct_persons = len(self._persons[0]) if self._persons else 0
        self._rate()

    def _rate(self) -> None:
        seconds = max(self.report.seconds, 1e-9)
        self.report.seconds = round(self.report.seconds, 3)
        self.report.rows_per_second = round(self.report.rows / seconds, 1)


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
        .otherwise(pl.lit(INVALID_ACTION))
        .alias("action")
    )


def _reject_reason(frame: pl.DataFrame) -> pl.Expr:
    first_error = pl.coalesce(*(pl.col(c) for c in k.ERROR_COLUMNS))
    return (
        pl.when(pl.col("person_key").is_not_null())
        .then(None)
        .when(pl.col("action") == INVALID_ACTION)
        .then(pl.lit(INVALID_ACTION))
        .otherwise(pl.coalesce(first_error, pl.lit(k.NO_IDENTIFIER)))
        .alias("reject_reason")
    )


def resolve_file(
    path: Path,
    *,
    partner: str | None,
    keyring: KeyRing | None,
    region: str = "US",
    profile: str = "tiktok",
    chunk_rows: int = 400_000,
    aliases: Mapping[str, str] | None = None,
    max_line_bytes: int = 65536,
    max_decompressed_bytes: int | None = None,
    max_compression_ratio: float | None = None,
    tmpdir: Path | None = None,
) -> Resolution:
    """Open, validate and detect the columns of a file; InputError if it is malformed.
    `keyring` and `partner` may be None only for `hashed()` (match keys, no IDs)."""
    region = check_region(region)
    get_profile(profile)
    stack = ExitStack()
    try:
        source = stack.enter_context(
            open_source(
                Path(path),
                max_line_bytes=max_line_bytes,
                max_decompressed_bytes=max_decompressed_bytes,
                max_compression_ratio=max_compression_ratio,
                tmpdir=tmpdir,
            )
        )
        columns = detect_columns(source.headers, source.path, aliases)
    except BaseException:
        stack.close()
        raise
    return Resolution(
        source,
        columns,
        stack,
        partner=partner,
        keyring=keyring,
        region=region,
        profile=profile,
        chunk_rows=chunk_rows,
    )
