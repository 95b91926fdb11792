"""`resolver partners`, `resolver serve` and `resolver status`."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager

import click
from rich.console import Console

from config.cli import confirm, yes_option
from config.tables import print_records
from resolver.cli.progress import file_progress
from resolver.cli.render import print_status
from resolver.cli.state import CliState, pass_state
from resolver.inbox.service import Service
from resolver.inbox.status import status_data
from resolver.partners import add_partner, update_partner
from resolver.pipeline.report import Progress
from resolver.removal import distributed_segments, remove_partner, survey
from resolver.state.control import COMMITTED, PURGED, QUARANTINED, Control


def register(main: click.Group) -> None:
    for command in (partners, serve, status):
        main.add_command(command)


@click.group()
def partners() -> None:
    """Partners who drop files into inbox/<partner>/."""


@partners.command("add")
@click.argument("name")
@click.option("--region", default=None, help="Default phone region [default: US].")
@pass_state
def partners_add(state: CliState, name: str, region: str | None) -> None:
    """Register a partner and create its inbox, outbox and quarantine (0700).

    Example: resolver partners add acme --region GB"""
    home = state.home()
    created = add_partner(home, name, region)
    verb = "added" if created else "already exists:"
    click.echo(f"{verb} partner {name}: drop files into {home.inbox / name}/")


@partners.command("update")
@click.argument("name")
@click.option("--region", required=True, help="New default phone region.")
@pass_state
def partners_update(state: CliState, name: str, region: str) -> None:
    """Change a partner's default phone region (files taken from now on use it).

    Example: resolver partners update acme --region GB"""
    home = state.home()
    before, after = update_partner(home, name, region)
    click.echo(f"partner {name}: region {before} -> {after}")


@partners.command("remove")
@click.argument("name")
@yes_option
@pass_state
def partners_remove(state: CliState, name: str, yes: bool) -> None:
    """Remove a partner and everything held for it: its inbox, outbox and quarantine,
    its identity graph, segments and file records. Its person IDs stop meaning anyone,
    so its name cannot be registered again. Refused while `serve` runs or while any of
    its segments is distributed.

    Example: resolver partners remove acme"""
    home = state.home()
    found = survey(home, name)
    distributed = distributed_segments(home, found.segments)
    if not distributed:
        confirm(f"This will delete {found.summary}. Go on?", yes)
    remove_partner(home, name, distributed)
    click.echo(f"removed partner {name}")


@partners.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_state
def partners_list(state: CliState, as_json: bool) -> None:
    """List the partners with their file counts.

    Example: resolver partners list --json"""
    home = state.home()
    records = []
    with Control(home.control_db) as control:
        for partner in control.partners():
            counts = control.counts_by_state(partner.name)
            records.append(
                {
                    "partner": partner.name,
                    "region": partner.region,
                    "files": sum(counts.values()),
                    "committed": counts.get(PURGED, 0) + counts.get(COMMITTED, 0),
                    "quarantined": counts.get(QUARANTINED, 0),
                    "inbox": str(home.inbox / partner.name),
                }
            )
    numbers = ("files", "committed", "quarantined")
    print_records("Partners", "partners", records, as_json=as_json, right=numbers)


@click.command()
@click.option("--once", is_flag=True, help="Process what is in the inbox, then exit.")
@click.option("--interval", type=float, default=None, help="Seconds between listings.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_state
def serve(state: CliState, once: bool, interval: float | None, as_json: bool) -> None:
    """Take partners' files from the inbox exactly once, even across crashes.

    Example: resolver serve --interval 30"""
    home = state.home()
    console = Console(stderr=True)
    service = Service(home, log=lambda line: console.print(line, highlight=False))
    try:
        summary = service.run(once=once, interval=interval, progress=_progress(console))
    finally:
        service.close()
    if as_json:
        click.echo(json.dumps(summary.to_dict(), sort_keys=True))
        return
    counts = ", ".join(f"{n} {state}" for state, n in sorted(summary.counts().items()))
    rate = summary.rows / summary.seconds if summary.seconds else 0.0
    click.echo(
        f"{len(summary.outcomes)} files ({counts or 'none'}); {summary.rows:,} rows"
        f" in {summary.seconds:.1f}s ({rate:,.0f} rows/s)"
    )


def _progress(console: Console) -> Callable[[str, int], AbstractContextManager[Progress | None]]:
    return lambda label, size: file_progress(console, label)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
def status(state: CliState, as_json: bool) -> None:
    """Files by state, recent throughput, quarantined files, segments.

    Example: resolver status --json"""
    data = status_data(state.home())
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    print_status(data)
