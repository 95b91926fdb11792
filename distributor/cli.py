"""`distributor`: ad accounts, segments, distribution and record sync; the TikTok sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click

from distributor.destinations import REGISTRY


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    envvar="TESSERA_HOME",
    default=None,
    metavar="DIR",
    help="Tessera home folder [env TESSERA_HOME; default ./.tessera].",
)
@click.version_option(package_name="tessera")
@click.pass_context
def main(ctx: click.Context, home: str | None) -> None:
    """Send segments to ad accounts and keep them in sync."""
    ctx.obj = home


@main.command()
@click.option("--host", default=None, help="Interface to bind [default: 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port; 0 picks a free one [default: 8765].")
@click.option("--seed", type=int, default=None, help="Seed for IDs, tokens and the user base.")
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Keep the emulator's state in this file across restarts.",
)
@click.option(
    "--users",
    "user_base_size",
    type=int,
    default=None,
    help="Synthetic users TikTok knows, for matched sizes [default: 200000].",
)
@click.option("--rps", type=int, default=None, help="Requests per second per token (0: off).")
@click.option("--rpm", type=int, default=None, help="Requests per minute per token (0: off).")
@click.option("--latency-ms", type=float, default=0.0, help="Added latency per request.")
@click.option("--error-rate", type=float, default=0.0, help="Share of requests answered 503.")
@click.option("--drop-rate", type=float, default=0.0, help="Share of connections dropped.")
@click.option(
    "--truncate-names",
    is_flag=True,
    help='Store audience names over 70 characters as 67 + "..." (reported, unconfirmed).',
)
@click.pass_context
def sandbox(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    seed: int | None,
    state_file: Path | None,
    user_base_size: int | None,
    rps: int | None,
    rpm: int | None,
    latency_ms: float,
    error_rate: float,
    drop_rate: float,
    truncate_names: bool,
) -> None:
    """Run a local TikTok Business API v1.3 emulator (a real HTTP server).

    Prints one JSON line (base URL, app id and secret, seeded advertisers with Admin,
    Operator and Analyst tokens) once it listens; stops cleanly on SIGINT or SIGTERM."""
    from config import load_settings
    from distributor.sandbox.app import Faults
    from distributor.sandbox.server import make_sandbox, serve

    conf = load_settings(ctx.obj).section("sandbox")
    box = make_sandbox(
        seed=conf["seed"] if seed is None else seed,
        state_file=state_file,
        user_base_size=conf["user_base_size"] if user_base_size is None else user_base_size,
        per_second=conf["requests_per_second"] if rps is None else rps,
        per_minute=conf["requests_per_minute"] if rpm is None else rpm,
        faults=Faults(latency_ms=latency_ms, error_rate_5xx=error_rate, drop_rate=drop_rate),
        truncate_names=truncate_names,
    )
    serve(box, conf["host"] if host is None else host, conf["port"] if port is None else port)


# -- accounts ---------------------------------------------------------------------------


@main.group()
def accounts() -> None:
    """Ad accounts: add, list, remove, check."""


def _fail(message: str) -> NoReturn:
    raise click.ClickException(message)


@accounts.command("add")
@click.argument("platform", type=click.Choice(sorted(REGISTRY)))
@click.option("--advertiser-id", required=True, help="The 19-digit TikTok advertiser ID.")
@click.option("--name", required=True, help="A name for this account (1-149 characters).")
@click.option("--token-env", metavar="VAR", help="Environment variable holding the token.")
@click.option("--auth-code", metavar="CODE", help="OAuth auth code to exchange for a token.")
@click.pass_context
def accounts_add(
    ctx: click.Context,
    platform: str,
    advertiser_id: str,
    name: str,
    token_env: str | None,
    auth_code: str | None,
) -> None:
    """Add an ad account (or re-authorize one: same name and advertiser ID).

    The token comes from --token-env VAR (never from the command line) or from an OAuth
    --auth-code exchanged with the app id ([tiktok] app_id) and TESSERA_TIKTOK__APP_SECRET.
    The token must have the Admin or Operator role on the advertiser."""
    import asyncio

    from distributor.accounts import add_account

    if (token_env is None) == (auth_code is None):
        _fail("give exactly one of --token-env VAR or --auth-code CODE")
    try:
        line = asyncio.run(
            add_account(ctx.obj, platform, advertiser_id, name, token_env, auth_code)
        )
    except ValueError as exc:
        _fail(str(exc))
    click.echo(line)


@accounts.command("list")
@click.pass_context
def accounts_list(ctx: click.Context) -> None:
    """List ad accounts (tokens masked)."""
    from distributor.accounts import account_rows
    from distributor.report import print_table

    print_table(
        "Ad accounts",
        ["name", "platform", "advertiser id", "role", "token", "checked"],
        account_rows(ctx.obj),
    )


@accounts.command("remove")
@click.argument("name")
@click.pass_context
def accounts_remove(ctx: click.Context, name: str) -> None:
    """Remove an ad account and its stored token."""
    from distributor.accounts import remove_account

    try:
        remove_account(ctx.obj, name)
    except ValueError as exc:
        _fail(str(exc))
    click.echo(f"removed account {name}")


@accounts.command("check")
@click.argument("name", required=False)
@click.pass_context
def accounts_check(ctx: click.Context, name: str | None) -> None:
    """Check that stored tokens still work and may manage audiences."""
    import asyncio

    from distributor.accounts import check_accounts

    results = asyncio.run(check_accounts(ctx.obj, name))
    for line, ok in results:
        click.echo(line, err=not ok)
    if not all(ok for _, ok in results):
        ctx.exit(1)


@main.command("demo")
@click.option("--rows", default=100_000, show_default=True, help="Rows in each sample file.")
@click.option(
    "--home", "demo_root", default=None, help="Home for the demo [default: a new temp folder]."
)
def demo(rows: int, demo_root: str | None) -> None:
    """The whole path on embedded defaults: emulator, inbox, serve, account, distribute,
    a changed file, sync, status."""
    from distributor.demo import demo_home, run_demo

    run_demo(Path(demo_root) if demo_root else demo_home(), rows)


def _register() -> None:
    from distributor import commands

    commands.register(main)


_register()
