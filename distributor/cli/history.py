"""`distributor runs`: the run history, newest first: when each run started and ended, how
it ended, its counts and its failed calls by code (counts and names only)."""

from __future__ import annotations

import json
import time
from typing import Any

import click

from distributor.cli.render import print_table
from distributor.cli.state import CliState, pass_state

COLUMNS = ("run", "segment", "account", "started", "seconds", "status", "synced", "errored")


def register(main: click.Group) -> None:
    main.add_command(runs_command)


@click.command("runs")
@click.argument("segment", required=False)
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def runs_command(state: CliState, segment: str | None, limit: int, as_json: bool) -> None:
    """The latest runs (of SEGMENT's distributions, if given): start, end, outcome, counts
    and failed calls by code (the platform's code or the HTTP status; retried calls
    included). A run whose process ended mid-run shows as interrupted.

    Example: distributor runs "sports fans" --json"""
    with state.workspace() as ws:
        found = ws.ledger.runs.history(segment, limit)
        held = {row["segment"] for row in found if ws.ledger.locks.held(row["segment"])}
    rows = [_times(r) for r in _interrupted(found, held)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    print_table("Runs", (*COLUMNS, "errors by code"), [_line(r) for r in rows])


def _interrupted(rows: list[dict[str, Any]], held: set[str]) -> list[dict[str, Any]]:
    """A run still marked running is interrupted unless it is its segment's newest run
    and a process holds the segment's lock."""
    newest: set[str] = set()
    for row in rows:  # newest first
        live = row["segment"] in held and row["segment"] not in newest
        newest.add(row["segment"])
        if row["status"] in ("running", "preparing") and not live:
            row["status"] = "interrupted"
    return rows


def _times(row: dict[str, Any]) -> dict[str, Any]:
    started, finished = row.pop("started_at"), row.pop("finished_at")
    row["started"] = _iso(started)
    row["finished"] = None if finished is None else _iso(finished)
    row["seconds"] = None if finished is None else round(finished - started, 1)
    return row


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _line(row: dict[str, Any]) -> list[Any]:
    codes = ", ".join(f"{code}: {n:,}" for code, n in sorted(row["errors_by_code"].items()))
    return [*(row.get(c) for c in COLUMNS), codes or "-"]
