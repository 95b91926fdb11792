"""`distributor distribute`, `sync` and `status`: segments from the resolver's catalogue,
sent and kept in sync through the ledger."""

from __future__ import annotations

import json

import click
import polars as pl

from config.cli import failure
from distributor.cli.render import (
    EXIT_CODES,
    PARTIAL,
    STATUS_FRESH,
    fresh_columns,
    print_reports,
    run_bar,
    run_metrics,
)
from distributor.cli.segments import distributed_to, segment_workspace
from distributor.cli.state import CliState, pass_state
from distributor.errors import DistributorError
from distributor.metrics import RunReport
from distributor.run import RunContext
from distributor.workspace import Workspace
from resolver import ResolverError


def register(main: click.Group) -> None:
    for command in (distribute_command, sync_command, status_command):
        main.add_command(command)


def members(ws: Workspace, name: str) -> tuple[str, pl.DataFrame]:
    """The segment's canonical name and its latest members with match keys."""
    read = ws.segment(name)
    return read.name, read.members


def _emit(reports: list[RunReport], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in reports], indent=2))
        return
    print_reports([r.to_dict() for r in reports])
    for report in reports:
        if report.status == "dry-run":
            click.echo(
                f"dry run for {report.segment}: would delete {report.deletes:,} and then add"
                f" {report.adds:,} ids in {report.batches} batches; nothing was sent"
            )


@click.command("distribute")
@click.argument("segment")
@click.option("--account", required=True, help="Ad account name (`accounts list`).")
@click.option("--dry-run", is_flag=True, help="Print the plan; send nothing.")
@click.option(
    "--recreate", is_flag=True, help="Make the audience again if it was deleted on the platform."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def distribute_command(
    state: CliState, segment: str, account: str, dry_run: bool, recreate: bool, as_json: bool
) -> None:
    """Send a segment to an ad account (creating its audience on first use).

    Exit status: 0 done, 3 partial (some members errored or pending: sync again), 4 the
    token was refused (re-authorize), 5 the audience is gone (use --recreate), 6 another
    run holds the segment, 1 any other error, 130 interrupted.

    Example: distributor distribute 'sports fans' --account 'Brand US' --dry-run"""
    bar = None if as_json else run_bar
    with segment_workspace(state) as ws:
        read = ws.segment(segment)
        report = ws.distribute(
            read.name, read.members, account, dry_run=dry_run, progress=bar,
            context=RunContext(read.generation, recreate=recreate),
        )  # fmt: skip
    _emit([report], as_json)
    _exit_partial([report])


def _exit_partial(reports: list[RunReport]) -> None:
    unfinished = [r for r in reports if r.status == "partial"]
    if unfinished:
        raise failure(
            f"{len(unfinished)} of {len(reports)} distributions finished with members errored"
            " or pending: run `distributor sync` again",
            PARTIAL,
        )


@click.command("sync")
@click.argument("segment", required=False)
@click.option("--all", "every", is_flag=True, help="Every distributed segment.")
@click.option("--dry-run", is_flag=True, help="Print the plans; send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def sync_command(
    state: CliState, segment: str | None, every: bool, dry_run: bool, as_json: bool
) -> None:
    """Record sync: delete who left, then add who joined, for each distribution.

    Exit status as for `distribute`; with --all, the gravest among the distributions'.

    Example: distributor sync --all"""
    if (segment is None) == (not every):
        raise click.UsageError("name a SEGMENT or pass --all")
    reports: list[RunReport] = []
    codes: list[int] = []
    with segment_workspace(state) as ws:
        names = [segment] if segment else sorted(distributed_to(ws))
        if every:  # passed by, not refused
            held = [n for n in names if ws.ledger.distributions.paused(n)]
            names = [n for n in names if n not in held]
            for name in held:
                click.echo(f"{name}: paused, not synced", err=True)
        for name in names:
            try:
                read = ws.segment(name)
                bar = None if as_json else run_bar
                report = ws.sync(
                    read.name, read.members, dry_run=dry_run, progress=bar,
                    context=RunContext(read.generation),
                )  # fmt: skip
                reports.append(report)
            except (ResolverError, DistributorError) as exc:
                partial = getattr(exc, "report", None)
                if partial is not None:
                    reports.append(partial)
                codes.append(exit_code(exc))
                click.echo(f"{name}: {exc}", err=True)
    _emit(reports, as_json)
    if codes:
        worst = min(codes, key=lambda code: GRAVITY.index(code) if code in GRAVITY else 99)
        raise failure(f"{len(codes)} of {len(names)} syncs did not finish", worst)
    _exit_partial(reports)


GRAVITY = (4, 5, 6, 1, PARTIAL)  # the first of these a sync --all saw is its exit status


def exit_code(exc: Exception) -> int:
    return next((code for kind, code in EXIT_CODES.items() if isinstance(exc, kind)), 1)


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def status_command(state: CliState, as_json: bool) -> None:
    """Per distribution: entered, synced, not synced, pending, errored, matched size, how
    its last run ended (done, partial, stopped, audience gone, interrupted, paused), and
    its freshness: seconds from a partner's commit to the destination's acknowledgement,
    p50/p95 over the last day, and how long the oldest change not yet synced has waited.

    Example: distributor status --json"""
    with state.workspace() as ws:
        locks = ws.ledger.locks
        runs = [
            run_metrics(r, locks.held(r["segment"])) for r in ws.ledger.distributions.last_runs()
        ]
        found = {d.id: d for d in ws.ledger.distributions.all()}
        for run in runs:
            run["freshness"] = ws.freshness(found[run["distribution"]]).to_dict()
    if as_json:
        click.echo(json.dumps(runs, indent=2))
    else:
        print_reports([{**r, **fresh_columns(r["freshness"])} for r in runs], STATUS_FRESH)
