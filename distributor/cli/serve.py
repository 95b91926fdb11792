"""`distributor serve`: the inbox and the sync loop in one process, until SIGTERM."""

from __future__ import annotations

import json

import click
from rich.console import Console

from distributor.cli.state import CliState, pass_state
from distributor.service import Serve


def register(main: click.Group) -> None:
    main.add_command(serve_command)


@click.command("serve")
@click.option("--once", is_flag=True, help="Take the inbox until empty, sync once, exit.")
@click.option(
    "--inbox/--no-inbox",
    default=True,
    help="Also take partners' files (--no-inbox: a `resolver serve` of its own does).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_state
def serve_command(state: CliState, once: bool, inbox: bool, as_json: bool) -> None:
    """Run the whole job: take partners' files from the inbox and keep every distribution
    equal to its segment, each synced within seconds of a commit (service.flush_seconds),
    until SIGTERM or Ctrl-C, which stop it cleanly: nothing is lost, and what was in hand
    resumes at the next start. Paused distributions are left alone.

    Example: distributor serve"""
    console = Console(stderr=True)
    with state.workspace() as ws:
        home = ws.home
    service = Serve(
        home, state.transport, lambda line: console.print(line, highlight=False), inbox=inbox
    )
    summary = service.run(once=once)
    if as_json:
        click.echo(json.dumps(summary.to_dict(), sort_keys=True))
        return
    syncs = ", ".join(f"{n} {s}" for s, n in sorted(summary.sync_counts().items()))
    files = summary.inbox.counts() if summary.inbox else {}
    taken = ", ".join(f"{n} {s}" for s, n in sorted(files.items())) or "none"
    click.echo(f"files: {taken}; syncs: {syncs or 'none'}; {summary.seconds:.1f} s")
