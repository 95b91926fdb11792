"""Human and machine renderings of a ResolveReport (counts only, never values)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from resolver.output import write_bytes_atomic
from resolver.pipeline import ResolveReport


def report_table(report: ResolveReport, title: str) -> Table:
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows: list[tuple[str, Any]] = [
        ("file", report.file),
        ("profile", report.profile),
        ("region", report.region),
        ("rows", f"{report.rows:,}"),
    ]
    if report.partner is not None:
        rows += [
            ("resolved rows", f"{report.resolved:,}"),
            ("rejected rows", f"{report.rejected:,}"),
            ("distinct persons", f"{report.distinct_persons:,}"),
        ]
    for family, count in report.valid.items():
        rows.append((f"valid {family}", f"{count:,}"))
    for family, reasons in report.invalid.items():
        for reason, count in sorted(reasons.items()):
            rows.append((f"{family}: {reason}", f"{count:,}"))
    for reason, count in sorted(report.reject_reasons.items()):
        rows.append((f"rejected: {reason}", f"{count:,}"))
    if report.ignored_columns:
        rows.append(("ignored columns", ", ".join(report.ignored_columns)))
    rows += [("seconds", f"{report.seconds:.2f}"), ("rows/s", f"{report.rows_per_second:,.0f}")]
    for name, value in rows:
        table.add_row(name, str(value))
    return table


def write_report(report: ResolveReport, path: Path) -> None:
    data = json.dumps(report.to_dict(), indent=2, sort_keys=True).encode() + b"\n"
    write_bytes_atomic(path, data)


@contextmanager
def row_progress(console: Console, total_bytes: int, label: str) -> Iterator[Any]:
    """A rows-processed progress bar on stderr when it is a terminal, else nothing."""
    if not console.is_terminal:
        yield None
        return
    progress = Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    with progress:
        task = progress.add_task(label, total=None)
        yield lambda rows: progress.advance(task, rows)
