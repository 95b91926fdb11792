"""`distributor accounts`: add (or re-authorize), list, remove, check."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict

import click

from config.cli import confirm, yes_option
from config.tables import print_json, print_records
from distributor.authorize import Credentials, add_account, check_accounts
from distributor.cli.state import CliState, pass_state
from distributor.destinations import REGISTRY
from distributor.rules import mask_token
from distributor.undistribute import distributions_of, remove_account


def register(main: click.Group) -> None:
    main.add_command(accounts)


@click.group()
def accounts() -> None:
    """Ad accounts: add, list, remove, check."""


@accounts.command("add")
@click.argument("platform", type=click.Choice(sorted(REGISTRY)))
@click.option("--advertiser-id", required=True, help="The 19-digit TikTok advertiser ID.")
@click.option("--name", required=True, help="A name for this account (1-149 characters).")
@click.option("--token-env", metavar="VAR", help="Environment variable holding the token.")
@click.option("--auth-code", metavar="CODE", help="OAuth auth code to exchange for a token.")
@pass_state
def accounts_add(
    state: CliState,
    platform: str,
    advertiser_id: str,
    name: str,
    token_env: str | None,
    auth_code: str | None,
) -> None:
    """Add an ad account (or re-authorize one: same name and advertiser ID).

    The token comes from --token-env VAR (never from the command line) or from an OAuth
    --auth-code exchanged with the app id ([tiktok] app_id) and TESSERA_TIKTOK__APP_SECRET.
    The token must have the Admin or Operator role on the advertiser.

    Example: distributor accounts add tiktok --advertiser-id 7362187027677476632
    --name 'Brand US' --token-env TIKTOK_TOKEN"""
    credentials = Credentials(token_env=token_env, auth_code=auth_code)
    with state.workspace() as ws:
        line = asyncio.run(add_account(ws, platform, advertiser_id, name, credentials))
    click.echo(line)


@accounts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_state
def accounts_list(state: CliState, as_json: bool) -> None:
    """List ad accounts (tokens masked).

    Example: distributor accounts list --json"""
    with state.workspace() as ws:
        records = [
            {
                "name": a.name,
                "platform": a.platform,
                "advertiser_id": a.advertiser_id,
                "role": a.role,
                "token": mask_token(ws.ledger.accounts.token(a.name)),
                "checked": time.strftime(
                    "%Y-%m-%d %H:%M", time.gmtime(a.checked_at or a.created_at)
                ),
            }
            for a in ws.ledger.accounts.all()
        ]
    print_records("Ad accounts", "accounts", records, as_json=as_json)


@accounts.command("remove")
@click.argument("name")
@click.option(
    "--with-distributions",
    is_flag=True,
    help="Undistribute its segments first (their audiences stay, unless --delete-audiences).",
)
@click.option(
    "--delete-audiences", is_flag=True, help="With --with-distributions: delete the audiences."
)
@yes_option
@pass_state
def accounts_remove(
    state: CliState, name: str, with_distributions: bool, delete_audiences: bool, yes: bool
) -> None:
    """Remove an ad account and its stored token. An account with distributions is
    refused with the commands that undo them, unless --with-distributions.

    Example: distributor accounts remove 'Brand US' --with-distributions"""
    if delete_audiences and not with_distributions:
        raise click.UsageError("--delete-audiences goes with --with-distributions")
    with state.workspace() as ws:
        found = distributions_of(ws, ws.account(name)) if with_distributions else []
        if found:
            segments = ", ".join(repr(d.segment) for d in found)
            fate = "deleting their audiences" if delete_audiences else "keeping their audiences"
            confirm(f"This will undistribute {segments} ({fate}) and remove {name!r}. Go on?", yes)
        done = asyncio.run(remove_account(ws, name, with_distributions, delete_audiences))
    for undone in done:
        click.echo(undone.line)
    click.echo(f"removed account {name}")


@accounts.command("check")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
@pass_state
def accounts_check(state: CliState, name: str | None, as_json: bool) -> None:
    """Check that stored tokens still work and may manage audiences.

    Example: distributor accounts check 'Brand US'"""
    with state.workspace() as ws:
        results = asyncio.run(check_accounts(ws, name))
    if as_json:
        print_json({"accounts": [asdict(r) for r in results]})
    else:
        for result in results:
            click.echo(result.line, err=not result.ok)
    if not all(r.ok for r in results):
        raise click.exceptions.Exit(1)
