"""`distributor distribute`, `sync` and `status`: segments from the resolver's catalogue,
sent and kept in sync through the ledger."""

from __future__ import annotations

import json

import click
import polars as pl

from distributor.cli.render import print_reports, row_bar, run_metrics
from distributor.cli.segments import distributed_to, segment_workspace
from distributor.cli.state import CliState, pass_state
from distributor.errors import DistributorError, RunStopped
from distributor.metrics import RunReport
from distributor.workspace import Workspace
from resolver import ResolverError, Segments


def register(main: click.Group) -> None:
    for command in (distribute_command, sync_command, status_command):
        main.add_command(command)


def members(ws: Workspace, name: str) -> tuple[str, pl.DataFrame]:
    """The segment's canonical name and its latest members with match keys."""
    with Segments(ws.home) as segments:
        info = segments.get(name)
        return info.name, segments.members(info.name)


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
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def distribute_command(
    state: CliState, segment: str, account: str, dry_run: bool, as_json: bool
) -> None:
    """Send a segment to an ad account (creating its audience on first use)."""
    with segment_workspace(state) as ws:
        name, people = members(ws, segment)
        report = ws.distribute(
            name, people, account, dry_run=dry_run, progress=None if as_json else row_bar
        )
    _emit([report], as_json)


@click.command("sync")
@click.argument("segment", required=False)
@click.option("--all", "every", is_flag=True, help="Every distributed segment.")
@click.option("--dry-run", is_flag=True, help="Print the plans; send nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def sync_command(
    state: CliState, segment: str | None, every: bool, dry_run: bool, as_json: bool
) -> None:
    """Record sync: delete who left, then add who joined, for each distribution."""
    if (segment is None) == (not every):
        raise click.UsageError("name a SEGMENT or pass --all")
    reports: list[RunReport] = []
    failures = 0
    with segment_workspace(state) as ws:
        names = [segment] if segment else sorted(distributed_to(ws))
        for name in names:
            try:
                canonical, people = members(ws, name)
                reports.append(
                    ws.sync(
                        canonical, people, dry_run=dry_run, progress=None if as_json else row_bar
                    )
                )
            except RunStopped as exc:
                reports.append(exc.report)
                failures += 1
                click.echo(f"{name}: {exc}", err=True)
            except (ResolverError, DistributorError) as exc:
                if segment:
                    raise
                failures += 1
                click.echo(f"{name}: {exc}", err=True)
    _emit(reports, as_json)
    if failures:
        raise click.ClickException(f"{failures} of {len(names)} syncs did not finish")


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def status_command(state: CliState, as_json: bool) -> None:
    """Per distribution: entered, synced, not synced, pending, errored, matched size."""
    with state.workspace() as ws:
        runs = [run_metrics(r) for r in ws.ledger.distributions.last_runs()]
    if as_json:
        click.echo(json.dumps(runs, indent=2))
    else:
        print_reports(runs)
