"""`distributor`: ad accounts, segments, distribution and record sync; the TikTok sandbox."""

from __future__ import annotations

import click


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
