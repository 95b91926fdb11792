"""What the `distributor` commands print: tables for the terminal (rich), JSON for machines.
Counts and names only; tokens are masked before they get here."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from config import tables
from distributor.errors import AudienceGone, AuthError, Busy
from distributor.executor import Advance

PARTIAL = 3  # a run finished with members errored or pending
EXIT_CODES = {AuthError: 4, AudienceGone: 5, Busy: 6}  # RunStopped is an AuthError

STATUS_COLUMNS = (
    "segment",
    "account",
    "audience_id",
    "status",
    "entered",
    "synced",
    "not_synced",
    "pending",
    "errored",
    "cover_num",
)


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A table, or a record per row when it does not fit (config/tables.py)."""
    tables.print_table(title, headers, rows, right=COUNTS)


COUNTS = ("entered", "synced", "not_synced", "pending", "errored", "cover_num", "members")


def print_reports(reports: Sequence[dict[str, Any]]) -> None:
    """RunReport dicts (or the ledger's last runs) as the status table."""
    print_table(
        "Distributions", STATUS_COLUMNS, [[r.get(c) for c in STATUS_COLUMNS] for r in reports]
    )


def run_metrics(row: dict[str, Any], running: bool = False) -> dict[str, Any]:
    """A ledger `last_runs` row as a report dict: its saved metrics, then its columns. A
    run recorded as running whose lock nobody holds (`running` False) was interrupted."""
    metrics = json.loads(row.get("metrics") or "{}")
    merged = {**metrics, **{k: v for k, v in row.items() if k != "metrics" and v is not None}}
    merged.setdefault("status", "never run")
    if merged.pop("audience_status", None) == "gone":
        merged["status"] = "audience gone"
        merged["message"] = "the audience was deleted on the platform: distribute --recreate"
    elif merged["status"] in ("running", "preparing") and not running:
        merged["status"] = "interrupted"
        merged["message"] = "the run's process ended mid-run; the next run resumes"
    return merged


@contextmanager
def row_bar(total: int) -> Iterator[Advance]:
    """A bar over a run's plan rows on a terminal (described by the batch's action)."""
    console = Console(stderr=True)
    if not total or not console.is_terminal:
        yield lambda rows, action: None
        return
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    with bar:
        task = bar.add_task("rows", total=total)
        yield lambda rows, action: bar.update(task, advance=rows, description=action)
