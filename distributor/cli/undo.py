"""`distributor undistribute`: stop keeping a segment's audience in one ad account in
sync, and optionally delete the audience there (distributor/undistribute.py)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

import click

from config.cli import confirm, yes_option
from config.tables import print_json
from distributor.cli.state import CliState, pass_state
from distributor.undistribute import find_distribution, undistribute


def register(main: click.Group) -> None:
    main.add_command(undistribute_command)


@click.command("undistribute")
@click.argument("segment")
@click.option("--account", required=True, help="The ad account it is distributed to.")
@click.option("--delete-audience", is_flag=True, help="Also delete the audience in the ad account.")
@yes_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a line.")
@pass_state
def undistribute_command(
    state: CliState, segment: str, account: str, delete_audience: bool, yes: bool, as_json: bool
) -> None:
    """Stop syncing a segment to an ad account: the ledger forgets the distribution (its
    runs and what the audience holds), so the segment may go to another account. The
    audience stays in the ad account as it is, unless --delete-audience deletes it there.

    Example: distributor undistribute 'sports fans' --account 'Brand US' --delete-audience"""
    with state.workspace() as ws:
        dist = find_distribution(ws, segment, ws.account(account))
        what = (
            f"delete the audience {dist.audience_name!r} in ad account {account!r}"
            if delete_audience
            else f"stop syncing {dist.segment!r} to {account!r} (its audience stays as it is)"
        )
        confirm(f"This will {what}. Go on?", yes)
        done = asyncio.run(undistribute(ws, dist.segment, account, delete_audience))
    if as_json:
        print_json(asdict(done))
    else:
        click.echo(done.line)
