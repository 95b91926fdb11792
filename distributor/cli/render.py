"""What the `distributor` commands print: tables for the terminal (rich), JSON for machines.
Counts and names only; tokens are masked before they get here."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from config import tables
from distributor.errors import AudienceGone, AuthError, Busy
from distributor.executor import Meter
from distributor.ledger import REMOVING
from distributor.plan import Plan

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
STATUS_FRESH = (*STATUS_COLUMNS, "fresh_p50_s", "fresh_p95_s", "lag_s")


def fresh_columns(fresh: dict[str, Any]) -> dict[str, Any]:
    """A Freshness dict as the status table's columns (blank without samples)."""
    names = {"fresh_p50_s": "p50", "fresh_p95_s": "p95", "lag_s": "lag"}
    return {
        column: "" if fresh[key] is None else f"{fresh[key]:.1f}" for column, key in names.items()
    }


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A table, or a record per row when it does not fit (config/tables.py)."""
    tables.print_table(title, headers, rows, right=COUNTS)


COUNTS = ("entered", "synced", "not_synced", "pending", "errored", "cover_num", "members",
          "fresh_p50_s", "fresh_p95_s", "lag_s")  # fmt: skip


def print_reports(
    reports: Sequence[dict[str, Any]], columns: Sequence[str] = STATUS_COLUMNS
) -> None:
    """RunReport dicts (or the ledger's last runs) as the status table."""
    print_table("Distributions", columns, [[r.get(c) for c in columns] for r in reports])


def run_metrics(row: dict[str, Any], running: bool = False) -> dict[str, Any]:
    """A ledger `last_runs` row as a report dict: its saved metrics, then its columns. A
    run recorded as running whose lock nobody holds (`running` False) was interrupted."""
    metrics = json.loads(row.get("metrics") or "{}")
    merged = {**metrics, **{k: v for k, v in row.items() if k != "metrics" and v is not None}}
    merged.setdefault("status", "never run")
    audience = merged.pop("audience_status", None)
    paused = merged.pop("paused_at", None) is not None
    if audience == REMOVING:
        merged["status"] = "removing"
        merged["message"] = "undistribute was cut short: run it again to finish"
    elif audience == "gone":
        merged["status"] = "audience gone"
        merged["message"] = "the audience was deleted on the platform: distribute --recreate"
    elif paused and not running:
        merged["status"] = "paused"
        merged["message"] = "paused: `distributor resume` to sync again"
    elif merged["status"] in ("running", "preparing") and not running:
        merged["status"] = "interrupted"
        merged["message"] = "the run's process ended mid-run; the next run resumes"
    return merged


VERBS = {"delete": "deleting", "add": "adding"}


class _RetryColumn(ProgressColumn):
    """ "retrying (HTTP 503), next try in 3 s", counting down, while a call backs off."""

    def render(self, task: Task) -> Text:
        left = task.fields.get("retry_at", 0.0) - time.monotonic()
        if left <= 0:
            return Text("")
        return Text(
            f"retrying ({task.fields['reason']}), next try in {math.ceil(left)} s", "yellow"
        )


class _BarMeter:
    """The executor's Meter on a rich bar: rows and batches done of their totals, ETA."""

    def __init__(self, bar: Progress, task: TaskID, batches: int) -> None:
        self.bar, self.task, self.batches, self.done = bar, task, batches, 0

    def settled(self, rows: int, action: str) -> None:
        self.done += 1
        self.bar.update(self.task, advance=rows, description=VERBS.get(action, action),
                        batches=f"{self.done:,}/{self.batches:,} batches")  # fmt: skip

    def split(self) -> None:
        self.batches += 1

    def retrying(self, reason: str, delay: float) -> None:
        self.bar.update(self.task, reason=reason, retry_at=time.monotonic() + delay)


class _LineMeter:
    """The executor's Meter without a terminal: a line now and then on stderr (a log
    reads it): how far the run is every 10 s, and when calls back off (at most every 5 s)."""

    EVERY, RETRY_EVERY = 10.0, 5.0

    def __init__(self, plan: Plan) -> None:
        self.rows, self.batches = plan.rows.height, len(plan.batches)
        self.rows_done = self.batches_done = 0
        self.said, self.retry_said = time.monotonic(), float("-inf")

    def settled(self, rows: int, action: str) -> None:
        self.rows_done += rows
        self.batches_done += 1
        now = time.monotonic()
        if now - self.said >= self.EVERY:
            self.said = now
            click.echo(
                f"{VERBS.get(action, action)}: {self.rows_done:,} of {self.rows:,} rows,"
                f" {self.batches_done:,} of {self.batches:,} batches",
                err=True,
            )

    def split(self) -> None:
        self.batches += 1

    def retrying(self, reason: str, delay: float) -> None:
        now = time.monotonic()
        if now - self.retry_said >= self.RETRY_EVERY:
            self.retry_said = now
            click.echo(f"retrying ({reason}), next try in {math.ceil(delay)} s", err=True)


@contextmanager
def run_bar(plan: Plan) -> Iterator[Meter]:
    """How a run shows its progress: a bar on a terminal, else a line now and then."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield _LineMeter(plan)
        return
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[batches]}"),
        TimeRemainingColumn(),
        _RetryColumn(),
        console=console,
        transient=True,
    )
    with bar:
        batches = len(plan.batches)
        task = bar.add_task(
            "sending", total=plan.rows.height, batches=f"0/{batches:,} batches", reason=""
        )
        yield _BarMeter(bar, task, batches)
