"""What a run did, in counts (never values): the report and the tally that fills it."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from resolver.state.atomic import write_atomic


class Progress(Protocol):
    """What a long job tells whoever watches it (counts only, never values)."""

    def begin(self, phase: str, total: int | None = None, unit: str = "rows") -> None:
        """A new phase ("reading", "linking", "writing"), with how much it has to do in
        `unit` ("bytes" or "rows"; total None when not known)."""

    def advance(self, done: int) -> None:
        """`done` more units of the phase are done (callable from any thread)."""

    def rows(self, done: int) -> None:
        """`done` more rows were processed (a chunk went through the stages)."""


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
    graph: dict[str, Any] = field(default_factory=dict)  # what the file did to the graph
    seconds: float = 0.0
    rows_per_second: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, **extra: Any) -> bytes:
        return json.dumps(self.to_dict() | extra, indent=2, sort_keys=True).encode() + b"\n"

    def write(self, path: Path, **extra: Any) -> None:
        write_atomic(path, self.to_json(**extra))


class Tally:
    """Adds each chunk's counts to a report; distinct persons are kept as 8-byte integers
    (8 bytes a person instead of a 16-byte binary plus offsets; a collision among 10^8
    persons has odds ~3e-4)."""

    def __init__(self, report: ResolveReport, families: list[str]) -> None:
        self.report = report
        self.families = families
        self._persons: pl.Series | None = None

    def identifiers(self, chunk: pl.DataFrame) -> None:
        """Valid and invalid identifiers per family (match keys and their errors)."""
        self.report.rows += len(chunk)
        for fam in self.families:
            valid = int(chunk.get_column(f"{fam}_sha256").is_not_null().sum())
            self.report.valid[fam] = self.report.valid.get(fam, 0) + valid
            errors = chunk.get_column(f"{fam}_error").drop_nulls().value_counts()
            bucket = Counter(self.report.invalid.get(fam, {}))
            bucket.update(dict(errors.iter_rows()))
            if bucket:
                self.report.invalid[fam] = dict(bucket)

    def persons(self, chunk: pl.DataFrame) -> None:
        """Reject reasons and persons of a settled chunk (pass two)."""
        reasons = Counter(self.report.reject_reasons)
        reasons.update(
            dict(chunk.get_column("reject_reason").drop_nulls().value_counts().iter_rows())
        )
        self.report.reject_reasons = dict(reasons)
        self.report.rejected = sum(reasons.values())
        self.report.resolved = self.report.rows - self.report.rejected
        persons = (
            chunk.get_column("person_key")
            .drop_nulls()
            .bin.slice(0, 8)
            .bin.reinterpret(dtype=pl.UInt64, endianness="little")
        )
        if self._persons is not None:
            persons = pl.concat([self._persons, persons])
        self._persons = persons.unique()

    def finish(self, seconds: float) -> None:
        report = self.report
        report.distinct_persons = 0 if self._persons is None else len(self._persons)
        report.rows_per_second = round(report.rows / max(seconds, 1e-9), 1)
        report.seconds = round(seconds, 3)
