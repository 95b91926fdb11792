"""`distributor pause` and `resume`: hold a segment's distributions out of every sync (a
named sync is refused, `sync --all` passes them by) until resumed. A run already going
finishes; nothing is sent while paused."""

from __future__ import annotations

import click

from distributor.cli.state import CliState, pass_state
from distributor.errors import RuleError
from resolver import Segments


def register(main: click.Group) -> None:
    main.add_command(pause_command)
    main.add_command(resume_command)


@click.command("pause")
@click.argument("segment")
@pass_state
def pause_command(state: CliState, segment: str) -> None:
    """Hold SEGMENT's distributions out of every sync until `distributor resume`.

    Example: distributor pause "sports fans\""""
    _set(state, segment, paused=True)
    click.echo(f"{segment}: paused (distributor resume to sync again)")


@click.command("resume")
@click.argument("segment")
@pass_state
def resume_command(state: CliState, segment: str) -> None:
    """Let SEGMENT's distributions sync again (the next sync brings them up to date).

    Example: distributor resume "sports fans\""""
    _set(state, segment, paused=False)
    click.echo(f"{segment}: resumed")


def _set(state: CliState, segment: str, paused: bool) -> None:
    with state.workspace() as ws:
        with Segments(ws.home) as segments:
            segment = segments.get(segment).name  # the catalogue's spelling
        if ws.ledger.distributions.set_paused(segment, paused) == 0:
            raise RuleError(f"segment {segment!r} is not distributed")
